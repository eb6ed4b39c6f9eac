//! The SQL of an import's recorded effects (`import_effects`, written by
//! the worker in the batch that caused them) and of its undo
//! (`import_undos`): the dry run's counts, the claim, lease, checkpoint and
//! finish of the undo job.

use sqlx::{Any, AnyConnection, Executor};

use crate::{
    db::{Backend, Bind, Bulk, Db},
    error::AppError,
    imports::{ImportEffect, UndoPhase, UndoStatus},
};

/// Records that import `import_id` made the rows `target_ids` (memberships
/// or group memberships), in the transaction that made them.
pub async fn record_effects(
    conn: &mut AnyConnection,
    import_id: i64,
    effect: ImportEffect,
    target_ids: &[i64],
) -> Result<(), AppError> {
    for chunk in target_ids.chunks(super::IN_CHUNK / 3) {
        let mut insert =
            Bulk::new("INSERT INTO import_effects (import_id, effect, target_id) VALUES ");
        for id in chunk {
            insert.row(vec![
                Bind::from(import_id),
                Bind::from(effect.as_str()),
                Bind::from(*id),
            ]);
        }
        insert.push(" ON CONFLICT DO NOTHING");
        insert.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// What an undo of the import would do now, and what it would keep.
#[derive(Debug, Default, sqlx::FromRow)]
pub struct UndoCounts {
    pub invitations: i64,
    pub accepted: i64,
    pub group_memberships: i64,
    pub accounts: i64,
    /// People the import added to the organization who are still members.
    pub people_added: i64,
    pub group_name: Option<String>,
}

pub async fn undo_counts<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    import_id: i64,
) -> Result<Option<UndoCounts>, AppError> {
    // The people an undo removes from the organization are those whose
    // membership nobody used and who are in none of its groups once the
    // undo has ended the group memberships the import made.
    let sql = format!(
        "SELECT
           (SELECT COUNT(*) FROM invitations
             WHERE organization_id = $1 AND import_id = $2 AND status = 'pending') AS invitations,
           (SELECT COUNT(*) FROM invitations
             WHERE organization_id = $1 AND import_id = $2 AND status = 'active') AS accepted,
           (SELECT COUNT(*) FROM import_effects e JOIN group_memberships gm ON gm.id = e.target_id
             WHERE e.import_id = $2 AND e.effect = 'group_membership' AND gm.status = 'active')
             AS group_memberships,
           (SELECT COUNT(*) FROM import_effects e JOIN memberships m ON m.id = e.target_id
             WHERE e.import_id = $2 AND e.effect = 'membership' AND m.organization_id = $1
               AND NOT EXISTS (SELECT 1 FROM group_memberships gm
                     JOIN learning_groups g ON g.id = gm.group_id
                     WHERE gm.user_id = m.user_id AND g.organization_id = m.organization_id
                       AND gm.status = 'active'
                       AND gm.id NOT IN (SELECT x.target_id FROM import_effects x
                                          WHERE x.import_id = $2 AND x.effect = 'group_membership'))
               AND (m.status = 'pending' OR EXISTS (SELECT 1 FROM users u
                     WHERE u.id = m.user_id AND {owned})))
             AS accounts,
           (SELECT COUNT(*) FROM import_effects e JOIN memberships m ON m.id = e.target_id
             WHERE e.import_id = $2 AND e.effect = 'membership' AND m.organization_id = $1)
             AS people_added,
           g.name AS group_name
         FROM imports i LEFT JOIN learning_groups g ON g.id = i.group_id
         WHERE i.organization_id = $1 AND i.id = $2",
        owned = crate::auth::store::owned_only_by("u", "m.organization_id"),
    );
    Ok(sqlx::query_as(&sql)
        .bind(organization_id)
        .bind(import_id)
        .fetch_optional(db)
        .await?)
}

/// Queues the import's undo unless it has one; whether it was queued now.
pub async fn insert_undo<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    import_id: i64,
    requested_by: i64,
    planned: i64,
    now: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "INSERT INTO import_undos (import_id, organization_id, requested_by, status, planned, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (import_id) DO NOTHING",
    )
    .bind(import_id)
    .bind(organization_id)
    .bind(requested_by)
    .bind(UndoStatus::Queued.as_str())
    .bind(planned)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

/// An import's undo as its page shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct UndoRecord {
    pub import_id: i64,
    #[sqlx(try_from = "String")]
    pub status: UndoStatus,
    pub planned: i64,
    pub invitations_cancelled: i64,
    pub group_memberships_ended: i64,
    pub accounts_deactivated: i64,
    pub kept: i64,
    pub requested_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const UNDO_SELECT: &str = "SELECT d.import_id, d.status, d.planned, d.invitations_cancelled,
        d.group_memberships_ended, d.accounts_deactivated, d.kept,
        COALESCE(NULLIF(TRIM(COALESCE(m.first_name, '') || ' ' || COALESCE(m.last_name, '')), ''), u.email, '') AS requested_by,
        d.created_at, d.finished_at
     FROM import_undos d JOIN users u ON u.id = d.requested_by
     LEFT JOIN memberships m ON m.user_id = d.requested_by AND m.organization_id = d.organization_id";

pub async fn undo_of<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    import_id: i64,
) -> Result<Option<UndoRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{UNDO_SELECT} WHERE d.organization_id = $1 AND d.import_id = $2"
    ))
    .bind(organization_id)
    .bind(import_id)
    .fetch_optional(db)
    .await?)
}

/// The undos of the organization's imports among `import_ids`.
pub async fn undos_of(
    db: &Db,
    organization_id: i64,
    import_ids: &[i64],
) -> Result<Vec<UndoRecord>, AppError> {
    if import_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Bulk::new(UNDO_SELECT);
    select
        .push(" WHERE d.organization_id = ")
        .bind(organization_id)
        .push(" AND d.import_id IN ")
        .row(import_ids.iter().map(|id| Bind::from(*id)).collect());
    Ok(select.query_as().fetch_all(&db.pool).await?)
}

/// Claims an undo to run a batch of: queued, already this worker's, or
/// abandoned when its lease ran out. Returns its import's id.
pub async fn claim_undo(
    db: &Db,
    worker_id: &str,
    lease_secs: i64,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let claimable =
        "(status = 'queued' OR (status = 'running' AND (locked_until < $3 OR lease_owner = $1)))";
    let sql = format!(
        "UPDATE import_undos SET status = 'running', lease_owner = $1, locked_until = $2
         WHERE import_id = (SELECT import_id FROM import_undos WHERE {claimable}
                            ORDER BY import_id LIMIT 1 {lock})
           AND {claimable}
         RETURNING import_id"
    );
    let claimed: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(worker_id)
        .bind(now + lease_secs)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    Ok(claimed.map(|(id,)| id))
}

/// A running undo as its worker needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct UndoJob {
    pub import_id: i64,
    pub organization_id: i64,
    #[sqlx(try_from = "String")]
    pub phase: UndoPhase,
    pub checkpoint: i64,
}

/// Extends `worker_id`'s lease on the undo and reads it; a write, so it
/// fails once another worker has taken over. None: the lease is gone.
pub async fn renew_undo_lease(
    conn: &mut AnyConnection,
    import_id: i64,
    worker_id: &str,
    until: i64,
) -> Result<Option<UndoJob>, AppError> {
    Ok(sqlx::query_as(
        "UPDATE import_undos SET locked_until = $3
         WHERE import_id = $1 AND lease_owner = $2 AND status = 'running'
         RETURNING import_id, organization_id, phase, checkpoint",
    )
    .bind(import_id)
    .bind(worker_id)
    .bind(until)
    .fetch_optional(conn)
    .await?)
}

/// The next `limit` effects of one kind after the checkpoint: (id, target id).
pub async fn effects_after(
    conn: &mut AnyConnection,
    import_id: i64,
    effect: ImportEffect,
    checkpoint: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, target_id FROM import_effects
         WHERE import_id = $1 AND effect = $2 AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(import_id)
    .bind(effect.as_str())
    .bind(checkpoint)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// What one batch of an undo did.
#[derive(Debug, Default)]
pub struct UndoBatch {
    pub invitations_cancelled: i64,
    pub group_memberships_ended: i64,
    pub accounts_deactivated: i64,
    pub kept: i64,
}

/// Adds a batch's counts and moves the undo to `phase` and `checkpoint`,
/// in the batch's transaction.
pub async fn record_undo_batch(
    conn: &mut AnyConnection,
    import_id: i64,
    phase: UndoPhase,
    checkpoint: i64,
    batch: &UndoBatch,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE import_undos SET phase = $2, checkpoint = $3,
             invitations_cancelled = invitations_cancelled + $4,
             group_memberships_ended = group_memberships_ended + $5,
             accounts_deactivated = accounts_deactivated + $6, kept = kept + $7, failures = 0
         WHERE import_id = $1",
    )
    .bind(import_id)
    .bind(phase.as_str())
    .bind(checkpoint)
    .bind(batch.invitations_cancelled)
    .bind(batch.group_memberships_ended)
    .bind(batch.accounts_deactivated)
    .bind(batch.kept)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the undo in `status` and lets go of its lease.
pub async fn finish_undo(
    conn: &mut AnyConnection,
    import_id: i64,
    status: UndoStatus,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE import_undos SET status = $2, finished_at = $3, lease_owner = NULL, locked_until = NULL
         WHERE import_id = $1",
    )
    .bind(import_id)
    .bind(status.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a failed undo batch while `worker_id` holds it; None if the lease is gone.
pub async fn count_undo_failure(
    conn: &mut AnyConnection,
    import_id: i64,
    worker_id: &str,
) -> Result<Option<i64>, AppError> {
    let failures: Option<(i64,)> = sqlx::query_as(
        "UPDATE import_undos SET failures = failures + 1
         WHERE import_id = $1 AND lease_owner = $2 AND status = 'running' RETURNING failures",
    )
    .bind(import_id)
    .bind(worker_id)
    .fetch_optional(conn)
    .await?;
    Ok(failures.map(|(n,)| n))
}

/// Gives up `worker_id`'s undo leases so that another worker resumes at once.
pub async fn release_undo_leases(db: &Db, worker_id: &str) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE import_undos SET lease_owner = NULL, locked_until = 0
         WHERE lease_owner = $1 AND status = 'running'",
    )
    .bind(worker_id)
    .execute(&db.pool)
    .await?
    .rows_affected())
}
