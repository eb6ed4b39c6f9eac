//! The import engine's file readers (CSV and TSV, XLSX, XLS, ODS, legacy text encodings)
//! for the browser, as a WebAssembly module of their own that runs in a Web Worker
//! (`engine-worker.js`, assembled by `scripts/build-worker`). The page's bundle leaves the
//! readers out, so admin pages load without them and the import wizard fetches them only
//! when it opens; and reading a large or slow spreadsheet never freezes the page.
//!
//! The worker answers with the workbook as one flat buffer ([`muster_core::parse::wire`]),
//! which is transferred to the page's thread (not cloned); the page decodes the rows as it
//! maps and checks them, in slices.

use muster_core::{parse::wire, Limits, ParseOptions};
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
