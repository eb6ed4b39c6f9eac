//! `/api/v1/contracts`: seats a program's invitations use.

use app::{
    api_tokens::Need,
    contracts::{service, Contract as ContractView, ContractInput},
};
use axum::{http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    extract::{ApiJson, Id},
    Caller, Problem,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Contract {
    pub id: i64,
    pub name: String,
    /// How many people its programs may invite.
    pub seat_limit: i64,
    /// ISO date, inclusive; absent when open-ended.
    pub ends_on: Option<String>,
}

impl From<ContractView> for Contract {
    fn from(contract: ContractView) -> Contract {
        Contract {
            id: contract.id,
            name: contract.name,
            seat_limit: contract.seat_limit,
            ends_on: contract.ends_on,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub seat_limit: i64,
    /// ISO date (YYYY-MM-DD), inclusive.
    pub ends_on: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contracts", tag = "contracts", operation_id = "listContracts",
    responses(
        (status = 200, body = Vec<Contract>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(caller: Caller) -> Result<Json<Vec<Contract>>, Problem> {
    let user = caller.may(Need::Read)?;
    let contracts = service::list(&caller.state.db, user.organization_id).await?;
    Ok(Json(contracts.into_iter().map(Contract::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracts", operation_id = "getContract",
    params(("id" = i64, Path, description = "The contract's id")),
    responses(
        (status = 200, body = Contract),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(caller: Caller, Id(id): Id) -> Result<Json<Contract>, Problem> {
    let user = caller.may(Need::Read)?;
    service::list(&caller.state.db, user.organization_id)
        .await?
        .into_iter()
        .find(|contract| contract.id == id)
        .map(|contract| Json(contract.into()))
        .ok_or_else(|| app::error::AppError::NotFound.into())
}

/// Creates a contract (scope `people` or `full`).
#[utoipa::path(post, path = "/api/v1/contracts", tag = "contracts", operation_id = "createContract",
    request_body = NewContract,
    responses(
        (status = 201, body = Contract),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    caller: Caller,
    ApiJson(new): ApiJson<NewContract>,
) -> Result<(StatusCode, Json<Contract>), Problem> {
    let user = caller.may(Need::WritePeople)?;
    let input = ContractInput::parse(
        &new.name,
        &new.seat_limit.to_string(),
        new.ends_on.as_deref().unwrap_or_default(),
    )?;
    let id = service::create(&caller.state.db, user, &input).await?;
    let created = service::list(&caller.state.db, user.organization_id)
        .await?
        .into_iter()
        .find(|contract| contract.id == id)
        .ok_or(app::error::AppError::Internal)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}
