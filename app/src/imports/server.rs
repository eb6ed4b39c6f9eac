//! Server side of imports: facts, dry run, storing a confirmed import, and the
//! admin's views of imports and their rows.

use std::collections::{HashMap, HashSet};

use muster_core::{
    plan::{ExistingUser, UserStatus},
    Checked, Facts, ImportKind, Limits, Plan, PlanOptions, PlannedAction, RowsPayload, SourceRow,
};
use sqlx::AnyConnection;

use super::ROWS_PAGE_SIZE;
use super::{DryRun, ImportOptions, ImportRowView, ImportRowsPage, ImportSummary, Will};
use crate::{auth::CurrentUser, db::Db, error::AppError, state::now};

/// Placeholders per statement stay well under SQLite's and PostgreSQL's limits.
pub(crate) const IN_CHUNK: usize = 500;
/// Rows per bulk insert; each travels as one JSON parameter.
const INSERT_CHUNK: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Uploaded without JavaScript: shown for confirmation first.
    Draft,
    Queued,
}

/// The group and contract an import targets, checked to belong to the caller's organization.
struct Target {
    group_id: Option<i64>,
    contract: Option<ContractSeats>,
    expiry_days: i64,
}

pub(crate) struct ContractSeats {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) seats_left: i64,
}

async fn target(
    conn: &mut AnyConnection,
    organization_id: i64,
    options: &ImportOptions,
) -> Result<Target, AppError> {
    let mut expiry_days = 30;
    let group_id = if ImportOptions::needs_group(options.kind) {
        let group_id = options
            .group_id
            .ok_or_else(|| AppError::invalid("Group", "choose the group these people join."))?;
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT default_expiry_days FROM learning_groups WHERE organization_id = $1 AND id = $2",
        )
        .bind(organization_id)
        .bind(group_id)
        .fetch_optional(&mut *conn)
        .await?;
        expiry_days = row
            .ok_or_else(|| AppError::invalid("Group", "that group does not exist."))?
            .0;
        Some(group_id)
    } else {
        None
    };
    if let Some(days) = options.expiry_days {
        if !(1..=365).contains(&days) {
            return Err(AppError::invalid(
                "Expiry days",
                "enter a whole number of days from 1 to 365.",
            ));
        }
        expiry_days = days;
    }
    let contract = match (options.kind, options.contract_id) {
        (ImportKind::ProgramInvitations, None) => {
            return Err(AppError::invalid(
                "Contract",
                "choose the contract these invitations use seats of.",
            ))
        }
        (ImportKind::ProgramInvitations, Some(contract_id)) => {
            Some(contract_seats(conn, organization_id, contract_id).await?)
        }
        _ => None,
    };
    Ok(Target {
        group_id,
        contract,
        expiry_days,
    })
}

/// A seat is taken by a pending (unexpired) or accepted invitation under the contract.
pub(crate) async fn contract_seats(
    conn: &mut AnyConnection,
    organization_id: i64,
    contract_id: i64,
) -> Result<ContractSeats, AppError> {
    let row: Option<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT name, seat_limit, ends_on FROM contracts WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(contract_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (name, seat_limit, ends_on) =
        row.ok_or_else(|| AppError::invalid("Contract", "that contract does not exist."))?;
    if let Some(ends_on) = ends_on {
        let today = crate::mail::templates::format_date(now());
        if ends_on < today {
            return Err(AppError::invalid(
                "Contract",
                format!("{name} ended on {ends_on}; choose a current contract."),
            ));
        }
    }
    let (used,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM invitations WHERE contract_id = $1
         AND (status = 'active' OR (status = 'pending' AND expires_at > $2))",
    )
    .bind(contract_id)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(ContractSeats {
        id: contract_id,
        name,
        seats_left: (seat_limit - used).max(0),
    })
}

/// `$start, $start+1, …`: `count` numbered placeholders for an `IN (…)` list.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Emails (normalized) → existing users, chunked to keep each statement small.
async fn existing_users(
    conn: &mut AnyConnection,
    organization_id: i64,
    emails: &[String],
) -> Result<HashMap<String, ExistingUser>, AppError> {
    let mut users = HashMap::new();
    for chunk in emails.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT u.email, u.status, m.role FROM users u
             LEFT JOIN memberships m ON m.user_id = u.id AND m.organization_id = $1
             WHERE u.email IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query =
            sqlx::query_as::<_, (String, String, Option<String>)>(&sql).bind(organization_id);
        for email in chunk {
            query = query.bind(email);
        }
        for (email, status, role) in query.fetch_all(&mut *conn).await? {
            let status = match status.as_str() {
                "active" => UserStatus::Active,
                "provisioned" => UserStatus::Provisioned,
                _ => UserStatus::Invited,
            };
            let roles = match role.as_deref() {
                Some("learner") => vec![muster_core::Role::Student],
                Some("instructor") => vec![muster_core::Role::Instructor],
                Some("parent") => vec![muster_core::Role::Parent],
                _ => Vec::new(),
            };
            users.insert(email, ExistingUser { status, roles });
        }
    }
    Ok(users)
}

/// Everything the planner needs to know about the database, for one import.
async fn load_facts(
    conn: &mut AnyConnection,
    organization_id: i64,
    kind: ImportKind,
    group_id: Option<i64>,
    seats_left: Option<i64>,
    checked: &Checked,
) -> Result<Facts, AppError> {
    let mut emails: Vec<String> = checked
        .rows
        .iter()
        .filter(|r| !r.deleted)
        .flat_map(|r| {
            r.values
                .email
                .iter()
                .chain(r.values.associations().map(|(_, e)| e))
                .map(|e| e.key().into_owned())
        })
        .collect();
    emails.sort_unstable();
    emails.dedup();
    let mut facts = Facts {
        users: existing_users(conn, organization_id, &emails).await?,
        seats_left: seats_left.map(|n| n.clamp(0, u32::MAX as i64) as u32),
        ..Facts::default()
    };
    if let Some(group_id) = group_id {
        let members: Vec<(String,)> = sqlx::query_as(
            "SELECT u.email FROM group_memberships gm JOIN users u ON u.id = gm.user_id
             WHERE gm.group_id = $1 AND gm.status = 'active' AND u.email IS NOT NULL",
        )
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
        facts.group_members = members.into_iter().map(|(e,)| e).collect();
        let invited: Vec<(String,)> = sqlx::query_as(
            "SELECT email FROM invitations WHERE group_id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(group_id)
        .bind(now())
        .fetch_all(&mut *conn)
        .await?;
        facts.pending_invitations = invited.into_iter().map(|(e,)| e).collect();
    }
    if kind == ImportKind::GroupMembers {
        let groups: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM learning_groups WHERE organization_id = $1")
                .bind(organization_id)
                .fetch_all(&mut *conn)
                .await?;
        facts.groups = groups.into_iter().map(|(g,)| g).collect();
    }
    if kind == ImportKind::People {
        let usernames: Vec<String> = checked
            .rows
            .iter()
            .filter_map(|r| r.values.more().username.clone())
            .map(|u| u.to_lowercase())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for chunk in usernames.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT username FROM users WHERE username IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for username in chunk {
                query = query.bind(username);
            }
            for (username,) in query.fetch_all(&mut *conn).await? {
                facts.existing_usernames.insert(username);
            }
        }
    }
    Ok(facts)
}

/// The payload checked by the engine; file-level problems name the row and column.
fn check_payload(
    options: &ImportOptions,
    payload: &RowsPayload,
) -> Result<muster_core::PayloadCheck, AppError> {
    if payload.kind != options.kind {
        return Err(AppError::invalid(
            "Import",
            "the rows were checked for a different kind of import; check them again.",
        ));
    }
    let checked = payload
        .check(&Limits::default())
        .map_err(|error| AppError::invalid("File", error.to_string()))?;
    if let Some(issue) = checked.header_errors().next() {
        return Err(AppError::invalid(
            issue.column.clone().unwrap_or_else(|| "Columns".into()),
            issue.message.clone(),
        ));
    }
    Ok(checked)
}

fn seats_warning(plan: &Plan, contract: Option<&ContractSeats>) -> Option<String> {
    let contract = contract?;
    plan.totals.seats_exceeded_by.map(|over| {
        format!(
            "{} has {} seats left; this import needs {}: {} more than are left.",
            contract.name, contract.seats_left, plan.totals.seats_needed, over
        )
    })
}

async fn plan_payload(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    options: &ImportOptions,
    payload: &RowsPayload,
) -> Result<(muster_core::PayloadCheck, Plan, Target), AppError> {
    let target = target(conn, user.organization_id, options).await?;
    let checked = check_payload(options, payload)?;
    let facts = load_facts(
        conn,
        user.organization_id,
        options.kind,
        target.group_id,
        target.contract.as_ref().map(|c| c.seats_left),
        &checked.checked,
    )
    .await?;
    let send_emails = if options.kind == ImportKind::People {
        options.auto_invite
    } else {
        options.send_emails
    };
    let plan = muster_core::plan(
        options.kind,
        &checked.checked,
        &facts,
        &PlanOptions { send_emails },
    );
    Ok((checked, plan, target))
}

pub async fn dry_run(
    db: &Db,
    user: &CurrentUser,
    options: &ImportOptions,
    payload: &RowsPayload,
) -> Result<DryRun, AppError> {
    let mut conn = db.pool.acquire().await?;
    let (_, plan, target) = plan_payload(&mut conn, user, options, payload).await?;
    Ok(DryRun {
        will: plan
            .rows
            .iter()
            .map(|r| Will::from_action(&r.action))
            .collect(),
        seats_warning: seats_warning(&plan, target.contract.as_ref()),
        summary: plan.totals.summary_sentence(),
        totals: plan.totals,
    })
}

fn valid_idempotency_key(key: &str) -> bool {
    (16..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One import row as stored, from the engine's checked row and plan.
struct StoredRow {
    position: i64,
    row_number: i64,
    sheet: String,
    email: Option<String>,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    external_id: Option<String>,
    role: Option<String>,
    expiry_days: Option<i64>,
    groups: Option<String>,
    links: Option<String>,
    input: String,
    planned_action: &'static str,
    status: &'static str,
    message: Option<String>,
}

fn stored_rows(payload: &RowsPayload, checked: &Checked, plan: &Plan) -> Vec<StoredRow> {
    let sources: Vec<&SourceRow> = payload.sheets.iter().flat_map(|s| s.rows.iter()).collect();
    plan.rows
        .iter()
        .enumerate()
        .map(|(position, planned)| {
            let row = &checked.rows[planned.row_index];
            let sheet = &checked.sheets[row.sheet as usize];
            let source = sources[planned.row_index];
            let mut input = serde_json::Map::new();
            for (field, column) in &sheet.columns {
                if let Some(spec) = checked.kind.column(*field) {
                    input.insert(
                        spec.header.to_owned(),
                        serde_json::Value::String(source.cell(*column).to_owned()),
                    );
                }
            }
            let more = row.values.more();
            let (first_name, last_name) = match (&more.first_name, &more.last_name, &more.full_name)
            {
                (None, None, Some(full)) => {
                    let full = full.as_str();
                    match full.rsplit_once(' ') {
                        Some((first, last)) => (Some(first.to_owned()), Some(last.to_owned())),
                        None => (Some(full.to_owned()), None),
                    }
                }
                (first, last, _) => (
                    first.as_ref().map(|n| n.as_str().to_owned()),
                    last.as_ref().map(|n| n.as_str().to_owned()),
                ),
            };
            let (status, message) = match &planned.action {
                PlannedAction::Error { message, .. } => ("error", Some(message.clone())),
                _ => ("pending", None),
            };
            StoredRow {
                position: position as i64,
                row_number: i64::from(row.row_number),
                sheet: if payload.sheets.len() > 1 || checked.kind == ImportKind::People {
                    sheet.name.clone()
                } else {
                    String::new()
                },
                email: row.values.email.as_ref().map(|e| e.key().into_owned()),
                username: more.username.as_ref().map(|u| u.to_lowercase()),
                first_name,
                last_name,
                external_id: more.external_id.clone(),
                role: more.role.map(|r| r.as_str().to_owned()),
                expiry_days: row.values.expiry_days.map(i64::from),
                groups: (!planned.groups.is_empty()).then(|| planned.groups.join("\n")),
                links: (!planned.links.is_empty())
                    .then(|| serde_json::to_string(&planned.links).unwrap_or_default()),
                input: serde_json::Value::Object(input).to_string(),
                planned_action: Will::from_action(&planned.action).as_str(),
                status,
                message,
            }
        })
        .collect()
}

/// Stores a confirmed import and its rows in one transaction after checking and
/// planning every row again; the idempotency key makes a resubmission a no-op.
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    options: &ImportOptions,
    payload: &RowsPayload,
    idempotency_key: &str,
    stage: Stage,
) -> Result<i64, AppError> {
    if !valid_idempotency_key(idempotency_key) {
        return Err(AppError::invalid(
            "Import",
            "this preview has expired; check the file again.",
        ));
    }
    let organization_id = user.organization_id;
    let now = now();
    let mut tx = db.begin().await?;
    // The write comes first: it takes SQLite's write lock before any read, and on
    // PostgreSQL a concurrent duplicate waits here and then finds the first import.
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO imports (organization_id, created_by, kind, group_id, contract_id, send_emails,
                              auto_invite, expiry_days, source_name, idempotency_key, status,
                              total_rows, created_at)
         VALUES ($1, $2, $3, NULL, NULL, $4, $5, 30, $6, $7, 'draft', 0, $8)
         ON CONFLICT (organization_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(organization_id)
    .bind(user.user_id)
    .bind(options.kind.as_str())
    .bind(i64::from(options.send_emails))
    .bind(i64::from(options.auto_invite))
    .bind(options.source_name.chars().take(200).collect::<String>())
    .bind(idempotency_key)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((import_id,)) = inserted else {
        drop(tx);
        let (id,): (i64,) = sqlx::query_as(
            "SELECT id FROM imports WHERE organization_id = $1 AND idempotency_key = $2",
        )
        .bind(organization_id)
        .bind(idempotency_key)
        .fetch_one(&db.pool)
        .await?;
        return Ok(id);
    };
    let (checked, plan, target) = plan_payload(&mut tx, user, options, payload).await?;
    if let (Some(warning), ImportKind::ProgramInvitations) =
        (seats_warning(&plan, target.contract.as_ref()), options.kind)
    {
        return Err(AppError::Conflict(warning));
    }
    let rows = stored_rows(payload, &checked.checked, &plan);
    use crate::db::JsonColumn::{Int, Text};
    let select = db.select_json_rows(
        2,
        &[
            Int, Int, Text, Text, Text, Text, Text, Text, Text, Int, Text, Text, Text, Text, Text,
            Text,
        ],
    );
    let insert = format!(
        "INSERT INTO import_rows (import_id, position, row_number, sheet, email, username, first_name,
                                  last_name, external_id, role, expiry_days, groups, links, input,
                                  planned_action, status, message)
         SELECT $1, j.* FROM ({select}) AS j"
    );
    for chunk in rows.chunks(INSERT_CHUNK) {
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
                    row.status,
                    row.message,
                ])
            })
            .collect();
        sqlx::query(&insert)
            .bind(import_id)
            .bind(serde_json::Value::Array(json).to_string())
            .execute(&mut *tx)
            .await?;
    }
    let failed = rows.iter().filter(|r| r.status == "error").count() as i64;
    sqlx::query(
        "UPDATE imports SET group_id = $1, contract_id = $2, expiry_days = $3, total_rows = $4,
                            failed = $5, summary = $6, status = $7
         WHERE id = $8",
    )
    .bind(target.group_id)
    .bind(target.contract.as_ref().map(|c| c.id))
    .bind(target.expiry_days)
    .bind(rows.len() as i64)
    .bind(failed)
    .bind(plan.totals.summary_sentence())
    .bind(match stage {
        Stage::Draft => "draft",
        Stage::Queued => "queued",
    })
    .bind(import_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(organization_id, import_id, rows = rows.len(), kind = %options.kind, "import stored");
    Ok(import_id)
}

pub async fn confirm_draft(db: &Db, organization_id: i64, id: i64) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE imports SET status = 'queued' WHERE organization_id = $1 AND id = $2 AND status = 'draft'",
    )
    .bind(organization_id)
    .bind(id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        // Confirmed already (a double submission) is fine; anything else is not found.
        get(db, organization_id, id).await?;
    }
    Ok(())
}

pub async fn cancel(db: &Db, organization_id: i64, id: i64) -> Result<(), AppError> {
    let summary = get(db, organization_id, id).await?;
    if summary.is_finished() {
        return Err(AppError::Conflict(format!(
            "This import has already ended ({}).",
            summary.status_label().to_lowercase()
        )));
    }
    // Not started yet: it ends now. Running: the worker stops after its batch.
    sqlx::query(
        "UPDATE imports SET status = 'cancelled', finished_at = $3
         WHERE organization_id = $1 AND id = $2 AND status IN ('draft', 'queued')",
    )
    .bind(organization_id)
    .bind(id)
    .bind(now())
    .execute(&db.pool)
    .await?;
    sqlx::query(
        "UPDATE imports SET cancel_requested = 1 WHERE organization_id = $1 AND id = $2 AND status = 'running'",
    )
    .bind(organization_id)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

type SummaryRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
);

const SUMMARY_SELECT: &str =
    "SELECT i.id, i.kind, i.source_name, COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.email, ''),
            g.name, i.status, i.summary, i.total_rows, i.succeeded, i.skipped, i.failed,
            i.created_at, i.finished_at, i.error, i.cancel_requested
     FROM imports i JOIN users u ON u.id = i.created_by
     LEFT JOIN learning_groups g ON g.id = i.group_id";

fn summary(row: SummaryRow) -> ImportSummary {
    let (
        id,
        kind,
        source_name,
        created_by,
        group_name,
        status,
        summary,
        total_rows,
        succeeded,
        skipped,
        failed,
        created_at,
        finished_at,
        error,
        cancel_requested,
    ) = row;
    let mut import = ImportSummary {
        id,
        kind: kind.parse().unwrap_or(ImportKind::Invites),
        source_name,
        created_by,
        group_name,
        status,
        summary,
        total_rows,
        // Rows already known to fail count as processed from the start.
        processed: (succeeded + skipped + failed).min(total_rows),
        succeeded,
        skipped,
        failed,
        created_at,
        finished_at,
        error,
        cancel_requested: cancel_requested != 0,
    };
    if import.is_finished() && import.status != "cancelled" {
        import.processed = total_rows;
    }
    import
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<ImportSummary>, AppError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 ORDER BY i.id DESC LIMIT 200"
    ))
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(summary).collect())
}

pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<ImportSummary, AppError> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.organization_id = $1 AND i.id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(summary).ok_or(AppError::NotFound)
}

pub async fn rows(
    db: &Db,
    organization_id: i64,
    id: i64,
    status: Option<&str>,
    page: i64,
) -> Result<ImportRowsPage, AppError> {
    get(db, organization_id, id).await?;
    let status = status.filter(|s| matches!(*s, "pending" | "success" | "skipped" | "error"));
    let page = page.max(1);
    let filter = if status.is_some() {
        "AND status = $2"
    } else {
        "AND $2 = $2"
    };
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM import_rows WHERE import_id = $1 {filter}"
    ))
    .bind(id)
    .bind(status.unwrap_or(""))
    .fetch_one(&db.pool)
    .await?;
    type Row = (
        i64,
        i64,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT position, row_number, email, username, planned_action, status, message
         FROM import_rows WHERE import_id = $1 {filter} ORDER BY position LIMIT $3 OFFSET $4"
    ))
    .bind(id)
    .bind(status.unwrap_or(""))
    .bind(ROWS_PAGE_SIZE)
    .bind((page - 1) * ROWS_PAGE_SIZE)
    .fetch_all(&db.pool)
    .await?;
    Ok(ImportRowsPage {
        rows: rows
            .into_iter()
            .map(
                |(position, row_number, email, username, planned, status, message)| ImportRowView {
                    position,
                    row_number,
                    who: email.or(username).unwrap_or_default(),
                    planned: Will::parse(&planned).map_or(planned, |w| w.label().to_owned()),
                    status,
                    message,
                },
            )
            .collect(),
        total,
        page,
        page_size: ROWS_PAGE_SIZE,
    })
}

/// Quotes a CSV cell; for spreadsheets, also defuses values a spreadsheet would
/// run as a formula.
pub fn csv_cell(value: &str, defuse: bool) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') if defuse => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// The failed rows in the kind's template columns. For a spreadsheet (the
/// download) with Row and Error columns and formulas defused; for the wizard
/// (fix and retry) the cells exactly as they were.
pub async fn failed_rows_csv(
    db: &Db,
    organization_id: i64,
    id: i64,
    for_spreadsheet: bool,
) -> Result<(ImportSummary, String, i64), AppError> {
    let import = get(db, organization_id, id).await?;
    // Rows a cancelled or failed import never reached count as not imported too.
    let unreached = if import.is_finished() {
        "OR status = 'pending'"
    } else {
        ""
    };
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT row_number, input, message FROM import_rows
         WHERE import_id = $1 AND (status = 'error' {unreached}) ORDER BY position"
    ))
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    let count = rows.len() as i64;
    let columns: Vec<&str> = import.kind.columns().iter().map(|c| c.header).collect();
    let report: &[&str] = if for_spreadsheet {
        &["Row", "Error"]
    } else {
        &[]
    };
    let mut out = String::new();
    let header: Vec<String> = columns
        .iter()
        .chain(report)
        .map(|h| csv_cell(h, for_spreadsheet))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (row_number, input, message) in rows {
        let input: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&input).unwrap_or_default();
        let mut cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let value = input.get(*c).and_then(|v| v.as_str()).unwrap_or_default();
                csv_cell(value, for_spreadsheet)
            })
            .collect();
        if for_spreadsheet {
            cells.push(csv_cell(&row_number.to_string(), true));
            let message = message
                .as_deref()
                .unwrap_or("Not imported: the import stopped before this row.");
            cells.push(csv_cell(message, true));
        }
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok((import, out, count))
}

/// What the wizard needs to fix and retry an import's failed rows.
pub async fn retry_rows(
    db: &Db,
    organization_id: i64,
    id: i64,
) -> Result<super::FailedRows, AppError> {
    let (import, csv, count) = failed_rows_csv(db, organization_id, id, false).await?;
    type Options = (Option<i64>, Option<i64>, i64, i64, i64);
    let (group_id, contract_id, send_emails, auto_invite, expiry_days): Options = sqlx::query_as(
        "SELECT group_id, contract_id, send_emails, auto_invite, expiry_days FROM imports
         WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(super::FailedRows {
        options: ImportOptions {
            kind: import.kind,
            group_id,
            contract_id,
            send_emails: send_emails != 0,
            auto_invite: auto_invite != 0,
            expiry_days: Some(expiry_days),
            source_name: format!("import-{id}-failed-rows.csv"),
        },
        rows: count,
        csv,
    })
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_that_start_like_formulas_are_defused_for_spreadsheets() {
        assert_eq!(csv_cell("=SUM(A1)", true), "\"'=SUM(A1)\"");
        assert_eq!(csv_cell("+1", true), "\"'+1\"");
        assert_eq!(csv_cell("-1", true), "\"'-1\"");
        assert_eq!(csv_cell("@x", true), "\"'@x\"");
        assert_eq!(csv_cell("\tx", true), "\"'\tx\"");
        assert_eq!(csv_cell("\0x", true), "\"'\0x\"");
        assert_eq!(csv_cell("a \"b\"", true), "\"a \"\"b\"\"\"");
        assert_eq!(csv_cell("ann@example.com", true), "\"ann@example.com\"");
        // Going back into the wizard, the cell stays as the admin typed it.
        assert_eq!(csv_cell("=SUM(A1)", false), "\"=SUM(A1)\"");
    }
}
