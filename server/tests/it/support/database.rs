//! Fresh databases for tests: a new SQLite file, or a new uniquely named
//! PostgreSQL database.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Where PostgreSQL is: `MUSTER_TEST_POSTGRES_URL`, else the local default.
/// Returns `None` when no server answers and CI does not require one.
pub async fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("MUSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    sqlx::any::install_default_drivers();
    match try_connect(&url).await {
        Ok(()) => Some(url),
        Err(error) => {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("CI requires PostgreSQL at {url}: {error}");
            }
            eprintln!("skipping PostgreSQL: {error}");
            None
        }
    }
}

async fn try_connect(url: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    sqlx::AnyConnection::connect(url).await?.close().await
}

/// A fresh database of the given kind, as a `DATABASE_URL`.
pub async fn fresh_database(backend: Backend) -> Option<String> {
    super::install_secret_key();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let unique = format!(
        "{}_{}_{}",
        std::process::id(),
        n,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("muster-tests");
            std::fs::create_dir_all(&dir).unwrap();
            Some(format!("sqlite://{}/muster_{unique}.db", dir.display()))
        }
        Backend::Postgres => {
            use sqlx::{Connection, Executor};
            let admin = postgres_admin_url().await?;
            let name = format!("muster_test_{unique}");
            let mut connection = sqlx::AnyConnection::connect(&admin).await.unwrap();
            connection
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            connection.close().await.unwrap();
            let base = admin
                .rsplit_once('/')
                .map(|(base, _)| base)
                .unwrap_or(&admin);
            Some(format!("{base}/{name}"))
        }
    }
}
