//! Groups: what learners join, with the trainings they are assigned.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const MAX_TRAININGS: usize = 50;
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub default_expiry_days: i64,
    pub trainings: Vec<String>,
}

/// A group's editable fields after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput {
    pub name: String,
    pub description: String,
    pub default_expiry_days: i64,
    pub trainings: Vec<String>,
}

impl GroupInput {
    /// Parses the form's fields; trainings come one per line.
    pub fn parse(
        name: &str,
        description: &str,
        default_expiry_days: &str,
        trainings: &str,
    ) -> Result<Self, AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid("Name", "is required."));
        }
        if name.chars().count() > 120 {
            return Err(AppError::invalid("Name", "must be at most 120 characters."));
        }
        let description = description.trim();
        if description.chars().count() > 2000 {
            return Err(AppError::invalid(
                "Description",
                "must be at most 2,000 characters.",
            ));
        }
        let expiry = default_expiry_days.trim();
        let default_expiry_days = if expiry.is_empty() {
            DEFAULT_EXPIRY_DAYS
        } else {
            match expiry.parse::<i64>() {
                Ok(days) if (1..=365).contains(&days) => days,
                _ => {
                    return Err(AppError::invalid(
                        "Default invitation expiry",
                        format!("must be a whole number of days from 1 to 365, not {expiry:?}."),
                    ))
                }
            }
        };
        let mut names: Vec<String> = Vec::new();
        for (index, line) in trainings.lines().enumerate() {
            let training = line.trim();
            if training.is_empty() {
                continue;
            }
            if training.chars().count() > 120 {
                return Err(AppError::invalid(
                    "Trainings",
                    format!("line {} is longer than 120 characters.", index + 1),
                ));
            }
            if names
                .iter()
                .any(|existing| existing.eq_ignore_ascii_case(training))
            {
                return Err(AppError::invalid(
                    "Trainings",
                    format!("{training:?} is listed twice."),
                ));
            }
            names.push(training.to_owned());
        }
        if names.len() > MAX_TRAININGS {
            return Err(AppError::invalid(
                "Trainings",
                format!("a group can have at most {MAX_TRAININGS} trainings."),
            ));
        }
        Ok(GroupInput {
            name: name.to_owned(),
            description: description.to_owned(),
            default_expiry_days,
            trainings: names,
        })
    }
}

#[server(endpoint = "groups/list")]
pub async fn list_groups() -> Result<Vec<GroupSummary>, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::list(&state.db, user.organization_id).await
}

#[server(endpoint = "groups/get")]
pub async fn get_group(id: i64) -> Result<GroupSummary, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::get(&state.db, user.organization_id, id).await
}

#[server(endpoint = "groups/create")]
pub async fn create_group(
    name: String,
    description: String,
    default_expiry_days: String,
    trainings: String,
) -> Result<i64, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let input = GroupInput::parse(&name, &description, &default_expiry_days, &trainings)?;
    server::create(&state.db, user.organization_id, &input).await
}

#[server(endpoint = "groups/update")]
pub async fn update_group(
    id: i64,
    name: String,
    description: String,
    default_expiry_days: String,
    trainings: String,
) -> Result<(), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let input = GroupInput::parse(&name, &description, &default_expiry_days, &trainings)?;
    server::update(&state.db, user.organization_id, id, &input).await
}

#[cfg(feature = "ssr")]
pub mod server {
    use std::collections::HashMap;

    use super::{GroupInput, GroupSummary};
    use crate::{
        db::Db,
        error::AppError,
        mail::{self, templates},
        state::{now, Settings},
    };

    fn name_key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Makes a person a learner of the organization and an active member of
    /// the group with its trainings, and queues the welcome email, inside the
    /// caller's transaction: accepting an invitation (which it records on the
    /// membership) and joining through the join page both end here.
    pub async fn enter_group(
        tx: &mut crate::db::Tx,
        settings: &Settings,
        organization_id: i64,
        group_id: i64,
        user_id: i64,
        invitation_id: Option<i64>,
    ) -> Result<(), AppError> {
        let now = now();
        sqlx::query(
            "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, 'learner', $3)
             ON CONFLICT (organization_id, user_id) DO NOTHING",
        )
        .bind(organization_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO group_memberships (group_id, user_id, status, invitation_id, created_at)
             VALUES ($1, $2, 'active', $3, $4)
             ON CONFLICT (group_id, user_id) DO UPDATE SET status = 'active'",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(invitation_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
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
        let (first_name, email): (String, Option<String>) =
            sqlx::query_as("SELECT first_name, email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&mut **tx)
                .await?;
        let (group, organization): (String, String) = sqlx::query_as(
            "SELECT g.name, o.name FROM learning_groups g JOIN organizations o ON o.id = g.organization_id
             WHERE g.id = $1 AND g.organization_id = $2",
        )
        .bind(group_id)
        .bind(organization_id)
        .fetch_one(&mut **tx)
        .await?;
        let trainings: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM trainings WHERE group_id = $1 ORDER BY position")
                .bind(group_id)
                .fetch_all(&mut **tx)
                .await?;
        let trainings: Vec<String> = trainings.into_iter().map(|(name,)| name).collect();
        if let Some(email) = email {
            let home = format!("{}/", settings.base_url);
            let rendered = templates::welcome(&templates::Welcome {
                first_name: &first_name,
                organization: &organization,
                group: &group,
                trainings: &trainings,
                link: &home,
            });
            mail::server::enqueue(
                tx,
                Some(organization_id),
                &mail::server::Email {
                    to: email,
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    kind: "welcome",
                },
            )
            .await?;
        }
        Ok(())
    }

    fn duplicate_name(name: &str) -> AppError {
        AppError::Conflict(format!("A group named {name:?} already exists."))
    }

    pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<GroupSummary>, AppError> {
        let groups: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, name, description, default_expiry_days FROM learning_groups
             WHERE organization_id = $1 ORDER BY name_key",
        )
        .bind(organization_id)
        .fetch_all(&db.pool)
        .await?;
        let trainings: Vec<(i64, String)> = sqlx::query_as(
            "SELECT t.group_id, t.name FROM trainings t
             JOIN learning_groups g ON g.id = t.group_id
             WHERE g.organization_id = $1 ORDER BY t.group_id, t.position",
        )
        .bind(organization_id)
        .fetch_all(&db.pool)
        .await?;
        let mut by_group: HashMap<i64, Vec<String>> = HashMap::new();
        for (group_id, name) in trainings {
            by_group.entry(group_id).or_default().push(name);
        }
        Ok(groups
            .into_iter()
            .map(
                |(id, name, description, default_expiry_days)| GroupSummary {
                    id,
                    name,
                    description,
                    default_expiry_days,
                    trainings: by_group.remove(&id).unwrap_or_default(),
                },
            )
            .collect())
    }

    pub async fn get(db: &Db, organization_id: i64, id: i64) -> Result<GroupSummary, AppError> {
        let group: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, name, description, default_expiry_days FROM learning_groups
             WHERE organization_id = $1 AND id = $2",
        )
        .bind(organization_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        let (id, name, description, default_expiry_days) = group.ok_or(AppError::NotFound)?;
        let trainings: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM trainings WHERE group_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(&db.pool)
                .await?;
        Ok(GroupSummary {
            id,
            name,
            description,
            default_expiry_days,
            trainings: trainings.into_iter().map(|(name,)| name).collect(),
        })
    }

    async fn name_taken(
        tx: &mut crate::db::Tx,
        organization_id: i64,
        name: &str,
        except_id: i64,
    ) -> Result<bool, AppError> {
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

    /// Makes the group's trainings match `trainings`, keeping the rows (and so
    /// the ids that learners' assignments point at) of trainings that stay;
    /// a training is the same one if its name matches case-insensitively.
    async fn replace_trainings(
        tx: &mut crate::db::Tx,
        group_id: i64,
        trainings: &[String],
    ) -> Result<(), AppError> {
        let existing: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM trainings WHERE group_id = $1")
                .bind(group_id)
                .fetch_all(&mut **tx)
                .await?;
        let mut kept = Vec::new();
        for (position, name) in trainings.iter().enumerate() {
            let same = existing
                .iter()
                .find(|(_, old)| old.to_lowercase() == name.to_lowercase())
                .map(|(id, _)| *id);
            match same {
                Some(id) => {
                    sqlx::query("UPDATE trainings SET name = $1, position = $2 WHERE id = $3")
                        .bind(name)
                        .bind(position as i64)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    kept.push(id);
                }
                None => {
                    sqlx::query(
                        "INSERT INTO trainings (group_id, name, position) VALUES ($1, $2, $3)",
                    )
                    .bind(group_id)
                    .bind(name)
                    .bind(position as i64)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        for (id, _) in existing.iter().filter(|(id, _)| !kept.contains(id)) {
            sqlx::query("DELETE FROM training_assignments WHERE training_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM trainings WHERE id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub async fn create(
        db: &Db,
        organization_id: i64,
        input: &GroupInput,
    ) -> Result<i64, AppError> {
        let mut tx = db.begin().await?;
        if name_taken(&mut tx, organization_id, &input.name, 0).await? {
            return Err(duplicate_name(&input.name));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO learning_groups (organization_id, name, name_key, description, default_expiry_days, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(organization_id)
        .bind(&input.name)
        .bind(name_key(&input.name))
        .bind(&input.description)
        .bind(input.default_expiry_days)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        replace_trainings(&mut tx, id, &input.trainings).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn update(
        db: &Db,
        organization_id: i64,
        id: i64,
        input: &GroupInput,
    ) -> Result<(), AppError> {
        let mut tx = db.begin().await?;
        if name_taken(&mut tx, organization_id, &input.name, id).await? {
            return Err(duplicate_name(&input.name));
        }
        let updated = sqlx::query(
            "UPDATE learning_groups SET name = $1, name_key = $2, description = $3, default_expiry_days = $4
             WHERE organization_id = $5 AND id = $6",
        )
        .bind(&input.name)
        .bind(name_key(&input.name))
        .bind(&input.description)
        .bind(input.default_expiry_days)
        .bind(organization_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::NotFound);
        }
        replace_trainings(&mut tx, id, &input.trainings).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trainings_are_read_one_per_line_skipping_blank_lines() {
        let input = GroupInput::parse("Cohort A", "", "", "Safety\n\n  Onboarding  \n").unwrap();
        assert_eq!(input.trainings, vec!["Safety", "Onboarding"]);
        assert_eq!(input.default_expiry_days, DEFAULT_EXPIRY_DAYS);
    }

    #[test]
    fn a_training_listed_twice_is_refused() {
        let error = GroupInput::parse("Cohort A", "", "30", "Safety\nsafety").unwrap_err();
        assert!(error.to_string().contains("listed twice"), "{error}");
    }

    #[test]
    fn expiry_outside_one_to_365_days_is_refused() {
        for bad in ["0", "366", "ten", "7.5", "-1"] {
            assert!(
                GroupInput::parse("G", "", bad, "").is_err(),
                "{bad} accepted"
            );
        }
        assert_eq!(
            GroupInput::parse("G", "", "365", "")
                .unwrap()
                .default_expiry_days,
            365
        );
    }

    #[test]
    fn a_group_needs_a_name() {
        assert!(GroupInput::parse("   ", "", "", "").is_err());
    }
}
