//! Text decoding: UTF-8 (± BOM), UTF-16 with BOM, and Windows-1252 for old Excel exports.

#[cfg(feature = "read")]
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

#[cfg(feature = "read")]
use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

#[cfg(feature = "read")]
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ParseError> {
    let (text, enc) = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (utf8_or_1252(rest), TextEncoding::Utf8Bom)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (utf16(rest, encoding_rs::UTF_16LE), TextEncoding::Utf16Le)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (utf16(rest, encoding_rs::UTF_16BE), TextEncoding::Utf16Be)
    } else if let Some(enc) = bomless_utf16(bytes) {
        let codec = if enc == TextEncoding::Utf16Le {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        (utf16(bytes, codec), enc)
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => (Cow::Borrowed(s), TextEncoding::Utf8),
            Err(_) => (windows_1252(bytes), TextEncoding::Windows1252),
        }
    };
    let enc = match (&text, enc) {
        // A UTF-8 BOM followed by invalid UTF-8 was decoded as Windows-1252; say so.
        (Cow::Owned(_), TextEncoding::Utf8Bom) if std::str::from_utf8(&bytes[3..]).is_err() => {
            TextEncoding::Windows1252
        }
        _ => enc,
    };
    if looks_binary(&text) {
        return Err(ParseError::NotATable);
    }
    Ok((text, enc))
}

#[cfg(feature = "read")]
fn utf8_or_1252(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => windows_1252(bytes),
    }
}

#[cfg(feature = "read")]
fn utf16(bytes: &[u8], codec: &'static encoding_rs::Encoding) -> Cow<'static, str> {
    let (text, _) = codec.decode_without_bom_handling(bytes);
    Cow::Owned(text.into_owned())
}

#[cfg(feature = "read")]
fn windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    text
}

/// Some tools write UTF-16 without a BOM; ASCII-heavy text then has a zero in every
/// other byte, which no real CSV has.
#[cfg(feature = "read")]
fn bomless_utf16(bytes: &[u8]) -> Option<TextEncoding> {
    let sample = &bytes[..bytes.len().min(512) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_zero = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_zero = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    if odd_zero * 10 >= pairs * 9 && even_zero == 0 {
        Some(TextEncoding::Utf16Le)
    } else if even_zero * 10 >= pairs * 9 && odd_zero == 0 {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// Text files do not contain NULs and rarely contain other control characters; images,
/// PDFs and executables are full of them.
#[cfg(feature = "read")]
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(8192) {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0c}') {
            control += 1;
        }
    }
    // A stray bell or escape in a hand-made file is not enough; binary data has many.
    control >= 4 && control * 100 > total.max(1) * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_is_stripped() {
        let (t, e) = decode(b"\xEF\xBB\xBFEmail\n").unwrap();
        assert_eq!(t, "Email\n");
        assert_eq!(e, TextEncoding::Utf8Bom);
    }

    #[test]
    fn utf16_le_with_bom_is_decoded() {
        let mut b = vec![0xFF, 0xFE];
        for u in "Émail\n".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        let (t, e) = decode(&b).unwrap();
        assert_eq!(t, "Émail\n");
        assert_eq!(e, TextEncoding::Utf16Le);
    }

    #[test]
    fn utf16_be_with_bom_is_decoded() {
        let mut b = vec![0xFE, 0xFF];
        for u in "Email\n".encode_utf16() {
            b.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&b).unwrap().0, "Email\n");
    }

    #[test]
    fn invalid_utf8_falls_back_to_windows_1252() {
        let (t, e) = decode(b"Jos\xE9,jose@x.org\n").unwrap();
        assert_eq!(t, "José,jose@x.org\n");
        assert_eq!(e, TextEncoding::Windows1252);
    }

    #[test]
    fn bytes_with_nul_are_not_text() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err(),
            ParseError::NotATable
        );
    }
}
