//! A 20,000-row import survives its server being killed with SIGKILL at random
//! moments: the real `muster` binary runs the worker as a child process, is
//! killed and restarted a bounded number of times, and the end state equals one
//! clean run (no row, user, invitation or email missing or twice).

use std::time::{Duration, Instant};

use crate::support::{muster_process, Backend, TestApp};
use app::imports::ImportSummary;

const ROWS: usize = 20_000;
const KILLS: usize = 4;

fn start_worker(database_url: &str) -> tokio::process::Child {
    // A killed worker's lease runs out quickly, so the restart takes over soon.
    muster_process(
        database_url,
        &[
            ("MUSTER_IMPORT_BATCH_SIZE", "500"),
            ("MUSTER_IMPORT_LEASE_SECONDS", "2"),
        ],
    )
}

async fn survives_sigkill(backend: Backend) {
    // This process serves the admin's requests but runs no import worker.
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let database_url = server.database_url.clone();
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let emails: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}@crash.example"))
        .collect();
    let id = admin
        .start_invites_import(group, &emails, true, "crash-test-0000000000000001")
        .await;

    // Kill at pseudo-random moments (seeded by the clock; the seed is printed).
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    println!("kill schedule seed {seed}");
    let mut kills = 0;
    // Each kill comes after the restarted process has made progress of its own.
    let mut processed_at_last_kill = 0;
    let started = Instant::now();
    let mut child = start_worker(&database_url);
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_millis(300 + seed % 1_500);
        tokio::time::sleep(wait).await;
        let summary: ImportSummary = admin
            .call("imports/get", &[("id", &id.to_string())])
            .await
            .unwrap();
        if summary.is_finished() {
            break;
        }
        if kills < KILLS && summary.processed > processed_at_last_kill {
            child.kill().await.unwrap();
            kills += 1;
            processed_at_last_kill = summary.processed;
            println!("SIGKILL {kills} at {} of {ROWS} rows", summary.processed);
            child = start_worker(&database_url);
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no progress: {summary:?}"
        );
    }
    let _ = child.kill().await;

    let summary: ImportSummary = admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(summary.status.as_str(), "completed");
    assert_eq!(
        (summary.succeeded, summary.skipped, summary.failed),
        (ROWS as i64, 0, 0)
    );
    server.assert_invites_import_done_once(ROWS as i64).await;
    println!(
        "{kills} kills; finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

on_both_backends! {
    twenty_thousand_rows_survive_sigkill => survives_sigkill;
}
