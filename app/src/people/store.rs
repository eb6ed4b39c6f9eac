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

/// Links a student with a parent or instructor (`relation`) unless they are
/// linked already; whether the link is new.
pub async fn insert_association(
    tx: &mut Tx,
    organization_id: i64,
    student_id: i64,
    related_id: i64,
    relation: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO associations (organization_id, student_id, related_id, relation, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(organization_id)
    .bind(student_id)
    .bind(related_id)
    .bind(relation)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

/// A person an import's row names, with where their account stands.
pub struct PersonStatus {
    pub id: i64,
    pub status: AccountStatus,
}

#[derive(sqlx::FromRow)]
struct StoredStatus {
    id: i64,
    status: String,
}

impl TryFrom<StoredStatus> for PersonStatus {
    type Error = sqlx::Error;

    fn try_from(row: StoredStatus) -> Result<PersonStatus, sqlx::Error> {
        let status = row
            .status
            .parse()
            .map_err(|unknown| sqlx::Error::Decode(Box::new(unknown)))?;
        Ok(PersonStatus { id: row.id, status })
    }
}

pub async fn status_by_email(
    tx: &mut Tx,
    email: &str,
) -> Result<Option<PersonStatus>, sqlx::Error> {
    let row: Option<StoredStatus> = sqlx::query_as("SELECT id, status FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(PersonStatus::try_from).transpose()
}

pub async fn status_by_username(
    tx: &mut Tx,
    username: &str,
) -> Result<Option<PersonStatus>, sqlx::Error> {
    let row: Option<StoredStatus> =
        sqlx::query_as("SELECT id, status FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(PersonStatus::try_from).transpose()
}
