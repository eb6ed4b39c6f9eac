//! The frame around every admin page: who is signed in, where to go, log out.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

use super::ErrorMessage;
use crate::{
    auth::{get_bootstrap, Logout, LogoutEverywhere, Role},
    error::AppError,
};

#[component]
pub fn AdminShell() -> impl IntoView {
    let bootstrap = server_data(|| (), |_| get_bootstrap());
    let logout = ServerAction::<Logout>::new();
    let logout_everywhere = ServerAction::<LogoutEverywhere>::new();
    let dev_mailbox = server_data(|| (), |_| crate::mail::dev_mailbox_enabled());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                // Both awaited here, not read with .get() below: a resource
                // read inside a resolved Suspend can leave the streamed
                // response waiting on it (leptos #4578).
                let show_dev_mailbox = matches!(dev_mailbox.await, Ok(true));
                match bootstrap.await {
                    Err(error) => view! { <main class="narrow"><ErrorMessage error /></main> }.into_any(),
                    Ok(boot) => match boot.user {
                        None => view! { <Redirect path="/login" /> }.into_any(),
                        Some(user) if user.role != Role::Admin => view! {
                            <main class="narrow"><ErrorMessage error=AppError::Forbidden /></main>
                        }.into_any(),
                        Some(user) => view! {
                            <header class="topbar">
                                <a class="brand" href="/admin/groups">"Muster"</a>
                                <span class="org">{user.organization_name.clone()}</span>
                                <nav aria-label="Main">
                                    <A href="/admin/groups">"Groups"</A>
                                    <A href="/admin/contracts">"Contracts"</A>
                                    <A href="/admin/people">"People"</A>
                                    <A href="/admin/imports">"Imports"</A>
                                    <A href="/admin/invitations">"Invitations"</A>
                                    <A href="/admin/join">"Join page"</A>
                                    <A href="/admin/settings/activity">"Activity"</A>
                                    <A href="/admin/settings/api">"API"</A>
                                    <A href="/admin/settings/webhooks">"Webhooks"</A>
                                </nav>
                                <span class="who">{format!("{} {}", user.first_name, user.last_name)}</span>
                                <a class="link" href="/account/password">"Change password"</a>
                                <ActionForm action=logout>
                                    <button type="submit" class="link">"Log out"</button>
                                </ActionForm>
                                <ActionForm action=logout_everywhere>
                                    <button type="submit" class="link">"Sign out of all devices"</button>
                                </ActionForm>
                            </header>
                            {show_dev_mailbox.then(|| view! {
                                <p class="banner" role="note">
                                    "Emails are not leaving this machine. They are in the "
                                    <a href="/dev/mailbox" rel="external">"dev mailbox"</a>"."
                                </p>
                            })}
                            <main class="content">
                                <Outlet />
                            </main>
                        }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}
