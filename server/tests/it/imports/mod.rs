//! Imports end to end on SQLite and PostgreSQL: dry run, confirm (once, by
//! idempotency key), the worker's batches for each kind, re-imports that change
//! nothing, the failed-rows file, tenants kept apart, and two workers sharing one
//! import.

use std::time::Duration;

use crate::support::{Backend, Client, TestApp};
use app::{
    error::AppError,
    imports::{DryRun, ImportRowStatus, ImportRowsPage, ImportSummary, Will},
};
use serde_json::json;

mod delivery;
mod kinds;
mod mappings;
mod seats;
mod sync;
mod undo;
mod worker;

pub(crate) fn payload(kind: &str, headers: &[&str], rows: &[&[&str]]) -> serde_json::Value {
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

pub(crate) fn options(kind: &str, group_id: Option<i64>) -> serde_json::Value {
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

pub(crate) async fn create(
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

pub(crate) async fn wait_finished(admin: &Client, id: i64) -> ImportSummary {
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

pub(crate) async fn rows(admin: &Client, id: i64, status: &str) -> ImportRowsPage {
    admin
        .call(
            "imports/rows",
            &[("id", &id.to_string()), ("status", status), ("page", "1")],
        )
        .await
        .unwrap()
}

pub(crate) const KEY_A: &str = "0f6d3c1e-aaaa-4bbb-8ccc-000000000001";
pub(crate) const KEY_B: &str = "0f6d3c1e-aaaa-4bbb-8ccc-000000000002";

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
    let finished: Vec<(String, i64)> =
        sqlx::query_as("SELECT to_email, id FROM outbox WHERE kind = 'import_finished'")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].0, "ada@example.org");
    assert!(
        crate::support::rendered(&server.state.db.pool, finished[0].1)
            .await
            .text
            .contains(&format!("http://muster.test/admin/imports/{id}"))
    );
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

/// A second import of the same people: whoever accepted is a member and is
/// skipped, a pending invitation that ran out is replaced by a new one, and
/// one still open is kept. The worker looks each address up on its own
/// (`invitations::store::imported`), so this is what breaks if a lookup
/// answers for the wrong address or the group.
async fn a_second_import_replaces_only_what_ran_out(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let other = admin.create_group("Autumn Cohort", "Safety").await;
    let people: [&[&str]; 3] = [
        &["ann@example.com"],
        &["bob@example.com"],
        &["cy@example.com"],
    ];
    let rows_in = payload("invites", &["Email"], &people);
    // Cy's invitation to another group runs out while this group's is still open: it is
    // not this import's to replace (a lookup that forgot the group would expire it).
    let elsewhere = create(
        &admin,
        &options("invites", Some(other)),
        &payload("invites", &["Email"], &[&["cy@example.com"]]),
        "0f6d3c1e-aaaa-4bbb-8ccc-000000000003",
    )
    .await
    .unwrap();
    assert_eq!(wait_finished(&admin, elsewhere).await.succeeded, 1);
    let first = create(&admin, &options("invites", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    assert_eq!(wait_finished(&admin, first).await.succeeded, 3);
    undo::accept(&server, "bob@example.com").await;
    sqlx::query(
        "UPDATE invitations SET expires_at = 1000
         WHERE (email = 'ann@example.com' AND group_id = $1)
            OR (email = 'cy@example.com' AND group_id = $2)",
    )
    .bind(group)
    .bind(other)
    .execute(server.pool())
    .await
    .unwrap();

    let second = create(&admin, &options("invites", Some(group)), &rows_in, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, second).await;
    assert_eq!(
        (done.succeeded, done.skipped, done.failed),
        (1, 2, 0),
        "{done:?}"
    );
    let skipped: Vec<(String, Option<String>)> = rows(&admin, second, "skipped")
        .await
        .rows
        .into_iter()
        .map(|r| (r.who, r.message))
        .collect();
    assert!(
        skipped
            .iter()
            .any(|(who, message)| who.contains("bob@example.com")
                && message.as_deref() == Some("Skipped: already a member.")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(who, message)| who.contains("cy@example.com")
                && message.as_deref() == Some("Skipped: already invited.")),
        "{skipped:?}"
    );
    // A row the worker passed without a word is a success by the checkpoint
    // alone (`imports::store::ROW_STATUS`): each filter and the whole list
    // read it so.
    let succeeded = rows(&admin, second, "success").await;
    assert_eq!(succeeded.total, 1);
    assert!(
        succeeded.rows[0].who.contains("ann@example.com"),
        "{:?}",
        succeeded.rows
    );
    assert_eq!(succeeded.rows[0].status, ImportRowStatus::Success);
    assert_eq!(rows(&admin, second, "pending").await.total, 0);
    assert_eq!(rows(&admin, first, "success").await.total, 3);
    let every: ImportRowsPage = admin
        .call(
            "imports/rows",
            &[("id", &second.to_string()), ("page", "1")],
        )
        .await
        .unwrap();
    let statuses: Vec<ImportRowStatus> = every.rows.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            ImportRowStatus::Success,
            ImportRowStatus::Skipped,
            ImportRowStatus::Skipped
        ]
    );
    let invitations_of = |email: &'static str| {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT group_id, status FROM invitations WHERE email = $1 ORDER BY id",
        )
        .bind(email)
        .fetch_all(server.pool())
    };
    assert_eq!(
        invitations_of("ann@example.com").await.unwrap(),
        [(group, "expired".to_owned()), (group, "pending".to_owned())]
    );
    assert_eq!(
        invitations_of("cy@example.com").await.unwrap(),
        [(other, "pending".to_owned()), (group, "pending".to_owned())]
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

on_both_backends! {
    invites_dry_run_confirm_once_and_run => invites_are_dry_run_confirmed_once_and_run;
    same_file_twice_changes_nothing => the_same_file_twice_changes_nothing_the_second_time;
    second_import_replaces_what_ran_out => a_second_import_replaces_only_what_ran_out;
    failed_rows_and_tenants => failed_rows_download_defuses_formulas_and_other_tenants_see_nothing;
    templates_from_column_specs => templates_come_from_the_engines_column_specs;
}

/// The caller's audit events of `action`, newest first.
async fn audit_of(admin: &Client, action: app::audit::AuditAction) -> Vec<app::audit::AuditEvent> {
    let page: app::audit::ActivityPage = admin
        .call(
            "audit/list",
            &[
                ("action", action.as_str()),
                ("actor", "0"),
                ("from", ""),
                ("to", ""),
                ("before", "0"),
            ],
        )
        .await
        .unwrap();
    page.events
}
