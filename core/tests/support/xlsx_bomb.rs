//! Builds hostile XLSX files part by part, so a sheet part can be streamed into the zip
//! (hundreds of MB inflated from a few hundred KB) without ever being held in memory.
//! Shared by the tests and `examples/bomb.rs`.

#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

pub const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>"#;
pub const SHEET_END: &str = "</sheetData></worksheet>";

/// A one-tab workbook whose sheet part is written by `sheet` and whose shared strings
/// part by `strings` (an empty table when it writes nothing).
pub fn xlsx(
    sheet: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    strings: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9));
    for (name, body) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    sheet(&mut zip).unwrap();
    zip.start_file("xl/sharedStrings.xml", opts).unwrap();
    let mut sst = Vec::new();
    strings(&mut sst).unwrap();
    if sst.is_empty() {
        sst.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"></sst>"#);
    }
    zip.write_all(&sst).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Writes `chunk` over and over until at least `bytes` are written.
fn repeat_to(w: &mut dyn Write, chunk: &[u8], bytes: usize) -> std::io::Result<()> {
    let mut written = 0;
    while written < bytes {
        w.write_all(chunk)?;
        written += chunk.len();
    }
    Ok(())
}

/// The sheet of the issue's bomb: a header, then `bytes` worth of empty rows, which
/// deflate about a thousandfold.
pub fn empty_rows_bomb(bytes: usize) -> Vec<u8> {
    xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            repeat_to(w, "<row></row>".repeat(64 * 1024 / 11).as_bytes(), bytes)?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    )
}

/// A header row, then `bytes` of whitespace between two elements of the sheet: one XML
/// text event as large as the sheet. A reader that buffers whole events holds it all.
pub fn whitespace_bomb(bytes: usize) -> Vec<u8> {
    xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            repeat_to(w, &[b' '; 64 * 1024], bytes)?;
            w.write_all(SHEET_END.as_bytes())
        },
        |_| Ok(()),
    )
}

/// A workbook whose shared strings part holds one string of `bytes` characters.
pub fn huge_shared_string_bomb(bytes: usize) -> Vec<u8> {
    xlsx(
        |w| {
            w.write_all(SHEET_START.as_bytes())?;
            w.write_all(br#"<row r="2"><c r="A2" t="s"><v>0</v></c></row>"#)?;
            w.write_all(SHEET_END.as_bytes())
        },
        |w| {
            w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#)?;
            repeat_to(w, &[b'a'; 64 * 1024], bytes)?;
            w.write_all(b"</t></si></sst>")
        },
    )
}

/// Rewrites the declared uncompressed size of `entry` in both the local header and the
/// central directory, as a lying zip would.
pub fn declare_size(mut zip: Vec<u8>, entry: &str, size: u32) -> Vec<u8> {
    let name = entry.as_bytes();
    let mut patched = 0;
    let mut i = 0;
    while i + 46 < zip.len() {
        let sig = &zip[i..i + 4];
        let (size_at, name_len_at, name_at) = match sig {
            b"PK\x03\x04" => (i + 22, i + 26, i + 30),
            b"PK\x01\x02" => (i + 24, i + 28, i + 46),
            _ => {
                i += 1;
                continue;
            }
        };
        let len = u16::from_le_bytes([zip[name_len_at], zip[name_len_at + 1]]) as usize;
        if zip.get(name_at..name_at + len) == Some(name) {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        i += 4;
    }
    assert_eq!(patched, 2, "{entry} not found in both headers");
    zip
}
