//! Reading function arguments with errors that name the argument.

use infra_runtime::function::FunctionError;
use infra_runtime::value::format_number;
use infra_runtime::{Kind, Value};

/// Argument `i` as a string; numbers and bools convert, as the checker allows.
pub(crate) fn string(args: &[Value], i: usize) -> Result<String, FunctionError> {
    match args.get(i).map(|v| &v.kind) {
        Some(Kind::String(s)) => Ok(s.to_string()),
        Some(Kind::Number(n)) => Ok(format_number(*n)),
        Some(Kind::Bool(b)) => Ok(b.to_string()),
        _ => Err(wrong(args, i, "a string")),
    }
}

/// Argument `i` as a number; numeric strings convert.
pub(crate) fn number(args: &[Value], i: usize) -> Result<f64, FunctionError> {
    match args.get(i).map(|v| &v.kind) {
        Some(Kind::Number(n)) => Ok(*n),
        Some(Kind::String(s)) => s.trim().parse::<f64>().map_err(|_| wrong(args, i, "a number")),
        _ => Err(wrong(args, i, "a number")),
    }
}

/// Argument `i` as a whole number that fits an `i64`.
pub(crate) fn integer(args: &[Value], i: usize) -> Result<i64, FunctionError> {
    let n = number(args, i)?;
    if n.fract() != 0.0 || !n.is_finite() || n.abs() > 9.007_199_254_740_992e15 {
        return Err(FunctionError::new(format!(
            "argument {} must be a whole number, found {}",
            i + 1,
            format_number(n)
        ))
        .at(i));
    }
    Ok(n as i64)
}

/// Argument `i` as the elements of a list or set.
pub(crate) fn list(args: &[Value], i: usize) -> Result<&[Value], FunctionError> {
    args.get(i).and_then(Value::as_list).ok_or_else(|| wrong(args, i, "a list"))
}

/// Argument `i` as a map or object.
pub(crate) fn map(args: &[Value], i: usize) -> Result<&infra_runtime::value::ValueMap, FunctionError> {
    args.get(i).and_then(Value::as_map).ok_or_else(|| wrong(args, i, "a map"))
}

/// Argument `i`, which must be present (the checker counts arguments, but a call from
/// `infra console` or a test may not have been checked).
pub(crate) fn any(args: &[Value], i: usize) -> Result<&Value, FunctionError> {
    args.get(i).ok_or_else(|| FunctionError::new(format!("missing argument {}", i + 1)))
}

/// "argument 2 must be a number, found a string"
pub(crate) fn wrong(args: &[Value], i: usize, expected: &str) -> FunctionError {
    let found = args.get(i).map_or_else(|| "nothing".to_string(), a_type);
    FunctionError::new(format!("argument {} must be {expected}, found {found}", i + 1)).at(i)
}

/// A value's type with its article, for messages: "a string", "an object", "null".
pub(crate) fn a_type(value: &Value) -> String {
    value.a_type_name()
}
