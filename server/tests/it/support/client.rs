//! [`Client`]: one browser talking to a [`super::TestApp`].

use app::error::AppError;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::ADMIN_PASSWORD;

/// One browser: its own cookie jar, calling server functions like the page does.
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                // A request that never answers fails its test instead of hanging the run.
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// Where the server is (also this site's origin).
    pub fn base(&self) -> &str {
        &self.base
    }

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

    /// Posts JSON arguments to a server function from this site's own origin:
    /// the status and the body, whatever they are.
    pub async fn raw_json(&self, function: &str, body: &serde_json::Value) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .header("Origin", &self.base)
            .json(body)
            .send()
            .await
            .unwrap();
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
        decode(function, status, &body)
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
        decode(function, status, &response.text().await.unwrap())
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

    /// Posts `multipart/form-data` text fields to `path` from this site's own
    /// origin, as the no-JavaScript upload form does.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let boundary = "muster-test-boundary-7d3f";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
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

    /// Posts JSON to any path with this browser's cookies (and an Origin,
    /// when given): what a page, or another site's page, could send.
    pub async fn post_json_to(
        &self,
        path: &str,
        body: &serde_json::Value,
        origin: Option<&str>,
    ) -> (StatusCode, String) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// A page as the browser gets it. A rendered page that has not answered
    /// in 60 s is asked for once more, saying so on stderr: under heavy load
    /// a server-rendered response rarely never completes (an open fault, not
    /// yet explained; see the README's known issues), and one such stall must
    /// not hide what the test checks in the page.
    pub async fn get_page(&self, path: &str) -> (StatusCode, String) {
        for attempt in 1.. {
            let answer = async {
                let response = self.http.get(format!("{}{path}", self.base)).send().await?;
                let status = response.status();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            }
            .await;
            match answer {
                Ok(answer) => return answer,
                Err(error) if error.is_timeout() && attempt == 1 => {
                    eprintln!("KNOWN FAULT: GET {path} did not complete in 60 s ({error}); asking once more");
                }
                Err(error) => panic!("GET {path}: {error}"),
            }
        }
        unreachable!()
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

    /// Signs in as an admin [`Client::create_org`] made, in this browser.
    pub async fn log_in(&self, email: &str) {
        let (status, body) = self
            .raw(
                "login",
                &[("email", email), ("password", ADMIN_PASSWORD)],
                Some(&self.base),
            )
            .await;
        assert!(
            status.is_success() || status.is_redirection(),
            "login as {email}: {status} {body}"
        );
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

/// A server function's answer: its value, or the [`AppError`] it returned.
fn decode<T: DeserializeOwned>(
    function: &str,
    status: StatusCode,
    body: &str,
) -> Result<T, AppError> {
    if status.is_success() {
        Ok(serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{function}: bad body {body:?}: {e}")))
    } else {
        Err(serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{function}: {status} {body:?}: {e}")))
    }
}
