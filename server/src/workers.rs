//! The one home of background work: the outbox and webhook senders, the import workers
//! and the sweepers start here with one [`Shutdown`], and stop here together.

use std::time::Duration;

use app::{
    db::Db,
    imports::worker::WorkerConfig,
    state::{AppState, Shutdown, ShutdownTrigger},
};
use tokio::task::JoinSet;

use crate::{
    mail::{self, MailConfig, MailError},
    webhooks::{self, WebhookConfig},
};

/// Long enough for an import batch or an SMTP exchange (30 s timeout) to end,
/// short enough to finish before a supervisor's usual SIGKILL (30 s after SIGTERM).
pub const GRACE: Duration = Duration::from_secs(25);

/// The running background tasks of this process.
pub struct Workers {
    trigger: ShutdownTrigger,
    tasks: JoinSet<()>,
    db: Db,
    import_worker_ids: Vec<String>,
}

impl Workers {
    /// Starts the sender and `imports.workers` import workers, sharing the
    /// server's state (and database pool). `shutdown` stops them, and so
    /// does [`Workers::stop`].
    pub fn start(
        state: &AppState,
        mail_config: MailConfig,
        webhook_config: WebhookConfig,
        imports: &WorkerConfig,
        reminder_sweep: Duration,
        trigger: ShutdownTrigger,
        shutdown: Shutdown,
    ) -> Result<Workers, MailError> {
        let mut tasks = JoinSet::new();
        if mail_config.deliver {
            let sender = mail::spawn_sender(state, mail_config, shutdown.clone())?;
            tasks.spawn(async move {
                if let Err(error) = sender.await {
                    tracing::error!(%error, "outbox sender ended abnormally");
                }
            });
        }
        match webhooks::spawn_sender(state, webhook_config, shutdown.clone()) {
            Ok(sender) => {
                tasks.spawn(async move {
                    if let Err(error) = sender.await {
                        tracing::error!(%error, "webhook sender ended abnormally");
                    }
                });
            }
            // Only a TLS backend that cannot start fails here: the server
            // still serves, and the deliveries wait in their table.
            Err(error) => tracing::error!(%error, "the webhook sender cannot start"),
        }
        tasks.spawn(sweep(state.clone(), shutdown.clone()));
        tasks.spawn(remind(state.clone(), reminder_sweep, shutdown.clone()));
        let mut import_worker_ids = Vec::new();
        for n in 0..imports.workers {
            let worker = WorkerConfig {
                worker_id: format!("{}-{n}", imports.worker_id),
                ..imports.clone()
            };
            import_worker_ids.push(worker.worker_id.clone());
            tasks.spawn(app::imports::worker::run_worker(
                state.clone(),
                worker,
                shutdown.clone(),
            ));
        }
        Ok(Workers {
            trigger,
            tasks,
            db: state.db.clone(),
            import_worker_ids,
        })
    }

    /// Asks every worker to stop, waits up to `grace` for them to finish what
    /// they hold, cuts off the rest (their transactions roll back), and hands
    /// this process's import leases back so another process resumes at once.
    pub async fn stop(mut self, grace: Duration) {
        self.trigger.stop();
        let finished = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!("background work did not stop within {grace:?}; abandoning it");
            self.tasks.shutdown().await;
        }
        // A worker cut off above could not release its own lease.
        for worker_id in &self.import_worker_ids {
            if let Err(error) = app::imports::store::release_leases(&self.db, worker_id).await {
                tracing::error!(%error, "could not release import leases; they run out by themselves");
            }
        }
    }
}

/// How often ended sessions, expired reset links and full rate-limit
/// buckets are deleted. All three are refused or ignored at once; sweeping
/// only keeps the tables from growing, so a flood of made-up addresses or
/// accounts leaves at most ten minutes of rows behind.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Deletes what has ended every [`SWEEP_EVERY`] until the process stops.
async fn sweep(state: AppState, mut shutdown: Shutdown) {
    while !shutdown.is_requested() {
        sweep_once(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = shutdown.requested() => {}
        }
    }
}

/// One sweep: ended sessions, expired reset links, full rate-limit buckets.
pub async fn sweep_once(state: &AppState) {
    let now = app::state::now();
    let swept = [
        (
            "ended sessions",
            app::auth::service::sweep_sessions(&state.db, &state.settings, now).await,
        ),
        (
            "expired password reset links",
            app::auth::service::password::sweep_resets(&state.db, now).await,
        ),
        (
            "full rate-limit buckets",
            app::limits::service::sweep(&state.db).await,
        ),
    ];
    for (what, result) in swept {
        match result {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "{what} deleted"),
            Err(error) => tracing::error!(%error, "could not delete {what}"),
        }
    }
}

/// Sends the invitation reminders that are due, every `every`, until the
/// process stops. Every process runs one; their claims never overlap.
async fn remind(state: AppState, every: Duration, mut shutdown: Shutdown) {
    while !shutdown.is_requested() {
        let now = app::state::now();
        match app::invitations::service::send_due_reminders(&state.db, now).await {
            Ok(done) if done.sent == 0 && done.deferred == 0 => {}
            Ok(done) => tracing::info!(
                sent = done.sent,
                deferred = done.deferred,
                "invitation reminders"
            ),
            Err(error) => tracing::error!(%error, "could not send invitation reminders"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.requested() => {}
        }
    }
}
