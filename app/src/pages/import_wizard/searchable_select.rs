//! A select that narrows as the admin types, for the group and contract pickers.

use leptos::prelude::*;

/// A select with a box above it that narrows its options as the admin types
/// (once the page runs in the browser); without JavaScript, a plain select.
#[component]
pub fn SearchableSelect<F>(
    id: &'static str,
    name: &'static str,
    /// What is chosen, for the search box's label: "group", "contract".
    noun: &'static str,
    placeholder: &'static str,
    options: Vec<(String, String)>,
    selected: RwSignal<String>,
    on_pick: F,
) -> impl IntoView
where
    F: Fn(String) + Send + Sync + 'static,
{
    let search = RwSignal::new(String::new());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let options = StoredValue::new(options);
    view! {
        {move || hydrated.get().then(|| view! {
            <input type="search" class="select-search" aria-controls=id
                aria-label=format!("Find a {noun} by name")
                placeholder=format!("Type to find a {noun}")
                on:input=move |ev| search.set(event_target_value(&ev)) />
        })}
        <select id=id name=name required on:change=move |ev| {
            let value = event_target_value(&ev);
            selected.set(value.clone());
            on_pick(value);
        }>
            <option value="">{placeholder}</option>
            {move || {
                let term = search.get().trim().to_lowercase();
                options.with_value(|options| {
                    options
                        .iter()
                        // The chosen one stays, so the select never changes under the admin.
                        .filter(|(value, label)| {
                            term.is_empty()
                                || label.to_lowercase().contains(&term)
                                || selected.get_untracked() == *value
                        })
                        .map(|(value, label)| {
                            let mine = value.clone();
                            view! {
                                <option value=value.clone() selected=move || selected.get() == mine>
                                    {label.clone()}
                                </option>
                            }
                        })
                        .collect_view()
                })
            }}
        </select>
    }
}
