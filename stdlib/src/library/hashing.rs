//! Built-in hashing functions: `sha1`, `sha256`, `sha512` and `md5` of a string's UTF-8
//! bytes in lower-case hexadecimal, and `bcrypt` with a random salt.
//!
//! docs/functions/hashing.md is the reference for users.

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;
use sha2::Digest;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] =
    &[("sha1", sha1), ("sha256", sha256), ("sha512", sha512), ("md5", md5), ("bcrypt", bcrypt)];

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
    Ok(Value::string(parts.format_for_version(bcrypt::Version::TwoA)))
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
