//! Every statement on `contracts`.

use sqlx::AnyConnection;

use crate::db::{Backend, Db, Tx};

#[derive(sqlx::FromRow)]
pub struct ContractRow {
    pub id: i64,
    pub name: String,
    pub seat_limit: i64,
    pub ends_on: Option<String>,
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<ContractRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, seat_limit, ends_on FROM contracts WHERE organization_id = $1 ORDER BY name_key",
    )
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await
}

/// Whether the organization has a contract with this name key.
pub async fn name_taken(tx: &mut Tx, organization_id: i64, key: &str) -> Result<bool, sqlx::Error> {
    let taken: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM contracts WHERE organization_id = $1 AND name_key = $2")
            .bind(organization_id)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(taken.is_some())
}

pub struct NewContract<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub seat_limit: i64,
    pub ends_on: Option<&'a str>,
}

pub async fn insert(
    tx: &mut Tx,
    organization_id: i64,
    contract: &NewContract<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO contracts (organization_id, name, name_key, seat_limit, ends_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(organization_id)
    .bind(contract.name)
    .bind(contract.name_key)
    .bind(contract.seat_limit)
    .bind(contract.ends_on)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// A contract's seats as they stand, read under a lock on the contract so
/// that no other transaction takes a seat until this one ends
/// (`FOR UPDATE` on PostgreSQL; SQLite's transactions hold its one write lock).
#[derive(sqlx::FromRow)]
pub struct LockedSeats {
    pub name: String,
    pub seat_limit: i64,
    /// ISO date, inclusive; `None` is open-ended.
    pub ends_on: Option<String>,
    /// Pending unexpired and accepted invitations under the contract.
    pub used: i64,
}

impl LockedSeats {
    /// Seats a new invitation may take: none once the contract has ended.
    pub fn left(&self, now: i64) -> i64 {
        if self.ended_before(now).is_some() {
            0
        } else {
            (self.seat_limit - self.used).max(0)
        }
    }

    /// The contract's last day, if that was before the day of `now`.
    pub fn ended_before(&self, now: i64) -> Option<String> {
        let today = crate::mail::templates::format_date(now);
        self.ends_on.clone().filter(|ends_on| *ends_on < today)
    }
}

pub async fn lock_seats(
    tx: &mut Tx,
    organization_id: i64,
    contract_id: i64,
    now: i64,
) -> Result<Option<LockedSeats>, sqlx::Error> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let contract: Option<(String, i64, Option<String>)> = sqlx::query_as(&format!(
        "SELECT name, seat_limit, ends_on FROM contracts WHERE organization_id = $1 AND id = $2{lock}"
    ))
    .bind(organization_id)
    .bind(contract_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((name, seat_limit, ends_on)) = contract else {
        return Ok(None);
    };
    let used = seats_used(tx, contract_id, now).await?;
    Ok(Some(LockedSeats {
        name,
        seat_limit,
        ends_on,
        used,
    }))
}

/// Seats taken under a contract: by each pending (unexpired) or accepted
/// invitation. The one statement of that rule, for confirms, the import
/// worker and resends alike.
pub async fn seats_used(
    conn: &mut AnyConnection,
    contract_id: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (used,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM invitations WHERE contract_id = $1
         AND (status = 'active' OR (status = 'pending' AND expires_at > $2))",
    )
    .bind(contract_id)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::LockedSeats;

    fn seats(seat_limit: i64, used: i64, ends_on: Option<&str>) -> LockedSeats {
        LockedSeats {
            name: "District 9".into(),
            seat_limit,
            ends_on: ends_on.map(str::to_owned),
            used,
        }
    }

    #[test]
    fn seats_left_never_go_below_zero_and_an_ended_contract_has_none() {
        // 2026-11-30 12:00 UTC.
        let now = 1_796_040_000;
        assert_eq!(seats(10, 4, None).left(now), 6);
        assert_eq!(seats(3, 5, None).left(now), 0, "over the limit already");
        assert_eq!(
            seats(10, 4, Some("2026-11-30")).left(now),
            6,
            "its last day"
        );
        assert_eq!(seats(10, 4, Some("2026-11-29")).left(now), 0);
        assert_eq!(
            seats(10, 4, Some("2026-11-29"))
                .ended_before(now)
                .as_deref(),
            Some("2026-11-29")
        );
    }
}
