//! Step 3, "Review", shown once the rows are checked: totals, the engine's notes,
//! header editor, the problem filter and its bulk fixes, grid; and step 4's dry
//! run below it.

use leptos::prelude::*;

use super::{
    browser::scroll_to_top,
    dry_run::DryRunPanel,
    grid::Grid,
    header_editor::HeaderEditor,
    preview::ProblemSummary,
    problems::{problem_label, RowFilter},
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
            <Notes />
            <HeaderEditor />
            <ProblemFilter />
            <p class="hint" id="grid-keys">
                "Arrow keys move between cells. Enter edits a cell; while editing, Enter saves and moves down, Tab saves and moves right, Escape cancels."
            </p>
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
                let times = state.ready.get();
                let ms = times.map(|t| t.total);
                view! {
                    <div
                        class="totals"
                        role="status"
                        aria-live="polite"
                        data-ready-ms=ms.map(|m| format!("{m:.0}"))
                        data-steps=times.map(|t| t.steps())
                    >
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

/// What the engine noticed while reading the file: how it decoded it, title rows
/// it skipped, columns it ignores or only guessed.
#[component]
fn Notes() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.mapping_version.track();
        let notes = state
            .preview
            .with_value(|p| p.as_ref().map(|p| p.notes()).unwrap_or_default());
        (!notes.is_empty()).then(|| {
            view! {
                <div class="notes" aria-labelledby="notes-title">
                    <h3 id="notes-title">"Notes on the file"</h3>
                    <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                </div>
            }
        })
    }
}

/// "Show": every row, the rows with problems, or one type of problem, each with
/// its count; and the fixes that apply to many rows at once.
#[component]
fn ProblemFilter() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let filter = state.filter;
    // Removing rows asks first, saying how many.
    let confirming = RwSignal::new(false);
    let pick = move |value: String| {
        filter.set(RowFilter::from_value(&value));
        confirming.set(false);
        state.scroll_top.set(0.0);
        state.active.set((0, 0));
        scroll_to_top(state.grid_ref);
    };
    // Only the options are redrawn as counts change, so the select keeps focus.
    let options = move || {
        state.version.track();
        let current = filter.get();
        let ProblemSummary {
            mut counts,
            rows: problem_rows,
            ..
        } = state.problems().get();
        state.preview.with_value(|p| {
            p.as_ref().map(|p| {
                if let RowFilter::Only(code) = current {
                    if !counts.iter().any(|(c, _)| *c == code) {
                        counts.push((code, 0));
                    }
                }
                [
                    (RowFilter::All, format!("All rows ({})", thousands(p.checked.totals.rows))),
                    (RowFilter::Problems, format!("Rows with problems ({})", thousands(problem_rows))),
                ]
                .into_iter()
                .chain(counts.into_iter().map(|(code, n)| {
                    (RowFilter::Only(code), format!("{} ({})", problem_label(code), thousands(n)))
                }))
                .map(|(f, text)| view! { <option value=f.value() selected=f == current>{text}</option> })
                .collect_view()
            })
        })
    };
    let fixes = move || {
        state.version.track();
        let current = filter.get();
        // The grid's own list of the rows the filter shows, not a second pass over them.
        let shown = state.visible_rows().with(Vec::len);
        let tidyable = state.problems().with(|s| s.tidyable);
        let removable = (current != RowFilter::All && shown > 0).then_some(shown);
        view! {
            {(tidyable > 0).then(|| view! {
                <button type="button" class="secondary"
                    on:click=move |_| state.bulk_change(|p| p.tidy_emails())>
                    {format!("Tidy {} invalid emails (remove spaces, lowercase)", thousands(tidyable as u32))}
                </button>
            })}
            {removable.map(|n| {
                let rows = if n == 1 { "1 row".to_owned() } else { format!("{} rows", thousands(n as u32)) };
                let question = format!("Remove the {rows} shown from the import?");
                view! {
                    {move || if confirming.get() {
                        view! {
                            <span class="confirm-inline" role="group" aria-label="Confirm removal">
                                <span>{question.clone()}</span>
                                <button type="button" class="danger" on:click=move |_| {
                                    confirming.set(false);
                                    state.bulk_change(|p| p.remove_rows(current));
                                }>{format!("Remove {rows}")}</button>
                                <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Keep them"</button>
                            </span>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="secondary" on:click=move |_| confirming.set(true)>
                                {format!("Remove the {rows} shown…")}
                            </button>
                        }.into_any()
                    }}
                }
            })}
        }
    };
    view! {
        <div class="problem-filter">
            <label for="row-filter">"Show"</label>
            <select id="row-filter" on:change=move |ev| pick(event_target_value(&ev))>
                {options}
            </select>
            {fixes}
        </div>
    }
}
