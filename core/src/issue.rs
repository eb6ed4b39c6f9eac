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

/// The issues of one checked row: one pointer wide, and no allocation for a clean row.
///
/// Most rows of a real file have no issues, and a `Vec` costs three words on every row of
/// a 100k-row import whether it holds anything or not. Reads go through `Deref` to a
/// slice; on the wire it is a plain list.
#[derive(Clone, Default, PartialEq, Eq)]
#[expect(
    clippy::box_collection,
    reason = "one pointer per row; a Vec or boxed slice inline would be two or three words"
)]
pub struct Issues(Option<Box<Vec<Issue>>>);

impl Issues {
    pub fn push(&mut self, issue: Issue) {
        self.0.get_or_insert_with(Default::default).push(issue);
    }

    pub fn retain(&mut self, keep: impl FnMut(&Issue) -> bool) {
        if let Some(v) = &mut self.0 {
            v.retain(keep);
            if v.is_empty() {
                self.0 = None;
            }
        }
    }

    /// Takes the issues out for code that fills a `Vec`; put them back with `From`.
    pub fn take(&mut self) -> Vec<Issue> {
        self.0.take().map(|b| *b).unwrap_or_default()
    }
}

impl From<Vec<Issue>> for Issues {
    fn from(v: Vec<Issue>) -> Self {
        Issues((!v.is_empty()).then(|| Box::new(v)))
    }
}

impl Extend<Issue> for Issues {
    fn extend<I: IntoIterator<Item = Issue>>(&mut self, iter: I) {
        for issue in iter {
            self.push(issue);
        }
    }
}

impl FromIterator<Issue> for Issues {
    fn from_iter<I: IntoIterator<Item = Issue>>(iter: I) -> Self {
        Issues::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl std::ops::Deref for Issues {
    type Target = [Issue];
    fn deref(&self) -> &[Issue] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a> IntoIterator for &'a Issues {
    type Item = &'a Issue;
    type IntoIter = std::slice::Iter<'a, Issue>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for Issues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Issues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Issues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Issue>::deserialize(d).map(Issues::from)
    }
}
