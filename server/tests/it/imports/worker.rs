//! The import worker: sharing an import between workers, cancelling, stopping after a batch, giving up after repeated failures.

use super::*;

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
    let id = invites_import(&admin, group, "learner", 3_000, KEY_A).await;
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
                while app::imports::worker::run_batch(&state.db, &config)
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

/// Cancelling a running import stops it after the current batch; what was done stays.
async fn a_running_import_stops_after_its_batch(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = invites_import(&admin, group, "p", 100, KEY_A).await;
    let config = app::imports::worker::WorkerConfig {
        batch_size: 30,
        worker_id: "test-worker".into(),
        ..Default::default()
    };
    let run = || app::imports::worker::run_batch(&server.state.db, &config);
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
        let result = app::imports::worker::run_batch(&server.state.db, &config).await;
        assert!(result.is_err(), "attempt {attempt} should fail");
    }
    assert!(!app::imports::worker::run_batch(&server.state.db, &config)
        .await
        .unwrap());
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

/// A worker asked to stop gives up its lease once its batch is done, so that
/// another worker resumes the import at once instead of after the lease.
async fn a_stopping_worker_releases_its_lease(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = invites_import(&admin, group, "p", 100, KEY_A).await;
    let stopping = app::imports::worker::WorkerConfig {
        batch_size: 40,
        worker_id: "stopping-worker".into(),
        ..Default::default()
    };
    let db = &server.state.db;
    assert!(app::imports::worker::run_batch(db, &stopping)
        .await
        .unwrap());
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
    assert!(app::imports::worker::run_batch(db, &other).await.unwrap());
    let resumed: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        (resumed.status.as_str(), resumed.processed),
        ("running", 80)
    );
}

/// On PostgreSQL a worker runs several batches of an import side by side
/// ("lanes", each its own transaction): they commit in order, and a lane
/// that fails takes every later lane with it, even one whose own work
/// succeeded, so the rows behind the checkpoint are exactly those done.
/// SQLite runs one batch at a time whatever the setting. The fault is real:
/// a trigger refuses one address's invitation.
async fn lanes_commit_in_order_and_a_failure_stops_the_later_ones(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let id = invites_import(&admin, group, "p", 50, KEY_A).await;
    let pool = &server.state.db.pool;
    let refuse = match backend {
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_p15() RETURNS trigger AS $$ BEGIN
               IF NEW.email = 'p15@example.com' THEN RAISE EXCEPTION 'refused'; END IF;
               RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_p15 BEFORE INSERT ON invitations
             FOR EACH ROW EXECUTE FUNCTION refuse_p15()",
        ],
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_p15 BEFORE INSERT ON invitations
             WHEN NEW.email = 'p15@example.com' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ],
    };
    for statement in refuse {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    let config = app::imports::worker::WorkerConfig {
        batch_size: 10,
        lanes: 3,
        worker_id: "test-worker".into(),
        ..Default::default()
    };
    let run = || app::imports::worker::run_batch(&server.state.db, &config);
    let processed = || async {
        admin
            .call::<ImportSummary>("imports/get", &[("id", &id.to_string())])
            .await
            .unwrap()
            .processed
    };
    let invitations = || server.count("SELECT COUNT(*) FROM invitations WHERE import_id = $1", id);
    match backend {
        // Rows 0–9, 10–19 (p15 fails) and 20–29 at once: the first commits;
        // the third, done but later than the failure, must not.
        Backend::Postgres => assert!(run().await.is_err()),
        Backend::Sqlite => {
            assert!(run().await.unwrap());
            assert!(run().await.is_err());
        }
    }
    assert_eq!(processed().await, 10);
    assert_eq!(invitations().await, 10);

    let allow = match backend {
        Backend::Postgres => "DROP TRIGGER refuse_p15 ON invitations",
        Backend::Sqlite => "DROP TRIGGER refuse_p15",
    };
    sqlx::query(allow).execute(pool).await.unwrap();
    assert!(run().await.unwrap());
    let expected = match backend {
        Backend::Postgres => 40,
        Backend::Sqlite => 20,
    };
    assert_eq!(processed().await, expected);
    assert_eq!(invitations().await, expected);
    while run().await.unwrap() {}
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.skipped, done.failed), (50, 0, 0));
    assert_eq!(invitations().await, 50);
    assert_eq!(
        server
            .count_all("SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation'")
            .await,
        50
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        50
    );
}

/// The worker reads a batch as a window of positions: a window whose rows
/// all failed planning is skipped, not taken for the end of the import.
async fn rows_that_failed_planning_do_not_end_the_import(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let emails: Vec<String> = (0..25)
        .map(|i| format!("not an email {i}"))
        .chain((0..5).map(|i| format!("good{i}@example.com")))
        .collect();
    let id = admin
        .start_invites_import(group, &emails, true, KEY_A)
        .await;
    let config = app::imports::worker::WorkerConfig {
        batch_size: 10,
        lanes: 2,
        worker_id: "test-worker".into(),
        ..Default::default()
    };
    while app::imports::worker::run_batch(&server.state.db, &config)
        .await
        .unwrap()
    {}
    let done = wait_finished(&admin, id).await;
    assert_eq!(done.status.as_str(), "completed_with_errors");
    assert_eq!((done.succeeded, done.skipped, done.failed), (5, 0, 25));
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM invitations WHERE import_id = $1", id)
            .await,
        5
    );
}

/// `rows` generated addresses as a queued Invites import into `group`.
async fn invites_import(admin: &Client, group: i64, prefix: &str, rows: usize, key: &str) -> i64 {
    let emails: Vec<String> = (0..rows)
        .map(|i| format!("{prefix}{i}@example.com"))
        .collect();
    admin.start_invites_import(group, &emails, true, key).await
}

/// One organization's large import does not hold another's small one behind
/// it: the batch after the small import is confirmed is the small import's,
/// and then the two take turns.
async fn a_small_import_does_not_wait_for_a_large_one(backend: Backend) {
    let Some(server) =
        TestApp::spawn_with(backend, true, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let (riverside, big_group) = server
        .admin_with_group("Riverside", "ada@example.org", "Everyone", "")
        .await;
    let big = invites_import(&riverside, big_group, "big", 1_000, KEY_A).await;
    let config = app::imports::worker::WorkerConfig {
        batch_size: 100,
        worker_id: "the-only-worker".into(),
        ..Default::default()
    };
    let run = || app::imports::worker::run_batch(&server.state.db, &config);
    assert!(run().await.unwrap());
    assert!(run().await.unwrap());

    let (hillside, small_group) = server
        .admin_with_group("Hillside", "bea@example.org", "Cohort", "")
        .await;
    let small = invites_import(&hillside, small_group, "small", 50, KEY_B).await;
    assert!(run().await.unwrap());
    let small_now: ImportSummary = hillside
        .call("imports/get", &[("id", &small.to_string())])
        .await
        .unwrap();
    let big_now: ImportSummary = riverside
        .call("imports/get", &[("id", &big.to_string())])
        .await
        .unwrap();
    assert_eq!(
        small_now.processed, 50,
        "the small import ran in the next batch"
    );
    assert_eq!(big_now.processed, 200, "the large import waited one batch");
    assert!(run().await.unwrap());
    let big_later: ImportSummary = riverside
        .call("imports/get", &[("id", &big.to_string())])
        .await
        .unwrap();
    assert_eq!(
        big_later.processed, 300,
        "then the large import had its turn"
    );
    // The small import's closing turn (it finds no rows left) comes next.
    assert!(run().await.unwrap());
    let small_done: ImportSummary = hillside
        .call("imports/get", &[("id", &small.to_string())])
        .await
        .unwrap();
    assert_eq!(small_done.status.as_str(), "completed");
}

on_both_backends! {
    small_import_does_not_wait => a_small_import_does_not_wait_for_a_large_one;
    stopping_worker_releases_lease => a_stopping_worker_releases_its_lease;
    two_workers_one_import => two_workers_never_do_a_row_twice;
    queued_import_cancelled => a_queued_import_can_be_cancelled;
    running_import_cancelled => a_running_import_stops_after_its_batch;
    repeated_failures_fail_the_import => repeated_failures_end_the_import_as_failed;
    lanes_commit_in_order => lanes_commit_in_order_and_a_failure_stops_the_later_ones;
    failed_rows_do_not_end_the_import => rows_that_failed_planning_do_not_end_the_import;
}
