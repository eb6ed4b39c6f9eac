//! The no-JavaScript forms of passwords: "Forgot password?"
//! (`POST /forgot-password/send`), the emailed link's form
//! (`POST /reset-password/{token}/respond`) and changing one's password
//! (`POST /account/password/change`). Each answers with a redirect, or 429.

use axum::{
    extract::{Path, State},
    response::Response,
    Form,
};

use super::service::password::{change_password, request_reset, reset_password};
use crate::{
    error::AppError,
    limits::{service::too_many, ClientAddr},
    links::{
        server::{refused, see_other},
        session::MaybeSignedIn,
        FormError,
    },
    state::AppState,
};

#[derive(Debug, serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirmation: String,
}

/// A refusal: 429 for a spent limit (a page of its own), else back to `page`.
fn refusal(page: &str, error: AppError) -> Response {
    match error {
        AppError::RateLimited { .. } => too_many(error),
        error => refused(page, &error),
    }
}

/// `POST /forgot-password/send`: always "check your email" for a well-formed
/// address, whether or not it has an account.
pub async fn forgot(
    State(state): State<AppState>,
    client: ClientAddr,
    Form(form): Form<ForgotForm>,
) -> Response {
    match request_reset(&state, client, &form.email).await {
        Ok(()) => see_other("/forgot-password?sent", None),
        Err(error) => refusal("/forgot-password", error),
    }
}

/// `POST /reset-password/{token}/respond`: the new password; every session
/// of the person ends, and they log in with it.
pub async fn reset(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    match reset_password(
        &state,
        client,
        &token,
        &form.password,
        &form.password_confirmation,
    )
    .await
    {
        Ok(_) => see_other("/login?reset", None),
        Err(error) => refusal(&format!("/reset-password/{token}"), error),
    }
}

/// `POST /account/password/change`: signed in, with the current password; the
/// person's other sessions end.
pub async fn change(
    State(state): State<AppState>,
    client: ClientAddr,
    session: MaybeSignedIn,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    const PAGE: &str = "/account/password";
    let (Some(user), Some(token)) = (session.user, session.token) else {
        return refused(PAGE, FormError::SignedOut);
    };
    match change_password(
        &state,
        client,
        &user,
        &token,
        &form.current_password,
        &form.password,
        &form.password_confirmation,
    )
    .await
    {
        Ok(()) => see_other(&format!("{PAGE}?changed"), None),
        Err(error) => refusal(PAGE, error),
    }
}

/// `POST /confirm-email/{token}/confirm`: the button on the confirmation
/// page for a new organization's first admin (a GET never confirms, so link
/// scanners cannot use the token up).
pub async fn confirm_email(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let here = format!("/confirm-email/{token}");
    match super::service::confirm_email(&state.db, &token).await {
        Ok(()) => see_other(&format!("{here}?done"), None),
        Err(error) => refused(&here, &error),
    }
}
