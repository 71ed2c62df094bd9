//! The body of a resource or of a nested block: its attributes, aligned, then its nested
//! blocks, each on its own lines with its own marker; what did not change is hidden
//! behind counts.
//!
//! A nested block is recognised by its value, not by a schema: an attribute whose value
//! is a list or set of objects (a repeated block such as `ingress`, or a list of objects
//! a provider keeps in state) is shown as one block per element.

use infra_runtime::value::{Kind, Name};
use infra_runtime::Value;

use super::lines::{hidden, match_elements, padded, Element, Lines, Mark};
use super::value::{change, differs, is_empty_sequence, present, whole, Place};

/// How a body is shown: everything added, everything removed, or what changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Delete,
    Update,
}

/// One attribute of a body, on both sides.
pub struct Entry<'a> {
    pub name: &'a str,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    /// The attribute is sensitive: its value is never shown, whatever its marks.
    pub sensitive: bool,
    /// Its change alone forces the replacement of the resource.
    pub forces: bool,
}

/// Attributes shown unchanged in an update, as context, because they say which object it
/// is — Terraform's rule.
const IDENTIFYING: [&str; 3] = ["id", "name", "tags"];

const FORCES: &str = " # forces replacement";

/// Renders a body whose lines' markers are at `indent`: attributes (sorted by name), then
/// nested blocks after a blank line.
pub fn body(out: &mut Lines, indent: usize, mode: Mode, mut entries: Vec<Entry>) {
    entries.sort_by(|a, b| a.name.cmp(b.name));
    let (blocks, attributes): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(is_blocks);
    let start = out.len();
    attributes_of(out, indent, mode, &attributes);
    let mut nested = Lines::new(out.width);
    blocks_of(&mut nested, indent, mode, &blocks);
    if nested.len() > 0 {
        if out.len() > start {
            out.blank();
        }
        out.extend(nested);
    }
}

fn attributes_of(out: &mut Lines, indent: usize, mode: Mode, entries: &[Entry]) {
    let mut unchanged = 0;
    let mut shown = Vec::new();
    for entry in entries {
        let show = match mode {
            Mode::Create => present(entry.after).is_some_and(|v| !is_empty_sequence(v)),
            Mode::Delete => present(entry.before).is_some_and(|v| !is_empty_sequence(v)),
            Mode::Update => {
                differs(entry.before, entry.after)
                    || (IDENTIFYING.contains(&entry.name) && present(entry.after).is_some())
            }
        };
        if show {
            shown.push(entry);
        } else if present(entry.before).is_some() {
            unchanged += 1;
        }
    }
    let width = shown.iter().map(|e| e.name.chars().count()).max().unwrap_or(0);
    for entry in shown {
        let head = format!("{} = ", padded(entry.name, width));
        let note = if entry.forces { FORCES } else { "" };
        let place = Place { indent, head: &head, note, tail: "" };
        match (mode, entry.before, entry.after) {
            (Mode::Create, _, Some(after)) => whole(out, place, Mark::Add, after, entry.sensitive),
            (Mode::Delete, Some(before), _) => whole(out, place, Mark::Remove, before, entry.sensitive),
            _ => change(out, place, entry.before, entry.after, entry.sensitive),
        }
    }
    if unchanged > 0 && mode == Mode::Update {
        out.push(indent, Mark::Same, hidden(unchanged, "attribute"));
    }
}

/// The elements of a list or set of objects (none for an absent or empty value); `None`
/// when the value is anything else.
fn block_items(value: Option<&Value>) -> Option<&[Value]> {
    let Some(value) = present(value) else { return Some(&[]) };
    match &value.kind {
        Kind::List(items) | Kind::Set(items)
            if !value.sensitive && items.iter().all(|i| matches!(i.kind, Kind::Map(_)) && !i.sensitive) =>
        {
            Some(items)
        }
        _ => None,
    }
}

/// Whether an attribute is shown as nested blocks: objects on one side at least, and
/// objects or nothing on the other.
fn is_blocks(entry: &Entry) -> bool {
    !entry.sensitive
        && matches!((block_items(entry.before), block_items(entry.after)),
            (Some(b), Some(a)) if !b.is_empty() || !a.is_empty())
}

fn blocks_of(out: &mut Lines, indent: usize, mode: Mode, entries: &[Entry]) {
    let mut unchanged = 0;
    for entry in entries {
        let before = block_items(entry.before).unwrap_or_default();
        let after = block_items(entry.after).unwrap_or_default();
        let elements = match mode {
            Mode::Create => after.iter().map(Element::Added).collect(),
            Mode::Delete => before.iter().map(Element::Removed).collect(),
            Mode::Update => match_elements(before, after),
        };
        let note = if entry.forces { FORCES } else { "" };
        let block = |out: &mut Lines, mark, mode, before, after| {
            out.push(indent, mark, format!("{} {{{note}", entry.name));
            body(out, indent + 4, mode, object_entries(before, after));
            out.push(indent, Mark::Same, "}");
        };
        for element in elements {
            match element {
                Element::Same(_) => unchanged += 1,
                Element::Added(v) => block(out, Mark::Add, Mode::Create, None, Some(v)),
                Element::Removed(v) => block(out, Mark::Remove, Mode::Delete, Some(v), None),
                Element::Changed(b, a) => block(out, Mark::Change, Mode::Update, Some(b), Some(a)),
            }
        }
    }
    if unchanged > 0 {
        out.push(indent, Mark::Same, hidden(unchanged, "block"));
    }
}

/// The attributes of a nested block's object, on both sides.
fn object_entries<'a>(before: Option<&'a Value>, after: Option<&'a Value>) -> Vec<Entry<'a>> {
    let before = before.and_then(Value::as_map);
    let after = after.and_then(Value::as_map);
    let mut names: Vec<&Name> = before.into_iter().chain(after).flat_map(|m| m.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| Entry {
            name,
            before: before.and_then(|m| m.get(name)),
            after: after.and_then(|m| m.get(name)),
            sensitive: false,
            forces: false,
        })
        .collect()
}
