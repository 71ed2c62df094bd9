//! Values to and from the JSON the state stores.
//!
//! Sensitive marks are not stored inline: converting attributes to JSON also returns the
//! path of every marked value (`["password"]`, `["tags", "token"]`, `["keys", 0]`), and
//! converting back re-applies the marks at those paths. Sets are written as arrays, in
//! their order, and their paths are returned beside the sensitive ones, so that a set
//! comes back a set even where no schema says so (`null.resource`'s `input`, an output):
//! read back as a list it would differ from the configuration's set at every plan.
//! Unknown values cannot be stored. Whole numbers are written as JSON integers.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::error::{StateError, StateErrorKind};
use crate::provider::Attributes;
use crate::value::{quote, Kind, Name, Names, SharedMaps, Value};

/// What a document's reader shares between the values it builds.
#[derive(Default)]
struct Shared {
    names: Names,
    maps: SharedMaps,
    /// The entries of the objects being read, innermost last: each object's are moved
    /// out into a vector of their exact size once it ends, instead of each growing a
    /// vector of its own by doubling (a fifth of reading a large state).
    entries: Vec<(Name, Value)>,
    /// The same for the elements of the lists being read.
    items: Vec<Value>,
}

thread_local! {
    /// The names and maps made while reading a document ([`with_shared_values`]).
    static SHARED: std::cell::RefCell<Option<Shared>> = const { std::cell::RefCell::new(None) };
}

/// Runs `read` (which parses a snapshot or a journal) making each distinct object key
/// once, and each distinct object: a state of 10,000 instances of a kind then holds each
/// attribute name once, not 10,000 times, and a nested block or tags map that many
/// instances repeat once. The tables are dropped when `read` returns; what they made
/// lives on in the values.
pub(crate) fn with_shared_values<T>(read: impl FnOnce() -> T) -> T {
    let outer = SHARED.with(|shared| shared.borrow_mut().replace(Shared::default()));
    let result = read();
    SHARED.with(|shared| *shared.borrow_mut() = outer);
    result
}

/// Runs `read` with the tables of the document being read, taken from the thread for
/// the whole value: the values inside it are read with them passed down, not looked up
/// per key and per element (a tenth of reading a large state was that lookup). Outside
/// [`with_shared_values`], a value shares keys and objects only within itself.
fn with_tables<T>(read: impl FnOnce(&mut Shared) -> T) -> T {
    let mut taken = SHARED.with(|shared| shared.borrow_mut().take());
    match &mut taken {
        Some(shared) => {
            let result = read(shared);
            SHARED.with(|shared| *shared.borrow_mut() = taken);
            result
        }
        None => read(&mut Shared::default()),
    }
}

/// Runs `read` with the names of the document being read: what it makes with them (a
/// journal line's addresses, its instance's type and provider, which thousands of
/// instances repeat) shares each name with the rest of the document.
pub(crate) fn with_shared_names<T>(read: impl FnOnce(&mut Names) -> T) -> T {
    with_tables(|shared| read(&mut shared.names))
}

/// A string read as a name, shared as [`with_shared_names`] shares it (`deserialize_with`).
pub(crate) fn deserialize_shared_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
    use serde::de::DeserializeSeed as _;
    with_tables(|shared| KeySeed(&mut shared.names).deserialize(deserializer))
}

/// An object key as read, shared with equal keys of the same document.
struct KeySeed<'s>(&'s mut Names);

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Name;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Name, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeySeed<'_> {
    type Value = Name;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, text: &str) -> Result<Name, E> {
        Ok(self.0.name(text))
    }
}

/// One step into a value: an object key or a list (or set) index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathStep {
    Key(String),
    Index(u64),
}

/// Where a value sits inside an instance's attributes; the first step is the attribute's
/// name.
pub type AttributePath = Vec<PathStep>;

/// Where in an instance's attributes the values sit that their JSON does not say all
/// about: those marked sensitive, and the sets. Each list is in attribute order, outer
/// values before the values inside them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marked {
    pub sensitive: Vec<AttributePath>,
    pub sets: Vec<AttributePath>,
}

/// The attributes as a JSON object, and where its sensitive values and sets are.
pub fn attributes_to_json(attributes: &Attributes) -> Result<(Json, Marked), StateError> {
    let (stored, marked) = stored_attributes(attributes)?;
    Ok((tree(&stored)?, marked))
}

/// The attributes, checked to be storable (every value known, every number finite), to
/// be serialized straight from the values as the JSON object [`attributes_to_json`]
/// returns, with where its sensitive values and sets are. The journal and the snapshot
/// write them so, without building a JSON tree first.
pub fn stored_attributes(attributes: &Attributes) -> Result<(StoredAttributes<'_>, Marked), StateError> {
    let mut marked = Marked::default();
    let mut path = Vec::new();
    for (name, value) in attributes {
        path.push(StepRef::Key(name));
        check_storable(value, &mut path, &mut marked)?;
        path.pop();
    }
    Ok((StoredAttributes(attributes), marked))
}

/// Attributes checked by [`stored_attributes`], serialized as a JSON object.
pub struct StoredAttributes<'a>(&'a Attributes);

impl Serialize for StoredAttributes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name.as_str(), StoredValue(value))))
    }
}

struct StoredValue<'a>(&'a Value);

impl Serialize for StoredValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.kind {
            Kind::Null => serializer.serialize_unit(),
            Kind::Bool(b) => serializer.serialize_bool(*b),
            Kind::Number(n) => match number_to_json(*n) {
                Some(Json::Number(number)) => number.serialize(serializer),
                _ => Err(serde::ser::Error::custom("a number that is not finite")),
            },
            Kind::String(s) => serializer.serialize_str(s),
            Kind::List(items) | Kind::Set(items) => serializer.collect_seq(items.iter().map(StoredValue)),
            Kind::Map(entries) => serializer.collect_map(entries.iter().map(|(k, v)| (k.as_str(), StoredValue(v)))),
            Kind::Unknown(_) => Err(serde::ser::Error::custom("a value that is not known yet")),
        }
    }
}

/// One step of a path being walked, borrowed until a path must be kept.
enum StepRef<'a> {
    Key(&'a str),
    Index(u64),
}

fn owned_path(path: &[StepRef<'_>]) -> AttributePath {
    path.iter()
        .map(|step| match step {
            StepRef::Key(key) => PathStep::Key((*key).to_string()),
            StepRef::Index(index) => PathStep::Index(*index),
        })
        .collect()
}

/// Checks that `value` can be stored, collecting the paths of its sensitive parts and
/// its sets.
fn check_storable<'a>(value: &'a Value, path: &mut Vec<StepRef<'a>>, marked: &mut Marked) -> Result<(), StateError> {
    if value.sensitive {
        marked.sensitive.push(owned_path(path));
    }
    if matches!(value.kind, Kind::Set(_)) {
        marked.sets.push(owned_path(path));
    }
    match &value.kind {
        Kind::Null | Kind::Bool(_) | Kind::String(_) => {}
        Kind::Number(n) => {
            if !n.is_finite() {
                return Err(unstorable(&owned_path(path), "it is not a finite number"));
            }
        }
        Kind::List(items) | Kind::Set(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(StepRef::Index(index as u64));
                check_storable(item, path, marked)?;
                path.pop();
            }
        }
        Kind::Map(entries) => {
            for (key, item) in entries {
                path.push(StepRef::Key(key));
                check_storable(item, path, marked)?;
                path.pop();
            }
        }
        Kind::Unknown(_) => return Err(unstorable(&owned_path(path), "its value is not known yet")),
    }
    Ok(())
}

/// Attributes from a JSON object, with the values `marked` says are sets made sets and
/// those it says are sensitive marked. A path that leads nowhere (the value was edited
/// away) changes nothing: there is no value to protect.
pub fn attributes_from_json(json: &Json, marked: &Marked) -> Result<Attributes, StateError> {
    let Json::Object(object) = json else {
        return Err(StateError::new(StateErrorKind::Corrupt, "instance attributes are not a JSON object"));
    };
    let mut attributes: Attributes =
        object.iter().map(|(name, value)| (name.clone(), value_from_json(value))).collect();
    restore_marked(&mut attributes, marked);
    Ok(attributes)
}

/// Makes the lists at `marked.sets` sets again and marks the values at
/// `marked.sensitive`; a path that leads nowhere, or to a value that is not a list,
/// changes nothing.
pub fn restore_marked(attributes: &mut Attributes, marked: &Marked) {
    // Inner sets first (the paths list outer values first): an outer set is then sorted
    // with its members as they will stay.
    for path in marked.sets.iter().rev() {
        if let Some(value) = find_mut(attributes, path) {
            make_set(value);
        }
    }
    for path in &marked.sensitive {
        if let Some(value) = find_mut(attributes, path) {
            value.sensitive = true;
        }
    }
}

/// A list read back where a set was stored, as that set again (its mark kept).
fn make_set(value: &mut Value) {
    if let Kind::List(items) = &mut value.kind {
        let items = std::mem::take(items).into_vec();
        value.kind = Value::set(items).kind;
    }
}

/// A value deserialized straight from JSON text, as [`value_from_json`] makes it from a
/// tree, without building the tree: a large state is read without holding it twice.
pub struct ParsedValue(pub Value);

/// Attributes (a JSON object) deserialized straight from JSON text, unmarked.
pub struct ParsedAttributes(pub Attributes);

/// A value read with the document's tables.
struct ValueSeed<'s>(&'s mut Shared);

impl<'de> serde::de::DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::null())
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::null())
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::number(n as f64))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::number(n as f64))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::number(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::string(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::string(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let shared = self.0;
        // The items are gathered on the reader's stack (nested lists take theirs off
        // before the next item) and moved off it at their exact size.
        let base = shared.items.len();
        loop {
            match seq.next_element_seed(ValueSeed(&mut *shared)) {
                Ok(Some(item)) => shared.items.push(item),
                Ok(None) => break,
                Err(error) => {
                    shared.items.truncate(base);
                    return Err(error);
                }
            }
        }
        Ok(Value::list(shared.items.drain(base..).collect()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let read = |shared: &mut Shared, map: &mut A| map.next_value_seed(ValueSeed(shared));
        Ok(Value::object(entries(self.0, map, read)?))
    }
}

/// The entries of a JSON object, each value read by `value`; of duplicate keys the last
/// wins, as in a tree. Gathered on the reader's stack like a list's items.
fn entries<'de, A: serde::de::MapAccess<'de>>(
    shared: &mut Shared,
    mut map: A,
    mut value: impl FnMut(&mut Shared, &mut A) -> Result<Value, A::Error>,
) -> Result<Attributes, A::Error> {
    let base = shared.entries.len();
    loop {
        let entry = match map.next_key_seed(KeySeed(&mut shared.names)) {
            Ok(Some(key)) => value(shared, &mut map).map(|value| Some((key, value))),
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        match entry {
            Ok(Some(entry)) => shared.entries.push(entry),
            Ok(None) => break,
            Err(error) => {
                shared.entries.truncate(base);
                return Err(error);
            }
        }
    }
    let map = Attributes::from_entries(shared.entries.drain(base..).collect());
    Ok(shared.maps.share(map))
}

/// Attribute texts shorter than this are read again rather than compared with the
/// others: a short value is read about as fast as it is compared.
const REPEATED_TEXT: usize = 64;

/// A value from its JSON text, read with the document's tables.
fn value_from_text(shared: &mut Shared, text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde::de::DeserializeSeed::deserialize(ValueSeed(shared), &mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

impl<'de> Deserialize<'de> for ParsedValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ParsedValue, D::Error> {
        with_tables(|shared| serde::de::DeserializeSeed::deserialize(ValueSeed(shared), deserializer)).map(ParsedValue)
    }
}

impl<'de> Deserialize<'de> for ParsedAttributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ParsedAttributes, D::Error> {
        struct AttributesVisitor<'s>(&'s mut Shared);

        impl<'de> serde::de::Visitor<'de> for AttributesVisitor<'_> {
            type Value = Attributes;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("instance attributes as a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Attributes, A::Error> {
                // Each attribute's text is taken whole first: one that repeats an earlier
                // attribute's text (a provider's `output` echoing its `input`) is that
                // attribute's value again, not read a second time. (An entry goes where
                // the stack ends once its value is read.)
                let mut texts: Vec<(&'de str, usize)> = Vec::new();
                let read = |shared: &mut Shared, map: &mut A| {
                    let text = map.next_value::<&'de serde_json::value::RawValue>()?.get();
                    let value = match texts.iter().find(|(earlier, _)| *earlier == text) {
                        Some(&(_, at)) => shared.entries[at].1.clone(),
                        None => value_from_text(shared, text).map_err(serde::de::Error::custom)?,
                    };
                    if text.len() >= REPEATED_TEXT {
                        texts.push((text, shared.entries.len()));
                    }
                    Ok(value)
                };
                entries(self.0, map, read)
            }
        }

        with_tables(|shared| deserializer.deserialize_map(AttributesVisitor(shared))).map(ParsedAttributes)
    }
}

/// A value from JSON, unmarked; arrays become lists.
pub fn value_from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::null(),
        Json::Bool(b) => Value::bool(*b),
        // Every JSON number has an `f64` form (large integers round, as they would in
        // the language).
        Json::Number(n) => Value::number(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Value::string(s.clone()),
        Json::Array(items) => Value::list(items.iter().map(value_from_json).collect()),
        Json::Object(entries) => Value::map(entries.iter().map(|(k, v)| (k.clone(), value_from_json(v))).collect()),
    }
}

/// A known value as JSON, as the state stores it (sets as arrays, whole numbers as
/// integers), its sensitive parts included: callers that show it redact them first.
/// `None` for a value with an unknown part, or a number JSON has no form for.
pub fn value_to_json(value: &Value) -> Option<Json> {
    serde_json::to_value(StoredValue(value)).ok()
}

/// An output's value as JSON, whether anything in it is sensitive, and the paths of its
/// sets inside it (`[]` for the value itself); `name` names it in errors.
pub(crate) fn output_to_json(name: &str, value: &Value) -> Result<(Json, bool, Vec<AttributePath>), StateError> {
    let mut marked = Marked::default();
    check_storable(value, &mut vec![StepRef::Key(name)], &mut marked)?;
    let sets = marked.sets.into_iter().map(|mut path| path.split_off(1)).collect();
    Ok((tree(&StoredValue(value))?, !marked.sensitive.is_empty(), sets))
}

/// An output's value read back, with the lists at `sets` (paths inside it) made sets.
pub(crate) fn restore_output_sets(value: &mut Value, sets: &[AttributePath]) {
    for path in sets.iter().rev() {
        if let Some(found) = descend(value, path) {
            make_set(found);
        }
    }
}

/// The JSON tree of checked values (serializing them cannot fail).
fn tree(stored: &impl Serialize) -> Result<Json, StateError> {
    serde_json::to_value(stored).map_err(|e| StateError::new(StateErrorKind::Unstorable, e.to_string()))
}

/// Whole numbers that an `f64` holds exactly become integers; other finite numbers stay
/// floating point; infinities and NaN have no JSON form.
fn number_to_json(n: f64) -> Option<Json> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        Some(Json::from(n as i64))
    } else {
        serde_json::Number::from_f64(n).map(Json::Number)
    }
}

fn unstorable(path: &AttributePath, why: &str) -> StateError {
    StateError::new(StateErrorKind::Unstorable, format!("cannot store `{}` in the state: {why}", display_path(path)))
        .with_help("only known values can be stored; this is a bug in Infra or in a provider")
}

fn find_mut<'a>(attributes: &'a mut Attributes, path: &[PathStep]) -> Option<&'a mut Value> {
    let (PathStep::Key(name), rest) = path.split_first()? else { return None };
    descend(attributes.get_mut(name)?, rest)
}

/// The value at `path` inside `value`.
fn descend<'a>(mut value: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    for step in path {
        value = match (&mut value.kind, step) {
            (Kind::Map(entries), PathStep::Key(key)) => entries.get_mut(key)?,
            (Kind::List(items) | Kind::Set(items), PathStep::Index(index)) => {
                items.get_mut(usize::try_from(*index).ok()?)?
            }
            _ => return None,
        };
    }
    Some(value)
}

/// A path as the language would write the access: `tags.token`, `keys[0]`,
/// `labels["a b"]`.
pub fn display_path(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Key(key) if is_identifier(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathStep::Key(key) => out.push_str(&format!("[{}]", quote(key))),
            PathStep::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_like_accesses() {
        let path = |steps: &[PathStep]| display_path(steps);
        let key = |k: &str| PathStep::Key(k.to_string());
        assert_eq!(path(&[key("tags"), key("token")]), "tags.token");
        assert_eq!(path(&[key("keys"), PathStep::Index(0)]), "keys[0]");
        assert_eq!(path(&[key("labels"), key("a b")]), "labels[\"a b\"]");
    }

    #[test]
    fn values_parse_from_text_as_from_a_tree() {
        let text = r#"{"b":[1,2.5,-3,null,true,"e\u0301"],"a":{"z":{},"y":[]},"b2":18446744073709551615}"#;
        let tree: Json = serde_json::from_str(text).expect("json");
        let ParsedValue(parsed) = serde_json::from_str(text).expect("parsed");
        assert_eq!(parsed, value_from_json(&tree));
        let ParsedAttributes(attributes) = serde_json::from_str(text).expect("attributes");
        assert_eq!(Value::object(attributes), parsed);
        assert!(serde_json::from_str::<ParsedAttributes>("[1]").is_err());
    }

    #[test]
    fn values_read_with_shared_tables_are_those_read_alone() {
        // Objects in lists in objects, duplicate keys, empty ones: each object's entries
        // and each list's items come off the reader's stacks whole and in order.
        let text =
            r#"{"b":[{"x":[1,{"k":"v","k":"w"}],"y":[]},[[],[{}]],"s"],"a":{"z":{"q":[2,3]},"a":1},"a":{"r":[]}}"#;
        let ParsedValue(alone) = serde_json::from_str(text).expect("parsed");
        assert_eq!(alone, value_from_json(&serde_json::from_str(text).expect("json")));
        let shared = with_shared_values(|| {
            // A document that fails half-way does not disturb the next.
            let broken = r#"{"a":[1,{"b":[2,{"c":"#;
            assert!(serde_json::from_str::<ParsedValue>(broken).is_err());
            serde_json::from_str::<ParsedValue>(text).expect("parsed").0
        });
        assert_eq!(shared, alone);
        assert_eq!(shared.to_string(), alone.to_string());
    }

    #[test]
    fn an_attribute_repeating_an_earlier_ones_text_is_its_value_again() {
        let object = r#"{"name":"web-42","tags":{"Name":"web-42","Team":"infra"},"ports":[80,443,8042]}"#;
        let other = r#"{"name":"web-43","tags":{"Name":"web-43","Team":"infra"},"ports":[80,443,8043]}"#;
        let text = format!(r#"{{"id":"i-1","input":{object},"other":{other},"output":{object}}}"#);
        let tree: Json = serde_json::from_str(&text).expect("json");
        let expected = attributes_from_json(&tree, &Marked::default()).expect("attributes");
        for shared in [false, true] {
            let read = || serde_json::from_str::<ParsedAttributes>(&text).expect("attributes").0;
            let attributes = if shared { with_shared_values(read) } else { read() };
            assert_eq!(attributes, expected);
            let map = |name: &str| match &attributes[name].kind {
                Kind::Map(map) => map.clone(),
                other => panic!("{name} is {other:?}"),
            };
            assert!(map("output").shares_entries(&map("input")), "equal attributes hold one map");
            assert!(!map("other").shares_entries(&map("input")));
        }
        // A broken value inside the attributes is an error, and leaves nothing behind.
        let broken = format!(r#"{{"input":{object},"output":{{"name":[1,}}}}"#);
        assert!(with_shared_values(|| serde_json::from_str::<ParsedAttributes>(&broken)).is_err());
    }

    #[test]
    fn whole_numbers_are_integers() {
        assert_eq!(number_to_json(3.0), Some(Json::from(3)));
        assert_eq!(number_to_json(-0.0), Some(Json::from(0)));
        assert_eq!(number_to_json(2.5).map(|j| j.to_string()), Some("2.5".to_string()));
        assert_eq!(number_to_json(1e300).map(|j| j.to_string()), Some("1e+300".to_string()));
        assert_eq!(number_to_json(f64::INFINITY), None);
    }
}
