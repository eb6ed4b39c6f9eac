//! `/activate/{token}`: a person created by an import sets a password and
//! becomes active. The form posts to `/activate/{token}/respond` (see
//! `activation::form::respond`) and works without JavaScript.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::super::ErrorMessage;
use crate::{
    activation::{lookup_activation, ActivationLookup},
    links::FormError,
    mail::templates::format_date,
};

/// The sentence for the form's error code, in this page's words.
fn error_message(code: &str) -> &'static str {
    match FormError::from_code(code) {
        FormError::Gone => "This activation link is no longer valid.",
        error @ (FormError::Password | FormError::Confirmation | FormError::AlreadyActive) => {
            error.message()
        }
        // Nothing this form sends back.
        FormError::Credentials
        | FormError::RateLimited
        | FormError::Email
        | FormError::Domain
        | FormError::FirstName
        | FormError::LastName
        | FormError::AccountExists
        | FormError::Unverified
        | FormError::Mismatch
        | FormError::SignedOut
        | FormError::Closed
        | FormError::Internal => FormError::Internal.message(),
    }
}

#[component]
pub fn ActivatePage() -> impl IntoView {
    super::keep_token_private();
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let lookup = server_data(token, lookup_activation);
    view! {
        <Title text="Activate your account · Muster" />
        <main class="narrow card">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let error = query.read().get("error").map(|code| error_message(&code));
                    let action = format!("/activate/{}/respond", token());
                    match lookup.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(ActivationLookup::Valid { organization, email, first_name, expires_at }) => {
                            let error = error.map(|message| view! { <p class="error" role="alert">{message}</p> });
                            let greeting = if first_name.trim().is_empty() {
                                "Set your password".to_owned()
                            } else {
                                format!("Welcome, {}", first_name.trim())
                            };
                            view! {
                                <h1>{greeting}</h1>
                                <p class="lead">{format!("{organization} has created a Muster account for {email}. Choose a password to activate it.")}</p>
                                <p class="help">{format!("This link works until {} (UTC), once.", format_date(expires_at))}</p>
                                {error}
                                <form method="post" action=action>
                                    <label for="activate-email">"Email"</label>
                                    <input id="activate-email" name="email" type="email" readonly value=email.clone() autocomplete="username" />
                                    <label for="activate-password">"Password"</label>
                                    <input id="activate-password" name="password" type="password" required minlength="10" maxlength="256" autocomplete="new-password" aria-describedby="activate-password-help" />
                                    <p id="activate-password-help" class="help">"At least 10 characters."</p>
                                    <label for="activate-confirmation">"Password again"</label>
                                    <input id="activate-confirmation" name="password_confirmation" type="password" required minlength="10" maxlength="256" autocomplete="new-password" />
                                    <button type="submit" class="primary">"Activate account"</button>
                                </form>
                            }.into_any()
                        }
                        Ok(ActivationLookup::Expired { organization }) => view! {
                            <h1>"This activation link has expired"</h1>
                            <p>{format!("Ask your administrator at {organization} to send you a new activation email. The new link will work for 14 days.")}</p>
                        }.into_any(),
                        Ok(ActivationLookup::Used { organization }) => view! {
                            <h1>"This activation link has already been used"</h1>
                            <p>{format!("Your account at {organization} is active. ")}<a href="/login">"Log in"</a>" with your email and the password you chose."</p>
                        }.into_any(),
                        Ok(ActivationLookup::AlreadyActive { organization }) => view! {
                            <h1>"Your account is already active"</h1>
                            <p>{format!("You already have a password for your account at {organization}. ")}<a href="/login">"Log in"</a>" to continue."</p>
                        }.into_any(),
                        Ok(ActivationLookup::Replaced { organization }) => view! {
                            <h1>"This activation link has been replaced"</h1>
                            <p>{format!("{organization} sent you a newer activation email, and only its link works. Use the link in the latest email you received, or ask your administrator to send a new one.")}</p>
                        }.into_any(),
                        Ok(ActivationLookup::NotFound) => {
                            #[cfg(feature = "ssr")]
                            crate::auth::service::set_status(http::StatusCode::NOT_FOUND);
                            view! {
                                <h1>"Activation link not found"</h1>
                                <p>"This link is not valid. Check that you copied the whole link from the email, or ask your administrator to send you a new activation email."</p>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
