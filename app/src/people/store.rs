//! Every statement on `users` and `memberships` made for people, the join
//! page and entering a group.

use super::AccountStatus;
use crate::{
    auth::Role,
    db::{Db, Tx},
};

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

/// Locks the person's row for the rest of the transaction (the write lock
/// on SQLite, a row lock on PostgreSQL), so two requests about one person
/// take turns.
pub async fn lock(tx: &mut Tx, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET status = status WHERE id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
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

/// Makes the person a member of the organization in `role`, unless they
/// are one already (in whatever role).
pub async fn add_membership(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    role: Role,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (organization_id, user_id) DO NOTHING",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the address has an account with a password (one that can log in).
pub async fn has_password(tx: &mut Tx, email: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(matches!(row, Some((Some(_),))))
}

/// An account someone made for themselves, with a confirmed address.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: &'a str,
}

/// Creates the account, active; `None` when the address has one already.
pub async fn insert_active(
    tx: &mut Tx,
    account: &NewAccount<'_>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO users (email, first_name, last_name, password_hash, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(account.email)
    .bind(account.first_name)
    .bind(account.last_name)
    .bind(account.password_hash)
    .bind(AccountStatus::Active.as_str())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(inserted.map(|(id,)| id))
}

/// Gives the address's account, if it has no password yet, these names and
/// password and makes it active; `None` when it has a password already.
pub async fn activate_passwordless(
    tx: &mut Tx,
    account: &NewAccount<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let updated: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET first_name = $1, last_name = $2, password_hash = $3, status = $5
         WHERE email = $4 AND password_hash IS NULL RETURNING id",
    )
    .bind(account.first_name)
    .bind(account.last_name)
    .bind(account.password_hash)
    .bind(account.email)
    .bind(AccountStatus::Active.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(updated.map(|(id,)| id))
}

pub async fn id_by_email(tx: &mut Tx, email: &str) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
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
