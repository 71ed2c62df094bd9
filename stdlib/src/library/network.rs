//! Built-in network functions: `cidrsubnet`, `cidrhost`, `cidrnetmask` and `cidrsubnets`,
//! for IPv4 and IPv6 prefixes alike (`cidrnetmask` is IPv4 only, as in Terraform).
//!
//! Parsing and printing are the `ipnet` crate's; the arithmetic is done on addresses as
//! `u128`, which holds both families. As in Terraform, a prefix with host bits set
//! (`10.0.0.5/16`) stands for its network (`10.0.0.0/16`). One difference: octets with
//! leading zeros (`010.0.0.0/8`) are refused rather than read as decimal.
//! docs/functions/network.md is the reference for users.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;
use ipnet::IpNet;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] =
    &[("cidrsubnet", cidrsubnet), ("cidrhost", cidrhost), ("cidrnetmask", cidrnetmask), ("cidrsubnets", cidrsubnets)];

/// Terraform's limit on one extension in `cidrsubnets`, kept so that the same
/// configurations are accepted.
const MAX_NEWBITS: i64 = 32;

fn cidrsubnet(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let net = prefix(args, 0)?;
    let newbits = args::integer(args, 1)?;
    let new_len = extended_len(net, newbits, 1)?;
    let netnum = args::integer(args, 2)?;
    let count = 1u128.checked_shl(new_len - u32::from(net.prefix_len()));
    let in_range = u128::try_from(netnum).is_ok_and(|n| count.is_none_or(|count| n < count));
    if !in_range {
        let count = count.map_or_else(|| "2^128".to_string(), |c| c.to_string());
        return Err(FunctionError::new(format!(
            "subnet number {netnum} does not exist: {net} extended by {newbits} bits has {count} subnets"
        ))
        .at(2)
        .with_help("subnets are numbered from 0 to one less than 2^newbits"));
    }
    let offset = (netnum as u128).checked_shl(host_bits(net, new_len)).unwrap_or(0);
    Ok(Value::string(network(net, address(net) + offset, new_len).to_string()))
}

fn cidrhost(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let net = prefix(args, 0)?;
    let hostnum = args::integer(args, 1)?;
    let last = last_offset(host_bits(net, u32::from(net.prefix_len())));
    // A negative number counts back from the last address: -1 is the last.
    let offset = match u128::try_from(hostnum) {
        Ok(n) => (n <= last).then_some(n),
        Err(_) => last.checked_sub(u128::from(hostnum.unsigned_abs() - 1)),
    };
    let Some(offset) = offset else {
        return Err(FunctionError::new(format!("host number {hostnum} is outside {net}"))
            .at(1)
            .with_help(format!("{net} has host numbers 0 to {last}, or -1 back to -{}", u128_plus_one(last))));
    };
    Ok(Value::string(ip(net, address(net) + offset).to_string()))
}

fn cidrnetmask(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    match prefix(args, 0)? {
        IpNet::V4(net) => Ok(Value::string(net.netmask().to_string())),
        IpNet::V6(net) => Err(FunctionError::new(format!("{net} is an IPv6 prefix, which has no netmask"))
            .at(0)
            .with_help("netmasks are an IPv4 notion; use the prefix length of an IPv6 prefix")),
    }
}

/// Allocates one subnet per `newbits` argument, each right after the previous one and
/// aligned to its own size, as Terraform does; a larger subnet after a smaller one can
/// therefore leave a gap.
fn cidrsubnets(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let net = prefix(args, 0)?;
    let base = address(net);
    let available = last_offset(host_bits(net, u32::from(net.prefix_len())));
    // The offset from `base` of the next free address; `None` once the prefix is full.
    let mut next = Some(0u128);
    let mut subnets = Vec::with_capacity(args.len().saturating_sub(1));
    for i in 1..args.len() {
        let newbits = args::integer(args, i)?;
        if !(1..=MAX_NEWBITS).contains(&newbits) {
            return Err(FunctionError::new(format!("newbits must be from 1 to {MAX_NEWBITS}, found {newbits}"))
                .at(i)
                .with_help("each argument after the prefix is how many bits to add to its length"));
        }
        let new_len = extended_len(net, newbits, i)?;
        let size_minus_one = last_offset(host_bits(net, new_len));
        // Round up to a multiple of the subnet's size, then check that it all fits.
        let start = next.and_then(|n| n.checked_add(size_minus_one)).map(|n| n & !size_minus_one);
        let Some(start) = start.filter(|s| s.checked_add(size_minus_one).is_some_and(|end| end <= available)) else {
            let after = subnets.last().map_or(String::new(), |s: &IpNet| format!(" after {s}"));
            return Err(FunctionError::new(format!("no room left in {net} for a /{new_len} subnet{after}"))
                .at(i)
                .with_help("use fewer or smaller subnets (more new bits), or a larger prefix"));
        };
        subnets.push(network(net, base + start, new_len));
        next = (start + size_minus_one).checked_add(1);
    }
    Ok(Value::list(subnets.into_iter().map(|s| Value::string(s.to_string())).collect()))
}

/// Argument `i` as a CIDR prefix, reduced to its network address.
fn prefix(args: &[Value], i: usize) -> Result<IpNet, FunctionError> {
    let text = args::string(args, i)?;
    text.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| {
        FunctionError::new(format!("invalid CIDR prefix {}", infra_runtime::value::quote(&text)))
            .at(i)
            .with_help("write an address, `/` and a prefix length, such as \"10.0.0.0/16\" or \"fd00::/48\"")
    })
}

/// The prefix length of `net` extended by `newbits` (argument `i`), if it fits the
/// address family.
fn extended_len(net: IpNet, newbits: i64, i: usize) -> Result<u32, FunctionError> {
    let len = i64::from(net.prefix_len());
    let max = i64::from(net.max_prefix_len());
    if newbits < 0 {
        return Err(FunctionError::new(format!("newbits must not be negative, found {newbits}"))
            .at(i)
            .with_help("newbits is how many bits to add to the prefix length"));
    }
    if len + newbits > max {
        let family = if max == 32 { "IPv4" } else { "IPv6" };
        return Err(FunctionError::new(format!(
            "cannot extend {net} by {newbits} bits: an {family} prefix has at most {max} bits"
        ))
        .at(i)
        .with_help(format!("{net} can be extended by at most {} bits", max - len)));
    }
    // Both are at most 128, so the sum is too.
    Ok((len + newbits) as u32)
}

/// How many bits of an address are left for hosts under a prefix of `len` bits.
fn host_bits(net: IpNet, len: u32) -> u32 {
    u32::from(net.max_prefix_len()) - len
}

/// The offset of the last address in a block of `host_bits` bits: 2^host_bits - 1.
fn last_offset(host_bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - host_bits).unwrap_or(0)
}

/// `n + 1` as text, which for `u128::MAX` is 2^128.
fn u128_plus_one(n: u128) -> String {
    n.checked_add(1).map_or_else(|| "340282366920938463463374607431768211456".to_string(), |n| n.to_string())
}

fn address(net: IpNet) -> u128 {
    match net.network() {
        IpAddr::V4(addr) => u128::from(u32::from(addr)),
        IpAddr::V6(addr) => u128::from(addr),
    }
}

/// The address `value` in the family of `net`; `value` lies inside `net`.
fn ip(net: IpNet, value: u128) -> IpAddr {
    match net {
        // An address inside an IPv4 prefix fits 32 bits.
        IpNet::V4(_) => IpAddr::V4(Ipv4Addr::from(value as u32)),
        IpNet::V6(_) => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// The prefix `value/len` in the family of `net`; callers keep `len` within the family.
fn network(net: IpNet, value: u128, len: u32) -> IpNet {
    let len = u8::try_from(len).unwrap_or(net.max_prefix_len()).min(net.max_prefix_len());
    IpNet::new(ip(net, value), len).unwrap_or(net)
}
