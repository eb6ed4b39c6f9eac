//! Starts the real server on port 0 against a fresh database and talks to it
//! over HTTP, as a browser or script would: [`TestApp`] and its [`Client`]s.

pub mod smtp;

use std::sync::atomic::{AtomicUsize, Ordering};

use app::error::AppError;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, Copy)]
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

/// A real server on port 0 against its own fresh database.
pub struct TestApp {
    pub base: String,
    /// The server's own state, for tests that look into the database.
    pub state: app::state::AppState,
    /// For tests that start further server processes on the same database.
    pub database_url: String,
    /// Stops the server's workers and waits for them, like `muster` on SIGTERM.
    running: server::Running,
}

impl TestApp {
    pub async fn spawn(backend: Backend, open_signup: bool) -> Option<TestApp> {
        Self::spawn_with(backend, open_signup, &[]).await
    }

    /// Like [`TestApp::spawn`], with further environment variables (e.g. `MUSTER_SMTP_*`).
    pub async fn spawn_with(
        backend: Backend,
        open_signup: bool,
        extra: &[(&str, String)],
    ) -> Option<TestApp> {
        let database_url = fresh_database(backend).await?;
        let config = server::Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(database_url.clone()),
            "MUSTER_BIND" => Some("127.0.0.1:0".to_owned()),
            "MUSTER_BASE_URL" => Some(BASE_URL.to_owned()),
            "MUSTER_OPEN_SIGNUP" => Some(open_signup.to_string()),
            _ => extra
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone()),
        })
        .unwrap();
        let running = server::start(config).await.expect("server starts");
        Some(TestApp {
            base: format!("http://{}", running.addr),
            state: running.state.clone(),
            database_url,
            running,
        })
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.state.db.pool
    }

    /// Stops accepting requests, stops the workers and waits for them.
    pub async fn stop(self) {
        self.running.stop().await.expect("the server stops cleanly");
    }

    /// A client signed in as the admin of a new organization.
    pub async fn admin(&self, organization: &str, email: &str) -> Client {
        // Server errors (logged, never shown to users) explain a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("app=warn,server=warn")
            .with_test_writer()
            .try_init();
        let admin = self.client();
        admin.create_org(organization, email).await.unwrap();
        admin
    }

    /// A new organization's admin and one group of theirs.
    pub async fn admin_with_group(
        &self,
        organization: &str,
        email: &str,
        group: &str,
        trainings: &str,
    ) -> (Client, i64) {
        let admin = self.admin(organization, email).await;
        let group = admin.create_group(group, trainings).await;
        (admin, group)
    }

    /// `SELECT COUNT(*) ...` with one parameter.
    pub async fn count<'a, T>(&self, sql: &'a str, bind: T) -> i64
    where
        T: 'a + Send + sqlx::Encode<'a, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        let (n,): (i64,) = sqlx::query_as(sql)
            .bind(bind)
            .fetch_one(self.pool())
            .await
            .unwrap();
        n
    }

    /// A count over the whole database of this test.
    pub async fn count_all(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(self.pool()).await.unwrap();
        n
    }

    /// The end state of one clean run of the only import, an Invites import of
    /// `rows` addresses with emails on: no row, invitation or email missing or twice.
    pub async fn assert_invites_import_done_once(&self, rows: i64) {
        let one = |sql| self.count_all(sql);
        assert_eq!(one("SELECT COUNT(*) FROM invitations").await, rows);
        assert_eq!(
            one("SELECT COUNT(DISTINCT email) FROM invitations").await,
            rows
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'").await,
            rows
        );
        assert_eq!(
            one("SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation'").await,
            rows
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM import_rows WHERE status <> 'success'").await,
            0
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM outbox WHERE kind = 'import_finished'").await,
            1
        );
    }

    pub async fn organization_id(&self, name: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .unwrap();
        id
    }

    /// The token of the `link` (e.g. `/invite/`) in the newest email to `email`
    /// whose kind is `LIKE kind`, read from the outbox.
    pub async fn emailed_token(&self, email: &str, kind: &str, link: &str) -> String {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT text_body FROM outbox WHERE to_email = $1 AND kind LIKE $2 ORDER BY id DESC",
        )
        .bind(email)
        .bind(kind)
        .fetch_all(self.pool())
        .await
        .unwrap();
        let text = &rows
            .first()
            .unwrap_or_else(|| panic!("an email of kind {kind} to {email}"))
            .0;
        assert!(text.contains(&format!("{BASE_URL}{link}")), "{text}");
        link_token(text, link)
    }
}

/// The real `muster` binary as a child process on `database_url` (killed
/// when dropped), with further environment variables.
pub fn muster_process(database_url: &str, env: &[(&str, &str)]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .env("DATABASE_URL", database_url)
        .env("MUSTER_BIND", "127.0.0.1:0")
        .env("MUSTER_BASE_URL", BASE_URL)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the muster binary starts")
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

/// One browser: its own cookie jar, calling server functions like the page does.
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub async fn raw(
        &self,
        function: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .form(form);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Calls a server function from this site's own origin.
    pub async fn call<T: DeserializeOwned>(
        &self,
        function: &str,
        form: &[(&str, &str)],
    ) -> Result<T, AppError> {
        let (status, body) = self.raw(function, form, Some(&self.base)).await;
        if status.is_success() {
            Ok(serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{function}: bad body {body:?}: {e}")))
        } else {
            Err(serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{function}: {status} {body:?}: {e}")))
        }
    }

    /// Calls a server function whose arguments travel as JSON (imports).
    pub async fn call_json<T: DeserializeOwned>(
        &self,
        function: &str,
        body: &serde_json::Value,
    ) -> Result<T, AppError> {
        let response = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .header("Origin", &self.base)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        if status.is_success() {
            Ok(serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{function}: bad body {body:?}: {e}")))
        } else {
            Err(serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{function}: {status} {body:?}: {e}")))
        }
    }

    /// Calls a server function whose argument is a list of ids (`ids[0]`, `ids[1]`, ...).
    pub async fn call_with_ids<T: DeserializeOwned>(
        &self,
        function: &str,
        ids: &[i64],
    ) -> Result<T, AppError> {
        let keys: Vec<String> = (0..ids.len()).map(|n| format!("ids[{n}]")).collect();
        let values: Vec<String> = ids.iter().map(i64::to_string).collect();
        let form: Vec<(&str, &str)> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.call(function, &form).await
    }

    /// Posts a plain HTML form (as a browser without JavaScript would) to `path`.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    /// Posts a form as a browser does from a page sent with
    /// `Referrer-Policy: no-referrer` (the pages emailed links open):
    /// `Origin: null` plus Fetch Metadata. The status and the redirect's target.
    pub async fn post_from_emailed_page(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        self.post_form_redirect(
            path,
            form,
            &[("Origin", "null"), ("Sec-Fetch-Site", "same-origin")],
        )
        .await
    }

    /// Posts a form as a browser does from one of this site's own pages.
    pub async fn post_from_site(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let origin = self.base.clone();
        self.post_form_redirect(path, form, &[("Origin", origin.as_str())])
            .await
    }

    async fn post_form_redirect(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let (status, headers, _) = self.post_form(path, form, headers).await;
        let location = headers
            .get("location")
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status.as_u16(), location)
    }

    pub async fn get_with_headers(
        &self,
        path: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    /// A GET that may fail to connect at all.
    pub async fn try_get(&self, path: &str) -> Result<reqwest::StatusCode, reqwest::Error> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        Ok(response.status())
    }

    pub async fn get_page(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }
}

impl Client {
    /// Sets up an organization (the first-run form) and signs in as its admin.
    pub async fn create_org(&self, organization: &str, email: &str) -> Result<(), AppError> {
        self.call::<()>(
            "create_organization",
            &[
                ("organization_name", organization),
                ("first_name", "Ada"),
                ("last_name", "Admin"),
                ("email", email),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await
    }

    /// A group that invitations expire from after 14 days; `trainings` one a line.
    pub async fn create_group(&self, name: &str, trainings: &str) -> i64 {
        self.call(
            "groups/create",
            &[
                ("name", name),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", trainings),
            ],
        )
        .await
        .unwrap()
    }

    /// Starts an Invites import of `emails` into `group` through `imports/create`.
    pub async fn start_invites_import(
        &self,
        group: i64,
        emails: &[String],
        send_emails: bool,
        idempotency_key: &str,
    ) -> i64 {
        let rows: Vec<_> = emails
            .iter()
            .enumerate()
            .map(|(i, email)| serde_json::json!({ "number": i + 2, "cells": [email] }))
            .collect();
        self.call_json(
            "imports/create",
            &serde_json::json!({
                "options": {
                    "kind": "invites", "group_id": group, "contract_id": null,
                    "send_emails": send_emails, "auto_invite": false, "expiry_days": null,
                    "source_name": "roster.csv",
                },
                "payload": {
                    "kind": "invites",
                    "sheets": [{ "name": "roster", "headers": ["Email"], "rows": rows }],
                },
                "idempotency_key": idempotency_key,
            }),
        )
        .await
        .unwrap()
    }
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
