//! Instance addresses: how users, state and plans name one instance of a declaration.
//!
//! `web` (no repetition), `web[0]` (repeated over numbers), `site["blog"]` (over
//! strings), and inside module instances `env["prod"].web[0]`. Addresses print and parse
//! in exactly this form, so what a plan shows can be pasted into `--target`.

use std::cmp::Ordering;
use std::fmt;

use crate::value::{quote, Name, Names};

/// The key of one instance of a repeated declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstanceKey {
    Index(u64),
    Name(String),
}

impl Ord for InstanceKey {
    /// Numbers first, in numeric order; then names in lexical order.
    fn cmp(&self, other: &InstanceKey) -> Ordering {
        match (self, other) {
            (InstanceKey::Index(a), InstanceKey::Index(b)) => a.cmp(b),
            (InstanceKey::Name(a), InstanceKey::Name(b)) => a.cmp(b),
            (InstanceKey::Index(_), InstanceKey::Name(_)) => Ordering::Less,
            (InstanceKey::Name(_), InstanceKey::Index(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for InstanceKey {
    fn partial_cmp(&self, other: &InstanceKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Name(name) => write!(f, "[{}]", quote(name)),
        }
    }
}

/// One step of an address: a name and, for a repeated declaration, the key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Step {
    pub name: Name,
    pub key: Option<InstanceKey>,
}

/// A resource, data source or module instance: module call steps, then the
/// declaration's own step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub steps: Vec<Step>,
}

impl Address {
    pub fn new(name: impl Into<Name>, key: Option<InstanceKey>) -> Address {
        Address { steps: vec![Step { name: name.into(), key }] }
    }

    /// This address inside the module instance `parent`.
    pub fn within(self, parent: &Address) -> Address {
        if parent.steps.is_empty() {
            return self;
        }
        // Sized exactly: grown from empty, a vector of steps takes room for four, and a
        // plan of 10,000 resources keeps tens of thousands of addresses.
        let mut steps = Vec::with_capacity(parent.steps.len() + self.steps.len());
        steps.extend_from_slice(&parent.steps);
        steps.extend(self.steps);
        Address { steps }
    }

    /// Whether `self` is `other` or inside it: `env["prod"].web[0]` is inside
    /// `env["prod"]`, and every `web[...]` is inside `web` (a target without a key names
    /// every instance).
    pub fn is_within(&self, other: &Address) -> bool {
        other.steps.len() <= self.steps.len()
            && other.steps.iter().zip(&self.steps).all(|(o, s)| o.name == s.name && (o.key.is_none() || o.key == s.key))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&step.name)?;
            if let Some(key) = &step.key {
                write!(f, "{key}")?;
            }
        }
        Ok(())
    }
}

/// Why text is not an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressError {
    pub message: String,
    /// Byte offset in the text where the problem is.
    pub offset: usize,
}

impl std::str::FromStr for Address {
    type Err = AddressError;

    /// Parses `name`, `name[0]`, `name["key"]` and dotted sequences of them.
    fn from_str(text: &str) -> Result<Address, AddressError> {
        Address::parse(text, None)
    }
}

impl Address {
    /// Parses an address as [`str::parse`] does, its names made by `names`: a state's
    /// reader shares each declaration's name between the instances and the
    /// dependencies that name it.
    pub fn parse_with(text: &str, names: &mut Names) -> Result<Address, AddressError> {
        Address::parse(text, Some(names))
    }

    fn parse(text: &str, names: Option<&mut Names>) -> Result<Address, AddressError> {
        let mut parser = Parser { text, pos: 0, names };
        let mut steps = vec![parser.step()?];
        while parser.eat('.') {
            steps.push(parser.step()?);
        }
        if parser.pos < text.len() {
            return Err(parser.error("expected `.` or the end of the address"));
        }
        Ok(Address { steps })
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    names: Option<&'a mut Names>,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> AddressError {
        AddressError { message: message.to_string(), offset: self.pos }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn step(&mut self) -> Result<Step, AddressError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name = &self.text[start..self.pos];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            self.pos = start;
            return Err(self.error("expected a name"));
        }
        let key = if self.eat('[') { Some(self.key()?) } else { None };
        let name = match &mut self.names {
            Some(names) => names.name(name),
            None => Name::from(name),
        };
        Ok(Step { name, key })
    }

    fn key(&mut self) -> Result<InstanceKey, AddressError> {
        let key = if self.eat('"') {
            let mut name = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error("unterminated key; close it with `\"`")),
                    Some('"') => {
                        self.pos += 1;
                        break;
                    }
                    Some('\\') => {
                        self.pos += 1;
                        let escaped = self.peek().ok_or_else(|| self.error("unterminated escape"))?;
                        name.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        self.pos += escaped.len_utf8();
                    }
                    Some(c) => {
                        name.push(c);
                        self.pos += c.len_utf8();
                    }
                }
            }
            InstanceKey::Name(name)
        } else {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let digits = &self.text[start..self.pos];
            let index = digits.parse::<u64>().map_err(|_| AddressError {
                message: "expected a number or a quoted key".to_string(),
                offset: start,
            })?;
            InstanceKey::Index(index)
        };
        if !self.eat(']') {
            return Err(self.error("expected `]`"));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Address, AddressError> {
        text.parse()
    }

    #[test]
    fn addresses_print_and_parse_alike() {
        for text in ["web", "web[0]", "site[\"blog\"]", "env[\"prod\"].web[12]", "net.subnet[\"a b\"]", "k[\"q\\\"x\"]"]
        {
            let address = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn bad_addresses_say_where() {
        assert_eq!(parse("web[").map_err(|e| e.offset), Err(4));
        assert_eq!(parse("web[x]").map_err(|e| e.offset), Err(4));
        assert_eq!(parse("web[\"a").map_err(|e| e.message), Err("unterminated key; close it with `\"`".to_string()));
        assert_eq!(parse("1web").map_err(|e| e.offset), Err(0));
        assert_eq!(parse("web.").map_err(|e| e.offset), Err(4));
        assert_eq!(parse("web[0]x").map_err(|e| e.offset), Err(6));
    }

    #[test]
    fn targets_contain_their_instances() {
        let instance = parse("env[\"prod\"].web[0]").unwrap_or_else(|e| panic!("{e:?}"));
        for target in ["env", "env[\"prod\"]", "env[\"prod\"].web", "env[\"prod\"].web[0]"] {
            assert!(instance.is_within(&parse(target).unwrap_or_else(|e| panic!("{e:?}"))), "{target}");
        }
        for target in ["env[\"dev\"]", "web", "env[\"prod\"].web[1]", "env[\"prod\"].web[0].x"] {
            assert!(!instance.is_within(&parse(target).unwrap_or_else(|e| panic!("{e:?}"))), "{target}");
        }
    }

    #[test]
    fn keys_sort_numbers_first_then_names() {
        let mut keys = [
            InstanceKey::Name("b".into()),
            InstanceKey::Index(10),
            InstanceKey::Name("a".into()),
            InstanceKey::Index(2),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["[2]", "[10]", "[\"a\"]", "[\"b\"]"]);
    }
}
