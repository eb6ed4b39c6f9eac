//! Activation's rules and transactions: minting a link and its email (for
//! admins and imports), admins' sends within the daily limit, looking a link
//! up, and activating.

use super::{
    store::{self, NewToken},
    ActivationLookup, ActivationTokenStatus, BulkOutcome, ACTIVATION_DAYS,
    MAX_ACTIVATION_SENDS_PER_DAY,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{
        service::{check_password, hash_password},
        store as accounts, AccountStatus, CurrentUser,
    },
    bulk::{self, CHUNK},
    db::{Db, Tx},
    error::AppError,
    links::{
        server::{new_token, token_hash},
        FormError, TokenState,
    },
    mail::{
        self,
        server::{MailKind, Params, SealedToken},
    },
    state::now,
};

const DAY: i64 = 86_400;

/// The outbox kind of activation emails an import sends.
pub const IMPORT_KIND: MailKind = MailKind::Activation;
/// The email kind of activation emails an admin sends (rate-limited).
pub const ADMIN_KIND: MailKind = MailKind::ActivationResend;

/// Creates a new activation link for a provisioned person (the previous
/// one dies) and writes the "set your password" email to the outbox, all
/// inside the caller's transaction, whose commit wakes the sender.
///
/// The person must be a member of `organization_id` and still provisioned
/// (no password); otherwise this returns `AppError::Conflict` and writes nothing.
pub async fn queue_activation(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    to_email: &str,
    sent_by_name: &str,
    now: i64,
) -> Result<(), AppError> {
    let sent = Sender {
        organization_id,
        name: sent_by_name,
        kind: IMPORT_KIND,
    };
    queue(tx, &sent, user_id, to_email, now).await
}

/// Who sends activation emails, and as which outbox kind.
struct Sender<'a> {
    organization_id: i64,
    name: &'a str,
    kind: MailKind,
}

async fn queue(
    tx: &mut Tx,
    sender: &Sender<'_>,
    user_id: i64,
    to_email: &str,
    now: i64,
) -> Result<(), AppError> {
    let organization_id = sender.organization_id;
    let Some(person) = store::provisioned_member(&mut **tx, organization_id, user_id).await? else {
        return Err(AppError::Conflict(
            "Only people who have not activated their account yet can be sent an activation email."
                .into(),
        ));
    };
    store::replace_pending(&mut **tx, user_id).await?;
    let token = new_token();
    let expires_at = now + ACTIVATION_DAYS * DAY;
    let new_token = NewToken {
        organization_id,
        user_id,
        token_hash: &token_hash(&token),
        expires_at,
        sent_by_name: sender.name,
    };
    let token_id = store::insert_pending(&mut **tx, &new_token, now).await?;
    let email = mail::server::Email {
        to: to_email.to_owned(),
        kind: sender.kind,
        about_id: Some(token_id),
        params: Params::AccountProvisioned {
            first_name: person.first_name.clone(),
            organization: person.organization.clone(),
            sent_by: sender.name.to_owned(),
            expires_at,
            token: SealedToken::seal(&token)?,
        },
    };
    let outbox_id = mail::server::enqueue(tx, Some(organization_id), &email).await?;
    store::record_sent(&mut **tx, token_id, outbox_id).await?;
    Ok(())
}

enum Sent {
    Queued,
    RateLimited(String),
    NotEligible(String),
    NotFound,
}

/// One admin-initiated send inside `tx`: only to a provisioned member of
/// the admin's organization with an email, within the daily limit.
async fn admin_send(
    tx: &mut Tx,
    sender: &Sender<'_>,
    person_id: i64,
    now: i64,
) -> Result<Sent, AppError> {
    // So that two concurrent sends to this person count each other.
    accounts::lock_user(&mut **tx, person_id).await?;
    let Some(person) = store::member(&mut **tx, sender.organization_id, person_id).await? else {
        return Ok(Sent::NotFound);
    };
    match person.status.parse::<AccountStatus>()? {
        status if status.can_activate() => {}
        AccountStatus::AwaitingConsent => {
            return Ok(Sent::NotEligible(
                "This person has not accepted your organization's invitation yet.".into(),
            ))
        }
        _ => {
            return Ok(Sent::NotEligible(
                "This person has already activated their account.".into(),
            ))
        }
    }
    // A username-only student's activation goes to their parent.
    let email = match person.email {
        Some(email) => email,
        None => match store::parent_email(&mut **tx, sender.organization_id, person_id).await? {
            Some(parent) => parent,
            None => {
                return Ok(Sent::NotEligible(
                    "This person has no email address and no parent with one to send an activation email to."
                        .into(),
                ))
            }
        },
    };
    let recent = bulk::emails_sent_since(
        &mut **tx,
        sender.organization_id,
        &email,
        ADMIN_KIND,
        now - DAY,
    )
    .await?;
    if recent >= MAX_ACTIVATION_SENDS_PER_DAY {
        return Ok(Sent::RateLimited(email));
    }
    match queue(tx, sender, person_id, &email, now).await {
        Ok(()) => Ok(Sent::Queued),
        Err(AppError::Conflict(message)) => Ok(Sent::NotEligible(message)),
        Err(error) => Err(error),
    }
}

fn admin_sender<'a>(user: &CurrentUser, name: &'a str) -> Sender<'a> {
    Sender {
        organization_id: user.organization_id,
        name,
        kind: ADMIN_KIND,
    }
}

pub async fn send_one(db: &Db, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    let name = user.display_name();
    let mut tx = db.begin().await?;
    match admin_send(&mut tx, &admin_sender(user, &name), person_id, now()).await? {
        Sent::Queued => {
            let person = accounts::name_parts(&mut *tx, user.organization_id, person_id).await?;
            let label = person.email.unwrap_or_else(|| {
                format!("{} {}", person.first_name, person.last_name)
                    .trim()
                    .to_owned()
            });
            let entry = AuditEntry::by(user, AuditAction::ActivationSent)
                .subject(Subject::Person, person_id, label)
                .count(1);
            record(&mut tx, &entry).await?;
            tx.commit().await?;
            tracing::info!(
                organization_id = user.organization_id,
                person_id,
                "activation email sent"
            );
            Ok(())
        }
        Sent::RateLimited(email) => Err(AppError::Conflict(format!(
            "{email} has been sent {MAX_ACTIVATION_SENDS_PER_DAY} activation emails in the last 24 hours; try again tomorrow."
        ))),
        Sent::NotEligible(message) => Err(AppError::Conflict(message)),
        Sent::NotFound => Err(AppError::NotFound),
    }
}

/// Sends to each of `ids` that may get one, a chunk per transaction.
pub async fn send_many(db: &Db, user: &CurrentUser, ids: &[i64]) -> Result<BulkOutcome, AppError> {
    let unique = bulk::unique_selection(
        ids,
        "people",
        "use \"all who have not activated\" for more.",
    )?;
    send_each(db, user, &unique, "Selected on the People page.").await
}

/// Sends to every provisioned member of the organization with an email.
pub async fn send_all(db: &Db, user: &CurrentUser) -> Result<BulkOutcome, AppError> {
    let ids = store::provisioned_ids(&db.pool, user.organization_id).await?;
    send_each(db, user, &ids, "Everyone who has not activated.").await
}

/// Sends to `ids` a chunk per transaction; the audit record of them all
/// (`how` they were chosen) goes in the last chunk's.
async fn send_each(
    db: &Db,
    user: &CurrentUser,
    ids: &[i64],
    how: &str,
) -> Result<BulkOutcome, AppError> {
    let name = user.display_name();
    let sender = admin_sender(user, &name);
    let mut outcome = BulkOutcome::default();
    let chunks = ids.chunks(CHUNK).count();
    for (n, chunk) in ids.chunks(CHUNK).enumerate() {
        let now = now();
        let mut tx = db.begin().await?;
        for &id in chunk {
            match admin_send(&mut tx, &sender, id, now).await? {
                Sent::Queued => outcome.done += 1,
                Sent::RateLimited(_) => outcome.rate_limited += 1,
                Sent::NotEligible(_) | Sent::NotFound => outcome.skipped += 1,
            }
        }
        if n + 1 == chunks && outcome.done > 0 {
            let mut left_out = Vec::new();
            if outcome.rate_limited > 0 {
                left_out.push(format!(
                    "{} left out: their address had its activation emails for today",
                    outcome.rate_limited
                ));
            }
            if outcome.skipped > 0 {
                left_out.push(format!(
                    "{} skipped: already activated or no address",
                    outcome.skipped
                ));
            }
            let details = if left_out.is_empty() {
                how.to_owned()
            } else {
                format!("{how} {}.", left_out.join("; "))
            };
            let entry = AuditEntry::by(user, AuditAction::ActivationSent)
                .count(outcome.done)
                .details(details);
            record(&mut tx, &entry).await?;
        }
        tx.commit().await?;
    }
    tracing::info!(
        organization_id = user.organization_id,
        sent = outcome.done,
        rate_limited = outcome.rate_limited,
        skipped = outcome.skipped,
        "activation emails sent in bulk"
    );
    Ok(outcome)
}

pub async fn lookup(db: &Db, token: &str) -> Result<ActivationLookup, AppError> {
    let Some(found) = store::by_token(&db.pool, &token_hash(token.trim())).await? else {
        return Ok(ActivationLookup::NotFound);
    };
    let account: AccountStatus = found.user_status.parse()?;
    let state = token_state(&found, now())?;
    let organization = found.organization;
    Ok(match state {
        TokenState::Used => ActivationLookup::Used { organization },
        // Someone who is active already needs no link, whichever it is.
        _ if !account.can_activate() => ActivationLookup::AlreadyActive { organization },
        TokenState::Replaced => ActivationLookup::Replaced { organization },
        TokenState::Expired => ActivationLookup::Expired { organization },
        TokenState::NotFound | TokenState::Cancelled => ActivationLookup::NotFound,
        TokenState::Valid => ActivationLookup::Valid {
            organization,
            email: found.email.unwrap_or_default(),
            first_name: found.first_name,
            expires_at: found.expires_at,
        },
    })
}

/// Where a stored activation link stands. The table keeps a status rather
/// than a time for replaced links.
fn token_state(found: &store::TokenPerson, now: i64) -> Result<TokenState, AppError> {
    let status: ActivationTokenStatus = found.status.parse()?;
    Ok(TokenState::of(
        (status == ActivationTokenStatus::Used)
            .then_some(found.used_at.unwrap_or(found.expires_at)),
        (status == ActivationTokenStatus::Replaced).then_some(found.expires_at),
        None,
        found.expires_at,
        now,
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    pub user_id: i64,
    pub organization_id: i64,
}

/// Sets the password of the link's person and makes them active; the link
/// is used up in the same transaction (a conditional update, so of two
/// concurrent tries exactly one wins).
pub async fn activate(
    db: &Db,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<Activated, AppError> {
    check_password(password)?;
    if password != confirmation {
        return Err(AppError::invalid(
            "Password confirmation",
            "does not match the password.",
        ));
    }
    let now = now();
    let hash = token_hash(token.trim());
    // The cheap check first: hashing for a link that does not work would let
    // anyone make the server spend a hash per request.
    let found = store::by_token(&db.pool, &hash).await?;
    if found.map(|found| token_state(&found, now)).transpose()? != Some(TokenState::Valid) {
        return Err(AppError::Refused(FormError::Gone));
    }
    let password_hash = hash_password(password).await?;
    let mut tx = db.begin().await?;
    let claimed = store::claim(&mut *tx, &hash, now)
        .await?
        .ok_or(AppError::Refused(FormError::Gone))?;
    if !accounts::activate_provisioned(
        &mut *tx,
        claimed.organization_id,
        claimed.user_id,
        &password_hash,
        now,
    )
    .await?
    {
        return Err(AppError::Refused(FormError::AlreadyActive));
    }
    tx.commit().await?;
    tracing::info!(
        user_id = claimed.user_id,
        organization_id = claimed.organization_id,
        "account activated"
    );
    Ok(Activated {
        user_id: claimed.user_id,
        organization_id: claimed.organization_id,
    })
}
