//! The caller behind a SCIM request's bearer token: refused with 401 when
//! there is none, 403 when its scope is not `scim`, 429 past its rate limit.

use app::{api_tokens::Need, auth::CurrentUser, state::AppState};
use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
};

use super::ScimError;
use crate::api::extract::{bearer, BearerRefusal, INVALID_TOKEN};

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
        let caller = bearer(parts, state).await.map_err(|refusal| match refusal {
            BearerRefusal::Missing => ScimError::new(
                StatusCode::UNAUTHORIZED,
                "Send an API token of scope SCIM as “Authorization: Bearer mst_…”; admins create tokens on Settings → API.",
            ),
            BearerRefusal::Invalid => ScimError::new(StatusCode::UNAUTHORIZED, INVALID_TOKEN),
            BearerRefusal::Other(error) => error.into(),
        })?;
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
