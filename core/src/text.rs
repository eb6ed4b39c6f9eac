//! Small text helpers shared by mapping and validation.

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
pub fn thousands(n: u64) -> String {
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

/// Left-aligned columns two spaces apart; the last column is not padded
/// (the tables of `muster-check --format table` and the `muster` client).
pub fn grid<const N: usize>(titles: [&str; N], rows: &[[String; N]]) -> String {
    use std::fmt::Write as _;
    let titles = titles.map(str::to_owned);
    let mut widths = [0usize; N];
    for row in std::iter::once(&titles).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&titles).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_align() {
        let out = grid(
            ["ID", "NAME"],
            &[["1".into(), "a".into()], ["22".into(), "b".into()]],
        );
        assert_eq!(out, "ID  NAME\n1   a\n22  b\n");
    }

    #[test]
    fn thousands_are_grouped_with_commas() {
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
