//! Step 3, "Review", shown once the rows are checked: totals, header editor, grid;
//! and step 4's dry run below it.

use leptos::prelude::*;

use super::{
    browser::scroll_to_top,
    dry_run::DryRunPanel,
    grid::Grid,
    header_editor::HeaderEditor,
    state::{Stage, WizardState},
};
use crate::pages::thousands;

#[component]
pub fn Review() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        (state.stage.get() == Stage::Ready).then(|| view! {
        <section class="review" aria-labelledby="review-title">
            <h2 id="review-title">"3. Review"</h2>
            <Totals />
            <HeaderEditor />
            <label class="check">
                <input type="checkbox"
                    prop:checked=move || state.only_problems.get()
                    on:change=move |ev| {
                        state.only_problems.set(event_target_checked(&ev));
                        state.scroll_top.set(0.0);
                        state.active.set((0, 0));
                        scroll_to_top(state.grid_ref);
                    } />
                "Only rows with problems"
            </label>
            <p class="hint">"Arrow keys move between cells; Enter edits a cell, Enter again saves, Escape cancels."</p>
            <Grid />
            <p class="visually-hidden" role="status" aria-live="polite">{move || state.announce.get()}</p>
            <h2>"4. Dry run and confirm"</h2>
            <DryRunPanel />
        </section>
    })
    }
}

/// How many rows are ready, with warnings or with errors, and the header errors.
#[component]
fn Totals() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.version.track();
        state.preview.with_value(|p| {
            p.as_ref().map(|p| {
                let t = p.checked.totals;
                let header_errors = p.header_errors();
                let ms = state.ready_ms.get();
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
    }
}
