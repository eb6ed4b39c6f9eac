//! The email allowlist, enforced on hand-made posts too, and the same 404 for a page that is off and one that does not exist.

use super::*;

async fn allowlist_is_enforced_server_side(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    let settings = open_page(&admin, "riverside", &group, "@School.edu").await;
    assert_eq!(settings.allowed_domains, vec!["school.edu"]);
    assert_eq!(
        settings.link.as_deref(),
        Some("http://muster.test/join/riverside")
    );

    let (status, html) = server.client().get_page("/join/riverside").await;
    assert_eq!(status.as_u16(), 200);
    assert!(html.contains("Join Riverside"), "{html}");
    assert!(html.contains("We are glad you are here."), "{html}");
    assert!(
        html.contains("Only email addresses at school.edu can join."),
        "{html}"
    );

    // A hand-made post (no page, no browser) from a refused domain.
    let visitor = server.client();
    for email in [
        "lin@evil.org",
        "lin@mail.school.edu",
        "lin@school.edu.evil.org",
    ] {
        let (status, location) = register(&visitor, "riverside", email, PASSWORD).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/join/riverside?error=domain"),
            "{email}"
        );
    }
    // Logging in with an account outside the list is refused as well.
    let (status, location) = submit(
        &visitor,
        "riverside",
        &[
            ("intent", "login"),
            ("email", "ada@example.org"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/riverside?error=domain")
    );
    let (_, html) = visitor.get_page("/join/riverside?error=domain").await;
    assert!(
        html.contains("This email address cannot join here: its domain is not accepted. Only email addresses at school.edu can join."),
        "{html}"
    );
    // Nothing was created.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM join_requests")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(membership_count(&server, "ada@example.org").await, 0);

    // Subdomains once the admin accepts them; the exact domain always.
    save(
        &admin,
        &Page {
            enabled: true,
            slug: "riverside",
            group: &group,
            domains: "school.edu",
            subdomains: true,
        },
    )
    .await
    .unwrap();
    for email in ["lin@mail.school.edu", "max@School.edu"] {
        let (status, location) = register(&visitor, "riverside", email, PASSWORD).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/join/riverside?sent"),
            "{email}"
        );
    }
    let (status, location) = register(&visitor, "riverside", "lin@evilschool.edu", PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/riverside?error=domain")
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE status = $1",
                "pending"
            )
            .await,
        2
    );
    // Not a domain: the settings are refused.
    let bad = save(
        &admin,
        &Page {
            enabled: true,
            slug: "riverside",
            group: &group,
            domains: "school_edu",
            subdomains: false,
        },
    )
    .await;
    assert!(
        matches!(bad, Err(AppError::Invalid { ref field, .. }) if field == "Allowed email domains"),
        "{bad:?}"
    );
}

async fn a_page_that_is_off_and_an_unknown_slug_give_the_same_404(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    open_page(&admin, "riverside", &group, "").await;
    let visitor = server.client();
    let (status, _) = visitor.get_page("/join/riverside").await;
    assert_eq!(status.as_u16(), 200);
    let (status, location) = register(&visitor, "riverside", "lin@example.org", PASSWORD).await;
    assert_eq!((status, location.as_str()), (303, "/join/riverside?sent"));
    let token = verify_token_for(&server, "lin@example.org").await;

    save(
        &admin,
        &Page {
            enabled: false,
            slug: "riverside",
            group: &group,
            domains: "",
            subdomains: false,
        },
    )
    .await
    .unwrap();
    let (off_status, off_html) = visitor.get_page("/join/riverside").await;
    let (unknown_status, unknown_html) = visitor.get_page("/join/no-such-page").await;
    assert_eq!(off_status.as_u16(), 404);
    assert_eq!(unknown_status.as_u16(), 404);
    assert_eq!(without_nonces(&off_html), without_nonces(&unknown_html));
    assert!(off_html.contains("Page not found"), "{off_html}");
    assert!(!off_html.contains("Riverside"), "{off_html}");
    let (_, any_route_html) = visitor.get_page("/no/such/route").await;
    assert!(any_route_html.contains("Page not found"));

    let off = visitor
        .post_form(
            "/join/riverside/submit",
            &[("intent", "register"), ("email", "max@example.org")],
            &[("Origin", server.base.as_str())],
        )
        .await;
    let unknown = visitor
        .post_form(
            "/join/no-such-page/submit",
            &[("intent", "register"), ("email", "max@example.org")],
            &[("Origin", server.base.as_str())],
        )
        .await;
    assert_eq!(off.0.as_u16(), 404);
    assert_eq!((off.0, off.2), (unknown.0, unknown.2));

    // A link from while the page was on does not confirm while it is off.
    let (status, location) = confirm(&visitor, &token).await;
    assert_eq!(
        (status, location),
        (303, format!("/verify-email/{token}?error=closed"))
    );
    assert_eq!(membership_count(&server, "lin@example.org").await, 0);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE status = $1",
                "pending"
            )
            .await,
        1,
        "still pending: it may work once the page is on again"
    );
}

on_both_backends! {
    allowlist => allowlist_is_enforced_server_side;
    off_is_404 => a_page_that_is_off_and_an_unknown_slug_give_the_same_404;
}
