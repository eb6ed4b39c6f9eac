//! The learner home: my organizations, groups and trainings.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::super::ErrorMessage;
use crate::home::learner_home;

#[component]
pub fn LearnerHomeView() -> impl IntoView {
    let home = Resource::new(|| (), |_| learner_home());
    let query = use_query_map();
    view! {
        <Title text="Muster" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let welcome = query.read().get("welcome").is_some();
                match home.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(home) => view! {
                        <h1>{format!("Welcome, {}", home.first_name)}</h1>
                        {welcome.then(|| view! { <p class="success" role="status">"You have accepted the invitation."</p> })}
                        <p>{format!("Signed in as {}.", home.email)}</p>
                        {home.organizations.into_iter().map(|organization| view! {
                            <section class="card" aria-label=organization.name.clone()>
                                <h2>{organization.name.clone()}</h2>
                                {if organization.groups.is_empty() {
                                    view! { <p class="empty">"You are not in any group here yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <h3>"My groups"</h3>
                                        <ul>
                                            {organization.groups.into_iter().map(|group| view! {
                                                <li>
                                                    <strong>{group.name.clone()}</strong>
                                                    {(!group.trainings.is_empty()).then(|| view! {
                                                        <ul aria-label=format!("Trainings of {}", group.name)>
                                                            {group.trainings.into_iter().map(|training| view! { <li>{training}</li> }).collect_view()}
                                                        </ul>
                                                    })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        }).collect_view()}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
