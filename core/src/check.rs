//! The whole pipeline in one call, for the CLI and the server's re-check.

use serde::{Deserialize, Serialize};

use crate::issue::Issue;
use crate::kinds::{ImportKind, Role};
use crate::mapping::{map_headers, Mapping, MappingOverrides};
use crate::parse::{FileFormat, ParseOptions, ParseWarning, TextEncoding};
use crate::validate::{Checked, Totals, ValidationOptions};
// The streaming check reads files itself; a build without the readers (the browser's
// page bundle, whose files are read in the engine's Web Worker) has only the types.
#[cfg(feature = "read")]
use crate::limits::Limits;
#[cfg(feature = "read")]
use crate::parse::{
    note_warnings, prepare, read_spreadsheet, stream_delimited, CellNote, Delimited,
    DelimitedInput, ParseError, Prepared, SheetSink, SourceRow,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckOptions {
    pub parse: ParseOptions,
    /// Per sheet name; sheets not listed use automatic mapping.
    pub overrides: Vec<(String, MappingOverrides)>,
    pub validation: ValidationOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub kind: ImportKind,
    pub format: FileFormat,
    pub encoding: Option<TextEncoding>,
    pub delimiter: Option<char>,
    pub warnings: Vec<ParseWarning>,
    /// One mapping per sheet that was checked, in [`Checked::sheets`] order.
    pub mappings: Vec<Mapping>,
    pub checked: Checked,
}

impl CheckReport {
    pub fn totals(&self) -> Totals {
        self.checked.totals
    }

    /// Header problems first, then row problems in file order.
    pub fn issues(&self) -> impl Iterator<Item = &Issue> {
        self.mappings
            .iter()
            .flat_map(|m| m.issues.iter())
            .chain(self.checked.issues())
    }

    pub fn has_errors(&self) -> bool {
        self.issues().any(Issue::is_error)
    }
}

#[cfg(feature = "read")]
pub fn check(
    bytes: &[u8],
    file_name: Option<&str>,
    kind: ImportKind,
    limits: &Limits,
) -> Result<CheckReport, ParseError> {
    check_with(bytes, file_name, kind, limits, &CheckOptions::default())
}

#[cfg(feature = "read")]
pub fn check_with(
    bytes: &[u8],
    file_name: Option<&str>,
    kind: ImportKind,
    limits: &Limits,
    opts: &CheckOptions,
) -> Result<CheckReport, ParseError> {
    let mut parse_opts = opts.parse.clone();
    if parse_opts.header_keys.is_empty() {
        parse_opts.header_keys = kind.header_keys();
    }
    match prepare(bytes, file_name, &parse_opts, limits)? {
        Prepared::Delimited(input) => check_delimited(input, kind, limits, &parse_opts, opts),
        Prepared::Spreadsheet(format, bytes) => {
            check_spreadsheet(format, bytes, kind, limits, &parse_opts, opts)
        }
    }
}

/// Rows go straight from the CSV reader into the checker, so peak memory is the checked
/// rows plus a handful of rows in flight, not a second copy of the whole file.
#[cfg(feature = "read")]
fn check_delimited(
    input: DelimitedInput<'_>,
    kind: ImportKind,
    limits: &Limits,
    parse_opts: &ParseOptions,
    opts: &CheckOptions,
) -> Result<CheckReport, ParseError> {
    let overrides = opts
        .overrides
        .iter()
        .find(|(n, _)| *n == input.name)
        .map(|(_, o)| o.clone())
        .unwrap_or_default();
    let mut mapping: Option<Mapping> = None;
    let mut checked = Checked::empty(kind, &opts.validation);
    // A row count is cheap and lets the checker allocate once.
    let expected = input
        .text
        .as_bytes()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .min(limits.max_rows);
    stream_delimited(&input, parse_opts, limits, |event| {
        match event {
            Delimited::Header(header) => {
                let m = map_headers(kind, &header.cells, &overrides);
                checked.begin_sheet(&input.name, &m, expected);
                mapping = Some(m);
            }
            Delimited::Kept(row) => checked.push_row(row),
            Delimited::Read(row) => {
                // Stops reading at the first row over the limit.
                if checked.rows.len() >= limits.max_rows {
                    return Err(ParseError::TooManyRows {
                        limit: limits.max_rows,
                    });
                }
                checked.push_row(row);
            }
        }
        Ok(())
    })?;
    Ok(CheckReport {
        kind,
        format: FileFormat::Delimited,
        encoding: Some(input.encoding),
        delimiter: Some(input.delimiter as char),
        warnings: input.warnings,
        mappings: mapping.into_iter().collect(),
        checked,
    })
}

/// A spreadsheet's rows go into the checker as its reader hands them over, so the sheet
/// is never held as parsed rows beside the checked ones. Tabs are chosen as
/// [`sheets_to_check`] chooses them from a parsed workbook.
#[cfg(feature = "read")]
fn check_spreadsheet(
    format: FileFormat,
    bytes: &[u8],
    kind: ImportKind,
    limits: &Limits,
    parse_opts: &ParseOptions,
    opts: &CheckOptions,
) -> Result<CheckReport, ParseError> {
    let mut sink = TabChecker::new(kind, limits, parse_opts, opts);
    read_spreadsheet(format, bytes, limits, &mut sink)?;
    let TabChecker {
        checked,
        mappings,
        warnings,
        any_rows,
        first_header,
        ..
    } = sink;
    if !any_rows {
        return Err(ParseError::Empty);
    }
    if checked.rows.is_empty() {
        if let Some((sheet, header_row)) = first_header {
            return Err(ParseError::NoDataRows { sheet, header_row });
        }
    }
    Ok(CheckReport {
        kind,
        format,
        encoding: None,
        delimiter: None,
        warnings,
        mappings,
        checked,
    })
}

/// What [`TabChecker`] does with the rest of the tab being read.
#[cfg(feature = "read")]
enum TabState {
    /// Collecting the first rows, among which the header is.
    Head,
    /// Checking rows into [`TabChecker::checked`].
    Checking,
    /// A tab that is not imported: its rows only count.
    Skipping,
}

/// Receives spreadsheet tabs row by row: finds each tab's header, decides whether the tab
/// is imported, and checks its rows as they arrive.
#[cfg(feature = "read")]
struct TabChecker<'a> {
    kind: ImportKind,
    limits: &'a Limits,
    parse_opts: &'a ParseOptions,
    opts: &'a CheckOptions,
    head_len: usize,
    /// People, and a tab named for a role has rows: every such tab is imported, nothing
    /// else.
    role_tabs: bool,
    /// Otherwise: a tab whose headers fit the kind was found, and is the one imported.
    settled: bool,
    checked: Checked,
    mappings: Vec<Mapping>,
    warnings: Vec<ParseWarning>,
    any_rows: bool,
    /// The first imported tab's name and header row, for a NoDataRows answer.
    first_header: Option<(String, u32)>,
    // The tab being read.
    name: String,
    state: TabState,
    head: Vec<SourceRow>,
    headers: Vec<String>,
    header_number: u32,
    data_rows: usize,
    /// Rows the tab says it has, so the checker can allocate once.
    expected_rows: usize,
}

#[cfg(feature = "read")]
impl<'a> TabChecker<'a> {
    fn new(
        kind: ImportKind,
        limits: &'a Limits,
        parse_opts: &'a ParseOptions,
        opts: &'a CheckOptions,
    ) -> Self {
        TabChecker {
            kind,
            limits,
            parse_opts,
            opts,
            head_len: parse_opts.head_len(),
            role_tabs: false,
            settled: false,
            checked: Checked::empty(kind, &opts.validation),
            mappings: Vec::new(),
            warnings: Vec::new(),
            any_rows: false,
            first_header: None,
            name: String::new(),
            state: TabState::Head,
            head: Vec::new(),
            headers: Vec::new(),
            header_number: 0,
            data_rows: 0,
            expected_rows: 0,
        }
    }

    fn overrides(&self) -> MappingOverrides {
        self.opts
            .overrides
            .iter()
            .find(|(n, _)| *n == self.name)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }

    /// The header is among the rows so far: map it, choose whether this tab is imported,
    /// and check the rows under it.
    fn start(&mut self) -> Result<(), ParseError> {
        let (_, header, rest) = self
            .parse_opts
            .split_at_header(std::mem::take(&mut self.head));
        self.header_number = header.number;
        self.headers = header.cells;
        let mapping = map_headers(self.kind, &self.headers, &self.overrides());
        let role_tab = self.kind == ImportKind::People && Role::from_label(&self.name).is_some();
        let wanted = if role_tab {
            // The first role tab with rows: tabs are chosen by role from here on, and
            // whatever was taken before it is dropped.
            if !self.role_tabs {
                self.role_tabs = true;
                self.restart();
            }
            true
        } else if self.role_tabs || self.settled {
            false
        } else if !mapping.has_errors() {
            // The first tab that fits; a first tab taken only for want of a better one
            // (an instructions tab, say) is dropped.
            self.restart();
            self.settled = true;
            true
        } else {
            // The first tab with rows is imported if no later tab fits.
            self.checked.sheets.is_empty()
        };
        if !wanted {
            self.state = TabState::Skipping;
            self.data_rows = rest.len();
            return self.limit_rows();
        }
        self.checked
            .begin_sheet(&self.name, &mapping, self.expected_rows);
        self.mappings.push(mapping);
        if self.first_header.is_none() {
            self.first_header = Some((self.name.clone(), self.header_number));
        }
        self.state = TabState::Checking;
        for row in rest {
            self.row(row)?;
        }
        Ok(())
    }

    /// Drops the tabs checked so far.
    fn restart(&mut self) {
        if !self.checked.sheets.is_empty() {
            self.checked = Checked::empty(self.kind, &self.opts.validation);
            self.mappings.clear();
            self.first_header = None;
        }
    }

    fn limit_rows(&self) -> Result<(), ParseError> {
        if self.data_rows > self.limits.max_rows {
            return Err(ParseError::TooManyRows {
                limit: self.limits.max_rows,
            });
        }
        Ok(())
    }
}

#[cfg(feature = "read")]
impl SheetSink for TabChecker<'_> {
    fn expect_rows(&mut self, rows: usize) {
        self.expected_rows = rows.min(self.limits.max_rows);
    }

    fn begin(&mut self, name: &str) -> Result<(), ParseError> {
        self.expected_rows = 0;
        self.name = name.to_string();
        self.state = TabState::Head;
        self.head.clear();
        self.headers.clear();
        self.data_rows = 0;
        Ok(())
    }

    fn row(&mut self, row: SourceRow) -> Result<(), ParseError> {
        self.any_rows = true;
        match self.state {
            TabState::Head => {
                self.head.push(row);
                if self.head.len() >= self.head_len {
                    self.start()?;
                }
                Ok(())
            }
            TabState::Checking => {
                self.data_rows += 1;
                self.limit_rows()?;
                self.checked.push_row(row);
                Ok(())
            }
            TabState::Skipping => {
                self.data_rows += 1;
                self.limit_rows()
            }
        }
    }

    fn end(&mut self, notes: Vec<CellNote>) -> Result<(), ParseError> {
        if matches!(self.state, TabState::Head) {
            if self.head.is_empty() {
                // A tab with nothing in it is no tab at all, as in a parsed workbook.
                return Ok(());
            }
            self.start()?;
        }
        note_warnings(
            notes,
            &self.name,
            self.header_number,
            &self.headers,
            &mut self.warnings,
        );
        Ok(())
    }
}

/// Which tabs of a workbook an import reads. People take every role tab. Other kinds
/// take the first tab whose headers fit the kind (templates often start with an
/// instructions tab), else the first tab.
pub fn sheets_to_check(
    kind: ImportKind,
    workbook: &crate::parse::Workbook,
    overrides_for: impl Fn(&str) -> MappingOverrides,
) -> Vec<usize> {
    let role_tabs = kind == ImportKind::People
        && workbook
            .sheets
            .iter()
            .any(|s| Role::from_label(&s.name).is_some());
    if role_tabs {
        return workbook
            .sheets
            .iter()
            .enumerate()
            .filter(|(_, s)| Role::from_label(&s.name).is_some())
            .map(|(i, _)| i)
            .collect();
    }
    let fitting = workbook
        .sheets
        .iter()
        .position(|s| !map_headers(kind, &s.headers, &overrides_for(&s.name)).has_errors())
        .unwrap_or(0);
    if workbook.sheets.is_empty() {
        Vec::new()
    } else {
        vec![fitting]
    }
}
