//! The import worker: claims an import with a lease, runs its rows in batches
//! (one transaction each, checkpoint included) and finishes it with an email.
//! What a batch does to its rows depends on the import's kind: one executor
//! file per kind, chosen in [`execute`].
//!
//! A batch's effects and its checkpoint commit together, so a crash loses at
//! most the batch in flight, which the next claim redoes from the checkpoint.
//! Unique constraints with `ON CONFLICT DO NOTHING` make any replay harmless.

mod accounts;
mod group_members;
mod invites;
mod learners;
mod people;

use std::collections::HashMap;
use std::time::Duration;

use muster_core::ImportKind;
use sqlx::AnyConnection;

use super::{
    store::{self, BatchOutcome, PendingRow},
    ImportRowStatus, ImportStatus,
};
use crate::{
    db::{Backend, Db, Tx},
    error::AppError,
    links::server::new_token,
    mail::{
        self,
        server::{MailKind, Params},
    },
    state::{now, AppState, Shutdown},
};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Rows per transaction.
    pub batch_size: i64,
    /// How long a claim lasts without a finished batch before another worker may take over.
    pub lease_secs: i64,
    /// How often an idle worker looks for imports (other processes do not wake it).
    pub poll_interval: Duration,
    pub worker_id: String,
    /// Workers this process runs (0: none, for a web-only process).
    pub workers: usize,
    /// Batches of one Invites import a worker runs side by side on
    /// PostgreSQL, each in its own transaction, committed in order (see
    /// [`run_lanes`]). SQLite has one writer, so it always runs one.
    pub lanes: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch_size: 1_000,
            lease_secs: 30,
            poll_interval: Duration::from_secs(2),
            worker_id: format!("import-{}-{}", std::process::id(), &new_token()[..8]),
            workers: 1,
            lanes: 1,
        }
    }
}

static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();

/// What this process's import workers sleep on between polls. Transactions
/// that queue an import wake it on commit ([`Tx::wake_on_commit`]).
pub fn wakeup() -> &'static tokio::sync::Notify {
    WAKE.get_or_init(tokio::sync::Notify::new)
}

/// Runs batches until `shutdown` is requested. A batch in flight is finished
/// first (it is one transaction), so stopping never leaves half a batch; the
/// worker then gives up its lease so that another process resumes at once.
pub async fn run_worker(state: AppState, config: WorkerConfig, mut shutdown: Shutdown) {
    // Imports and undos take turns, each going first every other round, so
    // a stream of imports never holds an undo back (nor the other way round).
    let mut undo_first = false;
    while !shutdown.is_requested() {
        undo_first = !undo_first;
        let batch = if undo_first {
            match super::undo::run_batch(&state.db, &config).await {
                Ok(false) => run_batch(&state.db, &config).await,
                other => other,
            }
        } else {
            match run_batch(&state.db, &config).await {
                Ok(false) => super::undo::run_batch(&state.db, &config).await,
                other => other,
            }
        };
        let pause = match batch {
            Ok(true) => continue,
            Ok(false) => config.poll_interval,
            Err(error) => {
                tracing::error!(?error, "import batch failed; retrying");
                config.poll_interval
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(pause, wakeup().notified()) => {}
            _ = shutdown.requested() => {}
        }
    }
    if let Err(error) = store::release_undo_leases(&state.db, &config.worker_id).await {
        tracing::error!(
            ?error,
            "could not release undo leases; they run out instead"
        );
    }
    match store::release_leases(&state.db, &config.worker_id).await {
        Ok(0) => {}
        Ok(released) => {
            tracing::info!(worker = %config.worker_id, released, "import leases released")
        }
        Err(error) => tracing::error!(
            ?error,
            "could not release import leases; they run out instead"
        ),
    }
}

/// Runs one batch of one import. Returns whether there was anything to do.
pub async fn run_batch(db: &Db, config: &WorkerConfig) -> Result<bool, AppError> {
    let Some(import_id) = store::claim(db, &config.worker_id, config.lease_secs, now()).await?
    else {
        return Ok(false);
    };
    match process(db, config, import_id).await {
        Ok(()) => Ok(true),
        Err(error) => {
            record_failure(db, config, import_id).await?;
            Err(error)
        }
    }
}

/// The import as the worker needs it.
#[derive(Clone)]
struct Job {
    id: i64,
    organization_id: i64,
    organization: String,
    created_by: i64,
    kind: ImportKind,
    group_id: Option<i64>,
    contract_id: Option<i64>,
    send_emails: bool,
    auto_invite: bool,
    expiry_days: i64,
    checkpoint: i64,
    cancel_requested: bool,
    sync: bool,
}

/// What became of one row, if it has anything to say.
#[derive(Debug, Clone)]
struct Outcome {
    status: ImportRowStatus,
    message: String,
}

impl Outcome {
    fn new(status: ImportRowStatus, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            message: message.into(),
        }
    }
}

/// Outcomes by row position; a row without one succeeded silently.
type Outcomes = HashMap<i64, Outcome>;

/// Consecutive failed batches after which an import is marked failed.
const MAX_FAILURES: i64 = 5;

/// A batch failed (its transaction rolled back): count it, wait a little before
/// the next attempt, and after [`MAX_FAILURES`] in a row end the import as failed.
async fn record_failure(db: &Db, config: &WorkerConfig, import_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let failures = store::count_failure(&mut tx, import_id, &config.worker_id).await?;
    tracing::error!(import_id, ?failures, "import batch failed");
    if failures.is_some_and(|n| n >= MAX_FAILURES) {
        if let Some(job) = load_job(&mut tx, config, import_id).await? {
            store::set_error(
                &mut tx,
                import_id,
                "The import stopped after repeated errors on our side. Rows marked success \
                 were imported; fix and retry the rest.",
            )
            .await?;
            finish(&mut tx, &job, ImportStatus::Failed).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Renews this worker's lease and reads the import. None: the lease is gone.
async fn load_job(
    tx: &mut Tx,
    config: &WorkerConfig,
    import_id: i64,
) -> Result<Option<Job>, AppError> {
    let until = now() + config.lease_secs;
    let Some(job) = store::renew_lease(tx, import_id, &config.worker_id, until).await? else {
        return Ok(None);
    };
    let organization =
        crate::auth::store::organization_name(&mut **tx, job.organization_id).await?;
    Ok(Some(Job {
        id: job.id,
        organization_id: job.organization_id,
        organization,
        created_by: job.created_by,
        kind: job.kind.parse().map_err(|_| {
            tracing::error!(import_id, kind = job.kind, "import of an unknown kind");
            AppError::Internal
        })?,
        group_id: job.group_id,
        contract_id: job.contract_id,
        send_emails: job.send_emails != 0,
        auto_invite: job.auto_invite != 0,
        expiry_days: job.expiry_days,
        checkpoint: job.checkpoint,
        cancel_requested: job.cancel_requested != 0,
        sync: job.sync != 0,
    }))
}

/// One batch of a claimed import, in one transaction (or several side by
/// side, where [`run_lanes`] applies).
async fn process(db: &Db, config: &WorkerConfig, import_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let Some(mut job) = load_job(&mut tx, config, import_id).await? else {
        return Ok(());
    };
    if config.lanes > 1
        && db.backend == Backend::Postgres
        && job.kind == ImportKind::Invites
        && !job.cancel_requested
    {
        // The renewed lease commits on its own: held for the batch, the
        // import's row would queue each lane behind the one before it.
        tx.commit().await?;
        if run_lanes(db, config, &job).await? {
            return Ok(());
        }
        tx = db.begin().await?;
        match load_job(&mut tx, config, import_id).await? {
            Some(again) => job = again,
            None => return Ok(()),
        }
    }
    if job.cancel_requested {
        finish(&mut tx, &job, ImportStatus::Cancelled).await?;
        tx.commit().await?;
        return Ok(());
    }
    let started = std::time::Instant::now();
    let rows = store::pending_rows(&mut tx, job.id, job.checkpoint, config.batch_size).await?;
    let read = started.elapsed();
    if rows.is_empty() {
        if job.kind == ImportKind::People {
            people::link(&mut tx, &job).await?;
        }
        if job.sync {
            sync(db, &mut tx, &job).await?;
        }
        let failed = store::failed_count(&mut tx, job.id).await?;
        finish(&mut tx, &job, ImportStatus::completed(failed)).await?;
        tx.commit().await?;
        return Ok(());
    }
    let outcomes = execute(db, &mut tx, &job, &rows).await?;
    let executed = started.elapsed();
    // The lease was renewed in this transaction, which holds the import's
    // row since: the checkpoint is still where it was read.
    if !record(&mut tx, config, &job, &rows, &outcomes).await? {
        tracing::error!(
            import_id = job.id,
            "import checkpoint moved under a held lease"
        );
        return Err(AppError::Internal);
    }
    let recorded = started.elapsed();
    tx.commit().await?;
    // Where a batch's time goes, for tuning batch sizes and finding the slow step.
    tracing::debug!(
        import_id = job.id,
        rows = rows.len(),
        read_us = read.as_micros() as u64,
        execute_us = (executed - read).as_micros() as u64,
        record_us = (recorded - executed).as_micros() as u64,
        commit_us = (started.elapsed() - recorded).as_micros() as u64,
        "import batch"
    );
    Ok(())
}

/// Runs the next [`WorkerConfig::lanes`] batches of an Invites import at
/// once, each in its own transaction on its own connection; `job` was read
/// with its lease renewed and committed. Returns false, having done nothing,
/// where the one-batch path must run instead: the last batch (which
/// finishes the import), or an address that more than one of the batches
/// names.
///
/// Why: on PostgreSQL a batch's time is mostly the database inserting
/// invitations (index entries and foreign-key checks), which one
/// connection does on one core; two batches use two.
///
/// Why it stays safe:
/// - Each lane commits only after the lane before it committed, and its
///   checkpoint update requires the checkpoint that lane left and this
///   worker's lease. A lane that fails rolls back every lane after it, so the
///   rows behind the checkpoint are exactly those committed, as with one batch.
/// - Lanes touch disjoint invitations: no address is in two of them, so
///   neither waits in PostgreSQL for a row the other holds while that one
///   waits here for its turn to commit. Against another worker's lanes (two
///   imports of the same people into one group at once) such a cycle is still
///   possible, and PostgreSQL cannot see the half of it that waits here: a
///   lock timeout turns it into a failed batch that is retried.
/// - Program invitations are left out: their seats are counted under a lock
///   on the contract, which lanes would only queue on.
async fn run_lanes(db: &Db, config: &WorkerConfig, job: &Job) -> Result<bool, AppError> {
    let batch_size = usize::try_from(config.batch_size).unwrap_or(1).max(1);
    let mut conn = db.pool.acquire().await?;
    let rows = store::pending_rows(
        &mut conn,
        job.id,
        job.checkpoint,
        config.batch_size.saturating_mul(config.lanes as i64),
    )
    .await?;
    drop(conn);
    let mut addresses = std::collections::HashSet::new();
    let distinct = rows
        .iter()
        .filter_map(|row| row.email.as_deref())
        .all(|email| addresses.insert(email));
    if rows.len() <= batch_size || !distinct {
        return Ok(false);
    }
    let mut lanes = tokio::task::JoinSet::new();
    let mut before: Option<tokio::sync::oneshot::Receiver<()>> = None;
    let mut checkpoint = job.checkpoint;
    for (lane, batch) in rows.chunks(batch_size).enumerate() {
        let (committed, next) = tokio::sync::oneshot::channel();
        let turn = Turn {
            lane,
            checkpoint,
            after: before.replace(next),
            committed,
        };
        checkpoint = batch.last().map_or(checkpoint, |row| row.position + 1);
        let (db, config, job, rows) = (db.clone(), config.clone(), job.clone(), batch.to_vec());
        lanes.spawn(async move { (lane, lane_batch(&db, &config, job, &rows, turn).await) });
    }
    // Lanes end in any order; the first failure by lane order is the one
    // that stopped the lanes after it.
    let mut ended = Vec::new();
    while let Some(joined) = lanes.join_next().await {
        ended.push(joined.map_err(|error| {
            tracing::error!(%error, import_id = job.id, "an import lane ended abnormally");
            AppError::Internal
        })?);
    }
    ended.sort_by_key(|(lane, _)| *lane);
    for (_, result) in ended {
        result?;
    }
    Ok(true)
}

/// A lane's place in the order of commits.
struct Turn {
    lane: usize,
    /// The checkpoint the lane before leaves (where this lane's rows start).
    checkpoint: i64,
    /// Resolves when the lane before has committed; dropped if it did not.
    after: Option<tokio::sync::oneshot::Receiver<()>>,
    /// Sent once this lane has committed.
    committed: tokio::sync::oneshot::Sender<()>,
}

/// One lane of [`run_lanes`]: its batch in its own transaction. Ok without
/// committing when a lane before it did not commit, or the lease is gone.
async fn lane_batch(
    db: &Db,
    config: &WorkerConfig,
    mut job: Job,
    rows: &[PendingRow],
    turn: Turn,
) -> Result<(), AppError> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '10s'")
        .execute(&mut *tx)
        .await?;
    let outcomes = execute(db, &mut tx, &job, rows).await?;
    let executed = started.elapsed();
    if let Some(after) = turn.after {
        if after.await.is_err() {
            // Rolled back with the lane before it; the next round redoes both.
            return Ok(());
        }
    }
    let waited = started.elapsed();
    job.checkpoint = turn.checkpoint;
    if !record(&mut tx, config, &job, rows, &outcomes).await? {
        tracing::warn!(
            import_id = job.id,
            worker = %config.worker_id,
            "import lease lost during a batch; its work is rolled back"
        );
        return Ok(());
    }
    tx.commit().await?;
    let _ = turn.committed.send(());
    tracing::debug!(
        import_id = job.id,
        lane = turn.lane,
        rows = rows.len(),
        execute_us = executed.as_micros() as u64,
        wait_us = (waited - executed).as_micros() as u64,
        commit_us = (started.elapsed() - waited).as_micros() as u64,
        "import lane"
    );
    Ok(())
}

/// A sync's removals, once every row has run: people the file does not
/// name leave the import's group (Group members: every group the rows name;
/// People: every group of the organization).
async fn sync(db: &Db, tx: &mut Tx, job: &Job) -> Result<(), AppError> {
    let (emails, names) = store::file_roster(tx, job.id).await?;
    let groups = match job.group_id {
        Some(group_id) => super::sync::group(tx, job.organization_id, group_id).await?,
        None if job.kind == ImportKind::People => {
            super::sync::every_group(tx, job.organization_id).await?
        }
        None => super::sync::groups_named(tx, job.organization_id, names).await?,
    };
    let removed = super::sync::apply(tx, db, &groups, &emails).await?;
    tracing::info!(
        import_id = job.id,
        removed,
        "sync removed people the file does not name"
    );
    Ok(())
}

/// The executor of the import's kind runs the batch's rows.
async fn execute(
    db: &Db,
    tx: &mut Tx,
    job: &Job,
    rows: &[PendingRow],
) -> Result<Outcomes, AppError> {
    match job.kind {
        // Program invitations are invitations whose seats a contract counts.
        ImportKind::Invites | ImportKind::ProgramInvitations => {
            invites::run(db, tx, job, rows).await
        }
        ImportKind::GroupMembers => group_members::run(db, tx, job, rows).await,
        ImportKind::Learners => learners::run(tx, job, rows).await,
        ImportKind::People => people::run(tx, job, rows).await,
    }
}

/// Writes each row's outcome and moves the checkpoint past the batch, if
/// the worker still holds the import and its checkpoint is `job`'s. Returns
/// whether it did (if not, the caller must roll back).
async fn record(
    conn: &mut AnyConnection,
    config: &WorkerConfig,
    job: &Job,
    rows: &[PendingRow],
    outcomes: &Outcomes,
) -> Result<bool, AppError> {
    let mut batch = BatchOutcome {
        notes: Vec::new(),
        last: rows.last().map_or(job.checkpoint, |r| r.position),
        succeeded: 0,
        skipped: 0,
        failed: 0,
    };
    for row in rows {
        let outcome = outcomes.get(&row.position);
        let status = outcome.map_or(ImportRowStatus::Success, |o| o.status);
        match status {
            // A row left pending is marked success with the batch's silent successes.
            ImportRowStatus::Success | ImportRowStatus::Pending => batch.succeeded += 1,
            ImportRowStatus::Skipped => batch.skipped += 1,
            ImportRowStatus::Error => batch.failed += 1,
        }
        // Plain successes are marked in one statement; only rows with
        // something to say are written one by one.
        if let Some(outcome) =
            outcome.filter(|o| !(o.status == ImportRowStatus::Success && o.message.is_empty()))
        {
            batch
                .notes
                .push((row.position, outcome.status, outcome.message.as_str()));
        }
    }
    store::record_batch(conn, job.id, &config.worker_id, job.checkpoint, &batch).await
}

/// Ends the import and tells the admin who ran it, in the same transaction.
async fn finish(tx: &mut Tx, job: &Job, status: ImportStatus) -> Result<(), AppError> {
    let finished = store::finish(tx, job.id, status, now()).await?;
    let kind = match status {
        ImportStatus::Cancelled => format!("{} (cancelled)", job.kind.label()),
        _ => job.kind.label().to_owned(),
    };
    // A failed import ended on a fault that reading its invitations may
    // meet again (and a failed statement would abort this transaction on
    // PostgreSQL): its email leaves the counts to the import's page.
    let emails = if job.send_emails && status != ImportStatus::Failed {
        let counts =
            crate::invitations::store::delivery::counts_of_import(&mut **tx, job.id).await?;
        (counts.total() > 0).then_some(counts)
    } else {
        None
    };
    let email = mail::server::Email {
        to: finished.admin_email,
        kind: MailKind::ImportFinished,
        about_id: Some(job.id),
        params: Params::ImportFinished {
            organization: job.organization.clone(),
            kind,
            import_id: job.id,
            total: finished.total_rows,
            succeeded: finished.succeeded,
            skipped: finished.skipped,
            failed: finished.failed,
            emails,
        },
    };
    mail::server::enqueue(tx, Some(job.organization_id), &email).await?;
    crate::webhooks::server::enqueue(
        tx,
        job.organization_id,
        crate::webhooks::EventType::ImportFinished,
        serde_json::json!({
            "import_id": job.id,
            "kind": job.kind,
            "status": status.as_str(),
            "total": finished.total_rows,
            "succeeded": finished.succeeded,
            "skipped": finished.skipped,
            "failed": finished.failed,
        }),
    )
    .await?;
    tracing::info!(
        import_id = job.id,
        status = status.as_str(),
        total = finished.total_rows,
        succeeded = finished.succeeded,
        skipped = finished.skipped,
        failed = finished.failed,
        "import finished"
    );
    Ok(())
}

/// The name emails give for the admin who ran the import.
async fn inviter_name(
    conn: &mut AnyConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<String, AppError> {
    let person = crate::auth::store::name_parts(conn, organization_id, user_id).await?;
    let name = format!("{} {}", person.first_name, person.last_name)
        .trim()
        .to_owned();
    Ok(if name.is_empty() {
        person.email.unwrap_or_default()
    } else {
        name
    })
}
