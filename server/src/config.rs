//! Configuration from environment variables (see the README's table).

use std::net::SocketAddr;

use app::state::Settings;
use leptos::prelude::LeptosOptions;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub settings: Settings,
    pub leptos_options: LeptosOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not a valid socket address: {value:?}")]
    BadAddress { name: &'static str, value: String },
    #[error("MUSTER_BASE_URL must start with http:// or https://, got {0:?}")]
    BadBaseUrl(String),
    #[error("{name} must be true or false, got {value:?}")]
    BadFlag { name: &'static str, value: String },
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/muster.db";

impl Config {
    /// Reads the process environment. cargo-leptos sets the `LEPTOS_*`
    /// variables when it runs the server; without them the built site is
    /// looked for in `target/site`.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let bind_name = if get("MUSTER_BIND").is_some() { "MUSTER_BIND" } else { "LEPTOS_SITE_ADDR" };
        let bind_value = get(bind_name).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let bind: SocketAddr = bind_value.parse().map_err(|_| ConfigError::BadAddress {
            name: bind_name,
            value: bind_value.clone(),
        })?;
        let base_url = get("MUSTER_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::BadBaseUrl(base_url));
        }
        let open_signup = flag(&get, "MUSTER_OPEN_SIGNUP", false)?;
        let leptos_options = LeptosOptions::builder()
            .output_name(get("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "muster".to_owned()))
            .site_root(get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()))
            .site_pkg_dir(get("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".to_owned()))
            .site_addr(bind)
            .reload_port(get("LEPTOS_RELOAD_PORT").and_then(|port| port.parse().ok()).unwrap_or(3001))
            .build();
        Ok(Config {
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            bind,
            settings: Settings {
                base_url,
                open_signup,
                login_max_failures: 10,
                login_window_secs: 15 * 60,
            },
            leptos_options,
        })
    }
}

fn flag(get: &impl Fn(&str) -> Option<String>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::BadFlag {
            name,
            value: other.to_owned(),
        }),
    }
}
