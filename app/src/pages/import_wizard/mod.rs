//! New import: what, source, an instant in-browser check of every row (the engine
//! compiled to WebAssembly; its file readers in a Web Worker), fixes in place, a dry run
//! on the server, confirm.
//!
//! Without JavaScript the same form posts the file to `/admin/imports/upload`,
//! where the server runs the same engine and shows the preview for confirmation.
//!
//! The steps are components around one [`state::WizardState`], provided by the page.

mod browser;
mod check;
mod confirm;
mod dry_run;
mod engine;
mod grid;
mod header_editor;
mod kind;
mod preview;
mod problems;
mod review;
mod searchable_select;
mod source;
mod state;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use self::{
    check::{start_check, CheckProgress},
    confirm::ConfirmDialog,
    engine::Input,
    kind::KindStep,
    review::Review,
    source::{check_source, SourceStep},
    state::{RowViews, Stage, WizardState},
};
use crate::imports::retry_rows;

#[component]
pub fn NewImportPage() -> impl IntoView {
    let query = use_query_map();
    let upload_error = move || query.read().get("error").filter(|e| !e.is_empty());
    let state = WizardState::provide();
    // After a refused upload (without JavaScript) the address carries back what
    // the admin chose and typed.
    query.with_untracked(|q| state.restore_from(|name| q.get(name)));
    let file_to_choose = move || query.read().get("file_name").filter(|n| !n.is_empty());
    // Effects run only in the browser: the form says when it checks rows itself.
    let hydrated = RwSignal::new(false);
    // The file reader warmed up and the later steps' code loaded: from then on a chosen
    // file is checked without waiting for either (the preview benchmark waits for it).
    let engine_warm = RwSignal::new(false);
    let later_steps = RwSignal::new(None);
    Effect::new(move |_| {
        hydrated.set(true);
        engine::warm_up(engine_warm);
        // The code of the later steps comes while the admin picks a file.
        later_steps.set(Some((
            lazy_preload!(check::check_and_show),
            lazy_preload!(review_and_confirm),
        )));
    });
    let tools_ready = move || {
        engine_warm.get()
            && later_steps
                .get()
                .is_some_and(|(check, review)| check.get() && review.get())
    };
    Effect::new(move |_| {
        if let Some(id) =
            query.with_untracked(|q| q.get("retry").and_then(|v| v.parse::<i64>().ok()))
        {
            leptos::task::spawn_local(load_retry(state, id));
        }
    });
    let retry_note = state.retry_note;
    // Once there is a preview, the review's code is fetched (if the preload has not
    // brought it yet) and stays: it shows and hides itself with the stage from then on.
    let reviewed = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || state.stage.with(|stage| *stage == Stage::Ready)
    });

    view! {
        <Title text="New import · Muster" />
        <h1>"New import"</h1>
        {move || upload_error().map(|message| view! {
            <div class="error" role="alert">
                <p>{message}</p>
                {file_to_choose().map(|name| view! {
                    <p>{format!("Your choices are kept; choose {name} again (browsers do not let a page keep a file).")}</p>
                })}
            </div>
        })}
        {view! {
        <form
            class="wizard"
            data-ready=move || hydrated.get().then_some("true")
            data-tools-ready=move || tools_ready().then_some("true")
            method="post"
            action="/admin/imports/upload"
            enctype="multipart/form-data"
            on:submit=move |ev| {
                // With JavaScript the rows are checked here, in the browser.
                ev.prevent_default();
                check_source(state);
            }
        >
            <KindStep />
            <SourceStep />
        </form>
        }.into_any()}
        {move || retry_note.get().map(|note| view! { <p class="hint" role="status">{note}</p> })}
        <CheckProgress />
        {move || reviewed.get().then(|| Suspend::new(review_and_confirm()))}
    }
}

/// Steps 3 and 4 (review, grid, dry run, confirm) are a module of their own: the first
/// screen (what, and where from) needs none of their code.
#[lazy]
fn review_and_confirm() -> AnyView {
    RowViews::provide(expect_context::<WizardState>());
    view! {
        <Review />
        <ConfirmDialog />
    }
    .into_any()
}

/// "Fix and retry": an earlier import's failed rows and options, loaded into the wizard.
/// A module of its own: only a retry needs it.
#[lazy]
async fn load_retry(state: WizardState, id: i64) {
    match retry_rows(id).await {
        Ok(retry) => {
            let o = retry.options;
            state.kind.set(o.kind);
            state
                .group_id
                .set(o.group_id.map(|g| g.to_string()).unwrap_or_default());
            state
                .contract_id
                .set(o.contract_id.map(|c| c.to_string()).unwrap_or_default());
            state.send_emails.set(o.send_emails);
            state.auto_invite.set(o.auto_invite);
            state
                .expiry_days
                .set(o.expiry_days.map(|d| d.to_string()).unwrap_or_default());
            state.retry_note.set(Some(format!(
                "The {} failed rows of import #{id}: fix them below, then dry run and confirm.",
                retry.rows
            )));
            start_check(state, Input::Text(retry.csv), Some(o.source_name));
        }
        Err(error) => state.stage.set(Stage::Failed(error.to_string())),
    }
}
