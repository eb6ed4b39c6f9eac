use serde::{Deserialize, Serialize};

/// Why a file could not be read at all. Row problems are [`crate::Issue`]s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ParseError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is {} MB; the limit is {} MB.", mb(*bytes), mb(*limit))]
    FileTooLarge { bytes: u64, limit: u64 },
    #[error("This is not a CSV, TSV or spreadsheet file. Save it from your spreadsheet program as CSV or XLSX and try again.")]
    NotATable,
    #[error(
        "This spreadsheet format is not supported ({format}). Save it as XLSX, XLS, ODS or CSV."
    )]
    UnsupportedFormat { format: String },
    #[error("The spreadsheet could not be read: {message}.")]
    CorruptSpreadsheet { message: String },
    #[error("The spreadsheet unpacks to {} MB, more than the {} MB limit. It may be damaged or deliberately inflated.", mb(*uncompressed), mb(*limit))]
    UnpackedTooLarge { uncompressed: u64, limit: u64 },
    #[error("Tab \"{sheet}\" reaches {rows} rows and {columns} columns, more than the limits ({max_rows} rows, {max_columns} columns).")]
    SheetTooLarge {
        sheet: String,
        rows: u64,
        columns: u64,
        max_rows: usize,
        max_columns: usize,
    },
    #[error("The file has more than {limit} rows. Split it into smaller files.")]
    TooManyRows { limit: usize },
    #[error("Row {row} has {count} columns; the limit is {limit}.")]
    TooManyColumns {
        row: u32,
        count: usize,
        limit: usize,
    },
    #[error("Row {row}, column {} ({}), holds {chars} characters; the limit is {limit} a cell.", column, column_letter(*column))]
    CellTooLong {
        row: u32,
        column: u32,
        chars: usize,
        limit: usize,
    },
    #[error("Row {row} could not be read: {message}.")]
    Malformed { row: u32, message: String },
    #[error("The sheet has a header row but no people below it: \"{sheet}\" ends at its header on row {header_row}. Add one person a row under the header.")]
    NoDataRows { sheet: String, header_row: u32 },
}

fn mb(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / (1024 * 1024);
    if tenths.is_multiple_of(10) {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Spreadsheet column letters (1 → A, 27 → AA), which admins see in Excel even for CSVs.
pub fn column_letter(column: u32) -> String {
    let mut n = column;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_spreadsheet_convention() {
        assert_eq!(column_letter(1), "A");
        assert_eq!(column_letter(26), "Z");
        assert_eq!(column_letter(27), "AA");
        assert_eq!(column_letter(16384), "XFD");
    }

    #[test]
    fn sizes_are_reported_in_megabytes() {
        let e = ParseError::FileTooLarge {
            bytes: 60 * 1024 * 1024,
            limit: 50 * 1024 * 1024,
        };
        assert_eq!(e.to_string(), "The file is 60 MB; the limit is 50 MB.");
    }
}
