//! What the review step shows: the file's rows as the engine checked them, the
//! admin's header choices and edits, and the last dry run. Plain data, no signals.

use muster_core::{
    mapping::ColumnOverride, Checked, FieldId, ImportKind, IssueCode, Mapping, MappingOverrides,
    PayloadSheet, PlanTotals, RowStatus, RowsPayload, Severity, SourceRow,
};

use super::problems::{code_order, RowFilter};
use crate::imports::{DryRun, Will};

/// Column widths, in em of the grid's font: text runs about 0.6 em a character, and
/// a cell adds its padding and border. Sized to the content so short columns leave
/// room for long ones, capped so one long value cannot push everything else away.
const EM_PER_CHAR: f64 = 0.6;
const CELL_PADDING_EM: f64 = 1.3;
const MIN_COLUMN_EM: f64 = 4.5;
const MAX_COLUMN_EM: f64 = 19.0;
const MAX_STATUS_EM: f64 = 24.0;

/// A grid column's width (em): where it starts, and what its longest value needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnWidth {
    pub start: f64,
    pub needed: f64,
}

impl ColumnWidth {
    fn for_chars(chars: usize, max: f64) -> ColumnWidth {
        let needed = (chars as f64 * EM_PER_CHAR + CELL_PADDING_EM).max(MIN_COLUMN_EM);
        ColumnWidth {
            start: needed.min(max),
            needed,
        }
    }
}

/// One sheet of the preview: what the file said and the admin's header choices.
#[derive(Clone)]
pub struct PreviewSheet {
    pub name: String,
    pub headers: Vec<String>,
    pub overrides: MappingOverrides,
    pub mapping: Mapping,
    pub row_count: usize,
    /// Title rows above the header that the engine skipped.
    pub title_rows: usize,
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
    /// What the engine noticed while reading the file (an encoding fallback, …).
    pub read_notes: Vec<String>,
}

/// See [`Preview::problem_summary`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProblemSummary {
    /// Rows per type of problem, in the filter's order.
    pub counts: Vec<(IssueCode, u32)>,
    /// Rows with any problem.
    pub rows: u32,
    /// Rows whose invalid email tidying would change.
    pub tidyable: usize,
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

    /// Indexes of the rows the grid lists: those not deleted that pass the filter.
    pub fn visible_rows(&self, filter: RowFilter) -> Vec<u32> {
        self.live_rows()
            .filter(|&i| passes(&self.checked.rows[i].issues, filter))
            .map(|i| i as u32)
            .collect()
    }

    fn live_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.checked
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.deleted)
            .map(|(i, _)| i)
    }

    /// What the "Show" filter and its fixes count, in one pass over the rows (a preview of
    /// 100,000 rows is counted again after every edit).
    pub fn problem_summary(&self) -> ProblemSummary {
        let mut summary = ProblemSummary::default();
        for i in self.live_rows() {
            let issues = &self.checked.rows[i].issues;
            if issues.is_empty() {
                continue;
            }
            summary.rows += 1;
            for (n, issue) in issues.iter().enumerate() {
                // A row counts once per type, however many cells have it.
                if issues[..n].iter().any(|earlier| earlier.code == issue.code) {
                    continue;
                }
                match summary
                    .counts
                    .iter_mut()
                    .find(|(code, _)| *code == issue.code)
                {
                    Some((_, count)) => *count += 1,
                    None => summary.counts.push((issue.code, 1)),
                }
            }
            if self.is_tidyable(i) {
                summary.tidyable += 1;
            }
        }
        summary.counts.sort_by_key(|(code, _)| code_order(*code));
        summary
    }

    /// A row's problems in words, errors first, for the grid's Status column.
    pub fn row_problems(&self, row: usize) -> String {
        let mut issues: Vec<_> = self.checked.rows[row].issues.iter().collect();
        issues.sort_by_key(|i| std::cmp::Reverse(i.severity));
        issues
            .iter()
            .map(|i| i.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Widths (em) of the grid's columns: the fields, in [`Preview::fields`] order,
    /// then Status (which carries each row's problems in words). Each is the width
    /// the column starts from and the width its longest value needs; the grid
    /// widens a cut-short column toward the latter while its box has room.
    pub fn column_widths(&self) -> (Vec<ColumnWidth>, ColumnWidth) {
        let fields = self.fields();
        // Headers are bold, about a character wider than their letters.
        let mut longest: Vec<usize> = fields.iter().map(|(_, h)| h.len() + 2).collect();
        let mut status = "Warning".len();
        for i in self.live_rows() {
            for (n, (field, _)) in fields.iter().enumerate() {
                longest[n] = longest[n].max(self.cell(i, *field).chars().count());
            }
            let issues = &self.checked.rows[i].issues;
            if !issues.is_empty() {
                let words: usize = issues.iter().map(|i| i.message.chars().count() + 1).sum();
                status = status.max("Warning: ".len() + words);
            }
        }
        let widths = longest
            .into_iter()
            .map(|c| ColumnWidth::for_chars(c, MAX_COLUMN_EM))
            .collect();
        (widths, ColumnWidth::for_chars(status, MAX_STATUS_EM))
    }

    /// The width (em) of the dry run's Will column: its longest label.
    pub fn will_width(&self) -> Option<f64> {
        let will = self.will.as_ref()?;
        let longest = will.iter().flatten().map(|w| w.label().len()).max();
        Some(ColumnWidth::for_chars(longest.unwrap_or(4).max(4) + 1, MAX_COLUMN_EM).start)
    }

    /// What the engine noticed about the file, for the notes above the grid:
    /// how it was read, title rows it skipped, columns it ignores or guessed.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.read_notes.clone();
        let named = self.sheets.len() > 1;
        for sheet in &self.sheets {
            let place = if named {
                format!(" of tab {}", sheet.name)
            } else {
                String::new()
            };
            match sheet.title_rows {
                0 => {}
                1 => notes.push(format!("Skipped 1 title row above the header{place}.")),
                n => notes.push(format!("Skipped {n} title rows above the header{place}.")),
            }
            notes.extend(
                sheet
                    .mapping
                    .issues
                    .iter()
                    .filter(|i| !i.is_error())
                    .map(|i| i.message.clone()),
            );
        }
        notes
    }

    /// Takes every row that passes `filter` out of the import; returns what to announce.
    pub fn remove_rows(&mut self, filter: RowFilter) -> String {
        let doomed = self.visible_rows(filter);
        for &row in &doomed {
            self.checked.delete_row(row as usize);
        }
        if !doomed.is_empty() {
            self.forget_dry_run();
        }
        match doomed.len() {
            1 => "1 row removed.".into(),
            n => format!("{n} rows removed."),
        }
    }

    /// Rows whose invalid email [`tidy_email`] would change.
    pub fn tidyable_emails(&self) -> Vec<usize> {
        self.live_rows().filter(|&i| self.is_tidyable(i)).collect()
    }

    fn is_tidyable(&self, row: usize) -> bool {
        self.checked.rows[row].issues.iter().any(|issue| {
            issue.code == IssueCode::EmailInvalid && issue.field == Some(FieldId::Email)
        }) && {
            let email = self.cell(row, FieldId::Email);
            tidy_email(email) != email
        }
    }

    /// Tidies every invalid email that tidying changes, checking each row again;
    /// returns what to announce.
    pub fn tidy_emails(&mut self) -> String {
        let rows = self.tidyable_emails();
        for &row in &rows {
            let tidy = tidy_email(self.cell(row, FieldId::Email));
            self.edit_cell(row, FieldId::Email, &tidy);
        }
        let still = rows
            .iter()
            .filter(|&&row| self.checked.rows[row].has_errors())
            .count();
        let changed = match rows.len() {
            1 => "Tidied 1 email".to_owned(),
            n => format!("Tidied {n} emails"),
        };
        match still {
            0 => format!("{changed}; every one is valid now."),
            n => format!("{changed}; {n} still have problems."),
        }
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

    /// Maps a sheet as remembered for its header row, unless the preview
    /// changed since the headers were looked up (another file, or a column
    /// the admin chose meanwhile); whether it did.
    pub fn apply_remembered(
        &mut self,
        sheet: usize,
        headers: &[String],
        overrides: &MappingOverrides,
    ) -> bool {
        match self.sheets.get_mut(sheet) {
            Some(s) if s.headers == headers && s.overrides.columns.is_empty() => {
                s.overrides = overrides.clone();
                self.recheck();
                true
            }
            _ => false,
        }
    }

    /// Drops every header choice of a sheet: its columns map automatically.
    pub fn map_automatically(&mut self, sheet: usize) {
        if let Some(s) = self.sheets.get_mut(sheet) {
            s.overrides = MappingOverrides::default();
            self.recheck();
        }
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

fn passes(issues: &[muster_core::Issue], filter: RowFilter) -> bool {
    match filter {
        RowFilter::All => true,
        RowFilter::Problems => !issues.is_empty(),
        RowFilter::Only(code) => issues.iter().any(|i| i.code == code),
    }
}

/// An email as it was most likely meant: spaces (often pasted inside or around
/// it), a `mailto:` prefix, angle brackets and trailing punctuation removed,
/// lowercased.
pub fn tidy_email(email: &str) -> String {
    let compact: String = email.chars().filter(|c| !c.is_whitespace()).collect();
    let mut tidy = compact.as_str();
    if tidy
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        tidy = &tidy[7..];
    }
    let tidy = tidy
        .trim_start_matches('<')
        .trim_end_matches(['>', '.', ',', ';', ':']);
    tidy.to_lowercase()
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
        (t.invitation_emails, "invitation emails"),
        (t.account_emails, "set-your-password emails"),
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
        mapping::ColumnOverride, Checked, FieldId, ImportKind, IssueCode, MappingOverrides,
        SourceRow,
    };

    use super::{tidy_email, Preview, PreviewSheet};
    use crate::{
        imports::{DryRun, Will},
        pages::import_wizard::problems::RowFilter,
    };

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
                title_rows: 0,
            }],
            sources,
            checked,
            will: None,
            dry_run: None,
            idempotency_key: "key".into(),
            read_notes: Vec::new(),
        }
    }

    fn dry_run(will: Vec<Will>) -> DryRun {
        DryRun {
            will,
            totals: Default::default(),
            summary: "Sends invitations.".into(),
            seats_warning: None,
            sync: None,
        }
    }

    #[test]
    fn a_remembered_mapping_applies_only_to_the_same_untouched_headers() {
        let mut p = preview(&["lin@example.org"]);
        let email = vec!["Email".to_owned()];
        let ignore = MappingOverrides::default().set(0, ColumnOverride::Ignore);
        assert!(
            !p.apply_remembered(0, &["Other".to_owned()], &ignore),
            "another file"
        );
        assert!(!p.apply_remembered(1, &email, &ignore), "no such sheet");
        assert!(p.header_errors().is_empty());
        assert!(p.apply_remembered(0, &email, &ignore));
        assert_eq!(p.sheets[0].mapping.fields(), vec![None]);
        assert!(!p.header_errors().is_empty(), "every row checked again");
        assert!(
            !p.apply_remembered(0, &email, &MappingOverrides::default()),
            "mapped already"
        );
        p.map_automatically(0);
        assert_eq!(p.sheets[0].mapping.fields(), vec![Some(FieldId::Email)]);
        assert!(p.header_errors().is_empty());
    }

    #[test]
    fn an_edit_rechecks_its_row_and_forgets_the_dry_run() {
        let mut p = preview(&["ann@example.org", "not-an-email"]);
        assert_eq!(p.visible_rows(RowFilter::Problems), vec![1]);
        p.set_dry_run(dry_run(vec![Will::Invite, Will::Invite]));
        let said = p.edit_cell(1, FieldId::Email, "cy@example.org");
        assert_eq!(said, "Row 3 is ready.");
        assert_eq!(p.cell(1, FieldId::Email), "cy@example.org");
        assert!(p.visible_rows(RowFilter::Problems).is_empty());
        assert!(p.will.is_none() && p.dry_run.is_none());
    }

    #[test]
    fn deleted_rows_are_left_out_of_the_payload_and_the_dry_run() {
        let mut p = preview(&["ann@example.org", "bob@example.org", "cy@example.org"]);
        assert_eq!(p.delete_row(1), "Row 3 deleted.");
        assert_eq!(p.visible_rows(RowFilter::All), vec![0, 2]);
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

    #[test]
    fn problems_are_counted_by_type_filtered_and_removed() {
        let mut p = preview(&[
            "ann@example.org",
            "not-an-email",
            "ann@example.org",
            "also bad",
            "cy@example.org",
        ]);
        assert_eq!(
            p.problem_summary().counts,
            vec![(IssueCode::EmailInvalid, 2), (IssueCode::DuplicateEmail, 1)]
        );
        assert_eq!(p.problem_summary().rows, 3);
        assert_eq!(
            p.visible_rows(RowFilter::Only(IssueCode::EmailInvalid)),
            vec![1, 3]
        );
        assert!(
            p.row_problems(1).contains("not a valid email"),
            "{}",
            p.row_problems(1)
        );
        assert_eq!(
            p.remove_rows(RowFilter::Only(IssueCode::EmailInvalid)),
            "2 rows removed."
        );
        assert_eq!(p.visible_rows(RowFilter::All), vec![0, 2, 4]);
        assert_eq!(
            p.problem_summary().counts,
            vec![(IssueCode::DuplicateEmail, 1)]
        );
    }

    #[test]
    fn tidying_fixes_the_emails_it_can_and_says_which_it_could_not() {
        assert_eq!(tidy_email(" Ann @Example.ORG "), "ann@example.org");
        assert_eq!(tidy_email("mailto:<bo@example.org>;"), "bo@example.org");
        let mut p = preview(&[
            "Ann @Example.org",
            "mailto:bo@example.org",
            "nobody",
            "cy@example.org",
        ]);
        assert_eq!(p.tidyable_emails(), vec![0, 1]);
        let summary = p.problem_summary();
        assert_eq!((summary.rows, summary.tidyable), (3, 2));
        assert_eq!(summary.counts, vec![(IssueCode::EmailInvalid, 3)]);
        assert_eq!(p.tidy_emails(), "Tidied 2 emails; every one is valid now.");
        assert_eq!(p.problem_summary().tidyable, 0);
        assert_eq!(p.cell(0, FieldId::Email), "ann@example.org");
        assert_eq!(p.visible_rows(RowFilter::Problems), vec![2]);
        assert!(p.tidyable_emails().is_empty());
    }

    #[test]
    fn columns_are_as_wide_as_their_longest_value_within_limits() {
        let p = preview(&["a@b.co", "a.very.long.address.indeed@subdomain.example.org"]);
        let (widths, status) = p.column_widths();
        assert_eq!(widths[0].start, 19.0, "{widths:?}");
        assert!(widths[0].needed > 30.0, "{widths:?}");
        assert!(status.needed < 6.0, "{status:?}");
        let p = preview(&["a@b.co", "x"]);
        let (widths, status) = p.column_widths();
        assert!(
            widths[0].start < 6.0 && widths[0].start == widths[0].needed,
            "{widths:?}"
        );
        assert!(status.start > 10.0, "{status:?}");
    }
}
