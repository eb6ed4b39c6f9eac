//! Tokens, redirects and the session cookie: what every emailed link and
//! no-JavaScript form needs, without knowing who anyone is.

use axum::{body::Body, response::Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::form_error::FormError;
use crate::state::Settings;

pub const SESSION_COOKIE: &str = "muster_session";

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
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            settings.session_lifetime_secs
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

/// Back to `page` with the refusal's code in the query string.
pub fn refused(page: &str, error: impl Into<FormError>) -> Response {
    let separator = if page.contains('?') { '&' } else { '?' };
    see_other(
        &format!("{page}{separator}error={}", error.into().code()),
        None,
    )
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
