//! The only code that touches `audit_events`: it inserts and reads, and
//! nothing else (the database refuses updates and deletes as well).

use sqlx::{any::AnyArguments, query::QueryAs, Any, AnyConnection};

use super::ActivityFilter;
use crate::db::Db;

/// A record about to be written.
pub struct NewEvent<'a> {
    pub organization_id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: &'a str,
    pub actor_email: &'a str,
    pub action: &'static str,
    pub subject_kind: Option<&'static str>,
    pub subject_id: Option<i64>,
    pub subject_label: &'a str,
    pub item_count: Option<i64>,
    pub details: &'a str,
    pub created_at: i64,
}

/// Takes a connection, not the pool: a record is written in the
/// transaction of the change it records.
pub async fn insert(conn: &mut AnyConnection, event: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (organization_id, actor_user_id, actor_name, actor_email,
             action, subject_kind, subject_id, subject_label, item_count, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(event.organization_id)
    .bind(event.actor_user_id)
    .bind(event.actor_name)
    .bind(event.actor_email)
    .bind(event.action)
    .bind(event.subject_kind)
    .bind(event.subject_id)
    .bind(event.subject_label)
    .bind(event.item_count)
    .bind(event.details)
    .bind(event.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub created_at: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub actor_email: String,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    pub subject_label: String,
    pub item_count: Option<i64>,
    pub details: String,
}

const COLUMNS: &str = "id, created_at, actor_user_id, actor_name, actor_email, action,
     subject_kind, subject_id, subject_label, item_count, details";

/// `WHERE` over one organization's events narrowed by `filter`, with
/// placeholders from `$2` on (`$1` is the organization), and the values
/// to bind in order.
fn filtered(filter: &ActivityFilter) -> (String, Vec<FilterValue>) {
    let mut sql = String::from(" WHERE organization_id = $1");
    let mut values = Vec::new();
    let mut add = |clause: &str, value: FilterValue| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ${}", values.len() + 1));
    };
    if let Some(action) = filter.action {
        add("action =", FilterValue::Text(action.as_str()));
    }
    if let Some(actor) = filter.actor_user_id {
        add("actor_user_id =", FilterValue::Int(actor));
    }
    if let Some(since) = filter.since {
        add("created_at >=", FilterValue::Int(since));
    }
    if let Some(until) = filter.until {
        add("created_at <", FilterValue::Int(until));
    }
    (sql, values)
}

enum FilterValue {
    Int(i64),
    Text(&'static str),
}

fn bind_all<'q>(
    mut query: QueryAs<'q, Any, EventRow, AnyArguments<'q>>,
    values: &[FilterValue],
) -> QueryAs<'q, Any, EventRow, AnyArguments<'q>> {
    for value in values {
        query = match value {
            FilterValue::Int(v) => query.bind(*v),
            FilterValue::Text(v) => query.bind(*v),
        };
    }
    query
}

/// Up to `limit` events older than `before` (all when `None`), newest first.
pub async fn page(
    db: &Db,
    organization_id: i64,
    filter: &ActivityFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    let (mut clause, mut values) = filtered(filter);
    if let Some(before) = before {
        values.push(FilterValue::Int(before));
        clause.push_str(&format!(" AND id < ${}", values.len() + 1));
    }
    values.push(FilterValue::Int(limit));
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events{clause} ORDER BY id DESC LIMIT ${}",
        values.len() + 1
    );
    bind_all(sqlx::query_as(&sql).bind(organization_id), &values)
        .fetch_all(&db.pool)
        .await
}

/// Every event matching `filter`, newest first (the CSV).
pub async fn all(
    db: &Db,
    organization_id: i64,
    filter: &ActivityFilter,
) -> sqlx::Result<Vec<EventRow>> {
    let (clause, values) = filtered(filter);
    let sql = format!("SELECT {COLUMNS} FROM audit_events{clause} ORDER BY id DESC");
    bind_all(sqlx::query_as(&sql).bind(organization_id), &values)
        .fetch_all(&db.pool)
        .await
}

/// Everyone who has acted in the organization, by the name of their latest
/// event, sorted by that name.
pub async fn actors(db: &Db, organization_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT e.actor_user_id, e.actor_name FROM audit_events e
         JOIN (SELECT actor_user_id, MAX(id) AS latest FROM audit_events
               WHERE organization_id = $1 AND actor_user_id IS NOT NULL
               GROUP BY actor_user_id) l ON l.latest = e.id
         ORDER BY LOWER(e.actor_name), e.actor_user_id",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await
}
