//! Groups: what learners join, with the trainings they are assigned.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

pub const MAX_TRAININGS: usize = 50;
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;

crate::text_enum::text_enum! {
    /// Whether someone is in a group. Leaving keeps the row (and the
    /// invitation it came from); entering again makes it active.
    pub enum GroupMembershipStatus {
        Active = "active",
        Removed = "removed",
    }
}

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
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id).await
}

#[server(endpoint = "groups/get")]
pub async fn get_group(id: i64) -> Result<GroupSummary, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::get(&state.db, user.organization_id, id).await
}

#[server(endpoint = "groups/create")]
pub async fn create_group(
    name: String,
    description: String,
    default_expiry_days: String,
    trainings: String,
) -> Result<i64, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let input = GroupInput::parse(&name, &description, &default_expiry_days, &trainings)?;
    service::create(&state.db, &user, &input).await
}

#[server(endpoint = "groups/update")]
pub async fn update_group(
    id: i64,
    name: String,
    description: String,
    default_expiry_days: String,
    trainings: String,
) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let input = GroupInput::parse(&name, &description, &default_expiry_days, &trainings)?;
    service::update(&state.db, &user, id, &input).await
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
