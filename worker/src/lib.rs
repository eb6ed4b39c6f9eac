//! The import engine's file readers (CSV and TSV, XLSX, XLS, ODS, legacy text encodings)
//! for the browser, as a WebAssembly module of their own that runs in a Web Worker
//! (`engine-worker.js`, assembled by `scripts/build-worker`). The page's bundle leaves the
//! readers out, so admin pages load without them and the import wizard fetches them only
//! when it opens; and reading a large or slow spreadsheet never freezes the page.
//!
//! The worker answers with the workbook as one flat buffer ([`muster_core::parse::wire`]),
//! which is transferred to the page's thread (not cloned); the page decodes the rows as it
//! maps and checks them, in slices.

use muster_core::{parse::wire, Limits, ParseError, ParseOptions};
use wasm_bindgen::prelude::wasm_bindgen;

/// Reads a file (or pasted text, without a name) into a workbook, with the same limits
/// and header-row detection as the server. A file that cannot be read is an `Err` with
/// the engine's sentence for the admin.
#[wasm_bindgen]
pub fn read_workbook(
    bytes: &[u8],
    file_name: Option<String>,
    header_keys: Vec<String>,
) -> Result<Vec<u8>, String> {
    let options = ParseOptions {
        header_keys,
        ..Default::default()
    };
    wire::read(bytes, file_name.as_deref(), &options, &Limits::default())
        .map_err(|error| error.to_string())
}

/// Reads a made-up roster once, as the worker starts (while the admin picks a file), and
/// answers how many rows it read. The browser compiles a WebAssembly function when it is
/// first called and optimizes it once it has run a while: without this, the admin's first
/// file paid for both (a 10,000-row CSV took twice as long to read as the next one).
#[wasm_bindgen]
pub fn warm_up() -> u32 {
    use std::fmt::Write;
    // About 50 bytes a row, written in place rather than a string per row.
    let mut csv = String::with_capacity(64 + WARM_UP_ROWS as usize * 50);
    csv.push_str("Email,First Name,Last Name,Expiry Days\n");
    for i in 0..WARM_UP_ROWS {
        let _ = writeln!(csv, "learner{i}@warm-up.example,Ann {i},Lee,{}", i % 30 + 1);
    }
    // A quoted cell hands the rest of the file to the full CSV reader: warm it too.
    csv.push_str("\"quoted@warm-up.example\",\"Lee, Ann\",Lee,7\n");
    match wire::read(
        csv.as_bytes(),
        Some("warm-up.csv"),
        &ParseOptions::default(),
        &Limits::default(),
    ) {
        Ok(wire) => wire::WireWorkbook::decode(&wire).map_or(0, |w| w.row_counts[0] as u32),
        Err(_) => 0,
    }
}

/// Enough rows for the browser to optimize the reader's loops, few enough to take a few
/// milliseconds. An unoptimized build (the end-to-end tests') only needs the code path.
const WARM_UP_ROWS: u32 = if cfg!(debug_assertions) { 200 } else { 20_000 };

/// The engine's sentence for a file over the size limit, before its bytes are read; None
/// when its size is within it.
#[wasm_bindgen]
pub fn refuse_size(bytes: f64) -> Option<String> {
    let limit = Limits::default().max_file_bytes;
    // A file's size is a whole number of bytes well inside f64's exact range.
    let bytes = bytes as u64;
    (bytes > limit).then(|| ParseError::FileTooLarge { bytes, limit }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_by_its_size_alone() {
        let limit = Limits::default().max_file_bytes as f64;
        assert_eq!(refuse_size(limit), None);
        assert_eq!(
            refuse_size(60.0 * 1024.0 * 1024.0).as_deref(),
            Some("The file is 60 MB; the limit is 50 MB.")
        );
    }

    #[test]
    fn the_warm_up_reads_every_made_up_row() {
        assert_eq!(warm_up(), WARM_UP_ROWS + 1);
    }

    #[test]
    fn the_worker_answers_what_the_server_would_read() {
        let csv = b"Email,Expiry Days\nann@example.org,7\n";
        let wire = read_workbook(csv, Some("list.csv".into()), Vec::new()).unwrap();
        let decoded = wire::WireWorkbook::decode(&wire).unwrap();
        assert_eq!(decoded.workbook.sheets[0].headers, ["Email", "Expiry Days"]);
        assert_eq!(decoded.row_counts, [1]);
        assert_eq!(
            read_workbook(b"Email\n", Some("list.csv".into()), Vec::new()),
            Err(ParseError::NoDataRows {
                sheet: "list".into(),
                header_row: 1
            }
            .to_string())
        );
    }
}
