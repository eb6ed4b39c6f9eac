//! What the review step shows: the file's rows as the engine checked them, the
//! admin's header choices and edits, and the last dry run. Plain data, no signals.

use muster_core::{
    mapping::ColumnOverride, Checked, FieldId, ImportKind, Mapping, MappingOverrides, PayloadSheet,
    PlanTotals, RowStatus, RowsPayload, Severity, SourceRow,
};

use crate::imports::{DryRun, Will};

/// One sheet of the preview: what the file said and the admin's header choices.
#[derive(Clone)]
pub struct PreviewSheet {
    pub name: String,
    pub headers: Vec<String>,
    pub overrides: MappingOverrides,
    pub mapping: Mapping,
    pub row_count: usize,
}

/// Everything the review step shows. `sources[i]` is the text of `checked.rows[i]`.
#[derive(Clone)]
pub struct Preview {
    pub kind: ImportKind,
    pub file_name: String,
    pub sheets: Vec<PreviewSheet>,
    pub sources: Vec<SourceRow>,
    pub checked: Checked,
    /// Set by a dry run; cleared by any edit.
    pub will: Option<Vec<Option<Will>>>,
    pub dry_run: Option<DryRun>,
    pub idempotency_key: String,
}

impl Preview {
    /// Fields shown as grid columns: the kind's fields that some sheet maps.
    pub fn fields(&self) -> Vec<(FieldId, &'static str)> {
        self.kind
            .columns()
            .iter()
            .filter(|c| {
                self.sheets
                    .iter()
                    .any(|s| s.mapping.column_of(c.field).is_some())
            })
            .map(|c| (c.field, c.header))
            .collect()
    }

    pub fn cell(&self, row: usize, field: FieldId) -> &str {
        let sheet = &self.checked.sheets[self.checked.rows[row].sheet as usize];
        sheet
            .columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, column)| self.sources[row].cell(*column))
    }

    /// The worst issue of one cell, if any.
    pub fn issue(&self, row: usize, field: FieldId) -> Option<(Severity, String)> {
        self.checked.rows[row]
            .issues
            .iter()
            .filter(|i| i.field == Some(field))
            .max_by_key(|i| i.severity)
            .map(|i| (i.severity, i.message.clone()))
    }

    pub fn header_errors(&self) -> Vec<String> {
        self.sheets
            .iter()
            .flat_map(|s| s.mapping.issues.iter())
            .filter(|i| i.is_error())
            .map(|i| i.message.clone())
            .collect()
    }

    /// Indexes of the rows the grid lists: all not deleted, or only those with problems.
    pub fn visible_rows(&self, only_problems: bool) -> Vec<u32> {
        self.checked
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.deleted)
            .filter(|(_, r)| !only_problems || !r.issues.is_empty())
            .map(|(i, _)| i as u32)
            .collect()
    }

    pub fn payload(&self) -> RowsPayload {
        let mut sheets: Vec<PayloadSheet> = self
            .sheets
            .iter()
            .map(|s| PayloadSheet {
                name: s.name.clone(),
                headers: s.headers.clone(),
                overrides: s.overrides.clone(),
                rows: Vec::new(),
            })
            .collect();
        for (row, source) in self.checked.rows.iter().zip(&self.sources) {
            if !row.deleted {
                sheets[row.sheet as usize].rows.push(source.clone());
            }
        }
        RowsPayload {
            kind: self.kind,
            validation: self.checked.options.clone(),
            sheets,
        }
    }

    /// Writes one edited cell and re-checks its row; returns what to announce.
    pub fn edit_cell(&mut self, row: usize, field: FieldId, value: &str) -> String {
        let sheet = &self.checked.sheets[self.checked.rows[row].sheet as usize];
        if let Some(&(_, column)) = sheet.columns.iter().find(|(f, _)| *f == field) {
            let cells = &mut self.sources[row].cells;
            if cells.len() <= column {
                cells.resize(column + 1, String::new());
            }
            cells[column] = value.to_owned();
        }
        self.checked.edit_cell(row, field, value);
        self.forget_dry_run();
        let row_number = self.checked.rows[row].row_number;
        match self.checked.rows[row].status() {
            RowStatus::Errors => format!("Row {row_number} still has errors."),
            RowStatus::Warnings => format!("Row {row_number} is fixed, with warnings."),
            _ => format!("Row {row_number} is ready."),
        }
    }

    /// Leaves a row out of the import; returns what to announce.
    pub fn delete_row(&mut self, row: usize) -> String {
        self.checked.delete_row(row);
        self.forget_dry_run();
        format!("Row {} deleted.", self.checked.rows[row].row_number)
    }

    /// Maps one column of a sheet to a field (or ignores it) and checks every row again.
    pub fn choose_column(&mut self, sheet: usize, source_index: usize, choice: ColumnOverride) {
        self.sheets[sheet]
            .overrides
            .columns
            .insert(source_index, choice);
        self.recheck();
    }

    /// Re-checks every row after a header change (an edit re-checks only its rows).
    fn recheck(&mut self) {
        let mut checked = Checked::empty(self.kind, &self.checked.options);
        let deleted: Vec<bool> = self.checked.rows.iter().map(|r| r.deleted).collect();
        let mut offset = 0;
        for sheet in &mut self.sheets {
            sheet.mapping = muster_core::map_headers(self.kind, &sheet.headers, &sheet.overrides);
            let rows = &self.sources[offset..offset + sheet.row_count];
            checked.add_rows(&sheet.name, &sheet.mapping, rows.iter());
            offset += sheet.row_count;
        }
        for (i, was_deleted) in deleted.into_iter().enumerate() {
            if was_deleted && i < checked.rows.len() {
                checked.delete_row(i);
            }
        }
        self.checked = checked;
        self.forget_dry_run();
    }

    /// Keeps a dry run's result; `result.will` lists the rows not deleted, in order.
    pub fn set_dry_run(&mut self, result: DryRun) {
        let mut will = vec![None; self.checked.rows.len()];
        let live = self
            .checked
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.deleted)
            .map(|(i, _)| i);
        for (i, w) in live.zip(result.will.iter()) {
            will[i] = Some(*w);
        }
        self.will = Some(will);
        self.dry_run = Some(result);
    }

    /// A dry run describes the rows as they were; any change makes it stale.
    fn forget_dry_run(&mut self) {
        self.will = None;
        self.dry_run = None;
    }
}

/// The dry run's totals, as the grid's "Will" column counts them; zeros left out.
pub fn plan_counts(t: &PlanTotals) -> Vec<(u32, &'static str)> {
    [
        (t.invitations, "to invite"),
        (t.accounts_created, "accounts to create"),
        (t.accounts_updated, "accounts to update"),
        (
            t.memberships.saturating_sub(t.accounts_created),
            "to add to the group",
        ),
        (t.skipped_already_member, "skipped: already a member"),
        (t.skipped_already_invited, "skipped: already invited"),
        (t.errors, "with errors"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .collect()
}

#[cfg(test)]
mod tests {
    use muster_core::{
        mapping::ColumnOverride, Checked, FieldId, ImportKind, MappingOverrides, SourceRow,
    };

    use super::{Preview, PreviewSheet};
    use crate::imports::{DryRun, Will};

    /// An invitations preview of one "Email" column, a row per address.
    fn preview(emails: &[&str]) -> Preview {
        let kind = ImportKind::Invites;
        let headers = vec!["Email".to_owned()];
        let overrides = MappingOverrides::default();
        let mapping = muster_core::map_headers(kind, &headers, &overrides);
        let sources: Vec<SourceRow> = emails
            .iter()
            .zip(2..)
            .map(|(email, number)| SourceRow {
                number,
                cells: vec![(*email).to_owned()],
            })
            .collect();
        let mut checked = Checked::empty(kind, &Default::default());
        checked.add_rows("Sheet1", &mapping, sources.iter());
        Preview {
            kind,
            file_name: "roster.csv".into(),
            sheets: vec![PreviewSheet {
                name: "Sheet1".into(),
                headers,
                overrides,
                mapping,
                row_count: sources.len(),
            }],
            sources,
            checked,
            will: None,
            dry_run: None,
            idempotency_key: "key".into(),
        }
    }

    fn dry_run(will: Vec<Will>) -> DryRun {
        DryRun {
            will,
            totals: Default::default(),
            summary: "Sends invitations.".into(),
            seats_warning: None,
        }
    }

    #[test]
    fn an_edit_rechecks_its_row_and_forgets_the_dry_run() {
        let mut p = preview(&["ann@example.org", "not-an-email"]);
        assert_eq!(p.visible_rows(true), vec![1]);
        p.set_dry_run(dry_run(vec![Will::Invite, Will::Invite]));
        let said = p.edit_cell(1, FieldId::Email, "cy@example.org");
        assert_eq!(said, "Row 3 is ready.");
        assert_eq!(p.cell(1, FieldId::Email), "cy@example.org");
        assert!(p.visible_rows(true).is_empty());
        assert!(p.will.is_none() && p.dry_run.is_none());
    }

    #[test]
    fn deleted_rows_are_left_out_of_the_payload_and_the_dry_run() {
        let mut p = preview(&["ann@example.org", "bob@example.org", "cy@example.org"]);
        assert_eq!(p.delete_row(1), "Row 3 deleted.");
        assert_eq!(p.visible_rows(false), vec![0, 2]);
        let payload = p.payload();
        let sent: Vec<&str> = payload.sheets[0].rows.iter().map(|r| r.cell(0)).collect();
        assert_eq!(sent, ["ann@example.org", "cy@example.org"]);
        // The server plans the rows sent, in order: they map back past the deleted one.
        p.set_dry_run(dry_run(vec![Will::Invite, Will::SkipAlreadyMember]));
        assert_eq!(
            p.will,
            Some(vec![
                Some(Will::Invite),
                None,
                Some(Will::SkipAlreadyMember)
            ])
        );
    }

    #[test]
    fn ignoring_the_email_column_checks_every_row_again() {
        let mut p = preview(&["ann@example.org"]);
        assert!(p.header_errors().is_empty());
        p.choose_column(0, 0, ColumnOverride::Ignore);
        assert!(p.fields().is_empty());
        assert_eq!(p.header_errors().len(), 1);
    }
}
