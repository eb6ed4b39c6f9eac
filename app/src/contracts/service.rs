//! Contracts' rules: names are unique in an organization, case aside.

use super::{store, Contract, ContractInput};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    db::Db,
    error::AppError,
    state::now,
};

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

pub async fn create(db: &Db, user: &CurrentUser, input: &ContractInput) -> Result<i64, AppError> {
    let organization_id = user.organization_id;
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
    let ends = match &input.ends_on {
        Some(date) => format!("ends on {date}"),
        None => "open-ended".to_owned(),
    };
    let entry = AuditEntry::by(user, AuditAction::ContractCreated)
        .subject(Subject::Contract, id, &input.name)
        .details(format!("{} seats; {ends}.", input.seat_limit));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}
