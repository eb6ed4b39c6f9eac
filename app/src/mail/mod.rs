//! Every email the product sends: written to the outbox in the transaction
//! that causes it, delivered later by the sender worker (server crate) over
//! SMTP, or into the dev mailbox when no SMTP host is configured.

pub mod templates;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One message as the dev mailbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxEntry {
    pub id: i64,
    pub to_email: String,
    pub subject: String,
    pub kind: String,
    pub status: String,
    pub created_at: i64,
}

/// One message in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    pub id: i64,
    pub to_email: String,
    pub subject: String,
    pub kind: String,
    pub status: String,
    pub text_body: String,
    pub html_body: String,
    pub message_id: Option<String>,
    pub created_at: i64,
}

/// The dev mailbox shows the messages of the caller's organization, to admins
/// only, and only while no SMTP host is configured.
#[server(endpoint = "mailbox/list")]
pub async fn list_mailbox() -> Result<Vec<MailboxEntry>, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    if !state.settings.dev_mailbox {
        return Err(AppError::NotFound);
    }
    server::mailbox_list(&state.db, user.organization_id).await
}

#[server(endpoint = "mailbox/get")]
pub async fn get_mailbox_message(id: i64) -> Result<MailboxMessage, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    if !state.settings.dev_mailbox {
        return Err(AppError::NotFound);
    }
    server::mailbox_get(&state.db, user.organization_id, id).await
}

/// Whether emails stay on this machine (no SMTP host configured).
#[server(endpoint = "mailbox/enabled")]
pub async fn dev_mailbox_enabled() -> Result<bool, AppError> {
    let state = crate::state::app_state()?;
    Ok(state.settings.dev_mailbox)
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::{MailboxEntry, MailboxMessage};
    use crate::{db::Db, error::AppError, state::now};

    /// What to send; the bodies come from [`super::templates`].
    #[derive(Debug, Clone)]
    pub struct Email {
        pub to: String,
        pub subject: String,
        pub text: String,
        pub html: String,
        pub kind: &'static str,
    }

    static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();

    pub fn sender_wakeup() -> &'static tokio::sync::Notify {
        WAKE.get_or_init(tokio::sync::Notify::new)
    }

    /// Writes a message to the outbox inside the caller's transaction, so it
    /// exists exactly when what caused it does. Returns the outbox row id.
    pub async fn enqueue(
        tx: &mut crate::db::Tx,
        organization_id: Option<i64>,
        email: &Email,
    ) -> Result<i64, AppError> {
        // This process's sender; other processes find the row on their next poll.
        tx.wake_on_commit(sender_wakeup());
        let now = now();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO outbox (organization_id, to_email, subject, text_body, html_body, kind, status,
                                 attempts, next_attempt_at, delivered_to_dev_mailbox, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, 0, $7) RETURNING id",
        )
        .bind(organization_id)
        .bind(&email.to)
        .bind(&email.subject)
        .bind(&email.text)
        .bind(&email.html)
        .bind(email.kind)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(id)
    }

    pub async fn mailbox_list(
        db: &Db,
        organization_id: i64,
    ) -> Result<Vec<MailboxEntry>, AppError> {
        let rows: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, to_email, subject, kind, status, created_at FROM outbox
             WHERE organization_id = $1 AND delivered_to_dev_mailbox = 1
             ORDER BY id DESC LIMIT 200",
        )
        .bind(organization_id)
        .fetch_all(&db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, to_email, subject, kind, status, created_at)| MailboxEntry {
                    id,
                    to_email,
                    subject,
                    kind,
                    status,
                    created_at,
                },
            )
            .collect())
    }

    pub async fn mailbox_get(
        db: &Db,
        organization_id: i64,
        id: i64,
    ) -> Result<MailboxMessage, AppError> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            i64,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, to_email, subject, kind, status, text_body, html_body, message_id, created_at FROM outbox
             WHERE organization_id = $1 AND id = $2 AND delivered_to_dev_mailbox = 1",
        )
        .bind(organization_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        let (id, to_email, subject, kind, status, text_body, html_body, message_id, created_at) =
            row.ok_or(AppError::NotFound)?;
        Ok(MailboxMessage {
            id,
            to_email,
            subject,
            kind,
            status,
            text_body,
            html_body,
            message_id,
            created_at,
        })
    }
}
