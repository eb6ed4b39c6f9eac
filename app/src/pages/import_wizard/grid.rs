//! The review grid: every checked row, virtually scrolled (only the rows in view,
//! plus a margin, are in the page), moved through with the keyboard, edited in place.
//!
//! Columns are as wide as their content (within limits), so the grid fits its box
//! unless a file has many columns; then it scrolls sideways with the row number
//! and status pinned on the left and the row's actions on the right.

mod keys;
mod rows;

use leptos::prelude::*;
use muster_core::FieldId;

use self::rows::GridRows;
use super::{browser::scroll_top_of, preview::ColumnWidth, state::WizardState};

const ROW_HEIGHT: f64 = 34.0;
const GRID_HEIGHT: f64 = 476.0;
/// Rows rendered above and below the visible window, so fast scrolling never shows blanks.
const OVERSCAN: usize = 8;
/// Fixed columns (em): Row, Actions.
const ROW_EM: f64 = 3.75;
const ACTIONS_EM: f64 = 5.5;

/// The grid's columns and their widths, shared by the header and the rows.
#[derive(Clone, PartialEq)]
pub struct Layout {
    pub fields: Vec<(FieldId, &'static str, ColumnWidth)>,
    pub status: ColumnWidth,
    /// The dry run's Will column, once there is one.
    pub will: Option<f64>,
}

impl Layout {
    fn column_count(&self) -> usize {
        // Row, Status, the fields, Will, Actions.
        self.fields.len() + 3 + usize::from(self.will.is_some())
    }

    /// `style` of every row: at least as wide as its columns' starting widths,
    /// so a file with many columns scrolls sideways instead of squeezing them.
    pub fn row_style(&self) -> String {
        let fields: f64 = self.fields.iter().map(|(_, _, w)| w.start).sum();
        let will = self.will.unwrap_or(0.0);
        let total = ROW_EM + self.status.start + will + fields + ACTIONS_EM;
        format!("min-width: {total:.1}em")
    }
}

/// `style` of a cell: its starting width, and room to grow up to what its longest
/// value needs when the row has space to spare. Spare room is shared in proportion
/// to what each column lacks, so the columns cut short are made whole together;
/// `priority` below 1 makes a column wait for the others (the Status column, whose
/// messages are also shown in full below the grid).
pub fn width_style(width: ColumnWidth, priority: f64) -> String {
    if width.needed > width.start {
        format!(
            "flex: {:.2} 0 {:.1}em; max-width: {:.1}em",
            (width.needed - width.start) * priority,
            width.start,
            width.needed
        )
    } else {
        format!("flex: none; width: {:.1}em", width.start)
    }
}

/// How much sooner a field column is widened than the Status column.
pub const FIELD_PRIORITY: f64 = 1.0;
pub const STATUS_PRIORITY: f64 = 0.2;

/// `style` of a fixed-width cell.
pub fn fixed_style(width: f64) -> String {
    format!("flex: none; width: {width:.1}em")
}

#[component]
pub fn Grid() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        preview, filter, ..
    } = state;
    let visible_rows = state.visible_rows();
    let layout = Memo::new(move |_| {
        state.version.track();
        preview.with_value(|p| {
            p.as_ref().map(|p| {
                let (widths, status) = p.column_widths();
                Layout {
                    fields: p
                        .fields()
                        .into_iter()
                        .zip(widths)
                        .map(|((field, header), width)| (field, header, width))
                        .collect(),
                    status,
                    will: p.will_width(),
                }
            })
        })
    });
    view! {
        <div
            class="grid"
            role="grid"
            aria-label="Rows to import"
            aria-describedby="grid-keys"
            aria-rowcount=move || (visible_rows.with(|v| v.len()) + 1).to_string()
            aria-colcount=move || layout.with(|l| l.as_ref().map_or(0, Layout::column_count)).to_string()
            node_ref=state.grid_ref
            // A short file gets a short grid; a long one scrolls within this height.
            style=format!("max-height: {GRID_HEIGHT}px")
            on:scroll=move |ev| {
                if let Some(top) = scroll_top_of(&ev) {
                    state.scroll_top.set(top);
                }
            }
            on:keydown=move |ev| keys::on_grid_key(state, ev)
        >
            <GridHead layout />
            <div class="grid-body" style=move || format!("height: {}px", visible_rows.with(|v| v.len()) as f64 * ROW_HEIGHT)>
                <GridRows layout />
            </div>
        </div>
        {move || visible_rows.with(|v| v.is_empty()).then(|| view! {
            <p class="empty">{filter.get_untracked().empty_text()}</p>
        })}
        <ActiveRowDetail />
    }
}

/// The header row: Row, Status, the dry run's "Will", the mapped fields, actions.
#[component]
fn GridHead(layout: Memo<Option<Layout>>) -> impl IntoView {
    move || {
        layout.get().map(|layout| {
            let header_cells = layout
                .fields
                .iter()
                .map(|&(_, header, width)| {
                    view! { <div role="columnheader" class="cell" style=width_style(width, FIELD_PRIORITY)>{header}</div> }
                })
                .collect_view();
            view! {
                <div role="row" class="grid-row grid-head" aria-rowindex="1" style=layout.row_style()>
                    <div role="columnheader" class="cell num pin">"Row"</div>
                    <div role="columnheader" class="cell status-col pin" style=width_style(layout.status, STATUS_PRIORITY)>"Status"</div>
                    {layout.will.map(|width| view! {
                        <div role="columnheader" class="cell will" style=fixed_style(width)>"Will"</div>
                    })}
                    {header_cells}
                    <div role="columnheader" class="cell row-actions pin-end">"Actions"</div>
                </div>
            }
        })
    }
}

/// The problems of the row with the active cell, in full: the Status column may
/// have to cut a long message short.
#[component]
fn ActiveRowDetail() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.version.track();
        let (r, _) = state.active.get();
        let row = state.visible_rows().with(|v| v.get(r).copied())?;
        state.preview.with_value(|p| {
            p.as_ref().and_then(|p| {
                let problems = p.row_problems(row as usize);
                (!problems.is_empty()).then(|| {
                    let number = p.checked.rows[row as usize].row_number;
                    view! {
                        <p class="row-detail" id="row-detail">
                            <strong>{format!("Row {number}: ")}</strong>{problems}
                        </p>
                    }
                })
            })
        })
    }
}
