//! Invitations and email end to end, on SQLite and PostgreSQL: the outbox,
//! delivery to a real SMTP server on loopback (and the dev mailbox), the
//! `/invite/{token}` page and its no-JavaScript form, resend and cancel.

use std::time::Duration;

use crate::support::{eventually, link_token, smtp::SmtpSink, Backend, Client, TestApp, PASSWORD};
use app::{
    error::AppError,
    home::LearnerOverview,
    invitations::{InvitationsPage, InviteLookup, InviteOutcome, InviteResult},
    mail::{MailboxEntry, MailboxMessage, OutboxStatus},
    people::PeoplePage,
};

async fn invite(admin: &Client, group: &str, emails: &str) -> Result<Vec<InviteOutcome>, AppError> {
    admin
        .call(
            "invitations/send",
            &[("group_id", group), ("emails", emails)],
        )
        .await
}

async fn list(admin: &Client, status: &str, search: &str) -> InvitationsPage {
    admin
        .call(
            "invitations/list",
            &[
                ("status", status),
                ("search", search),
                ("group_id", "0"),
                ("page", "1"),
            ],
        )
        .await
        .unwrap()
}

/// The token in the newest email's link to `email`, read from the outbox.
async fn token_for(server: &TestApp, email: &str) -> String {
    server.emailed_token(email, "invitation%", "/invite/").await
}

async fn lookup(client: &Client, token: &str) -> InviteLookup {
    client
        .call("invitations/lookup", &[("token", token)])
        .await
        .unwrap()
}

/// Posts the invitation page's form the way a browser does from a page sent
/// with `Referrer-Policy: no-referrer`: `Origin: null` plus Fetch Metadata.
async fn respond(client: &Client, token: &str, form: &[(&str, &str)]) -> (u16, String) {
    client
        .post_from_emailed_page(&format!("/invite/{token}/respond"), form)
        .await
}

async fn register(client: &Client, token: &str, first: &str) -> (u16, String) {
    respond(
        client,
        token,
        &[
            ("intent", "register"),
            ("first_name", first),
            ("last_name", "Learner"),
            ("password", PASSWORD),
        ],
    )
    .await
}

async fn manual_invite_reports_each_address_and_queues_one_email_per_invitation(backend: Backend) {
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
    let outcomes = invite(
        &admin,
        &group,
        "lin@example.org, MAX@Example.org\nnot-an-email\n\nlin@example.org",
    )
    .await
    .unwrap();
    let results: Vec<(&str, &InviteResult)> = outcomes
        .iter()
        .map(|o| (o.email.as_str(), &o.result))
        .collect();
    assert_eq!(results[0], ("lin@example.org", &InviteResult::Invited));
    assert_eq!(results[1], ("MAX@Example.org", &InviteResult::Invited));
    assert!(
        matches!(results[2], ("not-an-email", InviteResult::Invalid(_))),
        "{results:?}"
    );
    assert!(
        matches!(results[3], ("lin@example.org", InviteResult::Invalid(_))),
        "{results:?}"
    );
    assert_eq!(results.len(), 4);

    let again = invite(&admin, &group, "lin@example.org").await.unwrap();
    assert_eq!(again[0].result, InviteResult::AlreadyInvited);

    let too_many = (0..11)
        .map(|i| format!("p{i}@example.org"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(matches!(
        invite(&admin, &group, &too_many).await,
        Err(AppError::Invalid { .. })
    ));
    let no_group = invite(&admin, "999999", "x@example.org").await;
    assert!(
        matches!(no_group, Err(AppError::Invalid { ref field, .. }) if field == "Group"),
        "{no_group:?}"
    );

    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = $1", "invitation")
            .await,
        2
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1",
                "max@example.org"
            )
            .await,
        1
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE status = $1",
                "pending"
            )
            .await,
        2
    );

    // No SMTP host: both land in the dev mailbox, visible to the admin only.
    eventually("two messages in the dev mailbox", || async {
        admin
            .call::<Vec<MailboxEntry>>("mailbox/list", &[])
            .await
            .unwrap()
            .len()
            == 2
    })
    .await;
    let entries: Vec<MailboxEntry> = admin.call("mailbox/list", &[]).await.unwrap();
    let message: MailboxMessage = admin
        .call("mailbox/get", &[("id", &entries[0].id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        message.subject,
        "Riverside invites you to join Spring Cohort"
    );
    assert!(
        message.text_body.contains("http://muster.test/invite/"),
        "{}",
        message.text_body
    );
    assert!(
        message
            .html_body
            .contains("href=\"http://muster.test/invite/"),
        "{}",
        message.html_body
    );
    assert!(message
        .message_id
        .unwrap()
        .starts_with(&format!("<muster.{}.", message.id)));
    let token = link_token(&message.text_body, "/invite/");
    assert_eq!(token.len(), 64, "256-bit token");
    let stored = server
        .count(
            "SELECT COUNT(*) FROM invitations WHERE token_hash = $1",
            &token,
        )
        .await;
    assert_eq!(stored, 0, "only the token's hash is stored");
    assert_eq!(
        server
            .client()
            .call::<Vec<MailboxEntry>>("mailbox/list", &[])
            .await,
        Err(AppError::NotAuthenticated)
    );

    let page = list(&admin, "pending", "").await;
    assert_eq!(page.total, 2);
    assert!(
        page.rows
            .iter()
            .all(|row| row.delivery == Some(OutboxStatus::Sent)),
        "{page:?}"
    );
    assert!(page.rows.iter().all(|row| row.accepted_name.is_none()));
    assert_eq!(
        list(&admin, "", "MAX").await.total,
        1,
        "search is case-insensitive"
    );
    assert_eq!(list(&admin, "active", "").await.total, 0);
}

async fn registering_through_the_link_activates_membership_and_trainings(backend: Backend) {
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
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let token = token_for(&server, "lin@example.org").await;

    let learner = server.client();
    let (status, headers, html) = learner.get_with_headers(&format!("/invite/{token}")).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(
        html.contains("Create your account"),
        "rendered on the server: {html}"
    );
    assert!(
        html.contains("Riverside has invited lin@example.org to join Spring Cohort"),
        "{html}"
    );

    // Cross-site posts are refused, even with Origin: null.
    let (status, _, _) = learner
        .post_form(
            &format!("/invite/{token}/respond"),
            &[("intent", "register")],
            &[("Origin", "null")],
        )
        .await;
    assert_eq!(status.as_u16(), 403);
    let (status, location) = respond(
        &learner,
        &token,
        &[
            ("intent", "register"),
            ("first_name", "Lin"),
            ("last_name", "L"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/invite/{token}?error=password").as_str())
    );

    let (status, location) = register(&learner, &token, "Lin").await;
    assert_eq!((status, location.as_str()), (303, "/?welcome"));
    let home: LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
    assert_eq!(home.email, "lin@example.org");
    assert_eq!(home.organizations.len(), 1);
    assert_eq!(home.organizations[0].role, "learner");
    assert_eq!(home.organizations[0].groups[0].name, "Spring Cohort");
    assert_eq!(
        home.organizations[0].groups[0].trainings,
        vec!["Safety", "Conduct"]
    );
    let (_, html) = learner.get_page("/?welcome").await;
    assert!(
        html.contains("Spring Cohort") && html.contains("Safety"),
        "learner home is server-rendered: {html}"
    );

    // Editing the group keeps the assignments of trainings that stay.
    admin
        .call::<()>(
            "groups/update",
            &[
                ("id", group.as_str()),
                ("name", "Spring Cohort"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", "New module\nsafety"),
            ],
        )
        .await
        .unwrap();
    let home: LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
    assert_eq!(
        home.organizations[0].groups[0].trainings,
        vec!["safety"],
        "kept, renamed in place; removed one gone"
    );

    let page = list(&admin, "active", "").await;
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].accepted_name.as_deref(), Some("Lin Learner"));
    let people: PeoplePage = admin
        .call("people/list", &[("search", "lin@"), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(people.total, 1);
    assert_eq!(people.people[0].role, "learner");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = $1", "welcome")
            .await,
        1
    );

    // Single use.
    let (_, location) = register(&server.client(), &token, "Eve").await;
    assert_eq!(location, format!("/invite/{token}?error=gone"));
    let (_, html) = server.client().get_page(&format!("/invite/{token}")).await;
    assert!(html.contains("already been accepted"), "{html}");
}

async fn an_existing_account_logs_in_to_accept(backend: Backend) {
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
    let second: i64 = admin
        .call(
            "groups/create",
            &[
                ("name", "Autumn"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", ""),
            ],
        )
        .await
        .unwrap();
    invite(&admin, &group, "lin@example.org").await.unwrap();
    register(
        &server.client(),
        &token_for(&server, "lin@example.org").await,
        "Lin",
    )
    .await;

    invite(&admin, &second.to_string(), "lin@example.org")
        .await
        .unwrap();
    let by_group: InvitationsPage = admin
        .call(
            "invitations/list",
            &[
                ("status", ""),
                ("search", ""),
                ("group_id", &second.to_string()),
                ("page", "1"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        (by_group.total, by_group.rows[0].group_name.as_str()),
        (1, "Autumn"),
        "filtered by group"
    );
    let token = token_for(&server, "lin@example.org").await;
    let browser = server.client();
    assert!(matches!(
        lookup(&browser, &token).await,
        InviteLookup::Valid {
            account_exists: true,
            signed_in_as: None,
            ..
        }
    ));
    let (_, wrong) = respond(
        &browser,
        &token,
        &[("intent", "login"), ("password", "not the password")],
    )
    .await;
    assert_eq!(wrong, format!("/invite/{token}?error=credentials"));
    let (_, location) = respond(
        &browser,
        &token,
        &[("intent", "login"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(location, "/?welcome");
    let home: LearnerOverview = browser.call("learner/home", &[]).await.unwrap();
    let groups: Vec<&str> = home.organizations[0]
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(groups, vec!["Autumn", "Spring Cohort"]);

    // The admin, signed in as someone else, is told to switch accounts.
    invite(&admin, &group, "sam@example.org").await.unwrap();
    let token = token_for(&server, "sam@example.org").await;
    assert!(
        matches!(lookup(&admin, &token).await, InviteLookup::Valid { signed_in_as: Some(ref who), .. } if who == "ada@example.org")
    );
    let (_, location) = respond(&admin, &token, &[("intent", "accept")]).await;
    assert_eq!(location, format!("/invite/{token}?error=mismatch"));
}

async fn resend_replaces_the_token_and_is_rate_limited(backend: Backend) {
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
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let old = token_for(&server, "lin@example.org").await;
    let id = list(&admin, "", "").await.rows[0].id.to_string();

    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    let new = token_for(&server, "lin@example.org").await;
    assert_ne!(old, new);
    assert_eq!(
        lookup(&admin, &old).await,
        InviteLookup::NotFound,
        "the old link is dead"
    );
    let (_, location) = register(&server.client(), &old, "Lin").await;
    assert_eq!(location, format!("/invite/{old}?error=gone"));
    assert!(matches!(
        lookup(&server.client(), &new).await,
        InviteLookup::Valid { .. }
    ));
    assert_eq!(list(&admin, "", "").await.rows[0].resend_count, 1);

    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    let fourth = admin.call::<()>("invitations/resend", &[("id", &id)]).await;
    assert!(
        matches!(fourth, Err(AppError::Conflict(ref m)) if m.contains("24 hours")),
        "{fourth:?}"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1",
                "lin@example.org"
            )
            .await,
        4
    );

    let (_, location) = register(
        &server.client(),
        &token_for(&server, "lin@example.org").await,
        "Lin",
    )
    .await;
    assert_eq!(location, "/?welcome", "the newest link works");
}

async fn cancel_kills_the_link(backend: Backend) {
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
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let token = token_for(&server, "lin@example.org").await;
    let id = list(&admin, "", "").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/cancel", &[("id", &id)])
        .await
        .unwrap();
    assert!(matches!(
        lookup(&server.client(), &token).await,
        InviteLookup::Cancelled { .. }
    ));
    let (_, location) = register(&server.client(), &token, "Lin").await;
    assert_eq!(location, format!("/invite/{token}?error=gone"));
    let (_, html) = server.client().get_page(&format!("/invite/{token}")).await;
    assert!(html.contains("This invitation was cancelled"), "{html}");
    assert!(matches!(
        admin.call::<()>("invitations/cancel", &[("id", &id)]).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        admin.call::<()>("invitations/resend", &[("id", &id)]).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(list(&admin, "cancelled", "").await.total, 1);
    // A cancelled invitation does not block a new one.
    assert_eq!(
        invite(&admin, &group, "lin@example.org").await.unwrap()[0].result,
        InviteResult::Invited
    );
}

async fn an_expired_link_says_so_and_can_be_resent(backend: Backend) {
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
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let token = token_for(&server, "lin@example.org").await;
    sqlx::query("UPDATE invitations SET expires_at = 1000")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    assert!(matches!(
        lookup(&server.client(), &token).await,
        InviteLookup::Expired { .. }
    ));
    let (_, html) = server.client().get_page(&format!("/invite/{token}")).await;
    assert!(html.contains("This invitation has expired"), "{html}");
    let (_, location) = register(&server.client(), &token, "Lin").await;
    assert_eq!(location, format!("/invite/{token}?error=gone"));
    assert_eq!(list(&admin, "expired", "").await.total, 1);
    assert_eq!(list(&admin, "pending", "").await.total, 0);
    let id = list(&admin, "", "").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    assert_eq!(list(&admin, "pending", "").await.total, 1);
}

async fn two_concurrent_accepts_make_one_membership(backend: Backend) {
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
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let token = token_for(&server, "lin@example.org").await;
    let (a, b) = (server.client(), server.client());
    let (first, second) = tokio::join!(register(&a, &token, "Lin"), register(&b, &token, "Lin"));
    let mut locations = vec![first.1, second.1];
    locations.sort();
    assert_eq!(
        locations,
        vec![
            "/?welcome".to_owned(),
            format!("/invite/{token}?error=gone")
        ]
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "lin@example.org"
            )
            .await,
        1
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM group_memberships gm JOIN users u ON u.id = gm.user_id WHERE u.email = $1", "lin@example.org").await,
        1
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM training_assignments a JOIN users u ON u.id = a.user_id WHERE u.email = $1", "lin@example.org").await,
        2
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = $1", "welcome")
            .await,
        1
    );
}

async fn organizations_cannot_touch_each_others_invitations(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (admin_a, group_a) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group_a = group_a.to_string();
    invite(&admin_a, &group_a, "lin@example.org").await.unwrap();
    let id = list(&admin_a, "", "").await.rows[0].id.to_string();
    let admin_b = server.client();
    admin_b.create_org("Other", "b@example.org").await.unwrap();
    assert_eq!(list(&admin_b, "", "").await.total, 0);
    assert_eq!(
        admin_b
            .call::<()>("invitations/cancel", &[("id", &id)])
            .await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        admin_b
            .call::<()>("invitations/resend", &[("id", &id)])
            .await,
        Err(AppError::NotFound)
    );
    let into_a = invite(&admin_b, &group_a, "x@example.org").await;
    assert!(
        matches!(into_a, Err(AppError::Invalid { .. })),
        "{into_a:?}"
    );
    let mailbox: Vec<MailboxEntry> = admin_b.call("mailbox/list", &[]).await.unwrap();
    assert!(mailbox.is_empty());
    assert_eq!(list(&admin_a, "pending", "").await.total, 1);
}

/// Real SMTP on loopback: one message per invitation, then SMTP down → the
/// message waits and is retried → SMTP up → delivered once, never twice.
async fn smtp_delivery_survives_an_outage_without_duplicates(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = [
        ("MUSTER_SMTP_HOST", "127.0.0.1".to_owned()),
        ("MUSTER_SMTP_PORT", sink.addr.port().to_string()),
        ("MUSTER_SMTP_TLS", "none".to_owned()),
        (
            "MUSTER_SMTP_FROM",
            "Muster <no-reply@muster.test>".to_owned(),
        ),
        ("MUSTER_MAIL_RETRY_SECONDS", "1".to_owned()),
    ];
    let Some(server) = TestApp::spawn_with(backend, false, &smtp).await else {
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
    invite(&admin, &group, "lin@example.org, max@example.org")
        .await
        .unwrap();
    eventually("two messages at the SMTP server", || async {
        sink.received().len() >= 2
    })
    .await;
    let received = sink.received();
    assert_eq!(received.len(), 2);
    let mut to: Vec<String> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["<lin@example.org>", "<max@example.org>"]);
    assert!(received
        .iter()
        .all(|m| m.mail_from == "<no-reply@muster.test>"));
    assert!(
        received[0].data.contains("multipart/alternative"),
        "{}",
        received[0].data
    );
    assert!(received[0]
        .header("Subject")
        .unwrap()
        .contains("Spring Cohort"));
    assert_eq!(
        admin.call::<Vec<MailboxEntry>>("mailbox/list", &[]).await,
        Err(AppError::NotFound),
        "no dev mailbox with SMTP"
    );
    eventually("both marked sent", || async {
        list(&admin, "", "")
            .await
            .rows
            .iter()
            .all(|row| row.delivery == Some(OutboxStatus::Sent))
    })
    .await;

    // SMTP goes down.
    let (addr, inbox) = sink.stop().await;
    invite(&admin, &group, "sam@example.org").await.unwrap();
    eventually("a failed attempt recorded", || async {
        let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
            "SELECT attempts, last_error, status FROM outbox WHERE to_email = 'sam@example.org'",
        )
        .fetch_all(&server.state.db.pool)
        .await
        .unwrap();
        rows.len() == 1 && rows[0].0 >= 1 && rows[0].1.is_some() && rows[0].2 == "queued"
    })
    .await;
    let row = list(&admin, "", "sam").await.rows.remove(0);
    assert_eq!(row.delivery, Some(OutboxStatus::Queued));
    assert!(row.delivery_error.is_some());

    // And comes back on the same port.
    let sink = SmtpSink::start_on(addr, inbox).await;
    eventually("the third message after the retry", || async {
        sink.received().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = sink.received();
    assert_eq!(received.len(), 3, "nothing delivered twice");
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").expect("a Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    let (sent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND delivered_to_dev_mailbox = 0",
    )
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(sent, 3);
    sink.stop().await;
}

on_both_backends! {
    manual_invite => manual_invite_reports_each_address_and_queues_one_email_per_invitation;
    register_and_accept => registering_through_the_link_activates_membership_and_trainings;
    login_and_accept => an_existing_account_logs_in_to_accept;
    resend => resend_replaces_the_token_and_is_rate_limited;
    cancel => cancel_kills_the_link;
    expired => an_expired_link_says_so_and_can_be_resent;
    concurrent_accepts => two_concurrent_accepts_make_one_membership;
    tenant_isolation => organizations_cannot_touch_each_others_invitations;
    smtp_outage => smtp_delivery_survives_an_outage_without_duplicates;
}
