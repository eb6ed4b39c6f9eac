//! Problems found in a file, typed so the UI can filter them and the server can store them.

use serde::{Deserialize, Serialize};

use crate::kinds::FieldId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    // Header mapping (row is None).
    MissingColumn,
    ColumnMappedTwice,
    UnknownColumn,
    FuzzyColumnMatch,
    // Emails.
    EmailRequired,
    EmailInvalid,
    DuplicateEmail,
    // Expiry days.
    ExpiryDaysNotANumber,
    ExpiryDaysNotWhole,
    ExpiryDaysOutOfRange,
    // Names and text.
    NameRequired,
    NameInvalid,
    ValueTooLong,
    ValueHasControlCharacter,
    FormulaLikeValue,
    // People.
    RoleMissing,
    RoleUnknown,
    RoleConflictsWithSheet,
    UsernameInvalid,
    UsernameOnlyForStudents,
    UsernameOnlyStudentNeedsParent,
    AssociationEmailInvalid,
    AssociationWrongRole,
    EmailOrUsernameRequired,
    // Group members.
    GroupNameInvalid,
    // Plan time.
    AssociationNotFound,
    UnknownGroup,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Row number as the admin sees it in the file; None for whole-file problems.
    pub row: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The source header the admin sees, when the problem is in one column.
    pub column: Option<String>,
    /// The target field, so the UI can highlight the cell and edits can clear the issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldId>,
    pub code: IssueCode,
    pub severity: Severity,
    pub message: String,
}

impl Issue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
