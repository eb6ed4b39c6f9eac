//! Imports end to end on SQLite and PostgreSQL: dry run, confirm (once, by
//! idempotency key), the worker's batches for each kind, re-imports that change
//! nothing, the failed-rows file, tenants kept apart, and two workers sharing one
//! import.

use std::time::Duration;

use crate::support::{Backend, Client, TestApp};
use app::{
    error::AppError,
    imports::{DryRun, ImportRowsPage, ImportSummary, Will},
};
use serde_json::json;

fn payload(kind: &str, headers: &[&str], rows: &[&[&str]]) -> serde_json::Value {
    json!({
        "kind": kind,
        "sheets": [{
            "name": "roster",
            "headers": headers,
            "rows": rows.iter().enumerate().map(|(i, cells)| json!({
                "number": i + 2,
                "cells": cells,
            })).collect::<Vec<_>>(),
        }],
    })
}

fn options(kind: &str, group_id: Option<i64>) -> serde_json::Value {
    json!({
        "kind": kind,
        "group_id": group_id,
        "contract_id": null,
        "send_emails": true,
        "auto_invite": false,
        "expiry_days": null,
        "source_name": "roster.csv",
    })
}

async fn create(
    admin: &Client,
    options: &serde_json::Value,
    payload: &serde_json::Value,
    key: &str,
) -> Result<i64, AppError> {
    admin
        .call_json(
            "imports/create",
            &json!({ "options": options, "payload": payload, "idempotency_key": key }),
        )
        .await
}

async fn wait_finished(admin: &Client, id: i64) -> ImportSummary {
    for _ in 0..600 {
        let summary: ImportSummary = admin
            .call("imports/get", &[("id", &id.to_string())])
            .await
            .unwrap();
        if summary.is_finished() {
            return summary;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish in 60 s");
}

async fn rows(admin: &Client, id: i64, status: &str) -> ImportRowsPage {
    admin
        .call(
            "imports/rows",
            &[("id", &id.to_string()), ("status", status), ("page", "1")],
        )
        .await
        .unwrap()
}

const KEY_A: &str = "0f6d3c1e-aaaa-4bbb-8ccc-000000000001";
const KEY_B: &str = "0f6d3c1e-aaaa-4bbb-8ccc-000000000002";

async fn invites_are_dry_run_confirmed_once_and_run(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let rows_in = payload(
        "invites",
        &["Email", "Expiry Days"],
        &[
            &["Ann@Example.com", "10"],
            &["bob@example.com", ""],
            &["not an email", ""],
        ],
    );
    let dry: DryRun = admin
        .call_json(
            "imports/dry_run",
            &json!({ "options": options("invites", Some(group)), "payload": rows_in }),
        )
        .await
        .unwrap();
    assert_eq!(dry.will, vec![Will::Invite, Will::Invite, Will::Error]);
    assert_eq!(dry.totals.invitation_emails, 2);
    // Nothing is written by a dry run.
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM invitations").await,
        0
    );

    let id = create(&admin, &options("invites", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    // A double click or a resubmitted form finds the same import.
    let again = create(&admin, &options("invites", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    assert_eq!(id, again);
    assert_eq!(server.count_all("SELECT COUNT(*) FROM imports").await, 1);

    let done = wait_finished(&admin, id).await;
    assert_eq!(done.status.as_str(), "completed_with_errors");
    assert_eq!((done.succeeded, done.skipped, done.failed), (2, 0, 1));
    let failed = rows(&admin, id, "error").await;
    assert_eq!(failed.rows.len(), 1);
    assert_eq!(failed.rows[0].row_number, 4);
    assert!(failed.rows[0]
        .message
        .as_deref()
        .unwrap()
        .contains("not an email"));
    let invited: Vec<(String, String)> =
        sqlx::query_as("SELECT email, status FROM invitations WHERE import_id = $1 ORDER BY email")
            .bind(id)
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        invited,
        vec![
            ("ann@example.com".to_owned(), "pending".to_owned()),
            ("bob@example.com".to_owned(), "pending".to_owned())
        ]
    );
    // One email per invitation, each invitation pointing at its message, and the
    // admin's "finished" email.
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        2
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM invitations WHERE import_id = $1 AND last_outbox_id IS NOT NULL",
            id
        )
        .await,
        2
    );
    let finished: Vec<(String, String)> =
        sqlx::query_as("SELECT to_email, text_body FROM outbox WHERE kind = 'import_finished'")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].0, "ada@example.org");
    assert!(finished[0]
        .1
        .contains(&format!("http://muster.test/admin/imports/{id}")));
}

async fn the_same_file_twice_changes_nothing_the_second_time(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let rows_in = payload(
        "invites",
        &["Email"],
        &[
            &["ann@example.com"],
            &["bob@example.com"],
            &["cy@example.com"],
        ],
    );
    let first = create(&admin, &options("invites", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    assert_eq!(wait_finished(&admin, first).await.succeeded, 3);
    let second = create(&admin, &options("invites", Some(group)), &rows_in, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, second).await;
    assert_eq!(done.status.as_str(), "completed");
    assert_eq!((done.succeeded, done.skipped, done.failed), (0, 3, 0));
    assert!(rows(&admin, second, "skipped")
        .await
        .rows
        .iter()
        .all(|r| r.message.as_deref() == Some("Skipped: already invited.")));
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM invitations").await,
        3
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        3
    );
}

async fn learners_get_accounts_memberships_trainings_and_activation_emails(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety\nConduct").await;
    let rows_in = payload(
        "learners",
        &["First Name", "Last Name", "Email"],
        &[
            &["Ann", "Lee", "ann@example.com"],
            &["Bob", "Ray", "bob@example.com"],
        ],
    );
    let id = create(&admin, &options("learners", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.failed), (2, 0), "{done:?}");
    let users: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT email, first_name, status FROM users WHERE email LIKE $1 ORDER BY email",
    )
    .bind("%@example.com")
    .fetch_all(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(
        users,
        vec![
            ("ann@example.com".into(), "Ann".into(), "provisioned".into()),
            ("bob@example.com".into(), "Bob".into(), "provisioned".into())
        ]
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM group_memberships WHERE group_id = $1",
                group
            )
            .await,
        2
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM training_assignments WHERE group_id = $1",
                group
            )
            .await,
        4
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        2
    );
    // Again: existing members are untouched and nobody is emailed twice.
    let again = create(&admin, &options("learners", Some(group)), &rows_in, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, again).await;
    assert_eq!((done.succeeded, done.skipped), (0, 2));
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        2
    );
}

async fn program_invitations_respect_the_contracts_seats(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract: i64 = admin
        .call(
            "contracts/create",
            &[("name", "District 9"), ("seat_limit", "2"), ("ends_on", "")],
        )
        .await
        .unwrap();
    let mut opts = options("program-invitations", Some(group));
    opts["contract_id"] = json!(contract);
    let three = payload(
        "program-invitations",
        &["Full Name", "Email", "External ID"],
        &[
            &["Ann Lee", "ann@example.com", "A1"],
            &["Bob Ray", "bob@example.com", ""],
            &["Cy Dee", "cy@example.com", "C3"],
        ],
    );
    let dry: DryRun = admin
        .call_json(
            "imports/dry_run",
            &json!({ "options": opts, "payload": three }),
        )
        .await
        .unwrap();
    assert!(
        dry.seats_warning
            .as_deref()
            .unwrap()
            .contains("2 seats left"),
        "{dry:?}"
    );
    match create(&admin, &opts, &three, KEY_A).await {
        Err(AppError::Conflict(message)) => assert!(message.contains("seats"), "{message}"),
        other => panic!("expected a seats conflict, got {other:?}"),
    }
    let two = payload(
        "program-invitations",
        &["Full Name", "Email", "External ID"],
        &[
            &["Ann Lee", "ann@example.com", "A1"],
            &["Bob Ray", "bob@example.com", ""],
        ],
    );
    let id = create(&admin, &opts, &two, KEY_B).await.unwrap();
    assert_eq!(wait_finished(&admin, id).await.succeeded, 2);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE contract_id = $1",
                contract
            )
            .await,
        2
    );
}

async fn group_members_are_invited_into_each_listed_group(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let spring = admin.create_group("Spring Cohort", "Safety").await;
    let autumn = admin.create_group("Autumn Cohort", "Safety").await;
    let rows_in = payload(
        "group-members",
        &["Email", "Groups"],
        &[
            &["ann@example.com", "Spring Cohort; autumn cohort"],
            &["bob@example.com", "Spring Cohort"],
            &["cy@example.com", "Winter"],
        ],
    );
    let id = create(&admin, &options("group-members", None), &rows_in, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.failed), (2, 1));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE group_id = $1",
                spring
            )
            .await,
        2
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE group_id = $1",
                autumn
            )
            .await,
        1
    );
}

async fn people_are_added_updated_and_linked(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let headers = ["First Name", "Last Name", "Email", "Role", "Parent Emails"];
    let first = payload(
        "people",
        &headers,
        &[
            &[
                "Ann",
                "Lee",
                "ann@example.com",
                "Student",
                "pat@example.com",
            ],
            &["Pat", "Lee", "pat@example.com", "Parent", ""],
        ],
    );
    let id = create(&admin, &options("people", None), &first, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(
        (done.succeeded, done.failed),
        (2, 0),
        "{:?}",
        rows(&admin, id, "").await
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM associations WHERE relation = 'parent'")
            .await,
        1
    );
    // Without "auto-invite" nobody is emailed.
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        0
    );
    let renamed = payload(
        "people",
        &headers,
        &[
            &[
                "Annie",
                "Lee",
                "ann@example.com",
                "Student",
                "pat@example.com",
            ],
            &["Pat", "Lee", "pat@example.com", "Parent", ""],
        ],
    );
    let id = create(&admin, &options("people", None), &renamed, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.skipped), (1, 1));
    let (first_name,): (String,) =
        sqlx::query_as("SELECT first_name FROM users WHERE email = 'ann@example.com'")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(first_name, "Annie");
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM associations").await,
        1
    );
}

async fn failed_rows_download_defuses_formulas_and_other_tenants_see_nothing(backend: Backend) {
    // Open signup, so that a second organization can exist.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let rows_in = payload(
        "invites",
        &["Email"],
        &[&["=HYPERLINK(\"x\")"], &["ann@example.com"]],
    );
    let id = create(&admin, &options("invites", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    wait_finished(&admin, id).await;
    let (status, headers, body) = admin
        .get_with_headers(&format!("/admin/imports/{id}/failed.csv"))
        .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "\"Email\",\"Expiry Days\",\"Row\",\"Error\"");
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines[1].starts_with("\"'=HYPERLINK(\"\"x\"\")\",\"\",\"2\","),
        "{}",
        lines[1]
    );

    // Another organization's admin can neither see nor touch it.
    let outsider = server.client();
    outsider
        .create_org("Elsewhere", "eve@example.net")
        .await
        .unwrap();
    let id_text = id.to_string();
    assert_eq!(
        outsider
            .call::<ImportSummary>("imports/get", &[("id", &id_text)])
            .await
            .unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(
        outsider
            .call::<ImportRowsPage>(
                "imports/rows",
                &[("id", &id_text), ("status", ""), ("page", "1")]
            )
            .await
            .unwrap_err(),
        AppError::NotFound
    );
    assert!(outsider
        .call::<()>("imports/cancel", &[("id", &id_text)])
        .await
        .is_err());
    let (status, _, _) = outsider
        .get_with_headers(&format!("/admin/imports/{id}/failed.csv"))
        .await;
    assert_eq!(status, 404);
    let list: Vec<ImportSummary> = outsider.call("imports/list", &[]).await.unwrap();
    assert!(list.is_empty());
    // Nor can anyone without a session.
    let (status, _, _) = server
        .client()
        .get_with_headers(&format!("/admin/imports/{id}/failed.csv"))
        .await;
    assert_eq!(status, 303);
}

/// Two workers (as two server processes would run) share one import: every row
/// is done exactly once.
async fn two_workers_never_do_a_row_twice(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let emails: Vec<String> = (0..3_000)
        .map(|i| format!("learner{i}@example.com"))
        .collect();
    let cells: Vec<[&str; 1]> = emails.iter().map(|e| [e.as_str()]).collect();
    let cell_refs: Vec<&[&str]> = cells.iter().map(|c| &c[..]).collect();
    let id = create(
        &admin,
        &options("invites", Some(group)),
        &payload("invites", &["Email"], &cell_refs),
        KEY_A,
    )
    .await
    .unwrap();
    let workers: Vec<_> = (0..2)
        .map(|n| {
            let state = server.state.clone();
            tokio::spawn(async move {
                let config = app::imports::worker::WorkerConfig {
                    batch_size: 250,
                    lease_secs: 30,
                    worker_id: format!("test-worker-{n}"),
                    ..Default::default()
                };
                let mut batches = 0;
                while app::imports::worker::run_batch(&state.db, &state.settings, &config)
                    .await
                    .unwrap()
                {
                    batches += 1;
                }
                batches
            })
        })
        .collect();
    let mut batches = 0;
    for worker in workers {
        batches += worker.await.unwrap();
    }
    // 12 batches of rows plus the one that finishes the import.
    assert!(batches >= 13, "{batches}");
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.skipped, done.failed), (3_000, 0, 0));
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM invitations WHERE import_id = $1", id)
            .await,
        3_000
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation'")
            .await,
        3_000
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        3_000
    );
}

async fn a_queued_import_can_be_cancelled(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = create(
        &admin,
        &options("invites", Some(group)),
        &payload("invites", &["Email"], &[&["ann@example.com"]]),
        KEY_A,
    )
    .await
    .unwrap();
    admin
        .call::<()>("imports/cancel", &[("id", &id.to_string())])
        .await
        .unwrap();
    let summary: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(summary.status.as_str(), "cancelled");
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM invitations").await,
        0
    );
}

async fn templates_come_from_the_engines_column_specs(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let (status, headers, body) = admin
        .get_with_headers("/admin/imports/template/invites.csv")
        .await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("muster-invites-template.csv"));
    assert_eq!(body, "Email,Expiry Days\r\n");
    let (status, headers, _) = admin
        .get_with_headers("/admin/imports/template/people.xlsx")
        .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let (status, _, _) = admin
        .get_with_headers("/admin/imports/template/nothing.csv")
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = admin
        .get_with_headers("/admin/imports/template/invites.xlsx")
        .await;
    assert_eq!(status, 404);
}

/// A queued Invites import of a hundred generated addresses into `group`.
async fn hundred_invites(admin: &Client, group: i64) -> i64 {
    let emails: Vec<String> = (0..100).map(|i| format!("p{i}@example.com")).collect();
    let cells: Vec<[&str; 1]> = emails.iter().map(|e| [e.as_str()]).collect();
    let cell_refs: Vec<&[&str]> = cells.iter().map(|c| &c[..]).collect();
    create(
        admin,
        &options("invites", Some(group)),
        &payload("invites", &["Email"], &cell_refs),
        KEY_A,
    )
    .await
    .unwrap()
}

/// Cancelling a running import stops it after the current batch; what was done stays.
async fn a_running_import_stops_after_its_batch(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = hundred_invites(&admin, group).await;
    let config = app::imports::worker::WorkerConfig {
        batch_size: 30,
        worker_id: "test-worker".into(),
        ..Default::default()
    };
    let run = || app::imports::worker::run_batch(&server.state.db, &server.state.settings, &config);
    assert!(run().await.unwrap());
    let running: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        (running.status.as_str(), running.processed),
        ("running", 30)
    );
    admin
        .call::<()>("imports/cancel", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert!(run().await.unwrap());
    assert!(
        !run().await.unwrap(),
        "a cancelled import is not picked up again"
    );
    let done: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(done.status.as_str(), "cancelled");
    assert_eq!(done.succeeded, 30);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM invitations WHERE import_id = $1", id)
            .await,
        30
    );
    assert_eq!(rows(&admin, id, "pending").await.total, 70);
}

/// A batch that keeps failing (here: its table is gone) is retried, and after
/// five failures in a row the import ends as failed and the admin is told.
async fn repeated_failures_end_the_import_as_failed(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = create(
        &admin,
        &options("invites", Some(group)),
        &payload(
            "invites",
            &["Email"],
            &[&["ann@example.com"], &["bob@example.com"]],
        ),
        KEY_A,
    )
    .await
    .unwrap();
    sqlx::query("ALTER TABLE invitations RENAME TO invitations_away")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    let config = app::imports::worker::WorkerConfig {
        worker_id: "test-worker".into(),
        ..Default::default()
    };
    for attempt in 1..=5 {
        let result =
            app::imports::worker::run_batch(&server.state.db, &server.state.settings, &config)
                .await;
        assert!(result.is_err(), "attempt {attempt} should fail");
    }
    assert!(
        !app::imports::worker::run_batch(&server.state.db, &server.state.settings, &config)
            .await
            .unwrap()
    );
    let done: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(done.status.as_str(), "failed");
    assert!(done.error.as_deref().unwrap().contains("repeated errors"));
    assert_eq!(done.retryable(), 2);
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'import_finished'")
            .await,
        1
    );
    let (_, _, body) = admin
        .get_with_headers(&format!("/admin/imports/{id}/failed.csv"))
        .await;
    assert!(
        body.contains("Not imported: the import stopped before this row."),
        "{body}"
    );
}

/// A student with only a username has no email: with "auto-invite", the
/// activation for their account goes to their parent.
async fn a_username_only_students_activation_goes_to_the_parent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let mut opts = options("people", None);
    opts["auto_invite"] = json!(true);
    let rows_in = payload(
        "people",
        &[
            "First Name",
            "Last Name",
            "Email",
            "Username",
            "Role",
            "Parent Emails",
        ],
        &[
            &["Kit", "Lee", "", "kitlee", "Student", "pat@example.com"],
            &["Pat", "Lee", "pat@example.com", "", "Parent", ""],
        ],
    );
    let id = create(&admin, &opts, &rows_in, KEY_A).await.unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(
        (done.succeeded, done.failed),
        (2, 0),
        "{:?}",
        rows(&admin, id, "").await
    );
    let (email, status): (Option<String>, String) =
        sqlx::query_as("SELECT email, status FROM users WHERE username = 'kitlee'")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!((email, status.as_str()), (None, "provisioned"));
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM associations WHERE relation = 'parent'")
            .await,
        1
    );
    // The parent's own activation, and the one for the student's account.
    let to: Vec<(String,)> =
        sqlx::query_as("SELECT to_email FROM outbox WHERE kind = 'activation' ORDER BY id")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        to,
        vec![
            ("pat@example.com".to_owned(),),
            ("pat@example.com".to_owned(),)
        ]
    );
    let (kit,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = 'kitlee'")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens WHERE user_id = $1",
                kit
            )
            .await,
        1
    );
}

/// A worker asked to stop gives up its lease once its batch is done, so that
/// another worker resumes the import at once instead of after the lease.
async fn a_stopping_worker_releases_its_lease(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = hundred_invites(&admin, group).await;
    let stopping = app::imports::worker::WorkerConfig {
        batch_size: 40,
        worker_id: "stopping-worker".into(),
        ..Default::default()
    };
    let db = &server.state.db;
    assert!(
        app::imports::worker::run_batch(db, &server.state.settings, &stopping)
            .await
            .unwrap()
    );
    let (trigger, shutdown) = app::state::Shutdown::new();
    trigger.stop();
    app::imports::worker::run_worker(server.state.clone(), stopping, shutdown).await;
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM imports WHERE id = $1 AND status = 'running' AND lease_owner IS NULL",
                id
            )
            .await,
        1
    );
    let other = app::imports::worker::WorkerConfig {
        batch_size: 40,
        worker_id: "other-worker".into(),
        ..Default::default()
    };
    assert!(
        app::imports::worker::run_batch(db, &server.state.settings, &other)
            .await
            .unwrap()
    );
    let resumed: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        (resumed.status.as_str(), resumed.processed),
        ("running", 80)
    );
}

on_both_backends! {
    username_only_student_parent_activation => a_username_only_students_activation_goes_to_the_parent;
    repeated_failures_fail_the_import => repeated_failures_end_the_import_as_failed;
    templates_from_column_specs => templates_come_from_the_engines_column_specs;
    running_import_cancelled => a_running_import_stops_after_its_batch;
    invites_dry_run_confirm_once_and_run => invites_are_dry_run_confirmed_once_and_run;
    same_file_twice_changes_nothing => the_same_file_twice_changes_nothing_the_second_time;
    learners_accounts_memberships_trainings => learners_get_accounts_memberships_trainings_and_activation_emails;
    program_invitations_seats => program_invitations_respect_the_contracts_seats;
    group_members_each_group => group_members_are_invited_into_each_listed_group;
    people_added_updated_linked => people_are_added_updated_and_linked;
    failed_rows_and_tenants => failed_rows_download_defuses_formulas_and_other_tenants_see_nothing;
    two_workers_one_import => two_workers_never_do_a_row_twice;
    queued_import_cancelled => a_queued_import_can_be_cancelled;
    stopping_worker_releases_lease => a_stopping_worker_releases_its_lease;
}
