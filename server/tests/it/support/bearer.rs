//! [`Bearer`]: a script calling `/api/v1` with an API token, as a student
//! information system would: no cookies, no Origin, only the token.

use reqwest::StatusCode;
use serde_json::Value;

use super::Client;

pub struct Bearer {
    http: reqwest::Client,
    base: String,
    pub token: String,
}

/// An answer: its status, content type and body (JSON, or a string for
/// anything else).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// A refusal must be problem+json naming its own status.
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        assert_eq!(self.body["status"], status, "{self:?}");
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{self:?}"
        );
        self
    }
}

impl Bearer {
    pub fn new(base: &str, token: &str) -> Bearer {
        Bearer {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    async fn answer(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        Self::answer(
            self.http
                .get(format!("{}/api/v1{path}", self.base))
                .bearer_auth(&self.token),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_with(path, body, &[]).await
    }

    pub async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request).await
    }

    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .multipart(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request).await
    }

    /// Any request, without the token: what a stranger sends.
    pub async fn anonymous(&self, method: reqwest::Method, path: &str) -> Answer {
        Self::answer(
            self.http
                .request(method, format!("{}/api/v1{path}", self.base))
                .json(&serde_json::json!({})),
        )
        .await
    }
}

impl Client {
    /// Creates an API token on Settings → API; its secret.
    pub async fn api_token(&self, name: &str, scope: &str) -> String {
        self.call::<app::api_tokens::CreatedToken>(
            "api_tokens/create",
            &[("name", name), ("scope", scope)],
        )
        .await
        .unwrap()
        .token
    }
}
