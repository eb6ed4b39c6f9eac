//! The People page's reads of `users` and `memberships`, and what an email
//! to a member needs. Both tables are written by `auth::store` only. Names,
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

/// The status the organization sees.
const SEEN_STATUS: &str = "CASE WHEN m.status = 'pending' THEN 'pending' ELSE u.status END";

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
        "SELECT u.id, u.email, m.username, m.first_name, m.last_name, m.role, {SEEN_STATUS} AS status,
                (SELECT MAX(t.created_at) FROM activation_tokens t
                 WHERE t.user_id = u.id AND t.organization_id = m.organization_id) AS activation_sent_at,
                COALESCE(u.email, (SELECT pu.email FROM associations a JOIN users pu ON pu.id = a.related_id
                    WHERE a.organization_id = m.organization_id AND a.student_id = u.id
                      AND a.relation = 'parent' AND pu.email IS NOT NULL
                    ORDER BY a.id LIMIT 1)) AS activation_to
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
