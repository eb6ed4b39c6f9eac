//! Accepting an invitation: signed in, by logging in, or by creating the account.

use muster_core::name::PersonName;

use crate::{
    auth::{
        service::{check_password, hash_password, verify_login},
        store::{self as accounts, NewUser, PersonRecord},
    },
    error::AppError,
    invitations::store,
    links::{server::token_hash, FormError},
    state::{now, AppState},
};

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
                password_hash: hash_password(&password).await?,
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
    let (user_id, names) = match &who {
        Who::Existing(user_id) => (*user_id, PersonRecord::default()),
        Who::New {
            first_name,
            last_name,
            password_hash,
        } => {
            let user = NewUser {
                email: &email,
                password_hash,
                email_verified_at: Some(now),
            };
            let user_id = match accounts::insert_user_unless_taken(&mut *tx, &user, now).await? {
                Some(id) => id,
                // An account created without a password (an import, an
                // earlier invitation): holding the invitation proves the
                // address, so its first password may be set here, unless
                // another organization holds an active record of it. Then
                // the person signs in, or resets their password, instead.
                None => accounts::claim_passwordless(
                    &mut *tx,
                    claimed.organization_id,
                    &email,
                    password_hash,
                    now,
                )
                .await?
                .ok_or(AppError::Refused(FormError::AccountExists))?,
            };
            let names = PersonRecord {
                first_name,
                last_name,
                ..PersonRecord::default()
            };
            (user_id, names)
        }
    };
    // The link went to the address: opening it proves the address.
    accounts::mark_email_verified(&mut *tx, user_id, now).await?;
    store::set_accepted_user(&mut *tx, claimed.id, user_id).await?;
    crate::groups::service::enter_group(
        &mut tx,
        claimed.organization_id,
        claimed.group_id,
        user_id,
        Some(claimed.id),
        &names,
    )
    .await?;
    crate::webhooks::server::enqueue(
        &mut tx,
        claimed.organization_id,
        crate::webhooks::EventType::InvitationAccepted,
        serde_json::json!({
            "invitation_id": claimed.id,
            "group_id": claimed.group_id,
            "user_id": user_id,
            "email": email,
        }),
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
