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

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::Value;

/// Map entries sorted by key, without duplicate keys.
#[derive(Clone, Default)]
pub struct ValueMap {
    entries: Arc<Vec<(String, Value)>>,
}

type Entry = (String, Value);

/// An iterator over `(&key, &value)`, in key order.
pub type Iter<'a> = std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a String, &'a Value)>;

/// An iterator over `(&key, &mut value)`, in key order.
pub type IterMut<'a> = std::iter::Map<std::slice::IterMut<'a, Entry>, fn(&'a mut Entry) -> (&'a String, &'a mut Value)>;

impl ValueMap {
    pub fn new() -> ValueMap {
        ValueMap::default()
    }

    pub fn with_capacity(capacity: usize) -> ValueMap {
        ValueMap { entries: Arc::new(Vec::with_capacity(capacity)) }
    }

    /// The entries, to change: copied first when another map shares them.
    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        Arc::make_mut(&mut self.entries)
    }

    /// The entries, owned: taken when no other map shares them, else copied.
    fn into_entries(self) -> Vec<Entry> {
        Arc::try_unwrap(self.entries).unwrap_or_else(|shared| (*shared).clone())
    }

    /// Whether `other` shares this map's entries (a clone of it not changed since): then
    /// the two are equal without looking.
    pub fn shares_entries(&self, other: &ValueMap) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries)
    }

    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        String: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&Value>
    where
        String: Borrow<Q>,
    {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut Value>
    where
        String: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(&mut self.entries_mut()[i].1)
    }

    pub fn get_key_value<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(&String, &Value)>
    where
        String: Borrow<Q>,
    {
        self.position(key).ok().map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
    {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it had.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        // Entries usually come in key order: appending is checked first.
        if self.entries.last().is_none_or(|(last, _)| *last < key) {
            self.entries_mut().push((key, value));
            return None;
        }
        match self.position(key.as_str()) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, value)),
            Err(i) => {
                self.entries_mut().insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<Value>
    where
        String: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(self.entries_mut().remove(i).1)
    }

    /// The entry of `key`, to fill when it is missing.
    pub fn entry(&mut self, key: String) -> MapEntry<'_> {
        MapEntry { map: self, key }
    }

    /// Keeps the entries for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
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

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone + '_ {
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

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.into_entries().into_iter().map(|(k, _)| k)
    }

    pub fn first_key_value(&self) -> Option<(&String, &Value)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&String, &Value)> {
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
        self.into_entries().into_iter().collect()
    }
}

/// An entry of a [`ValueMap`], present or not: see [`ValueMap::entry`].
pub struct MapEntry<'a> {
    map: &'a mut ValueMap,
    key: String,
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
        self.shares_entries(other) || self.entries == other.entries
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, Value)> for ValueMap {
    /// Like `BTreeMap`'s: of entries with the same key, the last wins.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> ValueMap {
        let mut entries: Vec<Entry> = iter.into_iter().collect();
        if !entries.is_sorted_by(|(a, _), (b, _)| a < b) {
            // A stable sort keeps equal keys in order: the last of each is kept.
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            let mut deduped: Vec<Entry> = Vec::with_capacity(entries.len());
            for entry in entries {
                match deduped.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => deduped.push(entry),
                }
            }
            entries = deduped;
        }
        // Maps are mostly read once built (a state's attributes, an evaluated object):
        // the room a growing vector kept (up to half of it) is given back.
        entries.shrink_to_fit();
        ValueMap { entries: Arc::new(entries) }
    }
}

impl Extend<(String, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(map: BTreeMap<String, Value>) -> ValueMap {
        ValueMap { entries: Arc::new(map.into_iter().collect()) }
    }
}

impl<const N: usize> From<[(String, Value); N]> for ValueMap {
    fn from(entries: [(String, Value); N]) -> ValueMap {
        entries.into_iter().collect()
    }
}

impl IntoIterator for ValueMap {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_entries().into_iter()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ValueMap {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl<Q: Ord + ?Sized> std::ops::Index<&Q> for ValueMap
where
    String: Borrow<Q>,
{
    type Output = Value;

    /// The value of `key`, which must be in the map (as `BTreeMap`'s indexing).
    fn index(&self, key: &Q) -> &Value {
        self.get(key).expect("the key is in the map")
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
        assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b"), Some(&v(3.0)), "the last of equal keys wins, as in a BTreeMap");
        assert_eq!(map.insert("c".into(), v(4.0)), None);
        assert_eq!(map.insert("0".into(), v(0.0)), None);
        assert_eq!(map.insert("a".into(), v(5.0)), Some(v(1.0)));
        assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), ["0", "a", "b", "c"]);
        *map.entry("d".into()).or_insert_with(Value::null) = v(6.0);
        assert_eq!(map.entry("d".into()).or_insert(v(7.0)), &v(6.0));
        assert_eq!(map.remove("d"), Some(v(6.0)));
        assert_eq!(map.remove("b"), Some(v(3.0)));
        assert!(!map.contains_key("b") && map.len() == 3);
        let btree: BTreeMap<String, Value> = map.clone().into_btree();
        assert_eq!(ValueMap::from(btree), map);
        assert_eq!(format!("{map:?}"), format!("{:?}", map.clone().into_btree()));
    }
}
