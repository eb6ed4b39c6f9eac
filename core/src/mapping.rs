//! Source headers → target fields: exact, synonym, fuzzy, or as the admin overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::header::{candidates, header_key, Derivation};
use crate::issue::{Issue, IssueCode, Severity};
use crate::kinds::{FieldId, ImportKind};

/// Below this a header is left unmapped rather than guessed.
const FUZZY_THRESHOLD: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Synonym,
    Fuzzy,
    Override,
    Ignored,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub source_index: usize,
    pub header: String,
    pub field: Option<FieldId>,
    pub confidence: f32,
    pub how: MatchKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "field", rename_all = "snake_case")]
pub enum ColumnOverride {
    Field(FieldId),
    Ignore,
}

/// The UI's header editor: source column index → what to do with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingOverrides {
    pub columns: BTreeMap<usize, ColumnOverride>,
}

impl MappingOverrides {
    pub fn set(mut self, column: usize, to: ColumnOverride) -> Self {
        self.columns.insert(column, to);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub kind: ImportKind,
    pub columns: Vec<ColumnMapping>,
    /// Header problems: missing required columns and columns claimed twice are errors;
    /// unknown and fuzzy-matched columns are warnings.
    pub issues: Vec<Issue>,
}

impl Mapping {
    pub fn column_of(&self, field: FieldId) -> Option<&ColumnMapping> {
        self.columns.iter().find(|c| c.field == Some(field))
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    pub fn unknown_columns(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .filter(|c| c.how == MatchKind::Unknown)
            .map(|c| c.header.as_str())
    }

    /// Which field each column fills, in order.
    pub fn fields(&self) -> Vec<Option<FieldId>> {
        self.columns.iter().map(|c| c.field).collect()
    }

    /// This mapping as the admin's choice for every column: mapping the same
    /// headers with it gives the same fields, whatever the guesses would be.
    pub fn confirmed(&self) -> MappingOverrides {
        MappingOverrides {
            columns: self
                .columns
                .iter()
                .map(|c| {
                    let choice = c
                        .field
                        .map_or(ColumnOverride::Ignore, ColumnOverride::Field);
                    (c.source_index, choice)
                })
                .collect(),
        }
    }
}

/// What makes two header rows the same one: each header as headers are
/// compared ([`header_key`]), in order. `E-mail, First Name` and
/// `email, first_name` are the same row; a column more, fewer or moved is not.
pub fn header_row_key(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| header_key(h))
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

fn strength(how: MatchKind) -> u8 {
    match how {
        MatchKind::Override => 3,
        MatchKind::Exact => 2,
        MatchKind::Synonym => 1,
        _ => 0,
    }
}

/// How strongly a column claims its field: the kind of match, then its confidence, so a
/// weak synonym (`userPrincipalName`) yields to a plain one (`mail`) for the same field.
fn claim(c: &ColumnMapping) -> (u8, u32) {
    (strength(c.how), (c.confidence * 1000.0).round() as u32)
}

pub fn map_headers(kind: ImportKind, headers: &[String], overrides: &MappingOverrides) -> Mapping {
    let mut columns: Vec<ColumnMapping> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| match overrides.columns.get(&i) {
            Some(ColumnOverride::Field(f)) => mapped(i, h, *f, 1.0, MatchKind::Override),
            Some(ColumnOverride::Ignore) => ColumnMapping {
                source_index: i,
                header: h.clone(),
                field: None,
                confidence: 1.0,
                how: MatchKind::Ignored,
            },
            None => guess(kind, i, h),
        })
        .collect();
    let mut issues = Vec::new();

    // A weaker match loses to a stronger one for the same field (a fuzzy "Emial" next to a
    // real "Email" is just noise); equal claims are the admin's call.
    for spec in kind.columns() {
        let claimants: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.field == Some(spec.field))
            .map(|(i, _)| i)
            .collect();
        if claimants.len() < 2 {
            continue;
        }
        let best = claimants
            .iter()
            .map(|&i| claim(&columns[i]))
            .max()
            .unwrap_or_default();
        let winners: Vec<usize> = claimants
            .iter()
            .copied()
            .filter(|&i| claim(&columns[i]) == best)
            .collect();
        for &i in &claimants {
            if !winners.contains(&i) {
                columns[i].field = None;
                columns[i].how = MatchKind::Unknown;
                columns[i].confidence = 0.0;
            }
        }
        if winners.len() > 1 {
            let names: Vec<String> = winners
                .iter()
                .map(|&i| format!("\"{}\"", columns[i].header))
                .collect();
            issues.push(header_issue(
                IssueCode::ColumnMappedTwice,
                Severity::Error,
                Some(columns[winners[1]].header.clone()),
                Some(spec.field),
                format!("Columns {} all look like \"{}\". Keep one, or set the others to a different field or to ignore.", names.join(" and "), spec.header),
            ));
        }
    }

    for spec in kind.columns() {
        if spec.header_required() && !columns.iter().any(|c| c.field == Some(spec.field)) {
            let also = if spec.requirement == crate::kinds::Requirement::HeaderRequired {
                " The column must be present even if its cells are empty."
            } else {
                ""
            };
            issues.push(header_issue(
                IssueCode::MissingColumn,
                Severity::Error,
                None,
                Some(spec.field),
                format!("The required column \"{}\" is missing.{also}", spec.header),
            ));
        }
    }
    for c in &columns {
        match c.how {
            MatchKind::Unknown if !c.header.is_empty() => issues.push(header_issue(
                IssueCode::UnknownColumn,
                Severity::Warning,
                Some(c.header.clone()),
                None,
                format!(
                    "Column \"{}\" does not match any {} field and will be ignored.",
                    c.header,
                    kind.label()
                ),
            )),
            MatchKind::Fuzzy => {
                let target = c
                    .field
                    .and_then(|f| kind.column(f))
                    .map_or("", |s| s.header);
                issues.push(header_issue(
                    IssueCode::FuzzyColumnMatch,
                    Severity::Warning,
                    Some(c.header.clone()),
                    c.field,
                    format!("Column \"{}\" was read as \"{target}\" ({:.0}% sure). Change it if that is wrong.", c.header, c.confidence * 100.0),
                ));
            }
            _ => {}
        }
    }
    Mapping {
        kind,
        columns,
        issues,
    }
}

fn mapped(
    i: usize,
    header: &str,
    field: FieldId,
    confidence: f32,
    how: MatchKind,
) -> ColumnMapping {
    ColumnMapping {
        source_index: i,
        header: header.to_string(),
        field: Some(field),
        confidence,
        how,
    }
}

/// Confidence of a synonym match, before the header's derivation discounts it.
const SYNONYM: f32 = 0.95;
const WEAK_SYNONYM: f32 = 0.9;

fn guess(kind: ImportKind, i: usize, header: &str) -> ColumnMapping {
    let unknown = ColumnMapping {
        source_index: i,
        header: header.to_string(),
        field: None,
        confidence: 0.0,
        how: MatchKind::Unknown,
    };
    let keys = candidates(header);
    let Some((whole, _)) = keys.first() else {
        return unknown;
    };
    // The header's own words first; a prefix-stripped or bracketed key only when they
    // match nothing, and then a little less surely.
    for (key, derivation) in &keys {
        let discount = match derivation {
            Derivation::Whole => 1.0,
            Derivation::WithoutPrefix | Derivation::Bracketed => 0.9,
        };
        let mut found: Option<(f32, FieldId, MatchKind)> = None;
        for spec in kind.columns() {
            let hit = if header_key(spec.header) == *key {
                let how = if *derivation == Derivation::Whole {
                    MatchKind::Exact
                } else {
                    MatchKind::Synonym
                };
                Some((1.0, how))
            } else if spec.synonyms.iter().any(|s| header_key(s) == *key) {
                Some((SYNONYM, MatchKind::Synonym))
            } else if spec.weak_synonyms.iter().any(|s| header_key(s) == *key) {
                Some((WEAK_SYNONYM, MatchKind::Synonym))
            } else {
                None
            };
            if let Some((confidence, how)) = hit {
                let confidence = confidence * discount;
                if found.is_none_or(|(c, _, _)| confidence > c) {
                    found = Some((confidence, spec.field, how));
                }
            }
        }
        if let Some((confidence, field, how)) = found {
            return mapped(i, header, field, confidence, how);
        }
    }
    let mut best: Option<(f64, FieldId)> = None;
    for spec in kind.columns() {
        let names = std::iter::once(spec.header).chain(spec.synonyms.iter().copied());
        for name in names {
            let score = similarity(&header_key(name), whole);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, spec.field));
            }
        }
    }
    match best {
        Some((score, field)) if score >= FUZZY_THRESHOLD => {
            mapped(i, header, field, score as f32, MatchKind::Fuzzy)
        }
        _ => unknown,
    }
}

fn similarity(a: &str, b: &str) -> f64 {
    // Short keys ("id", "mail") match too much by edit distance alone.
    if a.len() < 4 || b.len() < 4 {
        return 0.0;
    }
    strsim::normalized_damerau_levenshtein(a, b)
}

fn header_issue(
    code: IssueCode,
    severity: Severity,
    column: Option<String>,
    field: Option<FieldId>,
    message: String,
) -> Issue {
    Issue {
        row: None,
        sheet: None,
        column,
        field,
        code,
        severity,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn field_of(m: &Mapping, header: &str) -> Option<FieldId> {
        m.columns
            .iter()
            .find(|c| c.header == header)
            .and_then(|c| c.field)
    }

    #[test]
    fn headers_match_regardless_of_case_spaces_and_punctuation() {
        let m = map_headers(
            ImportKind::Invites,
            &h(&["  EMAIL ", "expiry_days"]),
            &MappingOverrides::default(),
        );
        assert_eq!(field_of(&m, "  EMAIL "), Some(FieldId::Email));
        assert_eq!(field_of(&m, "expiry_days"), Some(FieldId::ExpiryDays));
        assert!(!m.has_errors());
    }

    #[test]
    fn header_rows_are_the_same_when_their_headers_compare_equal_in_order() {
        let key = header_row_key(&h(&["E-mail", "First Name", "Contact"]));
        assert_eq!(
            key,
            header_row_key(&h(&["email", " first_name", "CONTACT"]))
        );
        assert_ne!(
            key,
            header_row_key(&h(&["First Name", "E-mail", "Contact"]))
        );
        assert_ne!(key, header_row_key(&h(&["E-mail", "First Name"])));
        assert_ne!(
            key,
            header_row_key(&h(&["E-mail", "First Name", "Contact", ""]))
        );
        assert_ne!(
            header_row_key(&h(&["a b", "c"])),
            header_row_key(&h(&["a", "b c"]))
        );
    }

    #[test]
    fn a_confirmed_mapping_maps_the_same_headers_the_same_way() {
        let headers = h(&["Contact", "Given", "Emial", "Notes"]);
        let chosen = MappingOverrides::default()
            .set(0, ColumnOverride::Field(FieldId::Email))
            .set(2, ColumnOverride::Ignore);
        let mapping = map_headers(ImportKind::Learners, &headers, &chosen);
        let confirmed = mapping.confirmed();
        assert_eq!(confirmed.columns.len(), headers.len());
        let again = map_headers(ImportKind::Learners, &headers, &confirmed);
        assert_eq!(again.fields(), mapping.fields());
        assert_eq!(again.fields()[0], Some(FieldId::Email));
        assert_eq!(again.fields()[2], None);
        assert_ne!(
            map_headers(ImportKind::Learners, &headers, &MappingOverrides::default()).fields(),
            mapping.fields()
        );
    }

    #[test]
    fn synonyms_map_to_their_field() {
        let m = map_headers(
            ImportKind::Learners,
            &h(&["E-mail Address", "Given name", "Surname"]),
            &MappingOverrides::default(),
        );
        assert_eq!(field_of(&m, "E-mail Address"), Some(FieldId::Email));
        assert_eq!(field_of(&m, "Given name"), Some(FieldId::FirstName));
        assert_eq!(field_of(&m, "Surname"), Some(FieldId::LastName));
    }

    #[test]
    fn headers_as_real_exports_spell_them() {
        let learners = [
            ("First Name [Required]", FieldId::FirstName),
            ("Email (optional)", FieldId::Email),
            ("familyName", FieldId::LastName),
        ];
        let cases: &[(ImportKind, &[(&str, FieldId)])] = &[
            (ImportKind::Learners, &learners),
            (
                ImportKind::Learners,
                &[
                    ("givenName", FieldId::FirstName),
                    ("User Email", FieldId::Email),
                    ("last_name", FieldId::LastName),
                ],
            ),
            (
                ImportKind::Learners,
                &[("Student Email Address", FieldId::Email)],
            ),
            (
                ImportKind::People,
                &[
                    ("login_id", FieldId::Username),
                    ("Primary Email", FieldId::Email),
                    ("first_name", FieldId::FirstName),
                    ("Surname", FieldId::LastName),
                ],
            ),
            (
                ImportKind::Learners,
                &[
                    ("E-Mail", FieldId::Email),
                    ("Vorname", FieldId::FirstName),
                    ("Nachname", FieldId::LastName),
                ],
            ),
            (
                ImportKind::Learners,
                &[
                    ("Prénom", FieldId::FirstName),
                    ("Nom", FieldId::LastName),
                    ("Adresse e-mail", FieldId::Email),
                ],
            ),
            (
                ImportKind::Learners,
                &[
                    ("Correo electrónico", FieldId::Email),
                    ("Nombre", FieldId::FirstName),
                    ("Apellido", FieldId::LastName),
                ],
            ),
        ];
        for (kind, pairs) in cases {
            let headers: Vec<String> = pairs.iter().map(|(h, _)| h.to_string()).collect();
            let m = map_headers(*kind, &headers, &MappingOverrides::default());
            assert!(!m.has_errors(), "{headers:?}: {:?}", m.issues);
            for (h, f) in pairs.iter() {
                assert_eq!(field_of(&m, h), Some(*f), "{h}");
            }
        }
    }

    #[test]
    fn a_plain_header_beats_a_prefixed_or_weak_one_for_the_same_field() {
        let m = map_headers(
            ImportKind::Learners,
            &h(&["userPrincipalName", "mail", "Work Email"]),
            &MappingOverrides::default(),
        );
        assert!(!m.has_errors(), "{:?}", m.issues);
        assert_eq!(field_of(&m, "mail"), Some(FieldId::Email));
        assert_eq!(field_of(&m, "userPrincipalName"), None);
        assert_eq!(field_of(&m, "Work Email"), None);
        // Alone, each is enough.
        for header in ["userPrincipalName", "Work Email"] {
            let m = map_headers(
                ImportKind::Learners,
                &h(&[header]),
                &MappingOverrides::default(),
            );
            assert_eq!(field_of(&m, header), Some(FieldId::Email), "{header}");
            assert!(m.columns[0].confidence < 0.95);
        }
        // A prefix is only stripped when the whole header means nothing itself: in
        // People, "Student Email" is the linked students' column.
        let m = map_headers(
            ImportKind::People,
            &h(&["Email", "Student Email", "First Name", "Last Name"]),
            &MappingOverrides::default(),
        );
        assert_eq!(field_of(&m, "Student Email"), Some(FieldId::StudentEmails));
    }

    #[test]
    fn a_bracket_naming_someone_else_keeps_the_column_off_the_persons_email() {
        let m = map_headers(
            ImportKind::People,
            &h(&[
                "Email",
                "Email (Parent/Guardian)",
                "First Name",
                "Last Name",
            ]),
            &MappingOverrides::default(),
        );
        assert!(!m.has_errors(), "{:?}", m.issues);
        assert_eq!(field_of(&m, "Email"), Some(FieldId::Email));
        assert_eq!(
            field_of(&m, "Email (Parent/Guardian)"),
            Some(FieldId::ParentEmails)
        );
        let m = map_headers(
            ImportKind::Learners,
            &h(&["Email (Parent)"]),
            &MappingOverrides::default(),
        );
        assert_eq!(field_of(&m, "Email (Parent)"), None);
    }

    #[test]
    fn login_id_maps_to_username_for_people() {
        let m = map_headers(
            ImportKind::People,
            &h(&["login_id", "firstname", "Last Name"]),
            &MappingOverrides::default(),
        );
        assert_eq!(field_of(&m, "login_id"), Some(FieldId::Username));
    }

    #[test]
    fn a_misspelled_header_is_matched_fuzzily_with_a_confidence() {
        let m = map_headers(
            ImportKind::Learners,
            &h(&["Emial", "Frist Name"]),
            &MappingOverrides::default(),
        );
        let c = &m.columns[1];
        assert_eq!(c.field, Some(FieldId::FirstName));
        assert_eq!(c.how, MatchKind::Fuzzy);
        assert!(c.confidence > 0.7 && c.confidence < 1.0);
        assert!(m
            .issues
            .iter()
            .any(|i| i.code == IssueCode::FuzzyColumnMatch));
    }

    #[test]
    fn unknown_columns_are_listed_and_ignored() {
        let m = map_headers(
            ImportKind::Invites,
            &h(&["Email", "Shoe size"]),
            &MappingOverrides::default(),
        );
        assert_eq!(m.unknown_columns().collect::<Vec<_>>(), vec!["Shoe size"]);
        assert!(!m.has_errors());
    }

    #[test]
    fn two_columns_mapped_to_one_field_is_an_error() {
        let m = map_headers(
            ImportKind::Invites,
            &h(&["Email", "Email Address"]),
            &MappingOverrides::default(),
        );
        // An exact header beats a synonym, so this one is fine…
        assert!(!m.has_errors());
        assert_eq!(m.columns[1].field, None);
        let m = map_headers(
            ImportKind::Invites,
            &h(&["Mail", "E-mail address"]),
            &MappingOverrides::default(),
        );
        assert!(m
            .issues
            .iter()
            .any(|i| i.code == IssueCode::ColumnMappedTwice && i.is_error()));
    }

    #[test]
    fn a_missing_required_column_is_an_error() {
        let m = map_headers(
            ImportKind::Invites,
            &h(&["Expiry Days"]),
            &MappingOverrides::default(),
        );
        let i = m
            .issues
            .iter()
            .find(|i| i.code == IssueCode::MissingColumn)
            .unwrap();
        assert!(i.message.contains("\"Email\""));
    }

    #[test]
    fn external_id_header_is_required_for_program_invitations() {
        let m = map_headers(
            ImportKind::ProgramInvitations,
            &h(&["Full Name", "Email"]),
            &MappingOverrides::default(),
        );
        assert!(m
            .issues
            .iter()
            .any(|i| i.code == IssueCode::MissingColumn && i.field == Some(FieldId::ExternalId)));
    }

    #[test]
    fn overrides_win_over_guesses() {
        let o = MappingOverrides::default()
            .set(0, ColumnOverride::Ignore)
            .set(1, ColumnOverride::Field(FieldId::Email));
        let m = map_headers(ImportKind::Invites, &h(&["Email", "Contact"]), &o);
        assert_eq!(m.columns[0].field, None);
        assert_eq!(m.columns[1].field, Some(FieldId::Email));
        assert!(!m.has_errors());
    }
}
