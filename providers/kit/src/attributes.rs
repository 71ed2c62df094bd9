//! Reading one attribute out of a provider's [`Attributes`].

use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

/// An attribute's value; null when it is absent.
pub fn attribute<'a>(attributes: &'a Attributes, name: &str) -> &'a Value {
    static NULL: Value = Value { kind: infra_runtime::Kind::Null, sensitive: false };
    attributes.get(name).unwrap_or(&NULL)
}

/// An attribute's value when it is set and known: what `validate` may check.
pub fn known<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a Value> {
    Some(attribute(attributes, name)).filter(|v| !v.is_null() && v.is_known())
}

/// A whole-number attribute, when it is set and known. Numbers beyond ±2^53 are refused:
/// past that a number is no longer exact.
pub fn whole_number(attributes: &Attributes, name: &str) -> ProviderResult<Option<i64>> {
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
    let Some(value) = known(attributes, name) else { return Ok(None) };
    match value.as_number() {
        Some(n) if n.fract() == 0.0 && n.abs() <= MAX_EXACT => Ok(Some(n as i64)),
        Some(n) => Err(ProviderError::new(format!("`{name}` must be a whole number, not {n}")).on_attribute(name)),
        None => {
            Err(ProviderError::new(format!("`{name}` must be a number, not a {}", value.type_name()))
                .on_attribute(name))
        }
    }
}

/// Whether a value counts as not set: null, or an empty map (the language writes a map
/// left out as `{}` in some places, and an API reports "no tags" as `{}`).
pub fn is_unset(value: &Value) -> bool {
    value.is_null() || value.as_map().is_some_and(infra_runtime::value::ValueMap::is_empty)
}

/// How long `operation` may wait: the `timeouts` block's setting for it (see
/// [`crate::schema::timeouts_block`]), else `default`.
pub fn timeout(attributes: &Attributes, operation: &str, default: std::time::Duration) -> std::time::Duration {
    let block = attribute(attributes, "timeouts").as_map();
    let setting = block.and_then(|b| b.get(operation)).and_then(infra_runtime::Value::as_str);
    setting.and_then(|text| infra_compiler::schema::validate::parse_duration(text).ok()).unwrap_or(default)
}
