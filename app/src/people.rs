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
    /// invited, provisioned (no password yet) or active.
    pub status: String,
    /// When the latest activation email was sent by this organization, for
    /// provisioned people.
    pub activation_sent_at: Option<i64>,
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

/// `status` narrows to one account status (`""` for everyone).
#[server(endpoint = "people/list")]
pub async fn list_people(
    search: String,
    page: i64,
    #[server(default)] status: String,
) -> Result<PeoplePage, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::list(&state.db, user.organization_id, &search, &status, page).await
}

/// Sends an active person the welcome email of their latest group again.
#[server(endpoint = "people/resend_welcome")]
pub async fn resend_welcome(user_id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::resend_welcome(&state.db, &state.settings, &user, user_id).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::{PeoplePage, Person, PAGE_SIZE};
    use crate::{
        auth::CurrentUser,
        db::Db,
        error::AppError,
        mail::{self, templates},
        state::{now, Settings},
    };

    /// Welcome emails an admin may resend per address per 24 hours.
    pub const MAX_WELCOMES_PER_DAY: i64 = 3;

    /// id, email, username, first name, last name, role, status, activation sent at.
    type PersonRow = (
        i64,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
        Option<i64>,
    );

    /// `search` matches email, username or either name, case-insensitively;
    /// `%` and `_` in it are literal.
    pub async fn list(
        db: &Db,
        organization_id: i64,
        search: &str,
        status: &str,
        page: i64,
    ) -> Result<PeoplePage, AppError> {
        let status = status.trim().to_lowercase();
        if !["", "invited", "provisioned", "active"].contains(&status.as_str()) {
            return Err(AppError::invalid(
                "Status",
                "is not one of invited, provisioned, active.",
            ));
        }
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
                OR LOWER(u.last_name) LIKE $2 ESCAPE '\\')
               AND ($3 = '' OR u.status = $3)";
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {filter}"))
            .bind(organization_id)
            .bind(&pattern)
            .bind(&status)
            .fetch_one(&db.pool)
            .await?;
        let rows: Vec<PersonRow> = sqlx::query_as(&format!(
            "SELECT u.id, u.email, u.username, u.first_name, u.last_name, m.role, u.status,
                    (SELECT MAX(t.created_at) FROM activation_tokens t
                     WHERE t.user_id = u.id AND t.organization_id = m.organization_id)
             {filter}
             ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id LIMIT $4 OFFSET $5"
        ))
        .bind(organization_id)
        .bind(&pattern)
        .bind(&status)
        .bind(PAGE_SIZE)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?;
        Ok(PeoplePage {
            people: rows
                .into_iter()
                .map(
                    |(
                        id,
                        email,
                        username,
                        first_name,
                        last_name,
                        role,
                        status,
                        activation_sent_at,
                    )| Person {
                        id,
                        email,
                        username,
                        first_name,
                        last_name,
                        role,
                        status,
                        activation_sent_at,
                    },
                )
                .collect(),
            total,
            page,
            page_size: PAGE_SIZE,
        })
    }

    /// Queues the welcome email of the person's latest group in this
    /// organization again; only for active people, at most
    /// [`MAX_WELCOMES_PER_DAY`] a day per address.
    pub async fn resend_welcome(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        person_id: i64,
    ) -> Result<(), AppError> {
        let organization_id = user.organization_id;
        let now = now();
        let mut tx = db.begin().await?;
        // A write first (SQLite's write lock; a row lock on PostgreSQL).
        sqlx::query("UPDATE users SET status = status WHERE id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        let person: Option<(Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT u.email, u.first_name, u.status, o.name FROM memberships m
             JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
             WHERE m.organization_id = $1 AND m.user_id = $2",
        )
        .bind(organization_id)
        .bind(person_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (email, first_name, status, organization) = person.ok_or(AppError::NotFound)?;
        if status != "active" {
            return Err(AppError::Conflict(
                "This person has not activated their account yet; send them an activation email instead."
                    .into(),
            ));
        }
        let email =
            email.ok_or_else(|| AppError::Conflict("This person has no email address.".into()))?;
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
             AND kind = 'welcome_resend' AND created_at > $3",
        )
        .bind(organization_id)
        .bind(&email)
        .bind(now - 86_400)
        .fetch_one(&mut *tx)
        .await?;
        if recent >= MAX_WELCOMES_PER_DAY {
            return Err(AppError::Conflict(format!(
                "{email} has been sent {MAX_WELCOMES_PER_DAY} welcome emails in the last 24 hours; try again tomorrow."
            )));
        }
        let group: Option<(i64, String)> = sqlx::query_as(
            "SELECT g.id, g.name FROM group_memberships gm JOIN learning_groups g ON g.id = gm.group_id
             WHERE gm.user_id = $1 AND g.organization_id = $2 AND gm.status = 'active'
             ORDER BY gm.created_at DESC, gm.id DESC LIMIT 1",
        )
        .bind(person_id)
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (group_id, group) = group.ok_or_else(|| {
            AppError::Conflict(format!(
                "{email} is not in any group yet, so there is no welcome email to send."
            ))
        })?;
        let trainings: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM trainings WHERE group_id = $1 ORDER BY position")
                .bind(group_id)
                .fetch_all(&mut *tx)
                .await?;
        let trainings: Vec<String> = trainings.into_iter().map(|(name,)| name).collect();
        let home = format!("{}/", settings.base_url);
        let rendered = templates::welcome(&templates::Welcome {
            first_name: &first_name,
            organization: &organization,
            group: &group,
            trainings: &trainings,
            link: &home,
        });
        mail::server::enqueue(
            &mut tx,
            Some(organization_id),
            &mail::server::Email {
                to: email,
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                kind: "welcome_resend",
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(organization_id, person_id, "welcome email resent");
        Ok(())
    }
}
