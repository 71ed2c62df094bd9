//! [`Name`]: an identifier in the syntax tree, and the key of a map or object value.
//!
//! A configuration of 10,000 resources writes the same thirty attribute names 10,000
//! times over, and a state of them stores them as often. A `Name` is a shared string:
//! cloning one counts a reference. The parser and the state reader make each distinct
//! name once ([`Names`]), so a name is 8 bytes instead of a 24-byte `String` and its own
//! allocation, and evaluating `{ ami = ... }` makes a map key without copying text.
//! A name is one pointer (`arcstr`'s `ArcStr` keeps the length beside the count), so a
//! map entry or an identifier is 8 bytes smaller than with an `Arc<str>`.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use arcstr::ArcStr;
use rustc_hash::FxHashSet;

/// A map key: an immutable, shared string that reads as a `&str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(ArcStr);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(ArcStr::from(text))
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name(ArcStr::from(text))
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name(ArcStr::from(text.as_str()))
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0.as_str().to_owned()
    }
}

impl From<&Name> for String {
    fn from(name: &Name) -> String {
        name.0.as_str().to_owned()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Makes each distinct name once: names asked for again are the same allocation.
#[derive(Default)]
pub struct Names {
    known: FxHashSet<Name>,
}

impl Names {
    pub fn name(&mut self, text: &str) -> Name {
        if let Some(name) = self.known.get(text) {
            return name.clone();
        }
        let name = Name::from(text);
        self.known.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_once_and_read_as_strings() {
        let mut names = Names::default();
        let a = names.name("ami");
        let b = names.name("ami");
        assert!(ArcStr::ptr_eq(&a.0, &b.0), "the same name is one allocation");
        assert_eq!(a, "ami");
        assert_eq!(a.as_str(), "ami");
        assert_eq!(Name::from("a").cmp(&Name::from("b")), std::cmp::Ordering::Less, "names order as their text");
        assert_eq!(format!("{a} {a:?}"), "ami \"ami\"");
        assert_eq!(String::from(a), "ami");
    }
}
