//! Where one person's email stands, as admins read it beside an invitation
//! or an import row, and the counts an import's page and finished email give.

use serde::{Deserialize, Serialize};

use super::OutboxStatus;
use crate::{error::AppError, pages::thousands};

/// One person's latest email, derived from its outbox row where the
/// database is read (see [`DeliveryState::from_outbox`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// No email was queued for it (emails off, or not a row that emails).
    None,
    /// Waiting for the sender; after a failed attempt, the answer it got
    /// and how many attempts were made so far.
    Queued {
        attempts: i64,
        last_answer: Option<String>,
    },
    Sent {
        at: i64,
    },
    /// Every attempt failed; `answer` is the mail server's last answer.
    Failed {
        answer: String,
        attempts: i64,
    },
}

impl DeliveryState {
    /// From the columns of the email's outbox row (`None` when there is none).
    pub fn from_outbox(
        status: Option<OutboxStatus>,
        attempts: i64,
        last_error: Option<String>,
        sent_at: Option<i64>,
    ) -> DeliveryState {
        match status {
            None => DeliveryState::None,
            Some(OutboxStatus::Queued) => DeliveryState::Queued {
                attempts,
                last_answer: last_error,
            },
            // A row marked sent always has its time; 0 only if a broken row lacks it.
            Some(OutboxStatus::Sent) => DeliveryState::Sent {
                at: sent_at.unwrap_or_default(),
            },
            Some(OutboxStatus::Failed) => DeliveryState::Failed {
                answer: last_error.unwrap_or_else(|| "no answer recorded".to_owned()),
                attempts,
            },
        }
    }

    /// [`DeliveryState::from_outbox`] with the status as stored.
    pub fn from_stored(
        status: Option<&str>,
        attempts: Option<i64>,
        last_error: Option<String>,
        sent_at: Option<i64>,
    ) -> Result<DeliveryState, AppError> {
        let status = status.map(str::parse::<OutboxStatus>).transpose()?;
        Ok(DeliveryState::from_outbox(
            status,
            attempts.unwrap_or_default(),
            last_error,
            sent_at,
        ))
    }

    /// The outbox status it came from, for the filters.
    pub fn status(&self) -> Option<OutboxStatus> {
        match self {
            DeliveryState::None => None,
            DeliveryState::Queued { .. } => Some(OutboxStatus::Queued),
            DeliveryState::Sent { .. } => Some(OutboxStatus::Sent),
            DeliveryState::Failed { .. } => Some(OutboxStatus::Failed),
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, DeliveryState::Failed { .. })
    }

    /// What the "Email" column says: "Sent 30 Nov 14:02", "Queued",
    /// "Failed: 550 5.1.1 mailbox unknown (3 attempts)".
    pub fn label(&self) -> String {
        match self {
            DeliveryState::None => "—".to_owned(),
            DeliveryState::Queued {
                last_answer: None, ..
            } => "Queued".to_owned(),
            DeliveryState::Queued {
                attempts,
                last_answer: Some(answer),
            } => format!(
                "Queued, retrying after: {answer} ({})",
                attempts_word(*attempts)
            ),
            DeliveryState::Sent { at } => format!("Sent {}", day_and_time(*at)),
            DeliveryState::Failed { answer, attempts } => {
                format!("Failed: {answer} ({})", attempts_word(*attempts))
            }
        }
    }

    /// Of a row with several emails (a Group members row invited into
    /// several groups), the one the admin most needs to see: failed, then
    /// waiting, then the latest sent.
    pub fn most_pressing(self, other: DeliveryState) -> DeliveryState {
        fn rank(state: &DeliveryState) -> (u8, i64) {
            match state {
                DeliveryState::None => (0, 0),
                DeliveryState::Sent { at } => (1, *at),
                DeliveryState::Queued { .. } => (2, 0),
                DeliveryState::Failed { .. } => (3, 0),
            }
        }
        if rank(&other) > rank(&self) {
            other
        } else {
            self
        }
    }
}

fn attempts_word(attempts: i64) -> String {
    match attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}

/// "30 Nov 14:02" (UTC), the day as the lists show days.
pub fn day_and_time(unix_seconds: i64) -> String {
    let seconds = unix_seconds.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        super::templates::format_day_month(unix_seconds),
        seconds / 3600,
        seconds % 3600 / 60
    )
}

/// Parses a delivery filter as forms send it: "" (any) or an outbox status.
pub fn parse_filter(value: &str) -> Result<Option<OutboxStatus>, AppError> {
    let value = value.trim().to_lowercase();
    if value.is_empty() || value == "any" {
        return Ok(None);
    }
    value
        .parse::<OutboxStatus>()
        .map(Some)
        .map_err(|_| AppError::invalid("Email", "is not one of any, queued, sent, failed."))
}

/// The emails of an import's invitations, each counted by where its latest
/// message stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    pub sent: i64,
    /// Queued, or waiting for a retry.
    pub waiting: i64,
    pub failed: i64,
}

impl DeliveryCounts {
    pub fn total(&self) -> i64 {
        self.sent + self.waiting + self.failed
    }

    pub fn add(&mut self, status: OutboxStatus, count: i64) {
        match status {
            OutboxStatus::Sent => self.sent += count,
            OutboxStatus::Queued => self.waiting += count,
            OutboxStatus::Failed => self.failed += count,
        }
    }

    /// "1,180 invitation emails sent, 20 waiting, 3 failed": the parts that are not zero.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "{} invitation {} sent",
            thousands(self.sent),
            if self.sent == 1 { "email" } else { "emails" }
        )];
        if self.waiting > 0 {
            parts.push(format!("{} waiting to be sent", thousands(self.waiting)));
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", thousands(self.failed)));
        }
        parts.join(", ")
    }

    /// The import page's banner: "12 emails failed".
    pub fn failed_banner(&self) -> Option<String> {
        match self.failed {
            0 => None,
            1 => Some("1 email failed".to_owned()),
            n => Some(format!("{} emails failed", thousands(n))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_come_from_the_outbox_row_and_read_as_admins_expect() {
        let failed = DeliveryState::from_outbox(
            Some(OutboxStatus::Failed),
            3,
            Some("550 5.1.1 mailbox unknown".into()),
            None,
        );
        assert_eq!(
            failed.label(),
            "Failed: 550 5.1.1 mailbox unknown (3 attempts)"
        );
        assert!(failed.is_failed());
        // 2026-11-30 14:02:09 UTC.
        let sent =
            DeliveryState::from_outbox(Some(OutboxStatus::Sent), 1, None, Some(1_796_047_329));
        assert_eq!(sent.label(), "Sent 30 Nov 14:02");
        assert_eq!(
            DeliveryState::from_outbox(Some(OutboxStatus::Queued), 0, None, None).label(),
            "Queued"
        );
        assert_eq!(
            DeliveryState::from_outbox(
                Some(OutboxStatus::Queued),
                1,
                Some("421 busy".into()),
                None
            )
            .label(),
            "Queued, retrying after: 421 busy (1 attempt)"
        );
        assert_eq!(
            DeliveryState::from_outbox(None, 0, None, None),
            DeliveryState::None
        );
        assert!(DeliveryState::from_stored(Some("lost"), None, None, None).is_err());
    }

    #[test]
    fn a_row_shows_its_most_pressing_email() {
        let sent = DeliveryState::Sent { at: 5 };
        let queued = DeliveryState::Queued {
            attempts: 0,
            last_answer: None,
        };
        let failed = DeliveryState::Failed {
            answer: "550".into(),
            attempts: 1,
        };
        assert_eq!(sent.clone().most_pressing(failed.clone()), failed);
        assert_eq!(failed.clone().most_pressing(queued.clone()), failed);
        assert_eq!(sent.clone().most_pressing(queued.clone()), queued);
        assert_eq!(DeliveryState::None.most_pressing(sent.clone()), sent);
    }

    #[test]
    fn filters_and_counts() {
        assert_eq!(parse_filter(""), Ok(None));
        assert_eq!(parse_filter("Failed"), Ok(Some(OutboxStatus::Failed)));
        assert!(parse_filter("bounced").is_err());
        let counts = DeliveryCounts {
            sent: 1180,
            waiting: 20,
            failed: 0,
        };
        assert_eq!(
            counts.describe(),
            "1,180 invitation emails sent, 20 waiting to be sent"
        );
        assert_eq!(counts.failed_banner(), None);
    }
}
