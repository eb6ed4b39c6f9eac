//! `check` reads a spreadsheet's rows straight into the checker; it must reach the same
//! verdict as parsing the workbook whole, choosing tabs with `sheets_to_check` and
//! validating them, which is what the app does with a parsed workbook.

#[path = "support/ods.rs"]
mod ods;

use muster_core::parse::no_data_rows;
use muster_core::{
    check, map_headers, parse_bytes, sheets_to_check, Checked, ImportKind, Limits,
    MappingOverrides, ParseError, ParseOptions, ValidationOptions,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{json, Value};

/// What a report says, from the workbook parsed whole.
fn parsed_whole(bytes: &[u8], name: &str, kind: ImportKind) -> Result<Value, ParseError> {
    let opts = ParseOptions {
        header_keys: kind.header_keys(),
        ..Default::default()
    };
    let wb = parse_bytes(bytes, Some(name), &opts, &Limits::default())?;
    let wanted = sheets_to_check(kind, &wb, |_| MappingOverrides::default());
    if let Some(err) = no_data_rows(wanted.iter().map(|&i| &wb.sheets[i])) {
        return Err(err);
    }
    let mut checked = Checked::empty(kind, &ValidationOptions::default());
    let mut mappings = Vec::new();
    for i in wanted {
        let s = &wb.sheets[i];
        let m = map_headers(kind, &s.headers, &MappingOverrides::default());
        checked.add_rows(&s.name, &m, s.rows.iter());
        mappings.push(m);
    }
    Ok(json!({
        "format": wb.format,
        "warnings": wb.warnings,
        "mappings": mappings,
        "checked": checked,
    }))
}

fn streamed(bytes: &[u8], name: &str, kind: ImportKind) -> Result<Value, ParseError> {
    let r = check(bytes, Some(name), kind, &Limits::default())?;
    Ok(json!({
        "format": r.format,
        "warnings": r.warnings,
        "mappings": r.mappings,
        "checked": r.checked,
    }))
}

fn same_verdict(bytes: &[u8], name: &str, kind: ImportKind) -> Result<Value, ParseError> {
    let whole = parsed_whole(bytes, name, kind);
    let stream = streamed(bytes, name, kind);
    assert_eq!(stream, whole, "{name} as {kind:?}");
    stream
}

type Tab<'a> = (&'a str, Vec<Vec<&'a str>>);

fn xlsx(tabs: &[Tab<'_>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in tabs {
        let s = wb.add_worksheet();
        s.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if let Some(d) = cell.strip_prefix("date:") {
                    let d: Vec<u16> = d.split('-').map(|p| p.parse().unwrap()).collect();
                    let dt = ExcelDateTime::from_ymd(d[0], d[1] as u8, d[2] as u8).unwrap();
                    s.write_datetime_with_format(r, c, dt, &date).unwrap();
                } else if let Ok(n) = cell.parse::<f64>() {
                    s.write_number(r, c, n).unwrap();
                } else if !cell.is_empty() {
                    s.write_string(r, c, *cell).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// Workbooks that exercise every way tabs are chosen, as (tabs, kind).
fn cases() -> Vec<(Vec<Tab<'static>>, ImportKind)> {
    let roster = || {
        vec![
            vec!["Class list 2026"],
            vec!["Email", "Expiry Days", "Start"],
            vec!["ana@x.org", "14", "date:2026-03-01"],
            vec!["bo@x.org", "400", ""],
            vec!["ANA@x.org", "", "date:2026-03-02"],
            vec!["not an email", "3.5", ""],
        ]
    };
    let instructions = || vec![vec!["How to fill this in"], vec!["One person a row."]];
    let people = |role: &'static str| {
        vec![
            vec!["Email", "First Name", "Last Name", "Role"],
            vec!["p1@x.org", "Ana", "Lima", role],
            vec!["p2@x.org", "Bo", "", ""],
        ]
    };
    vec![
        (vec![("Roster", roster())], ImportKind::Invites),
        (
            vec![("Read me", instructions()), ("Roster", roster())],
            ImportKind::Invites,
        ),
        // Nothing fits: the first tab with rows is checked, and its errors reported.
        (
            vec![
                ("Empty", vec![]),
                ("Read me", instructions()),
                ("Other", instructions()),
            ],
            ImportKind::Invites,
        ),
        (
            vec![
                ("Notes", instructions()),
                ("Students", people("student")),
                ("Parents", people("student")),
            ],
            ImportKind::People,
        ),
        // The only role tab is empty: tabs are chosen by their headers instead.
        (
            vec![("Students", vec![]), ("Sheet1", people("student"))],
            ImportKind::People,
        ),
        (vec![("Sheet1", people("instructor"))], ImportKind::People),
        (
            vec![("Roster", vec![vec!["Email", "Expiry Days"]])],
            ImportKind::Invites,
        ),
        (
            vec![
                ("Read me", instructions()),
                ("Roster", vec![vec!["Email", "Expiry Days"]]),
            ],
            ImportKind::Invites,
        ),
    ]
}

#[test]
fn a_streamed_xlsx_check_matches_the_workbook_parsed_whole() {
    for (tabs, kind) in cases() {
        let _ = same_verdict(&xlsx(&tabs), "t.xlsx", kind);
    }
}

#[test]
fn a_streamed_ods_check_matches_the_workbook_parsed_whole() {
    for (tabs, kind) in cases() {
        let _ = same_verdict(&ods::ods(&tabs), "t.ods", kind);
    }
}

#[test]
fn the_cases_cover_rows_no_rows_and_errors() {
    let outcomes: Vec<String> = cases()
        .into_iter()
        .map(
            |(tabs, kind)| match streamed(&xlsx(&tabs), "t.xlsx", kind) {
                Ok(v) => format!(
                    "{} rows on {}",
                    v["checked"]["rows"].as_array().unwrap().len(),
                    v["checked"]["sheets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s["name"].as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join("+")
                ),
                Err(e) => format!("{e:?}"),
            },
        )
        .collect();
    assert_eq!(
        outcomes,
        [
            "4 rows on Roster",
            "4 rows on Roster",
            "1 rows on Read me",
            "4 rows on Students+Parents",
            "2 rows on Sheet1",
            "2 rows on Sheet1",
            "NoDataRows { sheet: \"Roster\", header_row: 1 }",
            "NoDataRows { sheet: \"Roster\", header_row: 1 }",
        ]
    );
}
