//! The header editor: which field each column of each sheet fills.

use leptos::prelude::*;
use muster_core::mapping::ColumnOverride;

use super::state::WizardState;
use crate::pages::ErrorMessage;

#[component]
pub fn HeaderEditor() -> impl IntoView {
    let state = expect_context::<WizardState>();
    move || {
        state.mapping_version.track();
        state.preview.with_value(|p| {
            p.as_ref().map(|p| {
                let kind_now = p.kind;
                p.sheets.iter().enumerate().map(|(sheet_index, sheet)| {
                    let columns = sheet.mapping.columns.clone();
                    let remembered = state.remembered.with_untracked(|all| {
                        all.iter().find(|(index, _)| *index == sheet_index).map(|(_, found)| found.clone())
                    });
                    view! {
                        <fieldset class="header-editor">
                            <legend>{if p.sheets.len() > 1 { format!("Columns of tab {}", sheet.name) } else { "Columns".to_owned() }}</legend>
                            {remembered.map(|found| {
                                let id = found.id;
                                view! {
                                    <p class="remembered">
                                        {format!("{} — ", found.note())}
                                        <button type="button" aria-label="Forget this remembered column mapping"
                                            on:click=move |_| state.forget_remembered(sheet_index, id)>"Forget"</button>
                                    </p>
                                    {move || state.remembered_error.get().map(|error| view! { <ErrorMessage error /> })}
                                }
                            })}
                            {columns.into_iter().map(|c| {
                                let id = format!("map-{sheet_index}-{}", c.source_index);
                                let current = c.field;
                                let confidence = (c.field.is_some() && c.confidence < 1.0)
                                    .then(|| format!("{:.0}% sure", c.confidence * 100.0));
                                let source_index = c.source_index;
                                view! {
                                    <div class="map-row">
                                        <label for=id.clone()>{format!("“{}”", c.header)}</label>
                                        <select id=id on:change=move |ev| {
                                            let value = event_target_value(&ev);
                                            let choice = kind_now
                                                .columns()
                                                .iter()
                                                .find(|col| col.field.as_str() == value)
                                                .map(|col| ColumnOverride::Field(col.field))
                                                .unwrap_or(ColumnOverride::Ignore);
                                            state.choose_column(sheet_index, source_index, choice);
                                        }>
                                            <option value="" selected=current.is_none()>"Ignore this column"</option>
                                            {kind_now.columns().iter().map(|col| view! {
                                                <option value=col.field.as_str() selected=current == Some(col.field)>{col.header}</option>
                                            }).collect_view()}
                                        </select>
                                        {confidence.map(|c| view! { <span class="confidence">{c}</span> })}
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                    }
                }).collect_view()
            })
        })
    }
}
