//! `/join/{slug}`: an organization's public join page, and
//! `/verify-email/{token}`: confirming the address given there. Both are
//! rendered whole on the server and work without JavaScript: the forms post
//! to `/join/{slug}/submit` and `/verify-email/{token}/confirm` (see
//! `join::form`).

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::super::{not_found::NotFound, ErrorMessage};
use crate::{
    join::{
        allowlist_sentence, lookup_join_page, lookup_join_verification, JoinLookup, VerifyLookup,
    },
    links::FormError,
    mail::templates::format_date,
};

fn error_message(error: FormError, allowlist: Option<&str>) -> String {
    match error {
        FormError::Domain => format!(
            "This email address cannot join here: its domain is not accepted. {}",
            allowlist.unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        FormError::Email
        | FormError::Credentials
        | FormError::RateLimited
        | FormError::FirstName
        | FormError::LastName => error.message().to_owned(),
        FormError::Password => "The password must be at least 10 characters.".to_owned(),
        FormError::SignedOut => "Your session ended. Log in to join.".to_owned(),
        _ => FormError::Internal.message().to_owned(),
    }
}

/// Paragraphs of the welcome text, split on blank lines.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let lookup = server_data(slug, lookup_join_page);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let error = query.read().get("error");
                let sent = query.read().get("sent").is_some();
                let action = format!("/join/{}/submit", slug().trim().to_ascii_lowercase());
                match lookup.await {
                    Err(error) => view! { <main class="narrow card"><ErrorMessage error /></main> }.into_any(),
                    // Off and unknown look exactly alike.
                    Ok(JoinLookup::NotFound) => view! { <NotFound /> }.into_any(),
                    Ok(JoinLookup::Open { organization, group, welcome_text, allowed_domains, allow_subdomains, signed_in_as }) => {
                        let allowlist = allowlist_sentence(&allowed_domains, allow_subdomains);
                        let error = error.map(|code| {
                            let message = error_message(FormError::from_code(&code), allowlist.as_deref());
                            view! { <p class="error" role="alert">{message}</p> }
                        });
                        let sent = sent.then(|| view! {
                            <div class="success" role="status">
                                <p><strong>"Check your email."</strong></p>
                                <p>"We have sent a link to the address you gave. Open it within 24 hours to choose your password and join. If you already have an account, the email tells you how to join with it."</p>
                            </div>
                        });
                        let forms = match signed_in_as {
                            Some(current) => view! {
                                <form method="post" action=action.clone()>
                                    <input type="hidden" name="intent" value="join" />
                                    <p>{format!("You are signed in as {current}.")}</p>
                                    <button type="submit" class="primary">{format!("Join {group}")}</button>
                                </form>
                                <form method="post" action=action.clone()>
                                    <input type="hidden" name="intent" value="logout" />
                                    <button type="submit" class="link">"Not you? Log out"</button>
                                </form>
                            }.into_any(),
                            None => view! {
                                <section aria-labelledby="join-new">
                                    <h2 id="join-new">"New here? Create your account"</h2>
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="register" />
                                        <label for="join-email">"Email"</label>
                                        <input id="join-email" name="email" type="email" required autocomplete="email" />
                                        <div class="row">
                                            <div>
                                                <label for="join-first">"First name"</label>
                                                <input id="join-first" name="first_name" required maxlength="100" autocomplete="given-name" />
                                            </div>
                                            <div>
                                                <label for="join-last">"Last name"</label>
                                                <input id="join-last" name="last_name" required maxlength="100" autocomplete="family-name" />
                                            </div>
                                        </div>
                                        <p class="help">"We email you a link to confirm your address. You choose your password after opening it."</p>
                                        <button type="submit" class="primary">"Create account"</button>
                                    </form>
                                </section>
                                <section aria-labelledby="join-existing">
                                    <h2 id="join-existing">"Already have an account? Log in to join"</h2>
                                    <form method="post" action=action.clone()>
                                        <input type="hidden" name="intent" value="login" />
                                        <label for="login-email">"Your account's email"</label>
                                        <input id="login-email" name="email" type="email" required autocomplete="username" />
                                        <label for="login-password">"Your password"</label>
                                        <input id="login-password" name="password" type="password" required autocomplete="current-password" />
                                        <button type="submit">"Log in and join"</button>
                                    </form>
                                </section>
                            }.into_any(),
                        };
                        view! {
                            <Title text=format!("Join {organization} · Muster") />
                            <main class="narrow card join">
                                <h1>{format!("Join {organization}")}</h1>
                                <p class="lead">{format!("You will be a learner in {group}.")}</p>
                                {paragraphs(&welcome_text).into_iter().map(|p| view! { <p class="welcome">{p}</p> }).collect_view()}
                                {allowlist.clone().map(|sentence| view! { <p class="help">{sentence}</p> })}
                                {sent}
                                {error}
                                {forms}
                            </main>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn verify_error(error: FormError) -> &'static str {
    match error {
        FormError::Closed => "This organization's join page is closed, so the email cannot be confirmed now. Ask them how to join.",
        FormError::Domain => "This join page no longer accepts your email's domain.",
        FormError::Password | FormError::Confirmation | FormError::AccountExists | FormError::RateLimited => error.message(),
        _ => FormError::Internal.message(),
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    super::keep_token_private();
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let lookup = server_data(token, lookup_join_verification);
    view! {
        <Title text="Confirm your email · Muster" />
        <main class="narrow card">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let error = query.read().get("error").map(|code| view! { <p class="error" role="alert">{verify_error(FormError::from_code(&code))}</p> });
                    let action = format!("/verify-email/{}/confirm", token());
                    match lookup.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(VerifyLookup::Valid { organization, group, email, expires_at }) => view! {
                            <h1>"Choose your password"</h1>
                            <p class="lead">{format!("Choose a password for {email} to confirm your address and join {group} at {organization}.")}</p>
                            <p class="help">{format!("This link works until {} (UTC).", format_date(expires_at))}</p>
                            {error}
                            <form method="post" action=action>
                                <input type="email" name="email" value=email.clone() readonly hidden autocomplete="username" />
                                <label for="verify-password">"Password"</label>
                                <input id="verify-password" name="password" type="password" required minlength="10" autocomplete="new-password" aria-describedby="verify-password-help" />
                                <p id="verify-password-help" class="help">"At least 10 characters."</p>
                                <label for="verify-confirmation">"Type it again"</label>
                                <input id="verify-confirmation" name="confirmation" type="password" required minlength="10" autocomplete="new-password" />
                                <button type="submit" class="primary">"Confirm and join"</button>
                            </form>
                        }.into_any(),
                        Ok(VerifyLookup::Used { organization }) => view! {
                            <h1>"Your email is confirmed"</h1>
                            <p>{format!("You are a member at {organization}. ")}<a href="/login">"Log in"</a>" to continue."</p>
                        }.into_any(),
                        Ok(VerifyLookup::Expired { organization }) => view! {
                            <h1>"This link has expired"</h1>
                            <p>{format!("Sign up again on the join page of {organization} to get a new link.")}</p>
                        }.into_any(),
                        Ok(VerifyLookup::Replaced { organization }) => view! {
                            <h1>"This link was replaced"</h1>
                            <p>{format!("You signed up at {organization} again, so only the link in the newest email works.")}</p>
                        }.into_any(),
                        Ok(VerifyLookup::NotFound) => {
                            #[cfg(feature = "ssr")]
                            crate::auth::service::set_status(http::StatusCode::NOT_FOUND);
                            view! {
                                <h1>"Link not found"</h1>
                                <p>"This confirmation link is not valid. Use the link in the latest email you received."</p>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
