//! Invitations' rules and transactions: inviting by hand, resending,
//! cancelling, looking a link up and accepting it; the invitation email is
//! composed here for manual invites, resends and imports alike.

use std::collections::HashSet;

use muster_core::{email::Email, name::PersonName};

use super::{
    store::{self, InviteGroup, NewInvitation},
    BulkOutcome, InvitationFilter, InvitationRow, InvitationStatus, InvitationsPage, InviteLookup,
    InviteOutcome, InviteResult, MAX_MANUAL_INVITES, MAX_RESENDS_PER_DAY, PAGE_SIZE,
};
use crate::{
    auth::{
        service::{check_password, hash_password, verify_login},
        store::{self as accounts, NewUser},
        CurrentUser,
    },
    bulk::{self, CHUNK},
    db::{Db, Tx},
    error::AppError,
    links::{
        server::{new_token, token_hash},
        FormError, TokenState,
    },
    mail::{self, templates},
    state::{now, AppState, Settings},
};

const DAY: i64 = 86_400;

/// The outbox kind of a first invitation (by hand or by an import).
pub const INVITATION_KIND: &str = "invitation";
/// The outbox kind of a resent invitation, which the daily limit counts.
pub const RESEND_KIND: &str = "invitation_resend";

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
    pub kind: &'static str,
}

/// The invitation email, for the outbox.
pub fn invitation_email(
    settings: &Settings,
    invitation: &InvitationEmail<'_>,
) -> mail::server::Email {
    let link = format!("{}/invite/{}", settings.base_url, invitation.token);
    let rendered = templates::invitation(&templates::Invitation {
        organization: invitation.organization,
        group: invitation.group,
        inviter: invitation.inviter,
        expires_at: invitation.expires_at,
        link: &link,
    });
    mail::server::Email {
        to: invitation.to.to_owned(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        kind: invitation.kind,
    }
}

/// Queues the invitation email for a (new) token and records it on the row.
async fn send_email(
    tx: &mut Tx,
    settings: &Settings,
    organization_id: i64,
    invitation_id: i64,
    invitation: &InvitationEmail<'_>,
) -> Result<(), AppError> {
    let email = invitation_email(settings, invitation);
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
    settings: &Settings,
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
                            send_email(&mut tx, settings, organization_id, invitation_id, &message)
                                .await?;
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
    tx.commit().await?;
    tracing::info!(
        organization_id,
        group_id,
        invited = outcomes
            .iter()
            .filter(|o| o.result == InviteResult::Invited)
            .count(),
        "manual invite"
    );
    Ok(outcomes)
}

pub async fn list(
    db: &Db,
    organization_id: i64,
    filter: &InvitationFilter,
    page: i64,
) -> Result<InvitationsPage, AppError> {
    let page = page.max(1);
    let (total, rows) = store::list(&db.pool, organization_id, filter, page, now()).await?;
    Ok(InvitationsPage {
        rows: rows
            .into_iter()
            .map(|row| InvitationRow {
                id: row.id,
                email: row.email,
                group_name: row.group_name,
                status: row.status,
                expires_at: row.expires_at,
                created_at: row.created_at,
                resend_count: row.resend_count,
                delivery: row.delivery,
                delivery_error: row.delivery_error,
                accepted_name: row
                    .accepted_first_name
                    .zip(row.accepted_last_name)
                    .map(|(first, last)| format!("{first} {last}").trim().to_owned()),
            })
            .collect(),
        total,
        page,
        page_size: PAGE_SIZE,
    })
}

/// Why a resend did not happen.
enum Resent {
    Done,
    NotFound,
    NotResendable(InvitationStatus),
    NewerPending,
    RateLimited(String),
}

/// A new token (the old link dies), a fresh expiry, and the email again;
/// limited to [`MAX_RESENDS_PER_DAY`] per address.
pub async fn resend(
    db: &Db,
    settings: &Settings,
    user: &CurrentUser,
    id: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    match resend_in(&mut tx, settings, user, &user.display_name(), id, now()).await? {
        Resent::Done => {
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
    }
}

async fn resend_in(
    tx: &mut Tx,
    settings: &Settings,
    user: &CurrentUser,
    inviter: &str,
    id: i64,
    now: i64,
) -> Result<Resent, AppError> {
    let organization_id = user.organization_id;
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
    let recent = bulk::emails_sent_since(
        &mut **tx,
        organization_id,
        &target.email,
        RESEND_KIND,
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
    send_email(tx, settings, organization_id, id, &message).await?;
    Ok(Resent::Done)
}

const TOO_MANY_SELECTED: &str = "filter the list and act on everything matching instead.";

/// Resends each of `ids` that can be resent, a chunk per transaction.
pub async fn resend_many(
    db: &Db,
    settings: &Settings,
    user: &CurrentUser,
    ids: &[i64],
) -> Result<BulkOutcome, AppError> {
    let unique = bulk::unique_selection(ids, "invitations", TOO_MANY_SELECTED)?;
    resend_each(db, settings, user, &unique).await
}

async fn resend_each(
    db: &Db,
    settings: &Settings,
    user: &CurrentUser,
    ids: &[i64],
) -> Result<BulkOutcome, AppError> {
    let inviter = user.display_name();
    let mut outcome = BulkOutcome::default();
    for chunk in ids.chunks(CHUNK) {
        let now = now();
        let mut tx = db.begin().await?;
        for &id in chunk {
            match resend_in(&mut tx, settings, user, &inviter, id, now).await? {
                Resent::Done => outcome.done += 1,
                Resent::RateLimited(_) => outcome.rate_limited += 1,
                Resent::NotFound | Resent::NotResendable(_) | Resent::NewerPending => {
                    outcome.skipped += 1
                }
            }
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

/// Resends every pending or expired invitation matching `filter`.
pub async fn resend_matching(
    db: &Db,
    settings: &Settings,
    user: &CurrentUser,
    filter: &InvitationFilter,
) -> Result<BulkOutcome, AppError> {
    let ids = store::resendable_matching(&db.pool, user.organization_id, filter, now()).await?;
    resend_each(db, settings, user, &ids).await
}

/// Cancels each of `ids` that is pending.
pub async fn cancel_many(
    db: &Db,
    organization_id: i64,
    ids: &[i64],
) -> Result<BulkOutcome, AppError> {
    let unique = bulk::unique_selection(ids, "invitations", TOO_MANY_SELECTED)?;
    let mut done = 0;
    for chunk in unique.chunks(CHUNK) {
        done += store::cancel_pending(&db.pool, organization_id, chunk).await? as i64;
    }
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
    organization_id: i64,
    filter: &InvitationFilter,
) -> Result<BulkOutcome, AppError> {
    let done = store::cancel_matching(&db.pool, organization_id, filter, now()).await? as i64;
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
pub async fn cancel(db: &Db, organization_id: i64, id: i64) -> Result<(), AppError> {
    if store::cancel_pending(&db.pool, organization_id, &[id]).await? == 1 {
        return Ok(());
    }
    match store::status(&db.pool, organization_id, id).await? {
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

/// Who is accepting.
pub enum Acceptor {
    /// Already signed in as this user (whose email must be the invited one).
    SignedIn { user_id: i64 },
    /// An existing account, proven by its password.
    Login { password: String },
    /// A new account for the invited email.
    Register {
        first_name: String,
        last_name: String,
        password: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub user_id: i64,
    pub organization_id: i64,
    pub invitation_id: i64,
}

/// The accepting person, once everything slow or lock-free is checked.
enum Who {
    Existing(i64),
    New {
        first_name: String,
        last_name: String,
        password_hash: String,
    },
}

async fn who_accepts(state: &AppState, email: &str, acceptor: Acceptor) -> Result<Who, AppError> {
    Ok(match acceptor {
        Acceptor::SignedIn { user_id } => {
            if accounts::user_email(&state.db.pool, user_id)
                .await?
                .as_deref()
                != Some(email)
            {
                return Err(AppError::Forbidden);
            }
            Who::Existing(user_id)
        }
        Acceptor::Login { password } => {
            let (user_id, _, _) = verify_login(state, email, &password).await?;
            Who::Existing(user_id)
        }
        Acceptor::Register {
            first_name,
            last_name,
            password,
        } => {
            let first_name = PersonName::parse(&first_name)
                .map_err(|error| AppError::invalid("First name", error.to_string()))?;
            let last_name = PersonName::parse(&last_name)
                .map_err(|error| AppError::invalid("Last name", error.to_string()))?;
            check_password(&password)?;
            Who::New {
                first_name: first_name.as_str().to_owned(),
                last_name: last_name.as_str().to_owned(),
                password_hash: hash_password(&password)?,
            }
        }
    })
}

/// Accepts an invitation: in one transaction the invitation turns active
/// (a conditional update, so of two concurrent accepts exactly one wins),
/// the account exists and is active, the person is a learner of the
/// organization and an active member of the group with its trainings, and
/// a welcome email is queued.
pub async fn accept(
    state: &AppState,
    token: &str,
    acceptor: Acceptor,
) -> Result<Accepted, AppError> {
    let db = &state.db;
    let hash = token_hash(token.trim());
    let email = store::email_by_token(&db.pool, &hash)
        .await?
        .ok_or(AppError::NotFound)?;
    // Password hashing and every check that needs no lock happen before the transaction.
    let who = who_accepts(state, &email, acceptor).await?;

    let now = now();
    let mut tx = db.begin().await?;
    let Some(claimed) = store::claim_for_accept(&mut *tx, &hash, now).await? else {
        return Err(AppError::Refused(FormError::Gone));
    };
    let user_id = match who {
        Who::Existing(user_id) => user_id,
        Who::New {
            first_name,
            last_name,
            password_hash,
        } => {
            let user = NewUser {
                email: &email,
                first_name: &first_name,
                last_name: &last_name,
                password_hash: &password_hash,
            };
            match accounts::insert_user_unless_taken(&mut *tx, &user, now).await? {
                Some(id) => id,
                // A person created by an import, without a password yet:
                // holding the invitation proves the address, so they may set one.
                None => accounts::complete_provisioned_by_email(&mut *tx, &user)
                    .await?
                    .ok_or(AppError::Refused(FormError::AccountExists))?,
            }
        }
    };
    store::set_accepted_user(&mut *tx, claimed.id, user_id).await?;
    crate::groups::server::enter_group(
        &mut tx,
        &state.settings,
        claimed.organization_id,
        claimed.group_id,
        user_id,
        Some(claimed.id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        invitation_id = claimed.id,
        organization_id = claimed.organization_id,
        group_id = claimed.group_id,
        user_id,
        "invitation accepted"
    );
    Ok(Accepted {
        user_id,
        organization_id: claimed.organization_id,
        invitation_id: claimed.id,
    })
}
