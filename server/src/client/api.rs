//! Requests to `/api/v1` with the token, and the server's refusals
//! (problem+json) turned into a [`Failure`] that says what the server said.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::{de::DeserializeOwned, Serialize};

use super::{config::Login, Failure};
use server::api::Problem;

/// Waits for a token's rate limit before a request is given up; a refused
/// request did nothing, so sending it again is safe.
const RATE_LIMIT_RETRIES: u32 = 10;
/// Attempts at a request that may be repeated (reads, keyed imports) when
/// the connection fails.
const CONNECTION_ATTEMPTS: u32 = 3;

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn new(login: &Login) -> Result<Api, Failure> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("muster-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Failure::Server(format!("cannot make an HTTP client: {error}")))?;
        Ok(Api {
            http,
            base: login.url.clone(),
            token: login.token.clone(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let response = self
            .send(true, || self.request(Method::GET, path).query(query))
            .await?;
        json(response).await
    }

    pub async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let response = self.send(true, || self.request(Method::GET, path)).await?;
        response
            .text()
            .await
            .map_err(|error| self.unreachable(&error))
    }

    /// A POST; `repeatable` when sending it twice does it once (an
    /// Idempotency-Key, or a request that changes nothing).
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        headers: &[(&str, &str)],
        repeatable: bool,
    ) -> Result<T, Failure> {
        let response = self
            .send(repeatable, || {
                headers.iter().fold(
                    self.request(Method::POST, path).json(body),
                    |request, (name, value)| request.header(*name, *value),
                )
            })
            .await?;
        json(response).await
    }

    /// A POST without a body whose answer is only its status (204).
    pub async fn post_empty(&self, path: &str) -> Result<(), Failure> {
        self.send(false, || self.request(Method::POST, path))
            .await
            .map(drop)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
    }

    fn unreachable(&self, error: &reqwest::Error) -> Failure {
        let mut message = format!("could not reach {}: {error}", self.base);
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Failure::Server(message)
    }

    async fn send(
        &self,
        repeatable: bool,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Failure> {
        let mut waits = 0;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let response = match build().send().await {
                Ok(response) => response,
                Err(_) if repeatable && attempts < CONNECTION_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_secs(u64::from(attempts))).await;
                    continue;
                }
                Err(error) => return Err(self.unreachable(&error)),
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS && waits < RATE_LIMIT_RETRIES {
                waits += 1;
                let seconds = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(2)
                    .clamp(1, 60);
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }
            return Err(refusal(response).await);
        }
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, Failure> {
    let url = response.url().path().to_owned();
    let text = response
        .text()
        .await
        .map_err(|error| Failure::Server(format!("{url}: the answer broke off: {error}")))?;
    serde_json::from_str(&text).map_err(|error| {
        Failure::Server(format!(
            "{url}: the server's answer is not what this client understands ({error}); is the client as new as the server?"
        ))
    })
}

/// A refusal in the server's words: its `detail`, the `field` and `row` it
/// names. Token, scope, rate-limit and server faults are [`Failure::Server`];
/// the rest are about the request ([`Failure::Input`]).
async fn refusal(response: Response) -> Failure {
    let status = response.status();
    let path = response.url().path().to_owned();
    let text = response.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<Problem>(&text) {
        Ok(problem) => problem.to_string(),
        Err(_) if status == StatusCode::NOT_FOUND => {
            format!("{path}: not found ({status}); is this the address of a Muster server?")
        }
        Err(_) => format!("{path}: the server answered {status}"),
    };
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
            Failure::Server(message)
        }
        status if status.is_server_error() => Failure::Server(message),
        _ => Failure::Input(message),
    }
}
