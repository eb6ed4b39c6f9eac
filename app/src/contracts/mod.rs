//! Contracts: seat pools learners are invited under.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: i64,
    pub name: String,
    pub seat_limit: i64,
    /// ISO date, inclusive; `None` is open-ended.
    pub ends_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractInput {
    pub name: String,
    pub seat_limit: i64,
    pub ends_on: Option<String>,
}

impl ContractInput {
    pub fn parse(name: &str, seat_limit: &str, ends_on: &str) -> Result<Self, AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid("Name", "is required."));
        }
        if name.chars().count() > 120 {
            return Err(AppError::invalid("Name", "must be at most 120 characters."));
        }
        let seats = seat_limit.trim();
        let seat_limit = match seats.parse::<i64>() {
            Ok(seats) if (1..=10_000_000).contains(&seats) => seats,
            _ => {
                return Err(AppError::invalid(
                    "Seat limit",
                    format!("must be a whole number from 1 to 10,000,000, not {seats:?}."),
                ))
            }
        };
        let ends_on = ends_on.trim();
        let ends_on = if ends_on.is_empty() {
            None
        } else if is_iso_date(ends_on) {
            Some(ends_on.to_owned())
        } else {
            return Err(AppError::invalid(
                "End date",
                format!("must be a date like 2027-06-30, not {ends_on:?}."),
            ));
        };
        Ok(ContractInput {
            name: name.to_owned(),
            seat_limit,
            ends_on,
        })
    }
}

/// A real calendar date written YYYY-MM-DD (what `<input type="date">` sends).
fn is_iso_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (2000..=2200).contains(&year) && (1..=days_in_month).contains(&day)
}

#[server(endpoint = "contracts/list")]
pub async fn list_contracts() -> Result<Vec<Contract>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::list(&state.db, user.organization_id).await
}

#[server(endpoint = "contracts/create")]
pub async fn create_contract(
    name: String,
    seat_limit: String,
    ends_on: String,
) -> Result<i64, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    let input = ContractInput::parse(&name, &seat_limit, &ends_on)?;
    service::create(&state.db, &user, &input).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_dates_must_be_real_calendar_dates() {
        assert!(ContractInput::parse("C", "10", "2028-02-29").is_ok());
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "27-01-01",
            "tomorrow",
            "2027-1-1",
        ] {
            assert!(
                ContractInput::parse("C", "10", bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn seat_limit_must_be_a_positive_whole_number() {
        for bad in ["0", "-3", "1.5", "many", ""] {
            assert!(
                ContractInput::parse("C", bad, "").is_err(),
                "{bad} accepted"
            );
        }
        assert_eq!(
            ContractInput::parse("C", " 250 ", "").unwrap().seat_limit,
            250
        );
    }
}
