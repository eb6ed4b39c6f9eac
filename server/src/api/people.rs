//! `/api/v1/people`: the organization's people.

use app::{api_tokens::Need, people::service, people::Person as PersonView};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    extract::{ApiQuery, Id},
    next_cursor, page_of, Caller, Page, Problem,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub email: Option<String>,
    /// For a username-only student.
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// learner, admin, instructor, parent or student.
    pub role: String,
    /// invited, provisioned, active, …
    pub status: String,
    /// When the latest activation email was sent, for provisioned people.
    pub activation_sent_at: Option<i64>,
    /// Where an activation email goes: their address, or a username-only
    /// student's parent's.
    pub activation_to: Option<String>,
    /// The people a People import linked them with.
    pub links: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// parent, instructor, child or student: what the linked person is to
    /// this one.
    pub relation: String,
    /// Their name, else their email or username.
    pub name: String,
}

impl From<PersonView> for Person {
    fn from(person: PersonView) -> Person {
        Person {
            id: person.id,
            email: person.email,
            username: person.username,
            first_name: person.first_name,
            last_name: person.last_name,
            role: person.role,
            status: person.status.as_str().to_owned(),
            activation_sent_at: person.activation_sent_at,
            activation_to: person.activation_to,
            links: person
                .links
                .into_iter()
                .map(|link| Link {
                    relation: link.relation.api_name().to_owned(),
                    name: link.name,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Part of a name, email or username.
    pub search: Option<String>,
    /// One account status; absent for everyone.
    pub status: Option<String>,
    /// From `next_cursor`; absent for the first page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/people", operation_id = "listPeople", tag = "people", params(PeopleQuery),
    responses(
        (status = 200, body = Page<Person>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    caller: Caller,
    ApiQuery(query): ApiQuery<PeopleQuery>,
) -> Result<Json<Page<Person>>, Problem> {
    let user = caller.may(Need::Read)?;
    let page = page_of(query.cursor.as_deref())?;
    let found = service::list(
        &caller.state.db,
        user.organization_id,
        query.search.as_deref().unwrap_or_default(),
        query.status.as_deref().unwrap_or_default(),
        page,
    )
    .await?;
    Ok(Json(Page {
        next_cursor: next_cursor(page, found.page_size, found.total),
        total: found.total,
        items: found.people.into_iter().map(Person::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/people/{id}", operation_id = "getPerson", tag = "people",
    params(("id" = i64, Path, description = "The person's id")),
    responses(
        (status = 200, body = Person),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(caller: Caller, Id(id): Id) -> Result<Json<Person>, Problem> {
    let user = caller.may(Need::Read)?;
    let person = service::get(&caller.state.db, user.organization_id, id).await?;
    Ok(Json(person.into()))
}

/// Sends (or resends) the activation email to a provisioned person.
#[utoipa::path(post, path = "/api/v1/people/{id}/activation", operation_id = "sendActivation", tag = "people",
    params(("id" = i64, Path, description = "The person's id")),
    responses(
        (status = 204, description = "Sent"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn send_activation(
    caller: Caller,
    Id(id): Id,
) -> Result<axum::http::StatusCode, Problem> {
    let user = caller.may(Need::WritePeople)?;
    app::activation::service::send_one(&caller.state.db, user, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
