//! Rate limits on join page submissions (`POST /join/{slug}/submit`): one
//! per client address and one per join page (each organization has one),
//! both tower_governor layers answering 429. Limits are per process and kept
//! in memory; `Config::join_limits` sets them.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::http::{header, Request, Response, StatusCode};
use axum::{body::Body, routing::MethodRouter};
use tower_governor::{
    governor::GovernorConfigBuilder, key_extractor::KeyExtractor, GovernorError, GovernorLayer,
};

use crate::config::JoinLimits;

/// Keys a request by the join page it posts to: `/join/{slug}/submit`. A
/// slug belongs to one organization, so this limits each organization.
#[derive(Debug, Clone, Copy)]
pub struct JoinPageKey;

impl KeyExtractor for JoinPageKey {
    type Key = String;

    fn extract<T>(&self, request: &Request<T>) -> Result<Self::Key, GovernorError> {
        let raw = request
            .uri()
            .path()
            .strip_prefix("/join/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        Ok(page_key(raw))
    }
}

/// The slug as the handler resolves it (percent-decoded, trimmed, lowercase),
/// so `/join/%72iverside/submit` or `/join/Riverside%20/submit` count
/// against riverside's page instead of getting a fresh bucket each.
/// Bounded, so that made-up slugs cannot grow keys without limit.
fn page_key(raw: &str) -> String {
    percent_decode(&raw.chars().take(3 * 64).collect::<String>())
        .trim()
        .chars()
        .take(64)
        .collect::<String>()
        .to_lowercase()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(high), Some(low)) if hex(high).is_some() && hex(low).is_some() => {
                decoded.push((hex(high).unwrap_or(0) * 16 + hex(low).unwrap_or(0)) as u8);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Keys a request by its client's network: an IPv4 address, or an IPv6
/// address's /64 (one subscriber's whole allocation), so one client cannot
/// walk through 2^64 addresses for fresh buckets.
#[derive(Debug, Clone, Copy)]
pub struct ClientNetworkKey;

impl KeyExtractor for ClientNetworkKey {
    type Key = std::net::IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<Self::Key, GovernorError> {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| network_of(info.0.ip()))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

fn network_of(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                std::net::IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
        v4 => v4,
    }
}

/// A page a person without JavaScript can read, with `Retry-After`.
fn too_many(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let minutes = wait_time.div_ceil(60).max(1);
            let body = format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Muster</title></head>\
                 <body><main><h1>Too many attempts</h1><p>Too many sign-ups were tried from here or on this page. \
                 Please try again in {minutes} minute(s).</p></main></body></html>\n"
            );
            Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::RETRY_AFTER, wait_time.max(1).to_string())
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from(body))
                .unwrap_or_default()
        }
        other => {
            tracing::error!(error = %other, "join rate limit could not key a request");
            Response::from(other)
        }
    }
}

/// Wraps the submission route in both limits, and starts a task that
/// forgets idle keys once a minute.
pub fn limit<S>(route: MethodRouter<S>, limits: &JoinLimits) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let address = Arc::new(
        GovernorConfigBuilder::default()
            .key_extractor(ClientNetworkKey)
            .per_second(limits.per_address_refill_secs.max(1))
            .burst_size(limits.per_address_burst.max(1))
            .finish()
            .expect("burst and period are at least 1"),
    );
    let page = Arc::new(
        GovernorConfigBuilder::default()
            .key_extractor(JoinPageKey)
            .per_second(limits.per_organization_refill_secs.max(1))
            .burst_size(limits.per_organization_burst.max(1))
            .finish()
            .expect("burst and period are at least 1"),
    );
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let (address, page) = (Arc::downgrade(&address), Arc::downgrade(&page));
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let (Some(address), Some(page)) = (address.upgrade(), page.upgrade()) else {
                    break;
                };
                address.limiter().retain_recent();
                page.limiter().retain_recent();
            }
        });
    }
    // The address limit runs first (outermost), then the page's.
    route
        .layer::<_, Infallible>(GovernorLayer::new(page).error_handler(too_many))
        .layer::<_, Infallible>(GovernorLayer::new(address).error_handler(too_many))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_and_padded_slugs_share_their_pages_key() {
        for raw in [
            "riverside",
            "%72iverside",
            "Riverside%20",
            "%20RIVERSIDE",
            "river%73ide",
        ] {
            assert_eq!(page_key(raw), "riverside", "{raw}");
        }
        assert_eq!(page_key(&"a".repeat(500)).len(), 64);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(other));
        let v4: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(network_of(v4), v4);
        let mapped: std::net::IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(mapped), v4);
    }
}
