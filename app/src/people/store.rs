//! The People page's reads of `users` and `memberships`, and what an email
//! to a member needs. Both tables are written by `auth::store`, except the
//! organization's record as SCIM provisioning restates, deactivates or
//! removes it (the end of this file). Names,
//! usernames and external ids are the organization's own record (the
//! membership); a record waiting for the person's consent shows as
//! 'pending' whatever their account is like.

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
    /// Where an activation email goes: their email, or for a username-only
    /// student their first parent's.
    pub activation_to: Option<String>,
}

/// Members of an organization whose email, username or either name
/// contains `pattern` (a `LIKE` pattern escaped with `\`), optionally of
/// one status.
const SEARCH: &str = "FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.organization_id = $1 AND (
        LOWER(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\'
        OR LOWER(COALESCE(m.username, '')) LIKE $2 ESCAPE '\\'
        OR LOWER(m.first_name) LIKE $2 ESCAPE '\\'
        OR LOWER(m.last_name) LIKE $2 ESCAPE '\\')
       AND ($3 = '' OR (CASE WHEN m.status = 'pending' THEN 'pending' ELSE u.status END) = $3)";

/// The status the organization sees (a macro, so that [`PERSON_COLUMNS`]
/// can be one constant string).
macro_rules! seen_status {
    () => {
        "CASE WHEN m.status = 'pending' THEN 'pending' ELSE u.status END"
    };
}
const SEEN_STATUS: &str = seen_status!();

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

/// A [`PersonRow`]'s columns, over `memberships m JOIN users u`.
const PERSON_COLUMNS: &str = concat!(
    "u.id, u.email, m.username, m.first_name, m.last_name, m.role, ",
    seen_status!(),
    " AS status,
     (SELECT MAX(t.created_at) FROM activation_tokens t
      WHERE t.user_id = u.id AND t.organization_id = m.organization_id) AS activation_sent_at,
     COALESCE(u.email, (SELECT pu.email FROM associations a JOIN users pu ON pu.id = a.related_id
         WHERE a.organization_id = m.organization_id AND a.student_id = u.id
           AND a.relation = 'parent' AND pu.email IS NOT NULL
         ORDER BY a.id LIMIT 1)) AS activation_to"
);

/// One member of the organization, as the People page lists them.
pub async fn person(
    db: &Db,
    organization_id: i64,
    person_id: i64,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {PERSON_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND u.id = $2"
    ))
    .bind(organization_id)
    .bind(person_id)
    .fetch_optional(&db.pool)
    .await
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
        "SELECT {PERSON_COLUMNS}
         {SEARCH}
         ORDER BY LOWER(m.last_name), LOWER(m.first_name), u.id LIMIT $4 OFFSET $5"
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
    sqlx::query_as(&format!(
        "SELECT u.email, m.first_name, {SEEN_STATUS} AS status FROM memberships m
             JOIN users u ON u.id = m.user_id
             WHERE m.organization_id = $1 AND m.user_id = $2"
    ))
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

/// The organization's person with this email, as the organization sees them.
pub async fn status_by_email(
    tx: &mut Tx,
    organization_id: i64,
    email: &str,
) -> Result<Option<PersonStatus>, sqlx::Error> {
    let row: Option<StoredStatus> = sqlx::query_as(&format!(
        "SELECT u.id, {SEEN_STATUS} AS status FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND u.email = $2"
    ))
    .bind(organization_id)
    .bind(email)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(PersonStatus::try_from).transpose()
}

/// The organization's person with this username.
pub async fn status_by_username(
    tx: &mut Tx,
    organization_id: i64,
    username: &str,
) -> Result<Option<PersonStatus>, sqlx::Error> {
    let row: Option<StoredStatus> = sqlx::query_as(&format!(
        "SELECT u.id, {SEEN_STATUS} AS status FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND m.username = $2"
    ))
    .bind(organization_id)
    .bind(username)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(PersonStatus::try_from).transpose()
}

/// A link between two of the organization's people, with the other's name.
#[derive(sqlx::FromRow)]
pub struct LinkRow {
    pub person_id: i64,
    /// parent or instructor (the association's own word).
    pub relation: String,
    /// 1 when the person is the student of the link.
    pub is_student: i64,
    pub other_name: String,
}

/// The links of `ids` (one placeholder each), either side.
pub async fn links_of(
    db: &Db,
    organization_id: i64,
    ids: &[i64],
) -> Result<Vec<LinkRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (0..ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let other_name = "COALESCE(NULLIF(TRIM(om.first_name || ' ' || om.last_name), ''), ou.email, om.username, '')";
    let sql = format!(
        "SELECT a.student_id AS person_id, a.relation, 1 AS is_student, {other_name} AS other_name
         FROM associations a
         JOIN memberships om ON om.user_id = a.related_id AND om.organization_id = a.organization_id
         JOIN users ou ON ou.id = a.related_id
         WHERE a.organization_id = $1 AND a.student_id IN ({list})
         UNION ALL
         SELECT a.related_id AS person_id, a.relation, 0 AS is_student, {other_name} AS other_name
         FROM associations a
         JOIN memberships om ON om.user_id = a.student_id AND om.organization_id = a.organization_id
         JOIN users ou ON ou.id = a.student_id
         WHERE a.organization_id = $1 AND a.related_id IN ({list})
         ORDER BY person_id, other_name"
    );
    let mut query = sqlx::query_as::<_, LinkRow>(&sql).bind(organization_id);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

/// How an identity provider (SCIM) sees a member: the organization's
/// record and the account's login address.
#[derive(sqlx::FromRow)]
pub struct RecordRow {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub external_id: Option<String>,
    /// The membership's own status: active, pending or deactivated.
    pub membership: String,
    pub created_at: i64,
    /// The `type` and `primary` an identity provider gave the address.
    pub email_type: Option<String>,
    pub email_primary: Option<i64>,
}

const RECORD: &str = "SELECT u.id, u.email, m.username, m.first_name, m.last_name, m.external_id,
        m.status AS membership, m.created_at, m.email_type, m.email_primary
     FROM memberships m JOIN users u ON u.id = m.user_id";

/// Which members a SCIM query wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFilter {
    Everyone,
    /// By login address or username, case-insensitively (`value` lowercased).
    UserName(String),
    ExternalId(String),
}

impl RecordFilter {
    /// The SQL condition (after the organization's `$1`) and its value.
    fn condition(&self) -> (&'static str, &str) {
        match self {
            RecordFilter::Everyone => ("$2 = ''", ""),
            RecordFilter::UserName(name) => (
                "(u.email = $2 OR LOWER(COALESCE(m.username, '')) = $2)",
                name,
            ),
            RecordFilter::ExternalId(id) => ("m.external_id = $2", id),
        }
    }
}

pub async fn record<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<RecordRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{RECORD} WHERE m.organization_id = $1 AND m.user_id = $2"
    ))
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub async fn count_records(
    db: &Db,
    organization_id: i64,
    filter: &RecordFilter,
) -> Result<i64, sqlx::Error> {
    let (condition, value) = filter.condition();
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND {condition}"
    ))
    .bind(organization_id)
    .bind(value)
    .fetch_one(&db.pool)
    .await?;
    Ok(total)
}

/// A page of members in the order they joined: `limit` from `offset`.
pub async fn records(
    db: &Db,
    organization_id: i64,
    filter: &RecordFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<RecordRow>, sqlx::Error> {
    let (condition, value) = filter.condition();
    sqlx::query_as(&format!(
        "{RECORD} WHERE m.organization_id = $1 AND {condition}
         ORDER BY m.id LIMIT $3 OFFSET $4"
    ))
    .bind(organization_id)
    .bind(value)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await
}

/// Whether another member of the organization has this username
/// (compared case-insensitively, as SCIM filters do).
pub async fn username_taken(
    tx: &mut Tx,
    organization_id: i64,
    username: &str,
    except_user_id: i64,
) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM memberships
         WHERE organization_id = $1 AND LOWER(username) = LOWER($2) AND user_id <> $3 LIMIT 1",
    )
    .bind(organization_id)
    .bind(username)
    .bind(except_user_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

// The writes below are the organization's own record of a person, which
// SCIM provisioning changes; `auth::store` writes what the person does
// (accepting, joining) and what imports do.

/// The organization's record as an identity provider states it: names,
/// external id and username replace what was there; whether it changed.
pub async fn set_record(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    first_name: &str,
    last_name: &str,
    external_id: Option<&str>,
    username: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE memberships SET first_name = $3, last_name = $4, external_id = $5, username = $6
         WHERE organization_id = $1 AND user_id = $2
           AND (first_name <> $3 OR last_name <> $4 OR COALESCE(external_id, '') <> COALESCE($5, '')
                OR COALESCE(username, '') <> COALESCE($6, ''))",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(first_name)
    .bind(last_name)
    .bind(external_id)
    .bind(username)
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// How the identity provider labels the person's address (`type`,
/// `primary`), kept only to read back as it was stated.
pub async fn set_email_label(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    email_type: Option<&str>,
    email_primary: Option<bool>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE memberships SET email_type = $3, email_primary = $4
         WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(email_type)
    .bind(email_primary.map(i64::from))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deactivates the person in this organization only (remembering whether
/// their record was active or pending); whether it was not deactivated yet.
pub async fn deactivate(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE memberships SET reactivates_as = status, status = 'deactivated', deactivated_at = $3
         WHERE organization_id = $1 AND user_id = $2 AND status <> 'deactivated'",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// Undoes [`deactivate`]; whether the person was deactivated.
pub async fn reactivate(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE memberships SET status = COALESCE(reactivates_as, 'pending'), reactivates_as = NULL,
                                deactivated_at = NULL
         WHERE organization_id = $1 AND user_id = $2 AND status = 'deactivated'",
    )
    .bind(organization_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// Takes the organization's record of the person away (their account and
/// other organizations' records stay); whether there was one.
pub async fn delete_record(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind(organization_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    Ok(deleted.rows_affected() > 0)
}
