//! Every statement on `api_tokens`.

use sqlx::{Any, Executor};

use crate::db::Tx;

#[derive(Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub hint: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A live token and the admin it acts as, in the token's organization.
#[derive(Debug, sqlx::FromRow)]
pub struct Bearer {
    pub token_id: i64,
    pub token_name: String,
    pub scope: String,
    pub last_used_at: Option<i64>,
    pub user_id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
}

pub struct NewToken<'a> {
    pub organization_id: i64,
    pub name: &'a str,
    pub scope: &'a str,
    pub token_hash: &'a str,
    pub hint: &'a str,
    pub created_by: i64,
}

pub async fn insert(tx: &mut Tx, token: &NewToken<'_>, now: i64) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_tokens (organization_id, name, scope, token_hash, hint, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(token.organization_id)
    .bind(token.name)
    .bind(token.scope)
    .bind(token.token_hash)
    .bind(token.hint)
    .bind(token.created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

pub async fn list<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(
        "SELECT t.id, t.name, t.scope, t.hint,
                COALESCE(NULLIF(TRIM(m.first_name || ' ' || m.last_name), ''), u.email, '') AS created_by,
                t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t
         JOIN users u ON u.id = t.created_by
         LEFT JOIN memberships m ON m.user_id = t.created_by AND m.organization_id = t.organization_id
         WHERE t.organization_id = $1
         ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC",
    )
    .bind(organization_id)
    .fetch_all(db)
    .await
}

/// Revokes a live token of the organization; its name, or `None` when the
/// organization has no such live token.
pub async fn revoke(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
    revoked_by: i64,
    now: i64,
) -> sqlx::Result<Option<String>> {
    let revoked: Option<(String,)> = sqlx::query_as(
        "UPDATE api_tokens SET revoked_at = $3, revoked_by = $4
         WHERE id = $1 AND organization_id = $2 AND revoked_at IS NULL
         RETURNING name",
    )
    .bind(id)
    .bind(organization_id)
    .bind(now)
    .bind(revoked_by)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(revoked.map(|(name,)| name))
}

/// The live token with this hash, with the admin it acts as: nothing when
/// it was revoked, or its creator is no longer an active member there.
pub async fn bearer<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<Option<Bearer>> {
    sqlx::query_as(
        "SELECT t.id AS token_id, t.name AS token_name, t.scope, t.last_used_at,
                u.id AS user_id, o.id AS organization_id, o.name AS organization_name,
                COALESCE(u.email, m.username, '') AS email, m.first_name, m.last_name, m.role
         FROM api_tokens t
         JOIN users u ON u.id = t.created_by
         JOIN organizations o ON o.id = t.organization_id
         JOIN memberships m ON m.user_id = u.id AND m.organization_id = o.id AND m.status = 'active'
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Marks a token used now (the caller decides how often).
pub async fn touch<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
