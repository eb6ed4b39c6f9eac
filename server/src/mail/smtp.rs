//! The sender's SMTP connections: opened with TLS and authentication as
//! configured, and kept in a small pool between messages.

use std::time::{Duration, Instant};

use lettre::transport::smtp::{
    authentication::{Credentials, Mechanism},
    client::{AsyncSmtpConnection, TlsParameters},
    extension::ClientId,
};

use super::{Sender, SmtpConfig, TlsMode};

/// How long one SMTP exchange (connect, or one message) may take.
pub(super) const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// A pooled connection idle longer than this is checked with NOOP before use.
const IDLE_CHECK: Duration = Duration::from_secs(10);

impl Sender {
    /// A new SMTP connection: greeted, upgraded to TLS as configured,
    /// authenticated. Plain and STARTTLS connections set TCP_NODELAY: lettre
    /// writes a message and its final dot separately, and with Nagle's
    /// algorithm against a delayed ACK each message would wait ~40 ms.
    async fn connect(&self, smtp: &SmtpConfig) -> Result<AsyncSmtpConnection, String> {
        let hello = ClientId::default();
        let mut connection = match smtp.tls {
            TlsMode::Tls => {
                let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string())?;
                AsyncSmtpConnection::connect_tokio1(
                    (smtp.host.as_str(), smtp.port),
                    Some(SMTP_TIMEOUT),
                    &hello,
                    Some(tls),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?
            }
            TlsMode::None | TlsMode::StartTls => {
                let stream = tokio::time::timeout(
                    SMTP_TIMEOUT,
                    tokio::net::TcpStream::connect((smtp.host.as_str(), smtp.port)),
                )
                .await
                .map_err(|_| "connection timed out".to_owned())?
                .map_err(|e| format!("could not connect to {}:{}: {e}", smtp.host, smtp.port))?;
                let _ = stream.set_nodelay(true);
                let mut connection = tokio::time::timeout(
                    SMTP_TIMEOUT,
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
                )
                .await
                .map_err(|_| "greeting timed out".to_owned())?
                .map_err(|e| e.to_string())?;
                if smtp.tls == TlsMode::StartTls {
                    let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string())?;
                    connection
                        .starttls(tls, &hello)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                connection
            }
        };
        if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
            connection
                .auth(
                    &[Mechanism::Plain, Mechanism::Login],
                    &Credentials::new(username.clone(), password.clone()),
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(connection)
    }

    /// An idle connection that still answers, or a new one.
    pub(super) async fn checkout(&self, smtp: &SmtpConfig) -> Result<AsyncSmtpConnection, String> {
        loop {
            let idle = self.idle.lock().expect("smtp pool poisoned").pop();
            match idle {
                None => return self.connect(smtp).await,
                Some((connection, since)) if since.elapsed() < IDLE_CHECK => return Ok(connection),
                Some((mut connection, _)) => {
                    if connection.test_connected().await {
                        return Ok(connection);
                    }
                    connection.abort().await;
                }
            }
        }
    }

    pub(super) fn checkin(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().expect("smtp pool poisoned");
        if idle.len() < self.config.concurrency.max(1) {
            idle.push((connection, Instant::now()));
        }
    }
}
