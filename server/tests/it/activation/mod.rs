//! Activation of provisioned accounts and the bulk email actions, on SQLite
//! and PostgreSQL: `/activate/{token}` and its no-JavaScript form, a new link
//! killing the old one, sending from People (one, selected, all), tenant
//! isolation, resending welcome emails, and bulk resend / cancel of invitations.

use crate::support::{Backend, Client, TestApp, PASSWORD};
use app::{
    activation::{ActivationLookup, BulkOutcome},
    error::AppError,
    invitations::{InvitationsPage, InviteOutcome},
    people::PeoplePage,
};

mod bulk;

/// A person as an import creates them: no password, status provisioned, a
/// learner of the organization. (Inserted directly: the import worker is
/// elsewhere.)
async fn provision(
    server: &TestApp,
    organization_id: i64,
    email: Option<&str>,
    username: Option<&str>,
    first_name: &str,
) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (email, status, created_at)
         VALUES ($1, 'provisioned', 1000) RETURNING id",
    )
    .bind(email.map(str::to_owned))
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, first_name, last_name, username, created_at)
         VALUES ($1, $2, 'learner', $3, 'Learner', $4, 1000)",
    )
    .bind(organization_id)
    .bind(id)
    .bind(first_name)
    .bind(username.map(str::to_owned))
    .execute(&server.state.db.pool)
    .await
    .unwrap();
    id
}

async fn user_status(server: &TestApp, email: &str) -> String {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    status
}

/// The token in the newest activation email to `email`, read from the outbox.
async fn activation_token(server: &TestApp, email: &str) -> String {
    server
        .emailed_token(email, "activation%", "/activate/")
        .await
}

async fn lookup(client: &Client, token: &str) -> ActivationLookup {
    client
        .call("activation/lookup", &[("token", token)])
        .await
        .unwrap()
}

async fn send(admin: &Client, user_id: i64) -> Result<(), AppError> {
    admin
        .call("activation/send", &[("user_id", &user_id.to_string())])
        .await
}

async fn send_selected(admin: &Client, ids: &[i64]) -> Result<BulkOutcome, AppError> {
    admin.call_with_ids("activation/send_selected", ids).await
}

/// Posts the activation page's form as a browser does from a page sent with
/// `Referrer-Policy: no-referrer`: `Origin: null` plus Fetch Metadata.
async fn activate(client: &Client, token: &str, password: &str, again: &str) -> (u16, String) {
    client
        .post_from_emailed_page(
            &format!("/activate/{token}/respond"),
            &[("password", password), ("password_confirmation", again)],
        )
        .await
}

async fn people(admin: &Client, status: &str) -> PeoplePage {
    admin
        .call(
            "people/list",
            &[("search", ""), ("page", "1"), ("status", status)],
        )
        .await
        .unwrap()
}

async fn activation_sets_the_password_and_activates(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin
        .create_org("Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = server.organization_id("Riverside").await;
    let lin = provision(&server, org, Some("lin@example.org"), None, "Lin").await;

    // What the import worker does: queue the email inside its own transaction.
    let mut tx = server.state.db.begin().await.unwrap();
    app::activation::service::queue_activation(
        &mut tx,
        org,
        lin,
        "lin@example.org",
        "Ada Admin",
        app::state::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (id, params): (i64, String) =
        sqlx::query_as("SELECT id, params FROM outbox WHERE to_email = $1 AND kind = 'activation'")
            .bind("lin@example.org")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert!(!params.contains("/activate/"), "an intent, not a message");
    let message = crate::support::rendered(&server.state.db.pool, id).await;
    assert_eq!(message.subject, "Riverside: set your password for Muster");
    let html = message.html;
    assert!(html.contains("Ada Admin") && html.contains("http://muster.test/activate/"));
    let token = activation_token(&server, "lin@example.org").await;
    assert_eq!(token.len(), 64, "256-bit token");
    let stored = server
        .count(
            "SELECT COUNT(*) FROM activation_tokens WHERE token_hash = $1",
            &token,
        )
        .await;
    assert_eq!(stored, 0, "only the hash is stored");

    let learner = server.client();
    match lookup(&learner, &token).await {
        ActivationLookup::Valid {
            organization,
            email,
            first_name,
            ..
        } => {
            assert_eq!(
                (organization.as_str(), email.as_str(), first_name.as_str()),
                ("Riverside", "lin@example.org", "Lin")
            );
        }
        other => panic!("{other:?}"),
    }
    let (status, headers, html) = learner
        .get_with_headers(&format!("/activate/{token}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(html.contains("Activate account"), "{html}");
    assert!(html.contains("Riverside has created a Muster account for lin@example.org"));

    // Wrong input goes back to the page with a reason; nothing changes.
    let (code, location) = activate(&learner, &token, PASSWORD, "something else entirely").await;
    assert_eq!(
        (code, location),
        (303, format!("/activate/{token}?error=confirmation"))
    );
    let (_, location) = activate(&learner, &token, "short", "short").await;
    assert_eq!(location, format!("/activate/{token}?error=password"));
    let (_, html) = learner
        .get_page(&format!("/activate/{token}?error=confirmation"))
        .await;
    assert!(html.contains("The two passwords do not match"), "{html}");
    assert_eq!(user_status(&server, "lin@example.org").await, "provisioned");

    let (code, location) = activate(&learner, &token, PASSWORD, PASSWORD).await;
    assert_eq!((code, location.as_str()), (303, "/"));
    assert_eq!(user_status(&server, "lin@example.org").await, "active");
    // Signed in by the activation.
    let home: app::home::LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
    assert_eq!(home.email, "lin@example.org");
    assert_eq!(home.organizations[0].name, "Riverside");
    // And the password works for logging in.
    let other = server.client();
    other
        .call::<()>(
            "login",
            &[("email", "lin@example.org"), ("password", PASSWORD)],
        )
        .await
        .unwrap();

    // Single use.
    assert_eq!(
        lookup(&other, &token).await,
        ActivationLookup::Used {
            organization: "Riverside".into()
        }
    );
    let (_, location) = activate(
        &server.client(),
        &token,
        "another password 1",
        "another password 1",
    )
    .await;
    assert_eq!(location, format!("/activate/{token}?error=gone"));
    let (_, html) = server
        .client()
        .get_page(&format!("/activate/{token}"))
        .await;
    assert!(html.contains("already been used"), "{html}");
    // Active people get no activation email.
    assert!(matches!(
        send(&admin, lin).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(people(&admin, "provisioned").await.total, 0);
    assert_eq!(people(&admin, "active").await.total, 2);

    // Unknown links say so, with 404.
    let (status, html) = server
        .client()
        .get_page(&format!("/activate/{}", "ab".repeat(32)))
        .await;
    assert_eq!(status, 404);
    assert!(html.contains("Activation link not found"), "{html}");
}

async fn a_new_link_kills_the_old_one_and_sends_are_limited(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin
        .create_org("Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = server.organization_id("Riverside").await;
    let lin = provision(&server, org, Some("lin@example.org"), None, "Lin").await;

    send(&admin, lin).await.unwrap();
    let old = activation_token(&server, "lin@example.org").await;
    let listed = people(&admin, "provisioned").await;
    assert_eq!(listed.total, 1);
    assert!(listed.people[0].activation_sent_at.is_some());
    send(&admin, lin).await.unwrap();
    let new = activation_token(&server, "lin@example.org").await;
    assert_ne!(old, new);
    assert_eq!(
        lookup(&server.client(), &old).await,
        ActivationLookup::Replaced {
            organization: "Riverside".into()
        }
    );
    let (_, html) = server.client().get_page(&format!("/activate/{old}")).await;
    assert!(html.contains("has been replaced"), "{html}");
    let (_, location) = activate(&server.client(), &old, PASSWORD, PASSWORD).await;
    assert_eq!(location, format!("/activate/{old}?error=gone"));
    assert_eq!(user_status(&server, "lin@example.org").await, "provisioned");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens WHERE status = $1",
                "pending"
            )
            .await,
        1
    );

    // Three admin sends a day per address.
    send(&admin, lin).await.unwrap();
    let fourth = send(&admin, lin).await;
    assert!(
        matches!(fourth, Err(AppError::Conflict(ref m)) if m.contains("24 hours")),
        "{fourth:?}"
    );
    let bulk = send_selected(&admin, &[lin]).await.unwrap();
    assert_eq!(
        bulk,
        BulkOutcome {
            done: 0,
            rate_limited: 1,
            skipped: 0
        }
    );

    // An expired link says so and does not work.
    let newest = activation_token(&server, "lin@example.org").await;
    sqlx::query("UPDATE activation_tokens SET expires_at = 1000 WHERE status = 'pending'")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        lookup(&server.client(), &newest).await,
        ActivationLookup::Expired {
            organization: "Riverside".into()
        }
    );
    let (_, html) = server
        .client()
        .get_page(&format!("/activate/{newest}"))
        .await;
    assert!(html.contains("This activation link has expired"), "{html}");
    assert!(
        html.contains("Ask your administrator at Riverside"),
        "{html}"
    );
    let (_, location) = activate(&server.client(), &newest, PASSWORD, PASSWORD).await;
    assert_eq!(location, format!("/activate/{newest}?error=gone"));
    assert_eq!(user_status(&server, "lin@example.org").await, "provisioned");
}

on_both_backends! {
    activate => activation_sets_the_password_and_activates;
    new_link_kills_old => a_new_link_kills_the_old_one_and_sends_are_limited;
}
