//! Every statement on `learning_groups`, `trainings`, `group_memberships`,
//! `training_assignments` and `reminder_steps`.

use sqlx::{Any, Executor};

use super::GroupMembershipStatus;
use crate::db::{Bind, Bulk, Db, Tx};

/// What makes two group names the same one.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[derive(sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub default_expiry_days: i64,
    pub external_id: Option<String>,
}

#[derive(sqlx::FromRow)]
pub struct TrainingRow {
    pub id: i64,
    pub group_id: i64,
    pub name: String,
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, default_expiry_days, external_id FROM learning_groups
         WHERE organization_id = $1 ORDER BY name_key",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await
}

/// The trainings of every group of the organization, each group's in order.
pub async fn organization_trainings(
    db: &Db,
    organization_id: i64,
) -> Result<Vec<TrainingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.group_id, t.name FROM trainings t
         JOIN learning_groups g ON g.id = t.group_id
         WHERE g.organization_id = $1 ORDER BY t.group_id, t.position",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, default_expiry_days, external_id FROM learning_groups
         WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Whether the organization has this group.
/// [`get`] inside a transaction.
pub async fn get_in(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, default_expiry_days, external_id FROM learning_groups
         WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn exists<'c>(
    executor: impl Executor<'c, Database = Any>,
    organization_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM learning_groups WHERE organization_id = $1 AND id = $2")
            .bind(organization_id)
            .bind(id)
            .fetch_optional(executor)
            .await?;
    Ok(found.is_some())
}

/// A group's trainings, in order.
pub async fn training_names<'c>(
    executor: impl Executor<'c, Database = Any>,
    group_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM trainings WHERE group_id = $1 ORDER BY position")
            .bind(group_id)
            .fetch_all(executor)
            .await?;
    Ok(names.into_iter().map(|(name,)| name).collect())
}

/// The names a welcome email shows.
#[derive(sqlx::FromRow)]
pub struct GroupNames {
    pub group_name: String,
    pub organization: String,
}

pub async fn names(
    tx: &mut Tx,
    organization_id: i64,
    group_id: i64,
) -> Result<GroupNames, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.name AS group_name, o.name AS organization FROM learning_groups g
         JOIN organizations o ON o.id = g.organization_id
         WHERE g.id = $1 AND g.organization_id = $2",
    )
    .bind(group_id)
    .bind(organization_id)
    .fetch_one(&mut **tx)
    .await
}

/// Whether another group of the organization has this name (case aside).
pub async fn name_taken(
    tx: &mut Tx,
    organization_id: i64,
    name: &str,
    except_id: i64,
) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM learning_groups WHERE organization_id = $1 AND name_key = $2 AND id <> $3",
    )
    .bind(organization_id)
    .bind(name_key(name))
    .bind(except_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

/// A group's editable fields as stored.
pub struct GroupFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub default_expiry_days: i64,
}

pub async fn insert(
    tx: &mut Tx,
    organization_id: i64,
    group: &GroupFields<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO learning_groups (organization_id, name, name_key, description, default_expiry_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(organization_id)
    .bind(group.name)
    .bind(name_key(group.name))
    .bind(group.description)
    .bind(group.default_expiry_days)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Whether the organization had the group to update.
pub async fn update(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
    group: &GroupFields<'_>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE learning_groups SET name = $1, name_key = $2, description = $3, default_expiry_days = $4
         WHERE organization_id = $5 AND id = $6",
    )
    .bind(group.name)
    .bind(name_key(group.name))
    .bind(group.description)
    .bind(group.default_expiry_days)
    .bind(organization_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Sets the identity provider's id of the group; whether the organization
/// had the group.
pub async fn set_external_id(
    tx: &mut Tx,
    organization_id: i64,
    id: i64,
    external_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE learning_groups SET external_id = $1 WHERE organization_id = $2 AND id = $3",
    )
    .bind(external_id)
    .bind(organization_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() > 0)
}

pub async fn trainings(tx: &mut Tx, group_id: i64) -> Result<Vec<TrainingRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, group_id, name FROM trainings WHERE group_id = $1")
        .bind(group_id)
        .fetch_all(&mut **tx)
        .await
}

pub async fn rename_training(
    tx: &mut Tx,
    id: i64,
    name: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE trainings SET name = $1, position = $2 WHERE id = $3")
        .bind(name)
        .bind(position)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn insert_training(
    tx: &mut Tx,
    group_id: i64,
    name: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO trainings (group_id, name, position) VALUES ($1, $2, $3)")
        .bind(group_id)
        .bind(name)
        .bind(position)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes a training and every learner's assignment to it.
pub async fn delete_training(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM training_assignments WHERE training_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM trainings WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Makes the person an active member of the group (again, if they had left).
pub async fn activate_member(
    tx: &mut Tx,
    group_id: i64,
    user_id: i64,
    invitation_id: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO group_memberships (group_id, user_id, status, invitation_id, created_at)
         VALUES ($1, $2, $5, $3, $4)
         ON CONFLICT (group_id, user_id) DO UPDATE SET status = $5",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(invitation_id)
    .bind(now)
    .bind(GroupMembershipStatus::Active.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the person out of every group of the organization (they declined
/// its record of them).
pub async fn remove_from_organization_groups(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE group_memberships SET status = $3
         WHERE user_id = $2 AND group_id IN (SELECT id FROM learning_groups WHERE organization_id = $1)",
    )
    .bind(organization_id)
    .bind(user_id)
    .bind(GroupMembershipStatus::Removed.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Assigns the person every training of the group they do not have yet.
pub async fn assign_trainings(
    tx: &mut Tx,
    group_id: i64,
    user_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO training_assignments (user_id, training_id, group_id, assigned_at)
         SELECT $1, id, group_id, $2 FROM trainings WHERE group_id = $3
         ON CONFLICT (user_id, training_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .bind(group_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The group of the organization the person entered last and is still in.
#[derive(sqlx::FromRow)]
pub struct LatestGroup {
    pub id: i64,
    pub name: String,
}

pub async fn latest_active_group(
    tx: &mut Tx,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<LatestGroup>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.name FROM group_memberships gm JOIN learning_groups g ON g.id = gm.group_id
         WHERE gm.user_id = $1 AND g.organization_id = $2 AND gm.status = $3
         ORDER BY gm.created_at DESC, gm.id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(organization_id)
    .bind(GroupMembershipStatus::Active.as_str())
    .fetch_optional(&mut **tx)
    .await
}

/// Makes each of `user_ids` an active member of the group unless they have a
/// membership already, in one statement (four placeholders a person: the
/// caller keeps batches within the backends' limits); those who joined now,
/// as (group membership id, user id).
pub async fn insert_active_members_bulk(
    tx: &mut Tx,
    group_id: i64,
    user_ids: &[i64],
    now: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut insert =
        Bulk::new("INSERT INTO group_memberships (group_id, user_id, status, created_at) VALUES ");
    for user_id in user_ids {
        insert.row(vec![
            Bind::from(group_id),
            Bind::from(*user_id),
            Bind::from(GroupMembershipStatus::Active.as_str()),
            Bind::from(now),
        ]);
    }
    insert.push(" ON CONFLICT DO NOTHING RETURNING id, user_id");
    insert.query_as().fetch_all(&mut **tx).await
}

/// [`assign_trainings`] for many people in one statement (one placeholder
/// each: the caller keeps batches within the backends' limits).
pub async fn assign_trainings_bulk(
    tx: &mut Tx,
    group_id: i64,
    user_ids: &[i64],
    now: i64,
) -> Result<(), sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(());
    }
    let mut insert =
        Bulk::new("INSERT INTO training_assignments (user_id, training_id, group_id, assigned_at) SELECT u.id, t.id, t.group_id, ");
    insert
        .bind(now)
        .push(" FROM trainings t, users u WHERE t.group_id = ")
        .bind(group_id)
        .push(" AND u.id IN ")
        .row(user_ids.iter().map(|id| Bind::from(*id)).collect());
    insert.push(" ON CONFLICT DO NOTHING");
    insert.query().execute(&mut **tx).await?;
    Ok(())
}

/// A group of the organization by id and name as written.
#[derive(sqlx::FromRow)]
pub struct GroupName {
    pub id: i64,
    pub name: String,
}

/// Every group of the organization (an import matches rows to them by name).
pub async fn all_names(tx: &mut Tx, organization_id: i64) -> Result<Vec<GroupName>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM learning_groups WHERE organization_id = $1")
        .bind(organization_id)
        .fetch_all(&mut **tx)
        .await
}

/// A group's reminder days (after sending), in order.
pub async fn reminder_days<'c>(
    executor: impl Executor<'c, Database = Any>,
    group_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let days: Vec<(i64,)> =
        sqlx::query_as("SELECT after_days FROM reminder_steps WHERE group_id = $1 ORDER BY step")
            .bind(group_id)
            .fetch_all(executor)
            .await?;
    Ok(days.into_iter().map(|(day,)| day).collect())
}

/// The reminder days of every group of the organization: (group, day), each
/// group's in order.
pub async fn organization_reminder_days(
    db: &Db,
    organization_id: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.group_id, s.after_days FROM reminder_steps s
         JOIN learning_groups g ON g.id = s.group_id
         WHERE g.organization_id = $1 ORDER BY s.group_id, s.step",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await
}

/// Makes the group's reminder steps `schedule`'s.
pub async fn replace_reminder_steps(
    tx: &mut Tx,
    group_id: i64,
    schedule: &super::ReminderSchedule,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM reminder_steps WHERE group_id = $1")
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    for (step, (after, gap)) in schedule.days().iter().zip(schedule.gaps()).enumerate() {
        sqlx::query(
            "INSERT INTO reminder_steps (group_id, step, after_days, gap_days) VALUES ($1, $2, $3, $4)",
        )
        .bind(group_id)
        .bind(step as i64)
        .bind(*after)
        .bind(gap)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// An undo: ends those of the group memberships `ids` that are still
/// active in the organization's groups; how many.
pub async fn end_memberships(
    tx: &mut Tx,
    organization_id: i64,
    ids: &[i64],
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut update = Bulk::new("UPDATE group_memberships SET status = ");
    update
        .bind(GroupMembershipStatus::Removed.as_str())
        .push(" WHERE status = ")
        .bind(GroupMembershipStatus::Active.as_str())
        .push(" AND group_id IN (SELECT id FROM learning_groups WHERE organization_id = ")
        .bind(organization_id)
        .push(") AND id IN ")
        .row(ids.iter().map(|id| Bind::from(*id)).collect());
    Ok(update.query().execute(&mut **tx).await?.rows_affected())
}

/// The condition "the group membership (`gm`) is of someone with an
/// address the file does not name (`$2`, a JSON array)": who a sync
/// removes. People without an address cannot be named by the kinds that
/// sync, so they stay.
fn absent_member(dialect: &Db) -> String {
    format!(
        "gm.group_id = $1 AND gm.status = 'active' AND EXISTS (
            SELECT 1 FROM users u WHERE u.id = gm.user_id AND u.email IS NOT NULL
              AND u.email NOT IN ({}))",
        dialect.json_text_set(2)
    )
}

/// A sync: ends the group memberships of people the file does not name
/// (`emails`, normalized); how many.
pub async fn end_absent(
    tx: &mut Tx,
    dialect: &Db,
    group_id: i64,
    emails: &[String],
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "UPDATE group_memberships SET status = 'removed'
         WHERE id IN (SELECT gm.id FROM group_memberships gm WHERE {})",
        absent_member(dialect)
    );
    Ok(sqlx::query(&sql)
        .bind(group_id)
        .bind(serde_json::to_string(emails).unwrap_or_default())
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Who [`end_absent`] would remove: how many, and the first `limit`
/// addresses in order.
pub async fn absent<'c>(
    db: impl Executor<'c, Database = Any>,
    dialect: &Db,
    group_id: i64,
    emails: &[String],
    limit: i64,
) -> Result<(i64, Vec<String>), sqlx::Error> {
    let sql = format!(
        "SELECT u.email, COUNT(*) OVER () FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE {} ORDER BY u.email LIMIT $3",
        absent_member(dialect)
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
        .bind(group_id)
        .bind(serde_json::to_string(emails).unwrap_or_default())
        .bind(limit)
        .fetch_all(db)
        .await?;
    let total = rows.first().map_or(0, |(_, n)| *n);
    Ok((total, rows.into_iter().map(|(email, _)| email).collect()))
}

/// How many are in the group or invited to it: what a sync's share is of.
pub async fn size<'c>(
    db: impl Executor<'c, Database = Any>,
    group_id: i64,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM group_memberships WHERE group_id = $1 AND status = 'active')
              + (SELECT COUNT(*) FROM invitations WHERE group_id = $1 AND status = 'pending')",
    )
    .bind(group_id)
    .fetch_one(db)
    .await?;
    Ok(n)
}

/// An active member of a group, as SCIM lists them.
#[derive(sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
}

/// The group's active members who are people of its organization, in the
/// order they joined.
pub async fn members<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    group_id: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT gm.user_id, u.email, m.username FROM group_memberships gm
         JOIN learning_groups g ON g.id = gm.group_id
         JOIN memberships m ON m.user_id = gm.user_id AND m.organization_id = g.organization_id
         JOIN users u ON u.id = gm.user_id
         WHERE g.organization_id = $1 AND gm.group_id = $2 AND gm.status = $3
         ORDER BY gm.id",
    )
    .bind(organization_id)
    .bind(group_id)
    .bind(GroupMembershipStatus::Active.as_str())
    .fetch_all(db)
    .await
}

/// Ends the person's membership of the group; whether it was active.
pub async fn remove_member(tx: &mut Tx, group_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE group_memberships SET status = $3 WHERE group_id = $1 AND user_id = $2 AND status = $4",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(GroupMembershipStatus::Removed.as_str())
    .bind(GroupMembershipStatus::Active.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// Whether the person is an active member of the group.
pub async fn is_member(tx: &mut Tx, group_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM group_memberships WHERE group_id = $1 AND user_id = $2 AND status = $3",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(GroupMembershipStatus::Active.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}
