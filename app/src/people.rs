//! People: the members of an organization.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const PAGE_SIZE: i64 = 25;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl PeoplePage {
    pub fn page_count(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

#[server(endpoint = "people/list")]
pub async fn list_people(search: String, page: i64) -> Result<PeoplePage, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::list(&state.db, user.organization_id, &search, page).await
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::{PeoplePage, Person, PAGE_SIZE};
    use crate::{db::Db, error::AppError};

    /// id, email, username, first name, last name, role, status.
    type PersonRow = (
        i64,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
    );

    /// `search` matches email, username or either name, case-insensitively;
    /// `%` and `_` in it are literal.
    pub async fn list(
        db: &Db,
        organization_id: i64,
        search: &str,
        page: i64,
    ) -> Result<PeoplePage, AppError> {
        let escaped = search
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let page = page.max(1);
        let filter = "FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.organization_id = $1 AND (
                LOWER(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\'
                OR LOWER(COALESCE(u.username, '')) LIKE $2 ESCAPE '\\'
                OR LOWER(u.first_name) LIKE $2 ESCAPE '\\'
                OR LOWER(u.last_name) LIKE $2 ESCAPE '\\')";
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {filter}"))
            .bind(organization_id)
            .bind(&pattern)
            .fetch_one(&db.pool)
            .await?;
        let rows: Vec<PersonRow> = sqlx::query_as(&format!(
            "SELECT u.id, u.email, u.username, u.first_name, u.last_name, m.role, u.status {filter}
             ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id LIMIT $3 OFFSET $4"
        ))
        .bind(organization_id)
        .bind(&pattern)
        .bind(PAGE_SIZE)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?;
        Ok(PeoplePage {
            people: rows
                .into_iter()
                .map(
                    |(id, email, username, first_name, last_name, role, status)| Person {
                        id,
                        email,
                        username,
                        first_name,
                        last_name,
                        role,
                        status,
                    },
                )
                .collect(),
            total,
            page,
            page_size: PAGE_SIZE,
        })
    }
}
