//! The states of an import and of its rows, as the database stores them
//! (`as_str`/`FromStr`) and with the rules pages and workers ask about.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Uploaded without JavaScript: shown for confirmation first.
    Draft,
    Queued,
    Running,
    Completed,
    CompletedWithErrors,
    Failed,
    Cancelled,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 7] = [
        ImportStatus::Draft,
        ImportStatus::Queued,
        ImportStatus::Running,
        ImportStatus::Completed,
        ImportStatus::CompletedWithErrors,
        ImportStatus::Failed,
        ImportStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Draft => "draft",
            ImportStatus::Queued => "queued",
            ImportStatus::Running => "running",
            ImportStatus::Completed => "completed",
            ImportStatus::CompletedWithErrors => "completed_with_errors",
            ImportStatus::Failed => "failed",
            ImportStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportStatus::Draft => "Waiting for confirmation",
            ImportStatus::Queued => "Queued",
            ImportStatus::Running => "Running",
            ImportStatus::Completed => "Completed",
            ImportStatus::CompletedWithErrors => "Completed with errors",
            ImportStatus::Failed => "Failed",
            ImportStatus::Cancelled => "Cancelled",
        }
    }

    /// Nothing more will happen to it.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ImportStatus::Completed
                | ImportStatus::CompletedWithErrors
                | ImportStatus::Failed
                | ImportStatus::Cancelled
        )
    }

    pub fn can_cancel(self) -> bool {
        !self.is_finished()
    }

    /// Waiting for or in the hands of a worker: its page keeps polling.
    pub fn is_in_progress(self) -> bool {
        matches!(self, ImportStatus::Queued | ImportStatus::Running)
    }

    /// How a batch-by-batch run ends once no rows are left.
    pub fn completed(failed_rows: i64) -> ImportStatus {
        if failed_rows > 0 {
            ImportStatus::CompletedWithErrors
        } else {
            ImportStatus::Completed
        }
    }
}

impl std::fmt::Display for ImportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl std::str::FromStr for ImportStatus {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ImportStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownStatus(value.to_owned()))
    }
}

impl TryFrom<String> for ImportStatus {
    type Error = UnknownStatus;

    fn try_from(value: String) -> Result<Self, UnknownStatus> {
        value.parse()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportRowStatus {
    Pending,
    Success,
    Skipped,
    Error,
}

impl ImportRowStatus {
    pub const ALL: [ImportRowStatus; 4] = [
        ImportRowStatus::Pending,
        ImportRowStatus::Success,
        ImportRowStatus::Skipped,
        ImportRowStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportRowStatus::Pending => "pending",
            ImportRowStatus::Success => "success",
            ImportRowStatus::Skipped => "skipped",
            ImportRowStatus::Error => "error",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportRowStatus::Pending => "Pending",
            ImportRowStatus::Success => "Success",
            ImportRowStatus::Skipped => "Skipped",
            ImportRowStatus::Error => "Error",
        }
    }

    /// Done with, one way or the other (what a People import links).
    pub fn is_done(self) -> bool {
        matches!(self, ImportRowStatus::Success | ImportRowStatus::Skipped)
    }
}

impl std::fmt::Display for ImportRowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImportRowStatus {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ImportRowStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownStatus(value.to_owned()))
    }
}

impl TryFrom<String> for ImportRowStatus {
    type Error = UnknownStatus;

    fn try_from(value: String) -> Result<Self, UnknownStatus> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_survives_the_database() {
        for status in ImportStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        for status in ImportRowStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("nonsense".parse::<ImportStatus>().is_err());
    }

    #[test]
    fn only_unfinished_imports_can_be_cancelled() {
        assert!(ImportStatus::Draft.can_cancel());
        assert!(ImportStatus::Running.can_cancel());
        assert!(!ImportStatus::CompletedWithErrors.can_cancel());
        assert!(!ImportStatus::Cancelled.can_cancel());
        assert_eq!(ImportStatus::completed(0), ImportStatus::Completed);
        assert_eq!(
            ImportStatus::completed(2),
            ImportStatus::CompletedWithErrors
        );
    }
}
