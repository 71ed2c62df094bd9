//! Runtime values and [`PluginValue`]s, one into the other, by the schema.
//!
//! To a plugin: values go unmarked (the engine hands providers unmarked values), sets
//! and lists alike as arrays, numbers as integers when they are whole and fit, else as
//! 64-bit floats. From a plugin: the schema says what each value is, so a `set` type
//! becomes a set, an unknown value carries the attribute's type, a body has every
//! attribute of the schema (null when the plugin left it out), and the attributes the
//! schema calls `sensitive` are marked, at the attribute and in nested bodies.

use std::collections::BTreeMap;

use infra_compiler::types::Type;
use infra_runtime::provider::Attributes;
use infra_runtime::{Kind, Value};

use crate::schema::{attribute_type, infra_type, Attribute, Block, Nesting};
use crate::values::PluginValue;

/// The largest integer a 64-bit float holds exactly.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// A runtime value as a plugin value; its marks are dropped.
pub fn to_plugin(value: &Value) -> Result<PluginValue, String> {
    Ok(match &value.kind {
        Kind::Null => PluginValue::Null,
        Kind::Unknown(_) => PluginValue::Unknown,
        Kind::Bool(b) => PluginValue::Bool(*b),
        Kind::Number(n) if n.fract() == 0.0 && n.abs() <= EXACT => PluginValue::Number((*n as i64).into()),
        Kind::Number(n) => PluginValue::Number(
            serde_json::Number::from_f64(*n).ok_or_else(|| format!("{n} is not a number a plugin can take"))?,
        ),
        Kind::String(text) => PluginValue::String(text.to_string()),
        Kind::List(items) | Kind::Set(items) => {
            PluginValue::List(items.iter().map(to_plugin).collect::<Result<_, _>>()?)
        }
        Kind::Map(entries) => PluginValue::Map(
            entries.iter().map(|(k, v)| Ok((k.to_string(), to_plugin(v)?))).collect::<Result<_, String>>()?,
        ),
    })
}

/// The whole numbers in a plugin's answer that a 64-bit float cannot hold exactly
/// (`9007199254740993`, an int64 id), each with where it is: a path of object keys and
/// list indexes, written as JSON (`["id"]`, `["rule",0,"owner"]`), and the number's exact
/// text. Infra's numbers hold them rounded; the state keeps these beside them, so that
/// the plugin is sent back exactly what it answered ([`restore_exact_numbers`]).
pub fn inexact_numbers(value: &PluginValue) -> Vec<(String, String)> {
    fn walk(value: &PluginValue, path: &mut Vec<serde_json::Value>, found: &mut Vec<(String, String)>) {
        match value {
            PluginValue::Number(n) if !held_exactly(n) => {
                found.push((serde_json::Value::Array(path.clone()).to_string(), n.to_string()));
            }
            PluginValue::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(index.into());
                    walk(item, path, found);
                    path.pop();
                }
            }
            PluginValue::Map(fields) => {
                for (key, item) in fields {
                    path.push(key.as_str().into());
                    walk(item, path, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, &mut Vec::new(), &mut found);
    found
}

/// Whether a number a plugin sent is held exactly by a 64-bit float: every float, and the
/// integers up to 2^53 and those beyond it that happen to be one.
fn held_exactly(n: &serde_json::Number) -> bool {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i.unsigned_abs() <= EXACT as u64 || (i as f64) as i128 == i128::from(i),
        (None, Some(u)) => (u as f64) as u128 == u128::from(u),
        _ => true,
    }
}

/// Puts the exact numbers [`inexact_numbers`] found back into a body about to be sent to
/// the plugin (`recorded`: path → exact text), where the body still holds the rounded
/// number Infra made of it; a number changed since (by the configuration) is left as it is.
pub fn restore_exact_numbers(body: &mut PluginValue, recorded: &[(String, String)]) {
    for (path, exact) in recorded {
        let (Ok(serde_json::Value::Array(steps)), Ok(exact)) =
            (serde_json::from_str::<serde_json::Value>(path), exact.parse::<serde_json::Number>())
        else {
            continue;
        };
        if let Some(PluginValue::Number(held)) = at_path(body, &steps) {
            if held.as_f64() == exact.as_f64() {
                *held = exact;
            }
        }
    }
}

/// The value at `steps` (object keys and list indexes, as JSON) inside `value`.
fn at_path<'v>(value: &'v mut PluginValue, steps: &[serde_json::Value]) -> Option<&'v mut PluginValue> {
    let Some((step, rest)) = steps.split_first() else { return Some(value) };
    let next = match (value, step) {
        (PluginValue::Map(fields), serde_json::Value::String(key)) => fields.get_mut(key)?,
        (PluginValue::List(items), serde_json::Value::Number(index)) => {
            items.get_mut(usize::try_from(index.as_u64()?).ok()?)?
        }
        _ => return None,
    };
    at_path(next, rest)
}

/// An instance's attributes as the body a plugin takes.
pub fn attributes_to_plugin(attributes: &Attributes) -> Result<PluginValue, String> {
    let fields: BTreeMap<String, PluginValue> = attributes
        .iter()
        .map(|(k, v)| Ok((k.to_string(), to_plugin(v).map_err(|e| format!("`{k}`: {e}"))?)))
        .collect::<Result<_, String>>()?;
    Ok(PluginValue::Map(fields))
}

/// A body of `block` as an instance's attributes: every attribute and nested block type
/// of the schema, sensitive attributes marked. A null body has every attribute null.
pub fn attributes_from_plugin(value: &PluginValue, block: &Block) -> Result<Attributes, String> {
    let empty = BTreeMap::new();
    let fields = match value {
        PluginValue::Map(fields) => fields,
        PluginValue::Null => &empty,
        other => return Err(format!("a body is an object, not {other:?}")),
    };
    let mut attributes = Attributes::with_capacity(block.attributes.len() + block.blocks.len());
    for attribute in &block.attributes {
        let item = fields.get(&attribute.name).unwrap_or(&PluginValue::Null);
        let value = attribute_from_plugin(item, attribute).map_err(|e| format!("`{}`: {e}", attribute.name))?;
        attributes.insert(attribute.name.clone(), value);
    }
    for nested in &block.blocks {
        let item = fields.get(&nested.name).unwrap_or(&PluginValue::Null);
        let body = |item: &PluginValue| attributes_from_plugin(item, &nested.block).map(Value::object);
        let value = match (nested.nesting, item) {
            (_, PluginValue::Unknown) => Value::unknown(Type::Any),
            (Nesting::Single, PluginValue::Null) => Value::null(),
            (Nesting::Single | Nesting::Group, item) => body(item)?,
            // A repeated block is a list of objects in Infra, as the engine evaluates it.
            (Nesting::List | Nesting::Set, PluginValue::Null) => Value::list(Vec::new()),
            (Nesting::List | Nesting::Set, PluginValue::List(items)) => {
                Value::list(items.iter().map(body).collect::<Result<_, _>>()?)
            }
            // A `map` block is an attribute in Infra: none at all is null, as an unset
            // attribute is, so leaving it out plans no change.
            (Nesting::Map, PluginValue::Null) => Value::null(),
            (Nesting::Map, PluginValue::Map(items)) if items.is_empty() => Value::null(),
            (Nesting::Map, PluginValue::Map(items)) => {
                Value::map(items.iter().map(|(k, i)| Ok((k.clone(), body(i)?))).collect::<Result<_, String>>()?)
            }
            (_, other) => return Err(format!("block `{}` cannot be {other:?}", nested.name)),
        };
        attributes.insert(nested.name.clone(), value);
    }
    Ok(attributes)
}

fn attribute_from_plugin(value: &PluginValue, attribute: &Attribute) -> Result<Value, String> {
    let converted = match (value, &attribute.nested, &attribute.ty) {
        (PluginValue::Unknown, _, _) => Value::unknown(attribute_type(attribute)),
        (PluginValue::Null, _, _) => Value::null(),
        (value, Some(nested), _) => {
            let object = Block { attributes: nested.attributes.clone(), ..Block::default() };
            let body = |item: &PluginValue| attributes_from_plugin(item, &object).map(Value::object);
            match (nested.nesting, value) {
                (Nesting::Single | Nesting::Group, value) => body(value)?,
                (Nesting::List, PluginValue::List(items)) => {
                    Value::list(items.iter().map(body).collect::<Result<_, _>>()?)
                }
                (Nesting::Set, PluginValue::List(items)) => {
                    Value::set(items.iter().map(body).collect::<Result<_, _>>()?)
                }
                (Nesting::Map, PluginValue::Map(items)) => {
                    Value::map(items.iter().map(|(k, i)| Ok((k.clone(), body(i)?))).collect::<Result<_, String>>()?)
                }
                (_, other) => return Err(format!("nested attributes cannot be {other:?}")),
            }
        }
        (value, None, Some(ty)) => typed(value, ty)?,
        (_, None, None) => return Err("the schema gives no type".to_string()),
    };
    // A null hides nothing, and stays unmarked as the engine's own nulls are.
    let sensitive = attribute.sensitive && !converted.is_null();
    Ok(converted.with_mark(sensitive))
}

/// A value a plugin answered, of Terraform's JSON type `ty`, as Infra's.
pub fn value_from_plugin(value: &PluginValue, ty: &serde_json::Value) -> Result<Value, String> {
    typed(value, ty)
}

/// A value of Terraform's JSON type `ty`.
fn typed(value: &PluginValue, ty: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let element = |parts: &Vec<J>| parts.get(1).cloned().unwrap_or(J::String("dynamic".to_string()));
    Ok(match (value, ty) {
        (PluginValue::Null, _) => Value::null(),
        (PluginValue::Unknown, ty) => Value::unknown(infra_type(ty)),
        (PluginValue::Bool(b), _) => Value::bool(*b),
        (PluginValue::Number(n), _) => {
            Value::number(n.as_f64().ok_or_else(|| format!("{n} is not a number Infra can hold"))?)
        }
        (PluginValue::String(text), _) => Value::string(text.as_str()),
        (PluginValue::List(items), J::Array(parts)) => match parts.first().and_then(J::as_str) {
            Some("set") => Value::set(items.iter().map(|i| typed(i, &element(parts))).collect::<Result<_, _>>()?),
            Some("tuple") => {
                let types = parts.get(1).and_then(J::as_array).cloned().unwrap_or_default();
                let dynamic = J::String("dynamic".to_string());
                Value::list(
                    items
                        .iter()
                        .enumerate()
                        .map(|(n, i)| typed(i, types.get(n).unwrap_or(&dynamic)))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => Value::list(items.iter().map(|i| typed(i, &element(parts))).collect::<Result<_, _>>()?),
        },
        (PluginValue::List(items), _) => Value::list(items.iter().map(|i| typed(i, ty)).collect::<Result<_, _>>()?),
        (PluginValue::Map(fields), J::Array(parts)) if parts.first().and_then(J::as_str) == Some("object") => {
            let types = parts.get(1).and_then(J::as_object).cloned().unwrap_or_default();
            let dynamic = J::String("dynamic".to_string());
            let mut entries: BTreeMap<String, Value> = types.keys().map(|k| (k.clone(), Value::null())).collect();
            for (key, item) in fields {
                entries.insert(key.clone(), typed(item, types.get(key).unwrap_or(&dynamic))?);
            }
            Value::map(entries)
        }
        (PluginValue::Map(fields), J::Array(parts)) => Value::map(
            fields.iter().map(|(k, i)| Ok((k.clone(), typed(i, &element(parts))?))).collect::<Result<_, String>>()?,
        ),
        (PluginValue::Map(fields), _) => {
            Value::map(fields.iter().map(|(k, i)| Ok((k.clone(), typed(i, ty)?))).collect::<Result<_, String>>()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;
    use serde_json::json;

    fn attribute(name: &str, ty: serde_json::Value) -> Attribute {
        Attribute { name: name.to_string(), ty: Some(ty), optional: true, ..Attribute::default() }
    }

    fn block() -> Block {
        let mut token = attribute("token", json!("string"));
        token.sensitive = true;
        Block {
            attributes: vec![
                attribute("name", json!("string")),
                attribute("size", json!("number")),
                attribute("ports", json!(["set", "number"])),
                attribute("tags", json!(["map", "string"])),
                token,
            ],
            blocks: vec![NestedBlock {
                name: "rule".to_string(),
                nesting: Nesting::List,
                block: Block { attributes: vec![attribute("cidr", json!("string"))], ..Block::default() },
                ..NestedBlock::default()
            }],
            ..Block::default()
        }
    }

    /// An int64 beyond 2^53 (a plugin's id) is found with its path, and put back into
    /// the body Infra sends, which holds the rounded number: the plugin gets what it said.
    /// A number the configuration changed since is left as it is.
    #[test]
    fn whole_numbers_a_float_rounds_go_back_to_the_plugin_exactly() {
        let rule = PluginValue::Map([("cidr".to_string(), PluginValue::String("10.0.0.0/8".into()))].into());
        let answered = PluginValue::Map(
            [
                ("name".to_string(), PluginValue::String("web".into())),
                ("size".to_string(), PluginValue::Number(9_007_199_254_740_993_i64.into())),
                ("ports".to_string(), PluginValue::List(vec![PluginValue::Number(9_007_199_254_740_994_i64.into())])),
                ("rule".to_string(), PluginValue::List(vec![rule])),
            ]
            .into(),
        );
        // 2^53 + 2 is a float exactly; 2^53 + 1 is not.
        let found = inexact_numbers(&answered);
        assert_eq!(found, [(r#"["size"]"#.to_string(), "9007199254740993".to_string())]);
        let attributes = attributes_from_plugin(&answered, &block()).unwrap();
        assert_eq!(attributes["size"], Value::number(9_007_199_254_740_992.0), "Infra holds it rounded");

        let mut sent = attributes_to_plugin(&attributes).unwrap();
        let PluginValue::Map(fields) = &sent else { panic!("a body") };
        assert_ne!(fields["size"], PluginValue::Number(9_007_199_254_740_993_i64.into()));
        restore_exact_numbers(&mut sent, &found);
        let PluginValue::Map(fields) = &sent else { panic!("a body") };
        assert_eq!(fields["size"], PluginValue::Number(9_007_199_254_740_993_i64.into()));

        let mut changed = attributes.clone();
        changed.insert("size".to_string(), Value::number(7.0));
        let mut sent = attributes_to_plugin(&changed).unwrap();
        restore_exact_numbers(&mut sent, &found);
        let PluginValue::Map(fields) = &sent else { panic!("a body") };
        assert_eq!(fields["size"], PluginValue::Number(7.into()));
        // A path that leads nowhere changes nothing.
        restore_exact_numbers(&mut sent, &[(r#"["rule",3,"x"]"#.to_string(), "1".to_string())]);
        assert_eq!(sent, attributes_to_plugin(&changed).unwrap());
    }

    #[test]
    fn attributes_round_trip_with_sets_unknowns_and_nested_blocks() {
        let mut attributes = Attributes::new();
        attributes.insert("name".to_string(), Value::string("web"));
        attributes.insert("size".to_string(), Value::unknown(Type::Number));
        attributes.insert("ports".to_string(), Value::set(vec![Value::number(443.0), Value::number(22.0)]));
        attributes.insert("tags".to_string(), Value::map([("env".to_string(), Value::string("dev"))].into()));
        attributes.insert("token".to_string(), Value::null());
        let rule = Value::map([("cidr".to_string(), Value::string("10.0.0.0/8"))].into());
        attributes.insert("rule".to_string(), Value::list(vec![rule]));
        let sent = attributes_to_plugin(&attributes).unwrap();
        let back = attributes_from_plugin(&sent, &block()).unwrap();
        assert_eq!(back, attributes);
    }

    /// A `map` nested block is an attribute of Infra's schema holding a map of objects
    /// (Infra's blocks take no label); written so, it crosses to the plugin as the map
    /// of blocks, keyed by label, and back; none at all is null both ways.
    #[test]
    fn map_blocks_are_attributes_holding_maps_of_objects() {
        let listener = Block { attributes: vec![attribute("port", json!("number"))], ..Block::default() };
        let map_block = NestedBlock {
            name: "listener".to_string(),
            nesting: Nesting::Map,
            block: listener,
            ..NestedBlock::default()
        };
        let mut schema_block = block();
        schema_block.blocks.push(map_block);
        let infra = crate::schema::infra_schema(&schema_block);
        assert!(infra.block("listener").is_none(), "not a block");
        let attribute = infra.attribute("listener").expect("an attribute");
        let port = infra_compiler::types::ObjectField { ty: Type::Number, optional: true };
        assert_eq!(attribute.ty, Type::map(Type::object_of([("port".to_string(), port)])));
        assert!(!attribute.required && attribute.settable);

        let mut attributes = Attributes::new();
        let web = Value::map([("port".to_string(), Value::number(80.0))].into());
        attributes.insert("listener".to_string(), Value::map([("web".to_string(), web)].into()));
        let sent = attributes_to_plugin(&attributes).unwrap();
        let encoded = crate::values::encode_block(&sent, &schema_block).unwrap();
        let decoded = crate::values::decode_block(&encoded, &schema_block).unwrap();
        let back = attributes_from_plugin(&decoded, &schema_block).unwrap();
        assert_eq!(back.get("listener"), attributes.get("listener"));

        let mut unset = Attributes::new();
        unset.insert("listener".to_string(), Value::null());
        let encoded = crate::values::encode_block(&attributes_to_plugin(&unset).unwrap(), &schema_block).unwrap();
        let decoded = crate::values::decode_block(&encoded, &schema_block).unwrap();
        assert_eq!(attributes_from_plugin(&decoded, &schema_block).unwrap().get("listener"), Some(&Value::null()));
    }

    #[test]
    fn numbers_go_as_integers_when_whole_and_floats_otherwise() {
        assert_eq!(to_plugin(&Value::number(3.0)).unwrap(), PluginValue::Number(3.into()));
        let half = to_plugin(&Value::number(0.5)).unwrap();
        assert_eq!(half, PluginValue::Number(serde_json::Number::from_f64(0.5).unwrap()));
    }

    #[test]
    fn sensitive_attributes_are_marked_and_missing_ones_are_null() {
        let body = PluginValue::object([("token", PluginValue::string("s3cret"))]);
        let attributes = attributes_from_plugin(&body, &block()).unwrap();
        assert!(attributes.get("token").unwrap().sensitive);
        assert!(!attributes.get("name").unwrap().sensitive);
        assert!(attributes.get("name").unwrap().is_null());
        assert_eq!(attributes.get("rule"), Some(&Value::list(Vec::new())));
    }

    #[test]
    fn an_unknown_keeps_the_attribute_type() {
        let body = PluginValue::object([("ports", PluginValue::Unknown)]);
        let attributes = attributes_from_plugin(&body, &block()).unwrap();
        assert_eq!(attributes.get("ports"), Some(&Value::unknown(Type::set(Type::Number))));
    }
}
