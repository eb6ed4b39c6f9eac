//! Property tests: arbitrary bytes never panic; written tables read back unchanged.

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
}
