//! Converting values to declared types, as input values, function arguments and
//! `to*` functions need: numbers and bools to strings and back, lists to sets, objects
//! to maps and to object types.

use std::fmt;

use infra_compiler::types::Type;

use crate::value::{format_number, Kind, Value, ValueMap};

/// Why a value does not convert; `path` locates the failing part (`[2].name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

fn fail(message: String) -> ConvertError {
    ConvertError { path: String::new(), message }
}

fn at(mut error: ConvertError, step: &str) -> ConvertError {
    error.path = format!("{step}{}", error.path);
    error
}

/// Converts `value` to `ty`. Unknown values become unknowns of `ty`; null converts to
/// every type; sensitive marks are kept.
pub fn convert(value: &Value, ty: &Type) -> Result<Value, ConvertError> {
    let converted = match (&value.kind, ty) {
        (Kind::Unknown(_), _) => Value::unknown(ty.clone()),
        (Kind::Null, _) | (_, Type::Any) => value.clone(),
        (_, Type::String) => Value::string(to_string(value)?),
        (_, Type::Number) => Value::number(to_number(value)?),
        (_, Type::Bool) => Value::bool(to_bool(value)?),
        (_, Type::Null) => return Err(fail(format!("cannot convert {} to null", value.a_type_name()))),
        (Kind::List(items) | Kind::Set(items), Type::List(element)) => Value::list(convert_all(items, element)?),
        (Kind::List(items) | Kind::Set(items), Type::Set(element)) => Value::set(convert_all(items, element)?),
        (Kind::List(items) | Kind::Set(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(fail(format!("expected {} elements, found {}", types.len(), items.len())));
            }
            let items = items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, ty))| convert(item, ty).map_err(|e| at(e, &format!("[{i}]"))))
                .collect::<Result<_, _>>()?;
            Value::list(items)
        }
        (Kind::Map(entries), Type::Map(element)) => {
            let entries = entries
                .iter()
                .map(|(k, v)| convert(v, element).map(|v| (k.clone(), v)).map_err(|e| at(e, &key_step(k))))
                .collect::<Result<_, _>>()?;
            Value::object(entries)
        }
        (Kind::Map(entries), Type::Object(fields)) => {
            let mut out = ValueMap::with_capacity(fields.len());
            for (name, field) in fields.iter() {
                match entries.get(name) {
                    Some(v) => {
                        out.insert(name.clone(), convert(v, &field.ty).map_err(|e| at(e, &key_step(name)))?);
                    }
                    None if field.optional => {
                        out.insert(name.clone(), Value::null());
                    }
                    None => return Err(fail(format!("attribute `{name}` is required"))),
                }
            }
            Value::object(out)
        }
        (_, target) => return Err(fail(format!("cannot convert {} to {target}", value.a_type_name()))),
    };
    Ok(converted.with_mark(value.sensitive))
}

fn key_step(key: &str) -> String {
    format!("[{}]", crate::value::quote(key))
}

fn convert_all(items: &[Value], ty: &Type) -> Result<Vec<Value>, ConvertError> {
    items.iter().enumerate().map(|(i, item)| convert(item, ty).map_err(|e| at(e, &format!("[{i}]")))).collect()
}

fn to_string(value: &Value) -> Result<String, ConvertError> {
    match &value.kind {
        Kind::String(s) => Ok(s.to_string()),
        Kind::Number(n) => Ok(format_number(*n)),
        Kind::Bool(b) => Ok(b.to_string()),
        _ => Err(fail(format!("cannot convert {} to string", value.a_type_name()))),
    }
}

fn to_number(value: &Value) -> Result<f64, ConvertError> {
    match &value.kind {
        Kind::Number(n) => Ok(*n),
        Kind::String(s) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(fail(format!("cannot convert {} to number", crate::value::quote(s)))),
        },
        _ => Err(fail(format!("cannot convert {} to number", value.a_type_name()))),
    }
}

fn to_bool(value: &Value) -> Result<bool, ConvertError> {
    match &value.kind {
        Kind::Bool(b) => Ok(*b),
        Kind::String(s) if &**s == "true" => Ok(true),
        Kind::String(s) if &**s == "false" => Ok(false),
        Kind::String(s) => {
            Err(fail(format!("cannot convert {} to bool; only \"true\" and \"false\" do", crate::value::quote(s))))
        }
        _ => Err(fail(format!("cannot convert {} to bool", value.a_type_name()))),
    }
}
