//! Starts the real server on port 0 against a fresh database and talks to it
//! over HTTP, as a browser or script would.

#[allow(dead_code)]
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

pub struct TestServer {
    pub base: String,
    /// The server's own state, for tests that look into the database.
    #[allow(dead_code)]
    pub state: app::state::AppState,
    /// For tests that start further server processes on the same database.
    #[allow(dead_code)]
    pub database_url: String,
}

#[allow(dead_code)]
pub async fn spawn(backend: Backend, open_signup: bool) -> Option<TestServer> {
    spawn_with(backend, open_signup, &[]).await
}

/// Like [`spawn`], with further environment variables (e.g. `MUSTER_SMTP_*`).
pub async fn spawn_with(
    backend: Backend,
    open_signup: bool,
    extra: &[(&str, String)],
) -> Option<TestServer> {
    let database_url = fresh_database(backend).await?;
    let config = server::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(database_url.clone()),
        "MUSTER_BIND" => Some("127.0.0.1:0".to_owned()),
        "MUSTER_BASE_URL" => Some("http://muster.test".to_owned()),
        "MUSTER_OPEN_SIGNUP" => Some(open_signup.to_string()),
        _ => extra
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone()),
    })
    .unwrap();
    let running = server::start(config).await.expect("server starts");
    Some(TestServer {
        base: format!("http://{}", running.addr),
        state: running.state,
        database_url,
    })
}

/// One browser: its own cookie jar, calling server functions like the page does.
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl TestServer {
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
    #[allow(dead_code)]
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

    /// Posts a plain HTML form (as a browser without JavaScript would) to `path`.
    #[allow(dead_code)]
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

    #[allow(dead_code)]
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

    #[allow(dead_code)]
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

pub async fn create_org(client: &Client, org: &str, email: &str) -> Result<(), AppError> {
    client
        .call::<()>(
            "create_organization",
            &[
                ("organization_name", org),
                ("first_name", "Ada"),
                ("last_name", "Admin"),
                ("email", email),
                ("password", "correct horse battery"),
            ],
        )
        .await
}

/// An organization whose admin has one group without trainings ("Cohort"):
/// the admin's client and the group's id.
#[allow(dead_code)]
pub async fn admin_with_cohort(server: &TestServer) -> (Client, i64) {
    let admin = server.client();
    create_org(&admin, "Riverside", "ada@example.org")
        .await
        .unwrap();
    let group: i64 = admin
        .call(
            "groups/create",
            &[
                ("name", "Cohort"),
                ("description", ""),
                ("default_expiry_days", "14"),
                ("trainings", ""),
            ],
        )
        .await
        .unwrap();
    (admin, group)
}

/// Starts an Invites import of `emails` into `group` through `imports/create`.
#[allow(dead_code)]
pub async fn start_invites_import(
    admin: &Client,
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
    admin
        .call_json(
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

/// Runs an async test body once per available backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $body:expr;)*) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $body(common::Backend::Sqlite).await; })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $body(common::Backend::Postgres).await; })*
        }
    };
}
