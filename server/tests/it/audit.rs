//! The audit log (Settings → Activity), on SQLite and PostgreSQL: each admin
//! action that changes data, driven through its server function or form,
//! records one event saying who, what, about what and how many; a refused
//! or rolled-back action records nothing; the list's filters and pages; the
//! CSV export (its filters, quoting and defused formulas, who may download
//! it); and records that nothing can change.

use app::{
    audit::{ActivityPage, AuditAction, AuditEvent, Subject},
    error::AppError,
    imports::ImportSummary,
    invitations::{InvitationsPage, InviteOutcome},
    people::PeoplePage,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{Backend, Client, TestApp, PASSWORD};

/// A page of the caller's activity.
async fn activity(
    admin: &Client,
    action: &str,
    actor: i64,
    from: &str,
    to: &str,
    before: i64,
) -> Result<ActivityPage, AppError> {
    admin
        .call(
            "audit/list",
            &[
                ("action", action),
                ("actor", &actor.to_string()),
                ("from", from),
                ("to", to),
                ("before", &before.to_string()),
            ],
        )
        .await
}

/// The newest page of the caller's activity, unfiltered.
async fn events(admin: &Client) -> Vec<AuditEvent> {
    activity(admin, "", 0, "", "", 0).await.unwrap().events
}

/// The events of `action`, newest first.
async fn of(admin: &Client, action: AuditAction) -> Vec<AuditEvent> {
    activity(admin, action.as_str(), 0, "", "", 0)
        .await
        .unwrap()
        .events
}

/// The one event of `action`.
async fn only(admin: &Client, action: AuditAction) -> AuditEvent {
    let mut found = of(admin, action).await;
    assert_eq!(found.len(), 1, "{action}: {found:#?}");
    found.remove(0)
}

/// Checks who did it, what it was about and how many.
fn assert_event(
    event: &AuditEvent,
    who: &str,
    subject: Option<(Subject, &str)>,
    count: Option<i64>,
) {
    assert_eq!(event.actor_name, who, "{event:#?}");
    assert_eq!(
        event
            .subject
            .map(|kind| (kind, event.subject_label.as_str())),
        subject,
        "{event:#?}"
    );
    assert_eq!(event.count, count, "{event:#?}");
}

async fn invite(admin: &Client, group: i64, emails: &str) -> Vec<InviteOutcome> {
    admin
        .call(
            "invitations/send",
            &[("group_id", &group.to_string()), ("emails", emails)],
        )
        .await
        .unwrap()
}

async fn invitations(admin: &Client, status: &str) -> InvitationsPage {
    admin
        .call(
            "invitations/list",
            &[
                ("status", status),
                ("search", ""),
                ("group_id", "0"),
                ("page", "1"),
            ],
        )
        .await
        .unwrap()
}

fn invitation_id(page: &InvitationsPage, email: &str) -> i64 {
    page.rows
        .iter()
        .find(|row| row.email == email)
        .unwrap_or_else(|| panic!("{email} in {page:?}"))
        .id
}

async fn wait_import(admin: &Client, id: i64) -> ImportSummary {
    for _ in 0..600 {
        let summary: ImportSummary = admin
            .call("imports/get", &[("id", &id.to_string())])
            .await
            .unwrap();
        if summary.is_finished() {
            return summary;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish in 60 s");
}

fn import_body(
    kind: &str,
    group: i64,
    contract: Option<i64>,
    headers: &[&str],
    rows: &[&[&str]],
    key: &str,
) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, cells)| json!({ "number": i + 2, "cells": cells }))
        .collect();
    json!({
        "options": {
            "kind": kind, "group_id": group, "contract_id": contract,
            "send_emails": true, "auto_invite": false, "expiry_days": null,
            "source_name": format!("{kind}.csv"),
        },
        "payload": {
            "kind": kind,
            "sheets": [{ "name": "roster", "headers": headers, "rows": rows }],
        },
        "idempotency_key": key,
    })
}

/// Someone who accepted an invitation into `group`: an active learner with
/// [`PASSWORD`], signed in in the returned browser; and their user id.
async fn learner(
    server: &TestApp,
    admin: &Client,
    group: i64,
    email: &str,
    first_name: &str,
) -> (Client, i64) {
    invite(admin, group, email).await;
    let token = server.emailed_token(email, "invitation%", "/invite/").await;
    let browser = server.client();
    let (_, location) = browser
        .post_from_emailed_page(
            &format!("/invite/{token}/respond"),
            &[
                ("intent", "register"),
                ("first_name", first_name),
                ("last_name", "Learner"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location, "/?welcome");
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(server.pool())
        .await
        .unwrap();
    (browser, id)
}

/// Invitations by hand, one by one and in bulk, and an import: each action
/// is one event with its count; what changed nothing records nothing.
async fn invitations_and_imports_are_recorded(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let founded = only(&admin, AuditAction::OrganizationCreated).await;
    assert_event(
        &founded,
        "Ada Admin",
        Some((Subject::Organization, "Riverside")),
        None,
    );
    assert_eq!(founded.actor_email, "ada@example.org");
    let created = only(&admin, AuditAction::GroupCreated).await;
    assert_event(
        &created,
        "Ada Admin",
        Some((Subject::Group, "Spring Cohort")),
        None,
    );
    assert_eq!(created.subject_id, Some(group));
    assert!(created.details.contains("Safety"), "{created:?}");

    // Two invited; a repeat and a bad address are left out.
    invite(
        &admin,
        group,
        "lin@example.org, max@example.org, LIN@example.org, not-an-email",
    )
    .await;
    let sent = only(&admin, AuditAction::InvitationsSent).await;
    assert_event(
        &sent,
        "Ada Admin",
        Some((Subject::Group, "Spring Cohort")),
        Some(2),
    );
    assert!(
        sent.details.contains("2 left out: invalid or listed twice"),
        "{sent:?}"
    );
    // Everyone already invited: nothing changed, nothing recorded.
    invite(&admin, group, "lin@example.org").await;
    assert_eq!(of(&admin, AuditAction::InvitationsSent).await.len(), 1);

    let pending = invitations(&admin, "pending").await;
    let (lin, max) = (
        invitation_id(&pending, "lin@example.org"),
        invitation_id(&pending, "max@example.org"),
    );
    admin
        .call::<()>("invitations/resend", &[("id", &lin.to_string())])
        .await
        .unwrap();
    let resent = only(&admin, AuditAction::InvitationsResent).await;
    assert_event(
        &resent,
        "Ada Admin",
        Some((Subject::Invitation, "lin@example.org")),
        Some(1),
    );
    assert_eq!(resent.subject_id, Some(lin));

    admin
        .call::<()>("invitations/cancel", &[("id", &max.to_string())])
        .await
        .unwrap();
    let cancelled = only(&admin, AuditAction::InvitationsCancelled).await;
    assert_event(
        &cancelled,
        "Ada Admin",
        Some((Subject::Invitation, "max@example.org")),
        Some(1),
    );
    // Refused (not pending any more): nothing recorded.
    let refused = admin
        .call::<()>("invitations/cancel", &[("id", &max.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    let refused = admin
        .call::<()>("invitations/resend", &[("id", &max.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(of(&admin, AuditAction::InvitationsCancelled).await.len(), 1);
    assert_eq!(of(&admin, AuditAction::InvitationsResent).await.len(), 1);

    // Bulk: one event each, with the count.
    let outcome: app::bulk::BulkOutcome = admin
        .call_with_ids("invitations/resend_selected", &[lin, max])
        .await
        .unwrap();
    assert_eq!((outcome.done, outcome.skipped), (1, 1));
    let bulk = &of(&admin, AuditAction::InvitationsResent).await[0];
    assert_event(bulk, "Ada Admin", None, Some(1));
    assert!(bulk.details.contains("1 skipped"), "{bulk:?}");
    let nothing: app::bulk::BulkOutcome = admin
        .call_with_ids("invitations/cancel_selected", &[max])
        .await
        .unwrap();
    assert_eq!(nothing.done, 0);
    assert_eq!(
        of(&admin, AuditAction::InvitationsCancelled).await.len(),
        1,
        "nothing cancelled, nothing recorded"
    );

    invite(&admin, group, "a@example.org, b@example.org, c@example.org").await;
    let pending = invitations(&admin, "pending").await;
    let outcome: app::bulk::BulkOutcome = admin
        .call_with_ids(
            "invitations/cancel_selected",
            &[
                invitation_id(&pending, "a@example.org"),
                invitation_id(&pending, "b@example.org"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(outcome.done, 2);
    assert_event(
        &of(&admin, AuditAction::InvitationsCancelled).await[0],
        "Ada Admin",
        None,
        Some(2),
    );
    let outcome: app::bulk::BulkOutcome = admin
        .call(
            "invitations/resend_matching",
            &[
                ("status", "pending"),
                ("search", ""),
                ("group_id", &group.to_string()),
            ],
        )
        .await
        .unwrap();
    // lin has had 2 today and may have a third; c gets its first resend.
    assert_eq!(outcome.done, 2);
    let matching = &of(&admin, AuditAction::InvitationsResent).await[0];
    assert_event(
        matching,
        "Ada Admin",
        Some((Subject::Group, "Spring Cohort")),
        Some(2),
    );
    assert!(matching.details.contains("status pending"), "{matching:?}");
    let outcome: app::bulk::BulkOutcome = admin
        .call(
            "invitations/cancel_matching",
            &[("status", "pending"), ("search", "c@"), ("group_id", "0")],
        )
        .await
        .unwrap();
    assert_eq!(outcome.done, 1);
    let matching = &of(&admin, AuditAction::InvitationsCancelled).await[0];
    assert_event(matching, "Ada Admin", None, Some(1));
    assert!(matching.details.contains("\"c@\""), "{matching:?}");

    // A confirmed import: its file name and rows; the same key again is the
    // same import and records nothing more.
    let emails: Vec<String> = (0..3).map(|n| format!("row{n}@example.org")).collect();
    let import = admin
        .start_invites_import(group, &emails, false, "audit-import-key-0001")
        .await;
    let again = admin
        .start_invites_import(group, &emails, false, "audit-import-key-0001")
        .await;
    assert_eq!(import, again);
    let confirmed = only(&admin, AuditAction::ImportConfirmed).await;
    assert_event(
        &confirmed,
        "Ada Admin",
        Some((Subject::Import, "roster.csv")),
        Some(3),
    );
    assert_eq!(confirmed.subject_id, Some(import));
    assert!(confirmed.details.starts_with("Invites: "), "{confirmed:?}");
    wait_import(&admin, import).await;
    // Finished: cancelling is refused and records nothing.
    let refused = admin
        .call::<()>("imports/cancel", &[("id", &import.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert!(of(&admin, AuditAction::ImportCancelled).await.is_empty());
    // The import's own invitations are the worker's doing, not an admin's.
    assert_eq!(of(&admin, AuditAction::InvitationsSent).await.len(), 2);
}

/// Imports that never ran: a queued one cancelled, a draft confirmed and
/// another discarded, and a confirmation the seat limit refuses (rolled
/// back with its import: no record).
async fn imports_cancelled_discarded_and_refused(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let emails: Vec<String> = (0..4).map(|n| format!("row{n}@example.org")).collect();
    let queued = admin
        .start_invites_import(group, &emails, false, "audit-queued-key-0001")
        .await;
    admin
        .call::<()>("imports/cancel", &[("id", &queued.to_string())])
        .await
        .unwrap();
    let cancelled = only(&admin, AuditAction::ImportCancelled).await;
    assert_event(
        &cancelled,
        "Ada Admin",
        Some((Subject::Import, "roster.csv")),
        Some(4),
    );
    assert!(
        cancelled.details.contains("before it started"),
        "{cancelled:?}"
    );
    let refused = admin
        .call::<()>("imports/cancel", &[("id", &queued.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(of(&admin, AuditAction::ImportCancelled).await.len(), 1);

    // Drafts, as the no-JavaScript upload stores them: recorded when
    // confirmed or discarded, not when uploaded.
    let mut drafts = Vec::new();
    for paste in [
        "Email\nkim@example.org\nlee@example.org\n",
        "Email\nzed@example.org\n",
    ] {
        let (status, headers, _) = admin
            .post_multipart(
                "/admin/imports/upload",
                &[
                    ("kind", "invites"),
                    ("group_id", &group.to_string()),
                    ("send_emails", "on"),
                    ("paste", paste),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let location = headers["location"].to_str().unwrap();
        drafts.push(location.rsplit('/').next().unwrap().parse::<i64>().unwrap());
    }
    assert!(
        of(&admin, AuditAction::ImportConfirmed).await.len() == 1,
        "only the first import so far"
    );
    admin
        .call::<()>("imports/confirm", &[("id", &drafts[0].to_string())])
        .await
        .unwrap();
    let confirmed = &of(&admin, AuditAction::ImportConfirmed).await[0];
    assert_event(
        confirmed,
        "Ada Admin",
        Some((Subject::Import, "Pasted list")),
        Some(2),
    );
    assert_eq!(confirmed.subject_id, Some(drafts[0]));
    // Confirming twice (a double submission) changes nothing more.
    admin
        .call::<()>("imports/confirm", &[("id", &drafts[0].to_string())])
        .await
        .unwrap();
    assert_eq!(of(&admin, AuditAction::ImportConfirmed).await.len(), 2);
    admin
        .call::<()>("imports/cancel", &[("id", &drafts[1].to_string())])
        .await
        .unwrap();
    let discarded = only(&admin, AuditAction::ImportDiscarded).await;
    assert_event(
        &discarded,
        "Ada Admin",
        Some((Subject::Import, "Pasted list")),
        Some(1),
    );

    // One seat, two rows: refused after the import row was written; the
    // transaction rolls back, record and all.
    let contract: i64 = admin
        .call(
            "contracts/create",
            &[("name", "District"), ("seat_limit", "1"), ("ends_on", "")],
        )
        .await
        .unwrap();
    let contract_event = only(&admin, AuditAction::ContractCreated).await;
    assert_event(
        &contract_event,
        "Ada Admin",
        Some((Subject::Contract, "District")),
        None,
    );
    assert!(
        contract_event.details.contains("1 seats; open-ended"),
        "{contract_event:?}"
    );
    let imports_before = server.count_all("SELECT COUNT(*) FROM imports").await;
    let events_before = events(&admin).await.len();
    let refused = admin
        .call_json::<i64>(
            "imports/create",
            &import_body(
                "program-invitations",
                group,
                Some(contract),
                &["Full Name", "Email", "External ID"],
                &[
                    &["Kim Hill", "kim@example.org", ""],
                    &["Lee Hill", "lee@example.org", ""],
                ],
                "audit-seats-key-00001",
            ),
        )
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM imports").await,
        imports_before
    );
    assert_eq!(events(&admin).await.len(), events_before);
}

/// Settings: groups, the join page and contracts, with what changed in
/// words; a save without changes and a refused save record nothing.
async fn settings_changes_are_recorded(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nOnboarding",
        )
        .await;
    let update = |name: &'static str, expiry: &'static str, trainings: &'static str| {
        let admin = &admin;
        async move {
            admin
                .call::<()>(
                    "groups/update",
                    &[
                        ("id", &group.to_string()),
                        ("name", name),
                        ("description", ""),
                        ("default_expiry_days", expiry),
                        ("trainings", trainings),
                    ],
                )
                .await
        }
    };
    update("Spring Cohort", "14", "Safety\nOnboarding")
        .await
        .unwrap();
    assert!(
        of(&admin, AuditAction::GroupChanged).await.is_empty(),
        "saved unchanged"
    );
    update("Autumn Cohort", "30", "Safety\nFirst aid")
        .await
        .unwrap();
    let changed = only(&admin, AuditAction::GroupChanged).await;
    assert_event(
        &changed,
        "Ada Admin",
        Some((Subject::Group, "Autumn Cohort")),
        None,
    );
    assert_eq!(
        changed.subject_page(),
        Some(format!("/admin/groups/{group}"))
    );
    assert_eq!(
        changed.details,
        "renamed from \"Spring Cohort\"; invitations expire after 30 days (was 14); trainings added: First aid; trainings removed: Onboarding."
    );
    admin.create_group("Winter Cohort", "").await;
    let refused = update("Winter Cohort", "30", "").await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    let refused: Result<i64, AppError> = admin
        .call(
            "groups/create",
            &[
                ("name", "winter cohort"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", ""),
            ],
        )
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(of(&admin, AuditAction::GroupChanged).await.len(), 1);
    assert_eq!(of(&admin, AuditAction::GroupCreated).await.len(), 2);

    let save = |enabled: &'static str, slug: &'static str, domains: &'static str| {
        let admin = &admin;
        async move {
            admin
                .call::<Value>(
                    "join/save",
                    &[
                        ("enabled", enabled),
                        ("slug", slug),
                        ("group_id", &group.to_string()),
                        ("welcome_text", "Welcome"),
                        ("allowed_domains", domains),
                    ],
                )
                .await
        }
    };
    save("on", "riverside-join", "example.org").await.unwrap();
    let join = only(&admin, AuditAction::JoinPageChanged).await;
    assert_event(
        &join,
        "Ada Admin",
        Some((Subject::JoinPage, "/join/riverside-join")),
        None,
    );
    assert_eq!(
        join.details,
        "turned on; link /join/riverside-join (was none); joiners enter Autumn Cohort (was none); welcome text changed; allowed domains example.org (was any)."
    );
    assert_eq!(join.subject_page().as_deref(), Some("/admin/join"));
    save("on", "riverside-join", "example.org").await.unwrap();
    let refused = save("on", "no", "example.org").await;
    assert!(
        matches!(refused, Err(AppError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(of(&admin, AuditAction::JoinPageChanged).await.len(), 1);
    save("false", "riverside-join", "").await.unwrap();
    assert_eq!(
        of(&admin, AuditAction::JoinPageChanged).await[0].details,
        "turned off; allowed domains any (was example.org)."
    );
}

/// Activation emails (one, everyone) and a welcome email resent, for people
/// a Learners import created.
async fn emails_to_people_are_recorded(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let import: i64 = admin
        .call_json(
            "imports/create",
            &import_body(
                "learners",
                group,
                None,
                &["First Name", "Last Name", "Email"],
                &[
                    &["Ann", "Lee", "ann@example.org"],
                    &["Bo", "Lee", "bo@example.org"],
                ],
                "audit-learners-key-01",
            ),
        )
        .await
        .unwrap();
    wait_import(&admin, import).await;
    let people: PeoplePage = admin
        .call("people/list", &[("search", "ann@"), ("page", "1")])
        .await
        .unwrap();
    let ann = people.people[0].id;
    admin
        .call::<()>("activation/send", &[("user_id", &ann.to_string())])
        .await
        .unwrap();
    let one = only(&admin, AuditAction::ActivationSent).await;
    assert_event(
        &one,
        "Ada Admin",
        Some((Subject::Person, "ann@example.org")),
        Some(1),
    );
    assert_eq!(one.subject_id, Some(ann));
    let outcome: app::bulk::BulkOutcome = admin.call("activation/send_all", &[]).await.unwrap();
    assert_eq!(outcome.done, 2);
    let all = &of(&admin, AuditAction::ActivationSent).await[0];
    assert_event(all, "Ada Admin", None, Some(2));
    assert_eq!(all.details, "Everyone who has not activated.");
    // Refused (the admin is active): nothing recorded.
    let (me,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = 'ada@example.org'")
        .fetch_one(server.pool())
        .await
        .unwrap();
    let refused = admin
        .call::<()>("activation/send", &[("user_id", &me.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    let nothing: app::bulk::BulkOutcome = admin
        .call_with_ids("activation/send_selected", &[me])
        .await
        .unwrap();
    assert_eq!(nothing.done, 0);
    assert_eq!(of(&admin, AuditAction::ActivationSent).await.len(), 2);

    let (_, lin) = learner(&server, &admin, group, "lin@example.org", "Lin").await;
    admin
        .call::<()>("people/resend_welcome", &[("user_id", &lin.to_string())])
        .await
        .unwrap();
    let welcome = only(&admin, AuditAction::WelcomeResent).await;
    assert_event(
        &welcome,
        "Ada Admin",
        Some((Subject::Person, "lin@example.org")),
        Some(1),
    );
    assert_eq!(welcome.details, "Group: Spring Cohort.");
}

/// The list narrowed by action, person and dates, in pages newest first;
/// names as they were when each acted.
async fn filters_pages_and_names_as_they_were(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (ada_browser, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    // A second admin: a learner made admin (no page does that yet).
    let (cy, cy_id) = learner(&server, &ada_browser, group, "cy@example.org", "Cy").await;
    sqlx::query("UPDATE memberships SET role = 'admin' WHERE user_id = $1")
        .bind(cy_id)
        .execute(server.pool())
        .await
        .unwrap();
    for n in 0..3 {
        cy.create_group(&format!("Cy group {n}"), "").await;
    }
    let (ada_id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = 'ada@example.org'")
        .fetch_one(server.pool())
        .await
        .unwrap();

    let all = events(&ada_browser).await;
    // Organization, Spring Cohort, Cy's invitation, Cy's three groups.
    assert_eq!(all.len(), 6, "{all:#?}");
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let page = activity(&ada_browser, "", cy_id, "", "", 0).await.unwrap();
    assert_eq!(page.events.len(), 3);
    assert!(page
        .events
        .iter()
        .all(|e| e.actor_name == "Cy Learner" && e.action == AuditAction::GroupCreated));
    let names: Vec<(i64, &str)> = page
        .actors
        .iter()
        .map(|a| (a.user_id, a.name.as_str()))
        .collect();
    assert_eq!(names, vec![(ada_id, "Ada Admin"), (cy_id, "Cy Learner")]);
    let by_ada = activity(&ada_browser, "group_created", ada_id, "", "", 0)
        .await
        .unwrap();
    assert_eq!(by_ada.events.len(), 1);
    assert_eq!(by_ada.events[0].subject_label, "Spring Cohort");

    // Dates: the day of the newest event includes it; a range ending the day
    // before the oldest includes nothing.
    let day = |t: i64| app::mail::templates::format_date(t);
    let (newest, oldest) = (all[0].created_at, all[all.len() - 1].created_at);
    let on_the_day = activity(&ada_browser, "", 0, &day(newest), &day(newest), 0)
        .await
        .unwrap();
    assert!(on_the_day.events.iter().any(|e| e.id == all[0].id));
    let before = activity(&ada_browser, "", 0, "", &day(oldest - 86_400), 0)
        .await
        .unwrap();
    assert!(before.events.is_empty(), "{before:?}");
    let after = activity(&ada_browser, "", 0, &day(newest + 86_400), "", 0)
        .await
        .unwrap();
    assert!(after.events.is_empty(), "{after:?}");
    for (action, from, to, field) in [
        ("", "2026-02-30", "", "From"),
        ("", "2026-09-04", "2026-09-03", "To"),
        ("rename_everything", "", "", "Action"),
    ] {
        match activity(&ada_browser, action, 0, from, to, 0).await {
            Err(AppError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{action} {from} {to}: {other:?}"),
        }
    }

    // Renamed: past events keep the name they were recorded with.
    sqlx::query("UPDATE memberships SET first_name = 'Cyrus' WHERE user_id = $1")
        .bind(cy_id)
        .execute(server.pool())
        .await
        .unwrap();
    cy.create_group("Cyrus group", "").await;
    let cy_events = activity(&ada_browser, "", cy_id, "", "", 0).await.unwrap();
    let names: Vec<&str> = cy_events
        .events
        .iter()
        .map(|e| e.actor_name.as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Cyrus Learner", "Cy Learner", "Cy Learner", "Cy Learner"]
    );
    assert!(cy_events
        .actors
        .iter()
        .any(|a| a.user_id == cy_id && a.name == "Cyrus Learner"));

    // Pages of 50: every event once, newest first, across pages.
    for n in 0..50 {
        ada_browser
            .create_group(&format!("Bulk group {n:02}"), "")
            .await;
    }
    let first = activity(&ada_browser, "", 0, "", "", 0).await.unwrap();
    assert_eq!(first.events.len(), app::audit::PAGE_SIZE as usize);
    let older = first.older.expect("a second page");
    let second = activity(&ada_browser, "", 0, "", "", older).await.unwrap();
    assert_eq!(second.events.len(), 57 - 50);
    assert_eq!(second.older, None);
    let ids: Vec<i64> = first
        .events
        .iter()
        .chain(&second.events)
        .map(|e| e.id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert_eq!(
        second.events.last().unwrap().action,
        AuditAction::OrganizationCreated
    );
    // The same pages as links, without JavaScript.
    let (status, html) = ada_browser
        .get_page(&format!(
            "/admin/settings/activity?action=&actor=0&from=&to=&before={older}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Organization: Riverside"), "{html}");
    assert!(
        html.contains("← Newest") && !html.contains("Older →"),
        "{html}"
    );
    assert!(
        !html.contains("Bulk group 49"),
        "the first page's events are not on the second"
    );
    let (_, html) = ada_browser.get_page("/admin/settings/activity").await;
    assert!(
        html.contains("Group: Bulk group 49") && html.contains("Older →"),
        "{html}"
    );
    assert!(
        !html.contains("Organization: Riverside"),
        "on the second page"
    );
    let (_, html) = ada_browser
        .get_page("/admin/settings/activity?action=import_undone")
        .await;
    assert!(
        html.contains("No activity matches these filters."),
        "{html}"
    );
    assert!(
        html.contains("activity.csv?action=import_undone&amp;actor=0&amp;from=&amp;to="),
        "the export carries the filters: {html}"
    );
}

/// The CSV: the page's filters, each cell quoted, formulas defused; only
/// for admins.
async fn the_csv_export(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    admin
        .create_group("=HYPERLINK(\"http://evil.example\",\"x\")", "")
        .await;
    admin.create_group("@SUM(1+1), \"quoted\"", "").await;
    invite(&admin, group, "lin@example.org").await;

    let (status, headers, body) = admin
        .get_with_headers("/admin/settings/activity.csv?action=group_created&actor=0&from=&to=")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a byte order mark for Excel");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "\"When (UTC)\",\"Who\",\"Email\",\"Action\",\"Subject\",\"Subject ID\",\"How many\",\"Details\""
    );
    // Newest first, groups only.
    assert_eq!(lines.len(), 4, "{body}");
    assert!(
        lines[1].contains(",\"Group: @SUM(1+1), \"\"quoted\"\"\","),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",\"Group: =HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("\"Group: Spring Cohort\""),
        "{}",
        lines[3]
    );
    assert!(lines[1..]
        .iter()
        .all(|l| l.contains(",\"Ada Admin\",\"ada@example.org\",\"Group created\",")));
    assert!(!body.contains("Invitations sent") && !body.contains("Organization created"));
    // A cell that starts like a formula is defused.
    sqlx::query("UPDATE memberships SET first_name = '=1+1', last_name = '' WHERE role = 'admin'")
        .execute(server.pool())
        .await
        .unwrap();
    invite(&admin, group, "max@example.org").await;
    let (_, _, all) = admin.get_with_headers("/admin/settings/activity.csv").await;
    let newest = all.split("\r\n").nth(1).unwrap();
    assert!(
        newest.contains(",\"'=1+1\",\"ada@example.org\",\"Invitations sent\","),
        "{newest}"
    );
    assert!(
        all.contains("\"Invitations sent\""),
        "no filter: everything"
    );
    assert_eq!(all.matches("\r\n").count(), 1 + 6, "{all}");
    let (status, _, refused) = admin
        .get_with_headers("/admin/settings/activity.csv?from=soon")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.starts_with("From:"), "{refused}");

    // A learner is refused; a browser that is not signed in goes to log in.
    let (learner_browser, _) = learner(&server, &admin, group, "lin2@example.org", "Lin").await;
    let (status, _, body) = learner_browser
        .get_with_headers("/admin/settings/activity.csv")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!body.contains("Riverside") && !body.contains("ada@"));
    let (status, headers, body) = server
        .client()
        .get_with_headers("/admin/settings/activity.csv")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers["location"], "/login");
    let (status, body) = learner_browser
        .raw(
            "audit/list",
            &[
                ("action", ""),
                ("actor", "0"),
                ("from", ""),
                ("to", ""),
                ("before", "0"),
            ],
            Some(learner_browser.base()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// Nothing changes a record: the app has no function that could, and the
/// database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL).
async fn records_cannot_be_changed(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let audit_functions: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .filter(|path| path.starts_with("/api/audit/"))
        .collect();
    assert_eq!(audit_functions, vec!["/api/audit/list"], "only reads");
    let before = events(&admin).await;
    assert_eq!(before.len(), 1);
    for statement in [
        "UPDATE audit_events SET actor_name = 'Someone else'",
        "UPDATE audit_events SET item_count = 0 WHERE id > 0",
        "DELETE FROM audit_events",
    ] {
        let refused = sqlx::query(statement).execute(server.pool()).await;
        let error = refused.expect_err(statement).to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    if backend == Backend::Postgres {
        let error = sqlx::query("TRUNCATE audit_events")
            .execute(server.pool())
            .await
            .expect_err("TRUNCATE")
            .to_string();
        assert!(error.contains("append-only"), "{error}");
    }
    assert_eq!(events(&admin).await, before);

    // A record lives and dies with the transaction it was written in.
    let me: app::auth::Bootstrap = admin.call("bootstrap", &[]).await.unwrap();
    let me = me.user.unwrap();
    let entry = app::audit::service::AuditEntry::by(&me, AuditAction::ImportUndone)
        .subject(Subject::Import, 42, "roster.csv")
        .count(7);
    let mut tx = server.state.db.begin().await.unwrap();
    app::audit::service::record(&mut tx, &entry).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(events(&admin).await, before);
    let mut tx = server.state.db.begin().await.unwrap();
    app::audit::service::record(&mut tx, &entry).await.unwrap();
    tx.commit().await.unwrap();
    let undone = only(&admin, AuditAction::ImportUndone).await;
    assert_event(
        &undone,
        "Ada Admin",
        Some((Subject::Import, "roster.csv")),
        Some(7),
    );
    assert_eq!(undone.actor_email, "ada@example.org");
}

on_both_backends! {
    invitations_and_imports => invitations_and_imports_are_recorded;
    imports_that_never_ran => imports_cancelled_discarded_and_refused;
    settings_changes => settings_changes_are_recorded;
    emails_to_people => emails_to_people_are_recorded;
    filters_and_pages => filters_pages_and_names_as_they_were;
    csv_export => the_csv_export;
    records_are_append_only => records_cannot_be_changed;
}
