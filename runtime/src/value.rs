//! Values: what expressions evaluate to.
//!
//! A [`Value`] is a [`Kind`] plus a *sensitive* mark. The mark is carried by every value
//! derived from a sensitive one: operators and templates mark their result when any
//! operand is marked, functions when any argument contains a mark anywhere inside it,
//! and collections keep the marks of their elements. A value not known until apply is
//! [`Kind::Unknown`], carrying the type it will have.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use infra_compiler::types::{ObjectField, Type};

mod map;
mod shared;

pub use ecow::EcoString;
pub use infra_compiler::name::{Name, Names};
pub use map::ValueMap;
pub use shared::SharedMaps;

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: Kind,
    /// Set when the value comes from a secret; it is redacted wherever it is shown.
    pub sensitive: bool,
}

/// (Strings are `EcoString`s and collections boxed slices, and the type of an unknown
/// value is boxed: a value is 32 bytes, not 40. A state of 10,000 instances of thirty attributes holds
/// about a million of them.)
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    /// (Up to 15 bytes inline; longer ones shared on clone.)
    String(EcoString),
    /// Lists and tuples.
    List(Box<[Value]>),
    /// Elements sorted by [`Value::total_cmp`] and without duplicates.
    Set(Box<[Value]>),
    /// Maps and objects.
    Map(ValueMap),
    /// Known only after apply; the type it will have.
    Unknown(Box<Type>),
}

/// Whether `text` is in Unicode normal form C; ASCII always is, and is checked first.
fn is_nfc(text: &str) -> bool {
    text.is_ascii() || unicode_normalization::is_nfc(text)
}

/// `text` in Unicode normal form C.
fn nfc(text: String) -> String {
    if is_nfc(&text) {
        text
    } else {
        unicode_normalization::UnicodeNormalization::nfc(text.as_str()).collect()
    }
}

impl Value {
    fn plain(kind: Kind) -> Value {
        Value { kind, sensitive: false }
    }

    pub fn null() -> Value {
        Value::plain(Kind::Null)
    }

    pub fn bool(value: bool) -> Value {
        Value::plain(Kind::Bool(value))
    }

    /// A number; `-0` is `0` (Terraform's numbers have no signed zero).
    pub fn number(value: f64) -> Value {
        Value::plain(Kind::Number(value + 0.0))
    }

    /// A string, in Unicode normal form C: Terraform normalises every string, so
    /// `"e\u0301" == "\u00e9"` holds and both hash alike.
    pub fn string(value: impl AsRef<str>) -> Value {
        let text = value.as_ref();
        // Made from the text itself: no `String` between, which for text of 15 bytes or
        // less (held inline) would be an allocation for nothing.
        if is_nfc(text) {
            return Value::plain(Kind::String(EcoString::from(text)));
        }
        Value::plain(Kind::String(EcoString::from(nfc(text.to_string()))))
    }

    /// The string `text`, sharing it when it is already in normal form C, as a
    /// configuration's literal text is.
    pub fn shared_string(text: &EcoString) -> Value {
        if is_nfc(text) {
            return Value::plain(Kind::String(text.clone()));
        }
        Value::string(text.as_str())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::plain(Kind::List(items.into_boxed_slice()))
    }

    /// A set: sorts the elements and removes duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort_by(Value::total_cmp);
        items.dedup_by(|a, b| a.total_cmp(b) == Ordering::Equal);
        Value::plain(Kind::Set(items.into_boxed_slice()))
    }

    /// A map or object; its keys are put in normal form C like every string.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::object(entries.into())
    }

    /// A map or object from entries already in a [`ValueMap`], without building a
    /// `BTreeMap` first; its keys are put in normal form C like every string.
    pub fn object(entries: ValueMap) -> Value {
        if entries.keys().all(|k| is_nfc(k)) {
            return Value::plain(Kind::Map(entries));
        }
        Value::plain(Kind::Map(entries.into_iter().map(|(k, v)| (nfc(String::from(k)), v)).collect()))
    }

    pub fn unknown(ty: Type) -> Value {
        Value::plain(Kind::Unknown(Box::new(ty)))
    }

    /// The same value, marked sensitive.
    pub fn mark_sensitive(mut self) -> Value {
        self.sensitive = true;
        self
    }

    /// The same value, marked sensitive when `sensitive` is set.
    pub fn with_mark(mut self, sensitive: bool) -> Value {
        self.sensitive |= sensitive;
        self
    }

    /// Whether this value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        self.sensitive
            || match &self.kind {
                Kind::List(items) | Kind::Set(items) => items.iter().any(Value::contains_sensitive),
                // Found when the map was made (see `ValueMap`), not walked again.
                Kind::Map(entries) => entries.contains_sensitive(),
                _ => false,
            }
    }

    /// The value with every sensitive mark removed, at every depth.
    pub fn unmarked_deep(&self) -> Value {
        if !self.contains_sensitive() {
            // A clone shares the collections inside; rebuilding them would copy them.
            return self.clone();
        }
        let kind = match &self.kind {
            Kind::List(items) => Kind::List(items.iter().map(Value::unmarked_deep).collect()),
            Kind::Set(items) => Kind::Set(items.iter().map(Value::unmarked_deep).collect()),
            Kind::Map(entries) => Kind::Map(entries.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect()),
            other => other.clone(),
        };
        Value::plain(kind)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// Whether this value itself is known (its elements may still be unknown).
    pub fn is_known(&self) -> bool {
        !matches!(self.kind, Kind::Unknown(_))
    }

    /// Whether this value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match &self.kind {
            Kind::Unknown(_) => false,
            Kind::List(items) | Kind::Set(items) => items.iter().all(Value::is_wholly_known),
            Kind::Map(entries) => entries.is_wholly_known(),
            _ => true,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self.kind {
            Kind::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a list or set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::List(items) | Kind::Set(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&ValueMap> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The name of the value's kind, for messages: `string`, `list`, ...
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "bool",
            Kind::Number(_) => "number",
            Kind::String(_) => "string",
            Kind::List(_) => "list",
            Kind::Set(_) => "set",
            Kind::Map(_) => "object",
            Kind::Unknown(_) => "unknown value",
        }
    }

    /// The value's type with its article, for messages: "a string", "an object", "null".
    pub fn a_type_name(&self) -> String {
        match self.type_name() {
            "null" => "null".to_string(),
            name => format!("{} {name}", article(name)),
        }
    }

    /// The value's type, as the checker writes types.
    pub fn ty(&self) -> Type {
        match &self.kind {
            Kind::Null => Type::Null,
            Kind::Bool(_) => Type::Bool,
            Kind::Number(_) => Type::Number,
            Kind::String(_) => Type::String,
            Kind::List(items) => Type::Tuple(items.iter().map(Value::ty).collect()),
            Kind::Set(items) => Type::set(infra_compiler::types::unify_all(items.iter().map(Value::ty))),
            Kind::Map(entries) => Type::object_of(
                entries.iter().map(|(k, v)| (k.to_string(), ObjectField { ty: v.ty(), optional: false })),
            ),
            Kind::Unknown(ty) => (**ty).clone(),
        }
    }

    /// A total order over values, used to sort sets and compare for equality: first by
    /// kind (null, bool, number, string, list, set, map, unknown), then by content.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(kind: &Kind) -> u8 {
            match kind {
                Kind::Null => 0,
                Kind::Bool(_) => 1,
                Kind::Number(_) => 2,
                Kind::String(_) => 3,
                Kind::List(_) => 4,
                Kind::Set(_) => 5,
                Kind::Map(_) => 6,
                Kind::Unknown(_) => 7,
            }
        }
        match (&self.kind, &other.kind) {
            (Kind::Bool(a), Kind::Bool(b)) => a.cmp(b),
            // One zero: `-0 == 0`, as in Terraform (its numbers have no signed zero).
            (Kind::Number(a), Kind::Number(b)) => (a + 0.0).total_cmp(&(b + 0.0)),
            (Kind::String(a), Kind::String(b)) => a.cmp(b),
            (Kind::List(a), Kind::List(b)) | (Kind::Set(a), Kind::Set(b)) => {
                a.iter().zip(b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(a.len().cmp(&b.len()))
            }
            (Kind::Map(a), Kind::Map(b)) if a.shares_entries(b) => Ordering::Equal,
            (Kind::Map(a), Kind::Map(b)) => a
                .iter()
                .zip(b)
                .map(|((ka, va), (kb, vb))| ka.cmp(kb).then_with(|| va.total_cmp(vb)))
                .find(|o| o.is_ne())
                .unwrap_or(a.len().cmp(&b.len())),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }

    /// Equality as the `==` operator sees it: by content, marks ignored.
    pub fn equals(&self, other: &Value) -> bool {
        self.total_cmp(other) == Ordering::Equal
    }
}

/// Numbers print without a fractional part when they are whole: `3`, `2.5`, `1e+21`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Renders a value the way the language writes it: `"text"`, `[1, 2]`, `{ a = 1 }`,
/// with `(sensitive value)` for secrets and `(known after apply)` for unknowns.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sensitive {
            return f.write_str("(sensitive value)");
        }
        match &self.kind {
            Kind::Null => f.write_str("null"),
            Kind::Bool(b) => write!(f, "{b}"),
            Kind::Number(n) => f.write_str(&format_number(*n)),
            Kind::String(s) => write!(f, "{}", quote(s)),
            Kind::List(items) | Kind::Set(items) => {
                let prefix = if matches!(self.kind, Kind::Set(_)) { "toset([" } else { "[" };
                f.write_str(prefix)?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(if matches!(self.kind, Kind::Set(_)) { "])" } else { "]" })
            }
            Kind::Map(entries) if entries.is_empty() => f.write_str("{}"),
            Kind::Map(entries) => {
                f.write_str("{ ")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if is_identifier(key) {
                        write!(f, "{key} = {value}")?;
                    } else {
                        write!(f, "{} = {value}", quote(key))?;
                    }
                }
                f.write_str(" }")
            }
            Kind::Unknown(_) => f.write_str("(known after apply)"),
        }
    }
}

/// The indefinite article for `word`, for messages: "an" before a vowel ("an object",
/// "an `object(...)`"), else "a".
pub fn article(word: &str) -> &'static str {
    let first = word.trim_start_matches('`').chars().next();
    if first.is_some_and(|c| "aeiouAEIOU".contains(c)) {
        "an"
    } else {
        "a"
    }
}

/// A string literal in the language's syntax, with escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("$$"),
            '%' if chars.peek() == Some(&'{') => out.push_str("%%"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A state of 10,000 instances of thirty attributes holds about a million values and map
/// entries: their sizes are most of what a large plan holds.
#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    use std::mem::size_of;

    use super::*;

    #[test]
    fn values_and_map_entries_keep_their_sizes() {
        assert_eq!(size_of::<Kind>(), 24);
        assert_eq!(size_of::<Value>(), 32);
        assert_eq!(size_of::<(Name, Value)>(), 40);
    }
}
