//! The join page's pure rules: which slugs are links, which domains are on
//! an allowlist and whether an address matches it. Shared by the settings
//! page (live checks in the browser) and the server.

use super::{MAX_DOMAINS, SLUG_MAX_CHARS, SLUG_MIN_CHARS};

/// Slugs that could be mistaken for a part of the product, or taken for one later.
pub const RESERVED_SLUGS: &[&str] = &[
    "about",
    "account",
    "activate",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "contact",
    "dashboard",
    "dev",
    "help",
    "home",
    "invite",
    "join",
    "login",
    "logout",
    "mail",
    "mailbox",
    "muster",
    "new",
    "null",
    "pkg",
    "register",
    "root",
    "security",
    "settings",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "undefined",
    "verify",
    "verify-email",
    "www",
];

/// Checks and normalizes a slug: lowercase letters, digits and hyphens,
/// 3–40 characters, no leading, trailing or double hyphen, not reserved.
pub fn check_slug(raw: &str) -> Result<String, String> {
    let slug = raw.trim().to_ascii_lowercase();
    let chars = slug.chars().count();
    if !(SLUG_MIN_CHARS..=SLUG_MAX_CHARS).contains(&chars) {
        return Err(format!(
            "Use {SLUG_MIN_CHARS} to {SLUG_MAX_CHARS} characters."
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("Use only lowercase letters, digits and hyphens.".to_owned());
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err("Hyphens go between letters or digits, one at a time.".to_owned());
    }
    if RESERVED_SLUGS.contains(&slug.as_str()) {
        return Err(format!("“{slug}” is reserved; choose another."));
    }
    Ok(slug)
}

/// Parses the allowlist box: domains separated by commas, spaces or new
/// lines, each lowercased, a leading `@` dropped; deduplicated, in order.
pub fn parse_domains(raw: &str) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for part in raw.split([',', ';', ' ', '\n', '\r', '\t']) {
        let domain = part.trim().trim_start_matches('@').trim_end_matches('.');
        if domain.is_empty() {
            continue;
        }
        let domain = domain.to_ascii_lowercase();
        let labels_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if !labels_ok {
            return Err(format!(
                "“{part}” is not a domain (like school.edu).",
                part = part.trim()
            ));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > MAX_DOMAINS {
        return Err(format!("At most {MAX_DOMAINS} domains."));
    }
    Ok(domains)
}

/// Whether an email address may join: any domain when the list is empty,
/// else its domain is listed, or a subdomain of one when those are accepted.
pub fn email_allowed(email: &str, domains: &[String], subdomains: bool) -> bool {
    if domains.is_empty() {
        return true;
    }
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    domains.iter().any(|allowed| {
        domain == *allowed
            || (subdomains
                && domain
                    .strip_suffix(allowed.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1))
    })
}

/// The sentence that tells visitors which addresses may join.
pub fn allowlist_sentence(domains: &[String], subdomains: bool) -> Option<String> {
    if domains.is_empty() {
        return None;
    }
    let list = match domains.len() {
        1 => domains[0].clone(),
        n => format!("{} or {}", domains[..n - 1].join(", "), domains[n - 1]),
    };
    Some(if subdomains {
        format!("Only email addresses at {list} (or a subdomain) can join.")
    } else {
        format!("Only email addresses at {list} can join.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_letters_digits_and_hyphens() {
        assert_eq!(check_slug(" Riverside-2026 ").unwrap(), "riverside-2026");
        assert!(check_slug("ab").is_err());
        assert!(check_slug(&"a".repeat(41)).is_err());
        assert!(check_slug(&"a".repeat(40)).is_ok());
        assert!(check_slug("river side").is_err());
        assert!(check_slug("river_side").is_err());
        assert!(check_slug("rivérside").is_err());
        assert!(check_slug("-river").is_err());
        assert!(check_slug("river-").is_err());
        assert!(check_slug("river--side").is_err());
        assert!(check_slug("admin").unwrap_err().contains("reserved"));
        assert!(check_slug("Verify").unwrap_err().contains("reserved"));
    }

    #[test]
    fn domains_are_normalized_and_checked() {
        assert_eq!(
            parse_domains("@School.edu, example.org\nschool.edu  mail.example.org.").unwrap(),
            vec!["school.edu", "example.org", "mail.example.org"]
        );
        assert!(parse_domains("").unwrap().is_empty());
        assert!(parse_domains("localhost").is_err());
        assert!(parse_domains("exa mple.org").is_err()); // two words: "exa" is no domain
        assert!(parse_domains("exa_mple.org").is_err());
        assert!(parse_domains("-bad.org").is_err());
        assert!(parse_domains("a..org").is_err());
    }

    #[test]
    fn allowlist_matches_exact_domains_and_optionally_subdomains() {
        let domains = vec!["school.edu".to_owned()];
        assert!(email_allowed("anyone@anywhere.org", &[], false));
        assert!(email_allowed("lin@school.edu", &domains, false));
        assert!(email_allowed("Lin@SCHOOL.edu", &domains, false));
        assert!(!email_allowed("lin@mail.school.edu", &domains, false));
        assert!(email_allowed("lin@mail.school.edu", &domains, true));
        assert!(!email_allowed("lin@evilschool.edu", &domains, true));
        assert!(!email_allowed("lin@school.edu.evil.org", &domains, true));
        assert!(!email_allowed("school.edu", &domains, true));
        assert!(!email_allowed("lin@.school.edu", &domains, true));
    }

    #[test]
    fn allowlist_sentence_names_every_domain() {
        assert_eq!(allowlist_sentence(&[], true), None);
        assert_eq!(
            allowlist_sentence(&["a.org".into(), "b.org".into(), "c.org".into()], false).unwrap(),
            "Only email addresses at a.org, b.org or c.org can join."
        );
        assert!(allowlist_sentence(&["a.org".into()], true)
            .unwrap()
            .contains("(or a subdomain)"));
    }
}
