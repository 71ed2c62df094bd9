//! Helpers shared by the providers that manage nothing outside Infra (`null`, `time`,
//! `random`, `tls`). They have no configuration and nothing to read back, so one factory
//! shape and one planning rule serve them all.

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema};
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult};
use infra_runtime::Value;
use std::sync::Arc;

/// A provider type that takes no configuration: configuring it always hands out the same
/// provider.
struct UnconfiguredFactory {
    schema: ProviderSchema,
    provider: Arc<dyn Provider>,
}

/// The factory of a provider type that takes no configuration.
pub(super) fn unconfigured_factory(schema: ProviderSchema, provider: Arc<dyn Provider>) -> Arc<dyn ProviderFactory> {
    Arc::new(UnconfiguredFactory { schema, provider })
}

impl ProviderFactory for UnconfiguredFactory {
    fn name(&self) -> &str {
        &self.schema.name
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, _config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        Ok(Arc::clone(&self.provider))
    }
}

/// The schema of the resource kind `kind`.
pub(super) fn resource_schema<'a>(schema: &'a ProviderSchema, kind: &str) -> ProviderResult<&'a Schema> {
    schema.resources.get(kind).ok_or_else(|| unknown_kind(schema, kind))
}

/// The error for a resource kind the provider does not have, naming the kinds it has.
pub(super) fn unknown_kind(schema: &ProviderSchema, kind: &str) -> ProviderError {
    let kinds: Vec<String> = schema.resources.keys().map(|k| format!("`{}.{k}`", schema.name)).collect();
    ProviderError::new(format!("the `{}` provider has no resource kind `{kind}`", schema.name))
        .with_help(format!("its resource kinds are {}", kinds.join(", ")))
}

/// The planned attributes of a create (`prior` is `None`) or an update: every settable
/// attribute as configured (its entry in `defaults` when left out, else null), and every
/// computed attribute the configuration does not set kept from `prior`, unless this is a
/// create or a force-new attribute changed (a replacement): then it is unknown until apply.
///
/// Defaults are filled in before comparing with `prior`, so leaving out an attribute
/// whose default the prior instance has is no change.
pub(super) fn plan_attributes(
    schema: &Schema,
    prior: Option<&Attributes>,
    config: &Attributes,
    defaults: &[(&str, Value)],
) -> Attributes {
    let mut config = config.clone();
    for (name, default) in defaults {
        if attribute(&config, name).is_null() {
            config.insert(name.to_string(), default.clone());
        }
    }
    let config = &config;
    let replaced = |prior: &Attributes| {
        schema
            .attributes
            .iter()
            .filter(|a| a.forces_replacement_from(attribute(prior, &a.name).is_null()))
            .any(|a| !attribute(prior, &a.name).equals(attribute(config, &a.name)))
    };
    let kept = prior.filter(|prior| !replaced(prior));
    let value = |a: &AttributeSchema| {
        let configured = attribute(config, &a.name);
        if a.settable && !(a.computed && configured.is_null()) {
            configured.clone()
        } else if a.computed {
            kept.map_or_else(|| Value::unknown(a.ty.clone()), |prior| attribute(prior, &a.name).clone())
        } else {
            Value::null()
        }
    };
    schema.attributes.iter().map(|a| (a.name.clone(), value(a))).collect()
}

/// The attributes after an in-place update: `planned`, with the computed attributes the
/// configuration does not set taken from `prior` (an update never regenerates them).
pub(super) fn keep_computed(schema: &Schema, prior: &Attributes, planned: &Attributes) -> Attributes {
    let mut attributes = planned.clone();
    for a in schema.attributes.iter().filter(|a| a.computed) {
        let configured = attribute(planned, &a.name);
        if !a.settable || configured.is_null() || !configured.is_known() {
            attributes.insert(a.name.clone(), attribute(prior, &a.name).clone());
        }
    }
    attributes
}

/// An attribute's value; null when it is absent.
pub(super) fn attribute<'a>(attributes: &'a Attributes, name: &str) -> &'a Value {
    static NULL: Value = Value { kind: infra_runtime::Kind::Null, sensitive: false };
    attributes.get(name).unwrap_or(&NULL)
}

/// An attribute's value when it is set and known: what `validate` may check.
pub(super) fn known<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a Value> {
    Some(attribute(attributes, name)).filter(|v| !v.is_null() && v.is_known())
}

/// A whole-number attribute, when it is set and known. Numbers beyond ±2^53 are refused:
/// past that a number is no longer exact.
pub(super) fn whole_number(attributes: &Attributes, name: &str) -> ProviderResult<Option<i64>> {
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
