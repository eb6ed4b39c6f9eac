//! The join page end to end, on SQLite and PostgreSQL: admin settings,
//! `/join/{slug}` and its no-JavaScript form, the email allowlist enforced on
//! hand-made posts, confirming the email through the outbox link, the same
//! 404 for a page that is off and one that does not exist, and the rate
//! limits answering 429.

use crate::support::{Backend, Client, TestApp, ADMIN_PASSWORD, PASSWORD};
use app::{
    error::AppError,
    home::LearnerOverview,
    join::{JoinSettings, SlugCheck},
};

struct Page<'a> {
    enabled: bool,
    slug: &'a str,
    group: &'a str,
    domains: &'a str,
    subdomains: bool,
}

async fn save(admin: &Client, page: &Page<'_>) -> Result<JoinSettings, AppError> {
    let mut form = vec![
        ("slug", page.slug),
        ("group_id", page.group),
        (
            "welcome_text",
            "Welcome to Riverside!\n\nWe are glad you are here.",
        ),
        ("allowed_domains", page.domains),
    ];
    if page.enabled {
        form.push(("enabled", "on"));
    }
    if page.subdomains {
        form.push(("allow_subdomains", "on"));
    }
    admin.call("join/save", &form).await
}

async fn open_page(admin: &Client, slug: &str, group: &str, domains: &str) -> JoinSettings {
    save(
        admin,
        &Page {
            enabled: true,
            slug,
            group,
            domains,
            subdomains: false,
        },
    )
    .await
    .unwrap()
}

/// Posts the join page's form as a browser would from the page itself.
async fn submit(client: &Client, slug: &str, form: &[(&str, &str)]) -> (u16, String) {
    client
        .post_from_site(&format!("/join/{slug}/submit"), form)
        .await
}

async fn register(client: &Client, slug: &str, email: &str, password: &str) -> (u16, String) {
    submit(
        client,
        slug,
        &[
            ("intent", "register"),
            ("email", email),
            ("first_name", "Lin"),
            ("last_name", "Learner"),
            ("password", password),
        ],
    )
    .await
}

/// Posts the confirmation page's button the way a browser does from a page
/// sent with `Referrer-Policy: no-referrer`: `Origin: null` plus Fetch Metadata.
async fn confirm(client: &Client, token: &str) -> (u16, String) {
    client
        .post_from_emailed_page(&format!("/verify-email/{token}/confirm"), &[])
        .await
}

/// The token in the newest confirmation email to `email`.
async fn verify_token_for(server: &TestApp, email: &str) -> String {
    server
        .emailed_token(email, "join_verify", "/verify-email/")
        .await
}

async fn membership_count(server: &TestApp, email: &str) -> i64 {
    server
        .count(
            "SELECT COUNT(*) FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE u.email = $1 AND gm.status = 'active'",
            email,
        )
        .await
}

async fn rate_limit_answers_429_per_client_address(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &[
            ("MUSTER_JOIN_ADDRESS_BURST", "3".to_owned()),
            ("MUSTER_JOIN_ADDRESS_REFILL_SECONDS", "3600".to_owned()),
        ],
    )
    .await
    else {
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
    for attempt in 1..=3 {
        let (status, location) = register(&visitor, "riverside", "lin@example.org", "short").await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/join/riverside?error=password"),
            "attempt {attempt}"
        );
    }
    let (status, headers, body) = visitor
        .post_form(
            "/join/riverside/submit",
            &[("intent", "register"), ("email", "lin@example.org")],
            &[("Origin", server.base.as_str())],
        )
        .await;
    assert_eq!(status.as_u16(), 429, "{body}");
    assert!(headers.get("retry-after").is_some());
    assert!(body.contains("Too many attempts"), "{body}");
    // The limit is the address's, on every page, and on submissions only.
    let (status, _) = register(&visitor, "elsewhere", "lin@example.org", "x").await;
    assert_eq!(status, 429);
    let (status, _) = visitor.get_page("/join/riverside").await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE email = $1",
                "lin@example.org"
            )
            .await,
        0
    );
}

async fn rate_limit_answers_429_per_organization(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        true,
        &[
            ("MUSTER_JOIN_ORGANIZATION_BURST", "2".to_owned()),
            ("MUSTER_JOIN_ORGANIZATION_REFILL_SECONDS", "3600".to_owned()),
        ],
    )
    .await
    else {
        return;
    };
    let (riverside, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    open_page(&riverside, "riverside", &group, "").await;
    let (hillside, other_group) = server
        .admin_with_group(
            "Hillside",
            "bo@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let other_group = other_group.to_string();
    open_page(&hillside, "hillside", &other_group, "").await;

    let visitor = server.client();
    for _ in 0..2 {
        let (status, _) = register(&visitor, "riverside", "lin@example.org", "x").await;
        assert_eq!(status, 303);
    }
    let (status, _) = register(&visitor, "riverside", "lin@example.org", "x").await;
    assert_eq!(status, 429, "the third submission to one organization");
    let (status, _) = register(&server.client(), "Riverside", "max@example.org", "x").await;
    assert_eq!(status, 429, "whatever the case of the slug");
    let (status, location) = register(&visitor, "hillside", "lin@example.org", PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/hillside?sent"),
        "another organization is not affected"
    );
}

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

async fn confirming_the_email_starts_membership_with_trainings(backend: Backend) {
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
    open_page(&admin, "riverside", &group, "school.edu").await;
    let learner = server.client();
    let (status, location) = register(&learner, "riverside", "Lin@School.edu", PASSWORD).await;
    assert_eq!((status, location.as_str()), (303, "/join/riverside?sent"));
    let (_, html) = learner.get_page("/join/riverside?sent").await;
    assert!(html.contains("Check your email."), "{html}");

    // No account and no membership until the address is confirmed.
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "lin@school.edu"
            )
            .await,
        0
    );
    let token = verify_token_for(&server, "lin@school.edu").await;
    assert_eq!(token.len(), 64, "256-bit token");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE token_hash = $1",
                &token
            )
            .await,
        0,
        "the token itself is never stored"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE token_hash = $1",
                &app::links::server::token_hash(&token)
            )
            .await,
        1,
        "its SHA-256 is"
    );

    // A GET shows the page and confirms nothing (link scanners follow GETs).
    let (status, headers, html) = learner
        .get_with_headers(&format!("/verify-email/{token}"))
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(
        html.contains(
            "Confirm lin@school.edu to activate your account and join Spring Cohort at Riverside."
        ),
        "{html}"
    );
    assert_eq!(membership_count(&server, "lin@school.edu").await, 0);

    // Cross-site posts are refused, even with Origin: null.
    let (status, _, _) = learner
        .post_form(
            &format!("/verify-email/{token}/confirm"),
            &[],
            &[("Origin", "null")],
        )
        .await;
    assert_eq!(status.as_u16(), 403);

    let (status, location) = confirm(&learner, &token).await;
    assert_eq!((status, location.as_str()), (303, "/"));
    assert_eq!(
        server.count("SELECT COUNT(*) FROM users WHERE email = $1 AND status = 'active' AND password_hash IS NOT NULL",
            "lin@school.edu"
        )
        .await,
        1
    );
    assert_eq!(membership_count(&server, "lin@school.edu").await, 1);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM training_assignments a JOIN users u ON u.id = a.user_id WHERE u.email = $1",
            "lin@school.edu"
        )
        .await,
        2
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.role = 'learner'",
            "lin@school.edu"
        )
        .await,
        1
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind = 'welcome'",
                "lin@school.edu"
            )
            .await,
        1
    );
    // Signed in: the learner home shows the group and its trainings.
    let home: LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
    assert_eq!(home.first_name, "Lin");
    assert_eq!(home.organizations[0].groups[0].name, "Spring Cohort");
    assert_eq!(
        home.organizations[0].groups[0].trainings,
        vec!["Safety", "Conduct"]
    );
    // The account works with the password given at sign-up.
    server
        .client()
        .call::<()>(
            "login",
            &[("email", "lin@school.edu"), ("password", PASSWORD)],
        )
        .await
        .unwrap();

    // Single use.
    let (status, location) = confirm(&server.client(), &token).await;
    assert_eq!((status, location), (303, format!("/verify-email/{token}")));
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{token}"))
        .await;
    assert!(html.contains("Your email is confirmed"), "{html}");

    // A newer sign-up replaces the older link; an expired link does nothing.
    register(&learner, "riverside", "max@school.edu", PASSWORD).await;
    let first = verify_token_for(&server, "max@school.edu").await;
    register(&learner, "riverside", "max@school.edu", PASSWORD).await;
    let second = verify_token_for(&server, "max@school.edu").await;
    assert_ne!(first, second);
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{first}"))
        .await;
    assert!(html.contains("This link was replaced"), "{html}");
    let visitor = server.client();
    assert_eq!(
        confirm(&visitor, &first).await,
        (303, format!("/verify-email/{first}"))
    );
    sqlx::query("UPDATE join_requests SET expires_at = 1 WHERE status = 'pending'")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{second}"))
        .await;
    assert!(html.contains("This link has expired"), "{html}");
    confirm(&visitor, &second).await;
    assert_eq!(membership_count(&server, "max@school.edu").await, 0);
    let (status, _) = server.client().get_page("/verify-email/abc123").await;
    assert_eq!(status.as_u16(), 404);
}

/// A page with its per-response nonces blanked out.
fn without_nonces(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = ["nonce=\"", "crossorigin=\""]
        .iter()
        .filter_map(|attr| rest.find(attr).map(|i| i + attr.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
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

async fn an_existing_account_gets_the_same_answer_and_logs_in_to_join(backend: Backend) {
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
    let (status, location) =
        register(&visitor, "riverside", "ADA@example.org", "another password").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/riverside?sent"),
        "the same answer as for a new address"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE email = $1",
                "ada@example.org"
            )
            .await,
        0
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind = 'join_account_exists'",
                "ada@example.org"
            )
            .await,
        1
    );
    // The password did not change.
    server
        .client()
        .call::<()>(
            "login",
            &[("email", "ada@example.org"), ("password", ADMIN_PASSWORD)],
        )
        .await
        .unwrap();

    let login = |password: &'static str| {
        let visitor = &visitor;
        async move {
            submit(
                visitor,
                "riverside",
                &[
                    ("intent", "login"),
                    ("email", "ada@example.org"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    assert_eq!(
        login("not the password").await,
        (303, "/join/riverside?error=credentials".to_owned())
    );
    assert_eq!(membership_count(&server, "ada@example.org").await, 0);
    assert_eq!(login(ADMIN_PASSWORD).await, (303, "/".to_owned()));
    assert_eq!(membership_count(&server, "ada@example.org").await, 1);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.role = 'admin'",
            "ada@example.org"
        )
        .await,
        1,
        "an admin joining keeps the admin role"
    );
    // Signed in now: the page offers to join with this account.
    let (_, html) = visitor.get_page("/join/riverside").await;
    assert!(
        html.contains("You are signed in as ada@example.org."),
        "{html}"
    );
    let (status, location) = submit(&visitor, "riverside", &[("intent", "join")]).await;
    assert_eq!((status, location.as_str()), (303, "/"));
}

async fn check(client: &Client, slug: &str) -> SlugCheck {
    client
        .call::<(String, SlugCheck)>("join/check_slug", &[("slug", slug)])
        .await
        .unwrap()
        .1
}

async fn settings_are_validated_and_admin_only(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (riverside, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    let (hillside, hill_group) = server
        .admin_with_group(
            "Hillside",
            "bo@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let hill_group = hill_group.to_string();
    let empty: JoinSettings = riverside.call("join/settings", &[]).await.unwrap();
    assert!(!empty.enabled && empty.slug.is_empty() && empty.link.is_none());
    assert_eq!(empty.link_prefix, "http://muster.test/join/");

    let page = |enabled, slug, group| Page {
        enabled,
        slug,
        group,
        domains: "",
        subdomains: false,
    };
    let field_of = |result: Result<JoinSettings, AppError>| match result {
        Err(AppError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(
        field_of(save(&riverside, &page(true, "", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "riverside", "")).await),
        "Group"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "Admin", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "a_b", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "riverside", &hill_group)).await),
        "Group",
        "another organization's group"
    );
    // Off, the page needs neither a link nor a group.
    save(&riverside, &page(false, "", "")).await.unwrap();
    save(&riverside, &page(true, "River-Side", &group))
        .await
        .unwrap();
    assert_eq!(
        field_of(save(&hillside, &page(true, "river-side", &hill_group)).await),
        "Link",
        "taken by another organization"
    );

    assert_eq!(check(&riverside, "river-side").await, SlugCheck::Current);
    assert_eq!(check(&hillside, "river-side").await, SlugCheck::Taken);
    assert_eq!(check(&hillside, "hill-side").await, SlugCheck::Available);
    assert!(matches!(
        check(&hillside, "join").await,
        SlugCheck::Invalid(_)
    ));
    assert!(matches!(
        check(&hillside, "ab").await,
        SlugCheck::Invalid(_)
    ));

    // Every function checks the caller: nobody signed in, and a learner.
    let anonymous = server.client();
    assert_eq!(
        anonymous.call::<JoinSettings>("join/settings", &[]).await,
        Err(AppError::NotAuthenticated)
    );
    assert_eq!(
        save(&anonymous, &page(false, "x-y-z", "")).await,
        Err(AppError::NotAuthenticated)
    );
    let learner = server.client();
    register(&learner, "river-side", "lin@example.org", PASSWORD).await;
    let token = verify_token_for(&server, "lin@example.org").await;
    assert_eq!(confirm(&learner, &token).await.0, 303);
    assert_eq!(
        learner.call::<JoinSettings>("join/settings", &[]).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        save(&learner, &page(false, "x-y-z", "")).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        learner
            .call::<(String, SlugCheck)>("join/check_slug", &[("slug", "abc")])
            .await,
        Err(AppError::Forbidden)
    );
    // Each organization sees only its own settings.
    let theirs: JoinSettings = hillside.call("join/settings", &[]).await.unwrap();
    assert!(theirs.slug.is_empty());
}

on_both_backends! {
    rate_limit_per_address => rate_limit_answers_429_per_client_address;
    rate_limit_per_organization => rate_limit_answers_429_per_organization;
    allowlist => allowlist_is_enforced_server_side;
    verify_then_member => confirming_the_email_starts_membership_with_trainings;
    off_is_404 => a_page_that_is_off_and_an_unknown_slug_give_the_same_404;
    existing_account => an_existing_account_gets_the_same_answer_and_logs_in_to_join;
    settings => settings_are_validated_and_admin_only;
}
