//! Refusals and faults as `application/problem+json` (RFC 9457).

use app::error::AppError;
use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

/// What went wrong: `status` and `title` always; `detail` says what to do;
/// `field` names the parameter or column at fault, `row` the file row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    pub status: u16,
    #[serde(default)]
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            row: None,
        }
    }

    pub fn invalid(field: &str, detail: impl Into<String>) -> Problem {
        Problem {
            field: Some(field.to_owned()),
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        let status = error.status();
        match error {
            AppError::Invalid { field, message } => {
                let row = row_of(&field);
                Problem {
                    field: Some(field),
                    row,
                    ..Problem::new(status, message)
                }
            }
            AppError::NotFound => Problem::new(
                status,
                "There is nothing with this id in the token's organization.",
            ),
            other => Problem::new(status, other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Problem {
        Problem::from(AppError::from(error))
    }
}

/// "Row 12, Email" → 12: services name a file row in the field.
fn row_of(field: &str) -> Option<i64> {
    field
        .strip_prefix("Row ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(status = self.status, detail = %self.detail, "api request failed");
        }
        let mut response = (status, axum::Json(&self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"muster\""),
            );
        }
        response
    }
}

pub async fn no_such_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "No such API route; /api/v1/docs lists them.",
    )
}

/// As the `muster` client says it: the detail, where it applies, and the status.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        };
        // "Row 12, Email" already says the row.
        match (&self.field, self.row) {
            (Some(field), _) if field.starts_with("Row ") => write!(f, "{field}: {detail}")?,
            (Some(field), Some(row)) => write!(f, "row {row}, {field}: {detail}")?,
            (Some(field), None) => write!(f, "{field}: {detail}")?,
            (None, Some(row)) => write!(f, "row {row}: {detail}")?,
            (None, None) => f.write_str(detail)?,
        }
        write!(f, " ({})", self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_field_and_row() {
        let problem = Problem::from(AppError::invalid("Row 12, Email", "not an email address"));
        assert_eq!((problem.status, problem.row), (422, Some(12)));
        assert_eq!(problem.field.as_deref(), Some("Row 12, Email"));
        assert_eq!(Problem::from(AppError::invalid("Name", "x")).row, None);
    }
}
