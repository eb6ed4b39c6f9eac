//! People: add new people, update names and external ids of existing ones,
//! and once every row exists, link students with parents and instructors.

use super::{
    accounts::{add_memberships, ensure_users, tell_new_person},
    inviter_name, Job, Outcome, Outcomes,
};
use crate::{
    activation,
    auth::{
        store::{self as accounts, ImportedDetails, ProvisionedByUsername},
        Role,
    },
    db::Tx,
    error::AppError,
    imports::{
        store::{self, LinkedRow, PendingRow},
        ImportEffect, ImportRowStatus,
    },
    people::{self, store::PersonStatus, AccountStatus},
    state::now,
};

/// People: add new people, update the organization's record of existing ones.
pub(super) async fn run(tx: &mut Tx, job: &Job, rows: &[PendingRow]) -> Result<Outcomes, AppError> {
    let now = now();
    let mut outcomes = Outcomes::new();
    let with_email: Vec<&PendingRow> = rows.iter().filter(|r| r.email.is_some()).collect();
    let users = ensure_users(tx, job.organization_id, &with_email).await?;
    // Memberships first: the activation email is only for members of the organization.
    add_memberships(
        tx,
        job.id,
        job.organization_id,
        &with_email,
        &users,
        |row| Role::for_imported(row.planned_role()),
    )
    .await?;
    let sender = inviter_name(tx, job.organization_id, job.created_by).await?;
    for row in &with_email {
        let email = row.email.as_deref().unwrap_or_default();
        let Some(&(user_id, standing)) = users.get(email) else {
            continue;
        };
        if standing.is_new_here() {
            if job.auto_invite {
                tell_new_person(tx, job, standing, user_id, email, &sender).await?;
            }
            outcomes.insert(
                row.position,
                Outcome::new(ImportRowStatus::Success, "Added."),
            );
        } else {
            outcomes.insert(
                row.position,
                update_record(tx, job.organization_id, user_id, row).await?,
            );
        }
    }
    // Username-only students: no email; their parents receive the activation.
    for row in rows.iter().filter(|r| r.email.is_none()) {
        let Some(username) = row.username.as_deref() else {
            outcomes.insert(
                row.position,
                Outcome::new(ImportRowStatus::Error, "No email address or username."),
            );
            continue;
        };
        let user = ProvisionedByUsername {
            username,
            first_name: row.first_name.as_deref().unwrap_or_default(),
            last_name: row.last_name.as_deref().unwrap_or_default(),
            external_id: row.external_id.as_deref(),
        };
        let (user_id, created) =
            accounts::ensure_by_username(tx, job.organization_id, &user, now).await?;
        if let Some(membership_id) = created {
            store::record_effects(tx, job.id, ImportEffect::Membership, &[membership_id]).await?;
        }
        let outcome = if created.is_some() {
            Outcome::new(ImportRowStatus::Success, "Added.")
        } else {
            update_record(tx, job.organization_id, user_id, row).await?
        };
        outcomes.insert(row.position, outcome);
    }
    Ok(outcomes)
}

/// Changes only what the file gives (blank cells keep what is there), and
/// only in this organization's record of the person.
async fn update_record(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
    row: &PendingRow,
) -> Result<Outcome, AppError> {
    let details = ImportedDetails {
        first_name: row.first_name.as_deref(),
        last_name: row.last_name.as_deref(),
        external_id: row.external_id.as_deref(),
    };
    let changed =
        accounts::update_imported_details(&mut **tx, organization_id, user_id, &details).await?;
    Ok(if changed {
        Outcome::new(ImportRowStatus::Success, "Updated.")
    } else {
        Outcome::new(ImportRowStatus::Skipped, "Skipped: nothing changed.")
    })
}

/// People imports link students with parents and instructors once every row of
/// the import exists; username-only students' activation goes to their parents.
pub(super) async fn link(tx: &mut Tx, job: &Job) -> Result<(), AppError> {
    let now = now();
    let rows = store::linked_rows(tx, job.id).await?;
    let sender = inviter_name(tx, job.organization_id, job.created_by).await?;
    for LinkedRow {
        email,
        username,
        links,
    } in rows
    {
        let links: Vec<muster_core::plan::PlannedLink> =
            serde_json::from_str(&links).unwrap_or_default();
        let me = match (&email, &username) {
            (Some(email), _) => {
                people::store::status_by_email(tx, job.organization_id, email).await?
            }
            (None, Some(username)) => {
                people::store::status_by_username(tx, job.organization_id, username).await?
            }
            _ => None,
        };
        let Some(PersonStatus {
            id: me,
            status: my_status,
        }) = me
        else {
            continue;
        };
        for link in links {
            // Only the organization's own people can be linked.
            let other =
                people::store::status_by_email(tx, job.organization_id, &link.email.to_lowercase())
                    .await?;
            let Some(PersonStatus { id: other, .. }) = other else {
                continue;
            };
            // The link's role is the other person's: a student row names parents
            // and instructors; a parent or instructor row names students.
            let (student, related, relation) = match link.role {
                muster_core::Role::Parent => (me, other, "parent"),
                muster_core::Role::Instructor => (me, other, "instructor"),
                muster_core::Role::Student => (other, me, "parent"),
            };
            let linked = people::store::insert_association(
                tx,
                job.organization_id,
                student,
                related,
                relation,
                now,
            )
            .await?;
            if linked
                && email.is_none()
                && job.auto_invite
                && link.role == muster_core::Role::Parent
                && my_status == AccountStatus::Provisioned
            {
                activation::service::queue_activation(
                    tx,
                    job.organization_id,
                    me,
                    &link.email.to_lowercase(),
                    &sender,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(())
}
