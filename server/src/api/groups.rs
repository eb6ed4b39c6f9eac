//! `/api/v1/groups`: what learners join.

use app::{
    api_tokens::Need,
    groups::{service, GroupInput, GroupSummary},
};
use axum::{http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    extract::{ApiJson, Id},
    Caller, Problem,
};

/// A group: a program, cohort, course or team.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Invitations into it expire after this many days unless a row says otherwise.
    pub default_expiry_days: i64,
    /// Assigned to every new member.
    pub trainings: Vec<String>,
    /// Days after an invitation is sent when a pending one is reminded.
    pub reminder_days: Vec<i64>,
}

impl From<GroupSummary> for Group {
    fn from(group: GroupSummary) -> Group {
        Group {
            id: group.id,
            name: group.name,
            description: group.description,
            default_expiry_days: group.default_expiry_days,
            trainings: group.trainings,
            reminder_days: group.reminders.days().to_vec(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// 1 to 365; 30 when absent.
    #[schema(minimum = 1, maximum = 365)]
    pub default_expiry_days: Option<i64>,
    #[serde(default)]
    pub trainings: Vec<String>,
}

/// Every group of the organization.
#[utoipa::path(get, path = "/api/v1/groups", operation_id = "listGroups", tag = "groups",
    responses(
        (status = 200, body = Vec<Group>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(caller: Caller) -> Result<Json<Vec<Group>>, Problem> {
    let user = caller.may(Need::Read)?;
    let groups = service::list(&caller.state.db, user.organization_id).await?;
    Ok(Json(groups.into_iter().map(Group::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", operation_id = "getGroup", tag = "groups",
    params(("id" = i64, Path, description = "The group's id")),
    responses(
        (status = 200, body = Group),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(caller: Caller, Id(id): Id) -> Result<Json<Group>, Problem> {
    let user = caller.may(Need::Read)?;
    Ok(Json(
        service::get(&caller.state.db, user.organization_id, id)
            .await?
            .into(),
    ))
}

/// Creates a group (scope `people` or `full`).
#[utoipa::path(post, path = "/api/v1/groups", operation_id = "createGroup", tag = "groups",
    request_body = NewGroup,
    responses(
        (status = 201, body = Group),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    caller: Caller,
    ApiJson(new): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<Group>), Problem> {
    let user = caller.may(Need::WritePeople)?;
    let input = GroupInput::parse(
        &new.name,
        &new.description,
        &new.default_expiry_days
            .unwrap_or(app::groups::DEFAULT_EXPIRY_DAYS)
            .to_string(),
        &new.trainings.join("\n"),
    )?;
    let id = service::create(&caller.state.db, user, &input).await?;
    let group = service::get(&caller.state.db, user.organization_id, id).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}
