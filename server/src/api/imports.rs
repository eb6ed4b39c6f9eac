//! `/api/v1/imports`: the same imports as the wizard's, from JSON rows.

use app::{
    api_tokens::Need,
    imports::{
        failed_rows::failed_rows_csv, service, DryRun as ServiceDryRun, ImportOptions,
        ImportRowView, ImportSummary,
    },
    mail::DeliveryState,
};
use axum::{
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use muster_core::{ImportKind, PayloadSheet, RowsPayload, SourceRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    extract::{ApiJson, ApiQuery, Id},
    next_cursor, page_of, Caller, Page, Problem,
};

/// What an import does with its rows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Invite people into one group by email.
    Invites,
    /// Create learner accounts in one group.
    Learners,
    /// Invite people into one group on a contract's seats.
    ProgramInvitations,
    /// Create or update people (students, parents, staff) and their links.
    People,
    /// Add existing people to the groups each row names.
    GroupMembers,
}

impl From<Kind> for ImportKind {
    fn from(kind: Kind) -> ImportKind {
        match kind {
            Kind::Invites => ImportKind::Invites,
            Kind::Learners => ImportKind::Learners,
            Kind::ProgramInvitations => ImportKind::ProgramInvitations,
            Kind::People => ImportKind::People,
            Kind::GroupMembers => ImportKind::GroupMembers,
        }
    }
}

impl From<ImportKind> for Kind {
    fn from(kind: ImportKind) -> Kind {
        match kind {
            ImportKind::Invites => Kind::Invites,
            ImportKind::Learners => Kind::Learners,
            ImportKind::ProgramInvitations => Kind::ProgramInvitations,
            ImportKind::People => Kind::People,
            ImportKind::GroupMembers => Kind::GroupMembers,
        }
    }
}

/// Rows to import, as a header row and cells: the columns are mapped to
/// the kind's fields as the wizard maps a file's headers (and as the
/// organization remembered for this header row).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    pub kind: Kind,
    /// The group, for invites, learners and program invitations.
    pub group_id: Option<i64>,
    /// The contract whose seats program invitations use.
    pub contract_id: Option<i64>,
    /// Send invitation (and account) emails.
    #[serde(default)]
    pub send_emails: bool,
    /// People imports: invite new people when finished.
    #[serde(default)]
    pub auto_invite: bool,
    /// Overrides the group's default expiry for rows without their own.
    pub expiry_days: Option<i64>,
    /// The rows are the whole of their groups: people they do not name leave.
    #[serde(default)]
    pub sync: bool,
    /// What the import is called in lists ("API" when absent).
    pub source_name: Option<String>,
    /// The header row.
    pub columns: Vec<String>,
    /// One list of cells per person, in the order of `columns`; row 2 is the first.
    pub rows: Vec<Vec<String>>,
    /// `true`: the import waits as a draft until `POST /api/v1/imports/{id}/confirm`.
    #[serde(default)]
    pub draft: bool,
    /// For a sync that removes more people than the organization's guard
    /// allows: the number it removes, as a person would type it to approve.
    pub leaving_confirmed: Option<i64>,
}

impl NewImport {
    fn into_parts(self) -> (ImportOptions, RowsPayload) {
        let kind = ImportKind::from(self.kind);
        let options = ImportOptions {
            kind,
            group_id: self.group_id,
            contract_id: self.contract_id,
            send_emails: self.send_emails,
            auto_invite: self.auto_invite,
            expiry_days: self.expiry_days,
            source_name: self
                .source_name
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "API".to_owned()),
            sync: self.sync,
        };
        let rows = self
            .rows
            .into_iter()
            .enumerate()
            .map(|(index, cells)| SourceRow {
                number: u32::try_from(index + 2).unwrap_or(u32::MAX),
                cells: cells
                    .into_iter()
                    .map(|cell| cell.trim().to_owned())
                    .collect(),
            })
            .collect();
        let payload = RowsPayload {
            kind,
            validation: Default::default(),
            sheets: vec![PayloadSheet {
                name: "API".to_owned(),
                headers: self.columns,
                overrides: Default::default(),
                rows,
            }],
        };
        (options, payload)
    }
}

/// An import and how far it has come.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Import {
    pub id: i64,
    pub kind: Kind,
    pub source_name: String,
    /// Who started it.
    pub created_by: String,
    pub group_name: Option<String>,
    /// draft, queued, running, completed, completed_with_errors, failed,
    /// cancelled or needs_approval.
    pub status: String,
    /// Whether it has ended (completed, with errors, failed or cancelled).
    pub finished: bool,
    /// What it did, in words.
    pub summary: String,
    pub total_rows: i64,
    /// Rows done so far.
    pub processed: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Unix seconds.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// Why it failed, for a failed import.
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub sync: bool,
    /// People a sync removes (while it needs approval).
    pub leaving: i64,
}

impl Import {
    /// Finished with every row done (succeeded or skipped), nothing failed.
    pub fn all_succeeded(&self) -> bool {
        self.status == "completed" && self.failed == 0
    }
}

impl From<ImportSummary> for Import {
    fn from(import: ImportSummary) -> Import {
        Import {
            id: import.id,
            kind: import.kind.into(),
            source_name: import.source_name,
            created_by: import.created_by,
            group_name: import.group_name,
            status: import.status.as_str().to_owned(),
            finished: import.status.is_finished(),
            summary: import.summary,
            total_rows: import.total_rows,
            processed: import.processed,
            succeeded: import.succeeded,
            skipped: import.skipped,
            failed: import.failed,
            created_at: import.created_at,
            finished_at: import.finished_at,
            error: import.error,
            cancel_requested: import.cancel_requested,
            sync: import.sync,
            leaving: import.leaving,
        }
    }
}

/// What an import of these rows would do now, changing nothing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    /// "Creates 120 accounts, sends 120 emails, …"
    pub summary: String,
    pub rows: u32,
    pub accounts_created: u32,
    pub accounts_updated: u32,
    pub invitations: u32,
    pub emails: u32,
    pub memberships: u32,
    pub skipped: u32,
    pub errors: u32,
    /// For a program: the seats it needs beyond what is left.
    pub seats_warning: Option<String>,
    /// For a sync: how many people would leave their groups.
    pub leaving: Option<i64>,
    /// For a sync: whether it would wait for approval.
    pub needs_approval: Option<bool>,
}

impl From<ServiceDryRun> for DryRun {
    fn from(dry: ServiceDryRun) -> DryRun {
        let totals = dry.totals;
        DryRun {
            summary: dry.summary,
            rows: totals.rows,
            accounts_created: totals.accounts_created,
            accounts_updated: totals.accounts_updated,
            invitations: totals.invitations,
            emails: totals.emails,
            memberships: totals.memberships,
            skipped: totals.skipped_already_member + totals.skipped_already_invited,
            errors: totals.errors,
            seats_warning: dry.seats_warning,
            leaving: dry.sync.as_ref().map(|sync| sync.leaving()),
            needs_approval: dry.sync.as_ref().map(|sync| sync.trips_guard()),
        }
    }
}

/// One row of an import and what became of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportRow {
    /// The row's number in the rows sent (the header is row 1).
    pub row: i64,
    /// Email, or username for a username-only student.
    pub who: String,
    pub planned: String,
    /// pending, success, skipped or error.
    pub status: String,
    pub message: Option<String>,
    /// none, queued, sent or failed: the row's invitation email.
    pub email: String,
    /// The email's state in words ("Failed: 550 mailbox unknown (1 attempt)").
    pub email_detail: String,
}

impl From<ImportRowView> for ImportRow {
    fn from(row: ImportRowView) -> ImportRow {
        let email = match &row.email {
            DeliveryState::None => "none",
            DeliveryState::Queued { .. } => "queued",
            DeliveryState::Sent { .. } => "sent",
            DeliveryState::Failed { .. } => "failed",
        };
        ImportRow {
            row: row.row_number,
            who: row.who,
            planned: row.planned,
            status: row.status.as_str().to_owned(),
            message: row.message,
            email: email.to_owned(),
            email_detail: row.email.label(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From `next_cursor`; absent for the first page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// pending, success, skipped or error; absent for every row.
    pub status: Option<String>,
    /// queued, sent or failed: rows whose invitation email stands so.
    pub email: Option<String>,
    /// From `next_cursor`; absent for the first page.
    pub cursor: Option<String>,
}

/// Imports per page of `GET /api/v1/imports`.
const IMPORTS_PER_PAGE: usize = 50;

/// The organization's imports, newest first.
#[utoipa::path(get, path = "/api/v1/imports", operation_id = "listImports", tag = "imports", params(ListQuery),
    responses(
        (status = 200, body = Page<Import>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Page<Import>>, Problem> {
    let user = caller.may(Need::Read)?;
    let page = page_of(query.cursor.as_deref())?;
    let all = service::list(&caller.state.db, user.organization_id).await?;
    let total = all.len() as i64;
    let start = ((page - 1) as usize).saturating_mul(IMPORTS_PER_PAGE);
    let items = all
        .into_iter()
        .skip(start)
        .take(IMPORTS_PER_PAGE)
        .map(Import::from)
        .collect();
    Ok(Json(Page {
        items,
        total,
        next_cursor: next_cursor(page, IMPORTS_PER_PAGE as i64, total),
    }))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", operation_id = "getImport", tag = "imports",
    params(("id" = i64, Path, description = "The import's id")),
    responses(
        (status = 200, body = Import),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(caller: Caller, Id(id): Id) -> Result<Json<Import>, Problem> {
    let user = caller.may(Need::Read)?;
    Ok(Json(
        service::get(&caller.state.db, user.organization_id, id)
            .await?
            .into(),
    ))
}

/// Checks the rows and says what importing them would do; changes nothing.
#[utoipa::path(post, path = "/api/v1/imports/dry-run", operation_id = "dryRunImport", tag = "imports",
    request_body = NewImport,
    responses(
        (status = 200, body = DryRun),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dry_run(
    caller: Caller,
    ApiJson(new): ApiJson<NewImport>,
) -> Result<Json<DryRun>, Problem> {
    let user = caller.may(Need::WriteImports)?;
    let (options, payload) = new.into_parts();
    let dry = service::dry_run(&caller.state.db, user, &options, &payload).await?;
    Ok(Json(dry.into()))
}

/// Stores an import and queues it (or keeps it as a draft with `draft:
/// true`). The `Idempotency-Key` header (16–100 letters, digits, `-` or
/// `_`) makes a retried request answer with the import the first one made.
#[utoipa::path(post, path = "/api/v1/imports", operation_id = "createImport", tag = "imports",
    request_body = NewImport,
    params(("Idempotency-Key" = String, Header, description = "16–100 letters, digits, - or _; the same key returns the same import")),
    responses(
        (status = 201, body = Import),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    caller: Caller,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewImport>,
) -> Result<(StatusCode, Json<Import>), Problem> {
    caller.may(Need::WriteImports)?;
    let key = idempotency_key(&headers)?;
    let (draft, leaving_confirmed) = (new.draft, new.leaving_confirmed);
    let (options, payload) = new.into_parts();
    store(&caller, &options, &payload, &key, draft, leaving_confirmed).await
}

/// Stores the import, queued or as a draft, and answers with it as stored:
/// the JSON and the upload routes differ only in how they read the rows.
async fn store(
    caller: &Caller,
    options: &ImportOptions,
    payload: &RowsPayload,
    key: &str,
    draft: bool,
    leaving_confirmed: Option<i64>,
) -> Result<(StatusCode, Json<Import>), Problem> {
    let stage = if draft {
        service::Stage::Draft
    } else {
        service::Stage::Queued
    };
    let db = &caller.state.db;
    let id = service::create(
        db,
        &caller.user,
        options,
        payload,
        key,
        stage,
        leaving_confirmed,
    )
    .await?;
    let import = service::get(db, caller.user.organization_id, id).await?;
    Ok((StatusCode::CREATED, Json(import.into())))
}

/// The fields of `POST /api/v1/imports/upload` (multipart/form-data).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by the multipart reader the wizard's upload uses, field by field.
pub struct UploadImport {
    /// invites, learners, program-invitations, people or group-members.
    pub kind: Kind,
    /// CSV, TSV, XLSX, XLS or ODS, up to 50 MB; columns mapped as the wizard maps them.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub group_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub expiry_days: Option<i64>,
    /// `true` sends invitation (and account) emails.
    pub send_emails: Option<bool>,
    pub auto_invite: Option<bool>,
    /// `true` keeps the import as a draft until it is confirmed.
    pub draft: Option<bool>,
}

/// Stores an import of an uploaded file and queues it (or keeps it as a
/// draft), with the same formats, limits and checks as the wizard's upload.
#[utoipa::path(post, path = "/api/v1/imports/upload", tag = "imports", operation_id = "uploadImport",
    request_body(content = UploadImport, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = String, Header, description = "16–100 letters, digits, - or _; the same key returns the same import")),
    responses(
        (status = 201, body = Import),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Import>), Problem> {
    caller.may(Need::WriteImports)?;
    let key = idempotency_key(&headers)?;
    let multipart =
        multipart.map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
    let form = app::imports::form::read_form(multipart).await?;
    if form.file.is_empty() {
        return Err(Problem::invalid(
            "file",
            "Send the roster as the multipart field “file”.",
        ));
    }
    let (options, payload) = app::imports::form::payload_of(&form)?;
    store(&caller, &options, &payload, &key, form.draft, None).await
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, Problem> {
    headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| {
            (16..=100).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .ok_or_else(|| {
            Problem::invalid(
                "Idempotency-Key",
                "Send an Idempotency-Key header of 16 to 100 letters, digits, - or _ (a UUID will do), the same on every retry of this import.",
            )
        })
}

/// A page of the import's rows, in file order.
#[utoipa::path(get, path = "/api/v1/imports/{id}/rows", operation_id = "listImportRows", tag = "imports",
    params(("id" = i64, Path, description = "The import's id"), RowsQuery),
    responses(
        (status = 200, body = Page<ImportRow>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rows(
    caller: Caller,
    Id(id): Id,
    ApiQuery(query): ApiQuery<RowsQuery>,
) -> Result<Json<Page<ImportRow>>, Problem> {
    let user = caller.may(Need::Read)?;
    let page = page_of(query.cursor.as_deref())?;
    let found = service::rows(
        &caller.state.db,
        user.organization_id,
        id,
        query.status.as_deref().filter(|status| !status.is_empty()),
        query.email.as_deref().unwrap_or_default(),
        page,
    )
    .await?;
    Ok(Json(Page {
        next_cursor: next_cursor(page, found.page_size, found.total),
        total: found.total,
        items: found.rows.into_iter().map(ImportRow::from).collect(),
    }))
}

/// The rows that failed, as CSV in the kind's template columns plus Error.
#[utoipa::path(get, path = "/api/v1/imports/{id}/failed.csv", operation_id = "getFailedRowsCsv", tag = "imports",
    params(("id" = i64, Path, description = "The import's id")),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn failed_csv(caller: Caller, Id(id): Id) -> Result<Response, Problem> {
    let user = caller.may(Need::Read)?;
    let (_, csv, _) = failed_rows_csv(&caller.state.db, user.organization_id, id, false).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// Queues a draft import; confirming one that already left draft answers
/// with it as it is.
#[utoipa::path(post, path = "/api/v1/imports/{id}/confirm", operation_id = "confirmImport", tag = "imports",
    params(("id" = i64, Path, description = "The import's id")),
    responses(
        (status = 200, body = Import),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(caller: Caller, Id(id): Id) -> Result<Json<Import>, Problem> {
    let user = caller.may(Need::WriteImports)?;
    let db = &caller.state.db;
    let current = service::get(db, user.organization_id, id).await?;
    if current.status == app::imports::ImportStatus::Draft {
        service::confirm_draft(db, user, id).await?;
    }
    Ok(Json(
        service::get(db, user.organization_id, id).await?.into(),
    ))
}

/// Asks a running import to stop after its current batch.
#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", operation_id = "cancelImport", tag = "imports",
    params(("id" = i64, Path, description = "The import's id")),
    responses(
        (status = 200, body = Import),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(caller: Caller, Id(id): Id) -> Result<Json<Import>, Problem> {
    let user = caller.may(Need::WriteImports)?;
    service::cancel(&caller.state.db, user, id).await?;
    Ok(Json(
        service::get(&caller.state.db, user.organization_id, id)
            .await?
            .into(),
    ))
}
