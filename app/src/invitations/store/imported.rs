//! The bulk statements an import's batch runs on invitations: a few
//! statements a batch, whatever its size, with rows travelling as one JSON
//! parameter where the backends allow it.

use sqlx::{Any, Executor};

use crate::{db::Db, invitations::InvitationStatus};

/// What every invitation an import batch creates has in common.
pub struct ImportedBatch {
    pub organization_id: i64,
    pub contract_id: Option<i64>,
    pub import_id: i64,
    pub invited_by: i64,
    pub created_at: i64,
}

/// One invitation an import batch wants.
pub struct ImportedInvitation<'a> {
    pub group_id: i64,
    pub email: &'a str,
    pub token_hash: String,
    pub expires_at: i64,
    /// The id reserved for its email's outbox row, when one is sent: the
    /// invitation points at its message from the start, and its first
    /// reminder is scheduled from now.
    pub outbox_id: Option<i64>,
}

/// An invitation an import batch created (one pending already kept the slot
/// of any that is missing).
#[derive(Debug, sqlx::FromRow)]
pub struct CreatedInvitation {
    pub id: i64,
    pub group_id: i64,
    pub email: String,
    pub last_outbox_id: Option<i64>,
}

/// Before an import invites `emails` to the group again: their pending
/// invitations that are past expiry become expired. The emails travel as
/// one JSON parameter, whatever their number; overdue invitations are
/// looked up one address at a time (see [`per_address`]) and only those
/// found are updated, by id.
pub async fn expire_overdue_for_emails(
    conn: &mut sqlx::AnyConnection,
    dialect: &Db,
    organization_id: i64,
    group_id: i64,
    emails: &[&str],
    now: i64,
) -> sqlx::Result<()> {
    let overdue: Vec<(i64,)> = sqlx::query_as(&per_address(
        dialect,
        "SELECT i.id FROM invitations i
         WHERE i.group_id = $1 AND i.email = e.value AND i.status = 'pending' AND i.expires_at <= $3",
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = overdue.into_iter().map(|(id,)| id).collect();
    for chunk in ids.chunks(crate::db::IN_CHUNK) {
        super::end_pending(
            &mut *conn,
            organization_id,
            chunk,
            InvitationStatus::Expired,
        )
        .await?;
    }
    Ok(())
}

/// `SELECT <the hit> FROM <each address in $2> WHERE <the address has one>`:
/// `lookup` finds at most one row for the address `e.value` (a unique
/// index's worth) and selects one column. It runs as a subquery per address,
/// which neither database turns into a join: a join's plan rests on the
/// table's statistics, and while an import fills a new group those say the
/// group is empty, so PostgreSQL scanned every pending invitation of the
/// group on every batch (12 ms a batch at 100,000, growing with the group).
/// One index probe per address costs the same at any size.
fn per_address(dialect: &Db, lookup: &str) -> String {
    format!(
        "SELECT s.hit FROM (SELECT ({lookup} LIMIT 1) AS hit FROM {}) AS s WHERE s.hit IS NOT NULL",
        dialect.json_text_rows(2, "e")
    )
}

/// Creates an import batch's invitations as pending, all rows in one JSON
/// parameter; those already pending for their group and email are skipped
/// by the partial unique index.
pub async fn insert_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    batch: &ImportedBatch,
    invitations: &[ImportedInvitation<'_>],
) -> sqlx::Result<Vec<CreatedInvitation>> {
    use crate::db::JsonColumn::{Int, Text};
    let select = dialect.select_json_rows(6, &[Int, Text, Text, Int, Int]);
    let rows: Vec<_> = invitations
        .iter()
        .map(|i| {
            (
                i.group_id,
                i.email,
                &i.token_hash,
                i.expires_at,
                i.outbox_id,
            )
        })
        .collect();
    let reminder = super::next_reminder_of("j.c0", "j.c3", "$5", "0");
    sqlx::query_as(&format!(
        "INSERT INTO invitations (organization_id, contract_id, import_id, invited_by, created_at,
                                  group_id, email, token_hash, expires_at, status, resend_count,
                                  last_outbox_id, last_sent_at, next_reminder_at)
         SELECT $1, $2, $3, $4, $5, j.c0, j.c1, j.c2, j.c3, 'pending', 0, j.c4,
                CASE WHEN j.c4 IS NULL THEN NULL ELSE $5 END,
                CASE WHEN j.c4 IS NULL THEN NULL ELSE {reminder} END
         FROM ({select}) AS j
         WHERE true ON CONFLICT DO NOTHING RETURNING id, group_id, email, last_outbox_id"
    ))
    .bind(batch.organization_id)
    .bind(batch.contract_id)
    .bind(batch.import_id)
    .bind(batch.invited_by)
    .bind(batch.created_at)
    .bind(serde_json::to_string(&rows).unwrap_or_default())
    .fetch_all(db)
    .await
}

/// Which of `emails` are active members of the group (one JSON parameter,
/// one index probe per address).
pub async fn active_members_among<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    group_id: i64,
    emails: &[&str],
) -> sqlx::Result<Vec<String>> {
    let found: Vec<(String,)> = sqlx::query_as(&per_address(
        dialect,
        "SELECT u.email FROM users u
         JOIN group_memberships gm ON gm.user_id = u.id AND gm.group_id = $1 AND gm.status = 'active'
         WHERE u.email = e.value",
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .fetch_all(db)
    .await?;
    Ok(found.into_iter().map(|(email,)| email).collect())
}

/// Which of `emails` already have a pending invitation to the group (an
/// import batch's insert skips them, so they take no new seat).
pub async fn pending_among<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    group_id: i64,
    emails: &[&str],
) -> sqlx::Result<Vec<String>> {
    let found: Vec<(String,)> = sqlx::query_as(&per_address(
        dialect,
        "SELECT i.email FROM invitations i
         WHERE i.group_id = $1 AND i.email = e.value AND i.status = 'pending'",
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .fetch_all(db)
    .await?;
    Ok(found.into_iter().map(|(email,)| email).collect())
}
