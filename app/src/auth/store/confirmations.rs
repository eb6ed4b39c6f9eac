//! `email_confirmations`: single-use links that prove an address nobody has
//! proven yet. Only the SHA-256 of the token is stored.

use sqlx::{Any, Executor};

pub async fn insert_confirmation<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    token_hash: &str,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO email_confirmations (user_id, token_hash, expires_at, created_at)
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

/// Uses up a live link: a conditional update, so a link works once. The
/// person it belongs to, if it was live.
pub async fn use_confirmation<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE email_confirmations SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Deletes links that can no longer be used; the supervisor's sweep runs it.
pub async fn delete_spent_confirmations<'c>(
    db: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query(
            "DELETE FROM email_confirmations WHERE used_at IS NOT NULL OR expires_at <= $1",
        )
        .bind(now)
        .execute(db)
        .await?
        .rows_affected(),
    )
}
