//! An import's failed rows (and rows it never reached) as CSV: the download
//! for a spreadsheet, and the wizard's "fix and retry".

use super::{service::get, store, FailedRows, ImportOptions, ImportSummary};
use crate::{db::Db, error::AppError};

/// Quotes a CSV cell; for spreadsheets, also defuses values a spreadsheet would
/// run as a formula.
pub fn csv_cell(value: &str, defuse: bool) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') if defuse => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// The failed rows in the kind's template columns. For a spreadsheet (the
/// download) with Row and Error columns and formulas defused; for the wizard
/// (fix and retry) the cells exactly as they were.
pub async fn failed_rows_csv(
    db: &Db,
    organization_id: i64,
    id: i64,
    for_spreadsheet: bool,
) -> Result<(ImportSummary, String, i64), AppError> {
    let import = get(db, organization_id, id).await?;
    // Rows a cancelled or failed import never reached count as not imported too.
    let rows = store::failed_rows(db, id, import.is_finished()).await?;
    let count = rows.len() as i64;
    let columns: Vec<&str> = import.kind.columns().iter().map(|c| c.header).collect();
    let report: &[&str] = if for_spreadsheet {
        &["Row", "Error"]
    } else {
        &[]
    };
    let mut out = String::new();
    let header: Vec<String> = columns
        .iter()
        .chain(report)
        .map(|h| csv_cell(h, for_spreadsheet))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for store::FailedRow {
        row_number,
        input,
        message,
    } in rows
    {
        let input: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&input).unwrap_or_default();
        let mut cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let value = input.get(*c).and_then(|v| v.as_str()).unwrap_or_default();
                csv_cell(value, for_spreadsheet)
            })
            .collect();
        if for_spreadsheet {
            cells.push(csv_cell(&row_number.to_string(), true));
            let message = message
                .as_deref()
                .unwrap_or("Not imported: the import stopped before this row.");
            cells.push(csv_cell(message, true));
        }
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok((import, out, count))
}

/// What the wizard needs to fix and retry an import's failed rows.
pub async fn retry_rows(db: &Db, organization_id: i64, id: i64) -> Result<FailedRows, AppError> {
    let (import, csv, count) = failed_rows_csv(db, organization_id, id, false).await?;
    let stored = store::options(db, organization_id, id).await?;
    Ok(FailedRows {
        options: ImportOptions {
            kind: import.kind,
            group_id: stored.group_id,
            contract_id: stored.contract_id,
            send_emails: stored.send_emails != 0,
            auto_invite: stored.auto_invite != 0,
            expiry_days: Some(stored.expiry_days),
            source_name: format!("import-{id}-failed-rows.csv"),
            sync: false,
        },
        rows: count,
        csv,
    })
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_that_start_like_formulas_are_defused_for_spreadsheets() {
        assert_eq!(csv_cell("=SUM(A1)", true), "\"'=SUM(A1)\"");
        assert_eq!(csv_cell("+1", true), "\"'+1\"");
        assert_eq!(csv_cell("-1", true), "\"'-1\"");
        assert_eq!(csv_cell("@x", true), "\"'@x\"");
        assert_eq!(csv_cell("\tx", true), "\"'\tx\"");
        assert_eq!(csv_cell("\0x", true), "\"'\0x\"");
        assert_eq!(csv_cell("a \"b\"", true), "\"a \"\"b\"\"\"");
        assert_eq!(csv_cell("ann@example.com", true), "\"ann@example.com\"");
        // Going back into the wizard, the cell stays as the admin typed it.
        assert_eq!(csv_cell("=SUM(A1)", false), "\"=SUM(A1)\"");
    }
}
