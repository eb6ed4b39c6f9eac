//! Who is signed in, for plain axum handlers, and signing someone in (or
//! out) at the end of a no-JavaScript form.

use axum::{
    extract::{FromRef, FromRequestParts},
    response::{IntoResponse, Response},
};
use http::request::Parts;

use super::server::{see_other, session_cookie, session_from_headers, token_hash};
use crate::{
    auth::{
        service::{create_session, user_for_token},
        store as accounts, CurrentUser,
    },
    db::Db,
    error::AppError,
    state::AppState,
};

/// Deletes the session a browser carried, if any. Failing to is logged,
/// never shown: the caller is already answering something else.
pub async fn end_session(db: &Db, token: Option<&str>) {
    if let Some(token) = token {
        if let Err(error) = accounts::delete_session(&db.pool, &token_hash(token)).await {
            tracing::error!(%error, "could not end session");
        }
    }
}

/// Starts a session for someone a form just signed in (replacing any the
/// browser had) and sends them to `home`; to the login page if the
/// session cannot be made, since what they did has already happened.
pub async fn signed_in(
    state: &AppState,
    old_session: Option<&str>,
    user_id: i64,
    organization_id: i64,
    home: &str,
) -> Response {
    match create_session(state, user_id, organization_id).await {
        Ok(token) => {
            end_session(&state.db, old_session).await;
            see_other(home, Some(session_cookie(&state.settings, Some(&token))))
        }
        Err(_) => see_other("/login", None),
    }
}

/// The session token the browser sent, if any, and who it belongs to.
pub struct MaybeSignedIn {
    pub token: Option<String>,
    pub user: Option<CurrentUser>,
}

impl<S> FromRequestParts<S> for MaybeSignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = session_from_headers(&parts.headers);
        let user = match &token {
            Some(token) => user_for_token(&state, token)
                .await
                .map_err(IntoResponse::into_response)?,
            None => None,
        };
        Ok(MaybeSignedIn { token, user })
    }
}

/// The signed-in admin for plain axum handlers (uploads, downloads).
/// Others are refused with 401 or 403.
pub struct Admin(pub CurrentUser);

impl<S> FromRequestParts<S> for Admin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let signed_in = MaybeSignedIn::from_request_parts(parts, state).await?;
        match signed_in.user {
            Some(user) if user.role.is_admin() => Ok(Admin(user)),
            Some(_) => Err(AppError::Forbidden.into_response()),
            None => Err(AppError::NotAuthenticated.into_response()),
        }
    }
}
