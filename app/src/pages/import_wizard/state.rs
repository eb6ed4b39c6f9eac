//! The wizard's one state: every signal its steps share, created once by the page
//! and provided through context (`expect_context::<WizardState>()`).

use leptos::{html, prelude::*};
use muster_core::{mapping::ColumnOverride, FieldId, ImportKind};

use super::{
    preview::{Preview, ProblemSummary},
    problems::RowFilter,
};
use crate::{
    error::AppError,
    imports::ImportOptions,
    mappings::{forget_mapping, lookup_mapping, RememberedMapping},
};

/// Where the preview work stands.
#[derive(Clone, PartialEq)]
pub enum Stage {
    Idle,
    Working { label: String, percent: u32 },
    Failed(String),
    Ready,
}

/// Where a check's time went (ms), shown with the totals: the time an admin waits,
/// and what to look at when it grows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CheckTimes {
    /// From the file chosen (or the paste checked) to the preview drawn.
    pub total: f64,
    /// The worker's answer, from asking: reading the file, parsing it, handing it over.
    pub read: f64,
    /// Of `read`, the worker reading the file's bytes from the browser.
    pub file: f64,
    /// Of `read`, the engine's reader turning them into a workbook.
    pub parse: f64,
    /// Mapping and checking every row on the page, in slices.
    pub check: f64,
    /// Drawing the preview: totals, filters, the grid's first rows.
    pub show: f64,
}

impl CheckTimes {
    /// `read 45 (file 3, parse 38), check 120, show 20` (ms).
    pub fn steps(&self) -> String {
        format!(
            "read {:.0} (file {:.0}, parse {:.0}), check {:.0}, show {:.0}",
            self.read, self.file, self.parse, self.check, self.show
        )
    }
}

#[derive(Clone, Copy)]
pub struct WizardState {
    // Step 1: what is imported, and how.
    pub kind: RwSignal<ImportKind>,
    pub group_id: RwSignal<String>,
    pub contract_id: RwSignal<String>,
    pub expiry_days: RwSignal<String>,
    pub send_emails: RwSignal<bool>,
    pub auto_invite: RwSignal<bool>,
    /// "This file is the whole group": people it does not name leave.
    pub sync: RwSignal<bool>,
    // Step 2: the source.
    pub paste: RwSignal<String>,
    pub file_ref: NodeRef<html::Input>,
    /// The file being checked (chosen or dropped), or "Pasted list".
    pub source_name: RwSignal<Option<String>>,
    /// "Fix and retry": which earlier import's failed rows are loaded.
    pub retry_note: RwSignal<Option<String>>,
    // Step 3: the in-browser check and review.
    pub preview: StoredValue<Option<Preview>>,
    /// Bumped whenever the preview changes; views read the preview through it.
    pub version: RwSignal<u64>,
    /// Bumped only when the columns change, so the header editor keeps focus during edits.
    pub mapping_version: RwSignal<u64>,
    /// Sheets (by index) mapped as the organization remembered their headers.
    pub remembered: RwSignal<Vec<(usize, RememberedMapping)>>,
    /// Why forgetting a remembered mapping failed.
    pub remembered_error: RwSignal<Option<AppError>>,
    pub stage: RwSignal<Stage>,
    /// How long the last check took, from file chosen to preview shown, step by step.
    pub ready: RwSignal<Option<CheckTimes>>,
    /// Which rows the grid lists: all, those with problems, or one type of problem.
    pub filter: RwSignal<RowFilter>,
    /// The review's views of the rows, made by the review's own module (see [`RowViews`]).
    row_views: StoredValue<Option<RowViews>>,
    pub grid_ref: NodeRef<html::Div>,
    pub scroll_top: RwSignal<f64>,
    /// The focused cell: (position among the visible rows, grid column).
    pub active: RwSignal<(usize, usize)>,
    pub editing: RwSignal<Option<(usize, FieldId)>>,
    /// Read to screen readers by a live region.
    pub announce: RwSignal<String>,
    // Step 4: dry run and confirm.
    pub dry_running: RwSignal<bool>,
    pub dry_error: RwSignal<Option<AppError>>,
    pub confirming: RwSignal<bool>,
    pub submitting: RwSignal<bool>,
    pub submit_error: RwSignal<Option<AppError>>,
    /// What the admin typed to confirm a sync that trips the guard.
    pub leaving_typed: RwSignal<String>,
}

/// Which rows the grid lists and the rows' problems counted, kept once per change of the
/// preview. Made by [`RowViews::provide`] in the review's module (`review_and_confirm`), so
/// their code comes with the review rather than with the wizard's first screen.
#[derive(Clone, Copy)]
pub struct RowViews {
    /// Rows the grid lists (indexes into the preview's rows).
    pub visible_rows: Memo<Vec<u32>>,
    /// The rows' problems counted.
    pub problems: Memo<ProblemSummary>,
}

impl RowViews {
    pub fn provide(state: WizardState) {
        let WizardState {
            preview,
            version,
            filter,
            ..
        } = state;
        let visible_rows = Memo::new(move |_| {
            version.track();
            let filter = filter.get();
            preview.with_value(|p| p.as_ref().map_or_else(Vec::new, |p| p.visible_rows(filter)))
        });
        let problems = Memo::new(move |_| {
            version.track();
            preview.with_value(|p| p.as_ref().map(Preview::problem_summary).unwrap_or_default())
        });
        state.row_views.set_value(Some(Self {
            visible_rows,
            problems,
        }));
    }
}

impl WizardState {
    /// Rows the grid lists (indexes into the preview's rows).
    pub fn visible_rows(self) -> Memo<Vec<u32>> {
        self.row_views().visible_rows
    }

    /// The rows' problems counted.
    pub fn problems(self) -> Memo<ProblemSummary> {
        self.row_views().problems
    }

    fn row_views(self) -> RowViews {
        self.row_views
            .get_value()
            .expect("the review's module provides its row views before the review shows")
    }

    /// Creates the state and provides it to the page's components.
    pub fn provide() -> Self {
        let preview: StoredValue<Option<Preview>> = StoredValue::new(None);
        let version = RwSignal::new(0u64);
        let filter = RwSignal::new(RowFilter::All);
        let state = Self {
            kind: RwSignal::new(ImportKind::Invites),
            group_id: RwSignal::new(String::new()),
            contract_id: RwSignal::new(String::new()),
            expiry_days: RwSignal::new(String::new()),
            send_emails: RwSignal::new(true),
            auto_invite: RwSignal::new(false),
            sync: RwSignal::new(false),
            leaving_typed: RwSignal::new(String::new()),
            paste: RwSignal::new(String::new()),
            file_ref: NodeRef::new(),
            source_name: RwSignal::new(None),
            retry_note: RwSignal::new(None),
            preview,
            version,
            mapping_version: RwSignal::new(0),
            remembered: RwSignal::new(Vec::new()),
            remembered_error: RwSignal::new(None),
            stage: RwSignal::new(Stage::Idle),
            ready: RwSignal::new(None),
            filter,
            row_views: StoredValue::new(None),
            grid_ref: NodeRef::new(),
            scroll_top: RwSignal::new(0.0),
            active: RwSignal::new((0, 0)),
            editing: RwSignal::new(None),
            announce: RwSignal::new(String::new()),
            dry_running: RwSignal::new(false),
            dry_error: RwSignal::new(None),
            confirming: RwSignal::new(false),
            submitting: RwSignal::new(false),
            submit_error: RwSignal::new(None),
        };
        provide_context(state);
        state
    }

    /// Takes step 1 and 2's choices from `field` (the address's query), where given.
    pub fn restore_from(self, field: impl Fn(&str) -> Option<String>) {
        if let Some(kind) = field("kind").and_then(|k| k.parse().ok()) {
            self.kind.set(kind);
        }
        for (name, signal) in [
            ("group_id", self.group_id),
            ("contract_id", self.contract_id),
            ("expiry_days", self.expiry_days),
            ("paste", self.paste),
        ] {
            if let Some(value) = field(name) {
                signal.set(value);
            }
        }
        for (name, signal) in [
            ("send_emails", self.send_emails),
            ("auto_invite", self.auto_invite),
            ("sync", self.sync),
        ] {
            if let Some(value) = field(name) {
                signal.set(value == "on");
            }
        }
    }

    /// Tells the views that read the preview that it changed.
    pub fn bump(self) {
        self.version.update(|v| *v += 1);
    }

    /// Step 1's choices, as the dry run and the import take them.
    pub fn options(self) -> ImportOptions {
        ImportOptions {
            kind: self.kind.get_untracked(),
            group_id: self.group_id.get_untracked().parse().ok(),
            contract_id: self.contract_id.get_untracked().parse().ok(),
            send_emails: self.send_emails.get_untracked(),
            auto_invite: self.auto_invite.get_untracked(),
            expiry_days: self.expiry_days.get_untracked().trim().parse().ok(),
            source_name: self
                .preview
                .with_value(|p| p.as_ref().map(|p| p.file_name.clone()))
                .unwrap_or_default(),
            sync: self.sync.get_untracked() && ImportOptions::can_sync(self.kind.get_untracked()),
        }
    }

    /// Shows a freshly checked file from its first row; the check began at `started` ms.
    pub fn show_preview(self, preview: Preview) {
        let unmapped: Vec<(usize, Vec<String>)> = preview
            .sheets
            .iter()
            .enumerate()
            .filter(|(_, sheet)| sheet.overrides.columns.is_empty())
            .map(|(index, sheet)| (index, sheet.headers.clone()))
            .collect();
        let kind = preview.kind;
        self.remembered.set(Vec::new());
        self.remembered_error.set(None);
        self.preview.set_value(Some(preview));
        self.scroll_top.set(0.0);
        self.active.set((0, 0));
        self.filter.set(RowFilter::All);
        self.stage.set(Stage::Ready);
        self.mapping_version.update(|v| *v += 1);
        self.bump();
        self.apply_remembered(kind, unmapped);
    }

    /// Maps each sheet of `unmapped` as the organization remembers its header
    /// row, if it does, once the server answers.
    fn apply_remembered(self, kind: ImportKind, unmapped: Vec<(usize, Vec<String>)>) {
        leptos::task::spawn_local(async move {
            for (sheet, headers) in unmapped {
                // Without an answer the file simply maps automatically.
                let Ok(Some(found)) = lookup_mapping(kind, headers.clone()).await else {
                    continue;
                };
                let mut applied = false;
                self.preview.update_value(|p| {
                    if let Some(p) = p.as_mut() {
                        applied = p.apply_remembered(sheet, &headers, &found.overrides);
                    }
                });
                if applied {
                    self.announce.set(format!("{}.", found.note()));
                    self.remembered.update(|all| all.push((sheet, found)));
                    self.mapping_version.update(|v| *v += 1);
                    self.bump();
                }
            }
        });
    }

    /// Forgets the mapping remembered for a sheet's headers; the sheet maps
    /// automatically again.
    pub fn forget_remembered(self, sheet: usize, id: i64) {
        leptos::task::spawn_local(async move {
            match forget_mapping(id).await {
                Ok(()) => {
                    self.remembered_error.set(None);
                    self.remembered
                        .update(|all| all.retain(|(index, _)| *index != sheet));
                    self.preview.update_value(|p| {
                        if let Some(p) = p.as_mut() {
                            p.map_automatically(sheet);
                        }
                    });
                    self.announce.set(
                        "Mapping forgotten; the columns are mapped automatically again.".into(),
                    );
                    self.mapping_version.update(|v| *v += 1);
                    self.bump();
                }
                Err(error) => self.remembered_error.set(Some(error)),
            }
        });
    }

    /// Another kind checks rows differently: the preview is dropped.
    pub fn change_kind(self, kind: ImportKind) {
        super::check::cancel_check();
        self.kind.set(kind);
        self.preview.set_value(None);
        self.stage.set(Stage::Idle);
        self.bump();
    }

    pub fn commit_edit(self, row: usize, field: FieldId, value: String) {
        self.preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                self.announce.set(p.edit_cell(row, field, &value));
            }
        });
        self.editing.set(None);
        self.bump();
    }

    /// Applies a change to many rows at once (remove, tidy) and says what it did.
    pub fn bulk_change(self, change: impl FnOnce(&mut Preview) -> String) {
        self.preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                self.announce.set(change(p));
            }
        });
        self.editing.set(None);
        self.active.set((0, 0));
        self.bump();
    }

    pub fn delete_row(self, row: usize) {
        self.preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                self.announce.set(p.delete_row(row));
            }
        });
        self.bump();
    }

    pub fn choose_column(self, sheet: usize, source_index: usize, choice: ColumnOverride) {
        self.preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                p.choose_column(sheet, source_index, choice);
            }
        });
        self.announce
            .set("Columns changed; every row was checked again.".into());
        self.mapping_version.update(|v| *v += 1);
        self.bump();
    }
}
