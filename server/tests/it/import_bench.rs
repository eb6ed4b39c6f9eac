//! Benchmark (ignored by default): 100,000 Invites rows imported end to end by
//! the worker, against a raw multi-row insert of the same rows into a plain
//! table of the same database, in the same run. Prints rows/s and the ratio.
//!
//! cargo test --release -p server --test import_bench -- --ignored --nocapture --test-threads 1

use std::time::Instant;

use crate::support::{Backend, TestApp};
use app::db::{Bind, Bulk};
use app::imports::worker::{run_batch, WorkerConfig};
use serde_json::json;

const ROWS: usize = 100_000;
const BATCH: usize = 2_000;

async fn bench(backend: Backend, send_emails: bool) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let emails: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}@bench.example"))
        .collect();
    let confirm = Instant::now();
    let id = admin
        .start_invites_import(group, &emails, send_emails, "bench-0000000000000000001")
        .await;
    let confirm_secs = confirm.elapsed().as_secs_f64();
    let config = WorkerConfig {
        batch_size: BATCH as i64,
        ..Default::default()
    };
    let started = Instant::now();
    while run_batch(&server.state.db, &config).await.unwrap() {}
    let import_secs = started.elapsed().as_secs_f64();
    let (done,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM invitations WHERE import_id = $1")
        .bind(id)
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    assert_eq!(done, ROWS as i64);

    // Baseline: the same rows, same batch size, one multi-row insert per batch.
    sqlx::query(
        "CREATE TABLE bench_raw (id BIGINT, email TEXT NOT NULL, token_hash TEXT NOT NULL,
                                 status TEXT NOT NULL, expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL)",
    )
    .execute(&server.state.db.pool)
    .await
    .unwrap();
    // Two ways to send rows: a VALUES list with a bind per cell, and one JSON
    // parameter per statement (what the import uses); the faster is the baseline.
    let started = Instant::now();
    for (b, chunk) in emails.chunks(BATCH).enumerate() {
        let mut tx = server.state.db.pool.begin().await.unwrap();
        for (c, part) in chunk.chunks(500).enumerate() {
            let mut insert = Bulk::new(
                "INSERT INTO bench_raw (id, email, token_hash, status, expires_at, created_at) VALUES ",
            );
            for (i, email) in part.iter().enumerate() {
                let n = (b * BATCH + c * 500 + i) as i64;
                insert.row(vec![
                    Bind::from(n),
                    Bind::from(email.as_str()),
                    Bind::from(format!("{n:064x}")),
                    Bind::from("pending"),
                    Bind::from(n),
                    Bind::from(n),
                ]);
            }
            insert.query().execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let values_secs = started.elapsed().as_secs_f64();
    sqlx::query("DELETE FROM bench_raw")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    use app::db::JsonColumn::{Int, Text};
    let select = server
        .state
        .db
        .select_json_rows(1, &[Int, Text, Text, Text, Int, Int]);
    let insert = format!(
        "INSERT INTO bench_raw (id, email, token_hash, status, expires_at, created_at) {select}"
    );
    let started = Instant::now();
    for (b, chunk) in emails.chunks(BATCH).enumerate() {
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, email)| {
                let n = (b * BATCH + i) as i64;
                json!([n, email, format!("{n:064x}"), "pending", n, n])
            })
            .collect();
        sqlx::query(&insert)
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&server.state.db.pool)
            .await
            .unwrap();
    }
    let json_secs = started.elapsed().as_secs_f64();
    let raw_secs = values_secs.min(json_secs);
    let rate = |secs: f64| ROWS as f64 / secs;
    println!(
        "{backend:?}, emails {}: confirm (check + plan + store rows) {:.0} rows/s; import {:.0} rows/s; \
         raw bulk insert {:.0} rows/s (VALUES {:.0}, one JSON parameter {:.0}); \
         import takes {:.2}x the raw insert",
        if send_emails { "on" } else { "off" },
        rate(confirm_secs),
        rate(import_secs),
        rate(raw_secs),
        rate(values_secs),
        rate(json_secs),
        import_secs / raw_secs,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn import_100k_invites_against_raw_insert() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for send_emails in [false, true] {
            bench(backend, send_emails).await;
        }
    }
}
