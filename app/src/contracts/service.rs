//! Contracts' rules: names are unique in an organization, case aside.

use super::{store, Contract, ContractInput};
use crate::{db::Db, error::AppError, state::now};

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<Contract>, AppError> {
    Ok(store::list(db, organization_id)
        .await?
        .into_iter()
        .map(|row| Contract {
            id: row.id,
            name: row.name,
            seat_limit: row.seat_limit,
            ends_on: row.ends_on,
        })
        .collect())
}

pub async fn create(db: &Db, organization_id: i64, input: &ContractInput) -> Result<i64, AppError> {
    let key = input.name.to_lowercase();
    let mut tx = db.begin().await?;
    if store::name_taken(&mut tx, organization_id, &key).await? {
        return Err(AppError::Conflict(format!(
            "A contract named {:?} already exists.",
            input.name
        )));
    }
    let contract = store::NewContract {
        name: &input.name,
        name_key: &key,
        seat_limit: input.seat_limit,
        ends_on: input.ends_on.as_deref(),
    };
    let id = store::insert(&mut tx, organization_id, &contract, now()).await?;
    tx.commit().await?;
    Ok(id)
}
