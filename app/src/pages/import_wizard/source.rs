//! Step 2, "Source": a file (chosen or dropped) or a pasted list.

use leptos::prelude::*;

use super::{
    browser::{chosen_file, dropped_file, file_in},
    check::{check_file, start_check},
    engine::Input,
    state::{Stage, WizardState},
};

#[component]
pub fn SourceStep() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let paste = state.paste;
    view! {
        <fieldset>
            <legend>"2. Source"</legend>
            <div
                class="drop-zone"
                on:dragover=move |ev| ev.prevent_default()
                on:drop=move |ev| {
                    ev.prevent_default();
                    if let Some(file) = dropped_file(&ev) {
                        check_file(state, file);
                    }
                }
            >
                <label for="import-file">"Drop a file here, or choose one"</label>
                <input id="import-file" type="file" name="file" node_ref=state.file_ref
                    accept=".csv,.tsv,.txt,.xls,.xlsx,.ods"
                    on:change=move |ev| {
                        if let Some(file) = chosen_file(&ev) {
                            check_file(state, file);
                        }
                    } />
                <p class="hint">"CSV, TSV, TXT, XLS, XLSX or ODS, up to 50 MB and 200,000 rows."</p>
                {move || state.source_name.get().map(|name| view! {
                    <p class="chosen-file" role="status">"Chosen: " <strong>{name}</strong></p>
                })}
            </div>
            <label for="import-paste">"Or paste the list (one person per line; edit it here before checking)"</label>
            <textarea id="import-paste" name="paste" rows="6"
                prop:value=move || paste.get()
                on:input=move |ev| paste.set(event_target_value(&ev))>{paste.get_untracked()}</textarea>
            <button type="submit">"Check rows"</button>
        </fieldset>
    }
}

/// "Check rows" with JavaScript: the chosen file, else the pasted list, is checked
/// here in the browser instead of being posted.
pub fn check_source(state: WizardState) {
    let text = state.paste.get_untracked();
    if let Some(file) = file_in(state.file_ref) {
        check_file(state, file);
    } else if !text.trim().is_empty() {
        start_check(state, Input::Text(text), None);
    } else {
        state.stage.set(Stage::Failed(
            "Choose a file or paste the list first.".into(),
        ));
    }
}
