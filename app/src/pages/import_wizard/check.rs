//! The instant check: the file is parsed, mapped and checked in the browser by the
//! engine compiled to WebAssembly, in slices so the page stays responsive.

use leptos::{prelude::*, web_sys::File};
use muster_core::{Checked, ImportKind, MappingOverrides, SourceRow};

use super::{
    browser::{idempotency_key, next_tick, now_ms, read_file},
    preview::{Preview, PreviewSheet},
    state::{Stage, WizardState},
};

/// Checks a file the admin chose or dropped.
pub fn check_file(state: WizardState, file: File) {
    let name = file.name();
    leptos::task::spawn_local(async move {
        match read_file(&file).await {
            Ok(bytes) => start_check(state, bytes, Some(name)),
            Err(message) => state.stage.set(Stage::Failed(message)),
        }
    });
}

/// Checks a file's bytes (or pasted text, without a file name) and shows the preview.
pub fn start_check(state: WizardState, bytes: Vec<u8>, file_name: Option<String>) {
    let kind = state.kind.get_untracked();
    let display_name = file_name
        .clone()
        .unwrap_or_else(|| "Pasted list".to_owned());
    // A file's name is worth repeating (a drop shows no name of its own); a paste's is not.
    state.source_name.set(file_name.clone());
    state.stage.set(Stage::Working {
        label: "Reading".into(),
        percent: 5,
    });
    state.ready_ms.set(None);
    leptos::task::spawn_local(async move {
        let started = now_ms();
        match check_in_chunks(bytes, file_name, kind, state.stage).await {
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
                state.show_preview(preview, started);
            }
            Err(message) => state.stage.set(Stage::Failed(message)),
        }
    });
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

/// Parses, maps and checks in the browser, yielding to the page every ~30 ms so it
/// stays responsive and the progress bar moves.
async fn check_in_chunks(
    bytes: Vec<u8>,
    file_name: Option<String>,
    kind: ImportKind,
    stage: RwSignal<Stage>,
) -> Result<(Vec<PreviewSheet>, Vec<SourceRow>, Checked, Vec<String>), String> {
    next_tick().await;
    let options = muster_core::ParseOptions {
        header_keys: kind.header_keys(),
        ..Default::default()
    };
    let workbook = muster_core::parse_bytes(
        &bytes,
        file_name.as_deref(),
        &options,
        &muster_core::Limits::default(),
    )
    .map_err(|e| e.to_string())?;
    drop(bytes);
    let read_notes = workbook
        .warnings
        .iter()
        .map(|w| w.message.clone())
        .collect();
    stage.set(Stage::Working {
        label: "Checking rows".into(),
        percent: 30,
    });
    next_tick().await;
    let wanted = muster_core::sheets_to_check(kind, &workbook, |_| MappingOverrides::default());
    // The same words as the engine uses everywhere (CLI, upload, API).
    if let Some(error) =
        muster_core::parse::no_data_rows(wanted.iter().map(|&i| &workbook.sheets[i]))
    {
        return Err(error.to_string());
    }
    let total: usize = wanted.iter().map(|&i| workbook.sheets[i].rows.len()).sum();
    let mut checked = Checked::empty(kind, &Default::default());
    let mut sheets = Vec::new();
    let mut sources = Vec::with_capacity(total);
    let mut done = 0usize;
    let mut slice_started = now_ms();
    for (index, sheet) in workbook.sheets.into_iter().enumerate() {
        if !wanted.contains(&index) {
            continue;
        }
        let overrides = MappingOverrides::default();
        let mapping = muster_core::map_headers(kind, &sheet.headers, &overrides);
        let row_count = sheet.rows.len();
        checked.begin_sheet(&sheet.name, &mapping, row_count);
        for row in sheet.rows {
            checked.push_row(&row);
            sources.push(row);
            done += 1;
            if done.is_multiple_of(1024) && now_ms() - slice_started > 30.0 {
                stage.set(Stage::Working {
                    label: "Checking rows".into(),
                    percent: 30 + (done * 70 / total.max(1)) as u32,
                });
                next_tick().await;
                slice_started = now_ms();
            }
        }
        sheets.push(PreviewSheet {
            name: sheet.name,
            headers: sheet.headers,
            overrides,
            mapping,
            row_count,
            title_rows: sheet.header_row_index,
        });
    }
    if checked.rows.is_empty() {
        return Err("The file has a header but no rows to import.".into());
    }
    Ok((sheets, sources, checked, read_notes))
}
