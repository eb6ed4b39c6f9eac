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
/// Reminders one invitation gets at most after each sending.
pub const MAX_REMINDERS: usize = 5;
/// The latest a reminder may be scheduled (no invitation lasts longer).
pub const MAX_REMINDER_DAY: i64 = 365;

/// When a group's pending invitations are reminded: days after the
/// invitation was sent, strictly increasing; empty is off (the default).
/// A reminder is never sent at or after the invitation's expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSchedule(Vec<i64>);

impl ReminderSchedule {
    /// Reads what the admin typed: whole days separated by commas or spaces
    /// ("3, 7"); blank turns reminders off.
    pub fn parse(raw: &str) -> Result<ReminderSchedule, AppError> {
        const FIELD: &str = "Reminder days";
        let mut days: Vec<i64> = Vec::new();
        for part in raw
            .split([',', ';', ' ', '\t'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let day = match part.parse::<i64>() {
                Ok(day) if (1..=MAX_REMINDER_DAY).contains(&day) => day,
                _ => {
                    return Err(AppError::invalid(
                        FIELD,
                        format!(
                            "{part:?} is not a whole number of days from 1 to {MAX_REMINDER_DAY}."
                        ),
                    ))
                }
            };
            if let Some(&last) = days.last() {
                if day <= last {
                    return Err(AppError::invalid(
                        FIELD,
                        format!(
                            "list the days in increasing order, each once ({day} after {last})."
                        ),
                    ));
                }
            }
            days.push(day);
        }
        if days.len() > MAX_REMINDERS {
            return Err(AppError::invalid(
                FIELD,
                format!("at most {MAX_REMINDERS} reminders ({} given).", days.len()),
            ));
        }
        Ok(ReminderSchedule(days))
    }

    /// From stored days (already valid).
    pub fn from_days(days: Vec<i64>) -> ReminderSchedule {
        ReminderSchedule(days)
    }

    /// Days after sending, in order.
    pub fn days(&self) -> &[i64] {
        &self.0
    }

    pub fn is_off(&self) -> bool {
        self.0.is_empty()
    }

    /// Each reminder's days after the email before it (the sending, or the
    /// reminder before): how the next reminder's time is computed.
    pub fn gaps(&self) -> Vec<i64> {
        let mut before = 0;
        self.0
            .iter()
            .map(|&day| {
                let gap = day - before;
                before = day;
                gap
            })
            .collect()
    }

    /// As the settings field shows it: "3, 7", or "" when off.
    pub fn input_value(&self) -> String {
        self.0
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "Off", or "3 and 7 days after sending".
    pub fn describe(&self) -> String {
        let days: Vec<String> = self.0.iter().map(i64::to_string).collect();
        match days.as_slice() {
            [] => "Off".to_owned(),
            [one] if one == "1" => "1 day after sending".to_owned(),
            [one] => format!("{one} days after sending"),
            [init @ .., last] => format!("{} and {last} days after sending", init.join(", ")),
        }
    }
}

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
    /// When pending invitations into it are reminded.
    pub reminders: ReminderSchedule,
    /// The identity provider's id of the group (SCIM `externalId`).
    pub external_id: Option<String>,
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

/// Sets when the group's pending invitations are reminded ("3, 7"; blank
/// for off); pending invitations already sent follow the new schedule.
#[server(endpoint = "groups/set_reminders")]
pub async fn set_group_reminders(id: i64, reminder_days: String) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let schedule = ReminderSchedule::parse(&reminder_days)?;
    service::set_reminders(&state.db, &user, id, &schedule).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_days_are_read_in_increasing_order() {
        let schedule = ReminderSchedule::parse(" 3, 7 ").unwrap();
        assert_eq!(schedule.days(), &[3, 7]);
        assert_eq!(schedule.gaps(), vec![3, 4]);
        assert_eq!(schedule.describe(), "3 and 7 days after sending");
        assert_eq!(schedule.input_value(), "3, 7");
        assert_eq!(
            ReminderSchedule::parse("2 5;9").unwrap().gaps(),
            vec![2, 3, 4]
        );
        let off = ReminderSchedule::parse("  ").unwrap();
        assert!(off.is_off());
        assert_eq!(off.describe(), "Off");
        assert_eq!(
            ReminderSchedule::parse("1").unwrap().describe(),
            "1 day after sending"
        );
    }

    #[test]
    fn bad_reminder_days_are_refused_naming_the_part() {
        for (bad, says) in [
            ("3,x", "\"x\" is not a whole number"),
            ("0", "\"0\" is not"),
            ("400", "from 1 to 365"),
            ("7,3", "increasing order"),
            ("3,3", "increasing order"),
            ("1,2,3,4,5,6", "at most 5"),
            ("2.5", "\"2.5\""),
        ] {
            let error = ReminderSchedule::parse(bad).unwrap_err();
            assert!(
                matches!(&error, AppError::Invalid { field, message } if field == "Reminder days" && message.contains(says)),
                "{bad}: {error:?}"
            );
        }
    }

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
