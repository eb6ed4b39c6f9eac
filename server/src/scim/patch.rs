//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: the handler
//! renders the resource as it is, applies the operations here, and then
//! treats the result as a replacement (PUT), so one set of rules decides
//! what may change.

use serde_json::{Map, Value};

use super::{filter, strip_urn, ScimError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// Where an operation applies: `attribute`, `attribute.sub`,
/// `attribute[sub eq "v"]` or `attribute[sub eq "v"].other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub attribute: String,
    pub filter: Option<filter::Equals>,
    pub sub: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: Op,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

fn invalid_path(raw: &str) -> ScimError {
    ScimError::bad_request("invalidPath", format!("The path {raw:?} is not supported."))
}

impl Path {
    pub fn parse(raw: &str) -> Result<Path, ScimError> {
        let path = strip_urn(raw);
        if let Some((attribute, rest)) = path.split_once('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| invalid_path(raw))?;
            let sub = match after {
                "" => None,
                after => Some(
                    after
                        .strip_prefix('.')
                        .filter(|sub| !sub.is_empty())
                        .ok_or_else(|| invalid_path(raw))?
                        .to_owned(),
                ),
            };
            let filter = filter::parse(inside).map_err(|_| {
                ScimError::bad_request(
                    "invalidFilter",
                    format!("The path {raw:?} has a filter this server does not support."),
                )
            })?;
            return Ok(Path {
                attribute: attribute.trim().to_owned(),
                filter: Some(filter),
                sub,
            });
        }
        let (attribute, sub) = match path.split_once('.') {
            Some((attribute, sub)) => (attribute, Some(sub.to_owned())),
            None => (path, None),
        };
        if attribute.is_empty()
            || sub
                .as_deref()
                .is_some_and(|s| s.is_empty() || s.contains('.'))
        {
            return Err(invalid_path(raw));
        }
        Ok(Path {
            attribute: attribute.to_owned(),
            filter: None,
            sub,
        })
    }
}

impl Operation {
    pub fn parse(raw: &Value) -> Result<Operation, ScimError> {
        let op = match super::attribute(raw, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => {
                return Err(ScimError::bad_request(
                    "invalidSyntax",
                    "Each operation's op is add, replace or remove.",
                ))
            }
        };
        let path = match super::attribute(raw, "path") {
            None => None,
            Some(Value::String(path)) if path.trim().is_empty() => None,
            Some(Value::String(path)) => Some(Path::parse(path)?),
            Some(_) => return Err(invalid_path("(not a string)")),
        };
        let value = super::attribute(raw, "value").cloned();
        if op != Op::Remove && value.is_none() {
            return Err(ScimError::bad_request(
                "invalidValue",
                "An add or replace operation needs a value.",
            ));
        }
        if op == Op::Remove && path.is_none() {
            return Err(ScimError::bad_request(
                "noTarget",
                "A remove operation needs a path.",
            ));
        }
        Ok(Operation { op, path, value })
    }
}

/// The spelling a known attribute is stored under; others as sent.
fn canonical(name: &str) -> String {
    const KNOWN: [&str; 15] = [
        "userName",
        "name",
        "givenName",
        "familyName",
        "formatted",
        "emails",
        "value",
        "type",
        "primary",
        "active",
        "externalId",
        "displayName",
        "members",
        "display",
        "$ref",
    ];
    KNOWN
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_owned(), |known| (*known).to_owned())
}

fn key_of(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
}

fn get_mut<'o>(object: &'o mut Map<String, Value>, name: &str) -> Option<&'o mut Value> {
    let key = key_of(object, name)?;
    object.get_mut(&key)
}

fn remove(object: &mut Map<String, Value>, name: &str) {
    if let Some(key) = key_of(object, name) {
        object.remove(&key);
    }
}

fn set(object: &mut Map<String, Value>, name: &str, value: Value) {
    remove(object, name);
    object.insert(canonical(name), value);
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        single => vec![single],
    }
}

/// Add or replace `value` at `name`: a complex value merges its
/// sub-attributes; a multi-valued one appends (add) or is replaced.
fn put(object: &mut Map<String, Value>, op: Op, name: &str, value: Value) {
    match (get_mut(object, name), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (key, value) in new {
                set(existing, &key, value);
            }
        }
        (Some(Value::Array(existing)), value) if op == Op::Add => {
            for item in as_list(value) {
                if !existing.contains(&item) {
                    existing.push(item);
                }
            }
        }
        (Some(Value::Array(_)), value) => set(object, name, Value::Array(as_list(value))),
        (_, value) => set(object, name, value),
    }
}

fn matches(item: &Value, filter: &filter::Equals) -> bool {
    match super::attribute(item, &filter.attribute) {
        Some(Value::String(text)) => text.eq_ignore_ascii_case(&filter.value),
        Some(other) => {
            serde_json::from_str::<Value>(&filter.value).is_ok_and(|value| value == *other)
        }
        None => false,
    }
}

/// Whether a list item is one a remove's value names (by its `value`).
fn named_by(item: &Value, names: &[Value]) -> bool {
    names.iter().any(|name| {
        name == item
            || match (
                super::attribute(item, "value"),
                super::attribute(name, "value"),
            ) {
                (Some(a), Some(b)) => {
                    a == b || a.as_str().zip(b.as_str()).is_some_and(|(a, b)| a == b)
                }
                _ => false,
            }
    })
}

pub fn apply(resource: &mut Value, operation: &Operation) -> Result<(), ScimError> {
    let object = resource
        .as_object_mut()
        .ok_or_else(|| ScimError::bad_request("invalidSyntax", "The resource is not an object."))?;
    let op = operation.op;
    let value = operation.value.clone();
    let Some(path) = &operation.path else {
        let Some(Value::Object(values)) = value else {
            return Err(ScimError::bad_request(
                "invalidValue",
                "An operation without a path needs an object of attributes as its value.",
            ));
        };
        for (name, value) in values {
            if name.contains('.') || name.contains(':') {
                let nested = Operation {
                    op,
                    path: Some(Path::parse(&name)?),
                    value: Some(value),
                };
                apply(resource, &nested)?;
            } else {
                put(
                    resource.as_object_mut().unwrap_or(&mut Map::new()),
                    op,
                    &name,
                    value,
                );
            }
        }
        return Ok(());
    };
    match (&path.filter, &path.sub) {
        (None, None) => match (op, value) {
            (Op::Remove, Some(names)) => {
                if let Some(Value::Array(items)) = get_mut(object, &path.attribute) {
                    let names = as_list(names);
                    items.retain(|item| !named_by(item, &names));
                }
            }
            (Op::Remove, None) => remove(object, &path.attribute),
            (_, Some(value)) => put(object, op, &path.attribute, value),
            (_, None) => {}
        },
        (None, Some(sub)) => {
            if op == Op::Remove {
                if let Some(Value::Object(parent)) = get_mut(object, &path.attribute) {
                    remove(parent, sub);
                }
                return Ok(());
            }
            if !matches!(get_mut(object, &path.attribute), Some(Value::Object(_))) {
                set(object, &path.attribute, Value::Object(Map::new()));
            }
            if let (Some(Value::Object(parent)), Some(value)) =
                (get_mut(object, &path.attribute), value)
            {
                put(parent, op, sub, value);
            }
        }
        (Some(filter), sub) => {
            let items = match get_mut(object, &path.attribute) {
                Some(Value::Array(items)) => items,
                _ if op == Op::Remove => return Ok(()),
                _ => {
                    set(object, &path.attribute, Value::Array(Vec::new()));
                    match get_mut(object, &path.attribute) {
                        Some(Value::Array(items)) => items,
                        _ => return Ok(()),
                    }
                }
            };
            match (op, sub) {
                (Op::Remove, None) => items.retain(|item| !matches(item, filter)),
                (Op::Remove, Some(sub)) => {
                    for item in items.iter_mut().filter(|item| matches(item, filter)) {
                        if let Value::Object(item) = item {
                            remove(item, sub);
                        }
                    }
                }
                (_, sub) => {
                    let value = value.unwrap_or(Value::Null);
                    let mut found = false;
                    for item in items.iter_mut().filter(|item| matches(item, filter)) {
                        found = true;
                        match (sub, item) {
                            (Some(sub), Value::Object(item)) => put(item, op, sub, value.clone()),
                            (None, Value::Object(item)) => {
                                if let Value::Object(new) = &value {
                                    for (key, value) in new {
                                        set(item, key, value.clone());
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    if !found {
                        let mut item = Map::new();
                        item.insert(
                            canonical(&filter.attribute),
                            Value::String(filter.value.clone()),
                        );
                        match (sub, value) {
                            (Some(sub), value) => set(&mut item, sub, value),
                            (None, Value::Object(new)) => {
                                for (key, value) in new {
                                    set(&mut item, &key, value);
                                }
                            }
                            _ => {}
                        }
                        items.push(Value::Object(item));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(mut resource: Value, operations: Value) -> Value {
        for raw in operations.as_array().unwrap() {
            apply(&mut resource, &Operation::parse(raw).unwrap()).unwrap();
        }
        resource
    }

    #[test]
    fn operations_with_and_without_paths() {
        let user = json!({"userName": "a@x.org", "name": {"givenName": "Ana", "familyName": "Li"},
                          "emails": [{"value": "a@x.org", "type": "work", "primary": true}],
                          "active": true});
        let out = patched(
            user.clone(),
            json!([
                {"op": "Replace", "value": {"active": false, "name": {"givenName": "Anna"}}},
            ]),
        );
        assert_eq!(out["active"], false);
        assert_eq!(
            out["name"],
            json!({"givenName": "Anna", "familyName": "Li"})
        );
        let out = patched(
            user.clone(),
            json!([
                {"op": "replace", "path": "name.familyName", "value": "Lee"},
                {"op": "add", "path": "externalId", "value": "E1"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x.org"},
                {"op": "remove", "path": "name.givenName"},
            ]),
        );
        assert_eq!(out["name"], json!({"familyName": "Lee"}));
        assert_eq!(out["externalId"], "E1");
        assert_eq!(out["emails"][0]["value"], "b@x.org");
        // Entra ID's dotted keys without a path.
        let out = patched(
            user,
            json!([{"op": "Replace", "value": {"name.givenName": "Zoe"}}]),
        );
        assert_eq!(out["name"]["givenName"], "Zoe");
    }

    #[test]
    fn members_are_added_and_removed() {
        let group = json!({"displayName": "G", "members": [{"value": "1"}, {"value": "2"}]});
        let out = patched(
            group.clone(),
            json!([
                {"op": "add", "path": "members", "value": [{"value": "3"}]},
                {"op": "remove", "path": "members[value eq \"1\"]"},
            ]),
        );
        assert_eq!(out["members"], json!([{"value": "2"}, {"value": "3"}]));
        let out = patched(
            group.clone(),
            json!([
                {"op": "Remove", "path": "members", "value": [{"value": "2"}]},
            ]),
        );
        assert_eq!(out["members"], json!([{"value": "1"}]));
        let out = patched(group, json!([{"op": "remove", "path": "members"}]));
        assert!(out.get("members").is_none());
        assert!(Operation::parse(&json!({"op": "remove"})).is_err());
        assert!(Operation::parse(&json!({"op": "move", "path": "x"})).is_err());
    }
}
