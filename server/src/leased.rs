//! The loop both outboxes' senders run (email in `mail`, webhooks in
//! `webhooks`): claim a batch of due rows under a lease, deliver a few at a
//! time, record each result as it comes (whatever is ready, at most
//! [`RECORD_EVERY`] a transaction, so a crash repeats only what was on the
//! wire), and when nothing is due wait for a wake-up (a committed row) or
//! the poll interval. What differs — the claim, the delivery and how a
//! result is recorded — is each sender's [`LeasedSender`] impl.

use std::{future::Future, sync::Arc, time::Duration};

use app::state::Shutdown;
use futures::StreamExt;
use tokio::sync::Notify;

/// The most delivery results recorded in one transaction.
pub const RECORD_EVERY: usize = 16;

pub trait LeasedSender: Send + Sync + 'static {
    type Row: Send + Sync;
    type Outcome: Send;
    /// What the logs call this sender.
    const NAME: &'static str;

    /// Notified when a transaction that queued a row commits.
    fn wakeup(&self) -> &'static Notify;
    /// How long to wait for a wake-up when nothing is due.
    fn poll(&self) -> Duration;
    /// Deliveries in flight at once.
    fn concurrency(&self) -> usize;
    /// Claims a batch of due rows for `owner`.
    fn claim(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;
    /// Delivers one row (or gives it back, when stopping is asked for).
    fn deliver(
        &self,
        row: &Self::Row,
        shutdown: &Shutdown,
    ) -> impl Future<Output = Self::Outcome> + Send;
    /// Records results in one transaction, each only if `owner` still holds its row.
    fn record(
        &self,
        owner: &str,
        results: &[(Self::Row, Self::Outcome)],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// Claims one batch, delivers it and records the results. Returns how many
/// rows were handled (0: nothing was due).
pub async fn run_batch<S: LeasedSender>(
    sender: &S,
    shutdown: &Shutdown,
) -> Result<usize, sqlx::Error> {
    let owner = app::links::server::new_token();
    let claimed = sender.claim(&owner).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    // Delivering and recording run side by side: while one transaction of
    // results commits, the next messages are already on the wire (the two
    // are polled together; neither waits for the other to finish a step).
    let (results, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let delivering = async move {
        futures::stream::iter(claimed)
            .map(|row| async move {
                let outcome = sender.deliver(&row, shutdown).await;
                (row, outcome)
            })
            .buffer_unordered(sender.concurrency().max(1))
            .for_each(|result| {
                // The receiver lives until this stream ends, unless recording
                // failed, and then the error below ends the batch anyway.
                let _ = results.send(result);
                async {}
            })
            .await;
        Ok::<(), sqlx::Error>(())
    };
    let recording = async {
        let mut ready = Vec::with_capacity(RECORD_EVERY);
        while finished.recv_many(&mut ready, RECORD_EVERY).await > 0 {
            sender.record(&owner, &ready).await?;
            ready.clear();
        }
        Ok::<(), sqlx::Error>(())
    };
    tokio::try_join!(delivering, recording)?;
    Ok(count)
}

/// [`run_batch`] once, with no stopping asked for.
pub async fn run_once<S: LeasedSender>(sender: &S) -> Result<usize, sqlx::Error> {
    let (_trigger, never) = Shutdown::new();
    run_batch(sender, &never).await
}

/// Runs until `shutdown`: batches while rows are due, then waits for a
/// wake-up or the poll interval.
pub async fn run<S: LeasedSender>(sender: Arc<S>, mut shutdown: Shutdown) {
    let wakeup = sender.wakeup();
    while !shutdown.is_requested() {
        let notified = wakeup.notified();
        let pause = match run_batch(sender.as_ref(), &shutdown).await {
            Ok(0) => sender.poll(),
            Ok(_) => continue,
            Err(error) => {
                tracing::error!(%error, "{}: database error", S::NAME);
                sender.poll()
            }
        };
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.requested() => {}
        }
    }
}
