//! Activation of provisioned accounts: people created by an import have no
//! password yet. They get an email with a link to `/activate/{token}`, where
//! they set one and become active. Admins send (or resend) that email from
//! People, one at a time or in bulk; a new link kills the old one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::bulk::{BulkOutcome, MAX_BULK_IDS};
use crate::error::AppError;

crate::text_enum::text_enum! {
    /// Where an activation link stands in the database (expiry is a time,
    /// not a status).
    pub enum ActivationTokenStatus {
        Pending = "pending",
        Used = "used",
        /// A newer link was sent to the same person.
        Replaced = "replaced",
    }
}

/// How long an activation link works.
pub const ACTIVATION_DAYS: i64 = 14;
/// Activation emails an admin may send per address per 24 hours (those an
/// import sends are not counted).
pub const MAX_ACTIVATION_SENDS_PER_DAY: i64 = crate::bulk::MAX_EMAILS_PER_ADDRESS_PER_DAY;

/// What `/activate/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationLookup {
    Valid {
        organization: String,
        email: String,
        first_name: String,
        expires_at: i64,
    },
    Expired {
        organization: String,
    },
    /// This link has been used.
    Used {
        organization: String,
    },
    /// A newer link was sent; this one no longer works.
    Replaced {
        organization: String,
    },
    /// The account is already active (e.g. through an invitation).
    AlreadyActive {
        organization: String,
    },
    NotFound,
}

/// Public: anyone holding the token may see what it activates.
#[server(endpoint = "activation/lookup")]
pub async fn lookup_activation(token: String) -> Result<ActivationLookup, AppError> {
    let state = crate::state::app_state()?;
    service::lookup(&state.db, &token).await
}

/// Sends (or resends) the activation email to one provisioned person.
#[server(endpoint = "activation/send")]
pub async fn send_activation(user_id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::send_one(&state.db, &user, user_id).await?;
    Ok(())
}

/// Sends the activation email to each selected person who has not activated.
#[server(endpoint = "activation/send_selected")]
pub async fn send_selected_activations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let outcome = service::send_many(&state.db, &user, &ids).await?;
    Ok(outcome)
}

/// Sends the activation email to every provisioned person of the
/// organization who has not activated yet.
#[server(endpoint = "activation/send_all")]
pub async fn send_all_activations() -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let outcome = service::send_all(&state.db, &user).await?;
    Ok(outcome)
}

#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
