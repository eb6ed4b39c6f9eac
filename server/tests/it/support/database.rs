//! Fresh databases for tests: a new SQLite file, or a new uniquely named
//! PostgreSQL database.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Whether `name` (`<prefix><pid>_…`) belongs to a test process that has ended.
fn of_ended_run(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Removes the databases of test runs that have ended: each test makes a
/// new one, and a run leaves about 150 PostgreSQL databases and as many
/// SQLite files behind (gigabytes, on a machine that CI runs on again and
/// again). Names start with the pid of the process that made them, so the
/// databases of runs still going (another terminal, another clone's CI)
/// are left alone. Once per process and backend.
fn sweep_ended_sqlite_runs(dir: &std::path::Path) {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if of_ended_run(&entry.file_name().to_string_lossy(), "muster_") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    });
}

/// [`sweep_ended_sqlite_runs`] for PostgreSQL's `muster_test_<pid>_…` databases.
async fn sweep_ended_postgres_runs(admin: &str) {
    use sqlx::{Connection, Executor};
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let Ok(mut connection) = sqlx::AnyConnection::connect(admin).await else {
                return;
            };
            let names: Vec<(String,)> = sqlx::query_as(
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'muster\\_test\\_%'",
            )
            .fetch_all(&mut connection)
            .await
            .unwrap_or_default();
            for (name,) in names {
                if of_ended_run(&name, "muster_test_") {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = connection.execute(drop.as_str()).await;
                }
            }
            let _ = connection.close().await;
        })
        .await;
}

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
            sweep_ended_sqlite_runs(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Some(format!("sqlite://{}/muster_{unique}.db", dir.display()))
        }
        Backend::Postgres => {
            use sqlx::{Connection, Executor};
            let admin = postgres_admin_url().await?;
            sweep_ended_postgres_runs(&admin).await;
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
