//! Benchmark (ignored by default): does a flood of password posts to made-up
//! activation links slow an import or the pages? The real `muster` binary
//! imports 100,000 Invites rows alone, then while 200 requests a second
//! post `/activate/{random}/respond` with a valid-looking password, and
//! `GET /login` is timed every 20 ms throughout, then alone again; each run on
//! a fresh database and process. Prints rows/s, the ratio and
//! the page's p50/p99. The flood comes from a new address each time through a
//! trusted proxy (`X-Forwarded-For`), so no per-client limit stops it: every
//! post costs the server its parsing and the link's lookup (a made-up link is
//! counted nowhere; see the README's "Rate limits").
//!
//! cargo test --release -p server --test it abuse_bench -- --ignored --nocapture --test-threads 1

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::support::{fresh_database, muster_serving, Backend, Client};

const ROWS: usize = 100_000;
const FLOOD_PER_SECOND: u64 = 200;

async fn import_status(pool: &sqlx::AnyPool, id: i64) -> String {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM imports WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    status
}

/// Imports `ROWS` new addresses and returns rows per second, from the
/// confirmation's answer to the import's end.
async fn timed_import(admin: &Client, pool: &sqlx::AnyPool, group: i64, run: usize) -> f64 {
    let emails: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}.run{run}@bench.example"))
        .collect();
    let id = admin
        .start_invites_import(group, &emails, false, &format!("bench-abuse-{run:016}"))
        .await;
    let started = Instant::now();
    loop {
        let status = import_status(pool, id).await;
        if status == "completed" {
            break;
        }
        assert!(
            matches!(status.as_str(), "queued" | "running"),
            "import ended {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ROWS as f64 / started.elapsed().as_secs_f64()
}

/// Posts to made-up activation links at `FLOOD_PER_SECOND` until `stop`;
/// counts the answers by status.
fn flood(
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<[u64; 4]> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // 3xx (refused: the link does not work), 429, other, transport error.
        let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / FLOOD_PER_SECOND));
        let mut n: u64 = 0;
        let mut inflight = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let token = format!("{:064x}", rand_u128(n));
            let forwarded = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
            let request = http
                .post(format!("{base}/activate/{token}/respond"))
                .header("Origin", "null")
                .header("Sec-Fetch-Site", "same-origin")
                .header("X-Forwarded-For", forwarded)
                .form(&[
                    ("password", "Tr0ub4dor&3 horse battery"),
                    ("password_confirmation", "Tr0ub4dor&3 horse battery"),
                ]);
            let counts = counts.clone();
            inflight.push(tokio::spawn(async move {
                let slot = match request.send().await {
                    Ok(answer) if answer.status().is_redirection() => 0,
                    Ok(answer) if answer.status().as_u16() == 429 => 1,
                    Ok(_) => 2,
                    Err(_) => 3,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
            }));
            inflight.retain(|task| !task.is_finished());
        }
        for task in inflight {
            let _ = task.await;
        }
        std::array::from_fn(|i| counts[i].load(Ordering::Relaxed))
    })
}

fn rand_u128(n: u64) -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(n);
    (u128::from(hasher.finish()) << 64) | u128::from(n)
}

/// Times `GET /login` every 20 ms until `stop`; the latencies, sorted.
fn probe(
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Duration>> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut latencies = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let answer = http.get(format!("{base}/login")).send().await.unwrap();
            assert!(answer.status().is_success());
            answer.bytes().await.unwrap();
            latencies.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.sort();
        latencies
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(at)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// One 100,000-row import on a fresh database and server process (so every
/// run meets empty tables), with or without the flood; its rows/s, the
/// `GET /login` latencies, and the flood's answers.
async fn run(backend: Backend, flooded: bool) -> Option<(f64, Vec<Duration>, [u64; 4], f64, i64)> {
    let database_url = fresh_database(backend).await?;
    let (_server, base) = muster_serving(
        &database_url,
        &[
            ("MUSTER_TRUSTED_PROXIES", "127.0.0.1"),
            ("MUSTER_IMPORT_BATCH_SIZE", "1000"),
        ],
    )
    .await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database_url).await.unwrap();
    let admin = Client::new(&base);
    admin
        .create_org("Riverside", "ada@example.org")
        .await
        .unwrap();
    let group = admin.create_group("Cohort", "").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = flooded.then(|| flood(base.clone(), stop.clone()));
    let probing = probe(base.clone(), stop.clone());
    let started = Instant::now();
    let rate = timed_import(&admin, &pool, group, 1).await;
    stop.store(true, Ordering::Relaxed);
    let latencies = probing.await.unwrap();
    let counts = match flooding {
        Some(flooding) => flooding.await.unwrap(),
        None => [0; 4],
    };
    let secs = started.elapsed().as_secs_f64();
    let (rate_limit_rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rate_limits")
        .fetch_one(&pool)
        .await
        .unwrap();
    Some((rate, latencies, counts, secs, rate_limit_rows))
}

async fn bench(backend: Backend) {
    let Some((before, quiet, ..)) = run(backend, false).await else {
        return;
    };
    let (flooded, busy, counts, flood_secs, rate_limit_rows) = run(backend, true).await.unwrap();
    let (after, ..) = run(backend, false).await.unwrap();
    let alone = (before + after) / 2.0;
    let [refused, limited, other, failed] = counts;
    let sent = refused + limited + other + failed;
    println!(
        "{backend:?}: import alone {before:.0} rows/s (before), {after:.0} (after); \
         under {FLOOD_PER_SECOND} posts/s {flooded:.0} rows/s ({:.0}% of alone; goal: at least 80%)",
        flooded / alone * 100.0
    );
    println!(
        "{backend:?}: flood {sent} posts in {flood_secs:.1} s ({:.0}/s): {refused} refused (link not valid), \
         {limited} 429, {other} other, {failed} transport errors; rate_limits rows afterwards: {rate_limit_rows}",
        sent as f64 / flood_secs,
    );
    println!(
        "{backend:?}: GET /login while importing alone: p50 {:.1} ms, p99 {:.1} ms ({} samples); \
         under the flood: p50 {:.1} ms, p99 {:.1} ms ({} samples; goal: p99 under 100 ms)",
        percentile(&quiet, 0.5),
        percentile(&quiet, 0.99),
        quiet.len(),
        percentile(&busy, 0.5),
        percentile(&busy, 0.99),
        busy.len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn abuse_bench_activation_flood_during_import() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        bench(backend).await;
    }
}
