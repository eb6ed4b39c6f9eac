//! `/scim/v2/Groups`: the organization's groups and who is in them.

use std::collections::BTreeSet;

use app::groups::{
    service::{self, Member, MemberChange},
    store::name_key,
    GroupInput, GroupSummary,
};
use axum::{
    body::Bytes,
    extract::{Path, Query},
    http::StatusCode,
};
use serde_json::{json, Value};

use super::{
    attribute, body, extract::ScimCaller, filter, list_response, location, operations, parse_id,
    patch, ListQuery, Scim, ScimError, GROUP_SCHEMA,
};

fn resource(caller: &ScimCaller, group: &GroupSummary, members: &[Member]) -> Value {
    let mut resource = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id.to_string(),
        "displayName": group.name,
        "members": members.iter().map(|member| json!({
            "value": member.id.to_string(),
            "type": "User",
            "$ref": location(&caller.state, "Users", &member.id.to_string()),
        })).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Group",
            "location": location(&caller.state, "Groups", &group.id.to_string()),
        },
    });
    if let Some(external_id) = &group.external_id {
        resource["externalId"] = json!(external_id);
    }
    resource
}

/// `externalId`: the identity provider's id of the group, if it gave one.
fn external_id(group: &Value) -> Result<Option<String>, ScimError> {
    match attribute(group, "externalId") {
        None => Ok(None),
        Some(Value::String(text)) if text.chars().count() > super::MAX_TEXT_CHARS => {
            Err(ScimError::bad_request(
                "invalidValue",
                format!(
                    "externalId is longer than {} characters.",
                    super::MAX_TEXT_CHARS
                ),
            ))
        }
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty())),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            "externalId must be a string.",
        )),
    }
}

async fn found(caller: &ScimCaller, id: i64) -> Result<(GroupSummary, Vec<Member>), ScimError> {
    let organization_id = caller.user.organization_id;
    let group = service::get(&caller.state.db, organization_id, id).await?;
    let members = service::members(&caller.state.db, organization_id, id).await?;
    Ok((group, members))
}

fn display_name(group: &Value) -> Result<String, ScimError> {
    attribute(group, "displayName")
        .and_then(Value::as_str)
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ScimError::bad_request("invalidValue", "displayName is required."))
}

/// The person ids a Group body lists as members.
fn member_ids(group: &Value) -> Result<BTreeSet<i64>, ScimError> {
    let Some(members) = attribute(group, "members") else {
        return Ok(BTreeSet::new());
    };
    let members = members
        .as_array()
        .ok_or_else(|| ScimError::bad_request("invalidValue", "members must be a list."))?;
    members
        .iter()
        .map(|member| {
            let value = attribute(member, "value").and_then(|value| match value {
                Value::String(text) => text.trim().parse::<i64>().ok(),
                Value::Number(number) => number.as_i64(),
                _ => None,
            });
            value.filter(|id| *id > 0).ok_or_else(|| {
                ScimError::bad_request(
                    "invalidValue",
                    "Each member's value is the id of one of the organization's people.",
                )
            })
        })
        .collect()
}

/// Refuses, before anything changes, members who are not the organization's
/// people (`change_members` checks again inside its transaction).
async fn check_people(caller: &ScimCaller, ids: &BTreeSet<i64>) -> Result<(), ScimError> {
    for &id in ids {
        let known =
            app::people::service::get_record(&caller.state.db, caller.user.organization_id, id)
                .await;
        match known {
            Ok(_) => {}
            Err(app::error::AppError::NotFound) => {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    format!("There is no person with id {id} in this organization."),
                ))
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

pub async fn list(caller: ScimCaller, Query(query): Query<ListQuery>) -> Result<Scim, ScimError> {
    let (offset, limit) = query.window()?;
    let (total, resources) = page(&caller, &query, offset, limit).await?;
    Ok(list_response(total, offset, resources))
}

/// `POST /Groups/.search`: a list query in the body (RFC 7644 §3.4.3).
pub async fn search(caller: ScimCaller, bytes: Bytes) -> Result<Scim, ScimError> {
    list(caller, Query(super::search_query(&body(&bytes)?)?)).await
}

/// (how many groups match, `limit` of them from `offset`, projected).
pub async fn page(
    caller: &ScimCaller,
    query: &ListQuery,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Value>), ScimError> {
    let organization_id = caller.user.organization_id;
    let mut groups = service::list(&caller.state.db, organization_id).await?;
    if let Some(raw) = query.filter.as_deref().filter(|raw| !raw.trim().is_empty()) {
        let equals = filter::parse(raw)?;
        match equals.attribute.to_ascii_lowercase().as_str() {
            "displayname" => {
                groups.retain(|group| name_key(&group.name) == name_key(&equals.value))
            }
            "id" => groups.retain(|group| group.id.to_string() == equals.value),
            "externalid" => {
                groups.retain(|group| group.external_id.as_deref() == Some(equals.value.as_str()))
            }
            _ => {
                return Err(ScimError::bad_request(
                    "invalidFilter",
                    "Groups can be filtered by displayName, externalId or id (eq).",
                ))
            }
        }
    }
    let total = groups.len() as i64;
    let wants_members = super::project(
        json!({"members": []}),
        query.attributes.as_deref(),
        query.excluded_attributes.as_deref(),
    )
    .get("members")
    .is_some();
    let mut resources = Vec::new();
    for group in groups.iter().skip(offset as usize).take(limit as usize) {
        let members = if wants_members {
            service::members(&caller.state.db, organization_id, group.id).await?
        } else {
            Vec::new()
        };
        resources.push(query.project(resource(caller, group, &members)));
    }
    Ok((total, resources))
}

pub async fn get(
    caller: ScimCaller,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Scim, ScimError> {
    let (group, members) = found(&caller, parse_id(&id)?).await?;
    Ok(Scim::ok(query.project(resource(&caller, &group, &members))))
}

pub async fn create(caller: ScimCaller, bytes: Bytes) -> Result<Scim, ScimError> {
    let group = body(&bytes)?;
    let name = display_name(&group)?;
    let members = member_ids(&group)?;
    let external = external_id(&group)?;
    let input = GroupInput::parse(&name, "", &app::groups::DEFAULT_EXPIRY_DAYS.to_string(), "")?;
    let db = &caller.state.db;
    check_people(&caller, &members).await?;
    let id = service::create(db, &caller.user, &input).await?;
    if external.is_some() {
        service::set_external_id(db, &caller.user, id, external.as_deref()).await?;
    }
    if !members.is_empty() {
        let change = MemberChange {
            add: members.into_iter().collect(),
            remove: Vec::new(),
        };
        service::change_members(db, &caller.user, id, &change).await?;
    }
    let (group, members) = found(&caller, id).await?;
    Ok(Scim::created(resource(&caller, &group, &members)))
}

/// Makes the group what `wanted` says: its name, and exactly its members.
async fn restate(caller: &ScimCaller, id: i64, wanted: &Value) -> Result<Scim, ScimError> {
    let db = &caller.state.db;
    let (group, members) = found(caller, id).await?;
    let name = display_name(wanted)?;
    let wanted_ids = member_ids(wanted)?;
    let external = external_id(wanted)?;
    let current: BTreeSet<i64> = members.iter().map(|member| member.id).collect();
    let change = MemberChange {
        add: wanted_ids.difference(&current).copied().collect(),
        remove: current.difference(&wanted_ids).copied().collect(),
    };
    check_people(caller, &wanted_ids).await?;
    if name != group.name {
        let input = GroupInput::parse(
            &name,
            &group.description,
            &group.default_expiry_days.to_string(),
            &group.trainings.join("\n"),
        )?;
        service::update(db, &caller.user, id, &input).await?;
    }
    if change != MemberChange::default() {
        service::change_members(db, &caller.user, id, &change).await?;
    }
    service::set_external_id(db, &caller.user, id, external.as_deref()).await?;
    let (group, members) = found(caller, id).await?;
    Ok(Scim::ok(resource(caller, &group, &members)))
}

pub async fn replace(
    caller: ScimCaller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Scim, ScimError> {
    let id = parse_id(&id)?;
    let wanted = body(&bytes)?;
    restate(&caller, id, &wanted).await
}

pub async fn patch(
    caller: ScimCaller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Scim, ScimError> {
    let id = parse_id(&id)?;
    let operations = operations(&body(&bytes)?)?;
    let (group, members) = found(&caller, id).await?;
    let mut wanted = resource(&caller, &group, &members);
    for operation in &operations {
        patch::apply(&mut wanted, operation)?;
    }
    restate(&caller, id, &wanted).await
}

/// Groups hold invitations, imports and training assignments that would be
/// left pointing at nothing, so a group is not deleted through SCIM.
pub async fn delete(caller: ScimCaller, Path(id): Path<String>) -> Result<StatusCode, ScimError> {
    found(&caller, parse_id(&id)?).await?;
    Err(ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Muster does not delete groups: their invitations, imports and trainings refer to them. Remove the members instead, or rename the group.",
    ))
}
