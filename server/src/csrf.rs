//! Cross-site request defence: a state-changing request must come from a page
//! of this site. Browsers send `Origin` on every cross-origin and same-origin
//! POST; `Referer` is the fallback for older clients.

use std::sync::Arc;

use app::state::Settings;
use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub async fn same_origin_only(
    State(settings): State<Arc<Settings>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok())
        .and_then(origin_of);
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let allowed = match &claimed {
        Some(origin) => {
            origin_of(&settings.base_url).as_deref() == Some(origin.as_str())
                || host.is_some_and(|host| authority_of(origin) == Some(host))
        }
        // Pages sent with `Referrer-Policy: no-referrer` (the invitation
        // page) make the browser send `Origin: null`; the browser's own
        // Fetch Metadata still tells whether the form was on this site.
        None => {
            headers
                .get(header::ORIGIN)
                .is_some_and(|origin| origin == "null")
                && headers
                    .get("sec-fetch-site")
                    .is_some_and(|site| site == "same-origin")
        }
    };
    if allowed {
        next.run(request).await
    } else {
        // The route's pattern, not its path: paths carry live tokens.
        tracing::warn!(origin = ?claimed, ?host, route = %crate::guard::route_of(&request), "cross-site request refused");
        (
            StatusCode::FORBIDDEN,
            "This request did not come from a Muster page.",
        )
            .into_response()
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            authority.to_ascii_lowercase()
        )
    })
}

fn authority_of(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, authority)| authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("http://127.0.0.1:3000/admin?x=1").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            origin_of("HTTPS://Example.org").as_deref(),
            Some("https://example.org")
        );
        assert_eq!(origin_of("null"), None);
    }
}
