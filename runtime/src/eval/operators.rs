//! Unary and binary operators over values, unknowns and marks included.

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::syntax::ast::{BinaryOp, UnaryOp};
use infra_compiler::types::Type;
use infra_compiler::Span;

use super::{invalid_value, redacted, EvalResult};
use crate::value::{Kind, Value};

pub(super) fn unary(op: UnaryOp, value: &Value, span: Span) -> EvalResult {
    let result = match (op, &value.kind) {
        (UnaryOp::Neg, Kind::Unknown(_)) => Value::unknown(Type::Number),
        (UnaryOp::Not, Kind::Unknown(_)) => Value::unknown(Type::Bool),
        (UnaryOp::Neg, Kind::Number(n)) => Value::number(-n),
        (UnaryOp::Not, Kind::Bool(b)) => Value::bool(!b),
        (UnaryOp::Neg, _) => return Err(operand_error("-", value, span, "a number")),
        (UnaryOp::Not, _) => return Err(operand_error("!", value, span, "a bool")),
    };
    Ok(result.with_mark(value.sensitive))
}

pub(super) fn binary(
    op: BinaryOp,
    (left, left_span): (&Value, Span),
    (right, right_span): (&Value, Span),
) -> EvalResult {
    let mark = left.sensitive || right.sensitive;
    let result = match op {
        BinaryOp::Eq | BinaryOp::NotEq => {
            if !left.is_wholly_known() || !right.is_wholly_known() {
                Value::unknown(Type::Bool)
            } else {
                Value::bool(left.equals(right) == (op == BinaryOp::Eq))
            }
        }
        BinaryOp::And | BinaryOp::Or => {
            let a = boolean(op, left, left_span)?;
            let b = boolean(op, right, right_span)?;
            match (a, b) {
                (Some(a), Some(b)) => Value::bool(if op == BinaryOp::And { a && b } else { a || b }),
                // An unknown side decides nothing when the other cannot decide alone.
                (_, Some(false)) if op == BinaryOp::And => Value::bool(false),
                (_, Some(true)) if op == BinaryOp::Or => Value::bool(true),
                _ => Value::unknown(Type::Bool),
            }
        }
        _ => {
            let a = number(op, left, left_span)?;
            let b = number(op, right, right_span)?;
            match (a, b) {
                (Some(a), Some(b)) => arithmetic(op, a, b, right_span)?,
                _ if is_comparison(op) => Value::unknown(Type::Bool),
                _ => Value::unknown(Type::Number),
            }
        }
    };
    Ok(result.with_mark(mark))
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq)
}

fn arithmetic(op: BinaryOp, a: f64, b: f64, right_span: Span) -> EvalResult {
    let value = match op {
        BinaryOp::Add => Value::number(a + b),
        BinaryOp::Sub => Value::number(a - b),
        BinaryOp::Mul => Value::number(a * b),
        BinaryOp::Div | BinaryOp::Rem if b == 0.0 => {
            return Err(Diagnostic::error(codes::DIVISION_BY_ZERO, "division by zero")
                .with_label(right_span, "this is zero")
                .with_help("guard the division: `b == 0 ? 0 : a / b`"))
        }
        BinaryOp::Div => Value::number(a / b),
        BinaryOp::Rem => Value::number(a % b),
        BinaryOp::Lt => Value::bool(a < b),
        BinaryOp::LtEq => Value::bool(a <= b),
        BinaryOp::Gt => Value::bool(a > b),
        BinaryOp::GtEq => Value::bool(a >= b),
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::And | BinaryOp::Or => Value::unknown(Type::Any),
    };
    if value.as_number().is_some_and(|n| !n.is_finite()) {
        return Err(invalid_value(right_span, "the result is too large to represent")
            .with_help("numbers are 64-bit floating point; the largest is about 1.8e308"));
    }
    Ok(value)
}

/// A number operand, or `None` when unknown. Strings do not convert: the checker
/// rejects them too, and `+` is not concatenation.
fn number(op: BinaryOp, value: &Value, span: Span) -> Result<Option<f64>, Diagnostic> {
    match &value.kind {
        Kind::Number(n) => Ok(Some(*n)),
        Kind::Unknown(_) => Ok(None),
        _ => Err(operand_error(op.as_str(), value, span, "a number")),
    }
}

fn boolean(op: BinaryOp, value: &Value, span: Span) -> Result<Option<bool>, Diagnostic> {
    match &value.kind {
        Kind::Bool(b) => Ok(Some(*b)),
        Kind::Unknown(_) => Ok(None),
        _ => Err(operand_error(op.as_str(), value, span, "a bool")),
    }
}

fn operand_error(op: &str, value: &Value, span: Span, expected: &str) -> Diagnostic {
    let shown = match &value.kind {
        Kind::String(_) | Kind::Number(_) | Kind::Bool(_) => format!(" {}", redacted(value)),
        _ => String::new(),
    };
    let mut diagnostic = Diagnostic::error(
        codes::INVALID_VALUE,
        format!("`{op}` needs {expected}, found {}{shown}", value.a_type_name()),
    )
    .with_label(span, format!("this is {}", value.a_type_name()));
    diagnostic = if op == "+" && matches!(value.kind, Kind::String(_)) {
        diagnostic.with_help("`+` adds numbers; join strings with a template: `\"${a}${b}\"`")
    } else {
        diagnostic
            .with_help(format!("convert it first, for example with `to{}(...)`", expected.trim_start_matches("a ")))
    };
    diagnostic
}
