//! Email addresses: the identity of a person in an import.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::arena::{Arena, SharedStr};

/// RFC 5321 limits: longer addresses cannot be delivered by real mail servers.
pub const MAX_LEN: usize = 254;
pub const MAX_LOCAL_LEN: usize = 64;

/// A syntactically valid email address.
///
/// Keeps what the admin typed (trimmed) for display; identity is the lowercase form,
/// because the same person is often written `Ana@School.org` in one system and
/// `ana@school.org` in another. The lowercase key is derived on demand rather than
/// stored, which halves the memory of a 100k-row import.
///
/// The text lives in a [`SharedStr`]: alone when parsed on its own, packed beside its
/// neighbours when a whole file is checked ([`Email::parse_in`]).
#[derive(Clone)]
pub struct Email(SharedStr);

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
        let s = crate::text::trim(input);
        validate(s)?;
        Ok(Email(SharedStr::new(s)))
    }

    /// Like [`Self::parse`], keeping the text in `arena`: no allocation of its own.
    pub(crate) fn parse_in(input: &str, arena: &mut Arena) -> Result<Email, EmailError> {
        let s = crate::text::trim(input);
        validate(s)?;
        Ok(Email(arena.store(s)))
    }

    /// The address as the admin wrote it, trimmed.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The lowercase form that decides whether two rows are the same person. Borrows
    /// when the address is already lowercase, which is the common case.
    pub fn key(&self) -> Cow<'_, str> {
        normalize_key(self.as_str())
    }

    pub fn domain(&self) -> Cow<'_, str> {
        let d = self.as_str().rsplit_once('@').map_or("", |(_, d)| d);
        normalize_key(d)
    }

    /// Hash of [`Self::key`] without building it, for the duplicate index.
    pub(crate) fn key_hash(&self) -> u64 {
        key_hash(self.as_str())
    }
}

/// FNV-1a over the lowercase bytes of an email.
pub(crate) fn key_hash(s: &str) -> u64 {
    fn fnv(bytes: impl Iterator<Item = u8>) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
    if s.is_ascii() {
        // Eight bytes a step, lowercased in-register.
        let b = s.as_bytes();
        let mut h = fnv(b.len().to_le_bytes().into_iter());
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let w = ascii_lower_word(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
            h = (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        for &x in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(x.to_ascii_lowercase()))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        h
    } else {
        fnv(s.to_lowercase().bytes())
    }
}

/// Sets bit 5 (0x20) on exactly the bytes A–Z of a word of ASCII bytes.
fn ascii_lower_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let ge_a = w + ONES * (0x80 - u64::from(b'A'));
    let gt_z = w + ONES * (0x7f - u64::from(b'Z'));
    let upper = ge_a & !gt_z & (ONES * 0x80);
    w | (upper >> 2)
}

/// Lowercases an email-like string the same way [`Email::key`] does, for callers that
/// hold raw strings (e.g. facts keyed by email).
pub fn normalize_key(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    let upper = if t.is_ascii() {
        t.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        t.chars().any(char::is_uppercase)
    };
    if upper {
        Cow::Owned(t.to_lowercase())
    } else {
        Cow::Borrowed(t)
    }
}

const LOCAL: u8 = 1;
const DOMAIN: u8 = 2;

/// Character classes of ASCII bytes; bytes ≥ 128 have none, which sends them to the
/// full rules. `DOMAIN` covers letters, digits, `-` and `.`.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
            t[c] = LOCAL | DOMAIN;
        } else if matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        ) {
            t[c] = LOCAL;
        }
        c += 1;
    }
    t
};

/// Check of an ASCII address that says "certainly valid" for the common case with
/// straight-line table lookups. Anything unusual returns
/// false and goes through the full rules, which produce the exact error; the two agree
/// on every address this accepts (see the tests).
fn plainly_valid(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > MAX_LEN {
        return false;
    }
    // Addresses are short: plain loops beat memchr's per-call setup here.
    let Some(at) = s.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || local.len() > MAX_LOCAL_LEN || domain.is_empty() {
        return false;
    }
    let local_ok = local.iter().fold(LOCAL, |acc, &b| acc & CLASS[b as usize]) != 0;
    let domain_ok = domain
        .iter()
        .fold(DOMAIN, |acc, &b| acc & CLASS[b as usize])
        != 0;
    if !local_ok || !domain_ok || local[0] == b'.' || local[local.len() - 1] == b'.' {
        return false;
    }
    if local.windows(2).any(|w| w == b"..") {
        return false;
    }
    let label_ok =
        |l: &[u8]| !l.is_empty() && l.len() <= 63 && l[0] != b'-' && l[l.len() - 1] != b'-';
    let mut labels = domain.split(|&b| b == b'.');
    let mut count = 0;
    let mut last: &[u8] = &[];
    for label in &mut labels {
        if !label_ok(label) {
            return false;
        }
        count += 1;
        last = label;
    }
    count >= 2 && !last.iter().all(u8::is_ascii_digit)
}

fn validate(s: &str) -> Result<(), EmailError> {
    if plainly_valid(s.as_bytes()) {
        return Ok(());
    }
    if s.is_empty() {
        return Err(EmailError::Empty);
    }
    // Nearly every address is ASCII; counting bytes then is counting characters.
    let ascii = s.is_ascii();
    let len = if ascii { s.len() } else { s.chars().count() };
    if len > MAX_LEN {
        return Err(EmailError::TooLong { len });
    }
    let space = if ascii {
        s.bytes().any(|b| b.is_ascii_whitespace())
    } else {
        s.chars().any(char::is_whitespace)
    };
    if space {
        return Err(EmailError::ContainsSpace);
    }
    let at = s
        .bytes()
        .position(|b| b == b'@')
        .ok_or(EmailError::MissingAt)?;
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if domain.bytes().any(|b| b == b'@') {
        return Err(EmailError::MultipleAt);
    }
    check_local(local)?;
    check_domain(domain)
}

fn check_local(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::InvalidLocalPart {
            reason: "it is empty",
        });
    }
    let len = if local.is_ascii() {
        local.len()
    } else {
        local.chars().count()
    };
    if len > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPartTooLong { len });
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err(EmailError::InvalidLocalPart {
            reason: "it starts or ends with a dot",
        });
    }
    if local.contains("..") {
        return Err(EmailError::InvalidLocalPart {
            reason: "it has two dots in a row",
        });
    }
    // Quoted local parts are legal but never appear in real rosters; rejecting them keeps
    // CSV quoting mistakes (`"ana"@x.org`) from slipping through.
    let special = |c: char| {
        matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '/'
                | '='
                | '?'
                | '^'
                | '_'
                | '`'
                | '{'
                | '|'
                | '}'
                | '~'
                | '.'
        )
    };
    let ok = if local.is_ascii() {
        local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || special(b as char))
    } else {
        local.chars().all(|c| c.is_alphanumeric() || special(c))
    };
    if !ok {
        return Err(EmailError::InvalidLocalPart {
            reason: "it contains a character that email addresses cannot have",
        });
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    if domain.is_empty() {
        return Err(EmailError::InvalidDomain {
            reason: "it is empty",
        });
    }
    if !domain.bytes().any(|b| b == b'.') {
        return Err(EmailError::InvalidDomain {
            reason: "it has no dot, like school.org",
        });
    }
    let ascii = domain.is_ascii();
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(EmailError::InvalidDomain {
                reason: "it has an empty part between dots",
            });
        }
        if label.len() > 63 && (ascii || label.chars().count() > 63) {
            return Err(EmailError::InvalidDomain {
                reason: "one part between dots is longer than 63 characters",
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::InvalidDomain {
                reason: "a part starts or ends with a hyphen",
            });
        }
        let ok = if ascii {
            label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        } else {
            label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !ok {
            return Err(EmailError::InvalidDomain {
                reason: "it contains a character domains cannot have",
            });
        }
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailError::InvalidDomain {
            reason: "it ends in a number",
        });
    }
    Ok(())
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(b)
        } else {
            self.key() == other.key()
        }
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
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.as_str())
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
        s.serialize_str(self.as_str())
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
        assert!(matches!(
            Email::parse(&long),
            Err(EmailError::TooLong { .. })
        ));
    }

    #[test]
    fn local_part_longer_than_64_characters_is_rejected() {
        let long = format!("{}@school.org", "a".repeat(65));
        assert_eq!(
            Email::parse(&long),
            Err(EmailError::LocalPartTooLong { len: 65 })
        );
    }

    #[test]
    fn domain_without_dot_is_rejected() {
        assert!(matches!(
            Email::parse("ana@localhost"),
            Err(EmailError::InvalidDomain { .. })
        ));
    }

    #[test]
    fn local_part_with_double_dot_is_rejected() {
        assert!(matches!(
            Email::parse("a..b@x.org"),
            Err(EmailError::InvalidLocalPart { .. })
        ));
    }

    #[test]
    fn email_with_inner_space_is_rejected() {
        assert_eq!(
            Email::parse("ana maria@x.org"),
            Err(EmailError::ContainsSpace)
        );
    }

    #[test]
    fn plus_addressing_and_subdomains_are_accepted() {
        assert!(Email::parse("ana+math@mail.school.co.uk").is_ok());
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_rules() {
        let samples = [
            "a@b.co",
            "a.b@c.d.org",
            ".a@b.org",
            "a.@b.org",
            "a..b@c.org",
            "a@-b.org",
            "a@b-.org",
            "a@b..org",
            "a@b.123",
            "a@b",
            "@b.org",
            "a@.org",
            "a@b.org.",
            "a b@c.org",
            "a@b@c.org",
            "a+b_c~d@x-y.org",
            "é@b.org",
            "a@b.c0m",
            "x@1.2.3.4",
        ];
        for s in samples {
            if plainly_valid(s.as_bytes()) {
                assert!(Email::parse(s).is_ok(), "{s}");
            }
            let slow = {
                let t = s.trim();
                // Mirror of validate() without the fast path.
                let mut r = Ok(());
                if t.chars().any(char::is_whitespace) {
                    r = Err(());
                }
                match t.split_once('@') {
                    Some((l, d)) if !d.contains('@') => {
                        if check_local(l).is_err() || check_domain(d).is_err() {
                            r = Err(());
                        }
                    }
                    _ => r = Err(()),
                }
                r
            };
            assert_eq!(Email::parse(s).is_ok(), slow.is_ok(), "{s}");
        }
    }

    #[test]
    fn word_lowercasing_matches_byte_lowercasing() {
        for start in 0u8..121 {
            let bytes: Vec<u8> = (start..start + 8).collect();
            let w = ascii_lower_word(u64::from_le_bytes(bytes.clone().try_into().unwrap()));
            let expect: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(w.to_le_bytes().to_vec(), expect, "{start}");
        }
    }

    #[test]
    fn key_hash_ignores_case() {
        assert_eq!(key_hash("Ana.Li@School.ORG"), key_hash("ana.li@school.org"));
        assert_ne!(key_hash("ana.li@school.org"), key_hash("ana.lj@school.org"));
        assert_eq!(key_hash("ÉVA@x.org"), key_hash("éva@x.org"));
    }

    #[test]
    fn deserializing_goes_through_parse() {
        let ok: Email = serde_json::from_str("\" Ana@X.org\"").unwrap();
        assert_eq!(ok.key(), "ana@x.org");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
