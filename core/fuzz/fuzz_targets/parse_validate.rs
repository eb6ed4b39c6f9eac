#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_core::{check, plan, Facts, FieldId, ImportKind, Limits, PlanOptions};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the kind and file name so one corpus covers every path.
    let Some((&selector, bytes)) = data.split_first() else { return };
    let kind = ImportKind::ALL[usize::from(selector) % ImportKind::ALL.len()];
    let name = ["roster.csv", "roster.tsv", "Students.xlsx", "x.ods"][usize::from(selector >> 4) % 4];
    let limits = Limits { max_rows: 2_000, max_columns: 64, max_cell_chars: 4_096, ..Limits::default() };
    if let Ok(mut report) = check(bytes, Some(name), kind, &limits) {
        let _ = plan(kind, &report.checked, &Facts::default(), &PlanOptions::default());
        if !report.checked.rows.is_empty() {
            report.checked.edit_cell(0, FieldId::Email, "fuzz@example.org");
            report.checked.delete_row(0);
        }
    }
});
