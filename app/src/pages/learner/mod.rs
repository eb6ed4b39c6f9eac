//! What learners see: the invitation, activation and password pages and their home.
//! Both are rendered completely on the server (`SsrMode::Async`) and work
//! without JavaScript: their forms are plain HTML posts.

pub mod activate;
pub mod confirm_email;
pub mod home;
pub mod invite;
pub mod join;
pub mod password;

/// For pages whose URL carries an emailed token: no `Referer` that would
/// leak it to another site, and no cached copy.
fn keep_token_private() {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("no-referrer"),
        );
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
}
