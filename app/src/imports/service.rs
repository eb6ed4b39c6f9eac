//! The rules of imports: the dry run, storing a confirmed import after
//! planning it again, confirming a draft, cancelling, and the admin's views.

use muster_core::{
    Checked, ImportKind, Limits, Plan, PlanOptions, PlannedAction, RowsPayload, SourceRow,
};
use std::collections::HashMap;

use sqlx::AnyConnection;

use super::{
    facts::{self, ContractSeats},
    store::{self, ImportRowRecord, PendingRow},
    sync, undo, worker, DryRun, ImportOptions, ImportRowStatus, ImportRowView, ImportRowsPage,
    ImportStatus, ImportSummary, SyncPreview, Will, ROWS_PAGE_SIZE,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    bulk::BulkOutcome,
    db::{Db, Tx},
    error::AppError,
    invitations::{self, InvitationFilter},
    mail::{DeliveryCounts, DeliveryState, OutboxStatus},
    state::now,
};

/// Where a stored import starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Uploaded without JavaScript: shown for confirmation first.
    Draft,
    /// Confirmed in the wizard: the worker may take it at once.
    Queued,
}

impl Stage {
    fn status(self) -> ImportStatus {
        match self {
            Stage::Draft => ImportStatus::Draft,
            Stage::Queued => ImportStatus::Queued,
        }
    }
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

/// The plan in one sentence, with the links a People import makes between
/// students and their parents and instructors (the engine's totals do not count them).
fn plan_sentence(plan: &Plan, checked: &Checked) -> String {
    let mut sentence = plan.totals.summary_sentence();
    let links = links_made(checked);
    if links > 0 {
        let noun = if links == 1 { "link" } else { "links" };
        sentence.push_str(&format!(
            " Links students to their parents and instructors: {links} {noun}."
        ));
    }
    sentence
}

/// Distinct student–parent and student–instructor pairs named by the rows that
/// will be imported; a pair named from both sides counts once.
fn links_made(checked: &Checked) -> usize {
    let mut pairs = std::collections::HashSet::new();
    for row in checked
        .rows
        .iter()
        .filter(|r| !r.deleted && !r.has_errors())
    {
        let Some(more) = row.values.more.as_deref() else {
            continue;
        };
        let me = match (&row.values.email, &more.username) {
            (Some(email), _) => email.key().into_owned(),
            (None, Some(username)) => username.to_lowercase(),
            (None, None) => continue,
        };
        for other in more.parent_emails.iter().chain(&more.instructor_emails) {
            pairs.insert((me.clone(), other.key().into_owned()));
        }
        for student in &more.student_emails {
            pairs.insert((student.key().into_owned(), me.clone()));
        }
    }
    pairs.len()
}

fn seats_warning(plan: &Plan, contract: Option<&ContractSeats>) -> Option<String> {
    let contract = contract?;
    plan.totals.seats_exceeded_by.map(|over| {
        let rows = if over == 1 {
            "1 row".to_owned()
        } else {
            format!("{over} rows")
        };
        format!(
            "{} has {} seats left; this import needs {}. Remove {rows} that take a seat, \
             or raise the seat limit of {} on the Contracts page.",
            contract.name, contract.seats_left, plan.totals.seats_needed, contract.name
        )
    })
}

async fn plan_payload(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    options: &ImportOptions,
    payload: &RowsPayload,
) -> Result<(muster_core::PayloadCheck, Plan, facts::Target), AppError> {
    if options.sync && !ImportOptions::can_sync(options.kind) {
        return Err(AppError::invalid(
            "Sync",
            format!(
                "{} imports cannot sync; sync works for Learners, Invites, Group members and People.",
                options.kind.label()
            ),
        ));
    }
    let target = facts::target(conn, user.organization_id, options).await?;
    // A sheet without header choices maps as the organization remembers its headers.
    let payload =
        crate::mappings::service::apply_remembered(conn, user.organization_id, payload).await?;
    let checked = check_payload(options, &payload)?;
    let facts = facts::load_facts(
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
    let (checked, plan, target) = plan_payload(&mut conn, user, options, payload).await?;
    let sync = if options.sync {
        Some(
            sync_preview(
                &mut conn,
                db,
                user,
                options.kind,
                &target,
                &checked.checked,
                &plan,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(DryRun {
        sync,
        will: plan
            .rows
            .iter()
            .map(|r| Will::from_action(&r.action))
            .collect(),
        seats_warning: seats_warning(&plan, target.contract.as_ref()),
        summary: plan_sentence(&plan, &checked.checked),
        totals: plan.totals,
    })
}

/// Who a sync of these rows would remove, from the groups it covers: the
/// import's group, for Group members every group the rows name, for People
/// every group of the organization.
async fn sync_preview(
    conn: &mut AnyConnection,
    db: &Db,
    user: &CurrentUser,
    kind: ImportKind,
    target: &facts::Target,
    checked: &Checked,
    plan: &Plan,
) -> Result<SyncPreview, AppError> {
    let groups = match target.group_id {
        Some(group_id) => sync::group(conn, user.organization_id, group_id).await?,
        None if kind == ImportKind::People => sync::every_group(conn, user.organization_id).await?,
        None => {
            let names = plan.rows.iter().flat_map(|r| r.groups.iter().cloned());
            sync::groups_named(conn, user.organization_id, names).await?
        }
    };
    let emails: Vec<String> = plan
        .rows
        .iter()
        .filter_map(|r| checked.rows[r.row_index].values.email.as_ref())
        .map(|e| e.key().into_owned())
        .collect();
    sync::preview(conn, db, user.organization_id, &groups, &emails).await
}

fn valid_idempotency_key(key: &str) -> bool {
    (16..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One import row as stored, from the engine's checked row and plan.
fn stored_rows(payload: &RowsPayload, checked: &Checked, plan: &Plan) -> Vec<ImportRowRecord> {
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
                PlannedAction::Error { message, .. } => {
                    (ImportRowStatus::Error, Some(message.clone()))
                }
                _ => (ImportRowStatus::Pending, None),
            };
            ImportRowRecord {
                run: PendingRow {
                    position: position as i64,
                    email: row.values.email.as_ref().map(|e| e.key().into_owned()),
                    username: more.username.as_ref().map(|u| u.to_lowercase()),
                    first_name,
                    last_name,
                    external_id: more.external_id.clone(),
                    role: more.role.map(|r| r.as_str().to_owned()),
                    expiry_days: row.values.expiry_days.map(i64::from),
                    groups: (!planned.groups.is_empty()).then(|| planned.groups.join("\n")),
                },
                row_number: i64::from(row.row_number),
                sheet: if payload.sheets.len() > 1 || checked.kind == ImportKind::People {
                    sheet.name.clone()
                } else {
                    String::new()
                },
                links: (!planned.links.is_empty())
                    .then(|| serde_json::to_string(&planned.links).unwrap_or_default()),
                input: serde_json::Value::Object(input).to_string(),
                planned_action: Will::from_action(&planned.action).as_str().to_owned(),
                status,
                message,
            }
        })
        .collect()
}

/// Stores a confirmed import and its rows in one transaction after checking and
/// planning every row again; the idempotency key makes a resubmission a no-op.
/// A queued import wakes this process's worker when the transaction commits.
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    options: &ImportOptions,
    payload: &RowsPayload,
    idempotency_key: &str,
    stage: Stage,
    leaving_confirmed: Option<i64>,
) -> Result<i64, AppError> {
    if !valid_idempotency_key(idempotency_key) {
        return Err(AppError::invalid(
            "Import",
            "this preview has expired; check the file again.",
        ));
    }
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    // The write comes first: it takes SQLite's write lock before any read, and on
    // PostgreSQL a concurrent duplicate waits here and then finds the first import.
    let inserted = store::insert_draft(
        &mut tx,
        organization_id,
        user.user_id,
        options,
        idempotency_key,
        now(),
    )
    .await?;
    let Some(import_id) = inserted else {
        drop(tx);
        return store::id_for_key(db, organization_id, idempotency_key).await;
    };
    // A program's seats are counted under the contract's lock, as the worker
    // and resends count them, so the count the plan sees is not taken from
    // under it before this transaction ends.
    if let (ImportKind::ProgramInvitations, Some(contract_id)) = (options.kind, options.contract_id)
    {
        crate::contracts::store::lock_seats(&mut tx, organization_id, contract_id, now()).await?;
    }
    let started = std::time::Instant::now();
    let (checked, plan, target) = plan_payload(&mut tx, user, options, payload).await?;
    let planned_at = started.elapsed();
    if let (Some(warning), ImportKind::ProgramInvitations) =
        (seats_warning(&plan, target.contract.as_ref()), options.kind)
    {
        return Err(AppError::Conflict(warning));
    }
    let rows = stored_rows(payload, &checked.checked, &plan);
    let shaped_at = started.elapsed();
    store::insert_rows(db, &mut tx, import_id, &rows).await?;
    let inserted_at = started.elapsed();
    crate::mappings::service::remember(
        &mut tx,
        organization_id,
        user.user_id,
        import_id,
        &options.source_name,
        payload,
    )
    .await?;
    let mut status = stage.status();
    let mut leaving = 0;
    if options.sync {
        let preview = sync_preview(
            &mut tx,
            db,
            user,
            options.kind,
            &target,
            &checked.checked,
            &plan,
        )
        .await?;
        leaving = preview.leaving();
        if preview.trips_guard() {
            match leaving_confirmed {
                Some(typed) if typed == leaving => {}
                Some(typed) => {
                    return Err(AppError::invalid(
                        "People leaving",
                        format!(
                            "you typed {typed}, but this sync removes {leaving}; type {leaving} to confirm."
                        ),
                    ))
                }
                None => status = ImportStatus::NeedsApproval,
            }
        }
    }
    let planned = store::Planned {
        group_id: target.group_id,
        contract_id: target.contract.as_ref().map(|c| c.id),
        expiry_days: target.expiry_days,
        total_rows: rows.len() as i64,
        failed: rows
            .iter()
            .filter(|r| r.status == ImportRowStatus::Error)
            .count() as i64,
        summary: plan_sentence(&plan, &checked.checked),
        status,
        leaving,
    };
    store::set_planned(&mut tx, import_id, &planned).await?;
    if status == ImportStatus::Queued {
        record_confirmed(&mut tx, user, import_id).await?;
        tx.wake_on_commit(worker::wakeup());
    }
    let committing_at = started.elapsed();
    tx.commit().await?;
    tracing::info!(
        organization_id,
        import_id,
        rows = rows.len(),
        kind = %options.kind,
        %status,
        plan_ms = planned_at.as_millis() as u64,
        shape_ms = (shaped_at - planned_at).as_millis() as u64,
        insert_ms = (inserted_at - shaped_at).as_millis() as u64,
        commit_ms = (started.elapsed() - committing_at).as_millis() as u64,
        "import stored"
    );
    Ok(import_id)
}

/// The audit record of an import confirmed (queued) in `tx`. A draft stored
/// without JavaScript is recorded when it is confirmed, not when uploaded:
/// until then it changes nothing.
async fn record_confirmed(tx: &mut Tx, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let import = store::get_in(tx, user.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = import
        .kind
        .parse::<ImportKind>()
        .map_or_else(|_| import.kind.clone(), |kind| kind.label().to_owned());
    let entry = AuditEntry::by(user, AuditAction::ImportConfirmed)
        .subject(Subject::Import, id, &import.source_name)
        .count(import.total_rows)
        .details(format!("{kind}: {}", import.summary));
    record(tx, &entry).await
}

/// Queues a draft; its commit wakes this process's worker. A program's draft
/// is confirmed only while its contract still has the seats its rows need,
/// counted under the contract's lock (seats may have gone since the upload).
pub async fn confirm_draft(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    if let Some((contract_id, needed)) = draft_seats_needed(&mut tx, organization_id, id).await? {
        let seats =
            crate::contracts::store::lock_seats(&mut tx, organization_id, contract_id, now())
                .await?;
        if let Some(seats) = seats {
            let left = seats.left(now());
            if needed > left {
                return Err(AppError::Conflict(format!(
                    "{} has {left} seats left; this import needs {needed}: {} more than are left.",
                    seats.name,
                    needed - left
                )));
            }
        }
    }
    let queued = store::queue_draft(&mut tx, organization_id, id).await?;
    if queued {
        record_confirmed(&mut tx, user, id).await?;
        tx.wake_on_commit(worker::wakeup());
    }
    tx.commit().await?;
    if !queued {
        // Confirmed already (a double submission) is fine; anything else is not found.
        get(db, organization_id, id).await?;
    }
    Ok(())
}

/// A program draft's contract and the invitations its rows plan: the seats
/// it needs. `None` for any other import (or none of the organization's).
async fn draft_seats_needed(
    conn: &mut AnyConnection,
    organization_id: i64,
    id: i64,
) -> Result<Option<(i64, i64)>, AppError> {
    let draft: Option<(i64,)> = sqlx::query_as(
        "SELECT contract_id FROM imports
         WHERE organization_id = $1 AND id = $2 AND status = $3 AND contract_id IS NOT NULL",
    )
    .bind(organization_id)
    .bind(id)
    .bind(ImportStatus::Draft.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((contract_id,)) = draft else {
        return Ok(None);
    };
    let (needed,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM import_rows WHERE import_id = $1 AND planned_action = $2 AND status = $3",
    )
    .bind(id)
    .bind(Will::Invite.as_str())
    .bind(ImportRowStatus::Pending.as_str())
    .fetch_one(conn)
    .await?;
    Ok(Some((contract_id, needed)))
}

/// Cancels an import that has not ended: one not started yet (a draft is
/// discarded) ends now, a running one stops after its batch.
pub async fn cancel(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    let import = store::get_in(&mut tx, organization_id, id)
        .await?
        .map(summary)
        .ok_or(AppError::NotFound)?;
    if !import.status.can_cancel() {
        return Err(AppError::Conflict(format!(
            "This import has already ended ({}).",
            import.status.label().to_lowercase()
        )));
    }
    let (action, details) = match store::cancel(&mut tx, organization_id, id, now()).await? {
        store::Cancelled::Ended if import.status == ImportStatus::Draft => (
            AuditAction::ImportDiscarded,
            "Discarded before it was confirmed: none of its rows were imported.",
        ),
        store::Cancelled::Ended => (
            AuditAction::ImportCancelled,
            "Cancelled before it started: none of its rows were imported.",
        ),
        store::Cancelled::Requested => (
            AuditAction::ImportCancelled,
            "Stops after the batch in progress; rows it has not reached are not imported.",
        ),
        // Asked already (a second click): nothing changed.
        store::Cancelled::Nothing => return Ok(()),
    };
    let entry = AuditEntry::by(user, action)
        .subject(Subject::Import, id, &import.source_name)
        .count(import.total_rows - import.processed)
        .details(details);
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// A paused sync runs: it is queued, and its commit wakes this process's
/// worker. Recorded as the admin's approval and, being the moment it is
/// confirmed to run, as the import confirmed.
pub async fn approve(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    settle(db, user, id, ImportStatus::approved).await
}

/// A paused sync is discarded: it ends cancelled, having changed nothing.
pub async fn discard(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    settle(db, user, id, ImportStatus::discarded).await
}

async fn settle(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    rule: fn(ImportStatus) -> Option<ImportStatus>,
) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let import = get(db, organization_id, id).await?;
    let Some(to) = rule(import.status) else {
        return Err(AppError::Conflict(format!(
            "This import does not need approval (it is {}).",
            import.status.label().to_lowercase()
        )));
    };
    let mut tx = db.begin().await?;
    let moved =
        store::settle_approval(&mut tx, organization_id, id, import.status, to, now()).await?;
    if !moved {
        return Err(AppError::Conflict(
            "This import was approved or discarded meanwhile.".into(),
        ));
    }
    let leaving = AuditEntry::by(
        user,
        if to == ImportStatus::Queued {
            AuditAction::ImportApproved
        } else {
            AuditAction::ImportDiscarded
        },
    )
    .subject(Subject::Import, id, &import.source_name)
    .count(import.leaving)
    .details(format!(
        "a sync paused by the mass-change guard: {} would leave",
        import.leaving
    ));
    record(&mut tx, &leaving).await?;
    if to == ImportStatus::Queued {
        record_confirmed(&mut tx, user, id).await?;
        tx.wake_on_commit(worker::wakeup());
    }
    tx.commit().await?;
    tracing::info!(organization_id, import_id = id, status = %to, "sync import settled");
    Ok(())
}

/// Sets the organization's mass-change guard: a whole percentage from 0
/// (every removal needs approval) to 100 (none does).
pub async fn set_sync_guard(db: &Db, user: &CurrentUser, percent: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    if !(0..=100).contains(&percent) {
        return Err(AppError::invalid(
            "Sync guard",
            "enter a whole percentage from 0 to 100.",
        ));
    }
    let mut tx = db.begin().await?;
    let before = crate::auth::store::sync_guard_percent(&mut *tx, organization_id).await?;
    if before == percent {
        return Ok(());
    }
    crate::auth::store::set_sync_guard_percent(&mut *tx, organization_id, percent).await?;
    let entry = AuditEntry::by(user, AuditAction::SyncGuardChanged)
        .subject_named(Subject::Organization, "Sync guard")
        .details(format!("from {before}% to {percent}%"));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(organization_id, percent, "sync guard set");
    Ok(())
}

fn summary(record: store::SummaryRecord) -> ImportSummary {
    let mut import = ImportSummary {
        id: record.id,
        kind: record.kind.parse().unwrap_or(ImportKind::Invites),
        source_name: record.source_name,
        created_by: record.created_by,
        group_name: record.group_name,
        status: record.status,
        summary: record.summary,
        total_rows: record.total_rows,
        // Rows already known to fail count as processed from the start.
        processed: (record.succeeded + record.skipped + record.failed).min(record.total_rows),
        succeeded: record.succeeded,
        skipped: record.skipped,
        failed: record.failed,
        created_at: record.created_at,
        finished_at: record.finished_at,
        error: record.error,
        cancel_requested: record.cancel_requested != 0,
        sync: record.sync != 0,
        leaving: record.leaving,
        undo: None,
    };
    if import.is_finished() && import.status != ImportStatus::Cancelled {
        import.processed = import.total_rows;
    }
    import
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<ImportSummary>, AppError> {
    let mut imports: Vec<ImportSummary> = store::list(db, organization_id)
        .await?
        .into_iter()
        .map(summary)
        .collect();
    let ids: Vec<i64> = imports.iter().map(|i| i.id).collect();
    let mut undos: std::collections::HashMap<i64, store::UndoRecord> =
        store::undos_of(db, organization_id, &ids)
            .await?
            .into_iter()
            .map(|u| (u.import_id, u))
            .collect();
    for import in &mut imports {
        import.undo = undos.remove(&import.id).map(undo::progress);
    }
    Ok(imports)
}

pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<ImportSummary, AppError> {
    let mut import = store::get(db, organization_id, id)
        .await?
        .map(summary)
        .ok_or(AppError::NotFound)?;
    import.undo = store::undo_of(&db.pool, organization_id, id)
        .await?
        .map(undo::progress);
    Ok(import)
}

/// A page of an import's rows; an unknown status filter shows every row.
/// Each row says where its invitation email stands.
pub async fn rows(
    db: &Db,
    organization_id: i64,
    id: i64,
    status: Option<&str>,
    email: &str,
    page: i64,
) -> Result<ImportRowsPage, AppError> {
    get(db, organization_id, id).await?;
    let status = status.and_then(|s| s.parse::<ImportRowStatus>().ok());
    let delivery = crate::mail::delivery::parse_filter(email)?;
    let page = page.max(1);
    let (total, rows) = store::rows_page(
        db,
        id,
        status,
        delivery,
        ROWS_PAGE_SIZE,
        (page - 1) * ROWS_PAGE_SIZE,
    )
    .await?;
    let emails: Vec<&str> = rows.iter().filter_map(|row| row.email.as_deref()).collect();
    let mut deliveries: HashMap<String, DeliveryState> = HashMap::new();
    for found in invitations::store::delivery::of_import_emails(&db.pool, db, id, &emails).await? {
        let state = DeliveryState::from_stored(
            Some(&found.status),
            Some(found.attempts),
            found.last_error,
            found.sent_at,
        )?;
        let entry = deliveries.entry(found.email).or_insert(DeliveryState::None);
        *entry = std::mem::replace(entry, DeliveryState::None).most_pressing(state);
    }
    Ok(ImportRowsPage {
        rows: rows
            .into_iter()
            .map(|row| ImportRowView {
                email: row
                    .email
                    .as_ref()
                    .and_then(|email| deliveries.get(email).cloned())
                    .unwrap_or(DeliveryState::None),
                position: row.position,
                row_number: row.row_number,
                who: row.email.or(row.username).unwrap_or_default(),
                planned: Will::parse(&row.planned_action)
                    .map_or(row.planned_action, |w| w.label().to_owned()),
                status: row.status,
                message: row.message,
            })
            .collect(),
        total,
        page,
        page_size: ROWS_PAGE_SIZE,
    })
}

/// Where the emails of the organization's import `id` stand.
pub async fn email_delivery(
    db: &Db,
    organization_id: i64,
    id: i64,
) -> Result<DeliveryCounts, AppError> {
    get(db, organization_id, id).await?;
    invitations::store::delivery::counts_of_import(&db.pool, id).await
}

/// Resends the invitations of the organization's import `id` whose latest
/// email failed, through the invitations' own resend (new links, the daily
/// limit, the audit log).
pub async fn resend_failed_emails(
    db: &Db,
    user: &CurrentUser,
    id: i64,
) -> Result<BulkOutcome, AppError> {
    get(db, user.organization_id, id).await?;
    let filter = InvitationFilter::new(String::new(), String::new(), 0, id)
        .with_delivery(OutboxStatus::Failed.as_str().to_owned());
    invitations::service::resend_matching(db, user, &filter).await
}

#[cfg(test)]
mod tests {
    use muster_core::{Checked, ImportKind, MappingOverrides, SourceRow};

    use super::links_made;

    fn people(rows: &[&[&str]]) -> Checked {
        let kind = ImportKind::People;
        let headers: Vec<String> = [
            "Email",
            "First Name",
            "Last Name",
            "Role",
            "Parent Email",
            "Student Email",
        ]
        .map(str::to_owned)
        .to_vec();
        let mapping = muster_core::map_headers(kind, &headers, &MappingOverrides::default());
        let sources: Vec<SourceRow> = rows
            .iter()
            .zip(2..)
            .map(|(cells, number)| SourceRow {
                number,
                cells: cells.iter().map(|c| (*c).to_owned()).collect(),
            })
            .collect();
        let mut checked = Checked::empty(kind, &Default::default());
        checked.add_rows("People", &mapping, sources.iter());
        checked
    }

    #[test]
    fn a_link_named_from_both_sides_counts_once() {
        let checked = people(&[
            &[
                "sam@example.org",
                "Sam",
                "Student",
                "student",
                "pat@example.org",
                "",
            ],
            &[
                "pat@example.org",
                "Pat",
                "Parent",
                "parent",
                "",
                "Sam@Example.org",
            ],
            &[
                "kim@example.org",
                "Kim",
                "Student",
                "student",
                "pat@example.org",
                "",
            ],
            // A row with errors is not imported, so neither is its link.
            &["bad", "Bo", "Student", "student", "pat@example.org", ""],
        ]);
        assert_eq!(links_made(&checked), 2);
    }
}
