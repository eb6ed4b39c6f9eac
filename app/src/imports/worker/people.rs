//! People: add new people, update names and external ids of existing ones,
//! and once every row exists, link students with parents and instructors.

use super::{
    accounts::{add_memberships, ensure_users},
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
        store::{self, ImportRowRecord, LinkedRow},
        ImportRowStatus,
    },
    people::{self, store::PersonStatus, AccountStatus},
    state::{now, Settings},
};

/// People: add new people, update names and external ids of existing ones.
pub(super) async fn run(
    tx: &mut Tx,
    settings: &Settings,
    job: &Job,
    rows: &[ImportRowRecord],
) -> Result<Outcomes, AppError> {
    let now = now();
    let mut outcomes = Outcomes::new();
    let with_email: Vec<&ImportRowRecord> = rows.iter().filter(|r| r.email.is_some()).collect();
    let users = ensure_users(tx, &with_email).await?;
    // Memberships first: the activation email is only for members of the organization.
    let roles: Vec<(i64, Role)> = with_email
        .iter()
        .filter_map(|row| {
            let (user_id, _) = users.get(row.email.as_deref()?)?;
            Some((*user_id, Role::for_imported(row.planned_role())))
        })
        .collect();
    add_memberships(tx, job.organization_id, &roles).await?;
    let sender = inviter_name(tx, job.created_by).await?;
    for row in &with_email {
        let email = row.email.as_deref().unwrap_or_default();
        let Some(&(user_id, created)) = users.get(email) else {
            continue;
        };
        if created {
            if job.auto_invite {
                activation::service::queue_activation(
                    tx,
                    settings,
                    job.organization_id,
                    user_id,
                    email,
                    &sender,
                    now,
                )
                .await?;
            }
            outcomes.insert(
                row.position,
                Outcome::new(ImportRowStatus::Success, "Added."),
            );
        } else {
            // Only what the file gives is changed; blank cells keep what is there.
            let details = ImportedDetails {
                first_name: row.first_name.as_deref(),
                last_name: row.last_name.as_deref(),
                external_id: row.external_id.as_deref(),
            };
            let changed = accounts::update_imported_details(&mut **tx, user_id, &details).await?;
            outcomes.insert(
                row.position,
                if changed {
                    Outcome::new(ImportRowStatus::Success, "Updated.")
                } else {
                    Outcome::new(ImportRowStatus::Skipped, "Skipped: nothing changed.")
                },
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
            match accounts::insert_provisioned_by_username(&mut **tx, &user, now).await? {
                Some(id) => (id, true),
                None => (
                    accounts::user_id_by_username(&mut **tx, username).await?,
                    false,
                ),
            };
        add_memberships(tx, job.organization_id, &[(user_id, Role::Learner)]).await?;
        outcomes.insert(
            row.position,
            Outcome::new(
                if created {
                    ImportRowStatus::Success
                } else {
                    ImportRowStatus::Skipped
                },
                if created {
                    "Added."
                } else {
                    "Skipped: already exists."
                },
            ),
        );
    }
    Ok(outcomes)
}

/// People imports link students with parents and instructors once every row of
/// the import exists; username-only students' activation goes to their parents.
pub(super) async fn link(tx: &mut Tx, settings: &Settings, job: &Job) -> Result<(), AppError> {
    let now = now();
    let rows = store::linked_rows(tx, job.id).await?;
    let sender = inviter_name(tx, job.created_by).await?;
    for LinkedRow {
        email,
        username,
        links,
    } in rows
    {
        let links: Vec<muster_core::plan::PlannedLink> =
            serde_json::from_str(&links).unwrap_or_default();
        let me = match (&email, &username) {
            (Some(email), _) => people::store::status_by_email(tx, email).await?,
            (None, Some(username)) => people::store::status_by_username(tx, username).await?,
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
            let other = accounts::user_id_by_email(&mut **tx, &link.email.to_lowercase()).await?;
            let Some(other) = other else { continue };
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
                    settings,
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
