//! The sender's settings, and the names it gives messages.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP (a relay on localhost or a test server).
    None,
    /// Upgrade with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Whether this process delivers the outbox (`MUSTER_MAIL_SENDER`); a
    /// deployment may leave delivery to some of its processes.
    pub deliver: bool,
    /// `None`: deliver into the dev mailbox.
    pub smtp: Option<SmtpConfig>,
    /// The From header, e.g. `Muster <no-reply@example.org>`.
    pub from: String,
    /// Messages per minute for this process; 0 means no throttle.
    pub per_minute: u32,
    /// Messages per minute to any one recipient domain, for this process; 0
    /// means no limit. For providers that limit per sending server.
    pub per_domain_per_minute: u32,
    /// After this many failed attempts a message is marked failed.
    pub max_attempts: i64,
    /// The first retry waits this long, each further one twice as long (capped at a day).
    pub retry_base_secs: i64,
    /// Rows claimed at once.
    pub batch: i64,
    /// Messages in flight at once (and pooled SMTP connections).
    pub concurrency: usize,
    /// How long a claim holds a row; longer than any SMTP exchange.
    pub lease_secs: i64,
    /// How often to look for due rows when nothing wakes the sender.
    pub poll: Duration,
    /// The domain in Message-IDs.
    pub message_id_domain: String,
    /// Signs every message when set (`MUSTER_DKIM_*`).
    pub dkim: Option<super::DkimSettings>,
}

impl MailConfig {
    pub fn dev_mailbox(base_url: &str) -> MailConfig {
        let domain = domain_of(base_url);
        MailConfig {
            deliver: true,
            smtp: None,
            from: format!("Muster <no-reply@{domain}>"),
            per_minute: 0,
            per_domain_per_minute: 0,
            max_attempts: 8,
            retry_base_secs: 30,
            batch: 100,
            concurrency: 8,
            lease_secs: 300,
            poll: Duration::from_secs(1),
            message_id_domain: domain,
            dkim: None,
        }
    }
}

/// The host of a URL, for default From addresses and Message-IDs.
pub fn domain_of(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(base_url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map(|(_, host)| host)
        .unwrap_or(authority);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or(host)
            .trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host.is_empty() {
        "localhost".to_owned()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The Message-ID of an outbox row: the same on every attempt, so a receiver
/// can recognize a message that a crash made us send twice.
pub fn message_id(id: i64, created_at: i64, domain: &str) -> String {
    format!("<muster.{id}.{created_at}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_come_from_the_base_url() {
        assert_eq!(
            domain_of("https://Muster.Example.org/app"),
            "muster.example.org"
        );
        assert_eq!(domain_of("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(domain_of("http://[::1]:3000"), "::1");
        assert_eq!(domain_of("http://"), "localhost");
    }

    #[test]
    fn message_ids_are_stable_per_row() {
        assert_eq!(
            message_id(42, 1_700_000_000, "m.test"),
            "<muster.42.1700000000@m.test>"
        );
    }
}
