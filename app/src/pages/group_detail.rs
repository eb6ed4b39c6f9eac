//! One group: edit its name, trainings and default invitation expiry, and
//! when its pending invitations are reminded.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{action_error, groups::GroupFields, ErrorMessage};
use crate::{
    error::AppError,
    groups::{get_group, SetGroupReminders, UpdateGroup},
};

#[component]
pub fn GroupDetailPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateGroup>::new();
    let reminders = ServerAction::<SetGroupReminders>::new();
    let group = server_data(
        move || {
            (
                params.read().get("id"),
                update.version().get(),
                reminders.version().get(),
            )
        },
        |(id, _, _)| async move {
            match id.and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => get_group(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading group…"</p> }>
            {move || Suspend::new(async move {
                match group.await {
                    Err(error) => view! { <p><a href="/admin/groups">"← All groups"</a></p><ErrorMessage error /> }.into_any(),
                    Ok(group) => view! {
                        <Title text=format!("{} · Groups · Muster", group.name) />
                        <p><a href="/admin/groups">"← All groups"</a></p>
                        <h1>{group.name.clone()}</h1>
                        <section class="card" aria-labelledby="edit-group">
                            <h2 id="edit-group">"Edit group"</h2>
                            <ActionForm action=update>
                                <input type="hidden" name="id" value=group.id.to_string() />
                                <GroupFields
                                    name=group.name.clone()
                                    description=group.description.clone()
                                    expiry=group.default_expiry_days
                                    trainings=group.trainings.join("\n")
                                />
                                {action_error(update.value())}
                                {move || matches!(update.value().get(), Some(Ok(()))).then(|| view! { <p class="success" role="status">"Saved."</p> })}
                                <button type="submit" class="primary" disabled=move || update.pending().get()>"Save changes"</button>
                            </ActionForm>
                        </section>
                        <section class="card" aria-labelledby="group-reminders">
                            <h2 id="group-reminders">"Invitation reminders"</h2>
                            <p>
                                "Pending invitations are emailed again with a new link on these days after they were sent, never after they expire. Now: "
                                <strong>{group.reminders.describe()}</strong>"."
                            </p>
                            <ActionForm action=reminders>
                                <input type="hidden" name="id" value=group.id.to_string() />
                                <label for="reminder-days">"Remind after (days, e.g. 3, 7; blank for off)"</label>
                                <input id="reminder-days" name="reminder_days" inputmode="numeric"
                                    value=group.reminders.input_value() aria-describedby="reminder-days-help" />
                                <p id="reminder-days-help" class="help">
                                    {format!("At most {} reminders; resends by hand and reminders together reach an address at most {} times a day.", crate::groups::MAX_REMINDERS, crate::bulk::MAX_EMAILS_PER_ADDRESS_PER_DAY)}
                                </p>
                                {action_error(reminders.value())}
                                {move || matches!(reminders.value().get(), Some(Ok(()))).then(|| view! { <p class="success" role="status">"Reminders saved."</p> })}
                                <button type="submit" disabled=move || reminders.pending().get()>"Save reminders"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
