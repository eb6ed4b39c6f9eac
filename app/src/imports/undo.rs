//! Undoing an import: a dry run that says in words what would be reversed
//! and what stays, and the undo itself, a durable job of its own that the
//! import workers run batch by batch (one transaction each, checkpoint
//! included), like an import.
//!
//! An undo reverses only what the import recorded having done and what
//! nobody has acted on since: it cancels the import's invitations that are
//! still pending (accepted ones stay), ends the group memberships it made
//! that are still active, and removes from the organization the people it
//! added whose membership nobody used (never accepted, or an account that
//! never had a password and that no other organization holds) and who are
//! in none of its groups. Accounts are never deleted. Each step's
//! condition is checked in the batch that acts, and the checkpoint moves
//! with it, so a re-run after a crash neither repeats nor overreaches.

use super::{
    service, store, store::UndoBatch, ImportEffect, UndoPhase, UndoPlan, UndoProgress, UndoStatus,
};
use crate::{
    activation,
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{self, CurrentUser},
    db::Db,
    error::AppError,
    groups, invitations,
    state::now,
};

use super::worker::WorkerConfig;

pub async fn dry_run(db: &Db, organization_id: i64, id: i64) -> Result<UndoPlan, AppError> {
    let counts = store::undo_counts(&db.pool, organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(UndoPlan {
        invitations: counts.invitations,
        group_memberships: counts.group_memberships,
        group_name: counts.group_name,
        accounts: counts.accounts,
        accepted: counts.accepted,
        activated: (counts.people_added - counts.accounts).max(0),
    })
}

/// Queues the undo of a finished import; an import undone (or being
/// undone) already is left as it is.
pub async fn start(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let import = service::get(db, user.organization_id, id).await?;
    if import.undo.is_some() {
        return Ok(());
    }
    if !import.status.can_undo() {
        return Err(AppError::Conflict(format!(
            "This import is {}; it can be undone once it has finished.",
            import.status.label().to_lowercase()
        )));
    }
    let plan = dry_run(db, user.organization_id, id).await?;
    let mut tx = db.begin().await?;
    let queued = store::insert_undo(
        &mut *tx,
        user.organization_id,
        id,
        user.user_id,
        plan.total(),
        now(),
    )
    .await?;
    if !queued {
        // Asked twice at once: the first request is the one recorded.
        return Ok(());
    }
    let entry = AuditEntry::by(user, AuditAction::ImportUndone)
        .subject(Subject::Import, id, &import.source_name)
        .count(plan.total())
        .details(plan.sentence());
    record(&mut tx, &entry).await?;
    tx.wake_on_commit(super::worker::wakeup());
    tx.commit().await?;
    tracing::info!(
        organization_id = user.organization_id,
        import_id = id,
        "import undo queued"
    );
    Ok(())
}

pub fn progress(record: store::UndoRecord) -> UndoProgress {
    UndoProgress {
        status: record.status,
        requested_by: record.requested_by,
        planned: record.planned,
        invitations_cancelled: record.invitations_cancelled,
        group_memberships_ended: record.group_memberships_ended,
        accounts_deactivated: record.accounts_deactivated,
        kept: record.kept,
        created_at: record.created_at,
        finished_at: record.finished_at,
    }
}

/// Consecutive failed batches after which an undo is marked failed.
const MAX_FAILURES: i64 = 5;

/// Runs one batch of one undo. Returns whether there was anything to do.
pub async fn run_batch(db: &Db, config: &WorkerConfig) -> Result<bool, AppError> {
    let Some(import_id) =
        store::claim_undo(db, &config.worker_id, config.lease_secs, now()).await?
    else {
        return Ok(false);
    };
    match process(db, config, import_id).await {
        Ok(()) => Ok(true),
        Err(error) => {
            let mut tx = db.begin().await?;
            let failures = store::count_undo_failure(&mut tx, import_id, &config.worker_id).await?;
            tracing::error!(import_id, ?failures, ?error, "import undo batch failed");
            if failures.is_some_and(|n| n >= MAX_FAILURES) {
                store::finish_undo(&mut tx, import_id, UndoStatus::Failed, now()).await?;
            }
            tx.commit().await?;
            Err(error)
        }
    }
}

async fn process(db: &Db, config: &WorkerConfig, import_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let until = now() + config.lease_secs;
    let Some(job) = store::renew_undo_lease(&mut tx, import_id, &config.worker_id, until).await?
    else {
        return Ok(());
    };
    let org = job.organization_id;
    let limit = config.batch_size;
    let mut batch = UndoBatch::default();
    let (phase, checkpoint) = match job.phase {
        UndoPhase::Invitations => {
            let ids =
                invitations::store::pending_of_import(&mut *tx, org, import_id, limit).await?;
            for chunk in ids.chunks(store::IN_CHUNK) {
                batch.invitations_cancelled +=
                    invitations::store::cancel_pending(&mut *tx, org, chunk).await? as i64;
            }
            if (ids.len() as i64) < limit {
                (UndoPhase::GroupMemberships, 0)
            } else {
                (UndoPhase::Invitations, 0)
            }
        }
        UndoPhase::GroupMemberships => {
            let effects = store::effects_after(
                &mut tx,
                import_id,
                ImportEffect::GroupMembership,
                job.checkpoint,
                limit,
            )
            .await?;
            let ids: Vec<i64> = effects.iter().map(|(_, target)| *target).collect();
            for chunk in ids.chunks(store::IN_CHUNK) {
                batch.group_memberships_ended +=
                    groups::store::end_memberships(&mut tx, org, chunk).await? as i64;
            }
            next(
                &effects,
                UndoPhase::GroupMemberships,
                UndoPhase::Memberships,
                limit,
            )
        }
        UndoPhase::Memberships => {
            let effects = store::effects_after(
                &mut tx,
                import_id,
                ImportEffect::Membership,
                job.checkpoint,
                limit,
            )
            .await?;
            let ids: Vec<i64> = effects.iter().map(|(_, target)| *target).collect();
            for chunk in ids.chunks(store::IN_CHUNK) {
                let gone = auth::store::delete_unused_memberships(&mut *tx, org, chunk).await?;
                // Their activation links would only reach a membership that is gone.
                for user_id in &gone {
                    activation::store::replace_pending(&mut *tx, *user_id).await?;
                }
                batch.accounts_deactivated += gone.len() as i64;
                batch.kept += (chunk.len() - gone.len()) as i64;
            }
            next(
                &effects,
                UndoPhase::Memberships,
                UndoPhase::Memberships,
                limit,
            )
        }
    };
    let done =
        job.phase == UndoPhase::Memberships && phase == UndoPhase::Memberships && checkpoint == 0;
    store::record_undo_batch(&mut tx, import_id, phase, checkpoint, &batch).await?;
    if done {
        store::finish_undo(&mut tx, import_id, UndoStatus::Completed, now()).await?;
        tracing::info!(import_id, "import undone");
    }
    tx.commit().await?;
    Ok(())
}

/// Where an effects phase goes after a batch: on from the last effect, or
/// (fewer than a batch left) to the next phase from its start. The last
/// phase "moves on" to itself at checkpoint 0, which ends the undo.
fn next(effects: &[(i64, i64)], this: UndoPhase, then: UndoPhase, limit: i64) -> (UndoPhase, i64) {
    match effects.last() {
        Some((last, _)) if effects.len() as i64 >= limit => (this, *last),
        _ => (then, 0),
    }
}
