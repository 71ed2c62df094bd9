//! [`ValueMap`]: the entries of a map or object value, sorted by key in one vector.
//!
//! Objects are small (an instance's attributes, a tags map, a nested block) and there are
//! many of them: a plan of 10,000 resources holds hundreds of thousands. A `BTreeMap`
//! allocates a node with room for eleven entries even for one, which made values about
//! five times the size of the state they came from; a sorted vector holds what it has. Lookups are
//! binary searches; inserting into the middle moves the entries after it, which is cheap
//! at these sizes. The API follows `BTreeMap`'s, so code reads the same.
//!
//! The vector is shared: cloning a map (a state value into a plan, a read result into a
//! diff, a plan into the journal) counts a reference instead of copying every entry, and
//! the first change to a shared map copies it (`Arc::make_mut`). Two maps that share their
//! entries are equal without comparing them, which is what a no-change plan mostly asks.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{Kind, Name, Value};

/// Map entries sorted by key, without duplicate keys.
#[derive(Clone, Default)]
pub struct ValueMap {
    entries: Arc<Entries>,
}

type Entry = (Name, Value);

/// The entries, and what is inside their values, found once: whether any is marked
/// sensitive or unknown at any depth. Asked of every attribute a plan evaluates and every
/// object state holds, that would walk each value again each time; a map made of
/// entries finds it then, from its inner maps' answers, while the values are at hand.
/// Changing the entries forgets it (every `&mut` into a map goes through
/// [`ValueMap::entries_mut`]); a map changed inside is walked again when next asked.
#[derive(Default)]
struct Entries {
    list: Vec<Entry>,
    found: AtomicU8,
}

/// [`Entries::found`]: set once the values were looked through.
const WALKED: u8 = 1;
/// A value inside is marked sensitive.
const SENSITIVE: u8 = 2;
/// A value inside is unknown.
const UNKNOWN: u8 = 4;

impl Clone for Entries {
    fn clone(&self) -> Entries {
        Entries { list: self.list.clone(), found: AtomicU8::new(self.found.load(Ordering::Relaxed)) }
    }
}

impl std::ops::Deref for Entries {
    type Target = Vec<Entry>;

    fn deref(&self) -> &Vec<Entry> {
        &self.list
    }
}

impl Entries {
    fn new(list: Vec<Entry>) -> Entries {
        let entries = Entries { list, found: AtomicU8::new(0) };
        entries.found();
        entries
    }

    /// What is inside the values ([`SENSITIVE`], [`UNKNOWN`]), looked for on first ask.
    fn found(&self) -> u8 {
        let found = self.found.load(Ordering::Relaxed);
        if found & WALKED != 0 {
            return found;
        }
        let mut found = WALKED;
        for (_, value) in &self.list {
            found |= inside(value);
            if found == WALKED | SENSITIVE | UNKNOWN {
                break;
            }
        }
        self.found.store(found, Ordering::Relaxed);
        found
    }
}

/// [`SENSITIVE`] and [`UNKNOWN`] for `value` and what it holds.
fn inside(value: &Value) -> u8 {
    let marked = if value.sensitive { SENSITIVE } else { 0 };
    marked
        | match &value.kind {
            Kind::Unknown(_) => UNKNOWN,
            Kind::List(items) | Kind::Set(items) => items.iter().fold(0, |found, item| found | inside(item)),
            Kind::Map(map) => map.entries.found() & (SENSITIVE | UNKNOWN),
            _ => 0,
        }
}

/// An iterator over `(&key, &value)`, in key order.
pub type Iter<'a> = std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Name, &'a Value)>;

/// An iterator over `(&key, &mut value)`, in key order.
pub type IterMut<'a> = std::iter::Map<std::slice::IterMut<'a, Entry>, fn(&'a mut Entry) -> (&'a Name, &'a mut Value)>;

impl ValueMap {
    pub fn new() -> ValueMap {
        ValueMap::default()
    }

    pub fn with_capacity(capacity: usize) -> ValueMap {
        ValueMap { entries: Arc::new(Entries::new(Vec::with_capacity(capacity))) }
    }

    /// The entries, to change: copied first when another map shares them. What was
    /// found inside them is forgotten.
    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        let entries = Arc::make_mut(&mut self.entries);
        *entries.found.get_mut() = 0;
        &mut entries.list
    }

    /// The entries, owned: taken when no other map shares them, else copied.
    fn into_entries(self) -> Vec<Entry> {
        Arc::try_unwrap(self.entries).map_or_else(|shared| shared.list.clone(), |entries| entries.list)
    }

    /// Whether a value in the map is marked sensitive, at any depth.
    pub fn contains_sensitive(&self) -> bool {
        self.entries.found() & SENSITIVE != 0
    }

    /// Whether every value in the map, at every depth, is known.
    pub fn is_wholly_known(&self) -> bool {
        self.entries.found() & UNKNOWN == 0
    }

    /// Where the entries are: equal for maps that share them.
    pub(crate) fn address(&self) -> usize {
        Arc::as_ptr(&self.entries) as usize
    }

    /// Whether `other` shares this map's entries (a clone of it not changed since): then
    /// the two are equal without looking.
    pub fn shares_entries(&self, other: &ValueMap) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries)
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.position(key).ok()?;
        Some(&mut self.entries_mut()[i].1)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&Name, &Value)> {
        self.position(key).ok().map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Where `key` is among the entries, in key order.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.position(key).ok()
    }

    /// The entry at `index`, in key order.
    pub fn entry_at(&self, index: usize) -> Option<(&Name, &Value)> {
        self.entries.get(index).map(|(k, v)| (k, v))
    }

    /// Sets `key` to `value`; returns the value it had.
    /// (A key already in the map is kept, not made again from `key`.)
    pub fn insert<K: AsRef<str> + Into<Name>>(&mut self, key: K, value: Value) -> Option<Value> {
        // Entries usually come in key order: appending is checked first.
        if self.entries.last().is_none_or(|(last, _)| last.as_str() < key.as_ref()) {
            self.entries_mut().push((key.into(), value));
            return None;
        }
        match self.position(key.as_ref()) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, value)),
            Err(i) => {
                self.entries_mut().insert(i, (key.into(), value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key).ok()?;
        Some(self.entries_mut().remove(i).1)
    }

    /// The entry of `key`, to fill when it is missing.
    pub fn entry(&mut self, key: impl Into<Name>) -> MapEntry<'_> {
        MapEntry { map: self, key: key.into() }
    }

    /// Keeps the entries for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&Name, &mut Value) -> bool) {
        self.entries_mut().retain_mut(|(k, v)| keep(k, v));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> Iter<'_> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.entries_mut().iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Name> + ExactSizeIterator + Clone + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator + '_ {
        self.entries_mut().iter_mut().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.into_entries().into_iter().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = Name> + ExactSizeIterator {
        self.into_entries().into_iter().map(|(k, _)| k)
    }

    pub fn first_key_value(&self) -> Option<(&Name, &Value)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&Name, &Value)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Adds every entry of `other`, whose values win; `other` is left empty.
    pub fn append(&mut self, other: &mut ValueMap) {
        for (k, v) in std::mem::take(other).into_entries() {
            self.insert(k, v);
        }
    }

    /// The entries as a `BTreeMap`, for code that needs one.
    pub fn into_btree(self) -> BTreeMap<String, Value> {
        self.into_entries().into_iter().map(|(k, v)| (String::from(k), v)).collect()
    }
}

/// An entry of a [`ValueMap`], present or not: see [`ValueMap::entry`].
pub struct MapEntry<'a> {
    map: &'a mut ValueMap,
    key: Name,
}

impl<'a> MapEntry<'a> {
    /// The entry's value, inserting `make()` first when it is missing.
    pub fn or_insert_with(self, make: impl FnOnce() -> Value) -> &'a mut Value {
        let entries = self.map.entries_mut();
        let i = match entries.binary_search_by(|(k, _)| k.as_str().cmp(self.key.as_str())) {
            Ok(i) => i,
            Err(i) => {
                entries.insert(i, (self.key, make()));
                i
            }
        };
        &mut entries[i].1
    }

    /// Calls `change` on the entry's value when it is present.
    pub fn and_modify(self, change: impl FnOnce(&mut Value)) -> MapEntry<'a> {
        if let Some(value) = self.map.get_mut(self.key.as_str()) {
            change(value);
        }
        self
    }

    pub fn or_insert(self, value: Value) -> &'a mut Value {
        self.or_insert_with(|| value)
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &ValueMap) -> bool {
        self.shares_entries(other) || self.entries.list == other.entries.list
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<Name>> FromIterator<(K, Value)> for ValueMap {
    /// Like `BTreeMap`'s: of entries with the same key, the last wins.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> ValueMap {
        ValueMap::from_entries(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl ValueMap {
    /// A map of `entries`, in any order; of entries with the same key, the last wins.
    pub fn from_entries(mut entries: Vec<(Name, Value)>) -> ValueMap {
        if !entries.is_sorted_by(|(a, _), (b, _)| a < b) {
            // A stable sort keeps equal keys in order: the last of each is kept.
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            // Of a run of equal keys the first place is kept, holding the last value.
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        // Maps are mostly read once built (a state's attributes, an evaluated object):
        // the room a growing vector kept (up to half of it) is given back.
        entries.shrink_to_fit();
        ValueMap { entries: Arc::new(Entries::new(entries)) }
    }
}

impl<K: Into<Name>> Extend<(K, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k.into(), v);
        }
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(map: BTreeMap<String, Value>) -> ValueMap {
        ValueMap { entries: Arc::new(Entries::new(map.into_iter().map(|(k, v)| (Name::from(k), v)).collect())) }
    }
}

impl<const N: usize> From<[(String, Value); N]> for ValueMap {
    fn from(entries: [(String, Value); N]) -> ValueMap {
        entries.into_iter().collect()
    }
}

impl IntoIterator for ValueMap {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_entries().into_iter()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a Name, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ValueMap {
    type Item = (&'a Name, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl std::ops::Index<&str> for ValueMap {
    type Output = Value;

    /// The value of `key`, which must be in the map (as `BTreeMap`'s indexing).
    fn index(&self, key: &str) -> &Value {
        self.get(key).expect("the key is in the map")
    }
}

impl std::ops::Index<&String> for ValueMap {
    type Output = Value;

    fn index(&self, key: &String) -> &Value {
        &self[key.as_str()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: f64) -> Value {
        Value::number(n)
    }

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut map: ValueMap =
            [("b".to_string(), v(2.0)), ("a".to_string(), v(1.0)), ("b".to_string(), v(3.0))].into_iter().collect();
        assert_eq!(map.keys().map(Name::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b"), Some(&v(3.0)), "the last of equal keys wins, as in a BTreeMap");
        assert_eq!(map.insert("c", v(4.0)), None);
        assert_eq!(map.insert("0", v(0.0)), None);
        assert_eq!(map.insert("a", v(5.0)), Some(v(1.0)));
        assert_eq!(map.keys().map(Name::as_str).collect::<Vec<_>>(), ["0", "a", "b", "c"]);
        *map.entry("d").or_insert_with(Value::null) = v(6.0);
        assert_eq!(map.entry("d").or_insert(v(7.0)), &v(6.0));
        assert_eq!(map.remove("d"), Some(v(6.0)));
        assert_eq!(map.remove("b"), Some(v(3.0)));
        assert!(!map.contains_key("b") && map.len() == 3);
        let btree: BTreeMap<String, Value> = map.clone().into_btree();
        assert_eq!(ValueMap::from(btree), map);
        assert_eq!(format!("{map:?}"), format!("{:?}", map.clone().into_btree()));
    }

    #[test]
    fn what_is_inside_follows_every_change() {
        let object = |entries: Vec<(&str, Value)>| Value::object(entries.into_iter().collect());
        let secret = Value::string("s").mark_sensitive();
        let unknown = Value::unknown(infra_compiler::types::Type::String);
        // Found when made, from inner maps and through lists.
        let inner = object(vec![("a", v(1.0))]);
        let outer = object(vec![("list", Value::list(vec![inner.clone()])), ("n", v(2.0))]);
        assert!(!outer.contains_sensitive() && outer.is_wholly_known());
        let marked = object(vec![("list", Value::list(vec![object(vec![("a", secret.clone())])]))]);
        assert!(marked.contains_sensitive() && marked.is_wholly_known());
        let pending = object(vec![("x", object(vec![("y", unknown.clone())]))]);
        assert!(!pending.contains_sensitive() && !pending.is_wholly_known());

        // A change deep inside, through `&mut`, is seen by every map around it; a clone
        // made before keeps its own answer.
        let before = outer.clone();
        let mut changed = outer;
        let Kind::Map(map) = &mut changed.kind else { unreachable!() };
        let Some(Value { kind: Kind::List(items), .. }) = map.get_mut("list") else { unreachable!() };
        let Kind::Map(inner_map) = &mut items[0].kind else { unreachable!() };
        *inner_map.get_mut("a").expect("a") = secret.clone();
        assert!(changed.contains_sensitive() && changed.is_wholly_known());
        assert!(!before.contains_sensitive(), "the clone shared the entries, not the change");
        assert!(!inner.contains_sensitive());

        // Every way in: insert, entry, values_mut, iter_mut, retain.
        let mut map = ValueMap::new();
        map.insert("b", v(1.0));
        assert!(!map.contains_sensitive() && map.is_wholly_known());
        *map.entry("c").or_insert_with(Value::null) = unknown;
        assert!(!map.is_wholly_known());
        map.retain(|k, _| k != "c");
        assert!(map.is_wholly_known());
        map.values_mut().for_each(|value| value.sensitive = true);
        assert!(map.contains_sensitive());
        map.iter_mut().for_each(|(_, value)| value.sensitive = false);
        assert!(!map.contains_sensitive());
    }
}
