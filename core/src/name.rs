//! Person names as typed by admins.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const MAX_NAME_CHARS: usize = 100;

/// A trimmed, non-empty name of at most [`MAX_NAME_CHARS`] characters with no control
/// characters (those come from broken exports and break emails and CSV downloads).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(Box<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NameError {
    #[error("Name is empty.")]
    Empty,
    #[error("Name is {len} characters long; the limit is {MAX_NAME_CHARS}.")]
    TooLong { len: usize },
    #[error("Name contains an invisible control character (often a line break or tab pasted by mistake).")]
    ControlCharacter,
}

impl PersonName {
    pub fn parse(input: &str) -> Result<PersonName, NameError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        let len = s.chars().count();
        if len > MAX_NAME_CHARS {
            return Err(NameError::TooLong { len });
        }
        if s.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        Ok(PersonName(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({:?})", &*self.0)
    }
}

impl Serialize for PersonName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        PersonName::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(
            PersonName::parse("  Ana María ").unwrap().as_str(),
            "Ana María"
        );
    }

    #[test]
    fn blank_name_is_rejected() {
        assert_eq!(PersonName::parse(" \t "), Err(NameError::Empty));
    }

    #[test]
    fn name_over_100_characters_is_rejected() {
        assert_eq!(
            PersonName::parse(&"é".repeat(101)),
            Err(NameError::TooLong { len: 101 })
        );
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn name_with_control_character_is_rejected() {
        assert_eq!(
            PersonName::parse("Ana\u{0007}"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            PersonName::parse("Ana\nMaria"),
            Err(NameError::ControlCharacter)
        );
    }
}
