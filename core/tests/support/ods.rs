//! Builds ODS files from rows of cells, or from content.xml written piece by piece (so
//! a bomb's content can be streamed into the zip without being held in memory).

#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

pub const CONTENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2"><office:body><office:spreadsheet>"#;
pub const CONTENT_END: &str = "</office:spreadsheet></office:body></office:document-content>";

/// An ODS whose content.xml is written by `content` (between the document's opening and
/// closing tags).
pub fn ods_with(content: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9));
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(MANIFEST.as_bytes()).unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    zip.write_all(CONTENT_START.as_bytes()).unwrap();
    content(&mut zip).unwrap();
    zip.write_all(CONTENT_END.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One cell as LibreOffice writes it: `date:2026-03-01` a date, a number a float, other
/// text a string, "" an empty cell.
pub fn cell(v: &str) -> String {
    if v.is_empty() {
        return "<table:table-cell/>".into();
    }
    if let Some(d) = v.strip_prefix("date:") {
        return format!(
            r#"<table:table-cell office:value-type="date" office:date-value="{d}" calcext:value-type="date"><text:p>{d}</text:p></table:table-cell>"#
        );
    }
    if let Ok(n) = v.parse::<f64>() {
        return format!(
            r#"<table:table-cell office:value-type="float" office:value="{n}" calcext:value-type="float"><text:p>{v}</text:p></table:table-cell>"#
        );
    }
    format!(
        r#"<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
        escape(v)
    )
}

/// Tabs of rows, each row padded and the tab closed with the empty repeats LibreOffice
/// writes.
pub fn ods(tabs: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut xml = String::new();
    for (name, rows) in tabs {
        xml.push_str(&format!(r#"<table:table table:name="{}">"#, escape(name)));
        for row in rows {
            xml.push_str("<table:table-row>");
            for v in row {
                xml.push_str(&cell(v));
            }
            xml.push_str(&format!(
                r#"<table:table-cell table:number-columns-repeated="{}"/></table:table-row>"#,
                1024 - row.len()
            ));
        }
        xml.push_str(&format!(
            r#"<table:table-row table:number-rows-repeated="{}"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>"#,
            1_048_576 - rows.len()
        ));
    }
    ods_with(|w| w.write_all(xml.as_bytes()))
}
