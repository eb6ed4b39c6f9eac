//! ODS read by the engine's own streaming reader: typed cells as the admin sees them,
//! with a warning for each conversion, and files built to exhaust memory refused
//! part-way with a typed error.

#[path = "support/ods.rs"]
mod ods;
#[path = "support/xlsx_bomb.rs"]
mod xlsx_bomb;

use muster_core::{check, parse_bytes, ImportKind, Limits, ParseError, ParseOptions};
use ods::{cell, ods_with};

fn read(bytes: &[u8], limits: &Limits) -> Result<muster_core::Workbook, ParseError> {
    parse_bytes(bytes, Some("t.ods"), &ParseOptions::default(), limits)
}

fn table(name: &str, rows: &str) -> Vec<u8> {
    let xml = format!(r#"<table:table table:name="{name}">{rows}</table:table>"#);
    ods_with(|w| w.write_all(xml.as_bytes()))
}

fn header() -> String {
    format!(
        "<table:table-row>{}{}</table:table-row>",
        cell("Email"),
        cell("Note")
    )
}

#[test]
fn typed_cells_read_as_they_look_in_the_spreadsheet() {
    let rows = [
        // Whole float, date, date-time, boolean, time, padded number, text with zeros.
        cell("14"),
        cell("date:2026-03-01"),
        r#"<table:table-cell office:value-type="date" office:date-value="2026-03-01T12:30:00"><text:p>01/03/26 12:30</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="time" office:time-value="PT08H05M00S"><text:p>08:05</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="float" office:value="7"><text:p>007</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="string"><text:p>007</text:p></table:table-cell>"#.into(),
        // Paragraphs, spaces, a tab, a line break, a link's text, a comment left out.
        r#"<table:table-cell office:value-type="string"><office:annotation><text:p>a comment</text:p></office:annotation><text:p>Ana<text:s text:c="3"/>Lima<text:tab/>x</text:p><text:p>see <text:a xlink:href="https://x.org">her page</text:a><text:line-break/>end</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="percentage" office:value="0.25"><text:p>25%</text:p></table:table-cell>"#.into(),
        r#"<table:table-cell office:value-type="string" calcext:value-type="error" table:formula="of:=NA()"><text:p>#N/A</text:p></table:table-cell>"#.into(),
    ];
    let heads: Vec<String> = (0..rows.len()).map(|i| cell(&format!("H{i}"))).collect();
    let xml = format!(
        r#"<table:table table:name="Staff"><table:table-row>{}</table:table-row><table:table-row>{}<table:table-cell table:number-columns-repeated="1000"/></table:table-row><table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>"#,
        heads.concat(),
        rows.concat()
    );
    let bytes = ods_with(|w| w.write_all(xml.as_bytes()));
    let wb = read(&bytes, &Limits::default()).unwrap();
    assert_eq!(wb.format, muster_core::parse::FileFormat::Ods);
    let sheet = &wb.sheets[0];
    assert_eq!(sheet.rows.len(), 1, "trailing empty repeats are no rows");
    assert_eq!(
        sheet.rows[0].cells,
        [
            "14",
            "2026-03-01",
            "2026-03-01T12:30:00",
            "TRUE",
            "08:05:00",
            "007",
            "007",
            "Ana   Lima\tx\nsee her page\nend",
            "0.25",
            "#N/A",
        ]
    );
    let warnings: Vec<&str> = wb.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        warnings,
        [
            "Tab \"Staff\", column B (\"H1\"): 1 cell holding dates was read as YYYY-MM-DD, first on row 2.",
            "Tab \"Staff\", column C (\"H2\"): 1 cell holding dates and times was read as YYYY-MM-DDTHH:MM:SS, first on row 2.",
            "Tab \"Staff\", column D (\"H3\"): 1 cell holding TRUE/FALSE values was read as the words TRUE and FALSE, first on row 2.",
            "Tab \"Staff\", column E (\"H4\"): 1 cell holding times of day was read as HH:MM:SS, first on row 2.",
            "Tab \"Staff\", column F (\"H5\"): 1 cell holding numbers shown with leading zeros was read as shown (such as 007), first on row 2.",
            "Tab \"Staff\", column J (\"H9\"): 1 cell holding formula errors (such as #N/A) was read as that text, first on row 2.",
        ]
    );
}

#[test]
fn repeated_cells_and_rows_with_content_are_copied_and_covered_cells_are_not() {
    let rows = format!(
        r#"{}<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="2" office:value-type="string"><text:p>same</text:p></table:table-cell><table:covered-table-cell><text:p>hidden</text:p></table:covered-table-cell>{}</table:table-row><table:table-row table:number-rows-repeated="5"/>{}"#,
        header(),
        cell("x"),
        format_args!("<table:table-row>{}</table:table-row>", cell("last@x.org")),
    );
    let wb = read(&table("T", &rows), &Limits::default()).unwrap();
    let got: Vec<(u32, Vec<String>)> = wb.sheets[0]
        .rows
        .iter()
        .map(|r| (r.number, r.cells.clone()))
        .collect();
    let same = |n| {
        (
            n,
            vec!["same".to_string(), "same".into(), "".into(), "x".into()],
        )
    };
    assert_eq!(
        got,
        [
            same(2),
            same(3),
            same(4),
            (10, vec!["last@x.org".to_string()])
        ]
    );
}

#[test]
fn an_ods_invites_file_is_checked() {
    let rows = format!(
        "{}<table:table-row>{}{}</table:table-row><table:table-row>{}</table:table-row>",
        header(),
        cell("ana@x.org"),
        cell("hi"),
        cell("not-an-email")
    );
    let report = check(
        &table("Invites", &rows),
        Some("i.ods"),
        ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(report.totals().rows, 2);
    assert_eq!(report.totals().with_errors, 1);
}

#[test]
fn a_content_xml_inflating_to_hundreds_of_mb_is_refused_part_way() {
    // 64 MB of spaces inside one cell's paragraph: a few tens of KB in the zip. The
    // reader stops at the first XML piece longer than any cell within the limits needs.
    let bytes = ods_with(|w| {
        w.write_all(
            br#"<table:table table:name="Big"><table:table-row><table:table-cell><text:p>"#,
        )?;
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..64 {
            w.write_all(&spaces)?;
        }
        w.write_all(b"</text:p></table:table-cell></table:table-row></table:table>")
    });
    assert!(bytes.len() < 200_000, "{}", bytes.len());
    let err = read(&bytes, &Limits::default()).unwrap_err();
    match err {
        ParseError::CorruptSpreadsheet { message } => {
            assert!(
                message.contains("content.xml holds a single piece of XML over"),
                "{message}"
            );
            assert!(message.contains("tab \"Big\", near row 1"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sheet_of_millions_of_empty_row_elements_is_abandoned_at_the_row_limit() {
    // 16 MB of `<table:table-row/>`: 930,000 rows, under the unpacked-size limit.
    let bytes = ods_with(|w| {
        w.write_all(br#"<table:table table:name="Empty">"#)?;
        let rows = "<table:table-row/>".repeat(1 << 12);
        for _ in 0..((16 << 20) / rows.len()) {
            w.write_all(rows.as_bytes())?;
        }
        w.write_all(b"</table:table>")
    });
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let err = read(&bytes, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ParseError::SheetTooLarge {
            sheet: "Empty".into(),
            rows: 201_029,
            columns: 0,
            max_rows: 200_000,
            max_columns: 200
        }
    );
}

#[test]
fn inflated_content_counts_against_its_declared_size_and_the_limit() {
    // 3 MB of empty rows, each cheap to read: only the byte counts can stop them.
    let bytes = ods_with(|w| {
        w.write_all(br#"<table:table table:name="T">"#)?;
        let rows = "<table:table-row/>".repeat(1 << 12);
        for _ in 0..((3 << 20) / rows.len() + 1) {
            w.write_all(rows.as_bytes())?;
        }
        w.write_all(b"</table:table>")
    });
    let limits = Limits {
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = read(&bytes, &limits).unwrap_err();
    assert!(
        matches!(err, ParseError::UnpackedTooLarge { .. }),
        "{err:?}"
    );
    let lying = xlsx_bomb::declare_size(bytes, "content.xml", 4096);
    match read(&lying, &limits).unwrap_err() {
        ParseError::CorruptSpreadsheet { message } => assert!(
            message.contains("content.xml unpacks to more than the 4096 bytes it declares"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn repeats_with_content_are_counted_before_any_copy_is_made() {
    // Four billion copies of a filled cell, then of a filled row: each is refused from
    // its count alone.
    let wide = format!(
        r#"{}<table:table-row><table:table-cell table:number-columns-repeated="4294967295" office:value-type="string"><text:p>a@x.org</text:p></table:table-cell></table:table-row>"#,
        header()
    );
    let err = read(&table("Wide", &wide), &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ParseError::SheetTooLarge {
            sheet: "Wide".into(),
            rows: 2,
            columns: 4_294_967_295,
            max_rows: 200_000,
            max_columns: 200
        }
    );
    let tall = format!(
        r#"{}<table:table-row table:number-rows-repeated="4294967295">{}</table:table-row>"#,
        header(),
        cell("a@x.org")
    );
    let err = read(&table("Tall", &tall), &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ParseError::SheetTooLarge {
            sheet: "Tall".into(),
            rows: 4_294_967_296,
            columns: 2,
            max_rows: 200_000,
            max_columns: 200
        }
    );
    // Empty repeats as large cost nothing, before and after the table.
    let padded = format!(
        r#"<table:table-row table:number-rows-repeated="4000000000"><table:table-cell table:number-columns-repeated="4294967295"/></table:table-row>{}<table:table-row><table:table-cell table:number-columns-repeated="4000000000"/>{}</table:table-row>"#,
        header(),
        cell("a@x.org")
    );
    let err = read(&table("Far", &padded), &Limits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::SheetTooLarge {
                columns: 4_000_000_001,
                ..
            }
        ),
        "{err:?}"
    );
    let ok = format!(
        r#"<table:table-row table:number-rows-repeated="4000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>{}<table:table-row>{}<table:table-cell table:number-columns-repeated="4294967295"/></table:table-row><table:table-row table:number-rows-repeated="4294967295"><table:table-cell table:number-columns-repeated="4294967295"/></table:table-row>"#,
        header(),
        cell("a@x.org")
    );
    let wb = read(&table("Padded", &ok), &Limits::default()).unwrap();
    assert_eq!(wb.sheets[0].header_row_number, 4001);
    assert_eq!(wb.sheets[0].rows[0].number, 4002);
}

#[test]
fn errors_name_the_tab_and_row() {
    let long = "é".repeat(10_001);
    let rows = format!(
        "{}<table:table-row>{}</table:table-row><table:table-row>{}{}</table:table-row>",
        header(),
        cell("a@x.org"),
        cell("b@x.org"),
        cell(&long)
    );
    let err = read(&table("T", &rows), &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ParseError::CellTooLong {
            row: 3,
            column: 2,
            chars: 10_001,
            limit: 10_000
        }
    );
    let damaged = format!(
        "{}<table:table-row>{}</table:table-row><table:table-row><table:table-cell office:value-type=\"string\"><text:p><![CDATA[x",
        header(),
        cell("a@x.org")
    );
    match read(&table("Broken", &damaged), &Limits::default()).unwrap_err() {
        ParseError::CorruptSpreadsheet { message } => {
            assert!(message.contains("tab \"Broken\", near row 3"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
