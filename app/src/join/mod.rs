//! The join page: an organization's public link, `/join/{slug}`, where anyone
//! whose email domain is allowed can join one group as a learner without an
//! invitation. New visitors confirm their email through a link
//! (`/verify-email/{token}`) before their account exists; people with an
//! account log in. The admin settings are under `/admin/join`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, links::TokenState};

#[cfg(feature = "ssr")]
pub mod form;
mod rules;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

pub use rules::{allowlist_sentence, check_slug, email_allowed, parse_domains, RESERVED_SLUGS};

pub const SLUG_MIN_CHARS: usize = 3;
pub const SLUG_MAX_CHARS: usize = 40;
pub const MAX_DOMAINS: usize = 50;
pub const MAX_WELCOME_CHARS: usize = 2000;
/// How long a confirmation link works.
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

/// The admin's join page settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSettings {
    pub enabled: bool,
    /// Empty until one is chosen.
    pub slug: String,
    pub group_id: Option<i64>,
    pub welcome_text: String,
    pub allowed_domains: Vec<String>,
    pub allow_subdomains: bool,
    /// The absolute link (configured base URL + `/join/{slug}`), once there is a slug.
    pub link: Option<String>,
    /// The configured base URL + `/join/`, shown before the slug field.
    pub link_prefix: String,
}

/// What the live availability check says about a slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlugCheck {
    Available,
    /// The organization's own current slug.
    Current,
    Taken,
    Invalid(String),
}

impl SlugCheck {
    pub fn message(&self) -> String {
        match self {
            SlugCheck::Available => "Available.".to_owned(),
            SlugCheck::Current => "This is your current link.".to_owned(),
            SlugCheck::Taken => "Already taken by another organization.".to_owned(),
            SlugCheck::Invalid(reason) => reason.clone(),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, SlugCheck::Available | SlugCheck::Current)
    }
}

/// What `/join/{slug}` shows. A page that is off and a slug that does not
/// exist are the same `NotFound`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinLookup {
    Open {
        organization: String,
        group: String,
        welcome_text: String,
        allowed_domains: Vec<String>,
        allow_subdomains: bool,
        /// The email of whoever is signed in in this browser.
        signed_in_as: Option<String>,
    },
    NotFound,
}

crate::text_enum::text_enum! {
    /// Where a join request stands: waiting for its email to be confirmed,
    /// confirmed (the link did its job), or superseded by a newer sign-up.
    pub enum JoinRequestStatus {
        Pending = "pending",
        Verified = "verified",
        Replaced = "replaced",
    }
}

impl JoinRequestStatus {
    /// What its confirmation link does when opened at `now`. A request
    /// records what became of it as a status rather than a time each.
    pub fn token_state(self, expires_at: i64, now: i64) -> TokenState {
        let when = |status: JoinRequestStatus| (self == status).then_some(now);
        TokenState::of(
            when(JoinRequestStatus::Verified),
            when(JoinRequestStatus::Replaced),
            None,
            expires_at,
            now,
        )
    }
}

/// What `/verify-email/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerifyLookup {
    Valid {
        organization: String,
        group: String,
        email: String,
        expires_at: i64,
    },
    Used {
        organization: String,
    },
    Expired {
        organization: String,
    },
    Replaced {
        organization: String,
    },
    NotFound,
}

#[server(endpoint = "join/settings")]
pub async fn get_join_settings() -> Result<JoinSettings, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::settings(&state.db, &state.settings, user.organization_id).await
}

#[server(endpoint = "join/save")]
pub async fn save_join_settings(
    enabled: Option<String>,
    slug: String,
    group_id: String,
    welcome_text: String,
    allowed_domains: String,
    allow_subdomains: Option<String>,
) -> Result<JoinSettings, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let input = service::SettingsInput {
        enabled: enabled.is_some_and(|value| value != "false" && value != "0"),
        slug,
        group_id,
        welcome_text,
        allowed_domains,
        allow_subdomains: allow_subdomains.is_some_and(|value| value != "false" && value != "0"),
    };
    service::save(&state.db, &state.settings, &user, &input).await
}

/// The live availability check behind the slug field; answers with the slug
/// it checked, so the page can ignore answers to older keystrokes.
#[server(endpoint = "join/check_slug")]
pub async fn check_join_slug(slug: String) -> Result<(String, SlugCheck), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let check = service::slug_status(&state.db, user.organization_id, &slug).await?;
    Ok((slug, check))
}

/// Public: what the join page at this slug shows.
#[server(endpoint = "join/page")]
pub async fn lookup_join_page(slug: String) -> Result<JoinLookup, AppError> {
    let state = crate::state::app_state()?;
    let signed_in = crate::auth::service::current_user(&state).await?;
    service::lookup(&state.db, &slug, signed_in.map(|user| user.email)).await
}

/// Public: anyone holding the token may see what it confirms.
#[server(endpoint = "join/verification")]
pub async fn lookup_join_verification(token: String) -> Result<VerifyLookup, AppError> {
    let state = crate::state::app_state()?;
    service::verification(&state.db, &token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_link_works_while_pending_and_unexpired() {
        use JoinRequestStatus::*;
        assert_eq!(Pending.token_state(10, 5), TokenState::Valid);
        assert_eq!(Pending.token_state(10, 10), TokenState::Expired);
        assert_eq!(Verified.token_state(10, 20), TokenState::Used);
        assert_eq!(Replaced.token_state(10, 5), TokenState::Replaced);
    }
}
