//! Invitations' rules and transactions: inviting by hand, resending,
//! cancelling, looking a link up and accepting it; the invitation email is
//! composed here for manual invites, resends and imports alike.

use std::collections::HashSet;

use muster_core::email::Email;

use super::{
    store::{self, InviteGroup, NewInvitation},
    BulkOutcome, InvitationFilter, InvitationRow, InvitationStatus, InvitationsPage, InviteLookup,
    InviteOutcome, InviteResult, MAX_MANUAL_INVITES, PAGE_SIZE,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{store as accounts, CurrentUser},
    bulk::{self, CHUNK},
    db::{Db, Tx},
    error::AppError,
    links::{
        server::{new_token, token_hash},
        TokenState,
    },
    mail::{
        self,
        server::{MailKind, Params, SealedToken},
    },
    state::now,
};

mod accept;
mod reminders;
mod resend;

pub use accept::{accept, Accepted, Acceptor};
pub use reminders::{send_due_reminders, Reminded};
pub use resend::{resend, resend_many, resend_matching};

const DAY: i64 = 86_400;

/// The outbox kind of a first invitation (by hand or by an import).
pub const INVITATION_KIND: MailKind = MailKind::Invitation;
/// The outbox kind of a resent invitation, which the daily limit counts.
pub const RESEND_KIND: MailKind = MailKind::InvitationResend;
/// The outbox kind of a reminder by the group's schedule; the daily limit
/// counts it with resends.
pub const REMINDER_KIND: MailKind = MailKind::InvitationReminder;

/// How a selection over the bulk limit is refused.
const TOO_MANY_SELECTED: &str = "filter the list and act on everything matching instead.";

/// Everything the invitation email says.
pub struct InvitationEmail<'a> {
    pub to: &'a str,
    /// The token itself: the link is the configured base URL + `/invite/{token}`.
    pub token: &'a str,
    pub organization: &'a str,
    pub group: &'a str,
    pub inviter: &'a str,
    pub expires_at: i64,
    /// [`INVITATION_KIND`] or [`RESEND_KIND`].
    pub kind: MailKind,
}

/// The invitation email of `invitation_id`, for the outbox: an intent whose
/// link the sender renders on the configured base URL.
pub fn invitation_email(
    invitation_id: i64,
    invitation: &InvitationEmail<'_>,
) -> Result<mail::server::Email, AppError> {
    Ok(mail::server::Email {
        to: invitation.to.to_owned(),
        kind: invitation.kind,
        about_id: Some(invitation_id),
        params: Params::Invitation {
            organization: invitation.organization.to_owned(),
            group: invitation.group.to_owned(),
            inviter: invitation.inviter.to_owned(),
            expires_at: invitation.expires_at,
            token: SealedToken::seal(invitation.token)?,
        },
    })
}

/// Queues the invitation email for a (new) token and records it on the row.
async fn send_email(
    tx: &mut Tx,
    organization_id: i64,
    invitation_id: i64,
    invitation: &InvitationEmail<'_>,
) -> Result<(), AppError> {
    let email = invitation_email(invitation_id, invitation)?;
    let outbox_id = mail::server::enqueue(tx, Some(organization_id), &email).await?;
    store::record_sent(&mut **tx, invitation_id, outbox_id, now()).await?;
    Ok(())
}

async fn invite_group(
    tx: &mut Tx,
    organization_id: i64,
    group_id: i64,
) -> Result<InviteGroup, AppError> {
    store::invite_group(&mut **tx, organization_id, group_id)
        .await?
        .ok_or_else(|| AppError::invalid("Group", "choose a group."))
}

/// Invites each address into the group, all in one transaction, each with
/// its own outcome; the emails are in the outbox when this returns.
pub async fn invite(
    db: &Db,
    user: &CurrentUser,
    group_id: i64,
    emails: &[String],
) -> Result<Vec<InviteOutcome>, AppError> {
    if emails.is_empty() {
        return Err(AppError::invalid(
            "Emails",
            "enter at least one email address.",
        ));
    }
    if emails.len() > MAX_MANUAL_INVITES {
        return Err(AppError::invalid(
            "Emails",
            format!(
                "at most {MAX_MANUAL_INVITES} at a time ({} given); use an import for more.",
                emails.len()
            ),
        ));
    }
    let organization_id = user.organization_id;
    let inviter = user.display_name();
    let now = now();
    let mut tx = db.begin().await?;
    // A write first, so that SQLite takes the write lock before reading.
    store::expire_overdue(&mut *tx, organization_id, group_id, now).await?;
    let group = invite_group(&mut tx, organization_id, group_id).await?;
    let expires_at = now + group.expiry_days * DAY;
    let mut seen = HashSet::new();
    let mut outcomes = Vec::with_capacity(emails.len());
    for raw in emails {
        let result = match Email::parse(raw) {
            Err(error) => InviteResult::Invalid(error.to_string()),
            Ok(email) => {
                let email = email.key().to_string();
                if !seen.insert(email.clone()) {
                    InviteResult::Invalid("listed twice.".into())
                } else if store::is_active_member(&mut *tx, group_id, &email).await? {
                    InviteResult::AlreadyMember
                } else {
                    let token = new_token();
                    let invitation = NewInvitation {
                        organization_id,
                        group_id,
                        email: &email,
                        token_hash: &token_hash(&token),
                        expires_at,
                        invited_by: user.user_id,
                    };
                    match store::insert_pending(&mut *tx, &invitation, now).await? {
                        None => InviteResult::AlreadyInvited,
                        Some(invitation_id) => {
                            let message = InvitationEmail {
                                to: &email,
                                token: &token,
                                organization: &group.organization,
                                group: &group.name,
                                inviter: &inviter,
                                expires_at,
                                kind: INVITATION_KIND,
                            };
                            send_email(&mut tx, organization_id, invitation_id, &message).await?;
                            InviteResult::Invited
                        }
                    }
                }
            }
        };
        outcomes.push(InviteOutcome {
            email: raw.clone(),
            result,
        });
    }
    let invited = count_of(&outcomes, |r| *r == InviteResult::Invited);
    if invited > 0 {
        let left_out = [
            (
                count_of(&outcomes, |r| *r == InviteResult::AlreadyInvited),
                "already invited",
            ),
            (
                count_of(&outcomes, |r| *r == InviteResult::AlreadyMember),
                "already members",
            ),
            (
                count_of(&outcomes, |r| matches!(r, InviteResult::Invalid(_))),
                "invalid or listed twice",
            ),
        ];
        let details = left_out
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} left out: {what}"))
            .collect::<Vec<_>>()
            .join("; ");
        let entry = AuditEntry::by(user, AuditAction::InvitationsSent)
            .subject(Subject::Group, group_id, &group.name)
            .count(invited)
            .details(if details.is_empty() {
                "Invited by hand.".to_owned()
            } else {
                format!("Invited by hand; {details}.")
            });
        record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    tracing::info!(organization_id, group_id, invited, "manual invite");
    Ok(outcomes)
}

fn count_of(outcomes: &[InviteOutcome], which: impl Fn(&InviteResult) -> bool) -> i64 {
    outcomes.iter().filter(|o| which(&o.result)).count() as i64
}

/// How the audit log describes a bulk action over the list's filter: the
/// group it names (as the subject) and the rest of the filter in words.
async fn filter_described(
    tx: &mut Tx,
    organization_id: i64,
    filter: &InvitationFilter,
) -> Result<(Option<(i64, String)>, String), AppError> {
    let group = match filter.group_id {
        0 => None,
        id => store::invite_group(&mut **tx, organization_id, id)
            .await?
            .map(|group| (id, group.name)),
    };
    let mut parts = Vec::new();
    match filter.status.parse::<super::InvitationStatus>() {
        Ok(status) => parts.push(format!("status {}", status.label().to_lowercase())),
        Err(_) => parts.push("any status".to_owned()),
    }
    if filter.import_id != 0 {
        parts.push(format!("from import {}", filter.import_id));
    }
    if let Ok(Some(delivery)) = crate::mail::delivery::parse_filter(&filter.delivery) {
        parts.push(format!("email {}", delivery.as_str()));
    }
    if !filter.search.trim().is_empty() {
        parts.push(format!("email containing {:?}", filter.search.trim()));
    }
    Ok((
        group,
        format!("All matching the filter: {}.", parts.join(", ")),
    ))
}

pub async fn list(
    db: &Db,
    organization_id: i64,
    filter: &InvitationFilter,
    page: i64,
) -> Result<InvitationsPage, AppError> {
    let page = page.max(1);
    let (total, rows) = store::list(&db.pool, organization_id, filter, page, now()).await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            Ok(InvitationRow {
                id: row.id,
                email: row.email,
                group_name: row.group_name,
                status: row.status,
                expires_at: row.expires_at,
                created_at: row.created_at,
                resend_count: row.resend_count,
                next_reminder_at: row
                    .next_reminder_at
                    .filter(|_| row.status == InvitationStatus::Pending),
                delivery: crate::mail::DeliveryState::from_stored(
                    row.delivery.as_deref(),
                    row.delivery_attempts,
                    row.delivery_error,
                    row.delivery_sent_at,
                )?,
                accepted_name: row
                    .accepted_first_name
                    .zip(row.accepted_last_name)
                    .map(|(first, last)| format!("{first} {last}").trim().to_owned()),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(InvitationsPage {
        rows,
        total,
        page,
        page_size: PAGE_SIZE,
    })
}

/// Cancels each of `ids` that is pending, in one transaction.
pub async fn cancel_many(
    db: &Db,
    user: &CurrentUser,
    ids: &[i64],
) -> Result<BulkOutcome, AppError> {
    let organization_id = user.organization_id;
    let unique = bulk::unique_selection(ids, "invitations", TOO_MANY_SELECTED)?;
    let mut tx = db.begin().await?;
    let mut done = 0;
    for chunk in unique.chunks(CHUNK) {
        done += store::cancel_pending(&mut *tx, organization_id, chunk).await? as i64;
    }
    if done > 0 {
        let skipped = unique.len() as i64 - done;
        let entry = AuditEntry::by(user, AuditAction::InvitationsCancelled)
            .count(done)
            .details(if skipped > 0 {
                format!("Selected on the Invitations page; {skipped} skipped: not pending.")
            } else {
                "Selected on the Invitations page.".to_owned()
            });
        record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    tracing::info!(
        organization_id,
        cancelled = done,
        "invitations cancelled in bulk"
    );
    Ok(BulkOutcome {
        done,
        rate_limited: 0,
        skipped: unique.len() as i64 - done,
    })
}

/// Cancels every pending invitation matching `filter`, in one statement.
pub async fn cancel_matching(
    db: &Db,
    user: &CurrentUser,
    filter: &InvitationFilter,
) -> Result<BulkOutcome, AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    let done = store::cancel_matching(&mut tx, organization_id, filter, now()).await? as i64;
    if done > 0 {
        let (group, details) = filter_described(&mut tx, organization_id, filter).await?;
        let mut entry = AuditEntry::by(user, AuditAction::InvitationsCancelled)
            .count(done)
            .details(details);
        if let Some((id, name)) = group {
            entry = entry.subject(Subject::Group, id, name);
        }
        record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    tracing::info!(
        organization_id,
        cancelled = done,
        "matching invitations cancelled"
    );
    Ok(BulkOutcome {
        done,
        rate_limited: 0,
        skipped: 0,
    })
}

/// Cancels a pending invitation: its link stops working at once.
pub async fn cancel(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    if store::cancel_pending(&mut *tx, organization_id, &[id]).await? == 1 {
        let invitation = store::described(&mut *tx, organization_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let entry = AuditEntry::by(user, AuditAction::InvitationsCancelled)
            .subject(Subject::Invitation, id, invitation.email)
            .count(1)
            .details(format!("Group: {}.", invitation.group_name));
        record(&mut tx, &entry).await?;
        tx.commit().await?;
        return Ok(());
    }
    match store::status(&mut *tx, organization_id, id).await? {
        None => Err(AppError::NotFound),
        Some(status) => Err(AppError::Conflict(format!(
            "This invitation is {}; only pending ones can be cancelled.",
            status.as_str()
        ))),
    }
}

pub async fn lookup(
    db: &Db,
    token: &str,
    signed_in_as: Option<String>,
) -> Result<InviteLookup, AppError> {
    let Some(found) = store::by_token(&db.pool, &token_hash(token.trim())).await? else {
        return Ok(InviteLookup::NotFound);
    };
    let organization = found.organization;
    Ok(
        match found.status.at(found.expires_at, now()).token_state() {
            TokenState::Used => InviteLookup::Used { organization },
            TokenState::Cancelled => InviteLookup::Cancelled { organization },
            TokenState::Expired => InviteLookup::Expired { organization },
            TokenState::NotFound => InviteLookup::NotFound,
            // Invitations are renewed in place, so none reads replaced.
            TokenState::Valid | TokenState::Replaced => InviteLookup::Valid {
                account_exists: accounts::has_password(&db.pool, &found.email).await?,
                organization,
                group: found.group_name,
                email: found.email,
                expires_at: found.expires_at,
                signed_in_as,
            },
        },
    )
}
