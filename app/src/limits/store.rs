//! All SQL on `rate_limits`. Every function takes an executor.

use sqlx::{Any, Executor};

/// The bucket after one attempt.
#[derive(Debug, sqlx::FromRow)]
pub struct Bucket {
    pub full_at_ms: i64,
    pub allowed: i64,
}

/// Takes one attempt from the bucket `key` (GCRA): allowed while the bucket
/// would be full again within `(burst - 1) * refill` of now; an allowed
/// attempt pushes that time one `refill` further, a refused one changes
/// nothing. One statement, so concurrent attempts, in this process or
/// another, are counted one after the other by the database's row lock.
pub async fn take<'c>(
    db: impl Executor<'c, Database = Any>,
    key: &str,
    now_ms: i64,
    refill_ms: i64,
    tolerance_ms: i64,
) -> sqlx::Result<Bucket> {
    sqlx::query_as(
        "INSERT INTO rate_limits (key, full_at_ms, allowed) VALUES ($1, $2 + $3, 1)
         ON CONFLICT (key) DO UPDATE SET
            full_at_ms = CASE WHEN rate_limits.full_at_ms - $2 <= $4
                THEN (CASE WHEN rate_limits.full_at_ms > $2 THEN rate_limits.full_at_ms ELSE $2 END) + $3
                ELSE rate_limits.full_at_ms END,
            allowed = CASE WHEN rate_limits.full_at_ms - $2 <= $4 THEN 1 ELSE 0 END
         RETURNING full_at_ms, allowed",
    )
    .bind(key)
    .bind(now_ms)
    .bind(refill_ms)
    .bind(tolerance_ms)
    .fetch_one(db)
    .await
}

/// Refills a bucket at once (a successful login forgives the typos before it).
pub async fn forget<'c>(db: impl Executor<'c, Database = Any>, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes the rows of buckets that are full again: they limit nothing.
pub async fn delete_full<'c>(
    db: impl Executor<'c, Database = Any>,
    now_ms: i64,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE full_at_ms <= $1")
            .bind(now_ms)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
