//! All SQL on `activation_tokens` (and the reads activation needs about
//! people). Every function takes an executor: the pool, or `&mut **tx`.

use sqlx::{Any, Executor};

/// A member of the organization who has no password yet and whom no other
/// organization holds an active record of: only such a person's first
/// password may be set through a link this organization sends.
#[derive(Debug, sqlx::FromRow)]
pub struct ProvisionedMember {
    pub organization: String,
    pub first_name: String,
}

/// A member of the organization, as an admin's send sees them.
#[derive(Debug, sqlx::FromRow)]
pub struct Member {
    pub email: Option<String>,
    pub status: String,
}

pub struct NewToken<'a> {
    pub organization_id: i64,
    pub user_id: i64,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub sent_by_name: &'a str,
}

/// What `/activate/{token}` needs, as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct TokenPerson {
    pub organization: String,
    /// pending, used or replaced.
    pub status: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub email: Option<String>,
    pub first_name: String,
    pub user_status: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedToken {
    pub user_id: i64,
    pub organization_id: i64,
}

pub async fn provisioned_member<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<Option<ProvisionedMember>> {
    sqlx::query_as(&format!(
        "SELECT o.name AS organization, m.first_name FROM memberships m
         JOIN users u ON u.id = m.user_id
         JOIN organizations o ON o.id = m.organization_id
         WHERE m.organization_id = $1 AND m.user_id = $2 AND m.status = 'active'
           AND u.status = 'provisioned' AND {}",
        crate::auth::store::owned_only_by("u", "m.organization_id")
    ))
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub async fn member<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<Option<Member>> {
    sqlx::query_as(
        "SELECT u.email, CASE WHEN m.status = 'pending' THEN 'pending' ELSE u.status END AS status
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND m.user_id = $2",
    )
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Where a username-only student's activation goes: the address of their
/// first linked parent in the organization who has one.
pub async fn parent_email<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    student_id: i64,
) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT pu.email {PARENT_OF_STUDENT} ORDER BY a.id LIMIT 1"
    ))
    .bind(organization_id)
    .bind(student_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(email,)| email))
}

/// `FROM …` the student ($2)'s parents with an email in the organization ($1).
const PARENT_OF_STUDENT: &str = "FROM associations a
     JOIN users pu ON pu.id = a.related_id
     JOIN memberships pm ON pm.user_id = pu.id AND pm.organization_id = a.organization_id
     WHERE a.organization_id = $1 AND a.student_id = $2 AND a.relation = 'parent'
       AND pu.email IS NOT NULL AND pm.status = 'active'";

/// Every provisioned member of the organization an activation email can
/// reach: by their own email, or a username-only student's parent's.
pub async fn provisioned_ids<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
) -> sqlx::Result<Vec<i64>> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT u.id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND m.status = 'active' AND u.status = 'provisioned'
           AND u.password_hash IS NULL
           AND (u.email IS NOT NULL OR EXISTS (SELECT 1 FROM associations a
                 JOIN users pu ON pu.id = a.related_id
                 WHERE a.organization_id = m.organization_id AND a.student_id = u.id
                   AND a.relation = 'parent' AND pu.email IS NOT NULL))
         ORDER BY u.id",
    )
    .bind(organization_id)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Marks the person's pending link replaced: a new one is on its way.
pub async fn replace_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE activation_tokens SET status = 'replaced' WHERE user_id = $1 AND status = 'pending'",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Stores a new pending link and returns its id. The partial unique index
/// allows one pending link per person, also against a concurrent send: the
/// newer one takes the row's place.
pub async fn insert_pending<'c>(
    db: impl Executor<'c, Database = Any>,
    token: &NewToken<'_>,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO activation_tokens (organization_id, user_id, token_hash, status, expires_at, sent_by_name, created_at)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6)
         ON CONFLICT (user_id) WHERE status = 'pending' DO UPDATE SET
            organization_id = excluded.organization_id, token_hash = excluded.token_hash,
            expires_at = excluded.expires_at, sent_by_name = excluded.sent_by_name,
            created_at = excluded.created_at
         RETURNING id",
    )
    .bind(token.organization_id)
    .bind(token.user_id)
    .bind(token.token_hash)
    .bind(token.expires_at)
    .bind(token.sent_by_name)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(id)
}

pub async fn record_sent<'c>(
    db: impl Executor<'c, Database = Any>,
    token_id: i64,
    outbox_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE activation_tokens SET outbox_id = $1 WHERE id = $2")
        .bind(outbox_id)
        .bind(token_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn by_token<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<Option<TokenPerson>> {
    sqlx::query_as(
        "SELECT o.name AS organization, t.status, t.expires_at, t.used_at, u.email,
                COALESCE(m.first_name, '') AS first_name, u.status AS user_status
         FROM activation_tokens t
         JOIN organizations o ON o.id = t.organization_id
         JOIN users u ON u.id = t.user_id
         LEFT JOIN memberships m ON m.user_id = t.user_id AND m.organization_id = t.organization_id
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Uses up a pending, unexpired link: a conditional update, so of two
/// concurrent tries exactly one gets it.
pub async fn claim<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<ClaimedToken>> {
    sqlx::query_as(
        "UPDATE activation_tokens SET status = 'used', used_at = $2
         WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
         RETURNING user_id, organization_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}
