//! The planning rule most resource kinds follow: settable attributes as configured,
//! computed ones kept from the prior object unless it is replaced.

use infra_compiler::schema::{AttributeSchema, Schema};
use infra_runtime::provider::Attributes;
use infra_runtime::value::Name;
use infra_runtime::Value;

use crate::attribute;

/// The planned attributes of a create (`prior` is `None`) or an update: every settable
/// attribute as configured (its entry in `defaults` when left out, else null), and every
/// computed attribute the configuration does not set kept from `prior`, unless this is a
/// create or a force-new attribute changed (a replacement): then it is unknown until apply.
///
/// Defaults are filled in before comparing with `prior`, so leaving out an attribute
/// whose default the prior instance has is no change.
pub fn plan_attributes(
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
    // An attribute is named by the configuration's key or the prior's where either has
    // it, shared rather than made again per instance.
    let key = |a: &AttributeSchema| {
        let known = config.get_key_value(&a.name).or_else(|| prior.and_then(|p| p.get_key_value(&a.name)));
        known.map_or_else(|| Name::from(a.name.as_str()), |(key, _)| key.clone())
    };
    schema.attributes.iter().map(|a| (key(a), value(a))).collect()
}

/// The attributes after an in-place update: `planned`, with the computed attributes the
/// configuration does not set taken from `prior` (an update never regenerates them).
pub fn keep_computed(schema: &Schema, prior: &Attributes, planned: &Attributes) -> Attributes {
    let mut attributes = planned.clone();
    for a in schema.attributes.iter().filter(|a| a.computed) {
        let configured = attribute(planned, &a.name);
        if !a.settable || configured.is_null() || !configured.is_known() {
            attributes.insert(a.name.clone(), attribute(prior, &a.name).clone());
        }
    }
    attributes
}
