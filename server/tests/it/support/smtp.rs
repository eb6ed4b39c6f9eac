//! A tiny SMTP server on loopback that records what it receives, so tests
//! assert on real SMTP delivery. It can be stopped and started again on the
//! same port to play "SMTP down, then up".

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use server::mail::{MailConfig, SmtpConfig, TlsMode};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

impl Received {
    /// A header's value (first occurrence, unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
        value
    }
}

/// Queues `count` invitation-sized emails to distinct learners, due now.
pub async fn queue_invitation_emails(db: &app::db::Db, count: usize) {
    let addresses: Vec<String> = (0..count)
        .map(|i| format!("learner{i}@example.org"))
        .collect();
    queue_invitation_emails_to(db, &addresses).await;
}

/// Queues one invitation-sized email to each address, due now.
pub async fn queue_invitation_emails_to(db: &app::db::Db, addresses: &[String]) {
    let text = "Hello,\n\nAda has invited you to join Spring Cohort at Riverside on Muster.\n\nhttp://muster.test/invite/0123456789abcdef\n".repeat(3);
    let html = format!(
        "<!DOCTYPE html><html><body><p>{}</p></body></html>",
        text.replace('\n', "<br>")
    );
    let mut tx = db.pool.begin().await.unwrap();
    for address in addresses {
        sqlx::query(
            "INSERT INTO outbox (to_email, subject, text_body, html_body, kind, status, attempts, next_attempt_at, created_at)
             VALUES ($1, 'Riverside invites you to join Spring Cohort', $2, $3, 'invitation', 'queued', 0, 0, 1)",
        )
        .bind(address)
        .bind(&text)
        .bind(&html)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

pub type Inbox = Arc<Mutex<Vec<Received>>>;

/// Recipients the sink refuses at `RCPT TO` with a permanent answer, as a
/// mail server does for a mailbox it does not know (lowercase addresses).
pub type Refused = Arc<Mutex<HashSet<String>>>;

/// What the sink answers a refused recipient.
pub const MAILBOX_UNKNOWN: &str = "550 5.1.1 mailbox unknown";

pub struct SmtpSink {
    pub addr: SocketAddr,
    pub inbox: Inbox,
    refused: Refused,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on("127.0.0.1:0".parse().unwrap(), Inbox::default()).await
    }

    /// Listens on `addr` (e.g. the port of a sink stopped earlier), adding to `inbox`.
    pub async fn start_on(addr: SocketAddr, inbox: Inbox) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().unwrap();
        let shared = inbox.clone();
        let refused = Refused::default();
        let refusing = refused.clone();
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(serve(stream, shared.clone(), refusing.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        SmtpSink {
            addr,
            inbox,
            refused,
            task,
        }
    }

    /// From now on, answers `RCPT TO:<address>` with [`MAILBOX_UNKNOWN`].
    pub fn refuse(&self, address: &str) {
        self.refused
            .lock()
            .unwrap()
            .insert(address.to_ascii_lowercase());
    }

    /// Accepts `address` again.
    pub fn accept(&self, address: &str) {
        self.refused
            .lock()
            .unwrap()
            .remove(&address.to_ascii_lowercase());
    }

    /// Closes the port and every open connection.
    pub async fn stop(self) -> (SocketAddr, Inbox) {
        self.task.abort();
        let _ = self.task.await;
        (self.addr, self.inbox)
    }

    /// The sender's settings for delivering to this sink (throttle as by default).
    pub fn mail_config(&self) -> MailConfig {
        let mut config = MailConfig::dev_mailbox(super::BASE_URL);
        config.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.addr.port(),
            tls: TlsMode::None,
            username: None,
            password: None,
        });
        config
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }
}

async fn serve(stream: TcpStream, inbox: Inbox, refused: Refused) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 sink.test ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = command[10..].trim().to_owned();
            rcpt_to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let to = command[8..].trim().to_owned();
            let address = to
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if refused.lock().unwrap().contains(&address) {
                let answer = format!("{MAILBOX_UNKNOWN}\r\n");
                if write.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            rcpt_to.push(to);
            b"250 OK\r\n"
        } else if upper == "DATA" {
            if write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(unstuffed);
            }
            inbox.lock().unwrap().push(Received {
                mail_from: mail_from.clone(),
                rcpt_to: std::mem::take(&mut rcpt_to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper == "RSET" {
            rcpt_to.clear();
            b"250 OK\r\n"
        } else if upper == "NOOP" {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"502 Command not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
