//! Hostile inputs: each must give its expected typed error or warning, never a panic.

use muster_core::parse::TextEncoding;
use muster_core::{check, parse_bytes, ImportKind, IssueCode, Limits, ParseError, ParseOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn check_fixture(name: &str, kind: ImportKind) -> Result<muster_core::CheckReport, ParseError> {
    check(&fixture(name), Some(name), kind, &Limits::default())
}

#[test]
fn a_binary_file_is_not_a_table() {
    let err = check_fixture("binary.bin", ImportKind::Invites).unwrap_err();
    assert_eq!(err, ParseError::NotATable);
    assert!(err
        .to_string()
        .starts_with("This is not a CSV, TSV or spreadsheet file"));
}

#[test]
fn a_zip_bomb_xlsx_is_refused_before_anything_is_inflated() {
    let err = check_fixture("zip_bomb.xlsx", ImportKind::Invites).unwrap_err();
    match err {
        ParseError::UnpackedTooLarge {
            uncompressed,
            limit,
        } => {
            assert!(uncompressed > 4_000_000_000);
            assert_eq!(limit, Limits::default().max_uncompressed_bytes);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_honest_but_huge_unpacked_size_is_refused_too() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    s.write_string(0, 0, "Email").unwrap();
    let filler = "x".repeat(10_000);
    for r in 1..400u32 {
        s.write_string(r, 0, format!("{r}{filler}")).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let limits = Limits {
        max_uncompressed_bytes: 1_000_000,
        ..Limits::default()
    };
    let err = check(&bytes, Some("big.xlsx"), ImportKind::Invites, &limits).unwrap_err();
    assert!(
        matches!(err, ParseError::UnpackedTooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn a_sheet_declaring_the_whole_grid_is_refused_before_reading_cells() {
    let err = check_fixture("bogus_dimension.xlsx", ImportKind::Invites).unwrap_err();
    assert_eq!(
        err,
        ParseError::SheetTooLarge {
            sheet: "Sheet1".into(),
            rows: 1_048_576,
            columns: 16_384,
            max_rows: 200_000,
            max_columns: 200
        }
    );
}

#[test]
fn a_truncated_xlsx_is_a_clear_error() {
    let err = check_fixture("truncated.xlsx", ImportKind::Invites).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::NotATable | ParseError::CorruptSpreadsheet { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn a_one_megabyte_cell_is_refused_naming_row_and_column() {
    let mut csv = b"Email,First Name\r\na@x.org,".to_vec();
    csv.extend(std::iter::repeat_n(b'a', 1 << 20));
    let err = check(
        &csv,
        Some("big.csv"),
        ImportKind::Learners,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParseError::CellTooLong {
            row: 2,
            column: 2,
            chars: 1 << 20,
            limit: 10_000
        }
    );
    assert!(err.to_string().contains("Row 2, column 2 (B)"), "{err}");
}

#[test]
fn a_header_of_100k_columns_is_refused() {
    let err = check_fixture("wide_100k_columns.csv", ImportKind::Invites).unwrap_err();
    assert_eq!(
        err,
        ParseError::TooManyColumns {
            row: 1,
            count: 100_000,
            limit: 200
        }
    );
}

#[test]
fn invalid_utf8_is_read_as_windows_1252_with_a_warning() {
    let report = check_fixture("invalid_utf8.csv", ImportKind::Learners).unwrap();
    assert_eq!(report.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(report.warnings.len(), 1);
    let first = report.checked.rows[0]
        .values
        .more()
        .first_name
        .clone()
        .unwrap();
    assert_eq!(first.as_str(), "José");
    assert!(!report.has_errors());
}

#[test]
fn utf16_files_with_a_bom_are_read() {
    for (name, enc) in [
        ("utf16le_bom.csv", TextEncoding::Utf16Le),
        ("utf16be_bom.csv", TextEncoding::Utf16Be),
    ] {
        let report = check_fixture(name, ImportKind::Learners).unwrap();
        assert_eq!(report.encoding, Some(enc));
        assert_eq!(
            report.checked.rows[0]
                .values
                .more()
                .first_name
                .as_ref()
                .unwrap()
                .as_str(),
            "Zoë"
        );
        assert!(!report.has_errors(), "{name}");
    }
}

#[test]
fn formula_cells_are_warnings_not_errors() {
    let report = check_fixture("formulas.csv", ImportKind::Learners).unwrap();
    let flagged: Vec<u32> = report
        .checked
        .issues()
        .filter(|i| i.code == IssueCode::FormulaLikeValue)
        .filter_map(|i| i.row)
        .collect();
    assert_eq!(flagged, vec![2, 3, 4, 5]);
    assert!(!report.has_errors());
    assert_eq!(report.totals().with_warnings, 4);
    assert_eq!(report.totals().ready, 1);
}

#[test]
fn hostile_limits_are_configurable() {
    let limits = Limits {
        max_columns: 100_001,
        ..Limits::default()
    };
    // Past the column limit, the file is seen for what it is: a header and no people.
    let err = parse_bytes(
        &fixture("wide_100k_columns.csv"),
        None,
        &ParseOptions::default(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParseError::NoDataRows {
            sheet: "Sheet1".into(),
            header_row: 1
        }
    );
    let mut csv = fixture("wide_100k_columns.csv");
    csv.extend_from_slice(
        b"
a@x.org
",
    );
    let wb = parse_bytes(&csv, None, &ParseOptions::default(), &limits).unwrap();
    assert_eq!(wb.sheets[0].headers.len(), 100_000);
}

#[test]
fn an_ods_whose_repeated_cells_expand_to_billions_is_refused() {
    let err = check_fixture("repeat_bomb.ods", ImportKind::Invites).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::SheetTooLarge {
                columns: 16_000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_ods_repeating_a_filled_row_a_million_times_is_refused() {
    let err = check_fixture("row_repeat_bomb.ods", ImportKind::Invites).unwrap_err();
    assert!(matches!(err, ParseError::SheetTooLarge { .. }), "{err:?}");
}

#[test]
fn a_small_ods_with_padding_repeats_is_read() {
    let report = check_fixture("small.ods", ImportKind::Invites).unwrap();
    assert_eq!(report.format, muster_core::parse::FileFormat::Ods);
    assert_eq!(report.totals().ready, 1, "{:?}", report.checked.rows);
}
