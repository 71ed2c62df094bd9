//! Deciding what happens to one instance: create, update in place, replace, delete,
//! read or nothing, and which attributes change.
//!
//! The engine evaluates an instance's configuration, asks its provider to plan the new
//! attributes, and hands the result here with the prior attributes from state. A change
//! to an attribute the schema marks force-new means a replacement; any other change is an
//! update in place. Attributes set only by the provider (computed and not settable) never
//! count as changes of their own: they follow from the others.

use std::borrow::Cow;

use infra_compiler::schema::{Comparison, Schema};

use crate::provider::Attributes;
use crate::value::{Kind, Name, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Delete then create, or create then delete with `create_before_destroy`.
    Replace {
        create_before_destroy: bool,
    },
    Delete,
    /// A data source read during plan or apply.
    Read,
    /// Dropped from state; the object is left alone (`forget`).
    Forget,
}

impl Action {
    /// The symbol a plan shows before the instance, as Terraform does.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace { create_before_destroy: false } => "-/+",
            Action::Replace { create_before_destroy: true } => "+/-",
            Action::Delete => "-",
            Action::Read => "<=",
            Action::Forget => ".",
        }
    }
}

/// One attribute's before and after values (`None` when absent on that side).
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeChange {
    pub name: Name,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// This change alone would force a replacement.
    pub forces_replacement: bool,
}

impl AttributeChange {
    pub fn is_change(&self) -> bool {
        match (&self.before, &self.after) {
            (Some(a), Some(b)) => !b.is_wholly_known() || !a.equals(b),
            (None, None) => false,
            (Some(v), None) | (None, Some(v)) => !v.is_null(),
        }
    }
}

/// The decision for one managed instance.
#[derive(Clone, Debug)]
pub struct InstanceDiff {
    pub action: Action,
    /// Every attribute of the schema that is present on either side, in schema order;
    /// unchanged ones too, so a renderer can show context. Read with
    /// [`InstanceDiff::attributes`].
    listing: Listing,
    /// Why a replacement is forced when no attribute forces it.
    pub cause: Option<ReplaceCause>,
}

/// How an [`InstanceDiff`] holds its attributes.
///
/// Most instances of a no-change plan keep every attribute as state holds it. Listing
/// each as a change (its name, the prior value as both sides, 80 bytes) held about
/// 3 MB for 10,000 instances of a plan that changes nothing; the prior object itself is
/// shared with the state, so holding it costs a reference.
#[derive(Clone, Debug)]
enum Listing {
    Changes(Vec<AttributeChange>),
    /// Every attribute is the prior one, both sides: the prior object's entries, in the
    /// order of `order`'s positions among them (empty when that is their key order).
    Kept {
        prior: Attributes,
        order: Box<[u16]>,
    },
}

/// What forces a replacement besides the attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceCause {
    /// `--replace ADDRESS`.
    Requested,
    /// A value listed in `lifecycle { replace_when = [...] }` changed.
    ReplaceWhen,
    /// The declaration at this address now has another resource type: the old object is
    /// deleted by its own provider, first, and a new one created.
    TypeChanged,
}

impl PartialEq for InstanceDiff {
    fn eq(&self, other: &InstanceDiff) -> bool {
        self.action == other.action && self.cause == other.cause && self.attributes().eq(other.attributes())
    }
}

impl InstanceDiff {
    pub fn new(action: Action, attributes: Vec<AttributeChange>, cause: Option<ReplaceCause>) -> InstanceDiff {
        InstanceDiff { action, listing: Listing::Changes(attributes), cause }
    }

    /// Every attribute present on either side, in schema order, changed or not.
    pub fn attributes(&self) -> impl Iterator<Item = Cow<'_, AttributeChange>> + '_ {
        let (listed, kept): (&[AttributeChange], _) = match &self.listing {
            Listing::Changes(list) => (list, None),
            Listing::Kept { prior, order } => (&[], Some((prior, order))),
        };
        let kept_entries = kept.map_or(0, |(prior, _)| prior.len());
        listed.iter().map(Cow::Borrowed).chain((0..kept_entries).filter_map(move |i| {
            let (prior, order) = kept?;
            let at = order.get(i).map_or(i, |&at| usize::from(at));
            let (name, value) = prior.entry_at(at)?;
            Some(Cow::Owned(AttributeChange {
                name: name.clone(),
                before: Some(value.clone()),
                after: Some(value.clone()),
                forces_replacement: false,
            }))
        }))
    }

    /// The prior object, when every attribute is kept as it is there (then it is the
    /// object both before and after).
    pub fn kept(&self) -> Option<&Attributes> {
        match &self.listing {
            Listing::Kept { prior, .. } => Some(prior),
            Listing::Changes(_) => None,
        }
    }

    /// The attributes, to change.
    pub fn attributes_mut(&mut self) -> &mut Vec<AttributeChange> {
        if let Listing::Kept { .. } = self.listing {
            let listed = self.attributes().map(Cow::into_owned).collect();
            self.listing = Listing::Changes(listed);
        }
        let Listing::Changes(list) = &mut self.listing else { unreachable!("listed just above") };
        list
    }

    /// The attributes that change (none when every one is kept).
    pub fn changes(&self) -> impl Iterator<Item = &AttributeChange> {
        let listed: &[AttributeChange] = match &self.listing {
            Listing::Changes(list) => list,
            Listing::Kept { .. } => &[],
        };
        listed.iter().filter(|c| c.is_change())
    }

    /// Names of the attributes whose change forces the replacement.
    pub fn replacement_reasons(&self) -> Vec<&str> {
        self.changes().filter(|c| c.forces_replacement).map(|c| c.name.as_str()).collect()
    }
}

/// What should happen to an instance, given its `prior` attributes (from state, `None` if
/// it does not exist) and its `planned` attributes (`None` if it is no longer in the
/// configuration). `force_replace` is `--replace ADDR` or a `replace_when` trigger.
pub fn diff(
    schema: &Schema,
    prior: Option<&Attributes>,
    planned: Option<&Attributes>,
    create_before_destroy: bool,
    force_replace: bool,
) -> InstanceDiff {
    let (attributes, all_kept) = attribute_changes(schema, prior, planned);
    let action = match (prior, planned) {
        (None, None) => Action::NoOp,
        (None, Some(_)) => Action::Create,
        (Some(_), None) => Action::Delete,
        (Some(_), Some(_)) => {
            let configured_changes = attributes.iter().filter(|c| c.is_change() && is_configurable(schema, &c.name));
            let mut any_change = false;
            let mut replace = force_replace;
            for change in configured_changes {
                any_change = true;
                replace |= change.forces_replacement;
            }
            if replace {
                Action::Replace { create_before_destroy }
            } else if any_change {
                Action::Update
            } else {
                Action::NoOp
            }
        }
    };
    let listing = match prior {
        Some(prior) if all_kept && action == Action::NoOp => {
            kept(prior, &attributes).unwrap_or(Listing::Changes(attributes))
        }
        _ => Listing::Changes(attributes),
    };
    InstanceDiff { action, listing, cause: None }
}

/// `attributes`, each the prior value on both sides, as the prior object and the order
/// of its entries; `None` when it has more entries than an order can say.
fn kept(prior: &Attributes, attributes: &[AttributeChange]) -> Option<Listing> {
    let mut order = Vec::with_capacity(attributes.len());
    for change in attributes {
        order.push(u16::try_from(prior.index_of(&change.name)?).ok()?);
    }
    let in_key_order = order.iter().enumerate().all(|(i, &at)| usize::from(at) == i);
    let order = if in_key_order { Box::default() } else { order.into_boxed_slice() };
    Some(Listing::Kept { prior: prior.clone(), order })
}

fn is_configurable(schema: &Schema, name: &str) -> bool {
    // Attributes the schema does not know (blocks) are configuration as well; an
    // attribute that corrects drift changes only when a refresh found it changed.
    schema.attribute(name).is_none_or(|a| a.settable || a.corrects_drift)
}

/// The attributes present on either side, in schema order, and whether each is the
/// prior value on both sides (every attribute of `prior` and `planned`, equal).
fn attribute_changes(
    schema: &Schema,
    prior: Option<&Attributes>,
    planned: Option<&Attributes>,
) -> (Vec<AttributeChange>, bool) {
    let mut names: Vec<&str> = schema.attributes.iter().map(|a| a.name.as_str()).collect();
    for side in [prior, planned].into_iter().flatten() {
        for name in side.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    // Pairs of maps found equal: another attribute holding the same two (a provider's
    // `output` echoing its `input`, stored as one map) is equal without comparing again.
    let mut equal_maps: Vec<(&Value, &Value)> = Vec::new();
    let mut all_kept = true;
    let changes = names
        .into_iter()
        .filter_map(|name| {
            let before = prior.and_then(|p| p.get_key_value(name));
            let after = planned.and_then(|p| p.get_key_value(name));
            // The key of either map names the change, shared rather than copied.
            let key = before.or(after).map(|(key, _)| key.clone())?;
            let pair = before.map(|(_, value)| value).zip(after.map(|(_, value)| value));
            let before = before.map(|(_, value)| value.clone());
            let mut after = after.map(|(_, value)| value.clone());
            let attribute = schema.attribute(name);
            // A value equal to the prior one under the attribute's (or block's)
            // comparison (a DNS name without its trailing dot, say) is no change.
            if let (Some(a), Some(b)) = (&before, &after) {
                let same = match (attribute, schema.block(name)) {
                    (Some(attribute), _) => {
                        attribute.compare != Comparison::Exact && crate::compare::equivalent(attribute.compare, a, b)
                    }
                    (None, Some(block)) => !a.equals(b) && crate::compare::block_equivalent(block, a, b),
                    (None, None) => false,
                };
                // An equal value (marks included) is the prior one: sharing it lets the
                // freshly evaluated copy go.
                if same || equal_values(&mut equal_maps, pair, a, b) {
                    after = Some(a.clone());
                } else {
                    all_kept = false;
                }
            } else {
                all_kept = false;
            }
            let before_is_null = before.as_ref().is_none_or(Value::is_null);
            let force_new = attribute.is_some_and(|a| a.forces_replacement_from(before_is_null));
            let mut change = AttributeChange { name: key, before, after, forces_replacement: false };
            change.forces_replacement = force_new && prior.is_some() && planned.is_some() && change.is_change();
            Some(change)
        })
        .collect();
    (changes, all_kept)
}

/// Whether `a` equals `b`, marks included; `pair` (the values as the maps hold them) is
/// remembered in `equal_maps` when they are equal maps, and found there again.
fn equal_values<'m>(
    equal_maps: &mut Vec<(&'m Value, &'m Value)>,
    pair: Option<(&'m Value, &'m Value)>,
    a: &Value,
    b: &Value,
) -> bool {
    let (Some(pair), Kind::Map(_), Kind::Map(_)) = (pair, &a.kind, &b.kind) else { return a == b };
    if equal_maps.iter().any(|&(x, y)| same_map(x, pair.0) && same_map(y, pair.1)) {
        return true;
    }
    let equal = a == b;
    if equal {
        equal_maps.push(pair);
    }
    equal
}

/// Whether two values are one map: the same entries and the same mark.
fn same_map(x: &Value, y: &Value) -> bool {
    match (&x.kind, &y.kind) {
        (Kind::Map(x_entries), Kind::Map(y_entries)) => {
            x.sensitive == y.sensitive && x_entries.shares_entries(y_entries)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_compiler::schema::AttributeSchema;
    use infra_compiler::types::Type;

    fn schema() -> Schema {
        Schema {
            description: String::new(),
            attributes: vec![
                AttributeSchema::required("path", Type::String, "").force_new(),
                AttributeSchema::optional("content", Type::String, ""),
                AttributeSchema::optional("mode", Type::String, "").also_computed(),
                AttributeSchema::computed("id", Type::String, ""),
            ],
            blocks: Vec::new(),
        }
    }

    fn attrs(pairs: &[(&str, Value)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn file(path: &str, content: &str, id: Value) -> Attributes {
        attrs(&[
            ("path", Value::string(path)),
            ("content", Value::string(content)),
            ("mode", Value::string("0644")),
            ("id", id),
        ])
    }

    fn unknown() -> Value {
        Value::unknown(Type::String)
    }

    #[test]
    fn create_delete_and_no_op() {
        let s = schema();
        let planned = file("a", "x", unknown());
        assert_eq!(diff(&s, None, Some(&planned), false, false).action, Action::Create);
        let prior = file("a", "x", Value::string("sha"));
        assert_eq!(diff(&s, Some(&prior), None, false, false).action, Action::Delete);
        let same = file("a", "x", Value::string("sha"));
        let result = diff(&s, Some(&prior), Some(&same), false, false);
        assert_eq!(result.action, Action::NoOp);
        assert_eq!(result.changes().count(), 0);
    }

    #[test]
    fn a_no_op_holds_the_prior_object_and_lists_it_in_schema_order() {
        let s = schema();
        let mut prior = file("a", "x", Value::string("sha"));
        prior.insert("zone", Value::string("z1"));
        let mut same = file("a", "x", Value::string("sha"));
        same.insert("zone", Value::string("z1"));
        let mut result = diff(&s, Some(&prior), Some(&same), false, false);
        assert_eq!(result.action, Action::NoOp);
        assert!(result.kept().is_some_and(|kept| kept.shares_entries(&prior)), "the prior object is held, shared");
        let listed: Vec<AttributeChange> = result.attributes().map(Cow::into_owned).collect();
        let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["path", "content", "mode", "id", "zone"], "schema order, then the others");
        for change in &listed {
            assert_eq!(change.before.as_ref(), prior.get(&change.name));
            assert_eq!(change.after.as_ref(), prior.get(&change.name));
            assert!(!change.is_change() && !change.forces_replacement);
        }
        assert_eq!(result, InstanceDiff::new(Action::NoOp, listed.clone(), None), "equal to the same listed");
        result.attributes_mut()[1].after = Some(Value::string("y"));
        assert!(result.kept().is_none());
        assert_eq!(result.changes().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["content"]);
        assert_ne!(result, InstanceDiff::new(Action::NoOp, listed, None));
    }

    #[test]
    fn a_no_op_with_a_computed_attribute_changed_lists_its_changes() {
        let s = schema();
        let prior = file("a", "x", Value::string("sha"));
        let planned = file("a", "x", Value::string("other"));
        let result = diff(&s, Some(&prior), Some(&planned), false, false);
        assert_eq!(result.action, Action::NoOp, "an attribute only the provider sets is no change of its own");
        assert!(result.kept().is_none());
        let changed: Vec<&str> = result.changes().map(|c| c.name.as_str()).collect();
        assert_eq!(changed, ["id"]);
    }

    #[test]
    fn a_changed_attribute_updates_in_place() {
        let s = schema();
        let prior = file("a", "x", Value::string("sha"));
        let planned = file("a", "y", unknown());
        let result = diff(&s, Some(&prior), Some(&planned), false, false);
        assert_eq!(result.action, Action::Update);
        let changed: Vec<&str> = result.changes().map(|c| c.name.as_str()).collect();
        assert_eq!(changed, ["content", "id"], "the computed id is shown changing, unknown");
        assert!(result.replacement_reasons().is_empty());
    }

    #[test]
    fn maps_held_by_two_attributes_are_compared_as_each_holds_them() {
        // A provider echoing `input` as `output`: state holds both as one map, the plan
        // too. Each attribute's change must still be its own.
        let s = Schema {
            description: String::new(),
            attributes: vec![
                AttributeSchema::optional("input", Type::Any, ""),
                AttributeSchema::computed("output", Type::Any, ""),
            ],
            blocks: Vec::new(),
        };
        let map = |v: &str| Value::map([("k".to_string(), Value::string(v))].into_iter().collect());
        let stored = map("a");
        let prior = attrs(&[("input", stored.clone()), ("output", stored.clone())]);
        let evaluated = map("a");
        let same = attrs(&[("input", evaluated.clone()), ("output", evaluated.clone())]);
        let result = diff(&s, Some(&prior), Some(&same), false, false);
        assert_eq!(result.action, Action::NoOp);
        assert_eq!(result.changes().count(), 0);

        // The same input, but an output of its own that differs.
        let other = attrs(&[("input", evaluated.clone()), ("output", map("b"))]);
        let result = diff(&s, Some(&prior), Some(&other), false, false);
        let changed: Vec<&str> = result.changes().map(|c| c.name.as_str()).collect();
        assert_eq!(changed, ["output"]);

        // The same map, marked sensitive in one attribute only.
        let marked = attrs(&[("input", evaluated.clone()), ("output", evaluated.clone().with_mark(true))]);
        let result = diff(&s, Some(&prior), Some(&marked), false, false);
        let after = |name: &str| result.attributes().find(|c| c.name == name).and_then(|c| c.after.clone());
        assert_eq!(after("output").map(|v| v.sensitive), Some(true), "the planned mark is kept");
        assert_eq!(after("input").map(|v| v.sensitive), Some(false));
    }

    #[test]
    fn a_force_new_attribute_replaces_and_says_why() {
        let s = schema();
        let prior = file("a", "x", Value::string("sha"));
        let planned = file("b", "x", unknown());
        let result = diff(&s, Some(&prior), Some(&planned), false, false);
        assert_eq!(result.action, Action::Replace { create_before_destroy: false });
        assert_eq!(result.replacement_reasons(), ["path"]);
        let cbd = diff(&s, Some(&prior), Some(&planned), true, false);
        assert_eq!(cbd.action.symbol(), "+/-");
    }

    #[test]
    fn computed_changes_alone_do_not_update() {
        let s = schema();
        let prior = file("a", "x", Value::string("sha"));
        let planned = file("a", "x", unknown());
        assert_eq!(diff(&s, Some(&prior), Some(&planned), false, false).action, Action::NoOp);
    }

    #[test]
    fn forced_replacement_replaces_an_unchanged_instance() {
        let s = schema();
        let prior = file("a", "x", Value::string("sha"));
        let result = diff(&s, Some(&prior), Some(&prior.clone()), false, true);
        assert_eq!(result.action, Action::Replace { create_before_destroy: false });
        assert!(result.replacement_reasons().is_empty(), "forced, not caused by an attribute");
    }

    #[test]
    fn null_and_absent_are_the_same() {
        let s = schema();
        let mut prior = file("a", "x", Value::string("sha"));
        prior.remove("content");
        let mut planned = file("a", "x", Value::string("sha"));
        planned.insert("content", Value::null());
        assert_eq!(diff(&s, Some(&prior), Some(&planned), false, false).action, Action::NoOp);
    }
}
