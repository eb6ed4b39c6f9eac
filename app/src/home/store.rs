//! The reads behind the learner home (it writes nothing).

use sqlx::{Any, Executor};

#[derive(Debug, sqlx::FromRow)]
pub struct MemberOf {
    pub organization_id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct InGroup {
    pub organization_id: i64,
    pub group_id: i64,
    pub name: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct Assigned {
    pub group_id: i64,
    pub name: String,
}

pub async fn organizations<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<MemberOf>> {
    sqlx::query_as(
        "SELECT o.id AS organization_id, o.name, m.role
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
         WHERE m.user_id = $1 AND m.status = 'active' ORDER BY o.name, o.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn groups<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<InGroup>> {
    sqlx::query_as(
        "SELECT g.organization_id, g.id AS group_id, g.name FROM group_memberships gm
         JOIN learning_groups g ON g.id = gm.group_id
         JOIN memberships m ON m.organization_id = g.organization_id AND m.user_id = gm.user_id
         WHERE gm.user_id = $1 AND gm.status = 'active' AND m.status = 'active'
         ORDER BY g.name_key, g.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn trainings<'c>(
    db: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<Assigned>> {
    sqlx::query_as(
        "SELECT t.group_id, t.name FROM training_assignments a JOIN trainings t ON t.id = a.training_id
         WHERE a.user_id = $1 ORDER BY t.group_id, t.position",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
