//! The lines a rendered plan is made of (an indentation, a change marker, text), and the
//! two decisions about which of them to show: how the elements of two sequences match,
//! and which unchanged ones are hidden behind a count.

use infra_runtime::Value;

/// What happens to the thing a line shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Add,
    Remove,
    Change,
    /// Unchanged, or part of something whose first line carries the marker.
    Same,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Add => "+",
            Mark::Remove => "-",
            Mark::Change => "~",
            Mark::Same => " ",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            Mark::Add => "32",
            Mark::Remove => "31",
            Mark::Change => "33",
            Mark::Same => "0",
        }
    }
}

/// One line: `indent` spaces, the marker, a space, the text. The text of a line starts
/// two columns after its marker, so a nested element's marker (at `indent + 4`) sits two
/// columns right of its parent's text.
struct Line {
    indent: usize,
    mark: Mark,
    text: String,
}

/// The lines rendered so far, and the width they should keep within.
pub struct Lines {
    lines: Vec<Line>,
    pub width: usize,
}

impl Lines {
    pub fn new(width: usize) -> Lines {
        Lines { lines: Vec::new(), width }
    }

    pub fn push(&mut self, indent: usize, mark: Mark, text: impl Into<String>) {
        self.lines.push(Line { indent, mark, text: text.into() });
    }

    pub fn blank(&mut self) {
        self.push(0, Mark::Same, "");
    }

    /// Appends every line of `other`.
    pub fn extend(&mut self, other: Lines) {
        self.lines.extend(other.lines);
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Appends `text` to the last line.
    pub fn append(&mut self, text: &str) {
        if let Some(line) = self.lines.last_mut() {
            line.text.push_str(text);
        }
    }

    /// Changes the marker of the line at `index` (the opener of a value rendered whole).
    pub fn remark(&mut self, index: usize, mark: Mark) {
        if let Some(line) = self.lines.get_mut(index) {
            line.mark = mark;
        }
    }

    /// Whether text of `chars` characters fits on a line whose marker is at `indent`.
    pub fn fits(&self, indent: usize, chars: usize) -> bool {
        indent + 2 + chars <= self.width
    }

    /// Writes the lines, painting markers when `color` is set.
    pub fn write(&self, out: &mut String, color: bool) {
        for line in &self.lines {
            let start = out.len();
            out.extend(std::iter::repeat_n(' ', line.indent));
            if color && line.mark != Mark::Same {
                out.push_str(&crate::render::paint(line.mark.symbol(), line.mark.color(), true));
            } else {
                out.push_str(line.mark.symbol());
            }
            out.push(' ');
            out.push_str(&line.text);
            let end = out[start..].trim_end().len();
            out.truncate(start + end);
            out.push('\n');
        }
    }
}

/// `# (3 unchanged attributes hidden)`.
pub fn hidden(count: usize, what: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("# ({count} unchanged {what}{plural} hidden)")
}

/// How many unchanged items are kept on each side of a change in a long sequence.
const CONTEXT: usize = 2;

/// An item of a sequence, or a run of unchanged ones hidden behind a count.
pub enum Shown<T> {
    Item(T),
    Hidden(usize),
}

/// Keeps every changed item and up to [`CONTEXT`] unchanged ones next to a change;
/// longer runs of unchanged items become one count (a run of one stays shown: its count
/// would take as much room).
pub fn elide<T>(items: Vec<T>, unchanged: impl Fn(&T) -> bool) -> Vec<Shown<T>> {
    let changed: Vec<bool> = items.iter().map(|i| !unchanged(i)).collect();
    let near = |i: usize| changed[i.saturating_sub(CONTEXT)..(i + CONTEXT + 1).min(changed.len())].contains(&true);
    let mut shown = Vec::new();
    let mut run = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if near(i) {
            flush_run(&mut shown, &mut run);
            shown.push(Shown::Item(item));
        } else {
            run.push(item);
        }
    }
    flush_run(&mut shown, &mut run);
    shown
}

fn flush_run<T>(shown: &mut Vec<Shown<T>>, run: &mut Vec<T>) {
    match run.len() {
        0 => {}
        1 => shown.extend(run.drain(..).map(Shown::Item)),
        n => {
            run.clear();
            shown.push(Shown::Hidden(n));
        }
    }
}

/// How an element of a sequence fares between before and after.
#[derive(Debug, PartialEq)]
pub enum Element<'a> {
    Same(&'a Value),
    Added(&'a Value),
    Removed(&'a Value),
    /// The same element (an object most of whose attributes are unchanged), changed.
    Changed(&'a Value, &'a Value),
}

/// Matches the elements of two sequences: the longest run of equal elements in order is
/// unchanged; in each stretch between, the n-th removed and n-th added element are one
/// changed element when they are objects that agree on more than half their attributes,
/// and otherwise one removed and one added.
pub fn match_elements<'a>(before: &'a [Value], after: &'a [Value]) -> Vec<Element<'a>> {
    let old: Vec<String> = before.iter().map(key).collect();
    // An element not wholly known is equal to nothing, not even another unknown.
    let new: Vec<String> = after
        .iter()
        .enumerate()
        .map(|(i, v)| if v.is_wholly_known() { key(v) } else { format!("unknown {i}") })
        .collect();
    let mut elements = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        let (_, removed, added) = op.as_tag_tuple();
        let (removed, added) = (&before[removed], &after[added]);
        if op.tag() == similar::DiffTag::Equal {
            elements.extend(added.iter().map(Element::Same));
            continue;
        }
        for i in 0..removed.len().max(added.len()) {
            match (removed.get(i), added.get(i)) {
                (Some(b), Some(a)) if alike(b, a) => elements.push(Element::Changed(b, a)),
                (b, a) => {
                    elements.extend(b.map(Element::Removed));
                    elements.extend(a.map(Element::Added));
                }
            }
        }
    }
    elements
}

/// A key equal for equal values (marks ignored), for the sequence diff.
fn key(value: &Value) -> String {
    format!("{:?}", value.unmarked_deep())
}

/// Two objects that agree on more than half of the attributes either sets.
fn alike(before: &Value, after: &Value) -> bool {
    let (Some(b), Some(a)) = (before.as_map(), after.as_map()) else { return false };
    let set = super::value::present;
    let names: std::collections::BTreeSet<&infra_runtime::value::Name> =
        b.keys().chain(a.keys()).filter(|k| set(b.get(k)).is_some() || set(a.get(k)).is_some()).collect();
    let equal = names
        .iter()
        .filter(|k| matches!((set(b.get(k)), set(a.get(k))), (Some(x), Some(y)) if y.is_wholly_known() && x.equals(y)))
        .count();
    equal * 2 > names.len()
}

/// `text` padded with spaces to `width` characters. By hand, since `format!`'s width
/// stops at 65,535 and a map key or attribute name may be longer.
pub(super) fn padded(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(width.max(text.len()));
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(text.chars().count())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| Value::string(*s)).collect()
    }

    fn rule(port: f64, cidr: &str, description: &str) -> Value {
        let mut map = std::collections::BTreeMap::new();
        map.insert("from_port".to_string(), Value::number(port));
        map.insert("to_port".to_string(), Value::number(port));
        map.insert("protocol".to_string(), Value::string("tcp"));
        map.insert("cidr".to_string(), Value::string(cidr));
        map.insert("description".to_string(), Value::string(description));
        Value::map(map)
    }

    #[test]
    fn equal_elements_match_in_order_and_the_rest_are_added_or_removed() {
        let before = strings(&["a", "b", "c"]);
        let after = strings(&["a", "x", "c", "d"]);
        let elements = match_elements(&before, &after);
        assert_eq!(
            elements,
            [
                Element::Same(&before[0]),
                Element::Removed(&before[1]),
                Element::Added(&after[1]),
                Element::Same(&before[2]),
                Element::Added(&after[3]),
            ]
        );
    }

    #[test]
    fn an_object_changed_in_a_minority_of_attributes_is_one_changed_element() {
        let before = vec![rule(22.0, "10.0.0.0/8", "ssh"), rule(80.0, "0.0.0.0/0", "web")];
        let after = vec![rule(22.0, "10.1.0.0/16", "ssh"), rule(443.0, "0.0.0.0/0", "tls")];
        let elements = match_elements(&before, &after);
        assert_eq!(
            elements,
            [Element::Changed(&before[0], &after[0]), Element::Removed(&before[1]), Element::Added(&after[1]),],
            "the port, protocol and description of the first agree; the second shares only protocol and cidr"
        );
    }

    #[test]
    fn unknown_elements_never_match() {
        let before = strings(&["a"]);
        let after = vec![Value::unknown(infra_compiler::types::Type::String)];
        assert_eq!(match_elements(&before, &after), [Element::Removed(&before[0]), Element::Added(&after[0])]);
    }

    #[test]
    fn long_unchanged_runs_are_counted_and_context_is_kept() {
        let items: Vec<(usize, bool)> = (0..12).map(|i| (i, i == 6)).collect();
        let shown = elide(items, |(_, changed)| !changed);
        let text: Vec<String> = shown
            .iter()
            .map(|s| match s {
                Shown::Item((i, _)) => i.to_string(),
                Shown::Hidden(n) => format!("({n})"),
            })
            .collect();
        assert_eq!(text, ["(4)", "4", "5", "6", "7", "8", "(3)"]);
    }

    #[test]
    fn a_run_of_one_is_shown_rather_than_counted() {
        let items: Vec<(usize, bool)> = (0..4).map(|i| (i, i == 3)).collect();
        let shown = elide(items, |(_, changed)| !changed);
        assert!(shown.iter().all(|s| matches!(s, Shown::Item(_))), "four items, none hidden");
    }

    #[test]
    fn hidden_counts_are_singular_for_one() {
        assert_eq!(hidden(1, "block"), "# (1 unchanged block hidden)");
        assert_eq!(hidden(3, "attribute"), "# (3 unchanged attributes hidden)");
    }
}
