//! A 20,000-row import survives its server being killed with SIGKILL at random
//! moments: the real `muster` binary runs the worker as a child process, is
//! killed and restarted a bounded number of times, and the end state equals one
//! clean run (no row, user, invitation or email missing or twice).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use app::imports::ImportSummary;
use common::Backend;

const ROWS: usize = 20_000;
const KILLS: usize = 4;

fn start_worker(database_url: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .env("DATABASE_URL", database_url)
        .env("MUSTER_BIND", "127.0.0.1:0")
        .env("MUSTER_BASE_URL", "http://muster.test")
        .env("MUSTER_IMPORT_BATCH_SIZE", "500")
        // A killed worker's lease runs out quickly, so the restart takes over soon.
        .env("MUSTER_IMPORT_LEASE_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the muster binary starts")
}

async fn survives_sigkill(backend: Backend) {
    // This process serves the admin's requests but runs no import worker.
    let Some(server) =
        common::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    else {
        return;
    };
    let database_url = server.database_url.clone();
    let (admin, group) = common::admin_with_cohort(&server).await;
    let emails: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}@crash.example"))
        .collect();
    let id =
        common::start_invites_import(&admin, group, &emails, true, "crash-test-0000000000000001")
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
    let one = |sql: &'static str| {
        let pool = server.state.db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(one("SELECT COUNT(*) FROM invitations").await, ROWS as i64);
    assert_eq!(
        one("SELECT COUNT(DISTINCT email) FROM invitations").await,
        ROWS as i64
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'").await,
        ROWS as i64
    );
    assert_eq!(
        one("SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation'").await,
        ROWS as i64
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM import_rows WHERE status <> 'success'").await,
        0
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM outbox WHERE kind = 'import_finished'").await,
        1
    );
    println!(
        "{kills} kills; finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

on_both_backends! {
    twenty_thousand_rows_survive_sigkill => survives_sigkill;
}
