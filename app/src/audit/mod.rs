//! The audit log: who changed what in an organization, when, and how much.
//! Admins read it on Settings → Activity (`/admin/settings/activity`) and
//! download it as CSV (`/admin/settings/activity.csv`, the same filters).
//!
//! # Recording an event
//!
//! Every admin action that changes data records ONE event, inside the
//! transaction that makes the change, so a change that rolls back leaves no
//! record and a committed one always has its record:
//!
//! ```ignore
//! use crate::audit::{service::{record, AuditEntry}, AuditAction, Subject};
//!
//! let mut tx = db.begin().await?;
//! // … the change …
//! record(
//!     &mut tx,
//!     &AuditEntry::by(&user, AuditAction::ImportUndone)
//!         .subject(Subject::Import, import_id, &source_name)
//!         .count(cancelled)
//!         .details(format!("{kept} people who had accepted were kept")),
//! )
//! .await?;
//! tx.commit().await?;
//! ```
//!
//! - `AuditEntry::by(&CurrentUser, action)` records the admin as they are
//!   named now (the name and email are copied: the record survives a rename);
//!   `AuditEntry::system(organization_id, action)` is for what Muster does on
//!   its own (a scheduled job).
//! - A bulk action (cancel selected, resend all matching, send activation to
//!   everyone) records one event with `.count(n)`, not one per person; an
//!   action that changed nothing (all skipped, a save without changes)
//!   records nothing. A bulk action that commits in chunks records its event
//!   in the transaction of its last chunk, with the total.
//! - A new kind of action is a new [`AuditAction`] variant (a word and a
//!   label); the table has no CHECK on the word, so no migration is needed.
//!
//! Records cannot be changed: `store` only inserts and reads, and the
//! database refuses `UPDATE` and `DELETE` on `audit_events` (triggers).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

/// Events per page of the Activity list.
pub const PAGE_SIZE: i64 = 50;

crate::text_enum::text_enum! {
    /// What an admin did.
    pub enum AuditAction {
        OrganizationCreated = "organization_created",
        ImportConfirmed = "import_confirmed",
        /// A draft (uploaded without JavaScript) thrown away before it ran.
        ImportDiscarded = "import_discarded",
        ImportCancelled = "import_cancelled",
        ImportUndone = "import_undone",
        InvitationsSent = "invitations_sent",
        InvitationsResent = "invitations_resent",
        InvitationsCancelled = "invitations_cancelled",
        /// Sent by a group's reminder schedule (Muster acting on its own).
        InvitationsReminded = "invitations_reminded",
        ActivationSent = "activation_sent",
        WelcomeResent = "welcome_resent",
        GroupCreated = "group_created",
        GroupChanged = "group_changed",
        ContractCreated = "contract_created",
        JoinPageChanged = "join_page_changed",
        MappingForgotten = "mapping_forgotten",
        /// A sync that tripped the mass-change guard was approved to run.
        ImportApproved = "import_approved",
        SyncGuardChanged = "sync_guard_changed",
        ApiTokenCreated = "api_token_created",
        ApiTokenRevoked = "api_token_revoked",
        WebhookCreated = "webhook_created",
        WebhookDisabled = "webhook_disabled",
        WebhookEnabled = "webhook_enabled",
        WebhookDeleted = "webhook_deleted",
        /// An identity provider (SCIM) added a person to the organization.
        PersonProvisioned = "person_provisioned",
        /// Names, external id or username of the organization's record.
        PersonChanged = "person_changed",
        /// In this organization only; their account and other organizations stay.
        PersonDeactivated = "person_deactivated",
        PersonReactivated = "person_reactivated",
        /// The organization's record of the person deleted (their account stays).
        PersonRemoved = "person_removed",
        GroupMembersChanged = "group_members_changed",
    }
}

impl AuditAction {
    /// What the Activity page and the CSV call it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::OrganizationCreated => "Organization created",
            AuditAction::ImportConfirmed => "Import confirmed",
            AuditAction::ImportDiscarded => "Import discarded",
            AuditAction::ImportCancelled => "Import cancelled",
            AuditAction::ImportUndone => "Import undone",
            AuditAction::InvitationsSent => "Invitations sent",
            AuditAction::InvitationsResent => "Invitations resent",
            AuditAction::InvitationsCancelled => "Invitations cancelled",
            AuditAction::InvitationsReminded => "Invitation reminders sent",
            AuditAction::ActivationSent => "Activation emails sent",
            AuditAction::WelcomeResent => "Welcome email resent",
            AuditAction::GroupCreated => "Group created",
            AuditAction::GroupChanged => "Group changed",
            AuditAction::ContractCreated => "Contract created",
            AuditAction::JoinPageChanged => "Join page changed",
            AuditAction::MappingForgotten => "Column mapping forgotten",
            AuditAction::ImportApproved => "Sync approved",
            AuditAction::SyncGuardChanged => "Sync guard changed",
            AuditAction::ApiTokenCreated => "API token created",
            AuditAction::ApiTokenRevoked => "API token revoked",
            AuditAction::WebhookCreated => "Webhook endpoint added",
            AuditAction::WebhookDisabled => "Webhook endpoint disabled",
            AuditAction::WebhookEnabled => "Webhook endpoint enabled",
            AuditAction::WebhookDeleted => "Webhook endpoint deleted",
            AuditAction::PersonProvisioned => "Person provisioned",
            AuditAction::PersonChanged => "Person changed",
            AuditAction::PersonDeactivated => "Person deactivated",
            AuditAction::PersonReactivated => "Person reactivated",
            AuditAction::PersonRemoved => "Person removed",
            AuditAction::GroupMembersChanged => "Group members changed",
        }
    }
}

crate::text_enum::text_enum! {
    /// What an event was about.
    pub enum Subject {
        Organization = "organization",
        Import = "import",
        Invitation = "invitation",
        Group = "group",
        Contract = "contract",
        Person = "person",
        JoinPage = "join_page",
        ApiToken = "api_token",
        Webhook = "webhook",
    }
}

impl Subject {
    pub fn label(self) -> &'static str {
        match self {
            Subject::Organization => "Organization",
            Subject::Import => "Import",
            Subject::Invitation => "Invitation",
            Subject::Group => "Group",
            Subject::Contract => "Contract",
            Subject::Person => "Person",
            Subject::JoinPage => "Join page",
            Subject::ApiToken => "API token",
            Subject::Webhook => "Webhook endpoint",
        }
    }

    /// The admin page of the subject with this id, where there is one.
    pub fn page(self, id: Option<i64>) -> Option<String> {
        match (self, id) {
            (Subject::Import, Some(id)) => Some(format!("/admin/imports/{id}")),
            (Subject::Group, Some(id)) => Some(format!("/admin/groups/{id}")),
            (Subject::JoinPage, _) => Some("/admin/join".to_owned()),
            (Subject::ApiToken, _) => Some("/admin/settings/api".to_owned()),
            (Subject::Webhook, _) => Some("/admin/settings/webhooks".to_owned()),
            _ => None,
        }
    }
}

/// One recorded event, as the Activity page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub created_at: i64,
    /// `None`: Muster itself.
    pub actor_user_id: Option<i64>,
    /// As they were named when they acted.
    pub actor_name: String,
    pub actor_email: String,
    pub action: AuditAction,
    pub subject: Option<Subject>,
    pub subject_id: Option<i64>,
    pub subject_label: String,
    /// How many rows, people or invitations; `None` when not a count.
    pub count: Option<i64>,
    pub details: String,
}

impl AuditEvent {
    /// The subject's admin page, if it has one.
    pub fn subject_page(&self) -> Option<String> {
        self.subject
            .and_then(|subject| subject.page(self.subject_id))
    }
}

/// Someone who appears in an organization's log, for the person filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorChoice {
    pub user_id: i64,
    /// Their most recent name in the log.
    pub name: String,
}

/// One page of the Activity list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub events: Vec<AuditEvent>,
    /// The cursor of the next (older) page, if there is one.
    pub older: Option<i64>,
    /// Everyone who has acted in the organization, for the person filter.
    pub actors: Vec<ActorChoice>,
}

/// What the Activity list and its CSV are narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    pub action: Option<AuditAction>,
    pub actor_user_id: Option<i64>,
    /// Unix seconds, inclusive: the start of the "From" day (UTC).
    pub since: Option<i64>,
    /// Unix seconds, exclusive: the end of the "To" day (UTC).
    pub until: Option<i64>,
}

impl ActivityFilter {
    /// The filter from the page's fields: `action` a word or empty, `actor`
    /// a user id or 0 for everyone, `from` and `to` dates (`YYYY-MM-DD`,
    /// UTC, both days included) or empty.
    pub fn parse(action: &str, actor: i64, from: &str, to: &str) -> Result<Self, AppError> {
        let action = match action.trim() {
            "" => None,
            word => Some(
                word.parse::<AuditAction>()
                    .map_err(|_| AppError::invalid("Action", "choose one from the list."))?,
            ),
        };
        let since = day_start(from, "From")?;
        let until = day_start(to, "To")?.map(|start| start + DAY);
        if let (Some(since), Some(until)) = (since, until) {
            if since >= until {
                return Err(AppError::invalid(
                    "To",
                    "must be the same day as From or later.",
                ));
            }
        }
        Ok(ActivityFilter {
            action,
            actor_user_id: (actor > 0).then_some(actor),
            since,
            until,
        })
    }
}

const DAY: i64 = 86_400;

/// Unix seconds at the start of a `YYYY-MM-DD` day (UTC); `None` for empty.
fn day_start(raw: &str, field: &str) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let refuse = || {
        AppError::invalid(
            field,
            format!("must be a date like 2026-09-03, not {raw:?}."),
        )
    };
    let parts: Vec<&str> = raw.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(refuse());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(refuse());
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<i64>(),
        month.parse::<i64>(),
        day.parse::<i64>(),
    ) else {
        return Err(refuse());
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(refuse()),
    };
    if !(1970..=9999).contains(&year) || !(1..=days_in_month).contains(&day) {
        return Err(refuse());
    }
    Ok(Some(days_from_civil(year, month, day) * DAY))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days_from_civil, the inverse of `mail::templates::format_date`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM` (UTC) of a unix time: when an event happened.
pub fn format_when(unix_seconds: i64) -> String {
    let minutes = unix_seconds.rem_euclid(DAY) / 60;
    format!(
        "{} {:02}:{:02}",
        crate::mail::templates::format_date(unix_seconds),
        minutes / 60,
        minutes % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a unix time: when an event happened, in the CSV.
pub fn format_timestamp(unix_seconds: i64) -> String {
    let seconds = unix_seconds.rem_euclid(DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::mail::templates::format_date(unix_seconds),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A page of the organization's activity, newest first: `before` is the
/// cursor of an older page (0 for the newest).
#[server(endpoint = "audit/list")]
pub async fn list_activity(
    action: String,
    actor: i64,
    from: String,
    to: String,
    before: i64,
) -> Result<ActivityPage, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let filter = ActivityFilter::parse(&action, actor, &from, &to)?;
    service::page(
        &state.db,
        user.organization_id,
        &filter,
        (before > 0).then_some(before),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_survives_the_database_and_has_a_label() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
            assert!(!action.label().is_empty());
        }
        let labels: std::collections::HashSet<_> =
            AuditAction::ALL.iter().map(|a| a.label()).collect();
        assert_eq!(
            labels.len(),
            AuditAction::ALL.len(),
            "two actions read alike"
        );
    }

    #[test]
    fn dates_are_whole_utc_days_both_included() {
        let filter = ActivityFilter::parse("", 0, "2026-09-03", "2026-09-03").unwrap();
        // 2026-09-03T00:00:00Z
        assert_eq!(filter.since, Some(1_788_393_600));
        assert_eq!(filter.until, Some(1_788_393_600 + DAY));
        assert_eq!(
            crate::mail::templates::format_date(filter.since.unwrap()),
            "2026-09-03"
        );
        let afternoon = 1_788_393_600 + 13 * 3600 + 5 * 60 + 59;
        assert_eq!(format_when(afternoon), "2026-09-03 13:05");
        assert_eq!(format_timestamp(afternoon), "2026-09-03T13:05:59Z");
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2024, 12, 31), (2100, 3, 1)] {
            let date = format!("{y:04}-{m:02}-{d:02}");
            let start = day_start(&date, "From").unwrap().unwrap();
            assert_eq!(crate::mail::templates::format_date(start), date);
            assert_eq!(crate::mail::templates::format_date(start - 1), {
                crate::mail::templates::format_date(start - DAY)
            });
        }
    }

    #[test]
    fn bad_filters_are_refused_by_field() {
        for (from, to, field) in [
            ("2026-02-30", "", "From"),
            ("yesterday", "", "From"),
            ("", "2026-13-01", "To"),
            ("2026-09-04", "2026-09-03", "To"),
        ] {
            match ActivityFilter::parse("", 0, from, to) {
                Err(AppError::Invalid { field: got, .. }) => assert_eq!(got, field, "{from} {to}"),
                other => panic!("{from} {to}: {other:?}"),
            }
        }
        assert!(matches!(
            ActivityFilter::parse("drop_tables", 0, "", ""),
            Err(AppError::Invalid { .. })
        ));
        let filter = ActivityFilter::parse("import_confirmed", 7, "", "").unwrap();
        assert_eq!(filter.action, Some(AuditAction::ImportConfirmed));
        assert_eq!(filter.actor_user_id, Some(7));
        assert_eq!(
            ActivityFilter::parse("", 0, "", "").unwrap(),
            ActivityFilter::default()
        );
    }
}
