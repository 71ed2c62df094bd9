//! The OpenPGP check of a registry's `SHA256SUMS`: its detached signature must verify with
//! one of the keys the registry's download answer names (`signing_keys.gpg_public_keys`),
//! with the primary key or a subkey bound to it. The cryptography is the `pgp` crate's
//! (rpgp); this module only chooses which keys may sign and says what went wrong.

use std::io::Cursor;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::{KeyDetails, KeyId};

/// Verifies `signature` (binary or ASCII-armored) over `content` with one of
/// `armored_keys`; the fingerprint of the key that made it, or what is wrong.
pub fn verify(content: &[u8], signature: &[u8], armored_keys: &[String]) -> Result<String, String> {
    let (signature, _) = DetachedSignature::from_reader_single(Cursor::new(signature))
        .map_err(|e| format!("the signature of SHA256SUMS cannot be read: {e}"))?;
    let mut keys = Vec::new();
    for (index, armored) in armored_keys.iter().enumerate() {
        let (key, _) = SignedPublicKey::from_armor_single(Cursor::new(armored.as_bytes()))
            .map_err(|e| format!("the registry's signing key {} cannot be read: {e}", index + 1))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err("the registry names no key to verify SHA256SUMS with".to_string());
    }
    for key in &keys {
        if signature.verify(key, content).is_ok() {
            return Ok(hex(key.fingerprint().as_bytes()));
        }
        for subkey in key.public_subkeys.iter().filter(|s| s.verify_bindings(key).is_ok()) {
            if signature.verify(subkey, content).is_ok() {
                return Ok(hex(key.fingerprint().as_bytes()));
            }
        }
    }
    Err(refusal(&signature, &keys))
}

/// Why no key verified: a named key made the signature over something else, or the
/// signer is not one of the named keys.
fn refusal(signature: &DetachedSignature, keys: &[SignedPublicKey]) -> String {
    let named: Vec<KeyId> = keys
        .iter()
        .flat_map(|key| {
            std::iter::once(key.legacy_key_id()).chain(key.public_subkeys.iter().map(|s| s.legacy_key_id()))
        })
        .collect();
    let mut issuers: Vec<String> = signature.signature.issuer_key_id().iter().map(|id| hex(id.as_ref())).collect();
    for fingerprint in signature.signature.issuer_fingerprint() {
        let bytes = fingerprint.as_bytes();
        // A version 4 fingerprint ends with its key ID.
        issuers.push(hex(&bytes[bytes.len().saturating_sub(8)..]));
    }
    let named_hex: Vec<String> = named.iter().map(|id| hex(id.as_ref())).collect();
    let primaries: Vec<String> = keys.iter().map(|k| hex(k.legacy_key_id().as_ref())).collect();
    match issuers.iter().find(|issuer| named_hex.contains(issuer)) {
        Some(issuer) => format!(
            "the signature of SHA256SUMS by key {issuer} does not verify: SHA256SUMS or its signature was altered"
        ),
        None => format!(
            "SHA256SUMS is signed by key {}, which the registry does not name (it names {})",
            issuers.first().map(String::as_str).unwrap_or("(unnamed)"),
            primaries.join(", ")
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
