//! Problem types as the review step names, counts and filters them.

use muster_core::IssueCode;

/// Which rows the grid lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RowFilter {
    #[default]
    All,
    /// Rows with any error or warning.
    Problems,
    /// Rows with one type of problem.
    Only(IssueCode),
}

impl RowFilter {
    /// The filter's value in the "Show" select.
    pub fn value(self) -> String {
        match self {
            RowFilter::All => "all".into(),
            RowFilter::Problems => "problems".into(),
            RowFilter::Only(code) => format!("only-{}", code_index(code)),
        }
    }

    pub fn from_value(value: &str) -> RowFilter {
        match value {
            "problems" => RowFilter::Problems,
            other => other
                .strip_prefix("only-")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| ROW_CODES.get(n).copied())
                .map_or(RowFilter::All, RowFilter::Only),
        }
    }

    /// What the grid says when no row passes the filter.
    pub fn empty_text(self) -> &'static str {
        match self {
            RowFilter::All => "No rows left.",
            RowFilter::Problems => "No rows with problems.",
            RowFilter::Only(_) => "No rows with this problem.",
        }
    }
}

/// The problems a row can have, in the order the filter lists them.
const ROW_CODES: [IssueCode; 27] = [
    IssueCode::EmailInvalid,
    IssueCode::DuplicateEmail,
    IssueCode::EmailRequired,
    IssueCode::EmailOrUsernameRequired,
    IssueCode::NameRequired,
    IssueCode::NameInvalid,
    IssueCode::ExpiryDaysNotANumber,
    IssueCode::ExpiryDaysNotWhole,
    IssueCode::ExpiryDaysOutOfRange,
    IssueCode::ValueTooLong,
    IssueCode::ValueHasControlCharacter,
    IssueCode::FormulaLikeValue,
    IssueCode::RoleMissing,
    IssueCode::RoleUnknown,
    IssueCode::RoleConflictsWithSheet,
    IssueCode::UsernameInvalid,
    IssueCode::UsernameOnlyForStudents,
    IssueCode::UsernameOnlyStudentNeedsParent,
    IssueCode::AssociationEmailInvalid,
    IssueCode::AssociationWrongRole,
    IssueCode::GroupNameInvalid,
    IssueCode::AssociationNotFound,
    IssueCode::UnknownGroup,
    IssueCode::MissingColumn,
    IssueCode::ColumnMappedTwice,
    IssueCode::UnknownColumn,
    IssueCode::FuzzyColumnMatch,
];

fn code_index(code: IssueCode) -> usize {
    ROW_CODES.iter().position(|c| *c == code).unwrap_or(0)
}

/// Where a problem type sorts in the filter (the order of [`ROW_CODES`]).
pub fn code_order(code: IssueCode) -> usize {
    code_index(code)
}

/// A problem type's name in the filter: short, in the admin's words.
pub fn problem_label(code: IssueCode) -> &'static str {
    match code {
        IssueCode::EmailInvalid => "Invalid email",
        IssueCode::DuplicateEmail => "Duplicate email",
        IssueCode::EmailRequired => "Missing email",
        IssueCode::EmailOrUsernameRequired => "Missing email or username",
        IssueCode::NameRequired => "Missing name",
        IssueCode::NameInvalid => "Invalid name",
        IssueCode::ExpiryDaysNotANumber => "Expiry days not a number",
        IssueCode::ExpiryDaysNotWhole => "Expiry days not whole",
        IssueCode::ExpiryDaysOutOfRange => "Expiry days out of range",
        IssueCode::ValueTooLong => "Value too long",
        IssueCode::ValueHasControlCharacter => "Hidden control character",
        IssueCode::FormulaLikeValue => "Looks like a formula",
        IssueCode::RoleMissing => "Missing role",
        IssueCode::RoleUnknown => "Unknown role",
        IssueCode::RoleConflictsWithSheet => "Role differs from its tab",
        IssueCode::UsernameInvalid => "Invalid username",
        IssueCode::UsernameOnlyForStudents => "Username on a non-student",
        IssueCode::UsernameOnlyStudentNeedsParent => "Username-only student without a parent",
        IssueCode::AssociationEmailInvalid => "Invalid linked email",
        IssueCode::AssociationWrongRole => "Linked person has the wrong role",
        IssueCode::GroupNameInvalid => "Invalid group name",
        IssueCode::AssociationNotFound => "Linked person not found",
        IssueCode::UnknownGroup => "Unknown group",
        IssueCode::MissingColumn => "Missing column",
        IssueCode::ColumnMappedTwice => "Column used twice",
        IssueCode::UnknownColumn => "Unknown column",
        IssueCode::FuzzyColumnMatch => "Guessed column",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_survives_the_select_value() {
        for filter in [RowFilter::All, RowFilter::Problems]
            .into_iter()
            .chain(ROW_CODES.into_iter().map(RowFilter::Only))
        {
            assert_eq!(RowFilter::from_value(&filter.value()), filter);
        }
        assert_eq!(RowFilter::from_value("only-999"), RowFilter::All);
    }
}
