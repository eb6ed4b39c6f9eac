//! Imports: the organization's history, and one import's progress and rows.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{action_error, posted_error, thousands, Asked, ErrorMessage, Pager};
use crate::{
    bulk::BulkOutcome,
    error::AppError,
    imports::{
        approve_import, cancel_import, confirm_import, discard_import, get_import,
        import_email_delivery, import_rows, list_imports, people, resend_failed_import_emails,
        sync_guard, undo_dry_run, undo_import, ApproveImport, CancelImport, ConfirmImport,
        DiscardImport, ImportRowStatus, ImportStatus, ImportSummary, ResendFailedImportEmails,
        SetSyncGuard, UndoImport, UndoProgress,
    },
    mail::{templates::format_date, DeliveryCounts, OutboxStatus},
};
use leptos::server_fn::ServerFn;

/// What an import's page asks of the server: each is a server function that takes the
/// import's id, posted by a plain form without JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    Confirm,
    /// Stops a running import after its batch.
    Cancel,
    /// Drops a draft that waits for confirmation (the same server function as `Cancel`).
    DiscardDraft,
    Approve,
    Discard,
    Undo,
    ResendFailed,
}

impl Ask {
    fn path(self) -> &'static str {
        match self {
            Ask::Confirm => ConfirmImport::PATH,
            Ask::Cancel | Ask::DiscardDraft => CancelImport::PATH,
            Ask::Approve => ApproveImport::PATH,
            Ask::Discard => DiscardImport::PATH,
            Ask::Undo => UndoImport::PATH,
            Ask::ResendFailed => ResendFailedImportEmails::PATH,
        }
    }
}

/// The page's requests, from a module the page loads on the first press: most visits
/// to an import's page watch it run.
#[lazy]
async fn import_requests(ask: Ask, id: i64) -> Result<Option<BulkOutcome>, AppError> {
    match ask {
        Ask::Confirm => confirm_import(id).await.map(|()| None),
        Ask::Cancel | Ask::DiscardDraft => cancel_import(id).await.map(|()| None),
        Ask::Approve => approve_import(id).await.map(|()| None),
        Ask::Discard => discard_import(id).await.map(|()| None),
        Ask::Undo => undo_import(id).await.map(|()| None),
        Ask::ResendFailed => resend_failed_import_emails(id).await.map(Some),
    }
}

/// What undoing would do, in words, and whether there is anything to undo; asked when
/// the admin opens "Undo this import…", from a module of its own.
#[lazy]
async fn undo_plan(id: i64) -> Result<(String, bool), AppError> {
    undo_dry_run(id)
        .await
        .map(|plan| (plan.sentence(), plan.is_empty()))
}

/// A button that posts the import's id to `ask`'s server function: the browser posts
/// its form without JavaScript, and the page's `asked` sends it with. (A button, not
/// children: each distinct child view would be another copy of the view code.)
#[component]
fn AskForm(
    ask: Ask,
    id: i64,
    asked: Asked<Ask, Option<BulkOutcome>>,
    #[prop(into)] label: String,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] described_by: Option<&'static str>,
) -> impl IntoView {
    view! {
        <form method="post" action=ask.path() on:submit=move |ev| {
            ev.prevent_default();
            asked.send(ask, move |ask| import_requests(ask, id));
        }>
            <input type="hidden" name="id" value=id />
            <button type="submit" class=class aria-describedby=described_by disabled=move || asked.pending()>
                {label}
            </button>
        </form>
    }
}

/// The organization's mass-change guard for sync imports.
#[component]
fn SyncGuardSetting() -> impl IntoView {
    let save = ServerAction::<SetSyncGuard>::new();
    let current = server_data(move || save.version().get(), |_| sync_guard());
    view! {
        <section aria-labelledby="sync-guard-title" class="settings">
            <h2 id="sync-guard-title">"Sync guard"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match current.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(percent) => view! {
                            <ActionForm action=save>
                                <label for="sync-guard-percent">
                                    "Ask for the number of people leaving when a sync removes more than this share of a group (%)"
                                </label>
                                <input id="sync-guard-percent" name="percent" type="number" min="0" max="100" required
                                    value=percent />
                                <button type="submit" class="secondary">"Save"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p role="status" class="success">
                {move || matches!(save.value().get(), Some(Ok(()))).then_some("Saved.")}
            </p>
            {action_error(save.value())}
        </section>
    }
}

#[component]
pub fn ImportsPage() -> impl IntoView {
    let imports = server_data(|| (), |_| list_imports());
    view! {
        <Title text="Imports · Muster" />
        <div class="page-head">
            <h1>"Imports"</h1>
            <a class="button" href="/admin/imports/new">"New import"</a>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match imports.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">
                            "No imports yet. Start one with "
                            <a href="/admin/imports/new">"New import"</a>
                            ": upload a CSV, TSV or spreadsheet, or paste a list."
                        </p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list">
                            <caption class="visually-hidden">"Imports, newest first"</caption>
                            <thead><tr>
                                <th scope="col">"Import"</th>
                                <th scope="col">"Kind"</th>
                                <th scope="col">"Group"</th>
                                <th scope="col">"By"</th>
                                <th scope="col">"Started"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Rows"</th>
                                <th scope="col">"Succeeded"</th>
                                <th scope="col">"Skipped"</th>
                                <th scope="col">"Failed"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|i| view! {
                                    <tr>
                                        <td><a href=format!("/admin/imports/{}", i.id)>{format!("#{} {}", i.id, i.source_name)}</a></td>
                                        <td>{i.kind.label()}</td>
                                        <td>{i.group_name.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{i.created_by.clone()}</td>
                                        <td class="date">{format_date(i.created_at)}</td>
                                        <td><span class=format!("status status-{}", i.status)>{i.status.label()}</span></td>
                                        <td class="num">{thousands(i.total_rows)}</td>
                                        <td class="num">{thousands(i.succeeded)}</td>
                                        <td class="num">{thousands(i.skipped)}</td>
                                        <td class="num">{thousands(i.failed)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <SyncGuardSetting />
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let status_filter = move || query.read().get("status").unwrap_or_default();
    // Where the rows' invitation emails stand: "" for any, or an outbox status.
    let email_filter = move || query.read().get("email").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
    };
    let asked = Asked::<Ask, Option<BulkOutcome>>::new();
    // Effects run only in the browser: the panel says when its actions answer in place.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // What the last action did, said in place; a discarded draft reads differently
    // from a running import asked to stop, and the page redraws as neither.
    let said = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| {
        if let Some((ask, Ok(_))) = asked.last() {
            said.set(match ask {
                Ask::Cancel => Some("Cancelling: the import stops after the current batch."),
                Ask::DiscardDraft => Some("Discarded: nothing from this file will be imported."),
                Ask::Confirm => Some("Confirmed: the import is queued."),
                Ask::Approve => Some("Approved: the sync is queued."),
                Ask::Discard => Some("Discarded: nothing changed."),
                Ask::Undo => Some("Undoing: progress shows below."),
                // The emails panel says what a resend did.
                Ask::ResendFailed => None,
            });
        }
    });
    // Polling while the import runs; each tick refetches the summary and rows.
    let tick = RwSignal::new(0u32);
    // The summary and where its emails stand, one resource: they change together
    // (polled while either moves), and each resource costs the page's module a copy of
    // its loading and hydrating machinery.
    let import = server_data(
        move || (id(), tick.get(), asked.version()),
        |(id, _, _)| async move { (get_import(id).await, import_email_delivery(id).await) },
    );
    let rows = server_data(
        move || {
            (
                id(),
                (status_filter(), email_filter()),
                page(),
                tick.get(),
                asked.version(),
            )
        },
        |(id, (status, email), page, _, _)| {
            import_rows(id, (!status.is_empty()).then_some(status), page, email)
        },
    );
    #[cfg(feature = "hydrate")]
    {
        use leptos::leptos_dom::helpers::set_interval_with_handle;
        let handle = set_interval_with_handle(
            move || {
                let (summary, emails) = import.get_untracked().unzip();
                let running = summary.and_then(|r| r.ok()).is_some_and(|i| {
                    i.status.is_in_progress()
                        || i.undo.as_ref().is_some_and(|u| u.status.is_in_progress())
                });
                // Emails go out after the rows are done: the counts keep moving.
                let sending = emails
                    .and_then(|r| r.ok())
                    .is_some_and(|counts| counts.waiting > 0);
                if running || sending {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(1000),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    let summary_view = move |i: ImportSummary| {
        let id = i.id;
        let finished = i.is_finished();
        let draft = i.status == ImportStatus::Draft;
        view! {
            <Title text=format!("Import #{} · Muster", i.id) />
            <div class="page-head">
                <h1>{format!("Import #{}: {}", i.id, i.source_name)}</h1>
                <a href="/admin/imports">"All imports"</a>
            </div>
            <p>
                {i.kind.label()}
                {i.group_name.clone().map(|g| format!(" into {g}"))}
                {format!(" · by {} on {}", i.created_by, format_date(i.created_at))}
            </p>
            <p class="summary-sentence">{summary_sentence(&i)}</p>
            <section aria-labelledby="progress-title" class="progress-panel"
                data-ready=move || hydrated.get().then_some("true")>
                <h2 id="progress-title">
                    <span class=format!("status status-{}", i.status)>{i.status.label()}</span>
                    {(i.cancel_requested && !finished).then_some(" (stopping after this batch)")}
                </h2>
                <progress
                    max=i.total_rows.max(1)
                    value=i.processed
                    aria-label="Rows processed"
                ></progress>
                <p role="status" aria-live="polite" class="counts">
                    {format!(
                        "{} of {} rows processed ({}%) · {} succeeded · {} skipped · {} failed",
                        thousands(i.processed), thousands(i.total_rows), i.percent(),
                        thousands(i.succeeded), thousands(i.skipped), thousands(i.failed),
                    )}
                </p>
                {i.error.clone().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="actions">
                    {draft.then(|| view! {
                        <AskForm ask=Ask::Confirm id asked label="Confirm import" />
                    })}
                    {(i.status.can_cancel() && !i.status.can_approve()).then(|| {
                        let left = (i.total_rows - i.processed).max(0);
                        // A <details> asks first, with and without JavaScript.
                        let (open, question, yes) = if draft {
                            (
                                "Discard…",
                                format!("Discard this import? None of its {} rows will be imported.", thousands(i.total_rows)),
                                "Yes, discard it",
                            )
                        } else {
                            (
                                "Cancel import…",
                                format!("Cancel this import? It stops after the current batch; up to {} rows not yet processed will not be imported.", thousands(left)),
                                "Yes, cancel the import",
                            )
                        };
                        view! {
                            <details class="confirm">
                                <summary class="button secondary">{open}</summary>
                                <p>{question}</p>
                                <AskForm ask=if draft { Ask::DiscardDraft } else { Ask::Cancel } id asked label=yes class="danger" />
                            </details>
                        }
                    })}
                    {(i.failed > 0 || i.retryable() > 0).then(|| view! {
                        <a class="button secondary" href=format!("/admin/imports/{id}/failed.csv") rel="external" download>
                            "Download failed rows (CSV)"
                        </a>
                    })}
                    {(i.retryable() > 0).then(|| view! {
                        <a class="button" href=format!("/admin/imports/new?retry={id}")>"Fix and retry the failed rows"</a>
                    })}
                    {(!draft).then(|| view! {
                        <a href=format!("/admin/invitations?import={id}")>"See its invitations"</a>
                    })}
                </div>
                {i.status.can_approve().then(|| view! {
                    <div class="guard">
                        <p id="guard-question">{format!(
                            "This sync would remove {} who {} not in the file, more than the organization allows without approval. Nothing has changed yet.",
                            people(i.leaving), if i.leaving == 1 { "is" } else { "are" }
                        )}</p>
                        <AskForm ask=Ask::Approve id asked label=format!("Approve: remove {}", people(i.leaving))
                            described_by="guard-question" />
                        <AskForm ask=Ask::Discard id asked label="Discard this sync" class="secondary" />
                    </div>
                })}
                <p role="status" class="success">{move || said.get()}</p>
                {asked.error(|ask| !matches!(ask, Ask::Undo | Ask::ResendFailed))}
                {[Ask::Cancel, Ask::Confirm, Ask::Approve, Ask::Discard].map(|ask| posted_error(ask.path()))}
            </section>
            <UndoPanel id can_undo=i.can_undo() progress=i.undo.clone() asked />
        }
    };
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match import.await.0 {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(i) => summary_view(i).into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                import.await.1.ok().filter(|counts| counts.total() > 0).map(|counts| view! {
                    <EmailsPanel id=id() counts asked />
                })
            })}
        </Suspense>
        <section aria-labelledby="rows-title">
            <h2 id="rows-title">"Rows"</h2>
            <form method="get" class="filters">
                <label>"Show "
                    <select name="status" on:change=move |ev| {
                        // Submits the filter at once when JavaScript runs.
                        use leptos::wasm_bindgen::JsCast;
                        if let Some(form) = event_target::<leptos::web_sys::HtmlSelectElement>(&ev).form() {
                            let _ = form.dyn_into::<leptos::web_sys::HtmlFormElement>().map(|f| f.submit());
                        }
                    }>
                        <option value="" selected=move || status_filter().is_empty()>"All rows"</option>
                        {ImportRowStatus::ALL.map(|row_status| view! {
                            <option value=row_status.as_str() selected=move || status_filter() == row_status.as_str()>
                                {row_status.label()}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>" Email "
                    <select name="email" on:change=move |ev| {
                        use leptos::wasm_bindgen::JsCast;
                        if let Some(form) = event_target::<leptos::web_sys::HtmlSelectElement>(&ev).form() {
                            let _ = form.dyn_into::<leptos::web_sys::HtmlFormElement>().map(|f| f.submit());
                        }
                    }>
                        {[("", "Any"), (OutboxStatus::Queued.as_str(), "Queued"), (OutboxStatus::Sent.as_str(), "Sent"), (OutboxStatus::Failed.as_str(), "Email failed")]
                            .map(|(value, label)| view! {
                                <option value=value selected=move || email_filter() == value>{label}</option>
                            }).collect_view()}
                    </select>
                </label>
                <noscript><button type="submit">"Filter"</button></noscript>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading rows…"</p> }>
                {move || Suspend::new(async move {
                    // Only imports that sent invitations have an email per row
                    // to show (activation emails are not linked to rows).
                    let emailed = import.await.1.is_ok_and(|counts| counts.total() > 0);
                    match rows.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <p class="empty">"No rows match this filter."</p>
                        }.into_any(),
                        Ok(page) => {
                            let current = page.page;
                            let pages = page.page_count();
                            let status = status_filter();
                            let email = email_filter();
                            let id = id();
                            view! {
                                <table class="list rows">
                                    <caption class="visually-hidden">"Rows of this import"</caption>
                                    <thead><tr>
                                        <th scope="col">"Row"</th>
                                        <th scope="col">"Person"</th>
                                        <th scope="col">"Planned"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Message"</th>
                                        {emailed.then(|| view! { <th scope="col">"Email"</th> })}
                                    </tr></thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|r| {
                                            let email = emailed.then(|| view! { <td>{r.email.label()}</td> });
                                            view! {
                                            <tr class=format!("row-{}", r.status)>
                                                <td class="num">{r.row_number}</td>
                                                <td>{r.who}</td>
                                                <td>{r.planned}</td>
                                                <td><span class=format!("status status-{}", r.status)>{r.status.label()}</span></td>
                                                <td>{r.message.unwrap_or_default()}</td>
                                                {email}
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                                <Pager current pages link=move |p| format!(
                                    "/admin/imports/{id}?status={status}&email={email}&page={p}"
                                ) />
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Undo: the dry run in words, then the undo, its progress and its outcome.
#[component]
fn UndoPanel(
    id: i64,
    can_undo: bool,
    progress: Option<UndoProgress>,
    asked: Asked<Ask, Option<BulkOutcome>>,
) -> impl IntoView {
    if let Some(p) = progress {
        let when = p.finished_at.unwrap_or(p.created_at);
        return view! {
            <section aria-labelledby="undo-title" class="undo-panel">
                <h2 id="undo-title">
                    <span class=format!("status status-undo-{}", p.status)>{p.status.label()}</span>
                </h2>
                <progress max="100" value=p.percent() aria-label="Undo progress"></progress>
                <p role="status" aria-live="polite">
                    {format!("{} {} by {} on {}.", p.sentence(),
                        if p.status.is_in_progress() { "Asked for" } else { "Undone" },
                        p.requested_by, format_date(when))}
                    {(p.kept > 0).then(|| format!(" Kept {} who had used their accounts.", people(p.kept)))}
                </p>
            </section>
        }
        .into_any();
    }
    if !can_undo {
        return ().into_any();
    }
    // The dry run is asked for when the admin opens "Undo this import…", in
    // the browser: a resource created inside the import's resolved Suspend
    // and streamed inside <details> broke the hydration of the whole page
    // (seen in the end-to-end runs), and a closed panel needs no counts. A
    // signal set by the request holds it: no resource or Suspense of its own.
    let plan = RwSignal::new(None::<Result<(String, bool), AppError>>);
    let asking = RwSignal::new(false);
    view! {
        <section aria-labelledby="undo-title" class="undo-panel">
            <h2 id="undo-title">"Undo"</h2>
            <details class="confirm" on:toggle=move |_| {
                if !asking.get_untracked() {
                    asking.set(true);
                    leptos::task::spawn_local(async move { plan.set(Some(undo_plan(id).await)) });
                }
            }>
                <summary class="button secondary">"Undo this import…"</summary>
                {move || match plan.get() {
                    None => asking.get().then(|| view! { <p class="loading">"Counting what it would undo…"</p> }.into_any()),
                    Some(Err(error)) => Some(view! { <ErrorMessage error /> }.into_any()),
                    Some(Ok((sentence, empty))) => Some(view! {
                        <p id="undo-dry-run">{sentence}</p>
                        {(!empty).then(|| view! {
                            <AskForm ask=Ask::Undo id asked label="Undo" class="danger" described_by="undo-dry-run" />
                        })}
                    }.into_any()),
                }}
            </details>
            {asked.error(|ask| *ask == Ask::Undo)}
            {posted_error(Ask::Undo.path())}
        </section>
    }
    .into_any()
}

/// The import's plan in words: as planned while it waits or runs, in the past
/// tense once it completed as planned; otherwise the plan, labelled as such (the
/// counts beside it say what was done).
fn summary_sentence(import: &ImportSummary) -> String {
    match import.status {
        ImportStatus::Completed => past_tense(&import.summary),
        status if status.is_finished() => format!("Planned: {}", import.summary),
        _ => import.summary.clone(),
    }
}

/// The plan sentence (`PlanTotals::summary_sentence`: "Creates 3 accounts, sends
/// 3 account setup emails; 1 row with errors will not be imported.") as done.
fn past_tense(sentence: &str) -> String {
    const VERBS: [(&str, &str); 9] = [
        ("Links", "Linked"),
        ("Creates", "Created"),
        ("creates", "created"),
        ("Updates", "Updated"),
        ("updates", "updated"),
        ("Sends", "Sent"),
        ("sends", "sent"),
        ("Adds", "Added"),
        ("adds", "added"),
    ];
    let clause = |clause: &str| -> String {
        let clause = clause
            .replace(
                " row with errors will not be imported",
                " row with errors was not imported",
            )
            .replace("will not be imported", "were not imported")
            .replace("Changes nothing", "Changed nothing");
        for (now, then) in VERBS.into_iter().chain([
            ("Skips", "Skipped"),
            ("skips", "skipped"),
            ("needs", "needed"),
        ]) {
            if let Some(rest) = clause.strip_prefix(now) {
                return format!("{then}{rest}");
            }
        }
        clause
    };
    let clauses = |part: &str| part.split(", ").map(clause).collect::<Vec<_>>().join(", ");
    let parts = |sentence: &str| {
        sentence
            .split("; ")
            .map(clauses)
            .collect::<Vec<_>>()
            .join("; ")
    };
    sentence
        .split(". ")
        .map(parts)
        .collect::<Vec<_>>()
        .join(". ")
}

#[cfg(test)]
mod tests {
    use super::past_tense;

    #[test]
    fn a_finished_plan_is_told_in_the_past_tense() {
        assert_eq!(
            past_tense("Sends 5 invitation emails."),
            "Sent 5 invitation emails."
        );
        assert_eq!(
            past_tense("Creates 120 accounts, updates 8, sends 1,234 invitation emails, skips 14 people already in the group."),
            "Created 120 accounts, updated 8, sent 1,234 invitation emails, skipped 14 people already in the group."
        );
        assert_eq!(
            past_tense("Creates 2 invitations without sending emails, adds 1 membership to the group; 1 row with errors will not be imported."),
            "Created 2 invitations without sending emails, added 1 membership to the group; 1 row with errors was not imported."
        );
        assert_eq!(past_tense("Changes nothing."), "Changed nothing.");
        assert_eq!(
            past_tense(
                "Creates 2 accounts. Links students to their parents and instructors: 1 link."
            ),
            "Created 2 accounts. Linked students to their parents and instructors: 1 link."
        );
    }
}

/// Where the import's invitation emails stand, live, and the failed ones
/// resent in place.
#[component]
fn EmailsPanel(
    id: i64,
    counts: DeliveryCounts,
    asked: Asked<Ask, Option<BulkOutcome>>,
) -> impl IntoView {
    let said = move || match asked.last() {
        Some((Ask::ResendFailed, Ok(Some(outcome)))) => Some({
            outcome.describe(&match outcome.done {
                1 => "Resent 1 invitation with a new link".to_owned(),
                n => format!("Resent {} invitations with new links", thousands(n)),
            })
        }),
        _ => None,
    };
    view! {
        <section aria-labelledby="emails-title" class="card">
            <h2 id="emails-title">"Invitation emails"</h2>
            <p role="status" aria-live="polite" class="counts">
                {format!(
                    "{} sent · {} waiting · {} failed",
                    thousands(counts.sent), thousands(counts.waiting), thousands(counts.failed),
                )}
            </p>
            {counts.failed_banner().map(|banner| view! {
                <div class="banner warning" role="group" aria-label="Failed emails">
                    // The form is inline (style/main.css): a <form> cannot sit in a <p>.
                    {format!("{banner} — ")}
                    <AskForm ask=Ask::ResendFailed id asked label="Resend them" />
                    " "
                    <a href=format!("/admin/imports/{id}?email=failed")>"Show them"</a>
                </div>
            })}
            <p role="status" class="success">{said}</p>
            {asked.error(|ask| *ask == Ask::ResendFailed)}
            {posted_error(Ask::ResendFailed.path())}
        </section>
    }
}
