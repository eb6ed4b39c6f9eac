//! The rows a preview sends to the server: each sheet's headers, the admin's header
//! choices and the (edited) rows. The server checks them with the same engine, so the
//! dry run and the stored import see exactly what the preview showed.

use serde::{Deserialize, Serialize};

use crate::kinds::ImportKind;
use crate::limits::Limits;
use crate::mapping::{map_headers, Mapping, MappingOverrides};
use crate::parse::{ParseError, SourceRow};
use crate::validate::{Checked, ValidationOptions};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowsPayload {
    pub kind: ImportKind,
    #[serde(default)]
    pub validation: ValidationOptions,
    pub sheets: Vec<PayloadSheet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadSheet {
    pub name: String,
    pub headers: Vec<String>,
    #[serde(default)]
    pub overrides: MappingOverrides,
    /// Rows the admin kept, with their file row numbers; cells of ignored columns may
    /// be left empty.
    pub rows: Vec<SourceRow>,
}

/// The server's verdict on a payload: one mapping per sheet and every row checked.
#[derive(Debug, Clone)]
pub struct PayloadCheck {
    pub mappings: Vec<Mapping>,
    pub checked: Checked,
}

impl PayloadCheck {
    pub fn header_errors(&self) -> impl Iterator<Item = &crate::Issue> {
        self.mappings
            .iter()
            .flat_map(|m| m.issues.iter())
            .filter(|i| i.is_error())
    }
}

impl RowsPayload {
    /// The tabs an import reads (see [`crate::check::sheets_to_check`]), as uploaded.
    pub fn from_workbook(
        kind: ImportKind,
        workbook: crate::parse::Workbook,
        validation: ValidationOptions,
    ) -> RowsPayload {
        let wanted =
            crate::check::sheets_to_check(kind, &workbook, |_| MappingOverrides::default());
        let sheets = workbook
            .sheets
            .into_iter()
            .enumerate()
            .filter(|(i, _)| wanted.contains(i))
            .map(|(_, sheet)| PayloadSheet {
                name: sheet.name,
                headers: sheet.headers,
                overrides: MappingOverrides::default(),
                rows: sheet.rows,
            })
            .collect();
        RowsPayload {
            kind,
            validation,
            sheets,
        }
    }

    pub fn row_count(&self) -> usize {
        self.sheets.iter().map(|s| s.rows.len()).sum()
    }

    /// Checks the payload against the same limits an uploaded file has, then validates
    /// every row. The browser is never trusted: this is the verdict that counts.
    pub fn check(&self, limits: &Limits) -> Result<PayloadCheck, ParseError> {
        if self.row_count() == 0 {
            return Err(ParseError::Empty);
        }
        if self.row_count() > limits.max_rows {
            return Err(ParseError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        for sheet in &self.sheets {
            let widest = sheet.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
            let columns = sheet.headers.len().max(widest);
            if columns > limits.max_columns {
                let row = sheet
                    .rows
                    .iter()
                    .find(|r| r.cells.len() == widest)
                    .map_or(0, |r| r.number);
                return Err(ParseError::TooManyColumns {
                    row,
                    count: columns,
                    limit: limits.max_columns,
                });
            }
            for row in &sheet.rows {
                for (column, cell) in row.cells.iter().enumerate() {
                    // Bytes bound chars from above; count chars only when it matters.
                    if cell.len() > limits.max_cell_chars {
                        let chars = cell.chars().count();
                        if chars > limits.max_cell_chars {
                            return Err(ParseError::CellTooLong {
                                row: row.number,
                                column: column as u32 + 1,
                                chars,
                                limit: limits.max_cell_chars,
                            });
                        }
                    }
                }
            }
        }
        let mut checked = Checked::empty(self.kind, &self.validation);
        let mut mappings = Vec::with_capacity(self.sheets.len());
        for sheet in &self.sheets {
            let mapping = map_headers(self.kind, &sheet.headers, &sheet.overrides);
            checked.add_rows(&sheet.name, &mapping, sheet.rows.iter());
            mappings.push(mapping);
        }
        Ok(PayloadCheck { mappings, checked })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ColumnOverride;
    use crate::FieldId;

    fn row(number: u32, cells: &[&str]) -> SourceRow {
        SourceRow {
            number,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn invites(rows: Vec<SourceRow>) -> RowsPayload {
        RowsPayload {
            kind: ImportKind::Invites,
            validation: ValidationOptions::default(),
            sheets: vec![PayloadSheet {
                name: "paste".into(),
                headers: vec!["E-mail address".into(), "Days".into()],
                overrides: MappingOverrides::default(),
                rows,
            }],
        }
    }

    #[test]
    fn a_payload_is_checked_with_its_file_row_numbers() {
        let payload = invites(vec![
            row(2, &["a@example.com", "10"]),
            row(7, &["nope", ""]),
        ]);
        let result = payload.check(&Limits::default()).unwrap();
        assert_eq!(result.checked.totals.rows, 2);
        assert_eq!(result.checked.totals.with_errors, 1);
        let issue = result.checked.issues().next().unwrap();
        assert_eq!(issue.row, Some(7));
    }

    #[test]
    fn header_overrides_are_applied_as_the_preview_chose() {
        let mut payload = invites(vec![row(2, &["a@example.com", "10"])]);
        payload.sheets[0].headers = vec!["Contact".into(), "Days".into()];
        let without = payload.check(&Limits::default()).unwrap();
        assert!(without.header_errors().next().is_some());
        payload.sheets[0].overrides =
            MappingOverrides::default().set(0, ColumnOverride::Field(FieldId::Email));
        let with = payload.check(&Limits::default()).unwrap();
        assert!(with.header_errors().next().is_none());
        assert_eq!(with.checked.totals.ready, 1);
    }

    #[test]
    fn an_empty_payload_is_refused() {
        assert_eq!(
            invites(vec![]).check(&Limits::default()).unwrap_err(),
            ParseError::Empty
        );
    }

    #[test]
    fn a_payload_over_the_row_limit_is_refused() {
        let limits = Limits {
            max_rows: 1,
            ..Limits::default()
        };
        let payload = invites(vec![row(2, &["a@example.com"]), row(3, &["b@example.com"])]);
        assert_eq!(
            payload.check(&limits).unwrap_err(),
            ParseError::TooManyRows { limit: 1 }
        );
    }

    #[test]
    fn a_cell_over_the_size_limit_names_its_row_and_column() {
        let limits = Limits {
            max_cell_chars: 5,
            ..Limits::default()
        };
        let payload = invites(vec![row(4, &["a@example.com"])]);
        match payload.check(&limits).unwrap_err() {
            ParseError::CellTooLong { row, column, .. } => assert_eq!((row, column), (4, 1)),
            other => panic!("unexpected {other:?}"),
        }
    }
}
