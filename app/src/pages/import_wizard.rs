//! New import: what, source, an instant in-browser check of every row (the engine
//! compiled to WebAssembly), fixes in place, a dry run on the server, confirm.
//!
//! Without JavaScript the same form posts the file to `/admin/imports/upload`,
//! where the server runs the same engine and shows the preview for confirmation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use muster_core::{
    mapping::ColumnOverride, Checked, FieldId, ImportKind, Mapping, MappingOverrides, PayloadSheet,
    RowStatus, RowsPayload, Severity, SourceRow,
};

use super::{thousands, ErrorMessage};
use crate::{
    contracts::list_contracts,
    error::AppError,
    groups::list_groups,
    imports::{create_import, dry_run_import, retry_rows, DryRun, ImportOptions, Will},
};

const ROW_HEIGHT: f64 = 34.0;
const GRID_HEIGHT: f64 = 476.0;
/// Rows rendered above and below the visible window, so fast scrolling never shows blanks.
const OVERSCAN: usize = 8;

/// One sheet of the preview: what the file said and the admin's header choices.
#[derive(Clone)]
struct PreviewSheet {
    name: String,
    headers: Vec<String>,
    overrides: MappingOverrides,
    mapping: Mapping,
    row_count: usize,
}

/// Everything the review step shows. `sources[i]` is the text of `checked.rows[i]`.
#[derive(Clone)]
struct Preview {
    kind: ImportKind,
    file_name: String,
    sheets: Vec<PreviewSheet>,
    sources: Vec<SourceRow>,
    checked: Checked,
    /// Set by a dry run; cleared by any edit.
    will: Option<Vec<Option<Will>>>,
    dry_run: Option<DryRun>,
    idempotency_key: String,
}

impl Preview {
    /// Fields shown as grid columns: the kind's fields that some sheet maps.
    fn fields(&self) -> Vec<(FieldId, &'static str)> {
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

    fn cell(&self, row: usize, field: FieldId) -> &str {
        let sheet = &self.checked.sheets[self.checked.rows[row].sheet as usize];
        sheet
            .columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, column)| self.sources[row].cell(*column))
    }

    fn header_errors(&self) -> Vec<String> {
        self.sheets
            .iter()
            .flat_map(|s| s.mapping.issues.iter())
            .filter(|i| i.is_error())
            .map(|i| i.message.clone())
            .collect()
    }

    fn payload(&self) -> RowsPayload {
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

    /// A dry run describes the rows as they were; any change makes it stale.
    fn forget_dry_run(&mut self) {
        self.will = None;
        self.dry_run = None;
    }
}

/// The dry run's totals, as the grid's "Will" column counts them; zeros left out.
fn plan_counts(t: &muster_core::PlanTotals) -> Vec<(u32, &'static str)> {
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

fn issue_for(checked: &Checked, row: usize, field: FieldId) -> Option<(Severity, String)> {
    let issues = &checked.rows[row].issues;
    issues
        .iter()
        .filter(|i| i.field == Some(field))
        .max_by_key(|i| i.severity)
        .map(|i| (i.severity, i.message.clone()))
}

/// Where the preview work stands.
#[derive(Clone, PartialEq)]
enum Stage {
    Idle,
    Working { label: String, percent: u32 },
    Failed(String),
    Ready,
}

#[component]
pub fn NewImportPage() -> impl IntoView {
    let query = use_query_map();
    let upload_error = move || query.read().get("error").filter(|e| !e.is_empty());
    let groups = Resource::new(|| (), |_| list_groups());
    let contracts = Resource::new(|| (), |_| list_contracts());

    let kind = RwSignal::new(ImportKind::Invites);
    let group_id = RwSignal::new(String::new());
    let contract_id = RwSignal::new(String::new());
    let expiry_days = RwSignal::new(String::new());
    let send_emails = RwSignal::new(true);
    let auto_invite = RwSignal::new(false);
    let paste = RwSignal::new(String::new());

    let preview: StoredValue<Option<Preview>> = StoredValue::new(None);
    // Bumped whenever the preview changes; views read the preview through it.
    let version = RwSignal::new(0u64);
    // Bumped only when the columns change, so the header editor keeps focus during edits.
    let mapping_version = RwSignal::new(0u64);
    let stage = RwSignal::new(Stage::Idle);
    let ready_ms = RwSignal::new(None::<f64>);
    let only_problems = RwSignal::new(false);
    let scroll_top = RwSignal::new(0.0f64);
    let active = RwSignal::new((0usize, 0usize));
    let editing = RwSignal::new(None::<(usize, FieldId)>);
    let announce = RwSignal::new(String::new());
    let dry_running = RwSignal::new(false);
    let dry_error = RwSignal::new(None::<AppError>);
    let confirming = RwSignal::new(false);
    let submitting = RwSignal::new(false);
    let submit_error = RwSignal::new(None::<AppError>);
    let grid_ref = NodeRef::<leptos::html::Div>::new();
    let file_ref = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();

    let bump = move || version.update(|v| *v += 1);
    // Effects run only in the browser: the form says when it checks rows itself.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let options = move || ImportOptions {
        kind: kind.get_untracked(),
        group_id: group_id.get_untracked().parse().ok(),
        contract_id: contract_id.get_untracked().parse().ok(),
        send_emails: send_emails.get_untracked(),
        auto_invite: auto_invite.get_untracked(),
        expiry_days: expiry_days.get_untracked().trim().parse().ok(),
        source_name: preview
            .with_value(|p| p.as_ref().map(|p| p.file_name.clone()))
            .unwrap_or_default(),
    };

    // Rows the grid lists: all, or only those with problems.
    let visible_rows = Memo::new(move |_| {
        version.track();
        let problems = only_problems.get();
        preview.with_value(|p| {
            p.as_ref().map_or_else(Vec::new, |p| {
                p.checked
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !r.deleted)
                    .filter(|(_, r)| !problems || !r.issues.is_empty())
                    .map(|(i, _)| i as u32)
                    .collect::<Vec<u32>>()
            })
        })
    });

    let start_check = move |bytes: Vec<u8>, file_name: Option<String>| {
        let kind_now = kind.get_untracked();
        let display_name = file_name
            .clone()
            .unwrap_or_else(|| "Pasted list".to_owned());
        stage.set(Stage::Working {
            label: "Reading".into(),
            percent: 5,
        });
        ready_ms.set(None);
        leptos::task::spawn_local(async move {
            let started = now_ms();
            match check_in_chunks(bytes, file_name, kind_now, stage).await {
                Ok((sheets, sources, checked)) => {
                    let key = idempotency_key();
                    preview.set_value(Some(Preview {
                        kind: kind_now,
                        file_name: display_name,
                        sheets,
                        sources,
                        checked,
                        will: None,
                        dry_run: None,
                        idempotency_key: key,
                    }));
                    scroll_top.set(0.0);
                    active.set((0, 0));
                    only_problems.set(false);
                    stage.set(Stage::Ready);
                    mapping_version.update(|v| *v += 1);
                    bump();
                    ready_ms.set(Some(now_ms() - started));
                }
                Err(message) => stage.set(Stage::Failed(message)),
            }
        });
    };

    // "Fix and retry": an earlier import's failed rows, loaded into the preview.
    let retry_note = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(id) = query.with_untracked(|q| q.get("retry").and_then(|v| v.parse::<i64>().ok()))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            match retry_rows(id).await {
                Ok(retry) => {
                    let o = retry.options;
                    kind.set(o.kind);
                    group_id.set(o.group_id.map(|g| g.to_string()).unwrap_or_default());
                    contract_id.set(o.contract_id.map(|c| c.to_string()).unwrap_or_default());
                    send_emails.set(o.send_emails);
                    auto_invite.set(o.auto_invite);
                    expiry_days.set(o.expiry_days.map(|d| d.to_string()).unwrap_or_default());
                    retry_note.set(Some(format!(
                        "The {} failed rows of import #{id}: fix them below, then dry run and confirm.",
                        retry.rows
                    )));
                    start_check(retry.csv.into_bytes(), Some(o.source_name));
                }
                Err(error) => stage.set(Stage::Failed(error.to_string())),
            }
        });
    });

    let on_file = move |file: leptos::web_sys::File| {
        let name = file.name();
        leptos::task::spawn_local(async move {
            match read_file(&file).await {
                Ok(bytes) => start_check(bytes, Some(name)),
                Err(message) => stage.set(Stage::Failed(message)),
            }
        });
    };

    let commit_edit = move |row: usize, field: FieldId, value: String| {
        preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                let sheet = &p.checked.sheets[p.checked.rows[row].sheet as usize];
                if let Some(&(_, column)) = sheet.columns.iter().find(|(f, _)| *f == field) {
                    let cells = &mut p.sources[row].cells;
                    if cells.len() <= column {
                        cells.resize(column + 1, String::new());
                    }
                    cells[column] = value.clone();
                }
                p.checked.edit_cell(row, field, &value);
                p.forget_dry_run();
                let row_number = p.checked.rows[row].row_number;
                let message = match p.checked.rows[row].status() {
                    RowStatus::Errors => format!("Row {row_number} still has errors."),
                    RowStatus::Warnings => format!("Row {row_number} is fixed, with warnings."),
                    _ => format!("Row {row_number} is ready."),
                };
                announce.set(message);
            }
        });
        editing.set(None);
        bump();
    };

    let delete_row = move |row: usize| {
        preview.update_value(|p| {
            if let Some(p) = p.as_mut() {
                p.checked.delete_row(row);
                p.forget_dry_run();
                announce.set(format!("Row {} deleted.", p.checked.rows[row].row_number));
            }
        });
        bump();
    };

    let run_dry_run = move || {
        let Some(payload) = preview.with_value(|p| p.as_ref().map(Preview::payload)) else {
            return;
        };
        let opts = options();
        dry_running.set(true);
        dry_error.set(None);
        leptos::task::spawn_local(async move {
            match dry_run_import(opts, payload).await {
                Ok(result) => {
                    preview.update_value(|p| {
                        if let Some(p) = p.as_mut() {
                            let mut will = vec![None; p.checked.rows.len()];
                            let live = p
                                .checked
                                .rows
                                .iter()
                                .enumerate()
                                .filter(|(_, r)| !r.deleted)
                                .map(|(i, _)| i);
                            for (i, w) in live.zip(result.will.iter()) {
                                will[i] = Some(*w);
                            }
                            p.will = Some(will);
                            p.dry_run = Some(result);
                        }
                    });
                    bump();
                }
                Err(error) => dry_error.set(Some(error)),
            }
            dry_running.set(false);
        });
    };

    let submit = move || {
        if submitting.get_untracked() {
            return;
        }
        let Some((payload, key)) =
            preview.with_value(|p| p.as_ref().map(|p| (p.payload(), p.idempotency_key.clone())))
        else {
            return;
        };
        let opts = options();
        submitting.set(true);
        submit_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match create_import(opts, payload, key).await {
                Ok(id) => navigate(&format!("/admin/imports/{id}"), Default::default()),
                Err(error) => {
                    submit_error.set(Some(error));
                    submitting.set(false);
                }
            }
        });
    };

    let kind_select = move || {
        view! {
            <label for="import-kind">"What are you importing?"</label>
            <select id="import-kind" name="kind" on:change=move |ev| {
                if let Ok(k) = event_target_value(&ev).parse() {
                    kind.set(k);
                    preview.set_value(None);
                    stage.set(Stage::Idle);
                    bump();
                }
            }>
                {ImportKind::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                }).collect_view()}
            </select>
        }
    };

    let template_links = move || {
        let k = kind.get();
        view! {
            <p class="hint">
                "Start from the "
                <a href=format!("/admin/imports/template/{}.csv", k.as_str()) rel="external" download>
                    {format!("{} template (CSV)", k.label())}
                </a>
                {(k == ImportKind::People).then(|| view! {
                    " or the "
                    <a href="/admin/imports/template/people.xlsx" rel="external" download>
                        "workbook with Students, Instructors and Parents tabs (XLSX)"
                    </a>
                })}
                ". Columns: "
                {k.columns().iter().map(|c| c.header).collect::<Vec<_>>().join(", ")}
                "."
            </p>
        }
    };

    let group_select = move || {
        let needs_group = ImportOptions::needs_group(kind.get());
        needs_group.then(|| view! {
            <label for="import-group">"Group"</label>
            <Suspense fallback=|| view! { <select id="import-group" disabled><option>"Loading…"</option></select> }>
                {move || Suspend::new(async move {
                    match groups.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" id="import-group">
                                "No groups yet. " <a href="/admin/groups">"Create a group"</a> " first."
                            </p>
                        }.into_any(),
                        Ok(list) => {
                            let defaults: Vec<(String, i64)> =
                                list.iter().map(|g| (g.id.to_string(), g.default_expiry_days)).collect();
                            let options = list.into_iter().map(|g| (g.id.to_string(), g.name)).collect();
                            view! {
                                <SearchableSelect id="import-group" name="group_id" noun="group"
                                    placeholder="Choose a group" options selected=group_id
                                    on_pick=move |value: String| {
                                        if let Some((_, days)) = defaults.iter().find(|(id, _)| *id == value) {
                                            expiry_days.set(days.to_string());
                                        }
                                    } />
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        })
    };

    let contract_select = move || {
        (kind.get() == ImportKind::ProgramInvitations).then(|| view! {
            <label for="import-contract">"Contract"</label>
            <Suspense fallback=|| view! { <select id="import-contract" disabled><option>"Loading…"</option></select> }>
                {move || Suspend::new(async move {
                    match contracts.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) => {
                            let options = list
                                .into_iter()
                                .map(|c| (c.id.to_string(), format!("{} ({} seats)", c.name, c.seat_limit)))
                                .collect();
                            view! {
                                <SearchableSelect id="import-contract" name="contract_id" noun="contract"
                                    placeholder="Choose a contract" options selected=contract_id
                                    on_pick=|_: String| {} />
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        })
    };

    let progress_view = move || match stage.get() {
        Stage::Working { label, percent } => Some(
            view! {
                <div class="check-progress">
                    <label for="check-progress">{format!("{label}…")}</label>
                    <progress id="check-progress" max="100" value=percent></progress>
                </div>
            }
            .into_any(),
        ),
        Stage::Failed(message) => {
            Some(view! { <p class="error" role="alert">{message}</p> }.into_any())
        }
        _ => None,
    };

    let totals_view = move || {
        version.track();
        preview.with_value(|p| {
            p.as_ref().map(|p| {
                let t = p.checked.totals;
                let header_errors = p.header_errors();
                let ms = ready_ms.get();
                view! {
                    <div class="totals" role="status" aria-live="polite" data-ready-ms=ms.map(|m| format!("{m:.0}"))>
                        <span><strong>{thousands(t.rows)}</strong>" rows"</span>
                        <span class="ok"><strong>{thousands(t.ready)}</strong>" ready"</span>
                        <span class="warn"><strong>{thousands(t.with_warnings)}</strong>" with warnings"</span>
                        <span class="bad"><strong>{thousands(t.with_errors)}</strong>" with errors"</span>
                        {ms.map(|m| view! { <span class="hint">{format!("checked in {m:.0} ms")}</span> })}
                    </div>
                    {(!header_errors.is_empty()).then(|| view! {
                        <ul class="error" role="alert">
                            {header_errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                        </ul>
                    })}
                }
            })
        })
    };

    let header_editor = move || {
        mapping_version.track();
        preview.with_value(|p| {
            p.as_ref().map(|p| {
                let kind_now = p.kind;
                p.sheets.iter().enumerate().map(|(sheet_index, sheet)| {
                    let columns = sheet.mapping.columns.clone();
                    view! {
                        <fieldset class="header-editor">
                            <legend>{if p.sheets.len() > 1 { format!("Columns of tab {}", sheet.name) } else { "Columns".to_owned() }}</legend>
                            {columns.into_iter().map(|c| {
                                let id = format!("map-{sheet_index}-{}", c.source_index);
                                let current = c.field;
                                let confidence = (c.field.is_some() && c.confidence < 1.0)
                                    .then(|| format!("{:.0}% sure", c.confidence * 100.0));
                                let source_index = c.source_index;
                                view! {
                                    <div class="map-row">
                                        <label for=id.clone()>{format!("“{}”", c.header)}</label>
                                        <select id=id on:change=move |ev| {
                                            let value = event_target_value(&ev);
                                            let choice = kind_now
                                                .columns()
                                                .iter()
                                                .find(|col| col.field.as_str() == value)
                                                .map(|col| ColumnOverride::Field(col.field))
                                                .unwrap_or(ColumnOverride::Ignore);
                                            preview.update_value(|p| {
                                                if let Some(p) = p.as_mut() {
                                                    p.sheets[sheet_index].overrides.columns.insert(source_index, choice);
                                                    p.recheck();
                                                }
                                            });
                                            announce.set("Columns changed; every row was checked again.".into());
                                            mapping_version.update(|v| *v += 1);
                                            bump();
                                        }>
                                            <option value="" selected=current.is_none()>"Ignore this column"</option>
                                            {kind_now.columns().iter().map(|col| view! {
                                                <option value=col.field.as_str() selected=current == Some(col.field)>{col.header}</option>
                                            }).collect_view()}
                                        </select>
                                        {confidence.map(|c| view! { <span class="confidence">{c}</span> })}
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                    }
                }).collect_view()
            })
        })
    };

    let move_active = move |d_row: i64, d_col: i64| {
        let rows = visible_rows.with_untracked(|v| v.len());
        let cols = preview.with_value(|p| p.as_ref().map_or(0, |p| p.fields().len()));
        if rows == 0 || cols == 0 {
            return;
        }
        let (r, c) = active.get_untracked();
        let r = (r as i64 + d_row).clamp(0, rows as i64 - 1) as usize;
        let c = (c as i64 + d_col).clamp(0, cols as i64 - 1) as usize;
        active.set((r, c));
        // Keep the active row in view.
        if let Some(grid) = grid_ref.get_untracked() {
            let top = r as f64 * ROW_HEIGHT;
            let view_top = grid.scroll_top() as f64;
            let body = GRID_HEIGHT - ROW_HEIGHT;
            if top < view_top {
                grid.set_scroll_top(top as i32);
            } else if top + ROW_HEIGHT > view_top + body {
                grid.set_scroll_top((top + ROW_HEIGHT - body) as i32);
            }
        }
        focus_active_cell();
    };

    let grid_body = move || {
        version.track();
        let rows = visible_rows.get();
        let top = scroll_top.get();
        let (active_row, active_col) = active.get();
        let edit = editing.get();
        preview.with_value(|p| {
            p.as_ref().map(|p| {
                let fields = p.fields();
                let has_will = p.will.is_some();
                let first = ((top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
                let count = (GRID_HEIGHT / ROW_HEIGHT) as usize + 2 * OVERSCAN;
                let last = (first + count).min(rows.len());
                let body = (first..last).map(|vi| {
                    let row = rows[vi] as usize;
                    let checked_row = &p.checked.rows[row];
                    let status = checked_row.status();
                    let row_number = checked_row.row_number;
                    let cells = fields.iter().enumerate().map(|(ci, (field, header))| {
                        let field = *field;
                        let text = p.cell(row, field).to_owned();
                        let issue = issue_for(&p.checked, row, field);
                        let class = match issue.as_ref().map(|(s, _)| *s) {
                            Some(Severity::Error) => "cell cell-error",
                            Some(Severity::Warning) => "cell cell-warning",
                            None => "cell",
                        };
                        let is_active = vi == active_row && ci == active_col;
                        let message = issue.map(|(_, m)| m);
                        let label = format!("Row {row_number}, {header}");
                        if edit == Some((row, field)) {
                            view! {
                                <div role="gridcell" class=class>
                                    <input
                                        class="cell-input"
                                        aria-label=format!("Edit {label}")
                                        value=text
                                        autofocus
                                        on:keydown=move |ev| {
                                            match ev.key().as_str() {
                                                "Enter" => {
                                                    ev.prevent_default();
                                                    commit_edit(row, field, event_target_value(&ev));
                                                    focus_active_cell();
                                                }
                                                "Escape" => {
                                                    editing.set(None);
                                                    focus_active_cell();
                                                }
                                                _ => {}
                                            }
                                        }
                                        on:blur=move |ev| {
                                            if editing.get_untracked() == Some((row, field)) {
                                                commit_edit(row, field, event_target_value(&ev));
                                            }
                                        }
                                    />
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <div
                                    role="gridcell"
                                    class=class
                                    tabindex=if is_active { "0" } else { "-1" }
                                    data-active=is_active.then_some("true")
                                    title=message.clone()
                                    aria-label=match &message {
                                        Some(m) => format!("{label}: {text}. {m}"),
                                        None => format!("{label}: {text}"),
                                    }
                                    on:click=move |_| active.set((vi, ci))
                                    on:dblclick=move |_| {
                                        editing.set(Some((row, field)));
                                        focus_after_render(".grid .cell-input");
                                    }
                                    on:focus=move |_| {
                                        if let Some(m) = message.clone() {
                                            announce.set(format!("Row {row_number}: {m}"));
                                        }
                                    }
                                >
                                    <span aria-hidden="true">{text.clone()}</span>
                                </div>
                            }.into_any()
                        }
                    }).collect_view();
                    let will = p.will.as_ref().and_then(|w| w[row]).map(|w| w.label()).unwrap_or("");
                    let status_text = match status {
                        RowStatus::Ready => "Ready",
                        RowStatus::Warnings => "Warning",
                        RowStatus::Errors => "Error",
                        RowStatus::Deleted => "Deleted",
                    };
                    let status_class = match status {
                        RowStatus::Errors => "cell status-error",
                        RowStatus::Warnings => "cell status-warning",
                        _ => "cell status-ready",
                    };
                    let first_issue = checked_row.issues.iter().max_by_key(|i| i.severity).map(|i| i.message.clone());
                    view! {
                        <div
                            role="row"
                            class="grid-row"
                            aria-rowindex=(vi + 2).to_string()
                            style=format!("transform: translateY({}px)", vi as f64 * ROW_HEIGHT)
                        >
                            <div role="gridcell" class="cell num">{row_number}</div>
                            {cells}
                            <div role="gridcell" class=status_class title=first_issue>{status_text}</div>
                            {has_will.then(|| view! { <div role="gridcell" class="cell will">{will}</div> })}
                            <div role="gridcell" class="cell">
                                <button type="button" class="link" on:click=move |_| delete_row(row)
                                    aria-label=format!("Delete row {row_number}")>"Delete"</button>
                            </div>
                        </div>
                    }
                }).collect_view();
                body
            })
        })
    };

    let grid_head = move || {
        version.track();
        preview.with_value(|p| {
            p.as_ref().map(|p| {
                let has_will = p.will.is_some();
                let header_cells = p.fields().into_iter().map(|(_, h)| view! {
                    <div role="columnheader" class="cell">{h}</div>
                }).collect_view();
                view! {
                    <div role="row" class="grid-row grid-head" aria-rowindex="1">
                            <div role="columnheader" class="cell num">"Row"</div>
                            {header_cells}
                            <div role="columnheader" class="cell">"Status"</div>
                            {has_will.then(|| view! { <div role="columnheader" class="cell will">"Will"</div> })}
                            <div role="columnheader" class="cell">"Actions"</div>
                        </div>
                }
            })
        })
    };

    let grid_view = move || {
        view! {
                    <div
                        class="grid"
                        role="grid"
                        aria-label="Rows to import"
                        aria-rowcount=move || (visible_rows.with(|v| v.len()) + 1).to_string()
                        aria-colcount=move || preview.with_value(|p| p.as_ref().map_or(0, |p| p.fields().len() + 3 + usize::from(p.will.is_some()))).to_string()
                        node_ref=grid_ref
                        style=format!("height: {GRID_HEIGHT}px")
                        on:scroll=move |ev| {
                            use leptos::wasm_bindgen::JsCast;
                            if let Some(el) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()) {
                                scroll_top.set(el.scroll_top() as f64);
                            }
                        }
                        on:keydown=move |ev| {
                            if editing.get_untracked().is_some() {
                                return;
                            }
                            let key = ev.key();
                            let handled = match key.as_str() {
                                "ArrowDown" => { move_active(1, 0); true }
                                "ArrowUp" => { move_active(-1, 0); true }
                                "ArrowRight" => { move_active(0, 1); true }
                                "ArrowLeft" => { move_active(0, -1); true }
                                "PageDown" => { move_active(12, 0); true }
                                "PageUp" => { move_active(-12, 0); true }
                                "Enter" | "F2" => {
                                    let (r, c) = active.get_untracked();
                                    let target = visible_rows.with_untracked(|v| v.get(r).copied());
                                    let field = preview.with_value(|p| p.as_ref().and_then(|p| p.fields().get(c).map(|f| f.0)));
                                    if let (Some(row), Some(field)) = (target, field) {
                                        editing.set(Some((row as usize, field)));
                                        focus_after_render(".grid .cell-input");
                                    }
                                    true
                                }
                                _ => false,
                            };
                            if handled {
                                ev.prevent_default();
                            }
                        }
                    >
                        {grid_head}
                        <div class="grid-body" style=move || format!("height: {}px", visible_rows.with(|v| v.len()) as f64 * ROW_HEIGHT)>
                            {grid_body}
                        </div>
                    </div>
                    {move || visible_rows.with(|v| v.is_empty()).then(|| view! {
                        <p class="empty">{if only_problems.get_untracked() { "No rows with problems." } else { "No rows left." }}</p>
                    })}
        }
    };

    let dry_run_view = move || {
        version.track();
        let result = preview.with_value(|p| p.as_ref().and_then(|p| p.dry_run.clone()));
        view! {
            <div class="dry-run">
                <button type="button" class="secondary"
                    disabled=move || dry_running.get()
                    on:click=move |_| run_dry_run()>
                    {move || if dry_running.get() { "Checking against Muster…" } else { "Dry run: see what will happen" }}
                </button>
                {move || dry_error.get().map(|error| view! { <ErrorMessage error /> })}
                {result.map(|r| view! {
                    <p class="summary-sentence" role="status">{r.summary.clone()}</p>
                    <div class="totals" aria-label="What will happen">
                        {plan_counts(&r.totals).into_iter().map(|(n, label)| view! {
                            <span><strong>{thousands(n)}</strong>{format!(" {label}")}</span>
                        }).collect_view()}
                    </div>
                    {r.seats_warning.clone().map(|w| view! { <p class="warning" role="alert">{w}</p> })}
                    <button type="button" on:click=move |_| confirming.set(true)>"Import…"</button>
                })}
            </div>
        }
    };

    let confirm_dialog = move || {
        let submit = submit.clone();
        confirming.get().then(move || {
            version.track();
            let summary = preview.with_value(|p| {
                p.as_ref().and_then(|p| p.dry_run.as_ref().map(|d| d.summary.clone()))
            }).unwrap_or_default();
            let errors = preview.with_value(|p| p.as_ref().map_or(0, |p| p.checked.totals.with_errors));
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-summary">
                        <h2 id="confirm-title">"Confirm the import"</h2>
                        <p id="confirm-summary">{summary}</p>
                        {(errors > 0).then(|| view! {
                            <p class="warning">{format!("{} rows with errors will be reported as failed and not imported.", thousands(errors))}</p>
                        })}
                        {move || submit_error.get().map(|error| view! { <ErrorMessage error /> })}
                        <div class="actions">
                            <button type="button" autofocus disabled=move || submitting.get()
                                on:click=move |_| submit()>
                                {move || if submitting.get() { "Starting…" } else { "Confirm" }}
                            </button>
                            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Back"</button>
                        </div>
                    </div>
                </div>
            }
        })
    };

    view! {
        <Title text="New import · Muster" />
        <h1>"New import"</h1>
        {move || upload_error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        {view! {
        <form
            class="wizard"
            data-ready=move || hydrated.get().then_some("true")
            method="post"
            action="/admin/imports/upload"
            enctype="multipart/form-data"
            on:submit=move |ev| {
                // With JavaScript the rows are checked here, in the browser.
                ev.prevent_default();
                let text = paste.get_untracked();
                let chosen = file_ref.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0));
                if let Some(file) = chosen {
                    on_file(file);
                } else if !text.trim().is_empty() {
                    start_check(text.into_bytes(), None);
                } else {
                    stage.set(Stage::Failed("Choose a file or paste the list first.".into()));
                }
            }
        >
            <fieldset>
                <legend>"1. What"</legend>
                {kind_select}
                {template_links}
                {group_select}
                {contract_select}
                <label for="import-expiry">"Invitations expire after (days)"</label>
                <input id="import-expiry" name="expiry_days" type="number" min="1" max="365"
                    placeholder="The group's default"
                    prop:value=move || expiry_days.get()
                    on:input=move |ev| expiry_days.set(event_target_value(&ev)) />
                <label class="check">
                    <input type="checkbox" name="send_emails" value="on"
                        checked=move || send_emails.get()
                        on:change=move |ev| send_emails.set(event_target_checked(&ev)) />
                    "Send invitation emails after import"
                </label>
                {move || (kind.get() == ImportKind::People).then(|| view! {
                    <label class="check">
                        <input type="checkbox" name="auto_invite" value="on"
                            checked=move || auto_invite.get()
                            on:change=move |ev| auto_invite.set(event_target_checked(&ev)) />
                        "Auto-invite new users when finished"
                    </label>
                })}
            </fieldset>
            <fieldset>
                <legend>"2. Source"</legend>
                <div
                    class="drop-zone"
                    on:dragover=move |ev| ev.prevent_default()
                    on:drop=move |ev| {
                        ev.prevent_default();
                        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                            on_file(file);
                        }
                    }
                >
                    <label for="import-file">"Drop a file here, or choose one"</label>
                    <input id="import-file" type="file" name="file" node_ref=file_ref
                        accept=".csv,.tsv,.txt,.xls,.xlsx,.ods"
                        on:change=move |ev| {
                            use leptos::wasm_bindgen::JsCast;
                            let input = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok());
                            if let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) {
                                on_file(file);
                            }
                        } />
                    <p class="hint">"CSV, TSV, TXT, XLS, XLSX or ODS, up to 50 MB and 200,000 rows."</p>
                </div>
                <label for="import-paste">"Or paste the list (one person per line; edit it here before checking)"</label>
                <textarea id="import-paste" name="paste" rows="6"
                    prop:value=move || paste.get()
                    on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                <button type="submit">"Check rows"</button>
            </fieldset>
        </form>
        }.into_any()}
        {move || retry_note.get().map(|note| view! { <p class="hint" role="status">{note}</p> })}
        {progress_view}
        {move || (stage.get() == Stage::Ready).then(|| view! {
            <section class="review" aria-labelledby="review-title">
                <h2 id="review-title">"3. Review"</h2>
                {totals_view}
                {header_editor}
                <label class="check">
                    <input type="checkbox"
                        prop:checked=move || only_problems.get()
                        on:change=move |ev| {
                            only_problems.set(event_target_checked(&ev));
                            scroll_top.set(0.0);
                            active.set((0, 0));
                            if let Some(grid) = grid_ref.get_untracked() {
                                grid.set_scroll_top(0);
                            }
                        } />
                    "Only rows with problems"
                </label>
                <p class="hint">"Arrow keys move between cells; Enter edits a cell, Enter again saves, Escape cancels."</p>
                {grid_view}
                <p class="visually-hidden" role="status" aria-live="polite">{move || announce.get()}</p>
                <h2>"4. Dry run and confirm"</h2>
                {dry_run_view}
            </section>
        })}
        {confirm_dialog}
    }
}

/// A select with a box above it that narrows its options as the admin types
/// (once the page runs in the browser); without JavaScript, a plain select.
#[component]
fn SearchableSelect<F>(
    id: &'static str,
    name: &'static str,
    /// What is chosen, for the search box's label: "group", "contract".
    noun: &'static str,
    placeholder: &'static str,
    options: Vec<(String, String)>,
    selected: RwSignal<String>,
    on_pick: F,
) -> impl IntoView
where
    F: Fn(String) + Send + Sync + 'static,
{
    let search = RwSignal::new(String::new());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let options = StoredValue::new(options);
    view! {
        {move || hydrated.get().then(|| view! {
            <input type="search" class="select-search" aria-controls=id
                aria-label=format!("Find a {noun} by name")
                placeholder=format!("Type to find a {noun}")
                on:input=move |ev| search.set(event_target_value(&ev)) />
        })}
        <select id=id name=name required on:change=move |ev| {
            let value = event_target_value(&ev);
            selected.set(value.clone());
            on_pick(value);
        }>
            <option value="">{placeholder}</option>
            {move || {
                let term = search.get().trim().to_lowercase();
                options.with_value(|options| {
                    options
                        .iter()
                        // The chosen one stays, so the select never changes under the admin.
                        .filter(|(value, label)| {
                            term.is_empty()
                                || label.to_lowercase().contains(&term)
                                || selected.get_untracked() == *value
                        })
                        .map(|(value, label)| {
                            let mine = value.clone();
                            view! {
                                <option value=value.clone() selected=move || selected.get() == mine>
                                    {label.clone()}
                                </option>
                            }
                        })
                        .collect_view()
                })
            }}
        </select>
    }
}

fn focus_active_cell() {
    focus_after_render(".grid [data-active='true']");
}

/// Focuses an element once the view has caught up with the last change.
fn focus_after_render(selector: &'static str) {
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        next_tick().await;
        use leptos::wasm_bindgen::JsCast;
        if let Some(cell) = leptos::web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(selector).ok().flatten())
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = cell.focus();
        }
    });
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

fn idempotency_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        if let Some(uuid) = leptos::web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.random_uuid())
        {
            return uuid;
        }
    }
    format!("preview-{:016x}", (now_ms() * 1000.0) as u64)
}

/// Lets the browser paint and handle input between chunks of work.
async fn next_tick() {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = leptos::web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

async fn read_file(file: &leptos::web_sys::File) -> Result<Vec<u8>, String> {
    #[cfg(feature = "hydrate")]
    {
        let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
            .await
            .map_err(|_| "The file could not be read. Try choosing it again.".to_owned())?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = file;
        Err("Reading files needs the browser.".into())
    }
}

/// Parses, maps and checks in the browser, yielding to the page every ~30 ms so it
/// stays responsive and the progress bar moves.
async fn check_in_chunks(
    bytes: Vec<u8>,
    file_name: Option<String>,
    kind: ImportKind,
    stage: RwSignal<Stage>,
) -> Result<(Vec<PreviewSheet>, Vec<SourceRow>, Checked), String> {
    next_tick().await;
    let options = muster_core::ParseOptions {
        header_keys: kind.header_keys(),
        ..Default::default()
    };
    let workbook = muster_core::parse_bytes(
        &bytes,
        file_name.as_deref(),
        &options,
        &muster_core::Limits::default(),
    )
    .map_err(|e| e.to_string())?;
    drop(bytes);
    stage.set(Stage::Working {
        label: "Checking rows".into(),
        percent: 30,
    });
    next_tick().await;
    let wanted = muster_core::sheets_to_check(kind, &workbook, |_| MappingOverrides::default());
    let total: usize = wanted.iter().map(|&i| workbook.sheets[i].rows.len()).sum();
    let mut checked = Checked::empty(kind, &Default::default());
    let mut sheets = Vec::new();
    let mut sources = Vec::with_capacity(total);
    let mut done = 0usize;
    let mut slice_started = now_ms();
    for (index, sheet) in workbook.sheets.into_iter().enumerate() {
        if !wanted.contains(&index) {
            continue;
        }
        let overrides = MappingOverrides::default();
        let mapping = muster_core::map_headers(kind, &sheet.headers, &overrides);
        let row_count = sheet.rows.len();
        checked.begin_sheet(&sheet.name, &mapping, row_count);
        for row in sheet.rows {
            checked.push_row(&row);
            sources.push(row);
            done += 1;
            if done.is_multiple_of(1024) && now_ms() - slice_started > 30.0 {
                stage.set(Stage::Working {
                    label: "Checking rows".into(),
                    percent: 30 + (done * 70 / total.max(1)) as u32,
                });
                next_tick().await;
                slice_started = now_ms();
            }
        }
        sheets.push(PreviewSheet {
            name: sheet.name,
            headers: sheet.headers,
            overrides,
            mapping,
            row_count,
        });
    }
    if checked.rows.is_empty() {
        return Err("The file has a header but no rows to import.".into());
    }
    Ok((sheets, sources, checked))
}
