//! The grid's rows in view, and their cells: shown, or edited in place.

use leptos::{ev::KeyboardEvent, prelude::*};
use muster_core::{FieldId, RowStatus, Severity};

use super::{
    fixed_style,
    keys::{after_edit, focus_active_cell, Move},
    width_style, Layout, FIELD_PRIORITY, GRID_HEIGHT, OVERSCAN, ROW_HEIGHT, STATUS_PRIORITY,
};
use crate::pages::import_wizard::{
    browser::focus_after_render,
    preview::{ColumnWidth, Preview},
    state::WizardState,
};

#[component]
pub fn GridRows(layout: Memo<Option<Layout>>) -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.version.track();
        let rows = state.visible_rows().get();
        let top = state.scroll_top.get();
        let active = state.active.get();
        let editing = state.editing.get();
        let layout = layout.get()?;
        state.preview.with_value(|p| {
            p.as_ref().map(|p| {
                let first = ((top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
                let count = (GRID_HEIGHT / ROW_HEIGHT) as usize + 2 * OVERSCAN;
                let last = (first + count).min(rows.len());
                (first..last)
                    .map(|vi| {
                        let row = rows[vi] as usize;
                        let cells = layout
                            .fields
                            .iter()
                            .enumerate()
                            .map(|(ci, &(field, header, width))| {
                                let at = CellAt {
                                    vi,
                                    ci,
                                    row,
                                    field,
                                    header,
                                    width,
                                };
                                if editing == Some((row, field)) {
                                    editing_cell(state, p, at).into_any()
                                } else {
                                    shown_cell(state, p, at, active == (vi, ci)).into_any()
                                }
                            })
                            .collect_view();
                        row_view(state, p, &layout, vi, row, cells)
                    })
                    .collect_view()
            })
        })
    }
}

/// Where a cell is: its row among the visible ones and in the preview, its column.
#[derive(Clone, Copy)]
struct CellAt {
    vi: usize,
    ci: usize,
    row: usize,
    field: FieldId,
    header: &'static str,
    width: ColumnWidth,
}

fn row_view(
    state: WizardState,
    p: &Preview,
    layout: &Layout,
    vi: usize,
    row: usize,
    cells: impl IntoView,
) -> impl IntoView {
    let checked_row = &p.checked.rows[row];
    let status = checked_row.status();
    let row_number = checked_row.row_number;
    let will = p
        .will
        .as_ref()
        .and_then(|w| w[row])
        .map(|w| w.label())
        .unwrap_or("");
    let (status_text, status_class) = match status {
        RowStatus::Ready => ("Ready", "cell status-col pin status-ready"),
        RowStatus::Warnings => ("Warning", "cell status-col pin status-warning"),
        RowStatus::Errors => ("Error", "cell status-col pin status-error"),
        RowStatus::Deleted => ("Deleted", "cell status-col pin"),
    };
    let problems = p.row_problems(row);
    let title = (!problems.is_empty()).then(|| problems.clone());
    view! {
        <div
            role="row"
            class="grid-row"
            aria-rowindex=(vi + 2).to_string()
            style=format!("transform: translateY({}px); {}", vi as f64 * ROW_HEIGHT, layout.row_style())
        >
            <div role="gridcell" class="cell num pin">{row_number}</div>
            <div role="gridcell" class=status_class style=width_style(layout.status, STATUS_PRIORITY) title=title>
                <strong>{status_text}</strong>
                {(!problems.is_empty()).then(|| view! { <span class="problem">{format!(": {problems}")}</span> })}
            </div>
            {layout.will.map(|width| view! { <div role="gridcell" class="cell will" style=fixed_style(width)>{will}</div> })}
            {cells}
            <div role="gridcell" class="cell row-actions pin-end">
                <button type="button" class="link" on:click=move |_| state.delete_row(row)
                    aria-label=format!("Delete row {row_number}")>"Delete"</button>
            </div>
        </div>
    }
}

fn cell_class(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => "cell cell-error",
        Some(Severity::Warning) => "cell cell-warning",
        None => "cell",
    }
}

fn label(p: &Preview, at: CellAt) -> String {
    format!("Row {}, {}", p.checked.rows[at.row].row_number, at.header)
}

/// A cell being edited: Enter saves and moves down, Tab saves and moves right
/// (Shift+Tab left), Escape cancels; leaving it some other way saves.
fn editing_cell(state: WizardState, p: &Preview, at: CellAt) -> impl IntoView {
    let CellAt { row, field, .. } = at;
    let issue = p.issue(row, field);
    view! {
        <div role="gridcell" class=cell_class(issue.map(|(s, _)| s)) style=width_style(at.width, FIELD_PRIORITY)>
            <input
                class="cell-input"
                aria-label=format!("Edit {}", label(p, at))
                value=p.cell(row, field).to_owned()
                autofocus
                on:keydown=move |ev: KeyboardEvent| {
                    let then = match ev.key().as_str() {
                        "Enter" => Some(Move::Down),
                        "Tab" if ev.shift_key() => Some(Move::Left),
                        "Tab" => Some(Move::Right),
                        "Escape" => None,
                        _ => return,
                    };
                    // The grid around the editor reads these keys too: Enter there
                    // would open the editor again on the cell just saved.
                    ev.stop_propagation();
                    ev.prevent_default();
                    match then {
                        Some(step) => {
                            state.commit_edit(row, field, event_target_value(&ev));
                            after_edit(state, row, step);
                        }
                        None => {
                            state.editing.set(None);
                            state.announce.set("Edit cancelled.".into());
                            focus_active_cell();
                        }
                    }
                }
                on:blur=move |ev| {
                    if state.editing.get_untracked() == Some((row, field)) {
                        state.commit_edit(row, field, event_target_value(&ev));
                    }
                }
            />
        </div>
    }
}

/// A cell as shown: its text, and its issue in its label and title.
fn shown_cell(state: WizardState, p: &Preview, at: CellAt, is_active: bool) -> impl IntoView {
    let CellAt {
        vi, ci, row, field, ..
    } = at;
    let text = p.cell(row, field).to_owned();
    let issue = p.issue(row, field);
    let class = cell_class(issue.as_ref().map(|(s, _)| *s));
    let message = issue.map(|(_, m)| m);
    let label = label(p, at);
    let row_number = p.checked.rows[row].row_number;
    view! {
        <div
            role="gridcell"
            class=class
            style=width_style(at.width, FIELD_PRIORITY)
            tabindex=if is_active { "0" } else { "-1" }
            data-active=is_active.then_some("true")
            title=message.clone().unwrap_or_else(|| text.clone())
            aria-label=match &message {
                Some(m) => format!("{label}: {text}. {m}"),
                None => format!("{label}: {text}"),
            }
            on:click=move |_| state.active.set((vi, ci))
            on:dblclick=move |_| {
                state.active.set((vi, ci));
                state.editing.set(Some((row, field)));
                focus_after_render(".grid .cell-input");
            }
            on:focus=move |_| {
                if let Some(m) = message.clone() {
                    state.announce.set(format!("Row {row_number}: {m}"));
                }
            }
        >
            <span aria-hidden="true">{text.clone()}</span>
        </div>
    }
}
