//! The review grid: every checked row, virtually scrolled (only the rows in view,
//! plus a margin, are in the page), moved through with the keyboard, edited in place.

mod keys;
mod rows;

use leptos::prelude::*;

use self::rows::GridRows;
use super::{browser::scroll_top_of, state::WizardState};

const ROW_HEIGHT: f64 = 34.0;
const GRID_HEIGHT: f64 = 476.0;
/// Rows rendered above and below the visible window, so fast scrolling never shows blanks.
const OVERSCAN: usize = 8;

#[component]
pub fn Grid() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        preview,
        visible_rows,
        only_problems,
        ..
    } = state;
    let column_count = move || {
        preview.with_value(|p| {
            p.as_ref()
                .map_or(0, |p| p.fields().len() + 3 + usize::from(p.will.is_some()))
        })
    };
    view! {
        <div
            class="grid"
            role="grid"
            aria-label="Rows to import"
            aria-rowcount=move || (visible_rows.with(|v| v.len()) + 1).to_string()
            aria-colcount=move || column_count().to_string()
            node_ref=state.grid_ref
            style=format!("height: {GRID_HEIGHT}px")
            on:scroll=move |ev| {
                if let Some(top) = scroll_top_of(&ev) {
                    state.scroll_top.set(top);
                }
            }
            on:keydown=move |ev| keys::on_grid_key(state, ev)
        >
            <GridHead />
            <div class="grid-body" style=move || format!("height: {}px", visible_rows.with(|v| v.len()) as f64 * ROW_HEIGHT)>
                <GridRows />
            </div>
        </div>
        {move || visible_rows.with(|v| v.is_empty()).then(|| view! {
            <p class="empty">{if only_problems.get_untracked() { "No rows with problems." } else { "No rows left." }}</p>
        })}
    }
}

/// The header row: the mapped fields, status, the dry run's "Will", actions.
#[component]
fn GridHead() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.version.track();
        state.preview.with_value(|p| {
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
    }
}
