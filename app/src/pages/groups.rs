//! Groups: list and create.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{action_error, ErrorMessage};
use crate::groups::{list_groups, CreateGroup, DEFAULT_EXPIRY_DAYS};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let groups = server_data(move || create.version().get(), |_| list_groups());
    view! {
        <Title text="Groups · Muster" />
        <h1>"Groups"</h1>
        <p class="lead">"Groups are what learners join: a program, cohort, course or team. Members get the group's trainings."</p>
        <section aria-labelledby="groups-list">
            <h2 id="groups-list" class="visually-hidden">"All groups"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading groups…"</p> }>
                {move || Suspend::new(async move {
                    match groups.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No groups yet. Create the first one below: learners are invited into a group."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table>
                                <thead>
                                    <tr><th scope="col">"Name"</th><th scope="col">"Trainings"</th><th scope="col">"Invitations expire after"</th></tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|group| view! {
                                        <tr>
                                            <td><a href=format!("/admin/groups/{}", group.id)>{group.name.clone()}</a></td>
                                            <td>{if group.trainings.is_empty() { "None".to_owned() } else { group.trainings.join(", ") }}</td>
                                            <td>{format!("{} days", group.default_expiry_days)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="new-group">
            <h2 id="new-group">"New group"</h2>
            <ActionForm action=create>
                <GroupFields name=String::new() description=String::new() expiry=DEFAULT_EXPIRY_DAYS trainings=String::new() />
                {action_error(create.value())}
                {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! { <p class="success" role="status">"Group created."</p> })}
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create group"</button>
            </ActionForm>
        </section>
    }
}

/// The fields shared by the create and edit forms.
#[component]
pub fn GroupFields(
    name: String,
    description: String,
    expiry: i64,
    trainings: String,
) -> impl IntoView {
    view! {
        <label for="group-name">"Name"</label>
        <input id="group-name" name="name" required maxlength="120" value=name />
        <label for="group-description">"Description"</label>
        <textarea id="group-description" name="description" rows="2" maxlength="2000">{description}</textarea>
        <label for="group-expiry">"Invitations expire after (days)"</label>
        <input id="group-expiry" name="default_expiry_days" type="number" min="1" max="365" required value=expiry.to_string() />
        <label for="group-trainings">"Trainings"</label>
        <textarea id="group-trainings" name="trainings" rows="4" aria-describedby="trainings-help">{trainings}</textarea>
        <p id="trainings-help" class="help">"One training per line. New members are assigned all of them."</p>
    }
}
