//! The connection pool and migrations. Both backends go through `sqlx::Any`
//! with `$n` placeholders, so every query is written once.

use sqlx::{any::AnyPoolOptions, AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL scheme in {0:?} (expected sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("could not create the directory for the SQLite file {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time is SQLite's nature; a small pool avoids
                // piling up busy waits.
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // With WAL, `synchronous = NORMAL` syncs at checkpoints
                        // instead of on every commit: a killed process loses
                        // nothing, a power cut at most the last commits, which
                        // the outbox (lease runs out, message resent) and the
                        // import worker (batch redone from its checkpoint) repeat.
                        //
                        // A checkpoint every 10,000 pages (40 MB of WAL) rather
                        // than SQLite's 1,000: a page an import's batches write
                        // over and over (an index's) is copied back once, not
                        // every few batches; the 100,000-row import benchmark's
                        // commits took 0.7 s in all instead of 1.0 s. A 32 MiB
                        // page cache (2 MiB by default) per connection keeps the
                        // indexes a large import works in off the disk.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;
                             PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -32768;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(DbError::Connect)?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        if self.backend == Backend::Postgres {
            return migrator.run(&self.pool).await.map_err(DbError::Migrate);
        }
        // SQLite changes some tables by rebuilding them (it cannot drop a
        // UNIQUE column), and dropping a table others refer to needs foreign
        // keys off; that pragma is ignored inside a transaction, so it is set
        // on the migrating connection before the migrations' transactions,
        // and the references are checked once they are done.
        let mut conn = self.pool.acquire().await.map_err(DbError::Connect)?;
        conn.execute("PRAGMA foreign_keys = OFF")
            .await
            .map_err(DbError::Connect)?;
        let migrated = migrator.run(&mut *conn).await.map_err(DbError::Migrate);
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await
            .map_err(DbError::Connect)?;
        conn.execute("PRAGMA foreign_keys = ON")
            .await
            .map_err(DbError::Connect)?;
        migrated?;
        if !dangling.is_empty() {
            return Err(DbError::Connect(sqlx::Error::Protocol(format!(
                "{} rows refer to rows that do not exist after migrating",
                dangling.len()
            ))));
        }
        Ok(())
    }
}

impl Db {
    /// Starts a transaction whose commit also runs what its writes asked for
    /// afterwards (waking the mail sender when it queued email).
    ///
    /// On SQLite the write lock is taken at the start (`BEGIN IMMEDIATE`),
    /// waiting its turn under `busy_timeout`: a deferred transaction that
    /// reads and then writes fails at once with "database is locked" when
    /// another connection (the mail sender, a worker) wrote in between, and
    /// no timeout helps it.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            backend: self.backend,
            after_commit: Vec::new(),
        })
    }
}

/// A transaction that remembers whom to wake once it commits. Workers sleep
/// on a `Notify` between polls; what a transaction wrote for them exists
/// only after commit, so that is when they are woken, by the commit itself
/// rather than by a call each caller must remember.
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    after_commit: Vec<&'static tokio::sync::Notify>,
}

impl Tx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Wake `worker` when (and only if) this transaction commits.
    pub fn wake_on_commit(&mut self, worker: &'static tokio::sync::Notify) {
        if !self.after_commit.iter().any(|w| std::ptr::eq(*w, worker)) {
            self.after_commit.push(worker);
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await?;
        for worker in self.after_commit {
            worker.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Makes sure the SQLite file and its directory can be created on first start.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                    path: path.to_owned(),
                    source,
                })?;
            }
        }
    }
    Ok(if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    })
}

/// A `LIKE ... ESCAPE '\'` pattern matching text that contains `search`,
/// trimmed and lowercased (compare it with `LOWER(column)`); `%`, `_` and
/// `\` in the search are literal.
pub fn like_pattern(search: &str) -> String {
    let escaped = search
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A value bound to a bulk statement.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Bind {
    fn from(value: i64) -> Self {
        Bind::Int(Some(value))
    }
}

impl From<Option<i64>> for Bind {
    fn from(value: Option<i64>) -> Self {
        Bind::Int(value)
    }
}

impl From<String> for Bind {
    fn from(value: String) -> Self {
        Bind::Text(Some(value))
    }
}

impl From<&str> for Bind {
    fn from(value: &str) -> Self {
        Bind::Text(Some(value.to_owned()))
    }
}

impl From<Option<String>> for Bind {
    fn from(value: Option<String>) -> Self {
        Bind::Text(value)
    }
}

/// Multi-row statements (`INSERT … VALUES (…), (…)`, `UPDATE … FROM (VALUES …)`)
/// with `$n` placeholders, which both backends accept through `sqlx::Any`
/// (sqlx's `QueryBuilder` writes `?` for `Any`, which PostgreSQL rejects).
#[derive(Debug, Default)]
pub struct Bulk {
    sql: String,
    binds: Vec<Bind>,
}

impl Bulk {
    pub fn new(sql: &str) -> Bulk {
        Bulk {
            sql: sql.to_owned(),
            binds: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds one value where the SQL continues.
    pub fn bind(&mut self, value: impl Into<Bind>) -> &mut Self {
        self.binds.push(value.into());
        self.sql.push_str(&format!("${}", self.binds.len()));
        self
    }

    /// Appends `(…)` for one row, comma-separated from the row before it.
    pub fn row(&mut self, values: Vec<Bind>) -> &mut Self {
        if self.sql.ends_with(')') {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value);
        }
        self.sql.push(')');
        self
    }

    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for value in &self.binds {
            query = match value {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }

    pub fn query_as<T>(&self) -> sqlx::query::QueryAs<'_, sqlx::Any, T, sqlx::any::AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut query = sqlx::query_as::<_, T>(&self.sql);
        for value in &self.binds {
            query = match value {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_makes_wildcards_literal() {
        assert_eq!(like_pattern("  A%b_c\\ "), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn bulk_numbers_placeholders_across_rows_and_the_tail() {
        let mut bulk = Bulk::new("INSERT INTO t (a, b) VALUES ");
        bulk.row(vec![1.into(), "x".into()])
            .row(vec![2.into(), None::<String>.into()]);
        bulk.push(" ON CONFLICT DO NOTHING WHERE c = ").bind(7);
        assert_eq!(
            bulk.sql,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING WHERE c = $5"
        );
        assert_eq!(bulk.binds.len(), 5);
    }
}

/// Placeholders per statement stay well under SQLite's and PostgreSQL's limits.
pub(crate) const IN_CHUNK: usize = 500;
/// Rows per bulk insert; each chunk travels as one JSON parameter.
pub(crate) const BULK_CHUNK: usize = 5_000;

/// `$start, $start+1, …`: `count` numbered placeholders for an `IN (…)` list.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The type a column read from a JSON row has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonColumn {
    Int,
    Text,
}

impl Backend {
    /// `SELECT <one expression per column> FROM <rows>` where the rows arrive as ONE
    /// bound parameter, `$param`: a JSON array of arrays. A bulk insert then costs one
    /// bind however many rows it carries (the database's JSON functions, written in C,
    /// unpack it), where `VALUES` costs one bind per cell. A `WHERE true` closes the
    /// SELECT so that SQLite can parse an `ON CONFLICT` after it. Column `i` is
    /// named `c{i}`.
    pub fn select_json_rows(&self, param: usize, columns: &[JsonColumn]) -> String {
        let expressions: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| match (*self, column) {
                (Backend::Sqlite, _) => format!("json_extract(j.value, '$[{i}]') AS c{i}"),
                (Backend::Postgres, JsonColumn::Int) => format!("(j.value->>{i})::bigint AS c{i}"),
                (Backend::Postgres, JsonColumn::Text) => format!("(j.value->>{i}) AS c{i}"),
            })
            .collect();
        let source = match self {
            Backend::Sqlite => format!("json_each(${param}) AS j"),
            Backend::Postgres => format!("jsonb_array_elements(${param}::jsonb) AS j"),
        };
        format!("SELECT {} FROM {source} WHERE true", expressions.join(", "))
    }

    /// The strings in a JSON array bound at `$param` as a `FROM` item named
    /// `alias`, one row each, the string in column `alias.value`.
    pub fn json_text_rows(&self, param: usize, alias: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_each(${param}) AS {alias}"),
            Backend::Postgres => {
                format!("jsonb_array_elements_text(${param}::jsonb) AS {alias}(value)")
            }
        }
    }

    /// `SELECT` of the strings in a JSON array bound at `$param`, for `x IN (…)`.
    pub fn json_text_set(&self, param: usize) -> String {
        match self {
            Backend::Sqlite => format!("SELECT value FROM json_each(${param})"),
            Backend::Postgres => format!("SELECT jsonb_array_elements_text(${param}::jsonb)"),
        }
    }
}

impl Db {
    /// [`Backend::select_json_rows`] for this database.
    pub fn select_json_rows(&self, param: usize, columns: &[JsonColumn]) -> String {
        self.backend.select_json_rows(param, columns)
    }

    /// [`Backend::json_text_rows`] for this database.
    pub fn json_text_rows(&self, param: usize, alias: &str) -> String {
        self.backend.json_text_rows(param, alias)
    }

    /// [`Backend::json_text_set`] for this database.
    pub fn json_text_set(&self, param: usize) -> String {
        self.backend.json_text_set(param)
    }
}
