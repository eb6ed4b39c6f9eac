//! The grid's rows in view, and their cells: shown, or edited in place.

use leptos::prelude::*;
use muster_core::{FieldId, RowStatus, Severity};

use super::{keys::focus_active_cell, GRID_HEIGHT, OVERSCAN, ROW_HEIGHT};
use crate::pages::import_wizard::{
    browser::focus_after_render, preview::Preview, state::WizardState,
};

#[component]
pub fn GridRows() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.version.track();
        let rows = state.visible_rows.get();
        let top = state.scroll_top.get();
        let active = state.active.get();
        let editing = state.editing.get();
        state.preview.with_value(|p| {
            p.as_ref().map(|p| {
                let fields = p.fields();
                let first = ((top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
                let count = (GRID_HEIGHT / ROW_HEIGHT) as usize + 2 * OVERSCAN;
                let last = (first + count).min(rows.len());
                (first..last)
                    .map(|vi| {
                        let row = rows[vi] as usize;
                        let cells = fields
                            .iter()
                            .enumerate()
                            .map(|(ci, &(field, header))| {
                                let at = CellAt {
                                    vi,
                                    ci,
                                    row,
                                    field,
                                    header,
                                };
                                if editing == Some((row, field)) {
                                    editing_cell(state, p, at).into_any()
                                } else {
                                    shown_cell(state, p, at, active == (vi, ci)).into_any()
                                }
                            })
                            .collect_view();
                        row_view(state, p, vi, row, cells)
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
}

fn row_view(
    state: WizardState,
    p: &Preview,
    vi: usize,
    row: usize,
    cells: impl IntoView,
) -> impl IntoView {
    let checked_row = &p.checked.rows[row];
    let status = checked_row.status();
    let row_number = checked_row.row_number;
    let has_will = p.will.is_some();
    let will = p
        .will
        .as_ref()
        .and_then(|w| w[row])
        .map(|w| w.label())
        .unwrap_or("");
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
    let first_issue = checked_row
        .issues
        .iter()
        .max_by_key(|i| i.severity)
        .map(|i| i.message.clone());
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

/// A cell being edited: Enter saves, Escape cancels, leaving it saves.
fn editing_cell(state: WizardState, p: &Preview, at: CellAt) -> impl IntoView {
    let CellAt { row, field, .. } = at;
    let issue = p.issue(row, field);
    view! {
        <div role="gridcell" class=cell_class(issue.map(|(s, _)| s))>
            <input
                class="cell-input"
                aria-label=format!("Edit {}", label(p, at))
                value=p.cell(row, field).to_owned()
                autofocus
                on:keydown=move |ev| {
                    match ev.key().as_str() {
                        "Enter" => {
                            ev.prevent_default();
                            state.commit_edit(row, field, event_target_value(&ev));
                            focus_active_cell();
                        }
                        "Escape" => {
                            state.editing.set(None);
                            focus_active_cell();
                        }
                        _ => {}
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
            tabindex=if is_active { "0" } else { "-1" }
            data-active=is_active.then_some("true")
            title=message.clone()
            aria-label=match &message {
                Some(m) => format!("{label}: {text}. {m}"),
                None => format!("{label}: {text}"),
            }
            on:click=move |_| state.active.set((vi, ci))
            on:dblclick=move |_| {
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
