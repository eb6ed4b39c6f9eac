//! Zip and OLE spreadsheets: the zip's directory checked first, then XLSX and ODS through
//! the streaming readers in `xlsx.rs` and `ods.rs`; legacy XLS (not a zip) through
//! calamine.

use std::io::Cursor;

use calamine::{Data, Reader, Xls};

use super::cells::{datetime_text, number_text, NoteKind, RowBuilder, SheetSink};
use super::{FileFormat, ParseError};
use crate::limits::Limits;

type Bytes<'a> = Cursor<&'a [u8]>;

/// Reads a spreadsheet whose format [`inspect_zip`] (or the OLE signature) decided, every
/// tab into `sink`.
pub(crate) fn read(
    format: FileFormat,
    bytes: &[u8],
    limits: &Limits,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError> {
    match format {
        FileFormat::Xlsx => super::xlsx::parse_xlsx(bytes, limits, sink),
        FileFormat::Ods => super::ods::parse_ods(bytes, limits, sink),
        FileFormat::Xls => {
            let mut book: Xls<Bytes> = Xls::new(Cursor::new(bytes)).map_err(corrupt)?;
            read_ranges(&mut book, limits, sink)
        }
        FileFormat::Delimited => Err(ParseError::NotATable),
    }
}

fn corrupt(e: impl std::fmt::Display) -> ParseError {
    ParseError::CorruptSpreadsheet {
        message: e.to_string(),
    }
}

/// Reads only the zip's central directory: which kind of document it is, and how big it
/// claims to be once unpacked. Nothing is decompressed yet.
pub(crate) fn inspect_zip(bytes: &[u8], limits: &Limits) -> Result<FileFormat, ParseError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ParseError::NotATable)?;
    let mut total: u64 = 0;
    let mut format = None;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(corrupt)?;
        total = total.saturating_add(entry.size());
        match entry.name().map_err(corrupt)?.as_ref() {
            "xl/workbook.xml" => format = Some(FileFormat::Xlsx),
            "content.xml" => format = format.or(Some(FileFormat::Ods)),
            "xl/workbook.bin" => {
                return Err(ParseError::UnsupportedFormat {
                    format: "Excel binary workbook (.xlsb)".into(),
                })
            }
            _ => {}
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(ParseError::UnpackedTooLarge {
            uncompressed: total,
            limit: limits.max_uncompressed_bytes,
        });
    }
    format.ok_or(ParseError::NotATable)
}

fn read_ranges<'a, R>(
    book: &mut R,
    limits: &Limits,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError>
where
    R: Reader<Bytes<'a>>,
    R::Error: std::fmt::Display,
{
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(corrupt)?;
        sink.begin(&name)?;
        let Some(start) = range.start() else {
            sink.end(Vec::new())?;
            continue;
        };
        let end = range.end().unwrap_or(start);
        check_dimensions(&name, start, end, limits)?;
        let mut rows = RowBuilder::new(limits, sink);
        for (r, row) in range.rows().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let (r, c) = (start.0 + r as u32, start.1 + c as u32);
                let (text, note) = data_text(value);
                if let Some(note) = note {
                    rows.note(r, c, note);
                }
                rows.put(r, c, text)?;
            }
        }
        rows.finish()?;
    }
    Ok(())
}

fn check_dimensions(
    sheet: &str,
    start: (u32, u32),
    end: (u32, u32),
    limits: &Limits,
) -> Result<(), ParseError> {
    let rows = u64::from(end.0.saturating_sub(start.0)) + 1;
    let columns = u64::from(end.1.saturating_sub(start.1)) + 1;
    // A few rows of slack for titles and the header above the data.
    if rows > limits.max_rows as u64 + 4 || columns > limits.max_columns as u64 {
        return Err(ParseError::SheetTooLarge {
            sheet: sheet.to_string(),
            rows,
            columns,
            max_rows: limits.max_rows,
            max_columns: limits.max_columns,
        });
    }
    Ok(())
}

fn data_text(v: &Data) -> (String, Option<NoteKind>) {
    match v {
        Data::Int(i) => (i.to_string(), None),
        Data::Float(f) => number_text(*f),
        Data::String(s) => (s.clone(), None),
        Data::Bool(b) => (
            if *b { "TRUE" } else { "FALSE" }.to_string(),
            Some(NoteKind::Boolean),
        ),
        Data::DateTime(d) if d.is_datetime() => {
            let (text, note) = datetime_text(d);
            (text, Some(note))
        }
        Data::DateTime(d) => (number_text(d.as_f64()).0, None),
        // ODS stores dates as ISO text already; a midnight time adds nothing.
        Data::DateTimeIso(s) => {
            let date = s.strip_suffix("T00:00:00").unwrap_or(s);
            (
                date.to_string(),
                (date.len() != s.len()).then_some(NoteKind::Date),
            )
        }
        Data::DurationIso(s) => (s.clone(), None),
        Data::Error(e) => (e.to_string(), Some(NoteKind::FormulaError)),
        Data::Empty => (String::new(), None),
    }
}
