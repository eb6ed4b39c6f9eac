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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerOverview {
    pub first_name: String,
    pub email: String,
    pub organizations: Vec<LearnerOrganization>,
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

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
