//! The statements an import's batch runs on accounts: provisioned users,
//! by email in bulk or by username one at a time, their memberships, and
//! what a row changes about an existing person.

use sqlx::{Any, Executor};

use super::Role;
use crate::db::{Bind, Bulk};

/// A person an import provisions by email (an account without a password
/// until they activate it).
pub struct ProvisionedByEmail<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub external_id: Option<&'a str>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserByEmail {
    pub id: i64,
    pub email: String,
}

/// Creates the provisioned accounts whose email is not taken yet, in one
/// statement (six placeholders a person: the caller keeps batches within the
/// backends' limits); the accounts created.
pub async fn insert_provisioned_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    users: &[ProvisionedByEmail<'_>],
    now: i64,
) -> sqlx::Result<Vec<UserByEmail>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut insert = Bulk::new(
        "INSERT INTO users (email, first_name, last_name, external_id, status, created_at) VALUES ",
    );
    for user in users {
        insert.row(vec![
            Bind::from(user.email),
            Bind::from(user.first_name),
            Bind::from(user.last_name),
            Bind::from(user.external_id.map(str::to_owned)),
            Bind::from("provisioned"),
            Bind::from(now),
        ]);
    }
    insert.push(" ON CONFLICT DO NOTHING RETURNING id, email");
    insert.query_as().fetch_all(db).await
}

/// The accounts of `emails` (one placeholder each).
pub async fn users_by_emails<'c>(
    db: impl Executor<'c, Database = Any>,
    emails: &[&str],
) -> sqlx::Result<Vec<UserByEmail>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Bulk::new("SELECT id, email FROM users WHERE email IN ");
    select.row(emails.iter().map(|email| Bind::from(*email)).collect());
    select.query_as().fetch_all(db).await
}

/// Memberships of the organization for those who have none yet, in one
/// statement (four placeholders a person: the caller keeps batches within
/// the backends' limits).
pub async fn insert_memberships_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_roles: &[(i64, Role)],
    now: i64,
) -> sqlx::Result<()> {
    if user_roles.is_empty() {
        return Ok(());
    }
    let mut insert =
        Bulk::new("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ");
    for (user_id, role) in user_roles {
        insert.row(vec![
            Bind::from(organization_id),
            Bind::from(*user_id),
            Bind::from(role.as_str()),
            Bind::from(now),
        ]);
    }
    insert.push(" ON CONFLICT DO NOTHING");
    insert.query().execute(db).await?;
    Ok(())
}

/// What an import row says about an existing person; `None` keeps what is there.
pub struct ImportedDetails<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub external_id: Option<&'a str>,
}

/// Updates the person's names and external id where the import gives them;
/// whether anything changed.
pub async fn update_imported_details<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
    details: &ImportedDetails<'_>,
) -> sqlx::Result<bool> {
    let changed = sqlx::query(
        "UPDATE users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name),
                          external_id = COALESCE($4, external_id)
         WHERE id = $1
           AND (first_name <> COALESCE($2, first_name) OR last_name <> COALESCE($3, last_name)
                OR COALESCE(external_id, '') <> COALESCE($4, external_id, ''))",
    )
    .bind(user_id)
    .bind(details.first_name)
    .bind(details.last_name)
    .bind(details.external_id)
    .execute(db)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// A username-only person (a student without email) an import provisions.
pub struct ProvisionedByUsername<'a> {
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub external_id: Option<&'a str>,
}

/// The new account's id; `None` when the username is taken.
pub async fn insert_provisioned_by_username<'c>(
    db: impl Executor<'c, Database = Any>,
    user: &ProvisionedByUsername<'_>,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO users (username, first_name, last_name, external_id, status, created_at)
         VALUES ($1, $2, $3, $4, 'provisioned', $5) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user.username)
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.external_id)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(inserted.map(|(id,)| id))
}

pub async fn user_id_by_username<'c>(
    db: impl Executor<'c, Database = Any>,
    username: &str,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(db)
        .await?;
    Ok(id)
}
