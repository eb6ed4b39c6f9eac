//! A 20,000-row import with emails survives its server being killed with
//! SIGKILL at random moments: the real `muster` binary runs the import worker
//! and the mail sender as a child process, is killed and restarted a bounded
//! number of times, and the end state equals one clean run (no row, user,
//! invitation or queued email missing or twice); every person's email reaches
//! a real SMTP server on loopback at least once, and the repeats the kills
//! caused (deliveries on the wire when the process died) are counted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::support::{muster_process, smtp::SmtpSink, Backend, TestApp};
use app::imports::ImportSummary;

const ROWS: usize = 20_000;
const KILLS: usize = 4;

fn start_worker(database_url: &str, smtp_port: &str) -> tokio::process::Child {
    // A killed worker's leases run out quickly, so the restart takes over soon.
    muster_process(
        database_url,
        &[
            ("MUSTER_IMPORT_BATCH_SIZE", "500"),
            ("MUSTER_IMPORT_LEASE_SECONDS", "2"),
            ("MUSTER_MAIL_LEASE_SECONDS", "5"),
            ("MUSTER_SMTP_HOST", "127.0.0.1"),
            ("MUSTER_SMTP_PORT", smtp_port),
            ("MUSTER_SMTP_TLS", "none"),
        ],
    )
}

async fn survives_sigkill(backend: Backend) {
    // This process serves the admin's requests but neither imports nor
    // delivers: everything that can be cut short runs in the child.
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &[
            ("MUSTER_IMPORT_WORKERS", "0".to_owned()),
            ("MUSTER_MAIL_SENDER", "false".to_owned()),
        ],
    )
    .await
    else {
        return;
    };
    let sink = SmtpSink::start().await;
    let smtp_port = sink.addr.port().to_string();
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
    let mut child = start_worker(&database_url, &smtp_port);
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
            child = start_worker(&database_url, &smtp_port);
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no progress: {summary:?}"
        );
    }

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
    let imported_after = started.elapsed();

    // The last child delivers what is left, and what the killed ones had
    // claimed once their leases run out.
    loop {
        let waiting = server
            .count_all("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
            .await;
        if waiting == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{waiting} emails still not delivered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = child.kill().await;
    let mut deliveries: HashMap<String, usize> = HashMap::new();
    for message in sink.received() {
        for to in &message.rcpt_to {
            let to = to.trim_matches(['<', '>']).to_ascii_lowercase();
            if to.ends_with("@crash.example") {
                *deliveries.entry(to).or_default() += 1;
            }
        }
    }
    let missing: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}@crash.example"))
        .filter(|email| !deliveries.contains_key(email))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "never emailed, e.g. {missing:?}");
    let repeats: usize = deliveries.values().map(|n| n - 1).sum();
    println!(
        "{kills} kills; imported in {:.1} s, all {ROWS} emails delivered after {:.1} s; \
         {repeats} delivered twice or more ({:.1} per kill)",
        imported_after.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        repeats as f64 / kills.max(1) as f64
    );
    sink.stop().await;
}

on_both_backends! {
    twenty_thousand_rows_survive_sigkill => survives_sigkill;
}
