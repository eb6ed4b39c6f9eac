//! Recording events (see the module documentation for who calls [`record`]),
//! and reading them back as pages and as CSV.

use super::{
    store, ActivityFilter, ActivityPage, ActorChoice, AuditAction, AuditEvent, Subject, PAGE_SIZE,
};
use crate::{
    auth::CurrentUser,
    db::{Db, Tx},
    error::AppError,
    imports::failed_rows::csv_cell,
    state::now,
};

/// The longest subject label and details kept; longer text is cut with "…".
const MAX_LABEL_CHARS: usize = 200;
const MAX_DETAILS_CHARS: usize = 1000;

/// Who acted: an admin (as named when they acted), or Muster itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub email: String,
}

impl Actor {
    pub fn admin(user: &CurrentUser) -> Actor {
        Actor {
            user_id: Some(user.user_id),
            name: match &user.via_token {
                Some(token) => format!("{} (API token “{token}”)", user.display_name()),
                None => user.display_name(),
            },
            email: user.email.clone(),
        }
    }

    /// What a scheduled job records as: nobody pressed a button.
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            name: "Muster".to_owned(),
            email: String::new(),
        }
    }
}

/// One event to record: built with [`AuditEntry::by`] (or `system`) and
/// the `subject`, `count` and `details` that apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub organization_id: i64,
    pub actor: Actor,
    pub action: AuditAction,
    pub subject: Option<(Subject, Option<i64>, String)>,
    pub count: Option<i64>,
    pub details: String,
}

impl AuditEntry {
    /// `user` did `action` in their organization.
    pub fn by(user: &CurrentUser, action: AuditAction) -> AuditEntry {
        AuditEntry::new(user.organization_id, Actor::admin(user), action)
    }

    /// Muster did `action` in the organization on its own.
    pub fn system(organization_id: i64, action: AuditAction) -> AuditEntry {
        AuditEntry::new(organization_id, Actor::system(), action)
    }

    pub fn new(organization_id: i64, actor: Actor, action: AuditAction) -> AuditEntry {
        AuditEntry {
            organization_id,
            actor,
            action,
            subject: None,
            count: None,
            details: String::new(),
        }
    }

    /// What it was about: the kind, its id and how to name it (an import's
    /// file name, a group's name, a person's email).
    pub fn subject(mut self, kind: Subject, id: i64, label: impl Into<String>) -> Self {
        self.subject = Some((kind, Some(id), label.into()));
        self
    }

    /// A subject without an id of its own (the organization's join page).
    pub fn subject_named(mut self, kind: Subject, label: impl Into<String>) -> Self {
        self.subject = Some((kind, None, label.into()));
        self
    }

    /// How many rows, people or invitations it affected.
    pub fn count(mut self, count: i64) -> Self {
        self.count = Some(count);
        self
    }

    /// A short sentence of what else there is to know.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }
}

fn cut(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut kept: String = text.chars().take(max - 1).collect();
        kept.push('…');
        kept
    }
}

/// Records `entry` inside `tx`, the transaction of the change it records:
/// if that rolls back, so does the record.
pub async fn record(tx: &mut Tx, entry: &AuditEntry) -> Result<(), AppError> {
    let (subject_kind, subject_id, subject_label) = match &entry.subject {
        Some((kind, id, label)) => (Some(kind.as_str()), *id, cut(label, MAX_LABEL_CHARS)),
        None => (None, None, String::new()),
    };
    let details = cut(&entry.details, MAX_DETAILS_CHARS);
    store::insert(
        tx,
        &store::NewEvent {
            organization_id: entry.organization_id,
            actor_user_id: entry.actor.user_id,
            actor_name: &entry.actor.name,
            actor_email: &entry.actor.email,
            action: entry.action.as_str(),
            subject_kind,
            subject_id,
            subject_label: &subject_label,
            item_count: entry.count,
            details: &details,
            created_at: now(),
        },
    )
    .await?;
    Ok(())
}

fn event(row: store::EventRow) -> Result<AuditEvent, AppError> {
    Ok(AuditEvent {
        id: row.id,
        created_at: row.created_at,
        actor_user_id: row.actor_user_id,
        actor_name: row.actor_name,
        actor_email: row.actor_email,
        action: row.action.parse()?,
        subject: row.subject_kind.as_deref().map(str::parse).transpose()?,
        subject_id: row.subject_id,
        subject_label: row.subject_label,
        count: row.item_count,
        details: row.details,
    })
}

/// A page of the organization's events, newest first, older than `before`.
pub async fn page(
    db: &Db,
    organization_id: i64,
    filter: &ActivityFilter,
    before: Option<i64>,
) -> Result<ActivityPage, AppError> {
    let mut rows = store::page(db, organization_id, filter, before, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let events = rows.into_iter().map(event).collect::<Result<Vec<_>, _>>()?;
    let older = if more {
        events.last().map(|e| e.id)
    } else {
        None
    };
    let actors = store::actors(db, organization_id)
        .await?
        .into_iter()
        .map(|(user_id, name)| ActorChoice { user_id, name })
        .collect();
    Ok(ActivityPage {
        events,
        older,
        actors,
    })
}

/// The CSV's columns.
const CSV_HEADERS: [&str; 8] = [
    "When (UTC)",
    "Who",
    "Email",
    "Action",
    "Subject",
    "Subject ID",
    "How many",
    "Details",
];

/// Every event matching `filter`, newest first, as CSV for a spreadsheet:
/// every cell quoted, and cells a spreadsheet would run as a formula defused.
pub async fn csv(
    db: &Db,
    organization_id: i64,
    filter: &ActivityFilter,
) -> Result<String, AppError> {
    let rows = store::all(db, organization_id, filter).await?;
    let mut out = String::new();
    let line = |cells: &[String]| {
        let quoted: Vec<String> = cells.iter().map(|cell| csv_cell(cell, true)).collect();
        format!("{}\r\n", quoted.join(","))
    };
    out.push_str(&line(&CSV_HEADERS.map(str::to_owned)));
    for row in rows {
        let event = event(row)?;
        let subject = match (event.subject, event.subject_label.as_str()) {
            (None, _) => String::new(),
            (Some(kind), "") => kind.label().to_owned(),
            (Some(kind), label) => format!("{}: {label}", kind.label()),
        };
        out.push_str(&line(&[
            super::format_timestamp(event.created_at),
            event.actor_name,
            event.actor_email,
            event.action.label().to_owned(),
            subject,
            event
                .subject_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            event.count.map(|n| n.to_string()).unwrap_or_default(),
            event.details,
        ]));
    }
    Ok(out)
}
