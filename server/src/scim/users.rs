//! `/scim/v2/Users`: the organization's people.

use app::people::service::{self, EmailLabel, Record, RecordFilter, RecordInput};
use axum::{
    body::Bytes,
    extract::{Path, Query},
    http::StatusCode,
};
use muster_core::email::Email;
use serde_json::{json, Value};

use super::{
    attribute, body, extract::ScimCaller, filter, list_response, location, operations, parse_id,
    patch, timestamp, ListQuery, Scim, ScimError, USER_SCHEMA,
};

use super::MAX_TEXT_CHARS as MAX_CHARS;

/// A person as a SCIM User.
fn resource(caller: &ScimCaller, record: &Record) -> Value {
    let user_name = record
        .username
        .clone()
        .or_else(|| record.email.clone())
        .unwrap_or_default();
    let mut user = json!({
        "schemas": [USER_SCHEMA],
        "id": record.id.to_string(),
        "userName": user_name,
        "active": record.active,
        "meta": {
            "resourceType": "User",
            "created": timestamp(record.created_at),
            "lastModified": timestamp(record.created_at),
            "location": location(&caller.state, "Users", &record.id.to_string()),
        },
    });
    // An empty part is unassigned, not "": removing a name reads back as
    // removed.
    let mut name = serde_json::Map::new();
    for (key, part) in [
        ("givenName", &record.first_name),
        ("familyName", &record.last_name),
    ] {
        if !part.is_empty() {
            name.insert(key.into(), json!(part));
        }
    }
    if !name.is_empty() {
        user["name"] = Value::Object(name);
    }
    if let Some(email) = &record.email {
        // Read back as the identity provider labelled it; "work" and primary
        // unless it said otherwise.
        let label = &record.email_label;
        user["emails"] = json!([{
            "value": email,
            "type": label.kind.as_deref().unwrap_or("work"),
            "primary": label.primary.unwrap_or(true),
        }]);
    }
    if let Some(external_id) = &record.external_id {
        user["externalId"] = json!(external_id);
    }
    user
}

fn text(value: Option<&Value>, name: &str) -> Result<Option<String>, ScimError> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.chars().count() > MAX_CHARS {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    format!("{name} is longer than {MAX_CHARS} characters."),
                ));
            }
            Ok((!text.is_empty()).then(|| text.to_owned()))
        }
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            format!("{name} must be a string."),
        )),
    }
}

/// `active`: a boolean; Entra ID has been known to send "True"/"False".
fn active(user: &Value) -> Result<bool, ScimError> {
    match attribute(user, "active") {
        None => Ok(true),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            "active must be true or false.",
        )),
    }
}

fn email(raw: &str) -> Option<String> {
    Email::parse(raw).ok().map(|email| email.key().into_owned())
}

/// The address in `emails` (the primary one, else the first) and how it
/// is labelled.
fn listed_email(user: &Value) -> Result<Option<(String, EmailLabel)>, ScimError> {
    let Some(emails) = attribute(user, "emails") else {
        return Ok(None);
    };
    let emails = emails
        .as_array()
        .ok_or_else(|| ScimError::bad_request("invalidValue", "emails must be a list."))?;
    let chosen = emails
        .iter()
        .find(|e| attribute(e, "primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first());
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let value = attribute(chosen, "value")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let label = EmailLabel {
        kind: text(attribute(chosen, "type"), "emails.type")?,
        primary: attribute(chosen, "primary").and_then(Value::as_bool),
    };
    email(value)
        .map(|address| Some((address, label)))
        .ok_or_else(|| {
            ScimError::bad_request(
                "invalidValue",
                format!("{value:?} is not an email address."),
            )
        })
}

/// A User body as Muster's record of a person.
fn input(user: &Value) -> Result<RecordInput, ScimError> {
    let user_name = text(attribute(user, "userName"), "userName")?
        .ok_or_else(|| ScimError::bad_request("invalidValue", "userName is required."))?;
    // A userName that is not an address is the person's username in the
    // organization; their address, if they have one, is in `emails`.
    let listed = listed_email(user)?;
    let (email, username, email_label) = match (email(&user_name), listed) {
        (Some(address), Some((_, label))) => (Some(address), None, label),
        (Some(address), None) => (Some(address), None, EmailLabel::default()),
        (None, Some((address, label))) => (Some(address), Some(user_name), label),
        (None, None) => (None, Some(user_name), EmailLabel::default()),
    };
    let name = attribute(user, "name");
    let part = |sub: &str| text(name.and_then(|name| attribute(name, sub)), sub);
    Ok(RecordInput {
        email,
        username,
        first_name: part("givenName")?.unwrap_or_default(),
        last_name: part("familyName")?.unwrap_or_default(),
        external_id: text(attribute(user, "externalId"), "externalId")?,
        active: active(user)?,
        email_label,
    })
}

fn record_filter(raw: Option<&str>) -> Result<RecordFilter, ScimError> {
    let Some(raw) = raw.filter(|raw| !raw.trim().is_empty()) else {
        return Ok(RecordFilter::Everyone);
    };
    let equals = filter::parse(raw)?;
    let attribute = equals.attribute.to_ascii_lowercase();
    match attribute.as_str() {
        "username" | "emails.value" | "emails" => Ok(RecordFilter::UserName(
            email(&equals.value).unwrap_or_else(|| equals.value.to_lowercase()),
        )),
        "externalid" => Ok(RecordFilter::ExternalId(equals.value)),
        _ => Err(ScimError::bad_request(
            "invalidFilter",
            "Users can be filtered by userName, emails.value or externalId (eq).",
        )),
    }
}

pub async fn list(caller: ScimCaller, Query(query): Query<ListQuery>) -> Result<Scim, ScimError> {
    let (offset, limit) = query.window()?;
    let (total, resources) = page(&caller, &query, offset, limit).await?;
    Ok(list_response(total, offset, resources))
}

/// `POST /Users/.search`: a list query in the body (RFC 7644 §3.4.3).
pub async fn search(caller: ScimCaller, bytes: Bytes) -> Result<Scim, ScimError> {
    list(caller, Query(super::search_query(&body(&bytes)?)?)).await
}

/// (how many people match, `limit` of them from `offset`, projected).
pub async fn page(
    caller: &ScimCaller,
    query: &ListQuery,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Value>), ScimError> {
    let filter = record_filter(query.filter.as_deref())?;
    let (total, records) = service::records(
        &caller.state.db,
        caller.user.organization_id,
        &filter,
        offset,
        limit,
    )
    .await?;
    let resources = records
        .iter()
        .map(|record| query.project(resource(caller, record)))
        .collect();
    Ok((total, resources))
}

pub async fn get(
    caller: ScimCaller,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Scim, ScimError> {
    let record = service::get_record(
        &caller.state.db,
        caller.user.organization_id,
        parse_id(&id)?,
    )
    .await?;
    Ok(Scim::ok(query.project(resource(&caller, &record))))
}

pub async fn create(caller: ScimCaller, bytes: Bytes) -> Result<Scim, ScimError> {
    let input = input(&body(&bytes)?)?;
    let record = service::provision(&caller.state.db, &caller.user, &input).await?;
    Ok(Scim::created(resource(&caller, &record)))
}

pub async fn replace(
    caller: ScimCaller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Scim, ScimError> {
    let id = parse_id(&id)?;
    let input = input(&body(&bytes)?)?;
    restate(&caller, id, &input).await
}

async fn restate(caller: &ScimCaller, id: i64, input: &RecordInput) -> Result<Scim, ScimError> {
    let record = service::restate(&caller.state.db, &caller.user, id, input).await?;
    Ok(Scim::ok(resource(caller, &record)))
}

pub async fn patch(
    caller: ScimCaller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Scim, ScimError> {
    let id = parse_id(&id)?;
    let operations = operations(&body(&bytes)?)?;
    let record = service::get_record(&caller.state.db, caller.user.organization_id, id).await?;
    let mut user = resource(&caller, &record);
    for operation in &operations {
        patch::apply(&mut user, operation)?;
    }
    let input = input(&user)?;
    restate(&caller, id, &input).await
}

pub async fn delete(caller: ScimCaller, Path(id): Path<String>) -> Result<StatusCode, ScimError> {
    service::remove(&caller.state.db, &caller.user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
