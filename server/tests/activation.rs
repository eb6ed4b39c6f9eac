//! Activation of provisioned accounts and the bulk email actions, on SQLite
//! and PostgreSQL: `/activate/{token}` and its no-JavaScript form, a new link
//! killing the old one, sending from People (one, selected, all), tenant
//! isolation, resending welcome emails, and bulk resend / cancel of invitations.

mod common;

use app::{
    activation::{ActivationLookup, BulkOutcome},
    error::AppError,
    invitations::{InvitationsPage, InviteOutcome},
    people::PeoplePage,
};
use common::{create_org, Backend, Client, TestServer};

const PASSWORD: &str = "a good long password";

async fn org_id(server: &TestServer, name: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM organizations WHERE name = $1")
        .bind(name)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    id
}

/// A person as an import creates them: no password, status provisioned, a
/// learner of the organization. (Inserted directly: the import worker is
/// elsewhere.)
async fn provision(
    server: &TestServer,
    organization_id: i64,
    email: Option<&str>,
    username: Option<&str>,
    first_name: &str,
) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (email, username, first_name, last_name, status, created_at)
         VALUES ($1, $2, $3, 'Learner', 'provisioned', 1000) RETURNING id",
    )
    .bind(email.map(str::to_owned))
    .bind(username.map(str::to_owned))
    .bind(first_name)
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, 'learner', 1000)",
    )
    .bind(organization_id)
    .bind(id)
    .execute(&server.state.db.pool)
    .await
    .unwrap();
    id
}

async fn count(server: &TestServer, sql: &str, bind: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(bind)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    n
}

async fn user_status(server: &TestServer, email: &str) -> String {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    status
}

/// The token in the newest activation email to `email`, read from the outbox.
async fn activation_token(server: &TestServer, email: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT text_body FROM outbox WHERE to_email = $1 AND kind LIKE 'activation%' ORDER BY id DESC",
    )
    .bind(email)
    .fetch_all(&server.state.db.pool)
    .await
    .unwrap();
    let text = &rows.first().expect("an activation email").0;
    link_token(text, "/activate/")
}

fn link_token(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("a link") + prefix.len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
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
    let keys: Vec<String> = (0..ids.len()).map(|n| format!("ids[{n}]")).collect();
    let values: Vec<String> = ids.iter().map(i64::to_string).collect();
    let form: Vec<(&str, &str)> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    admin.call("activation/send_selected", &form).await
}

/// Posts the activation page's form as a browser does from a page sent with
/// `Referrer-Policy: no-referrer`: `Origin: null` plus Fetch Metadata.
async fn activate(client: &Client, token: &str, password: &str, again: &str) -> (u16, String) {
    let (status, headers, _) = client
        .post_form(
            &format!("/activate/{token}/respond"),
            &[("password", password), ("password_confirmation", again)],
            &[("Origin", "null"), ("Sec-Fetch-Site", "same-origin")],
        )
        .await;
    let location = headers
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status.as_u16(), location)
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
    let Some(server) = common::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    create_org(&admin, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = org_id(&server, "Riverside").await;
    let lin = provision(&server, org, Some("lin@example.org"), None, "Lin").await;

    // What the import worker does: queue the email inside its own transaction.
    let mut tx = server.state.db.begin().await.unwrap();
    app::activation::server::queue_activation(
        &mut tx,
        &server.state.settings,
        org,
        lin,
        "lin@example.org",
        "Ada Admin",
        app::state::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (subject, html): (String, String) = sqlx::query_as(
        "SELECT subject, html_body FROM outbox WHERE to_email = $1 AND kind = 'activation'",
    )
    .bind("lin@example.org")
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(subject, "Riverside: set your password for Muster");
    assert!(html.contains("Ada Admin") && html.contains("http://muster.test/activate/"));
    let token = activation_token(&server, "lin@example.org").await;
    assert_eq!(token.len(), 64, "256-bit token");
    let stored = count(
        &server,
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
    let home: app::invitations::LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
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
    let Some(server) = common::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    create_org(&admin, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = org_id(&server, "Riverside").await;
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
        count(
            &server,
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

async fn bulk_send_reaches_only_provisioned_people_of_the_callers_organization(backend: Backend) {
    let Some(server) = common::spawn(backend, true).await else {
        return;
    };
    let admin_a = server.client();
    create_org(&admin_a, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let admin_b = server.client();
    create_org(&admin_b, "Hillside", "bea@example.org")
        .await
        .unwrap();
    let (a, b) = (
        org_id(&server, "Riverside").await,
        org_id(&server, "Hillside").await,
    );
    let lin = provision(&server, a, Some("lin@example.org"), None, "Lin").await;
    let max = provision(&server, a, Some("max@example.org"), None, "Max").await;
    let kid = provision(&server, a, None, Some("kid42"), "Kid").await;
    let other = provision(&server, b, Some("other@example.org"), None, "Other").await;
    let (ada,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = 'ada@example.org'")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();

    // A selection: only Lin is a provisioned person of Riverside with an email.
    let outcome = send_selected(&admin_a, &[lin, kid, ada, other, lin])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BulkOutcome {
            done: 1,
            rate_limited: 0,
            skipped: 3
        }
    );
    assert_eq!(
        send_selected(&admin_a, &[]).await.unwrap(),
        BulkOutcome::default()
    );
    // Everyone who has not activated: Lin (again) and Max.
    let outcome: BulkOutcome = admin_a.call("activation/send_all", &[]).await.unwrap();
    assert_eq!(outcome.done, 2);
    let sent: Vec<(String,)> = sqlx::query_as(
        "SELECT to_email FROM outbox WHERE kind LIKE 'activation%' ORDER BY to_email",
    )
    .fetch_all(&server.state.db.pool)
    .await
    .unwrap();
    let sent: Vec<&str> = sent.iter().map(|(to,)| to.as_str()).collect();
    assert_eq!(
        sent,
        vec!["lin@example.org", "lin@example.org", "max@example.org"]
    );
    assert_eq!(people(&admin_a, "provisioned").await.total, 3);
    assert_eq!(people(&admin_b, "provisioned").await.total, 1);

    // Hillside's admin cannot reach Riverside's people, one by one or in bulk.
    assert_eq!(send(&admin_b, lin).await, Err(AppError::NotFound));
    let outcome = send_selected(&admin_b, &[lin, max, kid]).await.unwrap();
    assert_eq!((outcome.done, outcome.skipped), (0, 3));
    let outcome: BulkOutcome = admin_b.call("activation/send_all", &[]).await.unwrap();
    assert_eq!(outcome.done, 1);
    let b_mail: Vec<(String,)> =
        sqlx::query_as("SELECT to_email FROM outbox WHERE organization_id = $1")
            .bind(b)
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(b_mail, vec![("other@example.org".to_owned(),)]);
    assert_eq!(
        admin_b
            .call::<()>("people/resend_welcome", &[("user_id", &ada.to_string())])
            .await,
        Err(AppError::NotFound)
    );

    // Only admins, and only signed in.
    let stranger = server.client();
    assert_eq!(send(&stranger, lin).await, Err(AppError::NotAuthenticated));
    let learner = server.client();
    let token = activation_token(&server, "max@example.org").await;
    assert_eq!(activate(&learner, &token, PASSWORD, PASSWORD).await.1, "/");
    assert_eq!(send(&learner, lin).await, Err(AppError::Forbidden));
    assert!(matches!(
        learner
            .call::<BulkOutcome>("activation/send_all", &[])
            .await,
        Err(AppError::Forbidden)
    ));
}

async fn admins_resend_the_welcome_email_to_active_people(backend: Backend) {
    let Some(server) = common::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    create_org(&admin, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = org_id(&server, "Riverside").await;
    let group: i64 = admin
        .call(
            "groups/create",
            &[
                ("name", "Spring Cohort"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", "Safety"),
            ],
        )
        .await
        .unwrap();
    let lin = provision(&server, org, Some("lin@example.org"), None, "Lin").await;
    let ada: i64 = people(&admin, "active").await.people[0].id;
    // An admin in no group: nothing to welcome them to.
    assert!(matches!(
        admin
            .call::<()>("people/resend_welcome", &[("user_id", &ada.to_string())])
            .await,
        Err(AppError::Conflict(ref m)) if m.contains("not in any group")
    ));
    // Not activated yet: the activation email is the one to send.
    assert!(matches!(
        admin
            .call::<()>("people/resend_welcome", &[("user_id", &lin.to_string())])
            .await,
        Err(AppError::Conflict(ref m)) if m.contains("activation")
    ));
    sqlx::query("UPDATE users SET status = 'active', password_hash = 'x' WHERE id = $1")
        .bind(lin)
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO group_memberships (group_id, user_id, status, created_at) VALUES ($1, $2, 'active', 1000)",
    )
    .bind(group)
    .bind(lin)
    .execute(&server.state.db.pool)
    .await
    .unwrap();
    for _ in 0..3 {
        admin
            .call::<()>("people/resend_welcome", &[("user_id", &lin.to_string())])
            .await
            .unwrap();
    }
    let (subject, text): (String, String) = sqlx::query_as(
        "SELECT subject, text_body FROM outbox WHERE kind = 'welcome_resend' ORDER BY id DESC",
    )
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(subject, "Welcome to Spring Cohort");
    assert!(
        text.contains("Hello Lin") && text.contains("- Safety"),
        "{text}"
    );
    assert!(matches!(
        admin
            .call::<()>("people/resend_welcome", &[("user_id", &lin.to_string())])
            .await,
        Err(AppError::Conflict(ref m)) if m.contains("24 hours")
    ));
}

async fn list(admin: &Client, status: &str, search: &str, import: &str) -> InvitationsPage {
    admin
        .call(
            "invitations/list",
            &[
                ("status", status),
                ("search", search),
                ("group_id", "0"),
                ("page", "1"),
                ("import_id", import),
            ],
        )
        .await
        .unwrap()
}

async fn invitation_token(server: &TestServer, email: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT text_body FROM outbox WHERE to_email = $1 AND kind LIKE 'invitation%' ORDER BY id DESC",
    )
    .bind(email)
    .fetch_all(&server.state.db.pool)
    .await
    .unwrap();
    link_token(&rows.first().expect("an invitation email").0, "/invite/")
}

async fn bulk(admin: &Client, function: &str, ids: &[i64]) -> BulkOutcome {
    let keys: Vec<String> = (0..ids.len()).map(|n| format!("ids[{n}]")).collect();
    let values: Vec<String> = ids.iter().map(i64::to_string).collect();
    let form: Vec<(&str, &str)> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    admin.call(function, &form).await.unwrap()
}

async fn matching(
    admin: &Client,
    function: &str,
    status: &str,
    search: &str,
    import: &str,
) -> BulkOutcome {
    admin
        .call(
            function,
            &[
                ("status", status),
                ("search", search),
                ("group_id", "0"),
                ("import_id", import),
            ],
        )
        .await
        .unwrap()
}

async fn invitations_are_resent_and_cancelled_in_bulk(backend: Backend) {
    let Some(server) = common::spawn(backend, true).await else {
        return;
    };
    let admin = server.client();
    create_org(&admin, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let group: i64 = admin
        .call(
            "groups/create",
            &[
                ("name", "Spring Cohort"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", ""),
            ],
        )
        .await
        .unwrap();
    let outcomes: Vec<InviteOutcome> = admin
        .call(
            "invitations/send",
            &[
                ("group_id", &group.to_string()),
                (
                    "emails",
                    "a@example.org, b@example.org, c@example.org, d@example.org, e@example.org",
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 5);
    let rows = list(&admin, "", "", "0").await.rows;
    let id = |email: &str| rows.iter().find(|row| row.email == email).unwrap().id;
    let (a, b, c, d, e) = (
        id("a@example.org"),
        id("b@example.org"),
        id("c@example.org"),
        id("d@example.org"),
        id("e@example.org"),
    );
    let old_a = invitation_token(&server, "a@example.org").await;

    // A selection: new links for a and b, the old ones die.
    assert_eq!(
        bulk(&admin, "invitations/resend_selected", &[a, b]).await,
        BulkOutcome {
            done: 2,
            rate_limited: 0,
            skipped: 0
        }
    );
    assert_ne!(invitation_token(&server, "a@example.org").await, old_a);
    let gone: app::invitations::InviteLookup = server
        .client()
        .call("invitations/lookup", &[("token", &old_a)])
        .await
        .unwrap();
    assert_eq!(gone, app::invitations::InviteLookup::NotFound);
    // The per-address limit holds in bulk too: a has had 1 resend; 2 more, then no.
    bulk(&admin, "invitations/resend_selected", &[a]).await;
    bulk(&admin, "invitations/resend_selected", &[a]).await;
    assert_eq!(
        bulk(&admin, "invitations/resend_selected", &[a, b]).await,
        BulkOutcome {
            done: 1,
            rate_limited: 1,
            skipped: 0
        }
    );

    // Cancel a selection; a cancelled one is skipped, not resent.
    assert_eq!(
        bulk(&admin, "invitations/cancel_selected", &[c, c]).await,
        BulkOutcome {
            done: 1,
            rate_limited: 0,
            skipped: 0
        }
    );
    assert_eq!(
        bulk(&admin, "invitations/resend_selected", &[c]).await,
        BulkOutcome {
            done: 0,
            rate_limited: 0,
            skipped: 1
        }
    );
    let c_token = invitation_token(&server, "c@example.org").await;
    let cancelled: app::invitations::InviteLookup = server
        .client()
        .call("invitations/lookup", &[("token", &c_token)])
        .await
        .unwrap();
    assert!(matches!(
        cancelled,
        app::invitations::InviteLookup::Cancelled { .. }
    ));

    // Another organization's admin can touch none of them.
    let other = server.client();
    create_org(&other, "Hillside", "bea@example.org")
        .await
        .unwrap();
    assert_eq!(
        bulk(&other, "invitations/cancel_selected", &[a, b, d, e]).await,
        BulkOutcome {
            done: 0,
            rate_limited: 0,
            skipped: 4
        }
    );
    assert_eq!(
        bulk(&other, "invitations/resend_selected", &[d])
            .await
            .skipped,
        1
    );
    assert_eq!(
        matching(&other, "invitations/cancel_matching", "", "", "0")
            .await
            .done,
        0
    );
    assert_eq!(
        matching(&other, "invitations/resend_matching", "", "", "0")
            .await
            .done,
        0
    );
    assert_eq!(list(&admin, "pending", "", "0").await.total, 4);

    // Everything matching a filter: one import's invitations.
    sqlx::query("UPDATE invitations SET import_id = 77 WHERE id = $1 OR id = $2")
        .bind(d)
        .bind(e)
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(list(&admin, "", "", "77").await.total, 2);
    let before = count(
        &server,
        "SELECT COUNT(*) FROM outbox WHERE to_email = $1",
        "d@example.org",
    )
    .await;
    assert_eq!(
        matching(&admin, "invitations/resend_matching", "", "", "77").await,
        BulkOutcome {
            done: 2,
            rate_limited: 0,
            skipped: 0
        }
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM outbox WHERE to_email = $1",
            "d@example.org"
        )
        .await,
        before + 1
    );
    // Expired ones are resent too; the search narrows.
    sqlx::query("UPDATE invitations SET expires_at = 1000 WHERE id = $1")
        .bind(e)
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        matching(&admin, "invitations/resend_matching", "expired", "", "0")
            .await
            .done,
        1
    );
    assert_eq!(list(&admin, "expired", "", "0").await.total, 0);
    assert_eq!(
        matching(&admin, "invitations/cancel_matching", "pending", "e@", "77")
            .await
            .done,
        1
    );
    assert_eq!(
        matching(&admin, "invitations/cancel_matching", "pending", "", "0")
            .await
            .done,
        3
    );
    assert_eq!(list(&admin, "pending", "", "0").await.total, 0);
    assert_eq!(list(&admin, "cancelled", "", "0").await.total, 5);
}

on_both_backends! {
    activate => activation_sets_the_password_and_activates;
    new_link_kills_old => a_new_link_kills_the_old_one_and_sends_are_limited;
    bulk_send_and_isolation => bulk_send_reaches_only_provisioned_people_of_the_callers_organization;
    resend_welcome => admins_resend_the_welcome_email_to_active_people;
    invitations_in_bulk => invitations_are_resent_and_cancelled_in_bulk;
}
