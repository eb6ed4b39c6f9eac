//! What API handlers take from a request: the caller behind the bearer
//! token (refused with 401 when there is none, 403 when its scope does not
//! reach, 429 past its rate limit), and JSON, query and path values whose
//! refusals are problems too.

use app::{
    api_tokens::{service::authenticate, Need, Scope},
    auth::CurrentUser,
    error::AppError,
    limits::service::{take, Key},
    state::AppState,
};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, StatusCode},
};
use serde::de::DeserializeOwned;

use super::Problem;

/// The admin a token acts as, and what the token may do.
pub struct Caller {
    pub state: AppState,
    pub user: CurrentUser,
    pub scope: Scope,
}

impl Caller {
    /// Refuses with 403 unless the token's scope allows `need`.
    pub fn may(&self, need: Need) -> Result<&CurrentUser, Problem> {
        if self.scope.allows(need) {
            Ok(&self.user)
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!(
                    "This token's scope ({}) does not allow this; an admin can create a token with the scope it needs on Settings → API.",
                    self.scope.label()
                ),
            ))
        }
    }
}

/// Why a request's bearer token was not taken; `/api/v1` and `/scim/v2`
/// each say it in their own format.
pub enum BearerRefusal {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// Revoked, mistyped, or its admin is no longer an admin.
    Invalid,
    /// Past the token's rate limit, or a fault.
    Other(AppError),
}

/// What one says to a caller whose token is not valid.
pub const INVALID_TOKEN: &str =
    "This token is not valid: it was revoked, mistyped, or its admin is no longer an admin.";

/// The token a request presents as `Authorization: Bearer …`, resolved and
/// counted against its rate limit.
pub async fn bearer(
    parts: &Parts,
    state: &AppState,
) -> Result<app::api_tokens::service::Caller, BearerRefusal> {
    let presented = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(BearerRefusal::Missing)?;
    let caller = authenticate(&state.db, presented)
        .await
        .map_err(BearerRefusal::Other)?
        .ok_or(BearerRefusal::Invalid)?;
    take(
        &state.db,
        &[(
            Key::api_token(caller.token_id),
            state.settings.limits.api_token,
        )],
    )
    .await
    .map_err(BearerRefusal::Other)?;
    Ok(caller)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        let caller = bearer(parts, state).await.map_err(|refusal| match refusal {
            BearerRefusal::Missing => Problem::unauthorized(
                "Send an API token as “Authorization: Bearer mst_…”; admins create tokens on Settings → API.",
            ),
            BearerRefusal::Invalid => Problem::unauthorized(INVALID_TOKEN),
            BearerRefusal::Other(error) => error.into(),
        })?;
        Ok(Caller {
            state: state.clone(),
            user: caller.user,
            scope: caller.scope,
        })
    }
}

/// A JSON body; a body that is not the documented JSON is a 4xx problem.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| ApiJson(value))
            .map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))
    }
}

/// Query parameters, refused as a problem when they do not parse.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| Problem::new(StatusCode::BAD_REQUEST, rejection.body_text()))
    }
}

/// A path's id: a number, else 404 (no such thing can exist).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Id(id))
            .map_err(|_| Problem::new(StatusCode::NOT_FOUND, "No such id."))
    }
}
