//! The outbox statements of the web side: queuing a message, the dev
//! mailbox, and counting recent messages for limits. (The sender's claim
//! and delivery bookkeeping live with the sender in the server crate.)

use super::{server::Email, MailboxEntry, MailboxMessage, OutboxStatus};
use crate::{
    db::{Bind, Bulk, Db, Tx},
    error::AppError,
};

/// Rows per multi-row insert: 11 values each stays well under SQLite's and
/// PostgreSQL's limits on placeholders.
const ROWS_PER_INSERT: usize = 250;

pub async fn insert(
    tx: &mut Tx,
    organization_id: Option<i64>,
    email: &Email,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (organization_id, to_email, subject, text_body, html_body, kind, status,
                             attempts, next_attempt_at, delivered_to_dev_mailbox, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $8, 0, $7, 0, $7) RETURNING id",
    )
    .bind(organization_id)
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(email.kind)
    .bind(now)
    .bind(OutboxStatus::Queued.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Queues many messages of one organization; their ids, in order.
pub async fn insert_many(
    tx: &mut Tx,
    organization_id: i64,
    emails: &[Email],
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::with_capacity(emails.len());
    for chunk in emails.chunks(ROWS_PER_INSERT) {
        let mut insert = Bulk::new(
            "INSERT INTO outbox (organization_id, to_email, subject, text_body, html_body, kind, status,
                                 attempts, next_attempt_at, delivered_to_dev_mailbox, created_at) VALUES ",
        );
        for email in chunk {
            insert.row(vec![
                Bind::from(organization_id),
                Bind::from(email.to.as_str()),
                Bind::from(email.subject.as_str()),
                Bind::from(email.text.as_str()),
                Bind::from(email.html.as_str()),
                Bind::from(email.kind),
                Bind::from(OutboxStatus::Queued.as_str()),
                Bind::from(0i64),
                Bind::from(now),
                Bind::from(0i64),
                Bind::from(now),
            ]);
        }
        insert.push(" RETURNING id");
        let rows: Vec<(i64,)> = insert.query_as().fetch_all(&mut **tx).await?;
        // A plain VALUES insert returns its rows in order on both backends.
        ids.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(ids)
}

/// Messages of `kind` queued for an address by an organization since `since`.
pub async fn sent_since(
    tx: &mut Tx,
    organization_id: i64,
    to_email: &str,
    kind: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
         AND kind = $3 AND created_at > $4",
    )
    .bind(organization_id)
    .bind(to_email)
    .bind(kind)
    .bind(since)
    .fetch_one(&mut **tx)
    .await?;
    Ok(count)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    to_email: String,
    subject: String,
    kind: String,
    status: String,
    created_at: i64,
}

/// The organization's latest 200 messages that went to the dev mailbox.
pub async fn mailbox_list(db: &Db, organization_id: i64) -> Result<Vec<MailboxEntry>, AppError> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, to_email, subject, kind, status, created_at FROM outbox
         WHERE organization_id = $1 AND delivered_to_dev_mailbox = 1
         ORDER BY id DESC LIMIT 200",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(MailboxEntry {
                status: row.status.parse()?,
                id: row.id,
                to_email: row.to_email,
                subject: row.subject,
                kind: row.kind,
                created_at: row.created_at,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    to_email: String,
    subject: String,
    kind: String,
    status: String,
    text_body: String,
    html_body: String,
    message_id: Option<String>,
    created_at: i64,
}

pub async fn mailbox_get(
    db: &Db,
    organization_id: i64,
    id: i64,
) -> Result<MailboxMessage, AppError> {
    let row: Option<MessageRow> = sqlx::query_as(
        "SELECT id, to_email, subject, kind, status, text_body, html_body, message_id, created_at FROM outbox
         WHERE organization_id = $1 AND id = $2 AND delivered_to_dev_mailbox = 1",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let row = row.ok_or(AppError::NotFound)?;
    Ok(MailboxMessage {
        status: row.status.parse()?,
        id: row.id,
        to_email: row.to_email,
        subject: row.subject,
        kind: row.kind,
        text_body: row.text_body,
        html_body: row.html_body,
        message_id: row.message_id,
        created_at: row.created_at,
    })
}
