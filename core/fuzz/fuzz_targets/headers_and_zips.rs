#![no_main]
//! The header normaliser on arbitrary text, and XLSX parts of arbitrary content read
//! through the capped zip reader, with their declared sizes told truly or as lies.

#[path = "../../tests/support/xlsx_bomb.rs"]
mod xlsx_bomb;

use libfuzzer_sys::fuzz_target;
use muster_core::{header_key, map_headers, parse_bytes, ImportKind, Limits, MappingOverrides, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };

    let text = String::from_utf8_lossy(body);
    let headers: Vec<String> = text.split(',').map(str::to_string).collect();
    for kind in ImportKind::ALL {
        let m = map_headers(kind, &headers, &MappingOverrides::default());
        assert_eq!(m.columns.len(), headers.len());
    }
    for h in &headers {
        let key = header_key(h);
        assert!(key.chars().all(char::is_alphanumeric), "{key:?}");
        let again = header_key(&key);
        assert!(again == key || again.is_empty(), "{h:?}: {key:?} then {again:?}");
    }

    let into_sheet = selector & 1 == 0;
    let lie = selector & 2 != 0;
    let bytes = xlsx_bomb::xlsx(
        |w| {
            w.write_all(xlsx_bomb::SHEET_START.as_bytes())?;
            if into_sheet {
                w.write_all(body)?;
            }
            w.write_all(xlsx_bomb::SHEET_END.as_bytes())
        },
        |w| if into_sheet { Ok(()) } else { w.write_all(body) },
    );
    let part = if into_sheet { "xl/worksheets/sheet1.xml" } else { "xl/sharedStrings.xml" };
    let bytes = if lie { xlsx_bomb::declare_size(bytes, part, 8) } else { bytes };
    let limits = Limits {
        max_rows: 200,
        max_columns: 20,
        max_cell_chars: 100,
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let Ok(book) = parse_bytes(&bytes, Some("f.xlsx"), &ParseOptions::default(), &limits) else {
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
