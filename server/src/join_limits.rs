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
        let slug = request
            .uri()
            .path()
            .strip_prefix("/join/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        // Bounded, so that made-up slugs cannot grow keys without limit.
        Ok(slug
            .chars()
            .take(64)
            .collect::<String>()
            .to_ascii_lowercase())
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
