//! The grid's keyboard: arrows and pages move the active cell, Enter or F2 edits it.

use leptos::{ev::KeyboardEvent, prelude::*};

use super::{GRID_HEIGHT, ROW_HEIGHT};
use crate::pages::import_wizard::{
    browser::{focus_after_render, scroll_into_band},
    state::WizardState,
};

/// Rows PageUp and PageDown move by.
const PAGE_ROWS: i64 = 12;

pub fn on_grid_key(state: WizardState, ev: KeyboardEvent) {
    if state.editing.get_untracked().is_some() {
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

/// Moves the active cell, keeping it in view and focused. Always handles the key.
fn move_active(state: WizardState, d_row: i64, d_col: i64) -> bool {
    let rows = state.visible_rows.with_untracked(|v| v.len());
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
    let target = state.visible_rows.with_untracked(|v| v.get(r).copied());
    let field = state
        .preview
        .with_value(|p| p.as_ref().and_then(|p| p.fields().get(c).map(|f| f.0)));
    if let (Some(row), Some(field)) = (target, field) {
        state.editing.set(Some((row as usize, field)));
        focus_after_render(".grid .cell-input");
    }
}

pub fn focus_active_cell() {
    focus_after_render(".grid [data-active='true']");
}
