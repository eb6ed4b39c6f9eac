//! `/invite/{token}`: see the invitation, then accept it (signed in), log in
//! and accept, or register and accept. The form posts to
//! `/invite/{token}/respond` (see `invitations::form::respond`).

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::super::ErrorMessage;
use crate::{
    invitations::{lookup_invitation, InviteLookup},
    links::FormError,
    mail::templates::format_date,
};

/// The sentence for the form's error code, in this page's words.
fn error_message(code: &str) -> &'static str {
    match FormError::from_code(code) {
        FormError::Credentials => "The password is incorrect.",
        FormError::Password => "The password must be at least 10 characters.",
        FormError::AccountExists => "An account with this email already exists. Log in to accept (or use \"Forgot password?\" on the login page if you never set a password).",
        FormError::SignedOut => "Your session ended. Log in to accept.",
        FormError::Gone => "This invitation is no longer valid.",
        error @ (FormError::RateLimited
        | FormError::FirstName
        | FormError::LastName
        | FormError::Mismatch) => error.message(),
        // Nothing this form sends back.
        FormError::Email
        | FormError::Domain
        | FormError::Confirmation
        | FormError::AlreadyActive
        | FormError::Unverified
        | FormError::Closed
        | FormError::Internal => FormError::Internal.message(),
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    super::keep_token_private();
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let lookup = server_data(token, lookup_invitation);
    view! {
        <Title text="Invitation · Muster" />
        <main class="narrow card">
            <Suspense fallback=|| view! { <p class="loading">"Loading invitation…"</p> }>
                {move || Suspend::new(async move {
                    let error = query.read().get("error").map(|code| error_message(&code));
                    let action = format!("/invite/{}/respond", token());
                    match lookup.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(InviteLookup::Valid { organization, group, email, expires_at, account_exists, signed_in_as }) => {
                            let error = error.map(|message| view! { <p class="error" role="alert">{message}</p> });
                            let form = match signed_in_as {
                                Some(current) if current == email => view! {
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="accept" />
                                        <p>{format!("You are signed in as {current}.")}</p>
                                        <button type="submit" class="primary">"Accept invitation"</button>
                                    </form>
                                }.into_any(),
                                Some(current) => view! {
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="logout" />
                                        <p>{format!("You are signed in as {current}, but this invitation is for {email}.")}</p>
                                        <button type="submit" class="primary">"Log out and continue"</button>
                                    </form>
                                }.into_any(),
                                None if account_exists => view! {
                                    <h2>"Log in to accept"</h2>
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="login" />
                                        <label for="invite-email">"Email"</label>
                                        <input id="invite-email" name="email" type="email" readonly value=email.clone() autocomplete="username" />
                                        <label for="invite-password">"Password"</label>
                                        <input id="invite-password" name="password" type="password" required autocomplete="current-password" />
                                        <button type="submit" class="primary">"Log in and accept"</button>
                                    </form>
                                }.into_any(),
                                None => view! {
                                    <h2>"Create your account"</h2>
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="register" />
                                        <label for="invite-email">"Email"</label>
                                        <input id="invite-email" name="email" type="email" readonly value=email.clone() autocomplete="username" />
                                        <div class="row">
                                            <div>
                                                <label for="invite-first">"First name"</label>
                                                <input id="invite-first" name="first_name" required maxlength="100" autocomplete="given-name" />
                                            </div>
                                            <div>
                                                <label for="invite-last">"Last name"</label>
                                                <input id="invite-last" name="last_name" required maxlength="100" autocomplete="family-name" />
                                            </div>
                                        </div>
                                        <label for="invite-password">"Password"</label>
                                        <input id="invite-password" name="password" type="password" required minlength="10" autocomplete="new-password" aria-describedby="invite-password-help" />
                                        <p id="invite-password-help" class="help">"At least 10 characters."</p>
                                        <button type="submit" class="primary">"Create account and accept"</button>
                                    </form>
                                }.into_any(),
                            };
                            view! {
                                <h1>{format!("Join {group}")}</h1>
                                <p class="lead">{format!("{organization} has invited {email} to join {group}.")}</p>
                                <p class="help">{format!("This invitation works until {} (UTC).", format_date(expires_at))}</p>
                                {error}
                                {form}
                            }.into_any()
                        }
                        Ok(InviteLookup::Expired { organization }) => view! {
                            <h1>"This invitation has expired"</h1>
                            <p>{format!("Ask your contact at {organization} to send you a new invitation.")}</p>
                        }.into_any(),
                        Ok(InviteLookup::Cancelled { organization }) => view! {
                            <h1>"This invitation was cancelled"</h1>
                            <p>{format!("{organization} cancelled it. If you think this is a mistake, ask them to invite you again.")}</p>
                        }.into_any(),
                        Ok(InviteLookup::Used { organization }) => view! {
                            <h1>"This invitation has already been accepted"</h1>
                            <p>{format!("You are already in at {organization}. ")}<a href="/login">"Log in"</a>" to continue."</p>
                        }.into_any(),
                        Ok(InviteLookup::NotFound) => {
                            #[cfg(feature = "ssr")]
                            crate::auth::service::set_status(http::StatusCode::NOT_FOUND);
                            view! {
                                <h1>"Invitation not found"</h1>
                                <p>"This link is not valid: it may have been replaced by a newer invitation. Use the link in the latest email you received, or ask for a new invitation."</p>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
