//! The no-JavaScript form behind `/activate/{token}`.

use axum::{
    extract::{Path, State},
    response::Response,
    Form,
};

use super::{
    service::{activate, lookup},
    ActivationLookup,
};
use crate::{
    limits::{
        service::{link_attempt, too_many},
        Action, ClientAddr,
    },
    links::{
        server::refused,
        session::{signed_in, MaybeSignedIn},
        FormError,
    },
    state::AppState,
};

#[derive(Debug, serde::Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirmation: String,
}

/// `POST /activate/{token}/respond`: set the password, become active and
/// signed in, and land on the home page; back to the page with an error
/// code otherwise.
pub async fn respond(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: MaybeSignedIn,
    client: ClientAddr,
    Form(form): Form<ActivateForm>,
) -> Response {
    // A link that does not exist is refused after one read: counting it
    // would make each made-up link a database write.
    match lookup(&state.db, &token).await {
        Ok(ActivationLookup::NotFound) => {
            return refused(&format!("/activate/{token}"), FormError::Gone)
        }
        Err(error) => return refused(&format!("/activate/{token}"), &error),
        Ok(_) => {}
    }
    if let Err(error) = link_attempt(&state, client, Action::Activate, &token).await {
        return too_many(error);
    }
    match activate(
        &state.db,
        &token,
        &form.password,
        &form.password_confirmation,
    )
    .await
    {
        Ok(activated) => {
            signed_in(
                &state,
                session.token.as_deref(),
                activated.user_id,
                activated.organization_id,
                "/",
            )
            .await
        }
        Err(error) => refused(&format!("/activate/{token}"), &error),
    }
}
