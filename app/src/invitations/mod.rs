//! Invitations: an admin invites by email into a group; the learner accepts at
//! `/invite/{token}`, and only then is in the group (double opt-in).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::bulk::BulkOutcome;
use crate::{error::AppError, mail::DeliveryState};

pub const PAGE_SIZE: i64 = 25;
/// How many addresses one manual invite may name.
pub const MAX_MANUAL_INVITES: usize = 10;
/// Resends allowed per address per 24 hours.
pub const MAX_RESENDS_PER_DAY: i64 = crate::bulk::MAX_EMAILS_PER_ADDRESS_PER_DAY;

/// Where an invitation stands; the database holds [`InvitationStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Sent, not yet accepted; its link works until it expires.
    Pending,
    /// Accepted: the person is in the group.
    Active,
    Cancelled,
    Expired,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 4] = [
        InvitationStatus::Pending,
        InvitationStatus::Active,
        InvitationStatus::Cancelled,
        InvitationStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Active => "active",
            InvitationStatus::Cancelled => "cancelled",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "Pending",
            InvitationStatus::Active => "Active",
            InvitationStatus::Cancelled => "Cancelled",
            InvitationStatus::Expired => "Expired",
        }
    }

    /// A pending invitation past its expiry is expired, whether or not a
    /// write has marked it so yet.
    pub fn at(self, expires_at: i64, now: i64) -> InvitationStatus {
        if self == InvitationStatus::Pending && expires_at <= now {
            InvitationStatus::Expired
        } else {
            self
        }
    }

    /// Resending mints a new link: for invitations not yet accepted or cancelled.
    pub fn can_resend(self) -> bool {
        matches!(self, InvitationStatus::Pending | InvitationStatus::Expired)
    }

    pub fn can_cancel(self) -> bool {
        self == InvitationStatus::Pending
    }

    /// What its link does when opened (`at` already applied).
    pub fn token_state(self) -> crate::links::TokenState {
        use crate::links::TokenState;
        match self {
            InvitationStatus::Pending => TokenState::Valid,
            InvitationStatus::Active => TokenState::Used,
            InvitationStatus::Cancelled => TokenState::Cancelled,
            InvitationStatus::Expired => TokenState::Expired,
        }
    }
}

impl std::str::FromStr for InvitationStatus {
    type Err = AppError;

    fn from_str(value: &str) -> Result<InvitationStatus, AppError> {
        InvitationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| {
                AppError::invalid(
                    "Status",
                    "is not one of pending, active, cancelled, expired.",
                )
            })
    }
}

impl TryFrom<String> for InvitationStatus {
    type Error = AppError;

    fn try_from(value: String) -> Result<InvitationStatus, AppError> {
        value.parse()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteResult {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    Invalid(String),
}

impl InviteResult {
    pub fn label(&self) -> String {
        match self {
            InviteResult::Invited => "Invited".to_owned(),
            InviteResult::AlreadyMember => "Already a member".to_owned(),
            InviteResult::AlreadyInvited => "Already invited".to_owned(),
            InviteResult::Invalid(reason) => format!("Invalid: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteOutcome {
    /// As typed (trimmed), so the admin recognizes it.
    pub email: String,
    pub result: InviteResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub group_name: String,
    /// As it reads now: a pending one past its expiry is expired.
    pub status: InvitationStatus,
    pub expires_at: i64,
    pub created_at: i64,
    pub resend_count: i64,
    /// When the group's schedule reminds this pending invitation next;
    /// `None` when no reminder is coming.
    pub next_reminder_at: Option<i64>,
    /// Where the last email sent for it stands.
    pub delivery: DeliveryState,
    /// The person's name, only once they have accepted.
    pub accepted_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationsPage {
    pub rows: Vec<InvitationRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl InvitationsPage {
    pub fn page_count(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

/// The invitations list's filter; bulk actions "on everything matching" take the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationFilter {
    /// "" for every status, else one of [`InvitationStatus::as_str`].
    pub status: String,
    /// Part of the email.
    pub search: String,
    /// 0 for every group.
    pub group_id: i64,
    /// 0 for every import (and invitations made by hand).
    pub import_id: i64,
    /// Where the latest email stands: "" for any, else an outbox status
    /// (see [`crate::mail::delivery::parse_filter`]).
    #[serde(default)]
    pub delivery: String,
}

impl InvitationFilter {
    pub fn new(status: String, search: String, group_id: i64, import_id: i64) -> Self {
        InvitationFilter {
            status,
            search,
            group_id,
            import_id,
            delivery: String::new(),
        }
    }

    /// Only invitations whose latest email stands so ("" for any).
    pub fn with_delivery(mut self, delivery: String) -> Self {
        self.delivery = delivery;
        self
    }
}

/// What `/invite/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteLookup {
    Valid {
        organization: String,
        group: String,
        email: String,
        expires_at: i64,
        /// An account with a password exists for the invited email.
        account_exists: bool,
        /// The email of whoever is signed in in this browser.
        signed_in_as: Option<String>,
    },
    Expired {
        organization: String,
    },
    Cancelled {
        organization: String,
    },
    Used {
        organization: String,
    },
    NotFound,
}

/// Splits the manual-invite box on commas, semicolons and newlines.
pub fn split_emails(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[server(endpoint = "invitations/send")]
pub async fn send_invitations(
    group_id: i64,
    emails: String,
) -> Result<Vec<InviteOutcome>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let outcomes = service::invite(&state.db, &user, group_id, &split_emails(&emails)).await?;
    Ok(outcomes)
}

#[server(endpoint = "invitations/list")]
pub async fn list_invitations(
    status: String,
    search: String,
    group_id: i64,
    page: i64,
    #[server(default)] import_id: i64,
    #[server(default)] delivery: String,
) -> Result<InvitationsPage, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let filter = InvitationFilter::new(status, search, group_id, import_id).with_delivery(delivery);
    service::list(&state.db, user.organization_id, &filter, page).await
}

#[server(endpoint = "invitations/resend")]
pub async fn resend_invitation(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::resend(&state.db, &user, id).await?;
    Ok(())
}

#[server(endpoint = "invitations/cancel")]
pub async fn cancel_invitation(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::cancel(&state.db, &user, id).await
}

/// Resends each selected invitation that is pending or expired.
#[server(endpoint = "invitations/resend_selected")]
pub async fn resend_selected_invitations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let outcome = service::resend_many(&state.db, &user, &ids).await?;
    Ok(outcome)
}

/// Cancels each selected invitation that is pending.
#[server(endpoint = "invitations/cancel_selected")]
pub async fn cancel_selected_invitations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::cancel_many(&state.db, &user, &ids).await
}

/// Resends every pending or expired invitation matching the list's filter.
#[server(endpoint = "invitations/resend_matching")]
pub async fn resend_matching_invitations(
    status: String,
    search: String,
    group_id: i64,
    #[server(default)] import_id: i64,
    #[server(default)] delivery: String,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let filter = InvitationFilter::new(status, search, group_id, import_id).with_delivery(delivery);
    let outcome = service::resend_matching(&state.db, &user, &filter).await?;
    Ok(outcome)
}

/// Cancels every pending invitation matching the list's filter.
#[server(endpoint = "invitations/cancel_matching")]
pub async fn cancel_matching_invitations(
    status: String,
    search: String,
    group_id: i64,
    #[server(default)] import_id: i64,
    #[server(default)] delivery: String,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let filter = InvitationFilter::new(status, search, group_id, import_id).with_delivery(delivery);
    service::cancel_matching(&state.db, &user, &filter).await
}

/// Public: anyone holding the token may see what it is an invitation to.
#[server(endpoint = "invitations/lookup")]
pub async fn lookup_invitation(token: String) -> Result<InviteLookup, AppError> {
    let state = crate::state::app_state()?;
    let signed_in = crate::auth::service::current_user(&state).await?;
    service::lookup(&state.db, &token, signed_in.map(|user| user.email)).await
}

#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_survives_the_database() {
        for status in InvitationStatus::ALL {
            assert_eq!(status.as_str().parse::<InvitationStatus>(), Ok(status));
        }
        assert!("accepted".parse::<InvitationStatus>().is_err());
    }

    #[test]
    fn pending_past_its_expiry_reads_expired() {
        assert_eq!(
            InvitationStatus::Pending.at(10, 5),
            InvitationStatus::Pending
        );
        assert_eq!(
            InvitationStatus::Pending.at(10, 10),
            InvitationStatus::Expired
        );
        assert_eq!(
            InvitationStatus::Active.at(10, 20),
            InvitationStatus::Active
        );
        assert!(InvitationStatus::Expired.can_resend() && !InvitationStatus::Expired.can_cancel());
        assert!(!InvitationStatus::Active.can_resend());
    }

    #[test]
    fn emails_split_on_commas_semicolons_and_newlines() {
        assert_eq!(
            split_emails(" a@x.org, b@x.org\n\nc@x.org;d@x.org\r\n,"),
            vec!["a@x.org", "b@x.org", "c@x.org", "d@x.org"]
        );
        assert!(split_emails(" , \n").is_empty());
    }
}
