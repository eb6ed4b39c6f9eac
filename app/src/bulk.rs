//! What the bulk email actions (resending invitations, sending activation
//! emails) share, so that neither noun has to import the other.

use serde::{Deserialize, Serialize};

/// How many rows one bulk request may name.
pub const MAX_BULK_IDS: usize = 1000;
/// Emails of one kind an admin may send to one address per 24 hours
/// (invitations resent, activation emails sent by hand).
pub const MAX_EMAILS_PER_ADDRESS_PER_DAY: i64 = 3;
/// Rows handled per transaction in bulk actions (keeps SQLite's write lock short).
pub const CHUNK: usize = 200;

/// What a bulk email action did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    /// Emails queued (or, for cancelling, invitations cancelled).
    pub done: i64,
    /// Left out because the address had its emails for today.
    pub rate_limited: i64,
    /// Left out because the action does not apply to them (already active,
    /// cancelled, no email address, not in this organization…).
    pub skipped: i64,
}

impl BulkOutcome {
    /// `"Sent 3 activation emails; 1 skipped (already 3 today)."`, with `done` worded by the caller.
    pub fn describe(&self, done: &str) -> String {
        let mut parts = vec![done.to_owned()];
        if self.rate_limited > 0 {
            parts.push(format!(
                "{} left out: their address already got {MAX_EMAILS_PER_ADDRESS_PER_DAY} emails in the last 24 hours",
                self.rate_limited
            ));
        }
        if self.skipped > 0 {
            parts.push(format!(
                "{} skipped: the action does not apply to them",
                self.skipped
            ));
        }
        format!("{}.", parts.join("; "))
    }
}

/// The selection sorted, without repeats; refused when it names more than
/// [`MAX_BULK_IDS`] (`what` and `instead` word the refusal).
pub fn unique_selection(
    ids: &[i64],
    what: &str,
    instead: &str,
) -> Result<Vec<i64>, crate::error::AppError> {
    if ids.len() > MAX_BULK_IDS {
        return Err(crate::error::AppError::invalid(
            "Selection",
            format!("at most {MAX_BULK_IDS} {what} at a time; {instead}"),
        ));
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    Ok(unique)
}

/// Emails of `kind` the organization queued for `email` after `since`: what
/// the per-address daily limits count.
#[cfg(feature = "ssr")]
pub async fn emails_sent_since<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    organization_id: i64,
    email: &str,
    kind: crate::mail::intent::MailKind,
    since: i64,
) -> sqlx::Result<i64> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
         AND kind = $3 AND created_at > $4",
    )
    .bind(organization_id)
    .bind(email)
    .bind(kind.as_str())
    .bind(since)
    .fetch_one(db)
    .await?;
    Ok(count)
}

/// Emails of any of `kinds` the organization queued for `email` after
/// `since`, and when the earliest of them was queued: how many a limit
/// counts, and when the first of them stops counting.
#[cfg(feature = "ssr")]
pub async fn emails_sent_window<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    organization_id: i64,
    email: &str,
    kinds: &[crate::mail::intent::MailKind],
    since: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    let placeholders = (0..kinds.len())
        .map(|n| format!("${}", n + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE organization_id = $1 AND to_email = $2
         AND created_at > $3 AND kind IN ({placeholders})"
    );
    let mut query = sqlx::query_as(&sql)
        .bind(organization_id)
        .bind(email)
        .bind(since);
    for kind in kinds {
        query = query.bind(kind.as_str());
    }
    query.fetch_one(db).await
}
