//! Every statement on `join_pages` and `join_requests`.

use sqlx::{Any, Executor};

use super::JoinRequestStatus;
use crate::db::{Db, Tx};

/// The admin's settings as stored.
#[derive(sqlx::FromRow)]
pub struct PageRow {
    pub enabled: i64,
    pub slug: Option<String>,
    pub group_id: Option<i64>,
    pub welcome_text: String,
    /// Normalized domains, one per line.
    pub allowed_domains: String,
    pub allow_subdomains: i64,
}

/// The allowlist as `update_page` stores it: one domain per line.
pub fn stored_domains(stored: &str) -> Vec<String> {
    stored
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn page(db: &Db, organization_id: i64) -> Result<Option<PageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT enabled, slug, group_id, welcome_text, allowed_domains, allow_subdomains
         FROM join_pages WHERE organization_id = $1",
    )
    .bind(organization_id)
    .fetch_optional(&db.pool)
    .await
}

/// [`page`] inside a transaction.
pub async fn page_in(tx: &mut Tx, organization_id: i64) -> Result<Option<PageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT enabled, slug, group_id, welcome_text, allowed_domains, allow_subdomains
         FROM join_pages WHERE organization_id = $1",
    )
    .bind(organization_id)
    .fetch_optional(&mut **tx)
    .await
}

/// The organization whose page has this slug, if any.
pub async fn slug_owner<'c>(
    executor: impl Executor<'c, Database = Any>,
    slug: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let owner: Option<(i64,)> =
        sqlx::query_as("SELECT organization_id FROM join_pages WHERE slug = $1")
            .bind(slug)
            .fetch_optional(executor)
            .await?;
    Ok(owner.map(|(owner,)| owner))
}

/// Makes sure the organization has a row. Being a write, it also makes
/// SQLite take the write lock before the transaction reads anything.
pub async fn ensure_page(tx: &mut Tx, organization_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO join_pages (organization_id, updated_at) VALUES ($1, $2)
         ON CONFLICT (organization_id) DO NOTHING",
    )
    .bind(organization_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Validated settings to store.
pub struct PageUpdate<'a> {
    pub enabled: bool,
    pub slug: Option<&'a str>,
    pub group_id: Option<i64>,
    pub welcome_text: &'a str,
    pub allowed_domains: &'a [String],
    pub allow_subdomains: bool,
}

/// Fails with a unique violation when another organization holds the slug.
pub async fn update_page(
    tx: &mut Tx,
    organization_id: i64,
    update: &PageUpdate<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE join_pages SET enabled = $2, slug = $3, group_id = $4, welcome_text = $5,
                allowed_domains = $6, allow_subdomains = $7, updated_at = $8
         WHERE organization_id = $1",
    )
    .bind(organization_id)
    .bind(i64::from(update.enabled))
    .bind(update.slug.map(str::to_owned))
    .bind(update.group_id)
    .bind(update.welcome_text)
    .bind(update.allowed_domains.join("\n"))
    .bind(i64::from(update.allow_subdomains))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A page that is on and has a group, with the names it shows.
#[derive(sqlx::FromRow)]
pub struct OpenPageRow {
    pub organization_id: i64,
    pub organization: String,
    pub group_id: i64,
    pub group_name: String,
    pub welcome_text: String,
    pub allowed_domains: String,
    pub allow_subdomains: i64,
}

pub async fn open_page(db: &Db, slug: &str) -> Result<Option<OpenPageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT j.organization_id, o.name AS organization, g.id AS group_id, g.name AS group_name,
                j.welcome_text, j.allowed_domains, j.allow_subdomains
         FROM join_pages j
         JOIN organizations o ON o.id = j.organization_id
         JOIN learning_groups g ON g.id = j.group_id AND g.organization_id = j.organization_id
         WHERE j.slug = $1 AND j.enabled = 1",
    )
    .bind(slug)
    .fetch_optional(&db.pool)
    .await
}

/// The allowlist of an organization's page while it is on.
#[derive(sqlx::FromRow)]
pub struct RulesRow {
    pub allowed_domains: String,
    pub allow_subdomains: i64,
}

pub async fn open_page_rules(
    tx: &mut Tx,
    organization_id: i64,
) -> Result<Option<RulesRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT allowed_domains, allow_subdomains FROM join_pages WHERE organization_id = $1 AND enabled = 1",
    )
    .bind(organization_id)
    .fetch_optional(&mut **tx)
    .await
}

/// A confirmation link as its page shows it.
#[derive(sqlx::FromRow)]
pub struct RequestView {
    pub organization: String,
    pub group_name: String,
    pub email: String,
    pub status: String,
    pub expires_at: i64,
}

pub async fn request_by_token(
    db: &Db,
    token_hash: &str,
) -> Result<Option<RequestView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.name AS organization, g.name AS group_name, r.email, r.status, r.expires_at
         FROM join_requests r
         JOIN organizations o ON o.id = r.organization_id
         JOIN learning_groups g ON g.id = r.group_id
         WHERE r.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

/// Kills the pending links of an address for an organization (only the
/// newest sign-up's link works). A write, so it goes first in its transaction.
pub async fn replace_pending(
    tx: &mut Tx,
    organization_id: i64,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE join_requests SET status = $3 WHERE organization_id = $1 AND email = $2 AND status = $4")
        .bind(organization_id)
        .bind(email)
        .bind(JoinRequestStatus::Replaced.as_str())
        .bind(JoinRequestStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A sign-up waiting for its email to be confirmed.
pub struct NewRequest<'a> {
    pub organization_id: i64,
    pub group_id: i64,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub token_hash: &'a str,
    pub expires_at: i64,
}

pub async fn insert_request(
    tx: &mut Tx,
    request: &NewRequest<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO join_requests (organization_id, group_id, email, first_name, last_name,
                                    token_hash, status, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(request.organization_id)
    .bind(request.group_id)
    .bind(request.email)
    .bind(request.first_name)
    .bind(request.last_name)
    .bind(request.token_hash)
    .bind(JoinRequestStatus::Pending.as_str())
    .bind(request.expires_at)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// A request just turned verified, with what the account is made from.
#[derive(sqlx::FromRow)]
pub struct ClaimedRequest {
    pub id: i64,
    pub organization_id: i64,
    pub group_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Turns a pending, unexpired request verified: a conditional update, so
/// of two clicks on one link only one gets the row.
pub async fn claim_pending(
    tx: &mut Tx,
    token_hash: &str,
    now: i64,
) -> Result<Option<ClaimedRequest>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE join_requests SET status = $3, verified_at = $2
         WHERE token_hash = $1 AND status = $4 AND expires_at > $2
         RETURNING id, organization_id, group_id, email, first_name, last_name",
    )
    .bind(token_hash)
    .bind(now)
    .bind(JoinRequestStatus::Verified.as_str())
    .bind(JoinRequestStatus::Pending.as_str())
    .fetch_optional(&mut **tx)
    .await
}

pub async fn set_request_user(
    tx: &mut Tx,
    request_id: i64,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE join_requests SET user_id = $1 WHERE id = $2")
        .bind(user_id)
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
