//! Between JSON documents of REST APIs and attribute values: converting each way, and
//! reading back what an API reports so that only a real difference reads as drift.

use infra_runtime::Value;
use serde_json::Value as Json;

/// A JSON value as an attribute value.
pub fn from_json(value: &Json) -> Value {
    match value {
        Json::String(s) => Value::string(s.clone()),
        Json::Number(n) => n.as_f64().map_or_else(Value::null, Value::number),
        Json::Bool(b) => Value::bool(*b),
        Json::Array(items) => Value::list(items.iter().map(from_json).collect()),
        Json::Object(map) => Value::map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
        Json::Null => Value::null(),
    }
}

/// An attribute value as JSON; whole numbers become JSON integers, as APIs expect.
pub fn to_json(value: &Value) -> Json {
    if let Some(s) = value.as_str() {
        return Json::String(s.to_string());
    }
    if let Some(n) = value.as_number() {
        return if n.fract() == 0.0 && n.abs() < 9.0e15 { Json::from(n as i64) } else { Json::from(n) };
    }
    if let Some(b) = value.as_bool() {
        return Json::Bool(b);
    }
    if let Some(items) = value.as_list() {
        return Json::Array(items.iter().map(to_json).collect());
    }
    if let Some(map) = value.as_map() {
        return Json::Object(map.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect());
    }
    Json::Null
}

/// The strings of a JSON array (anything else in it left out).
pub fn json_strings(value: &Json) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(Json::as_str).map(str::to_string).collect()).unwrap_or_default()
}

/// What an API reports for an optional attribute: an empty string, zero, an empty list or
/// an empty map reads as null when the state has it null, so leaving it out is no change.
pub fn read_back(actual: Value, current: &Value) -> Value {
    let empty = actual.as_str() == Some("")
        || actual.as_number() == Some(0.0)
        || actual.as_list().is_some_and(<[Value]>::is_empty)
        || actual.as_map().is_some_and(infra_runtime::value::ValueMap::is_empty);
    if empty && current.is_null() {
        return Value::null();
    }
    actual
}

/// Strings an API reports in an order of its own: in the order `current` has them when
/// they are the same strings, so only a real difference reads as a change; sorted
/// otherwise. None read as null when `current` is null.
pub fn unordered(actual: Vec<String>, current: &Value) -> Value {
    let known: Vec<String> =
        current.as_list().unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_string).collect();
    let mut sorted_known = known.clone();
    sorted_known.sort();
    let mut sorted_actual = actual;
    sorted_actual.sort();
    let items = if sorted_known == sorted_actual { known } else { sorted_actual };
    if items.is_empty() && current.is_null() {
        return Value::null();
    }
    Value::list(items.into_iter().map(Value::string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_as_integers_when_whole() {
        assert_eq!(to_json(&Value::number(3.0)), Json::from(3));
        assert_eq!(from_json(&Json::from(3)), Value::number(3.0));
        assert_eq!(to_json(&Value::number(0.5)), Json::from(0.5));
    }

    #[test]
    fn empty_reports_read_as_unset_only_when_unset() {
        assert!(read_back(Value::string(""), &Value::null()).is_null());
        assert_eq!(read_back(Value::string(""), &Value::string("x")), Value::string(""));
    }

    #[test]
    fn the_same_strings_in_another_order_keep_the_state_order() {
        let current = Value::list(vec![Value::string("b"), Value::string("a")]);
        assert_eq!(unordered(vec!["a".into(), "b".into()], &current), current);
        let changed = unordered(vec!["c".into(), "a".into()], &current);
        assert_eq!(changed, Value::list(vec![Value::string("a"), Value::string("c")]));
        assert!(unordered(Vec::new(), &Value::null()).is_null());
    }
}
