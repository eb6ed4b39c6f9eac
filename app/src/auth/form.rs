//! Accounts' no-JavaScript form: `POST /confirm-email/{token}/confirm`.

use axum::{
    extract::{Path, State},
    response::Response,
};

use crate::{
    links::server::{refused, see_other},
    state::AppState,
};

/// The button on the confirmation page (a GET never confirms, so link
/// scanners cannot use the token up).
pub async fn confirm_email(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let here = format!("/confirm-email/{token}");
    match super::service::confirm_email(&state.db, &token).await {
        Ok(()) => see_other(&format!("{here}?done"), None),
        Err(error) => refused(&here, &error),
    }
}
