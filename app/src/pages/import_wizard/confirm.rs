//! The confirm dialog: the dry run's sentence, then the import starts and the page
//! moves to its progress.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

use super::state::WizardState;
use crate::{
    imports::{create_import, people},
    pages::{thousands, ErrorMessage},
};

#[component]
pub fn ConfirmDialog() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        confirming,
        submitting,
        submit_error,
        leaving_typed,
        ..
    } = state;
    let navigate = use_navigate();
    move || {
        let navigate = navigate.clone();
        confirming.get().then(move || {
            state.version.track();
            let summary = state
                .preview
                .with_value(|p| p.as_ref().and_then(|p| p.dry_run.as_ref().map(|d| d.summary.clone())))
                .unwrap_or_default();
            let errors = state
                .preview
                .with_value(|p| p.as_ref().map_or(0, |p| p.checked.totals.with_errors));
            // A sync that removes more than the organization's share of a
            // group runs only once the admin types how many will leave.
            let guard = state
                .preview
                .with_value(|p| {
                    p.as_ref()
                        .and_then(|p| p.dry_run.as_ref())
                        .and_then(|d| d.sync.as_ref())
                        .filter(|s| s.trips_guard())
                        .map(|s| (s.leaving(), s.threshold_percent))
                });
            // A dialog drawn after the page loaded gets no autofocus from
            // the browser: the number to type takes the focus by hand.
            let typed_ref = NodeRef::<leptos::html::Input>::new();
            Effect::new(move |_| {
                if let Some(input) = typed_ref.get() {
                    let _ = input.focus();
                }
            });
            let typed_ok = move || match guard {
                Some((leaving, _)) => leaving_typed.get().trim() == leaving.to_string(),
                None => true,
            };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-summary">
                        <h2 id="confirm-title">"Confirm the import"</h2>
                        <p id="confirm-summary">{summary}</p>
                        {(errors > 0).then(|| view! {
                            <p class="warning">{format!("{} rows with errors will be reported as failed and not imported.", thousands(errors))}</p>
                        })}
                        {guard.map(|(leaving, threshold)| view! {
                            <p class="warning" id="sync-guard">{format!(
                                "This sync removes {}, more than {threshold}% of a group. Type the number of people who will leave to confirm.",
                                people(leaving)
                            )}</p>
                            <label for="leaving-typed">"Number of people who will leave"</label>
                            <input id="leaving-typed" node_ref=typed_ref type="text" inputmode="numeric" autocomplete="off"
                                aria-describedby="sync-guard"
                                prop:value=move || leaving_typed.get()
                                on:input=move |ev| leaving_typed.set(event_target_value(&ev)) />
                        })}
                        {move || submit_error.get().map(|error| view! { <ErrorMessage error /> })}
                        <div class="actions">
                            <button type="button" autofocus=guard.is_none() disabled=move || submitting.get() || !typed_ok()
                                on:click=move |_| submit(state, navigate.clone())>
                                {move || if submitting.get() { "Starting…" } else { "Confirm" }}
                            </button>
                            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Back"</button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}

/// Starts the import once; on success the page moves to the import's progress.
fn submit(state: WizardState, navigate: impl Fn(&str, NavigateOptions) + 'static) {
    if state.submitting.get_untracked() {
        return;
    }
    let Some((payload, key)) = state
        .preview
        .with_value(|p| p.as_ref().map(|p| (p.payload(), p.idempotency_key.clone())))
    else {
        return;
    };
    let options = state.options();
    let leaving = state.leaving_typed.get_untracked().trim().parse().ok();
    state.submitting.set(true);
    state.submit_error.set(None);
    leptos::task::spawn_local(async move {
        match create_import(options, payload, key, leaving).await {
            Ok(id) => navigate(&format!("/admin/imports/{id}"), Default::default()),
            Err(error) => {
                state.submit_error.set(Some(error));
                state.submitting.set(false);
            }
        }
    });
}
