//! Bytes → [`Workbook`]: format and encoding detection, delimited text and spreadsheets,
//! header-row detection. Every limit in [`Limits`] is enforced here, before the work it
//! bounds, and every failure is a [`ParseError`] — never a panic.

#[cfg(feature = "read")]
mod cells;
#[cfg(feature = "read")]
mod delimited;
mod encoding;
mod error;
#[cfg(feature = "read")]
mod ods;
#[cfg(feature = "read")]
mod spreadsheet;
pub mod wire;
#[cfg(feature = "read")]
mod xlsx;
#[cfg(feature = "read")]
mod zipcap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "read")]
use crate::limits::Limits;

#[cfg(feature = "read")]
pub(crate) use cells::SheetSink;
#[cfg(feature = "read")]
pub use cells::{CellNote, NoteKind};
pub use encoding::TextEncoding;
pub use error::{column_letter, ParseError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParseOptions {
    /// Field separator for delimited text; detected when None.
    pub delimiter: Option<u8>,
    /// Index of the header among the non-blank rows of each sheet; detected when None.
    pub header_row: Option<usize>,
    /// Folded header words (see `ImportKind::header_keys`) that mark the header row, so a
    /// title such as "Class list 2026" above it is skipped.
    pub header_keys: Vec<String>,
}

#[cfg(feature = "read")]
impl ParseOptions {
    /// How many non-blank rows of a tab to hold before its header is sure to be among them.
    pub(crate) fn head_len(&self) -> usize {
        self.header_row.map_or(3, |h| h.saturating_add(1).max(3))
    }

    /// Splits a tab's first non-blank rows (at least one) at its header: the header's
    /// index among them, the header, and the data rows after it.
    pub(crate) fn split_at_header(
        &self,
        mut rows: Vec<SourceRow>,
    ) -> (usize, SourceRow, Vec<SourceRow>) {
        let index = match self.header_row {
            Some(i) => i.min(rows.len() - 1),
            None => detect_header(&rows, &self.header_keys),
        };
        let data = rows.split_off(index + 1);
        let header = rows.pop().expect("index is within the rows");
        (index, header, data)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Delimited,
    Xlsx,
    Xls,
    Ods,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseWarning {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    pub format: FileFormat,
    pub encoding: Option<TextEncoding>,
    pub delimiter: Option<char>,
    pub sheets: Vec<Sheet>,
    pub warnings: Vec<ParseWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    /// How many non-blank rows (titles) sit above the header.
    pub header_row_index: usize,
    /// The header's row number as the admin sees it in the file.
    pub header_row_number: u32,
    pub headers: Vec<String>,
    pub rows: Vec<SourceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRow {
    /// Line (delimited text) or row (spreadsheet) number as the admin sees it, from 1.
    pub number: u32,
    /// Trimmed cells, trailing empty cells removed; may be shorter than the header.
    pub cells: Vec<String>,
}

impl SourceRow {
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map_or("", String::as_str)
    }
}

/// A sheet before its header is found: all non-blank rows.
#[cfg(feature = "read")]
pub(crate) struct RawSheet {
    pub name: String,
    pub rows: Vec<SourceRow>,
    /// Typed cells that had to be converted to give their text.
    pub notes: Vec<CellNote>,
}

#[cfg(feature = "read")]
pub fn parse_bytes(
    bytes: &[u8],
    file_name: Option<&str>,
    opts: &ParseOptions,
    limits: &Limits,
) -> Result<Workbook, ParseError> {
    into_workbook(prepare(bytes, file_name, opts, limits)?, opts, limits)
}

/// Finishes what [`prepare`] started: reads delimited rows and finds every header.
#[cfg(feature = "read")]
pub(crate) fn into_workbook(
    prepared: Prepared<'_>,
    opts: &ParseOptions,
    limits: &Limits,
) -> Result<Workbook, ParseError> {
    let (format, raw, encoding, delimiter, mut warnings) = match prepared {
        Prepared::Spreadsheet(format, bytes) => {
            let mut all = Collect(Vec::new());
            spreadsheet::read(format, bytes, limits, &mut all)?;
            (format, all.0, None, None, Vec::new())
        }
        Prepared::Delimited(input) => {
            let rows = delimited::parse_text(&input.text, input.delimiter, limits)?;
            let sheet = RawSheet {
                name: input.name,
                rows,
                notes: Vec::new(),
            };
            (
                FileFormat::Delimited,
                vec![sheet],
                Some(input.encoding),
                Some(input.delimiter as char),
                input.warnings,
            )
        }
    };
    let mut sheets = Vec::with_capacity(raw.len());
    for mut sheet in raw {
        if sheet.rows.is_empty() {
            continue;
        }
        let notes = std::mem::take(&mut sheet.notes);
        let found = find_header(sheet, opts, limits)?;
        note_warnings(
            notes,
            &found.name,
            found.header_row_number,
            &found.headers,
            &mut warnings,
        );
        sheets.push(found);
    }
    if sheets.is_empty() {
        return Err(ParseError::Empty);
    }
    if let Some(err) = no_data_rows(sheets.iter()) {
        return Err(err);
    }
    Ok(Workbook {
        format,
        encoding,
        delimiter,
        sheets,
        warnings,
    })
}

/// The report's sentences about a tab's converted cells.
#[cfg(feature = "read")]
pub(crate) fn note_warnings(
    notes: Vec<CellNote>,
    sheet: &str,
    header_row_number: u32,
    headers: &[String],
    out: &mut Vec<ParseWarning>,
) {
    for note in notes {
        // The header row's own cells are its words, not data worth a warning.
        if note.first_row <= header_row_number && note.count == 1 {
            continue;
        }
        let header = headers.get(note.column as usize).map_or("", String::as_str);
        out.push(note.warning(sheet, header));
    }
}

/// Keeps every tab as rows, for [`parse_bytes`].
#[cfg(feature = "read")]
struct Collect(Vec<RawSheet>);

#[cfg(feature = "read")]
impl SheetSink for Collect {
    fn begin(&mut self, name: &str) -> Result<(), ParseError> {
        self.0.push(RawSheet {
            name: name.to_string(),
            rows: Vec::new(),
            notes: Vec::new(),
        });
        Ok(())
    }
    fn row(&mut self, row: SourceRow) -> Result<(), ParseError> {
        if let Some(sheet) = self.0.last_mut() {
            sheet.rows.push(row);
        }
        Ok(())
    }
    fn end(&mut self, notes: Vec<CellNote>) -> Result<(), ParseError> {
        if let Some(sheet) = self.0.last_mut() {
            sheet.notes = notes;
        }
        Ok(())
    }
}

/// Decoded delimited text, ready to be read row by row.
#[cfg(feature = "read")]
pub(crate) struct DelimitedInput<'a> {
    pub name: String,
    pub text: std::borrow::Cow<'a, str>,
    pub encoding: TextEncoding,
    pub delimiter: u8,
    pub warnings: Vec<ParseWarning>,
}

#[cfg(feature = "read")]
pub(crate) enum Prepared<'a> {
    /// A spreadsheet whose zip directory (or OLE signature) was checked; its tabs are read
    /// by whoever consumes it, through a [`SheetSink`].
    Spreadsheet(FileFormat, &'a [u8]),
    Delimited(DelimitedInput<'a>),
}

/// Size checks, format detection and decoding. Spreadsheets are only inspected (the zip
/// directory against the unpacked limit) and delimited text only decoded, so callers can
/// stream either.
#[cfg(feature = "read")]
pub(crate) fn prepare<'a>(
    bytes: &'a [u8],
    file_name: Option<&str>,
    opts: &ParseOptions,
    limits: &Limits,
) -> Result<Prepared<'a>, ParseError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ParseError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let ext = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(b"PK\x03\x04") {
        let format = spreadsheet::inspect_zip(bytes, limits)?;
        return Ok(Prepared::Spreadsheet(format, bytes));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Prepared::Spreadsheet(FileFormat::Xls, bytes));
    }
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        return Err(ParseError::CorruptSpreadsheet {
            message: format!("the file is named .{ext} but its contents are not a spreadsheet"),
        });
    }
    let (text, encoding) = encoding::decode(bytes)?;
    let mut warnings = Vec::new();
    if encoding == TextEncoding::Windows1252 {
        warnings.push(ParseWarning {
            message: "The file is not UTF-8, so it was read as Windows-1252 (Excel's Western European encoding). Check that accented names look right; saving as \"CSV UTF-8\" avoids this.".into(),
        });
    }
    let delimiter = opts
        .delimiter
        .unwrap_or_else(|| delimited::sniff(&text, ext == "tsv" || ext == "tab"));
    let name = file_name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .map(|n| n.rsplit_once('.').map_or(n, |(s, _)| s).to_string())
        .unwrap_or_else(|| "Sheet1".into());
    Ok(Prepared::Delimited(DelimitedInput {
        name,
        text,
        encoding,
        delimiter,
        warnings,
    }))
}

/// What [`stream_delimited`] hands on, in order: the header once it is found, then every
/// data row.
#[cfg(feature = "read")]
pub(crate) enum Delimited<'r> {
    Header(&'r SourceRow),
    /// A data row that was read with the first rows, before the header was known.
    Kept(SourceRow),
    /// A data row straight from the text.
    Read(RowView<'r>),
}

/// Delimited text's header as [`stream_delimited`] found it.
#[cfg(feature = "read")]
pub(crate) struct StreamedHeader {
    /// Among the non-blank rows: how many title rows sit above it.
    pub index: usize,
    pub header: SourceRow,
    /// Data rows under it.
    pub data_rows: usize,
}

/// Reads delimited text as [`parse_bytes`] does, without holding its rows: the first rows
/// are kept until the header is among them, then each data row goes to `sink` as it is
/// read. The same answers as [`parse_bytes`] for an empty file, too many rows and a header
/// with nothing under it.
#[cfg(feature = "read")]
pub(crate) fn stream_delimited(
    input: &DelimitedInput<'_>,
    opts: &ParseOptions,
    limits: &Limits,
    mut sink: impl FnMut(Delimited<'_>) -> Result<(), ParseError>,
) -> Result<StreamedHeader, ParseError> {
    fn found<S: FnMut(Delimited<'_>) -> Result<(), ParseError>>(
        head: &mut Vec<SourceRow>,
        opts: &ParseOptions,
        data_rows: &mut usize,
        sink: &mut S,
    ) -> Result<(usize, SourceRow), ParseError> {
        let (index, header, data) = opts.split_at_header(std::mem::take(head));
        sink(Delimited::Header(&header))?;
        for row in data {
            *data_rows += 1;
            sink(Delimited::Kept(row))?;
        }
        Ok((index, header))
    }

    let head_len = opts.head_len();
    let mut head: Vec<SourceRow> = Vec::new();
    let mut header: Option<(usize, SourceRow)> = None;
    let mut data_rows = 0usize;
    for_each_record(&input.text, input.delimiter, limits, |row| {
        if header.is_some() {
            data_rows += 1;
            return sink(Delimited::Read(row));
        }
        head.push(row.to_source_row());
        if head.len() >= head_len {
            header = Some(found(&mut head, opts, &mut data_rows, &mut sink)?);
        }
        Ok(())
    })?;
    let (index, header) = match header {
        Some(found) => found,
        None if head.is_empty() => return Err(ParseError::Empty),
        None => found(&mut head, opts, &mut data_rows, &mut sink)?,
    };
    if data_rows > limits.max_rows {
        return Err(ParseError::TooManyRows {
            limit: limits.max_rows,
        });
    }
    if data_rows == 0 {
        return Err(ParseError::NoDataRows {
            sheet: input.name.clone(),
            header_row: header.number,
        });
    }
    Ok(StreamedHeader {
        index,
        header,
        data_rows,
    })
}

#[cfg(feature = "read")]
pub(crate) use delimited::for_each_record;
#[cfg(feature = "read")]
pub use delimited::RowView;
#[cfg(feature = "read")]
pub(crate) use spreadsheet::read as read_spreadsheet;

/// The one answer for a file whose sheets hold a header and nothing under it, named by
/// the first such sheet; None when any sheet has a data row. [`parse_bytes`] applies it to
/// every tab and [`crate::check`] to the tabs it imports; a caller that picks tabs itself
/// (`sheets_to_check`) passes those, so an instructions tab's rows hide nothing.
pub fn no_data_rows<'s>(mut sheets: impl Iterator<Item = &'s Sheet>) -> Option<ParseError> {
    let first = sheets.next()?;
    if !first.rows.is_empty() || sheets.any(|s| !s.rows.is_empty()) {
        return None;
    }
    Some(ParseError::NoDataRows {
        sheet: first.name.clone(),
        header_row: first.header_row_number,
    })
}

#[cfg(feature = "read")]
fn find_header(raw: RawSheet, opts: &ParseOptions, limits: &Limits) -> Result<Sheet, ParseError> {
    let (index, header, data) = opts.split_at_header(raw.rows);
    if data.len() > limits.max_rows {
        return Err(ParseError::TooManyRows {
            limit: limits.max_rows,
        });
    }
    Ok(Sheet {
        name: raw.name,
        header_row_index: index,
        header_row_number: header.number,
        headers: header.cells,
        rows: data,
    })
}

/// Spreadsheets exported for humans often carry a title ("Class list 2026") and maybe a
/// date line above the real header, so look at the first three rows.
#[cfg(feature = "read")]
pub(crate) fn detect_header(rows: &[SourceRow], keys: &[String]) -> usize {
    let window = rows.len().min(3);
    if !keys.is_empty() {
        let hit = rows[..window].iter().position(|r| {
            r.cells.iter().any(|c| {
                !c.is_empty()
                    && crate::header::candidates(c)
                        .iter()
                        .any(|(k, _)| keys.contains(k))
            })
        });
        if let Some(i) = hit {
            return i;
        }
    }
    let filled = |r: &SourceRow| r.cells.iter().filter(|c| !c.is_empty()).count();
    let mut i = 0;
    while i < 2 && i + 1 < window && filled(&rows[i]) == 1 && filled(&rows[i + 1]) > 1 {
        i += 1;
    }
    if i == 0
        && window == 3
        && filled(&rows[0]) == 1
        && filled(&rows[1]) == 1
        && filled(&rows[2]) > 1
    {
        i = 2;
    }
    i
}

#[cfg(test)]
mod tests;
