//! Puts the learner home together from its three reads.

use super::{store, LearnerGroup, LearnerOrganization, LearnerOverview};
use crate::{auth::CurrentUser, db::Db, error::AppError};

pub async fn learner_home(db: &Db, user: &CurrentUser) -> Result<LearnerOverview, AppError> {
    let organizations = store::organizations(&db.pool, user.user_id).await?;
    let groups = store::groups(&db.pool, user.user_id).await?;
    let trainings = store::trainings(&db.pool, user.user_id).await?;
    Ok(LearnerOverview {
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
