//! DKIM signing (`MUSTER_DKIM_*`): the key as `openssl` writes it, read once
//! at start, and the lettre signing settings built from it.

use lettre::message::{
    dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
        DkimSigningKey,
    },
    header::HeaderName,
};

/// What every message is signed with: the selector and domain whose DNS
/// TXT record (`{selector}._domainkey.{domain}`) holds the public key.
#[derive(Clone)]
pub struct DkimSettings {
    pub selector: String,
    pub domain: String,
    algorithm: DkimSigningAlgorithm,
    /// The private key in the form lettre reads: PKCS#1 PEM for RSA, the
    /// base64 32-byte seed for Ed25519.
    key: String,
}

impl std::fmt::Debug for DkimSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimSettings")
            .field("selector", &self.selector)
            .field("domain", &self.domain)
            .field("algorithm", &self.algorithm)
            .field("key", &"…")
            .finish()
    }
}

/// The headers signed. Content-Type is not among them: lettre writes a
/// multipart message's Content-Type with its body, so it would sign a header
/// it does not see (and every signature would fail); the body hash covers
/// the parts and their boundaries instead.
const SIGNED_HEADERS: [&str; 6] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
];

/// `rsaEncryption` and `id-Ed25519`.
const RSA_OID: &str = "1.2.840.113549.1.1.1";
const ED25519_OID: &str = "1.3.101.112";

impl DkimSettings {
    /// Reads a private key in PEM: RSA as PKCS#1 (`BEGIN RSA PRIVATE KEY`,
    /// `openssl genrsa -traditional`) or PKCS#8 (`BEGIN PRIVATE KEY`,
    /// `openssl genpkey -algorithm RSA`), or Ed25519 as PKCS#8 (`openssl
    /// genpkey -algorithm ed25519`). The error says what was wrong, never
    /// the key.
    pub fn new(selector: &str, domain: &str, pem: &str) -> Result<DkimSettings, String> {
        let (algorithm, key) = lettre_key(pem)?;
        // Fails here, at start, rather than at the first message.
        DkimSigningKey::new(&key, algorithm).map_err(|e| format!("not a usable key: {e}"))?;
        Ok(DkimSettings {
            selector: selector.to_owned(),
            domain: domain.to_owned(),
            algorithm,
            key,
        })
    }

    /// lettre's settings: relaxed canonicalization for headers and body,
    /// which survives the re-folding and trailing-space changes relays make.
    pub fn lettre_config(&self) -> DkimConfig {
        let key = DkimSigningKey::new(&self.key, self.algorithm)
            .expect("the key was checked when the settings were read");
        DkimConfig::new(
            self.selector.clone(),
            self.domain.clone(),
            key,
            SIGNED_HEADERS
                .iter()
                .map(|name| HeaderName::new_from_ascii_str(name))
                .collect(),
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        )
    }
}

fn lettre_key(pem: &str) -> Result<(DkimSigningAlgorithm, String), String> {
    use base64::Engine;
    use rsa::{pkcs1::EncodeRsaPrivateKey, pkcs8::DecodePrivateKey};

    let pem = pem.trim();
    if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        return Ok((DkimSigningAlgorithm::Rsa, pem.to_owned()));
    }
    if !pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        return Err(
            "expected a PEM private key (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY, \
             not encrypted)"
                .to_owned(),
        );
    }
    let (_, document) =
        pkcs8::SecretDocument::from_pem(pem).map_err(|e| format!("not valid PEM: {e}"))?;
    let info: pkcs8::PrivateKeyInfo<'_> = document
        .decode_msg()
        .map_err(|e| format!("not a PKCS#8 private key: {e}"))?;
    match info.algorithm.oid.to_string().as_str() {
        RSA_OID => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(document.as_bytes())
                .map_err(|e| format!("not a valid RSA key: {e}"))?;
            let pkcs1 = key
                .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
                .map_err(|e| format!("could not convert the RSA key: {e}"))?;
            Ok((DkimSigningAlgorithm::Rsa, pkcs1.to_string()))
        }
        ED25519_OID => {
            // RFC 8410: the private key is an OCTET STRING of the 32-byte seed.
            let seed = match info.private_key {
                [0x04, 32, seed @ ..] if seed.len() == 32 => seed,
                _ => return Err("not a valid Ed25519 key".to_owned()),
            };
            Ok((
                DkimSigningAlgorithm::Ed25519,
                base64::engine::general_purpose::STANDARD.encode(seed),
            ))
        }
        other => Err(format!(
            "a key of algorithm {other}; DKIM signs with RSA or Ed25519"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys made for these tests with openssl (`genpkey -algorithm RSA
    // -pkeyopt rsa_keygen_bits:1024`, its `-traditional` form, and `genpkey
    // -algorithm ed25519`); they sign nothing anywhere.
    const RSA_PKCS8: &str = include_str!("testdata/rsa_pkcs8.pem");
    const RSA_PKCS1: &str = include_str!("testdata/rsa_pkcs1.pem");
    const ED25519: &str = include_str!("testdata/ed25519.pem");
    const EC_P256: &str = include_str!("testdata/ec_p256.pem");

    fn sign(settings: &DkimSettings) -> String {
        let mut message = lettre::Message::builder()
            .from("Muster <no-reply@muster.test>".parse().unwrap())
            .to("zoe@example.org".parse().unwrap())
            .subject("Élèves 2026 — Spring")
            .body("Hello Zoë\r\n".to_owned())
            .unwrap();
        message.sign(&settings.lettre_config());
        String::from_utf8(message.formatted()).unwrap()
    }

    #[test]
    fn rsa_keys_in_either_pem_form_and_ed25519_keys_sign() {
        for (pem, algorithm) in [
            (RSA_PKCS8, "a=rsa-sha256"),
            (RSA_PKCS1, "a=rsa-sha256"),
            (ED25519, "a=ed25519-sha256"),
        ] {
            let settings = DkimSettings::new("mail", "muster.test", pem).unwrap();
            let signed = sign(&settings);
            let head = signed
                .split("\r\n\r\n")
                .next()
                .unwrap()
                .replace("\r\n ", " ");
            let header = head
                .lines()
                .find(|line| line.starts_with("DKIM-Signature: "))
                .unwrap_or_else(|| panic!("signed: {signed}"));
            assert!(header.contains(algorithm), "{header}");
            assert!(header.contains("d=muster.test; s=mail;"), "{header}");
            assert!(
                header.contains("h=from:to:subject:date:message-id:mime-version;"),
                "{header}"
            );
        }
        // The same key read either way signs alike.
        let one = DkimSettings::new("mail", "muster.test", RSA_PKCS8).unwrap();
        let other = DkimSettings::new("mail", "muster.test", RSA_PKCS1).unwrap();
        assert_eq!(one.key.trim(), other.key.trim());
    }

    #[test]
    fn other_keys_are_refused_with_a_reason() {
        let error = DkimSettings::new("mail", "muster.test", EC_P256).unwrap_err();
        assert!(error.contains("1.2.840.10045.2.1"), "{error}");
        let error = DkimSettings::new("mail", "muster.test", "ssh-rsa AAAA…").unwrap_err();
        assert!(error.contains("expected a PEM private key"), "{error}");
        let broken = RSA_PKCS8.replace("MI", "XX");
        assert!(DkimSettings::new("mail", "muster.test", &broken).is_err());
        let debug = format!(
            "{:?}",
            DkimSettings::new("mail", "muster.test", RSA_PKCS1).unwrap()
        );
        assert!(!debug.contains("PRIVATE"), "{debug}");
    }
}
