//! The grid's keyboard: arrows and pages move the active cell, Enter or F2 edits it;
//! after an edit is saved the active cell moves on, as in a spreadsheet.

use leptos::{ev::KeyboardEvent, prelude::*};

use super::{GRID_HEIGHT, ROW_HEIGHT};
use crate::pages::import_wizard::{
    browser::{focus_after_render, scroll_into_band},
    state::WizardState,
};

/// Rows PageUp and PageDown move by.
const PAGE_ROWS: i64 = 12;

pub fn on_grid_key(state: WizardState, ev: KeyboardEvent) {
    // Keys on a row's buttons (Enter on Delete) are theirs, not the grid's.
    if state.editing.get_untracked().is_some() || !on_cell(&ev) {
        return;
    }
    let handled = match ev.key().as_str() {
        "ArrowDown" => move_active(state, 1, 0),
        "ArrowUp" => move_active(state, -1, 0),
        "ArrowRight" => move_active(state, 0, 1),
        "ArrowLeft" => move_active(state, 0, -1),
        "PageDown" => move_active(state, PAGE_ROWS, 0),
        "PageUp" => move_active(state, -PAGE_ROWS, 0),
        "Enter" | "F2" => {
            edit_active(state);
            true
        }
        _ => false,
    };
    if handled {
        ev.prevent_default();
    }
}

fn on_cell(ev: &KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .is_some_and(|e| e.get_attribute("role").as_deref() == Some("gridcell"))
}

/// Moves the active cell, keeping it in view and focused. Always handles the key.
fn move_active(state: WizardState, d_row: i64, d_col: i64) -> bool {
    let rows = state.visible_rows().with_untracked(|v| v.len());
    let cols = state
        .preview
        .with_value(|p| p.as_ref().map_or(0, |p| p.fields().len()));
    if rows == 0 || cols == 0 {
        return true;
    }
    let (r, c) = state.active.get_untracked();
    let r = (r as i64 + d_row).clamp(0, rows as i64 - 1) as usize;
    let c = (c as i64 + d_col).clamp(0, cols as i64 - 1) as usize;
    state.active.set((r, c));
    // The header row stays on top of the grid's scrolled body.
    scroll_into_band(
        state.grid_ref,
        r as f64 * ROW_HEIGHT,
        ROW_HEIGHT,
        GRID_HEIGHT - ROW_HEIGHT,
    );
    focus_active_cell();
    true
}

fn edit_active(state: WizardState) {
    let (r, c) = state.active.get_untracked();
    let target = state.visible_rows().with_untracked(|v| v.get(r).copied());
    let field = state
        .preview
        .with_value(|p| p.as_ref().and_then(|p| p.fields().get(c).map(|f| f.0)));
    if let (Some(row), Some(field)) = (target, field) {
        state.editing.set(Some((row as usize, field)));
        focus_after_render(".grid .cell-input");
    }
}

/// Where the active cell goes once an edit is saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Down,
    Right,
    Left,
}

/// Moves on from the cell of `row` whose edit was just saved. A fixed row may have
/// left a "problems only" list; then the next row has already taken its place.
pub fn after_edit(state: WizardState, row: usize, step: Move) {
    let still_listed = state
        .visible_rows()
        .with_untracked(|v| v.iter().position(|&r| r as usize == row));
    let (r, c) = state.active.get_untracked();
    let cols = state
        .preview
        .with_value(|p| p.as_ref().map_or(0, |p| p.fields().len())) as i64;
    let r = still_listed.unwrap_or(r);
    state.active.set((r, c));
    let stays = still_listed.is_none();
    match step {
        Move::Down => {
            move_active(state, if stays { 0 } else { 1 }, 0);
        }
        // Past the last column Tab goes on to the next row's first cell.
        Move::Right if c as i64 + 1 >= cols => {
            state.active.set((r, 0));
            move_active(state, if stays { 0 } else { 1 }, 0);
        }
        Move::Right => {
            move_active(state, 0, 1);
        }
        Move::Left => {
            move_active(state, 0, -1);
        }
    }
}

pub fn focus_active_cell() {
    focus_after_render(".grid [data-active='true']");
}
