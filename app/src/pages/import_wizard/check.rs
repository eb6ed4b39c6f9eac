//! The instant check: the file is read by the engine's readers in their Web Worker, then
//! mapped and checked on the page by the engine compiled to WebAssembly, in slices so the
//! page stays responsive.

use leptos::{prelude::*, web_sys::File};
use muster_core::{parse::wire::WireWorkbook, Checked, ImportKind, MappingOverrides, SourceRow};

use super::{
    browser::{idempotency_key, next_tick, now_ms},
    engine::{self, Input},
    preview::{Preview, PreviewSheet},
    state::{CheckTimes, Stage, WizardState},
};

/// Checks a file the admin chose or dropped.
pub fn check_file(state: WizardState, file: File) {
    let name = file.name();
    start_check(state, Input::File(file), Some(name));
}

thread_local! {
    /// The newest check; an older one still running stops at its next step.
    static CURRENT_CHECK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn is_current(check: u64) -> bool {
    CURRENT_CHECK.with(|current| current.get() == check)
}

/// Makes the check in progress, if any, stop at its next step without showing anything
/// (the admin chose another kind: its rows would be checked for the wrong one).
pub fn cancel_check() {
    CURRENT_CHECK.with(|current| current.set(current.get() + 1));
}

/// Checks a file (or pasted text, without a file name) and shows the preview.
pub fn start_check(state: WizardState, input: Input, file_name: Option<String>) {
    let check = CURRENT_CHECK.with(|current| {
        current.set(current.get() + 1);
        current.get()
    });
    let kind = state.kind.get_untracked();
    // A file's name is worth repeating (a drop shows no name of its own); a paste's is not.
    state.source_name.set(file_name.clone());
    state.stage.set(Stage::Working {
        label: "Reading".into(),
        percent: 5,
    });
    state.ready.set(None);
    // Counted from here, so fetching the check's module (if the admin was quicker than the
    // background fetch) is part of the time shown.
    let started = now_ms();
    leptos::task::spawn_local(check_and_show(
        state, input, file_name, kind, check, started,
    ));
}

/// Reading, checking and drawing the preview: the engine's mapping and validation, which
/// the wizard's first screen does not need, so they are a module of their own (`#[lazy]`),
/// fetched in the background as the wizard opens (see `NewImportPage`).
#[lazy]
pub(super) async fn check_and_show(
    state: WizardState,
    input: Input,
    file_name: Option<String>,
    kind: ImportKind,
    check: u64,
    started: f64,
) {
    let display_name = file_name
        .clone()
        .unwrap_or_else(|| "Pasted list".to_owned());
    let mut times = CheckTimes::default();
    let outcome = check_in_chunks(input, file_name, kind, state.stage, check, &mut times).await;
    if !is_current(check) {
        return;
    }
    match outcome {
        Ok((sheets, sources, checked, read_notes)) => {
            let preview = Preview {
                kind,
                file_name: display_name,
                sheets,
                sources,
                checked,
                will: None,
                dry_run: None,
                idempotency_key: idempotency_key(),
                read_notes,
            };
            // The last slice of checking ran in this task: drawing gets its own.
            next_tick().await;
            if !is_current(check) {
                return;
            }
            let showing = now_ms();
            state.show_preview(preview);
            // The views redraw once this task ends; the next one starts after.
            next_tick().await;
            times.show = now_ms() - showing;
            times.total = now_ms() - started;
            if is_current(check) {
                state.ready.set(Some(times));
            }
        }
        Err(message) => state.stage.set(Stage::Failed(message)),
    }
}

/// The check's progress bar, or why it failed.
#[component]
pub fn CheckProgress() -> impl IntoView {
    let stage = expect_context::<WizardState>().stage;
    move || match stage.get() {
        Stage::Working { label, percent } => Some(
            view! {
                <div class="check-progress">
                    <label for="check-progress">{format!("{label}…")}</label>
                    <progress id="check-progress" max="100" value=percent></progress>
                </div>
            }
            .into_any(),
        ),
        Stage::Failed(message) => {
            Some(view! { <p class="error" role="alert">{message}</p> }.into_any())
        }
        _ => None,
    }
}

/// Reads in the engine's worker, then maps and checks on the page, yielding every ~30 ms
/// so it stays responsive and the progress bar moves. Rows are decoded from the worker's
/// answer as they are checked, so no step handles the whole file at once.
async fn check_in_chunks(
    input: Input,
    file_name: Option<String>,
    kind: ImportKind,
    stage: RwSignal<Stage>,
    check: u64,
    times: &mut CheckTimes,
) -> Result<(Vec<PreviewSheet>, Vec<SourceRow>, Checked, Vec<String>), String> {
    const OVERTAKEN: &str = "A newer file is being checked.";
    let asked = now_ms();
    let read = engine::read(input, file_name, kind.header_keys()).await?;
    times.read = now_ms() - asked;
    times.file = read.file_ms;
    times.parse = read.parse_ms;
    let checking = now_ms();
    let decoded = WireWorkbook::decode(&read.wire).map_err(|e| e.to_string())?;
    let read_notes = decoded
        .workbook
        .warnings
        .iter()
        .map(|w| w.message.clone())
        .collect();
    stage.set(Stage::Working {
        label: "Checking rows".into(),
        percent: 30,
    });
    next_tick().await;
    if !is_current(check) {
        return Err(OVERTAKEN.into());
    }
    let wanted =
        muster_core::sheets_to_check(kind, &decoded.workbook, |_| MappingOverrides::default());
    // The same words as the engine uses everywhere (CLI, upload, API).
    if let Some(error) = decoded.no_data_rows(&wanted) {
        return Err(error.to_string());
    }
    let total: usize = wanted.iter().map(|&i| decoded.row_counts[i]).sum();
    let mut checked = Checked::empty(kind, &Default::default());
    let mut sheets = Vec::new();
    let mut sources = Vec::with_capacity(total);
    let mut done = 0usize;
    let mut slice_started = now_ms();
    for (index, sheet) in decoded.workbook.sheets.iter().enumerate() {
        if !wanted.contains(&index) {
            continue;
        }
        let overrides = MappingOverrides::default();
        let mapping = muster_core::map_headers(kind, &sheet.headers, &overrides);
        let row_count = decoded.row_counts[index];
        checked.begin_sheet(&sheet.name, &mapping, row_count);
        for row in decoded.rows(index) {
            let row = row.map_err(|e| e.to_string())?;
            checked.push_row(&row);
            sources.push(row);
            done += 1;
            if done.is_multiple_of(256) && now_ms() - slice_started > 30.0 {
                if !is_current(check) {
                    return Err(OVERTAKEN.into());
                }
                stage.set(Stage::Working {
                    label: "Checking rows".into(),
                    percent: 30 + (done * 70 / total.max(1)) as u32,
                });
                next_tick().await;
                if !is_current(check) {
                    return Err(OVERTAKEN.into());
                }
                slice_started = now_ms();
            }
        }
        sheets.push(PreviewSheet {
            name: sheet.name.clone(),
            headers: sheet.headers.clone(),
            overrides,
            mapping,
            row_count,
            title_rows: sheet.header_row_index,
        });
    }
    if checked.rows.is_empty() {
        return Err("The file has a header but no rows to import.".into());
    }
    times.check = now_ms() - checking;
    Ok((sheets, sources, checked, read_notes))
}
