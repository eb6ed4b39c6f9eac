//! The no-JavaScript form behind `/invite/{token}`.

use axum::{
    extract::{Path, State},
    response::Response,
    Form,
};

use super::{
    service::{accept, lookup, Acceptor},
    InviteLookup,
};
use crate::{
    limits::{
        service::{link_attempt, too_many},
        Action, ClientAddr,
    },
    links::{
        server::{refused, see_other, session_cookie},
        session::{end_session, signed_in, MaybeSignedIn},
        FormError,
    },
    state::AppState,
};

#[derive(Debug, serde::Deserialize)]
pub struct InviteForm {
    pub intent: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

/// `POST /invite/{token}/respond`: accept (signed in), log in and accept,
/// register and accept, or log out to switch accounts. Answers with a
/// redirect: home on success, back to the invitation with an error code otherwise.
pub async fn respond(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: MaybeSignedIn,
    client: ClientAddr,
    Form(form): Form<InviteForm>,
) -> Response {
    let page = format!("/invite/{token}");
    // A link that does not exist is refused after one read: counting it
    // would make each made-up link a database write.
    match lookup(&state.db, &token, None).await {
        Ok(InviteLookup::NotFound) => return refused(&page, FormError::Gone),
        Err(error) => return refused(&page, &error),
        Ok(_) => {}
    }
    if let Err(error) = link_attempt(&state, client, Action::Invitation, &token).await {
        return too_many(error);
    }
    let acceptor = match form.intent.as_str() {
        "logout" => {
            end_session(&state.db, session.token.as_deref()).await;
            return see_other(&page, Some(session_cookie(&state.settings, None)));
        }
        "accept" => match &session.user {
            Some(user) => Acceptor::SignedIn {
                user_id: user.user_id,
            },
            None => return refused(&page, FormError::SignedOut),
        },
        "login" => Acceptor::Login {
            password: form.password,
        },
        "register" => Acceptor::Register {
            first_name: form.first_name,
            last_name: form.last_name,
            password: form.password,
        },
        _ => return refused(&page, FormError::Internal),
    };
    match accept(&state, &token, acceptor).await {
        Ok(accepted) => {
            signed_in(
                &state,
                session.token.as_deref(),
                accepted.user_id,
                accepted.organization_id,
                "/?welcome",
            )
            .await
        }
        Err(error) => refused(&page, &error),
    }
}
