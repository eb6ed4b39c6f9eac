//! Step 4's dry run: the server plans the import without writing, and says what
//! each row will do.

use leptos::prelude::*;

use super::{
    preview::{plan_counts, Preview},
    state::WizardState,
};
use crate::{imports::dry_run_import, pages::thousands, pages::ErrorMessage};

#[component]
pub fn DryRunPanel() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        dry_running,
        dry_error,
        confirming,
        ..
    } = state;
    move || {
        state.version.track();
        let result = state
            .preview
            .with_value(|p| p.as_ref().and_then(|p| p.dry_run.clone()));
        view! {
            <div class="dry-run">
                <button type="button" class="secondary"
                    disabled=move || dry_running.get()
                    on:click=move |_| run_dry_run(state)>
                    {move || if dry_running.get() { "Checking against Muster…" } else { "Dry run: see what will happen" }}
                </button>
                {move || dry_error.get().map(|error| view! { <ErrorMessage error /> })}
                {result.map(|r| view! {
                    <p class="summary-sentence" role="status">{r.summary.clone()}</p>
                    <div class="totals" aria-label="What will happen">
                        {plan_counts(&r.totals).into_iter().map(|(n, label)| view! {
                            <span><strong>{thousands(n)}</strong>{format!(" {label}")}</span>
                        }).collect_view()}
                    </div>
                    {r.sync.clone().map(|sync| view! {
                        <section class="sync-preview" aria-labelledby="sync-title">
                            <h3 id="sync-title">"Who would leave"</h3>
                            <p>{sync.sentence()}</p>
                            {sync.groups.into_iter().filter(|g| !g.leaving.is_empty()).map(|g| {
                                let shown = g.leaving.len() as i64;
                                let all = g.members_leaving + g.invitations_cancelled;
                                view! {
                                    <ul aria-label=format!("Leaving {}", g.group_name)>
                                        {g.leaving.into_iter().map(|who| view! { <li>{who}</li> }).collect_view()}
                                    </ul>
                                    {(all > shown).then(|| view! {
                                        <p class="hint">{format!("and {} more", thousands(all - shown))}</p>
                                    })}
                                }
                            }).collect_view()}
                        </section>
                    })}
                    {r.seats_warning.clone().map(|w| view! {
                        <p class="error" role="alert" id="seats-shortfall">{w}</p>
                    })}
                    // Too few seats: the server would refuse the import, so it cannot be started.
                    <button type="button" class="primary"
                        disabled=r.seats_warning.is_some()
                        aria-describedby=r.seats_warning.is_some().then_some("seats-shortfall")
                        on:click=move |_| confirming.set(true)>"Import…"</button>
                })}
            </div>
        }
    }
}

fn run_dry_run(state: WizardState) {
    let Some(payload) = state
        .preview
        .with_value(|p| p.as_ref().map(Preview::payload))
    else {
        return;
    };
    let options = state.options();
    state.dry_running.set(true);
    state.dry_error.set(None);
    leptos::task::spawn_local(async move {
        match dry_run_import(options, payload).await {
            Ok(result) => {
                state.preview.update_value(|p| {
                    if let Some(p) = p.as_mut() {
                        p.set_dry_run(result);
                    }
                });
                state.bump();
            }
            Err(error) => state.dry_error.set(Some(error)),
        }
        state.dry_running.set(false);
    });
}
