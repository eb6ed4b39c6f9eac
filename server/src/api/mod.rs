//! `/api/v1`: Muster for scripts and other systems, with an organization's
//! API token (`Authorization: Bearer mst_…`). Each handler checks the
//! token's scope and calls the same service as the browser's server
//! function, scoped to the token's organization; answers are JSON, refusals
//! `application/problem+json` (RFC 9457). The OpenAPI 3.1 document at
//! `/api/v1/openapi.json` is generated from these handlers and types.
//!
//! Session cookies are never read here, so a page on another site cannot
//! make a signed-in admin's browser call the API: the same-origin check the
//! forms need does not apply.

mod contracts;
pub(crate) mod extract;
// The `muster` client reads the answers with these same types.
pub mod groups;
pub mod imports;
pub mod invitations;
mod openapi;
mod people;
pub mod problem;

use app::state::AppState;
use axum::{routing::get, Router};

pub use extract::Caller;
pub use problem::Problem;

/// The API's routes, to be served under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::docs_page))
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{id}", get(groups::get))
        .route("/contracts", get(contracts::list).post(contracts::create))
        .route("/contracts/{id}", get(contracts::get))
        .route("/imports", get(imports::list).post(imports::create))
        .route("/imports/dry-run", axum::routing::post(imports::dry_run))
        .route("/imports/upload", axum::routing::post(imports::upload))
        .route("/imports/{id}", get(imports::get))
        .route("/imports/{id}/rows", get(imports::rows))
        .route("/imports/{id}/failed.csv", get(imports::failed_csv))
        .route(
            "/imports/{id}/confirm",
            axum::routing::post(imports::confirm),
        )
        .route("/imports/{id}/cancel", axum::routing::post(imports::cancel))
        .route(
            "/invitations",
            get(invitations::list).post(invitations::send),
        )
        .route(
            "/invitations/{id}/resend",
            axum::routing::post(invitations::resend),
        )
        .route(
            "/invitations/{id}/cancel",
            axum::routing::post(invitations::cancel),
        )
        .route("/people", get(people::list))
        .route("/people/{id}", get(people::get))
        .route(
            "/people/{id}/activation",
            axum::routing::post(people::send_activation),
        )
        .fallback(problem::no_such_route)
}

/// A page of a list: `next_cursor` is passed back as `cursor` for the
/// next page, and is absent on the last one.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match, across all pages.
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// Cursors are opaque to callers: "p" and the page number today.
pub(crate) fn page_of(cursor: Option<&str>) -> Result<i64, Problem> {
    match cursor {
        None | Some("") => Ok(1),
        Some(cursor) => cursor
            .strip_prefix('p')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| Problem::invalid("cursor", "This cursor was not given by the API.")),
    }
}

pub(crate) fn next_cursor(page: i64, page_size: i64, total: i64) -> Option<String> {
    (page * page_size < total).then(|| format!("p{}", page + 1))
}
