//! Small text helpers shared by mapping and validation.

/// The key used to compare headers and role names: lowercase letters and digits only,
/// so "E-mail", "e mail" and "EMAIL" all meet at "email".
pub(crate) fn fold_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `str::trim`, skipping the Unicode scan when both ends are visible ASCII, as they are
/// for nearly every cell.
pub(crate) fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    let b = s.as_bytes();
    if plain(b.first()) && plain(b.last()) {
        s
    } else {
        s.trim()
    }
}

/// Spreadsheet programs execute cells starting with these characters as formulas when a
/// CSV is opened, so a value like `=HYPERLINK(...)` is a classic CSV-injection payload.
pub(crate) fn looks_like_formula(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'))
}

/// Formats a count with thousands separators, as admins read numbers in summaries.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_ignore_case_spaces_and_punctuation() {
        assert_eq!(fold_key(" E-Mail_Address "), "emailaddress");
    }

    #[test]
    fn thousands_are_grouped_with_commas() {
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
