//! Values as they cross the plugin protocol: `DynamicValue`'s MessagePack, encoded and
//! decoded by the schema (Terraform's "object wire format"), with `rmpv`.
//!
//! A body is a map with one entry per attribute and per nested block type; a null is
//! nil; a value not known until apply is an extension value of type 0 (older) or 12
//! (refined; its refinements are not kept here); a number is an integer, a float or a
//! decimal string; `dynamic` is a two-element array of the JSON type and the value.
//! [`PluginValue`] is the host's own value of this seam; turning it into the runtime's
//! values is the next step.

use std::collections::BTreeMap;

use crate::schema::{Attribute, Block, NestedAttributes, Nesting};

/// A value of a plugin's schema.
#[derive(Clone, Debug, PartialEq)]
pub enum PluginValue {
    Null,
    /// Known only after apply.
    Unknown,
    Bool(bool),
    /// The number as written (a decimal may be wider than a 64-bit float).
    Number(serde_json::Number),
    String(String),
    /// A list, set or tuple.
    List(Vec<PluginValue>),
    /// A map or object.
    Map(BTreeMap<String, PluginValue>),
}

impl PluginValue {
    pub fn string(text: &str) -> PluginValue {
        PluginValue::String(text.to_string())
    }

    /// An object of these attributes.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, PluginValue)>) -> PluginValue {
        PluginValue::Map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

/// The extension types of unknown values.
const UNKNOWN: i8 = 0;
const REFINED_UNKNOWN: i8 = 12;

/// `value`, a body of `block`, as MessagePack: every attribute and nested block type of
/// the schema is present, null where `value` lacks it.
pub fn encode_block(value: &PluginValue, block: &Block) -> Result<Vec<u8>, String> {
    let encoded = block_value(value, block)?;
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &encoded).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// `value`, of Terraform's JSON type `ty`, as MessagePack (a function's argument).
pub fn encode_typed(value: &PluginValue, ty: &serde_json::Value) -> Result<Vec<u8>, String> {
    let encoded = typed_value(value, ty)?;
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &encoded).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// MessagePack of a value of Terraform's JSON type `ty` (a function's result).
pub fn decode_typed(bytes: &[u8], ty: &serde_json::Value) -> Result<PluginValue, String> {
    let value = rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| format!("not MessagePack: {e}"))?;
    read_typed(&value, ty)
}

/// MessagePack of a body of `block` as a value.
pub fn decode_block(bytes: &[u8], block: &Block) -> Result<PluginValue, String> {
    let value = rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| format!("not MessagePack: {e}"))?;
    read_block(&value, block)
}

fn block_value(value: &PluginValue, block: &Block) -> Result<rmpv::Value, String> {
    let fields = match value {
        PluginValue::Null => return Ok(rmpv::Value::Nil),
        PluginValue::Unknown => return Ok(rmpv::Value::Ext(UNKNOWN, vec![0])),
        PluginValue::Map(fields) => fields,
        other => return Err(format!("a block is an object, not {other:?}")),
    };
    if let Some(name) = fields
        .keys()
        .find(|name| block.attributes.iter().all(|a| &a.name != *name) && block.blocks.iter().all(|b| &b.name != *name))
    {
        return Err(format!("the schema has no attribute or block `{name}`"));
    }
    let mut entries = Vec::new();
    for attribute in &block.attributes {
        let value = fields.get(&attribute.name).unwrap_or(&PluginValue::Null);
        let encoded = attribute_value(value, attribute).map_err(|e| format!("`{}`: {e}", attribute.name))?;
        entries.push((rmpv::Value::from(attribute.name.as_str()), encoded));
    }
    for nested in &block.blocks {
        let value = fields.get(&nested.name);
        let encoded = match (nested.nesting, value) {
            (Nesting::Single, None | Some(PluginValue::Null)) => rmpv::Value::Nil,
            // A group block is always present; absent, each attribute is null.
            (Nesting::Group, None | Some(PluginValue::Null)) => {
                block_value(&PluginValue::Map(BTreeMap::new()), &nested.block)?
            }
            (Nesting::Single | Nesting::Group, Some(value)) => block_value(value, &nested.block)?,
            // Blocks that are left out are none (a `map` block is an attribute in Infra,
            // null when it is not set).
            (Nesting::List | Nesting::Set, None | Some(PluginValue::Null)) => rmpv::Value::Array(Vec::new()),
            (Nesting::Map, None | Some(PluginValue::Null)) => rmpv::Value::Map(Vec::new()),
            (Nesting::List | Nesting::Set, Some(PluginValue::List(items))) => {
                rmpv::Value::Array(items.iter().map(|item| block_value(item, &nested.block)).collect::<Result<_, _>>()?)
            }
            (Nesting::Map, Some(PluginValue::Map(items))) => rmpv::Value::Map(
                items
                    .iter()
                    .map(|(key, item)| Ok((rmpv::Value::from(key.as_str()), block_value(item, &nested.block)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (_, Some(PluginValue::Unknown)) => rmpv::Value::Ext(UNKNOWN, vec![0]),
            (_, Some(other)) => return Err(format!("block `{}` cannot be {other:?}", nested.name)),
        };
        entries.push((rmpv::Value::from(nested.name.as_str()), encoded));
    }
    Ok(rmpv::Value::Map(entries))
}

fn attribute_value(value: &PluginValue, attribute: &Attribute) -> Result<rmpv::Value, String> {
    match (&attribute.nested, &attribute.ty) {
        (Some(nested), _) => nested_value(value, nested),
        (None, Some(ty)) => typed_value(value, ty),
        (None, None) => Err("the schema gives no type".to_string()),
    }
}

fn nested_value(value: &PluginValue, nested: &NestedAttributes) -> Result<rmpv::Value, String> {
    let object = Block { attributes: nested.attributes.clone(), ..Block::default() };
    match (nested.nesting, value) {
        (_, PluginValue::Null) => Ok(rmpv::Value::Nil),
        (_, PluginValue::Unknown) => Ok(rmpv::Value::Ext(UNKNOWN, vec![0])),
        (Nesting::Single | Nesting::Group, value) => block_value(value, &object),
        (Nesting::List | Nesting::Set, PluginValue::List(items)) => {
            Ok(rmpv::Value::Array(items.iter().map(|item| block_value(item, &object)).collect::<Result<_, _>>()?))
        }
        (Nesting::Map, PluginValue::Map(items)) => Ok(rmpv::Value::Map(
            items
                .iter()
                .map(|(key, item)| Ok((rmpv::Value::from(key.as_str()), block_value(item, &object)?)))
                .collect::<Result<_, String>>()?,
        )),
        (_, other) => Err(format!("nested attributes cannot be {other:?}")),
    }
}

/// A value of Terraform's JSON type `ty`.
fn typed_value(value: &PluginValue, ty: &serde_json::Value) -> Result<rmpv::Value, String> {
    use serde_json::Value as J;
    let mismatch = || format!("{value:?} is not of type {ty}");
    match (value, ty) {
        (PluginValue::Null, _) => Ok(rmpv::Value::Nil),
        (PluginValue::Unknown, _) => Ok(rmpv::Value::Ext(UNKNOWN, vec![0])),
        (_, J::String(name)) if name == "dynamic" => {
            let (inner, concrete) = dynamic(value);
            let ty_json = serde_json::to_vec(&concrete).map_err(|e| e.to_string())?;
            Ok(rmpv::Value::Array(vec![rmpv::Value::Binary(ty_json), typed_value(inner, &concrete)?]))
        }
        (PluginValue::String(text), J::String(name)) if name == "string" => Ok(rmpv::Value::from(text.as_str())),
        (PluginValue::Bool(b), J::String(name)) if name == "bool" => Ok(rmpv::Value::Boolean(*b)),
        (PluginValue::Number(n), J::String(name)) if name == "number" => Ok(number(n)),
        (PluginValue::List(items), J::Array(parts)) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("list" | "set"), Some(element)) => {
                Ok(rmpv::Value::Array(items.iter().map(|item| typed_value(item, element)).collect::<Result<_, _>>()?))
            }
            (Some("tuple"), Some(J::Array(elements))) if elements.len() == items.len() => Ok(rmpv::Value::Array(
                items.iter().zip(elements).map(|(item, ty)| typed_value(item, ty)).collect::<Result<_, _>>()?,
            )),
            _ => Err(mismatch()),
        },
        (PluginValue::Map(fields), J::Array(parts)) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("map"), Some(element)) => Ok(rmpv::Value::Map(
                fields
                    .iter()
                    .map(|(key, item)| Ok((rmpv::Value::from(key.as_str()), typed_value(item, element)?)))
                    .collect::<Result<_, String>>()?,
            )),
            (Some("object"), Some(J::Object(types))) => Ok(rmpv::Value::Map(
                types
                    .iter()
                    .map(|(key, ty)| {
                        let item = fields.get(key).unwrap_or(&PluginValue::Null);
                        Ok((rmpv::Value::from(key.as_str()), typed_value(item, ty)?))
                    })
                    .collect::<Result<_, String>>()?,
            )),
            _ => Err(mismatch()),
        },
        _ => Err(mismatch()),
    }
}

/// The type a value of type `dynamic` is sent as: what it holds.
fn dynamic(value: &PluginValue) -> (&PluginValue, serde_json::Value) {
    use serde_json::json;
    let ty = match value {
        PluginValue::Bool(_) => json!("bool"),
        PluginValue::Number(_) => json!("number"),
        PluginValue::String(_) => json!("string"),
        PluginValue::List(items) => json!(["tuple", items.iter().map(|i| dynamic(i).1).collect::<Vec<_>>()]),
        PluginValue::Map(fields) => {
            json!(["object", fields.iter().map(|(k, v)| (k.clone(), dynamic(v).1)).collect::<serde_json::Map<_, _>>()])
        }
        PluginValue::Null | PluginValue::Unknown => json!("dynamic"),
    };
    (value, ty)
}

fn number(n: &serde_json::Number) -> rmpv::Value {
    if let Some(i) = n.as_i64() {
        rmpv::Value::from(i)
    } else if let Some(u) = n.as_u64() {
        rmpv::Value::from(u)
    } else {
        // A decimal keeps its digits as a string, as the wire format allows.
        rmpv::Value::from(n.to_string().as_str())
    }
}

fn read_block(value: &rmpv::Value, block: &Block) -> Result<PluginValue, String> {
    let entries = match value {
        rmpv::Value::Nil => return Ok(PluginValue::Null),
        rmpv::Value::Ext(UNKNOWN | REFINED_UNKNOWN, _) => return Ok(PluginValue::Unknown),
        rmpv::Value::Map(entries) => entries,
        other => return Err(format!("a block is a map, not {other}")),
    };
    let mut fields = BTreeMap::new();
    for (key, item) in entries {
        let Some(name) = key.as_str() else { return Err(format!("a block's key {key} is not a string")) };
        let decoded = if let Some(attribute) = block.attributes.iter().find(|a| a.name == name) {
            read_attribute(item, attribute).map_err(|e| format!("`{name}`: {e}"))?
        } else if let Some(nested) = block.blocks.iter().find(|b| b.name == name) {
            match (nested.nesting, item) {
                (_, rmpv::Value::Nil) => PluginValue::Null,
                (_, rmpv::Value::Ext(UNKNOWN | REFINED_UNKNOWN, _)) => PluginValue::Unknown,
                (Nesting::Single | Nesting::Group, item) => read_block(item, &nested.block)?,
                (Nesting::List | Nesting::Set, rmpv::Value::Array(items)) => {
                    PluginValue::List(items.iter().map(|i| read_block(i, &nested.block)).collect::<Result<_, _>>()?)
                }
                (Nesting::Map, rmpv::Value::Map(items)) => PluginValue::Map(
                    items
                        .iter()
                        .map(|(k, i)| Ok((key_text(k)?, read_block(i, &nested.block)?)))
                        .collect::<Result<_, String>>()?,
                ),
                (_, other) => return Err(format!("block `{name}` cannot be {other}")),
            }
        } else {
            return Err(format!("the schema has no attribute or block `{name}`"));
        };
        fields.insert(name.to_string(), decoded);
    }
    Ok(PluginValue::Map(fields))
}

fn key_text(key: &rmpv::Value) -> Result<String, String> {
    key.as_str().map(str::to_string).ok_or_else(|| format!("the key {key} is not a string"))
}

fn read_attribute(value: &rmpv::Value, attribute: &Attribute) -> Result<PluginValue, String> {
    match (&attribute.nested, &attribute.ty) {
        (Some(nested), _) => {
            let object = Block { attributes: nested.attributes.clone(), ..Block::default() };
            match (nested.nesting, value) {
                (_, rmpv::Value::Nil) => Ok(PluginValue::Null),
                (_, rmpv::Value::Ext(UNKNOWN | REFINED_UNKNOWN, _)) => Ok(PluginValue::Unknown),
                (Nesting::Single | Nesting::Group, value) => read_block(value, &object),
                (Nesting::List | Nesting::Set, rmpv::Value::Array(items)) => {
                    Ok(PluginValue::List(items.iter().map(|i| read_block(i, &object)).collect::<Result<_, _>>()?))
                }
                (Nesting::Map, rmpv::Value::Map(items)) => Ok(PluginValue::Map(
                    items
                        .iter()
                        .map(|(k, i)| Ok((key_text(k)?, read_block(i, &object)?)))
                        .collect::<Result<_, String>>()?,
                )),
                (_, other) => Err(format!("nested attributes cannot be {other}")),
            }
        }
        (None, Some(ty)) => read_typed(value, ty),
        (None, None) => Err("the schema gives no type".to_string()),
    }
}

fn read_typed(value: &rmpv::Value, ty: &serde_json::Value) -> Result<PluginValue, String> {
    use serde_json::Value as J;
    let mismatch = || format!("{value} is not of type {ty}");
    match (value, ty) {
        (rmpv::Value::Nil, _) => Ok(PluginValue::Null),
        (rmpv::Value::Ext(UNKNOWN | REFINED_UNKNOWN, _), _) => Ok(PluginValue::Unknown),
        (rmpv::Value::Array(pair), J::String(name)) if name == "dynamic" && pair.len() == 2 => {
            let concrete: serde_json::Value = match &pair[0] {
                rmpv::Value::Binary(bytes) => serde_json::from_slice(bytes).map_err(|e| e.to_string())?,
                rmpv::Value::String(text) => {
                    serde_json::from_str(text.as_str().unwrap_or("")).map_err(|e| e.to_string())?
                }
                _ => return Err(mismatch()),
            };
            read_typed(&pair[1], &concrete)
        }
        (rmpv::Value::String(text), J::String(name)) if name == "string" => {
            text.as_str().map(PluginValue::string).ok_or_else(|| "a string is not UTF-8".to_string())
        }
        (rmpv::Value::Boolean(b), J::String(name)) if name == "bool" => Ok(PluginValue::Bool(*b)),
        (value, J::String(name)) if name == "number" => read_number(value).ok_or_else(mismatch),
        (rmpv::Value::Array(items), J::Array(parts)) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("list" | "set"), Some(element)) => {
                Ok(PluginValue::List(items.iter().map(|i| read_typed(i, element)).collect::<Result<_, _>>()?))
            }
            (Some("tuple"), Some(J::Array(types))) if types.len() == items.len() => {
                Ok(PluginValue::List(items.iter().zip(types).map(|(i, t)| read_typed(i, t)).collect::<Result<_, _>>()?))
            }
            _ => Err(mismatch()),
        },
        (rmpv::Value::Map(entries), J::Array(parts)) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("map"), Some(element)) => Ok(PluginValue::Map(
                entries
                    .iter()
                    .map(|(k, i)| Ok((key_text(k)?, read_typed(i, element)?)))
                    .collect::<Result<_, String>>()?,
            )),
            (Some("object"), Some(J::Object(types))) => {
                let mut fields = BTreeMap::new();
                for (key, item) in entries {
                    let key = key_text(key)?;
                    let ty = types.get(&key).ok_or_else(|| format!("the object type has no attribute `{key}`"))?;
                    fields.insert(key, read_typed(item, ty)?);
                }
                Ok(PluginValue::Map(fields))
            }
            _ => Err(mismatch()),
        },
        _ => Err(mismatch()),
    }
}

fn read_number(value: &rmpv::Value) -> Option<PluginValue> {
    let number = match value {
        rmpv::Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(i), _) => serde_json::Number::from(i),
            (None, Some(u)) => serde_json::Number::from(u),
            _ => return None,
        },
        rmpv::Value::F32(f) => serde_json::Number::from_f64(f64::from(*f))?,
        rmpv::Value::F64(f) => serde_json::Number::from_f64(*f)?,
        rmpv::Value::String(text) => text.as_str()?.parse::<serde_json::Number>().ok()?,
        _ => return None,
    };
    Some(PluginValue::Number(number))
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
        Block {
            attributes: vec![
                attribute("name", json!("string")),
                attribute("size", json!("number")),
                attribute("tags", json!(["map", "string"])),
                attribute("ports", json!(["set", "number"])),
                attribute("extra", json!("dynamic")),
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

    #[test]
    fn a_body_round_trips_with_unknowns_nulls_and_nested_blocks() {
        let value = PluginValue::object([
            ("name", PluginValue::string("web")),
            ("size", PluginValue::Unknown),
            ("tags", PluginValue::object([("env", PluginValue::string("dev"))])),
            ("ports", PluginValue::List(vec![PluginValue::Number(22.into()), PluginValue::Number(443.into())])),
            ("extra", PluginValue::object([("on", PluginValue::Bool(true))])),
            ("rule", PluginValue::List(vec![PluginValue::object([("cidr", PluginValue::string("10.0.0.0/8"))])])),
        ]);
        let bytes = encode_block(&value, &block()).unwrap();
        let PluginValue::Map(back) = decode_block(&bytes, &block()).unwrap() else { panic!() };
        let PluginValue::Map(sent) = value else { panic!() };
        for (name, item) in &sent {
            assert_eq!(&back[name], item, "{name}");
        }
    }

    #[test]
    fn unknowns_are_extension_0_and_refined_ones_are_read() {
        let bytes = encode_block(&PluginValue::object([("size", PluginValue::Unknown)]), &block()).unwrap();
        let raw = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let size = raw.as_map().unwrap().iter().find(|(k, _)| k.as_str() == Some("size")).unwrap();
        assert!(matches!(size.1, rmpv::Value::Ext(0, _)));
        // An absent attribute is null, an absent repeated block an empty array.
        let name = raw.as_map().unwrap().iter().find(|(k, _)| k.as_str() == Some("name")).unwrap();
        assert_eq!(name.1, rmpv::Value::Nil);
        let refined = rmpv::Value::Map(vec![(rmpv::Value::from("size"), rmpv::Value::Ext(12, vec![0x80]))]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &refined).unwrap();
        let PluginValue::Map(decoded) = decode_block(&bytes, &block()).unwrap() else { panic!() };
        assert_eq!(decoded["size"], PluginValue::Unknown);
    }

    #[test]
    fn a_value_of_the_wrong_type_or_an_unknown_attribute_is_an_error() {
        let wrong = PluginValue::object([("size", PluginValue::string("big"))]);
        assert!(encode_block(&wrong, &block()).unwrap_err().contains("`size`"));
        let unknown = PluginValue::object([("colour", PluginValue::string("red"))]);
        assert!(encode_block(&unknown, &block()).unwrap_err().contains("`colour`"));
    }
}
