//! The Subject header, written so that every reader sees the subject as
//! Muster wrote it.

use lettre::message::{
    header::{HeaderName, HeaderValue},
    MessageBuilder,
};

/// Sets the subject. lettre writes ASCII words as they are and encodes the
/// rest as RFC 2047 encoded words; an ASCII word that already looks like an
/// encoded word (`=?utf-8?q?Your_account_is_locked?=`, a name an admin
/// chose) would then be decoded by the reader's mail client into other
/// text. A subject holding `=?` is therefore written entirely as encoded
/// words, which decode back to exactly that text.
pub(super) fn subject(builder: MessageBuilder, subject: &str) -> MessageBuilder {
    if !subject.contains("=?") {
        return builder.subject(subject);
    }
    const NAME: &str = "Subject";
    let mut encoded = String::new();
    {
        // The value starts after "Subject: " on the header's first line.
        let mut writer = email_encoding::headers::writer::EmailWriter::new(
            &mut encoded,
            NAME.len() + 2,
            0,
            false,
        );
        email_encoding::headers::rfc2047::encode(subject, &mut writer)
            .expect("writing to a String does not fail");
    }
    builder.raw_header(HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str(NAME),
        subject.to_owned(),
        encoded,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(subject_text: &str) -> String {
        let message = subject(lettre::Message::builder(), subject_text)
            .from("m@muster.test".parse().unwrap())
            .to("zoe@example.org".parse().unwrap())
            .body(String::from("x"))
            .unwrap();
        let formatted = String::from_utf8(message.formatted()).unwrap();
        formatted.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn a_subject_that_looks_encoded_is_encoded_whole() {
        let lookalike = head("Riverside invites you to join =?utf-8?q?Your_account_is_locked?=");
        assert!(
            lookalike.contains("Subject: =?utf-8?b?Uml2ZXJzaWRlIGludml0ZXMg"),
            "{lookalike}"
        );
        assert!(!lookalike.contains("=?utf-8?q?"), "{lookalike}");
        // Long subjects fold onto lines of at most 78 characters.
        let long = head(&format!("=? {}", "Élèves 2026 — Spring ".repeat(10)));
        assert!(long.split("\r\n").all(|line| line.len() <= 78), "{long}");
        assert!(long.contains("\r\n =?utf-8?b?"), "{long}");
        // Anything else is left to lettre.
        assert!(head("Welcome to Spring Cohort").contains("Subject: Welcome to Spring Cohort"));
    }
}
