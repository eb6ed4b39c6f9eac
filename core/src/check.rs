//! The whole pipeline in one call, for the CLI and the server's re-check.

use serde::{Deserialize, Serialize};

use crate::issue::Issue;
use crate::kinds::{ImportKind, Role};
use crate::limits::Limits;
use crate::mapping::{map_headers, Mapping, MappingOverrides};
use crate::parse::{
    detect_header, for_each_record, into_workbook, no_data_rows, prepare, DelimitedInput,
    FileFormat, ParseError, ParseOptions, ParseWarning, Prepared, SourceRow, TextEncoding,
};
use crate::validate::{Checked, Totals, ValidationOptions};

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

pub fn check(
    bytes: &[u8],
    file_name: Option<&str>,
    kind: ImportKind,
    limits: &Limits,
) -> Result<CheckReport, ParseError> {
    check_with(bytes, file_name, kind, limits, &CheckOptions::default())
}

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
        spreadsheet => check_workbook(into_workbook(spreadsheet, &parse_opts, limits)?, kind, opts),
    }
}

/// Rows go straight from the CSV reader into the checker, so peak memory is the checked
/// rows plus a handful of rows in flight, not a second copy of the whole file.
fn check_delimited(
    input: DelimitedInput<'_>,
    kind: ImportKind,
    limits: &Limits,
    parse_opts: &ParseOptions,
    opts: &CheckOptions,
) -> Result<CheckReport, ParseError> {
    let head_len = parse_opts
        .header_row
        .map_or(3, |h| h.saturating_add(1).max(3));
    let overrides = opts
        .overrides
        .iter()
        .find(|(n, _)| *n == input.name)
        .map(|(_, o)| o.clone())
        .unwrap_or_default();
    // Rows before the header is known; afterwards the mapping.
    let mut head: Vec<SourceRow> = Vec::new();
    let mut mapping: Option<Mapping> = None;
    let mut checked = Checked::empty(kind, &opts.validation);
    let mut data_rows = 0usize;
    // A row count is cheap and lets the checker allocate once.
    let expected = input
        .text
        .as_bytes()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .min(limits.max_rows);

    let mut header_number = 0u32;
    // The mapping, and the header's row number for a NoDataRows answer.
    let start = |head: &mut Vec<SourceRow>,
                 checked: &mut Checked,
                 data_rows: &mut usize|
     -> Result<(Mapping, u32), ParseError> {
        let index = match parse_opts.header_row {
            Some(i) => i.min(head.len() - 1),
            None => detect_header(head, &parse_opts.header_keys),
        };
        let rest = head.split_off(index + 1);
        let header = head.pop().expect("index is within head");
        let m = map_headers(kind, &header.cells, &overrides);
        checked.begin_sheet(&input.name, &m, expected);
        for row in rest {
            *data_rows += 1;
            checked.push_row(row);
        }
        Ok((m, header.number))
    };

    for_each_record(&input.text, input.delimiter, limits, |row| {
        if mapping.is_some() {
            data_rows += 1;
            if data_rows > limits.max_rows {
                return Err(ParseError::TooManyRows {
                    limit: limits.max_rows,
                });
            }
            checked.push_row(row);
            return Ok(());
        }
        head.push(row.to_source_row());
        if head.len() >= head_len {
            let (m, number) = start(&mut head, &mut checked, &mut data_rows)?;
            (mapping, header_number) = (Some(m), number);
        }
        Ok(())
    })?;
    if mapping.is_none() {
        if head.is_empty() {
            return Err(ParseError::Empty);
        }
        let (m, number) = start(&mut head, &mut checked, &mut data_rows)?;
        (mapping, header_number) = (Some(m), number);
    }
    if data_rows > limits.max_rows {
        return Err(ParseError::TooManyRows {
            limit: limits.max_rows,
        });
    }
    if data_rows == 0 {
        return Err(ParseError::NoDataRows {
            sheet: input.name,
            header_row: header_number,
        });
    }
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

fn check_workbook(
    workbook: crate::parse::Workbook,
    kind: ImportKind,
    opts: &CheckOptions,
) -> Result<CheckReport, ParseError> {
    let mut checked = Checked::empty(kind, &opts.validation);
    let mut mappings = Vec::new();
    let overrides_for = |name: &str| {
        opts.overrides
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    };
    let wanted_sheets = sheets_to_check(kind, &workbook, |name| overrides_for(name));
    // Another tab's rows (instructions, say) are not people to import.
    if let Some(err) = no_data_rows(wanted_sheets.iter().filter_map(|&i| workbook.sheets.get(i))) {
        return Err(err);
    }
    for (i, sheet) in workbook.sheets.into_iter().enumerate() {
        let wanted = wanted_sheets.contains(&i);
        if !wanted {
            continue;
        }
        let mapping = map_headers(kind, &sheet.headers, &overrides_for(&sheet.name));
        let len = sheet.rows.len();
        checked.begin_sheet(&sheet.name, &mapping, len);
        for row in sheet.rows {
            checked.push_row(row);
        }
        mappings.push(mapping);
    }
    Ok(CheckReport {
        kind,
        format: workbook.format,
        encoding: workbook.encoding,
        delimiter: workbook.delimiter,
        warnings: workbook.warnings,
        mappings,
        checked,
    })
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
