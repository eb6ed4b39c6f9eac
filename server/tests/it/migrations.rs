//! Migration 10 moves how organizations know people (names, external ids,
//! usernames) from the shared account to each organization's membership.
//! Applied to a database that holds people the old way, nothing is lost and
//! every reference still holds (SQLite rebuilds `users` for it).

use sqlx::{any::AnyPoolOptions, Row};

use crate::support::{fresh_database, Backend};

/// A membership as the test reads it back: organization, user, names,
/// external id, username, status.
type Record = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// The first version that keeps people per organization.
const ORGANIZATION_RECORDS: i64 = 20261130000010;

async fn people_move_onto_their_organizations_records(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    sqlx::any::install_default_drivers();
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
    };
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < ORGANIZATION_RECORDS)
        .cloned()
        .collect();
    migrator.migrations = before.into();
    let raw_url = match backend {
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url.clone(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&raw_url)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    for statement in [
        "INSERT INTO organizations (id, name, created_at) VALUES (1, 'Riverside', 1), (2, 'Hillcrest', 1)",
        "INSERT INTO users (id, email, username, first_name, last_name, external_id, password_hash, status, created_at)
         VALUES (1, 'ann@example.com', NULL, 'Ann', 'Lee', 'A-7', NULL, 'provisioned', 1),
                (2, NULL, 'kitlee', 'Kit', 'Lee', NULL, NULL, 'provisioned', 1),
                (3, 'lin@example.com', NULL, 'Lin', 'Park', NULL, 'x', 'active', 1)",
        "INSERT INTO memberships (organization_id, user_id, role, created_at)
         VALUES (1, 1, 'learner', 1), (2, 1, 'learner', 1), (1, 2, 'learner', 1), (1, 3, 'learner', 1)",
        "INSERT INTO sessions (token_hash, user_id, organization_id, created_at, expires_at, last_seen_at)
         VALUES ('s', 3, 1, 1, 99999999999, 1)",
        "INSERT INTO activation_tokens (organization_id, user_id, token_hash, status, expires_at, created_at)
         VALUES (1, 3, 'h', 'used', 2, 1)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    if backend == Backend::Postgres {
        // The rows above name their ids, as restored data would; the
        // sequences follow them.
        for table in ["users", "organizations"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    pool.close().await;

    let db = app::db::Db::connect(&url)
        .await
        .expect("the rest of the migrations apply");
    let records: Vec<Record> = sqlx::query_as(
        "SELECT organization_id, user_id, first_name, last_name, external_id, username, status
             FROM memberships ORDER BY user_id, organization_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let ann = |org| {
        (
            org,
            1,
            "Ann".into(),
            "Lee".into(),
            Some("A-7".into()),
            None,
            "active".into(),
        )
    };
    assert_eq!(
        records,
        vec![
            ann(1),
            ann(2),
            (
                1,
                2,
                "Kit".into(),
                "Lee".into(),
                None,
                Some("kitlee".into()),
                "active".into()
            ),
            (
                1,
                3,
                "Lin".into(),
                "Park".into(),
                None,
                None,
                "active".into()
            ),
        ]
    );
    // The account keeps only what is the person's own; links already proven count as verified.
    let accounts =
        sqlx::query("SELECT id, email, password_hash, email_verified_at FROM users ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let verified: Vec<(i64, bool)> = accounts
        .iter()
        .map(|row| (row.get::<i64, _>(0), row.get::<Option<i64>, _>(3).is_some()))
        .collect();
    assert_eq!(verified, vec![(1, false), (2, false), (3, true)]);
    assert!(sqlx::query("SELECT first_name FROM users")
        .fetch_all(&db.pool)
        .await
        .is_err());
    // References into the rebuilt table still hold.
    let (sessions,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'lin@example.com'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(sessions, 1);
    // And new accounts get fresh ids.
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (email, status, created_at) VALUES ('new@example.com', 'provisioned', 2) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(id, 4);
}

/// The version that turns outbox rows into intents.
const OUTBOX_INTENTS: i64 = 20261130000017;

/// Messages queued (rendered, bodies sealed) before outbox rows became
/// intents are still delivered after the upgrade, exactly as they were
/// written; new rows are intents and get fresh ids.
async fn messages_queued_before_intents_are_still_delivered(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    sqlx::any::install_default_drivers();
    crate::support::install_secret_key();
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
    };
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < OUTBOX_INTENTS)
        .cloned()
        .collect();
    migrator.migrations = before.into();
    let raw_url = match backend {
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url.clone(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&raw_url)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES (1, 'Riverside', 1)")
        .execute(&pool)
        .await
        .unwrap();
    // As the old code wrote them: one delivered long ago, one still queued,
    // and one already gone (its id must not come back).
    let text = "Hello,\n\nAccept the invitation here:\nhttp://muster.test/invite/0123456789abcdef0123456789abcdef\n";
    let html = "<p>Accept: <a href=\"http://muster.test/invite/0123456789abcdef0123456789abcdef\">link</a></p>";
    for (id, to, status) in [
        (1, "old@example.org", "sent"),
        (2, "lin@example.org", "queued"),
        (3, "gone@example.org", "sent"),
    ] {
        sqlx::query(
            "INSERT INTO outbox (id, organization_id, to_email, subject, text_body, html_body, kind,
                                 status, attempts, next_attempt_at, created_at)
             VALUES ($1, 1, $2, 'Riverside invites you to join Spring Cohort', $3, $4, 'invitation', $5, 0, 0, 1)",
        )
        .bind(id)
        .bind(to)
        .bind(app::mail::seal::seal(text).unwrap())
        .bind(app::mail::seal::seal(html).unwrap())
        .bind(status)
        .execute(&pool)
        .await
        .unwrap();
    }
    if backend == Backend::Postgres {
        sqlx::query("SELECT setval(pg_get_serial_sequence('outbox', 'id'), 3)")
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM outbox WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let db = app::db::Db::connect(&url)
        .await
        .expect("the rest of the migrations apply");
    let sink = crate::support::smtp::SmtpSink::start().await;
    let sender =
        server::mail::Sender::new(db.clone(), sink.mail_config(), crate::support::BASE_URL)
            .unwrap();
    assert_eq!(sender.run_once().await.unwrap(), 1, "the queued message");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, vec!["<lin@example.org>"]);
    assert_eq!(
        received[0].header("Subject").as_deref(),
        Some("Riverside invites you to join Spring Cohort")
    );
    let unfolded = received[0].data.replace("=\r\n", "");
    assert!(
        unfolded.contains("http://muster.test/invite/0123456789abcdef0123456789abcdef"),
        "{unfolded}"
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM outbox WHERE id = 2")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "sent");
    // A new row is an intent, after the old ones (the deleted one's id included).
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (organization_id, to_email, kind, params, status, attempts, next_attempt_at, created_at)
         VALUES (1, 'max@example.org', 'welcome', '{}', 'queued', 0, 0, 2) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(id, 4);
    // A row with neither an intent nor a message could never be delivered.
    assert!(sqlx::query(
        "INSERT INTO outbox (organization_id, to_email, kind, status, attempts, next_attempt_at, created_at)
         VALUES (1, 'sam@example.org', 'welcome', 'queued', 0, 0, 2)",
    )
    .execute(&db.pool)
    .await
    .is_err());
    sink.stop().await;
}

on_both_backends! {
    organization_records_migration => people_move_onto_their_organizations_records;
    outbox_intents_migration => messages_queued_before_intents_are_still_delivered;
}
