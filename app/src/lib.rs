//! Components, pages and server functions shared by the browser and the server.
// The import wizard's view is one deep type; laying out its asynchronous hydration
// (the lazy routes hydrate asynchronously) needs more than the default 128 levels.
#![recursion_limit = "256"]

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
pub mod server_data;
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
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use pages::{
    activity::ActivityPage,
    admin_shell::AdminShell,
    api_tokens::ApiTokensPage,
    contracts::ContractsPage,
    group_detail::GroupDetailPage,
    groups::GroupsPage,
    home::HomePage,
    import_wizard::NewImportPage,
    imports::{ImportPage, ImportsPage},
    invitations::InvitationsPage,
    join_settings::JoinSettingsPage,
    learner::{
        activate::ActivatePage,
        confirm_email::ConfirmEmailPage,
        invite::InvitePage,
        join::{JoinPage, VerifyEmailPage},
        password::{ChangePasswordPage, ForgotPasswordPage, ResetPasswordPage},
    },
    login::LoginPage,
    mailbox::{MailboxMessagePage, MailboxPage},
    people::PeoplePage,
    webhooks::WebhooksPage,
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

/// Every page is a split point of its own: `cargo leptos build --split` moves each page's
/// code out of the page bundle into a module that the router fetches when the page is
/// first shown (code that several pages share goes into modules of its own, fetched once),
/// so an admin's first visit downloads the router, the admin frame and the page at hand,
/// not every page. Grouping pages (by admin area, or the sign-in pages together) was
/// measured on release builds and did not fetch fewer bytes or modules for the groups page,
/// and made the login page, the first page anyone sees, heavier. The learner pages are never
/// hydrated (they ship no WebAssembly), so their modules are never fetched at all.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    HomeRoute => HomePage,
    LoginRoute => LoginPage,
    InviteRoute => InvitePage,
    JoinRoute => JoinPage,
    VerifyEmailRoute => VerifyEmailPage,
    ActivateRoute => ActivatePage,
    ConfirmEmailRoute => ConfirmEmailPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    ChangePasswordRoute => ChangePasswordPage,
    MailboxRoute => MailboxPage,
    MailboxMessageRoute => MailboxMessagePage,
    GroupsRoute => GroupsPage,
    GroupDetailRoute => GroupDetailPage,
    ContractsRoute => ContractsPage,
    PeopleRoute => PeoplePage,
    InvitationsRoute => InvitationsPage,
    ImportsRoute => ImportsPage,
    NewImportRoute => NewImportPage,
    ImportRoute => ImportPage,
    JoinSettingsRoute => JoinSettingsPage,
    ActivityRoute => ActivityPage,
    ApiTokensRoute => ApiTokensPage,
    WebhooksRoute => WebhooksPage,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Muster" />
        <Router>
            <Routes fallback=|| view! { <pages::not_found::NotFound /> }>
                // Rendered whole on the server, so learners need no JavaScript.
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <Route path=path!("/invite/:token") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/join/:slug") view={Lazy::<JoinRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/verify-email/:token") view={Lazy::<VerifyEmailRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/activate/:token") view={Lazy::<ActivateRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/confirm-email/:token") view={Lazy::<ConfirmEmailRoute>::new()} />
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/reset-password/:token") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/account/password") view={Lazy::<ChangePasswordRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox") view={Lazy::<MailboxRoute>::new()} />
                <Route path=path!("/dev/mailbox/:id") view={Lazy::<MailboxMessageRoute>::new()} />
                <ParentRoute path=path!("/admin") view=AdminShell>
                    <Route path=path!("") view={Lazy::<GroupsRoute>::new()} />
                    <Route path=path!("groups") view={Lazy::<GroupsRoute>::new()} />
                    <Route path=path!("groups/:id") view={Lazy::<GroupDetailRoute>::new()} />
                    <Route path=path!("contracts") view={Lazy::<ContractsRoute>::new()} />
                    <Route path=path!("people") view={Lazy::<PeopleRoute>::new()} />
                    <Route path=path!("invitations") view={Lazy::<InvitationsRoute>::new()} />
                    <Route path=path!("imports") view={Lazy::<ImportsRoute>::new()} />
                    // Whole on the server too, so the wizard works without JavaScript.
                    <Route path=path!("imports/new") view={Lazy::<NewImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("imports/:id") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("join") view={Lazy::<JoinSettingsRoute>::new()} />
                    <Route path=path!("settings/activity") view={Lazy::<ActivityRoute>::new()} />
                    <Route path=path!("settings/api") view={Lazy::<ApiTokensRoute>::new()} />
                    <Route path=path!("settings/webhooks") view={Lazy::<WebhooksRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
