//! `muster`: with no arguments (or `muster serve`) the server, configured by
//! environment variables; with a subcommand (`login`, `import`, `imports`,
//! `invitations`) the command-line client of a Muster server's `/api/v1`.

mod client;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    match client::Cli::parse().command {
        None | Some(client::Command::Serve) => serve(),
        Some(client::Command::Client(command)) => client::run(command),
    }
}

#[tokio::main]
async fn serve() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let config = match server::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let base_url = config.settings.base_url.clone();
    let running = match server::start(config).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("could not start Muster: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "Muster is serving at http://{} (links in emails use {base_url})",
        running.addr
    );
    match running.run_until(stop_requested()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server stopped: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// SIGTERM (service managers, containers) or Ctrl-C.
async fn stop_requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("stopping: finishing current work");
}
