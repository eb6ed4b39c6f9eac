//! Learners: accounts for new emails, membership in the group and its trainings.

use std::collections::HashSet;

use super::{
    accounts::{add_memberships, ensure_users, tell_new_person},
    inviter_name, Job, Outcome, Outcomes,
};
use crate::{
    auth::Role,
    db::Tx,
    error::AppError,
    groups,
    imports::{
        store::{self, PendingRow, IN_CHUNK},
        ImportEffect, ImportRowStatus,
    },
    state::now,
};

/// Learners: accounts for new emails, membership in the group and its trainings.
pub(super) async fn run(tx: &mut Tx, job: &Job, rows: &[PendingRow]) -> Result<Outcomes, AppError> {
    let now = now();
    let group_id = job.group_id.ok_or_else(|| {
        tracing::error!(import_id = job.id, "learners import without a group");
        AppError::Internal
    })?;
    let mut outcomes = Outcomes::new();
    let with_email: Vec<&PendingRow> = rows.iter().filter(|r| r.email.is_some()).collect();
    for row in rows.iter().filter(|r| r.email.is_none()) {
        outcomes.insert(
            row.position,
            Outcome::new(ImportRowStatus::Error, "No email address."),
        );
    }
    let users = ensure_users(tx, job.organization_id, &with_email).await?;
    add_memberships(tx, job.id, job.organization_id, &with_email, &users, |_| {
        Role::Learner
    })
    .await?;
    let mut joined: HashSet<i64> = HashSet::new();
    let ids: Vec<i64> = users.values().map(|(id, _)| *id).collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let added = groups::store::insert_active_members_bulk(tx, group_id, chunk, now).await?;
        let ids: Vec<i64> = added.iter().map(|(id, _)| *id).collect();
        store::record_effects(tx, job.id, ImportEffect::GroupMembership, &ids).await?;
        joined.extend(added.into_iter().map(|(_, user_id)| user_id));
        groups::store::assign_trainings_bulk(tx, group_id, chunk, now).await?;
    }
    let sender = inviter_name(tx, job.organization_id, job.created_by).await?;
    for row in with_email {
        let email = row.email.as_deref().unwrap_or_default();
        let Some(&(user_id, standing)) = users.get(email) else {
            outcomes.insert(
                row.position,
                Outcome::new(ImportRowStatus::Error, "The account could not be created."),
            );
            continue;
        };
        let outcome = if standing.is_new_here() {
            if job.send_emails {
                tell_new_person(tx, job, standing, user_id, email, &sender).await?;
                Outcome::new(
                    ImportRowStatus::Success,
                    "Added to the organization and the group; email sent.",
                )
            } else {
                Outcome::new(
                    ImportRowStatus::Success,
                    "Added to the organization and the group.",
                )
            }
        } else if joined.contains(&user_id) {
            Outcome::new(ImportRowStatus::Success, "Added to the group.")
        } else {
            Outcome::new(ImportRowStatus::Skipped, "Skipped: already a member.")
        };
        outcomes.insert(row.position, outcome);
    }
    Ok(outcomes)
}
