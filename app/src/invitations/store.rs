//! All SQL on `invitations` (and the reads invitations need from groups and
//! their memberships). Every function takes an executor: the pool,
//! or `&mut **tx` inside the caller's transaction.

use sqlx::{Any, Executor};

use super::InvitationStatus;
use crate::db::{Bind, Bulk, Db};

mod matching;

pub use matching::{cancel_matching, list, resendable_matching, ListedInvitation};

/// What an invitation to a group needs to know about it.
#[derive(Debug, sqlx::FromRow)]
pub struct InviteGroup {
    pub name: String,
    pub organization: String,
    pub expiry_days: i64,
}

pub struct NewInvitation<'a> {
    pub organization_id: i64,
    pub group_id: i64,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub invited_by: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ResendTarget {
    pub group_id: i64,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub status: InvitationStatus,
}

/// What `/invite/{token}` shows, as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct TokenInvitation {
    pub organization: String,
    pub group_name: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub status: InvitationStatus,
    pub expires_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedInvitation {
    pub id: i64,
    pub organization_id: i64,
    pub group_id: i64,
}

/// Marks the group's pending invitations past their expiry as expired. Also
/// the first write of a manual invite, so SQLite takes its write lock before
/// the reads.
pub async fn expire_overdue<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    group_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitations SET status = 'expired'
         WHERE organization_id = $1 AND group_id = $2 AND status = 'pending' AND expires_at <= $3",
    )
    .bind(organization_id)
    .bind(group_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn invite_group<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    group_id: i64,
) -> sqlx::Result<Option<InviteGroup>> {
    sqlx::query_as(
        "SELECT g.name, o.name AS organization, g.default_expiry_days AS expiry_days
         FROM learning_groups g JOIN organizations o ON o.id = g.organization_id
         WHERE g.organization_id = $1 AND g.id = $2",
    )
    .bind(organization_id)
    .bind(group_id)
    .fetch_optional(db)
    .await
}

pub async fn is_active_member<'c>(
    db: impl Executor<'c, Database = Any>,
    group_id: i64,
    email: &str,
) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT gm.id FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE gm.group_id = $1 AND u.email = $2 AND gm.status = 'active'",
    )
    .bind(group_id)
    .bind(email)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// The new invitation's id; `None` when one is already pending for this
/// group and email (the partial unique index decides, also against a
/// concurrent invite).
pub async fn insert_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    invitation: &NewInvitation<'_>,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO invitations (organization_id, group_id, email, token_hash, status, expires_at,
                                  invited_by, resend_count, created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, 0, $7)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(invitation.organization_id)
    .bind(invitation.group_id)
    .bind(invitation.email)
    .bind(invitation.token_hash)
    .bind(invitation.expires_at)
    .bind(invitation.invited_by)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Remembers the last email sent for an invitation (the list shows its delivery).
pub async fn record_sent<'c>(
    db: impl Executor<'c, Database = Any>,
    invitation_id: i64,
    outbox_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE invitations SET last_outbox_id = $1, last_sent_at = $2 WHERE id = $3")
        .bind(outbox_id)
        .bind(now)
        .bind(invitation_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Claims an invitation for a resend with a write first (takes SQLite's write lock).
pub async fn claim_for_resend<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<Option<ResendTarget>> {
    sqlx::query_as(
        "UPDATE invitations SET resend_count = resend_count
         WHERE organization_id = $1 AND id = $2 RETURNING group_id, email, status",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Whether another invitation for this group and email is pending.
pub async fn other_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    group_id: i64,
    email: &str,
    id: i64,
) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM invitations WHERE group_id = $1 AND email = $2 AND status = 'pending' AND id <> $3",
    )
    .bind(group_id)
    .bind(email)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// A new link (the old one dies), pending again until `expires_at`.
pub async fn renew<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    token_hash: &str,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitations SET token_hash = $1, status = 'pending', expires_at = $2, resend_count = resend_count + 1
         WHERE id = $3",
    )
    .bind(token_hash)
    .bind(expires_at)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Cancels those of `ids` that are pending; how many that was.
pub async fn cancel_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    ids: &[i64],
) -> sqlx::Result<u64> {
    let placeholders = (0..ids.len())
        .map(|n| format!("${}", n + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE invitations SET status = 'cancelled'
         WHERE organization_id = $1 AND status = 'pending' AND id IN ({placeholders})"
    );
    let mut query = sqlx::query(&sql).bind(organization_id);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.execute(db).await?.rows_affected())
}

pub async fn status<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<Option<InvitationStatus>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(try_from = "String")]
        status: InvitationStatus,
    }
    let row: Option<Row> =
        sqlx::query_as("SELECT status FROM invitations WHERE organization_id = $1 AND id = $2")
            .bind(organization_id)
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|row| row.status))
}

pub async fn by_token<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<Option<TokenInvitation>> {
    sqlx::query_as(
        "SELECT o.name AS organization, g.name AS group_name, i.email, i.status, i.expires_at
         FROM invitations i
         JOIN organizations o ON o.id = i.organization_id
         JOIN learning_groups g ON g.id = i.group_id
         WHERE i.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn email_by_token<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT email FROM invitations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(email,)| email))
}

/// Turns a pending, unexpired invitation active: a conditional update, so of
/// two concurrent accepts exactly one gets the row.
pub async fn claim_for_accept<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<ClaimedInvitation>> {
    sqlx::query_as(
        "UPDATE invitations SET status = 'active', accepted_at = $2
         WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
         RETURNING id, organization_id, group_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn set_accepted_user<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE invitations SET accepted_user_id = $1 WHERE id = $2")
        .bind(user_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

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
}

/// An invitation an import batch created (one pending already kept the slot
/// of any that is missing).
#[derive(Debug, sqlx::FromRow)]
pub struct CreatedInvitation {
    pub id: i64,
    pub group_id: i64,
    pub email: String,
}

/// Before an import invites `emails` to the group again: their pending
/// invitations that are past expiry become expired. The emails travel as
/// one JSON parameter, whatever their number.
pub async fn expire_overdue_for_emails<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    group_id: i64,
    emails: &[&str],
    now: i64,
) -> sqlx::Result<()> {
    let in_emails = dialect.json_text_set(3);
    sqlx::query(&format!(
        "UPDATE invitations SET status = 'expired'
         WHERE group_id = $1 AND status = 'pending' AND expires_at <= $2 AND email IN ({in_emails})"
    ))
    .bind(group_id)
    .bind(now)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .execute(db)
    .await?;
    Ok(())
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
    let select = dialect.select_json_rows(6, &[Int, Text, Text, Int]);
    let rows: Vec<serde_json::Value> = invitations
        .iter()
        .map(|i| serde_json::json!([i.group_id, i.email, i.token_hash, i.expires_at]))
        .collect();
    sqlx::query_as(&format!(
        "INSERT INTO invitations (organization_id, contract_id, import_id, invited_by, created_at,
                                  group_id, email, token_hash, expires_at, status, resend_count)
         SELECT $1, $2, $3, $4, $5, j.*, 'pending', 0 FROM ({select}) AS j
         WHERE true ON CONFLICT DO NOTHING RETURNING id, group_id, email"
    ))
    .bind(batch.organization_id)
    .bind(batch.contract_id)
    .bind(batch.import_id)
    .bind(batch.invited_by)
    .bind(batch.created_at)
    .bind(serde_json::Value::Array(rows).to_string())
    .fetch_all(db)
    .await
}

/// [`record_sent`] for many invitations in one statement: each
/// `(invitation id, outbox id)` pair points an invitation at its message.
/// Three placeholders a pair: the caller keeps batches within the backends'
/// limits.
pub async fn record_sent_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    sent: &[(i64, i64)],
    now: i64,
) -> sqlx::Result<()> {
    if sent.is_empty() {
        return Ok(());
    }
    let mut update = Bulk::new(
        "UPDATE invitations SET last_outbox_id = v.column2, last_sent_at = v.column3 FROM (VALUES ",
    );
    for (invitation_id, outbox_id) in sent {
        update.row(vec![
            Bind::from(*invitation_id),
            Bind::from(*outbox_id),
            Bind::from(now),
        ]);
    }
    update.push(") AS v WHERE invitations.id = v.column1");
    update.query().execute(db).await?;
    Ok(())
}

/// Which of `emails` are active members of the group (one JSON parameter).
pub async fn active_members_among<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    group_id: i64,
    emails: &[&str],
) -> sqlx::Result<Vec<String>> {
    let in_emails = dialect.json_text_set(2);
    let found: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT u.email FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE gm.group_id = $1 AND gm.status = 'active' AND u.email IN ({in_emails})"
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .fetch_all(db)
    .await?;
    Ok(found.into_iter().map(|(email,)| email).collect())
}
