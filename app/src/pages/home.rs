//! `/`: first-run setup on an empty database, otherwise the way in.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{action_error, learner::home::LearnerHomeView, ErrorMessage};
use crate::auth::{get_bootstrap, CreateOrganization, Logout, LogoutEverywhere, Role};

#[component]
pub fn HomePage() -> impl IntoView {
    let bootstrap = server_data(|| (), |_| get_bootstrap());
    let query = use_query_map();
    let logout = ServerAction::<Logout>::new();
    let logout_everywhere = ServerAction::<LogoutEverywhere>::new();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let wants_new = query.read().get("create").is_some();
                match bootstrap.await {
                    Err(error) => view! { <main class="narrow"><ErrorMessage error /></main> }.into_any(),
                    Ok(boot) if !boot.has_organization || (boot.open_signup && wants_new) => {
                        view! { <SetupForm first_run=!boot.has_organization /> }.into_any()
                    }
                    Ok(boot) => match boot.user {
                        Some(user) if user.role == Role::Admin => view! { <Redirect path="/admin/groups" /> }.into_any(),
                        Some(_) => view! {
                            <main class="narrow">
                                <LearnerHomeView />
                                <ActionForm action=logout>
                                    <button type="submit">"Log out"</button>
                                </ActionForm>
                                <ActionForm action=logout_everywhere>
                                    <button type="submit" class="link">"Sign out of all devices"</button>
                                </ActionForm>
                                <p><a href="/account/password">"Change password"</a></p>
                            </main>
                        }.into_any(),
                        None => view! { <Redirect path="/login" /> }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}

#[component]
fn SetupForm(first_run: bool) -> impl IntoView {
    let create = ServerAction::<CreateOrganization>::new();
    view! {
        <Title text="Create your organization · Muster" />
        <main class="narrow card">
            <h1>"Create your organization"</h1>
            <p class="lead">
                {if first_run {
                    "Welcome to Muster. Name your organization and create the first administrator account."
                } else {
                    "Set up a new organization with you as its administrator."
                }}
            </p>
            <ActionForm action=create>
                <label for="organization_name">"Organization name"</label>
                <input id="organization_name" name="organization_name" required maxlength="120" autocomplete="organization" />
                <div class="row">
                    <div>
                        <label for="first_name">"Your first name"</label>
                        <input id="first_name" name="first_name" required maxlength="100" autocomplete="given-name" />
                    </div>
                    <div>
                        <label for="last_name">"Your last name"</label>
                        <input id="last_name" name="last_name" required maxlength="100" autocomplete="family-name" />
                    </div>
                </div>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required autocomplete="email" />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required minlength="10" autocomplete="new-password" aria-describedby="password-help" />
                <p id="password-help" class="help">"At least 10 characters."</p>
                {action_error(create.value())}
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    "Create organization"
                </button>
            </ActionForm>
        </main>
    }
}
