//! The confirm dialog: the dry run's sentence, then the import starts and the page
//! moves to its progress.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

use super::state::WizardState;
use crate::{
    imports::create_import,
    pages::{thousands, ErrorMessage},
};

#[component]
pub fn ConfirmDialog() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        confirming,
        submitting,
        submit_error,
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
    state.submitting.set(true);
    state.submit_error.set(None);
    leptos::task::spawn_local(async move {
        match create_import(options, payload, key).await {
            Ok(id) => navigate(&format!("/admin/imports/{id}"), Default::default()),
            Err(error) => {
                state.submit_error.set(Some(error));
                state.submitting.set(false);
            }
        }
    });
}
