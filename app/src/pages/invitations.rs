//! Invitations (admin): invite by hand, then follow, resend and cancel.

use crate::server_data::{server_data, ServerData};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    encode_query_value, posted_error, thousands, Asked, ErrorMessage, Pager, SelectPage, SelectRow,
};
use crate::{
    error::AppError,
    groups::{list_groups, GroupSummary},
    invitations::{
        cancel_invitation, cancel_matching_invitations, cancel_selected_invitations,
        list_invitations, resend_invitation, resend_matching_invitations,
        resend_selected_invitations, send_invitations, BulkOutcome, CancelInvitation,
        InvitationStatus, InviteOutcome, InviteResult, ResendInvitation, SendInvitations,
        MAX_MANUAL_INVITES,
    },
    mail::{
        templates::{format_date, format_day_month},
        OutboxStatus,
    },
};

fn resent_summary(outcome: &BulkOutcome) -> String {
    outcome.describe(&match outcome.done {
        1 => "Resent 1 invitation".to_owned(),
        n => format!("Resent {n} invitations"),
    })
}

fn cancelled_summary(outcome: &BulkOutcome) -> String {
    outcome.describe(&match outcome.done {
        1 => "Cancelled 1 invitation".to_owned(),
        n => format!("Cancelled {n} invitations"),
    })
}

/// The list's filter, as the bulk requests for "all matching" take it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Matching {
    status: String,
    search: String,
    group_id: i64,
    import_id: i64,
    delivery: String,
}

/// What the page's buttons ask of the server.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ask {
    /// The invite form's addresses (as typed) into a group.
    Invite {
        group_id: i64,
        emails: String,
    },
    Resend {
        id: i64,
        email: String,
    },
    Cancel {
        id: i64,
        email: String,
    },
    ResendSelected(Vec<i64>),
    CancelSelected(Vec<i64>),
    ResendMatching(Matching),
    CancelMatching(Matching),
}

impl Ask {
    fn is_invite(&self) -> bool {
        matches!(self, Ask::Invite { .. })
    }

    fn is_for_one(&self) -> bool {
        matches!(self, Ask::Resend { .. } | Ask::Cancel { .. })
    }

    fn is_bulk(&self) -> bool {
        !self.is_invite() && !self.is_for_one()
    }
}

/// What an answered request says on the page: a sentence for the live region (none
/// for an invite, whose results are a table), for a request about one invitation a
/// note for its row, and for an invite what happened to each address.
#[derive(Clone, Debug, Default)]
struct Said {
    sentence: String,
    row_note: Option<(i64, &'static str)>,
    invited: Vec<InviteOutcome>,
}

impl Said {
    fn of_bulk(sentence: String) -> Self {
        Said {
            sentence,
            ..Said::default()
        }
    }
}

/// The page's requests and their sentences, from a module the page loads on the first
/// press: most visits to the list only read it.
#[lazy]
async fn invitation_requests(ask: Ask) -> Result<Said, AppError> {
    Ok(match ask {
        Ask::Invite { group_id, emails } => Said {
            invited: send_invitations(group_id, emails).await?,
            ..Said::default()
        },
        Ask::Resend { id, email } => {
            resend_invitation(id).await?;
            Said {
                sentence: format!(
                    "Invitation to {email} resent; the link in the earlier email no longer works."
                ),
                row_note: Some((id, "Resent just now")),
                ..Said::default()
            }
        }
        Ask::Cancel { id, email } => {
            cancel_invitation(id).await?;
            Said {
                sentence: format!("Invitation to {email} cancelled; its link no longer works."),
                row_note: Some((id, "Cancelled just now")),
                ..Said::default()
            }
        }
        Ask::ResendSelected(ids) => {
            Said::of_bulk(resent_summary(&resend_selected_invitations(ids).await?))
        }
        Ask::CancelSelected(ids) => {
            Said::of_bulk(cancelled_summary(&cancel_selected_invitations(ids).await?))
        }
        Ask::ResendMatching(m) => Said::of_bulk(resent_summary(
            &resend_matching_invitations(m.status, m.search, m.group_id, m.import_id, m.delivery)
                .await?,
        )),
        Ask::CancelMatching(m) => Said::of_bulk(cancelled_summary(
            &cancel_matching_invitations(m.status, m.search, m.group_id, m.import_id, m.delivery)
                .await?,
        )),
    })
}

/// A bulk cancel waiting for the admin's yes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BulkCancel {
    Selected,
    Matching,
}

/// The status filter's choices: every status, or one.
fn status_choices() -> impl Iterator<Item = (&'static str, &'static str)> {
    std::iter::once(("", "All")).chain(
        InvitationStatus::ALL
            .into_iter()
            .map(|status| (status.as_str(), status.label())),
    )
}

/// The email filter's choices: any, or where the latest email stands.
fn email_choices() -> impl Iterator<Item = (&'static str, &'static str)> {
    [
        ("", "Any"),
        (OutboxStatus::Queued.as_str(), "Queued"),
        (OutboxStatus::Sent.as_str(), "Sent"),
        (OutboxStatus::Failed.as_str(), "Failed"),
    ]
    .into_iter()
}

#[component]
pub fn InvitationsPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || query.read().get("status").unwrap_or_default();
    let search = move || query.read().get("search").unwrap_or_default();
    // Where the latest email stands: "" for any, or an outbox status.
    let email_filter = move || query.read().get("email").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|page| page.parse::<i64>().ok())
            .unwrap_or(1)
    };
    let group_filter = move || {
        query
            .read()
            .get("group")
            .and_then(|group| group.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let import_filter = move || {
        query
            .read()
            .get("import")
            .and_then(|import| import.parse::<i64>().ok())
            .unwrap_or(0)
    };
    // One request at a time, from the invite form or the list: every button waits.
    let asked = Asked::<Ask, Said>::new();
    // The last invite's results, kept while the list's buttons are used.
    let invited = RwSignal::new(Vec::<InviteOutcome>::new());
    let send_ask = move |ask: Ask| asked.send(ask, invitation_requests);
    let selected = RwSignal::new(Vec::<i64>::new());
    // What the last action did, said in the page's one live region.
    let bulk_result = RwSignal::new(None::<String>);
    // The row whose last action succeeded, and what it was, shown in that row.
    let row_note = RwSignal::new(None::<(i64, &'static str)>);
    let asking = RwSignal::new(None::<BulkCancel>);
    // Effects run only in the browser: the page says when its actions answer in place.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    Effect::new(move |_| {
        let Some((ask, Ok(said))) = asked.last() else {
            return;
        };
        if matches!(ask, Ask::ResendSelected(_) | Ask::CancelSelected(_)) {
            selected.set(Vec::new());
        }
        if ask.is_invite() {
            invited.set(said.invited);
            return;
        }
        if said.row_note.is_some() {
            row_note.set(said.row_note);
        }
        bulk_result.set(Some(said.sentence));
    });
    // A new list (another page or filter) starts a new selection.
    Effect::new(move |_| {
        let _ = (
            status(),
            search(),
            group_filter(),
            import_filter(),
            email_filter(),
            page(),
        );
        selected.set(Vec::new());
    });
    let busy = move || asked.pending();
    let matching = move || Matching {
        status: status(),
        search: search(),
        group_id: group_filter(),
        import_id: import_filter(),
        delivery: email_filter(),
    };
    let groups = server_data(|| (), |_| list_groups());
    let invitations = server_data(
        move || {
            (
                (
                    status(),
                    search(),
                    group_filter(),
                    import_filter(),
                    email_filter(),
                    page(),
                ),
                asked.version(),
            )
        },
        |((status, search, group, import, email, page), _)| {
            list_invitations(status, search, group, page, import, email)
        },
    );
    view! {
        <Title text="Invitations · Muster" />
        <h1>"Invitations"</h1>
        <p class="lead">"People join a group only after they accept their invitation."</p>
        <section class="card" aria-labelledby="invite-by-email">
            <h2 id="invite-by-email">"Invite by email"</h2>
            <InviteByEmail asked invited groups />
        </section>

        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let all_groups = groups.await.unwrap_or_default();
                let (current_status, current_group) = (status(), group_filter());
                view! {
                    <InvitationFilters
                        groups=all_groups
                        status=current_status
                        group_id=current_group
                        search=search()
                        import=import_filter()
                        email=email_filter()
                    />
                }
            })}
        </Suspense>
        <section class="card bulk" aria-labelledby="bulk-heading"
            data-ready=move || hydrated.get().then_some("true")>
            <h2 id="bulk-heading">"Resend or cancel many"</h2>
            <div class="bulk-actions">
                <button
                    type="button"
                    disabled=move || selected.read().is_empty() || busy()
                    on:click=move |_| {
                        send_ask(Ask::ResendSelected(selected.get_untracked()));
                    }
                >
                    {move || format!("Resend selected ({})", selected.read().len())}
                </button>
                <button
                    type="button"
                    disabled=move || selected.read().is_empty() || busy()
                    on:click=move |_| asking.set(Some(BulkCancel::Selected))
                >
                    {move || format!("Cancel selected ({})…", selected.read().len())}
                </button>
                <button
                    type="button"
                    disabled=busy
                    on:click=move |_| send_ask(Ask::ResendMatching(matching()))
                >
                    "Resend all pending or expired matching the filter"
                </button>
                <button
                    type="button"
                    disabled=busy
                    on:click=move |_| asking.set(Some(BulkCancel::Matching))
                >
                    "Cancel all pending matching the filter…"
                </button>
            </div>
            // Always in the page and hidden until asked: one element whose text changes
            // costs the bundle less than a view that comes and goes.
            <div class="confirm-box" role="group" aria-label="Confirm cancelling"
                hidden=move || asking.read().is_none()>
                <p>{move || match asking.get() {
                    Some(BulkCancel::Selected) => match selected.read().len() {
                        1 => "Cancel the 1 selected invitation? Its link stops working.".to_owned(),
                        n => format!("Cancel the {n} selected invitations? Their links stop working."),
                    },
                    Some(BulkCancel::Matching) => {
                        let listed = invitations.get().and_then(Result::ok).map_or(0, |r| r.total);
                        format!(
                            "Cancel every pending invitation matching the filter (at most {listed})? Their links stop working."
                        )
                    }
                    None => String::new(),
                }}</p>
                <button type="button" class="danger" on:click=move |_| {
                    match asking.get_untracked() {
                        Some(BulkCancel::Selected) => send_ask(Ask::CancelSelected(selected.get_untracked())),
                        Some(BulkCancel::Matching) => send_ask(Ask::CancelMatching(matching())),
                        None => {}
                    }
                    asking.set(None);
                }>"Yes, cancel them"</button>
                <button type="button" class="secondary" on:click=move |_| asking.set(None)>"Keep them"</button>
            </div>
            <p class="help">"Each address gets at most 3 resent invitations a day; cancelled and accepted invitations are left as they are."</p>

            {asked.error(Ask::is_bulk)}
        </section>
        <p role="status" class="success" id="invitations-said">{move || bulk_result.get()}</p>
        {asked.error(Ask::is_for_one)}
        {posted_error(ResendInvitation::PATH)}
        {posted_error(CancelInvitation::PATH)}
        <Suspense fallback=|| view! { <p class="loading">"Loading invitations…"</p> }>
            {move || Suspend::new(async move {
                match invitations.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(result) if result.rows.is_empty() => view! {
                        <p class="empty">{if status().is_empty() && search().is_empty() && email_filter().is_empty() { "No invitations yet." } else { "No invitation matches." }}</p>
                    }.into_any(),
                    Ok(result) => {
                        let pages = result.page_count();
                        let current = result.page;
                        let (status_now, search_now, group_now, import_now, email_now) = (status(), search(), group_filter(), import_filter(), email_filter());
                        let link = move |page: i64| format!(
                            "/admin/invitations?status={}&group={group_now}&import={import_now}&email={}&search={}&page={page}",
                            encode_query_value(&status_now), encode_query_value(&email_now), encode_query_value(&search_now)
                        );
                        // Failed emails listed: offer to resend them right here. Hidden rather
                        // than left out, for the same reason as the rows' notes.
                        let failed_listed = email_filter() == OutboxStatus::Failed.as_str();
                        let failed_said = match result.total {
                            _ if !failed_listed => String::new(),
                            1 => "1 email failed".to_owned(),
                            n => format!("{} emails failed", thousands(n)),
                        };
                        let selectable: Vec<i64> = result.rows.iter()
                            .filter(|row| row.status.can_resend())
                            .map(|row| row.id)
                            .collect();
                        view! {
                            <div class="banner warning" role="group" aria-label="Failed emails" hidden=!failed_listed>
                                <p>{failed_said}" — "
                                    <button type="button" disabled=busy
                                        on:click=move |_| send_ask(Ask::ResendMatching(matching()))>"Resend them"</button>
                                </p>
                            </div>
                            <p role="status">{format!("{} invitations", result.total)}</p>
                            <table aria-label="Invitations">
                                <thead><tr>
                                    <th scope="col">
                                        <SelectPage label="Select every pending or expired invitation on this page" ids=selectable selected />
                                    </th>
                                    <th scope="col">"Email"</th><th scope="col">"Group"</th><th scope="col">"Status"</th>
                                    <th scope="col">"Expires"</th><th scope="col">"Email delivery"</th><th scope="col">"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {result.rows.into_iter().map(|row| {
                                        let can_resend = row.status.can_resend();
                                        let can_cancel = row.status.can_cancel();
                                        let row_id = row.id;
                                        let select_label = format!("Select invitation of {}", row.email);
                                        let id = row.id.to_string();
                                        let (resend_id, resend_label) = (id.clone(), format!("Resend to {}", row.email));
                                        let cancel_label = format!("Cancel invitation of {}", row.email);
                                        let cancel_question = format!("Cancel the invitation of {}? Its link stops working.", row.email);
                                        let resend_ask = Ask::Resend { id: row_id, email: row.email.clone() };
                                        let cancel_ask = Ask::Cancel { id: row_id, email: row.email.clone() };
                                        let delivery = row.delivery.label();
                                        let note = move || row_note.get().filter(|(id, _)| *id == row_id).map(|(_, note)| note);
                                        view! {
                                            <tr>
                                                <td>
                                                    {can_resend.then(|| view! {
                                                        <SelectRow id=row_id label=select_label selected />
                                                    })}
                                                </td>
                                                <td>
                                                    {row.email.clone()}
                                                    // Lines under a cell's text are spans of one type whose text may
                                                    // be missing (hidden when empty): each optional view would be a
                                                    // type of its own, with its own copy of the view code.
                                                    <span class="help row-note">{row.accepted_name.clone()}</span>
                                                </td>
                                                <td>{row.group_name.clone()}</td>
                                                <td>
                                                    {row.status.label()}
                                                    <span class="help row-note">{row.next_reminder_at.map(|at| format!("Next reminder: {}", format_day_month(at)))}</span>
                                                    <span class="help row-note">{note}</span>
                                                </td>
                                                <td>{format_date(row.expires_at)}</td>
                                                <td>{delivery}</td>
                                                <td class="actions">
                                                    {can_resend.then(|| view! {
                                                        <form method="post" action=ResendInvitation::PATH on:submit=move |ev| {
                                                            ev.prevent_default();
                                                            send_ask(resend_ask.clone());
                                                        }>
                                                            <input type="hidden" name="id" value=resend_id />
                                                            <button type="submit" aria-label=resend_label disabled=busy>"Resend"</button>
                                                        </form>
                                                    })}
                                                    {can_cancel.then(|| view! {
                                                        // A <details> asks first, with and without JavaScript.
                                                        <details class="confirm">
                                                            <summary class="button" aria-label=cancel_label>"Cancel…"</summary>
                                                            <p>{cancel_question}</p>
                                                            <form method="post" action=CancelInvitation::PATH on:submit=move |ev| {
                                                                ev.prevent_default();
                                                                send_ask(cancel_ask.clone());
                                                            }>
                                                                <input type="hidden" name="id" value=id />
                                                                <button type="submit" class="danger" disabled=busy>"Yes, cancel it"</button>
                                                            </form>
                                                        </details>
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

/// The form that invites up to ten addresses into one group, and what
/// happened to each address.
#[component]
fn InviteByEmail(
    asked: Asked<Ask, Said>,
    invited: RwSignal<Vec<InviteOutcome>>,
    groups: ServerData<Result<Vec<GroupSummary>, AppError>>,
) -> impl IntoView {
    let group = NodeRef::<leptos::html::Select>::new();
    let emails = NodeRef::<leptos::html::Textarea>::new();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading groups…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"Create a group first: invitations are to a group. "<a href="/admin/groups">"Go to Groups"</a></p>
                    }.into_any(),
                    Ok(list) => view! {
                        <form method="post" action=SendInvitations::PATH on:submit=move |ev| {
                            ev.prevent_default();
                            let (Some(group), Some(emails)) = (group.get_untracked(), emails.get_untracked()) else {
                                return;
                            };
                            asked.send(
                                Ask::Invite { group_id: group.value().parse().unwrap_or_default(), emails: emails.value() },
                                invitation_requests,
                            );
                        }>
                            <label for="invite-group">"Invite to group"</label>
                            <select id="invite-group" name="group_id" required node_ref=group>
                                {list.into_iter().map(|group| view! {
                                    <option value=group.id.to_string()>{group.name}</option>
                                }).collect_view()}
                            </select>
                            <label for="invite-emails">"Email addresses"</label>
                            <textarea id="invite-emails" name="emails" rows="4" required aria-describedby="invite-help" node_ref=emails></textarea>
                            <p id="invite-help" class="help">
                                {format!("Up to {MAX_MANUAL_INVITES} addresses, separated by commas or new lines. Each gets an email with a link to accept.")}
                            </p>
                            {asked.error(Ask::is_invite)}
                            {posted_error(SendInvitations::PATH)}
                            <button type="submit" class="primary" disabled=move || asked.pending()>"Send invitations"</button>
                        </form>
                        // In the page from the start and hidden until a send answers, like the
                        // rows' notes: its rows are what changes.
                        <table aria-label="Invitation results" hidden=move || invited.read().is_empty()>
                            <thead><tr><th scope="col">"Email"</th><th scope="col">"Result"</th></tr></thead>
                            <tbody>
                                {move || invited.get().into_iter().map(|outcome| {
                                    let class = match outcome.result {
                                        InviteResult::Invited => "success",
                                        InviteResult::Invalid(_) => "error",
                                        _ => "",
                                    };
                                    view! { <tr><td>{outcome.email}</td><td class=class>{outcome.result.label()}</td></tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The list's filter, a plain GET form so it works without JavaScript.
#[component]
fn InvitationFilters(
    groups: Vec<GroupSummary>,
    status: String,
    group_id: i64,
    search: String,
    import: i64,
    email: String,
) -> impl IntoView {
    view! {
        <form method="get" action="/admin/invitations" class="search" role="search">
            <label for="invitations-status">"Status"</label>
            <select id="invitations-status" name="status">
                {status_choices().map(|(value, label)| view! {
                    <option value=value selected=status == value>{label}</option>
                }).collect_view()}
            </select>
            <label for="invitations-group">"Group"</label>
            <select id="invitations-group" name="group">
                <option value="0">"All groups"</option>
                {groups.into_iter().map(|choice| view! {
                    <option value=choice.id.to_string() selected=group_id == choice.id>{choice.name}</option>
                }).collect_view()}
            </select>
            <label for="invitations-email">"Email"</label>
            <select id="invitations-email" name="email">
                {email_choices().map(|(value, label)| view! {
                    <option value=value selected=email == value>{label}</option>
                }).collect_view()}
            </select>
            <label for="invitations-search">"Search by email"</label>
            <input id="invitations-search" type="search" name="search" value=search />
            // 0 is every import, as when it is left out.
            <input type="hidden" name="import" value=import.to_string() />
            <button type="submit">"Filter"</button>
        </form>
        <p class="help" hidden=import == 0>
            {format!("Showing the invitations of import {import}. ")}
            <a href="/admin/invitations">"Show all invitations"</a>
        </p>
    }
}
