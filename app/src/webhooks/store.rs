//! Every statement on `webhook_endpoints` and `webhook_deliveries`: the
//! admin's endpoints and logs, queuing events, and the sender's (server
//! crate) claim and bookkeeping under its lease.

use sqlx::{Any, Executor};

use super::{DeliveryStatus, EventType};
use crate::db::{Backend, Db, Tx};

#[derive(Debug, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub created_by: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

pub struct NewEndpoint<'a> {
    pub organization_id: i64,
    pub url: &'a str,
    /// A JSON array of event words.
    pub events: &'a str,
    /// Sealed.
    pub secret: &'a str,
    pub created_by: i64,
}

pub async fn count(tx: &mut Tx, organization_id: i64) -> sqlx::Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n)
}

pub async fn insert(tx: &mut Tx, endpoint: &NewEndpoint<'_>, now: i64) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO webhook_endpoints (organization_id, url, events, secret, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(endpoint.organization_id)
    .bind(endpoint.url)
    .bind(endpoint.events)
    .bind(endpoint.secret)
    .bind(endpoint.created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

pub async fn list<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(
        "SELECT e.id, e.url, e.events,
                COALESCE(NULLIF(TRIM(m.first_name || ' ' || m.last_name), ''), u.email, '') AS created_by,
                e.created_at, e.disabled_at
         FROM webhook_endpoints e
         JOIN users u ON u.id = e.created_by
         LEFT JOIN memberships m ON m.user_id = e.created_by AND m.organization_id = e.organization_id
         WHERE e.organization_id = $1
         ORDER BY e.created_at DESC, e.id DESC",
    )
    .bind(organization_id)
    .fetch_all(db)
    .await
}

/// Turns an endpoint of the organization off (`Some(now)`) or on (`None`);
/// its URL, or `None` when the organization has no such endpoint.
pub async fn set_disabled(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
    disabled_at: Option<i64>,
) -> sqlx::Result<Option<String>> {
    let url: Option<(String,)> = sqlx::query_as(
        "UPDATE webhook_endpoints SET disabled_at = $3
         WHERE id = $1 AND organization_id = $2 RETURNING url",
    )
    .bind(id)
    .bind(organization_id)
    .bind(disabled_at)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(url.map(|(url,)| url))
}

/// Fails the queued deliveries of an endpoint (one that was just disabled).
pub async fn fail_queued(tx: &mut Tx, endpoint_id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, last_error = $3, locked_until = NULL, lease_owner = NULL
         WHERE endpoint_id = $1 AND status = 'queued'",
    )
    .bind(endpoint_id)
    .bind(DeliveryStatus::Failed.as_str())
    .bind(error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes an endpoint of the organization and its log; its URL, or `None`
/// when the organization has no such endpoint.
pub async fn delete(tx: &mut Tx, organization_id: i64, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND organization_id = $2")
        .bind(id)
        .bind(organization_id)
        .execute(&mut **tx)
        .await?;
    let url: Option<(String,)> = sqlx::query_as(
        "DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 RETURNING url",
    )
    .bind(id)
    .bind(organization_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(url.map(|(url,)| url))
}

/// One delivery per enabled endpoint of the organization subscribed to
/// `event`; how many were queued.
pub async fn insert_for_subscribers(
    tx: &mut Tx,
    organization_id: i64,
    event: EventType,
    message_id: &str,
    payload: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_type, message_id, payload,
                                         status, attempts, next_attempt_at, created_at)
         SELECT id, organization_id, $2, $3, $4, $5, 0, $6, $6 FROM webhook_endpoints
         WHERE organization_id = $1 AND disabled_at IS NULL AND events LIKE $7",
    )
    .bind(organization_id)
    .bind(event.as_str())
    .bind(message_id)
    .bind(payload)
    .bind(DeliveryStatus::Queued.as_str())
    .bind(now)
    // The event words hold no LIKE wildcard but '_'; none has one.
    .bind(format!("%\"{}\"%", event.as_str()))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_type: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub answers: String,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// The latest 100 deliveries of an endpoint of the organization, newest first.
pub async fn deliveries<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    endpoint_id: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(
        "SELECT id, event_type, message_id, status, attempts, last_status_code, answers, last_error,
                created_at, delivered_at
         FROM webhook_deliveries WHERE organization_id = $1 AND endpoint_id = $2
         ORDER BY id DESC LIMIT 100",
    )
    .bind(organization_id)
    .bind(endpoint_id)
    .fetch_all(db)
    .await
}

/// Whether the organization has this endpoint.
pub async fn endpoint_exists<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<bool> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
            .bind(id)
            .bind(organization_id)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Queues a copy of a delivery of the organization (same endpoint, event,
/// `webhook-id` and body) if its endpoint is enabled; whether it did.
pub async fn requeue_copy(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_type, message_id, payload,
                                         status, attempts, next_attempt_at, created_at)
         SELECT d.endpoint_id, d.organization_id, d.event_type, d.message_id, d.payload, $3, 0, $4, $4
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.id = $1 AND d.organization_id = $2 AND e.organization_id = $2
           AND e.disabled_at IS NULL",
    )
    .bind(id)
    .bind(organization_id)
    .bind(DeliveryStatus::Queued.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether the organization has this delivery.
pub async fn delivery_exists<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<bool> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM webhook_deliveries WHERE id = $1 AND organization_id = $2")
            .bind(id)
            .bind(organization_id)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// A delivery the sender holds under its lease, with its endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub message_id: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: i64,
    pub url: String,
    /// Sealed.
    pub secret: String,
}

/// Leases up to `batch` queued deliveries that are due to `owner` until
/// `locked_until`, by id, as the outbox's claim does (`FOR UPDATE SKIP
/// LOCKED` on PostgreSQL; one statement, atomic, on SQLite).
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: i64,
    locked_until: i64,
    batch: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    debug_assert_eq!(DeliveryStatus::Queued.as_str(), "queued");
    let claimed: Vec<(i64,)> = sqlx::query_as(&format!(
        // A literal 'queued', so both databases use `webhook_deliveries_queued`.
        "UPDATE webhook_deliveries SET locked_until = $1, lease_owner = $2
         WHERE id IN (SELECT id FROM webhook_deliveries
                      WHERE status = 'queued' AND next_attempt_at <= $3
                        AND (locked_until IS NULL OR locked_until < $3)
                      ORDER BY id LIMIT $4{lock})
         RETURNING id"
    ))
    .bind(locked_until)
    .bind(owner)
    .bind(now)
    .bind(batch)
    .fetch_all(&db.pool)
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Claimed> = sqlx::query_as(
        "SELECT d.id, d.message_id, d.payload, d.attempts, d.created_at, e.url, e.secret
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.lease_owner = $1 AND d.status = 'queued'",
    )
    .bind(owner)
    .fetch_all(&db.pool)
    .await?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// How one attempt went, as the row records it.
pub struct Attempt<'a> {
    pub status: DeliveryStatus,
    /// The attempts so far, this one included.
    pub attempts: i64,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
}

/// Records an attempt on a leased row, if `owner` still holds it.
pub async fn record_attempt<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
    attempt: &Attempt<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        // `answers` stops growing at a few dozen attempts (MUSTER_WEBHOOK_MAX_ATTEMPTS
        // may be large); the last one is in `last_status_code` anyway.
        "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_status_code = $3,
                last_error = $4, next_attempt_at = $5, delivered_at = $6, locked_until = NULL,
                answers = CASE WHEN answers = '' THEN $9
                               WHEN LENGTH(answers) < 200 THEN answers || ' ' || $9
                               ELSE answers END
         WHERE id = $7 AND lease_owner = $8",
    )
    .bind(attempt.status.as_str())
    .bind(attempt.attempts)
    .bind(attempt.status_code)
    .bind(attempt.error)
    .bind(attempt.next_attempt_at)
    .bind(attempt.delivered_at)
    .bind(id)
    .bind(owner)
    .bind(
        attempt
            .status_code
            .map_or_else(|| "-".to_owned(), |code| code.to_string()),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Gives a leased row back to the queue unchanged, if `owner` still holds it.
pub async fn release<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET locked_until = NULL, lease_owner = NULL
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    Ok(())
}
