//! Typed spreadsheet cells read as the admin sees them in Excel, with a warning for
//! every value that had to be converted; and one answer for a header with no rows.

use muster_core::{check, parse_bytes, ImportKind, Limits, ParseError, ParseOptions};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn read(bytes: &[u8]) -> muster_core::Workbook {
    parse_bytes(
        bytes,
        Some("t.xlsx"),
        &ParseOptions::default(),
        &Limits::default(),
    )
    .unwrap()
}

#[test]
fn typed_cells_read_as_they_look_in_excel() {
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    for (c, h) in [
        "Email", "Days", "Start", "Code", "Badge", "Site", "Link", "Ratio",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("d/m/yy h:mm");
    let padded = Format::new().set_num_format("000");
    s.write_string(1, 0, "ana@x.org").unwrap();
    s.write_number(1, 1, 14.0).unwrap();
    s.write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(2026, 3, 1).unwrap(), &date)
        .unwrap();
    s.write_string(1, 3, "007").unwrap();
    s.write_number_with_format(1, 4, 7.0, &padded).unwrap();
    s.write_url_with_text(1, 5, "https://school.example.org/ana", "Ana's page")
        .unwrap();
    s.write_formula(1, 6, "=HYPERLINK(\"https://x.org\",\"Profile\")")
        .unwrap();
    s.set_formula_result(1, 6, "Profile");
    s.write_number(1, 7, 0.1 + 0.2).unwrap();
    s.write_string(2, 0, "bo@x.org").unwrap();
    s.write_datetime_with_format(
        2,
        2,
        ExcelDateTime::from_ymd(2026, 3, 2)
            .unwrap()
            .and_hms(8, 30, 0)
            .unwrap(),
        &datetime,
    )
    .unwrap();
    let wb = read(&wb.save_to_buffer().unwrap());
    let rows = &wb.sheets[0].rows;
    assert_eq!(
        rows[0].cells,
        vec![
            "ana@x.org",
            "14",
            "2026-03-01",
            "007",
            "007",
            "Ana's page",
            "Profile",
            "0.3"
        ]
    );
    assert_eq!(rows[1].cells, vec!["bo@x.org", "", "2026-03-02T08:30:00"]);
    let warnings: Vec<&str> = wb.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        warnings,
        vec![
            "Tab \"Sheet1\", column C (\"Start\"): 1 cell holding dates was read as YYYY-MM-DD, first on row 2.",
            "Tab \"Sheet1\", column E (\"Badge\"): 1 cell holding numbers shown with leading zeros was read as shown (such as 007), first on row 2.",
            "Tab \"Sheet1\", column C (\"Start\"): 1 cell holding dates and times was read as YYYY-MM-DDTHH:MM:SS, first on row 3.",
        ]
    );
}

#[test]
fn conversion_warnings_reach_the_check_report() {
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.write_string(0, 0, "Email").unwrap();
    s.write_string(0, 1, "Expiry Days").unwrap();
    s.write_string(0, 2, "Active").unwrap();
    s.write_string(1, 0, "ana@x.org").unwrap();
    s.write_number(1, 1, 30.0).unwrap();
    s.write_boolean(1, 2, true).unwrap();
    let report = check(
        &wb.save_to_buffer().unwrap(),
        Some("i.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(report.checked.rows[0].values.expiry_days, Some(30));
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].message.contains("column C (\"Active\")"));
    assert!(report.warnings[0].message.contains("TRUE/FALSE"));
}

#[test]
fn a_header_with_no_people_below_it_is_one_error_everywhere() {
    let expected = ParseError::NoDataRows {
        sheet: "roster".into(),
        header_row: 2,
    };
    let csv = b"Class list 2026\nEmail,Expiry Days\n\n";
    let limits = Limits::default();
    let opts = ParseOptions {
        header_keys: ImportKind::Invites.header_keys(),
        ..ParseOptions::default()
    };
    assert_eq!(
        parse_bytes(csv, Some("roster.csv"), &opts, &limits).unwrap_err(),
        expected
    );
    assert_eq!(
        check(csv, Some("roster.csv"), ImportKind::Invites, &limits).unwrap_err(),
        expected
    );
    assert!(expected
        .to_string()
        .starts_with("The sheet has a header row but no people below it"));

    let mut wb = Workbook::new();
    let s = wb.add_worksheet().set_name("roster").unwrap();
    s.write_string(0, 0, "Class list 2026").unwrap();
    s.write_string(1, 0, "Email").unwrap();
    s.write_string(1, 1, "Expiry Days").unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    assert_eq!(
        check(&xlsx, Some("roster.xlsx"), ImportKind::Invites, &limits).unwrap_err(),
        expected
    );
}

#[test]
fn rows_on_an_instructions_tab_do_not_hide_an_empty_roster_tab() {
    let mut wb = Workbook::new();
    let roster = wb.add_worksheet().set_name("Roster").unwrap();
    roster.write_string(0, 0, "Email").unwrap();
    let help = wb.add_worksheet().set_name("Help").unwrap();
    help.write_string(0, 0, "How to fill this in").unwrap();
    help.write_string(1, 0, "One person a row").unwrap();
    let wb_bytes = wb.save_to_buffer().unwrap();
    let err = check(
        &wb_bytes,
        Some("r.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParseError::NoDataRows {
            sheet: "Roster".into(),
            header_row: 1
        }
    );
    // The same answer for a caller that parses and picks the tabs itself, as the app does.
    let book = parse_bytes(
        &wb_bytes,
        Some("r.xlsx"),
        &ParseOptions::default(),
        &Limits::default(),
    )
    .unwrap();
    let wanted = muster_core::sheets_to_check(ImportKind::Invites, &book, |_| Default::default());
    assert_eq!(
        muster_core::parse::no_data_rows(wanted.iter().map(|&i| &book.sheets[i])),
        Some(err)
    );
}
