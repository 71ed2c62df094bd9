//! Built-in number functions: `min`, `max`, `abs`, `ceil`, `floor`, `pow`, `parseint`
//! and `signum`, with Terraform's semantics. docs/functions/numbers.md is the reference
//! for users.
//!
//! Numbers are `f64`. Where Terraform's arbitrary-precision numbers would produce an
//! infinity or NaN (`pow(0, -1)`), these functions report an error instead, because such
//! a value cannot be written in the language nor stored in state.

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::format_number;
use infra_runtime::Value;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("min", min),
    ("max", max),
    ("abs", abs),
    ("ceil", ceil),
    ("floor", floor),
    ("pow", pow),
    ("parseint", parseint),
    ("signum", signum),
    ("log", log),
];

/// Every argument as a number, for the variadic functions.
fn numbers(arguments: &[Value]) -> Result<Vec<f64>, FunctionError> {
    (0..arguments.len()).map(|i| args::number(arguments, i)).collect()
}

/// `min(first, rest...)`. The checker requires the first argument; an unchecked call
/// without any still fails cleanly.
fn min(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let numbers = numbers(arguments)?;
    numbers.into_iter().reduce(f64::min).map(Value::number).ok_or_else(no_arguments)
}

/// `max(first, rest...)`.
fn max(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let numbers = numbers(arguments)?;
    numbers.into_iter().reduce(f64::max).map(Value::number).ok_or_else(no_arguments)
}

fn no_arguments() -> FunctionError {
    FunctionError::new("at least one number is required")
}

fn abs(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::number(args::number(arguments, 0)?.abs()))
}

fn ceil(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::number(args::number(arguments, 0)?.ceil()))
}

fn floor(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::number(args::number(arguments, 0)?.floor()))
}

/// `pow(base, exponent)`; a result that is not a finite number is an error.
fn pow(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let base = args::number(arguments, 0)?;
    let exponent = args::number(arguments, 1)?;
    let result = base.powf(exponent);
    if !result.is_finite() {
        let message =
            format!("{} to the power of {} is not a finite number", format_number(base), format_number(exponent));
        return Err(FunctionError::new(message)
            .with_help("a negative base needs a whole exponent, and zero has no negative powers"));
    }
    Ok(Value::number(result))
}

/// `signum(number)`: -1, 0 or 1. (Rust's `f64::signum` says 1 for zero, so zero is
/// handled first.)
fn signum(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let n = args::number(arguments, 0)?;
    Ok(Value::number(if n == 0.0 { 0.0 } else { n.signum() }))
}

/// `parseint(string, base)`: an optional sign and digits in `base`, from 2 to 62. Up to
/// base 36 letters stand for 10 to 35 in either case; above it lower case stands for 10
/// to 35 and upper case for 36 to 61, as Go's `big.Int.SetString` reads them. Prefixes
/// such as `0x` and underscores are not accepted.
fn parseint(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let base = args::integer(arguments, 1)?;
    let base = u32::try_from(base)
        .ok()
        .filter(|b| (2..=62).contains(b))
        .ok_or_else(|| FunctionError::new(format!("the base must be between 2 and 62, found {base}")).at(1))?;
    let (negative, digits) = match string.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, string.strip_prefix('+').unwrap_or(&string)),
    };
    let invalid = || {
        FunctionError::new(format!("cannot parse \"{string}\" as a base {base} integer"))
            .at(0)
            .with_help(format!("base {base} uses the digits {}", digit_names(base)))
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut magnitude: u128 = 0;
    for c in digits.chars() {
        let digit = digit_value(c, base).ok_or_else(invalid)?;
        magnitude = magnitude
            .checked_mul(u128::from(base))
            .and_then(|m| m.checked_add(u128::from(digit)))
            .ok_or_else(|| FunctionError::new(format!("\"{string}\" is too large a number")).at(0))?;
    }
    let magnitude = magnitude as f64;
    Ok(Value::number(if negative { -magnitude } else { magnitude }))
}

/// The value of digit `c` in `base`, if it is one.
fn digit_value(c: char, base: u32) -> Option<u32> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (value < base).then_some(value)
}

/// The digits of `base` for a help message: `0-7`, `0-9 and a-f (either case)`, ...
fn digit_names(base: u32) -> String {
    let letter = |offset: u32| char::from_u32(offset).unwrap_or('?');
    match base {
        0..=10 => format!("0-{}", base - 1),
        11..=36 => format!("0-9 and a-{} (either case)", letter('a' as u32 + base - 11)),
        _ => format!("0-9, a-z and A-{}", letter('A' as u32 + base - 37)),
    }
}

/// `log(number, base)`: the natural logarithm of the number divided by that of the base,
/// as Terraform computes it. Results that are not finite numbers are errors.
fn log(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let number = args::number(arguments, 0)?;
    let base = args::number(arguments, 1)?;
    let result = number.ln() / base.ln();
    if !result.is_finite() {
        let (at, message) = match () {
            _ if number < 0.0 => (0, format!("the logarithm of {} is not a number", format_number(number))),
            _ if number == 0.0 => (0, "the logarithm of 0 is minus infinity".to_string()),
            _ if base < 0.0 => (1, format!("a logarithm in base {} is not a number", format_number(base))),
            _ => (1, format!("a logarithm in base {} is infinite", format_number(base))),
        };
        return Err(FunctionError::new(message)
            .at(at)
            .with_help("use a positive number and a positive base other than 1"));
    }
    // `log(10, 0)` is -0, which is 0.
    Ok(Value::number(result + 0.0))
}
