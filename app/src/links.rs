//! Emailed one-time links and the pages that work without JavaScript.
//!
//! Invitations, activation links, email confirmations (and any later link
//! sent by email) share one life: a 256-bit random token is mailed, only its
//! SHA-256 is stored, and a lookup finds it valid, expired, used, replaced,
//! cancelled or unknown. Their no-JavaScript forms share one answer: a
//! `303 See Other` back to a page, with an error code the page turns into a
//! sentence, and sometimes a session cookie. All of that lives here so the
//! `Secure` rule, the cookie's attributes and the codes exist once.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where an emailed link stands when someone opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    Valid,
    Expired,
    /// It did its job once; links work once.
    Used,
    /// A newer link was sent for the same thing; only the newest works.
    Replaced,
    /// An admin withdrew it.
    Cancelled,
    NotFound,
}

impl TokenState {
    /// The state of a stored link from its timestamps. Used, replaced and
    /// cancelled win over expiry: they say more about why it stopped working.
    pub fn of(
        used_at: Option<i64>,
        replaced_at: Option<i64>,
        cancelled_at: Option<i64>,
        expires_at: i64,
        now: i64,
    ) -> TokenState {
        if used_at.is_some() {
            TokenState::Used
        } else if replaced_at.is_some() {
            TokenState::Replaced
        } else if cancelled_at.is_some() {
            TokenState::Cancelled
        } else if expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }

    pub fn is_valid(self) -> bool {
        self == TokenState::Valid
    }
}

/// Why a no-JavaScript form was refused. The code travels in the redirect's
/// query string (never free text in a URL); the page turns it back into a
/// sentence with [`FormError::message`] or its own wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormError {
    Credentials,
    RateLimited,
    Email,
    /// The email's domain is not on the join page's allowlist.
    Domain,
    Password,
    Confirmation,
    FirstName,
    LastName,
    AccountExists,
    AlreadyActive,
    /// Signed in as someone other than the person the link was sent to.
    Mismatch,
    SignedOut,
    /// The join page was turned off.
    Closed,
    /// The link no longer works.
    Gone,
    Internal,
}

impl FormError {
    const ALL: [FormError; 15] = [
        FormError::Credentials,
        FormError::RateLimited,
        FormError::Email,
        FormError::Domain,
        FormError::Password,
        FormError::Confirmation,
        FormError::FirstName,
        FormError::LastName,
        FormError::AccountExists,
        FormError::AlreadyActive,
        FormError::Mismatch,
        FormError::SignedOut,
        FormError::Closed,
        FormError::Gone,
        FormError::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FormError::Credentials => "credentials",
            FormError::RateLimited => "rate_limited",
            FormError::Email => "email",
            FormError::Domain => "domain",
            FormError::Password => "password",
            FormError::Confirmation => "confirmation",
            FormError::FirstName => "first_name",
            FormError::LastName => "last_name",
            FormError::AccountExists => "account_exists",
            FormError::AlreadyActive => "already_active",
            FormError::Mismatch => "mismatch",
            FormError::SignedOut => "signed_out",
            FormError::Closed => "closed",
            FormError::Gone => "gone",
            FormError::Internal => "internal",
        }
    }

    /// The error a page's `?error=` names; an unknown code reads as internal.
    pub fn from_code(code: &str) -> FormError {
        FormError::ALL
            .into_iter()
            .find(|error| error.code() == code)
            .unwrap_or(FormError::Internal)
    }

    /// The sentence for pages that need no wording of their own.
    pub fn message(self) -> &'static str {
        match self {
            FormError::Credentials => "Email or password is incorrect.",
            FormError::RateLimited => "Too many attempts. Try again in a few minutes.",
            FormError::Email => "Please enter a valid email address.",
            FormError::Domain => "This page does not accept your email's domain.",
            FormError::Password => "The password must be at least 10 characters (and at most 256).",
            FormError::Confirmation => {
                "The two passwords do not match. Type the same password twice."
            }
            FormError::FirstName => "Please enter your first name (at most 100 characters).",
            FormError::LastName => "Please enter your last name (at most 100 characters).",
            FormError::AccountExists => {
                "An account with this email already exists. Log in instead."
            }
            FormError::AlreadyActive => "This account is already active. Log in instead.",
            FormError::Mismatch => "You are signed in with a different email than the one invited.",
            FormError::SignedOut => "Your session ended. Log in to continue.",
            FormError::Closed => "This page is closed.",
            FormError::Gone => "This link is no longer valid.",
            FormError::Internal => "Something went wrong on our side. Please try again.",
        }
    }
}

impl From<&AppError> for FormError {
    fn from(error: &AppError) -> FormError {
        match error {
            AppError::BadCredentials => FormError::Credentials,
            AppError::RateLimited { .. } => FormError::RateLimited,
            AppError::Refused(refusal) => *refusal,
            AppError::Invalid { field, .. } => match field.as_str() {
                "Email" => FormError::Email,
                "Password" => FormError::Password,
                "Password confirmation" => FormError::Confirmation,
                "First name" => FormError::FirstName,
                "Last name" => FormError::LastName,
                _ => FormError::Internal,
            },
            AppError::NotFound | AppError::Conflict(_) => FormError::Gone,
            AppError::NotAuthenticated => FormError::SignedOut,
            AppError::Forbidden => FormError::Mismatch,
            AppError::Internal | AppError::Transport(_) => FormError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
pub mod server {
    //! Tokens, redirects, the session cookie and the request extractors.

    use axum::{
        body::Body,
        extract::{FromRef, FromRequestParts},
        response::{IntoResponse, Response},
    };
    use http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
    use rand::RngCore;
    use sha2::{Digest, Sha256};

    use super::FormError;
    use crate::{
        auth::{store as accounts, CurrentUser},
        db::Db,
        error::AppError,
        state::{now, AppState, Settings},
    };

    pub const SESSION_COOKIE: &str = "muster_session";
    pub const SESSION_TTL_SECS: i64 = 14 * 24 * 3600;

    /// 256 random bits, hex: what a link or a session cookie carries.
    pub fn new_token() -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// What is stored instead of a token, so a copy of the database opens nothing.
    pub fn token_hash(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    /// `Set-Cookie` for a new session, or (with `None`) for ending one.
    /// `Secure` whenever the product is served over https.
    pub fn session_cookie(settings: &Settings, token: Option<&str>) -> String {
        let secure = if settings.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        match token {
            Some(token) => format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}{secure}"
            ),
            None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
        }
    }

    /// The session token in a request's `Cookie` headers, if any.
    pub fn session_from_headers(headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The answer to every no-JavaScript form: see `location`. Token pages
    /// must not leak their URL to the next site, and nothing here is cacheable.
    pub fn see_other(location: &str, cookie: Option<String>) -> Response {
        let mut response = Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, location)
            .header(header::REFERRER_POLICY, "no-referrer")
            .header(header::CACHE_CONTROL, "no-store");
        if let Some(cookie) = cookie {
            response = response.header(header::SET_COOKIE, cookie);
        }
        response.body(Body::empty()).unwrap_or_default()
    }

    /// Opens a session for the person in the organization; the token is
    /// for the cookie, only its hash is stored.
    pub async fn create_session(
        db: &Db,
        user_id: i64,
        organization_id: i64,
    ) -> Result<String, AppError> {
        let token = new_token();
        let now = now();
        accounts::insert_session(
            &db.pool,
            &token_hash(&token),
            user_id,
            organization_id,
            now,
            now + SESSION_TTL_SECS,
        )
        .await?;
        Ok(token)
    }

    /// Who a session token belongs to while the session lasts; `None` also
    /// for a role this version does not know.
    pub async fn user_for_token(db: &Db, token: &str) -> Result<Option<CurrentUser>, AppError> {
        let found = accounts::session_user(&db.pool, &token_hash(token), now()).await?;
        Ok(found.and_then(|row| {
            Some(CurrentUser {
                user_id: row.user_id,
                organization_id: row.organization_id,
                organization_name: row.organization_name,
                email: row.email,
                first_name: row.first_name,
                last_name: row.last_name,
                role: row.role.parse().ok()?,
            })
        }))
    }

    /// Back to `page` with the refusal's code in the query string.
    pub fn refused(page: &str, error: impl Into<FormError>) -> Response {
        let separator = if page.contains('?') { '&' } else { '?' };
        see_other(
            &format!("{page}{separator}error={}", error.into().code()),
            None,
        )
    }

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
        match create_session(&state.db, user_id, organization_id).await {
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
                Some(token) => user_for_token(&state.db, token)
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

    /// Sets a header on the response of the server function being run.
    pub fn append_response_header(name: header::HeaderName, value: &str) {
        if let (Some(response), Ok(value)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(value),
        ) {
            response.append_header(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_error_survives_its_code() {
        for error in FormError::ALL {
            assert_eq!(FormError::from_code(error.code()), error);
        }
        assert_eq!(FormError::from_code("nonsense"), FormError::Internal);
    }

    #[test]
    fn used_replaced_and_cancelled_say_more_than_expired() {
        assert_eq!(TokenState::of(None, None, None, 10, 5), TokenState::Valid);
        assert_eq!(
            TokenState::of(None, None, None, 10, 10),
            TokenState::Expired
        );
        assert_eq!(
            TokenState::of(Some(1), None, None, 10, 20),
            TokenState::Used
        );
        assert_eq!(
            TokenState::of(None, Some(1), None, 10, 20),
            TokenState::Replaced
        );
        assert_eq!(
            TokenState::of(None, None, Some(1), 10, 20),
            TokenState::Cancelled
        );
    }
}
