//! Settings → Activity (admin): the organization's audit log, newest first,
//! filtered by action, person and dates, and exported as CSV with the same
//! filters. Filters and pages are plain links and a GET form, so the page
//! works without JavaScript.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{encode_query_value, thousands, ErrorMessage};
use crate::audit::{format_when, list_activity, ActorChoice, AuditAction, AuditEvent};

/// The filter as the address carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fields {
    action: String,
    actor: i64,
    from: String,
    to: String,
}

impl Fields {
    fn is_empty(&self) -> bool {
        *self == Fields::default()
    }

    fn query(&self) -> String {
        format!(
            "action={}&actor={}&from={}&to={}",
            encode_query_value(&self.action),
            self.actor,
            encode_query_value(&self.from),
            encode_query_value(&self.to)
        )
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let fields = move || {
        let query = query.read();
        let text = |name: &str| query.get(name).unwrap_or_default();
        Fields {
            action: text("action"),
            actor: text("actor").parse().unwrap_or(0),
            from: text("from"),
            to: text("to"),
        }
    };
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|before| before.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let activity = server_data(
        move || (fields(), before()),
        |(fields, before)| {
            list_activity(fields.action, fields.actor, fields.from, fields.to, before)
        },
    );
    view! {
        <Title text="Activity · Muster" />
        <nav aria-label="Breadcrumb" class="help">"Settings › Activity"</nav>
        <h1>"Activity"</h1>
        <p class="lead">
            "Every change an admin made: imports, invitations, activation emails, groups, contracts and the join page. Records cannot be edited."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                let current = fields();
                let (listed, actors) = match activity.await {
                    Ok(page) => {
                        let actors = page.actors.clone();
                        (Ok(page), actors)
                    }
                    Err(error) => (Err(error), Vec::new()),
                };
                let export = format!("/admin/settings/activity.csv?{}", current.query());
                view! {
                    <ActivityFilters fields=current.clone() actors />
                    <p><a href=export download="muster-activity.csv">"Export CSV"</a>
                        <span class="help">" (every event matching the filters, for a spreadsheet)"</span></p>
                    {match listed {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(page) if page.events.is_empty() => view! {
                            <p class="empty">{if current.is_empty() && before() == 0 {
                                "No activity yet. Imports, invitations, activation emails and changes to groups, contracts and the join page are listed here as admins make them."
                            } else {
                                "No activity matches these filters."
                            }}</p>
                        }.into_any(),
                        Ok(page) => {
                            let newest = (before() > 0).then(|| format!("/admin/settings/activity?{}", current.query()));
                            let older = page.older.map(|older| format!("/admin/settings/activity?{}&before={older}", current.query()));
                            view! {
                                <table>
                                    <caption>"Activity, newest first"</caption>
                                    <thead><tr>
                                        <th scope="col">"When (UTC)"</th>
                                        <th scope="col">"Who"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"Subject"</th>
                                        <th scope="col">"How many"</th>
                                        <th scope="col">"Details"</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.events.into_iter().map(|event| view! { <EventRow event /> }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    {newest.map(|href| view! { <a href=href>"← Newest"</a> })}
                                    {older.map(|href| view! { <a href=href>"Older →"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }}
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventRow(event: AuditEvent) -> impl IntoView {
    let page = event.subject_page();
    let subject = event.subject.map(|kind| {
        let label = if event.subject_label.is_empty() {
            kind.label().to_owned()
        } else {
            format!("{}: {}", kind.label(), event.subject_label)
        };
        match page {
            Some(href) => view! { <a href=href>{label}</a> }.into_any(),
            None => label.into_any(),
        }
    });
    view! {
        <tr>
            <td>{format_when(event.created_at)}</td>
            <td>
                {event.actor_name}
                {(!event.actor_email.is_empty()).then(|| view! { <br /><span class="help">{event.actor_email}</span> })}
            </td>
            <td>{event.action.label()}</td>
            <td>{subject}</td>
            <td>{event.count.map(thousands)}</td>
            <td>{event.details}</td>
        </tr>
    }
}

/// The filter, a plain GET form so it works without JavaScript.
#[component]
fn ActivityFilters(fields: Fields, actors: Vec<ActorChoice>) -> impl IntoView {
    let Fields {
        action,
        actor,
        from,
        to,
    } = fields;
    view! {
        <form method="get" action="/admin/settings/activity" class="search" role="search" aria-label="Filter activity">
            <label for="activity-action">"Action"</label>
            <select id="activity-action" name="action">
                <option value="">"All actions"</option>
                {AuditAction::ALL.iter().map(|choice| view! {
                    <option value=choice.as_str() selected=action == choice.as_str()>{choice.label()}</option>
                }).collect_view()}
            </select>
            <label for="activity-actor">"Person"</label>
            <select id="activity-actor" name="actor">
                <option value="0">"Everyone"</option>
                {actors.into_iter().map(|choice| view! {
                    <option value=choice.user_id.to_string() selected=actor == choice.user_id>{choice.name}</option>
                }).collect_view()}
            </select>
            <label for="activity-from">"From"</label>
            <input id="activity-from" type="date" name="from" value=from />
            <label for="activity-to">"To"</label>
            <input id="activity-to" type="date" name="to" value=to />
            <button type="submit">"Filter"</button>
            <a href="/admin/settings/activity">"Clear filters"</a>
        </form>
    }
}
