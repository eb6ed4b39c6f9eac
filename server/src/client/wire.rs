//! The parts of `/api/v1`'s JSON the client reads (see `server/src/api`).
//! Fields the client does not use are left out, so a server that adds
//! fields does not break an older client.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Problem {
    pub status: u16,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: String,
    pub field: Option<String>,
    pub row: Option<i64>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        };
        // "Row 12, Email" already says the row.
        match (&self.field, self.row) {
            (Some(field), _) if field.starts_with("Row ") => write!(f, "{field}: {detail}")?,
            (Some(field), Some(row)) => write!(f, "row {row}, {field}: {detail}")?,
            (Some(field), None) => write!(f, "{field}: {detail}")?,
            (None, Some(row)) => write!(f, "row {row}: {detail}")?,
            (None, None) => f.write_str(detail)?,
        }
        write!(f, " ({})", self.status)
    }
}

#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Import {
    pub id: i64,
    pub kind: String,
    pub source_name: String,
    #[serde(default)]
    pub created_by: String,
    pub group_name: Option<String>,
    pub status: String,
    pub finished: bool,
    #[serde(default)]
    pub summary: String,
    pub total_rows: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub failed: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    #[serde(default)]
    pub sync: bool,
    #[serde(default)]
    pub leaving: i64,
}

impl Import {
    /// Finished with every row done (succeeded or skipped), nothing failed.
    pub fn all_succeeded(&self) -> bool {
        self.status == "completed" && self.failed == 0
    }
}

#[derive(Debug, Deserialize)]
pub struct DryRun {
    pub summary: String,
    pub rows: u32,
    pub accounts_created: u32,
    pub accounts_updated: u32,
    pub invitations: u32,
    pub emails: u32,
    pub memberships: u32,
    pub skipped: u32,
    pub errors: u32,
    pub seats_warning: Option<String>,
    pub leaving: Option<i64>,
    pub needs_approval: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct ImportRow {
    pub row: i64,
    pub who: String,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub group_name: String,
}
