//! Checking one value against an attribute's [`Validator`]s: what the checker runs on
//! literals and the planner on values known only at plan time, so both say the same.
//!
//! A validator looks at a string, a number or a collection's size ([`Subject`]); the
//! caller walks the value (every element of a list, set or map for the validators of
//! single values, the collection itself for [`Validator::Length`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::Validator;
use crate::diagnostic::suggest;

/// What a validator looks at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Subject<'a> {
    Text(&'a str),
    Number(f64),
    /// A list, set or map with this many elements.
    Collection(usize),
}

/// Why a value was refused, and the accepted form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// What is wrong, said after the value: "is not a CIDR block: ...".
    pub problem: String,
    /// The accepted form, such as "write an address and a prefix length, such as `10.0.0.0/16`".
    pub help: String,
}

impl Rejection {
    fn new(problem: impl Into<String>, help: impl Into<String>) -> Rejection {
        Rejection { problem: problem.into(), help: help.into() }
    }

    /// The diagnostic's message: the value as written (`shown`, cut when long), or, for a
    /// sensitive value or a collection (`shown` is `None`), the attribute's name.
    pub fn message(&self, attribute: &str, shown: Option<&str>) -> String {
        match shown {
            Some(text) => format!("`{}` {}", shorten(text), self.problem),
            None => format!("the value of `{attribute}` {}", self.problem),
        }
    }
}

/// At most 60 characters of `text`, with an ellipsis when cut.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 60 {
        return text.to_string();
    }
    format!("{}…", text.chars().take(57).collect::<String>())
}

impl Validator {
    /// Whether it checks each element of a collection (every validator but
    /// [`Validator::Length`], which counts the elements).
    pub fn checks_elements(&self) -> bool {
        !matches!(self, Validator::Length { .. })
    }

    /// Checks one value of attribute `attribute`. With `secret`, the rejection says
    /// nothing derived from the value. A subject the validator does not look at (a
    /// number for a CIDR validator) passes: the type checker reports it.
    pub fn check(&self, attribute: &str, subject: Subject<'_>, secret: bool) -> Result<(), Rejection> {
        match (self, subject) {
            (Validator::Cidr, Subject::Text(text)) => cidr(text, None, secret),
            (Validator::Ipv4Cidr { min_prefix, max_prefix }, Subject::Text(text)) => {
                cidr(text, Some((*min_prefix, *max_prefix)), secret)
            }
            (Validator::OneOf(accepted), Subject::Text(text)) => one_of(attribute, accepted, text, secret),
            // A number is compared as the language writes it: `2048` for `2048.0`.
            (Validator::OneOf(accepted), Subject::Number(number)) => {
                one_of(attribute, accepted, &number.to_string(), secret)
            }
            (Validator::Range { min, max }, Subject::Number(number)) => range(attribute, *min, *max, number),
            (Validator::Duration, Subject::Text(text)) => duration(text, secret),
            (Validator::Regex { pattern, description }, Subject::Text(text)) => {
                regex(attribute, pattern, description, text)
            }
            (Validator::Length { min, max }, Subject::Text(text)) => {
                length(attribute, *min, *max, text.chars().count(), "character")
            }
            (Validator::Length { min, max }, Subject::Collection(count)) => {
                length(attribute, *min, *max, count, "element")
            }
            _ => Ok(()),
        }
    }
}

const CIDR_HELP: &str = "write an address and a prefix length, such as `10.0.0.0/16`";

/// A CIDR block whose address is the network's (no host bits set); `ipv4_prefix` limits
/// it to IPv4 with a prefix length in that range.
fn cidr(text: &str, ipv4_prefix: Option<(u8, u8)>, secret: bool) -> Result<(), Rejection> {
    let refuse = |reason: &str| Rejection::new(format!("is not a CIDR block: {reason}"), CIDR_HELP);
    let Some((address, prefix)) = text.split_once('/') else {
        return Err(refuse("it has no prefix length, such as `/16`"));
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return Err(refuse("the part before `/` is not an IPv4 or IPv6 address"));
    };
    let bits = if address.is_ipv4() { 32 } else { 128 };
    let version = if address.is_ipv4() { "IPv4" } else { "IPv6" };
    let length = match prefix.parse::<u32>() {
        Ok(length) if prefix.bytes().all(|b| b.is_ascii_digit()) => length,
        _ => return Err(refuse("the prefix length after `/` is not a whole number")),
    };
    if length > bits {
        return Err(refuse(&format!("the prefix length of an {version} block is at most {bits}")));
    }
    if let Some((min, max)) = ipv4_prefix {
        if !address.is_ipv4() {
            return Err(Rejection::new("is not an IPv4 CIDR block", "write an IPv4 block, such as `10.0.0.0/16`"));
        }
        if length < u32::from(min) || length > u32::from(max) {
            return Err(Rejection::new(
                format!("is not a block of an accepted size: the prefix length must be from /{min} to /{max}"),
                format!(
                    "write a block from /{min} (the largest) to /{max} (the smallest), such as `10.0.0.0/{}`",
                    min.max(16)
                ),
            ));
        }
    }
    let network = network_address(address, length);
    if network == address {
        return Ok(());
    }
    let help = if secret {
        "write the block's network address, with the host bits zero".to_string()
    } else {
        format!("write the block's network address, `{network}/{length}`")
    };
    Err(Rejection::new("is not a CIDR block: bits of the address past the prefix length are set", help))
}

/// `address` with every bit past the first `length` cleared.
fn network_address(address: IpAddr, length: u32) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - length).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

fn one_of(attribute: &str, accepted: &[String], text: &str, secret: bool) -> Result<(), Rejection> {
    if accepted.iter().any(|a| a == text) {
        return Ok(());
    }
    // A value in the wrong case (`TCP` for `tcp`) is the likeliest slip.
    let same_but_case = accepted.iter().find(|a| a.eq_ignore_ascii_case(text)).map(|a| format!("did you mean `{a}`?"));
    let suggestion =
        if secret { None } else { same_but_case.or_else(|| suggest(text, accepted.iter().map(String::as_str))) };
    let help = suggestion.unwrap_or_else(|| format!("write one of {}", quoted_list(accepted, 10)));
    Err(Rejection::new(format!("is not a value `{attribute}` accepts"), help))
}

/// `a`, `b` or `c`; past `limit` values, the first few and how many more there are.
fn quoted_list(values: &[String], limit: usize) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_string(),
        [one] => one.clone(),
        _ if quoted.len() > limit => {
            format!(
                "{} or {} more (see the provider's documentation)",
                quoted[..limit].join(", "),
                quoted.len() - limit
            )
        }
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn range(attribute: &str, min: i64, max: i64, number: f64) -> Result<(), Rejection> {
    let help = format!("`{attribute}` takes a whole number from {min} to {max}");
    if number.fract() != 0.0 || !number.is_finite() {
        return Err(Rejection::new("is not a whole number", help));
    }
    if number < min as f64 || number > max as f64 {
        return Err(Rejection::new(
            format!("is out of range: `{attribute}` is at least {min} and at most {max}"),
            help,
        ));
    }
    Ok(())
}

fn duration(text: &str, secret: bool) -> Result<(), Rejection> {
    let help = "write numbers with units, such as `100ms`, `2s`, `1m30s` or `1h`";
    match parse_duration(text) {
        Ok(_) => Ok(()),
        Err(_) if secret => Err(Rejection::new("is not a duration", help)),
        Err(reason) => Err(Rejection::new(format!("is not a duration: {reason}"), help)),
    }
}

fn regex(attribute: &str, pattern: &str, description: &str, text: &str) -> Result<(), Rejection> {
    // A pattern that does not compile is a schema bug the stdlib's tests catch; it
    // refuses nothing rather than everything.
    let Some(compiled) = compiled(pattern) else { return Ok(()) };
    if compiled.is_match(text) {
        return Ok(());
    }
    Err(Rejection::new(format!("is not a valid `{attribute}`"), format!("`{attribute}` takes {description}")))
}

/// `pattern` compiled once per process.
fn compiled(pattern: &str) -> Option<Arc<regex::Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = cache.get(pattern) {
        return Some(found.clone());
    }
    let compiled = Arc::new(regex::Regex::new(pattern).ok()?);
    cache.insert(pattern.to_string(), compiled.clone());
    Some(compiled)
}

fn length(attribute: &str, min: usize, max: Option<usize>, count: usize, unit: &str) -> Result<(), Rejection> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let accepted = match max {
        Some(max) if min > 0 => format!("from {min} to {max} {unit}s"),
        Some(max) => format!("at most {max} {unit}{}", plural(max)),
        None => format!("at least {min} {unit}{}", plural(min)),
    };
    let help = format!("`{attribute}` takes {accepted}");
    if count < min {
        return Err(Rejection::new(format!("is too short: it has {count} {unit}{}", plural(count)), help));
    }
    match max {
        Some(max) if count > max => {
            Err(Rejection::new(format!("is too long: it has {count} {unit}{}", plural(count)), help))
        }
        _ => Ok(()),
    }
}

/// Parses a duration the way Go's `time.ParseDuration` does (Terraform's `time_sleep` uses
/// it, so durations written for Terraform mean the same here): one or more decimal numbers,
/// each followed by a unit, `ns`, `us` (or `µs`), `ms`, `s`, `m` or `h`, such as `"100ms"`,
/// `"1m30s"` or `"1.5h"`; `"0"` alone needs no unit. Signs are not accepted: a wait cannot
/// be negative. The arithmetic is in whole nanoseconds, so `"0.1s"` is exactly 100ms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    let mut nanos: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        if number.is_empty() {
            return Err(format!("expected a number at `{rest}`"));
        }
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let unit_nanos = unit_nanos(unit).ok_or_else(|| match unit {
            "" => format!("`{number}` has no unit"),
            _ if unit.contains(char::is_whitespace) => {
                "it has a space; write the units right after the numbers".to_string()
            }
            _ => format!("`{unit}` is not a unit (use ns, us, ms, s, m or h)"),
        })?;
        let component = component_nanos(number, unit_nanos).ok_or_else(|| format!("`{number}` is not a number"))?;
        nanos = nanos.checked_add(component).ok_or("it is too long")?;
        rest = next;
    }
    let seconds = u64::try_from(nanos / 1_000_000_000).map_err(|_| "it is too long")?;
    Ok(Duration::new(seconds, (nanos % 1_000_000_000) as u32))
}

/// The nanoseconds in one of a Go duration's units (`ns`, `us`/`µs`, `ms`, `s`, `m`,
/// `h`), which durations everywhere in the language use.
pub fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// `number` (digits, with at most one decimal point) times a unit, in nanoseconds; digits
/// finer than a nanosecond are dropped.
fn component_nanos(number: &str, unit_nanos: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut nanos = whole.checked_mul(unit_nanos)?;
    let mut scale = unit_nanos;
    for digit in fraction.bytes() {
        scale /= 10;
        nanos = nanos.checked_add(u128::from(digit - b'0') * scale)?;
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::{Subject, Validator};

    fn check(validator: &Validator, text: &str) -> Result<(), (String, String)> {
        validator.check("attr", Subject::Text(text), false).map_err(|r| (r.message("attr", Some(text)), r.help))
    }

    #[test]
    fn cidr_blocks() {
        for ok in ["10.0.0.0/16", "0.0.0.0/0", "10.0.1.0/24", "2001:db8::/32", "::/0", "192.168.1.7/32"] {
            assert_eq!(check(&Validator::Cidr, ok), Ok(()), "{ok}");
        }
        let (message, help) = check(&Validator::Cidr, "10.0.0.0/33").expect_err("/33");
        assert_eq!(message, "`10.0.0.0/33` is not a CIDR block: the prefix length of an IPv4 block is at most 32");
        assert_eq!(help, "write an address and a prefix length, such as `10.0.0.0/16`");
        for bad in ["10.0.0.0", "10.0.0/16", "10.0.0.0/x", "10.0.0.0/+8", "2001:db8::/129", ""] {
            assert!(check(&Validator::Cidr, bad).is_err(), "{bad}");
        }
        let (message, help) = check(&Validator::Cidr, "10.0.0.1/16").expect_err("host bits");
        assert!(message.contains("past the prefix length are set"), "{message}");
        assert_eq!(help, "write the block's network address, `10.0.0.0/16`");
    }

    #[test]
    fn ipv4_cidr_blocks_with_a_prefix_range() {
        let vpc = Validator::Ipv4Cidr { min_prefix: 16, max_prefix: 28 };
        assert_eq!(check(&vpc, "10.0.0.0/16"), Ok(()));
        assert_eq!(check(&vpc, "10.0.0.16/28"), Ok(()));
        assert!(check(&vpc, "10.0.0.0/8").expect_err("/8").0.contains("from /16 to /28"));
        assert!(check(&vpc, "2001:db8::/56").is_err());
    }

    #[test]
    fn one_of_suggests_the_closest_value() {
        let types = Validator::OneOf(vec!["t3.micro".into(), "t3.small".into(), "m5.large".into()]);
        assert_eq!(check(&types, "t3.micro"), Ok(()));
        let (message, help) = check(&types, "t3.mirco").expect_err("typo");
        assert_eq!(message, "`t3.mirco` is not a value `attr` accepts");
        assert_eq!(help, "did you mean `t3.micro`?");
        assert_eq!(check(&types, "T3.Micro").expect_err("case").1, "did you mean `t3.micro`?");
        let (_, help) = check(&types, "zzz").expect_err("far");
        assert_eq!(help, "write one of `t3.micro`, `t3.small` or `m5.large`");
    }

    #[test]
    fn ranges_take_whole_numbers_inside_them() {
        let port = Validator::Range { min: 0, max: 65535 };
        for ok in [0.0, 80.0, 65535.0] {
            assert_eq!(port.check("port", Subject::Number(ok), false), Ok(()));
        }
        for bad in [-1.0, 65536.0, 8.5] {
            assert!(port.check("port", Subject::Number(bad), false).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_lengths_and_patterns() {
        assert_eq!(check(&Validator::Duration, "1m30s"), Ok(()));
        assert!(check(&Validator::Duration, "5 minutes").is_err());
        let name = Validator::Length { min: 1, max: Some(3) };
        assert_eq!(check(&name, "abc"), Ok(()));
        assert!(check(&name, "abcd").expect_err("long").0.contains("too long"));
        assert!(name.check("tags", Subject::Collection(4), false).is_err());
        let octal = Validator::Regex { pattern: "^0?[0-7]{3}$".into(), description: "an octal mode".into() };
        assert_eq!(check(&octal, "0644"), Ok(()));
        assert_eq!(check(&octal, "0999").expect_err("bad").1, "`attr` takes an octal mode");
    }

    #[test]
    fn secrets_are_not_echoed() {
        let rejection = Validator::Cidr.check("cidr", Subject::Text("10.9.8.7/16"), true).expect_err("host bits");
        let message = rejection.message("cidr", None);
        assert!(!message.contains("10.") && !rejection.help.contains("10."), "{message} {}", rejection.help);
        let one_of = Validator::OneOf(vec!["secret1".into()]);
        let rejection = one_of.check("x", Subject::Text("secret2"), true).expect_err("not accepted");
        assert!(!rejection.help.contains("did you mean"));
    }
}
