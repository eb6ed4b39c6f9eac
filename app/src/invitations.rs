//! Invitations: an admin invites by email into a group; the learner accepts at
//! `/invite/{token}`, and only then is in the group (double opt-in).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::activation::BulkOutcome;
use crate::error::AppError;

pub const PAGE_SIZE: i64 = 25;
/// How many addresses one manual invite may name.
pub const MAX_MANUAL_INVITES: usize = 10;
/// Resends allowed per address per 24 hours.
pub const MAX_RESENDS_PER_DAY: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteResult {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    Invalid(String),
}

impl InviteResult {
    pub fn label(&self) -> String {
        match self {
            InviteResult::Invited => "Invited".to_owned(),
            InviteResult::AlreadyMember => "Already a member".to_owned(),
            InviteResult::AlreadyInvited => "Already invited".to_owned(),
            InviteResult::Invalid(reason) => format!("Invalid: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteOutcome {
    /// As typed (trimmed), so the admin recognizes it.
    pub email: String,
    pub result: InviteResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub group_name: String,
    /// pending, active, cancelled or expired (a pending one past its expiry is expired).
    pub status: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub resend_count: i64,
    /// queued, sent or failed: the last email sent for it.
    pub delivery: Option<String>,
    pub delivery_error: Option<String>,
    /// The person's name, only once they have accepted.
    pub accepted_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationsPage {
    pub rows: Vec<InvitationRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl InvitationsPage {
    pub fn page_count(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

/// The invitations list's filter; bulk actions "on everything matching" take the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationFilter {
    /// "", pending, active, cancelled or expired.
    pub status: String,
    /// Part of the email.
    pub search: String,
    /// 0 for every group.
    pub group_id: i64,
    /// 0 for every import (and invitations made by hand).
    pub import_id: i64,
}

/// What `/invite/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteLookup {
    Valid {
        organization: String,
        group: String,
        email: String,
        expires_at: i64,
        /// An account with a password exists for the invited email.
        account_exists: bool,
        /// The email of whoever is signed in in this browser.
        signed_in_as: Option<String>,
    },
    Expired {
        organization: String,
    },
    Cancelled {
        organization: String,
    },
    Used {
        organization: String,
    },
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerGroup {
    pub name: String,
    pub trainings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerOrganization {
    pub name: String,
    pub role: String,
    pub groups: Vec<LearnerGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerOverview {
    pub first_name: String,
    pub email: String,
    pub organizations: Vec<LearnerOrganization>,
}

/// Splits the manual-invite box on commas, semicolons and newlines.
pub fn split_emails(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[server(endpoint = "invitations/send")]
pub async fn send_invitations(
    group_id: i64,
    emails: String,
) -> Result<Vec<InviteOutcome>, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let outcomes = server::invite(
        &state.db,
        &state.settings,
        &user,
        group_id,
        &split_emails(&emails),
    )
    .await?;
    Ok(outcomes)
}

#[server(endpoint = "invitations/list")]
pub async fn list_invitations(
    status: String,
    search: String,
    group_id: i64,
    page: i64,
    #[server(default)] import_id: i64,
) -> Result<InvitationsPage, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let filter = InvitationFilter {
        status,
        search,
        group_id,
        import_id,
    };
    server::list(&state.db, user.organization_id, &filter, page).await
}

#[server(endpoint = "invitations/resend")]
pub async fn resend_invitation(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::resend(&state.db, &state.settings, &user, id).await?;
    Ok(())
}

#[server(endpoint = "invitations/cancel")]
pub async fn cancel_invitation(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::cancel(&state.db, user.organization_id, id).await
}

/// Resends each selected invitation that is pending or expired.
#[server(endpoint = "invitations/resend_selected")]
pub async fn resend_selected_invitations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let outcome = server::resend_many(&state.db, &state.settings, &user, &ids).await?;
    Ok(outcome)
}

/// Cancels each selected invitation that is pending.
#[server(endpoint = "invitations/cancel_selected")]
pub async fn cancel_selected_invitations(
    #[server(default)] ids: Vec<i64>,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::cancel_many(&state.db, user.organization_id, &ids).await
}

/// Resends every pending or expired invitation matching the list's filter.
#[server(endpoint = "invitations/resend_matching")]
pub async fn resend_matching_invitations(
    status: String,
    search: String,
    group_id: i64,
    #[server(default)] import_id: i64,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let filter = InvitationFilter {
        status,
        search,
        group_id,
        import_id,
    };
    let outcome = server::resend_matching(&state.db, &state.settings, &user, &filter).await?;
    Ok(outcome)
}

/// Cancels every pending invitation matching the list's filter.
#[server(endpoint = "invitations/cancel_matching")]
pub async fn cancel_matching_invitations(
    status: String,
    search: String,
    group_id: i64,
    #[server(default)] import_id: i64,
) -> Result<BulkOutcome, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let filter = InvitationFilter {
        status,
        search,
        group_id,
        import_id,
    };
    server::cancel_matching(&state.db, user.organization_id, &filter).await
}

/// Public: anyone holding the token may see what it is an invitation to.
#[server(endpoint = "invitations/lookup")]
pub async fn lookup_invitation(token: String) -> Result<InviteLookup, AppError> {
    let state = crate::state::app_state()?;
    let signed_in = crate::auth::server::current_user(&state).await?;
    server::lookup(&state.db, &token, signed_in.map(|user| user.email)).await
}

/// The signed-in person's organizations, groups and trainings.
#[server(endpoint = "learner/home")]
pub async fn learner_home() -> Result<LearnerOverview, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::auth::server::current_user(&state)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    server::learner_home(&state.db, &user).await
}

#[cfg(feature = "ssr")]
pub mod server {
    use std::collections::HashSet;

    use muster_core::{email::Email, name::PersonName};

    use super::*;
    use crate::{
        auth::{
            server::{check_password, create_session, hash_password},
            CurrentUser,
        },
        db::Db,
        links::server::{new_token, session_from_headers, token_hash, SESSION_COOKIE},
        mail::{self, templates},
        state::{now, AppState, Settings},
    };

    const DAY: i64 = 86_400;

    fn link(settings: &Settings, token: &str) -> String {
        format!("{}/invite/{token}", settings.base_url)
    }

    fn like_pattern(search: &str) -> String {
        let escaped = search
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    }

    struct GroupInfo {
        name: String,
        organization: String,
        expiry_days: i64,
    }

    async fn group_info(
        tx: &mut crate::db::Tx,
        organization_id: i64,
        group_id: i64,
    ) -> Result<GroupInfo, AppError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT g.name, o.name, g.default_expiry_days FROM learning_groups g
             JOIN organizations o ON o.id = g.organization_id
             WHERE g.organization_id = $1 AND g.id = $2",
        )
        .bind(organization_id)
        .bind(group_id)
        .fetch_optional(&mut **tx)
        .await?;
        let (name, organization, expiry_days) =
            row.ok_or_else(|| AppError::invalid("Group", "choose a group."))?;
        Ok(GroupInfo {
            name,
            organization,
            expiry_days,
        })
    }

    fn inviter_name(user: &CurrentUser) -> String {
        let name = format!("{} {}", user.first_name, user.last_name)
            .trim()
            .to_owned();
        if name.is_empty() {
            user.email.clone()
        } else {
            name
        }
    }

    /// Enqueues the invitation email for a (new) token and records it on the row.
    #[allow(clippy::too_many_arguments)]
    async fn send_invitation_email(
        tx: &mut crate::db::Tx,
        settings: &Settings,
        organization_id: i64,
        invitation_id: i64,
        email: &str,
        token: &str,
        group: &GroupInfo,
        inviter: &str,
        expires_at: i64,
        kind: &'static str,
    ) -> Result<(), AppError> {
        let link = link(settings, token);
        let rendered = templates::invitation(&templates::Invitation {
            organization: &group.organization,
            group: &group.name,
            inviter,
            expires_at,
            link: &link,
        });
        let outbox_id = mail::server::enqueue(
            tx,
            Some(organization_id),
            &mail::server::Email {
                to: email.to_owned(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                kind,
            },
        )
        .await?;
        sqlx::query("UPDATE invitations SET last_outbox_id = $1, last_sent_at = $2 WHERE id = $3")
            .bind(outbox_id)
            .bind(now())
            .bind(invitation_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
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
        let inviter = inviter_name(user);
        let now = now();
        let mut tx = db.begin().await?;
        // A write first, so that SQLite takes the write lock before reading.
        sqlx::query(
            "UPDATE invitations SET status = 'expired'
             WHERE organization_id = $1 AND group_id = $2 AND status = 'pending' AND expires_at <= $3",
        )
        .bind(organization_id)
        .bind(group_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let group = group_info(&mut tx, organization_id, group_id).await?;
        let expires_at = now + group.expiry_days * DAY;
        let mut seen = HashSet::new();
        let mut outcomes = Vec::with_capacity(emails.len());
        for raw in emails {
            let email = match Email::parse(raw) {
                Ok(email) => email.key().to_string(),
                Err(error) => {
                    outcomes.push(InviteOutcome {
                        email: raw.clone(),
                        result: InviteResult::Invalid(error.to_string()),
                    });
                    continue;
                }
            };
            if !seen.insert(email.clone()) {
                outcomes.push(InviteOutcome {
                    email: raw.clone(),
                    result: InviteResult::Invalid("listed twice.".into()),
                });
                continue;
            }
            let member: Option<(i64,)> = sqlx::query_as(
                "SELECT gm.id FROM group_memberships gm JOIN users u ON u.id = gm.user_id
                 WHERE gm.group_id = $1 AND u.email = $2 AND gm.status = 'active'",
            )
            .bind(group_id)
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
            if member.is_some() {
                outcomes.push(InviteOutcome {
                    email: raw.clone(),
                    result: InviteResult::AlreadyMember,
                });
                continue;
            }
            let token = new_token();
            // The partial unique index allows one pending invitation per
            // group and email, also against a concurrent invite.
            let inserted: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO invitations (organization_id, group_id, email, token_hash, status, expires_at,
                                          invited_by, resend_count, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6, 0, $7)
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(organization_id)
            .bind(group_id)
            .bind(&email)
            .bind(token_hash(&token))
            .bind(expires_at)
            .bind(user.user_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((invitation_id,)) = inserted else {
                outcomes.push(InviteOutcome {
                    email: raw.clone(),
                    result: InviteResult::AlreadyInvited,
                });
                continue;
            };
            send_invitation_email(
                &mut tx,
                settings,
                organization_id,
                invitation_id,
                &email,
                &token,
                &group,
                &inviter,
                expires_at,
                "invitation",
            )
            .await?;
            outcomes.push(InviteOutcome {
                email: raw.clone(),
                result: InviteResult::Invited,
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

    const EFFECTIVE_STATUS: &str =
        "CASE WHEN i.status = 'pending' AND i.expires_at <= $2 THEN 'expired' ELSE i.status END";

    /// The WHERE clause of the list and of the bulk actions on everything
    /// matching, with its binds: $1 organization, $2 now, $3 status, $4 email
    /// pattern, $5 group, $6 import.
    fn filter_sql(filter: &InvitationFilter) -> Result<(String, String), AppError> {
        let status = filter.status.trim().to_lowercase();
        if !["", "pending", "active", "cancelled", "expired"].contains(&status.as_str()) {
            return Err(AppError::invalid(
                "Status",
                "is not one of pending, active, cancelled, expired.",
            ));
        }
        Ok((
            format!(
                "FROM invitations i
                 JOIN learning_groups g ON g.id = i.group_id
                 WHERE i.organization_id = $1
                   AND ($3 = '' OR {EFFECTIVE_STATUS} = $3)
                   AND i.email LIKE $4 ESCAPE '\\'
                   AND ($5 = 0 OR i.group_id = $5)
                   AND ($6 = 0 OR i.import_id = $6)"
            ),
            status,
        ))
    }

    fn bind_filter<'q, O>(
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
        organization_id: i64,
        now: i64,
        status: &str,
        filter: &InvitationFilter,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        query
            .bind(organization_id)
            .bind(now)
            .bind(status.to_owned())
            .bind(like_pattern(&filter.search))
            .bind(filter.group_id)
            .bind(filter.import_id)
    }

    pub async fn list(
        db: &Db,
        organization_id: i64,
        filter_by: &InvitationFilter,
        page: i64,
    ) -> Result<InvitationsPage, AppError> {
        let (filter, status) = filter_sql(filter_by)?;
        let page = page.max(1);
        let now = now();
        let (total,): (i64,) = bind_filter(
            sqlx::query_as(&format!("SELECT COUNT(*) {filter}")),
            organization_id,
            now,
            &status,
            filter_by,
        )
        .fetch_one(&db.pool)
        .await?;
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let sql = format!(
            "SELECT i.id, i.email, g.name, {EFFECTIVE_STATUS}, i.expires_at, i.created_at, i.resend_count,
                    o.status, o.last_error, u.first_name, u.last_name
             {filter_with_joins}
             ORDER BY i.id DESC LIMIT $7 OFFSET $8",
            filter_with_joins = filter.replacen(
                "WHERE",
                "LEFT JOIN outbox o ON o.id = i.last_outbox_id
                 LEFT JOIN users u ON u.id = i.accepted_user_id AND i.status = 'active'
                 WHERE",
                1
            )
        );
        let rows: Vec<Row> = bind_filter(
            sqlx::query_as(&sql),
            organization_id,
            now,
            &status,
            filter_by,
        )
        .bind(PAGE_SIZE)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?;
        Ok(InvitationsPage {
            rows: rows
                .into_iter()
                .map(
                    |(
                        id,
                        email,
                        group_name,
                        status,
                        expires_at,
                        created_at,
                        resend_count,
                        delivery,
                        delivery_error,
                        first,
                        last,
                    )| {
                        InvitationRow {
                            id,
                            email,
                            group_name,
                            status,
                            expires_at,
                            created_at,
                            resend_count,
                            delivery,
                            delivery_error,
                            accepted_name: first
                                .zip(last)
                                .map(|(first, last)| format!("{first} {last}").trim().to_owned()),
                        }
                    },
                )
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
        /// active or cancelled
        NotResendable(String),
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
        match resend_in(&mut tx, settings, user, &inviter_name(user), id, now()).await? {
            Resent::Done => {
                tx.commit().await?;
                Ok(())
            }
            Resent::NotFound => Err(AppError::NotFound),
            Resent::NotResendable(status) => Err(AppError::Conflict(format!(
                "This invitation is {status}; only pending or expired ones can be resent."
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
        tx: &mut crate::db::Tx,
        settings: &Settings,
        user: &CurrentUser,
        inviter: &str,
        id: i64,
        now: i64,
    ) -> Result<Resent, AppError> {
        let organization_id = user.organization_id;
        // Claim the row with a write first (takes SQLite's write lock).
        let claimed: Option<(i64, String, String)> = sqlx::query_as(
            "UPDATE invitations SET resend_count = resend_count
             WHERE organization_id = $1 AND id = $2 RETURNING group_id, email, status",
        )
        .bind(organization_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((group_id, email, status)) = claimed else {
            return Ok(Resent::NotFound);
        };
        if status == "active" || status == "cancelled" {
            return Ok(Resent::NotResendable(status));
        }
        let newer: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM invitations WHERE group_id = $1 AND email = $2 AND status = 'pending' AND id <> $3",
        )
        .bind(group_id)
        .bind(&email)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        if newer.is_some() {
            return Ok(Resent::NewerPending);
        }
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE organization_id = $1 AND to_email = $2
             AND kind = 'invitation_resend' AND created_at > $3",
        )
        .bind(organization_id)
        .bind(&email)
        .bind(now - DAY)
        .fetch_one(&mut **tx)
        .await?;
        if recent >= MAX_RESENDS_PER_DAY {
            return Ok(Resent::RateLimited(email));
        }
        let group = group_info(tx, organization_id, group_id).await?;
        let expires_at = now + group.expiry_days * DAY;
        let token = new_token();
        sqlx::query(
            "UPDATE invitations SET token_hash = $1, status = 'pending', expires_at = $2, resend_count = resend_count + 1
             WHERE id = $3",
        )
        .bind(token_hash(&token))
        .bind(expires_at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        send_invitation_email(
            tx,
            settings,
            organization_id,
            id,
            &email,
            &token,
            &group,
            inviter,
            expires_at,
            "invitation_resend",
        )
        .await?;
        Ok(Resent::Done)
    }

    /// Invitations handled per transaction in bulk actions.
    const CHUNK: usize = 200;

    /// Resends each of `ids` that can be resent, a chunk per transaction.
    pub async fn resend_many(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        check_selection(ids)?;
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        resend_each(db, settings, user, &unique).await
    }

    fn check_selection(ids: &[i64]) -> Result<(), AppError> {
        if ids.len() > crate::activation::MAX_BULK_IDS {
            return Err(AppError::invalid(
                "Selection",
                format!(
                    "at most {} invitations at a time; filter the list and act on everything matching instead.",
                    crate::activation::MAX_BULK_IDS
                ),
            ));
        }
        Ok(())
    }

    async fn resend_each(
        db: &Db,
        settings: &Settings,
        user: &CurrentUser,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        let inviter = inviter_name(user);
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
        filter_by: &InvitationFilter,
    ) -> Result<BulkOutcome, AppError> {
        let (filter, status) = filter_sql(filter_by)?;
        let sql =
            format!("SELECT i.id {filter} AND i.status IN ('pending', 'expired') ORDER BY i.id");
        let ids: Vec<(i64,)> = bind_filter(
            sqlx::query_as(&sql),
            user.organization_id,
            now(),
            &status,
            filter_by,
        )
        .fetch_all(&db.pool)
        .await?;
        let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
        resend_each(db, settings, user, &ids).await
    }

    /// Cancels each of `ids` that is pending.
    pub async fn cancel_many(
        db: &Db,
        organization_id: i64,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        check_selection(ids)?;
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut done = 0;
        for chunk in unique.chunks(CHUNK) {
            let placeholders = (0..chunk.len())
                .map(|n| format!("${}", n + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE invitations SET status = 'cancelled'
                 WHERE organization_id = $1 AND status = 'pending' AND id IN ({placeholders})"
            );
            let mut query = sqlx::query(&sql).bind(organization_id);
            for id in chunk {
                query = query.bind(*id);
            }
            done += query.execute(&db.pool).await?.rows_affected() as i64;
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
        filter_by: &InvitationFilter,
    ) -> Result<BulkOutcome, AppError> {
        let (filter, status) = filter_sql(filter_by)?;
        let sql = format!(
            "UPDATE invitations SET status = 'cancelled'
             WHERE organization_id = $1 AND status = 'pending' AND id IN (SELECT i.id {filter})"
        );
        let done = sqlx::query(&sql)
            .bind(organization_id)
            .bind(now())
            .bind(status)
            .bind(like_pattern(&filter_by.search))
            .bind(filter_by.group_id)
            .bind(filter_by.import_id)
            .execute(&db.pool)
            .await?
            .rows_affected() as i64;
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
        let updated = sqlx::query(
            "UPDATE invitations SET status = 'cancelled' WHERE organization_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(organization_id)
        .bind(id)
        .execute(&db.pool)
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(());
        }
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT status FROM invitations WHERE organization_id = $1 AND id = $2")
                .bind(organization_id)
                .bind(id)
                .fetch_optional(&db.pool)
                .await?;
        match exists {
            None => Err(AppError::NotFound),
            Some((status,)) => Err(AppError::Conflict(format!(
                "This invitation is {status}; only pending ones can be cancelled."
            ))),
        }
    }

    pub async fn lookup(
        db: &Db,
        token: &str,
        signed_in_as: Option<String>,
    ) -> Result<InviteLookup, AppError> {
        let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT o.name, g.name, i.email, i.status, i.expires_at FROM invitations i
             JOIN organizations o ON o.id = i.organization_id
             JOIN learning_groups g ON g.id = i.group_id
             WHERE i.token_hash = $1",
        )
        .bind(token_hash(token.trim()))
        .fetch_optional(&db.pool)
        .await?;
        let Some((organization, group, email, status, expires_at)) = row else {
            return Ok(InviteLookup::NotFound);
        };
        Ok(match status.as_str() {
            "active" => InviteLookup::Used { organization },
            "cancelled" => InviteLookup::Cancelled { organization },
            "expired" => InviteLookup::Expired { organization },
            _ if expires_at <= now() => InviteLookup::Expired { organization },
            _ => {
                let account: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM users WHERE email = $1 AND password_hash IS NOT NULL",
                )
                .bind(&email)
                .fetch_optional(&db.pool)
                .await?;
                InviteLookup::Valid {
                    organization,
                    group,
                    email,
                    expires_at,
                    account_exists: account.is_some(),
                    signed_in_as,
                }
            }
        })
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
        let invited: Option<(String, String)> =
            sqlx::query_as("SELECT email, status FROM invitations WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(&db.pool)
                .await?;
        let (email, _) = invited.ok_or(AppError::NotFound)?;

        // Everything slow (password hashing) and every check that needs no
        // lock happens before the transaction.
        enum Who {
            Existing(i64),
            New {
                first_name: String,
                last_name: String,
                password_hash: String,
            },
        }
        let who = match acceptor {
            Acceptor::SignedIn { user_id } => {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT email FROM users WHERE id = $1")
                        .bind(user_id)
                        .fetch_optional(&db.pool)
                        .await?;
                if row.and_then(|(e,)| e).as_deref() != Some(email.as_str()) {
                    return Err(AppError::Forbidden);
                }
                Who::Existing(user_id)
            }
            Acceptor::Login { password } => {
                let (user_id, _, _) =
                    crate::auth::server::verify_login(state, &email, &password).await?;
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
        };

        let now = now();
        let mut tx = db.begin().await?;
        let claimed: Option<(i64, i64, i64)> = sqlx::query_as(
            "UPDATE invitations SET status = 'active', accepted_at = $2
             WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
             RETURNING id, organization_id, group_id",
        )
        .bind(&hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((invitation_id, organization_id, group_id)) = claimed else {
            return Err(AppError::Conflict(
                "This invitation is no longer valid.".into(),
            ));
        };
        let user_id = match who {
            Who::Existing(user_id) => user_id,
            Who::New {
                first_name,
                last_name,
                password_hash,
            } => {
                let inserted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO users (email, first_name, last_name, password_hash, status, created_at)
                     VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT (email) DO NOTHING RETURNING id",
                )
                .bind(&email)
                .bind(&first_name)
                .bind(&last_name)
                .bind(&password_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                match inserted {
                    Some((id,)) => id,
                    None => {
                        // A person created by an import, without a password yet:
                        // holding the invitation proves the address, so they may set one.
                        let updated: Option<(i64,)> = sqlx::query_as(
                            "UPDATE users SET first_name = $1, last_name = $2, password_hash = $3, status = 'active'
                             WHERE email = $4 AND password_hash IS NULL RETURNING id",
                        )
                        .bind(&first_name)
                        .bind(&last_name)
                        .bind(&password_hash)
                        .bind(&email)
                        .fetch_optional(&mut *tx)
                        .await?;
                        updated.map(|(id,)| id).ok_or_else(|| {
                            AppError::Conflict(
                                "An account with this email already exists. Log in to accept."
                                    .into(),
                            )
                        })?
                    }
                }
            }
        };
        sqlx::query("UPDATE invitations SET accepted_user_id = $1 WHERE id = $2")
            .bind(user_id)
            .bind(invitation_id)
            .execute(&mut *tx)
            .await?;
        crate::groups::service::enter_group(
            &mut tx,
            &state.settings,
            organization_id,
            group_id,
            user_id,
            Some(invitation_id),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            invitation_id,
            organization_id,
            group_id,
            user_id,
            "invitation accepted"
        );
        Ok(Accepted {
            user_id,
            organization_id,
            invitation_id,
        })
    }

    pub async fn learner_home(db: &Db, user: &CurrentUser) -> Result<LearnerOverview, AppError> {
        let organizations: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT o.id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
             WHERE m.user_id = $1 ORDER BY o.name, o.id",
        )
        .bind(user.user_id)
        .fetch_all(&db.pool)
        .await?;
        let groups: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT g.organization_id, g.id, g.name FROM group_memberships gm
             JOIN learning_groups g ON g.id = gm.group_id
             WHERE gm.user_id = $1 AND gm.status = 'active' ORDER BY g.name_key, g.id",
        )
        .bind(user.user_id)
        .fetch_all(&db.pool)
        .await?;
        let trainings: Vec<(i64, String)> = sqlx::query_as(
            "SELECT t.group_id, t.name FROM training_assignments a JOIN trainings t ON t.id = a.training_id
             WHERE a.user_id = $1 ORDER BY t.group_id, t.position",
        )
        .bind(user.user_id)
        .fetch_all(&db.pool)
        .await?;
        Ok(LearnerOverview {
            first_name: user.first_name.clone(),
            email: user.email.clone(),
            organizations: organizations
                .into_iter()
                .map(|(organization_id, name, role)| LearnerOrganization {
                    name,
                    role,
                    groups: groups
                        .iter()
                        .filter(|(org, _, _)| *org == organization_id)
                        .map(|(_, group_id, group_name)| LearnerGroup {
                            name: group_name.clone(),
                            trainings: trainings
                                .iter()
                                .filter(|(g, _)| g == group_id)
                                .map(|(_, t)| t.clone())
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    // ----- The no-JavaScript form behind `/invite/{token}` -----

    #[derive(Debug, serde::Deserialize)]
    pub struct InviteForm {
        pub intent: String,
        #[serde(default)]
        pub password: String,
        #[serde(default)]
        pub first_name: String,
        #[serde(default)]
        pub last_name: String,
    }

    /// The short code the page turns into a message (never free text in the URL).
    pub fn error_code(error: &AppError) -> &'static str {
        match error {
            AppError::BadCredentials => "credentials",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Invalid { field, .. } if field == "Password" => "password",
            AppError::Invalid { field, .. } if field == "First name" => "first_name",
            AppError::Invalid { field, .. } if field == "Last name" => "last_name",
            AppError::Conflict(message) if message.contains("already exists") => "account_exists",
            AppError::Conflict(_) | AppError::NotFound => "gone",
            AppError::Forbidden => "mismatch",
            _ => "internal",
        }
    }

    pub fn see_other(location: &str, cookie: Option<String>) -> axum::response::Response {
        let mut response = axum::response::Response::builder()
            .status(http::StatusCode::SEE_OTHER)
            .header(http::header::LOCATION, location)
            .header("Referrer-Policy", "no-referrer")
            .header(http::header::CACHE_CONTROL, "no-store");
        if let Some(cookie) = cookie {
            response = response.header(http::header::SET_COOKIE, cookie);
        }
        response.body(axum::body::Body::empty()).unwrap_or_default()
    }

    /// `POST /invite/{token}/respond`: accept (signed in), log in and accept,
    /// register and accept, or log out to switch accounts. Answers with a
    /// redirect: home on success, back to the invitation with an error code otherwise.
    pub async fn respond(
        axum::extract::State(state): axum::extract::State<AppState>,
        axum::extract::Path(token): axum::extract::Path<String>,
        headers: http::HeaderMap,
        axum::Form(form): axum::Form<InviteForm>,
    ) -> axum::response::Response {
        let back = |code: &str| format!("/invite/{token}?error={code}");
        let session = session_from_headers(&headers);
        let secure = if state.settings.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        if form.intent == "logout" {
            if let Some(session) = &session {
                if let Err(error) = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash(session))
                    .execute(&state.db.pool)
                    .await
                {
                    tracing::error!(%error, "could not end session");
                }
            }
            return see_other(
                &format!("/invite/{token}"),
                Some(format!(
                    "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
                )),
            );
        }
        let acceptor = match form.intent.as_str() {
            "accept" => {
                let user = match &session {
                    Some(session) => crate::auth::server::user_for_token(&state.db, session).await,
                    None => Ok(None),
                };
                match user {
                    Ok(Some(user)) => Acceptor::SignedIn {
                        user_id: user.user_id,
                    },
                    Ok(None) => return see_other(&back("signed_out"), None),
                    Err(error) => return see_other(&back(error_code(&error)), None),
                }
            }
            "login" => Acceptor::Login {
                password: form.password,
            },
            "register" => Acceptor::Register {
                first_name: form.first_name,
                last_name: form.last_name,
                password: form.password,
            },
            _ => return see_other(&back("internal"), None),
        };
        match accept(&state, &token, acceptor).await {
            Ok(accepted) => {
                match create_session(&state.db, accepted.user_id, accepted.organization_id).await {
                    Ok(new_session) => {
                        if let Some(old) = &session {
                            let _ = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                                .bind(token_hash(old))
                                .execute(&state.db.pool)
                                .await;
                        }
                        see_other(
                            "/?welcome",
                            Some(format!(
                                "{SESSION_COOKIE}={new_session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                                crate::links::server::SESSION_TTL_SECS
                            )),
                        )
                    }
                    // Accepted, but no session: they can log in.
                    Err(_) => see_other("/login", None),
                }
            }
            Err(error) => see_other(&back(error_code(&error)), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_split_on_commas_semicolons_and_newlines() {
        assert_eq!(
            split_emails(" a@x.org, b@x.org\n\nc@x.org;d@x.org\r\n,"),
            vec!["a@x.org", "b@x.org", "c@x.org", "d@x.org"]
        );
        assert!(split_emails(" , \n").is_empty());
    }
}
