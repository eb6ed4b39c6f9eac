//! What every request passes before it reaches a handler, whoever sends it:
//! a Host this deployment answers to, a body no larger than its route needs,
//! and the security headers on every answer.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Bodies of every route but the three that carry whole import files.
/// The largest legitimate small form (a bulk selection of ids) is a few KB.
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;
/// Uploads and previews: the engine's 50 MB file limit plus room for the form.
pub const IMPORT_BODY_LIMIT: usize = 60 * 1024 * 1024;

/// The routes that carry a whole import: the no-JavaScript upload, the
/// wizard's dry run and confirm, which send every row as JSON (100k rows are
/// about 10 MB), and the API's.
const IMPORT_ROUTES: [&str; 6] = [
    "/admin/imports/upload",
    "/api/imports/dry_run",
    "/api/imports/create",
    "/api/v1/imports",
    "/api/v1/imports/dry-run",
    "/api/v1/imports/upload",
];

pub fn body_limit_for(path: &str) -> usize {
    if IMPORT_ROUTES.contains(&path) {
        IMPORT_BODY_LIMIT
    } else {
        SMALL_BODY_LIMIT
    }
}

/// Reads the body up to its route's limit before anything parses it, and
/// answers 413 beyond: a declared length is refused unread, a streamed body
/// as soon as it crosses the limit, so no route buffers more than it needs.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = body_limit_for(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(limit),
    }
}

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The request is larger than this address accepts ({} KB at most).",
            limit / 1024
        ),
    )
        .into_response()
}

/// The `Host` values this process answers to: the authority of
/// `MUSTER_BASE_URL`, and the address it is bound to (for local development
/// and health checks), with `localhost` as its loopback name.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    pub fn new(base_url: &str, bound: SocketAddr) -> AllowedHosts {
        let mut hosts = Vec::new();
        if let Some(authority) = base_url
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        {
            let authority = authority.to_ascii_lowercase();
            // `https://host` is also reached as `host:443` by some clients.
            let default_port = if base_url.starts_with("https://") {
                ":443"
            } else {
                ":80"
            };
            if !authority.contains(':') || authority.ends_with(']') {
                hosts.push(format!("{authority}{default_port}"));
            }
            hosts.push(authority);
        }
        hosts.push(bound.to_string());
        if bound.ip().is_loopback() {
            hosts.push(format!("localhost:{}", bound.port()));
        }
        AllowedHosts(Arc::new(hosts))
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.0.contains(&host)
    }
}

/// Refuses a request for any other Host before routing (421 Misdirected
/// Request): a page served under a name the attacker controls (DNS
/// rebinding) would otherwise pass the same-origin check with an `Origin`
/// of that name.
pub async fn known_host(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        });
    match host {
        Some(host) if allowed.allows(host) => next.run(request).await,
        _ => {
            tracing::warn!(route = %route_of(&request), "request for an unknown host refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "This server does not answer to that host name.",
            )
                .into_response()
        }
    }
}

/// The route's pattern (`/invite/{token}/respond`) for logs: paths carry
/// live tokens, which must never reach a log file.
pub fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned())
        .unwrap_or_else(|| "(no route)".to_owned())
}

/// Headers on every response. Pages rendered by the app set their own
/// Content-Security-Policy with a script nonce (see `app::shell`); every
/// other answer gets one that allows no inline script at all.
pub async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        static NO_INLINE_SCRIPTS: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
        let policy = NO_INLINE_SCRIPTS.get_or_init(|| {
            HeaderValue::from_str(&app::content_security_policy(None)).expect("the policy is ASCII")
        });
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Built assets whose names carry their content's hash (see `app::assets`)
/// never change under that name, so browsers keep them for a year without
/// asking; other files under `/pkg/` are kept and revalidated. Pages are
/// never reused without asking, since they show live data.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let policy = match request.uri().path().strip_prefix("/pkg/") {
        Some(file) if app::assets::built().is_content_named(file) => {
            "public, max-age=31536000, immutable"
        }
        Some(_) => "public, no-cache",
        None => "no-cache",
    };
    let mut response = next.run(request).await;
    // A missing file must not be remembered as missing for a year.
    let policy = if response.status().is_success() {
        policy
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_base_url_and_the_bound_address_are_served() {
        let allowed = AllowedHosts::new(
            "https://Muster.Example.org/app",
            "127.0.0.1:3000".parse().unwrap(),
        );
        assert!(allowed.allows("muster.example.org"));
        assert!(allowed.allows("MUSTER.example.org:443"));
        assert!(allowed.allows("127.0.0.1:3000"));
        assert!(allowed.allows("localhost:3000"));
        assert!(!allowed.allows("evil.test"));
        assert!(!allowed.allows("muster.example.org.evil.test"));
        assert!(!allowed.allows("127.0.0.1:3001"));
        let public = AllowedHosts::new("http://muster.test", "0.0.0.0:80".parse().unwrap());
        assert!(!public.allows("localhost:80"));
    }

    #[test]
    fn only_import_routes_take_large_bodies() {
        assert_eq!(body_limit_for("/api/imports/create"), IMPORT_BODY_LIMIT);
        assert_eq!(body_limit_for("/admin/imports/upload"), IMPORT_BODY_LIMIT);
        assert_eq!(body_limit_for("/api/login"), SMALL_BODY_LIMIT);
        assert_eq!(body_limit_for("/api/imports/create/"), SMALL_BODY_LIMIT);
    }
}
