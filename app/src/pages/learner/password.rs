//! Passwords: "Forgot password?" (`/forgot-password`), the emailed link's
//! page (`/reset-password/{token}`) and changing one's password
//! (`/account/password`). Rendered on the server; their forms are plain
//! HTML posts (see `auth::form`) and work without JavaScript.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::super::ErrorMessage;
use crate::{
    auth::{get_bootstrap, lookup_password_reset, ResetLookup},
    links::FormError,
    mail::templates::format_time,
};

/// The sentence for a form's error code, in these pages' words.
fn error_message(code: &str) -> &'static str {
    match FormError::from_code(code) {
        FormError::Credentials => "Your current password is not correct.",
        FormError::Gone => "This link is no longer valid. Ask for a new one below.",
        error @ (FormError::Password
        | FormError::Confirmation
        | FormError::Email
        | FormError::RateLimited
        | FormError::SignedOut) => error.message(),
        // Nothing these forms send back.
        FormError::Domain
        | FormError::FirstName
        | FormError::LastName
        | FormError::AccountExists
        | FormError::AlreadyActive
        | FormError::Unverified
        | FormError::Mismatch
        | FormError::Closed
        | FormError::Internal => FormError::Internal.message(),
    }
}

fn form_error() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .map(|code| view! { <p class="error" role="alert">{error_message(&code)}</p> })
    }
}

/// The two new-password fields every form here shares.
#[component]
fn NewPassword() -> impl IntoView {
    view! {
        <label for="new-password">"New password"</label>
        <input id="new-password" name="password" type="password" required minlength="10" maxlength="256" autocomplete="new-password" aria-describedby="new-password-help" />
        <p id="new-password-help" class="help">"At least 10 characters."</p>
        <label for="new-password-confirmation">"New password again"</label>
        <input id="new-password-confirmation" name="password_confirmation" type="password" required minlength="10" maxlength="256" autocomplete="new-password" />
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    view! {
        <Title text="Forgot password · Muster" />
        <main class="narrow card">
            <h1>"Forgot your password?"</h1>
            <Show
                when=sent
                fallback=|| view! {
                    <p class="lead">"Enter the email address of your account. We will send you a link to choose a new password."</p>
                    {form_error()}
                    <form method="post" action="/forgot-password/send">
                        <label for="forgot-email">"Email"</label>
                        <input id="forgot-email" name="email" type="email" required maxlength="254" autocomplete="username" />
                        <button type="submit" class="primary">"Send me a link"</button>
                    </form>
                    <p><a href="/login">"Back to log in"</a></p>
                }
            >
                <p class="success" role="status">
                    "Check your email. If an account uses that address, we have sent it a link to choose a new password. The link works for one hour, once."
                </p>
                <p><a href="/login">"Back to log in"</a></p>
            </Show>
        </main>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    super::keep_token_private();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let lookup = server_data(token, lookup_password_reset);
    let again = || view! { <p><a href="/forgot-password">"Ask for a new link"</a></p> };
    view! {
        <Title text="Choose a new password · Muster" />
        <main class="narrow card">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let action = format!("/reset-password/{}/respond", token());
                    match lookup.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(ResetLookup::Valid { email, expires_at }) => view! {
                            <h1>"Choose a new password"</h1>
                            <p class="lead">{format!("For the Muster account of {email}. You will be signed out everywhere and can then log in with the new password.")}</p>
                            <p class="help">{format!("This link works until {} (UTC), once.", format_time(expires_at))}</p>
                            {form_error()}
                            <form method="post" action=action>
                                <input name="email" type="email" readonly hidden value=email.clone() autocomplete="username" />
                                <NewPassword />
                                <button type="submit" class="primary">"Set new password"</button>
                            </form>
                        }.into_any(),
                        Ok(ResetLookup::Used) => view! {
                            <h1>"This link has already been used"</h1>
                            <p>"Each link works once. If you did not finish, ask for a new one."</p>
                            {again()}
                        }.into_any(),
                        Ok(ResetLookup::Expired) => view! {
                            <h1>"This link has expired"</h1>
                            <p>"Links to choose a new password work for one hour."</p>
                            {again()}
                        }.into_any(),
                        Ok(ResetLookup::NotFound) => view! {
                            <h1>"Link not found"</h1>
                            <p>"This link is not valid: check that you copied all of it from the email. Only the newest link we sent works."</p>
                            {again()}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let bootstrap = server_data(|| (), |_| get_bootstrap());
    let query = use_query_map();
    view! {
        <Title text="Change password · Muster" />
        <main class="narrow card">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let changed = query.read().get("changed").is_some();
                    match bootstrap.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(boot) => match boot.user {
                            None => view! {
                                <h1>"Change password"</h1>
                                <p>{FormError::SignedOut.message()}" "<a href="/login">"Log in"</a></p>
                            }.into_any(),
                            Some(user) => {
                                let home = if user.role.is_admin() { "/admin/groups" } else { "/" };
                                view! {
                                    <h1>"Change password"</h1>
                                    {changed.then(|| view! {
                                        <p class="success" role="status">"Your password has been changed. Your other devices have been signed out."</p>
                                    })}
                                    <p class="lead">{format!("For {}. Your other devices will be signed out.", user.email)}</p>
                                    {form_error()}
                                    <form method="post" action="/account/password/change">
                                        <input name="email" type="email" readonly hidden value=user.email.clone() autocomplete="username" />
                                        <label for="current-password">"Current password"</label>
                                        <input id="current-password" name="current_password" type="password" required maxlength="256" autocomplete="current-password" />
                                        <NewPassword />
                                        <button type="submit" class="primary">"Change password"</button>
                                    </form>
                                    <p><a href=home>"Back"</a></p>
                                }.into_any()
                            }
                        },
                    }
                })}
            </Suspense>
        </main>
    }
}
