//! The join page's no-JavaScript forms: `POST /join/{slug}/submit` and
//! `POST /verify-email/{token}/confirm`. Each answers with a redirect.

use axum::{
    body::Body,
    extract::{Path, State},
    response::{IntoResponse, Response},
    Form,
};
use http::StatusCode;

use super::{
    service::{self, Confirmed, OpenPage, SignUp},
    VerifyLookup,
};
use crate::{
    auth::service::verify_login,
    error::AppError,
    limits::{
        service::{link_attempt, take, too_many, Key},
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
pub struct JoinForm {
    pub intent: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

/// The confirmation page's form: the password, chosen by whoever opened the link.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirmation: String,
}

/// The answer to a post to a page that is off or does not exist: the
/// same for both.
fn not_found() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("Not found."))
        .unwrap_or_default()
}

/// Where the person goes once they are in: the learner's home.
const HOME: &str = "/";

/// `POST /join/{slug}/submit` (rate limited per client network and per
/// organization): sign up, log in and join, join while signed in,
/// or log out to switch accounts.
pub async fn submit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    signed_in_now: MaybeSignedIn,
    client: ClientAddr,
    Form(form): Form<JoinForm>,
) -> Response {
    let limits = &state.settings.limits;
    let by_client = (Key::client(Action::Join, client), limits.join_client);
    if let Err(error) = take(&state.db, &[by_client]).await {
        return too_many(error);
    }
    let page = match service::open_page(&state.db, &slug).await {
        Ok(Some(page)) => page,
        Ok(None) => return not_found(),
        Err(error) => return error.into_response(),
    };
    // Keyed on the organization the slug resolves to, so no spelling of
    // the slug gets a bucket of its own.
    let by_page = (
        Key::join_organization(page.organization_id),
        limits.join_organization,
    );
    if let Err(error) = take(&state.db, &[by_page]).await {
        return too_many(error);
    }
    let slug = slug.trim().to_ascii_lowercase();
    let here = format!("/join/{slug}");
    let session = signed_in_now.token.as_deref();
    match form.intent.as_str() {
        "register" => {
            let sign_up = SignUp {
                email: &form.email,
                first_name: &form.first_name,
                last_name: &form.last_name,
            };
            match service::sign_up(&state.db, &page, &slug, &sign_up).await {
                Ok(()) => see_other(&format!("{here}?sent"), None),
                Err(error) => refused(&here, &error),
            }
        }
        "login" => {
            // The domain first: a refused address learns nothing more.
            if !page.accepts(&form.email) {
                return refused(&here, FormError::Domain);
            }
            match verify_login(&state, &form.email, &form.password).await {
                Ok((user_id, _, _)) => join_verified(&state, &page, &here, session, user_id).await,
                Err(error) => refused(&here, &error),
            }
        }
        "join" => {
            let Some(user) = signed_in_now.user else {
                return refused(&here, FormError::SignedOut);
            };
            join_verified(&state, &page, &here, session, user.user_id).await
        }
        "logout" => {
            end_session(&state.db, session).await;
            see_other(&here, Some(session_cookie(&state.settings, None)))
        }
        _ => refused(&here, FormError::Internal),
    }
}

/// Joins with an existing account only when its address is verified (or
/// the organization knows the person already), and checks the page's
/// domains against that address, never a username: an account anyone could
/// have created with someone else's address must not carry that address
/// into another organization.
async fn join_verified(
    state: &AppState,
    page: &OpenPage,
    here: &str,
    session: Option<&str>,
    user_id: i64,
) -> Response {
    match crate::auth::store::trusted_email(&state.db.pool, page.organization_id, user_id).await {
        Ok(Some(email)) if page.accepts(&email) => join(state, page, here, session, user_id).await,
        Ok(Some(_)) => refused(here, FormError::Domain),
        Ok(None) => refused(here, FormError::Unverified),
        Err(error) => refused(here, &AppError::from(error)),
    }
}

/// Puts someone with an account in the page's group and signs them in to
/// the organization they joined.
async fn join(
    state: &AppState,
    page: &OpenPage,
    here: &str,
    session: Option<&str>,
    user_id: i64,
) -> Response {
    match service::join_existing(&state.db, page, user_id).await {
        Ok(()) => signed_in(state, session, user_id, page.organization_id, HOME).await,
        Err(error) => refused(here, &error),
    }
}

/// `POST /verify-email/{token}/confirm`: the button on the confirmation
/// page (a GET never confirms, so link scanners cannot use the token up).
pub async fn confirm_handler(
    State(state): State<AppState>,
    Path(token): Path<String>,
    signed_in_now: MaybeSignedIn,
    client: ClientAddr,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let here = format!("/verify-email/{token}");
    // A link that does not exist is answered after one read (the page says
    // so): counting it would make each made-up link a database write.
    match service::verification(&state.db, &token).await {
        Ok(VerifyLookup::NotFound) => return see_other(&here, None),
        Err(error) => return refused(&here, &error),
        Ok(_) => {}
    }
    if let Err(error) = link_attempt(&state, client, Action::Verify, &token).await {
        return too_many(error);
    }
    let confirmed = service::confirm(&state.db, &token, &form.password, &form.confirmation).await;
    match confirmed {
        Ok(Confirmed::NewAccount {
            user_id,
            organization_id,
        }) => {
            let session = signed_in_now.token.as_deref();
            signed_in(&state, session, user_id, organization_id, HOME).await
        }
        // The page itself says what became of the link.
        Ok(Confirmed::ExistingAccount) | Err(AppError::NotFound) => see_other(&here, None),
        Err(error) => refused(&here, &error),
    }
}
