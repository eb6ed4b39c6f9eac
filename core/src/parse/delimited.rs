//! Delimited text (CSV, TSV, semicolon and pipe separated, pasted text).

use super::{ParseError, SourceRow};
use crate::limits::Limits;

const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Picks the separator that splits the first lines into the same number of fields most
/// consistently. Excel in many European locales writes `;`, and pasted text uses tabs.
pub(crate) fn sniff(text: &str, prefer_tab: bool) -> u8 {
    let sample = &text[..floor_char_boundary(text, 64 * 1024)];
    let lines: Vec<&str> = sample
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (0usize, 0usize, if prefer_tab { b'\t' } else { b',' });
    for &d in &CANDIDATES {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let Some(mode) = mode_nonzero(&counts) else {
            continue;
        };
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
pub(crate) fn parse_text(
    text: &str,
    delimiter: u8,
    limits: &Limits,
) -> Result<Vec<SourceRow>, ParseError> {
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
        self.ranges
            .get(index)
            .map_or("", |&(a, b)| &self.text[a as usize..b as usize])
    }

    pub fn to_source_row(&self) -> SourceRow {
        SourceRow {
            number: self.number,
            cells: (0..self.len()).map(|i| self.cell(i).to_string()).collect(),
        }
    }
}

/// The reading loop behind [`for_each_row`], without allocating per cell.
///
/// Lines without quotes are split directly on the delimiter, which is several times
/// faster than the general CSV state machine; from the first line holding a quote (or
/// a stray carriage return) to the end, the `csv` crate takes over, so quoted fields
/// spanning lines are handled by the real parser.
pub(crate) fn for_each_record(
    text: &str,
    delimiter: u8,
    limits: &Limits,
    mut sink: impl FnMut(RowView<'_>) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let mut out = Emitter {
        limits,
        ranges: Vec::new(),
        count: 0,
    };
    let (mut pos, mut line_no) = (0usize, 0u32);
    // Files ending lines with a bare \r (old Mac exports), and non-ASCII separators that
    // could split a character, go to the csv crate entirely.
    if delimiter.is_ascii() && (memchr(b'\n', bytes) || !memchr(b'\r', bytes)) {
        while pos < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            let line = &text[pos..end];
            let line = line.strip_suffix('\r').unwrap_or(line);
            if memchr::memchr2(b'"', b'\r', line.as_bytes()).is_some() {
                break;
            }
            line_no += 1;
            out.ranges.clear();
            let mut start = 0u32;
            for d in memchr::memchr_iter(delimiter, line.as_bytes()) {
                out.ranges.push((start, d as u32));
                start = d as u32 + 1;
            }
            out.ranges.push((start, line.len() as u32));
            out.emit(line_no, line, &mut sink)?;
            pos = end + 1;
        }
        if pos >= bytes.len() {
            return Ok(());
        }
    }
    csv_records(&text[pos..], line_no, delimiter, &mut out, &mut sink)
}

/// Trims cells, applies the limits and hands non-blank rows on.
struct Emitter<'l> {
    limits: &'l Limits,
    ranges: Vec<(u32, u32)>,
    count: usize,
}

impl Emitter<'_> {
    fn emit(
        &mut self,
        line: u32,
        base: &str,
        sink: &mut impl FnMut(RowView<'_>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        let limits = self.limits;
        let mut used = 0;
        for (i, r) in self.ranges.iter_mut().enumerate() {
            let field = base.get(r.0 as usize..r.1 as usize).unwrap_or("");
            let fb = field.as_bytes();
            // Most cells start and end with a visible ASCII byte and need no trimming.
            let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
            if !(plain(fb.first()) && plain(fb.last())) {
                let lead = (field.len() - field.trim_start().len()) as u32;
                let len = field.trim().len() as u32;
                *r = (r.0 + lead, r.0 + lead + len);
            }
            let len = (r.1 - r.0) as usize;
            if len > 0 {
                used = i + 1;
                if len > limits.max_cell_chars {
                    let chars = base
                        .get(r.0 as usize..r.1 as usize)
                        .unwrap_or("")
                        .chars()
                        .count();
                    if chars > limits.max_cell_chars {
                        return Err(ParseError::CellTooLong {
                            row: line,
                            column: i as u32 + 1,
                            chars,
                            limit: limits.max_cell_chars,
                        });
                    }
                }
            }
        }
        if used == 0 {
            return Ok(());
        }
        if used > limits.max_columns {
            return Err(ParseError::TooManyColumns {
                row: line,
                count: used,
                limit: limits.max_columns,
            });
        }
        // Title rows sit above the header, so allow a few beyond the data-row limit here;
        // the exact limit is applied once the header is known.
        if self.count >= limits.max_rows.saturating_add(4) {
            return Err(ParseError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        self.count += 1;
        sink(RowView {
            number: line,
            text: base,
            ranges: &self.ranges[..used],
        })
    }
}

/// The general path: `text` starts at the beginning of line `lines_before + 1`.
fn csv_records(
    text: &str,
    lines_before: u32,
    delimiter: u8,
    out: &mut Emitter<'_>,
    sink: &mut impl FnMut(RowView<'_>) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(64 * 1024)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    // The csv crate's own line counter drifts on \r\n; count line breaks between record
    // starts instead. Old Mac exports end lines with a bare \r.
    let bytes = text.as_bytes();
    let newline = if memchr(b'\n', bytes) || !memchr(b'\r', bytes) {
        b'\n'
    } else {
        b'\r'
    };
    let (mut seen_at, mut line_no) = (0usize, lines_before + 1);
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| ParseError::Malformed {
                row: lines_before + e.position().map_or(0, |p| p.line() as u32),
                message: e.to_string(),
            })?;
        if !more {
            return Ok(());
        }
        let mut start = record
            .position()
            .map_or(seen_at, |p| p.byte() as usize)
            .min(bytes.len());
        // A record's reported start can sit on the \n of the \r\n before it.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > seen_at {
            line_no += bytes[seen_at..start]
                .iter()
                .filter(|&&b| b == newline)
                .count() as u32;
            seen_at = start;
        }
        // Fields are cut at ASCII bytes of valid UTF-8 text, so the record stays valid
        // UTF-8; checking it once is cheaper than once per field.
        let joined = std::str::from_utf8(record.as_slice()).map_err(|_| ParseError::NotATable)?;
        out.ranges.clear();
        for i in 0..record.len() {
            let r = record.range(i).unwrap_or(0..0);
            out.ranges.push((r.start as u32, r.end as u32));
        }
        out.emit(line_no, joined, sink)?;
    }
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
        assert_eq!(
            sniff("\"Doe, Jane\";a@x.org\n\"Roe, Rick\";b@x.org\n", false),
            b';'
        );
    }

    #[test]
    fn a_single_column_file_defaults_to_comma() {
        assert_eq!(sniff("Email\na@x.org\n", false), b',');
    }

    #[test]
    fn quoted_fields_keep_commas_and_newlines() {
        let rows = parse_text(
            "Name,Email\n\"Doe, Jane\n(twin)\",j@x.org\n",
            b',',
            &Limits::default(),
        )
        .unwrap();
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
    fn the_quote_free_fast_path_hands_over_to_the_csv_reader_at_the_first_quote() {
        let text = "Email,Name\r\n\r\na@x.org, Ana \r\n\"b@x.org\",\"Bo\r\nLi\"\r\nc@x.org,Cy\r\n";
        let rows = parse_text(text, b',', &Limits::default()).unwrap();
        let got: Vec<(u32, Vec<String>)> = rows.into_iter().map(|r| (r.number, r.cells)).collect();
        assert_eq!(
            got,
            vec![
                (1, vec!["Email".into(), "Name".into()]),
                (3, vec!["a@x.org".into(), "Ana".into()]),
                (4, vec!["b@x.org".into(), "Bo\r\nLi".into()]),
                (6, vec!["c@x.org".into(), "Cy".into()]),
            ]
        );
    }

    #[test]
    fn crlf_line_numbers_match_what_the_admin_sees() {
        let rows = parse_text(
            "Email\r\n\r\na@x.org\r\n\"multi\r\nline\"\r\nb@x.org\r\n",
            b',',
            &Limits::default(),
        )
        .unwrap();
        let numbers: Vec<u32> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![1, 3, 4, 6]);
    }

    #[test]
    fn too_many_columns_names_the_row() {
        let limits = Limits {
            max_columns: 3,
            ..Limits::default()
        };
        let err = parse_text("a,b\nc,d,e,f\n", b',', &limits).unwrap_err();
        assert_eq!(
            err,
            ParseError::TooManyColumns {
                row: 2,
                count: 4,
                limit: 3
            }
        );
    }

    #[test]
    fn a_cell_over_the_character_limit_names_row_and_column() {
        let limits = Limits {
            max_cell_chars: 5,
            ..Limits::default()
        };
        let err = parse_text("a,b\nc,dddddd\n", b',', &limits).unwrap_err();
        assert_eq!(
            err,
            ParseError::CellTooLong {
                row: 2,
                column: 2,
                chars: 6,
                limit: 5
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_reads_exactly_what_the_csv_reader_reads(text in "([a-c ,;\t\u{e9}]|\r\n|\n){0,120}", d in proptest::sample::select(vec![b',', b';', b'\t'])) {
            let limits = Limits::default();
            let fast = parse_text(&text, d, &limits).unwrap();
            // A quoted first line sends the whole file down the csv crate's path. (Bare \r
            // is left out: which byte counts as a line break differs by design there.)
            let slow = parse_text(&format!("\"q\"\n{text}"), d, &limits).unwrap();
            let slow: Vec<(u32, Vec<String>)> = slow.into_iter().skip(1).map(|r| (r.number - 1, r.cells)).collect();
            let fast: Vec<(u32, Vec<String>)> = fast.into_iter().map(|r| (r.number, r.cells)).collect();
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
