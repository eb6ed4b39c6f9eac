//! Sync imports on SQLite and PostgreSQL: the dry run lists who would
//! leave; a sync below the organization's threshold runs at once; one
//! above it waits as "needs approval" through the API until approved
//! (people leave) or discarded (nothing changes), or runs at once when the
//! number of people leaving is typed; no account is ever deleted.

use super::*;
use app::imports::{ImportStatus, SyncPreview};

/// Spring Cohort with ten members (a Learners import) and ten people
/// invited (an Invites import): a group of twenty.
async fn cohort(server: &TestApp) -> (Client, i64) {
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let members: Vec<Vec<String>> = (0..10).map(|i| vec![member(i)]).collect();
    let invited: Vec<Vec<String>> = (0..10).map(|i| vec![invitee(i)]).collect();
    for (kind, rows, key) in [
        ("learners", members, "0f6d3c1e-sync-4bbb-8ccc-000000000001"),
        ("invites", invited, "0f6d3c1e-sync-4bbb-8ccc-000000000002"),
    ] {
        let id = create(&admin, &options(kind, Some(group)), &file(kind, &rows), key)
            .await
            .unwrap();
        wait_finished(&admin, id).await;
    }
    (admin, group)
}

fn member(i: usize) -> String {
    format!("member{i}@example.org")
}

fn invitee(i: usize) -> String {
    format!("invitee{i}@example.org")
}

fn file(kind: &str, rows: &[Vec<String>]) -> serde_json::Value {
    let refs: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    payload(kind, &["Email"], &slices)
}

fn sync_options(kind: &str, group: Option<i64>) -> serde_json::Value {
    let mut options = options(kind, group);
    options["sync"] = json!(true);
    options["send_emails"] = json!(false);
    options
}

async fn sync_dry_run(
    admin: &Client,
    kind: &str,
    group: Option<i64>,
    body: &serde_json::Value,
) -> SyncPreview {
    let dry: DryRun = admin
        .call_json(
            "imports/dry_run",
            &json!({ "options": sync_options(kind, group), "payload": body }),
        )
        .await
        .unwrap();
    dry.sync.expect("a sync's dry run says who would leave")
}

async fn create_sync(
    admin: &Client,
    kind: &str,
    group: Option<i64>,
    body: &serde_json::Value,
    key: &str,
    leaving_confirmed: Option<i64>,
) -> Result<i64, AppError> {
    admin
        .call_json(
            "imports/create",
            &json!({
                "options": sync_options(kind, group),
                "payload": body,
                "idempotency_key": key,
                "leaving_confirmed": leaving_confirmed,
            }),
        )
        .await
}

async fn get(admin: &Client, id: i64) -> ImportSummary {
    admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap()
}

/// (active members, pending invitations) of the group.
async fn group_state(server: &TestApp, group: i64) -> (i64, i64) {
    (
        server
            .count(
                "SELECT COUNT(*) FROM group_memberships WHERE group_id = $1 AND status = 'active'",
                group,
            )
            .await,
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE group_id = $1 AND status = 'pending'",
                group,
            )
            .await,
    )
}

async fn a_sync_below_the_threshold_runs_straight_away(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = cohort(&server).await;
    // Everyone but invitee9: one of twenty (5%) leaves.
    let mut rows: Vec<Vec<String>> = (0..10).map(|i| vec![member(i)]).collect();
    rows.extend((0..9).map(|i| vec![invitee(i)]));
    let body = file("invites", &rows);
    let preview = sync_dry_run(&admin, "invites", Some(group), &body).await;
    assert_eq!(preview.threshold_percent, 10);
    assert_eq!(preview.groups.len(), 1);
    let spring = &preview.groups[0];
    assert_eq!(
        (
            spring.size,
            spring.members_leaving,
            spring.invitations_cancelled
        ),
        (20, 0, 1)
    );
    assert_eq!(spring.leaving, vec![invitee(9)]);
    assert!(!preview.trips_guard());
    let users = server.count_all("SELECT COUNT(*) FROM users").await;

    let id = create_sync(&admin, "invites", Some(group), &body, KEY_A, None)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(done.status, ImportStatus::Completed);
    assert!(done.sync);
    assert_eq!(done.leaving, 1);
    assert_eq!(group_state(&server, group).await, (10, 9));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE email = $1 AND status = 'cancelled'",
                invitee(9).as_str()
            )
            .await,
        1
    );
    assert_eq!(server.count_all("SELECT COUNT(*) FROM users").await, users);
}

async fn a_sync_that_trips_the_guard_waits_for_approval(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = cohort(&server).await;
    let users = server.count_all("SELECT COUNT(*) FROM users").await;
    let memberships = server.count_all("SELECT COUNT(*) FROM memberships").await;
    // A Learners file with five of the members: five members leave and ten
    // invitations are cancelled, 75% of the group.
    let rows: Vec<Vec<String>> = (0..5).map(|i| vec![member(i)]).collect();
    let body = file("learners", &rows);
    let preview = sync_dry_run(&admin, "learners", Some(group), &body).await;
    assert_eq!(
        (
            preview.groups[0].members_leaving,
            preview.groups[0].invitations_cancelled
        ),
        (5, 10)
    );
    assert_eq!(preview.leaving(), 15);
    assert!(preview.trips_guard());
    assert!(
        preview.sentence().contains("15 people from Spring Cohort"),
        "{}",
        preview.sentence()
    );

    // Through the API, without the typed number, the import waits.
    let paused = create_sync(&admin, "learners", Some(group), &body, KEY_A, None)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let summary = get(&admin, paused).await;
    assert_eq!(summary.status, ImportStatus::NeedsApproval);
    assert_eq!(summary.leaving, 15);
    assert_eq!(
        group_state(&server, group).await,
        (10, 10),
        "nothing changed"
    );
    // A wrong number typed is refused, naming the right one.
    let wrong = create_sync(&admin, "learners", Some(group), &body, KEY_B, Some(14))
        .await
        .unwrap_err();
    assert!(
        matches!(&wrong, AppError::Invalid { field, message } if field == "People leaving" && message.contains("type 15")),
        "{wrong:?}"
    );

    // Discarded: it ends cancelled and nothing changes.
    let other = create_sync(
        &admin,
        "learners",
        Some(group),
        &body,
        "0f6d3c1e-sync-4bbb-8ccc-000000000009",
        None,
    )
    .await
    .unwrap();
    admin
        .call::<()>("imports/discard", &[("id", &other.to_string())])
        .await
        .unwrap();
    assert_eq!(get(&admin, other).await.status, ImportStatus::Cancelled);
    let late = admin
        .call::<()>("imports/approve", &[("id", &other.to_string())])
        .await
        .unwrap_err();
    assert!(matches!(late, AppError::Conflict(_)), "{late:?}");
    let discarded = audit_of(&admin, app::audit::AuditAction::ImportDiscarded).await;
    assert_eq!(discarded.len(), 1, "{discarded:#?}");
    assert_eq!(
        (discarded[0].subject_id, discarded[0].count),
        (Some(other), Some(15))
    );
    // Paused, it was not yet confirmed to run.
    let confirmed = audit_of(&admin, app::audit::AuditAction::ImportConfirmed).await;
    assert!(
        confirmed.iter().all(|e| e.subject_id != Some(paused)),
        "{confirmed:#?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        group_state(&server, group).await,
        (10, 10),
        "nothing changed"
    );

    // Approved: it runs, and the people the file does not name leave.
    admin
        .call::<()>("imports/approve", &[("id", &paused.to_string())])
        .await
        .unwrap();
    let done = wait_finished(&admin, paused).await;
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!(group_state(&server, group).await, (5, 0));
    let approved = audit_of(&admin, app::audit::AuditAction::ImportApproved).await;
    assert_eq!(approved.len(), 1, "{approved:#?}");
    assert_eq!(
        (approved[0].subject_id, approved[0].count),
        (Some(paused), Some(15))
    );
    let confirmed = audit_of(&admin, app::audit::AuditAction::ImportConfirmed).await;
    assert!(
        confirmed.iter().any(|e| e.subject_id == Some(paused)),
        "{confirmed:#?}"
    );
    // Leaving a group never deletes an account or the organization's record.
    assert_eq!(server.count_all("SELECT COUNT(*) FROM users").await, users);
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM memberships").await,
        memberships
    );
}

async fn the_typed_number_runs_a_big_sync_at_once(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = cohort(&server).await;
    // Group members: each row names its groups; Spring Cohort is synced.
    let body = payload(
        "group-members",
        &["Email", "Groups"],
        &[&[&member(0), "Spring Cohort"]],
    );
    let preview = sync_dry_run(&admin, "group-members", None, &body).await;
    assert_eq!(preview.leaving(), 19);
    let id = create_sync(&admin, "group-members", None, &body, KEY_A, Some(19))
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!(group_state(&server, group).await, (1, 0));
}

async fn the_threshold_is_the_organizations(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = cohort(&server).await;
    let invalid = admin
        .call::<()>("imports/set_sync_guard", &[("percent", "101")])
        .await
        .unwrap_err();
    assert!(
        matches!(&invalid, AppError::Invalid { field, .. } if field == "Sync guard"),
        "{invalid:?}"
    );
    admin
        .call::<()>("imports/set_sync_guard", &[("percent", "80")])
        .await
        .unwrap();
    let guard: i64 = admin.call("imports/sync_guard", &[]).await.unwrap();
    assert_eq!(guard, 80);
    // Recorded once, in words; saving the same value again records nothing.
    admin
        .call::<()>("imports/set_sync_guard", &[("percent", "80")])
        .await
        .unwrap();
    let changed = audit_of(&admin, app::audit::AuditAction::SyncGuardChanged).await;
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].details, "from 10% to 80%");
    // 15 of 20 leave: 75%, within this organization's 80%.
    let body = file(
        "learners",
        &(0..5).map(|i| vec![member(i)]).collect::<Vec<_>>(),
    );
    let preview = sync_dry_run(&admin, "learners", Some(group), &body).await;
    assert_eq!((preview.leaving(), preview.threshold_percent), (15, 80));
    assert!(!preview.trips_guard());
    let id = create_sync(&admin, "learners", Some(group), &body, KEY_A, None)
        .await
        .unwrap();
    assert_eq!(
        wait_finished(&admin, id).await.status,
        ImportStatus::Completed
    );
    assert_eq!(group_state(&server, group).await, (5, 0));
}

/// A People file names no group: it is everyone, so people it does not
/// name leave every group of the organization; nobody's account or
/// organization record goes.
async fn a_people_sync_covers_every_group(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, spring) = cohort(&server).await;
    let autumn: i64 = admin
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
    let autumn_rows: Vec<Vec<String>> = vec![vec![member(0)], vec!["lee@example.org".into()]];
    let id = create(
        &admin,
        &options("learners", Some(autumn)),
        &file("learners", &autumn_rows),
        "0f6d3c1e-sync-4bbb-8ccc-000000000031",
    )
    .await
    .unwrap();
    wait_finished(&admin, id).await;
    assert_eq!(group_state(&server, autumn).await, (2, 0));
    let users = server.count_all("SELECT COUNT(*) FROM users").await;
    let memberships = server.count_all("SELECT COUNT(*) FROM memberships").await;

    // The file names the ten members and the first five invitees; not lee.
    let mut everyone: Vec<String> = (0..10).map(member).collect();
    everyone.extend((0..5).map(invitee));
    let rows: Vec<Vec<&str>> = everyone
        .iter()
        .map(|email| vec![email.as_str(), "Sam", "Lee", "student"])
        .collect();
    let slices: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let body = payload(
        "people",
        &["Email", "First Name", "Last Name", "Role"],
        &slices,
    );
    let preview = sync_dry_run(&admin, "people", None, &body).await;
    let mut covered: Vec<(String, i64, i64)> = preview
        .groups
        .iter()
        .map(|g| {
            (
                g.group_name.clone(),
                g.members_leaving,
                g.invitations_cancelled,
            )
        })
        .collect();
    covered.sort();
    assert_eq!(
        covered,
        vec![("Autumn".into(), 1, 0), ("Spring Cohort".into(), 0, 5)],
        "{preview:#?}"
    );
    assert_eq!(preview.leaving(), 6);
    // Spring loses 5 of 20 (25%), over the default 10%: the typed number runs it.
    let id = create_sync(&admin, "people", None, &body, KEY_A, Some(6))
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!(group_state(&server, spring).await, (10, 5));
    assert_eq!(group_state(&server, autumn).await, (1, 0));
    // The file's new people were added; nobody was taken away.
    assert!(server.count_all("SELECT COUNT(*) FROM users").await >= users);
    assert!(server.count_all("SELECT COUNT(*) FROM memberships").await >= memberships);
    assert_eq!(
        server
            .count_all(
                "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE u.email = 'lee@example.org'"
            )
            .await,
        1,
        "lee is still the organization's; he left Autumn only"
    );
}

on_both_backends! {
    below_the_threshold_runs_at_once => a_sync_below_the_threshold_runs_straight_away;
    tripping_the_guard_waits_for_approval => a_sync_that_trips_the_guard_waits_for_approval;
    typed_number_runs_at_once => the_typed_number_runs_a_big_sync_at_once;
    threshold_per_organization => the_threshold_is_the_organizations;
    people_sync_covers_every_group => a_people_sync_covers_every_group;
}
