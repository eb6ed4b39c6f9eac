//! Spreadsheet cells → the text an admin sees in them, and rows built from cells.
//!
//! Spreadsheets store typed values: every number is a float, a date is a day count, a
//! boolean is 0 or 1. Reading them as the admin sees them (`14`, `2026-03-01`, `007`)
//! sometimes means converting; each conversion is noted so the report can say so.

use serde::{Deserialize, Serialize};

use super::{column_letter, ParseError, ParseWarning, SourceRow};
use crate::limits::Limits;

/// What was done to a typed cell to give its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// A date cell (a day count underneath) read as `YYYY-MM-DD`.
    Date,
    /// A date-and-time cell read as `YYYY-MM-DDTHH:MM:SS`.
    DateTime,
    /// A time-of-day cell read as `HH:MM:SS`.
    Time,
    /// A number shown with leading zeros by its format (`007`) read as shown.
    ZeroPadded,
    /// A number of 16 or more digits: the spreadsheet kept only 15 of them.
    BigNumber,
    /// A TRUE/FALSE cell read as the word.
    Boolean,
    /// A formula that failed (`#N/A`, `#REF!`) read as its error text.
    FormulaError,
}

/// Conversions of one kind in one column of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellNote {
    /// From 0.
    pub column: u32,
    pub kind: NoteKind,
    pub count: u32,
    /// The first row (as the admin sees it) where it happened.
    pub first_row: u32,
}

impl CellNote {
    /// The report's sentence about this conversion, naming the tab, column and header.
    pub(crate) fn warning(&self, sheet: &str, header: &str) -> ParseWarning {
        let (cells, were) = if self.count == 1 {
            ("1 cell".to_string(), "was")
        } else {
            (format!("{} cells", self.count), "were")
        };
        let what = match self.kind {
            NoteKind::Date => format!("{cells} holding dates {were} read as YYYY-MM-DD"),
            NoteKind::DateTime => {
                format!("{cells} holding dates and times {were} read as YYYY-MM-DDTHH:MM:SS")
            }
            NoteKind::Time => format!("{cells} holding times of day {were} read as HH:MM:SS"),
            NoteKind::ZeroPadded => format!(
                "{cells} holding numbers shown with leading zeros {were} read as shown (such as 007)"
            ),
            NoteKind::BigNumber => format!(
                "{cells} holding numbers of 16 or more digits {were} stored by the spreadsheet with only 15 exact digits; check them, or format the column as text before typing them"
            ),
            NoteKind::Boolean => format!("{cells} holding TRUE/FALSE values {were} read as the words TRUE and FALSE"),
            NoteKind::FormulaError => {
                format!("{cells} holding formula errors (such as #N/A) {were} read as that text")
            }
        };
        let header = if header.is_empty() {
            String::new()
        } else {
            format!(" (\"{header}\")")
        };
        ParseWarning {
            message: format!(
                "Tab \"{sheet}\", column {}{header}: {what}, first on row {}.",
                column_letter(self.column + 1),
                self.first_row
            ),
        }
    }
}

/// A float as Excel shows it in a General cell: whole numbers without a decimal point,
/// others to Excel's 15 significant digits (so 0.1+0.2 reads 0.3).
pub(crate) fn number_text(f: f64) -> (String, Option<NoteKind>) {
    if !f.is_finite() {
        return (f.to_string(), None);
    }
    if f.fract() == 0.0 {
        if f.abs() < 1e15 {
            return (format!("{}", f as i64), None);
        }
        return (format!("{f:.0}"), Some(NoteKind::BigNumber));
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    (rounded.to_string(), None)
}

/// An Excel day count as an ISO date, time or date-time.
pub(crate) fn serial_text(serial: f64, date1904: bool) -> (String, NoteKind) {
    use calamine::{ExcelDateTime, ExcelDateTimeType};
    datetime_text(&ExcelDateTime::new(
        serial,
        ExcelDateTimeType::DateTime,
        date1904,
    ))
}

/// calamine's date cell (XLS) as an ISO date, time or date-time.
pub(crate) fn datetime_text(dt: &calamine::ExcelDateTime) -> (String, NoteKind) {
    let serial = dt.as_f64();
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    // Round to the second: Excel's float day fractions rarely land on whole seconds.
    let (h, mi, s) = if ms >= 500 {
        let total = u32::from(h) * 3600 + u32::from(mi) * 60 + u32::from(s) + 1;
        if total >= 86_400 {
            (23, 59, 59)
        } else {
            (total / 3600, total / 60 % 60, total % 60)
        }
    } else {
        (u32::from(h), u32::from(mi), u32::from(s))
    };
    if (0.0..1.0).contains(&serial) {
        return (format!("{h:02}:{mi:02}:{s:02}"), NoteKind::Time);
    }
    if h == 0 && mi == 0 && s == 0 {
        (format!("{y:04}-{mo:02}-{d:02}"), NoteKind::Date)
    } else {
        (
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
            NoteKind::DateTime,
        )
    }
}

/// Receives a spreadsheet's tabs as they are read: each non-blank row is handed over as
/// soon as it is complete, so a caller that checks rows as they come never holds the
/// sheet as rows.
pub(crate) trait SheetSink {
    fn begin(&mut self, name: &str) -> Result<(), ParseError>;
    /// How many rows the tab being read says it has (already within the limits); a hint
    /// for allocating, never trusted further.
    fn expect_rows(&mut self, _rows: usize) {}
    fn row(&mut self, row: SourceRow) -> Result<(), ParseError>;
    /// The tab is read; `notes` are its converted cells.
    fn end(&mut self, notes: Vec<CellNote>) -> Result<(), ParseError>;
}

/// Collects cells arriving in row-major order into trimmed, non-blank rows, refusing a
/// row, column or cell past the limits as soon as it arrives.
pub(crate) struct RowBuilder<'l, 's> {
    limits: &'l Limits,
    sink: &'s mut dyn SheetSink,
    rows: usize,
    current: Option<u32>,
    cells: Vec<String>,
    notes: Vec<CellNote>,
}

impl<'l, 's> RowBuilder<'l, 's> {
    pub(crate) fn new(limits: &'l Limits, sink: &'s mut dyn SheetSink) -> Self {
        RowBuilder {
            limits,
            sink,
            rows: 0,
            current: None,
            cells: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn expect_rows(&mut self, rows: usize) {
        self.sink.expect_rows(rows);
    }

    /// Moves to `row` (from 0), finishing the row before it.
    pub(crate) fn touch(&mut self, row: u32) -> Result<(), ParseError> {
        if self.current != Some(row) {
            self.flush()?;
            self.current = Some(row);
        }
        Ok(())
    }

    pub(crate) fn note(&mut self, row: u32, col: u32, kind: NoteKind) {
        let row = row.saturating_add(1);
        match self
            .notes
            .iter_mut()
            .find(|n| n.column == col && n.kind == kind)
        {
            Some(n) => {
                n.count = n.count.saturating_add(1);
                n.first_row = n.first_row.min(row);
            }
            None => self.notes.push(CellNote {
                column: col,
                kind,
                count: 1,
                first_row: row,
            }),
        }
    }

    pub(crate) fn put(&mut self, row: u32, col: u32, text: String) -> Result<(), ParseError> {
        let text = match text.trim() {
            t if t.len() == text.len() => text,
            t => t.to_string(),
        };
        self.touch(row)?;
        if text.is_empty() {
            return Ok(());
        }
        let number = row.saturating_add(1);
        let col = col as usize;
        if col >= self.limits.max_columns {
            return Err(ParseError::TooManyColumns {
                row: number,
                count: col + 1,
                limit: self.limits.max_columns,
            });
        }
        if text.len() > self.limits.max_cell_chars {
            let chars = text.chars().count();
            if chars > self.limits.max_cell_chars {
                return Err(ParseError::CellTooLong {
                    row: number,
                    column: col as u32 + 1,
                    chars,
                    limit: self.limits.max_cell_chars,
                });
            }
        }
        if self.cells.len() <= col {
            self.cells.resize(col + 1, String::new());
        }
        self.cells[col] = text;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ParseError> {
        if let Some(row) = self.current.take() {
            if !self.cells.is_empty() {
                if self.rows >= self.limits.max_rows.saturating_add(4) {
                    return Err(ParseError::TooManyRows {
                        limit: self.limits.max_rows,
                    });
                }
                self.rows += 1;
                // The next row's cells will be about as many.
                let width = self.cells.len();
                let cells = std::mem::replace(&mut self.cells, Vec::with_capacity(width));
                self.sink.row(SourceRow {
                    number: row.saturating_add(1),
                    cells,
                })?;
            }
        }
        Ok(())
    }

    /// Hands over the last row, then the notes.
    pub(crate) fn finish(mut self) -> Result<(), ParseError> {
        self.flush()?;
        self.sink.end(std::mem::take(&mut self.notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_read_without_a_decimal_point() {
        assert_eq!(number_text(14.0), ("14".into(), None));
        assert_eq!(number_text(-3.0), ("-3".into(), None));
        assert_eq!(number_text(0.1 + 0.2), ("0.3".into(), None));
        assert_eq!(number_text(2.5), ("2.5".into(), None));
        assert_eq!(
            number_text(1234567890123456789.0),
            ("1234567890123456768".into(), Some(NoteKind::BigNumber))
        );
    }

    #[test]
    fn day_counts_read_as_iso_dates_times_and_date_times() {
        assert_eq!(
            serial_text(46082.0, false),
            ("2026-03-01".into(), NoteKind::Date)
        );
        assert_eq!(
            serial_text(46082.5, false),
            ("2026-03-01T12:00:00".into(), NoteKind::DateTime)
        );
        assert_eq!(
            serial_text(0.75, false),
            ("18:00:00".into(), NoteKind::Time)
        );
        // The 1904 system counts from 1904-01-01.
        assert_eq!(serial_text(0.0 + 1.0, true).0, "1904-01-02");
    }

    #[test]
    fn a_conversion_warning_names_tab_column_header_and_first_row() {
        let n = CellNote {
            column: 2,
            kind: NoteKind::Date,
            count: 12,
            first_row: 3,
        };
        assert_eq!(
            n.warning("Staff", "Start date").message,
            "Tab \"Staff\", column C (\"Start date\"): 12 cells holding dates were read as YYYY-MM-DD, first on row 3."
        );
    }
}
