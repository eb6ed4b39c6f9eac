//! Remembered column mappings: an import confirmed with a header mapped by
//! hand is remembered for its organization, kind and header row; a second
//! file with the same headers (as headers compare) maps the same way on the
//! server without any header choice; forgetting ends it; another
//! organization neither sees nor uses it.

use super::*;
use app::mappings::RememberedMapping;
use muster_core::{mapping::ColumnOverride, FieldId};

/// "Addr" matches no field of an Invites import: mapped automatically, the
/// file has no Email column.
const HEADERS: [&str; 2] = ["Addr", "Expiry Days"];

fn with_email_override(mut payload: serde_json::Value) -> serde_json::Value {
    payload["sheets"][0]["overrides"] =
        json!({ "columns": { "0": { "action": "field", "field": "email" } } });
    payload
}

async fn lookup(
    admin: &Client,
    kind: &str,
    headers: &[&str],
) -> Result<Option<RememberedMapping>, AppError> {
    admin
        .call_json(
            "mappings/lookup",
            &json!({ "kind": kind, "headers": headers }),
        )
        .await
}

async fn forget(admin: &Client, id: i64) -> Result<(), AppError> {
    admin
        .call("mappings/forget", &[("id", &id.to_string())])
        .await
}

async fn dry_run(
    admin: &Client,
    group: i64,
    payload: &serde_json::Value,
) -> Result<DryRun, AppError> {
    admin
        .call_json(
            "imports/dry_run",
            &json!({ "options": options("invites", Some(group)), "payload": payload }),
        )
        .await
}

/// Uploads a pasted list with [`HEADERS`] as the no-JavaScript form does:
/// the status and where it leads.
async fn upload(admin: &Client, group: i64, email: &str) -> (u16, String) {
    let group = group.to_string();
    let paste = format!("{}\n{email},\n", HEADERS.join(","));
    let (status, headers, _) = admin
        .post_multipart(
            "/admin/imports/upload",
            &[
                ("kind", "invites"),
                ("group_id", &group),
                ("send_emails", "on"),
                ("paste", &paste),
            ],
        )
        .await;
    let location = headers
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status.as_u16(), location)
}

fn missing_email(result: &Result<impl std::fmt::Debug, AppError>) -> bool {
    matches!(result, Err(AppError::Invalid { message, .. }) if message.contains("\"Email\" is missing"))
}

async fn a_mapping_changed_by_hand_is_remembered_for_the_same_headers(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "").await;
    let first = payload("invites", &HEADERS, &[&["ann@example.com", ""]]);
    assert_eq!(lookup(&admin, "invites", &HEADERS).await, Ok(None));
    let unmapped = dry_run(&admin, group, &first).await;
    assert!(missing_email(&unmapped), "{unmapped:?}");

    let import = create(
        &admin,
        &options("invites", Some(group)),
        &with_email_override(first),
        KEY_A,
    )
    .await
    .unwrap();
    wait_finished(&admin, import).await;
    let remembered = lookup(&admin, "invites", &HEADERS)
        .await
        .unwrap()
        .expect("remembered");
    assert_eq!(
        remembered.overrides.columns.get(&0),
        Some(&ColumnOverride::Field(FieldId::Email))
    );
    assert_eq!(
        remembered.overrides.columns.get(&1),
        Some(&ColumnOverride::Field(FieldId::ExpiryDays))
    );
    assert_eq!(
        (remembered.source_name.as_str(), remembered.import_id),
        ("roster.csv", Some(import))
    );
    assert!(
        remembered.note().ends_with("(file roster.csv)"),
        "{}",
        remembered.note()
    );
    // The same headers as headers compare; another row or kind is another file.
    assert_eq!(
        lookup(&admin, "invites", &["ADDR", "expiry_days"]).await,
        Ok(Some(remembered.clone()))
    );
    for (kind, headers) in [
        ("invites", &["Addr"][..]),
        ("invites", &["Expiry Days", "Addr"][..]),
        ("group-members", &HEADERS[..]),
    ] {
        assert_eq!(
            lookup(&admin, kind, headers).await,
            Ok(None),
            "{kind} {headers:?}"
        );
    }

    // The next file with these headers, sent with no header choice at all,
    // maps the same way on the server.
    let second = payload("invites", &HEADERS, &[&["bob@example.com", "5"]]);
    let dry = dry_run(&admin, group, &second).await.unwrap();
    assert_eq!(dry.will, vec![Will::Invite]);
    let import_b = create(&admin, &options("invites", Some(group)), &second, KEY_B)
        .await
        .unwrap();
    let summary = wait_finished(&admin, import_b).await;
    assert_eq!((summary.succeeded, summary.failed), (1, 0));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE email = $1 AND status = 'pending'",
                "bob@example.com"
            )
            .await,
        1
    );
    assert_eq!(
        lookup(&admin, "invites", &HEADERS).await,
        Ok(Some(remembered.clone())),
        "kept as it was, from the first import"
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM remembered_mappings")
            .await,
        1
    );

    // So does a file uploaded without JavaScript (no header editor there).
    let (status, location) = upload(&admin, group, "zed@example.com").await;
    assert!(
        location.starts_with("/admin/imports/") && !location.contains("error"),
        "{status} {location}"
    );

    // Another organization neither sees, forgets nor uses it.
    let other = server.admin("Hillside", "bea@example.org").await;
    let other_group = other.create_group("Hillside Cohort", "").await;
    assert_eq!(lookup(&other, "invites", &HEADERS).await, Ok(None));
    assert_eq!(forget(&other, remembered.id).await, Err(AppError::NotFound));
    let theirs = dry_run(
        &other,
        other_group,
        &payload("invites", &HEADERS, &[&["cy@example.com", ""]]),
    )
    .await;
    assert!(missing_email(&theirs), "{theirs:?}");
    assert!(lookup(&admin, "invites", &HEADERS).await.unwrap().is_some());

    // Forgotten: the headers map automatically again (and the activity log says so).
    forget(&admin, remembered.id).await.unwrap();
    let (subject, details): (Option<i64>, String) = sqlx::query_as(
        "SELECT subject_id, details FROM audit_events WHERE action = 'mapping_forgotten'",
    )
    .fetch_one(server.pool())
    .await
    .unwrap();
    assert_eq!(subject, Some(import));
    assert_eq!(
        details,
        "Files with the headers \"Addr\", \"Expiry Days\" map automatically again."
    );
    assert_eq!(lookup(&admin, "invites", &HEADERS).await, Ok(None));
    assert_eq!(forget(&admin, remembered.id).await, Err(AppError::NotFound));
    let third = dry_run(
        &admin,
        group,
        &payload("invites", &HEADERS, &[&["dee@example.com", ""]]),
    )
    .await;
    assert!(missing_email(&third), "{third:?}");
    let (_, location) = upload(&admin, group, "zed@example.com").await;
    assert!(
        location.starts_with("/admin/imports/new?error="),
        "{location}"
    );
}

async fn mapping_back_to_the_automatic_mapping_forgets(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "").await;
    // "Email" maps by itself; the admin ignores "Expiry Days" by hand.
    let headers = ["Email", "Expiry Days"];
    let mut ignoring = payload("invites", &headers, &[&["ann@example.com", "3"]]);
    ignoring["sheets"][0]["overrides"] = json!({ "columns": { "1": { "action": "ignore" } } });
    let import = create(&admin, &options("invites", Some(group)), &ignoring, KEY_A)
        .await
        .unwrap();
    wait_finished(&admin, import).await;
    let remembered = lookup(&admin, "invites", &headers).await.unwrap().unwrap();
    assert_eq!(
        remembered.overrides.columns.get(&1),
        Some(&ColumnOverride::Ignore)
    );
    // Mapped by hand the way it maps automatically: nothing left to remember.
    let mut automatic = payload("invites", &headers, &[&["bob@example.com", "3"]]);
    automatic["sheets"][0]["overrides"] = json!({ "columns": {
        "0": { "action": "field", "field": "email" },
        "1": { "action": "field", "field": "expiry_days" },
    } });
    let import = create(&admin, &options("invites", Some(group)), &automatic, KEY_B)
        .await
        .unwrap();
    wait_finished(&admin, import).await;
    assert_eq!(lookup(&admin, "invites", &headers).await, Ok(None));
}

on_both_backends! {
    remembered_for_the_same_headers => a_mapping_changed_by_hand_is_remembered_for_the_same_headers;
    mapped_back_forgets => mapping_back_to_the_automatic_mapping_forgets;
}
