//! Checked rows + the server's facts → what will happen to each row.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::email::normalize_key;
use crate::issue::IssueCode;
use crate::kinds::{ImportKind, Role};
use crate::text::thousands;
use crate::validate::Checked;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Invited,
    Provisioned,
    Active,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingUser {
    pub status: UserStatus,
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// What the server knows, gathered in one query batch before planning. Emails may be in
/// any case; they are normalized here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    pub users: HashMap<String, ExistingUser>,
    pub existing_usernames: HashSet<String>,
    /// Emails already members of the target group.
    pub group_members: HashSet<String>,
    /// Emails with a pending invitation to the target group.
    pub pending_invitations: HashSet<String>,
    /// Seats left on the contract, when the import is under one.
    pub seats_left: Option<u32>,
    /// Names of the organization's groups (for Group members imports).
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanOptions {
    /// "Send invitations to new members after import" / "Auto-invite new users upon close?".
    pub send_emails: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { send_emails: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlannedAction {
    CreateAccount { join_group: bool, send_email: bool },
    UpdateAccount,
    Invite { send_email: bool },
    AddMembership,
    SkipAlreadyMember,
    SkipAlreadyInvited,
    Error { code: IssueCode, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLink {
    pub role: Role,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRow {
    pub row_index: usize,
    pub row_number: u32,
    pub sheet: u16,
    pub email: Option<String>,
    pub action: PlannedAction,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PlannedLink>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTotals {
    pub rows: u32,
    pub accounts_created: u32,
    pub accounts_updated: u32,
    pub invitations: u32,
    /// All emails: invitation emails plus account setup emails.
    pub emails: u32,
    pub invitation_emails: u32,
    pub account_emails: u32,
    pub memberships: u32,
    pub skipped_already_member: u32,
    pub skipped_already_invited: u32,
    pub errors: u32,
    pub seats_needed: u32,
    pub seats_exceeded_by: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub kind: ImportKind,
    pub rows: Vec<PlannedRow>,
    pub totals: PlanTotals,
}

fn key_set(s: &HashSet<String>) -> HashSet<String> {
    s.iter().map(|e| normalize_key(e).into_owned()).collect()
}

pub fn plan(kind: ImportKind, checked: &Checked, facts: &Facts, opts: &PlanOptions) -> Plan {
    let users: HashMap<String, &ExistingUser> = facts
        .users
        .iter()
        .map(|(k, v)| (normalize_key(k).into_owned(), v))
        .collect();
    let members = key_set(&facts.group_members);
    let invited = key_set(&facts.pending_invitations);
    let usernames: HashSet<String> = facts
        .existing_usernames
        .iter()
        .map(|u| u.to_lowercase())
        .collect();
    let groups: HashMap<String, &str> = facts
        .groups
        .iter()
        .map(|g| (g.trim().to_lowercase(), g.as_str()))
        .collect();
    // Association targets may be any row of the file, on any tab.
    let in_file: HashMap<String, Option<Role>> = checked
        .rows
        .iter()
        .filter(|r| !r.deleted && !r.has_errors())
        .filter_map(|r| {
            r.values
                .email
                .as_ref()
                .map(|e| (e.key().into_owned(), r.values.more().role))
        })
        .collect();

    let send = opts.send_emails;
    let mut totals = PlanTotals::default();
    let mut rows = Vec::with_capacity(checked.rows.len());
    for (row_index, row) in checked.rows.iter().enumerate() {
        if row.deleted {
            continue;
        }
        let v = &row.values;
        let key_cow = v.email.as_ref().map(|e| e.key());
        let key = key_cow.as_deref();
        let mut planned = PlannedRow {
            row_index,
            row_number: row.row_number,
            sheet: row.sheet,
            email: v.email.as_ref().map(|e| e.as_str().to_string()),
            action: PlannedAction::SkipAlreadyMember,
            groups: Vec::new(),
            links: Vec::new(),
        };
        let action = if let Some(first) = row.issues.iter().find(|i| i.is_error()) {
            PlannedAction::Error {
                code: first.code,
                message: first.message.clone(),
            }
        } else {
            let is_member = key.is_some_and(|k| members.contains(k));
            let is_invited = key.is_some_and(|k| invited.contains(k));
            let exists = key.is_some_and(|k| users.contains_key(k));
            match kind {
                ImportKind::Invites | ImportKind::ProgramInvitations => {
                    if is_member {
                        PlannedAction::SkipAlreadyMember
                    } else if is_invited {
                        PlannedAction::SkipAlreadyInvited
                    } else {
                        PlannedAction::Invite { send_email: send }
                    }
                }
                ImportKind::Learners => {
                    if is_member {
                        PlannedAction::SkipAlreadyMember
                    } else if exists {
                        PlannedAction::AddMembership
                    } else {
                        PlannedAction::CreateAccount {
                            join_group: true,
                            send_email: send,
                        }
                    }
                }
                ImportKind::People => {
                    plan_person(v, &users, &usernames, &in_file, send, &mut planned.links)
                }
                ImportKind::GroupMembers => {
                    let mut unknown = Vec::new();
                    for g in &v.more().groups {
                        match groups.get(&g.to_lowercase()) {
                            Some(real) => planned.groups.push((*real).to_string()),
                            None => unknown.push(format!("\"{g}\"")),
                        }
                    }
                    if !unknown.is_empty() {
                        PlannedAction::Error {
                            code: IssueCode::UnknownGroup,
                            message: format!(
                                "Group {} does not exist. Create the group first or fix the name.",
                                unknown.join(", ")
                            ),
                        }
                    } else if is_member {
                        if planned.groups.is_empty() {
                            PlannedAction::SkipAlreadyMember
                        } else {
                            PlannedAction::AddMembership
                        }
                    } else if is_invited {
                        PlannedAction::SkipAlreadyInvited
                    } else {
                        PlannedAction::Invite { send_email: send }
                    }
                }
            }
        };
        count(&mut totals, &action, kind);
        planned.action = action;
        rows.push(planned);
    }
    if let Some(left) = facts.seats_left {
        totals.seats_exceeded_by = totals.seats_needed.checked_sub(left).filter(|n| *n > 0);
    }
    Plan { kind, rows, totals }
}

fn plan_person(
    v: &crate::values::RowValues,
    users: &HashMap<String, &ExistingUser>,
    usernames: &HashSet<String>,
    in_file: &HashMap<String, Option<Role>>,
    send: bool,
    links: &mut Vec<PlannedLink>,
) -> PlannedAction {
    let m = v.more();
    let role = m.role;
    let mut missing = Vec::new();
    for (link_role, email) in v.associations() {
        // Links that do not apply to this role were already warned about and are ignored.
        let applies = match link_role {
            Role::Student => role != Some(Role::Student),
            _ => role == Some(Role::Student),
        };
        if !applies {
            continue;
        }
        let key = email.key();
        if in_file.contains_key(key.as_ref()) || users.contains_key(key.as_ref()) {
            links.push(PlannedLink {
                role: link_role,
                email: email.as_str().to_string(),
            });
        } else {
            missing.push(email.as_str().to_string());
        }
    }
    if !missing.is_empty() {
        return PlannedAction::Error {
            code: IssueCode::AssociationNotFound,
            message: format!("{} is neither in this file nor an existing user. Add them to the file or remove the link.", missing.join(", ")),
        };
    }
    let exists = match (&v.email, &m.username) {
        (Some(e), _) => users.contains_key(e.key().as_ref()),
        (None, Some(u)) => usernames.contains(&u.to_lowercase()),
        _ => false,
    };
    if exists {
        PlannedAction::UpdateAccount
    } else {
        PlannedAction::CreateAccount {
            join_group: false,
            send_email: send,
        }
    }
}

fn count(t: &mut PlanTotals, action: &PlannedAction, kind: ImportKind) {
    t.rows += 1;
    let takes_seat = matches!(
        kind,
        ImportKind::Invites
            | ImportKind::Learners
            | ImportKind::ProgramInvitations
            | ImportKind::GroupMembers
    );
    match action {
        PlannedAction::CreateAccount {
            join_group,
            send_email,
        } => {
            t.accounts_created += 1;
            if *join_group {
                t.memberships += 1;
                t.seats_needed += u32::from(takes_seat);
            }
            t.emails += u32::from(*send_email);
            t.account_emails += u32::from(*send_email);
        }
        PlannedAction::UpdateAccount => t.accounts_updated += 1,
        PlannedAction::Invite { send_email } => {
            t.invitations += 1;
            t.emails += u32::from(*send_email);
            t.invitation_emails += u32::from(*send_email);
            t.seats_needed += u32::from(takes_seat);
        }
        PlannedAction::AddMembership => {
            t.memberships += 1;
            t.seats_needed += u32::from(takes_seat);
        }
        PlannedAction::SkipAlreadyMember => t.skipped_already_member += 1,
        PlannedAction::SkipAlreadyInvited => t.skipped_already_invited += 1,
        PlannedAction::Error { .. } => t.errors += 1,
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(u64::from(n)),
        if n == 1 { one } else { many }
    )
}

impl PlanTotals {
    /// One sentence for the confirmation dialog, e.g. "Creates 120 accounts, updates 8,
    /// sends 1,234 invitation emails, skips 14 people already in the group."
    pub fn summary_sentence(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.accounts_created > 0 {
            parts.push(format!(
                "creates {}",
                plural(self.accounts_created, "account", "accounts")
            ));
        }
        if self.accounts_updated > 0 {
            if self.accounts_created > 0 {
                parts.push(format!(
                    "updates {}",
                    thousands(u64::from(self.accounts_updated))
                ));
            } else {
                parts.push(format!(
                    "updates {}",
                    plural(self.accounts_updated, "account", "accounts")
                ));
            }
        }
        if self.invitation_emails > 0 {
            parts.push(format!(
                "sends {}",
                plural(
                    self.invitation_emails,
                    "invitation email",
                    "invitation emails"
                )
            ));
        }
        let silent = self.invitations - self.invitation_emails.min(self.invitations);
        if silent > 0 {
            parts.push(format!(
                "creates {} without sending emails",
                plural(silent, "invitation", "invitations")
            ));
        }
        if self.account_emails > 0 {
            parts.push(format!(
                "sends {}",
                plural(
                    self.account_emails,
                    "account setup email",
                    "account setup emails"
                )
            ));
        }
        if self.memberships > 0 {
            parts.push(format!(
                "adds {} to the group",
                plural(self.memberships, "membership", "memberships")
            ));
        }
        if self.skipped_already_member > 0 {
            parts.push(format!(
                "skips {} already in the group",
                plural(self.skipped_already_member, "person", "people")
            ));
        }
        if self.skipped_already_invited > 0 {
            parts.push(format!(
                "skips {} already invited",
                plural(self.skipped_already_invited, "person", "people")
            ));
        }
        let mut s = if parts.is_empty() {
            "Changes nothing".to_string()
        } else {
            parts.join(", ")
        };
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        if self.errors > 0 {
            s.push_str(&format!(
                "; {} with errors will not be imported",
                plural(self.errors, "row", "rows")
            ));
        }
        if let Some(n) = self.seats_exceeded_by {
            s.push_str(&format!(
                "; needs {} more than the contract has left",
                plural(n, "seat", "seats")
            ));
        }
        s.push('.');
        s
    }
}

#[cfg(test)]
mod tests;
