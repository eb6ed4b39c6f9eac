//! The SQL of passwords: setting one, and the `password_resets` links of
//! "Forgot password?". Every function takes an executor.

use sqlx::{Any, Executor};

/// Someone a reset link may be sent to: an account with an email that can
/// sign in, or could once it has a password (created by an import).
#[derive(Debug, sqlx::FromRow)]
pub struct ResetCandidate {
    pub id: i64,
    pub first_name: String,
}

/// A reset link as stored, with the address it was sent to.
#[derive(Debug, sqlx::FromRow)]
pub struct ResetLink {
    pub user_id: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub email: Option<String>,
}

pub async fn reset_candidate<'c>(
    db: impl Executor<'c, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<ResetCandidate>> {
    sqlx::query_as(
        // Names are each organization's record; the email greets them by
        // the one they have been known by longest.
        "SELECT id, COALESCE((SELECT m.first_name FROM memberships m
                               WHERE m.user_id = users.id AND m.status = 'active'
                               ORDER BY m.id LIMIT 1), '') AS first_name
         FROM users WHERE email = $1 AND status IN ('active', 'provisioned')",
    )
    .bind(email)
    .fetch_optional(db)
    .await
}

/// Deletes the person's earlier links: only the newest one works.
pub async fn delete_resets_of<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn insert_reset<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    token_hash: &str,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_resets (user_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn reset_by_token<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<Option<ResetLink>> {
    sqlx::query_as(
        "SELECT r.user_id, r.expires_at, r.used_at, u.email
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Uses up an unused, unexpired link: a conditional update, so of two
/// concurrent tries exactly one gets its person.
pub async fn claim_reset<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE password_resets SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(user_id,)| user_id))
}

/// Deletes links past their hour; the supervisor runs it periodically.
pub async fn delete_expired_resets<'c>(
    db: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
            .bind(now)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// The password hash of an account that can sign in.
pub async fn password_hash_of<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM users WHERE id = $1 AND status = 'active'")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(hash,)| hash))
}

/// Sets a person's password; someone an import created becomes active.
/// `email_verified_at` is set when the caller has proof of the address (a
/// reset link reached it), else left as it was. Nothing else of the person
/// changes. `false` when they are invited only (they accept the invitation
/// instead).
pub async fn set_password<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    password_hash: &str,
    email_verified_at: Option<i64>,
) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET password_hash = $2,
                status = CASE WHEN status = 'provisioned' THEN 'active' ELSE status END,
                email_verified_at = COALESCE($3, email_verified_at)
         WHERE id = $1 AND status IN ('active', 'provisioned') RETURNING id",
    )
    .bind(user_id)
    .bind(password_hash)
    .bind(email_verified_at)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// Ends the person's sessions except the one with `keep_token_hash` (the
/// browser that changed the password stays signed in).
pub async fn delete_other_sessions<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    keep_token_hash: &str,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_token_hash)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
