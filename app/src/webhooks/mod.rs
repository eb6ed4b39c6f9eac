//! Webhooks: an admin registers HTTPS endpoints for some of the
//! organization's events (Settings → Webhooks). Each event is written, in the
//! transaction that makes the change, as one delivery per subscribed
//! endpoint; the webhook sender (server crate) posts it like the outbox
//! sender sends email: claimed under a lease, retried with backoff, every
//! attempt's answer kept in the endpoint's delivery log. Deliveries are
//! signed the Standard Webhooks way (<https://www.standardwebhooks.com>) with
//! a per-endpoint secret shown once.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod address;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

/// What endpoint secrets begin with (the Standard Webhooks convention).
pub const SECRET_PREFIX: &str = "whsec_";
/// The longest endpoint URL accepted.
pub const URL_MAX_CHARS: usize = 2000;
/// The most endpoints one organization may have.
pub const ENDPOINTS_MAX: i64 = 20;

crate::text_enum::text_enum! {
    /// The events an endpoint can subscribe to; the word is the payload's `type`.
    pub enum EventType {
        ImportFinished = "import.finished",
        InvitationAccepted = "invitation.accepted",
        PersonJoined = "person.joined",
        EmailFailed = "email.failed",
    }
}

impl EventType {
    /// What the Settings → Webhooks page says the event is.
    pub fn explanation(self) -> &'static str {
        match self {
            EventType::ImportFinished => {
                "An import finished, was cancelled or failed (its counts)."
            }
            EventType::InvitationAccepted => "Someone accepted an invitation and is in its group.",
            EventType::PersonJoined => "Someone joined a group through the join page.",
            EventType::EmailFailed => "An email could not be delivered and will not be retried.",
        }
    }
}

crate::text_enum::text_enum! {
    /// Where a delivery stands: queued ones (new, or waiting for a retry) are
    /// the sender's work; the other two are final until "Send again".
    pub enum DeliveryStatus {
        Queued = "queued",
        Sent = "sent",
        /// Every attempt failed, or the endpoint refused or was disabled.
        Failed = "failed",
    }
}

/// An endpoint as the page lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSummary {
    pub id: i64,
    pub url: String,
    pub events: Vec<EventType>,
    pub created_by: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// An endpoint just registered: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub id: i64,
    pub url: String,
    pub secret: String,
}

/// One delivery in an endpoint's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub id: i64,
    pub event_type: EventType,
    /// The `webhook-id` header (`msg_…`).
    pub message_id: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The HTTP status of the last answer, if the endpoint answered.
    pub last_status_code: Option<i64>,
    /// Every attempt's HTTP status in order, `-` where none came.
    pub answers: Vec<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// The subscribed events of a form: at least one, each known.
pub fn parse_events(events: &[String]) -> Result<Vec<EventType>, AppError> {
    let mut parsed = Vec::new();
    for event in events {
        let event: EventType = event
            .parse()
            .map_err(|_| AppError::invalid("Events", "Choose events from the list."))?;
        if !parsed.contains(&event) {
            parsed.push(event);
        }
    }
    if parsed.is_empty() {
        return Err(AppError::invalid(
            "Events",
            "Choose at least one event to send.",
        ));
    }
    parsed.sort_by_key(|event| EventType::ALL.iter().position(|e| e == event));
    Ok(parsed)
}

/// The organization's endpoints, newest first.
#[server(endpoint = "webhooks/list")]
pub async fn list_webhooks() -> Result<Vec<EndpointSummary>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id).await
}

/// Registers an endpoint; the answer holds its secret, which is never shown again.
#[server(endpoint = "webhooks/create")]
pub async fn create_webhook(
    url: String,
    #[server(default)] events: Vec<String>,
) -> Result<CreatedEndpoint, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let events = parse_events(&events)?;
    let url = address::check_registration(&url, state.settings.webhooks_allow_private).await?;
    service::create(&state.db, &user, &url, &events).await
}

/// Turns an endpoint off (its queued deliveries fail) or on again.
#[server(endpoint = "webhooks/set_enabled")]
pub async fn set_webhook_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::set_enabled(&state.db, &user, id, enabled).await
}

/// Removes an endpoint and its delivery log.
#[server(endpoint = "webhooks/delete")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::delete(&state.db, &user, id).await
}

/// An endpoint's latest deliveries, newest first.
#[server(endpoint = "webhooks/deliveries")]
pub async fn list_webhook_deliveries(endpoint_id: i64) -> Result<Vec<DeliverySummary>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::deliveries(&state.db, user.organization_id, endpoint_id).await
}

/// Queues a delivery's event again for its endpoint (same `webhook-id`).
#[server(endpoint = "webhooks/resend")]
pub async fn resend_webhook_delivery(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::resend(&state.db, user.organization_id, id).await
}

#[cfg(feature = "ssr")]
pub mod server {
    //! Writing events; the webhook sender (server crate) waits on [`sender_wakeup`].

    use super::{store, EventType};
    use crate::{db::Tx, error::AppError, state::now};

    static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();

    pub fn sender_wakeup() -> &'static tokio::sync::Notify {
        WAKE.get_or_init(tokio::sync::Notify::new)
    }

    /// Queues `event` for every enabled endpoint of the organization that
    /// subscribed to it, inside the caller's transaction: a change that rolls
    /// back sends nothing. `data` must hold no secret and no link with a token.
    pub async fn enqueue(
        tx: &mut Tx,
        organization_id: i64,
        event: EventType,
        data: serde_json::Value,
    ) -> Result<(), AppError> {
        let now = now();
        let payload = serde_json::json!({
            "type": event.as_str(),
            "timestamp": crate::audit::format_timestamp(now),
            "data": data,
        })
        .to_string();
        let message_id = format!("msg_{}", crate::links::server::new_token());
        let queued =
            store::insert_for_subscribers(tx, organization_id, event, &message_id, &payload, now)
                .await?;
        if queued > 0 {
            tx.wake_on_commit(sender_wakeup());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_known_at_least_one_and_in_order() {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_events(&words(&["email.failed", "import.finished", "email.failed"])).unwrap(),
            vec![EventType::ImportFinished, EventType::EmailFailed]
        );
        assert!(parse_events(&[]).is_err());
        assert!(parse_events(&words(&["user.deleted"])).is_err());
    }
}
