//! All SQL on `invitations` (and the reads invitations need from groups and
//! their memberships). Every function takes an executor: the pool,
//! or `&mut **tx` inside the caller's transaction.

use sqlx::{Any, Executor};

use super::InvitationStatus;

pub mod delivery;
mod imported;
mod matching;
mod reminders;

pub use imported::{
    active_members_among, expire_overdue_for_emails, insert_bulk, pending_among, CreatedInvitation,
    ImportedBatch, ImportedInvitation,
};
pub use matching::{cancel_matching, list, resendable_matching, ListedInvitation};
pub use reminders::{
    claim_due_reminders, defer_reminder, record_reminder, reschedule_group, DueReminder,
};

/// The next reminder's time for an invitation (in an UPDATE of
/// `invitations`) whose last email went out at `sent` and that has had
/// `step` reminders since: `sent` plus that step's gap in the group's
/// schedule, or NULL when the schedule has no such step or the reminder
/// would fall at or after the invitation's expiry (it would not open).
pub(crate) fn next_reminder_sql(sent: &str, step: &str) -> String {
    next_reminder_of("invitations.group_id", "invitations.expires_at", sent, step)
}

/// [`next_reminder_sql`] for an invitation not written yet, whose group and
/// expiry are the SQL expressions `group_id` and `expires_at`.
pub(crate) fn next_reminder_of(group_id: &str, expires_at: &str, sent: &str, step: &str) -> String {
    format!(
        "(SELECT CASE WHEN {sent} + s.gap_days * 86400 < {expires_at}
                      THEN {sent} + s.gap_days * 86400 END
          FROM reminder_steps s WHERE s.group_id = {group_id} AND s.step = {step})"
    )
}

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
    pub expires_at: i64,
    /// Set for invitations into a program under a contract: they hold a seat.
    pub contract_id: Option<i64>,
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
        "UPDATE invitations SET status = 'expired', next_reminder_at = NULL
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

/// Remembers the last email sent for an invitation (the list shows its
/// delivery). A first send or a resend by hand starts the group's reminder
/// schedule (again).
pub async fn record_sent<'c>(
    db: impl Executor<'c, Database = Any>,
    invitation_id: i64,
    outbox_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE invitations SET last_outbox_id = $1, last_sent_at = $2, reminders_sent = 0,
                                next_reminder_at = {}
         WHERE id = $3",
        next_reminder_sql("$2", "0")
    );
    sqlx::query(&sql)
        .bind(outbox_id)
        .bind(now)
        .bind(invitation_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The contracts the organization's invitations `ids` are under, each once
/// and in order: what a resend locks before it touches the invitations.
pub async fn contracts_of<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = crate::db::Bulk::new(
        "SELECT DISTINCT contract_id FROM invitations WHERE contract_id IS NOT NULL AND organization_id = ",
    );
    select.bind(organization_id).push(" AND id IN (");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            select.push(", ");
        }
        select.bind(*id);
    }
    select.push(") ORDER BY contract_id");
    let found: Vec<(i64,)> = select.query_as().fetch_all(db).await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// Claims an invitation for a resend with a write first (takes SQLite's write lock).
pub async fn claim_for_resend<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<Option<ResendTarget>> {
    sqlx::query_as(
        "UPDATE invitations SET resend_count = resend_count
         WHERE organization_id = $1 AND id = $2
         RETURNING group_id, email, status, expires_at, contract_id",
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
    end_pending(db, organization_id, ids, InvitationStatus::Cancelled).await
}

/// Moves those of `ids` that are pending to `ended` (cancelled or expired),
/// with no reminder left to send; how many that was.
async fn end_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    ids: &[i64],
    ended: InvitationStatus,
) -> sqlx::Result<u64> {
    let sql = format!(
        "UPDATE invitations SET status = $2, next_reminder_at = NULL
         WHERE organization_id = $1 AND status = 'pending' AND id IN ({})",
        crate::db::placeholders(3, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(organization_id).bind(ended.as_str());
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.execute(db).await?.rows_affected())
}

/// Whom an invitation is for and to which group: how the audit log names it.
#[derive(Debug, sqlx::FromRow)]
pub struct Described {
    pub email: String,
    pub group_name: String,
}

pub async fn described<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> sqlx::Result<Option<Described>> {
    sqlx::query_as(
        "SELECT i.email, g.name AS group_name
         FROM invitations i JOIN learning_groups g ON g.id = i.group_id
         WHERE i.organization_id = $1 AND i.id = $2",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(db)
    .await
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
        "UPDATE invitations SET status = 'active', accepted_at = $2, next_reminder_at = NULL
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

/// Pending invitations an import created, oldest first, at most `limit`:
/// what an undo of it cancels next.
pub async fn pending_of_import<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    import_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM invitations
         WHERE organization_id = $1 AND import_id = $2 AND status = 'pending'
         ORDER BY id LIMIT $3",
    )
    .bind(organization_id)
    .bind(import_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// A sync: cancels the group's pending invitations to addresses the file
/// does not name (`emails`, normalized); how many.
pub async fn cancel_absent<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &crate::db::Db,
    group_id: i64,
    emails: &[String],
) -> sqlx::Result<u64> {
    let in_emails = dialect.json_text_set(2);
    Ok(sqlx::query(&format!(
        "UPDATE invitations SET status = 'cancelled'
         WHERE group_id = $1 AND status = 'pending' AND email NOT IN ({in_emails})"
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .execute(db)
    .await?
    .rows_affected())
}

/// Who [`cancel_absent`] would cancel: how many, and the first `limit`
/// addresses in order.
pub async fn absent<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &crate::db::Db,
    group_id: i64,
    emails: &[String],
    limit: i64,
) -> sqlx::Result<(i64, Vec<String>)> {
    let in_emails = dialect.json_text_set(2);
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT email, COUNT(*) OVER () FROM invitations
         WHERE group_id = $1 AND status = 'pending' AND email NOT IN ({in_emails})
         ORDER BY email LIMIT $3"
    ))
    .bind(group_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .bind(limit)
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |(_, n)| *n);
    Ok((total, rows.into_iter().map(|(email, _)| email).collect()))
}
