//! Configuration from environment variables (see the README's table).

use std::net::SocketAddr;

use app::{
    limits::{Limit, Limits},
    state::Settings,
};

use crate::{
    client_addr::TrustedProxies,
    mail::{DkimSettings, MailConfig, SmtpConfig, TlsMode},
};
use leptos::prelude::LeptosOptions;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub settings: Settings,
    pub leptos_options: LeptosOptions,
    pub mail: MailConfig,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    pub imports: app::imports::worker::WorkerConfig,
    /// How often this process looks for due invitation reminders
    /// (`MUSTER_REMINDER_SWEEP_SECONDS`).
    pub reminder_sweep: std::time::Duration,
    /// The webhook sender's retries and address rule (`MUSTER_WEBHOOK_*`).
    pub webhooks: crate::webhooks::WebhookConfig,
    /// Seals links' tokens in outbox intents and the dev mailbox's bodies (see `app::mail::seal`).
    pub secret_key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not a valid socket address: {value:?}")]
    BadAddress { name: &'static str, value: String },
    #[error("MUSTER_BASE_URL must start with http:// or https://, got {0:?}")]
    BadBaseUrl(String),
    #[error("{name} must be true or false, got {value:?}")]
    BadFlag { name: &'static str, value: String },
    #[error("{name} must be a whole number, got {value:?}")]
    BadNumber { name: &'static str, value: String },
    #[error("MUSTER_TRUSTED_PROXIES must list IP addresses or CIDR blocks, got {0:?}")]
    BadProxy(String),
    #[error("MUSTER_SMTP_TLS must be none, starttls or tls, got {0:?}")]
    BadTls(String),
    #[error(
        "MUSTER_OPEN_SIGNUP=true needs MUSTER_SMTP_HOST: without SMTP every email lands in the \
         dev mailbox, which is for one organization's development only (with several \
         organizations one admin could read links meant for another's people). Set \
         MUSTER_SMTP_HOST, or turn MUSTER_OPEN_SIGNUP off"
    )]
    DevMailboxWithOpenSignup,
    #[error("MUSTER_SECRET_KEY must be 64 hexadecimal digits (32 bytes)")]
    BadSecretKey,
    #[error(
        "MUSTER_SECRET_KEY is required with PostgreSQL: every process sharing the database \
         must seal and open email links with the same key, kept outside the database \
         (make one with: openssl rand -hex 32)"
    )]
    SecretKeyRequired,
    #[error(
        "DKIM signing needs MUSTER_DKIM_SELECTOR, MUSTER_DKIM_DOMAIN and \
         MUSTER_DKIM_PRIVATE_KEY_FILE together (or none of them); missing: {}",
        .0.join(", ")
    )]
    DkimIncomplete(Vec<&'static str>),
    #[error("could not read MUSTER_DKIM_PRIVATE_KEY_FILE {path}: {source}")]
    DkimKeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("MUSTER_DKIM_PRIVATE_KEY_FILE {path}: {reason}")]
    DkimKey { path: String, reason: String },
    #[error("{name} must be a DNS name (letters, digits, hyphens, dots), got {value:?}")]
    DkimName { name: &'static str, value: String },
    #[error("could not read or create the secret key file {path}: {source}")]
    SecretKeyFile {
        path: String,
        source: std::io::Error,
    },
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
        let bind_name = if get("MUSTER_BIND").is_some() {
            "MUSTER_BIND"
        } else {
            "LEPTOS_SITE_ADDR"
        };
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
        let output_name = get("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "muster".to_owned());
        // Only when cargo-leptos wrote the hash file: Leptos would otherwise
        // link names that do not exist (or panic reading the file).
        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned());
        let site_pkg_dir = get("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".to_owned());
        let hash_files = app::assets::load(
            &output_name,
            "hash.txt",
            &std::path::Path::new(&site_root).join(&site_pkg_dir),
        )
        .hashed();
        let leptos_options = LeptosOptions::builder()
            .output_name(output_name)
            .hash_files(hash_files)
            .site_root(site_root)
            .site_pkg_dir(site_pkg_dir)
            .site_addr(bind)
            .reload_port(
                get("LEPTOS_RELOAD_PORT")
                    .and_then(|port| port.parse().ok())
                    .unwrap_or(3001),
            )
            .build();
        let mail = mail_config(&get, &base_url)?;
        if open_signup && mail.smtp.is_none() {
            return Err(ConfigError::DevMailboxWithOpenSignup);
        }
        let limits = limits(&get)?;
        let trusted_proxies =
            TrustedProxies::parse(&get("MUSTER_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(ConfigError::BadProxy)?;
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let secret_key = secret_key(&get, &database_url)?;
        let webhooks = webhook_config(&get)?;
        Ok(Config {
            database_url,
            secret_key,
            bind,
            settings: Settings {
                base_url,
                open_signup,
                limits,
                session_idle_secs: number(&get, "MUSTER_SESSION_IDLE_MINUTES", 12 * 60_i64)?.max(1)
                    * 60,
                session_lifetime_secs: number(&get, "MUSTER_SESSION_DAYS", 14_i64)?.max(1) * 86_400,
                dev_mailbox: mail.smtp.is_none(),
                webhooks_allow_private: webhooks.allow_private,
            },
            webhooks,
            leptos_options,
            mail,
            trusted_proxies,
            imports: import_worker(&get)?,
            reminder_sweep: std::time::Duration::from_secs(
                number(&get, "MUSTER_REMINDER_SWEEP_SECONDS", 60_u64)?.clamp(1, 86_400),
            ),
        })
    }
}

/// `MUSTER_WEBHOOK_*`: the sender's retries, and whether endpoints may be
/// on private networks.
fn webhook_config(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<crate::webhooks::WebhookConfig, ConfigError> {
    let defaults = crate::webhooks::WebhookConfig::default();
    Ok(crate::webhooks::WebhookConfig {
        max_attempts: number(get, "MUSTER_WEBHOOK_MAX_ATTEMPTS", defaults.max_attempts)?.max(1),
        retry_base_secs: number(
            get,
            "MUSTER_WEBHOOK_RETRY_SECONDS",
            defaults.retry_base_secs,
        )?
        .max(1),
        allow_private: flag(get, "MUSTER_WEBHOOK_ALLOW_PRIVATE", false)?,
        ..defaults
    })
}

/// `MUSTER_SECRET_KEY`; without it, for a SQLite file, a key kept in a file
/// beside the database (`….db.key`, created on first start, readable by
/// this user only), so the embedded default needs no setting and a copy of
/// the database alone opens no link.
fn secret_key(
    get: &impl Fn(&str) -> Option<String>,
    database_url: &str,
) -> Result<[u8; 32], ConfigError> {
    if let Some(value) = get("MUSTER_SECRET_KEY").filter(|v| !v.trim().is_empty()) {
        return app::mail::seal::parse_key(&value).ok_or(ConfigError::BadSecretKey);
    }
    let Some(path) = database_url.strip_prefix("sqlite://") else {
        return Err(ConfigError::SecretKeyRequired);
    };
    let path = format!("{}.key", path.split('?').next().unwrap_or(path));
    let file_error = |source| ConfigError::SecretKeyFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) => app::mail::seal::parse_key(&existing).ok_or(ConfigError::BadSecretKey),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = std::path::Path::new(&path).parent() {
                std::fs::create_dir_all(dir).map_err(file_error)?;
            }
            let key = app::mail::seal::new_key();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            use std::io::Write;
            options
                .open(&path)
                .and_then(|mut file| file.write_all(hex::encode(key).as_bytes()))
                .map_err(file_error)?;
            Ok(key)
        }
        Err(error) => Err(file_error(error)),
    }
}

/// Every rate limit: `{PREFIX}_BURST` attempts at once, then one more every
/// `{PREFIX}_REFILL_SECONDS`.
fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let limit = |[burst, refill]: [&'static str; 2], default: Limit| {
        Ok::<_, ConfigError>(Limit {
            burst: number(get, burst, default.burst)?.max(1),
            refill_secs: number(get, refill, default.refill_secs)?.max(1),
        })
    };
    Ok(Limits {
        account: limit(
            ["MUSTER_ACCOUNT_BURST", "MUSTER_ACCOUNT_REFILL_SECONDS"],
            defaults.account,
        )?,
        client: limit(
            ["MUSTER_CLIENT_BURST", "MUSTER_CLIENT_REFILL_SECONDS"],
            defaults.client,
        )?,
        link: limit(
            ["MUSTER_LINK_BURST", "MUSTER_LINK_REFILL_SECONDS"],
            defaults.link,
        )?,
        reset_email: limit(
            [
                "MUSTER_RESET_EMAIL_BURST",
                "MUSTER_RESET_EMAIL_REFILL_SECONDS",
            ],
            defaults.reset_email,
        )?,
        join_client: limit(
            [
                "MUSTER_JOIN_ADDRESS_BURST",
                "MUSTER_JOIN_ADDRESS_REFILL_SECONDS",
            ],
            defaults.join_client,
        )?,
        join_organization: limit(
            [
                "MUSTER_JOIN_ORGANIZATION_BURST",
                "MUSTER_JOIN_ORGANIZATION_REFILL_SECONDS",
            ],
            defaults.join_organization,
        )?,
        api_token: limit(
            ["MUSTER_API_TOKEN_BURST", "MUSTER_API_TOKEN_REFILL_SECONDS"],
            defaults.api_token,
        )?,
    })
}

/// The import worker's batch size and lease; the defaults suit most deployments.
fn import_worker(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<app::imports::worker::WorkerConfig, ConfigError> {
    let defaults = app::imports::worker::WorkerConfig::default();
    Ok(app::imports::worker::WorkerConfig {
        batch_size: number(get, "MUSTER_IMPORT_BATCH_SIZE", defaults.batch_size)?.clamp(1, 10_000),
        lease_secs: number(get, "MUSTER_IMPORT_LEASE_SECONDS", defaults.lease_secs)?.max(2),
        workers: number(get, "MUSTER_IMPORT_WORKERS", defaults.workers)?.clamp(0, 16),
        // Two: the batches of one import use both cores of a small machine's
        // PostgreSQL (the worker's own default, one, is for tests that count
        // batches). SQLite ignores it.
        lanes: number(get, "MUSTER_IMPORT_LANES", 2)?.clamp(1, 8),
        ..defaults
    })
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(value) => value.parse().map_err(|_| ConfigError::BadNumber {
            name,
            value: value.to_owned(),
        }),
    }
}

/// SMTP and the sender's pace; with no `MUSTER_SMTP_HOST`, mail goes to the dev mailbox.
fn mail_config(
    get: &impl Fn(&str) -> Option<String>,
    base_url: &str,
) -> Result<MailConfig, ConfigError> {
    let mut mail = MailConfig::dev_mailbox(base_url);
    let host = get("MUSTER_SMTP_HOST")
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty());
    if let Some(host) = host {
        let tls = match get("MUSTER_SMTP_TLS")
            .as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("starttls") => TlsMode::StartTls,
            Some("none") => TlsMode::None,
            Some("tls") => TlsMode::Tls,
            Some(other) => return Err(ConfigError::BadTls(other.to_owned())),
        };
        let default_port = match tls {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        };
        mail.smtp = Some(SmtpConfig {
            host,
            port: number(get, "MUSTER_SMTP_PORT", default_port)?,
            tls,
            username: get("MUSTER_SMTP_USERNAME").filter(|v| !v.is_empty()),
            password: get("MUSTER_SMTP_PASSWORD").filter(|v| !v.is_empty()),
        });
    }
    if let Some(from) = get("MUSTER_SMTP_FROM").filter(|v| !v.trim().is_empty()) {
        mail.from = from.trim().to_owned();
    }
    mail.deliver = flag(get, "MUSTER_MAIL_SENDER", true)?;
    mail.per_minute = number(get, "MUSTER_MAIL_PER_MINUTE", 0)?;
    mail.per_domain_per_minute = number(get, "MUSTER_MAIL_PER_DOMAIN_PER_MINUTE", 0)?;
    mail.max_attempts = number(get, "MUSTER_MAIL_MAX_ATTEMPTS", mail.max_attempts)?.max(1);
    mail.retry_base_secs = number(get, "MUSTER_MAIL_RETRY_SECONDS", mail.retry_base_secs)?.max(1);
    mail.lease_secs = number(get, "MUSTER_MAIL_LEASE_SECONDS", mail.lease_secs)?.max(5);
    mail.concurrency = number(get, "MUSTER_MAIL_CONCURRENCY", mail.concurrency)?.clamp(1, 256);
    mail.dkim = dkim(get)?;
    Ok(mail)
}

/// `MUSTER_DKIM_*`: all three, or none (no signing).
fn dkim(get: &impl Fn(&str) -> Option<String>) -> Result<Option<DkimSettings>, ConfigError> {
    const NAMES: [&str; 3] = [
        "MUSTER_DKIM_SELECTOR",
        "MUSTER_DKIM_DOMAIN",
        "MUSTER_DKIM_PRIVATE_KEY_FILE",
    ];
    let values = NAMES.map(|name| {
        get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    });
    let missing: Vec<&'static str> = NAMES
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    let [Some(selector), Some(domain), Some(path)] = values else {
        return if missing.len() == NAMES.len() {
            Ok(None)
        } else {
            Err(ConfigError::DkimIncomplete(missing))
        };
    };
    // Both go into a DNS name and the signature's tags, where a space or a
    // semicolon would break the header.
    for (name, value) in [(NAMES[0], &selector), (NAMES[1], &domain)] {
        let dns_name = value.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !dns_name {
            return Err(ConfigError::DkimName {
                name,
                value: value.clone(),
            });
        }
    }
    let pem = std::fs::read_to_string(&path).map_err(|source| ConfigError::DkimKeyFile {
        path: path.clone(),
        source,
    })?;
    DkimSettings::new(&selector, &domain.to_ascii_lowercase(), &pem)
        .map(Some)
        .map_err(|reason| ConfigError::DkimKey { path, reason })
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/mail/testdata/rsa_pkcs8.pem"
    );

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| match name {
            // A key in the environment: no key file is written beside a database.
            "MUSTER_SECRET_KEY" => Some("00".repeat(32)),
            _ => vars
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned()),
        })
    }

    #[test]
    fn dkim_is_off_without_its_variables_and_on_with_all_three() {
        assert!(config(&[]).unwrap().mail.dkim.is_none());
        let on = config(&[
            ("MUSTER_DKIM_SELECTOR", "mail2026"),
            ("MUSTER_DKIM_DOMAIN", "Muster.Example.org"),
            ("MUSTER_DKIM_PRIVATE_KEY_FILE", KEY),
        ])
        .unwrap();
        let dkim = on.mail.dkim.unwrap();
        assert_eq!(
            (dkim.selector.as_str(), dkim.domain.as_str()),
            ("mail2026", "muster.example.org")
        );
    }

    #[test]
    fn dkim_needs_all_three_variables() {
        let error = config(&[("MUSTER_DKIM_SELECTOR", "mail2026")]).unwrap_err();
        assert!(
            matches!(&error, ConfigError::DkimIncomplete(missing)
                if missing == &["MUSTER_DKIM_DOMAIN", "MUSTER_DKIM_PRIVATE_KEY_FILE"]),
            "{error:?}"
        );
        assert!(error
            .to_string()
            .ends_with("missing: MUSTER_DKIM_DOMAIN, MUSTER_DKIM_PRIVATE_KEY_FILE"));
        let error = config(&[
            ("MUSTER_DKIM_DOMAIN", "muster.example.org"),
            ("MUSTER_DKIM_PRIVATE_KEY_FILE", KEY),
            ("MUSTER_DKIM_SELECTOR", " "),
        ])
        .unwrap_err();
        assert!(
            matches!(&error, ConfigError::DkimIncomplete(missing) if missing == &["MUSTER_DKIM_SELECTOR"]),
            "{error:?}"
        );
    }

    #[test]
    fn dkim_refuses_a_missing_file_a_bad_key_and_bad_names() {
        let with = |selector: &str, domain: &str, file: &str| {
            config(&[
                ("MUSTER_DKIM_SELECTOR", selector),
                ("MUSTER_DKIM_DOMAIN", domain),
                ("MUSTER_DKIM_PRIVATE_KEY_FILE", file),
            ])
            .unwrap_err()
        };
        let error = with("mail", "muster.example.org", "/nonexistent/dkim.pem");
        assert!(
            matches!(&error, ConfigError::DkimKeyFile { path, .. } if path == "/nonexistent/dkim.pem"),
            "{error:?}"
        );
        // A file that is not a private key (this source file).
        let error = with(
            "mail",
            "muster.example.org",
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/config.rs"),
        );
        assert!(
            matches!(&error, ConfigError::DkimKey { reason, .. } if reason.contains("expected a PEM private key")),
            "{error:?}"
        );
        let error = with("mail; x=1", "muster.example.org", KEY);
        assert!(
            matches!(
                &error,
                ConfigError::DkimName {
                    name: "MUSTER_DKIM_SELECTOR",
                    ..
                }
            ),
            "{error:?}"
        );
        let error = with("mail", "muster..org", KEY);
        assert!(
            matches!(
                &error,
                ConfigError::DkimName {
                    name: "MUSTER_DKIM_DOMAIN",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
