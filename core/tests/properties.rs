//! Property tests: arbitrary bytes never panic; written tables (CSV, ODS) read back
//! unchanged.

#[path = "support/ods.rs"]
mod ods;
#[path = "support/xlsx_bomb.rs"]
mod xlsx_bomb;

use muster_core::{check, parse_bytes, ImportKind, Limits, ParseOptions};
use proptest::prelude::*;

fn small_limits() -> Limits {
    Limits {
        max_rows: 500,
        max_columns: 50,
        max_cell_chars: 200,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_give_a_report_or_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for kind in ImportKind::ALL {
            // Both outcomes are fine; a panic fails the test.
            let _ = check(&bytes, Some("x.csv"), kind, &small_limits());
        }
        let _ = check(&bytes, Some("x.xlsx"), ImportKind::Invites, &small_limits());
    }

    #[test]
    fn zip_looking_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(tail);
        let _ = check(&bytes, None, ImportKind::People, &small_limits());
    }

    #[test]
    fn xls_looking_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        bytes.extend(tail);
        let _ = check(&bytes, Some("x.xls"), ImportKind::Invites, &small_limits());
    }

    #[test]
    fn text_like_input_never_panics(text in "[a-zA-Z0-9@.,;\t|\"\r\n =+-]{0,400}") {
        let _ = check(text.as_bytes(), None, ImportKind::People, &small_limits());
        let _ = check(text.as_bytes(), None, ImportKind::Invites, &small_limits());
    }

    #[test]
    fn a_written_table_reads_back_cell_for_cell(
        table in proptest::collection::vec(
            proptest::collection::vec("[a-zA-Z0-9 ,;\"\n|éü@.]{1,12}", 3),
            1..30,
        ),
        delimiter in prop::sample::select(vec![b',', b';', b'\t', b'|']),
    ) {
        // Cells are written trimmed, as the engine reads them, and never blank, so that a
        // row cannot vanish as a blank line.
        let table: Vec<Vec<String>> = table
            .into_iter()
            .map(|row| row.into_iter().map(|c| { let t = c.trim(); if t.is_empty() { "x".to_string() } else { t.to_string() } }).collect())
            .collect();
        let mut out = "Alpha,Beta,Gamma\n".replace(',', &(delimiter as char).to_string());
        for row in &table {
            let cells: Vec<String> = row.iter().map(|c| {
                if c.contains(['"', '\n', '\r', delimiter as char]) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() }
            }).collect();
            out.push_str(&cells.join(&(delimiter as char).to_string()));
            out.push_str("\r\n");
        }
        let opts = ParseOptions { delimiter: Some(delimiter), header_row: Some(0), ..ParseOptions::default() };
        let wb = parse_bytes(out.as_bytes(), None, &opts, &Limits::default()).unwrap();
        let sheet = &wb.sheets[0];
        prop_assert_eq!(&sheet.headers, &vec!["Alpha".to_string(), "Beta".into(), "Gamma".into()]);
        let got: Vec<Vec<String>> = sheet.rows.iter().map(|r| r.cells.clone()).collect();
        prop_assert_eq!(got, table);
    }

    #[test]
    fn the_detected_delimiter_matches_the_written_one(
        rows in proptest::collection::vec(("[a-z]{1,8}", "[a-z]{1,8}", 1u16..366), 2..20),
        delimiter in prop::sample::select(vec![b',', b';', b'\t', b'|']),
    ) {
        let d = delimiter as char;
        let mut out = format!("Email{d}First Name{d}Expiry Days\n");
        for (user, name, days) in &rows {
            out.push_str(&format!("{user}@x.org{d}{name}{d}{days}\n"));
        }
        let wb = parse_bytes(out.as_bytes(), None, &ParseOptions::default(), &Limits::default()).unwrap();
        prop_assert_eq!(wb.delimiter, Some(d));
        prop_assert_eq!(wb.sheets[0].rows.len(), rows.len());
    }

    #[test]
    fn a_written_ods_reads_back_cell_for_cell(
        table in proptest::collection::vec(
            proptest::collection::vec("[a-zA-Z0-9,;\"<>&'@.éü]{1,12}", 3),
            1..30,
        ),
    ) {
        // Numbers would be written as float cells, which read back as numbers do.
        let written: Vec<Vec<String>> = table
            .iter()
            .map(|r| r.iter().map(|c| format!("t{c}")).collect())
            .collect();
        let rows: Vec<Vec<String>> = std::iter::once(vec!["Alpha".to_string(), "Beta".into(), "Gamma".into()])
            .chain(written.iter().cloned())
            .collect();
        let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let bytes = ods::ods(&[("Sheet1", rows)]);
        let opts = ParseOptions { header_row: Some(0), ..ParseOptions::default() };
        let wb = parse_bytes(&bytes, Some("t.ods"), &opts, &Limits::default()).unwrap();
        let got: Vec<Vec<String>> = wb.sheets[0].rows.iter().map(|r| r.cells.clone()).collect();
        prop_assert_eq!(got, written);
    }

    /// The fuzz target `ods`, in small: arbitrary content.xml never panics, and what is
    /// read stays within the limits.
    #[test]
    fn any_ods_content_gives_rows_within_the_limits_or_an_error(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        tags in proptest::collection::vec(prop::sample::select(vec![
            "<table:table-row>", "</table:table-row>", "<table:table-row table:number-rows-repeated=\"300\">",
            "<table:table-cell office:value-type=\"string\">", "<table:table-cell table:number-columns-repeated=\"30\" office:value-type=\"float\" office:value=\"1\">",
            "</table:table-cell>", "<text:p>", "</text:p>", "<text:s text:c=\"500\"/>", "<table:table-cell/>",
            "<office:annotation>", "</office:annotation>", "a@x.org", "<table:covered-table-cell/>",
        ]), 0..60),
        lie in any::<bool>(),
    ) {
        let mut xml = br#"<table:table table:name="T">"#.to_vec();
        for (i, t) in tags.iter().enumerate() {
            xml.extend_from_slice(t.as_bytes());
            if i % 7 == 3 {
                xml.extend_from_slice(&body[..body.len().min(i * 13)]);
            }
        }
        xml.extend_from_slice(b"</table:table>");
        let bytes = ods::ods_with(|w| w.write_all(&xml));
        let bytes = if lie { xlsx_bomb::declare_size(bytes, "content.xml", 64) } else { bytes };
        let limits = Limits { max_rows: 200, max_columns: 20, max_cell_chars: 100, ..small_limits() };
        if let Ok(book) = parse_bytes(&bytes, Some("f.ods"), &ParseOptions::default(), &limits) {
            for sheet in &book.sheets {
                prop_assert!(sheet.rows.len() <= limits.max_rows);
                for row in std::iter::once(&sheet.headers).chain(sheet.rows.iter().map(|r| &r.cells)) {
                    prop_assert!(row.len() <= limits.max_columns);
                    prop_assert!(row.iter().all(|c| c.chars().count() <= limits.max_cell_chars));
                }
            }
        }
    }
}
