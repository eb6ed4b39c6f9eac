//! People: the members of an organization.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

pub const PAGE_SIZE: i64 = 25;

/// Kept with the accounts that `auth::store` writes; the People page lists it.
pub use crate::auth::AccountStatus;

crate::text_enum::text_enum! {
    /// Where the organization's own record of a person stands
    /// (`memberships.status`).
    pub enum MembershipStatus {
        Active = "active",
        /// Waiting for the person to accept the organization's record.
        Pending = "pending",
        /// Deactivated in this organization only (SCIM `active: false`).
        Deactivated = "deactivated",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub status: AccountStatus,
    /// When the latest activation email was sent by this organization, for
    /// provisioned people.
    pub activation_sent_at: Option<i64>,
    /// Where an activation email goes: their own email, or for a
    /// username-only student their parent's.
    pub activation_to: Option<String>,
    /// The people a People import linked them with, in this organization.
    pub links: Vec<LinkedPerson>,
}

/// Who someone is linked with, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedPerson {
    pub relation: Relation,
    /// Their name, else their email or username.
    pub name: String,
}

/// How a linked person stands to the one listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    Parent,
    Instructor,
    /// The listed person is this student's parent.
    ChildOf,
    /// The listed person is this student's instructor.
    StudentOf,
}

impl Relation {
    pub fn label(self) -> &'static str {
        match self {
            Relation::Parent => "Parent",
            Relation::Instructor => "Instructor",
            Relation::ChildOf => "Student (child)",
            Relation::StudentOf => "Student",
        }
    }

    /// The relation's name in the API.
    pub fn api_name(self) -> &'static str {
        match self {
            Relation::Parent => "parent",
            Relation::Instructor => "instructor",
            Relation::ChildOf => "child",
            Relation::StudentOf => "student",
        }
    }
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
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id, &search, &status, page).await
}

/// Sends an active person the welcome email of their latest group again.
#[server(endpoint = "people/resend_welcome")]
pub async fn resend_welcome(user_id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::resend_welcome(&state.db, &user, user_id).await?;
    Ok(())
}
