//! Join page settings (admin): turn the public link on or off, choose its
//! address, the group joiners enter, a welcome text and the email domains
//! that may join.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{action_error, ErrorMessage};
use crate::{
    groups::{list_groups, GroupSummary},
    join::{
        check_slug, get_join_settings, CheckJoinSlug, JoinSettings, SaveJoinSettings, SlugCheck,
        SLUG_MAX_CHARS,
    },
};

#[component]
pub fn JoinSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveJoinSettings>::new();
    let settings = server_data(move || save.version().get(), |_| get_join_settings());
    let groups = server_data(|| (), |_| list_groups());
    view! {
        <Title text="Join page · Muster" />
        <h1>"Join page"</h1>
        <p class="lead">
            "A public link anyone can use to join one group as a learner, without an invitation. "
            "New people confirm their email address before their account is created."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match (settings.await, groups.await) {
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorMessage error /> }.into_any(),
                    (Ok(current), Ok(groups)) => view! { <JoinSettingsForm current groups save /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JoinSettingsForm(
    current: JoinSettings,
    groups: Vec<GroupSummary>,
    save: ServerAction<SaveJoinSettings>,
) -> impl IntoView {
    let check = ServerAction::<CheckJoinSlug>::new();
    let saved_slug = current.slug.clone();
    let slug = RwSignal::new(current.slug.clone());
    // What the field says about the slug typed: checked here first (format,
    // reserved words), then by the server (taken or not).
    let slug_status = move || {
        let typed = slug.get();
        if typed.trim().is_empty() {
            return None;
        }
        if let Err(reason) = check_slug(&typed) {
            return Some((false, reason));
        }
        match check.value().get() {
            Some(Ok((checked, answer))) if checked == typed => {
                Some((answer.is_ok(), answer.message()))
            }
            Some(Err(error)) => Some((false, error.to_string())),
            _ if typed.trim().to_ascii_lowercase() == saved_slug => {
                Some((true, SlugCheck::Current.message()))
            }
            _ => Some((true, "Checking…".to_owned())),
        }
    };
    let on_slug_input = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        slug.set(value.clone());
        if check_slug(&value).is_ok() {
            check.dispatch(CheckJoinSlug { slug: value });
        }
    };
    let copy_message = RwSignal::new(String::new());
    let status_line = if current.enabled {
        "The join page is on: anyone with the link can join."
    } else {
        "The join page is off: its link shows “Page not found”."
    };
    view! {
        {current.link.clone().map(|link| view! {
            <section class="card" aria-labelledby="join-link-heading">
                <h2 id="join-link-heading">"Your link"</h2>
                <p role="status">{status_line}</p>
                <div class="copy-field">
                    <label for="join-link" class="visually-hidden">"Join page link"</label>
                    <input id="join-link" type="text" readonly value=link.clone() />
                    <button type="button" on:click=move |_| copy_link("join-link", copy_message)>"Copy link"</button>
                </div>
                <p class="help" aria-live="polite">{move || copy_message.get()}</p>
                {current.enabled.then(|| view! { <p><a href=link.clone() rel="external">"Open the join page"</a></p> })}
            </section>
        })}
        <section class="card" aria-labelledby="join-settings-heading">
            <h2 id="join-settings-heading">"Settings"</h2>
            <ActionForm action=save>
                <div class="checkbox">
                    <input id="join-enabled" type="checkbox" name="enabled" value="on" checked=current.enabled />
                    <label for="join-enabled">"Join page is on"</label>
                </div>
                <label for="join-slug">"Link"</label>
                <div class="slug-field">
                    <span aria-hidden="true">{current.link_prefix.clone()}</span>
                    <input id="join-slug" name="slug" value=current.slug.clone() maxlength=SLUG_MAX_CHARS.to_string()
                        autocomplete="off" spellcheck="false" aria-describedby="join-slug-help join-slug-status"
                        on:input=on_slug_input />
                </div>
                <p id="join-slug-help" class="help">
                    {format!("The end of the address: lowercase letters, digits and hyphens, 3 to {SLUG_MAX_CHARS} characters. The full link is {}…", current.link_prefix)}
                </p>
                <p id="join-slug-status" aria-live="polite">
                    {move || slug_status().map(|(ok, message)| view! {
                        <span class=if ok { "success" } else { "error" }>{message}</span>
                    })}
                </p>
                <label for="join-group">"Group joiners enter"</label>
                <select id="join-group" name="group_id" aria-describedby="join-group-help">
                    <option value="" selected=current.group_id.is_none()>"Choose a group"</option>
                    {groups.into_iter().map(|group| view! {
                        <option value=group.id.to_string() selected=current.group_id == Some(group.id)>{group.name}</option>
                    }).collect_view()}
                </select>
                <p id="join-group-help" class="help">"Required while the page is on. Joiners get the group's trainings."</p>
                <label for="join-welcome">"Welcome text (optional)"</label>
                <textarea id="join-welcome" name="welcome_text" rows="4" maxlength="2000">{current.welcome_text.clone()}</textarea>
                <label for="join-domains">"Allowed email domains"</label>
                <textarea id="join-domains" name="allowed_domains" rows="3" aria-describedby="join-domains-help">{current.allowed_domains.join("\n")}</textarea>
                <p id="join-domains-help" class="help">"One per line, like school.edu. Leave empty to accept any domain."</p>
                <div class="checkbox">
                    <input id="join-subdomains" type="checkbox" name="allow_subdomains" value="on" checked=current.allow_subdomains />
                    <label for="join-subdomains">"Also accept subdomains (like mail.school.edu)"</label>
                </div>
                {action_error(save.value())}
                {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="success" role="status">"Saved."</p> })}
                <button type="submit" class="primary" disabled=move || save.pending().get()>"Save"</button>
            </ActionForm>
        </section>
    }
}

/// Copies the text of an input: the clipboard API where the browser offers
/// it; otherwise (an http page that is not localhost, an old browser) the
/// text is selected and copied the old way, or left selected with a hint.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))] // Used only in the browser.
fn copy_link(input_id: &'static str, message: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(input) = window
            .document()
            .and_then(|document| document.get_element_by_id(input_id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let fallback = {
            let input = input.clone();
            let window = window.clone();
            move || {
                let _ = input.focus();
                input.select();
                let copied = window
                    .document()
                    .and_then(|document| document.dyn_into::<web_sys::HtmlDocument>().ok())
                    .and_then(|document| document.exec_command("copy").ok())
                    .unwrap_or(false);
                message.set(if copied {
                    "Link copied.".to_owned()
                } else {
                    "Copying is not available here: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.".to_owned()
                });
            }
        };
        let navigator = window.navigator();
        let has_clipboard = window.is_secure_context()
            && web_sys::js_sys::Reflect::get(&navigator, &"clipboard".into())
                .map(|value| !value.is_undefined() && !value.is_null())
                .unwrap_or(false);
        if !has_clipboard {
            fallback();
            return;
        }
        let promise = navigator.clipboard().write_text(&input.value());
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(_) => message.set("Link copied.".to_owned()),
                Err(_) => fallback(),
            }
        });
    }
}
