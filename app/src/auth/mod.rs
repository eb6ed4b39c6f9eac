//! Organizations' first run, logging in and out, and who is calling.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Instructor,
    Learner,
    Parent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructor => "instructor",
            Role::Learner => "learner",
            Role::Parent => "parent",
        }
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    pub const ALL: [Role; 4] = [Role::Admin, Role::Instructor, Role::Learner, Role::Parent];
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(value: String) -> Result<Role, UnknownRole> {
        value.parse()
    }
}

/// A membership role the database holds but this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown membership role {0:?}")]
pub struct UnknownRole(pub String);

/// The membership an imported person gets from the role their row names:
/// students are the organization's learners.
impl From<muster_core::Role> for Role {
    fn from(role: muster_core::Role) -> Role {
        match role {
            muster_core::Role::Student => Role::Learner,
            muster_core::Role::Instructor => Role::Instructor,
            muster_core::Role::Parent => Role::Parent,
        }
    }
}

impl Role {
    /// An imported row's membership: a row naming no role is a learner.
    pub fn for_imported(role: Option<muster_core::Role>) -> Role {
        role.map_or(Role::Learner, Role::from)
    }
}

crate::text_enum::text_enum! {
    /// Where a person's account stands.
    pub enum AccountStatus {
        /// Invited, not accepted yet.
        Invited = "invited",
        /// Created by an import: no password until they activate.
        Provisioned = "provisioned",
        Active = "active",
        /// Added by the organization to an account it does not own: the
        /// organization's record waits for the person to accept. (Never a
        /// value of `users.status`: what such an account is like elsewhere
        /// is not the organization's to see.)
        AwaitingConsent = "pending",
    }
}

impl AccountStatus {
    /// What the People page calls it.
    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::Provisioned => "Not activated",
            AccountStatus::Active => "Active",
            AccountStatus::Invited => "Invited",
            AccountStatus::AwaitingConsent => "Waiting for them to accept",
        }
    }

    /// An activation email is what such a person needs to get in.
    pub fn can_activate(self) -> bool {
        self == AccountStatus::Provisioned
    }

    /// The welcome email only makes sense for someone who can sign in.
    pub fn can_be_welcomed(self) -> bool {
        self == AccountStatus::Active
    }
}

/// The person behind the current session, in the organization they are working in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// The API token's name when the request came through `/api/v1` or
    /// `/scim/v2` with a token that acts as this admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_token: Option<String>,
}

impl CurrentUser {
    /// How emails they send name them: their full name, else their email.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned();
        if name.is_empty() {
            self.email.clone()
        } else {
            name
        }
    }
}

/// What the front page needs to decide between first-run setup, login and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub has_organization: bool,
    pub open_signup: bool,
    pub user: Option<CurrentUser>,
}

#[server(endpoint = "bootstrap")]
pub async fn get_bootstrap() -> Result<Bootstrap, AppError> {
    let state = crate::state::app_state()?;
    let has_organization = service::organization_exists(&state.db).await?;
    let user = service::current_user(&state).await?;
    Ok(Bootstrap {
        has_organization,
        open_signup: state.settings.open_signup,
        user,
    })
}

#[server(endpoint = "create_organization")]
pub async fn create_organization(
    organization_name: String,
    first_name: String,
    last_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let input = service::NewOrganization {
        organization_name,
        first_name,
        last_name,
        email,
        password,
    };
    let (user_id, organization_id) =
        service::create_organization(&state.db, &state.settings, &input).await?;
    service::start_session(&state, user_id, organization_id).await?;
    leptos_axum::redirect("/admin/groups");
    Ok(())
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let client = crate::limits::service::current_client();
    let (user_id, organization_id, role) = service::log_in(&state, client, &email, &password)
        .await
        .inspect_err(|error| {
            if matches!(error, AppError::RateLimited { .. }) {
                service::set_status(http::StatusCode::TOO_MANY_REQUESTS);
            }
        })?;
    service::start_session(&state, user_id, organization_id).await?;
    leptos_axum::redirect(if role == Role::Admin {
        "/admin/groups"
    } else {
        "/"
    });
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    service::end_session(&state).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// "Sign out of all devices": ends every session of the caller (a lost
/// phone, a shared computer), this one included.
#[server(endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let user = service::current_user(&state)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    service::end_all_sessions(&state, &user).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// What `/reset-password/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetLookup {
    Valid {
        email: String,
        expires_at: i64,
    },
    /// The link did its job once; links work once.
    Used,
    Expired,
    NotFound,
}

/// Public: whoever holds the link may see which address it resets.
#[server(endpoint = "password/reset_lookup")]
pub async fn lookup_password_reset(token: String) -> Result<ResetLookup, AppError> {
    use crate::links::TokenState;
    let state = crate::state::app_state()?;
    let link = service::password::lookup_reset(&state.db, &token).await?;
    Ok(match link.state {
        TokenState::Valid => ResetLookup::Valid {
            email: link.email,
            expires_at: link.expires_at,
        },
        TokenState::Used => ResetLookup::Used,
        TokenState::Expired => ResetLookup::Expired,
        TokenState::Replaced | TokenState::Cancelled | TokenState::NotFound => {
            service::set_status(http::StatusCode::NOT_FOUND);
            ResetLookup::NotFound
        }
    })
}

#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_survives_the_database() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn imported_students_and_rows_without_a_role_are_learners() {
        assert_eq!(Role::for_imported(None), Role::Learner);
        assert_eq!(
            Role::for_imported(Some(muster_core::Role::Student)),
            Role::Learner
        );
        assert_eq!(
            Role::for_imported(Some(muster_core::Role::Parent)),
            Role::Parent
        );
        assert_eq!(
            Role::for_imported(Some(muster_core::Role::Instructor)),
            Role::Instructor
        );
    }
}
