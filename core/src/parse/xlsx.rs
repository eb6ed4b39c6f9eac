//! XLSX read as a stream: each part goes through a [`CappedEntry`], shared strings are
//! packed into one arena, and a sheet is abandoned the moment it passes a row, column,
//! cell or byte limit. calamine is not used here because it inflates shared strings
//! whole and gives no way to stop a sheet part-way; memory here is the rows kept plus a
//! few small buffers.

use std::collections::HashMap;
use std::io::{BufReader, Cursor};

use quick_xml::events::{BytesStart, Event};

use super::cells::{number_text, serial_text, NoteKind, RowBuilder, SheetSink};
use super::zipcap::{Budget, CappedEntry};
use super::ParseError;
use crate::limits::Limits;

pub(super) type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Shared strings above this many bytes are refused: far more than a sheet within the
/// row limit holds, and the one table kept beside the rows.
const MAX_SHARED_STRING_BYTES: usize = 64 * 1024 * 1024;
/// Excel's own grid ends at column XFD.
const MAX_GRID_COLUMNS: u32 = 16_384;
const READ_CHUNK: usize = 16 * 1024;

/// Reads every tab into `sink`, row by row.
pub(crate) fn parse_xlsx(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ParseError::NotATable)?;
    let budget = Budget::new(limits.max_uncompressed_bytes);
    // A tag or text node longer than the longest allowed cell (4 bytes a character,
    // plus room for attributes) is no honest spreadsheet.
    let max_event = (limits.max_cell_chars as u64)
        .saturating_mul(4)
        .saturating_add(64 * 1024);

    let book = read_workbook(&mut zip, &budget, max_event)?;
    let rels = read_rels(&mut zip, &budget, max_event)?;
    let styles = match part(&mut zip, "xl/styles.xml", &budget, max_event)? {
        Some(p) => read_styles(p)?,
        None => Vec::new(),
    };
    let sst_path = rels
        .shared_strings
        .clone()
        .unwrap_or_else(|| "xl/sharedStrings.xml".into());
    let strings = match part(&mut zip, &sst_path, &budget, max_event)? {
        Some(p) => read_shared_strings(p, limits)?,
        None => SharedStrings::default(),
    };
    let ctx = SheetCtx {
        limits,
        styles: &styles,
        strings: &strings,
        date1904: book.date1904,
    };
    for (name, rid) in book.sheets {
        let Some(path) = rels.targets.get(&rid) else {
            return Err(corrupt(format!("tab \"{name}\" points to a missing part")));
        };
        let Some(p) = part(&mut zip, path, &budget, max_event)? else {
            return Err(corrupt(format!("tab \"{name}\" is missing ({path})")));
        };
        sink.begin(&name)?;
        read_sheet(p, &name, &ctx, sink)?;
    }
    Ok(())
}

pub(super) fn corrupt(message: String) -> ParseError {
    ParseError::CorruptSpreadsheet { message }
}

type PartReader<'z, 'd, 'b> = BufReader<CappedEntry<'b, zip::read::ZipFile<'z, Cursor<&'d [u8]>>>>;

/// One zip part being read as XML, through the capped reader.
pub(super) struct Part<'z, 'd, 'b> {
    xml: quick_xml::Reader<PartReader<'z, 'd, 'b>>,
    buf: Vec<u8>,
}

pub(super) fn part<'z, 'd, 'b>(
    zip: &'z mut Zip<'d>,
    name: &str,
    budget: &'b Budget,
    max_event: u64,
) -> Result<Option<Part<'z, 'd, 'b>>, ParseError> {
    let name = name.trim_start_matches('/');
    // Some writers differ in case or use backslashes between the rels and the zip.
    let index = zip.index_for_name(name).or_else(|| {
        let wanted = name.replace('\\', "/");
        let found = zip
            .file_names()
            .flatten()
            .find(|n| n.replace('\\', "/").eq_ignore_ascii_case(&wanted))?
            .into_owned();
        zip.index_for_name(&found)
    });
    let Some(index) = index else {
        return Ok(None);
    };
    let file = zip
        .by_index(index)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    let declared = file.size();
    let capped = CappedEntry::new(file, name, declared, budget).with_max_event(max_event);
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(READ_CHUNK, capped));
    let config = xml.config_mut();
    config.trim_text(false);
    config.check_end_names = false;
    config.expand_empty_elements = false;
    Ok(Some(Part {
        xml,
        buf: Vec::with_capacity(1024),
    }))
}

impl Part<'_, '_, '_> {
    pub(super) fn next(&mut self) -> Result<Event<'_>, ParseError> {
        self.xml.get_mut().get_mut().mark();
        self.buf.clear();
        // Keep the buffer from holding on to one large event for the rest of the part.
        if self.buf.capacity() > 256 * 1024 {
            self.buf.shrink_to(1024);
        }
        let result = self.xml.read_event_into(&mut self.buf);
        match result {
            Ok(e) => Ok(e),
            Err(e) => Err(match self.xml.get_ref().get_ref().overrun() {
                Some(why) => why.clone().into_error(),
                None => corrupt(format!("the XML is damaged ({e})")),
            }),
        }
    }
}

pub(super) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| match quick_xml::escape::unescape(&a.value) {
            Ok(v) => v.into_owned(),
            Err(_) => a.value.into_owned(),
        })
}

/// Appends a text or entity event's characters to `out`.
fn push_text(event: &Event<'_>, out: &mut String) {
    match event {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::CData(t) => out.push_str(t),
        Event::GeneralRef(r) => {
            if let Some(s) = quick_xml::escape::resolve_xml_entity(r) {
                out.push_str(s);
            } else if let Ok(Some(c)) = r.resolve_char_ref() {
                out.push(c);
            }
        }
        _ => {}
    }
}

struct Book {
    sheets: Vec<(String, String)>,
    date1904: bool,
}

fn read_workbook(zip: &mut Zip<'_>, budget: &Budget, max_event: u64) -> Result<Book, ParseError> {
    let Some(mut p) = part(zip, "xl/workbook.xml", budget, max_event)? else {
        return Err(ParseError::NotATable);
    };
    let mut book = Book {
        sheets: Vec::new(),
        date1904: false,
    };
    loop {
        match p.next()? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "workbookPr" => {
                    book.date1904 = matches!(attr(&e, "date1904").as_deref(), Some("1" | "true"))
                }
                "sheet" => {
                    let name = attr(&e, "name").unwrap_or_default();
                    let rid = attr(&e, "id").unwrap_or_default();
                    book.sheets.push((name, rid));
                }
                _ => {}
            },
            Event::Eof => return Ok(book),
            _ => {}
        }
    }
}

#[derive(Default)]
struct Rels {
    targets: HashMap<String, String>,
    shared_strings: Option<String>,
}

fn read_rels(zip: &mut Zip<'_>, budget: &Budget, max_event: u64) -> Result<Rels, ParseError> {
    let mut rels = Rels::default();
    let Some(mut p) = part(zip, "xl/_rels/workbook.xml.rels", budget, max_event)? else {
        return Ok(rels);
    };
    loop {
        match p.next()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let target = attr(&e, "Target").unwrap_or_default();
                // Targets are relative to xl/ unless they start at the package root.
                let path = match target.strip_prefix('/') {
                    Some(abs) => abs.to_string(),
                    None => format!("xl/{}", target.trim_start_matches("./")),
                };
                if attr(&e, "Type").is_some_and(|t| t.ends_with("/sharedStrings")) {
                    rels.shared_strings = Some(path.clone());
                }
                rels.targets
                    .insert(attr(&e, "Id").unwrap_or_default(), path);
            }
            Event::Eof => return Ok(rels),
            _ => {}
        }
    }
}

/// How a cell style shows a number, as far as reading it faithfully needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Plain,
    Date,
    /// Only zeros, such as `000`: ID numbers and postcodes padded to a width.
    ZeroPadded(u8),
}

fn read_styles(mut p: Part<'_, '_, '_>) -> Result<Vec<Shown>, ParseError> {
    let mut custom: HashMap<u32, Shown> = HashMap::new();
    let mut xfs = Vec::new();
    let mut in_xfs = false;
    loop {
        match p.next()? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    let id = attr(&e, "numFmtId").and_then(|v| v.parse().ok());
                    if let (Some(id), Some(code)) = (id, attr(&e, "formatCode")) {
                        custom.insert(id, classify_format(&code));
                    }
                }
                "cellXfs" => in_xfs = true,
                "xf" if in_xfs => {
                    let id: u32 = attr(&e, "numFmtId")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let shown = custom.get(&id).copied().unwrap_or_else(|| builtin(id));
                    xfs.push(shown);
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = false,
            Event::Eof => return Ok(xfs),
            _ => {}
        }
    }
}

/// Excel's built-in number formats that show dates or times.
fn builtin(id: u32) -> Shown {
    match id {
        14..=22 | 27..=36 | 45..=47 | 50..=58 => Shown::Date,
        _ => Shown::Plain,
    }
}

fn classify_format(code: &str) -> Shown {
    // Only the first section (positive numbers) decides how a value is shown.
    let mut plain = String::new();
    let (mut quoted, mut bracket, mut escape) = (false, false, false);
    for c in code.chars() {
        if escape {
            escape = false;
            continue;
        }
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '\\' => escape = true,
            '[' => bracket = true,
            ']' => bracket = false,
            ';' if !bracket => break,
            _ if bracket => {}
            _ => plain.push(c.to_ascii_lowercase()),
        }
    }
    if plain.is_empty() || plain == "general" {
        return Shown::Plain;
    }
    if !plain.is_empty() && plain.chars().all(|c| c == '0') && plain.len() > 1 {
        return Shown::ZeroPadded(plain.len().min(40) as u8);
    }
    if plain.contains(['d', 'm', 'y', 'h', 's']) && !plain.contains('e') {
        return Shown::Date;
    }
    Shown::Plain
}

/// Every shared string in one arena. Strings over the cell limit are kept only as their
/// length, so a sheet referring to one fails naming the cell.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<u32>,
    too_long: HashMap<u32, usize>,
}

impl SharedStrings {
    fn get(&self, i: usize) -> Option<Result<&str, usize>> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        match self.too_long.get(&(i as u32)) {
            Some(&chars) => Some(Err(chars)),
            None => Some(Ok(&self.text[start..end])),
        }
    }
}

fn read_shared_strings(
    mut p: Part<'_, '_, '_>,
    limits: &Limits,
) -> Result<SharedStrings, ParseError> {
    let mut out = SharedStrings::default();
    let mut item = CellText::new(limits.max_cell_chars);
    let (mut in_si, mut in_t, mut phonetic) = (false, false, 0u32);
    loop {
        let event = p.next()?;
        match &event {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => {
                    in_si = true;
                    item.clear();
                }
                "rPh" => phonetic += 1,
                "t" if in_si && phonetic == 0 => in_t = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                out.ends.push(out.text.len() as u32);
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_t = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                "si" => {
                    in_si = false;
                    match item.finish() {
                        Ok(s) => {
                            if out.text.len() + s.len() > MAX_SHARED_STRING_BYTES {
                                return Err(ParseError::UnpackedTooLarge {
                                    uncompressed: (out.text.len() + s.len()) as u64,
                                    limit: MAX_SHARED_STRING_BYTES as u64,
                                });
                            }
                            out.text.push_str(&unescape_excel(s));
                        }
                        Err(chars) => {
                            out.too_long.insert(out.ends.len() as u32, chars);
                        }
                    }
                    out.ends.push(out.text.len() as u32);
                }
                _ => {}
            },
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if in_t => item.push(&event),
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// One cell's text as it arrives in pieces; past the cell limit only characters are
/// counted, so a huge cell costs no memory before it is refused.
pub(super) struct CellText {
    text: String,
    chars: usize,
    max_chars: usize,
    over: bool,
}

impl CellText {
    pub(super) fn new(max_chars: usize) -> Self {
        CellText {
            text: String::new(),
            chars: 0,
            max_chars,
            over: false,
        }
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.chars = 0;
        self.over = false;
    }

    pub(super) fn push(&mut self, event: &Event<'_>) {
        if self.over {
            let mut piece = String::new();
            push_text(event, &mut piece);
            self.chars += piece.chars().count();
            return;
        }
        push_text(event, &mut self.text);
        // Four bytes a character at most: below this no count is needed.
        if self.text.len() > self.max_chars {
            let chars = self.text.chars().count();
            if chars > self.max_chars {
                self.chars = chars;
                self.over = true;
                self.text = String::new();
            }
        }
    }

    /// Characters that are not an XML event: ODS's spaces, tabs and line breaks.
    pub(super) fn push_repeated(&mut self, c: char, n: usize) {
        // Bytes bound characters from above, so most calls need no count.
        let fits = |t: &str| {
            t.len().saturating_add(n) <= self.max_chars
                || t.chars().count().saturating_add(n) <= self.max_chars
        };
        if !self.over && fits(&self.text) {
            self.text.extend(std::iter::repeat_n(c, n));
            return;
        }
        if !self.over {
            self.chars = self.text.chars().count();
            self.over = true;
            self.text = String::new();
        }
        self.chars = self.chars.saturating_add(n);
    }

    /// The text, or its length in characters when it is over the limit.
    pub(super) fn finish(&mut self) -> Result<&str, usize> {
        if self.over {
            Err(self.chars)
        } else {
            Ok(&self.text)
        }
    }
}

/// Excel writes characters XML cannot hold as `_xHHHH_`.
fn unescape_excel(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("_x") {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        match code {
            Some(c) => {
                out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

struct SheetCtx<'a> {
    limits: &'a Limits,
    styles: &'a [Shown],
    strings: &'a SharedStrings,
    date1904: bool,
}

/// `B12` → (row 11, column 1), both from 0; either part may be missing.
fn cell_ref(r: &str) -> (Option<u32>, Option<u32>) {
    let letters = r.bytes().take_while(u8::is_ascii_alphabetic).count();
    let mut col: u32 = 0;
    for b in r[..letters].bytes() {
        col = col
            .saturating_mul(26)
            .saturating_add(u32::from(b.to_ascii_uppercase() - b'A' + 1));
    }
    let row = r[letters..].parse::<u32>().ok().filter(|&n| n > 0);
    (row.map(|n| n - 1), (letters > 0).then(|| col - 1))
}

fn read_sheet(
    mut p: Part<'_, '_, '_>,
    name: &str,
    ctx: &SheetCtx<'_>,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError> {
    let limits = ctx.limits;
    let max_row = limits.max_rows as u64 + 4;
    let too_large = |name: &str, rows: u64, columns: u64| ParseError::SheetTooLarge {
        sheet: name.to_string(),
        rows,
        columns,
        max_rows: limits.max_rows,
        max_columns: limits.max_columns,
    };
    let mut rows = RowBuilder::new(limits, sink);
    let mut text = CellText::new(limits.max_cell_chars);
    // Position of the row and cell being read, from 0.
    let (mut row, mut next_row, mut col, mut next_col) = (0u32, 0u32, 0u32, 0u32);
    let (mut kind, mut style, mut widest) = (String::new(), 0usize, 0u32);
    let (mut in_cell, mut in_value, mut phonetic) = (false, false, 0u32);
    // Rows are measured from the first one in the sheet, as its dimension would be: blank
    // rows above a table do not count against the limit.
    let mut first_row: Option<u32> = None;
    let mut reach = |row: u32, widest: u32| -> Result<(), ParseError> {
        let first = *first_row.get_or_insert(row);
        let rows = u64::from(row.saturating_sub(first)) + 1;
        if rows > max_row {
            return Err(too_large(name, rows, u64::from(widest)));
        }
        Ok(())
    };
    loop {
        let event = p.next().map_err(|e| near_row(e, name, row))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "dimension" => {
                        let r = attr(e, "ref").unwrap_or_default();
                        let (first, last) = r.split_once(':').unwrap_or((&r, &r));
                        let (r0, c0) = cell_ref(first);
                        let (r1, c1) = cell_ref(last);
                        let n = u64::from(r1.unwrap_or(0).saturating_sub(r0.unwrap_or(0))) + 1;
                        let cols = u64::from(c1.unwrap_or(0).saturating_sub(c0.unwrap_or(0))) + 1;
                        if n > max_row || cols > limits.max_columns as u64 {
                            return Err(too_large(name, n, cols));
                        }
                        rows.expect_rows(n as usize);
                    }
                    "row" => {
                        let r = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "r")
                            .and_then(|a| a.value.trim().parse::<u32>().ok());
                        row = r.filter(|&n| n > 0).map_or(next_row, |n| n - 1);
                        next_row = row.saturating_add(1);
                        next_col = 0;
                        // Rows are counted whether or not they hold anything: a sheet of
                        // millions of empty rows is abandoned here, not read to the end.
                        reach(row, widest)?;
                    }
                    "c" => {
                        // One pass over the attributes, reusing `kind`: this runs for
                        // every cell of the sheet.
                        let (mut r, mut c) = (None, None);
                        kind.clear();
                        style = 0;
                        for a in e.attributes().flatten() {
                            match a.key.local_name().as_ref() {
                                "r" => (r, c) = cell_ref(&a.value),
                                "t" => kind.push_str(a.value.trim()),
                                "s" => style = a.value.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                        if let Some(r) = r.filter(|&r| r > row) {
                            // A cell outside its row element: trust the cell.
                            row = r;
                            next_row = r.saturating_add(1);
                            reach(row, widest)?;
                        }
                        col = c.unwrap_or(next_col);
                        next_col = col.saturating_add(1);
                        if col >= MAX_GRID_COLUMNS {
                            return Err(too_large(name, u64::from(row) + 1, u64::from(col) + 1));
                        }
                        widest = widest.max(col + 1);
                        text.clear();
                        in_cell = !empty;
                        rows.touch(row)?;
                    }
                    "v" | "t" if in_cell && phonetic == 0 && !empty => in_value = true,
                    "rPh" if !empty => phonetic += 1,
                    _ => {}
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "v" | "t" => in_value = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                "c" if in_cell => {
                    in_cell = false;
                    let number = row.saturating_add(1);
                    let value = match text.finish() {
                        Ok(v) => v,
                        Err(chars) => return Err(cell_too_long(number, col, chars, limits)),
                    };
                    let (value, note) = cell_value(&kind, style, value, ctx, number, col)?;
                    if let Some(note) = note {
                        rows.note(row, col, note);
                    }
                    rows.put(row, col, value)?;
                }
                "sheetData" => break,
                _ => {}
            },
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if in_value => {
                text.push(&event)
            }
            Event::Eof => break,
            _ => {}
        }
    }
    rows.finish()
}

/// A damaged or oversized piece of a sheet, placed for the admin: the tab and the last
/// row reached before it.
pub(super) fn near_row(e: ParseError, sheet: &str, row: u32) -> ParseError {
    match e {
        ParseError::CorruptSpreadsheet { message } => ParseError::CorruptSpreadsheet {
            message: format!("{message} (tab \"{sheet}\", near row {})", row + 1),
        },
        other => other,
    }
}

pub(super) fn cell_too_long(row: u32, col: u32, chars: usize, limits: &Limits) -> ParseError {
    ParseError::CellTooLong {
        row,
        column: col + 1,
        chars,
        limit: limits.max_cell_chars,
    }
}

/// A finished cell's text as the admin sees it in Excel, and what was converted.
fn cell_value(
    kind: &str,
    style: usize,
    raw: &str,
    ctx: &SheetCtx<'_>,
    row: u32,
    col: u32,
) -> Result<(String, Option<NoteKind>), ParseError> {
    Ok(match kind {
        "s" => {
            let Some(i) = raw.trim().parse::<usize>().ok() else {
                return Ok((String::new(), None));
            };
            match ctx.strings.get(i) {
                Some(Ok(s)) => (s.to_string(), None),
                Some(Err(chars)) => return Err(cell_too_long(row, col, chars, ctx.limits)),
                None => (String::new(), None),
            }
        }
        "inlineStr" | "str" => (unescape_excel(raw).into_owned(), None),
        "b" => (
            if raw.trim() == "1" { "TRUE" } else { "FALSE" }.to_string(),
            Some(NoteKind::Boolean),
        ),
        "e" => (raw.to_string(), Some(NoteKind::FormulaError)),
        // ISO 8601 already; a midnight time adds nothing an admin typed.
        "d" => (
            raw.strip_suffix("T00:00:00")
                .or_else(|| raw.strip_suffix("T00:00:00Z"))
                .unwrap_or(raw)
                .to_string(),
            None,
        ),
        _ => {
            let Ok(f) = raw.trim().parse::<f64>() else {
                return Ok((raw.to_string(), None));
            };
            match ctx.styles.get(style).copied().unwrap_or(Shown::Plain) {
                Shown::Date => {
                    let (text, note) = serial_text(f, ctx.date1904);
                    (text, Some(note))
                }
                Shown::ZeroPadded(width) if f.fract() == 0.0 && (0.0..1e15).contains(&f) => {
                    let text = format!("{:0width$}", f as u64, width = width as usize);
                    let padded = text.len() > number_text(f).0.len();
                    (text, padded.then_some(NoteKind::ZeroPadded))
                }
                _ => number_text(f),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_give_row_and_column_from_zero() {
        assert_eq!(cell_ref("A1"), (Some(0), Some(0)));
        assert_eq!(cell_ref("AB12"), (Some(11), Some(27)));
        assert_eq!(cell_ref("XFD1048576"), (Some(1_048_575), Some(16_383)));
        assert_eq!(cell_ref("C"), (None, Some(2)));
    }

    #[test]
    fn number_formats_are_classified_by_what_they_show() {
        assert_eq!(classify_format("yyyy-mm-dd"), Shown::Date);
        assert_eq!(classify_format("[$-409]d/m/yy\\ h:mm;@"), Shown::Date);
        assert_eq!(classify_format("000000"), Shown::ZeroPadded(6));
        assert_eq!(classify_format("\"ID \"0"), Shown::Plain);
        assert_eq!(classify_format("0.00E+00"), Shown::Plain);
        assert_eq!(classify_format("#,##0.00;[Red]-#,##0.00"), Shown::Plain);
        assert_eq!(classify_format("[h]:mm:ss"), Shown::Date);
    }

    #[test]
    fn excel_escapes_for_control_characters_are_undone() {
        assert_eq!(unescape_excel("a_x000D_b"), "a\rb");
        assert_eq!(unescape_excel("_x_y_"), "_x_y_");
    }
}
