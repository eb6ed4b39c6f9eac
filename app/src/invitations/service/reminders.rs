//! Reminders by the group's schedule: the sweeper (server crate,
//! `workers.rs`) calls [`send_due_reminders`] in every process; each due
//! reminder is claimed, emailed with a new link and rescheduled in one
//! transaction, so a crash sends it later rather than twice.

use std::collections::{hash_map::Entry, HashMap};

use super::{invite_group, DAY, REMINDER_KIND, RESEND_KIND};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    bulk,
    db::Db,
    error::AppError,
    invitations::{store, MAX_RESENDS_PER_DAY},
    links::server::{new_token, token_hash},
    mail::{
        self,
        server::{Params, SealedToken},
    },
};

/// Reminders per transaction: short enough to keep SQLite's write lock brief.
const BATCH: i64 = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    pub sent: u64,
    /// Put off because the address had its emails for the day.
    pub deferred: u64,
}

/// Sends every reminder due at `now`, a batch per transaction.
pub async fn send_due_reminders(db: &Db, now: i64) -> Result<Reminded, AppError> {
    let mut done = Reminded::default();
    loop {
        let mut tx = db.begin().await?;
        let due = store::claim_due_reminders(&mut tx, now, BATCH).await?;
        let claimed = due.len() as i64;
        let mut groups = HashMap::new();
        // Reminders sent per (organization, group): one audit event each.
        let mut sent: HashMap<(i64, i64), i64> = HashMap::new();
        for invitation in due {
            let organization_id = invitation.organization_id;
            // Reminders and resends by hand share the per-address daily limit.
            let (recent, earliest) = bulk::emails_sent_window(
                &mut *tx,
                organization_id,
                &invitation.email,
                &[RESEND_KIND, REMINDER_KIND],
                now - DAY,
            )
            .await?;
            if recent >= MAX_RESENDS_PER_DAY {
                // Again once the earliest of those stops counting (if before expiry).
                let at = earliest.unwrap_or(now) + DAY;
                store::defer_reminder(&mut *tx, invitation.id, at).await?;
                done.deferred += 1;
                continue;
            }
            let group = match groups.entry(invitation.group_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    slot.insert(invite_group(&mut tx, organization_id, invitation.group_id).await?)
                }
            };
            // Only the old link's hash is stored: a reminder needs a new link.
            let token = new_token();
            let email = mail::server::Email {
                to: invitation.email.clone(),
                kind: REMINDER_KIND,
                about_id: Some(invitation.id),
                params: Params::InvitationReminder {
                    organization: group.organization.clone(),
                    group: group.name.clone(),
                    expires_at: invitation.expires_at,
                    token: SealedToken::seal(&token)?,
                },
            };
            let outbox_id = mail::server::enqueue(&mut tx, Some(organization_id), &email).await?;
            store::record_reminder(&mut *tx, invitation.id, &token_hash(&token), outbox_id, now)
                .await?;
            *sent
                .entry((organization_id, invitation.group_id))
                .or_default() += 1;
            done.sent += 1;
        }
        for ((organization_id, group_id), count) in sent {
            let entry = AuditEntry::system(organization_id, AuditAction::InvitationsReminded)
                .subject(Subject::Group, group_id, &groups[&group_id].name)
                .count(count)
                .details("Reminded by the group's schedule, each with a new link.");
            record(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        if claimed < BATCH {
            return Ok(done);
        }
    }
}
