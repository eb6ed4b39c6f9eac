//! Every statement on `outbox`: queuing a message, the dev mailbox,
//! counting recent messages for limits, and the sender's (server crate)
//! claim and delivery bookkeeping under its lease.

use sqlx::{Any, Executor};

use super::{intent::MailKind, server::Email, MailboxEntry, MailboxMessage, OutboxStatus};
use crate::{
    db::{Backend, Bind, Bulk, Db, Tx},
    error::AppError,
};

/// A body as the dev mailbox keeps it: sealed (see `seal`).
pub fn sealed(body: &str) -> Result<String, sqlx::Error> {
    super::seal::seal(body).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// A stored body as text, for the dev mailbox.
fn opened(body: Option<&str>) -> Result<String, AppError> {
    super::seal::open(body.unwrap_or_default()).map_err(|error| {
        tracing::error!(%error, "an outbox message cannot be opened");
        AppError::Internal
    })
}

/// An intent's parameters as the outbox stores them.
fn params_json(email: &Email) -> Result<String, sqlx::Error> {
    serde_json::to_string(&email.params).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// The columns an intent writes; the message columns (`subject`,
/// `text_body`, `html_body`) stay empty until the dev mailbox keeps it.
const INSERT: &str = "INSERT INTO outbox (organization_id, to_email, kind, about_id, params, status,
                                         attempts, next_attempt_at, delivered_to_dev_mailbox, created_at)
                      VALUES ";

pub async fn insert(
    tx: &mut Tx,
    organization_id: Option<i64>,
    email: &Email,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(&format!(
        "{INSERT} ($1, $2, $3, $4, $5, $6, 0, $7, 0, $7) RETURNING id"
    ))
    .bind(organization_id)
    .bind(&email.to)
    .bind(email.kind.as_str())
    .bind(email.about_id)
    .bind(params_json(email)?)
    .bind(OutboxStatus::Queued.as_str())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// `count` outbox ids no other message will take, for messages queued later
/// in `tx` with [`insert_reserved`]; what refers to a message (an
/// invitation's latest email) can then be written once, already pointing at
/// it. Ids left unused are a harmless gap. The ids ascend.
pub async fn reserve_ids(tx: &mut Tx, count: usize) -> Result<Vec<i64>, sqlx::Error> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    match tx.backend() {
        Backend::Postgres => {
            let ids: Vec<(i64,)> = sqlx::query_as(
                "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, $1)",
            )
            .bind(count)
            .fetch_all(&mut **tx)
            .await?;
            let mut ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
            // Ascending, as SQLite's are: callers may search them.
            ids.sort_unstable();
            Ok(ids)
        }
        Backend::Sqlite => {
            // AUTOINCREMENT numbers past `sqlite_sequence`: moving it on by
            // `count` in one statement, under the write lock the transaction
            // holds from its start, reserves the ids in between.
            sqlx::query(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox', 0
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')",
            )
            .execute(&mut **tx)
            .await?;
            let (top,): (i64,) = sqlx::query_as(
                "UPDATE sqlite_sequence
                 SET seq = MAX(seq, (SELECT COALESCE(MAX(id), 0) FROM outbox)) + $1
                 WHERE name = 'outbox' RETURNING seq",
            )
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
            Ok((top - count + 1..=top).collect())
        }
    }
}

/// Queues many messages of one organization under ids from [`reserve_ids`],
/// all rows in one JSON parameter per chunk (as an import batch's
/// invitations are written): with one placeholder per value, SQLite took
/// 40 ms to queue 1,000 messages, three times the invitations' insert.
pub async fn insert_reserved(
    tx: &mut Tx,
    organization_id: i64,
    emails: &[(i64, Email)],
    now: i64,
) -> Result<(), sqlx::Error> {
    use crate::db::JsonColumn::{Int, Text};
    let select = tx
        .backend()
        .select_json_rows(4, &[Int, Text, Text, Int, Text]);
    let insert = format!(
        "INSERT INTO outbox (id, organization_id, to_email, kind, about_id, params, status,
                             attempts, next_attempt_at, delivered_to_dev_mailbox, created_at)
         SELECT j.c0, $1, j.c1, j.c2, j.c3, j.c4, $2, 0, $3, 0, $3 FROM ({select}) AS j"
    );
    for chunk in emails.chunks(crate::db::BULK_CHUNK) {
        let rows = chunk
            .iter()
            .map(|(id, email)| {
                Ok((
                    *id,
                    &email.to,
                    email.kind.as_str(),
                    email.about_id,
                    params_json(email)?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let rows =
            serde_json::to_string(&rows).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        sqlx::query(&insert)
            .bind(organization_id)
            .bind(OutboxStatus::Queued.as_str())
            .bind(now)
            .bind(rows)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Messages of `kind` queued for an address by an organization since `since`.
pub async fn sent_since(
    tx: &mut Tx,
    organization_id: i64,
    to_email: &str,
    kind: MailKind,
    since: i64,
) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
         AND kind = $3 AND created_at > $4",
    )
    .bind(organization_id)
    .bind(to_email)
    .bind(kind.as_str())
    .bind(since)
    .fetch_one(&mut **tx)
    .await?;
    Ok(count)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    to_email: String,
    subject: Option<String>,
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
                subject: row.subject.unwrap_or_default(),
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
    subject: Option<String>,
    kind: String,
    status: String,
    text_body: Option<String>,
    html_body: Option<String>,
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
        subject: row.subject.unwrap_or_default(),
        kind: row.kind,
        text_body: opened(row.text_body.as_deref())?,
        html_body: opened(row.html_body.as_deref())?,
        message_id: row.message_id,
        created_at: row.created_at,
    })
}

/// A message the sender holds under its lease: an intent (`params`) it
/// renders as it delivers, or, queued before intents, a stored message
/// whose bodies are sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    /// `None` for mail of no organization (a sign-up's confirmation).
    pub organization_id: Option<i64>,
    pub to_email: String,
    pub kind: String,
    pub params: Option<String>,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
}

impl Claimed {
    /// The message to deliver, with links on `base_url`.
    pub fn render(
        &self,
        base_url: &str,
    ) -> Result<super::templates::Rendered, super::intent::RenderError> {
        super::intent::render_stored(
            self.params.as_deref(),
            (
                self.subject.as_deref(),
                self.text_body.as_deref(),
                self.html_body.as_deref(),
            ),
            base_url,
        )
    }
}

/// Leases up to `batch` queued rows that are due to `owner` until
/// `locked_until`, by id. On PostgreSQL concurrent senders skip each
/// other's rows; SQLite runs the one statement alone anyway.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: i64,
    locked_until: i64,
    batch: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        // 'queued' is a literal, not a parameter: only then can either
        // database use the partial index `outbox_queued`.
        "UPDATE outbox SET locked_until = $1, lease_owner = $2
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'queued' AND next_attempt_at <= $3
                        AND (locked_until IS NULL OR locked_until < $3)
                      ORDER BY id LIMIT $4{lock})
         RETURNING id, organization_id, to_email, kind, params, subject, text_body, html_body, attempts, created_at"
    );
    debug_assert_eq!(OutboxStatus::Queued.as_str(), "queued");
    let mut claimed: Vec<Claimed> = sqlx::query_as(&sql)
        .bind(locked_until)
        .bind(owner)
        .bind(now)
        .bind(batch)
        .fetch_all(&db.pool)
        .await?;
    claimed.sort_by_key(|row| row.id);
    Ok(claimed)
}

/// How a delivery went, as the row records it.
pub struct Delivered<'a> {
    pub message_id: &'a str,
    /// The message the dev mailbox keeps (bodies sealed): there, the row is
    /// the delivery. `None` for SMTP, which keeps nothing but the intent.
    pub dev_mailbox: Option<&'a Kept>,
}

/// A delivered message as the dev mailbox keeps it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub subject: String,
    /// Sealed.
    pub text_body: String,
    /// Sealed.
    pub html_body: String,
}

impl Kept {
    pub fn seal(message: &super::templates::Rendered) -> Result<Kept, sqlx::Error> {
        Ok(Kept {
            subject: message.subject.clone(),
            text_body: sealed(&message.text)?,
            html_body: sealed(&message.html)?,
        })
    }
}

/// Marks a leased row sent, if `owner` still holds it.
pub async fn record_sent<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
    delivered: &Delivered<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let kept = delivered.dev_mailbox;
    // The message columns are written only for the dev mailbox; a row
    // delivered over SMTP keeps what it had (nothing, or a pre-intent message).
    sqlx::query(
        "UPDATE outbox SET status = $6, sent_at = $1, message_id = $2, attempts = attempts + 1,
                locked_until = NULL, last_error = NULL, delivered_to_dev_mailbox = $3,
                subject = COALESCE($7, subject), text_body = COALESCE($8, text_body),
                html_body = COALESCE($9, html_body)
         WHERE id = $4 AND lease_owner = $5",
    )
    .bind(now)
    .bind(delivered.message_id)
    .bind(i64::from(kept.is_some()))
    .bind(id)
    .bind(owner)
    .bind(OutboxStatus::Sent.as_str())
    .bind(kept.map(|kept| kept.subject.as_str()))
    .bind(kept.map(|kept| kept.text_body.as_str()))
    .bind(kept.map(|kept| kept.html_body.as_str()))
    .execute(db)
    .await?;
    Ok(())
}

/// [`record_sent`] for messages delivered over SMTP, in one statement: each
/// `(row id, Message-ID)` pair is marked sent if `owner` still holds the row.
/// The sender's results come a few at a time; one statement for them keeps
/// the writer's time per message small on SQLite's single writer.
pub async fn record_sent_over_smtp<'c>(
    db: impl Executor<'c, Database = Any>,
    owner: &str,
    sent: &[(i64, String)],
    now: i64,
) -> Result<(), sqlx::Error> {
    if sent.is_empty() {
        return Ok(());
    }
    let mut update = Bulk::new("UPDATE outbox SET status = ");
    update.bind(OutboxStatus::Sent.as_str());
    update.push(", sent_at = ");
    update.bind(now);
    update.push(
        ", message_id = v.column2, attempts = attempts + 1, locked_until = NULL,
           last_error = NULL, delivered_to_dev_mailbox = 0 FROM (VALUES ",
    );
    for (id, message_id) in sent {
        update.row(vec![Bind::from(*id), Bind::from(message_id.clone())]);
    }
    update.push(") AS v WHERE outbox.id = v.column1 AND outbox.lease_owner = ");
    update.bind(owner.to_owned());
    update.query().execute(db).await?;
    Ok(())
}

/// A failed attempt on a leased row, if `owner` still holds it.
pub struct FailedAttempt<'a> {
    /// The attempts so far, this one included.
    pub attempts: i64,
    pub error: &'a str,
    /// `Failed` once the sender gives up, else `Queued` for a retry.
    pub status: OutboxStatus,
    pub next_attempt_at: i64,
}

pub async fn record_failed_attempt<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
    attempt: &FailedAttempt<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4,
                locked_until = NULL
         WHERE id = $5 AND lease_owner = $6",
    )
    .bind(attempt.status.as_str())
    .bind(attempt.attempts)
    .bind(attempt.error)
    .bind(attempt.next_attempt_at)
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives a leased row back to the queue, due again at `next_attempt_at`
/// and without counting an attempt (its domain's limit was reached), if
/// `owner` still holds it.
pub async fn defer<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
    next_attempt_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET locked_until = NULL, lease_owner = NULL, next_attempt_at = $3
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(next_attempt_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives a leased row back to the queue unchanged, if `owner` still holds it.
pub async fn release<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    owner: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET locked_until = NULL, lease_owner = NULL
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    Ok(())
}
