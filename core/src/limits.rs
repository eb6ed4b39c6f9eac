//! Bounds on what an upload may cost. Each is checked before the work it bounds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_rows: usize,
    pub max_columns: usize,
    pub max_cell_chars: usize,
    /// Sum of the declared uncompressed sizes of every entry in an XLSX/ODS zip. A few
    /// KB of deflated zeros can claim gigabytes, so this is checked before any cell.
    pub max_uncompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 50 * 1024 * 1024,
            max_rows: 200_000,
            max_columns: 200,
            max_cell_chars: 10_000,
            max_uncompressed_bytes: 500 * 1024 * 1024,
        }
    }
}
