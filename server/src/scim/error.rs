//! Refusals in SCIM's own error format (RFC 7644 §3.12).

use app::error::AppError;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    /// RFC 7644's `scimType` for a 400 or 409 (`invalidFilter`, `uniqueness`…).
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ScimError {
        ScimError {
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    pub fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            scim_type: Some(scim_type),
            ..ScimError::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    pub fn not_found() -> ScimError {
        ScimError::new(
            StatusCode::NOT_FOUND,
            "There is no resource with this id in the token's organization.",
        )
    }
}

impl From<AppError> for ScimError {
    fn from(error: AppError) -> ScimError {
        match error {
            AppError::NotFound => ScimError::not_found(),
            AppError::Invalid { field, message } => {
                ScimError::bad_request("invalidValue", format!("{field}: {message}"))
            }
            AppError::Conflict(message) => ScimError {
                scim_type: Some("uniqueness"),
                ..ScimError::new(StatusCode::CONFLICT, message)
            },
            AppError::Refused(_) => ScimError::bad_request("invalidValue", error.to_string()),
            other => ScimError::new(other.status(), other.to_string()),
        }
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(error: sqlx::Error) -> ScimError {
        ScimError::from(AppError::from(error))
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), detail = %self.detail, "scim request failed");
        }
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::CONTENT_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster\""),
            );
        }
        response
    }
}

pub async fn no_such_endpoint() -> ScimError {
    ScimError::new(
        StatusCode::NOT_FOUND,
        "No such SCIM endpoint; /scim/v2/ResourceTypes lists them.",
    )
}

pub async fn method_not_allowed() -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not take this method.",
    )
}
