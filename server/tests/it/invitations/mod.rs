//! Invitations and email end to end, on SQLite and PostgreSQL: the outbox,
//! delivery to a real SMTP server on loopback (and the dev mailbox), the
//! `/invite/{token}` page and its no-JavaScript form, resend and cancel.

use std::time::Duration;

use crate::support::{eventually, link_token, smtp::SmtpSink, Backend, Client, TestApp, PASSWORD};
use app::{
    error::AppError,
    home::LearnerOverview,
    invitations::{InvitationsPage, InviteLookup, InviteOutcome, InviteResult},
    mail::{DeliveryState, MailboxEntry, MailboxMessage, OutboxStatus},
    people::PeoplePage,
};

mod lifecycle;
mod reminders;

pub(crate) async fn invite(
    admin: &Client,
    group: &str,
    emails: &str,
) -> Result<Vec<InviteOutcome>, AppError> {
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
pub(crate) async fn token_for(server: &TestApp, email: &str) -> String {
    server.emailed_token(email, "invitation%", "/invite/").await
}

/// Riverside's admin, their Spring Cohort (Safety, Conduct) and the link
/// token of the invitation they sent to lin@example.org.
async fn lin_invited(server: &TestApp) -> (Client, String, String) {
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
    let token = token_for(server, "lin@example.org").await;
    (admin, group, token)
}

async fn lookup(client: &Client, token: &str) -> InviteLookup {
    client
        .call("invitations/lookup", &[("token", token)])
        .await
        .unwrap()
}

/// Posts the invitation page's form the way a browser does from a page sent
/// with `Referrer-Policy: no-referrer`: `Origin: null` plus Fetch Metadata.
pub(crate) async fn respond(client: &Client, token: &str, form: &[(&str, &str)]) -> (u16, String) {
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
            .all(|row| row.delivery.status() == Some(OutboxStatus::Sent)),
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
    let (admin, group, token) = lin_invited(&server).await;

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

on_both_backends! {
    manual_invite => manual_invite_reports_each_address_and_queues_one_email_per_invitation;
    register_and_accept => registering_through_the_link_activates_membership_and_trainings;
    login_and_accept => an_existing_account_logs_in_to_accept;
}
