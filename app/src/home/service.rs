//! Puts the learner home together from its three reads.

use super::{store, LearnerGroup, LearnerOrganization, LearnerOverview, PendingOrganization};
use crate::{auth, auth::CurrentUser, db::Db, error::AppError, groups};

pub async fn learner_home(db: &Db, user: &CurrentUser) -> Result<LearnerOverview, AppError> {
    let organizations = store::organizations(&db.pool, user.user_id).await?;
    let groups = store::groups(&db.pool, user.user_id).await?;
    let trainings = store::trainings(&db.pool, user.user_id).await?;
    let pending = auth::store::pending_memberships(&db.pool, user.user_id).await?;
    Ok(LearnerOverview {
        pending: pending
            .into_iter()
            .map(|pending| PendingOrganization {
                id: pending.organization_id,
                name: pending.organization,
            })
            .collect(),
        first_name: user.first_name.clone(),
        email: user.email.clone(),
        organizations: organizations
            .into_iter()
            .map(|organization| LearnerOrganization {
                groups: groups
                    .iter()
                    .filter(|group| group.organization_id == organization.organization_id)
                    .map(|group| LearnerGroup {
                        name: group.name.clone(),
                        trainings: trainings
                            .iter()
                            .filter(|training| training.group_id == group.group_id)
                            .map(|training| training.name.clone())
                            .collect(),
                    })
                    .collect(),
                name: organization.name,
                role: organization.role,
            })
            .collect(),
    })
}

/// Accepting makes the organization's pending record of the person active
/// (their groups were kept for them); declining deletes it and takes them
/// out of the organization's groups. Only the person's own pending records
/// can be answered: anything else is not found.
pub async fn answer_organization(
    db: &Db,
    user: &CurrentUser,
    organization_id: i64,
    accept: bool,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let answered = if accept {
        auth::store::accept_membership(&mut *tx, organization_id, user.user_id).await?
    } else {
        let declined =
            auth::store::delete_pending_membership(&mut *tx, organization_id, user.user_id).await?;
        if declined {
            groups::store::remove_from_organization_groups(&mut tx, organization_id, user.user_id)
                .await?;
        }
        declined
    };
    if !answered {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    tracing::info!(
        organization_id,
        user_id = user.user_id,
        accept,
        "answered an organization's record"
    );
    Ok(())
}
