//! The caller behind a SCIM request's bearer token: refused with 401 when
//! there is none, 403 when its scope is not `scim`, 429 past its rate limit.

use app::{
    api_tokens::{service::authenticate, Need},
    auth::CurrentUser,
    limits::service::{take, Key},
    state::AppState,
};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, StatusCode},
};

use super::ScimError;

/// The admin a `scim` token acts as.
pub struct ScimCaller {
    pub state: AppState,
    pub user: CurrentUser,
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ScimCaller, ScimError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ScimError::new(
                    StatusCode::UNAUTHORIZED,
                    "Send an API token of scope SCIM as “Authorization: Bearer mst_…”; admins create tokens on Settings → API.",
                )
            })?;
        let caller = authenticate(&state.db, presented).await?.ok_or_else(|| {
            ScimError::new(
                StatusCode::UNAUTHORIZED,
                "This token is not valid: it was revoked, mistyped, or its admin is no longer an admin.",
            )
        })?;
        take(
            &state.db,
            &[(
                Key::api_token(caller.token_id),
                state.settings.limits.api_token,
            )],
        )
        .await?;
        if !caller.scope.allows(Need::Scim) {
            return Err(ScimError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "This token's scope ({}) does not reach /scim/v2; an admin can create a token with the scope SCIM provisioning on Settings → API.",
                    caller.scope.label()
                ),
            ));
        }
        Ok(ScimCaller {
            state: state.clone(),
            user: caller.user,
        })
    }
}
