//! Spreadsheets built to exhaust memory: each is refused part-way through, with a typed
//! error, however much it claims or really inflates to.

#[path = "support/xlsx_bomb.rs"]
mod xlsx_bomb;

use muster_core::{check, parse_bytes, ImportKind, Limits, ParseError, ParseOptions};
use xlsx_bomb::{
    declare_size, empty_rows_bomb, huge_shared_string_bomb, whitespace_bomb, xlsx, SHEET_END,
    SHEET_START,
};

#[test]
fn a_sheet_of_millions_of_empty_rows_is_abandoned_at_the_row_limit() {
    // 8 MB of `<row></row>`: 760,000 rows, under the unpacked-size limit. (The CLI's
    // measured bomb is the same sheet at 419 MB: `examples/bomb.rs`.)
    let bytes = empty_rows_bomb(8 << 20);
    assert!(bytes.len() < 200_000, "{}", bytes.len());
    let err = check(
        &bytes,
        Some("bomb.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap_err();
    // The first row past the limit stops the read; millions more are never parsed.
    assert_eq!(
        err,
        ParseError::SheetTooLarge {
            sheet: "Sheet1".into(),
            rows: 200_005,
            columns: 1,
            max_rows: 200_000,
            max_columns: 200
        }
    );
}

#[test]
fn inflated_bytes_count_against_the_limit_as_they_stream() {
    // The rows stay under the row limit, so only the running byte count can stop it.
    let bytes = empty_rows_bomb(3 << 20);
    let limits = Limits {
        max_uncompressed_bytes: 1 << 20,
        max_rows: 10_000_000,
        ..Limits::default()
    };
    // The declared sizes are honest and over the limit: refused before inflating.
    let err = check(&bytes, Some("b.xlsx"), ImportKind::Invites, &limits).unwrap_err();
    assert!(
        matches!(err, ParseError::UnpackedTooLarge { .. }),
        "{err:?}"
    );
    // Declared as 4 KB, the sheet inflates to 3 MB: the capped reader stops it at 4 KB.
    let lying = declare_size(bytes, "xl/worksheets/sheet1.xml", 4096);
    let err = check(&lying, Some("b.xlsx"), ImportKind::Invites, &limits).unwrap_err();
    match err {
        ParseError::CorruptSpreadsheet { message } => {
            assert!(
                message.contains(
                    "xl/worksheets/sheet1.xml unpacks to more than the 4096 bytes it declares"
                ),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_huge_shared_string_is_refused_without_holding_it() {
    let bytes = huge_shared_string_bomb(50 << 20);
    let err = check(
        &bytes,
        Some("s.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap_err();
    match err {
        ParseError::CorruptSpreadsheet { message } => {
            assert!(
                message.contains("xl/sharedStrings.xml holds a single piece of XML over"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn whitespace_between_rows_is_refused_once_it_outgrows_any_cell() {
    let bytes = whitespace_bomb(8 << 20);
    let err = check(
        &bytes,
        Some("w.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap_err();
    match err {
        ParseError::CorruptSpreadsheet { message } => assert!(
            message.contains("single piece of XML over") && message.contains("near row 1"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_long_cell_in_a_sheet_names_its_row_and_column() {
    let bytes = xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            let long = "b".repeat(12_000);
            write!(
                w,
                r#"<row r="3"><c r="A3" t="inlineStr"><is><t>a@x.org</t></is></c><c r="B3" t="inlineStr"><is><t>{long}</t></is></c></row>"#
            )?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    );
    let err = parse_bytes(
        &bytes,
        Some("l.xlsx"),
        &ParseOptions::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParseError::CellTooLong {
            row: 3,
            column: 2,
            chars: 12_000,
            limit: 10_000
        }
    );
}

#[test]
fn a_huge_text_node_in_a_sheet_is_refused_naming_the_tab_and_row() {
    let bytes = xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            w.write_all(br#"<row r="7"><c r="A7" t="inlineStr"><is><t>"#)?;
            w.write_all(&vec![b' '; 4 << 20])?;
            w.write_all(b"</t></is></c></row>")?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    );
    let err = parse_bytes(
        &bytes,
        Some("t.xlsx"),
        &ParseOptions::default(),
        &Limits::default(),
    )
    .unwrap_err();
    match err {
        ParseError::CorruptSpreadsheet { message } => assert!(
            message.contains("xl/worksheets/sheet1.xml holds a single piece of XML")
                && message.ends_with("(tab \"Sheet1\", near row 7)"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn blank_rows_above_the_table_do_not_count_against_the_row_limit() {
    let bytes = xlsx(
        |w| {
            w.write_all(br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#)?;
            w.write_all(
                br#"<row r="11"><c r="A11" t="inlineStr"><is><t>Email</t></is></c></row>"#,
            )?;
            for r in 12..=16 {
                write!(
                    w,
                    r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>p{r}@x.org</t></is></c></row>"#
                )?;
            }
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    );
    let limits = Limits {
        max_rows: 5,
        ..Limits::default()
    };
    let book = parse_bytes(&bytes, Some("b.xlsx"), &ParseOptions::default(), &limits).unwrap();
    assert_eq!(book.sheets[0].header_row_number, 11);
    assert_eq!(book.sheets[0].rows.len(), 5);
}

#[test]
fn a_row_wider_than_the_grid_is_abandoned() {
    let bytes = xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            w.write_all(b"<row r=\"2\">")?;
            for _ in 0..20_000 {
                w.write_all(b"<c/>")?;
            }
            w.write_all(b"</row>")?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    );
    let err = parse_bytes(
        &bytes,
        Some("w.xlsx"),
        &ParseOptions::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::SheetTooLarge {
                rows: 2,
                columns: 16_385,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_sheet_part_named_in_another_case_than_its_rels_say_is_still_found() {
    let bytes = xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            w.write_all(
                br#"<row r="2"><c r="A2" t="inlineStr"><is><t>ana@x.org</t></is></c></row>"#,
            )?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    );
    // Zip entry names sit uncompressed in the local and central headers.
    let (from, to) = (
        &b"xl/worksheets/sheet1.xml"[..],
        &b"XL/Worksheets/Sheet1.xml"[..],
    );
    let mut renamed = bytes.clone();
    let mut count = 0;
    for i in 0..renamed.len() - from.len() {
        if &renamed[i..i + from.len()] == from {
            renamed[i..i + from.len()].copy_from_slice(to);
            count += 1;
        }
    }
    assert_eq!(count, 2);
    let report = check(
        &renamed,
        Some("c.xlsx"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(report.totals().ready, 1);
}
