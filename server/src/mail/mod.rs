//! The sender: claims due outbox rows with a lease, delivers them over SMTP
//! (lettre, pooled connections) or into the dev mailbox, and records each
//! result, retrying with exponential backoff up to a maximum of attempts.
//!
//! Several processes on one PostgreSQL never claim the same row: the claim is
//! one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`; on SQLite the
//! same single statement is atomic because SQLite has one writer at a time.
//! A claimed row is leased (`locked_until`, `lease_owner`): results are only
//! recorded under the lease that claimed the row, and a crashed sender's rows
//! are picked up once the lease runs out (`MUSTER_MAIL_LEASE_SECONDS`).
//! Results are recorded as messages go out, a few at a time, so a crash
//! repeats only the messages that were on the wire. On shutdown the sender
//! finishes the messages already on the wire and releases the rest of its
//! batch at once.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

pub use app::mail::store::Claimed;
use app::{
    mail::{store as outbox, OutboxStatus},
    state::{AppState, Shutdown},
};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::client::{AsyncSmtpConnection, TlsParameters},
    Message,
};
use tokio::sync::Mutex;

use crate::leased;

mod config;
mod dkim;
mod smtp;
mod subject;

pub use config::{domain_of, message_id, MailConfig, SmtpConfig, TlsMode};
pub use dkim::DkimSettings;
use smtp::SMTP_TIMEOUT;

/// The window of `MUSTER_MAIL_PER_DOMAIN_PER_MINUTE`.
const MINUTE: Duration = Duration::from_secs(60);

pub enum Outcome {
    Sent {
        /// What the dev mailbox keeps of the message; `None` over SMTP.
        dev_mailbox: Option<outbox::Kept>,
    },
    Retry(String),
    Permanent(String),
    /// Not attempted because the process is stopping: the row goes back to the
    /// queue unchanged, for another sender to take at once.
    Released,
    /// Not attempted because its recipient domain had its messages for this
    /// minute: due again at this Unix time, no attempt counted.
    Deferred(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP configuration: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("MUSTER_SMTP_FROM is not a valid mailbox: {0}")]
    From(#[from] lettre::address::AddressError),
}

pub struct Sender {
    db: app::db::Db,
    config: MailConfig,
    /// Links in rendered messages start with it (`MUSTER_BASE_URL`).
    base_url: String,
    from: Mailbox,
    dkim: Option<Arc<lettre::message::dkim::DkimConfig>>,
    /// Idle SMTP connections, reused across messages.
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    next_slot: Mutex<Instant>,
    /// Per recipient domain: when its current minute began and how many
    /// messages went to it since.
    domain_minutes: std::sync::Mutex<HashMap<String, (Instant, u32)>>,
}

impl Sender {
    pub fn new(db: app::db::Db, config: MailConfig, base_url: &str) -> Result<Sender, MailError> {
        let from: Mailbox = config.from.parse()?;
        if let Some(smtp) = &config.smtp {
            if smtp.tls != TlsMode::None {
                // Fails early on a host name TLS cannot verify.
                TlsParameters::new(smtp.host.clone())?;
            }
        }
        Ok(Sender {
            db,
            base_url: base_url.trim_end_matches('/').to_owned(),
            dkim: config
                .dkim
                .as_ref()
                .map(|dkim| Arc::new(dkim.lettre_config())),
            config,
            from,
            idle: std::sync::Mutex::new(Vec::new()),
            next_slot: Mutex::new(Instant::now()),
            domain_minutes: std::sync::Mutex::new(HashMap::new()),
        })
    }

    async fn throttle(&self) {
        if self.config.per_minute == 0 {
            return;
        }
        let interval = Duration::from_secs(60) / self.config.per_minute;
        let wait_until = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(wait_until.into()).await;
    }

    /// `None` when a message to `to_email` may go now (and counts it), else
    /// when its domain's minute ends (`MUSTER_MAIL_PER_DOMAIN_PER_MINUTE`).
    fn domain_wait(&self, to_email: &str) -> Option<Duration> {
        let limit = self.config.per_domain_per_minute;
        if limit == 0 {
            return None;
        }
        let domain = to_email
            .rsplit_once('@')
            .map_or(to_email, |(_, domain)| domain)
            .to_ascii_lowercase();
        let now = Instant::now();
        let mut minutes = self.domain_minutes.lock().expect("domain counts");
        let (started, sent) = minutes.entry(domain).or_insert((now, 0));
        if now.duration_since(*started) >= MINUTE {
            (*started, *sent) = (now, 0);
        }
        if *sent < limit {
            *sent += 1;
            return None;
        }
        Some(MINUTE.saturating_sub(now.duration_since(*started)))
    }

    /// Delivers one claimed row, unless stopping is asked for before it is
    /// sent or its domain has had its messages for this minute.
    pub async fn deliver(&self, row: &Claimed, shutdown: &Shutdown) -> Outcome {
        if shutdown.is_requested() {
            return Outcome::Released;
        }
        if let Some(wait) = self.domain_wait(&row.to_email) {
            let seconds = i64::try_from(wait.as_secs()).unwrap_or(60) + 1;
            return Outcome::Deferred(app::state::now() + seconds);
        }
        // Rendered now, from the intent: the names it was queued with, the
        // link on this process's base URL.
        let rendered = match row.render(&self.base_url) {
            Ok(rendered) => rendered,
            Err(error) => return Outcome::Permanent(error.to_string()),
        };
        let Some(smtp) = &self.config.smtp else {
            let kept = match outbox::Kept::seal(&rendered) {
                Ok(kept) => kept,
                Err(error) => return Outcome::Permanent(error.to_string()),
            };
            // The dev mailbox keeps the same pace as a mail server would, so
            // what an admin tries locally is what production does.
            let mut stopping = shutdown.clone();
            tokio::select! {
                _ = self.throttle() => {}
                _ = stopping.requested() => return Outcome::Released,
            }
            return Outcome::Sent {
                dev_mailbox: Some(kept),
            };
        };
        let app::mail::templates::Rendered {
            subject: subject_line,
            text,
            html,
        } = rendered;
        let to: Mailbox = match row.to_email.parse() {
            Ok(to) => to,
            Err(error) => return Outcome::Permanent(format!("invalid recipient: {error}")),
        };
        let message = subject::subject(Message::builder(), &subject_line)
            .from(self.from.clone())
            .to(to)
            .message_id(Some(message_id(
                row.id,
                row.created_at,
                &self.config.message_id_domain,
            )))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            );
        let mut message = match message {
            Ok(message) => message,
            Err(error) => {
                return Outcome::Permanent(format!("could not build the message: {error}"))
            }
        };
        if let Some(dkim) = &self.dkim {
            // An RSA-2048 signature takes milliseconds of CPU (about 4 ms in
            // a release build): off the async workers, so requests are not
            // held up behind a batch of signatures.
            let dkim = dkim.clone();
            let signing = tokio::task::spawn_blocking(move || {
                message.sign(&dkim);
                message
            });
            message = match signing.await {
                Ok(signed) => signed,
                Err(error) => return Outcome::Retry(format!("DKIM signing failed: {error}")),
            };
        }
        let mut stopping = shutdown.clone();
        tokio::select! {
            _ = self.throttle() => {}
            _ = stopping.requested() => return Outcome::Released,
        }
        let mut connection = match self.checkout(smtp).await {
            Ok(connection) => connection,
            Err(error) => return Outcome::Retry(error),
        };
        let sent = tokio::time::timeout(
            SMTP_TIMEOUT,
            connection.send(message.envelope(), &message.formatted()),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {
                self.checkin(connection);
                Outcome::Sent { dev_mailbox: None }
            }
            // lettre closes the connection after any error.
            Ok(Err(error)) if error.is_permanent() => Outcome::Permanent(smtp_answer(&error)),
            Ok(Err(error)) => Outcome::Retry(smtp_answer(&error)),
            Err(_) => Outcome::Retry("the SMTP server did not answer in time".to_owned()),
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
        let mut over_smtp: Vec<(i64, String)> = Vec::new();
        for (row, outcome) in results {
            match outcome {
                Outcome::Sent { dev_mailbox: None } => over_smtp.push((
                    row.id,
                    message_id(row.id, row.created_at, &self.config.message_id_domain),
                )),
                Outcome::Sent { dev_mailbox } => {
                    let message_id =
                        message_id(row.id, row.created_at, &self.config.message_id_domain);
                    let delivered = outbox::Delivered {
                        message_id: &message_id,
                        dev_mailbox: dev_mailbox.as_ref(),
                    };
                    outbox::record_sent(&mut *tx, row.id, owner, &delivered, now).await?;
                }
                Outcome::Retry(error) | Outcome::Permanent(error) => {
                    let attempts = row.attempts + 1;
                    let give_up = matches!(outcome, Outcome::Permanent(_))
                        || attempts >= self.config.max_attempts;
                    let error: String = error.chars().take(500).collect();
                    tracing::warn!(id = row.id, attempts, give_up, %error, "email not delivered");
                    let attempt = outbox::FailedAttempt {
                        attempts,
                        error: &error,
                        status: if give_up {
                            OutboxStatus::Failed
                        } else {
                            OutboxStatus::Queued
                        },
                        next_attempt_at: now + self.backoff(row.attempts),
                    };
                    outbox::record_failed_attempt(&mut *tx, row.id, owner, &attempt).await?;
                    if let (true, Some(organization_id)) = (give_up, row.organization_id) {
                        email_failed(&mut tx, organization_id, row, attempts, &error).await?;
                    }
                }
                Outcome::Released => outbox::release(&mut *tx, row.id, owner).await?,
                Outcome::Deferred(due) => outbox::defer(&mut *tx, row.id, owner, *due).await?,
            }
        }
        outbox::record_sent_over_smtp(&mut *tx, owner, &over_smtp, now).await?;
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
    const NAME: &'static str = "outbox sender";

    fn wakeup(&self) -> &'static tokio::sync::Notify {
        app::mail::server::sender_wakeup()
    }

    fn poll(&self) -> Duration {
        self.config.poll
    }

    fn concurrency(&self) -> usize {
        self.config.concurrency
    }

    /// Up to `batch` due rows.
    async fn claim(&self, owner: &str) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = app::state::now();
        let lease_until = now + self.config.lease_secs;
        outbox::claim_due(&self.db, owner, now, lease_until, self.config.batch).await
    }

    async fn deliver(&self, row: &Claimed, shutdown: &Shutdown) -> Outcome {
        Sender::deliver(self, row, shutdown).await
    }

    async fn record(&self, owner: &str, results: &[(Claimed, Outcome)]) -> Result<(), sqlx::Error> {
        Sender::record(self, owner, results).await
    }
}

/// The `email.failed` webhook event, in the transaction that records the
/// failure: the address, the kind and the mail server's answer, never the
/// message (which may carry a live link).
async fn email_failed(
    tx: &mut app::db::Tx,
    organization_id: i64,
    row: &Claimed,
    attempts: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    let data = serde_json::json!({
        "email_id": row.id,
        "kind": row.kind,
        "email": row.to_email,
        "attempts": attempts,
        "error": error,
    });
    let event = app::webhooks::EventType::EmailFailed;
    app::webhooks::server::enqueue(tx, organization_id, event, data)
        .await
        .map_err(|error| sqlx::Error::Protocol(format!("queuing email.failed: {error}")))
}

/// What the admin is shown of a failed attempt: the mail server's own
/// answer ("550 5.1.1 mailbox unknown") when it gave one, else lettre's words.
fn smtp_answer(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    match (error.status(), error.source()) {
        (Some(code), Some(text)) => format!("{code} {text}"),
        (Some(code), None) => code.to_string(),
        _ => error.to_string(),
    }
}

/// Starts the sender in the background, sharing the server's database pool,
/// until `shutdown`.
pub fn spawn_sender(
    state: &AppState,
    config: MailConfig,
    shutdown: Shutdown,
) -> Result<tokio::task::JoinHandle<()>, MailError> {
    let target = match &config.smtp {
        Some(smtp) => format!("SMTP {}:{} ({:?})", smtp.host, smtp.port, smtp.tls),
        None => "the dev mailbox at /dev/mailbox (no MUSTER_SMTP_HOST)".to_owned(),
    };
    let sender = Arc::new(Sender::new(
        state.db.clone(),
        config,
        &state.settings.base_url,
    )?);
    tracing::info!("outbox sender delivering to {target}");
    Ok(tokio::spawn(sender.run(shutdown)))
}
