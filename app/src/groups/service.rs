//! Groups' rules: unique names, trainings kept by name, and entering a group.

use std::collections::HashMap;

use super::{store, GroupInput, GroupSummary, ReminderSchedule};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{self, CurrentUser, Role},
    db::{Db, Tx},
    error::AppError,
    mail::{
        self,
        server::{MailKind, Params},
    },
    state::now,
};

/// Makes a person a learner of the organization and an active member of
/// the group with its trainings, and queues the welcome email, inside the
/// caller's transaction: accepting an invitation (which it records on the
/// membership) and joining through the join page both end here.
///
/// The person is acting themselves, so this is also their consent: a
/// record the organization held pending becomes active. `names` are what
/// they typed; someone joining with an existing account typed none, and
/// the organization's record keeps whatever names it had.
pub async fn enter_group(
    tx: &mut Tx,
    organization_id: i64,
    group_id: i64,
    user_id: i64,
    invitation_id: Option<i64>,
    names: &auth::store::PersonRecord<'_>,
) -> Result<(), AppError> {
    let now = now();
    auth::store::add_membership(
        &mut **tx,
        organization_id,
        user_id,
        Role::Learner,
        names,
        now,
    )
    .await?;
    store::activate_member(tx, group_id, user_id, invitation_id, now).await?;
    store::assign_trainings(tx, group_id, user_id, now).await?;
    let person = auth::store::name_parts(&mut **tx, organization_id, user_id).await?;
    if let Some(email) = person.email {
        let welcome = welcome_email(
            tx,
            organization_id,
            group_id,
            &person.first_name,
            email,
            MailKind::Welcome,
        )
        .await?;
        mail::server::enqueue(tx, Some(organization_id), &welcome).await?;
    }
    Ok(())
}

/// The welcome email of a group: its trainings and a link home. Entering a
/// group sends it; an admin may send it again.
pub async fn welcome_email(
    tx: &mut Tx,
    organization_id: i64,
    group_id: i64,
    first_name: &str,
    to: String,
    kind: MailKind,
) -> Result<mail::server::Email, AppError> {
    let names = store::names(tx, organization_id, group_id).await?;
    let trainings = store::training_names(&mut **tx, group_id).await?;
    Ok(mail::server::Email {
        to,
        kind,
        about_id: Some(group_id),
        params: Params::Welcome {
            first_name: first_name.to_owned(),
            organization: names.organization,
            group: names.group_name,
            trainings,
        },
    })
}

fn duplicate_name(name: &str) -> AppError {
    AppError::Conflict(format!("A group named {name:?} already exists."))
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<GroupSummary>, AppError> {
    let groups = store::list(db, organization_id).await?;
    let mut by_group: HashMap<i64, Vec<String>> = HashMap::new();
    for training in store::organization_trainings(db, organization_id).await? {
        by_group
            .entry(training.group_id)
            .or_default()
            .push(training.name);
    }
    let mut reminders: HashMap<i64, Vec<i64>> = HashMap::new();
    for (group_id, day) in store::organization_reminder_days(db, organization_id).await? {
        reminders.entry(group_id).or_default().push(day);
    }
    Ok(groups
        .into_iter()
        .map(|group| GroupSummary {
            trainings: by_group.remove(&group.id).unwrap_or_default(),
            reminders: ReminderSchedule::from_days(reminders.remove(&group.id).unwrap_or_default()),
            id: group.id,
            name: group.name,
            description: group.description,
            default_expiry_days: group.default_expiry_days,
            external_id: group.external_id,
        })
        .collect())
}

pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<GroupSummary, AppError> {
    let group = store::get(db, organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(GroupSummary {
        trainings: store::training_names(&db.pool, group.id).await?,
        reminders: ReminderSchedule::from_days(store::reminder_days(&db.pool, group.id).await?),
        id: group.id,
        name: group.name,
        description: group.description,
        default_expiry_days: group.default_expiry_days,
        external_id: group.external_id,
    })
}

/// Makes the group's trainings match `trainings`, keeping the rows (and so
/// the ids that learners' assignments point at) of trainings that stay;
/// a training is the same one if its name matches case-insensitively.
async fn replace_trainings(
    tx: &mut Tx,
    group_id: i64,
    trainings: &[String],
) -> Result<(), AppError> {
    let existing = store::trainings(tx, group_id).await?;
    let mut kept = Vec::new();
    for (position, name) in trainings.iter().enumerate() {
        let same = existing
            .iter()
            .find(|old| old.name.to_lowercase() == name.to_lowercase())
            .map(|old| old.id);
        match same {
            Some(id) => {
                store::rename_training(tx, id, name, position as i64).await?;
                kept.push(id);
            }
            None => store::insert_training(tx, group_id, name, position as i64).await?,
        }
    }
    for old in existing.iter().filter(|old| !kept.contains(&old.id)) {
        store::delete_training(tx, old.id).await?;
    }
    Ok(())
}

fn fields(input: &GroupInput) -> store::GroupFields<'_> {
    store::GroupFields {
        name: &input.name,
        description: &input.description,
        default_expiry_days: input.default_expiry_days,
    }
}

pub async fn create(db: &Db, user: &CurrentUser, input: &GroupInput) -> Result<i64, AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    if store::name_taken(&mut tx, organization_id, &input.name, 0).await? {
        return Err(duplicate_name(&input.name));
    }
    let id = store::insert(&mut tx, organization_id, &fields(input), now()).await?;
    replace_trainings(&mut tx, id, &input.trainings).await?;
    let trainings = match input.trainings.len() {
        0 => "no trainings".to_owned(),
        _ => format!("trainings: {}", input.trainings.join(", ")),
    };
    let entry = AuditEntry::by(user, AuditAction::GroupCreated)
        .subject(Subject::Group, id, &input.name)
        .details(format!(
            "Invitations expire after {} days; {trainings}.",
            input.default_expiry_days
        ));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    input: &GroupInput,
) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    if store::name_taken(&mut tx, organization_id, &input.name, id).await? {
        return Err(duplicate_name(&input.name));
    }
    let before = store::get_in(&mut tx, organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let trainings_before = store::training_names(&mut *tx, id).await?;
    if !store::update(&mut tx, organization_id, id, &fields(input)).await? {
        return Err(AppError::NotFound);
    }
    replace_trainings(&mut tx, id, &input.trainings).await?;
    let changed = changes(&before, &trainings_before, input);
    // Saved as it was: nothing changed, nothing to record.
    if !changed.is_empty() {
        let entry = AuditEntry::by(user, AuditAction::GroupChanged)
            .subject(Subject::Group, id, &input.name)
            .details(format!("{}.", changed.join("; ")));
        record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets the identity provider's id of the group (SCIM `externalId`).
pub async fn set_external_id(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    external_id: Option<&str>,
) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    let before = store::get_in(&mut tx, organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.external_id.as_deref() == external_id {
        return Ok(());
    }
    store::set_external_id(&mut tx, organization_id, id, external_id).await?;
    let entry = AuditEntry::by(user, AuditAction::GroupChanged)
        .subject(Subject::Group, id, &before.name)
        .details(format!(
            "External id: {} → {}.",
            before.external_id.as_deref().unwrap_or("none"),
            external_id.unwrap_or("none")
        ));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the group's reminder schedule, and reschedules its pending
/// invitations' next reminders to it in the same transaction.
pub async fn set_reminders(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    schedule: &ReminderSchedule,
) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let mut tx = db.begin().await?;
    let group = store::get_in(&mut tx, organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = ReminderSchedule::from_days(store::reminder_days(&mut *tx, id).await?);
    // Saved as it was: nothing changed, nothing to record.
    if before == *schedule {
        return Ok(());
    }
    store::replace_reminder_steps(&mut tx, id, schedule).await?;
    crate::invitations::store::reschedule_group(&mut *tx, organization_id, id).await?;
    let entry = AuditEntry::by(user, AuditAction::GroupChanged)
        .subject(Subject::Group, id, &group.name)
        .details(format!(
            "invitation reminders: {} (was {}).",
            schedule.describe().to_lowercase(),
            before.describe().to_lowercase()
        ));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// What an edit changed, in words, for the audit log.
fn changes(before: &store::GroupRow, trainings: &[String], after: &GroupInput) -> Vec<String> {
    let mut changed = Vec::new();
    if before.name != after.name {
        changed.push(format!("renamed from {:?}", before.name));
    }
    if before.description != after.description {
        changed.push("description changed".to_owned());
    }
    if before.default_expiry_days != after.default_expiry_days {
        changed.push(format!(
            "invitations expire after {} days (was {})",
            after.default_expiry_days, before.default_expiry_days
        ));
    }
    let key = |name: &String| name.to_lowercase();
    let old: Vec<String> = trainings.iter().map(key).collect();
    let new: Vec<String> = after.trainings.iter().map(key).collect();
    let added: Vec<&str> = after
        .trainings
        .iter()
        .filter(|name| !old.contains(&key(name)))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = trainings
        .iter()
        .filter(|name| !new.contains(&key(name)))
        .map(String::as_str)
        .collect();
    if !added.is_empty() {
        changed.push(format!("trainings added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        changed.push(format!("trainings removed: {}", removed.join(", ")));
    }
    if added.is_empty() && removed.is_empty() && trainings != after.trainings.as_slice() {
        changed.push("trainings reordered or renamed".to_owned());
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_described_by_what_it_changed() {
        let before = store::GroupRow {
            id: 1,
            name: "Cohort A".into(),
            description: "".into(),
            default_expiry_days: 30,
            external_id: None,
        };
        let trainings = vec!["Safety".to_owned(), "Onboarding".to_owned()];
        let same = GroupInput::parse("Cohort A", "", "30", "Safety\nOnboarding").unwrap();
        assert!(changes(&before, &trainings, &same).is_empty());
        let edited = GroupInput::parse("Cohort B", "New", "14", "safety\nFirst aid").unwrap();
        assert_eq!(
            changes(&before, &trainings, &edited),
            vec![
                "renamed from \"Cohort A\"",
                "description changed",
                "invitations expire after 14 days (was 30)",
                "trainings added: First aid",
                "trainings removed: Onboarding",
            ]
        );
        let reordered = GroupInput::parse("Cohort A", "", "30", "Onboarding\nSafety").unwrap();
        assert_eq!(
            changes(&before, &trainings, &reordered),
            vec!["trainings reordered or renamed"]
        );
    }
}

/// A group member as an identity provider (SCIM) sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    /// Their login address, else their username.
    pub display: String,
}

pub async fn members(
    db: &Db,
    organization_id: i64,
    group_id: i64,
) -> Result<Vec<Member>, AppError> {
    Ok(store::members(&db.pool, organization_id, group_id)
        .await?
        .into_iter()
        .map(|row| Member {
            id: row.user_id,
            display: row.email.or(row.username).unwrap_or_default(),
        })
        .collect())
}

/// Who a change of a group's members adds and removes (person ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    pub add: Vec<i64>,
    pub remove: Vec<i64>,
}

/// Adds people to the group (with its trainings, as an import would) and
/// takes others out, all or nothing: an id that is not one of the
/// organization's people refuses the whole change. Returns how many
/// memberships changed.
pub async fn change_members(
    db: &Db,
    user: &CurrentUser,
    group_id: i64,
    change: &MemberChange,
) -> Result<i64, AppError> {
    let organization_id = user.organization_id;
    let now = now();
    let mut tx = db.begin().await?;
    let group = store::get_in(&mut tx, organization_id, group_id)
        .await?
        .ok_or(AppError::NotFound)?;
    for &person_id in change.add.iter().chain(&change.remove) {
        if crate::people::store::record(&mut *tx, organization_id, person_id)
            .await?
            .is_none()
        {
            return Err(AppError::invalid(
                "members",
                format!("There is no person with id {person_id} in this organization."),
            ));
        }
    }
    let (mut added, mut removed) = (0_i64, 0_i64);
    for &person_id in &change.remove {
        if store::remove_member(&mut tx, group_id, person_id).await? {
            removed += 1;
        }
    }
    for &person_id in &change.add {
        if !store::is_member(&mut tx, group_id, person_id).await? {
            store::activate_member(&mut tx, group_id, person_id, None, now).await?;
            store::assign_trainings(&mut tx, group_id, person_id, now).await?;
            added += 1;
        }
    }
    if added + removed > 0 {
        let entry = AuditEntry::by(user, AuditAction::GroupMembersChanged)
            .subject(Subject::Group, group_id, &group.name)
            .count(added + removed)
            .details(format!("{added} added, {removed} removed."));
        record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(added + removed)
}
