//! Every email the product sends: written to the outbox in the transaction
//! that causes it, delivered later by the sender worker (server crate) over
//! SMTP, or into the dev mailbox when no SMTP host is configured.

pub mod delivery;
#[cfg(feature = "ssr")]
pub mod intent;
#[cfg(feature = "ssr")]
pub mod seal;
#[cfg(feature = "ssr")]
pub mod store;
pub mod templates;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub use delivery::{DeliveryCounts, DeliveryState};

crate::text_enum::text_enum! {
    /// Where an outbox message stands. Queued messages (new, or waiting
    /// for a retry) are the sender's work; the other two are final.
    pub enum OutboxStatus {
        Queued = "queued",
        Sent = "sent",
        /// Every delivery attempt failed.
        Failed = "failed",
    }
}

/// One message as the dev mailbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxEntry {
    pub id: i64,
    pub to_email: String,
    pub subject: String,
    pub kind: String,
    pub status: OutboxStatus,
    pub created_at: i64,
}

/// One message in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    pub id: i64,
    pub to_email: String,
    pub subject: String,
    pub kind: String,
    pub status: OutboxStatus,
    pub text_body: String,
    pub html_body: String,
    pub message_id: Option<String>,
    pub created_at: i64,
}

/// The dev mailbox shows the messages of the caller's organization, to admins
/// only, and only while no SMTP host is configured.
#[server(endpoint = "mailbox/list")]
pub async fn list_mailbox() -> Result<Vec<MailboxEntry>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    if !state.settings.dev_mailbox {
        return Err(AppError::NotFound);
    }
    store::mailbox_list(&state.db, user.organization_id).await
}

#[server(endpoint = "mailbox/get")]
pub async fn get_mailbox_message(id: i64) -> Result<MailboxMessage, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    if !state.settings.dev_mailbox {
        return Err(AppError::NotFound);
    }
    store::mailbox_get(&state.db, user.organization_id, id).await
}

/// Whether emails stay on this machine (no SMTP host configured).
#[server(endpoint = "mailbox/enabled")]
pub async fn dev_mailbox_enabled() -> Result<bool, AppError> {
    let state = crate::state::app_state()?;
    Ok(state.settings.dev_mailbox)
}

#[cfg(feature = "ssr")]
pub mod server {
    //! Queuing email; the sender (server crate) waits on [`sender_wakeup`].

    use super::store;
    use crate::{db::Tx, error::AppError, state::now};

    pub use super::intent::{MailKind, Params, SealedToken};

    /// What to send: an intent the sender renders when it delivers it
    /// (see [`super::intent`]).
    #[derive(Debug, Clone)]
    pub struct Email {
        pub to: String,
        pub kind: MailKind,
        /// The row of [`MailKind::about`] the email is about, when there is one.
        pub about_id: Option<i64>,
        pub params: Params,
    }

    static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();

    pub fn sender_wakeup() -> &'static tokio::sync::Notify {
        WAKE.get_or_init(tokio::sync::Notify::new)
    }

    /// Writes a message to the outbox inside the caller's transaction, so it
    /// exists exactly when what caused it does. Returns the outbox row id.
    pub async fn enqueue(
        tx: &mut Tx,
        organization_id: Option<i64>,
        email: &Email,
    ) -> Result<i64, AppError> {
        // This process's sender; other processes find the row on their next poll.
        tx.wake_on_commit(sender_wakeup());
        Ok(store::insert(tx, organization_id, email, now()).await?)
    }

    /// `count` outbox ids for [`enqueue_reserved`] in the same transaction.
    pub async fn reserve_ids(tx: &mut Tx, count: usize) -> Result<Vec<i64>, AppError> {
        Ok(store::reserve_ids(tx, count).await?)
    }

    /// [`enqueue`] for many messages at once (an import's invitations), each
    /// under an id from [`reserve_ids`]: multi-row inserts.
    pub async fn enqueue_reserved(
        tx: &mut Tx,
        organization_id: i64,
        emails: &[(i64, Email)],
    ) -> Result<(), AppError> {
        if emails.is_empty() {
            return Ok(());
        }
        tx.wake_on_commit(sender_wakeup());
        Ok(store::insert_reserved(tx, organization_id, emails, now()).await?)
    }
}
