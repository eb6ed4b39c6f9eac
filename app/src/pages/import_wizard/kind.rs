//! Step 1, "What": the kind of import, its group or contract, and its options.

use crate::server_data::server_data;
use leptos::prelude::*;
use muster_core::ImportKind;

use super::{searchable_select::SearchableSelect, state::WizardState};
use crate::{
    contracts::list_contracts, groups::list_groups, imports::ImportOptions, pages::ErrorMessage,
};

#[component]
pub fn KindStep() -> impl IntoView {
    let state = expect_context::<WizardState>();
    let WizardState {
        kind,
        expiry_days,
        send_emails,
        auto_invite,
        sync,
        ..
    } = state;
    view! {
        <fieldset>
            <legend>"1. What"</legend>
            <KindSelect />
            <TemplateLinks />
            <GroupSelect />
            <ContractSelect />
            // Only the options that change what this kind does are shown.
            {move || EmailOption::of(kind.get()).invites().then(|| view! {
                <label for="import-expiry">"Invitations expire after (days)"</label>
                <input id="import-expiry" name="expiry_days" type="number" min="1" max="365"
                    placeholder="The group's default"
                    value=expiry_days.get_untracked()
                    prop:value=move || expiry_days.get()
                    on:input=move |ev| expiry_days.set(event_target_value(&ev)) />
            })}
            {move || {
                let option = EmailOption::of(kind.get());
                let on = match option {
                    EmailOption::SetPasswordOnCreate => auto_invite,
                    _ => send_emails,
                };
                view! { <OptionBox name=option.field() label=option.label() on /> }
            }}
            {move || ImportOptions::can_sync(kind.get()).then(|| view! {
                <OptionBox name="sync"
                    label=ImportOptions::sync_label(kind.get())
                    on=sync />
                <p class="hint">"People the file does not name leave the group (their pending invitations are cancelled); no account is deleted. The dry run lists who would leave."</p>
            })}
        </fieldset>
    }
}

/// The one email choice each kind offers, and what it means for that kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EmailOption {
    /// Invites, program invitations, group members: each row's invitation email.
    InvitationLink,
    /// Learners: accounts are created; the email lets each set a password.
    SetPassword,
    /// People: new accounts get a set-your-password (activation) email when the
    /// import finishes; people updated are not emailed.
    SetPasswordOnCreate,
}

impl EmailOption {
    fn of(kind: ImportKind) -> EmailOption {
        match kind {
            ImportKind::Invites | ImportKind::ProgramInvitations | ImportKind::GroupMembers => {
                EmailOption::InvitationLink
            }
            ImportKind::Learners => EmailOption::SetPassword,
            ImportKind::People => EmailOption::SetPasswordOnCreate,
        }
    }

    /// Whether the kind creates invitations (which expire).
    fn invites(self) -> bool {
        self == EmailOption::InvitationLink
    }

    /// The import option the checkbox sets, as the form posts it.
    fn field(self) -> &'static str {
        match self {
            EmailOption::SetPasswordOnCreate => "auto_invite",
            EmailOption::InvitationLink | EmailOption::SetPassword => "send_emails",
        }
    }

    fn label(self) -> &'static str {
        match self {
            EmailOption::InvitationLink => "Email each person their invitation link",
            EmailOption::SetPassword => "Email each new person a link to set their password",
            EmailOption::SetPasswordOnCreate => {
                "Email each new person a link to set their password (people already in Muster are not emailed)"
            }
        }
    }
}

/// A checkbox option the form posts as `name=on`.
#[component]
fn OptionBox(name: &'static str, label: &'static str, on: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" name=name value="on"
                checked=move || on.get()
                on:change=move |ev| on.set(event_target_checked(&ev)) />
            {label}
        </label>
    }
}

#[component]
fn KindSelect() -> impl IntoView {
    let state = expect_context::<WizardState>();
    view! {
        <label for="import-kind">"What are you importing?"</label>
        <select id="import-kind" name="kind" on:change=move |ev| {
            if let Ok(kind) = event_target_value(&ev).parse() {
                state.change_kind(kind);
            }
        }>
            {ImportKind::ALL.into_iter().map(|k| view! {
                <option value=k.as_str() selected=move || state.kind.get() == k>{k.label()}</option>
            }).collect_view()}
        </select>
    }
}

/// Links to the kind's templates, and the columns it reads.
#[component]
fn TemplateLinks() -> impl IntoView {
    let kind = expect_context::<WizardState>().kind;
    move || {
        let k = kind.get();
        view! {
            <p class="hint">
                "Start from the "
                <a href=format!("/admin/imports/template/{}.csv", k.as_str()) rel="external" download>
                    {format!("{} template (CSV)", k.label())}
                </a>
                {(k == ImportKind::People).then(|| view! {
                    " or the "
                    <a href="/admin/imports/template/people.xlsx" rel="external" download>
                        "workbook with Students, Instructors and Parents tabs (XLSX)"
                    </a>
                })}
                ". Columns: "
                {k.columns().iter().map(|c| c.header).collect::<Vec<_>>().join(", ")}
                "."
            </p>
        }
    }
}

/// The group picker, for kinds that add people to a group; picking one proposes
/// its invitation expiry.
#[component]
fn GroupSelect() -> impl IntoView {
    let WizardState {
        kind,
        group_id,
        expiry_days,
        ..
    } = expect_context::<WizardState>();
    let groups = server_data(|| (), |_| list_groups());
    move || {
        let needs_group = ImportOptions::needs_group(kind.get());
        needs_group.then(|| view! {
            <label for="import-group">"Group"</label>
            <Suspense fallback=|| view! { <select id="import-group" disabled><option>"Loading…"</option></select> }>
                {move || Suspend::new(async move {
                    match groups.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" id="import-group">
                                "No groups yet. " <a href="/admin/groups">"Create a group"</a> " first."
                            </p>
                        }.into_any(),
                        Ok(list) => {
                            let defaults: Vec<(String, i64)> =
                                list.iter().map(|g| (g.id.to_string(), g.default_expiry_days)).collect();
                            let options = list.into_iter().map(|g| (g.id.to_string(), g.name)).collect();
                            view! {
                                <SearchableSelect id="import-group" name="group_id" noun="group"
                                    placeholder="Choose a group" options selected=group_id
                                    on_pick=move |value: String| {
                                        if let Some((_, days)) = defaults.iter().find(|(id, _)| *id == value) {
                                            expiry_days.set(days.to_string());
                                        }
                                    } />
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        })
    }
}

/// The contract picker, for program invitations.
#[component]
fn ContractSelect() -> impl IntoView {
    let WizardState {
        kind, contract_id, ..
    } = expect_context::<WizardState>();
    let contracts = server_data(|| (), |_| list_contracts());
    move || {
        (kind.get() == ImportKind::ProgramInvitations).then(|| view! {
            <label for="import-contract">"Contract"</label>
            <Suspense fallback=|| view! { <select id="import-contract" disabled><option>"Loading…"</option></select> }>
                {move || Suspend::new(async move {
                    match contracts.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) => {
                            let options = list
                                .into_iter()
                                .map(|c| (c.id.to_string(), format!("{} ({} seats)", c.name, c.seat_limit)))
                                .collect();
                            view! {
                                <SearchableSelect id="import-contract" name="contract_id" noun="contract"
                                    placeholder="Choose a contract" options selected=contract_id
                                    on_pick=|_: String| {} />
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        })
    }
}
