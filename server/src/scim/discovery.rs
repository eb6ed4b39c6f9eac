//! What the server supports (RFC 7644 §4), the same for every
//! organization; read with the same `scim` token as everything else here.

use app::state::AppState;
use axum::extract::Path;
use serde_json::{json, Value};

use super::{
    extract::ScimCaller, list_response, Scim, ScimError, GROUP_SCHEMA, MAX_RESULTS, USER_SCHEMA,
};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn base(state: &AppState) -> String {
    format!("{}/scim/v2", state.settings.base_url.trim_end_matches('/'))
}

pub async fn service_provider_config(ScimCaller { state, .. }: ScimCaller) -> Scim {
    Scim::ok(json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": format!("{}/api/v1/docs", state.settings.base_url.trim_end_matches('/')),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An organization API token of scope “SCIM provisioning”, created by an admin on Settings → API, sent as “Authorization: Bearer mst_…”.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(&state)),
        },
    }))
}

fn resource_type_documents(state: &AppState) -> Vec<Value> {
    [
        ("User", "/Users", USER_SCHEMA, "People of the organization"),
        (
            "Group",
            "/Groups",
            GROUP_SCHEMA,
            "Groups of the organization and their members",
        ),
    ]
    .into_iter()
    .map(|(id, endpoint, schema, description)| {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": id,
            "name": id,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "schemaExtensions": [],
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{}/ResourceTypes/{id}", base(state)),
            },
        })
    })
    .collect()
}

pub async fn resource_types(ScimCaller { state, .. }: ScimCaller) -> Scim {
    let documents = resource_type_documents(&state);
    list_response(documents.len() as i64, 0, documents)
}

pub async fn resource_type(
    ScimCaller { state, .. }: ScimCaller,
    Path(id): Path<String>,
) -> Result<Scim, ScimError> {
    resource_type_documents(&state)
        .into_iter()
        .find(|document| document["id"] == id.as_str())
        .map(Scim::ok)
        .ok_or_else(ScimError::not_found)
}

/// One attribute's definition (RFC 7643 §7).
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(attribute), Some(changes)) = (attribute.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            attribute.insert(key.clone(), value.clone());
        }
    }
    attribute
}

fn schema_documents(state: &AppState) -> Vec<Value> {
    let user_attributes = json!([
        with(attribute("userName", "string",
            "The person's login address; or their username in the organization, with the address in emails."),
            json!({"required": true, "uniqueness": "server"})),
        with(attribute("name", "complex", "The organization's record of the person's name."),
            json!({"subAttributes": [
                attribute("givenName", "string", "First name."),
                attribute("familyName", "string", "Last name."),
            ]})),
        with(attribute("emails", "complex",
            "The person's login address (one, primary). It can be set, changed or removed only until the person first signs in; after that it is theirs."),
            json!({"multiValued": true, "subAttributes": [
                attribute("value", "string", "The address."),
                with(attribute("type", "string", "Always work."),
                    json!({"canonicalValues": ["work"]})),
                attribute("primary", "boolean", "Always true."),
            ]})),
        // Muster always knows whether a person is deactivated, so the
        // attribute cannot be unassigned; a new person sent without it is active.
        with(attribute("active", "boolean",
            "False: deactivated in this organization only (cannot sign in to it); true reactivates. Always has a value; a new person sent without it is active."),
            json!({"required": true})),
    ]);
    let group_attributes = json!([
        with(
            attribute(
                "displayName",
                "string",
                "The group's name, unique in the organization."
            ),
            json!({"required": true, "uniqueness": "server"})
        ),
        with(
            attribute(
                "members",
                "complex",
                "The organization's people in the group."
            ),
            json!({"multiValued": true, "subAttributes": [
                with(attribute("value", "string", "The person's id."),
                    json!({"mutability": "immutable", "caseExact": true})),
                with(attribute("$ref", "reference", "The person's URI."),
                    json!({"mutability": "immutable", "referenceTypes": ["User"]})),
                with(attribute("type", "string", "Always User."),
                    json!({"mutability": "immutable", "canonicalValues": ["User"]})),
            ]})
        ),
    ]);
    [
        (
            USER_SCHEMA,
            "User",
            "A person of the organization",
            user_attributes,
        ),
        (
            GROUP_SCHEMA,
            "Group",
            "A group of the organization",
            group_attributes,
        ),
    ]
    .into_iter()
    .map(|(id, name, description, attributes)| {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": id,
            "name": name,
            "description": description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{id}", base(state)),
            },
        })
    })
    .collect()
}

pub async fn schemas(ScimCaller { state, .. }: ScimCaller) -> Scim {
    let documents = schema_documents(&state);
    list_response(documents.len() as i64, 0, documents)
}

pub async fn schema(
    ScimCaller { state, .. }: ScimCaller,
    Path(id): Path<String>,
) -> Result<Scim, ScimError> {
    schema_documents(&state)
        .into_iter()
        .find(|document| document["id"] == id.as_str())
        .map(Scim::ok)
        .ok_or_else(ScimError::not_found)
}
