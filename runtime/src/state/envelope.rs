//! Client-side encryption's envelope: how an encrypted snapshot or journal batch is
//! stored, the same on every backend. The cryptography is not here: a [`StateCipher`]
//! (the `infra-state-encryption` crate's, AES-256-GCM) encrypts and decrypts; the runtime
//! only wraps its output, so it depends on no cryptography crate.
//!
//! An encrypted snapshot is a JSON document whose first field is `encryption`:
//!
//! ```json
//! {"encryption":{…how to find the key, the nonce…},"format_version":1,"serial":4,
//!  "lineage":"…","ciphertext":"BASE64"}
//! ```
//!
//! Serial and lineage stay readable, so a write is checked against the stored state
//! without its key, and they are authenticated: the associated data of the encryption
//! is `infra-state:snapshot:FORMAT:LINEAGE:SERIAL`, so a ciphertext moved to another
//! state or put back in place of a newer one does not decrypt. A journal batch is one
//! line of the same form without lineage (`infra-state:journal:SERIAL`).
//!
//! What is encrypted is first compressed (deflate, its fastest level; `"compression":
//! "deflate"` beside the ciphertext, and in the associated data): a state is JSON that
//! shrinks about six times, so an encrypted state is smaller on disk than a plain one,
//! and a run with encryption writes and syncs fewer bytes than one without, which pays for
//! the encryption (bench/RESULTS.md). Compression leaks nothing the sizes of the stored
//! documents did not already show to someone who cannot also choose part of the state
//! and watch it being written again (see docs/state.md, the threat model).
//!
//! A backend holds an optional [`Encryption`] and calls [`seal_snapshot`] and
//! [`open_snapshot`], [`seal_journal`] and [`open_journal`] around the bytes it stores.
//! Without one, an encrypted state is refused (E0750), never read as empty; with one, a
//! state that is not encrypted is refused (E0751) unless it is being moved in
//! (`accept_plain`).

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::error::{StateError, StateErrorKind};
use super::FORMAT_VERSION;

/// What encrypts and decrypts: AES-256-GCM with a key from a passphrase, the environment
/// or KMS. Each encryption uses a fresh nonce.
pub trait StateCipher: Send + Sync {
    /// Encrypts `plain`, authenticating `aad` with it; returns the key header (what
    /// [`decrypt`](StateCipher::decrypt) needs besides the key: the nonce, the key's
    /// kind and parameters) and the ciphertext.
    fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Result<(Json, Vec<u8>), StateError>;

    /// Decrypts what [`encrypt`](StateCipher::encrypt) made; a wrong key or a changed
    /// byte is an error, never wrong bytes.
    fn decrypt(&self, header: &Json, ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StateError>;
}

/// A backend's encryption: the cipher, and whether a state that is not encrypted is read
/// (`infra state encrypt`, migration) and whether what is written stays plain (`infra
/// state decrypt`).
#[derive(Clone)]
pub struct Encryption {
    pub cipher: Arc<dyn StateCipher>,
    pub accept_plain: bool,
    pub write_plain: bool,
}

impl Encryption {
    pub fn new(cipher: Arc<dyn StateCipher>) -> Encryption {
        Encryption { cipher, accept_plain: false, write_plain: false }
    }

    pub(crate) fn sealing(&self) -> Option<&dyn StateCipher> {
        (!self.write_plain).then_some(self.cipher.as_ref())
    }
}

#[derive(Serialize, Deserialize)]
struct SealedSnapshot {
    encryption: Json,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compression: Option<String>,
    format_version: u64,
    serial: u64,
    lineage: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct SealedBatch {
    encryption: Json,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compression: Option<String>,
    serial: u64,
    ciphertext: String,
}

/// How every encrypted document and line begins.
const SEALED_PREFIX: &[u8] = b"{\"encryption\":";

/// Whether stored bytes are encrypted.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(SEALED_PREFIX)
}

/// The compression of what is encrypted.
const DEFLATE: &str = "deflate";

fn snapshot_aad(format_version: u64, lineage: &str, serial: u64, compression: Option<&str>) -> Vec<u8> {
    with_compression(format!("infra-state:snapshot:{format_version}:{lineage}:{serial}"), compression)
}

fn journal_aad(serial: u64, compression: Option<&str>) -> Vec<u8> {
    with_compression(format!("infra-state:journal:{serial}"), compression)
}

fn with_compression(aad: String, compression: Option<&str>) -> Vec<u8> {
    match compression {
        Some(compression) => format!("{aad}:{compression}").into_bytes(),
        None => aad.into_bytes(),
    }
}

fn compress(plain: &[u8]) -> Result<Vec<u8>, StateError> {
    use std::io::Write as _;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::with_capacity(plain.len() / 4), flate2::Compression::fast());
    encoder.write_all(plain).and_then(|()| encoder.finish()).map_err(|e| {
        StateError::new(StateErrorKind::Unstorable, format!("cannot compress the state before encrypting it: {e}"))
    })
}

/// What [`compress`] made, or the bytes as they are when `compression` is `None`.
fn decompress(bytes: Vec<u8>, compression: Option<&str>, name: &str) -> Result<Vec<u8>, StateError> {
    use std::io::Read as _;
    match compression {
        None => Ok(bytes),
        Some(DEFLATE) => {
            let mut plain = Vec::with_capacity(bytes.len() * 6);
            flate2::read::DeflateDecoder::new(bytes.as_slice())
                .read_to_end(&mut plain)
                .map_err(|e| damaged(name, &format!("cannot decompress it: {e}")))?;
            Ok(plain)
        }
        Some(other) => Err(damaged(name, &format!("it is compressed with `{other}`, which this Infra does not know"))),
    }
}

/// The snapshot `document` (of `lineage`, at `serial`) as stored: encrypted when
/// `encryption` says so, else as it is.
pub fn seal_snapshot(
    encryption: Option<&Encryption>,
    document: Vec<u8>,
    lineage: &str,
    serial: u64,
) -> Result<Vec<u8>, StateError> {
    let Some(cipher) = encryption.and_then(Encryption::sealing) else { return Ok(document) };
    let aad = snapshot_aad(FORMAT_VERSION, lineage, serial, Some(DEFLATE));
    let (header, ciphertext) = cipher.encrypt(&compress(&document)?, &aad)?;
    let sealed = SealedSnapshot {
        encryption: header,
        compression: Some(DEFLATE.to_string()),
        format_version: FORMAT_VERSION,
        serial,
        lineage: lineage.to_string(),
        ciphertext: STANDARD.encode(ciphertext),
    };
    let mut bytes = serde_json::to_vec(&sealed).map_err(unstorable)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A stored snapshot as the document it holds; `name` names it in messages.
pub fn open_snapshot(encryption: Option<&Encryption>, stored: Vec<u8>, name: &str) -> Result<Vec<u8>, StateError> {
    if !is_sealed(&stored) {
        return match encryption {
            Some(encryption) if !encryption.accept_plain => Err(not_encrypted(name)),
            _ => Ok(stored),
        };
    }
    let Some(encryption) = encryption else { return Err(encrypted(name)) };
    let sealed: SealedSnapshot = serde_json::from_slice(&stored).map_err(|e| damaged(name, &e.to_string()))?;
    let ciphertext = STANDARD.decode(&sealed.ciphertext).map_err(|e| damaged(name, &e.to_string()))?;
    let compression = sealed.compression.as_deref();
    let aad = snapshot_aad(sealed.format_version, &sealed.lineage, sealed.serial, compression);
    let plain = encryption.cipher.decrypt(&sealed.encryption, &ciphertext, &aad).map_err(|e| named(e, name))?;
    decompress(plain, compression, name)
}

/// A batch of journal lines (entries applying to the snapshot at `serial`) as stored:
/// one encrypted line when `encryption` says so, else the lines as they are.
pub fn seal_journal(encryption: Option<&Encryption>, lines: Vec<u8>, serial: u64) -> Result<Vec<u8>, StateError> {
    let Some(cipher) = encryption.and_then(Encryption::sealing) else { return Ok(lines) };
    let (header, ciphertext) = cipher.encrypt(&compress(&lines)?, &journal_aad(serial, Some(DEFLATE)))?;
    let sealed = SealedBatch {
        encryption: header,
        compression: Some(DEFLATE.to_string()),
        serial,
        ciphertext: STANDARD.encode(ciphertext),
    };
    let mut bytes = serde_json::to_vec(&sealed).map_err(unstorable)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A stored journal as its plain lines. An incomplete last line (a write cut short) is
/// kept as it is, for the journal parser to report and ignore.
pub fn open_journal(encryption: Option<&Encryption>, stored: &[u8], name: &str) -> Result<Vec<u8>, StateError> {
    if encryption.is_none() && !stored.windows(SEALED_PREFIX.len()).any(|w| w == SEALED_PREFIX) {
        return Ok(stored.to_vec());
    }
    let complete = super::journal::complete_length(stored);
    let mut plain = Vec::with_capacity(stored.len());
    for line in stored[..complete].split_inclusive(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        plain.extend(open_journal_line(encryption, line, name)?);
    }
    plain.extend_from_slice(&stored[complete..]);
    Ok(plain)
}

fn open_journal_line(encryption: Option<&Encryption>, line: &[u8], name: &str) -> Result<Vec<u8>, StateError> {
    if !is_sealed(line) {
        return match encryption {
            Some(encryption) if !encryption.accept_plain => Err(not_encrypted(name)),
            _ => Ok(line.to_vec()),
        };
    }
    let Some(encryption) = encryption else { return Err(encrypted(name)) };
    let sealed: SealedBatch = serde_json::from_slice(line).map_err(|e| damaged(name, &e.to_string()))?;
    let ciphertext = STANDARD.decode(&sealed.ciphertext).map_err(|e| damaged(name, &e.to_string()))?;
    let compression = sealed.compression.as_deref();
    let plain = encryption
        .cipher
        .decrypt(&sealed.encryption, &ciphertext, &journal_aad(sealed.serial, compression))
        .map_err(|e| named(e, name))?;
    decompress(plain, compression, name)
}

/// A saved plan's contents as stored under encryption: the key header and the
/// ciphertext (base64). The plan file keeps its format and module directory in the clear
/// beside it: the apply needs them to find the configuration, and so the keys.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct SealedPlan {
    encryption: Json,
    ciphertext: String,
}

fn plan_aad(format: &str, module_dir: &str) -> Vec<u8> {
    format!("infra-plan:{format}:{module_dir}").into_bytes()
}

/// A saved plan's contents (of `format`, for the module at `module_dir`) encrypted, when
/// `encryption` says so; `None` when plans are stored in the clear.
pub fn seal_plan(
    encryption: Option<&Encryption>,
    plan: &[u8],
    format: &str,
    module_dir: &str,
) -> Result<Option<SealedPlan>, StateError> {
    let Some(cipher) = encryption.and_then(Encryption::sealing) else { return Ok(None) };
    let (header, ciphertext) = cipher.encrypt(plan, &plan_aad(format, module_dir))?;
    Ok(Some(SealedPlan { encryption: header, ciphertext: STANDARD.encode(ciphertext) }))
}

/// The contents of a sealed saved plan; `name` names the file in messages. The format
/// and module directory stored beside it are authenticated with it.
pub fn open_plan(
    encryption: Option<&Encryption>,
    sealed: &SealedPlan,
    format: &str,
    module_dir: &str,
    name: &str,
) -> Result<Vec<u8>, StateError> {
    let Some(encryption) = encryption else { return Err(encrypted(name)) };
    let ciphertext = STANDARD.decode(&sealed.ciphertext).map_err(|e| damaged(name, &e.to_string()))?;
    encryption
        .cipher
        .decrypt(&sealed.encryption, &ciphertext, &plan_aad(format, module_dir))
        .map_err(|e| named(e, name))
}

/// Refuses a saved plan stored in the clear under an encryption configuration (unless
/// the state is being moved in or out of encryption).
pub fn check_plain_plan(encryption: Option<&Encryption>, name: &str) -> Result<(), StateError> {
    match encryption {
        Some(encryption) if !encryption.accept_plain && !encryption.write_plain => Err(StateError::new(
            StateErrorKind::NotEncrypted,
            format!("`{name}` is not encrypted, but the state's encryption is configured"),
        )
        .with_help(
            "it was saved before encryption was configured: run `infra plan --out FILE` again; nothing was changed",
        )),
        _ => Ok(()),
    }
}

fn named(error: StateError, name: &str) -> StateError {
    StateError { message: format!("`{name}`: {}", error.message), ..error }
}

fn encrypted(name: &str) -> StateError {
    StateError::new(StateErrorKind::Encrypted, format!("`{name}` is encrypted, and no key to decrypt it was given"))
        .with_help(
            "give its key: INFRA_STATE_PASSPHRASE for a passphrase, INFRA_STATE_KEY for a key, or the `encryption` \
             settings of the `state` block (see docs/state.md, encryption); nothing was changed",
        )
}

fn not_encrypted(name: &str) -> StateError {
    StateError::new(StateErrorKind::NotEncrypted, format!("`{name}` is not encrypted, but encryption is configured"))
        .with_help(
            "refusing to read it, so that a state swapped for a plain one is noticed. To encrypt an existing state, \
             run `infra state encrypt`; nothing was changed",
        )
}

fn damaged(name: &str, why: &str) -> StateError {
    StateError::new(StateErrorKind::Corrupt, format!("`{name}` is not a valid encrypted state: {why}"))
        .with_help("the stored bytes were changed; restore an earlier copy (nothing was changed)")
}

fn unstorable(error: serde_json::Error) -> StateError {
    StateError::new(StateErrorKind::Unstorable, format!("cannot serialize the encrypted state: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in cipher that flips every byte: enough to test the envelope, which does
    /// no cryptography itself.
    struct Flip;

    impl StateCipher for Flip {
        fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Result<(Json, Vec<u8>), StateError> {
            let header = serde_json::json!({ "aad": String::from_utf8_lossy(aad) });
            Ok((header, plain.iter().map(|b| !b).collect()))
        }

        fn decrypt(&self, header: &Json, ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StateError> {
            if header["aad"].as_str() != Some(&*String::from_utf8_lossy(aad)) {
                return Err(StateError::new(StateErrorKind::Corrupt, "wrong associated data"));
            }
            Ok(ciphertext.iter().map(|b| !b).collect())
        }
    }

    fn flip() -> Encryption {
        Encryption::new(Arc::new(Flip))
    }

    #[test]
    fn snapshots_round_trip_and_keep_serial_and_lineage_readable() {
        let sealed = seal_snapshot(Some(&flip()), b"{\"secret\":1}".to_vec(), "lin", 7).expect("sealed");
        assert!(is_sealed(&sealed));
        let header = crate::state::document::parse_header(&sealed, "s").expect("a readable header");
        assert_eq!((header.serial, header.lineage.as_str()), (7, "lin"));
        assert_eq!(open_snapshot(Some(&flip()), sealed.clone(), "s").expect("opened"), b"{\"secret\":1}");

        let error = open_snapshot(None, sealed.clone(), "s").expect_err("no key");
        assert_eq!(error.kind, StateErrorKind::Encrypted);
        // Compression is authenticated too: without its mark the bytes do not open.
        let unmarked = String::from_utf8_lossy(&sealed).replace("\"compression\":\"deflate\",", "");
        assert_ne!(unmarked.as_bytes(), &sealed[..]);
        assert!(open_snapshot(Some(&flip()), unmarked.into_bytes(), "s").is_err());
        // The serial is authenticated: one changed in the clear header does not open.
        let moved = String::from_utf8_lossy(&sealed).replace("\"serial\":7", "\"serial\":8");
        assert!(open_snapshot(Some(&flip()), moved.into_bytes(), "s").is_err());
    }

    #[test]
    fn a_plain_state_under_encryption_is_refused_unless_moving_in() {
        let error = open_snapshot(Some(&flip()), b"{}".to_vec(), "s").expect_err("plain");
        assert_eq!(error.kind, StateErrorKind::NotEncrypted);
        let moving = Encryption { accept_plain: true, ..flip() };
        assert_eq!(open_snapshot(Some(&moving), b"{}".to_vec(), "s").expect("read"), b"{}");
    }

    #[test]
    fn plans_seal_with_their_format_and_module_dir_as_associated_data() {
        let sealed = seal_plan(Some(&flip()), b"{\"plan\":1}", "f/1", "/m").expect("sealed").expect("encrypted");
        assert_eq!(open_plan(Some(&flip()), &sealed, "f/1", "/m", "p").expect("opened"), b"{\"plan\":1}");
        assert!(open_plan(Some(&flip()), &sealed, "f/1", "/other", "p").is_err());
        assert_eq!(open_plan(None, &sealed, "f/1", "/m", "p").expect_err("no key").kind, StateErrorKind::Encrypted);
        assert_eq!(seal_plan(None, b"{}", "f/1", "/m").expect("plain"), None);
        assert_eq!(check_plain_plan(Some(&flip()), "p").expect_err("plain").kind, StateErrorKind::NotEncrypted);
    }

    #[test]
    fn journal_batches_open_line_by_line_and_keep_a_torn_tail() {
        let mut stored = seal_journal(Some(&flip()), b"{\"a\":1}\n{\"b\":2}\n".to_vec(), 3).expect("sealed");
        stored.extend(seal_journal(Some(&flip()), b"{\"c\":3}\n".to_vec(), 3).expect("sealed"));
        stored.extend_from_slice(b"{\"encryption\":{\"ha");
        let plain = open_journal(Some(&flip()), &stored, "j").expect("opened");
        assert_eq!(plain, b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"encryption\":{\"ha");
        assert_eq!(open_journal(None, &stored, "j").expect_err("no key").kind, StateErrorKind::Encrypted);
    }
}
