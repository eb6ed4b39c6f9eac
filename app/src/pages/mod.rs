//! One module per page.

pub mod admin_shell;
pub mod contracts;
pub mod group_detail;
pub mod groups;
pub mod home;
pub mod invitations;
pub mod learner;
pub mod login;
pub mod mailbox;
pub mod not_found;
pub mod people;

use leptos::prelude::*;

use crate::error::AppError;

/// A server function's failure, announced to screen readers.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

/// The outcome of the last submission of a form, if it failed.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(error)) => Some(view! { <ErrorMessage error /> }),
        _ => None,
    }
}
