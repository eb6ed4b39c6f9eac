//! All SQL on `imports` and `import_rows`: storing a confirmed import and
//! the admin's views of it here, the worker's claims, leases, checkpoints
//! and finish in [`runs`].

use sqlx::AnyConnection;

use super::{ImportOptions, ImportRowStatus, ImportStatus};
use crate::{db::Db, error::AppError};

mod runs;
mod undo;
pub use runs::*;
pub use undo::*;

/// A row's status as the admin sees it, as SQL over `import_rows r` joined
/// to its `imports i`. The worker writes only the rows that have something
/// to say (an error, a skip, a message); a row it passed without one keeps
/// its stored `pending`, and the import's checkpoint, which the same
/// transaction moved past it, is what says it succeeded. Writing `success`
/// into each of 100,000 rows rewrote every row and its status index entry:
/// a tenth of a PostgreSQL import's time, and the table's size again.
pub const ROW_STATUS: &str =
    "CASE WHEN r.status = 'pending' AND r.position < i.checkpoint THEN 'success' ELSE r.status END";

/// The condition that a row of `import_rows r` joined to `imports i` has
/// `status` as [`ROW_STATUS`] reads it. Rows with something to say are found
/// through the partial index `import_rows_noted`, whose condition
/// (`status <> 'pending'`) is repeated because SQLite uses a partial index
/// only for a WHERE that names its terms; pending rows by primary key from
/// or up to the checkpoint.
pub(crate) fn row_status_is(status: ImportRowStatus) -> String {
    match status {
        ImportRowStatus::Success => "((r.status = 'success' AND r.status <> 'pending') \
             OR (r.status = 'pending' AND r.position < i.checkpoint))"
            .into(),
        ImportRowStatus::Pending => "(r.status = 'pending' AND r.position >= i.checkpoint)".into(),
        ImportRowStatus::Skipped | ImportRowStatus::Error => {
            format!(
                "(r.status = '{}' AND r.status <> 'pending')",
                status.as_str()
            )
        }
    }
}

pub(crate) use crate::db::{placeholders, BULK_CHUNK, IN_CHUNK};

/// One import row as stored, written when the import is confirmed: what the
/// worker reads back to run it, and what only the admin's views need.
#[derive(Debug, Clone)]
pub struct ImportRowRecord {
    pub run: PendingRow,
    /// The row as the admin sees it in the file.
    pub row_number: i64,
    pub sheet: String,
    /// Associations as JSON (People).
    pub links: Option<String>,
    /// The cells as confirmed (JSON object header → text), for the failed-rows file.
    pub input: String,
    pub planned_action: String,
    pub status: ImportRowStatus,
    pub message: Option<String>,
}

/// A stored row as the worker runs it: what the executors read, without the
/// cells as confirmed (`input`) and the other columns only the admin's views
/// need, which made up most of each row's bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    /// Order of execution, from 0.
    pub position: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub external_id: Option<String>,
    pub role: Option<String>,
    pub expiry_days: Option<i64>,
    /// Group names, one a line (Group members).
    pub groups: Option<String>,
}

impl PendingRow {
    /// The role the row names, as the plan stored it (`Role::as_str`).
    pub fn planned_role(&self) -> Option<muster_core::Role> {
        let role = self.role.as_deref()?;
        muster_core::Role::ALL
            .into_iter()
            .find(|known| known.as_str() == role)
    }
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
                              total_rows, created_at, sync)
         VALUES ($1, $2, $3, NULL, NULL, $4, $5, 30, $6, $7, $8, 0, $9, $10)
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
    .bind(i64::from(options.sync))
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
    let insert = format!(
        "INSERT INTO import_rows (import_id, {ROW_COLUMNS}) SELECT $1, j.* FROM ({select}) AS j"
    );
    for chunk in rows.chunks(BULK_CHUNK) {
        // Serialized straight from tuples: building a `serde_json::Value`
        // per row first cost a tenth of confirming 100,000 rows.
        let json: Vec<_> = chunk
            .iter()
            .map(|row| {
                let run = &row.run;
                (
                    run.position,
                    row.row_number,
                    &row.sheet,
                    &run.email,
                    &run.username,
                    &run.first_name,
                    &run.last_name,
                    &run.external_id,
                    &run.role,
                    run.expiry_days,
                    &run.groups,
                    &row.links,
                    &row.input,
                    &row.planned_action,
                    row.status.as_str(),
                    &row.message,
                )
            })
            .collect();
        sqlx::query(&insert)
            .bind(import_id)
            .bind(serde_json::to_string(&json).map_err(|error| {
                tracing::error!(%error, "import rows could not be serialized");
                AppError::Internal
            })?)
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
    /// How many people a sync removes (0 for any other import).
    pub leaving: i64,
}

pub async fn set_planned(
    conn: &mut AnyConnection,
    import_id: i64,
    planned: &Planned,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE imports SET group_id = $1, contract_id = $2, expiry_days = $3, total_rows = $4,
                            failed = $5, summary = $6, status = $7, leaving = $9
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
    .bind(planned.leaving)
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

/// What cancelling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It had not started: it ended now.
    Ended,
    /// It is running: the worker stops after its batch.
    Requested,
    /// Nothing: it had ended, or its cancel was asked for already.
    Nothing,
}

/// A paused sync's status moves from `from` to `to` (approved: queued;
/// discarded: cancelled); whether it did.
pub async fn settle_approval(
    conn: &mut AnyConnection,
    organization_id: i64,
    id: i64,
    from: ImportStatus,
    to: ImportStatus,
    now: i64,
) -> Result<bool, AppError> {
    let finished_at = to.is_finished().then_some(now);
    Ok(sqlx::query(
        "UPDATE imports SET status = $3, finished_at = $5
         WHERE organization_id = $1 AND id = $2 AND status = $4",
    )
    .bind(organization_id)
    .bind(id)
    .bind(to.as_str())
    .bind(from.as_str())
    .bind(finished_at)
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// Not started yet: it ends now. Running: the worker stops after its batch.
pub async fn cancel(
    conn: &mut AnyConnection,
    organization_id: i64,
    id: i64,
    now: i64,
) -> Result<Cancelled, AppError> {
    let ended = sqlx::query(
        "UPDATE imports SET status = $4, finished_at = $3
         WHERE organization_id = $1 AND id = $2 AND status IN ($5, $6, $7)",
    )
    .bind(organization_id)
    .bind(id)
    .bind(now)
    .bind(ImportStatus::Cancelled.as_str())
    .bind(ImportStatus::Draft.as_str())
    .bind(ImportStatus::Queued.as_str())
    .bind(ImportStatus::NeedsApproval.as_str())
    .execute(&mut *conn)
    .await?;
    if ended.rows_affected() > 0 {
        return Ok(Cancelled::Ended);
    }
    let requested = sqlx::query(
        "UPDATE imports SET cancel_requested = 1
         WHERE organization_id = $1 AND id = $2 AND status = $3 AND cancel_requested = 0",
    )
    .bind(organization_id)
    .bind(id)
    .bind(ImportStatus::Running.as_str())
    .execute(conn)
    .await?;
    Ok(if requested.rows_affected() > 0 {
        Cancelled::Requested
    } else {
        Cancelled::Nothing
    })
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
    pub sync: i64,
    pub leaving: i64,
}

const SUMMARY_SELECT: &str =
    "SELECT i.id, i.kind, i.source_name,
            COALESCE(NULLIF(TRIM(COALESCE(m.first_name, '') || ' ' || COALESCE(m.last_name, '')), ''), u.email, '') AS created_by,
            g.name AS group_name, i.status, i.summary, i.total_rows, i.succeeded, i.skipped, i.failed,
            i.created_at, i.finished_at, i.error, i.cancel_requested, i.sync, i.leaving
     FROM imports i JOIN users u ON u.id = i.created_by
     LEFT JOIN memberships m ON m.user_id = i.created_by AND m.organization_id = i.organization_id
     LEFT JOIN learning_groups g ON g.id = i.group_id";

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<SummaryRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 ORDER BY i.id DESC LIMIT 200"
    ))
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get(
    db: &Db,
    organization_id: i64,
    id: i64,
) -> Result<Option<SummaryRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 AND i.id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// [`get`] inside a transaction.
pub async fn get_in(
    conn: &mut AnyConnection,
    organization_id: i64,
    id: i64,
) -> Result<Option<SummaryRecord>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 AND i.id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(conn)
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

/// One page of an import's rows, optionally of one status and of one
/// state of their emails, and how many there are.
pub async fn rows_page(
    db: &Db,
    import_id: i64,
    status: Option<ImportRowStatus>,
    delivery: Option<crate::mail::OutboxStatus>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<RowListing>), AppError> {
    let mut filter = match status {
        Some(status) => format!("AND {}", row_status_is(status)),
        None => String::new(),
    };
    if let Some(delivery) = delivery {
        filter.push_str(" AND ");
        filter.push_str(&crate::invitations::store::delivery::import_row_condition(
            delivery,
        ));
    }
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM import_rows r JOIN imports i ON i.id = r.import_id
         WHERE r.import_id = $1 {filter}"
    ))
    .bind(import_id)
    .fetch_one(&db.pool)
    .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT r.position, r.row_number, r.email, r.username, r.planned_action,
                {ROW_STATUS} AS status, r.message
         FROM import_rows r JOIN imports i ON i.id = r.import_id
         WHERE r.import_id = $1 {filter} ORDER BY r.position LIMIT $2 OFFSET $3"
    ))
    .bind(import_id)
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
    Ok(sqlx::query_as(&format!(
        "SELECT r.row_number, r.input, r.message
         FROM import_rows r JOIN imports i ON i.id = r.import_id
         WHERE r.import_id = $1 AND ({} OR ($2 = 1 AND {})) ORDER BY r.position",
        row_status_is(ImportRowStatus::Error),
        row_status_is(ImportRowStatus::Pending),
    ))
    .bind(import_id)
    .bind(i64::from(unreached))
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
