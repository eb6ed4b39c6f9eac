//! Email addresses: the identity of a person in an import.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// RFC 5321 limits: longer addresses cannot be delivered by real mail servers.
pub const MAX_LEN: usize = 254;
pub const MAX_LOCAL_LEN: usize = 64;

/// A syntactically valid email address.
///
/// Keeps what the admin typed (trimmed) for display and a lowercase key for identity,
/// because the same person is often written `Ana@School.org` in one system and
/// `ana@school.org` in another.
#[derive(Clone)]
pub struct Email {
    shown: Box<str>,
    // None when `shown` is already lowercase, which is the common case; saves a copy.
    key: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EmailError {
    #[error("Email is empty.")]
    Empty,
    #[error("Email is {len} characters long; the limit is {MAX_LEN}.")]
    TooLong { len: usize },
    #[error("Email has no @ sign.")]
    MissingAt,
    #[error("Email has more than one @ sign.")]
    MultipleAt,
    #[error("Email contains a space.")]
    ContainsSpace,
    #[error("The part before the @ is {len} characters long; the limit is {MAX_LOCAL_LEN}.")]
    LocalPartTooLong { len: usize },
    #[error("The part before the @ is not valid: {reason}.")]
    InvalidLocalPart { reason: &'static str },
    #[error("The part after the @ is not a valid domain: {reason}.")]
    InvalidDomain { reason: &'static str },
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let len = s.chars().count();
        if len > MAX_LEN {
            return Err(EmailError::TooLong { len });
        }
        if s.chars().any(char::is_whitespace) {
            return Err(EmailError::ContainsSpace);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::MissingAt)?;
        if domain.contains('@') {
            return Err(EmailError::MultipleAt);
        }
        check_local(local)?;
        check_domain(domain)?;
        let key = if s.chars().any(char::is_uppercase) {
            Some(s.to_lowercase().into_boxed_str())
        } else {
            None
        };
        Ok(Email { shown: s.into(), key })
    }

    /// The address as the admin wrote it, trimmed.
    pub fn as_str(&self) -> &str {
        &self.shown
    }

    /// The lowercase form that decides whether two rows are the same person.
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.shown)
    }

    pub fn domain(&self) -> &str {
        self.key().rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// Lowercases an email-like string the same way [`Email::key`] does, for callers that
/// hold raw strings (e.g. facts keyed by email).
pub fn normalize_key(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if t.chars().any(char::is_uppercase) {
        Cow::Owned(t.to_lowercase())
    } else {
        Cow::Borrowed(t)
    }
}

fn check_local(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::InvalidLocalPart { reason: "it is empty" });
    }
    let len = local.chars().count();
    if len > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPartTooLong { len });
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err(EmailError::InvalidLocalPart { reason: "it starts or ends with a dot" });
    }
    if local.contains("..") {
        return Err(EmailError::InvalidLocalPart { reason: "it has two dots in a row" });
    }
    // Quoted local parts are legal but never appear in real rosters; rejecting them keeps
    // CSV quoting mistakes (`"ana"@x.org`) from slipping through.
    let ok = local.chars().all(|c| {
        c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
    });
    if !ok {
        return Err(EmailError::InvalidLocalPart { reason: "it contains a character that email addresses cannot have" });
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    if domain.is_empty() {
        return Err(EmailError::InvalidDomain { reason: "it is empty" });
    }
    if !domain.contains('.') {
        return Err(EmailError::InvalidDomain { reason: "it has no dot, like school.org" });
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(EmailError::InvalidDomain { reason: "it has an empty part between dots" });
        }
        if label.chars().count() > 63 {
            return Err(EmailError::InvalidDomain { reason: "one part between dots is longer than 63 characters" });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::InvalidDomain { reason: "a part starts or ends with a hyphen" });
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(EmailError::InvalidDomain { reason: "it contains a character domains cannot have" });
        }
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(EmailError::InvalidDomain { reason: "it ends in a number" });
    }
    Ok(())
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", &*self.shown)
    }
}

impl std::str::FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_compared_case_insensitively() {
        let a = Email::parse("  Ana@School.ORG ").unwrap();
        let b = Email::parse("ana@school.org").unwrap();
        assert_eq!(a.as_str(), "Ana@School.ORG");
        assert_eq!(a.key(), "ana@school.org");
        assert_eq!(a, b);
    }

    #[test]
    fn empty_email_is_rejected() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn email_without_at_sign_is_rejected() {
        assert_eq!(Email::parse("ana.school.org"), Err(EmailError::MissingAt));
    }

    #[test]
    fn email_with_two_at_signs_is_rejected() {
        assert_eq!(Email::parse("a@b@c.org"), Err(EmailError::MultipleAt));
    }

    #[test]
    fn email_longer_than_254_characters_is_rejected() {
        let long = format!("a@{}.org", "b".repeat(60).repeat(5));
        assert!(matches!(Email::parse(&long), Err(EmailError::TooLong { .. })));
    }

    #[test]
    fn local_part_longer_than_64_characters_is_rejected() {
        let long = format!("{}@school.org", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError::LocalPartTooLong { len: 65 }));
    }

    #[test]
    fn domain_without_dot_is_rejected() {
        assert!(matches!(Email::parse("ana@localhost"), Err(EmailError::InvalidDomain { .. })));
    }

    #[test]
    fn local_part_with_double_dot_is_rejected() {
        assert!(matches!(Email::parse("a..b@x.org"), Err(EmailError::InvalidLocalPart { .. })));
    }

    #[test]
    fn email_with_inner_space_is_rejected() {
        assert_eq!(Email::parse("ana maria@x.org"), Err(EmailError::ContainsSpace));
    }

    #[test]
    fn plus_addressing_and_subdomains_are_accepted() {
        assert!(Email::parse("ana+math@mail.school.co.uk").is_ok());
    }

    #[test]
    fn deserializing_goes_through_parse() {
        let ok: Email = serde_json::from_str("\" Ana@X.org\"").unwrap();
        assert_eq!(ok.key(), "ana@x.org");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
