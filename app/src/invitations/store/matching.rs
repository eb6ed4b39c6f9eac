//! The invitations list's filter and what uses it: the page of the list and
//! the bulk actions on everything matching.

use sqlx::Any;

use crate::{
    db::like_pattern,
    error::AppError,
    invitations::{InvitationFilter, InvitationStatus, PAGE_SIZE},
};

/// One line of the admin's list, before the accepted name is put together.
#[derive(Debug, sqlx::FromRow)]
pub struct ListedInvitation {
    pub id: i64,
    pub email: String,
    pub group_name: String,
    #[sqlx(try_from = "String")]
    pub status: InvitationStatus,
    pub expires_at: i64,
    pub created_at: i64,
    pub resend_count: i64,
    pub next_reminder_at: Option<i64>,
    pub delivery: Option<String>,
    pub delivery_attempts: Option<i64>,
    pub delivery_error: Option<String>,
    pub delivery_sent_at: Option<i64>,
    pub accepted_first_name: Option<String>,
    pub accepted_last_name: Option<String>,
}

/// The status as the list reads it (see [`InvitationStatus::at`]).
const EFFECTIVE_STATUS: &str =
    "CASE WHEN i.status = 'pending' AND i.expires_at <= $2 THEN 'expired' ELSE i.status END";

/// The FROM and WHERE of the list and of the bulk actions on everything
/// matching, with the normalized status it binds: $1 organization, $2 now,
/// $3 status, $4 email pattern, $5 group, $6 import.
fn filter_sql(filter: &InvitationFilter) -> Result<(String, String), AppError> {
    let status = filter.status.trim().to_lowercase();
    if !status.is_empty() {
        status.parse::<InvitationStatus>()?;
    }
    // The status is a literal from the enum, not a parameter, so the
    // placeholders stay the same for every statement built on this filter.
    let delivery = match crate::mail::delivery::parse_filter(&filter.delivery)? {
        None => String::new(),
        Some(state) => format!(
            " AND EXISTS (SELECT 1 FROM outbox d WHERE d.id = i.last_outbox_id AND d.status = '{}')",
            state.as_str()
        ),
    };
    Ok((
        format!(
            "FROM invitations i
             JOIN learning_groups g ON g.id = i.group_id
             WHERE i.organization_id = $1
               AND ($3 = '' OR {EFFECTIVE_STATUS} = $3)
               AND i.email LIKE $4 ESCAPE '\\'
               AND ($5 = 0 OR i.group_id = $5)
               AND ($6 = 0 OR i.import_id = $6){delivery}"
        ),
        status,
    ))
}

type AnyQueryAs<'q, O> = sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>;

fn bind_filter<'q, O>(
    query: AnyQueryAs<'q, O>,
    organization_id: i64,
    now: i64,
    status: &str,
    filter: &InvitationFilter,
) -> AnyQueryAs<'q, O> {
    query
        .bind(organization_id)
        .bind(now)
        .bind(status.to_owned())
        .bind(like_pattern(&filter.search))
        .bind(filter.group_id)
        .bind(filter.import_id)
}

/// How many invitations match, and those on `page` (newest first).
pub async fn list(
    db: &sqlx::AnyPool,
    organization_id: i64,
    filter_by: &InvitationFilter,
    page: i64,
    now: i64,
) -> Result<(i64, Vec<ListedInvitation>), AppError> {
    let (filter, status) = filter_sql(filter_by)?;
    let (total,): (i64,) = bind_filter(
        sqlx::query_as(&format!("SELECT COUNT(*) {filter}")),
        organization_id,
        now,
        &status,
        filter_by,
    )
    .fetch_one(db)
    .await?;
    let sql = format!(
        "SELECT i.id, i.email, g.name AS group_name, {EFFECTIVE_STATUS} AS status, i.expires_at,
                i.created_at, i.resend_count, i.next_reminder_at, o.status AS delivery,
                o.attempts AS delivery_attempts, o.last_error AS delivery_error,
                o.sent_at AS delivery_sent_at,
                am.first_name AS accepted_first_name, am.last_name AS accepted_last_name
         {filter_with_joins}
         ORDER BY i.id DESC LIMIT $7 OFFSET $8",
        filter_with_joins = filter.replacen(
            "WHERE",
            "LEFT JOIN outbox o ON o.id = i.last_outbox_id
             LEFT JOIN memberships am ON am.user_id = i.accepted_user_id
                  AND am.organization_id = i.organization_id AND i.status = 'active'
             WHERE",
            1
        )
    );
    let rows: Vec<ListedInvitation> = bind_filter(
        sqlx::query_as(&sql),
        organization_id,
        now,
        &status,
        filter_by,
    )
    .bind(PAGE_SIZE)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(db)
    .await?;
    Ok((total, rows))
}

/// The ids of every pending or expired invitation matching `filter`.
pub async fn resendable_matching(
    db: &sqlx::AnyPool,
    organization_id: i64,
    filter_by: &InvitationFilter,
    now: i64,
) -> Result<Vec<i64>, AppError> {
    let (filter, status) = filter_sql(filter_by)?;
    let sql = format!("SELECT i.id {filter} AND i.status IN ('pending', 'expired') ORDER BY i.id");
    let ids: Vec<(i64,)> = bind_filter(
        sqlx::query_as(&sql),
        organization_id,
        now,
        &status,
        filter_by,
    )
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Cancels every pending invitation matching `filter`, in one statement.
pub async fn cancel_matching(
    db: &mut sqlx::AnyConnection,
    organization_id: i64,
    filter_by: &InvitationFilter,
    now: i64,
) -> Result<u64, AppError> {
    let (filter, status) = filter_sql(filter_by)?;
    let sql = format!(
        "UPDATE invitations SET status = 'cancelled', next_reminder_at = NULL
         WHERE organization_id = $1 AND status = 'pending' AND id IN (SELECT i.id {filter})"
    );
    Ok(sqlx::query(&sql)
        .bind(organization_id)
        .bind(now)
        .bind(status)
        .bind(like_pattern(&filter_by.search))
        .bind(filter_by.group_id)
        .bind(filter_by.import_id)
        .execute(db)
        .await?
        .rows_affected())
}
