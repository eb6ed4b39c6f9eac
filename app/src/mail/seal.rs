//! An email carries a live link (an invitation, an activation, a join
//! confirmation, a password reset). In the outbox its token (in an intent's
//! parameters) and the bodies the dev mailbox keeps are sealed with a key
//! that is not in the database (`MUSTER_SECRET_KEY`, or a key file beside
//! the SQLite file), so a backup, a replica or a support query cannot read a
//! link that still works. The sender opens the token when it renders the
//! message; the dev mailbox opens its bodies to show them.

use std::sync::OnceLock;

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    XChaCha20Poly1305, XNonce,
};

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("this process was given a different secret key than the one already in use")]
    KeyMismatch,
    #[error("no secret key is installed")]
    NoKey,
    #[error("the message was sealed with another key, or is damaged")]
    Unreadable,
}

/// Installs the process's key. Every server in one process must use the
/// same key (tests start several): a different one is refused.
pub fn install(key: [u8; 32]) -> Result<(), SealError> {
    let installed = KEY.get_or_init(|| key);
    if *installed == key {
        Ok(())
    } else {
        Err(SealError::KeyMismatch)
    }
}

fn cipher() -> Result<XChaCha20Poly1305, SealError> {
    let key = KEY.get().ok_or(SealError::NoKey)?;
    Ok(XChaCha20Poly1305::new(key.into()))
}

/// The text as stored: `sealed:v1:` and base64 of nonce and ciphertext.
pub fn seal(plain: &str) -> Result<String, SealError> {
    let cipher = cipher()?;
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, plain.as_bytes())
        .map_err(|_| SealError::Unreadable)?;
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    Ok(format!("{PREFIX}{}", STANDARD_NO_PAD.encode(bytes)))
}

/// The text of a stored body; bodies stored before sealing are returned as they are.
pub fn open(stored: &str) -> Result<String, SealError> {
    let Some(encoded) = stored.strip_prefix(PREFIX) else {
        return Ok(stored.to_owned());
    };
    let bytes = STANDARD_NO_PAD
        .decode(encoded)
        .map_err(|_| SealError::Unreadable)?;
    if bytes.len() < NONCE_BYTES {
        return Err(SealError::Unreadable);
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let plain = cipher()?
        .decrypt(XNonce::from_slice(nonce), sealed)
        .map_err(|_| SealError::Unreadable)?;
    String::from_utf8(plain).map_err(|_| SealError::Unreadable)
}

/// A key from its 64 hexadecimal digits.
pub fn parse_key(hex_digits: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(hex_digits.trim()).ok()?;
    bytes.try_into().ok()
}

/// A new random key.
pub fn new_key() -> [u8; 32] {
    XChaCha20Poly1305::generate_key(&mut OsRng).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_to_itself_and_hides_it() {
        install([7; 32]).unwrap();
        let plain = "Accept: https://muster.example/invite/0123abcd";
        let sealed = seal(plain).unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("0123abcd"));
        assert_ne!(seal(plain).unwrap(), sealed, "a fresh nonce each time");
        assert_eq!(open(&sealed).unwrap(), plain);
        assert_eq!(
            open("written before sealing").unwrap(),
            "written before sealing"
        );
        let mut damaged = sealed.clone();
        // Always a different last character (replacing it with a fixed one
        // left the text unchanged whenever it already ended that way).
        let last = damaged.pop().unwrap();
        damaged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(open(&damaged).is_err());
        assert!(install([8; 32]).is_err(), "one key per process");
    }
}
