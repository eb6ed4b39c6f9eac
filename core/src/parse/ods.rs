//! ODS read as a stream, like `xlsx.rs`: content.xml goes through a [`CappedEntry`] in
//! small chunks, each tab's rows are handed to the sink as they end, and a tab is
//! abandoned at the first row, column or cell past the limits.
//!
//! ODS compresses runs into `number-rows-repeated` / `number-columns-repeated`: a
//! 500-byte file can describe billions of cells. Repeats of empty cells and rows (every
//! LibreOffice sheet ends with them) cost nothing here: they only move the position. A
//! repeated cell or row with something in it is counted against the limits before any
//! copy is made.

use std::io::Cursor;

use quick_xml::events::{BytesStart, Event};

use super::cells::{number_text, NoteKind, RowBuilder, SheetSink};
use super::xlsx::{attr, cell_too_long, near_row, part, CellText, Part};
use super::zipcap::Budget;
use super::ParseError;
use crate::limits::Limits;

/// Reads every tab of content.xml into `sink`, row by row.
pub(crate) fn parse_ods(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ParseError::NotATable)?;
    let budget = Budget::new(limits.max_uncompressed_bytes);
    // As for XLSX: no honest tag or text node is longer than the longest allowed cell.
    let max_event = (limits.max_cell_chars as u64)
        .saturating_mul(4)
        .saturating_add(64 * 1024);
    let Some(mut p) = part(&mut zip, "content.xml", &budget, max_event)? else {
        return Err(ParseError::NotATable);
    };
    loop {
        let name = match p.next()? {
            Event::Start(e) if e.local_name().as_ref() == "table" => {
                attr(&e, "name").unwrap_or_default()
            }
            Event::Eof => return Ok(()),
            _ => continue,
        };
        sink.begin(&name)?;
        read_table(&mut p, &name, limits, sink)?;
    }
}

/// A finished cell waiting for its row to end: a row may be repeated as a whole.
struct Cell {
    col: u32,
    text: String,
    note: Option<NoteKind>,
}

/// What the cell being read holds besides its paragraphs.
#[derive(Default)]
struct CellAttrs {
    /// `office:value-type`.
    kind: Option<String>,
    /// `calcext:value-type`: LibreOffice's own, which alone marks formula errors.
    calc_kind: Option<String>,
    value: Option<String>,
    date: Option<String>,
    time: Option<String>,
    boolean: Option<String>,
    string: Option<String>,
    repeat: u32,
    covered: bool,
}

impl CellAttrs {
    fn read(e: &BytesStart<'_>, covered: bool) -> CellAttrs {
        let mut c = CellAttrs {
            repeat: 1,
            covered,
            ..Default::default()
        };
        for a in e.attributes().flatten() {
            let value = || match quick_xml::escape::unescape(&a.value) {
                Ok(v) => v.into_owned(),
                Err(_) => a.value.to_string(),
            };
            let calcext = a.key.prefix().is_some_and(|p| p.as_ref() == "calcext");
            match a.key.local_name().as_ref() {
                "value-type" if calcext => c.calc_kind = Some(value()),
                "value-type" => c.kind = Some(value()),
                "value" => c.value = Some(value()),
                "date-value" => c.date = Some(value()),
                "time-value" => c.time = Some(value()),
                "boolean-value" => c.boolean = Some(value()),
                "string-value" => c.string = Some(value()),
                "number-columns-repeated" => {
                    c.repeat = value().trim().parse::<u32>().unwrap_or(1).max(1)
                }
                _ => {}
            }
        }
        c
    }

    /// The cell as the admin sees it, from its typed value where it has one.
    fn text(&self, paragraphs: &str) -> (String, Option<NoteKind>) {
        if self.calc_kind.as_deref() == Some("error") {
            return (paragraphs.to_string(), Some(NoteKind::FormulaError));
        }
        match self.kind.as_deref() {
            Some("float" | "percentage" | "currency") => {
                match self
                    .value
                    .as_deref()
                    .and_then(|v| v.trim().parse::<f64>().ok())
                {
                    Some(f) => {
                        let (plain, note) = number_text(f);
                        // A format with leading zeros shows `007` for 7: read as shown.
                        let shown = paragraphs.trim();
                        let padded = shown.len() > plain.len()
                            && shown.bytes().all(|b| b.is_ascii_digit())
                            && shown.trim_start_matches('0') == plain.trim_start_matches('0');
                        if padded {
                            (shown.to_string(), Some(NoteKind::ZeroPadded))
                        } else {
                            (plain, note)
                        }
                    }
                    None => (paragraphs.to_string(), None),
                }
            }
            Some("date") => match self.date.as_deref() {
                Some(d) => date_text(d),
                None => (paragraphs.to_string(), None),
            },
            Some("time") => match self.time.as_deref().and_then(time_text) {
                Some(t) => (t, Some(NoteKind::Time)),
                None => (paragraphs.to_string(), None),
            },
            Some("boolean") => {
                let v = self.boolean.as_deref().map(str::trim);
                let yes = v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
                let text = if yes { "TRUE" } else { "FALSE" };
                (text.to_string(), Some(NoteKind::Boolean))
            }
            _ => match &self.string {
                Some(s) if paragraphs.is_empty() => (s.clone(), None),
                _ => (paragraphs.to_string(), None),
            },
        }
    }
}

/// `2026-03-01` or `2026-03-01T12:30:00(.5)`: a midnight time adds nothing an admin typed.
fn date_text(d: &str) -> (String, Option<NoteKind>) {
    let d = d.trim();
    let d = d.split_once('.').map_or(d, |(whole, _)| whole);
    match d.split_once('T') {
        None => (d.to_string(), Some(NoteKind::Date)),
        Some((day, "00:00:00")) => (day.to_string(), Some(NoteKind::Date)),
        Some(_) => (d.to_string(), Some(NoteKind::DateTime)),
    }
}

/// `PT12H30M05S` (seconds may have a fraction) → `12:30:05`.
fn time_text(t: &str) -> Option<String> {
    let rest = t.trim().strip_prefix("PT")?;
    let (h, rest) = rest.split_once('H')?;
    let (m, rest) = rest.split_once('M')?;
    let s = rest.strip_suffix('S')?;
    let h: u64 = h.parse().ok()?;
    let m: u64 = m.parse().ok()?;
    let s: f64 = s.parse().ok()?;
    let total = h * 3600 + m * 60 + s.round() as u64;
    Some(format!(
        "{:02}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    ))
}

fn read_table(
    p: &mut Part<'_, '_, '_>,
    name: &str,
    limits: &Limits,
    sink: &mut dyn SheetSink,
) -> Result<(), ParseError> {
    let max_rows = limits.max_rows as u64 + 4;
    let too_large = |rows: u64, columns: u64| ParseError::SheetTooLarge {
        sheet: name.to_string(),
        rows,
        columns,
        max_rows: limits.max_rows,
        max_columns: limits.max_columns,
    };
    let mut rows = RowBuilder::new(limits, sink);
    let mut text = CellText::new(limits.max_cell_chars);
    // Room for formatted empty rows, which LibreOffice writes one element each.
    let (mut elements, max_elements) = (0u64, max_rows + 1024);
    // Position from 0, counting repeats as LibreOffice numbers rows and columns.
    let (mut row, mut col) = (0u32, 0u32);
    let mut row_repeat = 1u32;
    // Rows with something in them so far, and the widest of them.
    let (mut filled, mut widest) = (0u64, 0u64);
    let mut cells: Vec<Cell> = Vec::new();
    let mut cell: Option<CellAttrs> = None;
    // Paragraphs of the cell so far, paragraph depth, and an annotation (a comment,
    // not the cell's value) being skipped.
    let (mut paragraphs, mut p_depth, mut skip_depth) = (0u32, 0u32, 0u32);

    loop {
        let event = p.next().map_err(|e| near_row(e, name, row))?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.local_name().as_ref() {
                    "annotation" if skip_depth > 0 => skip_depth -= 1,
                    _ if skip_depth > 0 => {}
                    "p" | "h" => p_depth = p_depth.saturating_sub(1),
                    "table-cell" | "covered-table-cell" => {
                        if let Some(attrs) = cell.take() {
                            finish_cell(
                                attrs, &mut text, &mut cells, &mut col, row, limits, &too_large,
                                filled, row_repeat,
                            )?;
                            widest = widest.max(cells.last().map_or(0, |c| u64::from(c.col) + 1));
                        }
                    }
                    "table-row" => {
                        end_row(
                            &mut rows,
                            &mut cells,
                            &mut row,
                            row_repeat,
                            &mut filled,
                            max_rows,
                            widest,
                            &too_large,
                        )?;
                    }
                    "table" => break,
                    _ => {}
                }
                continue;
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)
                if cell.is_some() && p_depth > 0 && skip_depth == 0 =>
            {
                text.push(&event);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        if skip_depth > 0 {
            if !empty && e.local_name().as_ref() == "annotation" {
                skip_depth += 1;
            }
            continue;
        }
        match e.local_name().as_ref() {
            "table-row" => {
                // Row elements cost work whether or not they hold anything, so a sheet of
                // millions of empty rows is abandoned here, as an XLSX one is. Honest
                // padding is one element with a repeat count, which costs nothing.
                elements += 1;
                if elements > max_elements {
                    return Err(too_large(elements, widest));
                }
                row_repeat = attr(e, "number-rows-repeated")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .unwrap_or(1)
                    .max(1);
                col = 0;
                cells.clear();
                if empty {
                    row = row.saturating_add(row_repeat);
                }
            }
            local @ ("table-cell" | "covered-table-cell") => {
                let attrs = CellAttrs::read(e, local == "covered-table-cell");
                text.clear();
                paragraphs = 0;
                p_depth = 0;
                if empty {
                    finish_cell(
                        attrs, &mut text, &mut cells, &mut col, row, limits, &too_large, filled,
                        row_repeat,
                    )?;
                    widest = widest.max(cells.last().map_or(0, |c| u64::from(c.col) + 1));
                } else {
                    cell = Some(attrs);
                }
            }
            _ if cell.is_none() => {}
            "annotation" if !empty => skip_depth = 1,
            "p" | "h" => {
                if paragraphs > 0 {
                    text.push_repeated('\n', 1);
                }
                paragraphs += 1;
                if !empty {
                    p_depth += 1;
                }
            }
            _ if p_depth == 0 => {}
            "s" => {
                let n = attr(e, "c")
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(1);
                text.push_repeated(' ', n);
            }
            "tab" => text.push_repeated('\t', 1),
            "line-break" => text.push_repeated('\n', 1),
            _ => {}
        }
    }
    rows.finish()
}

/// Ends a cell: its text, once per repeat, joins the row, unless it is empty (then the
/// repeats only move the column).
#[expect(
    clippy::too_many_arguments,
    reason = "the reading loop's own state, passed piece by piece"
)]
fn finish_cell(
    attrs: CellAttrs,
    text: &mut CellText,
    cells: &mut Vec<Cell>,
    col: &mut u32,
    row: u32,
    limits: &Limits,
    too_large: &impl Fn(u64, u64) -> ParseError,
    filled: u64,
    row_repeat: u32,
) -> Result<(), ParseError> {
    let start = *col;
    *col = col.saturating_add(attrs.repeat);
    // A merged area's hidden cells show nothing in the spreadsheet.
    if attrs.covered {
        return Ok(());
    }
    let paragraphs = match text.finish() {
        Ok(t) => t,
        Err(chars) => return Err(cell_too_long(row.saturating_add(1), start, chars, limits)),
    };
    let (value, note) = attrs.text(paragraphs);
    if value.trim().is_empty() {
        return Ok(());
    }
    let end = u64::from(start) + u64::from(attrs.repeat);
    if end > limits.max_columns as u64 {
        return Err(too_large(filled.saturating_add(u64::from(row_repeat)), end));
    }
    for c in start..start + attrs.repeat {
        cells.push(Cell {
            col: c,
            text: value.clone(),
            note,
        });
    }
    Ok(())
}

/// Ends a row: a row with something in it goes to the builder once per repeat, after the
/// repeats are counted against the row limit.
#[expect(
    clippy::too_many_arguments,
    reason = "the reading loop's own state, passed piece by piece"
)]
fn end_row(
    rows: &mut RowBuilder<'_, '_>,
    cells: &mut Vec<Cell>,
    row: &mut u32,
    repeat: u32,
    filled: &mut u64,
    max_rows: u64,
    widest: u64,
    too_large: &impl Fn(u64, u64) -> ParseError,
) -> Result<(), ParseError> {
    if cells.is_empty() {
        *row = row.saturating_add(repeat);
        return Ok(());
    }
    *filled = filled.saturating_add(u64::from(repeat));
    if *filled > max_rows {
        return Err(too_large(*filled, widest));
    }
    for _ in 0..repeat {
        for c in cells.iter() {
            if let Some(note) = c.note {
                rows.note(*row, c.col, note);
            }
            rows.put(*row, c.col, c.text.clone())?;
        }
        *row = row.saturating_add(1);
    }
    cells.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_read_as_shown_with_a_note_when_converted() {
        assert_eq!(
            date_text("2026-03-01"),
            ("2026-03-01".into(), Some(NoteKind::Date))
        );
        assert_eq!(
            date_text("2026-03-01T00:00:00"),
            ("2026-03-01".into(), Some(NoteKind::Date))
        );
        assert_eq!(
            date_text("2026-03-01T12:30:00.25"),
            ("2026-03-01T12:30:00".into(), Some(NoteKind::DateTime))
        );
        assert_eq!(time_text("PT12H30M05S").as_deref(), Some("12:30:05"));
        assert_eq!(time_text("PT07H59M59.6S").as_deref(), Some("08:00:00"));
        assert_eq!(time_text("12:30"), None);
    }
}
