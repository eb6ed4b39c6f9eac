//! Benchmark (ignored by default): drain 10,000 queued messages to an SMTP
//! server on loopback with the throttle off, and print messages per second.
//!
//! ```sh
//! cargo test --release -p server --test mail_bench -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use crate::support::{
    fresh_database,
    smtp::{queue_invitation_emails, SmtpSink},
    Backend,
};
use server::mail::Sender;

const MESSAGES: usize = 10_000;

async fn drain(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = app::db::Db::connect(&url).await.unwrap();
    queue_invitation_emails(&db, MESSAGES).await;

    let sink = SmtpSink::start().await;
    let mut config = sink.mail_config();
    config.per_minute = 0;
    let (batch, concurrency) = (config.batch, config.concurrency);
    let sender = Sender::new(db.clone(), config).unwrap();
    let started = Instant::now();
    let mut handled = 0;
    while handled < MESSAGES {
        let n = sender.run_once().await.unwrap();
        assert!(n > 0, "rows left unclaimed after {handled}");
        handled += n;
    }
    let elapsed = started.elapsed();
    let (sent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(sent, MESSAGES as i64);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let received = sink.received();
    assert_eq!(received.len(), MESSAGES);
    let mut ids: Vec<String> = received
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), MESSAGES, "every message once");
    println!(
        "{backend:?}: drained {MESSAGES} messages to loopback SMTP in {:.2} s = {:.0} messages/s (batch {batch}, {concurrency} connections, throttle off)",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn drain_10k_sqlite() {
    drain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn drain_10k_postgres() {
    drain(Backend::Postgres).await;
}
