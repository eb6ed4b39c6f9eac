//! The People page's reads of `users` and `memberships`, and what an email
//! to a member needs. Both tables are written by `auth::store` only.

use super::AccountStatus;
use crate::db::{Db, Tx};

/// One member as the People page lists them.
#[derive(sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub status: String,
    pub activation_sent_at: Option<i64>,
}

/// Members of an organization whose email, username or either name
/// contains `pattern` (a `LIKE` pattern escaped with `\`), optionally of
/// one status.
const SEARCH: &str = "FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.organization_id = $1 AND (
        LOWER(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\'
        OR LOWER(COALESCE(u.username, '')) LIKE $2 ESCAPE '\\'
        OR LOWER(u.first_name) LIKE $2 ESCAPE '\\'
        OR LOWER(u.last_name) LIKE $2 ESCAPE '\\')
       AND ($3 = '' OR u.status = $3)";

fn status_filter(status: Option<AccountStatus>) -> &'static str {
    status.map(AccountStatus::as_str).unwrap_or("")
}

pub async fn count(
    db: &Db,
    organization_id: i64,
    pattern: &str,
    status: Option<AccountStatus>,
) -> Result<i64, sqlx::Error> {
    let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {SEARCH}"))
        .bind(organization_id)
        .bind(pattern)
        .bind(status_filter(status))
        .fetch_one(&db.pool)
        .await?;
    Ok(total)
}

/// A page of the search, by last name, first name: `limit` rows from `offset`.
pub async fn search(
    db: &Db,
    organization_id: i64,
    pattern: &str,
    status: Option<AccountStatus>,
    limit: i64,
    offset: i64,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT u.id, u.email, u.username, u.first_name, u.last_name, m.role, u.status,
                (SELECT MAX(t.created_at) FROM activation_tokens t
                 WHERE t.user_id = u.id AND t.organization_id = m.organization_id) AS activation_sent_at
         {SEARCH}
         ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id LIMIT $4 OFFSET $5"
    ))
    .bind(organization_id)
    .bind(pattern)
    .bind(status_filter(status))
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await
}

/// A member with what an email to them needs.
#[derive(sqlx::FromRow)]
pub struct MemberRow {
    pub email: Option<String>,
    pub first_name: String,
    pub status: String,
}

pub async fn member(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.email, u.first_name, u.status FROM memberships m
         JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND m.user_id = $2",
    )
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
pub struct Contact {
    pub first_name: String,
    pub email: Option<String>,
}

pub async fn contact(tx: &mut Tx, user_id: i64) -> Result<Contact, sqlx::Error> {
    sqlx::query_as("SELECT first_name, email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await
}
