//! `/scim/v2`: SCIM 2.0 provisioning (RFC 7643, RFC 7644), so an identity
//! provider (Okta, Microsoft Entra ID, OneLogin) keeps an organization's
//! people and groups in step with its directory. It authenticates with an
//! organization API token of scope `scim` and acts as that token's admin,
//! through the same services (and audit log) as the browser.
//!
//! Users are the organization's people: `id` is the person's id,
//! `userName` their login address (or, when it is not an address, their
//! username in the organization, with the address in `emails`), `active`
//! whether they are deactivated in this organization only. Groups are the
//! organization's groups and their members. Answers and refusals are
//! `application/scim+json`. Like `/api/v1`, no cookie is read here.

mod discovery;
mod error;
mod extract;
mod filter;
mod groups;
mod patch;
mod users;

use app::state::AppState;
use axum::{
    body::Bytes,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub use error::ScimError;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const CONTENT_TYPE: &str = "application/scim+json";
/// The most resources one list answer holds (`filter.maxResults`).
pub const MAX_RESULTS: i64 = 1000;
/// The longest name or external id accepted.
pub const MAX_TEXT_CHARS: usize = 200;
/// A list's page when the client names no `count`.
const DEFAULT_COUNT: i64 = 100;

/// The SCIM routes, to be served under `/scim/v2`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config).fallback(error::method_not_allowed),
        )
        .route(
            "/ResourceTypes",
            get(discovery::resource_types).fallback(error::method_not_allowed),
        )
        .route(
            "/ResourceTypes/{id}",
            get(discovery::resource_type).fallback(error::method_not_allowed),
        )
        .route(
            "/Schemas",
            get(discovery::schemas).fallback(error::method_not_allowed),
        )
        .route(
            "/Schemas/{id}",
            get(discovery::schema).fallback(error::method_not_allowed),
        )
        .route(
            "/.search",
            post(search_all).fallback(error::method_not_allowed),
        )
        .route(
            "/Users/.search",
            post(users::search).fallback(error::method_not_allowed),
        )
        .route(
            "/Groups/.search",
            post(groups::search).fallback(error::method_not_allowed),
        )
        .route(
            "/Users",
            get(users::list)
                .post(users::create)
                .fallback(error::method_not_allowed),
        )
        .route(
            "/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete)
                .fallback(error::method_not_allowed),
        )
        .route(
            "/Groups",
            get(groups::list)
                .post(groups::create)
                .fallback(error::method_not_allowed),
        )
        .route(
            "/Groups/{id}",
            get(groups::get)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete)
                .fallback(error::method_not_allowed),
        )
        .fallback(error::no_such_endpoint)
}

/// A SCIM answer: JSON as `application/scim+json`, with a `Location` for
/// a resource just created.
pub struct Scim {
    status: StatusCode,
    body: Value,
    location: Option<String>,
}

impl Scim {
    pub fn ok(body: Value) -> Scim {
        Scim {
            status: StatusCode::OK,
            body,
            location: None,
        }
    }

    pub fn created(body: Value) -> Scim {
        let location = body["meta"]["location"].as_str().map(str::to_owned);
        Scim {
            status: StatusCode::CREATED,
            body,
            location,
        }
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// Where a resource lives, absolute on `MUSTER_BASE_URL`.
pub fn location(state: &AppState, endpoint: &str, id: &str) -> String {
    format!(
        "{}/scim/v2/{endpoint}/{id}",
        state.settings.base_url.trim_end_matches('/')
    )
}

/// A list's query: RFC 7644 §3.4.2.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListQuery {
    /// (offset, limit): `startIndex` is 1-based (less than 1 means 1),
    /// `count` at most [`MAX_RESULTS`] (negative means 0).
    pub fn window(&self) -> Result<(i64, i64), ScimError> {
        let number = |raw: &Option<String>, name: &str, default: i64| match raw.as_deref() {
            None | Some("") => Ok(default),
            Some(raw) => raw.trim().parse::<i64>().map_err(|_| {
                ScimError::bad_request("invalidValue", format!("{name} must be a whole number."))
            }),
        };
        let start = number(&self.start_index, "startIndex", 1)?.max(1);
        let count = number(&self.count, "count", DEFAULT_COUNT)?.clamp(0, MAX_RESULTS);
        Ok((start - 1, count))
    }

    /// Keeps or drops attributes as `attributes` and `excludedAttributes` ask.
    pub fn project(&self, resource: Value) -> Value {
        project(
            resource,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }
}

/// A `SearchRequest` body (RFC 7644 §3.4.3) as the list query it stands for.
pub fn search_query(request: &Value) -> Result<ListQuery, ScimError> {
    require_schema(request, SEARCH_SCHEMA, "A search")?;
    let text = |name: &str| match attribute(request, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            format!("{name} must be a string."),
        )),
    };
    let number = |name: &str| match attribute(request, name) {
        None => Ok(None),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            format!("{name} must be a whole number."),
        )),
    };
    let names = |name: &str| match attribute(request, name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    ScimError::bad_request(
                        "invalidValue",
                        format!("{name} must be a list of attribute names."),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|names| Some(names.join(","))),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            format!("{name} must be a list of attribute names."),
        )),
    };
    Ok(ListQuery {
        filter: text("filter")?,
        start_index: number("startIndex")?,
        count: number("count")?,
        attributes: names("attributes")?,
        excluded_attributes: names("excludedAttributes")?,
    })
}

/// `POST /.search`: people, then groups, as one list. A filter on an
/// attribute only one of them has finds only that kind.
async fn search_all(caller: extract::ScimCaller, bytes: Bytes) -> Result<Scim, ScimError> {
    let query = search_query(&body(&bytes)?)?;
    let (offset, limit) = query.window()?;
    let unfilterable = |error: &ScimError| error.scim_type == Some("invalidFilter");
    let users = match users::page(&caller, &query, offset, limit).await {
        Ok(found) => Some(found),
        Err(error) if unfilterable(&error) => None,
        Err(error) => return Err(error),
    };
    let users_filterable = users.is_some();
    let (users_total, mut resources) = users.unwrap_or_default();
    let group_offset = (offset - users_total).max(0);
    let group_limit = limit - resources.len() as i64;
    let groups = match groups::page(&caller, &query, group_offset, group_limit).await {
        Err(error) if unfilterable(&error) && !users_filterable => {
            return Err(ScimError::bad_request(
                "invalidFilter",
                "Neither Users (userName, emails.value, externalId) nor Groups (displayName, id) can be filtered by this.",
            ))
        }
        Err(error) if unfilterable(&error) => (0, Vec::new()),
        other => other?,
    };
    resources.extend(groups.1);
    Ok(list_response(users_total + groups.0, offset, resources))
}

/// A `ListResponse` of resources already projected.
pub fn list_response(total: i64, offset: i64, resources: Vec<Value>) -> Scim {
    Scim::ok(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": offset + 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
}

/// An attribute name without its schema's URN ("urn:…:User:name.givenName"
/// → "name.givenName").
fn strip_urn(name: &str) -> &str {
    let name = name.trim();
    for schema in [USER_SCHEMA, GROUP_SCHEMA] {
        let prefix = name.get(..schema.len());
        if prefix.is_some_and(|prefix| prefix.eq_ignore_ascii_case(schema))
            && name.as_bytes().get(schema.len()) == Some(&b':')
        {
            return &name[schema.len() + 1..];
        }
    }
    name
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) for top-level
/// attributes and one level of sub-attributes; `schemas` and `id` always stay.
pub fn project(resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let Value::Object(mut object) = resource else {
        return resource;
    };
    let names = |list: &str| -> Vec<(String, Option<String>)> {
        list.split(',')
            .map(strip_urn)
            .filter(|name| !name.is_empty())
            .map(|name| match name.split_once('.') {
                Some((top, sub)) => (top.to_lowercase(), Some(sub.to_lowercase())),
                None => (name.to_lowercase(), None),
            })
            .collect()
    };
    let always = |key: &str| key == "schemas" || key == "id";
    if let Some(wanted) = attributes.map(names).filter(|w| !w.is_empty()) {
        object.retain(|key, value| {
            if always(key) {
                return true;
            }
            let key = key.to_lowercase();
            let subs: Vec<&Option<String>> = wanted
                .iter()
                .filter(|(top, _)| *top == key)
                .map(|(_, sub)| sub)
                .collect();
            if subs.is_empty() {
                return false;
            }
            if subs.iter().all(|sub| sub.is_some()) {
                keep_subs(value, &subs);
            }
            true
        });
    }
    if let Some(unwanted) = excluded.map(names) {
        for (top, sub) in unwanted {
            let keys: Vec<String> = object
                .keys()
                .filter(|key| key.to_lowercase() == top && !always(key))
                .cloned()
                .collect();
            for key in keys {
                match &sub {
                    None => {
                        object.remove(&key);
                    }
                    Some(sub) => drop_sub(object.get_mut(&key), sub),
                }
            }
        }
    }
    Value::Object(object)
}

fn keep_subs(value: &mut Value, subs: &[&Option<String>]) {
    let keep = |object: &mut Map<String, Value>| {
        object.retain(|key, _| {
            subs.iter()
                .any(|sub| sub.as_deref() == Some(key.to_lowercase().as_str()))
        })
    };
    match value {
        Value::Object(object) => keep(object),
        Value::Array(items) => items.iter_mut().for_each(|item| {
            if let Value::Object(object) = item {
                keep(object)
            }
        }),
        _ => {}
    }
}

fn drop_sub(value: Option<&mut Value>, sub: &str) {
    let drop = |object: &mut Map<String, Value>| object.retain(|key, _| key.to_lowercase() != sub);
    match value {
        Some(Value::Object(object)) => drop(object),
        Some(Value::Array(items)) => items.iter_mut().for_each(|item| {
            if let Value::Object(object) = item {
                drop(object)
            }
        }),
        _ => {}
    }
}

/// A member of a JSON object by attribute name, case-insensitively (SCIM
/// attribute names are).
pub fn attribute<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

/// A path's resource id: Muster's ids are numbers, so anything else names
/// nothing.
pub fn parse_id(raw: &str) -> Result<i64, ScimError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ScimError::not_found)
}

/// A JSON body, whatever JSON content type the client sent it as.
pub fn body(bytes: &[u8]) -> Result<Value, ScimError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ScimError::bad_request("invalidSyntax", format!("The body is not JSON: {error}."))
    })?;
    if !value.is_object() {
        return Err(ScimError::bad_request(
            "invalidSyntax",
            "The body must be a JSON object.",
        ));
    }
    Ok(value)
}

/// A request message (`SearchRequest`, `PatchOp`) names its schema.
fn require_schema(request: &Value, schema: &str, what: &str) -> Result<(), ScimError> {
    let named = attribute(request, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|s| s.as_str() == Some(schema)));
    if named {
        Ok(())
    } else {
        Err(ScimError::bad_request(
            "invalidSyntax",
            format!("{what} body names the schema {schema}."),
        ))
    }
}

/// A patch request's operations (RFC 7644 §3.5.2).
pub fn operations(request: &Value) -> Result<Vec<patch::Operation>, ScimError> {
    require_schema(request, PATCH_SCHEMA, "A PATCH")?;
    let operations = attribute(request, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad_request("invalidSyntax", "Operations is missing."))?;
    operations.iter().map(patch::Operation::parse).collect()
}

/// RFC 3339 in UTC, as `meta` wants times.
pub fn timestamp(unix_seconds: i64) -> String {
    app::audit::format_timestamp(unix_seconds)
}
