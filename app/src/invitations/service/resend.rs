//! Resending invitations: a new link, a fresh expiry and the email again,
//! one at a time or in bulk, within the daily limit per address.

use super::{
    filter_described, invite_group, send_email, InvitationEmail, DAY, REMINDER_KIND, RESEND_KIND,
    TOO_MANY_SELECTED,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    bulk::{self, BulkOutcome, CHUNK},
    contracts,
    db::{Db, Tx},
    error::AppError,
    invitations::{store, InvitationFilter, InvitationStatus, MAX_RESENDS_PER_DAY},
    links::server::{new_token, token_hash},
    state::now,
};

/// Why a resend did not happen.
enum Resent {
    /// Sent again to this address, for this group.
    Done {
        email: String,
        group: String,
    },
    NotFound,
    NotResendable(InvitationStatus),
    NewerPending,
    RateLimited(String),
    /// Reviving it would take a seat its contract no longer has.
    NoSeats(String),
}

/// A new token (the old link dies), a fresh expiry, and the email again;
/// limited to [`MAX_RESENDS_PER_DAY`] per address.
pub async fn resend(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    match resend_in(&mut tx, user, &user.display_name(), id, now()).await? {
        Resent::Done { email, group } => {
            let entry = AuditEntry::by(user, AuditAction::InvitationsResent)
                .subject(Subject::Invitation, id, email)
                .count(1)
                .details(format!("Group: {group}."));
            record(&mut tx, &entry).await?;
            tx.commit().await?;
            Ok(())
        }
        Resent::NotFound => Err(AppError::NotFound),
        Resent::NotResendable(status) => Err(AppError::Conflict(format!(
            "This invitation is {}; only pending or expired ones can be resent.",
            status.as_str()
        ))),
        Resent::NewerPending => Err(AppError::Conflict(
            "A newer invitation for this person and group is pending.".into(),
        )),
        Resent::RateLimited(email) => Err(AppError::Conflict(format!(
            "{email} has been sent {MAX_RESENDS_PER_DAY} invitations in the last 24 hours; try again tomorrow."
        ))),
        Resent::NoSeats(contract) => Err(AppError::Conflict(format!(
            "{contract} has no seats left: resending this expired invitation would take one."
        ))),
    }
}

async fn resend_in(
    tx: &mut Tx,
    user: &CurrentUser,
    inviter: &str,
    id: i64,
    now: i64,
) -> Result<Resent, AppError> {
    let organization_id = user.organization_id;
    lock_contracts(tx, organization_id, &[id], now).await?;
    let Some(target) = store::claim_for_resend(&mut **tx, organization_id, id).await? else {
        return Ok(Resent::NotFound);
    };
    // The stored status: a pending one past its expiry may be resent too.
    if !target.status.can_resend() {
        return Ok(Resent::NotResendable(target.status));
    }
    if store::other_pending(&mut **tx, target.group_id, &target.email, id).await? {
        return Ok(Resent::NewerPending);
    }
    // An expired contract invitation gave its seat back; reviving it takes
    // one again, counted like a new invitation under the contract's lock
    // (taken above already; this transaction holds it).
    let holds_seat = target.status == InvitationStatus::Pending && target.expires_at > now;
    if let (Some(contract_id), false) = (target.contract_id, holds_seat) {
        let seats = contracts::store::lock_seats(tx, organization_id, contract_id, now).await?;
        if let Some(seats) = seats.filter(|seats| seats.used >= seats.seat_limit) {
            return Ok(Resent::NoSeats(seats.name));
        }
    }
    // Reminders by the group's schedule count towards the same limit.
    let (recent, _) = bulk::emails_sent_window(
        &mut **tx,
        organization_id,
        &target.email,
        &[RESEND_KIND, REMINDER_KIND],
        now - DAY,
    )
    .await?;
    if recent >= MAX_RESENDS_PER_DAY {
        return Ok(Resent::RateLimited(target.email));
    }
    let group = invite_group(tx, organization_id, target.group_id).await?;
    let expires_at = now + group.expiry_days * DAY;
    let token = new_token();
    store::renew(&mut **tx, id, &token_hash(&token), expires_at).await?;
    let message = InvitationEmail {
        to: &target.email,
        token: &token,
        organization: &group.organization,
        group: &group.name,
        inviter,
        expires_at,
        kind: RESEND_KIND,
    };
    send_email(tx, organization_id, id, &message).await?;
    Ok(Resent::Done {
        email: target.email,
        group: group.name,
    })
}

/// Locks the contracts of the invitations `ids` (in contract order) before
/// any of their rows: the order the import worker takes the same locks in,
/// so that a resend and a batch never wait for each other in a circle.
async fn lock_contracts(
    tx: &mut Tx,
    organization_id: i64,
    ids: &[i64],
    now: i64,
) -> Result<(), AppError> {
    for contract_id in store::contracts_of(&mut **tx, organization_id, ids).await? {
        contracts::store::lock_seats(tx, organization_id, contract_id, now).await?;
    }
    Ok(())
}

/// Resends each of `ids` that can be resent, a chunk per transaction.
pub async fn resend_many(
    db: &Db,
    user: &CurrentUser,
    ids: &[i64],
) -> Result<BulkOutcome, AppError> {
    let unique = bulk::unique_selection(ids, "invitations", TOO_MANY_SELECTED)?;
    resend_each(db, user, &unique, None).await
}

/// Resends `ids` a chunk per transaction; the audit record of them all (for
/// `filter`'s "all matching", or a selection) goes in the last chunk's.
async fn resend_each(
    db: &Db,
    user: &CurrentUser,
    ids: &[i64],
    filter: Option<&InvitationFilter>,
) -> Result<BulkOutcome, AppError> {
    let inviter = user.display_name();
    let mut outcome = BulkOutcome::default();
    let chunks = ids.chunks(CHUNK).count();
    for (n, chunk) in ids.chunks(CHUNK).enumerate() {
        let now = now();
        let mut tx = db.begin().await?;
        lock_contracts(&mut tx, user.organization_id, chunk, now).await?;
        for &id in chunk {
            match resend_in(&mut tx, user, &inviter, id, now).await? {
                Resent::Done { .. } => outcome.done += 1,
                Resent::RateLimited(_) => outcome.rate_limited += 1,
                Resent::NotFound
                | Resent::NotResendable(_)
                | Resent::NewerPending
                | Resent::NoSeats(_) => outcome.skipped += 1,
            }
        }
        if n + 1 == chunks && outcome.done > 0 {
            record_bulk_resend(&mut tx, user, &outcome, filter).await?;
        }
        tx.commit().await?;
    }
    tracing::info!(
        organization_id = user.organization_id,
        resent = outcome.done,
        rate_limited = outcome.rate_limited,
        skipped = outcome.skipped,
        "invitations resent in bulk"
    );
    Ok(outcome)
}

async fn record_bulk_resend(
    tx: &mut Tx,
    user: &CurrentUser,
    outcome: &BulkOutcome,
    filter: Option<&InvitationFilter>,
) -> Result<(), AppError> {
    let (group, how) = match filter {
        Some(filter) => filter_described(tx, user.organization_id, filter).await?,
        None => (None, "Selected on the Invitations page.".to_owned()),
    };
    let mut left_out = Vec::new();
    if outcome.rate_limited > 0 {
        left_out.push(format!(
            "{} left out: their address had its resends for today",
            outcome.rate_limited
        ));
    }
    if outcome.skipped > 0 {
        left_out.push(format!("{} skipped: not resendable", outcome.skipped));
    }
    let details = if left_out.is_empty() {
        how
    } else {
        format!("{how} {}.", left_out.join("; "))
    };
    let mut entry = AuditEntry::by(user, AuditAction::InvitationsResent)
        .count(outcome.done)
        .details(details);
    if let Some((id, name)) = group {
        entry = entry.subject(Subject::Group, id, name);
    }
    record(tx, &entry).await
}

/// Resends every pending or expired invitation matching `filter`.
pub async fn resend_matching(
    db: &Db,
    user: &CurrentUser,
    filter: &InvitationFilter,
) -> Result<BulkOutcome, AppError> {
    let ids = store::resendable_matching(&db.pool, user.organization_id, filter, now()).await?;
    resend_each(db, user, &ids, Some(filter)).await
}
