//! Undoing an import on SQLite and PostgreSQL: the dry run's counts and
//! words, the undo's result (what was acted on since stays), a second undo
//! changing nothing, an undo that survives SIGKILL, and the undo's place
//! on the import's page.

use std::time::{Duration, Instant};

use super::*;
use crate::support::{muster_process, PASSWORD};
use app::imports::{UndoPlan, UndoStatus};

pub(crate) async fn undo_dry_run(admin: &Client, id: i64) -> Result<UndoPlan, AppError> {
    admin
        .call("imports/undo_dry_run", &[("id", &id.to_string())])
        .await
}

pub(crate) async fn undo(admin: &Client, id: i64) -> Result<(), AppError> {
    admin.call("imports/undo", &[("id", &id.to_string())]).await
}

/// The import once its undo has finished.
pub(crate) async fn wait_undone(admin: &Client, id: i64) -> ImportSummary {
    for _ in 0..600 {
        let summary: ImportSummary = admin
            .call("imports/get", &[("id", &id.to_string())])
            .await
            .unwrap();
        if summary
            .undo
            .as_ref()
            .is_some_and(|u| !u.status.is_in_progress())
        {
            return summary;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the undo of import {id} did not finish in 60 s");
}

/// The person accepts their invitation, registering with a password.
pub(super) async fn accept(server: &TestApp, email: &str) {
    let token = server.emailed_token(email, "invitation%", "/invite/").await;
    let (_, location) = server
        .client()
        .post_from_emailed_page(
            &format!("/invite/{token}/respond"),
            &[
                ("intent", "register"),
                ("first_name", "Accepting"),
                ("last_name", "Learner"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location, "/?welcome", "{email} accepts");
}

/// The person sets their password through the activation email.
async fn activate(server: &TestApp, email: &str) {
    let token = server
        .emailed_token(email, "activation%", "/activate/")
        .await;
    let (status, _) = server
        .client()
        .post_from_emailed_page(
            &format!("/activate/{token}/respond"),
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert!(status < 400, "{email} activates: {status}");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1 AND password_hash IS NOT NULL",
                email
            )
            .await,
        1
    );
}

async fn group_members(server: &TestApp, group: i64) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT u.email FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE gm.group_id = $1 AND gm.status = 'active' ORDER BY u.email",
    )
    .bind(group)
    .fetch_all(server.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(e,)| e).collect()
}

async fn org_members(server: &TestApp, organization: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
         JOIN organizations o ON o.id = m.organization_id
         WHERE o.name = $1 AND m.role <> 'admin' ORDER BY u.email",
    )
    .bind(organization)
    .fetch_all(server.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(e,)| e).collect()
}

async fn invitation_statuses(server: &TestApp, import: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT email, status FROM invitations WHERE import_id = $1 ORDER BY email")
        .bind(import)
        .fetch_all(server.pool())
        .await
        .unwrap()
}

async fn undo_reverses_only_what_nobody_acted_on(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    // Lee was in the organization before: a Learners import only adds him to the group.
    let earlier = create(
        &admin,
        &options("learners", Some(admin.create_group("Autumn", "").await)),
        &payload("learners", &["Email"], &[&["lee@example.org"]]),
        KEY_B,
    )
    .await
    .unwrap();
    wait_finished(&admin, earlier).await;

    let invites = create(
        &admin,
        &options("invites", Some(group)),
        &payload(
            "invites",
            &["Email"],
            &[
                &["amy@example.org"],
                &["bo@example.org"],
                &["cy@example.org"],
                &["di@example.org"],
            ],
        ),
        KEY_A,
    )
    .await
    .unwrap();
    wait_finished(&admin, invites).await;
    accept(&server, "bo@example.org").await;

    let learners = create(
        &admin,
        &options("learners", Some(group)),
        &payload(
            "learners",
            &["Email"],
            &[
                &["xi@example.org"],
                &["yu@example.org"],
                &["zo@example.org"],
                &["lee@example.org"],
            ],
        ),
        "0f6d3c1e-aaaa-4bbb-8ccc-000000000003",
    )
    .await
    .unwrap();
    wait_finished(&admin, learners).await;
    activate(&server, "yu@example.org").await;
    let users_before = server.count_all("SELECT COUNT(*) FROM users").await;

    // The dry runs count, and say, what each undo would do and keep.
    let plan = undo_dry_run(&admin, invites).await.unwrap();
    assert_eq!((plan.invitations, plan.accepted), (3, 1));
    assert_eq!(
        (plan.group_memberships, plan.accounts, plan.activated),
        (0, 0, 0)
    );
    assert_eq!(
        plan.sentence(),
        "Cancels 3 pending invitations; keeps 1 person who already accepted."
    );
    let plan = undo_dry_run(&admin, learners).await.unwrap();
    assert_eq!(plan.invitations, 0);
    // xi, yu, zo and lee joined the group; xi and zo never used the
    // accounts it created; yu set a password; lee was a member already.
    assert_eq!(plan.group_memberships, 4);
    assert_eq!((plan.accounts, plan.activated), (2, 1));
    assert_eq!(
        plan.sentence(),
        "Removes 4 people from Spring Cohort whom this import added, deactivates 2 accounts it \
         created that were never used; keeps 1 person who has used their account since."
    );
    // A dry run changes nothing.
    assert_eq!(group_members(&server, group).await.len(), 5);

    // An import still running cannot be undone; a finished one can.
    undo(&admin, invites).await.unwrap();
    let done = wait_undone(&admin, invites).await;
    let progress = done.undo.unwrap();
    assert_eq!(progress.status, UndoStatus::Completed);
    assert_eq!(progress.invitations_cancelled, 3);
    assert_eq!(
        invitation_statuses(&server, invites).await,
        vec![
            ("amy@example.org".into(), "cancelled".into()),
            ("bo@example.org".into(), "active".into()),
            ("cy@example.org".into(), "cancelled".into()),
            ("di@example.org".into(), "cancelled".into()),
        ]
    );

    undo(&admin, learners).await.unwrap();
    let done = wait_undone(&admin, learners).await;
    let progress = done.undo.clone().unwrap();
    assert_eq!(progress.status, UndoStatus::Completed);
    assert_eq!(
        (
            progress.group_memberships_ended,
            progress.accounts_deactivated,
            progress.kept
        ),
        (4, 2, 1)
    );
    assert!(!done.can_undo());
    // Bo accepted: he stays in the group; everyone the Learners import put there leaves.
    assert_eq!(group_members(&server, group).await, vec!["bo@example.org"]);
    // xi and zo are no longer the organization's; yu (who set a password),
    // lee (a member before) and bo stay. No account is deleted.
    assert_eq!(
        org_members(&server, "Riverside").await,
        vec!["bo@example.org", "lee@example.org", "yu@example.org"]
    );
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM users").await,
        users_before
    );
    assert_eq!(
        server
            .count_all(
                "SELECT COUNT(*) FROM activation_tokens a JOIN users u ON u.id = a.user_id
                 WHERE u.email IN ('xi@example.org', 'zo@example.org') AND a.status = 'pending'"
            )
            .await,
        0,
        "their activation links no longer work"
    );
    // Lee is still in the group the earlier import put him in.
    let autumn: Vec<(String,)> = sqlx::query_as(
        "SELECT u.email FROM group_memberships gm JOIN learning_groups g ON g.id = gm.group_id
         JOIN users u ON u.id = gm.user_id WHERE g.name = 'Autumn' AND gm.status = 'active'",
    )
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(autumn, vec![("lee@example.org".to_owned(),)]);

    // Undoing twice changes nothing, not even what was done again since:
    // the admin invites amy again by hand.
    admin
        .call::<serde_json::Value>(
            "invitations/send",
            &[
                ("group_id", group.to_string().as_str()),
                ("emails", "amy@example.org"),
            ],
        )
        .await
        .unwrap();
    undo(&admin, invites).await.unwrap();
    undo(&admin, learners).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = wait_undone(&admin, learners).await;
    assert_eq!(again.undo, done.undo, "the undo ran once");
    // The activity log holds one undo per import, with what it planned.
    let undone = audit_of(&admin, app::audit::AuditAction::ImportUndone).await;
    let mut subjects: Vec<Option<i64>> = undone.iter().map(|e| e.subject_id).collect();
    subjects.sort();
    assert_eq!(subjects, vec![Some(invites), Some(learners)], "{undone:#?}");
    let learners_undo = undone
        .iter()
        .find(|e| e.subject_id == Some(learners))
        .unwrap();
    assert_eq!(learners_undo.actor_email, "ada@example.org");
    assert!(
        learners_undo.details.starts_with("Removes 4 people"),
        "{learners_undo:#?}"
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM invitations WHERE email = 'amy@example.org' AND status = 'pending'")
            .await,
        1
    );
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM import_undos").await,
        2
    );
    let plan = undo_dry_run(&admin, invites).await.unwrap();
    assert_eq!(
        plan.sentence(),
        "Nothing left to undo: keeps 1 person who already accepted."
    );
}

async fn an_unfinished_import_cannot_be_undone(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let id = create(
        &admin,
        &options("invites", Some(group)),
        &payload("invites", &["Email"], &[&["amy@example.org"]]),
        KEY_A,
    )
    .await
    .unwrap();
    let refused = undo(&admin, id).await.unwrap_err();
    assert!(
        matches!(&refused, AppError::Conflict(m) if m.contains("once it has finished")),
        "{refused:?}"
    );
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM import_undos").await,
        0
    );
    let missing = undo(&admin, id + 100).await.unwrap_err();
    assert_eq!(missing, AppError::NotFound);
}

const CRASH_ROWS: usize = 3_000;

async fn stop(mut child: tokio::process::Child) {
    child.kill().await.unwrap();
}
const KILLS: usize = 4;

/// A `muster` process that runs the workers, `batch` rows (or undo steps) a
/// transaction; a killed worker's lease runs out quickly.
fn start_worker(database_url: &str, batch: &str) -> tokio::process::Child {
    muster_process(
        database_url,
        &[
            ("MUSTER_IMPORT_BATCH_SIZE", batch),
            ("MUSTER_IMPORT_LEASE_SECONDS", "2"),
        ],
    )
}

/// An undo of an Invites and a Learners import, its server killed with
/// SIGKILL at random moments and restarted: it resumes from its checkpoint
/// and its counts equal what changed (nothing undone twice).
async fn undo_survives_sigkill(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let database_url = server.database_url.clone();
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let emails: Vec<String> = (0..CRASH_ROWS)
        .map(|i| format!("person{i}@crash.example"))
        .collect();
    let invites = admin
        .start_invites_import(group, &emails, false, "crash-undo-00000000001")
        .await;
    let learner_rows: Vec<Vec<String>> = (0..CRASH_ROWS)
        .map(|i| vec![format!("learner{i}@crash.example")])
        .collect();
    let learner_refs: Vec<Vec<&str>> = learner_rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let learner_slices: Vec<&[&str]> = learner_refs.iter().map(Vec::as_slice).collect();
    let mut learners_options = options("learners", Some(group));
    learners_options["send_emails"] = json!(false);
    let learners = create(
        &admin,
        &learners_options,
        &payload("learners", &["Email"], &learner_slices),
        "crash-undo-00000000002",
    )
    .await
    .unwrap();
    let importer = start_worker(&database_url, "500");
    wait_finished(&admin, invites).await;
    wait_finished(&admin, learners).await;
    stop(importer).await;
    let users_before = server.count_all("SELECT COUNT(*) FROM users").await;
    // Both undos wait for a worker; small batches make the undo long
    // enough to be killed several times.
    undo(&admin, invites).await.unwrap();
    undo(&admin, learners).await.unwrap();
    let mut child = start_worker(&database_url, "20");

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    println!("kill schedule seed {seed}");
    let mut kills = 0;
    let mut done_at_last_kill = 0;
    let started = Instant::now();
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(50 + seed % 300)).await;
        let a: ImportSummary = admin
            .call("imports/get", &[("id", &invites.to_string())])
            .await
            .unwrap();
        let b: ImportSummary = admin
            .call("imports/get", &[("id", &learners.to_string())])
            .await
            .unwrap();
        let (a, b) = (a.undo.unwrap(), b.undo.unwrap());
        if !a.status.is_in_progress() && !b.status.is_in_progress() {
            break;
        }
        let done = a.done() + b.done();
        if kills < KILLS && done > done_at_last_kill {
            child.kill().await.unwrap();
            kills += 1;
            done_at_last_kill = done;
            println!("SIGKILL {kills} with {done} undone");
            child = start_worker(&database_url, "20");
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no progress: {a:?} {b:?}"
        );
    }
    let _ = child.kill().await;
    assert!(kills > 0, "the undo was killed at least once");

    let a = wait_undone(&admin, invites).await.undo.unwrap();
    let b = wait_undone(&admin, learners).await.undo.unwrap();
    let n = CRASH_ROWS as i64;
    assert_eq!(
        (a.status, a.invitations_cancelled, a.kept),
        (UndoStatus::Completed, n, 0)
    );
    assert_eq!(
        (
            b.status,
            b.group_memberships_ended,
            b.accounts_deactivated,
            b.kept
        ),
        (UndoStatus::Completed, n, n, 0)
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM invitations WHERE status <> 'cancelled'")
            .await,
        0
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM group_memberships WHERE status = 'active'")
            .await,
        0
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM memberships WHERE role = 'learner'")
            .await,
        0
    );
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM users").await,
        users_before
    );
    println!(
        "{kills} kills; undone in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

on_both_backends! {
    reverses_only_what_nobody_acted_on => undo_reverses_only_what_nobody_acted_on;
    unfinished_import_refused => an_unfinished_import_cannot_be_undone;
    survives_sigkill_mid_undo => undo_survives_sigkill;
}
