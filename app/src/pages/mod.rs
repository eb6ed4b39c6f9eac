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

/// A page's requests from buttons it sends from a module of its own (`#[lazy]`), loaded
/// on the first press. Each `ServerAction` puts its server function's client, its
/// encoders and its reactive state into the page's module whether or not the button is
/// pressed, and most visits to a list or an import only read it. A page keeps one
/// `Asked` for all its buttons: the request `A` and what the last one came to.
pub struct Asked<A: 'static, T: 'static> {
    version: RwSignal<u32>,
    pending: RwSignal<bool>,
    last: RwSignal<Option<(A, Result<T, AppError>)>>,
}

impl<A, T> Clone for Asked<A, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, T> Copy for Asked<A, T> {}

impl<A, T> Default for Asked<A, T>
where
    A: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<A, T> Asked<A, T>
where
    A: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    pub fn new() -> Self {
        Self {
            version: RwSignal::new(0),
            pending: RwSignal::new(false),
            last: RwSignal::new(None),
        }
    }

    /// Sends `ask` through `send` unless a request is on its way (a second press
    /// would repeat it).
    pub fn send<F>(self, ask: A, send: impl FnOnce(A) -> F + 'static)
    where
        F: std::future::Future<Output = Result<T, AppError>> + 'static,
    {
        if self.pending.get_untracked() {
            return;
        }
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            let answer = send(ask.clone()).await;
            self.last.set(Some((ask, answer)));
            self.pending.set(false);
            self.version.update(|version| *version += 1);
        });
    }

    /// Changes each time a request is answered: resources that show what requests
    /// change read it.
    pub fn version(self) -> u32 {
        self.version.get()
    }

    pub fn pending(self) -> bool {
        self.pending.get()
    }

    /// What the last answered request was and came to.
    pub fn last(self) -> Option<(A, Result<T, AppError>)> {
        self.last.get()
    }

    /// The last request's failure, if it was one of those `of` picks (a function, not a
    /// closure: every call then shares one view type, and so one copy of its code).
    pub fn error(self, of: fn(&A) -> bool) -> impl IntoView {
        move || match self.last.get() {
            Some((ask, Err(error))) if of(&ask) => Some(view! { <ErrorMessage error /> }),
            _ => None,
        }
    }
}

/// A plain form's failure: without JavaScript a form posts to its server function,
/// whose error comes back in the page's address for the function at `path` (how
/// `ActionForm` shows it).
pub fn posted_error(path: &'static str) -> impl IntoView {
    use leptos::server::ServerActionError;
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<ServerActionError>()
        .filter(|posted| posted.path() == path)
        .map(|posted| {
            let error = ServerFnUrlError::<AppError>::decode_err(posted.err());
            view! { <ErrorMessage error /> }
        })
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
