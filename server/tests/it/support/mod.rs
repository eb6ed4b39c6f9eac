//! Starts the real server on port 0 against a fresh database and talks to it
//! over HTTP, as a browser or script would: [`TestApp`] and its [`Client`]s.

mod bearer;
mod client;
mod database;
pub mod smtp;
mod test_app;

pub use bearer::Bearer;
pub use client::Client;
pub use database::{fresh_database, Backend};
pub use test_app::TestApp;

/// The `muster` binary on `database_url`, on port 0, with the tests' key.
fn muster_command(database_url: &str, env: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"));
    command
        .env("DATABASE_URL", database_url)
        .env("MUSTER_BIND", "127.0.0.1:0")
        .env("MUSTER_BASE_URL", BASE_URL)
        .env("RUST_LOG", "warn")
        .env("MUSTER_SECRET_KEY", SECRET_KEY)
        .envs(env.iter().copied());
    command
}

/// The real `muster` binary as a child process on `database_url` (killed
/// when dropped), with further environment variables.
pub fn muster_process(database_url: &str, env: &[(&str, &str)]) -> tokio::process::Child {
    muster_command(database_url, env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the muster binary starts")
}

/// The key every server of the tests seals email bodies with (one per
/// process, and the `muster` children share it, as processes of one
/// deployment do).
pub const SECRET_KEY: &str = "6d75737465722d746573742d6b65792d6d75737465722d746573742d6b657921";

/// Installs [`SECRET_KEY`] in this process, for tests that queue or read
/// mail without starting a server.
pub fn install_secret_key() {
    app::mail::seal::install(app::mail::seal::parse_key(SECRET_KEY).unwrap()).unwrap();
}

/// An outbox row's message as the sender delivers it: rendered from its
/// intent with the tests' key and base URL, or as stored for a row queued
/// before intents.
pub async fn rendered(pool: &sqlx::AnyPool, id: i64) -> app::mail::templates::Rendered {
    rendered_at(pool, id, BASE_URL).await
}

/// [`rendered`] for a server at its own base URL.
pub async fn rendered_at(
    pool: &sqlx::AnyPool,
    id: i64,
    base_url: &str,
) -> app::mail::templates::Rendered {
    install_secret_key();
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let (params, subject, text, html): Row =
        sqlx::query_as("SELECT params, subject, text_body, html_body FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
    app::mail::intent::render_stored(
        params.as_deref(),
        (subject.as_deref(), text.as_deref(), html.as_deref()),
        base_url,
    )
    .expect("an outbox row the sender can render")
}

/// The real `muster` binary on `database_url`, and the base URL it serves
/// at once it says so (the bind is port 0).
pub async fn muster_serving(
    database_url: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = muster_command(database_url, env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the muster binary starts");
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), stdout.next_line())
            .await
            .expect("the server starts")
            .unwrap()
            .expect("the server prints its address");
        if let Some(rest) = line.split("serving at ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // The server's log after start-up, kept when asked (benchmarks read
    // its per-batch timings); otherwise it is dropped with the pipe.
    if let Ok(path) = std::env::var("MUSTER_TEST_SERVER_LOG") {
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .await
                .expect("the server log file opens");
            while let Ok(Some(line)) = stdout.next_line().await {
                let _ = file.write_all(format!("{line}\n").as_bytes()).await;
            }
        });
    }
    (child, base)
}

/// Where the links in emails point.
pub const BASE_URL: &str = "http://muster.test";
/// The password of the admins [`Client::create_org`] makes.
pub const ADMIN_PASSWORD: &str = "correct horse battery";
/// The password learners register with.
pub const PASSWORD: &str = "a good long password";

/// The hex token that follows `link` in `text`.
pub fn link_token(text: &str, link: &str) -> String {
    let start = text.find(link).expect("a link") + link.len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// Waits up to 30 seconds for `check` to hold.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Runs an async test body once per available backend.
macro_rules! on_both_backends {
    ($($name:ident => $body:expr;)*) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $body($crate::support::Backend::Sqlite).await; })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $body($crate::support::Backend::Postgres).await; })*
        }
    };
}
