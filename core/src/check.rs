//! The whole pipeline in one call, for the CLI and the server's re-check.

use serde::{Deserialize, Serialize};

use crate::issue::Issue;
use crate::kinds::{ImportKind, Role};
use crate::limits::Limits;
use crate::mapping::{map_headers, Mapping, MappingOverrides};
use crate::parse::{parse_bytes, FileFormat, ParseError, ParseOptions, ParseWarning, TextEncoding};
use crate::validate::{validate_owned, Checked, Totals, ValidationOptions};

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
        self.mappings.iter().flat_map(|m| m.issues.iter()).chain(self.checked.issues())
    }

    pub fn has_errors(&self) -> bool {
        self.issues().any(Issue::is_error)
    }
}

pub fn check(bytes: &[u8], file_name: Option<&str>, kind: ImportKind, limits: &Limits) -> Result<CheckReport, ParseError> {
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
    let workbook = parse_bytes(bytes, file_name, &parse_opts, limits)?;
    let mut checked = Checked::empty(kind, &opts.validation);
    let mut mappings = Vec::new();
    // People take every role tab; other kinds take the first sheet with data.
    let role_tabs = kind == ImportKind::People && workbook.sheets.iter().any(|s| Role::from_label(&s.name).is_some());
    let mut first = true;
    for sheet in workbook.sheets {
        let wanted = if role_tabs { Role::from_label(&sheet.name).is_some() } else { first };
        if !wanted {
            continue;
        }
        first = false;
        let overrides = opts.overrides.iter().find(|(n, _)| *n == sheet.name).map(|(_, o)| o.clone()).unwrap_or_default();
        let mapping = map_headers(kind, &sheet.headers, &overrides);
        if checked.rows.is_empty() && checked.sheets.is_empty() {
            checked = validate_owned(kind, sheet, &mapping, &opts.validation);
        } else {
            checked.add_rows(&sheet.name.clone(), &mapping, sheet.rows.into_iter());
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
