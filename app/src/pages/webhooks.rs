//! Settings → Webhooks: HTTPS endpoints that receive the organization's
//! events. Add one (URL and events, its signing secret shown once), turn it
//! off or on, delete it, and read its delivery log, with "Send again".

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{action_error, ErrorMessage};
use crate::{
    audit::format_when,
    webhooks::{
        list_webhook_deliveries, list_webhooks, CreateWebhook, DeleteWebhook, DeliveryStatus,
        DeliverySummary, EndpointSummary, EventType, ResendWebhookDelivery, SetWebhookEnabled,
        URL_MAX_CHARS,
    },
};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let set_enabled = ServerAction::<SetWebhookEnabled>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let resend = ServerAction::<ResendWebhookDelivery>::new();
    // The endpoint whose log is open: one at a time, below the list.
    let shown = RwSignal::new(None::<(i64, String)>);
    let endpoints = server_data(
        move || {
            (
                create.version().get(),
                set_enabled.version().get(),
                delete.version().get(),
            )
        },
        |_| list_webhooks(),
    );
    let log = server_data(
        move || {
            (
                shown.get().map(|(id, _)| id),
                resend.version().get(),
                set_enabled.version().get(),
            )
        },
        |(id, _, _)| async move {
            match id {
                Some(id) => list_webhook_deliveries(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            shown.set(None);
        }
    });
    view! {
        <Title text="Webhooks · Muster" />
        <h1>"Webhooks"</h1>
        <p class="lead">
            "Muster can tell another system when something happens here: it posts a JSON event to "
            "an HTTPS address you give, signed the "
            <a href="https://www.standardwebhooks.com" rel="external">"Standard Webhooks"</a>
            " way (" <code>"webhook-id"</code>", "<code>"webhook-timestamp"</code>" and "
            <code>"webhook-signature"</code>" headers), and tries again for a while when it gets no 2xx answer."
        </p>
        <section class="card" aria-labelledby="new-endpoint">
            <h2 id="new-endpoint">"New endpoint"</h2>
            <ActionForm action=create>
                <label for="endpoint-url">"URL"</label>
                <input id="endpoint-url" name="url" type="url" required maxlength=URL_MAX_CHARS.to_string()
                    placeholder="https://" aria-describedby="endpoint-url-help" />
                <p id="endpoint-url-help" class="help">"An https:// address on the public internet."</p>
                <fieldset>
                    <legend>"Events to send"</legend>
                    {EventType::ALL.iter().enumerate().map(|(n, event)| {
                        let id = format!("event-{}", event.as_str().replace('.', "-"));
                        view! {
                            <div class="choice">
                                <input type="checkbox" name=format!("events[{n}]") id=id.clone() value=event.as_str() />
                                <label for=id>
                                    <code>{event.as_str()}</code>" — "{event.explanation()}
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                {action_error(create.value())}
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Add endpoint"</button>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|created| view! {
                <div class="success" role="status">
                    <p>
                        <strong>{format!("Endpoint {} added.", created.url)}</strong>
                        " Copy its signing secret now: it is not shown again."
                    </p>
                    <label for="new-endpoint-secret">"Signing secret"</label>
                    <input id="new-endpoint-secret" readonly value=created.secret class="secret" />
                </div>
            })}
        </section>
        <section aria-labelledby="endpoints-list">
            <h2 id="endpoints-list">"Endpoints"</h2>
            {action_error(set_enabled.value())}
            {action_error(delete.value())}
            <Suspense fallback=|| view! { <p class="loading">"Loading endpoints…"</p> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No endpoints yet. Add one above to have events sent to another system."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"URL"</th>
                                        <th scope="col">"Events"</th>
                                        <th scope="col">"Added"</th>
                                        <th scope="col">"State"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|endpoint| view! {
                                        <EndpointRow endpoint set_enabled delete shown />
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        {move || shown.get().map(|(_, url)| view! {
            <section aria-labelledby="delivery-log">
                <h2 id="delivery-log">{format!("Deliveries to {url}")}</h2>
                {action_error(resend.value())}
                {move || matches!(resend.value().get(), Some(Ok(()))).then(|| view! {
                    <p class="success" role="status">"Queued to send again."</p>
                })}
                <Suspense fallback=|| view! { <p class="loading">"Loading deliveries…"</p> }>
                    {move || Suspend::new(async move {
                        match log.await {
                            Err(error) => view! { <ErrorMessage error /> }.into_any(),
                            Ok(None) => ().into_any(),
                            Ok(Some(list)) if list.is_empty() => view! {
                                <p class="empty">"Nothing sent yet. Deliveries appear here when a subscribed event happens."</p>
                            }.into_any(),
                            Ok(Some(list)) => view! { <DeliveryLog list resend /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        })}
    }
}

#[component]
fn EndpointRow(
    endpoint: EndpointSummary,
    set_enabled: ServerAction<SetWebhookEnabled>,
    delete: ServerAction<DeleteWebhook>,
    shown: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let enabled = endpoint.disabled_at.is_none();
    let events: Vec<&str> = endpoint.events.iter().map(|event| event.as_str()).collect();
    let id = endpoint.id;
    let url = endpoint.url.clone();
    let toggle_label = format!(
        "{} {}",
        if enabled { "Disable" } else { "Enable" },
        endpoint.url
    );
    let delete_label = format!("Delete {}", endpoint.url);
    let log_label = format!("Delivery log of {}", endpoint.url);
    view! {
        <tr class:revoked=!enabled>
            <th scope="row"><code>{endpoint.url.clone()}</code></th>
            <td>{events.join(", ")}</td>
            <td>{format!("{} by {}", format_when(endpoint.created_at), endpoint.created_by)}</td>
            <td>{match endpoint.disabled_at {
                Some(at) => format!("Disabled {}", format_when(at)),
                None => "Active".to_owned(),
            }}</td>
            <td class="actions">
                <button type="button" aria-label=log_label
                    aria-pressed=move || shown.read().as_ref().is_some_and(|(open, _)| *open == id).to_string()
                    on:click=move |_| shown.set(Some((id, url.clone())))>"Delivery log"</button>
                <ActionForm action=set_enabled>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="enabled" value=(!enabled).to_string() />
                    <button type="submit" aria-label=toggle_label disabled=move || set_enabled.pending().get()>
                        {if enabled { "Disable" } else { "Enable" }}
                    </button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="danger" aria-label=delete_label
                        disabled=move || delete.pending().get()>"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn DeliveryLog(
    list: Vec<DeliverySummary>,
    resend: ServerAction<ResendWebhookDelivery>,
) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Attempts"</th>
                    <th scope="col">"Answers"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|delivery| {
                    // Every attempt's status ("500 → 200"), then the last error.
                    let codes = delivery.answers.join(" → ");
                    let answer = match (codes.is_empty(), &delivery.last_error) {
                        (false, Some(error)) => format!("{codes}: {error}"),
                        (false, None) => codes,
                        (true, Some(error)) => error.clone(),
                        (true, None) => "—".to_owned(),
                    };
                    let status = match delivery.status {
                        DeliveryStatus::Queued if delivery.attempts > 0 => "Retrying".to_owned(),
                        DeliveryStatus::Queued => "Queued".to_owned(),
                        DeliveryStatus::Sent => format!(
                            "Sent {}",
                            delivery.delivered_at.map(format_when).unwrap_or_default()
                        ),
                        DeliveryStatus::Failed => "Failed".to_owned(),
                    };
                    let label = format!("Send {} of {} again", delivery.event_type, format_when(delivery.created_at));
                    view! {
                        <tr>
                            <th scope="row"><code>{delivery.event_type.as_str()}</code></th>
                            <td>{format_when(delivery.created_at)}</td>
                            <td>{delivery.attempts}</td>
                            <td>{answer}</td>
                            <td>{status}</td>
                            <td>
                                <ActionForm action=resend>
                                    <input type="hidden" name="id" value=delivery.id />
                                    <button type="submit" aria-label=label
                                        disabled=move || resend.pending().get()>"Send again"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
