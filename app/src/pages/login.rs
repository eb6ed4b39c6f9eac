use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::action_error;
use crate::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let reset = move || query.read().get("reset").is_some();
    view! {
        <Title text="Log in · Muster" />
        <main class="narrow card">
            <h1>"Log in to Muster"</h1>
            <Show when=reset>
                <p class="success" role="status">"Your password has been changed and you have been signed out everywhere. Log in with your new password."</p>
            </Show>
            <ActionForm action=login>
                <label for="email">"Email or username"</label>
                <input id="email" name="email" type="text" inputmode="email" required autocomplete="username" autocapitalize="none" spellcheck="false" />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required autocomplete="current-password" />
                {action_error(login.value())}
                <button type="submit" class="primary" disabled=move || login.pending().get()>"Log in"</button>
            </ActionForm>
            <p><a href="/forgot-password">"Forgot password?"</a></p>
        </main>
    }
}
