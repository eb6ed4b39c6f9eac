//! The reminder sweeper's statements on `invitations`: claiming the due
//! reminders, recording one sent or putting it off, and rescheduling a
//! group's pending invitations when its schedule changes.

use sqlx::{Any, Executor};

use super::next_reminder_sql;
use crate::db::{Backend, Tx};

/// A pending invitation whose reminder is due, as claimed.
#[derive(Debug, sqlx::FromRow)]
pub struct DueReminder {
    pub id: i64,
    pub organization_id: i64,
    pub group_id: i64,
    pub email: String,
    pub expires_at: i64,
}

/// Claims up to `batch` pending, unexpired invitations whose reminder is due
/// at `now`, inside the caller's transaction. The claim clears
/// `next_reminder_at`, so a claimed row no longer qualifies: on PostgreSQL a
/// concurrent sweeper skips the rows this one holds, and one that waited on
/// a row checks the condition again once this commits; SQLite has one
/// writer. Either way, no two sweepers send one reminder.
pub async fn claim_due_reminders(
    tx: &mut Tx,
    now: i64,
    batch: i64,
) -> sqlx::Result<Vec<DueReminder>> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // 'pending' is a literal, as everywhere the list's indexes should apply.
    let sql = format!(
        "UPDATE invitations SET next_reminder_at = NULL
         WHERE next_reminder_at <= $1 AND status = 'pending' AND expires_at > $1
           AND id IN (SELECT id FROM invitations
                      WHERE next_reminder_at <= $1 AND status = 'pending' AND expires_at > $1
                      ORDER BY next_reminder_at, id LIMIT $2{lock})
         RETURNING id, organization_id, group_id, email, expires_at"
    );
    let mut due: Vec<DueReminder> = sqlx::query_as(&sql)
        .bind(now)
        .bind(batch)
        .fetch_all(&mut **tx)
        .await?;
    due.sort_by_key(|row| row.id);
    Ok(due)
}

/// A reminder went out at `now` with a new link: the step is counted and the
/// next one scheduled from now.
pub async fn record_reminder<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    token_hash: &str,
    outbox_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE invitations SET token_hash = $1, last_outbox_id = $2, last_sent_at = $3,
                                reminders_sent = reminders_sent + 1,
                                next_reminder_at = {}
         WHERE id = $4",
        next_reminder_sql("$3", "invitations.reminders_sent + 1")
    );
    sqlx::query(&sql)
        .bind(token_hash)
        .bind(outbox_id)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Puts a claimed reminder off until `at`, or drops it when `at` is at or
/// after the invitation's expiry.
pub async fn defer_reminder<'c>(
    db: impl Executor<'c, Database = Any>,
    id: i64,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE invitations SET next_reminder_at = CASE WHEN $1 < expires_at THEN $1 END
         WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Schedules the next reminder of the group's pending invitations by its
/// (new) schedule, counting from each one's last email; those never
/// emailed get none.
pub async fn reschedule_group<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    group_id: i64,
) -> sqlx::Result<u64> {
    let sql = format!(
        "UPDATE invitations SET next_reminder_at = {}
         WHERE organization_id = $1 AND group_id = $2 AND status = 'pending'
           AND last_sent_at IS NOT NULL",
        next_reminder_sql("invitations.last_sent_at", "invitations.reminders_sent")
    );
    Ok(sqlx::query(&sql)
        .bind(organization_id)
        .bind(group_id)
        .execute(db)
        .await?
        .rows_affected())
}
