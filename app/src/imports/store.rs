//! All SQL on `imports` and `import_rows`: storing a confirmed import, the
//! admin's views of it, and the worker's claims, checkpoints and finish.

use sqlx::AnyConnection;

use super::{ImportOptions, ImportRowStatus, ImportStatus};
use crate::{
    db::{Backend, Bind, Bulk, Db},
    error::AppError,
};

/// Placeholders per statement stay well under SQLite's and PostgreSQL's limits.
pub(crate) const IN_CHUNK: usize = 500;
/// Rows per bulk insert; each chunk travels as one JSON parameter.
pub(crate) const BULK_CHUNK: usize = 5_000;

/// `$start, $start+1, …`: `count` numbered placeholders for an `IN (…)` list.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One import row as stored: written when the import is confirmed, read back
/// batch by batch by the worker that runs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRowRecord {
    /// Order of execution, from 0.
    pub position: i64,
    /// The row as the admin sees it in the file.
    pub row_number: i64,
    pub sheet: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub external_id: Option<String>,
    pub role: Option<String>,
    pub expiry_days: Option<i64>,
    /// Group names, one a line (Group members).
    pub groups: Option<String>,
    /// Associations as JSON (People).
    pub links: Option<String>,
    /// The cells as confirmed (JSON object header → text), for the failed-rows file.
    pub input: String,
    pub planned_action: String,
    #[sqlx(try_from = "String")]
    pub status: ImportRowStatus,
    pub message: Option<String>,
}

const ROW_COLUMNS: &str = "position, row_number, sheet, email, username, first_name, last_name,
     external_id, role, expiry_days, groups, links, input, planned_action, status, message";

/// Creates the import as a draft unless `key` was used before. None: it was.
pub async fn insert_draft(
    conn: &mut AnyConnection,
    organization_id: i64,
    created_by: i64,
    options: &ImportOptions,
    key: &str,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO imports (organization_id, created_by, kind, group_id, contract_id, send_emails,
                              auto_invite, expiry_days, source_name, idempotency_key, status,
                              total_rows, created_at)
         VALUES ($1, $2, $3, NULL, NULL, $4, $5, 30, $6, $7, $8, 0, $9)
         ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(organization_id)
    .bind(created_by)
    .bind(options.kind.as_str())
    .bind(i64::from(options.send_emails))
    .bind(i64::from(options.auto_invite))
    .bind(options.source_name.chars().take(200).collect::<String>())
    .bind(key)
    .bind(ImportStatus::Draft.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(inserted.map(|(id,)| id))
}

pub async fn id_for_key(db: &Db, organization_id: i64, key: &str) -> Result<i64, AppError> {
    let (id,): (i64,) = sqlx::query_as(
        "SELECT id FROM imports WHERE organization_id = $1 AND idempotency_key = $2",
    )
    .bind(organization_id)
    .bind(key)
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

pub async fn insert_rows(
    db: &Db,
    conn: &mut AnyConnection,
    import_id: i64,
    rows: &[ImportRowRecord],
) -> Result<(), AppError> {
    use crate::db::JsonColumn::{Int, Text};
    let select = db.select_json_rows(
        2,
        &[
            Int, Int, Text, Text, Text, Text, Text, Text, Text, Int, Text, Text, Text, Text, Text,
            Text,
        ],
    );
    let insert =
        format!("INSERT INTO import_rows (import_id, {ROW_COLUMNS}) SELECT $1, j.* FROM ({select}) AS j");
    for chunk in rows.chunks(BULK_CHUNK) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|row| {
                serde_json::json!([
                    row.position,
                    row.row_number,
                    row.sheet,
                    row.email,
                    row.username,
                    row.first_name,
                    row.last_name,
                    row.external_id,
                    row.role,
                    row.expiry_days,
                    row.groups,
                    row.links,
                    row.input,
                    row.planned_action,
                    row.status.as_str(),
                    row.message,
                ])
            })
            .collect();
        sqlx::query(&insert)
            .bind(import_id)
            .bind(serde_json::Value::Array(json).to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// What planning settled about a stored import.
pub struct Planned {
    pub group_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub expiry_days: i64,
    pub total_rows: i64,
    pub failed: i64,
    pub summary: String,
    pub status: ImportStatus,
}

pub async fn set_planned(
    conn: &mut AnyConnection,
    import_id: i64,
    planned: &Planned,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE imports SET group_id = $1, contract_id = $2, expiry_days = $3, total_rows = $4,
                            failed = $5, summary = $6, status = $7
         WHERE id = $8",
    )
    .bind(planned.group_id)
    .bind(planned.contract_id)
    .bind(planned.expiry_days)
    .bind(planned.total_rows)
    .bind(planned.failed)
    .bind(&planned.summary)
    .bind(planned.status.as_str())
    .bind(import_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Draft → queued. Whether it was a draft.
pub async fn queue_draft(
    conn: &mut AnyConnection,
    organization_id: i64,
    id: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE imports SET status = $3 WHERE organization_id = $1 AND id = $2 AND status = $4",
    )
    .bind(organization_id)
    .bind(id)
    .bind(ImportStatus::Queued.as_str())
    .bind(ImportStatus::Draft.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Not started yet: it ends now. Running: the worker stops after its batch.
pub async fn cancel(db: &Db, organization_id: i64, id: i64, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE imports SET status = $4, finished_at = $3
         WHERE organization_id = $1 AND id = $2 AND status IN ($5, $6)",
    )
    .bind(organization_id)
    .bind(id)
    .bind(now)
    .bind(ImportStatus::Cancelled.as_str())
    .bind(ImportStatus::Draft.as_str())
    .bind(ImportStatus::Queued.as_str())
    .execute(&db.pool)
    .await?;
    sqlx::query(
        "UPDATE imports SET cancel_requested = 1 WHERE organization_id = $1 AND id = $2 AND status = $3",
    )
    .bind(organization_id)
    .bind(id)
    .bind(ImportStatus::Running.as_str())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// An import as its pages list it.
#[derive(Debug, sqlx::FromRow)]
pub struct SummaryRecord {
    pub id: i64,
    pub kind: String,
    pub source_name: String,
    pub created_by: String,
    pub group_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ImportStatus,
    pub summary: String,
    pub total_rows: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub cancel_requested: i64,
}

const SUMMARY_SELECT: &str =
    "SELECT i.id, i.kind, i.source_name,
            COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.email, '') AS created_by,
            g.name AS group_name, i.status, i.summary, i.total_rows, i.succeeded, i.skipped, i.failed,
            i.created_at, i.finished_at, i.error, i.cancel_requested
     FROM imports i JOIN users u ON u.id = i.created_by
     LEFT JOIN learning_groups g ON g.id = i.group_id";

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<SummaryRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 ORDER BY i.id DESC LIMIT 200"
    ))
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<Option<SummaryRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 AND i.id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// A row as the import's page lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct RowListing {
    pub position: i64,
    pub row_number: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub planned_action: String,
    #[sqlx(try_from = "String")]
    pub status: ImportRowStatus,
    pub message: Option<String>,
}

/// One page of an import's rows, optionally of one status, and how many there are.
pub async fn rows_page(
    db: &Db,
    import_id: i64,
    status: Option<ImportRowStatus>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<RowListing>), AppError> {
    let filter = if status.is_some() {
        "AND status = $2"
    } else {
        "AND $2 = $2"
    };
    let status = status.map_or("", ImportRowStatus::as_str);
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM import_rows WHERE import_id = $1 {filter}"
    ))
    .bind(import_id)
    .bind(status)
    .fetch_one(&db.pool)
    .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT position, row_number, email, username, planned_action, status, message
         FROM import_rows WHERE import_id = $1 {filter} ORDER BY position LIMIT $3 OFFSET $4"
    ))
    .bind(import_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok((total, rows))
}

#[derive(Debug, sqlx::FromRow)]
pub struct FailedRow {
    pub row_number: i64,
    pub input: String,
    pub message: Option<String>,
}

/// Rows that failed, and with `unreached` the pending rows a finished import never got to.
pub async fn failed_rows(
    db: &Db,
    import_id: i64,
    unreached: bool,
) -> Result<Vec<FailedRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT row_number, input, message FROM import_rows
         WHERE import_id = $1 AND (status = $2 OR ($3 = 1 AND status = $4)) ORDER BY position",
    )
    .bind(import_id)
    .bind(ImportRowStatus::Error.as_str())
    .bind(i64::from(unreached))
    .bind(ImportRowStatus::Pending.as_str())
    .fetch_all(&db.pool)
    .await?)
}

/// The options an import was confirmed with.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredOptions {
    pub group_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub send_emails: i64,
    pub auto_invite: i64,
    pub expiry_days: i64,
}

pub async fn options(db: &Db, organization_id: i64, id: i64) -> Result<StoredOptions, AppError> {
    Ok(sqlx::query_as(
        "SELECT group_id, contract_id, send_emails, auto_invite, expiry_days FROM imports
         WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_one(&db.pool)
    .await?)
}

// The worker's side.

/// Claims an import `worker_id` may run: queued, already its own, or abandoned
/// (its lease ran out). Returns its id.
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
                            started_at = COALESCE(started_at, $3)
         WHERE id = (SELECT id FROM imports
                     WHERE status = 'queued' OR (status = 'running' AND (locked_until < $3 OR lease_owner = $1))
                     ORDER BY id LIMIT 1 {lock})
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
                   auto_invite, expiry_days, checkpoint, cancel_requested",
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

pub async fn set_error(conn: &mut AnyConnection, import_id: i64, error: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE imports SET error = $2 WHERE id = $1")
        .bind(import_id)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}

/// The next `limit` pending rows from the checkpoint on.
pub async fn pending_rows(
    conn: &mut AnyConnection,
    import_id: i64,
    checkpoint: i64,
    limit: i64,
) -> Result<Vec<ImportRowRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM import_rows
         WHERE import_id = $1 AND position >= $2 AND status = 'pending'
         ORDER BY position LIMIT $3"
    ))
    .bind(import_id)
    .bind(checkpoint)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

pub async fn failed_count(conn: &mut AnyConnection, import_id: i64) -> Result<i64, AppError> {
    let (failed,): (i64,) = sqlx::query_as("SELECT failed FROM imports WHERE id = $1")
        .bind(import_id)
        .fetch_one(conn)
        .await?;
    Ok(failed)
}

/// A batch's outcome: rows with something to say, the range it covered (the
/// other pending rows in it succeeded silently) and its counts.
pub struct BatchOutcome<'a> {
    pub notes: Vec<(i64, ImportRowStatus, &'a str)>,
    pub first: i64,
    pub last: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
}

/// Writes each row's outcome and moves the checkpoint past the batch.
pub async fn record_batch(
    conn: &mut AnyConnection,
    import_id: i64,
    batch: &BatchOutcome<'_>,
) -> Result<(), AppError> {
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
    sqlx::query(
        "UPDATE import_rows SET status = 'success'
         WHERE import_id = $1 AND position >= $2 AND position <= $3 AND status = 'pending'",
    )
    .bind(import_id)
    .bind(batch.first)
    .bind(batch.last)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE imports SET checkpoint = $2, succeeded = succeeded + $3, skipped = skipped + $4,
                            failed = failed + $5, failures = 0
         WHERE id = $1",
    )
    .bind(import_id)
    .bind(batch.last + 1)
    .bind(batch.succeeded)
    .bind(batch.skipped)
    .bind(batch.failed)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
    Ok(sqlx::query_as(
        "SELECT email, username, links FROM import_rows
         WHERE import_id = $1 AND links IS NOT NULL AND status IN ($2, $3)",
    )
    .bind(import_id)
    .bind(ImportRowStatus::Success.as_str())
    .bind(ImportRowStatus::Skipped.as_str())
    .fetch_all(conn)
    .await?)
}
