//! Activation of provisioned accounts: people created by an import have no
//! password yet. They get an email with a link to `/activate/{token}`, where
//! they set one and become active. Admins send (or resend) that email from
//! People, one at a time or in bulk; a new link kills the old one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How long an activation link works.
pub const ACTIVATION_DAYS: i64 = 14;
/// Activation emails an admin may send per address per 24 hours (those an
/// import sends are not counted).
pub const MAX_ACTIVATION_SENDS_PER_DAY: i64 = 3;
/// How many people one bulk request may name.
pub const MAX_BULK_IDS: usize = 1000;

/// What a bulk email action did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    /// Emails queued (or, for cancelling, invitations cancelled).
    pub done: i64,
    /// Left out because the address had its emails for today.
    pub rate_limited: i64,
    /// Left out because the action does not apply to them (already active,
    /// cancelled, no email address, not in this organization…).
    pub skipped: i64,
}

impl BulkOutcome {
    /// `"Sent 3 activation emails; 1 skipped (already 3 today)."`, with `done` worded by the caller.
    pub fn describe(&self, done: &str) -> String {
        let mut parts = vec![done.to_owned()];
        if self.rate_limited > 0 {
            parts.push(format!(
                "{} left out: their address already got {MAX_ACTIVATION_SENDS_PER_DAY} emails in the last 24 hours",
                self.rate_limited
            ));
        }
        if self.skipped > 0 {
            parts.push(format!(
                "{} skipped: the action does not apply to them",
                self.skipped
            ));
        }
        format!("{}.", parts.join("; "))
    }
}

/// What `/activate/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationLookup {
    Valid {
        organization: String,
        email: String,
        first_name: String,
        expires_at: i64,
    },
    Expired {
        organization: String,
    },
    /// This link has been used.
    Used {
        organization: String,
    },
    /// A newer link was sent; this one no longer works.
    Replaced {
        organization: String,
    },
    /// The account is already active (e.g. through an invitation).
    AlreadyActive {
        organization: String,
    },
    NotFound,
}

/// Public: anyone holding the token may see what it activates.
#[server(endpoint = "activation/lookup")]
pub async fn lookup_activation(token: String) -> Result<ActivationLookup, AppError> {
    let state = crate::state::app_state()?;
    server::lookup(&state.db, &token).await
}

/// Sends (or resends) the activation email to one provisioned person.
#[server(endpoint = "activation/send")]
pub async fn send_activation(user_id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::send_one(&state.db, &state.settings, &user, user_id).await?;
    Ok(())
}

/// Sends the activation email to each selected person who has not activated.
#[server(endpoint = "activation/send_selected")]
pub async fn send_selected_activations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let outcome = server::send_many(&state.db, &state.settings, &user, &ids).await?;
    Ok(outcome)
}

/// Sends the activation email to every provisioned person of the
/// organization who has not activated yet.
#[server(endpoint = "activation/send_all")]
pub async fn send_all_activations() -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let outcome = server::send_all(&state.db, &state.settings, &user).await?;
    Ok(outcome)
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::*;
    use crate::{
        auth::{
            server::{check_password, create_session, hash_password},
            CurrentUser,
        },
        db::Db,
        links::server::{
            new_token, see_other, session_from_headers, token_hash, SESSION_COOKIE,
            SESSION_TTL_SECS,
        },
        mail::{self, templates},
        state::{now, AppState, Settings},
    };

    const DAY: i64 = 86_400;
    /// People handled per transaction in bulk sends (keeps SQLite's write lock short).
    const CHUNK: usize = 200;

    /// The email kind of activation emails an admin sends (rate-limited).
    pub const ADMIN_KIND: &str = "activation_resend";

    /// Creates a new activation link for a provisioned person (the previous
    /// one dies) and writes the "set your password" email to the outbox, all
    /// inside the caller's transaction, whose commit wakes the sender.
    ///
    /// The person must be a member of `organization_id` and still provisioned
    /// (no password); otherwise this returns `AppError::Conflict` and writes nothing.
    pub async fn queue_activation(
        tx: &mut crate::db::Tx,
        settings: &Settings,
        organization_id: i64,
        user_id: i64,
        to_email: &str,
        sent_by_name: &str,
        now: i64,
    ) -> Result<(), AppError> {
        queue(
            tx,
            settings,
            organization_id,
            user_id,
            to_email,
            sent_by_name,
            now,
            "activation",
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn queue(
        tx: &mut crate::db::Tx,
        settings: &Settings,
        organization_id: i64,
        user_id: i64,
        to_email: &str,
        sent_by_name: &str,
        now: i64,
        kind: &'static str,
    ) -> Result<(), AppError> {
        let person: Option<(String, String)> = sqlx::query_as(
            "SELECT o.name, u.first_name FROM memberships m
             JOIN users u ON u.id = m.user_id
             JOIN organizations o ON o.id = m.organization_id
             WHERE m.organization_id = $1 AND m.user_id = $2
               AND u.status = 'provisioned' AND u.password_hash IS NULL",
        )
        .bind(organization_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((organization, first_name)) = person else {
            return Err(AppError::Conflict(
                "Only people who have not activated their account yet can be sent an activation email."
                    .into(),
            ));
        };
        // The new link replaces any earlier one.
        sqlx::query(
            "UPDATE activation_tokens SET status = 'replaced' WHERE user_id = $1 AND status = 'pending'",
        )
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
        let token = new_token();
        let expires_at = now + ACTIVATION_DAYS * DAY;
        // The partial unique index allows one pending link per person, also
        // against a concurrent send: the newer one takes the row's place.
        let (token_id,): (i64,) = sqlx::query_as(
            "INSERT INTO activation_tokens (organization_id, user_id, token_hash, status, expires_at, sent_by_name, created_at)
             VALUES ($1, $2, $3, 'pending', $4, $5, $6)
             ON CONFLICT (user_id) WHERE status = 'pending' DO UPDATE SET
                organization_id = excluded.organization_id, token_hash = excluded.token_hash,
                expires_at = excluded.expires_at, sent_by_name = excluded.sent_by_name,
                created_at = excluded.created_at
             RETURNING id",
        )
        .bind(organization_id)
        .bind(user_id)
        .bind(token_hash(&token))
        .bind(expires_at)
        .bind(sent_by_name)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        let link = format!("{}/activate/{token}", settings.base_url);
        let rendered = templates::account_provisioned(&templates::AccountProvisioned {
            first_name: &first_name,
            organization: &organization,
            sent_by: sent_by_name,
            expires_at,
            link: &link,
        });
        let outbox_id = mail::server::enqueue(
            tx,
            Some(organization_id),
            &mail::server::Email {
                to: to_email.to_owned(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                kind,
            },
        )
        .await?;
        sqlx::query("UPDATE activation_tokens SET outbox_id = $1 WHERE id = $2")
            .bind(outbox_id)
            .bind(token_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    fn admin_name(user: &CurrentUser) -> String {
        let name = format!("{} {}", user.first_name, user.last_name)
            .trim()
            .to_owned();
        if name.is_empty() {
            user.email.clone()
        } else {
            name
        }
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
        tx: &mut crate::db::Tx,
        settings: &Settings,
        user: &CurrentUser,
        sender: &str,
        person_id: i64,
        now: i64,
    ) -> Result<Sent, AppError> {
        // Claim the person with a write (SQLite's write lock; a row lock on
        // PostgreSQL, so two concurrent sends count each other).
        sqlx::query("UPDATE users SET status = status WHERE id = $1")
            .bind(person_id)
            .execute(&mut **tx)
            .await?;
        let person: Option<(Option<String>, String)> = sqlx::query_as(
            "SELECT u.email, u.status FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.organization_id = $1 AND m.user_id = $2",
        )
        .bind(user.organization_id)
        .bind(person_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((email, status)) = person else {
            return Ok(Sent::NotFound);
        };
        if status != "provisioned" {
            return Ok(Sent::NotEligible(
                "This person has already activated their account.".into(),
            ));
        }
        let Some(email) = email else {
            return Ok(Sent::NotEligible(
                "This person has no email address to send an activation email to.".into(),
            ));
        };
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
             AND kind = $3 AND created_at > $4",
        )
        .bind(user.organization_id)
        .bind(&email)
        .bind(ADMIN_KIND)
        .bind(now - DAY)
        .fetch_one(&mut **tx)
        .await?;
        if recent >= MAX_ACTIVATION_SENDS_PER_DAY {
            return Ok(Sent::RateLimited(email));
        }
        match queue(
            tx,
            settings,
            user.organization_id,
            person_id,
            &email,
            sender,
            now,
            ADMIN_KIND,
        )
        .await
        {
            Ok(()) => Ok(Sent::Queued),
            Err(AppError::Conflict(message)) => Ok(Sent::NotEligible(message)),
            Err(error) => Err(error),
        }
    }

    pub async fn send_one(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        person_id: i64,
    ) -> Result<(), AppError> {
        let mut tx = db.begin().await?;
        let sent = admin_send(&mut tx, settings, user, &admin_name(user), person_id, now()).await?;
        match sent {
            Sent::Queued => {
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
    pub async fn send_many(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        if ids.len() > MAX_BULK_IDS {
            return Err(AppError::invalid(
                "Selection",
                format!("at most {MAX_BULK_IDS} people at a time; use \"all who have not activated\" for more."),
            ));
        }
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        send_each(db, settings, user, &unique).await
    }

    /// Sends to every provisioned member of the organization with an email.
    pub async fn send_all(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
    ) -> Result<BulkOutcome, AppError> {
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT u.id FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.organization_id = $1 AND u.status = 'provisioned'
               AND u.password_hash IS NULL AND u.email IS NOT NULL
             ORDER BY u.id",
        )
        .bind(user.organization_id)
        .fetch_all(&db.pool)
        .await?;
        let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
        send_each(db, settings, user, &ids).await
    }

    async fn send_each(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        let sender = admin_name(user);
        let mut outcome = BulkOutcome::default();
        for chunk in ids.chunks(CHUNK) {
            let now = now();
            let mut tx = db.begin().await?;
            for &id in chunk {
                match admin_send(&mut tx, settings, user, &sender, id, now).await? {
                    Sent::Queued => outcome.done += 1,
                    Sent::RateLimited(_) => outcome.rate_limited += 1,
                    Sent::NotEligible(_) | Sent::NotFound => outcome.skipped += 1,
                }
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
        type Row = (String, String, i64, Option<String>, String, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT o.name, t.status, t.expires_at, u.email, u.first_name, u.status
             FROM activation_tokens t
             JOIN organizations o ON o.id = t.organization_id
             JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1",
        )
        .bind(token_hash(token.trim()))
        .fetch_optional(&db.pool)
        .await?;
        let Some((organization, status, expires_at, email, first_name, user_status)) = row else {
            return Ok(ActivationLookup::NotFound);
        };
        Ok(match status.as_str() {
            "used" => ActivationLookup::Used { organization },
            _ if user_status != "provisioned" => ActivationLookup::AlreadyActive { organization },
            "replaced" => ActivationLookup::Replaced { organization },
            _ if expires_at <= now() => ActivationLookup::Expired { organization },
            _ => ActivationLookup::Valid {
                organization,
                email: email.unwrap_or_default(),
                first_name,
                expires_at,
            },
        })
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
        let password_hash = hash_password(password)?;
        let now = now();
        let mut tx = db.begin().await?;
        let claimed: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE activation_tokens SET status = 'used', used_at = $2
             WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
             RETURNING user_id, organization_id",
        )
        .bind(token_hash(token.trim()))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, organization_id) = claimed
            .ok_or_else(|| AppError::Conflict("This activation link is no longer valid.".into()))?;
        let updated: Option<(i64,)> = sqlx::query_as(
            "UPDATE users SET password_hash = $1, status = 'active'
             WHERE id = $2 AND status = 'provisioned' AND password_hash IS NULL RETURNING id",
        )
        .bind(&password_hash)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if updated.is_none() {
            return Err(AppError::Conflict(
                "This account is already active. Log in instead.".into(),
            ));
        }
        tx.commit().await?;
        tracing::info!(user_id, organization_id, "account activated");
        Ok(Activated {
            user_id,
            organization_id,
        })
    }

    // ----- The no-JavaScript form behind `/activate/{token}` -----

    #[derive(Debug, serde::Deserialize)]
    pub struct ActivateForm {
        #[serde(default)]
        pub password: String,
        #[serde(default)]
        pub password_confirmation: String,
    }

    /// The short code the page turns into a message (never free text in the URL).
    pub fn error_code(error: &AppError) -> &'static str {
        match error {
            AppError::Invalid { field, .. } if field == "Password" => "password",
            AppError::Invalid { field, .. } if field == "Password confirmation" => "confirmation",
            AppError::Conflict(message) if message.contains("already active") => "already_active",
            AppError::Conflict(_) | AppError::NotFound => "gone",
            _ => "internal",
        }
    }

    /// `POST /activate/{token}/respond`: set the password, become active and
    /// signed in, and land on the home page; back to the page with an error
    /// code otherwise.
    pub async fn respond(
        axum::extract::State(state): axum::extract::State<AppState>,
        axum::extract::Path(token): axum::extract::Path<String>,
        headers: http::HeaderMap,
        axum::Form(form): axum::Form<ActivateForm>,
    ) -> axum::response::Response {
        let back = |code: &str| format!("/activate/{token}?error={code}");
        let activated = match activate(
            &state.db,
            &token,
            &form.password,
            &form.password_confirmation,
        )
        .await
        {
            Ok(activated) => activated,
            Err(error) => return see_other(&back(error_code(&error)), None),
        };
        let secure = if state.settings.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        match create_session(&state.db, activated.user_id, activated.organization_id).await {
            Ok(session) => {
                if let Some(old) = session_from_headers(&headers) {
                    let _ = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(token_hash(&old))
                        .execute(&state.db.pool)
                        .await;
                }
                see_other(
                    "/",
                    Some(format!(
                        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}{secure}"
                    )),
                )
            }
            // Active, but no session: they can log in.
            Err(_) => see_other("/login", None),
        }
    }
}
