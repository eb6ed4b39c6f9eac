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

/// A new account with a password, active at once. Names are not the
/// account's: they are each organization's record (`PersonRecord`).
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    /// When the address was proven by a link sent to it; `None` for an
    /// address someone only typed (a new organization's first admin).
    pub email_verified_at: Option<i64>,
}

/// How an organization knows a person: its membership row.
#[derive(Debug, Clone, Default)]
pub struct PersonRecord<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub external_id: Option<&'a str>,
    pub username: Option<&'a str>,
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

/// The email an organization may rely on for the person: a verified one,
/// or, for someone the organization already holds an active record of, the
/// one it knows them by. Never a username.
pub async fn trusted_email<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT u.email FROM users u
         WHERE u.id = $2 AND (u.email_verified_at IS NOT NULL OR EXISTS (
             SELECT 1 FROM memberships m WHERE m.user_id = u.id
               AND m.organization_id = $1 AND m.status = 'active'))",
    )
    .bind(organization_id)
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
        "INSERT INTO users (email, password_hash, status, email_verified_at, created_at)
         VALUES ($1, $2, 'active', $3, $4) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.email_verified_at)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// The SQL condition "the account (`user`, a row of `users`) has never had a
/// password and no organization other than `organization` (an SQL
/// expression) holds an active record of it": only such an account may get
/// its first password through a link one organization sent, and only such
/// an account an import may treat as its own.
pub(crate) fn owned_only_by(user: &str, organization: &str) -> String {
    format!(
        "{user}.password_hash IS NULL AND NOT EXISTS (
            SELECT 1 FROM memberships other WHERE other.user_id = {user}.id
              AND other.status = 'active' AND other.organization_id <> {organization})"
    )
}

/// Gives an account that an organization created without a password (an
/// import, an invitation) the password its owner chose through a link that
/// organization sent, and records the address as verified. `None` when the
/// account has a password already or another organization holds an active
/// record of it: then the person signs in, or resets their password.
pub async fn claim_passwordless<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    email: &str,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let sql = format!(
        "UPDATE users SET password_hash = $1, status = 'active', email_verified_at = $2
         WHERE email = $3 AND {} RETURNING id",
        owned_only_by("users", "$4")
    );
    let row: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(password_hash)
        .bind(now)
        .bind(email)
        .bind(organization_id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Sets the password of a provisioned person through an activation link
/// `organization_id` sent, and makes them active; `false` when they are no
/// longer provisioned or another organization holds an active record of
/// them. An account with an email has it verified: the link went there
/// (a username-only student's went to their parents).
pub async fn activate_provisioned<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "UPDATE users SET password_hash = $1, status = 'active',
             email_verified_at = CASE WHEN email IS NULL THEN NULL ELSE $2 END
         WHERE id = $3 AND status = 'provisioned' AND {} RETURNING id",
        owned_only_by("users", "$4")
    );
    let row: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .bind(organization_id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

/// Sets, changes or clears the login address of an account that only this
/// organization knows and nobody has used (provisioned, no password): an
/// identity provider correcting an address before its owner ever signed in.
/// `false` when the account is someone's own by now.
pub async fn readdress_unused<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
    email: Option<&str>,
) -> sqlx::Result<bool> {
    let sql = format!(
        "UPDATE users SET email = $1, email_verified_at = NULL
         WHERE id = $2 AND status = 'provisioned' AND {}
           AND EXISTS (SELECT 1 FROM memberships mine WHERE mine.user_id = users.id
                         AND mine.organization_id = $3 AND mine.status <> 'pending')
         RETURNING id",
        owned_only_by("users", "$3")
    );
    let row: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(email)
        .bind(user_id)
        .bind(organization_id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

/// Records that the person proved they receive mail at their address.
pub async fn mark_email_verified<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// What an organization may know about an address's account before it
/// touches it: whether it exists, and whose it is.
#[derive(Debug, sqlx::FromRow)]
pub struct AccountStanding {
    pub id: i64,
    pub has_password: i64,
    pub verified: i64,
    /// The organization's own record of the person: 'active', 'pending' or none.
    pub here: Option<String>,
    /// Whether another organization holds an active record of the person.
    pub elsewhere: i64,
}

pub async fn account_standing<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    email: &str,
) -> sqlx::Result<Option<AccountStanding>> {
    sqlx::query_as(
        "SELECT u.id,
                CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password,
                CASE WHEN u.email_verified_at IS NULL THEN 0 ELSE 1 END AS verified,
                (SELECT m.status FROM memberships m
                  WHERE m.user_id = u.id AND m.organization_id = $1) AS here,
                CASE WHEN EXISTS (SELECT 1 FROM memberships o WHERE o.user_id = u.id
                        AND o.status = 'active' AND o.organization_id <> $1) THEN 1 ELSE 0 END
                    AS elsewhere
         FROM users u WHERE u.email = $2",
    )
    .bind(organization_id)
    .bind(email)
    .fetch_optional(db)
    .await
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

/// Active accounts that some organization knows by this username (usernames
/// are unique per organization only, so there may be several), at most `limit`.
pub async fn login_candidates_by_username<'c>(
    db: impl Executor<'c, Database = Any>,
    username: &str,
    limit: i64,
) -> sqlx::Result<Vec<LoginCandidate>> {
    sqlx::query_as(
        "SELECT DISTINCT u.id, u.password_hash FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.username = $1 AND m.status = 'active' AND u.status = 'active'
           AND u.password_hash IS NOT NULL
         ORDER BY u.id LIMIT $2",
    )
    .bind(username)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Where someone lands after logging in: admin memberships first, so an
/// admin who is also a learner elsewhere lands in their admin work.
pub async fn first_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<Membership>> {
    sqlx::query_as(
        "SELECT organization_id, role FROM memberships WHERE user_id = $1 AND status = 'active'
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
                COALESCE(u.email, m.username, '') AS email, m.first_name, m.last_name, m.role,
                s.last_seen_at
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         JOIN organizations o ON o.id = s.organization_id
         JOIN memberships m ON m.user_id = u.id AND m.organization_id = o.id AND m.status = 'active'
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

/// Makes the person an active member of the organization in `role` with
/// the names they gave (the person themselves acting: an accepted
/// invitation, a join, a new organization), or, if the organization holds a
/// record already, makes it active and fills in names it lacks.
pub async fn add_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
    role: Role,
    record: &PersonRecord<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, first_name, last_name, created_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'active')
         ON CONFLICT (organization_id, user_id) DO UPDATE SET status = 'active',
             first_name = CASE WHEN memberships.first_name = '' THEN excluded.first_name
                               ELSE memberships.first_name END,
             last_name = CASE WHEN memberships.last_name = '' THEN excluded.last_name
                              ELSE memberships.last_name END",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(record.first_name)
    .bind(record.last_name)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The person accepts an organization's pending record of them; whether
/// there was one.
pub async fn accept_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "UPDATE memberships SET status = 'active'
         WHERE organization_id = $1 AND user_id = $2 AND status = 'pending'",
    )
    .bind(organization_id)
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

/// The person declines an organization's pending record of them: it is
/// deleted; whether there was one.
pub async fn delete_pending_membership<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2 AND status = 'pending'",
    )
    .bind(organization_id)
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

/// An organization waiting for the person's answer.
#[derive(Debug, sqlx::FromRow)]
pub struct PendingMembership {
    pub organization_id: i64,
    pub organization: String,
    pub created_at: i64,
}

pub async fn pending_memberships<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<PendingMembership>> {
    sqlx::query_as(
        "SELECT o.id AS organization_id, o.name AS organization, m.created_at
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
         WHERE m.user_id = $1 AND m.status = 'pending' ORDER BY m.created_at, o.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// How emails from an organization name a person: its record's names, and
/// the account's email for when both are blank.
#[derive(Debug, sqlx::FromRow)]
pub struct NameParts {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

pub async fn name_parts<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
) -> sqlx::Result<NameParts> {
    sqlx::query_as(
        "SELECT COALESCE(m.first_name, '') AS first_name, COALESCE(m.last_name, '') AS last_name,
                u.email
         FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.organization_id = $1
         WHERE u.id = $2",
    )
    .bind(organization_id)
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

mod confirmations;
mod imported;
pub mod password;
pub use confirmations::{delete_spent_confirmations, insert_confirmation, use_confirmation};
pub use imported::{
    accounts_by_emails, delete_unused_memberships, ensure_by_username, insert_memberships_bulk,
    insert_provisioned_bulk, update_imported_details, user_id_by_username, ExistingAccount,
    ImportedDetails, ImportedMembership, ProvisionedByUsername, UserByEmail,
};

/// The share of a group (percent) a sync may remove without typed approval.
pub async fn sync_guard_percent<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
) -> sqlx::Result<i64> {
    let (percent,): (i64,) =
        sqlx::query_as("SELECT sync_guard_percent FROM organizations WHERE id = $1")
            .bind(organization_id)
            .fetch_one(db)
            .await?;
    Ok(percent)
}

pub async fn set_sync_guard_percent<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    percent: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE organizations SET sync_guard_percent = $2 WHERE id = $1")
        .bind(organization_id)
        .bind(percent)
        .execute(db)
        .await?;
    Ok(())
}
