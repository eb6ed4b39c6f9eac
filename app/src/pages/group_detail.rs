//! One group: edit its name, trainings and default invitation expiry.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{action_error, groups::GroupFields, ErrorMessage};
use crate::{
    error::AppError,
    groups::{get_group, UpdateGroup},
};

#[component]
pub fn GroupDetailPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateGroup>::new();
    let group = Resource::new(
        move || (params.read().get("id"), update.version().get()),
        |(id, _)| async move {
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
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
