//! `/confirm-email/{token}`: a new organization's first admin proves their
//! address. The button posts to `/confirm-email/{token}/confirm`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::links::FormError;

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    super::keep_token_private();
    let params = use_params_map();
    let query = use_query_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    let done = query.read_untracked().get("done").is_some();
    let error = query
        .read_untracked()
        .get("error")
        .map(|code| FormError::from_code(&code));
    let action = format!("/confirm-email/{token}/confirm");
    view! {
        <Title text="Confirm your email · Muster" />
        <main class="narrow card">
            {if done {
                view! {
                    <h1>"Your email is confirmed"</h1>
                    <p>"Thank you. "<a href="/">"Continue to Muster"</a></p>
                }.into_any()
            } else {
                view! {
                    <h1>"Confirm your email"</h1>
                    <p class="lead">"Confirm that this address is yours, so that other organizations on Muster can recognise you."</p>
                    {error.map(|error| view! { <p class="error" role="alert">{error.message()}</p> })}
                    <form method="post" action=action>
                        <button type="submit" class="primary">"Confirm my email"</button>
                    </form>
                }.into_any()
            }}
        </main>
    }
}
