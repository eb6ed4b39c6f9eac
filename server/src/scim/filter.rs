//! The filters identity providers send to find one resource: `ATTRIBUTE eq
//! VALUE` (RFC 7644 §3.4.2.2). Anything else is refused as `invalidFilter`.

use serde_json::Value;

use super::{strip_urn, ScimError};

/// `attribute eq value`: the attribute's name as sent (without its
/// schema's URN) and the value as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equals {
    pub attribute: String,
    pub value: String,
}

pub fn parse(raw: &str) -> Result<Equals, ScimError> {
    let refuse = || {
        ScimError::bad_request(
            "invalidFilter",
            format!("Only filters of the form ATTRIBUTE eq \"VALUE\" are supported, not {raw:?}."),
        )
    };
    let raw = raw.trim();
    let (attribute, rest) = raw.split_once(char::is_whitespace).ok_or_else(refuse)?;
    let (operator, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(refuse)?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(refuse());
    }
    let value = value.trim();
    let value = match serde_json::from_str::<Value>(value).map_err(|_| refuse())? {
        Value::String(text) => text,
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        _ => return Err(refuse()),
    };
    Ok(Equals {
        attribute: strip_urn(attribute).to_owned(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_filters_parse_and_others_are_refused() {
        assert_eq!(
            parse(r#"userName eq "Ana@Example.org""#).unwrap(),
            Equals {
                attribute: "userName".into(),
                value: "Ana@Example.org".into()
            }
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId EQ "a \"b\"""#)
                .unwrap()
                .value,
            "a \"b\""
        );
        assert_eq!(
            parse("displayName eq \"Spring  Cohort\"").unwrap().value,
            "Spring  Cohort"
        );
        for refused in [
            "userName sw \"a\"",
            "userName",
            "userName eq",
            "a eq b",
            "x eq \"a\" and y eq \"b\"",
        ] {
            let error = parse(refused).unwrap_err();
            assert_eq!(error.scim_type, Some("invalidFilter"), "{refused}");
        }
    }
}
