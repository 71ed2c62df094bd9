//! Comparing an attribute's values the way its API does: a DNS name with or without its
//! trailing dot, a CIDR block written two ways, a JSON document with its keys in another
//! order, a list whose order the API does not keep.
//!
//! Providers often read a value back in another form than the one configured
//! (`"example.com."` comes back as `"example.com"`). The schema says per attribute how its
//! values compare ([`Comparison`]); two values equal under it are the same value, so the
//! planner sees no change, refresh sees no drift, and the configured form is what state
//! keeps ([`keep_configured_forms`]).

use std::net::IpAddr;

use infra_compiler::schema::{BlockSchema, Comparison, Schema};

use crate::provider::Attributes;
use crate::value::{Kind, Value};

/// Whether `a` and `b` are the same value under `compare`. Values that are not wholly
/// known are never the same as anything but themselves.
pub fn equivalent(compare: Comparison, a: &Value, b: &Value) -> bool {
    if a.equals(b) {
        return true;
    }
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    match compare {
        Comparison::Exact => false,
        Comparison::DnsName => both_strings(a, b, |x, y| dns_name(x).eq_ignore_ascii_case(dns_name(y))),
        Comparison::CaseInsensitive => both_strings(a, b, |x, y| x.to_lowercase() == y.to_lowercase()),
        Comparison::Cidr => both_strings(a, b, |x, y| cidr(x).is_some_and(|x| Some(x) == cidr(y))),
        Comparison::Json => both_strings(a, b, |x, y| json(x).is_some_and(|x| Some(x) == json(y))),
        Comparison::Set => same_elements(a, b),
    }
}

/// Puts back, in `actual` (what a provider read or returned), the form `reference` (what
/// the configuration or state had) gives an attribute whose two values are equivalent
/// under the schema's comparison. Nested blocks are compared element by element.
pub fn keep_configured_forms(schema: &Schema, reference: &Attributes, actual: &mut Attributes) {
    for attribute in schema.attributes.iter().filter(|a| a.compare != Comparison::Exact) {
        let (Some(wanted), Some(got)) = (reference.get(&attribute.name), actual.get_mut(&attribute.name)) else {
            continue;
        };
        if !wanted.equals(got) && equivalent(attribute.compare, wanted, got) {
            *got = wanted.clone();
        }
    }
    for block in &schema.blocks {
        let (Some(wanted), Some(got)) = (reference.get(&block.name), actual.get_mut(&block.name)) else {
            continue;
        };
        if !wanted.equals(got) && block_equivalent(block, wanted, got) {
            *got = wanted.clone();
        } else {
            keep_block_forms(&block.schema, wanted, got);
        }
    }
}

/// Whether two values of a nested block (an object, or a list of them) are the same
/// under the comparisons of the block and of its attributes: a security group's rules in
/// another order, each with its CIDR blocks in another order, are the same rules.
pub fn block_equivalent(block: &BlockSchema, a: &Value, b: &Value) -> bool {
    if a.equals(b) {
        return true;
    }
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    let same = |x: &Value, y: &Value| element_equivalent(&block.schema, x, y);
    match (a.as_list(), b.as_list()) {
        (Some(a), Some(b)) if a.len() == b.len() => {
            if block.compare == Comparison::Set {
                // Each element of `a` pairs with one of `b` it is the same as.
                let mut unmatched: Vec<&Value> = b.iter().collect();
                a.iter().all(|x| match unmatched.iter().position(|y| same(x, y)) {
                    Some(index) => {
                        unmatched.swap_remove(index);
                        true
                    }
                    None => false,
                })
            } else {
                a.iter().zip(b).all(|(x, y)| same(x, y))
            }
        }
        (None, None) => same(a, b),
        _ => false,
    }
}

/// Two objects of a block: every attribute the same under its comparison.
fn element_equivalent(schema: &Schema, a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_map(), b.as_map()) else { return a.equals(b) };
    let null = Value::null();
    a.keys().chain(b.keys()).all(|name| {
        let (x, y) = (a.get(name).unwrap_or(&null), b.get(name).unwrap_or(&null));
        match (schema.attribute(name), schema.block(name)) {
            (Some(attribute), _) => equivalent(attribute.compare, x, y),
            (None, Some(block)) => block_equivalent(block, x, y),
            (None, None) => x.equals(y),
        }
    })
}

/// [`keep_configured_forms`] inside a block's value: one object, or a list of them matched
/// by position.
fn keep_block_forms(schema: &Schema, wanted: &Value, got: &mut Value) {
    match (&wanted.kind, &mut got.kind) {
        (Kind::Map(wanted), Kind::Map(got)) => {
            let mut attributes: Attributes = std::mem::take(got);
            keep_configured_forms(schema, wanted, &mut attributes);
            *got = attributes;
        }
        (Kind::List(wanted), Kind::List(got)) if wanted.len() == got.len() => {
            for (wanted, got) in wanted.iter().zip(got.iter_mut()) {
                keep_block_forms(schema, wanted, got);
            }
        }
        _ => {}
    }
}

fn both_strings(a: &Value, b: &Value, same: impl Fn(&str, &str) -> bool) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    }
}

fn dns_name(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// A CIDR block as (address, prefix length); `None` when it is not one.
fn cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = text.trim().split_once('/')?;
    Some((address.parse().ok()?, prefix.parse().ok()?))
}

fn json(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text).ok()
}

/// Lists (or sets) with the same elements, each as often, in any order.
fn same_elements(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_list(), b.as_list()) else { return false };
    if a.len() != b.len() {
        return false;
    }
    let mut a: Vec<&Value> = a.iter().collect();
    let mut b: Vec<&Value> = b.iter().collect();
    a.sort_by(|x, y| x.total_cmp(y));
    b.sort_by(|x, y| x.total_cmp(y));
    a.iter().zip(&b).all(|(x, y)| x.equals(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn each_comparison_accepts_the_other_form_and_rejects_another_value() {
        let s = Value::string;
        let cases = [
            (Comparison::DnsName, s("example.com."), s("Example.COM"), s("example.org")),
            (Comparison::CaseInsensitive, s("AbC"), s("abc"), s("abd")),
            (Comparison::Cidr, s("2001:DB8:0:0::/32"), s("2001:db8::/32"), s("2001:db8::/48")),
            (Comparison::Cidr, s("10.0.0.0/016"), s("10.0.0.0/16"), s("10.0.0.0/17")),
            (Comparison::Json, s(r#"{"b": [1, 2], "a": "x"}"#), s(r#"{"a":"x","b":[1,2]}"#), s(r#"{"a":"x"}"#)),
            (Comparison::Set, strings(&["b", "a", "a"]), strings(&["a", "b", "a"]), strings(&["a", "b", "b"])),
        ];
        for (compare, value, other_form, other_value) in cases {
            assert!(equivalent(compare, &value, &other_form), "{compare:?}: {value} and {other_form}");
            assert!(!equivalent(compare, &value, &other_value), "{compare:?}: {value} and {other_value}");
        }
        assert!(!equivalent(Comparison::Exact, &s("a."), &s("a")));
        assert!(!equivalent(Comparison::DnsName, &Value::unknown(infra_compiler::types::Type::String), &s("a")));
    }

    #[test]
    fn rules_in_another_order_with_their_blocks_in_another_order_are_the_same() {
        use infra_compiler::schema::AttributeSchema;
        use infra_compiler::types::Type;
        let rule = Schema {
            description: String::new(),
            attributes: vec![
                AttributeSchema::required("port", Type::Number, ""),
                AttributeSchema::optional("cidr_blocks", Type::list(Type::String), "").compared(Comparison::Set),
            ],
            blocks: Vec::new(),
        };
        let block = BlockSchema {
            name: "ingress".into(),
            description: String::new(),
            schema: rule,
            repeated: true,
            compare: Comparison::Set,
        };
        let rule = |port: f64, blocks: &[&str]| {
            Value::map([("port".to_string(), Value::number(port)), ("cidr_blocks".to_string(), strings(blocks))].into())
        };
        let configured = Value::list(vec![rule(22.0, &["10.0.0.0/8", "192.168.0.0/16"]), rule(443.0, &["0.0.0.0/0"])]);
        let read = Value::list(vec![rule(443.0, &["0.0.0.0/0"]), rule(22.0, &["192.168.0.0/16", "10.0.0.0/8"])]);
        assert!(block_equivalent(&block, &configured, &read));
        let other = Value::list(vec![rule(443.0, &["0.0.0.0/0"]), rule(22.0, &["192.168.0.0/16"])]);
        assert!(!block_equivalent(&block, &configured, &other));
        let ordered = BlockSchema { compare: Comparison::Exact, ..block };
        assert!(!block_equivalent(&ordered, &configured, &read));
    }

    #[test]
    fn the_configured_form_is_kept_when_the_read_value_is_equivalent() {
        use infra_compiler::schema::AttributeSchema;
        use infra_compiler::types::Type;
        let schema = Schema {
            description: String::new(),
            attributes: vec![
                AttributeSchema::required("name", Type::String, "").compared(Comparison::DnsName),
                AttributeSchema::optional("comment", Type::String, ""),
            ],
            blocks: Vec::new(),
        };
        let configured: Attributes = [("name", "example.com."), ("comment", "A")]
            .iter()
            .map(|(k, v)| (k.to_string(), Value::string(*v)))
            .collect();
        let mut read: Attributes = [("name", "example.com"), ("comment", "a")]
            .iter()
            .map(|(k, v)| (k.to_string(), Value::string(*v)))
            .collect();
        keep_configured_forms(&schema, &configured, &mut read);
        assert_eq!(read["name"].as_str(), Some("example.com."));
        // An exact attribute keeps what was read: that is drift.
        assert_eq!(read["comment"].as_str(), Some("a"));
    }
}
