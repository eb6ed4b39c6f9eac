use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
    tokio::select! {
        result = running.task => {
            if let Ok(Err(error)) = result {
                eprintln!("server stopped: {error}");
                return std::process::ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    std::process::ExitCode::SUCCESS
}
