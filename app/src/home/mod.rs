//! The learner home: the signed-in person's organizations, groups and trainings.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerGroup {
    pub name: String,
    pub trainings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerOrganization {
    pub name: String,
    /// The membership role as stored (`auth::Role::as_str`).
    pub role: String,
    pub groups: Vec<LearnerGroup>,
}

/// An organization that added the person to an account it does not own,
/// waiting for their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOrganization {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerOverview {
    pub first_name: String,
    pub email: String,
    pub organizations: Vec<LearnerOrganization>,
    pub pending: Vec<PendingOrganization>,
}

/// The signed-in person's organizations, groups and trainings.
#[server(endpoint = "learner/home")]
pub async fn learner_home() -> Result<LearnerOverview, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::auth::service::current_user(&state)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    service::learner_home(&state.db, &user).await
}

/// The signed-in person accepts (joins) or declines an organization that
/// added them. Nothing of theirs is the organization's until they accept.
#[server(endpoint = "learner/answer_organization")]
pub async fn answer_organization(organization_id: i64, accept: bool) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let user = crate::auth::service::current_user(&state)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    service::answer_organization(&state.db, &user, organization_id, accept).await?;
    leptos_axum::redirect(if accept { "/?accepted" } else { "/?declined" });
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
