//! The statements an import's batch runs on accounts: provisioned users,
//! by email in bulk or by username one at a time, their memberships, and
//! what a row changes about an existing person.

use sqlx::{Any, Executor};

use super::Role;
use crate::db::{Bind, Bulk};

/// Creates accounts (without a password until their owner sets one) for
/// the emails that have none yet, in one statement (three placeholders an
/// email: the caller keeps batches within the backends' limits); the
/// accounts created. Names are not the account's: they go on the
/// organization's membership.
pub async fn insert_provisioned_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    emails: &[&str],
    now: i64,
) -> sqlx::Result<Vec<UserByEmail>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut insert = Bulk::new("INSERT INTO users (email, status, created_at) VALUES ");
    for email in emails {
        insert.row(vec![
            Bind::from(*email),
            Bind::from("provisioned"),
            Bind::from(now),
        ]);
    }
    insert.push(" ON CONFLICT DO NOTHING RETURNING id, email");
    insert.query_as().fetch_all(db).await
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserByEmail {
    pub id: i64,
    pub email: String,
}

/// An existing account as an importing organization sees it.
#[derive(Debug, sqlx::FromRow)]
pub struct ExistingAccount {
    pub id: i64,
    pub email: String,
    /// The importing organization's record: 'active', 'pending' or none.
    pub here: Option<String>,
    /// 1 when the account never had a password and no other organization
    /// holds an active record of it: the importing organization may treat
    /// it as its own.
    pub unclaimed: i64,
}

/// The accounts of `emails` (one placeholder each, plus one), as the
/// organization may treat them.
pub async fn accounts_by_emails<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    emails: &[&str],
) -> sqlx::Result<Vec<ExistingAccount>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Bulk::new("SELECT u.id, u.email, (SELECT m.status FROM memberships m WHERE m.user_id = u.id AND m.organization_id = ");
    // The first placeholder is the organization; the SQL below reuses it.
    select.bind(organization_id);
    select.push(&format!(
        ") AS here, CASE WHEN {} THEN 1 ELSE 0 END AS unclaimed
         FROM users u WHERE u.email IN ",
        super::owned_only_by("u", "$1")
    ));
    select.row(emails.iter().map(|email| Bind::from(*email)).collect());
    select.query_as().fetch_all(db).await
}

/// A membership an import creates: the organization's record of a person.
pub struct ImportedMembership<'a> {
    pub user_id: i64,
    pub role: Role,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub external_id: Option<&'a str>,
    /// Pending until the person accepts, for an account the organization
    /// does not own.
    pub pending: bool,
}

/// Memberships of the organization for those who have none yet, in one
/// statement (eight placeholders a person: the caller keeps batches within
/// the backends' limits); the ids of the memberships created (what an undo
/// of the import may take back).
pub async fn insert_memberships_bulk<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    members: &[ImportedMembership<'_>],
    now: i64,
) -> sqlx::Result<Vec<i64>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut insert = Bulk::new(
        "INSERT INTO memberships (organization_id, user_id, role, first_name, last_name,
                                  external_id, status, created_at) VALUES ",
    );
    for member in members {
        insert.row(vec![
            Bind::from(organization_id),
            Bind::from(member.user_id),
            Bind::from(member.role.as_str()),
            Bind::from(member.first_name),
            Bind::from(member.last_name),
            Bind::from(member.external_id.map(str::to_owned)),
            Bind::from(if member.pending { "pending" } else { "active" }),
            Bind::from(now),
        ]);
    }
    insert.push(" ON CONFLICT DO NOTHING RETURNING id");
    let created: Vec<(i64,)> = insert.query_as().fetch_all(db).await?;
    Ok(created.into_iter().map(|(id,)| id).collect())
}

/// What an import row says about an existing person; `None` keeps what is there.
pub struct ImportedDetails<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub external_id: Option<&'a str>,
}

/// Updates the organization's record of the person (names, external id)
/// where the import gives them; whether anything changed. Another
/// organization's record of the same person is never touched.
pub async fn update_imported_details<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    user_id: i64,
    details: &ImportedDetails<'_>,
) -> sqlx::Result<bool> {
    let changed = sqlx::query(
        "UPDATE memberships SET first_name = COALESCE($3, first_name), last_name = COALESCE($4, last_name),
                                external_id = COALESCE($5, external_id)
         WHERE organization_id = $1 AND user_id = $2
           AND (first_name <> COALESCE($3, first_name) OR last_name <> COALESCE($4, last_name)
                OR COALESCE(external_id, '') <> COALESCE($5, external_id, ''))",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(details.first_name)
    .bind(details.last_name)
    .bind(details.external_id)
    .execute(db)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// A username-only person (a student without email) an import provisions:
/// an account without email or password, owned by the organization whose
/// record names it.
pub struct ProvisionedByUsername<'a> {
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub external_id: Option<&'a str>,
}

/// The organization's person with this username, created when there is
/// none: (user id, the membership created now, if it was). Usernames are unique per organization, so
/// another organization's student of the same username is never found.
pub async fn ensure_by_username(
    conn: &mut sqlx::AnyConnection,
    organization_id: i64,
    user: &ProvisionedByUsername<'_>,
    now: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    if let Some(id) = user_id_by_username(&mut *conn, organization_id, user.username).await? {
        return Ok((id, None));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (status, created_at) VALUES ('provisioned', $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let (membership_id,): (i64,) = sqlx::query_as(
        "INSERT INTO memberships (organization_id, user_id, role, first_name, last_name,
                                  external_id, username, status, created_at)
         VALUES ($1, $2, 'learner', $3, $4, $5, $6, 'active', $7) RETURNING id",
    )
    .bind(organization_id)
    .bind(id)
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.external_id)
    .bind(user.username)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, Some(membership_id)))
}

pub async fn user_id_by_username<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    username: &str,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM memberships WHERE organization_id = $1 AND username = $2",
    )
    .bind(organization_id)
    .bind(username)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// The condition "nobody has used the membership `m` since an import made
/// it": the person never accepted it (pending), or the account never had a
/// password and no other organization holds an active record of it; and
/// the person is in none of the organization's groups (an undo ends the
/// group memberships the import made first, so any left were added since).
fn unused_membership(m: &str) -> String {
    format!(
        "({m}.status = 'pending' OR EXISTS (SELECT 1 FROM users u WHERE u.id = {m}.user_id AND {}))
         AND NOT EXISTS (SELECT 1 FROM group_memberships gm JOIN learning_groups g ON g.id = gm.group_id
              WHERE gm.user_id = {m}.user_id AND g.organization_id = {m}.organization_id
                AND gm.status = 'active')",
        super::owned_only_by("u", &format!("{m}.organization_id"))
    )
}

/// An undo: deletes those of the organization's memberships `ids` that
/// nobody has used (see [`unused_membership`]); the accounts stay. Returns
/// the user ids whose membership went.
pub async fn delete_unused_memberships<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut delete = Bulk::new("DELETE FROM memberships WHERE organization_id = ");
    delete
        .bind(organization_id)
        .push(&format!(
            " AND {} AND id IN ",
            unused_membership("memberships")
        ))
        .row(ids.iter().map(|id| Bind::from(*id)).collect());
    delete.push(" RETURNING user_id");
    let gone: Vec<(i64,)> = delete.query_as().fetch_all(db).await?;
    Ok(gone.into_iter().map(|(id,)| id).collect())
}
