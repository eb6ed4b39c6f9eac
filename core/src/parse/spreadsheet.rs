//! XLSX, ODS and XLS through calamine, with the zip and dimension checks done first.

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};

use super::{FileFormat, ParseError, RawSheet, SourceRow};
use crate::limits::Limits;

type Bytes<'a> = Cursor<&'a [u8]>;

pub(crate) fn parse_zip(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(FileFormat, Vec<RawSheet>), ParseError> {
    let format = inspect_zip(bytes, limits)?;
    let sheets = match format {
        FileFormat::Xlsx => parse_xlsx(bytes, limits)?,
        _ => {
            check_ods_extent(bytes, limits)?;
            let mut book: Ods<Bytes> = Ods::new(Cursor::new(bytes)).map_err(corrupt)?;
            read_ranges(&mut book, limits)?
        }
    };
    Ok((format, sheets))
}

pub(crate) fn parse_xls(bytes: &[u8], limits: &Limits) -> Result<Vec<RawSheet>, ParseError> {
    let mut book: Xls<Bytes> = Xls::new(Cursor::new(bytes)).map_err(corrupt)?;
    read_ranges(&mut book, limits)
}

fn corrupt(e: impl std::fmt::Display) -> ParseError {
    ParseError::CorruptSpreadsheet {
        message: e.to_string(),
    }
}

/// Reads only the zip's central directory: which kind of document it is, and how big it
/// claims to be once unpacked. Nothing is decompressed yet.
fn inspect_zip(bytes: &[u8], limits: &Limits) -> Result<FileFormat, ParseError> {
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

/// ODS compresses runs of cells into `number-rows-repeated` / `number-columns-repeated`
/// attributes, and calamine expands them into a dense grid: a 500-byte file can ask for
/// billions of cells. Walk content.xml first and refuse sheets whose filled area exceeds
/// the limits. Repeated *empty* cells and rows (LibreOffice pads every sheet with them)
/// are not counted, matching what calamine keeps.
fn check_ods_extent(bytes: &[u8], limits: &Limits) -> Result<(), ParseError> {
    use quick_xml::events::{BytesStart, Event};

    fn attr(e: &BytesStart<'_>, name: &str) -> Option<u64> {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == name)
            .and_then(|a| a.value.trim().parse().ok())
    }
    fn has_value(e: &BytesStart<'_>) -> bool {
        e.attributes()
            .flatten()
            .any(|a| a.key.local_name().as_ref() == "value-type")
    }

    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ParseError::NotATable)?;
    let file = zip.by_name("content.xml").map_err(corrupt)?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(file));
    let mut buf = Vec::new();
    let (mut sheet, mut rows, mut widest) = (String::new(), 0u64, 0u64);
    let (mut row_repeat, mut col, mut row_filled) = (1u64, 0u64, false);
    let too_large = |sheet: &str, rows: u64, columns: u64| ParseError::SheetTooLarge {
        sheet: sheet.to_string(),
        rows,
        columns,
        max_rows: limits.max_rows,
        max_columns: limits.max_columns,
    };
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(corrupt)?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.local_name().as_ref() == "table-row" && row_filled {
                    rows = rows.saturating_add(row_repeat);
                    if rows > limits.max_rows as u64 + 4 {
                        return Err(too_large(&sheet, rows, widest));
                    }
                }
                continue;
            }
            Event::Eof => return Ok(()),
            _ => continue,
        };
        match e.local_name().as_ref() {
            "table" => {
                sheet = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "name")
                    .map(|a| a.value.to_string())
                    .unwrap_or_default();
                rows = 0;
                widest = 0;
            }
            "table-row" => {
                row_repeat = attr(e, "number-rows-repeated").unwrap_or(1).max(1);
                col = 0;
                row_filled = false;
            }
            "table-cell" | "covered-table-cell" => {
                let repeat = attr(e, "number-columns-repeated").unwrap_or(1).max(1);
                col = col.saturating_add(repeat);
                if has_value(e) || !empty {
                    row_filled = true;
                    widest = widest.max(col);
                    if col > limits.max_columns as u64 {
                        return Err(too_large(&sheet, rows.saturating_add(row_repeat), col));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Streams cells so memory follows the cells actually present, not the declared size.
fn parse_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<RawSheet>, ParseError> {
    let mut book: Xlsx<Bytes> = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let mut cells = book.worksheet_cells_reader(&name).map_err(corrupt)?;
        let dims = cells.dimensions();
        check_dimensions(&name, dims.start, dims.end, limits)?;
        let mut rows = RowBuilder::new(limits);
        while let Some(cell) = cells.next_cell().map_err(corrupt)? {
            let (r, c) = cell.get_position();
            let text = dataref_text(cell.get_value());
            rows.put(r, c, text)?;
        }
        out.push(RawSheet {
            name,
            rows: rows.finish(),
        });
    }
    Ok(out)
}

fn read_ranges<'a, R>(book: &mut R, limits: &Limits) -> Result<Vec<RawSheet>, ParseError>
where
    R: Reader<Bytes<'a>>,
    R::Error: std::fmt::Display,
{
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(corrupt)?;
        let Some(start) = range.start() else {
            out.push(RawSheet {
                name,
                rows: Vec::new(),
            });
            continue;
        };
        let end = range.end().unwrap_or(start);
        check_dimensions(&name, start, end, limits)?;
        let mut rows = RowBuilder::new(limits);
        for (r, row) in range.rows().enumerate() {
            for (c, value) in row.iter().enumerate() {
                rows.put(start.0 + r as u32, start.1 + c as u32, data_text(value))?;
            }
        }
        out.push(RawSheet {
            name,
            rows: rows.finish(),
        });
    }
    Ok(out)
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

/// Collects cells arriving in row-major order into trimmed, non-blank rows.
struct RowBuilder<'l> {
    limits: &'l Limits,
    rows: Vec<SourceRow>,
    current: Option<u32>,
    cells: Vec<String>,
}

impl<'l> RowBuilder<'l> {
    fn new(limits: &'l Limits) -> Self {
        RowBuilder {
            limits,
            rows: Vec::new(),
            current: None,
            cells: Vec::new(),
        }
    }

    fn put(&mut self, row: u32, col: u32, text: String) -> Result<(), ParseError> {
        let text = match text.trim() {
            t if t.len() == text.len() => text,
            t => t.to_string(),
        };
        if self.current != Some(row) {
            self.flush()?;
            self.current = Some(row);
        }
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
                if self.rows.len() >= self.limits.max_rows.saturating_add(4) {
                    return Err(ParseError::TooManyRows {
                        limit: self.limits.max_rows,
                    });
                }
                let cells = std::mem::take(&mut self.cells);
                self.rows.push(SourceRow {
                    number: row.saturating_add(1),
                    cells,
                });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<SourceRow> {
        // flush only fails on the row limit, which the caller re-checks after the header.
        let _ = self.flush();
        self.rows
    }
}

fn number_text(f: f64) -> String {
    // Excel stores every number as a float; IDs and day counts should read "7", not "7.0".
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn dataref_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

fn data_text(v: &Data) -> String {
    match v {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}
