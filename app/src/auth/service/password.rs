//! Passwords after sign-up: changing one (signed in, with the current one)
//! and "Forgot password?" (an emailed link that works once, for an hour).

use muster_core::email::Email;

use super::{check_password, hash_password, password_matches, MAX_EMAIL_CHARS};
use crate::{
    auth::{store, CurrentUser},
    db::Db,
    error::AppError,
    limits::{service as limits, Action, ClientAddr},
    links::{
        server::{new_token, token_hash},
        FormError, TokenState,
    },
    mail::{
        self,
        server::{MailKind, Params, SealedToken},
    },
    state::{now, AppState},
};

/// How long a reset link works: long enough to reach the mailbox, short
/// enough that an old email in a mailbox is not a way in.
pub const RESET_TTL_SECS: i64 = 60 * 60;
/// The outbox kind of reset emails.
pub const RESET_KIND: MailKind = MailKind::PasswordReset;

/// What `/reset-password/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetLink {
    pub state: TokenState,
    pub email: String,
    pub expires_at: i64,
}

fn confirm(password: &str, confirmation: &str) -> Result<(), AppError> {
    check_password(password)?;
    if password != confirmation {
        return Err(AppError::invalid(
            "Password confirmation",
            "does not match the password.",
        ));
    }
    Ok(())
}

/// "Forgot password?": the answer is the same whether or not the address has
/// an account (Ok), and so are its status, headers and timing, because the
/// lookup and the email happen after the answer, on a task of their own.
/// Only a malformed address or a spent limit answer differently, and those
/// say nothing about accounts either.
pub async fn request_reset(
    state: &AppState,
    client: ClientAddr,
    email: &str,
) -> Result<(), AppError> {
    let limits_of = &state.settings.limits;
    limits::take(
        &state.db,
        &[(
            limits::Key::client(Action::ResetRequest, client),
            limits_of.client,
        )],
    )
    .await?;
    if email.trim().len() > MAX_EMAIL_CHARS {
        return Err(AppError::invalid("Email", "is too long."));
    }
    let email = Email::parse(email)
        .map_err(|error| AppError::invalid("Email", error.to_string()))?
        .key()
        .to_string();
    // Per address, known or not: a script cannot fill someone's mailbox.
    limits::take(
        &state.db,
        &[(limits::Key::reset_email(&email), limits_of.reset_email)],
    )
    .await?;
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(error) = send_reset(&db, &email).await {
            tracing::error!(%error, "could not queue a password reset email");
        }
    });
    Ok(())
}

/// Mints a link for the address's account, if it has one, and queues its
/// email; earlier links of that person stop working.
async fn send_reset(db: &Db, email: &str) -> Result<(), AppError> {
    let Some(person) = store::password::reset_candidate(&db.pool, email).await? else {
        return Ok(());
    };
    let now = now();
    let token = new_token();
    let expires_at = now + RESET_TTL_SECS;
    let email = mail::server::Email {
        to: email.to_owned(),
        kind: RESET_KIND,
        about_id: Some(person.id),
        params: Params::PasswordReset {
            first_name: person.first_name.clone(),
            expires_at,
            token: SealedToken::seal(&token)?,
        },
    };
    let mut tx = db.begin().await?;
    store::password::delete_resets_of(&mut *tx, person.id).await?;
    store::password::insert_reset(&mut *tx, person.id, &token_hash(&token), expires_at, now)
        .await?;
    // No organization: the dev mailbox shows an organization's mail to its
    // admins, and a reset link would hand them the account.
    mail::server::enqueue(&mut tx, None, &email).await?;
    tx.commit().await?;
    tracing::info!(user_id = person.id, "password reset email queued");
    Ok(())
}

fn link_state(link: &store::password::ResetLink, now: i64) -> TokenState {
    TokenState::of(link.used_at, None, None, link.expires_at, now)
}

pub async fn lookup_reset(db: &Db, token: &str) -> Result<ResetLink, AppError> {
    let found = store::password::reset_by_token(&db.pool, &token_hash(token.trim())).await?;
    Ok(match found {
        None => ResetLink {
            state: TokenState::NotFound,
            email: String::new(),
            expires_at: 0,
        },
        Some(link) => ResetLink {
            state: link_state(&link, now()),
            email: link.email.clone().unwrap_or_default(),
            expires_at: link.expires_at,
        },
    })
}

/// Sets a new password through a reset link: the link is used up, the
/// address counts as verified (only its mailbox got the link), and every
/// session of the person ends (whoever knew the old password is out).
pub async fn reset_password(
    state: &AppState,
    client: ClientAddr,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<i64, AppError> {
    let hash = token_hash(token.trim());
    // A link that does not exist is refused after one read: counting it
    // would make each made-up link a database write.
    let Some(link) = store::password::reset_by_token(&state.db.pool, &hash).await? else {
        return Err(AppError::Refused(FormError::Gone));
    };
    let limits_of = &state.settings.limits;
    limits::take(
        &state.db,
        &[
            (limits::Key::client(Action::Reset, client), limits_of.client),
            (limits::Key::link(Action::Reset, token), limits_of.link),
        ],
    )
    .await?;
    confirm(password, confirmation)?;
    let now = now();
    // The cheap check before the hash: none is spent for a dead link.
    if !link_state(&link, now).is_valid() {
        return Err(AppError::Refused(FormError::Gone));
    }
    let password_hash = hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    let user_id = store::password::claim_reset(&mut *tx, &hash, now)
        .await?
        .ok_or(AppError::Refused(FormError::Gone))?;
    if !store::password::set_password(&mut *tx, user_id, &password_hash, Some(now)).await? {
        return Err(AppError::Refused(FormError::Gone));
    }
    let ended = store::delete_sessions_of(&mut *tx, user_id).await?;
    tx.commit().await?;
    // The owner proved themselves: earlier wrong guesses no longer lock them out.
    if let Some(email) = &link.email {
        limits::forget(&state.db, &limits::Key::account(email)).await?;
    }
    tracing::info!(user_id, ended, "password reset");
    Ok(user_id)
}

/// Changes the signed-in person's password. The current password is a
/// password attempt on the account like a login (same limit), and every
/// other session of the person ends; this one stays.
pub async fn change_password(
    state: &AppState,
    client: ClientAddr,
    user: &CurrentUser,
    session_token: &str,
    current: &str,
    password: &str,
    confirmation: &str,
) -> Result<(), AppError> {
    let limits_of = &state.settings.limits;
    let account = limits::Key::account(&user.email);
    limits::take(
        &state.db,
        &[
            (
                limits::Key::client(Action::ChangePassword, client),
                limits_of.client,
            ),
            (account.clone(), limits_of.account),
        ],
    )
    .await?;
    confirm(password, confirmation)?;
    let stored = store::password::password_hash_of(&state.db.pool, user.user_id).await?;
    let matches = match stored {
        Some(stored) => password_matches(current, &stored).await?,
        None => false,
    };
    if !matches {
        return Err(AppError::Refused(FormError::Credentials));
    }
    limits::forget(&state.db, &account).await?;
    let password_hash = hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    if !store::password::set_password(&mut *tx, user.user_id, &password_hash, None).await? {
        return Err(AppError::Refused(FormError::Credentials));
    }
    let ended =
        store::password::delete_other_sessions(&mut *tx, user.user_id, &token_hash(session_token))
            .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.user_id, ended, "password changed");
    Ok(())
}

/// Deletes reset links past their hour; the supervisor runs it periodically.
pub async fn sweep_resets(db: &Db, now: i64) -> Result<u64, AppError> {
    Ok(store::password::delete_expired_resets(&db.pool, now).await?)
}
