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
    /// A sync that would remove more than the organization's share of a
    /// group: it waits for an admin to approve or discard it.
    NeedsApproval,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 8] = [
        ImportStatus::Draft,
        ImportStatus::Queued,
        ImportStatus::Running,
        ImportStatus::Completed,
        ImportStatus::CompletedWithErrors,
        ImportStatus::Failed,
        ImportStatus::Cancelled,
        ImportStatus::NeedsApproval,
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
            ImportStatus::NeedsApproval => "needs_approval",
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
            ImportStatus::NeedsApproval => "Needs approval",
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

    /// A paused sync: an admin may let it run or discard it.
    pub fn can_approve(self) -> bool {
        self == ImportStatus::NeedsApproval
    }

    /// What "discard" makes of a paused sync.
    pub fn discarded(self) -> Option<ImportStatus> {
        self.can_approve().then_some(ImportStatus::Cancelled)
    }

    /// What "approve" makes of a paused sync: the worker may take it.
    pub fn approved(self) -> Option<ImportStatus> {
        self.can_approve().then_some(ImportStatus::Queued)
    }

    /// Whether an undo may be asked for: once nothing more will happen to the import.
    pub fn can_undo(self) -> bool {
        self.is_finished()
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

crate::text_enum::text_enum! {
    /// What an import recorded having made, for its undo.
    pub enum ImportEffect {
        /// A membership: a person it added to the organization.
        Membership = "membership",
        /// A group membership: a person it put in a group.
        GroupMembership = "group_membership",
    }
}

crate::text_enum::text_enum! {
    /// An undo's run: queued → running → completed | failed.
    pub enum UndoStatus {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
    }
}

impl UndoStatus {
    pub fn is_in_progress(self) -> bool {
        matches!(self, UndoStatus::Queued | UndoStatus::Running)
    }

    pub fn label(self) -> &'static str {
        match self {
            UndoStatus::Queued => "Undo queued",
            UndoStatus::Running => "Undoing",
            UndoStatus::Completed => "Undone",
            UndoStatus::Failed => "Undo failed",
        }
    }
}

impl TryFrom<String> for UndoStatus {
    type Error = crate::text_enum::UnknownText;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

crate::text_enum::text_enum! {
    /// Where an undo is: it cancels the import's pending invitations, then
    /// ends the group memberships it made, then removes the people it
    /// added whom nobody has used.
    pub enum UndoPhase {
        Invitations = "invitations",
        GroupMemberships = "group_memberships",
        Memberships = "memberships",
    }
}

impl TryFrom<String> for UndoPhase {
    type Error = crate::text_enum::UnknownText;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_paused_sync_is_approved_or_discarded() {
        for status in ImportStatus::ALL {
            assert_eq!(
                status.approved().is_some(),
                status == ImportStatus::NeedsApproval
            );
            assert_eq!(
                status.discarded().is_some(),
                status == ImportStatus::NeedsApproval
            );
        }
        assert_eq!(
            ImportStatus::NeedsApproval.approved(),
            Some(ImportStatus::Queued)
        );
        assert_eq!(
            ImportStatus::NeedsApproval.discarded(),
            Some(ImportStatus::Cancelled)
        );
        assert!(!ImportStatus::NeedsApproval.is_in_progress());
        assert!(!ImportStatus::NeedsApproval.can_undo());
        assert!(ImportStatus::Completed.can_undo());
    }

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
        assert!(ImportStatus::NeedsApproval.can_cancel());
        assert_eq!(ImportStatus::completed(0), ImportStatus::Completed);
        assert_eq!(
            ImportStatus::completed(2),
            ImportStatus::CompletedWithErrors
        );
    }
}
