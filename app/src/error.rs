//! What server functions can tell a user went wrong.

use serde::{Deserialize, Serialize};

use crate::links::form_error::FormError;

/// Errors of the application layer. Every variant is safe to show to the
/// caller; internal failures are logged with context where they happen and
/// reach the user only as `Internal`.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize, PartialEq, Eq)]
pub enum AppError {
    #[error("Please log in to continue.")]
    NotAuthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("Email or password is incorrect.")]
    BadCredentials,
    #[error("Too many attempts. Try again in {minutes} minute(s).")]
    RateLimited { minutes: u32 },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("{0}")]
    Transport(String),
    /// A no-JavaScript form's refusal, typed so pages never read message text.
    #[error("{}", .0.message())]
    Refused(FormError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl AppError {
    /// The HTTP status this error answers with: refusals are 4xx, faults 500.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotAuthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } | AppError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (
            self.status(),
            [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.to_string(),
        )
            .into_response()
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }

    /// Encodes the error for the answer, and gives the answer the error's status:
    /// server_fn itself sends every error with 500, which tells a caller (and the
    /// logs) that the server broke when the caller sent something wrong.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        answer_with_status(self);
        use leptos::server_fn::Encodes;
        Self::Encoder::encode(self).unwrap_or_else(|e| {
            Self::Encoder::encode(&AppError::Transport(e.to_string()))
                .expect("a message string encodes")
        })
    }
}

/// Sets the status of the server function's answer to the error's, unless the
/// call is a plain form post: that one is redirected back to its page with the
/// error in the address, and a 4xx in place of the redirect would strand it.
#[cfg(feature = "ssr")]
fn answer_with_status(error: &AppError) {
    use leptos::prelude::use_context;
    let form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if form_post {
        return;
    }
    let status = error.status();
    if status.is_server_error() {
        // Where it failed is logged where it happened; this names the call.
        let function = use_context::<http::request::Parts>().map(|p| p.uri.path().to_owned());
        tracing::error!(?function, %error, "server function failed");
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(error: sqlx::Error) -> Self {
        let location = std::panic::Location::caller();
        tracing::error!(%error, %location, "database error");
        AppError::Internal
    }
}

/// The code a no-JavaScript form's redirect carries for this error.
impl From<&AppError> for FormError {
    fn from(error: &AppError) -> FormError {
        match error {
            AppError::BadCredentials => FormError::Credentials,
            AppError::RateLimited { .. } => FormError::RateLimited,
            AppError::Refused(refusal) => *refusal,
            AppError::Invalid { field, .. } => match field.as_str() {
                "Email" => FormError::Email,
                "Password" => FormError::Password,
                "Password confirmation" => FormError::Confirmation,
                "First name" => FormError::FirstName,
                "Last name" => FormError::LastName,
                _ => FormError::Internal,
            },
            AppError::NotFound | AppError::Conflict(_) => FormError::Gone,
            AppError::NotAuthenticated => FormError::SignedOut,
            AppError::Forbidden => FormError::Mismatch,
            AppError::Internal | AppError::Transport(_) => FormError::Internal,
        }
    }
}
