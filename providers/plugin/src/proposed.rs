//! Terraform's proposed new state (`objchange.ProposedNew`), which `PlanResourceChange`
//! is sent with: the configuration, with the prior value of every computed attribute
//! the configuration leaves null, at every depth. Nested blocks are paired with their
//! prior selves as Terraform pairs them: a single block with the prior one, list blocks
//! by index, map blocks by key, and set blocks by the attributes the configuration sets
//! (an element whose non-computed attributes equal a prior element's is that element).

use std::collections::BTreeMap;

use crate::schema::{Attribute, Block, Nesting};
use crate::values::PluginValue;

/// The proposed new state of an object of `block`: `config` over `prior` (null for a
/// create). A null configuration (a delete) proposes null.
pub fn proposed_new(block: &Block, prior: &PluginValue, config: &PluginValue) -> PluginValue {
    object(&block.attributes, &block.blocks, prior, config)
}

fn object(
    attributes: &[Attribute],
    blocks: &[crate::schema::NestedBlock],
    prior: &PluginValue,
    config: &PluginValue,
) -> PluginValue {
    let PluginValue::Map(configured) = config else { return config.clone() };
    let empty = BTreeMap::new();
    let prior = match prior {
        PluginValue::Map(prior) => prior,
        _ => &empty,
    };
    let mut proposed = configured.clone();
    for attribute in attributes {
        let (before, now) = (field(prior, &attribute.name), field(configured, &attribute.name));
        proposed.insert(attribute.name.clone(), proposed_attribute(attribute, before, now));
    }
    for nested in blocks {
        let (before, now) = (field(prior, &nested.name), field(configured, &nested.name));
        let value = nested_values(nested.nesting, before, now, &|p, c| proposed_new(&nested.block, p, c), &|p, c| {
            same_element(&nested.block.attributes, p, c)
        });
        proposed.insert(nested.name.clone(), value);
    }
    PluginValue::Map(proposed)
}

fn field<'a>(fields: &'a BTreeMap<String, PluginValue>, name: &str) -> &'a PluginValue {
    fields.get(name).unwrap_or(&PluginValue::Null)
}

/// A computed attribute the configuration leaves null keeps its prior value; a nested
/// attribute the configuration sets is paired with its prior value like a nested block.
fn proposed_attribute(attribute: &Attribute, prior: &PluginValue, config: &PluginValue) -> PluginValue {
    if attribute.computed && *config == PluginValue::Null {
        return prior.clone();
    }
    match &attribute.nested {
        Some(nested) => {
            nested_values(nested.nesting, prior, config, &|p, c| object(&nested.attributes, &[], p, c), &|p, c| {
                same_element(&nested.attributes, p, c)
            })
        }
        None => config.clone(),
    }
}

/// Configured nested objects of `nesting`, each proposed over the prior object it pairs
/// with (`propose`); `same` tells whether a prior set element is a configured one.
fn nested_values(
    nesting: Nesting,
    prior: &PluginValue,
    config: &PluginValue,
    propose: &dyn Fn(&PluginValue, &PluginValue) -> PluginValue,
    same: &dyn Fn(&PluginValue, &PluginValue) -> bool,
) -> PluginValue {
    match (nesting, prior, config) {
        (Nesting::Single | Nesting::Group, _, _) => propose(prior, config),
        (Nesting::List, PluginValue::List(before), PluginValue::List(now)) => PluginValue::List(
            now.iter().enumerate().map(|(i, c)| propose(before.get(i).unwrap_or(&PluginValue::Null), c)).collect(),
        ),
        (Nesting::Map, PluginValue::Map(before), PluginValue::Map(now)) => PluginValue::Map(
            now.iter().map(|(k, c)| (k.clone(), propose(before.get(k).unwrap_or(&PluginValue::Null), c))).collect(),
        ),
        (Nesting::Set, PluginValue::List(before), PluginValue::List(now)) => {
            let mut unused: Vec<&PluginValue> = before.iter().collect();
            let proposed = now.iter().map(|c| {
                let paired = unused.iter().position(|p| same(p, c)).map(|i| unused.remove(i));
                propose(paired.unwrap_or(&PluginValue::Null), c)
            });
            PluginValue::List(proposed.collect())
        }
        // Nothing prior to pair with (a create, or a block added): each configured
        // object over a null prior one.
        (Nesting::List | Nesting::Set, _, PluginValue::List(now)) => {
            PluginValue::List(now.iter().map(|c| propose(&PluginValue::Null, c)).collect())
        }
        (Nesting::Map, _, PluginValue::Map(now)) => {
            PluginValue::Map(now.iter().map(|(k, c)| (k.clone(), propose(&PluginValue::Null, c))).collect())
        }
        _ => config.clone(),
    }
}

/// Whether the prior set element `prior` is the configured `config`: every attribute
/// that is not computed is equal (computed ones are the plugin's to fill).
fn same_element(attributes: &[Attribute], prior: &PluginValue, config: &PluginValue) -> bool {
    let (PluginValue::Map(prior), PluginValue::Map(config)) = (prior, config) else { return false };
    attributes.iter().filter(|a| !a.computed).all(|a| field(prior, &a.name) == field(config, &a.name))
        && config.iter().all(|(name, value)| attributes.iter().any(|a| a.name == *name) || field(prior, name) == value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;

    fn attribute(name: &str, computed: bool) -> Attribute {
        Attribute { name: name.to_string(), optional: true, computed, ..Attribute::default() }
    }

    fn string(text: &str) -> PluginValue {
        PluginValue::string(text)
    }

    /// A kind with `name` and a computed `id`, and a nested block `disk` of `nesting`
    /// with `size` and a computed `serial`.
    fn kind(nesting: Nesting) -> Block {
        let disk = Block { attributes: vec![attribute("size", false), attribute("serial", true)], ..Block::default() };
        Block {
            attributes: vec![attribute("name", false), attribute("id", true)],
            blocks: vec![NestedBlock { name: "disk".to_string(), nesting, block: disk, ..NestedBlock::default() }],
            ..Block::default()
        }
    }

    fn disk(size: &str, serial: PluginValue) -> PluginValue {
        PluginValue::object([("size", string(size)), ("serial", serial)])
    }

    fn folder(id: PluginValue, disks: PluginValue) -> PluginValue {
        PluginValue::object([("name", string("web")), ("id", id), ("disk", disks)])
    }

    #[test]
    fn a_computed_attribute_left_null_keeps_its_prior_value_and_a_set_one_wins() {
        let block = kind(Nesting::List);
        let prior = folder(string("7"), PluginValue::List(vec![]));
        let config = folder(PluginValue::Null, PluginValue::List(vec![]));
        assert_eq!(proposed_new(&block, &prior, &config), prior);
        let config = folder(string("8"), PluginValue::List(vec![]));
        assert_eq!(proposed_new(&block, &prior, &config), config);
    }

    #[test]
    fn a_create_proposes_the_configuration_and_a_delete_null() {
        let block = kind(Nesting::List);
        let config = folder(PluginValue::Null, PluginValue::List(vec![disk("10", PluginValue::Null)]));
        assert_eq!(proposed_new(&block, &PluginValue::Null, &config), config);
        assert_eq!(proposed_new(&block, &config, &PluginValue::Null), PluginValue::Null);
    }

    /// Regression: the computed attributes of nested blocks were sent null, so a plugin
    /// planned them unknown again (a change on every plan).
    #[test]
    fn list_blocks_keep_their_computed_attributes_by_index() {
        let block = kind(Nesting::List);
        let prior = folder(string("7"), PluginValue::List(vec![disk("10", string("a")), disk("20", string("b"))]));
        let config = folder(
            PluginValue::Null,
            PluginValue::List(vec![
                disk("10", PluginValue::Null),
                disk("30", PluginValue::Null),
                disk("40", PluginValue::Null),
            ]),
        );
        let expected = folder(
            string("7"),
            PluginValue::List(vec![disk("10", string("a")), disk("30", string("b")), disk("40", PluginValue::Null)]),
        );
        assert_eq!(proposed_new(&block, &prior, &config), expected);
    }

    #[test]
    fn a_single_block_keeps_its_computed_attributes_and_a_removed_one_is_null() {
        let block = kind(Nesting::Single);
        let prior = folder(string("7"), disk("10", string("a")));
        let config = folder(PluginValue::Null, disk("20", PluginValue::Null));
        assert_eq!(proposed_new(&block, &prior, &config), folder(string("7"), disk("20", string("a"))));
        let config = folder(PluginValue::Null, PluginValue::Null);
        assert_eq!(proposed_new(&block, &prior, &config), folder(string("7"), PluginValue::Null));
    }

    #[test]
    fn set_blocks_pair_by_their_configured_attributes_and_map_blocks_by_key() {
        let block = kind(Nesting::Set);
        let prior = folder(string("7"), PluginValue::List(vec![disk("10", string("a")), disk("20", string("b"))]));
        let config = folder(
            PluginValue::Null,
            PluginValue::List(vec![disk("20", PluginValue::Null), disk("30", PluginValue::Null)]),
        );
        let expected =
            folder(string("7"), PluginValue::List(vec![disk("20", string("b")), disk("30", PluginValue::Null)]));
        assert_eq!(proposed_new(&block, &prior, &config), expected);

        let block = kind(Nesting::Map);
        let map = |entries: Vec<(&str, PluginValue)>| {
            PluginValue::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let prior =
            folder(string("7"), map(vec![("root", disk("10", string("a"))), ("data", disk("20", string("b")))]));
        let config = folder(PluginValue::Null, map(vec![("data", disk("25", PluginValue::Null))]));
        assert_eq!(
            proposed_new(&block, &prior, &config),
            folder(string("7"), map(vec![("data", disk("25", string("b")))]))
        );
    }

    #[test]
    fn nested_attributes_keep_their_computed_attributes() {
        let nested = crate::schema::NestedAttributes {
            nesting: Nesting::Single,
            attributes: vec![attribute("size", false), attribute("serial", true)],
        };
        let block = Block {
            attributes: vec![Attribute {
                name: "disk".to_string(),
                optional: true,
                nested: Some(nested),
                ..Attribute::default()
            }],
            ..Block::default()
        };
        let prior = PluginValue::object([("disk", disk("10", string("a")))]);
        let config = PluginValue::object([("disk", disk("20", PluginValue::Null))]);
        assert_eq!(proposed_new(&block, &prior, &config), PluginValue::object([("disk", disk("20", string("a")))]));
    }
}
