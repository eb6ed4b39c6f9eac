//! Imports: a roster checked in the browser, dry-run against the server's facts,
//! confirmed once (idempotency key), then run in the background by the worker.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use muster_core::{ImportKind, PlanTotals, PlannedAction, RowsPayload};
use serde::{Deserialize, Serialize};

use crate::{
    bulk::BulkOutcome,
    error::AppError,
    mail::{DeliveryCounts, DeliveryState},
};

mod status;
pub use status::{ImportRowStatus, ImportStatus, UnknownStatus};

#[cfg(feature = "ssr")]
pub mod facts;
#[cfg(feature = "ssr")]
pub mod failed_rows;
#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod worker;

pub const ROWS_PAGE_SIZE: i64 = 50;

/// What the admin chose on the first step of the wizard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    pub kind: ImportKind,
    pub group_id: Option<i64>,
    pub contract_id: Option<i64>,
    /// "Send invitation emails after import" (and account emails for Learners).
    pub send_emails: bool,
    /// People: "Auto-invite new users when finished".
    pub auto_invite: bool,
    /// Overrides the group's default expiry for rows without their own.
    pub expiry_days: Option<i64>,
    /// File name, or "Pasted list".
    pub source_name: String,
}

impl ImportOptions {
    /// Kinds whose rows all go into one group chosen up front.
    pub fn needs_group(kind: ImportKind) -> bool {
        matches!(
            kind,
            ImportKind::Invites | ImportKind::Learners | ImportKind::ProgramInvitations
        )
    }
}

/// What the grid's "Will" column says for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Will {
    CreateAccount,
    UpdateAccount,
    Invite,
    AddToGroup,
    SkipAlreadyMember,
    SkipAlreadyInvited,
    Error,
}

impl Will {
    pub fn from_action(action: &PlannedAction) -> Will {
        match action {
            PlannedAction::CreateAccount { .. } => Will::CreateAccount,
            PlannedAction::UpdateAccount => Will::UpdateAccount,
            PlannedAction::Invite { .. } => Will::Invite,
            PlannedAction::AddMembership => Will::AddToGroup,
            PlannedAction::SkipAlreadyMember => Will::SkipAlreadyMember,
            PlannedAction::SkipAlreadyInvited => Will::SkipAlreadyInvited,
            PlannedAction::Error { .. } => Will::Error,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            // The same words whether or not the address has an account in
            // another organization: the plan must not tell.
            Will::CreateAccount => "Add person",
            Will::UpdateAccount => "Update",
            Will::Invite => "Invite",
            Will::AddToGroup => "Add to group",
            Will::SkipAlreadyMember => "Skip: already a member",
            Will::SkipAlreadyInvited => "Skip: already invited",
            Will::Error => "Error",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Will::CreateAccount => "create_account",
            Will::UpdateAccount => "update_account",
            Will::Invite => "invite",
            Will::AddToGroup => "add_to_group",
            Will::SkipAlreadyMember => "skip_already_member",
            Will::SkipAlreadyInvited => "skip_already_invited",
            Will::Error => "error",
        }
    }

    pub fn parse(value: &str) -> Option<Will> {
        [
            Will::CreateAccount,
            Will::UpdateAccount,
            Will::Invite,
            Will::AddToGroup,
            Will::SkipAlreadyMember,
            Will::SkipAlreadyInvited,
            Will::Error,
        ]
        .into_iter()
        .find(|w| w.as_str() == value)
    }
}

/// The server's plan for the rows of a preview, in payload order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    pub will: Vec<Will>,
    pub totals: PlanTotals,
    /// "Creates 120 accounts, updates 8, …"
    pub summary: String,
    pub seats_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: i64,
    pub kind: ImportKind,
    pub source_name: String,
    pub created_by: String,
    pub group_name: Option<String>,
    pub status: ImportStatus,
    pub summary: String,
    pub total_rows: i64,
    /// Rows finished so far (the checkpoint).
    pub processed: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub cancel_requested: bool,
}

impl ImportSummary {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// Rows neither done nor failed: still to come, or never reached by a
    /// cancelled or failed import.
    pub fn unreached(&self) -> i64 {
        (self.total_rows - self.succeeded - self.skipped - self.failed).max(0)
    }

    /// Rows to offer for fixing and retrying once the import has ended.
    pub fn retryable(&self) -> i64 {
        if self.is_finished() {
            self.failed + self.unreached()
        } else {
            0
        }
    }

    pub fn percent(&self) -> i64 {
        if self.total_rows == 0 {
            100
        } else {
            self.processed * 100 / self.total_rows
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    pub position: i64,
    pub row_number: i64,
    /// Email, or username for a username-only student.
    pub who: String,
    pub planned: String,
    pub status: ImportRowStatus,
    pub message: Option<String>,
    /// Where the row's invitation email stands (the most pressing of them
    /// for a row invited into several groups).
    pub email: DeliveryState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowsPage {
    pub rows: Vec<ImportRowView>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl ImportRowsPage {
    pub fn page_count(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

/// An import's failed rows, to fix in the wizard and import again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRows {
    pub options: ImportOptions,
    pub rows: i64,
    /// In the kind's template columns, as they were confirmed.
    pub csv: String,
}

#[server(endpoint = "imports/retry_rows")]
pub async fn retry_rows(id: i64) -> Result<FailedRows, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    failed_rows::retry_rows(&state.db, user.organization_id, id).await
}

#[server(endpoint = "imports/dry_run", input = Json)]
pub async fn dry_run_import(
    options: ImportOptions,
    payload: RowsPayload,
) -> Result<DryRun, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::dry_run(&state.db, &user, &options, &payload).await
}

/// Stores the import (queued) and returns its id; the same key returns the same import.
/// Storing it wakes this process's worker.
#[server(endpoint = "imports/create", input = Json)]
pub async fn create_import(
    options: ImportOptions,
    payload: RowsPayload,
    idempotency_key: String,
) -> Result<i64, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::create(
        &state.db,
        &user,
        &options,
        &payload,
        &idempotency_key,
        service::Stage::Queued,
    )
    .await
}

/// Confirms an import uploaded without JavaScript (a draft).
#[server(endpoint = "imports/confirm")]
pub async fn confirm_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::confirm_draft(&state.db, &user, id).await?;
    leptos_axum::redirect(&format!("/admin/imports/{id}"));
    Ok(())
}

#[server(endpoint = "imports/list")]
pub async fn list_imports() -> Result<Vec<ImportSummary>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id).await
}

#[server(endpoint = "imports/get")]
pub async fn get_import(id: i64) -> Result<ImportSummary, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::get(&state.db, user.organization_id, id).await
}

/// A page of the import's rows; `email` ("" for any, else queued, sent or
/// failed) keeps the rows whose invitation email stands so.
#[server(endpoint = "imports/rows")]
pub async fn import_rows(
    id: i64,
    status: Option<String>,
    page: i64,
    #[server(default)] email: String,
) -> Result<ImportRowsPage, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::rows(
        &state.db,
        user.organization_id,
        id,
        status.as_deref(),
        &email,
        page,
    )
    .await
}

/// Where the emails of the import's invitations stand now.
#[server(endpoint = "imports/email_delivery")]
pub async fn import_email_delivery(id: i64) -> Result<DeliveryCounts, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::email_delivery(&state.db, user.organization_id, id).await
}

/// Resends the import's invitations whose latest email failed (a new link
/// each, replacing the old one), within the daily limit per address.
#[server(endpoint = "imports/resend_failed_emails")]
pub async fn resend_failed_import_emails(id: i64) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::resend_failed_emails(&state.db, &state.settings, &user, id).await
}

/// Asks a running import to stop after its current batch.
#[server(endpoint = "imports/cancel")]
pub async fn cancel_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::cancel(&state.db, &user, id).await
}
