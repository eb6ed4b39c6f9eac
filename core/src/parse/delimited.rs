//! Delimited text (CSV, TSV, semicolon and pipe separated, pasted text).

use super::{ParseError, SourceRow};
use crate::limits::Limits;

const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Picks the separator that splits the first lines into the same number of fields most
/// consistently. Excel in many European locales writes `;`, and pasted text uses tabs.
pub(crate) fn sniff(text: &str, prefer_tab: bool) -> u8 {
    let sample = &text[..floor_char_boundary(text, 64 * 1024)];
    let lines: Vec<&str> = sample.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (0usize, 0usize, if prefer_tab { b'\t' } else { b',' });
    for &d in &CANDIDATES {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let Some(mode) = mode_nonzero(&counts) else { continue };
        let agreeing = counts.iter().filter(|&&c| c == mode).count();
        let score = (agreeing, mode);
        if score > (best.0, best.1) || (score == (best.0, best.1) && prefer_tab && d == b'\t') {
            best = (agreeing, mode, d);
        }
    }
    best.2
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in line.as_bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

fn mode_nonzero(counts: &[usize]) -> Option<usize> {
    let mut sorted: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    sorted.sort_unstable();
    let mut best: Option<(usize, usize)> = None;
    for chunk in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(n, _)| chunk.len() > n) {
            best = Some((chunk.len(), chunk[0]));
        }
    }
    best.map(|(_, v)| v)
}

/// All non-blank rows with trimmed cells and trailing empty cells dropped.
pub(crate) fn parse_text(text: &str, delimiter: u8, limits: &Limits) -> Result<Vec<SourceRow>, ParseError> {
    // Counting line breaks is far cheaper than growing the vector several times.
    let lines = text.as_bytes().iter().filter(|&&b| b == b'\n').count() + 1;
    let mut rows = Vec::with_capacity(lines.min(limits.max_rows.saturating_add(4)));
    for_each_row(text, delimiter, limits, |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// Hands each non-blank row to `sink` as soon as it is read, so callers that check rows
/// as they come never hold the whole file as rows.
pub(crate) fn for_each_row(
    text: &str,
    delimiter: u8,
    limits: &Limits,
    mut sink: impl FnMut(SourceRow) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    for_each_record(text, delimiter, limits, |view| sink(view.to_source_row()))
}

/// A row borrowed from the reader's buffer: valid until the next row is read.
pub struct RowView<'a> {
    number: u32,
    text: &'a str,
    ranges: &'a [(u32, u32)],
}

impl<'a> RowView<'a> {
    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn cell(&self, index: usize) -> &'a str {
        self.ranges.get(index).map_or("", |&(a, b)| &self.text[a as usize..b as usize])
    }

    pub fn to_source_row(&self) -> SourceRow {
        SourceRow { number: self.number, cells: (0..self.len()).map(|i| self.cell(i).to_string()).collect() }
    }
}

/// The reading loop behind [`for_each_row`], without allocating per cell.
pub(crate) fn for_each_record(
    text: &str,
    delimiter: u8,
    limits: &Limits,
    mut sink: impl FnMut(RowView<'_>) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(64 * 1024)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    // Title rows sit above the header, so allow a few beyond the data-row limit here;
    // the exact limit is applied once the header is known.
    let row_cap = limits.max_rows.saturating_add(4);
    let mut count = 0usize;
    // The csv crate's own line counter drifts on \r\n; count line breaks between record
    // starts instead. Old Mac exports end lines with a bare \r.
    let bytes = text.as_bytes();
    let newline = if memchr(b'\n', bytes) || !memchr(b'\r', bytes) { b'\n' } else { b'\r' };
    let (mut seen_at, mut line_no) = (0usize, 1u32);
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| ParseError::Malformed {
            row: e.position().map_or(0, |p| p.line() as u32),
            message: e.to_string(),
        })?;
        if !more {
            break;
        }
        let mut start = record.position().map_or(seen_at, |p| p.byte() as usize).min(bytes.len());
        // A record's reported start can sit on the \n of the \r\n before it.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > seen_at {
            line_no += bytes[seen_at..start].iter().filter(|&&b| b == newline).count() as u32;
            seen_at = start;
        }
        let line = line_no;
        // Fields are cut at ASCII bytes of valid UTF-8 text, so the record stays valid
        // UTF-8; checking it once is cheaper than once per field.
        let joined = std::str::from_utf8(record.as_slice()).map_err(|_| ParseError::NotATable)?;
        ranges.clear();
        let mut used = 0;
        for i in 0..record.len() {
            let r = record.range(i).unwrap_or(0..0);
            let field = joined.get(r.clone()).unwrap_or("");
            let fb = field.as_bytes();
            // Most cells start and end with a visible ASCII byte and need no trimming.
            let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
            let (a, trimmed) = if plain(fb.first()) && plain(fb.last()) {
                (r.start, field)
            } else {
                let t = field.trim();
                (r.start + (field.len() - field.trim_start().len()), t)
            };
            ranges.push((a as u32, (a + trimmed.len()) as u32));
            if !trimmed.is_empty() {
                used = i + 1;
                if trimmed.len() > limits.max_cell_chars {
                    let chars = trimmed.chars().count();
                    if chars > limits.max_cell_chars {
                        return Err(ParseError::CellTooLong { row: line, column: i as u32 + 1, chars, limit: limits.max_cell_chars });
                    }
                }
            }
        }
        if used == 0 {
            continue;
        }
        if used > limits.max_columns {
            return Err(ParseError::TooManyColumns { row: line, count: used, limit: limits.max_columns });
        }
        if count >= row_cap {
            return Err(ParseError::TooManyRows { limit: limits.max_rows });
        }
        count += 1;
        sink(RowView { number: line, text: joined, ranges: &ranges[..used] })?;
    }
    Ok(())
}

fn memchr(needle: u8, haystack: &[u8]) -> bool {
    memchr::memchr(needle, haystack).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolons_are_detected() {
        assert_eq!(sniff("Email;Expiry Days\na@x.org;7\n", false), b';');
    }

    #[test]
    fn tabs_are_detected_in_pasted_text() {
        assert_eq!(sniff("Email\tFirst Name\na@x.org\tAna\n", false), b'\t');
    }

    #[test]
    fn pipes_are_detected() {
        assert_eq!(sniff("Email|Groups\na@x.org|Math\n", false), b'|');
    }

    #[test]
    fn commas_inside_quotes_do_not_count() {
        assert_eq!(sniff("\"Doe, Jane\";a@x.org\n\"Roe, Rick\";b@x.org\n", false), b';');
    }

    #[test]
    fn a_single_column_file_defaults_to_comma() {
        assert_eq!(sniff("Email\na@x.org\n", false), b',');
    }

    #[test]
    fn quoted_fields_keep_commas_and_newlines() {
        let rows = parse_text("Name,Email\n\"Doe, Jane\n(twin)\",j@x.org\n", b',', &Limits::default()).unwrap();
        assert_eq!(rows[1].cells, vec!["Doe, Jane\n(twin)", "j@x.org"]);
        assert_eq!(rows[1].number, 2);
    }

    #[test]
    fn blank_lines_and_trailing_empty_columns_are_ignored() {
        let rows = parse_text("Email,,\n\n , \na@x.org,,\r\n", b',', &Limits::default()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].cells, vec!["a@x.org"]);
        assert_eq!(rows[1].number, 4);
    }

    #[test]
    fn cr_only_line_endings_split_rows() {
        let rows = parse_text("Email\ra@x.org\rb@x.org", b',', &Limits::default()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].number, 3);
    }

    #[test]
    fn crlf_line_numbers_match_what_the_admin_sees() {
        let rows = parse_text("Email\r\n\r\na@x.org\r\n\"multi\r\nline\"\r\nb@x.org\r\n", b',', &Limits::default()).unwrap();
        let numbers: Vec<u32> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![1, 3, 4, 6]);
    }

    #[test]
    fn too_many_columns_names_the_row() {
        let limits = Limits { max_columns: 3, ..Limits::default() };
        let err = parse_text("a,b\nc,d,e,f\n", b',', &limits).unwrap_err();
        assert_eq!(err, ParseError::TooManyColumns { row: 2, count: 4, limit: 3 });
    }

    #[test]
    fn a_cell_over_the_character_limit_names_row_and_column() {
        let limits = Limits { max_cell_chars: 5, ..Limits::default() };
        let err = parse_text("a,b\nc,dddddd\n", b',', &limits).unwrap_err();
        assert_eq!(err, ParseError::CellTooLong { row: 2, column: 2, chars: 6, limit: 5 });
    }
}
