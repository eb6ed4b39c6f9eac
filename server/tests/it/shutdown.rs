//! Stopping gracefully: on SIGTERM the real `muster` binary stops accepting
//! requests, finishes or releases the import batch and the emails it holds, and
//! exits 0 promptly; another process resumes the import at once (not when a
//! lease runs out) and the end state equals one clean run.

use std::time::{Duration, Instant};

use app::imports::ImportSummary;

use std::sync::Arc;

use app::state::Shutdown;
use server::mail::Sender;

use crate::support::{
    eventually, fresh_database, muster_process,
    smtp::{queue_invitation_emails, SmtpSink},
    Backend, TestApp,
};

const ROWS: usize = 10_000;

/// Long enough that resuming before it runs out proves the lease was released.
const LEASE_SECONDS: &str = "600";

fn start_worker(database_url: &str) -> tokio::process::Child {
    muster_process(
        database_url,
        &[
            ("MUSTER_IMPORT_BATCH_SIZE", "500"),
            ("MUSTER_IMPORT_LEASE_SECONDS", LEASE_SECONDS),
        ],
    )
}

fn terminate(child: &tokio::process::Child) {
    let pid = child.id().expect("the child is running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

async fn summary(admin: &crate::support::Client, id: i64) -> ImportSummary {
    admin
        .call("imports/get", &[("id", &id.to_string())])
        .await
        .unwrap()
}

async fn sigterm_releases_the_import(backend: Backend) {
    // This process serves the admin's requests but runs no import worker.
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let emails: Vec<String> = (0..ROWS)
        .map(|i| format!("person{i}@stop.example"))
        .collect();
    let id = admin
        .start_invites_import(group, &emails, true, "stop-test-00000000000000001")
        .await;

    let mut first = start_worker(&server.database_url);
    let deadline = Instant::now() + Duration::from_secs(120);
    while summary(&admin, id).await.processed == 0 {
        assert!(Instant::now() < deadline, "the worker never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    terminate(&first);
    let stopping = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(30), first.wait())
        .await
        .expect("muster exits within 30 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "muster exits 0 on SIGTERM: {status:?}");
    println!("stopped in {:.2} s", stopping.elapsed().as_secs_f64());

    let at_stop = summary(&admin, id).await;
    println!("{} of {ROWS} rows done at SIGTERM", at_stop.processed);
    if !at_stop.is_finished() {
        let holders = server
            .count(
                "SELECT COUNT(*) FROM imports WHERE id = $1 AND lease_owner IS NOT NULL",
                id,
            )
            .await;
        assert_eq!(holders, 0, "the stopped process still holds the import");
        let second = start_worker(&server.database_url);
        // Well within the lease: only a released import is taken over this soon.
        let deadline = Instant::now() + Duration::from_secs(240);
        while !summary(&admin, id).await.is_finished() {
            assert!(Instant::now() < deadline, "the import was not resumed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(second);
    }

    let done = summary(&admin, id).await;
    assert_eq!(done.status.as_str(), "completed");
    assert_eq!(
        (done.succeeded, done.skipped, done.failed),
        (ROWS as i64, 0, 0)
    );
    server.assert_invites_import_done_once(ROWS as i64).await;
}

/// The in-process server (what tests and `muster` run) stops promptly and
/// then refuses connections.
async fn the_server_stops_and_refuses_connections(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    let (status, _) = browser.get_page("/").await;
    assert_eq!(status.as_u16(), 200);
    let started = Instant::now();
    server.stop().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(browser.try_get("/").await.is_err(), "still serving");
}

/// A stopping sender sends nothing more and gives the rows it claimed but did
/// not send back to the queue at once, untouched.
async fn the_sender_releases_what_it_did_not_send(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = app::db::Db::connect(&url).await.unwrap();
    queue_invitation_emails(&db, 3).await;
    let sink = SmtpSink::start().await;
    let mut config = sink.mail_config();
    // One message a minute: the other two wait for the throttle when stopping is asked for.
    config.per_minute = 1;
    let sender = Arc::new(Sender::new(db.clone(), config, crate::support::BASE_URL).unwrap());
    let (trigger, shutdown) = Shutdown::new();
    let running = tokio::spawn(sender.run(shutdown));
    eventually("the first message arrives", || async {
        sink.received().len() == 1
    })
    .await;
    trigger.stop();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the sender stops without waiting for the throttle")
        .unwrap();
    let count = |sql| {
        let pool = db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await,
        1
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND attempts = 0
               AND lease_owner IS NULL AND locked_until IS NULL"
        )
        .await,
        2
    );
    assert_eq!(sink.received().len(), 1);
    sink.stop().await;
}

/// Each delivery is recorded as it happens, not when the whole claimed
/// batch is out (a crash then repeats only what was on the wire); and the
/// dev mailbox keeps to `MUSTER_MAIL_PER_MINUTE` like a mail server.
async fn deliveries_are_recorded_as_they_happen_and_the_dev_mailbox_is_paced(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = app::db::Db::connect(&url).await.unwrap();
    queue_invitation_emails(&db, 3).await;
    let mut config = server::mail::MailConfig::dev_mailbox(crate::support::BASE_URL);
    config.per_minute = 1;
    let sender = Arc::new(Sender::new(db.clone(), config, crate::support::BASE_URL).unwrap());
    let (trigger, shutdown) = Shutdown::new();
    let running = tokio::spawn(sender.run(shutdown));
    let sent = || {
        let pool = db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    // The first message is recorded while the other two of its batch wait.
    eventually("the first delivery is recorded", || async {
        sent().await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sent().await, 1, "one a minute, in the dev mailbox too");
    trigger.stop();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the sender stops")
        .unwrap();
}

/// `MUSTER_MAIL_PER_DOMAIN_PER_MINUTE`: each recipient domain gets its
/// number of messages a minute; the rest wait for the next minute, their
/// attempts uncounted, while other domains' messages go.
async fn each_recipient_domain_gets_its_limit_a_minute(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = app::db::Db::connect(&url).await.unwrap();
    let addresses: Vec<String> = ["a1@big.example", "a2@big.example", "a3@big.example"]
        .into_iter()
        .chain(["b1@small.example", "b2@small.example"])
        .map(str::to_owned)
        .collect();
    crate::support::smtp::queue_invitation_emails_to(&db, &addresses).await;
    let sink = SmtpSink::start().await;
    let mut config = sink.mail_config();
    config.per_domain_per_minute = 2;
    let sender = Sender::new(db.clone(), config, crate::support::BASE_URL).unwrap();
    let before = app::state::now();
    assert_eq!(sender.run_once().await.unwrap(), 5);
    let mut delivered: Vec<String> = sink
        .received()
        .iter()
        .flat_map(|message| message.rcpt_to.clone())
        .map(|to| to.trim_matches(['<', '>']).to_owned())
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        [
            "a1@big.example",
            "a2@big.example",
            "b1@small.example",
            "b2@small.example"
        ]
    );
    let (to, attempts, next_attempt_at, owner): (String, i64, i64, Option<String>) =
        sqlx::query_as(
            "SELECT to_email, attempts, next_attempt_at, lease_owner FROM outbox
             WHERE status = 'queued'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((to.as_str(), attempts, owner), ("a3@big.example", 0, None));
    assert!(
        (before + 50..=before + 62).contains(&next_attempt_at),
        "due again in the next minute: {next_attempt_at} (now {before})"
    );
    // Not due yet: the next round sends nothing.
    assert_eq!(sender.run_once().await.unwrap(), 0);
    sink.stop().await;
}

on_both_backends! {
    sender_per_domain_limit => each_recipient_domain_gets_its_limit_a_minute;
    sender_releases_unsent => the_sender_releases_what_it_did_not_send;
    sender_records_as_it_goes => deliveries_are_recorded_as_they_happen_and_the_dev_mailbox_is_paced;
    sigterm_releases_the_import_and_exits_0 => sigterm_releases_the_import;
    stop_refuses_new_connections => the_server_stops_and_refuses_connections;
}
