//! Accounts' rules: creating an organization, password rules and hashing,
//! logging in, sessions and who is calling. Plain functions behind the server
//! functions, testable without a request.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use http::header;
use muster_core::{email::Email, name::PersonName};

use super::{
    store::{self, NewUser},
    CurrentUser, Role,
};
use crate::{
    db::Db,
    error::AppError,
    limits::service as limits,
    links::server::{
        append_response_header, new_token, session_cookie, session_from_headers, token_hash,
    },
    state::{now, AppState, Settings},
};

pub mod password;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// How stale a session's recorded last use may get before a request renews it.
const TOUCH_EVERY_SECS: i64 = 60;
/// The longest address SMTP can carry.
pub const MAX_EMAIL_CHARS: usize = 254;
const MAX_PASSWORD_CHARS: usize = 256;
/// The most accounts one username sign-in tries the password against (one
/// hash each): enough for a username several organizations gave out.
const MAX_USERNAME_CANDIDATES: i64 = 3;

pub struct NewOrganization {
    pub organization_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub password: String,
}

pub async fn organization_exists(db: &Db) -> Result<bool, AppError> {
    Ok(store::any_organization(&db.pool).await?)
}

pub fn organization_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("Organization name", "is required."));
    }
    if name.chars().count() > 120 {
        return Err(AppError::invalid(
            "Organization name",
            "must be at most 120 characters.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "Organization name",
            "must not contain control characters.",
        ));
    }
    Ok(name.to_owned())
}

pub fn check_password(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "Password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "Password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Argon2 costs tens of milliseconds of CPU by design. On the async threads a
/// burst of sign-ins (or an attacker posting passwords) would stall every
/// request, import and email; so hashing runs on the blocking pool, at most
/// one hash per core at a time, and everything cheap is checked before it.
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    static HASHING: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    let permits = HASHING.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::sync::Arc::new(tokio::sync::Semaphore::new(cores))
    });
    let permit = permits.clone().acquire_owned().await.map_err(|error| {
        tracing::error!(%error, "password hashing semaphore closed");
        AppError::Internal
    })?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "password hashing task failed");
        AppError::Internal
    })
}

/// A new argon2id hash of `password`, computed off the async threads.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    on_hashing_thread(move || hash_password_now(&password)).await?
}

fn hash_password_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            AppError::Internal
        })
}

/// Whether `password` matches the stored hash, checked off the async threads.
async fn password_matches(password: &str, stored: &str) -> Result<bool, AppError> {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    on_hashing_thread(move || password_matches_now(&password, &stored)).await
}

fn password_matches_now(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn parse_email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).map_err(|error| AppError::invalid("Email", error.to_string()))
}

fn parse_name(field: &str, raw: &str) -> Result<PersonName, AppError> {
    PersonName::parse(raw).map_err(|error| AppError::invalid(field, error.to_string()))
}

/// Creates an organization with its first admin. Allowed on an empty
/// database, and afterwards only when open sign-up is configured.
pub async fn create_organization(
    db: &Db,
    settings: &Settings,
    input: &NewOrganization,
) -> Result<(i64, i64), AppError> {
    let organization_name = organization_name(&input.organization_name)?;
    let first_name = parse_name("First name", &input.first_name)?;
    let last_name = parse_name("Last name", &input.last_name)?;
    let email = parse_email(&input.email)?;
    check_password(&input.password)?;
    let password_hash = hash_password(&input.password).await?;
    let now = now();

    let mut tx = db.begin().await?;
    if store::any_organization(&mut *tx).await? && !settings.open_signup {
        return Err(AppError::Forbidden);
    }
    let email = email.key().to_string();
    let taken =
        || AppError::Conflict("An account with this email already exists. Log in instead.".into());
    if store::user_id_by_email(&mut *tx, &email).await?.is_some() {
        return Err(taken());
    }
    let organization_id = store::insert_organization(&mut *tx, &organization_name, now).await?;
    // Typed, not proven: until the owner of the address opens the link
    // below, no other organization can find this account by the address.
    let user = NewUser {
        email: &email,
        password_hash: &password_hash,
        email_verified_at: None,
    };
    let user_id = store::insert_user_unless_taken(&mut *tx, &user, now)
        .await?
        .ok_or_else(taken)?;
    let names = store::PersonRecord {
        first_name: first_name.as_str(),
        last_name: last_name.as_str(),
        ..store::PersonRecord::default()
    };
    store::add_membership(&mut *tx, organization_id, user_id, Role::Admin, &names, now).await?;
    let founder = crate::audit::service::Actor {
        user_id: Some(user_id),
        name: format!("{} {}", first_name.as_str(), last_name.as_str())
            .trim()
            .to_owned(),
        email: email.clone(),
    };
    let entry = crate::audit::service::AuditEntry::new(
        organization_id,
        founder,
        crate::audit::AuditAction::OrganizationCreated,
    )
    .subject(
        crate::audit::Subject::Organization,
        organization_id,
        &organization_name,
    );
    crate::audit::service::record(&mut tx, &entry).await?;
    if settings.open_signup {
        queue_email_confirmation(&mut tx, user_id, &email, &organization_name, now).await?;
    }
    tx.commit().await?;
    tracing::info!(organization_id, user_id, "organization created");
    Ok((user_id, organization_id))
}

/// The login form: the client's attempts at it are limited, then the
/// account's (in [`verify_login`]).
pub async fn log_in(
    state: &AppState,
    client: crate::limits::ClientAddr,
    email: &str,
    password: &str,
) -> Result<(i64, i64, Role), AppError> {
    let key = limits::Key::client(crate::limits::Action::Login, client);
    limits::take(&state.db, &[(key, state.settings.limits.client)]).await?;
    verify_login(state, email, password).await
}

/// Checks an email and password. The error is the same whether the email
/// is unknown or the password wrong, and a dummy hash is verified for
/// unknown emails so timing does not tell them apart either.
pub async fn verify_login(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<(i64, i64, Role), AppError> {
    // Refused before any other work: no longer address is deliverable
    // (RFC 5321), and nothing longer should reach the limiter.
    if email.trim().len() > MAX_EMAIL_CHARS {
        return Err(AppError::BadCredentials);
    }
    // Every password attempt on the account counts, before the hash is
    // spent on it; a correct password refills the bucket below. The bucket is
    // in the database, so attempts spread over processes count together.
    let key = email.trim().to_lowercase();
    let parsed = Email::parse(email).ok();
    let account = limits::Key::account(
        &parsed
            .as_ref()
            .map_or_else(|| key.clone(), |email| email.key().to_string()),
    );
    limits::take(
        &state.db,
        &[(account.clone(), state.settings.limits.account)],
    )
    .await?;
    let candidates = if key.contains('@') {
        match parsed {
            Some(email) => store::login_candidate(&state.db.pool, email.key().as_ref())
                .await?
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    } else {
        // A username-only student. Usernames are unique per organization
        // only, so the password tells which of (at most a few) it is.
        store::login_candidates_by_username(&state.db.pool, &key, MAX_USERNAME_CANDIDATES).await?
    };
    let mut signed_in = None;
    for candidate in &candidates {
        if let Some(hash) = candidate.password_hash.as_deref() {
            if password_matches(password, hash).await? {
                signed_in = Some(candidate.id);
                break;
            }
        }
    }
    if candidates.is_empty() {
        let _ = password_matches(password, dummy_hash()).await?;
    }
    let Some(user_id) = signed_in else {
        return Err(AppError::BadCredentials);
    };
    limits::forget(&state.db, &account).await?;
    let Some(membership) = store::first_membership(&state.db.pool, user_id).await? else {
        return Err(AppError::BadCredentials);
    };
    Ok((user_id, membership.organization_id, membership.role))
}

/// A real hash of a throwaway password, verified when the email is unknown
/// so that the response takes as long as for a known email.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password_now(&new_token()).unwrap_or_default())
}

pub async fn start_session(
    state: &AppState,
    user_id: i64,
    organization_id: i64,
) -> Result<(), AppError> {
    let token = create_session(state, user_id, organization_id).await?;
    append_response_header(
        header::SET_COOKIE,
        &session_cookie(&state.settings, Some(&token)),
    );
    Ok(())
}

pub async fn end_session(state: &AppState) -> Result<(), AppError> {
    if let Some(token) = session_token() {
        store::delete_session(&state.db.pool, &token_hash(&token)).await?;
    }
    append_response_header(header::SET_COOKIE, &session_cookie(&state.settings, None));
    Ok(())
}

/// The session token from the request's cookies, if any.
pub fn session_token() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    session_from_headers(&parts.headers)
}

pub async fn current_user(state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    match session_token() {
        Some(token) => user_for_token(state, &token).await,
        None => Ok(None),
    }
}

/// The calling admin, or the reason they may not proceed. Every admin
/// server function starts here and scopes its queries to the returned
/// organization.
pub async fn require_admin() -> Result<(AppState, CurrentUser), AppError> {
    let state = crate::state::app_state()?;
    let user = current_user(&state).await?.ok_or_else(|| {
        set_status(http::StatusCode::UNAUTHORIZED);
        AppError::NotAuthenticated
    })?;
    if user.role != Role::Admin {
        set_status(http::StatusCode::FORBIDDEN);
        return Err(AppError::Forbidden);
    }
    Ok((state, user))
}

pub fn set_status(status: http::StatusCode) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// Opens a session for the person in the organization; the token is
/// for the cookie, only its hash is stored.
pub async fn create_session(
    state: &AppState,
    user_id: i64,
    organization_id: i64,
) -> Result<String, AppError> {
    let token = new_token();
    let now = now();
    store::insert_session(
        &state.db.pool,
        &token_hash(&token),
        user_id,
        organization_id,
        now,
        now + state.settings.session_lifetime_secs,
    )
    .await?;
    Ok(token)
}

/// Who a session token belongs to while the session lasts; `None` also
/// for a role this version does not know.
/// Using a session keeps it alive: it ends after the idle timeout without use.
pub async fn user_for_token(
    state: &AppState,
    token: &str,
) -> Result<Option<CurrentUser>, AppError> {
    let now = now();
    let hash = token_hash(token);
    let idle_since = now - state.settings.session_idle_secs;
    let found = store::session_user(&state.db.pool, &hash, now, idle_since).await?;
    // At most one write a minute per session: page loads stay reads.
    if found
        .as_ref()
        .is_some_and(|row| row.last_seen_at < now - TOUCH_EVERY_SECS)
    {
        store::touch_session(&state.db.pool, &hash, now).await?;
    }
    Ok(found.and_then(|row| {
        Some(CurrentUser {
            user_id: row.user_id,
            organization_id: row.organization_id,
            organization_name: row.organization_name,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            role: row.role.parse().ok()?,
            via_token: None,
        })
    }))
}

/// Ends every session of the caller, in every browser and organization.
pub async fn end_all_sessions(state: &AppState, user: &CurrentUser) -> Result<u64, AppError> {
    let ended = store::delete_sessions_of(&state.db.pool, user.user_id).await?;
    append_response_header(header::SET_COOKIE, &session_cookie(&state.settings, None));
    tracing::info!(user_id = user.user_id, ended, "signed out everywhere");
    Ok(ended)
}

/// Deletes sessions that have ended (past their lifetime, or idle), so the
/// table holds only live ones; the supervisor runs it periodically.
/// Spent email confirmation links go with them.
pub async fn sweep_sessions(db: &Db, settings: &Settings, now: i64) -> Result<u64, AppError> {
    store::delete_spent_confirmations(&db.pool, now).await?;
    Ok(store::delete_ended_sessions(&db.pool, now, now - settings.session_idle_secs).await?)
}

/// Tells someone whose account the organization does not own that it added
/// them: they accept or decline on their home page after signing in.
pub async fn queue_added_notice(
    tx: &mut crate::db::Tx,
    organization_id: i64,
    email: &str,
    added_by: &str,
) -> Result<(), AppError> {
    let organization = store::organization_name(&mut **tx, organization_id).await?;
    let notice = crate::mail::server::Email {
        to: email.to_owned(),
        kind: crate::mail::server::MailKind::AddedNotice,
        about_id: Some(organization_id),
        params: crate::mail::server::Params::AddedNotice {
            organization,
            added_by: added_by.to_owned(),
        },
    };
    crate::mail::server::enqueue(tx, Some(organization_id), &notice).await?;
    Ok(())
}

/// How long an email confirmation link works.
const CONFIRMATION_TTL_SECS: i64 = 7 * 24 * 3600;

async fn queue_email_confirmation(
    tx: &mut crate::db::Tx,
    user_id: i64,
    email: &str,
    organization: &str,
    now: i64,
) -> Result<(), AppError> {
    let token = new_token();
    store::insert_confirmation(
        &mut **tx,
        user_id,
        &token_hash(&token),
        now + CONFIRMATION_TTL_SECS,
        now,
    )
    .await?;
    let confirmation = crate::mail::server::Email {
        to: email.to_owned(),
        kind: crate::mail::server::MailKind::ConfirmEmail,
        about_id: Some(user_id),
        params: crate::mail::server::Params::ConfirmEmail {
            organization: organization.to_owned(),
            token: crate::mail::server::SealedToken::seal(&token)?,
        },
    };
    crate::mail::server::enqueue(tx, None, &confirmation).await?;
    Ok(())
}

/// Opens a confirmation link: the address is proven. `Gone` for a link
/// that is unknown, used or expired.
pub async fn confirm_email(db: &Db, token: &str) -> Result<(), AppError> {
    let now = now();
    let mut tx = db.begin().await?;
    let user_id = store::use_confirmation(&mut *tx, &token_hash(token.trim()), now)
        .await?
        .ok_or(AppError::Refused(crate::links::FormError::Gone))?;
    store::mark_email_verified(&mut *tx, user_id, now).await?;
    tx.commit().await?;
    tracing::info!(user_id, "email confirmed");
    Ok(())
}
