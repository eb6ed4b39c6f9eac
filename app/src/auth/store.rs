//! The SQL of accounts: `organizations`, `users`, `memberships` and `sessions`.
//! Every function takes an executor, so it runs on the pool or inside the
//! caller's transaction (`&db.pool` or `&mut **tx`).

use sqlx::{Any, Executor};

use super::Role;

#[derive(Debug, sqlx::FromRow)]
pub struct LoginCandidate {
    pub id: i64,
    pub password_hash: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct Membership {
    pub organization_id: i64,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// Whoever a live session belongs to, in the organization it was opened for.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Text, so that a role this version does not know ends the session
    /// instead of failing the request.
    pub role: String,
    pub last_seen_at: i64,
}

/// A new account with a password, active at once.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: &'a str,
}

pub async fn any_organization<'c>(db: impl Executor<'c, Database = Any>) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM organizations LIMIT 1")
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

pub async fn insert_organization<'c>(
    db: impl Executor<'c, Database = Any>,
    name: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now)
            .fetch_one(db)
            .await?;
    Ok(id)
}

pub async fn user_id_by_email<'c>(
    db: impl Executor<'c, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// The email of an account (none for people known only by a username).
pub async fn user_email<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    Ok(row.and_then(|(email,)| email))
}

/// Whether someone can log in with this email (an account with a password).
pub async fn has_password<'c>(
    db: impl Executor<'c, Database = Any>,
    email: &str,
) -> sqlx::Result<bool> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM users WHERE email = $1 AND password_hash IS NOT NULL")
            .bind(email)
            .fetch_optional(db)
            .await?;
    Ok(row.is_some())
}

/// A new active account; `None` when the email is taken (also by a
/// concurrent insert).
pub async fn insert_user_unless_taken<'c>(
    db: impl Executor<'c, Database = Any>,
    user: &NewUser<'_>,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO users (email, first_name, last_name, password_hash, status, created_at)
         VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(user.email)
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.password_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Gives a person created by an import (no password yet) the name and
/// password they chose and makes them active; `None` when the email's
/// account already has a password.
pub async fn complete_provisioned_by_email<'c>(
    db: impl Executor<'c, Database = Any>,
    user: &NewUser<'_>,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET first_name = $1, last_name = $2, password_hash = $3, status = 'active'
         WHERE email = $4 AND password_hash IS NULL RETURNING id",
    )
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.password_hash)
    .bind(user.email)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Sets the password of a provisioned person and makes them active; `false`
/// when they are no longer provisioned.
pub async fn activate_provisioned<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET password_hash = $1, status = 'active'
         WHERE id = $2 AND status = 'provisioned' AND password_hash IS NULL RETURNING id",
    )
    .bind(password_hash)
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// A no-op write on the person's row: SQLite's write lock, a row lock on
/// PostgreSQL, so that two concurrent transactions about them take turns.
pub async fn lock_user<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET status = status WHERE id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// An active account's id and password hash, by normalized email.
pub async fn login_candidate<'c>(
    db: impl Executor<'c, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<LoginCandidate>> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND status = 'active'")
        .bind(email)
        .fetch_optional(db)
        .await
}

/// Where someone lands after logging in: admin memberships first, so an
/// admin who is also a learner elsewhere lands in their admin work.
pub async fn first_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<Membership>> {
    sqlx::query_as(
        "SELECT organization_id, role FROM memberships WHERE user_id = $1
         ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, organization_id LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub async fn insert_session<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    user_id: i64,
    organization_id: i64,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, organization_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(organization_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_session<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The person behind a session that has neither expired nor been idle since
/// `idle_since`, with their membership in the session's organization.
pub async fn session_user<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
    idle_since: i64,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as(
        "SELECT u.id AS user_id, o.id AS organization_id, o.name AS organization_name,
                COALESCE(u.email, u.username, '') AS email, u.first_name, u.last_name, m.role,
                s.last_seen_at
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         JOIN organizations o ON o.id = s.organization_id
         JOIN memberships m ON m.user_id = u.id AND m.organization_id = o.id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3",
    )
    .bind(token_hash)
    .bind(now)
    .bind(idle_since)
    .fetch_optional(db)
    .await
}

/// Marks a session used now (the caller decides how often: every write on
/// SQLite takes its one write lock, even one that changes no row).
pub async fn touch_session<'c>(
    db: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of a person, in every organization and browser.
pub async fn delete_sessions_of<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected())
}

/// Deletes sessions past their lifetime or idle since `idle_since`.
pub async fn delete_ended_sessions<'c>(
    db: impl Executor<'c, Database = Any>,
    now: i64,
    idle_since: i64,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(idle_since)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Makes the person a member of the organization in `role`, unless they
/// are one already (in whatever role).
pub async fn add_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
    role: Role,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (organization_id, user_id) DO NOTHING",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// How emails name a person: their names, and their email for when both are blank.
#[derive(Debug, sqlx::FromRow)]
pub struct NameParts {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

pub async fn name_parts<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<NameParts> {
    sqlx::query_as("SELECT first_name, last_name, email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await
}

pub async fn organization_name<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
) -> sqlx::Result<String> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM organizations WHERE id = $1")
        .bind(organization_id)
        .fetch_one(db)
        .await?;
    Ok(name)
}

mod imported;
pub mod password;
pub use imported::{
    insert_memberships_bulk, insert_provisioned_bulk, insert_provisioned_by_username,
    update_imported_details, user_id_by_username, users_by_emails, ImportedDetails,
    ProvisionedByEmail, ProvisionedByUsername, UserByEmail,
};
