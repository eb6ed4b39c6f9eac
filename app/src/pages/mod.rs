//! One module per page.

pub mod activity;
pub mod admin_shell;
pub mod api_tokens;
pub mod contracts;
pub mod group_detail;
pub mod groups;
pub mod home;
pub mod import_wizard;
pub mod imports;
pub mod invitations;
pub mod join_settings;
pub mod learner;
pub mod login;
pub mod mailbox;
pub mod not_found;
pub mod people;
pub mod webhooks;

use leptos::prelude::*;

use crate::error::AppError;

/// A server function's failure, announced to screen readers.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

/// The outcome of the last submission of a form, if it failed.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(error)) => Some(view! { <ErrorMessage error /> }),
        _ => None,
    }
}

/// Previous / next links for a server-paginated list; `link` builds a page's URL.
#[component]
pub fn Pager(current: i64, pages: i64, link: impl Fn(i64) -> String + 'static) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {(current > 1).then(|| view! { <a href=link(current - 1)>"← Previous"</a> })}
            <span>{format!("Page {current} of {pages}")}</span>
            {(current < pages).then(|| view! { <a href=link(current + 1)>"Next →"</a> })}
        </nav>
    }
}

/// A row's checkbox in a list with bulk actions: adds or removes `id` in `selected`.
#[component]
pub fn SelectRow(id: i64, label: String, selected: RwSignal<Vec<i64>>) -> impl IntoView {
    view! {
        <input
            type="checkbox"
            aria-label=label
            prop:checked=move || selected.read().contains(&id)
            on:change=move |ev| {
                let on = event_target_checked(&ev);
                selected.update(|chosen| {
                    chosen.retain(|other| *other != id);
                    if on {
                        chosen.push(id);
                    }
                });
            }
        />
    }
}

/// The header checkbox that selects (or clears) every selectable row of the page.
#[component]
pub fn SelectPage(
    label: &'static str,
    ids: Vec<i64>,
    selected: RwSignal<Vec<i64>>,
) -> impl IntoView {
    let page_ids = StoredValue::new(ids);
    let all_checked = move || {
        page_ids.with_value(|ids| {
            !ids.is_empty() && {
                let chosen = selected.read();
                ids.iter().all(|id| chosen.contains(id))
            }
        })
    };
    view! {
        <input
            type="checkbox"
            aria-label=label
            disabled=page_ids.with_value(|ids| ids.is_empty())
            prop:checked=all_checked
            on:change=move |ev| {
                let on = event_target_checked(&ev);
                let ids = page_ids.get_value();
                selected.update(|chosen| {
                    chosen.retain(|id| !ids.contains(id));
                    if on {
                        chosen.extend(ids);
                    }
                });
            }
        />
    }
}

/// Percent-encodes a value for a URL query string.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// 1234567 → "1,234,567", as the totals and counts show numbers.
pub fn thousands(n: impl Into<i64>) -> String {
    let n: i64 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }
}
