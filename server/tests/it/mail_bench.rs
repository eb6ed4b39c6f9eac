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
    let sender = Sender::new(db.clone(), config, crate::support::BASE_URL).unwrap();
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

/// Median time of `rounds` claims of a 100-row batch from what the outbox
/// holds now (each claim's rows are released again before the next).
async fn claim_median(db: &app::db::Db, rounds: usize) -> Duration {
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let now = app::state::now();
        let started = Instant::now();
        let claimed = app::mail::store::claim_due(db, "bench", now, now + 300, 100)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(claimed.len(), 100);
        sqlx::query(
            "UPDATE outbox SET locked_until = NULL, lease_owner = NULL WHERE status = 'queued'",
        )
        .execute(&db.pool)
        .await
        .unwrap();
    }
    times.sort();
    times[rounds / 2]
}

/// #16 item 7: a claim costs the same with a million sent rows in the
/// outbox as with none, thanks to the partial index over queued rows; the
/// same table without that index shows what it cost before.
async fn claims_with_a_million_sent_rows(backend: Backend) {
    const SENT: i64 = 1_000_000;
    let (Some(empty_url), Some(full_url)) =
        (fresh_database(backend).await, fresh_database(backend).await)
    else {
        return;
    };
    let empty = app::db::Db::connect(&empty_url).await.unwrap();
    let full = app::db::Db::connect(&full_url).await.unwrap();
    let columns =
        "organization_id, to_email, subject, text_body, html_body, kind, status, attempts,
                   next_attempt_at, delivered_to_dev_mailbox, created_at, sent_at";
    let values =
        "NULL, 'sent' || i || '@example.org', 's', 't', 'h', 'invitation', 'sent', 1, 0, 0, 0, 0";
    let fill = match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SENT})
             INSERT INTO outbox ({columns}) SELECT {values} FROM n"
        ),
        Backend::Postgres => format!(
            "INSERT INTO outbox ({columns}) SELECT {values} FROM generate_series(1, {SENT}) AS i"
        ),
    };
    let started = Instant::now();
    sqlx::query(&fill).execute(&full.pool).await.unwrap();
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE outbox")
            .execute(&full.pool)
            .await
            .unwrap();
    }
    let filled = started.elapsed();
    queue_invitation_emails(&empty, 100).await;
    queue_invitation_emails(&full, 100).await;
    let rounds = 21;
    let fresh = claim_median(&empty, rounds).await;
    let with_index = claim_median(&full, rounds).await;
    sqlx::query("DROP INDEX outbox_queued")
        .execute(&full.pool)
        .await
        .unwrap();
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE outbox")
            .execute(&full.pool)
            .await
            .unwrap();
    }
    let without_index = claim_median(&full, rounds).await;
    // A backlog: 100,000 queued rows due at once, as after a large import.
    const QUEUED: i64 = 100_000;
    let backlog = fill
        .replace("'sent', 1, 0, 0, 0, 0", "'queued', 0, 0, 0, 0, NULL")
        .replace(&SENT.to_string(), &QUEUED.to_string())
        .replace("'sent' ||", "'queued' ||");
    sqlx::query(&backlog).execute(&full.pool).await.unwrap();
    let analyze = |db: &app::db::Db| {
        let pool = db.pool.clone();
        async move {
            if backend == Backend::Postgres {
                sqlx::query("ANALYZE outbox").execute(&pool).await.unwrap();
            }
        }
    };
    analyze(&full).await;
    let backlog_without = claim_median(&full, rounds).await;
    sqlx::query("CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued'")
        .execute(&full.pool)
        .await
        .unwrap();
    analyze(&full).await;
    let backlog_with = claim_median(&full, rounds).await;
    println!(
        "{backend:?}: with {QUEUED} queued rows due as well: {:.2} ms with the partial index, {:.2} ms without ({:.1}x)",
        backlog_with.as_secs_f64() * 1e3,
        backlog_without.as_secs_f64() * 1e3,
        backlog_without.as_secs_f64() / backlog_with.as_secs_f64(),
    );
    println!(
        "{backend:?}: a 100-row claim, median of {rounds}: {:.2} ms with no sent rows; with {SENT} sent rows (filled in {:.1} s) {:.2} ms ({:.2}x), and {:.2} ms ({:.1}x) without the partial index",
        fresh.as_secs_f64() * 1e3,
        filled.as_secs_f64(),
        with_index.as_secs_f64() * 1e3,
        with_index.as_secs_f64() / fresh.as_secs_f64(),
        without_index.as_secs_f64() * 1e3,
        without_index.as_secs_f64() / fresh.as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn claim_with_a_million_sent_sqlite() {
    claims_with_a_million_sent_rows(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn claim_with_a_million_sent_postgres() {
    claims_with_a_million_sent_rows(Backend::Postgres).await;
}
