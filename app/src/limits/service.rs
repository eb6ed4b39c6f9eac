//! Taking attempts from buckets, and the answer when none are left.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts},
    response::{IntoResponse, Response},
};
use http::{header, request::Parts, StatusCode};
use sha2::{Digest, Sha256};

use super::{network_of, store, Action, ClientAddr, Limit};
use crate::{db::Db, error::AppError};

/// A bucket's name as stored: the SHA-256 of what is limited, so the table
/// holds no addresses and every key has the same small size whatever a
/// client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    fn of(parts: &[&str]) -> Key {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        Key(hex::encode(hasher.finalize()))
    }

    /// A client network's attempts at one form.
    pub fn client(action: Action, client: ClientAddr) -> Key {
        Key::of(&["client", action.as_str(), &network_of(client.0).to_string()])
    }

    /// Password attempts on the account of `email`, however it is spelled.
    pub fn account(email: &str) -> Key {
        Key::of(&["account", &email.trim().to_lowercase()])
    }

    /// Attempts on one emailed link.
    pub fn link(action: Action, token: &str) -> Key {
        Key::of(&["link", action.as_str(), token.trim()])
    }

    /// Password-reset emails to one address.
    pub fn reset_email(email: &str) -> Key {
        Key::of(&["reset_email", &email.trim().to_lowercase()])
    }

    /// Requests made with one API token.
    pub fn api_token(token_id: i64) -> Key {
        Key::of(&["api_token", &token_id.to_string()])
    }

    /// Join page submissions to one organization, by whatever slug spelling.
    pub fn join_organization(organization_id: i64) -> Key {
        Key::of(&["join_organization", &organization_id.to_string()])
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Takes one attempt from each bucket in turn; the first that is empty
/// refuses (and the later ones are not touched).
pub async fn take(db: &Db, attempts: &[(Key, Limit)]) -> Result<(), AppError> {
    for (key, limit) in attempts {
        // Saturating: a configured day-long refill times a large burst must
        // not wrap into a negative tolerance that refuses everyone.
        let refill_ms = i64::try_from(limit.refill_secs.max(1))
            .unwrap_or(i64::MAX)
            .saturating_mul(1000)
            .min(i64::MAX / 4);
        let tolerance_ms = refill_ms
            .saturating_mul(i64::from(limit.burst.max(1)) - 1)
            .min(i64::MAX / 4);
        let now = now_ms();
        let bucket = store::take(&db.pool, &key.0, now, refill_ms, tolerance_ms).await?;
        if bucket.allowed == 0 {
            let wait_ms = (bucket.full_at_ms - tolerance_ms - now).max(1);
            return Err(AppError::RateLimited {
                minutes: ((wait_ms + 59_999) / 60_000).max(1) as u32,
            });
        }
    }
    Ok(())
}

/// An attempt at an emailed link's form: counted for the client network
/// and for the link.
pub async fn link_attempt(
    state: &crate::state::AppState,
    client: ClientAddr,
    action: Action,
    token: &str,
) -> Result<(), AppError> {
    let limits = &state.settings.limits;
    take(
        &state.db,
        &[
            (Key::client(action, client), limits.client),
            (Key::link(action, token), limits.link),
        ],
    )
    .await
}

/// Refills a bucket: a correct password forgives the typos before it.
pub async fn forget(db: &Db, key: &Key) -> Result<(), AppError> {
    Ok(store::forget(&db.pool, &key.0).await?)
}

/// Deletes the rows of full buckets; the supervisor runs it periodically.
pub async fn sweep(db: &Db) -> Result<u64, AppError> {
    Ok(store::delete_full(&db.pool, now_ms()).await?)
}

/// The client of a request: what the server's client-address layer decided,
/// else the TCP peer; `0.0.0.0` (one shared bucket) when neither is known.
pub fn client_of(parts: &Parts) -> ClientAddr {
    parts
        .extensions
        .get::<ClientAddr>()
        .copied()
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| ClientAddr(info.0.ip()))
        })
        .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// The client of the server function being run.
pub fn current_client() -> ClientAddr {
    leptos::prelude::use_context::<Parts>()
        .map(|parts| client_of(&parts))
        .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(client_of(parts))
    }
}

/// The answer of a no-JavaScript form that was refused for going too fast:
/// 429 with `Retry-After` and a page a person can read; other failures as
/// themselves.
pub fn too_many(error: AppError) -> Response {
    let AppError::RateLimited { minutes } = error else {
        return error.into_response();
    };
    let stylesheet = crate::assets::stylesheet_href();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Muster</title>\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head>\
         <body><main class=\"narrow card\"><h1>Too many attempts</h1><p>Too many attempts were made from here or on this account. \
         Please try again in {minutes} minute(s).</p></main></body></html>\n"
    );
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::RETRY_AFTER, (u64::from(minutes) * 60).to_string())
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_what_they_limit_and_nothing_else() {
        let client = |ip: &str| ClientAddr(ip.parse().unwrap());
        assert_eq!(
            Key::account(" Ada@Example.org "),
            Key::account("ada@example.org")
        );
        assert_ne!(
            Key::client(Action::Login, client("192.0.2.1")),
            Key::client(Action::Reset, client("192.0.2.1")),
            "each form has its own bucket"
        );
        assert_eq!(
            Key::client(Action::Login, client("2001:db8::1")),
            Key::client(Action::Login, client("2001:db8::ffff")),
            "one /64 is one client"
        );
        assert_ne!(Key::account("a"), Key::reset_email("a"));
        // Parts are separated, so two parts cannot pose as one.
        assert_ne!(Key::of(&["ab", "c"]), Key::of(&["a", "bc"]));
        assert_eq!(Key::account(&"x".repeat(10_000)).0.len(), 64);
    }
}
