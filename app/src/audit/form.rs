//! `GET /admin/settings/activity.csv`: the Activity list as a spreadsheet,
//! with the page's filters.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use http::{header, StatusCode};
use serde::Deserialize;

use super::{service, ActivityFilter};
use crate::{
    error::AppError,
    links::{server::see_other, session::Admin},
    state::AppState,
};

/// The page's filter fields, as its Export link carries them.
#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn csv(
    State(state): State<AppState>,
    admin: Result<Admin, Response>,
    Query(query): Query<CsvQuery>,
) -> Response {
    let user = match admin {
        Ok(Admin(user)) => user,
        // A browser that is not signed in goes to log in; a learner is refused.
        Err(refusal) if refusal.status() == StatusCode::UNAUTHORIZED => {
            return see_other("/login", None)
        }
        Err(refusal) => return refusal,
    };
    let actor = match query.actor.trim() {
        "" => 0,
        raw => match raw.parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                return AppError::invalid("Person", "choose one from the list.").into_response()
            }
        },
    };
    let filter = match ActivityFilter::parse(&query.action, actor, &query.from, &query.to) {
        Ok(filter) => filter,
        Err(error) => return error.into_response(),
    };
    match service::csv(&state.db, user.organization_id, &filter).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"muster-activity.csv\"",
                ),
            ],
            // A byte order mark makes Excel read UTF-8 names correctly.
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}
