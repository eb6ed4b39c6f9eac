//! Mapped rows → typed, checked rows with issues; plus cheap re-checks for inline edits.

mod index;
mod rules;

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::issue::{Issue, IssueCode, Issues, Severity};
use crate::kinds::{FieldId, ImportKind, Role};
use crate::mapping::Mapping;
use crate::parse::{Sheet, SourceRow};
use crate::values::RowValues;

use index::EmailIndex;
use rules::{apply_email_in, apply_field, is_row_rule, row_rules, Ctx};

/// A parsed row handed to [`Checked::add_rows`]: borrowed (the caller keeps the sheet)
/// or owned (cells are moved into the typed values instead of copied).
pub trait RowSource {
    fn number(&self) -> u32;
    fn cell(&self, index: usize) -> &str;
    /// Takes a cell's text out of an owned row; borrowed rows return None.
    fn take_cell(&mut self, index: usize) -> Option<String>;
}

impl RowSource for &SourceRow {
    fn number(&self) -> u32 {
        self.number
    }
    fn cell(&self, index: usize) -> &str {
        SourceRow::cell(self, index)
    }
    fn take_cell(&mut self, _: usize) -> Option<String> {
        None
    }
}

impl RowSource for SourceRow {
    fn number(&self) -> u32 {
        self.number
    }
    fn cell(&self, index: usize) -> &str {
        SourceRow::cell(self, index)
    }
    fn take_cell(&mut self, index: usize) -> Option<String> {
        Some(
            self.cells
                .get_mut(index)
                .map(std::mem::take)
                .unwrap_or_default(),
        )
    }
}

#[cfg(feature = "read")]
impl RowSource for crate::parse::RowView<'_> {
    fn number(&self) -> u32 {
        crate::parse::RowView::number(self)
    }
    fn cell(&self, index: usize) -> &str {
        crate::parse::RowView::cell(self, index)
    }
    fn take_cell(&mut self, _: usize) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidationOptions {
    /// Role for People rows when neither the tab name nor a Role column gives one (the
    /// UI's Students / Instructors / Parents paste tabs).
    pub default_role: Option<Role>,
    pub warn_on_formulas: bool,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            default_role: None,
            warn_on_formulas: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Ready,
    Warnings,
    Errors,
    Deleted,
}

/// One row as checked. Kept small (48 bytes on 64-bit targets): a 100k-row import holds
/// 100k of them, and the rarer data (names, links, issues) lives behind pointers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedRow {
    pub row_number: u32,
    /// Index into [`Checked::sheets`].
    #[serde(default)]
    pub sheet: u16,
    #[serde(default)]
    pub deleted: bool,
    pub values: RowValues,
    pub issues: Issues,
}

impl CheckedRow {
    pub fn status(&self) -> RowStatus {
        if self.deleted {
            RowStatus::Deleted
        } else if self.issues.iter().any(Issue::is_error) {
            RowStatus::Errors
        } else if self.issues.is_empty() {
            RowStatus::Ready
        } else {
            RowStatus::Warnings
        }
    }

    pub fn has_errors(&self) -> bool {
        self.status() == RowStatus::Errors
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub rows: u32,
    pub ready: u32,
    pub with_warnings: u32,
    pub with_errors: u32,
}

impl Totals {
    fn count(&mut self, status: RowStatus, sign: i8) {
        let slot = match status {
            RowStatus::Ready => &mut self.ready,
            RowStatus::Warnings => &mut self.with_warnings,
            RowStatus::Errors => &mut self.with_errors,
            RowStatus::Deleted => return,
        };
        if sign > 0 {
            *slot += 1;
            self.rows += 1;
        } else {
            *slot -= 1;
            self.rows -= 1;
        }
    }
}

/// Which source header each field came from, per sheet, so issues name what the admin sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetInfo {
    pub name: String,
    pub role: Option<Role>,
    pub headers: Vec<(FieldId, String)>,
    /// Source column index of each mapped field.
    #[serde(default)]
    pub columns: Vec<(FieldId, usize)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "CheckedWire")]
pub struct Checked {
    pub kind: ImportKind,
    pub options: ValidationOptions,
    pub sheets: Vec<SheetInfo>,
    pub rows: Vec<CheckedRow>,
    pub totals: Totals,
    #[serde(skip)]
    index: EmailIndex,
    #[serde(skip)]
    cursor: Option<SheetCursor>,
    /// Where the rows' email addresses are kept, one chunk for hundreds of them.
    #[serde(skip)]
    arena: crate::arena::Arena,
}

/// The sheet rows are currently being added to.
#[derive(Debug, Clone)]
struct SheetCursor {
    sheet: u16,
    fields: Vec<(FieldId, usize)>,
    needs_role: bool,
}

#[derive(Deserialize)]
struct CheckedWire {
    kind: ImportKind,
    options: ValidationOptions,
    sheets: Vec<SheetInfo>,
    rows: Vec<CheckedRow>,
}

impl From<CheckedWire> for Checked {
    /// The email index is not sent over the wire; rebuild it so edits keep working.
    fn from(w: CheckedWire) -> Self {
        let mut c = Checked {
            kind: w.kind,
            options: w.options,
            sheets: w.sheets,
            rows: Vec::new(),
            totals: Totals::default(),
            index: EmailIndex::with_capacity(w.rows.len()),
            cursor: None,
            arena: Default::default(),
        };
        for row in w.rows {
            c.rows.push(row);
            let i = c.rows.len() - 1;
            c.totals.count(c.rows[i].status(), 1);
            if let Some(e) = c.rows[i]
                .values
                .email
                .as_ref()
                .filter(|_| !c.rows[i].deleted)
            {
                c.index.insert(e.key_hash(), i as u32);
            }
        }
        c
    }
}

pub fn validate(
    kind: ImportKind,
    sheet: &Sheet,
    mapping: &Mapping,
    opts: &ValidationOptions,
) -> Checked {
    let mut checked = Checked::empty(kind, opts);
    checked.add_rows(&sheet.name, mapping, sheet.rows.iter());
    checked
}

/// Same as [`validate`] but frees each source row once it is checked, which keeps peak
/// memory near one copy of the data for large files.
pub fn validate_owned(
    kind: ImportKind,
    sheet: Sheet,
    mapping: &Mapping,
    opts: &ValidationOptions,
) -> Checked {
    let mut checked = Checked::empty(kind, opts);
    checked.add_rows(&sheet.name, mapping, sheet.rows.into_iter());
    checked
}

impl Checked {
    pub fn empty(kind: ImportKind, opts: &ValidationOptions) -> Checked {
        Checked {
            kind,
            options: opts.clone(),
            sheets: Vec::new(),
            rows: Vec::new(),
            totals: Totals::default(),
            index: EmailIndex::default(),
            cursor: None,
            arena: Default::default(),
        }
    }

    /// Checks the rows of one more sheet. People workbooks add one sheet per role tab;
    /// duplicates are then found across tabs too.
    pub fn add_rows<R: RowSource>(
        &mut self,
        sheet_name: &str,
        mapping: &Mapping,
        rows: impl Iterator<Item = R>,
    ) {
        self.begin_sheet(sheet_name, mapping, rows.size_hint().0);
        for row in rows {
            self.push_row(row);
        }
    }

    /// Starts a sheet whose rows then arrive one by one through [`Self::push_row`], so a
    /// streaming parser never has to hold the whole file as rows.
    pub fn begin_sheet(&mut self, sheet_name: &str, mapping: &Mapping, expected_rows: usize) {
        let role = if self.kind == ImportKind::People {
            Role::from_label(sheet_name).or(self.options.default_role)
        } else {
            None
        };
        let headers: Vec<(FieldId, String)> = mapping
            .columns
            .iter()
            .filter_map(|c| c.field.map(|f| (f, c.header.clone())))
            .collect();
        let fields: Vec<(FieldId, usize)> = mapping
            .columns
            .iter()
            .filter_map(|c| c.field.map(|f| (f, c.source_index)))
            .collect();
        self.sheets.push(SheetInfo {
            name: sheet_name.to_string(),
            role,
            headers,
            columns: fields.clone(),
        });
        if self.rows.is_empty() {
            self.index = EmailIndex::with_capacity(expected_rows);
        }
        self.rows.reserve(expected_rows);
        let needs_role =
            self.kind == ImportKind::People && !fields.iter().any(|(f, _)| *f == FieldId::Role);
        self.cursor = Some(SheetCursor {
            sheet: (self.sheets.len() - 1) as u16,
            fields,
            needs_role,
        });
    }

    /// Checks one row of the sheet last begun with [`Self::begin_sheet`].
    pub fn push_row<R: RowSource>(&mut self, src: R) {
        if self.index.is_full() {
            self.grow_index();
        }
        let Some(cursor) = self.cursor.as_ref() else {
            return;
        };
        let number = src.number();
        let info = &self.sheets[cursor.sheet as usize];
        let ctx = Ctx {
            kind: self.kind,
            sheet: (self.sheets.len() > 1 || self.kind == ImportKind::People)
                .then_some(info.name.as_str()),
            sheet_role: info.role,
            warn_formulas: self.options.warn_on_formulas,
            headers: &info.headers,
        };
        let mut values = RowValues::default();
        let mut issues = Vec::new();
        for &(field, col) in &cursor.fields {
            if field == FieldId::Email {
                let arena = &mut self.arena;
                apply_email_in(&ctx, &mut values, number, src.cell(col), &mut issues, arena);
                continue;
            }
            apply_field(&ctx, &mut values, number, field, src.cell(col), &mut issues);
        }
        if cursor.needs_role {
            apply_field(&ctx, &mut values, number, FieldId::Role, "", &mut issues);
        }
        row_rules(&ctx, &values, number, &mut issues);
        let i = self.rows.len() as u32;
        if let Some(email) = &values.email {
            let rows = &self.rows;
            let first = self.index.push_find_first(email.key_hash(), i, |j| {
                rows[j as usize].values.email.as_ref() == Some(email)
            });
            if let Some(j) = first {
                issues.push(duplicate_issue(
                    &ctx,
                    number,
                    email.as_str(),
                    self.rows[j as usize].row_number,
                ));
            }
        }
        let row = CheckedRow {
            row_number: number,
            sheet: cursor.sheet,
            deleted: false,
            values,
            issues: issues.into(),
        };
        self.totals.count(row.status(), 1);
        self.rows.push(row);
    }

    pub fn issues(&self) -> impl Iterator<Item = &Issue> {
        self.rows
            .iter()
            .filter(|r| !r.deleted)
            .flat_map(|r| r.issues.iter())
    }

    /// Replaces one cell as the admin types it and re-checks only that row and the rows
    /// sharing its old or new email. Returns the indices of rows whose issues may have
    /// changed. Out-of-range indices change nothing.
    pub fn edit_cell(&mut self, row_index: usize, field: FieldId, new_value: &str) -> Vec<usize> {
        let Some(row) = self.rows.get(row_index) else {
            return Vec::new();
        };
        if row.deleted {
            return Vec::new();
        }
        let old_email = row.values.email.clone();
        self.totals.count(row.status(), -1);

        let sheet = row.sheet as usize;
        let info = &self.sheets[sheet];
        let ctx = Ctx {
            kind: self.kind,
            sheet: (self.sheets.len() > 1 || self.kind == ImportKind::People)
                .then_some(info.name.as_str()),
            sheet_role: info.role,
            warn_formulas: self.options.warn_on_formulas,
            headers: &info.headers,
        };
        let row = &mut self.rows[row_index];
        // Keep the duplicate flag (decided across rows below) and issues of other cells.
        let stale = |i: &Issue| {
            is_row_rule(i.code) || (i.field == Some(field) && i.code != IssueCode::DuplicateEmail)
        };
        let mut issues = row.issues.take();
        issues.retain(|i| !stale(i));
        apply_field(
            &ctx,
            &mut row.values,
            row.row_number,
            field,
            new_value,
            &mut issues,
        );
        row_rules(&ctx, &row.values, row.row_number, &mut issues);
        row.issues = issues.into();
        self.totals.count(row.status(), 1);

        let mut touched = vec![row_index];
        if field == FieldId::Email {
            let new_email = self.rows[row_index].values.email.clone();
            if let Some(old) = &old_email {
                self.index.remove(old.key_hash(), row_index as u32);
                touched.extend(self.refresh_duplicates(old));
            }
            match &new_email {
                Some(new) => {
                    if self.index.is_full() {
                        self.grow_index();
                    }
                    self.index.insert(new.key_hash(), row_index as u32);
                    touched.extend(self.refresh_duplicates(new));
                }
                None => self.set_duplicate(row_index, None),
            }
        }
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    /// Re-checks a whole row after the admin edited several cells of it (e.g. pasted over
    /// it in the grid). `cells` are in the source file's column order.
    pub fn revalidate_row(&mut self, row_index: usize, cells: &[String]) -> Vec<usize> {
        let Some(row) = self.rows.get(row_index) else {
            return Vec::new();
        };
        let columns = self.sheets[row.sheet as usize].columns.clone();
        let mut touched = Vec::new();
        for (field, col) in columns {
            touched.extend(self.edit_cell(
                row_index,
                field,
                cells.get(col).map_or("", String::as_str),
            ));
        }
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    /// Takes a row out of the import (the admin's delete button); a later row that was a
    /// duplicate of it becomes the first and loses its duplicate error.
    pub fn delete_row(&mut self, row_index: usize) -> Vec<usize> {
        let Some(row) = self.rows.get_mut(row_index) else {
            return Vec::new();
        };
        if row.deleted {
            return Vec::new();
        }
        let status = row.status();
        row.deleted = true;
        let email = row.values.email.clone();
        self.totals.count(status, -1);
        let mut touched = vec![row_index];
        if let Some(e) = &email {
            self.index.remove(e.key_hash(), row_index as u32);
            touched.extend(self.refresh_duplicates(e));
        }
        touched
    }

    /// Row indices whose email equals `email` (case-insensitively), in file order.
    pub fn rows_with_email(&self, email: &str) -> Vec<usize> {
        let key = crate::email::normalize_key(email);
        self.index
            .rows(crate::email::key_hash(&key))
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| {
                self.rows[i]
                    .values
                    .email
                    .as_ref()
                    .is_some_and(|e| e.key() == key)
            })
            .collect()
    }

    /// Re-decides the duplicate flag of every row holding `email`; returns those rows.
    fn refresh_duplicates(&mut self, email: &Email) -> Vec<usize> {
        let rows: Vec<usize> = self
            .index
            .rows(email.key_hash())
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| self.rows[i].values.email.as_ref() == Some(email))
            .collect();
        // Chains are ascending and hold no deleted rows, so the first is the original.
        let first = rows.first().copied();
        for &i in &rows {
            self.set_duplicate(i, first.filter(|&f| f != i));
        }
        rows
    }

    /// Rebuilds the email index twice as large. Only rows not deleted are indexed.
    fn grow_index(&mut self) {
        let mut index = EmailIndex::with_capacity((self.rows.len() + 1) * 2);
        for (i, row) in self.rows.iter().enumerate() {
            if let Some(e) = row.values.email.as_ref().filter(|_| !row.deleted) {
                index.insert(e.key_hash(), i as u32);
            }
        }
        self.index = index;
    }

    fn set_duplicate(&mut self, i: usize, first: Option<usize>) {
        let first_number = first.map(|j| self.rows[j].row_number);
        let row = &self.rows[i];
        let current = row
            .issues
            .iter()
            .find(|x| x.code == IssueCode::DuplicateEmail)
            .map(|x| x.message.clone());
        let info = &self.sheets[row.sheet as usize];
        let ctx = Ctx {
            kind: self.kind,
            sheet: (self.sheets.len() > 1 || self.kind == ImportKind::People)
                .then_some(info.name.as_str()),
            sheet_role: info.role,
            warn_formulas: self.options.warn_on_formulas,
            headers: &info.headers,
        };
        let wanted = first_number.and_then(|n| {
            row.values
                .email
                .as_ref()
                .map(|e| duplicate_issue(&ctx, row.row_number, e.as_str(), n))
        });
        if current.as_deref() == wanted.as_ref().map(|w| w.message.as_str()) {
            return;
        }
        let row = &mut self.rows[i];
        self.totals.count(row.status(), -1);
        row.issues.retain(|x| x.code != IssueCode::DuplicateEmail);
        row.issues.extend(wanted);
        self.totals.count(row.status(), 1);
    }
}

fn duplicate_issue(ctx: &Ctx<'_>, row: u32, email: &str, first_row: u32) -> Issue {
    ctx.issue(
        row,
        FieldId::Email,
        IssueCode::DuplicateEmail,
        Severity::Error,
        format!("{email} is already on row {first_row}. Each email may appear only once in the file (capitals do not matter)."),
    )
}

#[cfg(test)]
mod tests;
