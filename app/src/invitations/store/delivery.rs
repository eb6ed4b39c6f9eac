//! Where the emails of an import's invitations stand: per row of the import
//! (an import row's invitations are those of the import with its email),
//! counted, and the filter of the import's rows. Each invitation points at
//! its latest email (`last_outbox_id`, replaced by a resend);
//! `invitations_import` finds an import's invitations.

use sqlx::{Any, Executor};

use crate::{
    db::Db,
    mail::{DeliveryCounts, OutboxStatus},
};

/// The latest email of one of an import's invitations, as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct ImportedDelivery {
    pub email: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

/// The latest emails of the import's invitations to `emails`.
pub async fn of_import_emails<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    import_id: i64,
    emails: &[&str],
) -> sqlx::Result<Vec<ImportedDelivery>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let in_emails = dialect.json_text_set(2);
    sqlx::query_as(&format!(
        "SELECT i.email, o.status, o.attempts, o.last_error, o.sent_at
         FROM invitations i JOIN outbox o ON o.id = i.last_outbox_id
         WHERE i.import_id = $1 AND i.email IN ({in_emails})"
    ))
    .bind(import_id)
    .bind(serde_json::to_string(emails).unwrap_or_default())
    .fetch_all(db)
    .await
}

/// The import's invitations counted by where their latest email stands.
pub async fn counts_of_import<'c>(
    db: impl Executor<'c, Database = Any>,
    import_id: i64,
) -> Result<DeliveryCounts, crate::error::AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT o.status, COUNT(*) FROM invitations i JOIN outbox o ON o.id = i.last_outbox_id
         WHERE i.import_id = $1 GROUP BY o.status",
    )
    .bind(import_id)
    .fetch_all(db)
    .await?;
    let mut counts = DeliveryCounts::default();
    for (status, count) in rows {
        counts.add(status.parse()?, count);
    }
    Ok(counts)
}

/// A condition on `import_rows r`: one of the row's invitations has its
/// latest email in `status` (a literal from the enum, so no placeholder).
pub fn import_row_condition(status: OutboxStatus) -> String {
    format!(
        "EXISTS (SELECT 1 FROM invitations i JOIN outbox o ON o.id = i.last_outbox_id
                 WHERE i.import_id = r.import_id AND i.email = r.email AND o.status = '{}')",
        status.as_str()
    )
}
