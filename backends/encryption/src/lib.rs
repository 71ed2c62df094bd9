//! Client-side encryption of the state, for every backend: the runtime's
//! [`StateCipher`] with AES-256-GCM (RustCrypto's `aes-gcm`), a fresh random 96-bit
//! nonce per write, and the associated data the runtime's envelope gives (the state's
//! lineage and serial, or the journal batch's serial).
//!
//! Keys ([`KeySource`]):
//! - a passphrase, stretched with Argon2id (RustCrypto's `argon2`); the salt and the
//!   cost parameters are recorded in each header, so a later Infra with other defaults
//!   still reads it. The salt of the state read is written again: the key is derived once
//!   per run, not per write.
//! - a 256-bit key from the environment (`INFRA_STATE_KEY`, base64 or hex); the header
//!   names it by the first bytes of its SHA-256, so the right one of several is chosen.
//! - AWS KMS envelope encryption: `GenerateDataKey` once per process gives the data key
//!   and its encrypted copy, which the header keeps; reading calls `Decrypt` on that copy
//!   (`kms.rs`). The data key never leaves memory.
//!
//! A [`Keyring`] writes with its first key and reads with whichever of its keys fits the
//! header: after a rotation the old key is kept as a fallback, and every write moves
//! the state to the new one. A wrong key or a changed byte fails authentication, and is
//! an error (E0752) before anything is overwritten.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use infra_runtime::state::envelope::{Encryption, StateCipher};
use infra_runtime::state::StateError;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

pub mod codes;
mod kms;

pub use kms::Kms;

/// Argon2id's costs for a new passphrase header: OWASP's recommended minimum (19 MiB,
/// two passes, one lane).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;
/// The largest costs a header may ask for: more is a damaged or hostile header.
const MAX_MEMORY_KIB: u32 = 1 << 21;
const MAX_PASSES: u32 = 64;

/// Where a 256-bit key comes from.
pub enum KeySource {
    /// A passphrase (from `INFRA_STATE_PASSPHRASE` or its fallback); `name` says where
    /// it came from, for messages.
    Passphrase { passphrase: String, name: String },
    /// A key given directly.
    Key { key: [u8; 32], name: String },
    /// A KMS key, by ID, ARN or alias.
    Kms(Box<Kms>),
}

impl KeySource {
    /// A raw key as `INFRA_STATE_KEY` gives it: 32 bytes in base64, or 64 hex digits.
    pub fn key_from_text(text: &str, name: &str) -> Result<KeySource, StateError> {
        let text = text.trim();
        let bytes = hex::decode(text).ok().filter(|b| b.len() == 32).or_else(|| STANDARD.decode(text).ok());
        let key: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
            unavailable(format!("{name} is not a 256-bit key")).with_help(
                "give 32 random bytes in base64 or as 64 hex digits, such as the output of `openssl rand -base64 32`",
            )
        })?;
        Ok(KeySource::Key { key, name: name.to_string() })
    }

    fn describe(&self) -> String {
        match self {
            KeySource::Passphrase { name, .. } => format!("the passphrase in {name}"),
            KeySource::Key { name, .. } => format!("the key in {name}"),
            KeySource::Kms(kms) => format!("KMS key `{}`", kms.key_id()),
        }
    }
}

/// A key derived from a passphrase: the passphrase's place in the keyring, and the salt.
type DerivedKeyId = (usize, Vec<u8>);

/// The keys a state is written with (the first) and read with (any that fits).
pub struct Keyring {
    sources: Vec<KeySource>,
    /// Keys derived from passphrases, by (source index, salt): Argon2id runs once each.
    derived: Mutex<BTreeMap<DerivedKeyId, [u8; 32]>>,
    /// The salt this process writes passphrase headers with, unless it read one.
    salt: [u8; 16],
    /// The salt of the passphrase header last read with today's Argon2 costs: writing
    /// with it again reuses the key derived to read, so a run derives one key, not two.
    /// (A fresh nonce per write is what GCM needs; the salt only has to be the state's.)
    read_salt: Mutex<Option<Vec<u8>>>,
}

impl Keyring {
    /// A keyring that writes with `sources[0]`; `None` when there are no sources.
    pub fn new(sources: Vec<KeySource>) -> Option<Keyring> {
        if sources.is_empty() {
            return None;
        }
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        Some(Keyring { sources, derived: Mutex::default(), salt, read_salt: Mutex::default() })
    }

    /// The backends' encryption with this keyring.
    pub fn into_encryption(self) -> Encryption {
        Encryption::new(Arc::new(self))
    }

    fn derive(
        &self,
        index: usize,
        passphrase: &str,
        salt: &[u8],
        costs: (u32, u32, u32),
    ) -> Result<[u8; 32], StateError> {
        let mut derived = self.derived.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = derived.get(&(index, salt.to_vec())) {
            return Ok(*key);
        }
        let (memory, passes, lanes) = costs;
        if memory > MAX_MEMORY_KIB || passes > MAX_PASSES || lanes > 16 {
            return Err(undecryptable("the passphrase header asks for unreasonable Argon2 costs"));
        }
        let params = argon2::Params::new(memory, passes, lanes, Some(32))
            .map_err(|e| undecryptable(format!("the passphrase header's Argon2 parameters are invalid: {e}")))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = [0u8; 32];
        argon
            .hash_password_into(passphrase.as_bytes(), salt, &mut key)
            .map_err(|e| unavailable(format!("cannot derive a key from the passphrase: {e}")))?;
        derived.insert((index, salt.to_vec()), key);
        Ok(key)
    }

    /// The key the first source gives, with the header fields that find it again.
    fn writing_key(&self) -> Result<([u8; 32], Json), StateError> {
        match &self.sources[0] {
            KeySource::Passphrase { passphrase, .. } => {
                let costs = (ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES);
                let read_salt = self.read_salt.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let salt = read_salt.unwrap_or_else(|| self.salt.to_vec());
                let key = self.derive(0, passphrase, &salt, costs)?;
                let header = json!({
                    "key": "passphrase", "kdf": "argon2id", "salt": STANDARD.encode(&salt),
                    "m_cost": costs.0, "t_cost": costs.1, "p_cost": costs.2,
                });
                Ok((key, header))
            }
            KeySource::Key { key, .. } => Ok((*key, json!({ "key": "key", "key_id": fingerprint(key) }))),
            KeySource::Kms(kms) => {
                let (key, encrypted) = kms.data_key()?;
                Ok((key, json!({ "key": "kms", "key_id": kms.key_id(), "encrypted_key": STANDARD.encode(encrypted) })))
            }
        }
    }

    /// The keys that may have written a header, in the order to try them.
    fn reading_keys(&self, header: &Json) -> Result<Vec<[u8; 32]>, StateError> {
        let mut keys = Vec::new();
        match header["key"].as_str() {
            Some("passphrase") => {
                let salt = header["salt"].as_str().and_then(|s| STANDARD.decode(s).ok()).unwrap_or_default();
                let cost = |name: &str| header[name].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
                let costs = (cost("m_cost"), cost("t_cost"), cost("p_cost"));
                for (index, source) in self.sources.iter().enumerate() {
                    if let KeySource::Passphrase { passphrase, .. } = source {
                        keys.push(self.derive(index, passphrase, &salt, costs)?);
                    }
                }
                if keys.is_empty() {
                    return Err(no_key("a passphrase", "set INFRA_STATE_PASSPHRASE to its passphrase"));
                }
                if costs == (ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES) && salt.len() == self.salt.len() {
                    *self.read_salt.lock().unwrap_or_else(PoisonError::into_inner) = Some(salt);
                }
            }
            Some("key") => {
                let id = header["key_id"].as_str().unwrap_or_default();
                keys.extend(self.sources.iter().filter_map(|source| match source {
                    KeySource::Key { key, .. } if fingerprint(key) == id => Some(*key),
                    _ => None,
                }));
                if keys.is_empty() {
                    return Err(no_key(
                        &format!("a key with ID `{id}` (the first bytes of its SHA-256)"),
                        "set INFRA_STATE_KEY (or INFRA_STATE_FALLBACK_KEY after a rotation) to that key",
                    ));
                }
            }
            Some("kms") => {
                let encrypted =
                    header["encrypted_key"].as_str().and_then(|s| STANDARD.decode(s).ok()).unwrap_or_default();
                let Some(kms) = self.sources.iter().find_map(|source| match source {
                    KeySource::Kms(kms) => Some(kms),
                    _ => None,
                }) else {
                    let id = header["key_id"].as_str().unwrap_or_default();
                    return Err(no_key(
                        &format!("KMS key `{id}`"),
                        "configure `encryption = \"kms\"` (or `fallback = \"kms\"`) with its `kms_key_id`, or set \
                         INFRA_STATE_KMS_KEY_ID, and AWS credentials allowed to use it",
                    ));
                };
                let id = header["key_id"].as_str().unwrap_or(kms.key_id());
                keys.push(kms.decrypt_data_key(&encrypted, id)?);
            }
            other => {
                return Err(undecryptable(format!(
                    "the state's encryption header names an unknown key kind `{}`",
                    other.unwrap_or("(none)")
                )))
            }
        }
        Ok(keys)
    }
}

impl StateCipher for Keyring {
    fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Result<(Json, Vec<u8>), StateError> {
        let (key, mut header) = self.writing_key()?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| unavailable("AES-256-GCM refused to encrypt the state"))?;
        header["cipher"] = json!("AES-256-GCM");
        header["nonce"] = json!(STANDARD.encode(nonce));
        Ok((header, ciphertext))
    }

    fn decrypt(&self, header: &Json, ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StateError> {
        if header["cipher"].as_str() != Some("AES-256-GCM") {
            return Err(undecryptable("the state's encryption header names an unknown cipher"));
        }
        let nonce = header["nonce"].as_str().and_then(|s| STANDARD.decode(s).ok()).filter(|n| n.len() == 12);
        let Some(nonce) = nonce else { return Err(undecryptable("the state's encryption header has no valid nonce")) };
        for key in self.reading_keys(header)? {
            let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
            if let Ok(plain) = cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: ciphertext, aad }) {
                return Ok(plain);
            }
        }
        let tried: Vec<String> = self.sources.iter().map(KeySource::describe).collect();
        Err(StateError::new(
            codes::kind(codes::STATE_DECRYPT_FAILED),
            format!("the state does not decrypt with {}", tried.join(" or ")),
        )
        .with_help(
            "either the key is wrong (a mistyped passphrase, the key from before a rotation: give it as the fallback) \
             or the stored bytes were changed; nothing was written",
        ))
    }
}

/// What the `state` block says about encryption (`encryption`, `kms_key_id`,
/// `fallback`, `fallback_kms_key_id`); the key material itself comes from the
/// environment.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `passphrase`, `key` or `kms`: what writes. Without it, the environment decides.
    pub method: Option<String>,
    pub kms_key_id: Option<String>,
    /// `passphrase`, `key` or `kms`: what also reads, during a rotation.
    pub fallback: Option<String>,
    pub fallback_kms_key_id: Option<String>,
}

/// The environment variables that give key material.
pub const PASSPHRASE_VAR: &str = "INFRA_STATE_PASSPHRASE";
pub const FALLBACK_PASSPHRASE_VAR: &str = "INFRA_STATE_FALLBACK_PASSPHRASE";
pub const KEY_VAR: &str = "INFRA_STATE_KEY";
pub const FALLBACK_KEY_VAR: &str = "INFRA_STATE_FALLBACK_KEY";
pub const KMS_KEY_ID_VAR: &str = "INFRA_STATE_KMS_KEY_ID";

/// The keyring `settings` and the environment (`env`) give, or `None` when the state
/// is not encrypted: no method configured and no key in the environment.
///
/// The writing key is the configured method's; without one, the first of
/// `INFRA_STATE_KMS_KEY_ID`, `INFRA_STATE_KEY` and `INFRA_STATE_PASSPHRASE` that is
/// set. Every other key given (the fallback, and any passphrase or key in the
/// environment) reads. So `INFRA_STATE_PASSPHRASE` alone encrypts a state, whatever
/// the configuration.
pub fn keyring(settings: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Keyring>, StateError> {
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    let method = settings.method.clone().or_else(|| {
        [(KMS_KEY_ID_VAR, "kms"), (KEY_VAR, "key"), (PASSPHRASE_VAR, "passphrase")]
            .into_iter()
            .find(|(name, _)| env(name).is_some())
            .map(|(_, method)| method.to_string())
    });
    let Some(method) = method else { return Ok(None) };
    let kms_id = settings.kms_key_id.clone().or_else(|| env(KMS_KEY_ID_VAR));
    let mut sources = vec![source(&method, kms_id.as_deref(), PASSPHRASE_VAR, KEY_VAR, &env)?];
    if let Some(fallback) = &settings.fallback {
        let kms_id = settings.fallback_kms_key_id.clone().or(kms_id);
        sources.push(source(fallback, kms_id.as_deref(), FALLBACK_PASSPHRASE_VAR, FALLBACK_KEY_VAR, &env)?);
    }
    // Whatever else the environment holds reads too.
    for (name, raw) in
        [(PASSPHRASE_VAR, false), (FALLBACK_PASSPHRASE_VAR, false), (KEY_VAR, true), (FALLBACK_KEY_VAR, true)]
    {
        let Some(value) = env(name) else { continue };
        let extra = if raw {
            KeySource::key_from_text(&value, name)?
        } else {
            KeySource::Passphrase { passphrase: value, name: name.to_string() }
        };
        if !sources.iter().any(|known| same(known, &extra)) {
            sources.push(extra);
        }
    }
    Ok(Keyring::new(sources))
}

fn source(
    method: &str,
    kms_key_id: Option<&str>,
    passphrase_var: &str,
    key_var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<KeySource, StateError> {
    let missing = |var: &str| {
        unavailable(format!("the state is encrypted with a {method}, and {var} is not set"))
            .with_help(format!("set {var}; it is never read from a file, so that it stays out of version control"))
    };
    match method {
        "passphrase" => {
            let passphrase = env(passphrase_var).ok_or_else(|| missing(passphrase_var))?;
            Ok(KeySource::Passphrase { passphrase, name: passphrase_var.to_string() })
        }
        "key" => KeySource::key_from_text(&env(key_var).ok_or_else(|| missing(key_var))?, key_var),
        "kms" => {
            // An empty id (`kms_key_id = ""`, a variable set to nothing) is none: refused
            // here, before anything is planned, not at the first write.
            let id = kms_key_id.filter(|id| !id.trim().is_empty()).ok_or_else(|| {
                unavailable("`encryption = \"kms\"` needs a KMS key")
                    .with_help("set `kms_key_id` in the `state` block, or INFRA_STATE_KMS_KEY_ID")
            })?;
            Ok(KeySource::Kms(Box::new(Kms::new(id)?)))
        }
        other => {
            Err(unavailable(format!("`{other}` is not an encryption method"))
                .with_help("use `passphrase`, `key` or `kms`"))
        }
    }
}

fn same(one: &KeySource, other: &KeySource) -> bool {
    match (one, other) {
        (KeySource::Passphrase { passphrase: a, .. }, KeySource::Passphrase { passphrase: b, .. }) => a == b,
        (KeySource::Key { key: a, .. }, KeySource::Key { key: b, .. }) => a == b,
        _ => false,
    }
}

/// The first 8 bytes of a key's SHA-256, in hex: names a key without revealing it.
fn fingerprint(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..8])
}

fn no_key(what: &str, help: &str) -> StateError {
    StateError::new(
        codes::kind(codes::STATE_KEY_UNAVAILABLE),
        format!("the state was encrypted with {what}, which was not given"),
    )
    .with_help(format!("{help}; nothing was changed"))
}

pub(crate) fn unavailable(message: impl Into<String>) -> StateError {
    StateError::new(codes::kind(codes::STATE_KEY_UNAVAILABLE), message)
        .with_help("nothing was changed; see docs/state.md, encryption")
}

fn undecryptable(message: impl Into<String>) -> StateError {
    StateError::new(codes::kind(codes::STATE_DECRYPT_FAILED), message)
        .with_help("the stored state was changed or damaged; restore an earlier copy. Nothing was written")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passphrase(text: &str) -> KeySource {
        KeySource::Passphrase { passphrase: text.to_string(), name: "TEST".to_string() }
    }

    fn ring(sources: Vec<KeySource>) -> Keyring {
        Keyring::new(sources).expect("a key")
    }

    #[test]
    fn a_fresh_nonce_per_write_and_the_associated_data_is_bound() {
        let keyring = ring(vec![passphrase("correct horse")]);
        let (first, one) = keyring.encrypt(b"secret", b"aad").expect("encrypted");
        let (second, two) = keyring.encrypt(b"secret", b"aad").expect("encrypted");
        assert_ne!(first["nonce"], second["nonce"]);
        assert_ne!(one, two);
        assert_eq!(keyring.decrypt(&first, &one, b"aad").expect("decrypted"), b"secret");
        assert!(keyring.decrypt(&first, &one, b"other").is_err(), "another state's associated data");
        let mut tampered = one.clone();
        tampered[0] ^= 1;
        assert_eq!(keyring.decrypt(&first, &tampered, b"aad").expect_err("tampered").code(), "E0752");
    }

    #[test]
    fn a_run_that_reads_a_passphrase_state_writes_with_its_salt_and_derives_one_key() {
        let earlier = ring(vec![passphrase("correct horse")]);
        let (stored, sealed) = earlier.encrypt(b"state", b"aad").expect("encrypted");
        let run = ring(vec![passphrase("correct horse")]);
        assert_eq!(run.decrypt(&stored, &sealed, b"aad").expect("decrypted"), b"state");
        let (written, again) = run.encrypt(b"state 2", b"aad").expect("encrypted");
        assert_eq!(written["salt"], stored["salt"]);
        assert_ne!(written["nonce"], stored["nonce"]);
        assert_eq!(run.derived.lock().unwrap().len(), 1, "one Argon2id derivation");
        assert_eq!(earlier.decrypt(&written, &again, b"aad").expect("decrypted"), b"state 2");
    }

    #[test]
    fn wrong_passphrases_fail_and_a_fallback_reads_what_the_old_one_wrote() {
        let old = ring(vec![passphrase("old")]);
        let (header, sealed) = old.encrypt(b"state", b"aad").expect("encrypted");
        assert_eq!(header["m_cost"], ARGON2_MEMORY_KIB);
        let wrong = ring(vec![passphrase("new")]);
        assert_eq!(wrong.decrypt(&header, &sealed, b"aad").expect_err("wrong").code(), "E0752");
        let rotated = ring(vec![passphrase("new"), passphrase("old")]);
        assert_eq!(rotated.decrypt(&header, &sealed, b"aad").expect("fallback"), b"state");
        let (header, _) = rotated.encrypt(b"state", b"aad").expect("encrypted");
        assert_eq!(header["key"], "passphrase");
    }

    /// Bug: `kms_key_id = ""` was taken for a key id and refused only at the first
    /// write, after the plan was shown; it is no key, refused before anything is done.
    #[test]
    fn an_empty_kms_key_id_is_no_key() {
        let settings =
            Settings { method: Some("kms".to_string()), kms_key_id: Some(String::new()), ..Settings::default() };
        let error = keyring(&settings, &|_| None).err().expect("refused");
        assert!(error.to_string().contains("needs a KMS key"), "{error}");
    }

    #[test]
    fn raw_keys_are_chosen_by_fingerprint() {
        let key = KeySource::key_from_text(&"ab".repeat(32), "INFRA_STATE_KEY").expect("hex key");
        let keyring = ring(vec![key]);
        let (header, sealed) = keyring.encrypt(b"state", b"aad").expect("encrypted");
        let other = ring(vec![KeySource::key_from_text(&STANDARD.encode([7u8; 32]), "K").expect("base64 key")]);
        let error = other.decrypt(&header, &sealed, b"aad").expect_err("another key");
        assert_eq!(error.code(), "E0753");
        assert!(KeySource::key_from_text("short", "INFRA_STATE_KEY").is_err());
    }
}
