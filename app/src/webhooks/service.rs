//! Registering, listing, turning off and removing endpoints, their logs,
//! and "send again".

use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;

use super::{
    store, CreatedEndpoint, DeliverySummary, EndpointSummary, EventType, ENDPOINTS_MAX,
    SECRET_PREFIX,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    db::Db,
    error::AppError,
    state::now,
};

/// What a disabled endpoint's queued deliveries record.
const DISABLED: &str = "Not sent: the endpoint was disabled.";

/// A new endpoint secret: `whsec_` and base64 of 32 random bytes, the form
/// Standard Webhooks libraries take.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a secret (the base64 after `whsec_`).
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

fn events_of(stored: &str) -> Result<Vec<EventType>, AppError> {
    let words: Vec<String> = serde_json::from_str(stored).map_err(|error| {
        tracing::error!(%error, "a webhook endpoint's events cannot be read");
        AppError::Internal
    })?;
    words.iter().map(|word| Ok(word.parse()?)).collect()
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<EndpointSummary>, AppError> {
    store::list(&db.pool, organization_id)
        .await?
        .into_iter()
        .map(|row| {
            Ok(EndpointSummary {
                events: events_of(&row.events)?,
                id: row.id,
                url: row.url,
                created_by: row.created_by,
                created_at: row.created_at,
                disabled_at: row.disabled_at,
            })
        })
        .collect()
}

/// Registers a checked URL (see `address::check_registration`).
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    url: &str,
    events: &[EventType],
) -> Result<CreatedEndpoint, AppError> {
    let secret = new_secret();
    let sealed = crate::mail::seal::seal(&secret).map_err(|error| {
        tracing::error!(%error, "a webhook secret cannot be sealed");
        AppError::Internal
    })?;
    let words: Vec<&str> = events.iter().map(|event| event.as_str()).collect();
    let events_json = serde_json::to_string(&words).map_err(|_| AppError::Internal)?;
    let mut tx = db.begin().await?;
    if store::count(&mut tx, user.organization_id).await? >= ENDPOINTS_MAX {
        return Err(AppError::Conflict(format!(
            "An organization can have at most {ENDPOINTS_MAX} endpoints. Delete one first."
        )));
    }
    let id = store::insert(
        &mut tx,
        &store::NewEndpoint {
            organization_id: user.organization_id,
            url,
            events: &events_json,
            secret: &sealed,
            created_by: user.user_id,
        },
        now(),
    )
    .await?;
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::WebhookCreated)
            .subject(Subject::Webhook, id, url)
            .details(format!("Events: {}", words.join(", "))),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedEndpoint {
        id,
        url: url.to_owned(),
        secret,
    })
}

pub async fn set_enabled(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    enabled: bool,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let disabled_at = (!enabled).then(now);
    let url = store::set_disabled(&mut tx, user.organization_id, id, disabled_at)
        .await?
        .ok_or(AppError::NotFound)?;
    if !enabled {
        store::fail_queued(&mut tx, id, DISABLED).await?;
    }
    let action = if enabled {
        AuditAction::WebhookEnabled
    } else {
        AuditAction::WebhookDisabled
    };
    record(
        &mut tx,
        &AuditEntry::by(user, action).subject(Subject::Webhook, id, &url),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let url = store::delete(&mut tx, user.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::WebhookDeleted).subject(Subject::Webhook, id, &url),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn deliveries(
    db: &Db,
    organization_id: i64,
    endpoint_id: i64,
) -> Result<Vec<DeliverySummary>, AppError> {
    if !store::endpoint_exists(&db.pool, organization_id, endpoint_id).await? {
        return Err(AppError::NotFound);
    }
    store::deliveries(&db.pool, organization_id, endpoint_id)
        .await?
        .into_iter()
        .map(|row| {
            Ok(DeliverySummary {
                event_type: row.event_type.parse()?,
                status: row.status.parse()?,
                id: row.id,
                message_id: row.message_id,
                attempts: row.attempts,
                last_status_code: row.last_status_code,
                answers: row.answers.split_whitespace().map(str::to_owned).collect(),
                last_error: row.last_error,
                created_at: row.created_at,
                delivered_at: row.delivered_at,
            })
        })
        .collect()
}

/// Queues a delivery again as a new row of the log, with the same
/// `webhook-id` (receivers de-duplicate on it) and body, re-signed when sent.
pub async fn resend(db: &Db, organization_id: i64, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if !store::requeue_copy(&mut tx, organization_id, id, now()).await? {
        return Err(
            if store::delivery_exists(&mut *tx, organization_id, id).await? {
                AppError::Conflict("The endpoint is disabled: enable it to send again.".to_owned())
            } else {
                AppError::NotFound
            },
        );
    }
    tx.wake_on_commit(super::server::sender_wakeup());
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_32_byte_keys() {
        let secret = new_secret();
        assert!(secret.starts_with(SECRET_PREFIX));
        assert_eq!(secret_key(&secret).unwrap().len(), 32);
        assert_ne!(new_secret(), secret);
        assert!(secret_key("whsec_!!").is_none());
    }
}
