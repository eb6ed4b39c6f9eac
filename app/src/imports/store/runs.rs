//! The worker's SQL on `imports` and `import_rows`: claims and leases,
//! batches and their checkpoints, failures, and the finish.

use sqlx::AnyConnection;

use super::{row_status_is, PendingRow, IN_CHUNK};
use crate::{
    db::{Backend, Bind, Bulk, Db},
    error::AppError,
    imports::{ImportRowStatus, ImportStatus},
};

/// Claims the import `worker_id` should run next: among those it may run
/// (queued, already its own, or abandoned when their lease ran out), the
/// one of the organization served longest ago, and within it the import
/// served longest ago. Each claim is one batch and marks the import served,
/// so organizations, and imports of one organization, take turns.
/// Returns its id.
pub async fn claim(
    db: &Db,
    worker_id: &str,
    lease_secs: i64,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // The condition is repeated outside the subquery so that on PostgreSQL a
    // worker that waited for a row lock re-checks it against the new row.
    let sql = format!(
        "UPDATE imports SET status = 'running', lease_owner = $1, locked_until = $2,
                            started_at = COALESCE(started_at, $3),
                            last_batch_seq = (SELECT COALESCE(MAX(last_batch_seq), 0) + 1 FROM imports)
         WHERE id = (SELECT i.id FROM imports i
                     WHERE i.status = 'queued' OR (i.status = 'running' AND (i.locked_until < $3 OR i.lease_owner = $1))
                     ORDER BY (SELECT MAX(o.last_batch_seq) FROM imports o
                               WHERE o.organization_id = i.organization_id),
                              i.last_batch_seq, i.id
                     LIMIT 1 {lock})
           AND (status = 'queued' OR (status = 'running' AND (locked_until < $3 OR lease_owner = $1)))
         RETURNING id"
    );
    let claimed: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(worker_id)
        .bind(now + lease_secs)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    Ok(claimed.map(|(id,)| id))
}

/// A running import as its worker needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct JobRecord {
    pub id: i64,
    pub organization_id: i64,
    pub created_by: i64,
    pub kind: String,
    pub group_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub send_emails: i64,
    pub auto_invite: i64,
    pub expiry_days: i64,
    /// Rows with position < checkpoint are finished.
    pub checkpoint: i64,
    pub cancel_requested: i64,
    pub sync: i64,
}

/// Extends `worker_id`'s lease to `until` and reads the import. Renewing is a
/// write, so it fails if another worker has taken the import over, and it
/// serializes the batches of one import. None: the lease is gone.
pub async fn renew_lease(
    conn: &mut AnyConnection,
    import_id: i64,
    worker_id: &str,
    until: i64,
) -> Result<Option<JobRecord>, AppError> {
    Ok(sqlx::query_as(
        "UPDATE imports SET locked_until = $3
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'
         RETURNING id, organization_id, created_by, kind, group_id, contract_id, send_emails,
                   auto_invite, expiry_days, checkpoint, cancel_requested, sync",
    )
    .bind(import_id)
    .bind(worker_id)
    .bind(until)
    .fetch_optional(conn)
    .await?)
}

/// Gives up `worker_id`'s leases so that another worker resumes at once
/// instead of waiting for them to run out.
pub async fn release_leases(db: &Db, worker_id: &str) -> Result<u64, AppError> {
    let released = sqlx::query(
        "UPDATE imports SET lease_owner = NULL, locked_until = 0
         WHERE lease_owner = $1 AND status = 'running'",
    )
    .bind(worker_id)
    .execute(&db.pool)
    .await?;
    Ok(released.rows_affected())
}

/// Counts a failed batch while `worker_id` still holds the import. The count
/// so far; None if the lease is gone.
pub async fn count_failure(
    conn: &mut AnyConnection,
    import_id: i64,
    worker_id: &str,
) -> Result<Option<i64>, AppError> {
    let failures: Option<(i64,)> = sqlx::query_as(
        "UPDATE imports SET failures = failures + 1
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING failures",
    )
    .bind(import_id)
    .bind(worker_id)
    .fetch_optional(conn)
    .await?;
    Ok(failures.map(|(n,)| n))
}

pub async fn set_error(
    conn: &mut AnyConnection,
    import_id: i64,
    error: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE imports SET error = $2 WHERE id = $1")
        .bind(import_id)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}

/// The pending rows among the next `limit` positions from the checkpoint on
/// (or from the first pending row after it, where those hold none).
///
/// A window of positions rather than `LIMIT`: a table an import has just
/// filled has no statistics yet, and PostgreSQL then planned the `LIMIT` as
/// reading every remaining row of the import and sorting them, for every
/// batch (33 ms per batch halfway through 100,000 rows).
pub async fn pending_rows(
    conn: &mut AnyConnection,
    import_id: i64,
    checkpoint: i64,
    limit: i64,
) -> Result<Vec<PendingRow>, AppError> {
    let mut from = checkpoint;
    loop {
        let rows: Vec<PendingRow> = sqlx::query_as(
            "SELECT position, email, username, first_name, last_name, external_id, role,
                    expiry_days, groups
             FROM import_rows
             WHERE import_id = $1 AND position >= $2 AND position < $3 AND status = 'pending'
             ORDER BY position",
        )
        .bind(import_id)
        .bind(from)
        .bind(from.saturating_add(limit))
        .fetch_all(&mut *conn)
        .await?;
        if !rows.is_empty() {
            return Ok(rows);
        }
        // Every row in the window failed planning (or the import is done).
        let next: (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(position) FROM import_rows
             WHERE import_id = $1 AND position >= $2 AND status = 'pending'",
        )
        .bind(import_id)
        .bind(from)
        .fetch_one(&mut *conn)
        .await?;
        match next {
            (Some(position),) => from = position,
            (None,) => return Ok(rows),
        }
    }
}

pub async fn failed_count(conn: &mut AnyConnection, import_id: i64) -> Result<i64, AppError> {
    let (failed,): (i64,) = sqlx::query_as("SELECT failed FROM imports WHERE id = $1")
        .bind(import_id)
        .fetch_one(conn)
        .await?;
    Ok(failed)
}

/// A batch's outcome: rows with something to say, the last position it
/// covered (the other rows up to it succeeded silently) and its counts.
pub struct BatchOutcome<'a> {
    pub notes: Vec<(i64, ImportRowStatus, &'a str)>,
    pub last: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
}

/// Writes each row's outcome and moves the checkpoint from `checkpoint` past
/// the batch, if `worker_id` still holds the import there. Returns whether it
/// did; if not, nothing of the batch may commit.
pub async fn record_batch(
    conn: &mut AnyConnection,
    import_id: i64,
    worker_id: &str,
    checkpoint: i64,
    batch: &BatchOutcome<'_>,
) -> Result<bool, AppError> {
    for chunk in batch.notes.chunks(IN_CHUNK) {
        let mut update = Bulk::new(
            "UPDATE import_rows SET status = v.column2, message = v.column3 FROM (VALUES ",
        );
        for (position, status, message) in chunk {
            update.row(vec![
                Bind::from(*position),
                Bind::from(status.as_str()),
                Bind::from(message.to_string()),
            ]);
        }
        update.push(") AS v WHERE import_rows.import_id = ");
        update.bind(import_id);
        update.push(" AND import_rows.position = v.column1");
        update.query().execute(&mut *conn).await?;
    }
    // The batch's silent successes are not written: the checkpoint moving
    // past them says it (see `ROW_STATUS`).
    let moved = sqlx::query(
        "UPDATE imports SET checkpoint = $2, succeeded = succeeded + $3, skipped = skipped + $4,
                            failed = failed + $5, failures = 0
         WHERE id = $1 AND lease_owner = $6 AND checkpoint = $7 AND status = 'running'",
    )
    .bind(import_id)
    .bind(batch.last + 1)
    .bind(batch.succeeded)
    .bind(batch.skipped)
    .bind(batch.failed)
    .bind(worker_id)
    .bind(checkpoint)
    .execute(&mut *conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// The counts of a finished import and whom to tell.
#[derive(Debug, sqlx::FromRow)]
pub struct Finished {
    pub total_rows: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
    pub admin_email: String,
}

/// Ends the import in `status` and lets go of its lease.
pub async fn finish(
    conn: &mut AnyConnection,
    import_id: i64,
    status: ImportStatus,
    now: i64,
) -> Result<Finished, AppError> {
    Ok(sqlx::query_as(
        "UPDATE imports SET status = $2, finished_at = $3, lease_owner = NULL, locked_until = NULL
         WHERE id = $1
         RETURNING total_rows, succeeded, skipped, failed,
                   (SELECT email FROM users WHERE id = imports.created_by) AS admin_email",
    )
    .bind(import_id)
    .bind(status.as_str())
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// A People row whose person exists now, with the people it names.
#[derive(Debug, sqlx::FromRow)]
pub struct LinkedRow {
    pub email: Option<String>,
    pub username: Option<String>,
    pub links: String,
}

pub async fn linked_rows(
    conn: &mut AnyConnection,
    import_id: i64,
) -> Result<Vec<LinkedRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT r.email, r.username, r.links FROM import_rows r JOIN imports i ON i.id = r.import_id
         WHERE r.import_id = $1 AND r.links IS NOT NULL AND ({} OR {})",
        row_status_is(ImportRowStatus::Success),
        row_status_is(ImportRowStatus::Skipped),
    ))
    .bind(import_id)
    .fetch_all(conn)
    .await?)
}

/// The addresses the import's file names, and the group names its rows
/// name (Group members): what a sync keeps.
pub async fn file_roster(
    conn: &mut AnyConnection,
    import_id: i64,
) -> Result<(Vec<String>, Vec<String>), AppError> {
    let rows: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT email, groups FROM import_rows WHERE import_id = $1")
            .bind(import_id)
            .fetch_all(conn)
            .await?;
    let mut emails = Vec::new();
    let mut groups = std::collections::BTreeSet::new();
    for (email, names) in rows {
        emails.extend(email);
        groups.extend(names.unwrap_or_default().lines().map(str::to_owned));
    }
    Ok((emails, groups.into_iter().collect()))
}
