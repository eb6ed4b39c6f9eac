#![no_main]
//! ODS content.xml of arbitrary content read through the streaming reader and the capped
//! zip reader, with the declared size told truly or as a lie: never a panic, and nothing
//! kept past the limits.

#[path = "../../tests/support/ods.rs"]
mod ods;
#[path = "../../tests/support/xlsx_bomb.rs"]
mod xlsx_bomb;

use libfuzzer_sys::fuzz_target;
use muster_core::{parse_bytes, Limits, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    // Inside a cell's paragraph, between rows of a table, or as the whole body.
    let (before, after) = match selector % 3 {
        0 => (
            r#"<table:table table:name="T"><table:table-row><table:table-cell office:value-type="string"><text:p>"#,
            "</text:p></table:table-cell></table:table-row></table:table>",
        ),
        1 => (r#"<table:table table:name="T">"#, "</table:table>"),
        _ => ("", ""),
    };
    let bytes = ods::ods_with(|w| {
        w.write_all(before.as_bytes())?;
        w.write_all(body)?;
        w.write_all(after.as_bytes())
    });
    let bytes = if selector & 4 != 0 { xlsx_bomb::declare_size(bytes, "content.xml", 8) } else { bytes };
    let limits = Limits {
        max_rows: 200,
        max_columns: 20,
        max_cell_chars: 100,
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let Ok(book) = parse_bytes(&bytes, Some("f.ods"), &ParseOptions::default(), &limits) else {
        return;
    };
    for sheet in &book.sheets {
        assert!(sheet.rows.len() <= limits.max_rows);
        for row in std::iter::once(&sheet.headers).chain(sheet.rows.iter().map(|r| &r.cells)) {
            assert!(row.len() <= limits.max_columns);
            assert!(row.iter().all(|c| c.chars().count() <= limits.max_cell_chars));
        }
    }
});
