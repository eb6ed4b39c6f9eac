#![recursion_limit = "256"]
//! The Muster server: configuration, the router and the background workers
//! (the outbox sender, the import workers), started and stopped from one place
//! so tests run exactly what production runs.

pub mod api;
mod client_addr;
mod config;
mod csrf;
pub mod guard;
mod leased;
pub mod mail;
pub mod scim;
pub mod webhooks;
pub mod workers;

use std::{net::SocketAddr, sync::Arc};
use tower_http::compression::Predicate as _;

use app::{db::Db, state::AppState};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use client_addr::TrustedProxies;
pub use config::{Config, ConfigError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] app::db::DbError),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error(transparent)]
    SecretKey(#[from] app::mail::seal::SealError),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server that is accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    /// The HTTP server; it ends by itself only if serving fails.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: workers::Workers,
}

impl Running {
    /// Serves until `signal` (or until serving fails), then stops gracefully.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        tokio::select! {
            served = &mut self.server => {
                self.workers.stop(workers::GRACE).await;
                served.map_err(std::io::Error::other)?
            }
            () = signal => self.stop().await,
        }
    }

    /// Stops gracefully: no new connections, requests in flight answered, the
    /// workers' current batches finished or released (see [`workers::Workers::stop`]).
    pub async fn stop(self) -> std::io::Result<()> {
        // One signal stops the HTTP server and the workers together.
        self.workers.stop(workers::GRACE).await;
        match tokio::time::timeout(workers::GRACE, self.server).await {
            Ok(served) => served.map_err(std::io::Error::other)?,
            Err(_) => {
                tracing::warn!("open connections did not close within {:?}", workers::GRACE);
                Ok(())
            }
        }
    }
}

pub async fn build_state(config: &Config) -> Result<AppState, StartError> {
    app::mail::seal::install(config.secret_key)?;
    let db = Db::connect(&config.database_url).await?;
    Ok(AppState {
        leptos_options: config.leptos_options.clone(),
        db,
        settings: Arc::new(config.settings.clone()),
    })
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context_state = state.clone();
    Router::new()
        .route(
            "/admin/imports/upload",
            axum::routing::post(app::imports::form::upload),
        )
        .route(
            "/admin/imports/{id}/failed.csv",
            axum::routing::get(app::imports::form::failed_rows),
        )
        .route(
            "/admin/settings/activity.csv",
            axum::routing::get(app::audit::form::csv),
        )
        .route(
            "/admin/imports/template/{file}",
            axum::routing::get(app::imports::form::template),
        )
        .route(
            "/invite/{token}/respond",
            axum::routing::post(app::invitations::form::respond),
        )
        .route(
            "/activate/{token}/respond",
            axum::routing::post(app::activation::form::respond),
        )
        .route(
            "/join/{slug}/submit",
            axum::routing::post(app::join::form::submit),
        )
        .route(
            "/verify-email/{token}/confirm",
            axum::routing::post(app::join::form::confirm_handler),
        )
        .route(
            "/confirm-email/{token}/confirm",
            axum::routing::post(app::auth::form::confirm_email),
        )
        .route(
            "/forgot-password/send",
            axum::routing::post(app::auth::form::forgot),
        )
        .route(
            "/reset-password/{token}/respond",
            axum::routing::post(app::auth::form::reset),
        )
        .route(
            "/account/password/change",
            axum::routing::post(app::auth::form::change),
        )
        // The built bundle, with the brotli or gzip copies scripts/compress-assets
        // made at build time when the browser accepts them.
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            tower_http::services::ServeDir::new(format!(
                "{}/{}",
                state.leptos_options.site_root, state.leptos_options.site_pkg_dir
            ))
            .precompressed_br()
            .precompressed_gzip(),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                // The page's Content-Security-Policy names this nonce (see app::shell).
                leptos::nonce::provide_nonce();
            },
            {
                let options = state.leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        // guard::limit_body has already bounded every body by its route.
        .layer(axum::extract::DefaultBodyLimit::max(
            guard::IMPORT_BODY_LIMIT,
        ))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.clone(),
            csrf::same_origin_only,
        ))
        // After the same-origin check, which is for cookies: the API reads
        // no cookie, only its bearer token.
        .nest("/api/v1", api::router())
        .nest("/scim/v2", scim::router())
        .layer(axum::middleware::from_fn(guard::limit_body))
        // Pages and server function answers in brotli or gzip, as the
        // browser accepts. Not the built bundle: compressing 25 MB of debug
        // wasm took 1.6–1.9 s on every request (even at level 4), which
        // delayed every page's hydration; built assets need compressing
        // once, at build time, instead.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(tower_http::CompressionLevel::Precise(4))
                .compress_when(
                    tower_http::compression::DefaultPredicate::new()
                        .and(
                            tower_http::compression::predicate::NotForContentType::const_new(
                                "application/wasm",
                            ),
                        )
                        .and(
                            tower_http::compression::predicate::NotForContentType::const_new(
                                "text/javascript",
                            ),
                        ),
                ),
        )
        .layer(axum::middleware::from_fn(guard::cache_control))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.secure_cookies(),
            guard::security_headers,
        ))
        .with_state(state)
}

/// Connects, migrates, binds and serves in the background.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let state = build_state(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let (trigger, shutdown) = app::state::Shutdown::new();
    let workers = workers::Workers::start(
        &state,
        config.mail.clone(),
        config.webhooks.clone(),
        &config.imports,
        config.reminder_sweep,
        trigger,
        shutdown.clone(),
    )?;
    let app = router(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            config.trusted_proxies.clone(),
            client_addr::client_address,
        ))
        .layer(axum::middleware::from_fn_with_state(
            guard::AllowedHosts::new(&config.settings.base_url, addr),
            guard::known_host,
        ));
    let mut stopping = shutdown;
    // The peer address is where the rate limits' client address starts.
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stopping.requested().await })
        .await
    });
    Ok(Running {
        addr,
        state,
        server,
        workers,
    })
}
