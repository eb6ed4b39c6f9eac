//! People: search and page through an organization's members; send
//! activation emails to people who have not activated (one, a selection, or
//! all of them) and resend welcome emails.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{action_error, encode_query_value, ErrorMessage, Pager, SelectPage, SelectRow};
use crate::{
    activation::{BulkOutcome, SendActivation, SendAllActivations, SendSelectedActivations},
    mail::templates::format_date,
    people::{list_people, AccountStatus, ResendWelcome},
};

/// The status filter's choices, in the order the page offers them.
const STATUSES: [AccountStatus; 3] = [
    AccountStatus::Provisioned,
    AccountStatus::Active,
    AccountStatus::Invited,
];

fn sent_summary(outcome: &BulkOutcome) -> String {
    outcome.describe(&match outcome.done {
        1 => "Sent 1 activation email".to_owned(),
        n => format!("Sent {n} activation emails"),
    })
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("search").unwrap_or_default();
    let status = move || query.read().get("status").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|page| page.parse::<i64>().ok())
            .unwrap_or(1)
    };
    let send_one = ServerAction::<SendActivation>::new();
    let send_selected = ServerAction::<SendSelectedActivations>::new();
    let send_all = ServerAction::<SendAllActivations>::new();
    let welcome = ServerAction::<ResendWelcome>::new();
    let selected = RwSignal::new(Vec::<i64>::new());
    // A new list (another page, search or status) starts a new selection.
    Effect::new(move |_| {
        let _ = (search(), status(), page());
        selected.set(Vec::new());
    });
    let people = server_data(
        move || {
            (
                search(),
                status(),
                page(),
                send_one.version().get(),
                send_selected.version().get(),
                send_all.version().get(),
            )
        },
        |(search, status, page, _, _, _)| list_people(search, page, status),
    );
    let last_result = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = send_selected.value().get() {
            selected.set(Vec::new());
            last_result.set(Some(sent_summary(&outcome)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = send_all.value().get() {
            last_result.set(Some(sent_summary(&outcome)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = send_one.value().get() {
            last_result.set(Some("Sent the activation email.".to_owned()));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = welcome.value().get() {
            last_result.set(Some("Sent the welcome email again.".to_owned()));
        }
    });
    let busy = move || {
        send_selected.pending().get() || send_all.pending().get() || send_one.pending().get()
    };
    view! {
        <Title text="People · Muster" />
        <h1>"People"</h1>
        <form method="get" action="/admin/people" class="search" role="search">
            <label for="people-search">"Search by name or email"</label>
            <input id="people-search" type="search" name="search" value=search />
            <label for="people-status" class="visually-hidden">"Status"</label>
            <select id="people-status" name="status" class="inline">
                {move || {
                    let current = status();
                    let everyone = view! { <option value="" selected=current.is_empty()>"Everyone"</option> };
                    let choices = STATUSES.map(|choice| view! {
                        <option value=choice.as_str() selected=current == choice.as_str()>{choice.label()}</option>
                    });
                    (everyone, choices.into_iter().collect_view())
                }}
            </select>
            <button type="submit">"Search"</button>
        </form>
        <section class="card bulk" aria-labelledby="activation-heading">
            <h2 id="activation-heading">"Activation emails"</h2>
            <p class="help">
                "People created by an import have no password yet. The activation email lets them set one; a new email replaces the previous link. At most 3 a day per person."
            </p>
            <div class="bulk-actions">
                <button
                    type="button"
                    class="primary"
                    disabled=move || selected.read().is_empty() || busy()
                    on:click=move |_| {
                        let ids = selected.get_untracked();
                        send_selected.dispatch(SendSelectedActivations { ids });
                    }
                >
                    {move || match selected.read().len() {
                        0 => "Send activation emails (select people below)".to_owned(),
                        1 => "Send activation emails (1 selected)".to_owned(),
                        n => format!("Send activation emails ({n} selected)"),
                    }}
                </button>
                <button
                    type="button"
                    disabled=busy
                    on:click=move |_| {
                        send_all.dispatch(SendAllActivations {});
                    }
                >
                    "Send to everyone who has not activated"
                </button>
            </div>
            <p role="status" class="success">{move || last_result.get()}</p>
            {action_error(send_selected.value())}
            {action_error(send_all.value())}
            {action_error(send_one.value())}
            {action_error(welcome.value())}
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match people.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(result) if result.people.is_empty() => view! {
                        <p class="empty">
                            {if search().is_empty() && status().is_empty() { "No people yet." } else { "Nobody matches that search." }}
                        </p>
                    }.into_any(),
                    Ok(result) => {
                        let pages = result.page_count();
                        let current = result.page;
                        let (term, status_now) = (search(), status());
                        let link = move |page: i64| format!(
                            "/admin/people?search={}&status={}&page={page}",
                            encode_query_value(&term), encode_query_value(&status_now)
                        );
                        let selectable: Vec<i64> = result.people.iter()
                            .filter(|person| person.status.can_activate() && person.activation_to.is_some())
                            .map(|person| person.id)
                            .collect();
                        view! {
                            <p role="status">{format!("{} people", result.total)}</p>
                            <table aria-label="People">
                                <thead><tr>
                                    <th scope="col">
                                        <SelectPage label="Select everyone on this page who has not activated" ids=selectable selected />
                                    </th>
                                    <th scope="col">"Name"</th><th scope="col">"Email or username"</th><th scope="col">"Role"</th>
                                    <th scope="col">"Status"</th><th scope="col">"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {result.people.into_iter().map(|person| {
                                        let id = person.id;
                                        let name = format!("{} {}", person.first_name, person.last_name).trim().to_owned();
                                        let shown = person.email.clone().or(person.username.clone()).unwrap_or_default();
                                        let who = if name.is_empty() { shown.clone() } else { name.clone() };
                                        let can_activate = person.status.can_activate() && person.activation_to.is_some();
                                        // A username-only student's link goes to a parent: the row says whose.
                                        let via_parent = person.email.is_none().then(|| person.activation_to.clone()).flatten()
                                            .filter(|_| person.status.can_activate())
                                            .map(|parent| view! { <span class="help">{format!(" Activation goes to their parent {parent}.")}</span> });
                                        let can_welcome = person.status.can_be_welcomed() && person.email.is_some();
                                        let status_text = match (person.status, person.activation_sent_at) {
                                            (AccountStatus::Provisioned, Some(at)) => format!("{} (email sent {})", person.status.label(), format_date(at)),
                                            (status, _) => status.label().to_owned(),
                                        };
                                        let activation_label = if person.activation_sent_at.is_some() { "Resend activation email" } else { "Send activation email" };
                                        let select_label = format!("Select {who}");
                                        let activation_aria = format!("{activation_label} to {who}");
                                        let welcome_aria = format!("Resend welcome email to {who}");
                                        view! {
                                            <tr>
                                                <td>
                                                    {can_activate.then(|| view! {
                                                        <SelectRow id=id label=select_label selected />
                                                    })}
                                                </td>
                                                <td>
                                                    {name}
                                                    {(!person.links.is_empty()).then(|| view! {
                                                        <ul class="links" aria-label=format!("Linked with {who}")>
                                                            {person.links.iter().map(|link| view! {
                                                                <li>{format!("{}: {}", link.relation.label(), link.name)}</li>
                                                            }).collect_view()}
                                                        </ul>
                                                    })}
                                                </td>
                                                <td>{shown}</td>
                                                <td>{person.role}</td>
                                                <td>{status_text}{via_parent}</td>
                                                <td class="actions">
                                                    {can_activate.then(|| view! {
                                                        <ActionForm action=send_one>
                                                            <input type="hidden" name="user_id" value=id.to_string() />
                                                            <button type="submit" aria-label=activation_aria>{activation_label}</button>
                                                        </ActionForm>
                                                    })}
                                                    {can_welcome.then(|| view! {
                                                        <ActionForm action=welcome>
                                                            <input type="hidden" name="user_id" value=id.to_string() />
                                                            <button type="submit" aria-label=welcome_aria>"Resend welcome email"</button>
                                                        </ActionForm>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager current pages link />
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
