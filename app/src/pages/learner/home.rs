//! The learner home: my organizations, groups and trainings.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::super::ErrorMessage;
use crate::home::{learner_home, AnswerOrganization};

#[component]
pub fn LearnerHomeView() -> impl IntoView {
    let home = server_data(|| (), |_| learner_home());
    let query = use_query_map();
    view! {
        <Title text="Muster" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let welcome = query.read().get("welcome").is_some();
                let accepted = query.read().get("accepted").is_some();
                let declined = query.read().get("declined").is_some();
                match home.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(home) => view! {
                        <h1>{format!("Welcome, {}", home.first_name)}</h1>
                        {welcome.then(|| view! { <p class="success" role="status">"You have accepted the invitation."</p> })}
                        {accepted.then(|| view! { <p class="success" role="status">"You have joined the organization."</p> })}
                        {declined.then(|| view! { <p class="success" role="status">"You have declined. The organization no longer has you on its list."</p> })}
                        <p>{format!("Signed in as {}.", home.email)}</p>
                        {home.pending.into_iter().map(|pending| {
                            let accept = ServerAction::<AnswerOrganization>::new();
                            let decline = ServerAction::<AnswerOrganization>::new();
                            let added_you = format!("{} added you", pending.name);
                            let label = added_you.clone();
                            let join = format!("Join {}", pending.name);
                            view! {
                                <section class="card" aria-label=label>
                                    <h2>{added_you}</h2>
                                    <p>"They see nothing of your account until you join. If you do not know them, decline."</p>
                                    <div class="actions">
                                        <ActionForm action=accept>
                                            <input type="hidden" name="organization_id" value=pending.id />
                                            <input type="hidden" name="accept" value="true" />
                                            <button type="submit" class="primary">{join}</button>
                                        </ActionForm>
                                        <ActionForm action=decline>
                                            <input type="hidden" name="organization_id" value=pending.id />
                                            <input type="hidden" name="accept" value="false" />
                                            <button type="submit">"Decline"</button>
                                        </ActionForm>
                                    </div>
                                </section>
                            }
                        }).collect_view()}
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
