//! People: search and page through an organization's members.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{encode_query_value, ErrorMessage, Pager};
use crate::people::list_people;

#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("search").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|page| page.parse::<i64>().ok())
            .unwrap_or(1)
    };
    let people = Resource::new(
        move || (search(), page()),
        |(search, page)| list_people(search, page),
    );
    view! {
        <Title text="People · Muster" />
        <h1>"People"</h1>
        <form method="get" action="/admin/people" class="search" role="search">
            <label for="people-search">"Search by name or email"</label>
            <input id="people-search" type="search" name="search" value=search />
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match people.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(result) if result.people.is_empty() => view! {
                        <p class="empty">
                            {if search().is_empty() { "No people yet." } else { "Nobody matches that search." }}
                        </p>
                    }.into_any(),
                    Ok(result) => {
                        let pages = result.page_count();
                        let current = result.page;
                        let term = search();
                        let link = move |page: i64| format!("/admin/people?search={}&page={page}", encode_query_value(&term));
                        view! {
                            <p role="status">{format!("{} people", result.total)}</p>
                            <table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email or username"</th><th scope="col">"Role"</th><th scope="col">"Status"</th></tr></thead>
                                <tbody>
                                    {result.people.into_iter().map(|person| view! {
                                        <tr>
                                            <td>{format!("{} {}", person.first_name, person.last_name)}</td>
                                            <td>{person.email.or(person.username).unwrap_or_default()}</td>
                                            <td>{person.role}</td>
                                            <td>{person.status}</td>
                                        </tr>
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
