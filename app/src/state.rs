//! What every request handler and worker shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::db::Db;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Absolute base of every link the product sends; never taken from the
    /// request's Host header, which a client controls.
    pub base_url: String,
    /// Whether anyone may create a further organization after the first.
    pub open_signup: bool,
    /// Rate limits, kept in the database so every process counts together.
    pub limits: crate::limits::Limits,
    /// A session unused this long ends (`MUSTER_SESSION_IDLE_MINUTES`).
    pub session_idle_secs: i64,
    /// A session ends this long after sign-in however it is used (`MUSTER_SESSION_DAYS`).
    pub session_lifetime_secs: i64,
    /// No SMTP host is configured: mail goes to the dev mailbox at `/dev/mailbox`.
    pub dev_mailbox: bool,
    /// Webhooks may go to private, loopback and reserved addresses, and over
    /// http to loopback (`MUSTER_WEBHOOK_ALLOW_PRIVATE`; tests).
    pub webhooks_allow_private: bool,
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<Settings>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        crate::error::AppError::Internal
    })
}

/// Tells background work that the process is stopping. Workers check it
/// between units of work (a batch, a message) so that what they hold is
/// finished or released, never cut off halfway.
#[derive(Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

/// The one handle that asks every [`Shutdown`] made from it to stop.
pub struct ShutdownTrigger(tokio::sync::watch::Sender<bool>);

impl Shutdown {
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (ShutdownTrigger(sender), Shutdown(receiver))
    }

    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once stopping was asked for (at once if it already was);
    /// never, if the trigger is gone without asking.
    pub async fn requested(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl ShutdownTrigger {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}
