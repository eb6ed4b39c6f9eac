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
pub use status::{
    ImportEffect, ImportRowStatus, ImportStatus, UndoPhase, UndoStatus, UnknownStatus,
};

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
mod sync;
#[cfg(feature = "ssr")]
pub mod undo;
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
    /// "This file is the whole group: remove people who are not in it."
    #[serde(default)]
    pub sync: bool,
}

impl ImportOptions {
    /// Kinds whose rows all go into one group chosen up front.
    pub fn needs_group(kind: ImportKind) -> bool {
        matches!(
            kind,
            ImportKind::Invites | ImportKind::Learners | ImportKind::ProgramInvitations
        )
    }

    /// Kinds whose file can be the whole of its groups (sync mode).
    pub fn can_sync(kind: ImportKind) -> bool {
        matches!(
            kind,
            ImportKind::Invites
                | ImportKind::Learners
                | ImportKind::GroupMembers
                | ImportKind::People
        )
    }

    /// What a sync of this kind covers, in the wizard's words: a People file
    /// (which names no group) is everyone in every group.
    pub fn sync_label(kind: ImportKind) -> &'static str {
        if kind == ImportKind::People {
            "This file is everyone: remove people who are not in it from every group"
        } else {
            "This file is the whole group: remove people who are not in it"
        }
    }
}

/// Who a sync would remove from one group: the people the file does not
/// name leave it (memberships ended, pending invitations cancelled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroup {
    pub group_id: i64,
    pub group_name: String,
    /// Members and people with a pending invitation now.
    pub size: i64,
    /// Members who would leave.
    pub members_leaving: i64,
    /// Pending invitations that would be cancelled.
    pub invitations_cancelled: i64,
    /// The first of those leaving, by address.
    pub leaving: Vec<String>,
}

/// What a sync would remove, and whether the mass-change guard trips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPreview {
    pub groups: Vec<SyncGroup>,
    /// The organization's threshold: the share of a group (percent) a sync
    /// may remove without typed approval.
    pub threshold_percent: i64,
}

impl SyncPreview {
    /// People who would leave, over every group.
    pub fn leaving(&self) -> i64 {
        self.groups
            .iter()
            .map(|g| g.members_leaving + g.invitations_cancelled)
            .sum()
    }

    /// Whether the sync removes more than the threshold of some group: then
    /// the admin types the number of people leaving (or, through the API,
    /// the import waits for approval).
    pub fn trips_guard(&self) -> bool {
        self.groups.iter().any(|g| {
            let leaving = g.members_leaving + g.invitations_cancelled;
            leaving > 0 && leaving * 100 > g.size * self.threshold_percent
        })
    }

    /// "Sync removes 12 people from Spring Cohort (10 members leave, 2 pending
    /// invitations cancelled). No account is deleted."
    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.members_leaving + g.invitations_cancelled > 0)
            .map(|g| {
                format!(
                    "{} from {} ({} {}, {} cancelled)",
                    people(g.members_leaving + g.invitations_cancelled),
                    g.group_name,
                    count(g.members_leaving, "member", "members"),
                    if g.members_leaving == 1 {
                        "leaves"
                    } else {
                        "leave"
                    },
                    count(
                        g.invitations_cancelled,
                        "pending invitation",
                        "pending invitations"
                    ),
                )
            })
            .collect();
        if parts.is_empty() {
            "Sync: nobody leaves; everyone in the group is in the file.".to_owned()
        } else {
            format!("Sync removes {}. No account is deleted.", parts.join("; "))
        }
    }
}

fn count(n: i64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        muster_core::thousands(n.max(0) as u64),
        if n == 1 { one } else { many }
    )
}

/// "1 person", "1,234 people".
pub fn people(n: i64) -> String {
    count(n, "person", "people")
}

/// What undoing an import would do now, and what it would keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoPlan {
    /// Pending invitations it would cancel.
    pub invitations: i64,
    /// People it would remove from the groups the import put them in.
    pub group_memberships: i64,
    pub group_name: Option<String>,
    /// People the import added whom nobody has used since: they leave the
    /// organization (their accounts stay, without any way in from it).
    pub accounts: i64,
    /// Invitations accepted since: they stay.
    pub accepted: i64,
    /// People the import added who have used their account since: they stay.
    pub activated: i64,
}

impl UndoPlan {
    pub fn is_empty(&self) -> bool {
        self.invitations + self.group_memberships + self.accounts == 0
    }

    /// What the people the undo changes add up to (its progress bar's total).
    pub fn total(&self) -> i64 {
        self.invitations + self.group_memberships + self.accounts
    }

    /// "Cancels 1,180 pending invitations, removes 20 people from Spring
    /// Cohort whom this import added, deactivates 14 accounts it created
    /// that were never used; keeps 96 people who already accepted."
    pub fn sentence(&self) -> String {
        let mut does = Vec::new();
        if self.invitations > 0 {
            does.push(format!(
                "cancels {}",
                count(
                    self.invitations,
                    "pending invitation",
                    "pending invitations"
                )
            ));
        }
        if self.group_memberships > 0 {
            let from = self
                .group_name
                .as_deref()
                .map_or_else(|| "their groups".to_owned(), str::to_owned);
            does.push(format!(
                "removes {} from {from} whom this import added",
                people(self.group_memberships)
            ));
        }
        if self.accounts > 0 {
            does.push(format!(
                "deactivates {} it created that {} never used",
                count(self.accounts, "account", "accounts"),
                if self.accounts == 1 { "was" } else { "were" }
            ));
        }
        let mut keeps = Vec::new();
        if self.accepted > 0 {
            keeps.push(format!("{} who already accepted", people(self.accepted)));
        }
        if self.activated == 1 {
            keeps.push("1 person who has used their account since".to_owned());
        } else if self.activated > 1 {
            keeps.push(format!(
                "{} who have used their accounts since",
                people(self.activated)
            ));
        }
        let mut sentence = if does.is_empty() {
            "Nothing left to undo".to_owned()
        } else {
            capitalized(&does.join(", "))
        };
        if !keeps.is_empty() {
            sentence.push_str(if does.is_empty() {
                ": keeps "
            } else {
                "; keeps "
            });
            sentence.push_str(&keeps.join(" and "));
        }
        sentence.push('.');
        sentence
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// An import's undo: how far it got and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoProgress {
    pub status: UndoStatus,
    pub requested_by: String,
    /// What the dry run counted when it was confirmed.
    pub planned: i64,
    pub invitations_cancelled: i64,
    pub group_memberships_ended: i64,
    pub accounts_deactivated: i64,
    pub kept: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl UndoProgress {
    pub fn done(&self) -> i64 {
        self.invitations_cancelled + self.group_memberships_ended + self.accounts_deactivated
    }

    pub fn percent(&self) -> i64 {
        if self.status == UndoStatus::Completed || self.planned == 0 {
            100
        } else {
            (self.done() * 100 / self.planned).min(99)
        }
    }

    /// "Cancelled 1,180 invitations, removed 20 people from groups, deactivated 14 accounts."
    pub fn sentence(&self) -> String {
        format!(
            "Cancelled {}, removed {} from groups, deactivated {}.",
            count(self.invitations_cancelled, "invitation", "invitations"),
            people(self.group_memberships_ended),
            count(self.accounts_deactivated, "account", "accounts"),
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
    /// For a sync: who would leave, and whether the guard trips.
    pub sync: Option<SyncPreview>,
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
    /// A sync: people the file does not name leave its groups.
    pub sync: bool,
    /// How many people the sync would remove (shown while it needs approval).
    pub leaving: i64,
    pub undo: Option<UndoProgress>,
}

impl ImportSummary {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// The import's page offers Undo: it has ended and was never undone.
    pub fn can_undo(&self) -> bool {
        self.status.can_undo() && self.undo.is_none()
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
/// Storing it wakes this process's worker. A sync that trips the
/// mass-change guard runs only with `leaving_confirmed` equal to the number
/// of people it removes (what the admin typed); without it, the import
/// waits as "needs approval" (scripts approve it with `imports/approve`).
#[server(endpoint = "imports/create", input = Json)]
pub async fn create_import(
    options: ImportOptions,
    payload: RowsPayload,
    idempotency_key: String,
    leaving_confirmed: Option<i64>,
) -> Result<i64, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::create(
        &state.db,
        &user,
        &options,
        &payload,
        &idempotency_key,
        service::Stage::Queued,
        leaving_confirmed,
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
    service::resend_failed_emails(&state.db, &user, id).await
}

/// Asks a running import to stop after its current batch.
#[server(endpoint = "imports/cancel")]
pub async fn cancel_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::cancel(&state.db, &user, id).await
}

/// What undoing the import would do now, in numbers and in words.
#[server(endpoint = "imports/undo_dry_run")]
pub async fn undo_dry_run(id: i64) -> Result<UndoPlan, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    undo::dry_run(&state.db, user.organization_id, id).await
}

/// Starts undoing the import (a job of its own, with progress on the
/// import's page); asking again changes nothing.
#[server(endpoint = "imports/undo")]
pub async fn undo_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    undo::start(&state.db, &user, id).await
}

/// Lets a sync that needs approval run.
#[server(endpoint = "imports/approve")]
pub async fn approve_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::approve(&state.db, &user, id).await
}

/// Discards a sync that needs approval: nothing changes.
#[server(endpoint = "imports/discard")]
pub async fn discard_import(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::discard(&state.db, &user, id).await
}

/// The organization's mass-change guard: the share of a group (percent) a
/// sync may remove before it needs typed approval.
#[server(endpoint = "imports/sync_guard")]
pub async fn sync_guard() -> Result<i64, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    Ok(crate::auth::store::sync_guard_percent(&state.db.pool, user.organization_id).await?)
}

#[server(endpoint = "imports/set_sync_guard")]
pub async fn set_sync_guard(percent: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::set_sync_guard(&state.db, &user, percent).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undo_dry_run_reads_as_the_issue_asks() {
        let plan = UndoPlan {
            invitations: 1_180,
            group_memberships: 20,
            group_name: Some("Spring Cohort".into()),
            accounts: 14,
            accepted: 96,
            activated: 0,
        };
        assert_eq!(
            plan.sentence(),
            "Cancels 1,180 pending invitations, removes 20 people from Spring Cohort whom this \
             import added, deactivates 14 accounts it created that were never used; keeps 96 \
             people who already accepted."
        );
        assert_eq!(plan.total(), 1_214);
        assert_eq!(UndoPlan::default().sentence(), "Nothing left to undo.");
        assert!(UndoPlan::default().is_empty());
    }

    fn preview(size: i64, members_leaving: i64, invitations_cancelled: i64) -> SyncPreview {
        SyncPreview {
            groups: vec![SyncGroup {
                group_id: 1,
                group_name: "Spring Cohort".into(),
                size,
                members_leaving,
                invitations_cancelled,
                leaving: Vec::new(),
            }],
            threshold_percent: 10,
        }
    }

    #[test]
    fn the_guard_trips_only_above_the_threshold() {
        // 10% of 20 is 2: two may leave, three need approval.
        assert!(!preview(20, 1, 1).trips_guard());
        assert!(preview(20, 2, 1).trips_guard());
        assert!(!preview(20, 0, 0).trips_guard());
        // A header typo leaves nobody named: everyone would leave.
        assert!(preview(5, 5, 0).trips_guard());
        assert_eq!(preview(20, 2, 1).leaving(), 3);
        assert_eq!(
            preview(20, 2, 1).sentence(),
            "Sync removes 3 people from Spring Cohort (2 members leave, 1 pending invitation \
             cancelled). No account is deleted."
        );
    }
}
