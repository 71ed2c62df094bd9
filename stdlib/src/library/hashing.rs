//! Built-in hashing and cryptographic functions: `sha1`, `sha256`, `sha512` and `md5` of
//! a string's UTF-8 bytes in lower-case hexadecimal, `base64sha256` and `base64sha512`
//! in Base64, `bcrypt` with a random salt, name-based UUIDs (`uuidv5`) and RSA
//! decryption (`rsadecrypt`).
//!
//! docs/functions/hashing.md is the reference for users.

use base64::Engine as _;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;
use sha2::Digest;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("sha1", sha1),
    ("sha256", sha256),
    ("sha512", sha512),
    ("md5", md5),
    ("bcrypt", bcrypt),
    ("base64sha256", base64sha256),
    ("base64sha512", base64sha512),
    ("uuidv5", uuidv5),
    ("rsadecrypt", rsadecrypt),
];

fn sha1(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    hex_digest::<sha1::Sha1>(args)
}

fn sha256(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    hex_digest::<sha2::Sha256>(args)
}

fn sha512(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    hex_digest::<sha2::Sha512>(args)
}

fn md5(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    hex_digest::<md5::Md5>(args)
}

fn hex_digest<D: Digest>(args: &[Value]) -> FunctionResult {
    let text = args::string(args, 0)?;
    Ok(Value::string(hex::encode(D::digest(text.as_bytes()))))
}

const DEFAULT_COST: u32 = 10;
/// The costs bcrypt allows (the crate does not export its own bounds).
const COSTS: std::ops::RangeInclusive<u32> = 4..=31;

/// The longest string bcrypt takes in full; Go's bcrypt refuses longer ones.
const MAX_BYTES: usize = 72;

/// Written in the `$2a$` form, as Terraform (Go's bcrypt) writes it; every bcrypt
/// implementation accepts it. A string over 72 bytes is an error rather than silently
/// truncated, as in current Go: the bytes after the 72nd would not count. (The crate's
/// non-truncating mode refuses 72 bytes too, which Go accepts, so the check is ours.)
fn bcrypt(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let cost = match args.get(1) {
        Some(_) => cost(args)?,
        None => DEFAULT_COST,
    };
    if text.len() > MAX_BYTES {
        return Err(FunctionError::new(format!(
            "the string is {} bytes long; bcrypt uses at most {MAX_BYTES}",
            text.len()
        ))
        .at(0)
        .with_help("hash a shorter string, or hash it first with `sha256`"));
    }
    let parts = bcrypt::hash_with_result(text.as_bytes(), cost)
        .map_err(|error| FunctionError::new(format!("bcrypt failed: {error}")))?;
    let hash = parts.format_for_version(bcrypt::Version::TwoA);
    // A new salt each call: the plan keeps the hash the state holds when it is one of
    // the same string at the same cost (see `infra_runtime::salted`).
    let kind = format!("bcrypt {}", hash.get(..7).unwrap_or_default());
    infra_runtime::salted::record(&hash, &text, &kind, same_bcrypt);
    Ok(Value::string(hash))
}

/// Whether `candidate` is a bcrypt hash of `input` at the cost `made` has (the two digits
/// after `$2a$`): then it stands for `made` (any of `$2a$`, `$2b$`, `$2y$`).
fn same_bcrypt(input: &str, made: &str, candidate: &str) -> bool {
    let cost = |hash: &str| hash.get(4..7).map(str::to_string);
    candidate.len() == 60 && cost(candidate) == cost(made) && bcrypt::verify(input, candidate).unwrap_or(false)
}

/// The cost argument: a whole number from 4 to 31.
fn cost(args: &[Value]) -> Result<u32, FunctionError> {
    let cost = args::integer(args, 1)?;
    u32::try_from(cost).ok().filter(|c| COSTS.contains(c)).ok_or_else(|| {
        FunctionError::new(format!("the cost must be from {} to {}, found {cost}", COSTS.start(), COSTS.end()))
            .at(1)
            .with_help(format!("the default, {DEFAULT_COST}, suits most uses; each step doubles the time"))
    })
}

fn base64sha256(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    base64_digest::<sha2::Sha256>(args)
}

fn base64sha512(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    base64_digest::<sha2::Sha512>(args)
}

fn base64_digest<D: Digest>(args: &[Value]) -> FunctionResult {
    let text = args::string(args, 0)?;
    Ok(Value::string(base64::engine::general_purpose::STANDARD.encode(D::digest(text.as_bytes()))))
}

/// The namespace is `dns`, `url`, `oid`, `x500` or a UUID of its own.
fn uuidv5(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let namespace = args::string(args, 0)?;
    let name = args::string(args, 1)?;
    let namespace = match namespace.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        // The crate's messages ("invalid length: found 3") do not say what was expected.
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            FunctionError::new(format!(
                "{} is not a namespace: it is neither `dns`, `url`, `oid` nor `x500`, nor a UUID",
                infra_runtime::value::quote(other)
            ))
            .at(0)
            .with_help(
                "a namespace is `dns`, `url`, `oid`, `x500` or a UUID such as `6ba7b810-9dad-11d1-80b4-00c04fd430c8`",
            )
        })?,
    };
    Ok(Value::string(uuid::Uuid::new_v5(&namespace, name.as_bytes()).hyphenated().to_string()))
}

/// PKCS #1 v1.5 decryption, as Terraform's `rsadecrypt`. No message quotes the key: it
/// is a secret even when it is not marked as one.
fn rsadecrypt(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let ciphertext = args::string(args, 0)?;
    let ciphertext = super::encoding::decode_base64(&ciphertext).map_err(|_| {
        FunctionError::new("the ciphertext is not Base64")
            .at(0)
            .with_help("pass the Base64 text of the encrypted bytes, such as a password data attribute")
    })?;
    let key = private_key(&args::string(args, 1)?)?;
    let plain = key.decrypt(rsa::Pkcs1v15Encrypt, &ciphertext).map_err(|_| {
        FunctionError::new("cannot decrypt: the ciphertext was not encrypted for this key, or is damaged")
            .at(0)
            .with_help("check that the key is the private half of the key the text was encrypted with")
    })?;
    String::from_utf8(plain).map(Value::string).map_err(|_| {
        FunctionError::new("the decrypted bytes are not UTF-8 text")
            .with_help("only encrypted text can be decrypted into a string")
    })
}

/// An RSA private key in PEM (PKCS #1 `RSA PRIVATE KEY` or PKCS #8 `PRIVATE KEY`) or
/// OpenSSH form, unencrypted.
fn private_key(text: &str) -> Result<rsa::RsaPrivateKey, FunctionError> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let text = text.trim();
    if let Ok(key) = rsa::RsaPrivateKey::from_pkcs1_pem(text).or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(text)) {
        return Ok(key);
    }
    let invalid = |what: &str| {
        FunctionError::new(format!("the private key is {what}"))
            .at(1)
            .with_help("pass an unencrypted RSA private key in PEM (`-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN PRIVATE KEY-----`) or OpenSSH form")
    };
    let openssh = ssh_key::PrivateKey::from_openssh(text)
        .map_err(|_| invalid("not an RSA private key in PEM or OpenSSH form"))?;
    if openssh.is_encrypted() {
        return Err(invalid("encrypted with a passphrase"));
    }
    let keypair = openssh.key_data().rsa().ok_or_else(|| invalid("not an RSA key"))?;
    rsa::RsaPrivateKey::try_from(keypair).map_err(|_| invalid("not a valid RSA key"))
}
