//! Components, pages and server functions shared by the browser and the server.

pub mod activation;
pub mod api_tokens;
#[cfg(feature = "ssr")]
pub mod assets;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod contracts;
pub mod error;
pub mod groups;
pub mod home;
pub mod imports;
pub mod invitations;
pub mod join;
pub mod limits;
pub mod links;
pub mod mail;
pub mod mappings;
pub mod pages;
pub mod people;
pub mod text_enum;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

use pages::{
    admin_shell::AdminShell,
    contracts::ContractsPage,
    group_detail::GroupDetailPage,
    groups::GroupsPage,
    home::HomePage,
    import_wizard::NewImportPage,
    imports::{ImportPage, ImportsPage},
    invitations::InvitationsPage,
    learner::{activate::ActivatePage, invite::InvitePage},
    login::LoginPage,
    mailbox::{MailboxMessagePage, MailboxPage},
    people::PeoplePage,
};

/// The Content-Security-Policy of every answer: scripts only from this site
/// (plus, on a rendered page, its own inline hydration scripts, which carry
/// this response's `nonce`), never inside another site's frame. Styles may be
/// inline because the review grid positions its rows with `style`.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let inline_scripts = nonce
        .map(|nonce| format!(" 'nonce-{nonce}'"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline_scripts} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Pages a learner opens from an email or a shared link, usually on a
/// phone: rendered completely on the server, their forms plain HTML posts,
/// so they ship no WebAssembly and no JavaScript at all.
pub const LEARNER_PAGE_PREFIXES: [&str; 7] = [
    "/invite/",
    "/activate/",
    "/join/",
    "/verify-email/",
    "/confirm-email/",
    "/forgot-password",
    "/reset-password/",
];

pub fn is_learner_page(path: &str) -> bool {
    LEARNER_PAGE_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let hydrate = !use_context::<http::request::Parts>()
        .is_some_and(|parts| is_learner_page(parts.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let hydrate = true;
    // In the shell rather than through leptos_meta, so the content-named
    // file is linked on every page, hydrated or not.
    #[cfg(feature = "ssr")]
    let stylesheet = assets::stylesheet_href();
    #[cfg(not(feature = "ssr"))]
    let stylesheet = "/pkg/muster.css";
    // The import wizard's file readers (a Web Worker of their own), on hydrated pages.
    #[cfg(feature = "ssr")]
    let engine = assets::engine_href().filter(|_| hydrate);
    #[cfg(not(feature = "ssr"))]
    let engine: Option<String> = None;
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(policy) = http::HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" id="leptos" href=stylesheet />
                {engine.map(|href| view! { <meta name="muster-engine" content=href /> })}
                {hydrate.then(|| view! {
                    <AutoReload options=options.clone() />
                    <HydrationScripts options />
                })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Muster" />
        <Router>
            <Routes fallback=|| view! { <pages::not_found::NotFound /> }>
                // Rendered whole on the server, so learners need no JavaScript.
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async />
                <Route path=path!("/join/:slug") view=pages::learner::join::JoinPage ssr=SsrMode::Async />
                <Route path=path!("/verify-email/:token") view=pages::learner::join::VerifyEmailPage ssr=SsrMode::Async />
                <Route path=path!("/activate/:token") view=ActivatePage ssr=SsrMode::Async />
                <Route path=path!("/confirm-email/:token") view=pages::learner::confirm_email::ConfirmEmailPage />
                <Route path=path!("/forgot-password") view=pages::learner::password::ForgotPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/reset-password/:token") view=pages::learner::password::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/account/password") view=pages::learner::password::ChangePasswordPage ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox") view=MailboxPage />
                <Route path=path!("/dev/mailbox/:id") view=MailboxMessagePage />
                <ParentRoute path=path!("/admin") view=AdminShell>
                    <Route path=path!("") view=GroupsPage />
                    <Route path=path!("groups") view=GroupsPage />
                    <Route path=path!("groups/:id") view=GroupDetailPage />
                    <Route path=path!("contracts") view=ContractsPage />
                    <Route path=path!("people") view=PeoplePage />
                    <Route path=path!("invitations") view=InvitationsPage />
                    <Route path=path!("imports") view=ImportsPage />
                    // Whole on the server too, so the wizard works without JavaScript.
                    <Route path=path!("imports/new") view=NewImportPage ssr=SsrMode::Async />
                    <Route path=path!("imports/:id") view=ImportPage ssr=SsrMode::Async />
                    <Route path=path!("join") view=pages::join_settings::JoinSettingsPage />
                    <Route path=path!("settings/activity") view=pages::activity::ActivityPage />
                    <Route path=path!("settings/api") view=pages::api_tokens::ApiTokensPage />
                    <Route path=path!("settings/webhooks") view=pages::webhooks::WebhooksPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
