//! [`SharedMaps`]: equal objects read from one document, stored once.
//!
//! A state repeats itself: the same nested block (`metadata_options`, a root volume's
//! settings, a tags map) in thousands of instances, and for some kinds the same object
//! twice in one instance (an input echoed as an output). The state reader builds maps
//! bottom-up and asks [`SharedMaps::share`] for each: an equal map met before is
//! returned instead, so the two share one allocation. Since every map inside a shared
//! map is itself shared, two maps are equal exactly when their entries are equal with
//! inner maps compared by address, which is cheap to hash and to compare.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use super::{Kind, Value, ValueMap};

/// The distinct maps of one document, by a hash of their entries (each kept beside its
/// hash, so the table grows without hashing a map again).
#[derive(Default)]
pub struct SharedMaps {
    known: HashTable<(u64, ValueMap)>,
}

impl SharedMaps {
    /// `map`, or an equal map met before (whose inner maps all came from here too).
    pub fn share(&mut self, map: ValueMap) -> ValueMap {
        let mut hasher = FxHasher::default();
        hasher.write_usize(map.len());
        for (key, value) in &map {
            hasher.write(key.as_bytes());
            hasher.write_u8(0xff);
            hash_shallow(value, &mut hasher);
        }
        let hash = hasher.finish();
        if let Some((_, known)) = self.known.find(hash, |(h, known)| *h == hash && equal_shallow(known, &map)) {
            return known.clone();
        }
        self.known.insert_unique(hash, (hash, map.clone()), |(h, _)| *h);
        map
    }
}

/// Hashes `value` with inner maps by address.
fn hash_shallow(value: &Value, hasher: &mut FxHasher) {
    hasher.write_u8(u8::from(value.sensitive));
    match &value.kind {
        Kind::Null => hasher.write_u8(0),
        Kind::Bool(b) => hasher.write_u8(1 + u8::from(*b)),
        Kind::Number(n) => {
            hasher.write_u8(3);
            hasher.write_u64(n.to_bits());
        }
        Kind::String(s) => {
            hasher.write_u8(4);
            hasher.write(s.as_bytes());
            hasher.write_u8(0xff);
        }
        Kind::List(items) | Kind::Set(items) => {
            hasher.write_u8(if matches!(value.kind, Kind::List(_)) { 5 } else { 6 });
            hasher.write_usize(items.len());
            for item in items {
                hash_shallow(item, hasher);
            }
        }
        Kind::Map(map) => {
            hasher.write_u8(7);
            hasher.write_usize(map.address());
        }
        Kind::Unknown(_) => hasher.write_u8(8),
    }
}

fn equal_shallow(a: &ValueMap, b: &ValueMap) -> bool {
    a.len() == b.len() && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| ka == kb && value_equal_shallow(va, vb))
}

fn value_equal_shallow(a: &Value, b: &Value) -> bool {
    if a.sensitive != b.sensitive {
        return false;
    }
    match (&a.kind, &b.kind) {
        (Kind::Map(x), Kind::Map(y)) => x.shares_entries(y),
        (Kind::List(x), Kind::List(y)) | (Kind::Set(x), Kind::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| value_equal_shallow(a, b))
        }
        (Kind::Number(x), Kind::Number(y)) => x.to_bits() == y.to_bits(),
        // Never stored; never shared.
        (Kind::Unknown(_), _) | (_, Kind::Unknown(_)) => false,
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(entries: Vec<(&str, Value)>) -> ValueMap {
        entries.into_iter().collect()
    }

    #[test]
    fn equal_maps_are_stored_once_and_different_ones_are_not() {
        let mut shared = SharedMaps::default();
        let inner = || object(vec![("cpu_credits", Value::string("standard"))]);
        let a = shared.share(inner());
        let b = shared.share(inner());
        assert!(a.shares_entries(&b), "an equal map is the one met before");
        let outer = |inner: &ValueMap, n: f64| {
            object(vec![("spec", Value::object(inner.clone())), ("n", Value::number(n)), ("l", Value::list(vec![]))])
        };
        let x = shared.share(outer(&a, 1.0));
        assert!(shared.share(outer(&b, 1.0)).shares_entries(&x), "inner maps compare by address once shared");
        assert!(!shared.share(outer(&a, 2.0)).shares_entries(&x));
        let other = shared.share(object(vec![("cpu_credits", Value::string("unlimited"))]));
        assert!(!other.shares_entries(&a));
        let secret = shared.share(object(vec![("cpu_credits", Value::string("standard").mark_sensitive())]));
        assert!(!secret.shares_entries(&a), "a sensitive mark makes a value different");
        assert_eq!(Value::object(x.clone()), Value::object(outer(&inner(), 1.0)));
    }
}
