//! Bulk email actions: activation emails from People (selected, all) within the caller's organization, welcome emails again, and invitations resent and cancelled in bulk.

use super::*;

async fn bulk_send_reaches_only_provisioned_people_of_the_callers_organization(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let admin_a = server.client();
    admin_a
        .create_org("Riverside", "ada@example.org")
        .await
        .unwrap();
    let admin_b = server.client();
    admin_b
        .create_org("Hillside", "bea@example.org")
        .await
        .unwrap();
    let (a, b) = (
        server.organization_id("Riverside").await,
        server.organization_id("Hillside").await,
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
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin
        .create_org("Riverside", "ada@example.org")
        .await
        .unwrap();
    let org = server.organization_id("Riverside").await;
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
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM outbox WHERE kind = 'welcome_resend' ORDER BY id DESC")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    let message = crate::support::rendered(&server.state.db.pool, id).await;
    assert_eq!(message.subject, "Welcome to Spring Cohort");
    let text = message.text;
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

async fn invitation_token(server: &TestApp, email: &str) -> String {
    server.emailed_token(email, "invitation%", "/invite/").await
}

async fn bulk(admin: &Client, function: &str, ids: &[i64]) -> BulkOutcome {
    admin.call_with_ids(function, ids).await.unwrap()
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
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let admin = server.client();
    admin
        .create_org("Riverside", "ada@example.org")
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
    other
        .create_org("Hillside", "bea@example.org")
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
    let before = server
        .count(
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
        server
            .count(
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

/// #14 item 3: a username-only student an import created without emails
/// can be activated from People at any time: the row says the link goes to
/// their parent, one send reaches the parent, and "send to everyone who has
/// not activated" includes them.
async fn a_username_only_student_is_activated_through_their_parent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let id: i64 = admin
        .call_json(
            "imports/create",
            &serde_json::json!({
                "options": {
                    "kind": "people", "group_id": null, "contract_id": null,
                    "send_emails": false, "auto_invite": false, "expiry_days": null,
                    "source_name": "people.csv",
                },
                "payload": {
                    "kind": "people",
                    "sheets": [{
                        "name": "roster",
                        "headers": ["First Name", "Last Name", "Email", "Username", "Role", "Parent Emails"],
                        "rows": [
                            { "number": 2, "cells": ["Kit", "Lee", "", "kitlee", "Student", "pat@example.org"] },
                            { "number": 3, "cells": ["Pat", "Lee", "pat@example.org", "", "Parent", ""] },
                        ],
                    }],
                },
                "idempotency_key": "0f6d3c1e-aaaa-4bbb-8ccc-0000000000c1",
            }),
        )
        .await
        .unwrap();
    crate::imports::wait_finished(&admin, id).await;
    let people: app::people::PeoplePage = admin
        .call(
            "people/list",
            &[("search", "kitlee"), ("status", ""), ("page", "1")],
        )
        .await
        .unwrap();
    let kit = &people.people[0];
    assert_eq!(kit.username.as_deref(), Some("kitlee"));
    assert_eq!(kit.email, None);
    assert_eq!(kit.activation_to.as_deref(), Some("pat@example.org"));
    assert!(kit.status.can_activate());
    assert_eq!(kit.links.len(), 1, "{kit:?}");
    assert_eq!(kit.links[0].relation, app::people::Relation::Parent);
    let activations = |server: &TestApp| {
        let pool = server.pool().clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM outbox WHERE to_email = 'pat@example.org' AND kind LIKE 'activation%'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            n
        }
    };
    assert_eq!(activations(&server).await, 0, "no emails were asked for");
    admin
        .call::<()>("activation/send", &[("user_id", &kit.id.to_string())])
        .await
        .unwrap();
    assert_eq!(activations(&server).await, 1);
    // Everyone who has not activated: Pat (their own) and Kit (through Pat).
    let outcome: BulkOutcome = admin.call("activation/send_all", &[]).await.unwrap();
    assert_eq!(outcome.done, 2, "{outcome:?}");
    assert_eq!(activations(&server).await, 3);
}

on_both_backends! {
    username_only_activation => a_username_only_student_is_activated_through_their_parent;
    bulk_send_and_isolation => bulk_send_reaches_only_provisioned_people_of_the_callers_organization;
    resend_welcome => admins_resend_the_welcome_email_to_active_people;
    invitations_in_bulk => invitations_are_resent_and_cancelled_in_bulk;
}
