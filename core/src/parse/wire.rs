//! A [`Workbook`] as one flat byte buffer, for handing a read file from the engine's Web
//! Worker to the page. A buffer is transferred between threads without a copy, and the
//! page decodes the outline (tabs, headers, warnings) at once and the rows lazily, while
//! it checks them in slices, so it never stops for the whole file at once.
//!
//! Layout (integers little-endian `u32`, text as a length then UTF-8 bytes):
//! magic `MWB1`, format, encoding, delimiter, warnings, then per tab its name, header row
//! index and number, headers, row count and the byte length of its rows; then every
//! tab's rows, each as its number, its cell count and its cells.

use super::{FileFormat, ParseError, ParseWarning, Sheet, SourceRow, TextEncoding, Workbook};

const MAGIC: &[u8; 4] = b"MWB1";
/// A tab's name, header row index and number, header count, row count and rows' length.
const MIN_SHEET_BYTES: usize = 24;
/// A row's number and cell count.
const MIN_ROW_BYTES: usize = 8;

/// The buffer did not come from [`encode`] (or was cut short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The file reader's answer could not be read at byte {at}.")]
pub struct WireError {
    pub at: usize,
}

pub fn encode(workbook: &Workbook) -> Vec<u8> {
    let rows: Vec<(usize, Vec<u8>)> = workbook
        .sheets
        .iter()
        .map(|sheet| (sheet.rows.len(), encode_rows(sheet)))
        .collect();
    assemble(workbook, rows)
}

/// Reads a file as [`super::parse_bytes`] does and answers what [`encode`] would make of
/// its workbook (the same bytes, or the same error), without building the workbook for
/// delimited text: each row goes from the reader's buffer into the answer, so a
/// 100,000-row CSV never becomes 100,000 rows of separately allocated strings on the way.
/// Spreadsheets are read into a workbook first.
#[cfg(feature = "read")]
pub fn read(
    bytes: &[u8],
    file_name: Option<&str>,
    opts: &super::ParseOptions,
    limits: &crate::Limits,
) -> Result<Vec<u8>, ParseError> {
    use super::{into_workbook, prepare, stream_delimited, Delimited, Prepared};

    let input = match prepare(bytes, file_name, opts, limits)? {
        Prepared::Delimited(input) => input,
        spreadsheet => return into_workbook(spreadsheet, opts, limits).map(|w| encode(&w)),
    };
    let text = input.text.as_ref();
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    // Each row's number and cell count, each cell's length, and the text itself.
    let mut rows =
        Vec::with_capacity(text.len() + lines.min(limits.max_rows.saturating_add(4)) * 16);
    let found = stream_delimited(&input, opts, limits, |event| {
        match event {
            Delimited::Header(_) => {}
            Delimited::Kept(row) => {
                put_row(&mut rows, row.number, row.cells.iter().map(String::as_str))
            }
            Delimited::Read(row) => {
                put_row(&mut rows, row.number(), (0..row.len()).map(|i| row.cell(i)))
            }
        }
        Ok(())
    })?;
    let outline = Workbook {
        format: FileFormat::Delimited,
        encoding: Some(input.encoding),
        delimiter: Some(char::from(input.delimiter)),
        sheets: vec![Sheet {
            name: input.name,
            header_row_index: found.index,
            header_row_number: found.header.number,
            headers: found.header.cells,
            rows: Vec::new(),
        }],
        warnings: input.warnings,
    };
    Ok(assemble(&outline, vec![(found.data_rows, rows)]))
}

/// The outline of `workbook` (its tabs' own rows left out), then each tab's encoded rows
/// with their count.
fn assemble(workbook: &Workbook, rows: Vec<(usize, Vec<u8>)>) -> Vec<u8> {
    let rows_length: usize = rows.iter().map(|(_, bytes)| bytes.len()).sum();
    let mut out = Vec::with_capacity(1024 + rows_length);
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, format_code(workbook.format));
    put_u32(&mut out, encoding_code(workbook.encoding));
    put_u32(&mut out, workbook.delimiter.map_or(0, u32::from));
    put_u32(&mut out, workbook.warnings.len() as u32);
    for warning in &workbook.warnings {
        put_str(&mut out, &warning.message);
    }
    put_u32(&mut out, workbook.sheets.len() as u32);
    for (sheet, (count, rows)) in workbook.sheets.iter().zip(&rows) {
        put_str(&mut out, &sheet.name);
        put_u32(&mut out, sheet.header_row_index as u32);
        put_u32(&mut out, sheet.header_row_number);
        put_u32(&mut out, sheet.headers.len() as u32);
        for header in &sheet.headers {
            put_str(&mut out, header);
        }
        put_u32(&mut out, *count as u32);
        put_u32(&mut out, rows.len() as u32);
    }
    for (_, rows) in rows {
        out.extend_from_slice(&rows);
    }
    out
}

fn encode_rows(sheet: &Sheet) -> Vec<u8> {
    let mut out = Vec::new();
    for row in &sheet.rows {
        put_row(&mut out, row.number, row.cells.iter().map(String::as_str));
    }
    out
}

fn put_row<'c>(out: &mut Vec<u8>, number: u32, cells: impl ExactSizeIterator<Item = &'c str>) {
    put_u32(out, number);
    put_u32(out, cells.len() as u32);
    for cell in cells {
        put_str(out, cell);
    }
}

/// A decoded outline: the workbook with every tab's rows left out, and where each tab's
/// rows are.
pub struct WireWorkbook<'a> {
    /// Tabs with their names and headers; `rows` is empty until read with [`Self::rows`].
    pub workbook: Workbook,
    pub row_counts: Vec<usize>,
    row_bytes: Vec<(usize, &'a [u8])>,
}

impl<'a> WireWorkbook<'a> {
    pub fn decode(bytes: &'a [u8]) -> Result<Self, WireError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(WireError { at: 0 });
        }
        let at = reader.at;
        let format = format_of(reader.u32()?).ok_or(WireError { at })?;
        let at = reader.at;
        let encoding = encoding_of(reader.u32()?).ok_or(WireError { at })?;
        let at = reader.at;
        let delimiter = match reader.u32()? {
            0 => None,
            code => Some(char::from_u32(code).ok_or(WireError { at })?),
        };
        let warnings = (0..reader.u32()?)
            .map(|_| reader.string().map(|message| ParseWarning { message }))
            .collect::<Result<_, _>>()?;
        let sheet_count = reader.u32()? as usize;
        // Counts come from the buffer: never reserve more than its bytes could hold.
        let capacity = sheet_count.min(reader.remaining() / MIN_SHEET_BYTES);
        let mut sheets = Vec::with_capacity(capacity);
        let mut row_counts = Vec::with_capacity(capacity);
        let mut row_lengths = Vec::with_capacity(capacity);
        for _ in 0..sheet_count {
            let name = reader.string()?;
            let header_row_index = reader.u32()? as usize;
            let header_row_number = reader.u32()?;
            let headers = (0..reader.u32()?)
                .map(|_| reader.string())
                .collect::<Result<_, _>>()?;
            let at = reader.at;
            let row_count = reader.u32()? as usize;
            let row_length = reader.u32()? as usize;
            if row_count > row_length / MIN_ROW_BYTES {
                return Err(WireError { at });
            }
            row_counts.push(row_count);
            row_lengths.push(row_length);
            sheets.push(Sheet {
                name,
                header_row_index,
                header_row_number,
                headers,
                rows: Vec::new(),
            });
        }
        let row_bytes = row_lengths
            .into_iter()
            .map(|length| Ok((reader.at, reader.take(length)?)))
            .collect::<Result<_, WireError>>()?;
        Ok(WireWorkbook {
            workbook: Workbook {
                format,
                encoding,
                delimiter,
                sheets,
                warnings,
            },
            row_counts,
            row_bytes,
        })
    }

    /// The rows of tab `sheet`, decoded one at a time.
    pub fn rows(&self, sheet: usize) -> WireRows<'a> {
        let (offset, bytes) = self.row_bytes[sheet];
        WireRows {
            reader: Reader { bytes, at: 0 },
            offset,
            left: self.row_counts[sheet],
        }
    }

    /// [`super::no_data_rows`] for the tabs an import reads, from their row counts.
    pub fn no_data_rows(&self, wanted: &[usize]) -> Option<ParseError> {
        let first = *wanted.first()?;
        if wanted.iter().any(|&i| self.row_counts[i] > 0) {
            return None;
        }
        let sheet = &self.workbook.sheets[first];
        Some(ParseError::NoDataRows {
            sheet: sheet.name.clone(),
            header_row: sheet.header_row_number,
        })
    }
}

pub struct WireRows<'a> {
    reader: Reader<'a>,
    /// Where these rows start in the whole buffer, for errors.
    offset: usize,
    left: usize,
}

impl Iterator for WireRows<'_> {
    type Item = Result<SourceRow, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let row = (|| {
            let number = self.reader.u32()?;
            let count = self.reader.u32()? as usize;
            let mut cells = Vec::with_capacity(count.min(self.reader.remaining() / 4));
            for _ in 0..count {
                cells.push(self.reader.string()?);
            }
            Ok(SourceRow { number, cells })
        })();
        Some(row.map_err(|WireError { at }| WireError {
            at: at + self.offset,
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .at
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(WireError { at: self.at })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn string(&mut self) -> Result<String, WireError> {
        let at = self.at;
        let length = self.u32()? as usize;
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| WireError { at })
    }
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u32(out, text.len() as u32);
    out.extend_from_slice(text.as_bytes());
}

fn format_code(format: FileFormat) -> u32 {
    match format {
        FileFormat::Delimited => 0,
        FileFormat::Xlsx => 1,
        FileFormat::Xls => 2,
        FileFormat::Ods => 3,
    }
}

fn format_of(code: u32) -> Option<FileFormat> {
    [
        FileFormat::Delimited,
        FileFormat::Xlsx,
        FileFormat::Xls,
        FileFormat::Ods,
    ]
    .into_iter()
    .find(|&f| format_code(f) == code)
}

const ENCODINGS: [TextEncoding; 5] = [
    TextEncoding::Utf8,
    TextEncoding::Utf8Bom,
    TextEncoding::Utf16Le,
    TextEncoding::Utf16Be,
    TextEncoding::Windows1252,
];

fn encoding_code(encoding: Option<TextEncoding>) -> u32 {
    encoding.map_or(0, |e| {
        ENCODINGS.iter().position(|&known| known == e).unwrap_or(0) as u32 + 1
    })
}

fn encoding_of(code: u32) -> Option<Option<TextEncoding>> {
    match code {
        0 => Some(None),
        n => ENCODINGS.get(n as usize - 1).copied().map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Workbook {
        Workbook {
            format: FileFormat::Xlsx,
            encoding: Some(TextEncoding::Windows1252),
            delimiter: Some(';'),
            sheets: vec![
                Sheet {
                    name: "Instructions".into(),
                    header_row_index: 0,
                    header_row_number: 1,
                    headers: vec!["Read me".into()],
                    rows: Vec::new(),
                },
                Sheet {
                    name: "Élèves".into(),
                    header_row_index: 1,
                    header_row_number: 3,
                    headers: vec!["Email".into(), "Prénom".into(), String::new()],
                    rows: vec![
                        SourceRow {
                            number: 4,
                            cells: vec!["zoë@example.org".into(), "Zoë".into()],
                        },
                        SourceRow {
                            number: 6,
                            cells: Vec::new(),
                        },
                    ],
                },
            ],
            warnings: vec![ParseWarning {
                message: "2 cells holding dates were read as YYYY-MM-DD".into(),
            }],
        }
    }

    #[test]
    fn a_workbook_comes_back_as_it_went() {
        let workbook = sample();
        let bytes = encode(&workbook);
        let wire = WireWorkbook::decode(&bytes).unwrap();
        assert_eq!(wire.row_counts, vec![0, 2]);
        let mut decoded = wire.workbook.clone();
        for (i, sheet) in decoded.sheets.iter_mut().enumerate() {
            sheet.rows = wire.rows(i).collect::<Result<_, _>>().unwrap();
        }
        assert_eq!(decoded, workbook);
    }

    #[test]
    fn header_only_tabs_get_the_engines_answer() {
        let bytes = encode(&sample());
        let wire = WireWorkbook::decode(&bytes).unwrap();
        assert_eq!(wire.no_data_rows(&[1]), None);
        assert_eq!(
            wire.no_data_rows(&[0]),
            Some(ParseError::NoDataRows {
                sheet: "Instructions".into(),
                header_row: 1
            })
        );
    }

    #[cfg(feature = "read")]
    mod read {
        use super::super::*;
        use crate::{parse::parse_bytes, ImportKind, Limits, ParseOptions};
        use proptest::prelude::*;

        fn both(text: &[u8], name: Option<&str>, opts: &ParseOptions, limits: &Limits) {
            let streamed = read(text, name, opts, limits);
            let built = parse_bytes(text, name, opts, limits).map(|w| encode(&w));
            assert_eq!(streamed, built, "{:?}", String::from_utf8_lossy(text));
        }

        #[test]
        fn files_read_straight_into_the_buffer_as_through_a_workbook() {
            let opts = ParseOptions {
                header_keys: ImportKind::Invites.header_keys(),
                ..Default::default()
            };
            let limits = Limits::default();
            let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
            for entry in std::fs::read_dir(fixtures).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                if path.is_file() {
                    both(&std::fs::read(&path).unwrap(), Some(&name), &opts, &limits);
                }
            }
            let mut big = String::from("Class list 2026\nEmail,Expiry Days\n");
            for i in 0..5_000 {
                big.push_str(&format!("learner{i}@bulk.example, {}\n", i % 30));
            }
            big.push_str("\"quoted, with a\nbreak\",x\n");
            both(big.as_bytes(), Some("big.csv"), &opts, &limits);
            // Two title rows above the header, found by their shape when no keys are given.
            let titled = "Class list\n2026\nMail,Name\na@b.c,Ann\nd@e.f,Bo\n";
            for opts in [opts.clone(), ParseOptions::default()] {
                both(titled.as_bytes(), Some("titled.csv"), &opts, &limits);
            }
        }

        proptest! {
            #[test]
            fn any_text_reads_the_same_either_way(
                text in proptest::collection::vec(
                    prop::sample::select(vec!["a", "Email", "é", ",", ";", "\t", "\n", "\r", "\"", " ", "x@y.z", "", "Name"]),
                    0..60,
                ),
                header_row in proptest::option::of(0usize..5),
                keys in any::<bool>(),
                max_rows in 0usize..6,
                max_columns in 1usize..5,
                max_cell_chars in 1usize..10,
                name in prop::sample::select(vec![None, Some("list.csv"), Some("list.tsv")]),
            ) {
                let opts = ParseOptions {
                    header_row,
                    header_keys: if keys { ImportKind::Invites.header_keys() } else { Vec::new() },
                    ..Default::default()
                };
                let limits = Limits { max_rows, max_columns, max_cell_chars, ..Limits::default() };
                both(text.concat().as_bytes(), name, &opts, &limits);
            }
        }
    }

    #[test]
    fn a_cut_buffer_is_an_error_not_a_panic() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(WireWorkbook::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(WireWorkbook::decode(b"nope").is_err());
    }

    #[test]
    fn counts_larger_than_the_buffer_are_errors_not_allocations() {
        let mut bytes = encode(&Workbook {
            sheets: Vec::new(),
            ..sample()
        });
        let sheet_count_at = bytes.len() - 4;
        bytes[sheet_count_at..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(WireWorkbook::decode(&bytes).is_err());

        let mut one_tab = sample();
        one_tab.sheets.remove(0);
        let bytes = encode(&one_tab);
        let wire = WireWorkbook::decode(&bytes).unwrap();
        assert_eq!(wire.row_counts, vec![2]);
        // The row count sits 8 bytes before the rows; claim far more rows than fit.
        let rows_length = 4 + 4 + 4 + "zoë@example.org".len() + 4 + "Zoë".len() + 4 + 4;
        let count_at = bytes.len() - rows_length - 8;
        let mut lying = bytes.clone();
        lying[count_at..count_at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(
            WireWorkbook::decode(&lying).err(),
            Some(WireError { at: count_at })
        );
    }
}
