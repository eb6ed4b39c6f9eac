//! Organization API tokens: how a student information system, an LMS or an
//! identity provider reaches `/api/v1` and `/scim/v2` without a browser.
//! Admins create, name, scope and revoke them on Settings → API; a token is
//! shown once and stored only as its SHA-256. A request made with a token
//! acts as the admin who created it, in that organization, through the same
//! services as the browser (a token stops working when its admin stops
//! being an admin there).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

/// What tokens begin with, so a leaked one is recognisable (secret scanners,
/// logs) and cannot be mistaken for a session or an emailed link.
pub const TOKEN_PREFIX: &str = "mst_";
/// The longest name a token may have.
pub const NAME_MAX_CHARS: usize = 80;

crate::text_enum::text_enum! {
    /// What a token may do. Every scope can read through `/api/v1`; the
    /// write scopes add one noun each; `scim` is only for `/scim/v2`.
    pub enum Scope {
        ReadOnly = "read",
        Imports = "imports",
        Invitations = "invitations",
        People = "people",
        Full = "full",
        Scim = "scim",
    }
}

/// What a request needs of its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    WriteImports,
    WriteInvitations,
    /// People, groups and contracts.
    WritePeople,
    /// Provisioning through `/scim/v2`.
    Scim,
}

impl Scope {
    pub fn allows(self, need: Need) -> bool {
        match (self, need) {
            (Scope::Scim, need) => need == Need::Scim,
            (_, Need::Scim) => false,
            (Scope::Full, _) | (_, Need::Read) => true,
            (Scope::Imports, need) => need == Need::WriteImports,
            (Scope::Invitations, need) => need == Need::WriteInvitations,
            (Scope::People, need) => need == Need::WritePeople,
            (Scope::ReadOnly, _) => false,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::ReadOnly => "Read only",
            Scope::Imports => "Imports",
            Scope::Invitations => "Invitations",
            Scope::People => "People, groups and contracts",
            Scope::Full => "Full access",
            Scope::Scim => "SCIM provisioning",
        }
    }

    /// What the Settings → API page says a scope lets a script do.
    pub fn explanation(self) -> &'static str {
        match self {
            Scope::ReadOnly => "Read imports, invitations, people, groups and contracts.",
            Scope::Imports => "Read everything; create, confirm and cancel imports.",
            Scope::Invitations => "Read everything; send, resend and cancel invitations.",
            Scope::People => {
                "Read everything; create groups and contracts, send activation emails."
            }
            Scope::Full => "Everything the API can do.",
            Scope::Scim => {
                "Only /scim/v2: an identity provider creating, changing and deactivating people."
            }
        }
    }
}

/// A token as the Settings → API page lists it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    /// The token's first characters ("mst_3fA9b2…").
    pub hint: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenSummary {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub token: String,
}

/// A token's name as admins type it: trimmed, not empty, not too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(name: &str) -> Result<TokenName, AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid(
                "Name",
                "Give the token a name that says what uses it, like “SIS nightly sync”.",
            ));
        }
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(AppError::invalid(
                "Name",
                format!("Use at most {NAME_MAX_CHARS} characters."),
            ));
        }
        Ok(TokenName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn parse_scope(scope: &str) -> Result<Scope, AppError> {
    scope
        .parse()
        .map_err(|_| AppError::invalid("Scope", "Choose what the token may do."))
}

/// The organization's tokens, newest first, revoked ones included.
#[server(endpoint = "api_tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<TokenSummary>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id).await
}

/// Creates a token; the answer holds its secret, which is never shown again.
#[server(endpoint = "api_tokens/create")]
pub async fn create_api_token(name: String, scope: String) -> Result<CreatedToken, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let name = TokenName::parse(&name)?;
    let scope = parse_scope(&scope)?;
    service::create(&state.db, &user, &name, scope).await
}

/// Revokes a token: its next request is refused.
#[server(endpoint = "api_tokens/revoke")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::revoke(&state.db, &user, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_allow_what_they_say() {
        use Need::*;
        let all = [Read, WriteImports, WriteInvitations, WritePeople, Scim];
        let allowed = |scope: Scope| -> Vec<Need> {
            all.iter().copied().filter(|n| scope.allows(*n)).collect()
        };
        assert_eq!(allowed(Scope::ReadOnly), vec![Read]);
        assert_eq!(allowed(Scope::Imports), vec![Read, WriteImports]);
        assert_eq!(allowed(Scope::Invitations), vec![Read, WriteInvitations]);
        assert_eq!(allowed(Scope::People), vec![Read, WritePeople]);
        assert_eq!(
            allowed(Scope::Full),
            vec![Read, WriteImports, WriteInvitations, WritePeople]
        );
        assert_eq!(allowed(Scope::Scim), vec![Scim]);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse("  SIS  ").unwrap().as_str(), "SIS");
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(parse_scope("admin").is_err());
        assert_eq!(parse_scope("scim").unwrap(), Scope::Scim);
    }
}
