//! The webhook sender: the outbox sender's machinery (see `mail`) for
//! webhook deliveries. It claims due rows under a lease (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), posts each event's JSON to its endpoint, signed
//! the Standard Webhooks way, and records every attempt's answer, retrying
//! with exponential backoff up to a maximum of attempts. It connects only to
//! public addresses (see `app::webhooks::address`): its resolver refuses a
//! name that resolves to any other, so a name that changed since it was
//! registered reaches nothing inside. It follows no redirect and uses no
//! proxy. On shutdown it finishes the requests on the wire (at most
//! [`REQUEST_TIMEOUT`]) and releases the rest of its batch.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    state::{AppState, Shutdown},
    webhooks::{
        address::{self, PRIVATE_REFUSAL},
        service::secret_key,
        store::{self, Claimed},
        DeliveryStatus,
    },
};
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::leased;

/// How long an endpoint has to answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest error kept per attempt.
const ERROR_CHARS: usize = 300;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Attempts before a delivery is marked failed (`MUSTER_WEBHOOK_MAX_ATTEMPTS`).
    pub max_attempts: i64,
    /// The first retry's delay; each further one doubles (`MUSTER_WEBHOOK_RETRY_SECONDS`).
    pub retry_base_secs: i64,
    /// Private, loopback and reserved addresses allowed (`MUSTER_WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
    pub lease_secs: i64,
    pub batch: i64,
    pub concurrency: usize,
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            max_attempts: 8,
            retry_base_secs: 30,
            allow_private: false,
            // Well past a batch's requests (concurrency × timeout).
            lease_secs: 120,
            batch: 32,
            concurrency: 8,
            poll: Duration::from_secs(5),
        }
    }
}

/// How one attempt went.
#[derive(Debug)]
pub enum Outcome {
    Sent {
        code: i64,
    },
    Retry {
        code: Option<i64>,
        error: String,
    },
    /// Not worth retrying: the endpoint is not allowed or cannot be signed for.
    Permanent {
        error: String,
    },
    /// Not attempted because the process is stopping.
    Released,
}

/// Resolves names for the client, refusing any that resolves to an address
/// webhooks may not reach.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private && addresses.iter().any(|a| !address::is_public(a.ip())) {
                return Err(std::io::Error::other(PRIVATE_REFUSAL).into());
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The `webhook-signature` value: `v1,` and base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the secret's key bytes.
pub fn signature(key: &[u8], message_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{message_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// An error and its causes, in one line, cut short.
fn explain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(ERROR_CHARS).collect()
}

pub struct Sender {
    db: app::db::Db,
    config: WebhookConfig,
    client: reqwest::Client,
}

impl Sender {
    pub fn new(db: app::db::Db, config: WebhookConfig) -> Result<Sender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("Muster-Webhooks/1")
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private,
            }))
            .build()?;
        Ok(Sender { db, config, client })
    }

    /// Whether a URL may be posted to before any name is resolved: its form
    /// and scheme, and an IP-address host (which the resolver never sees).
    fn check_url(&self, url: &str) -> Result<reqwest::Url, String> {
        let endpoint = address::parse(url).map_err(str::to_owned)?;
        address::check_scheme(&endpoint, self.config.allow_private).map_err(str::to_owned)?;
        let parsed = reqwest::Url::parse(url).map_err(|error| error.to_string())?;
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err("The URL has no host.".to_owned()),
        };
        if !self.config.allow_private && literal.is_some_and(|ip| !address::is_public(ip)) {
            return Err(PRIVATE_REFUSAL.to_owned());
        }
        Ok(parsed)
    }

    /// Posts one claimed delivery, unless stopping is asked for first.
    pub async fn deliver(&self, row: &Claimed, shutdown: &Shutdown) -> Outcome {
        if shutdown.is_requested() {
            return Outcome::Released;
        }
        let url = match self.check_url(&row.url) {
            Ok(url) => url,
            Err(error) => return Outcome::Permanent { error },
        };
        let Some(key) = app::mail::seal::open(&row.secret)
            .ok()
            .and_then(|secret| secret_key(&secret))
        else {
            return Outcome::Permanent {
                error: "The endpoint's secret cannot be read (was MUSTER_SECRET_KEY changed?)."
                    .to_owned(),
            };
        };
        let timestamp = app::state::now();
        let answer = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &row.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature(&key, &row.message_id, timestamp, &row.payload),
            )
            .body(row.payload.clone())
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => Outcome::Sent {
                code: i64::from(response.status().as_u16()),
            },
            Ok(response) => Outcome::Retry {
                code: Some(i64::from(response.status().as_u16())),
                error: format!("The endpoint answered {}.", response.status()),
            },
            Err(error) if error.is_timeout() => Outcome::Retry {
                code: None,
                error: format!("No answer within {} seconds.", REQUEST_TIMEOUT.as_secs()),
            },
            Err(error) => {
                let text = explain(&error);
                if text.contains(PRIVATE_REFUSAL) {
                    Outcome::Permanent {
                        error: PRIVATE_REFUSAL.to_owned(),
                    }
                } else {
                    Outcome::Retry {
                        code: None,
                        error: text,
                    }
                }
            }
        }
    }

    fn backoff(&self, attempts_so_far: i64) -> i64 {
        let exponent = attempts_so_far.clamp(0, 20) as u32;
        (self
            .config
            .retry_base_secs
            .max(1)
            .saturating_mul(1_i64 << exponent))
        .min(86_400)
    }

    /// Records the results of one batch in one transaction, each only if the
    /// row is still held under `owner`.
    pub async fn record(
        &self,
        owner: &str,
        results: &[(Claimed, Outcome)],
    ) -> Result<(), sqlx::Error> {
        let now = app::state::now();
        let mut tx = self.db.begin().await?;
        for (row, outcome) in results {
            let attempts = row.attempts + 1;
            let attempt = match outcome {
                Outcome::Released => {
                    store::release(&mut *tx, row.id, owner).await?;
                    continue;
                }
                Outcome::Sent { code } => store::Attempt {
                    status: DeliveryStatus::Sent,
                    attempts,
                    status_code: Some(*code),
                    error: None,
                    next_attempt_at: now,
                    delivered_at: Some(now),
                },
                Outcome::Retry { code, error } => {
                    let give_up = attempts >= self.config.max_attempts;
                    tracing::warn!(id = row.id, attempts, give_up, %error, "webhook not delivered");
                    store::Attempt {
                        status: if give_up {
                            DeliveryStatus::Failed
                        } else {
                            DeliveryStatus::Queued
                        },
                        attempts,
                        status_code: *code,
                        error: Some(error),
                        next_attempt_at: now + self.backoff(row.attempts),
                        delivered_at: None,
                    }
                }
                Outcome::Permanent { error } => {
                    tracing::warn!(id = row.id, %error, "webhook refused");
                    store::Attempt {
                        status: DeliveryStatus::Failed,
                        attempts,
                        status_code: None,
                        error: Some(error),
                        next_attempt_at: now,
                        delivered_at: None,
                    }
                }
            };
            store::record_attempt(&mut *tx, row.id, owner, &attempt).await?;
        }
        tx.commit().await
    }

    /// Claims one batch, delivers it and records the results. Returns how
    /// many rows were handled (0: nothing was due).
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        leased::run_once(self).await
    }

    /// Runs until `shutdown` (see [`leased::run`]).
    pub async fn run(self: Arc<Self>, shutdown: Shutdown) {
        leased::run(self, shutdown).await
    }
}

impl leased::LeasedSender for Sender {
    type Row = Claimed;
    type Outcome = Outcome;
    const NAME: &'static str = "webhook sender";

    fn wakeup(&self) -> &'static tokio::sync::Notify {
        app::webhooks::server::sender_wakeup()
    }

    fn poll(&self) -> Duration {
        self.config.poll
    }

    fn concurrency(&self) -> usize {
        self.config.concurrency
    }

    async fn claim(&self, owner: &str) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = app::state::now();
        let lease_until = now + self.config.lease_secs;
        store::claim_due(&self.db, owner, now, lease_until, self.config.batch).await
    }

    async fn deliver(&self, row: &Claimed, shutdown: &Shutdown) -> Outcome {
        Sender::deliver(self, row, shutdown).await
    }

    async fn record(&self, owner: &str, results: &[(Claimed, Outcome)]) -> Result<(), sqlx::Error> {
        Sender::record(self, owner, results).await
    }
}

/// Starts the sender in the background, sharing the server's database pool,
/// until `shutdown`.
pub fn spawn_sender(
    state: &AppState,
    config: WebhookConfig,
    shutdown: Shutdown,
) -> Result<tokio::task::JoinHandle<()>, reqwest::Error> {
    let sender = Arc::new(Sender::new(state.db.clone(), config)?);
    Ok(tokio::spawn(sender.run(shutdown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's test vectors.
    #[test]
    fn signs_like_the_specification() {
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
