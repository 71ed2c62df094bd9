//! One value in a plan: on one line when it fits, otherwise one element a line
//! (`[`…`]`, `{`…`}`) or, for text of several lines, a heredoc; and the difference
//! between two values, element by element, key by key or line by line.

use infra_runtime::value::{quote, Kind, Name, ValueMap};
use infra_runtime::Value;

use super::lines::{elide, hidden, match_elements, padded, Element, Lines, Mark, Shown};

/// Where a value goes: the marker's column, the text before the value on its first line
/// (`name = `), a note after the value's first line (` # forces replacement`) and the
/// text after its last line (`,` in a list).
#[derive(Clone, Copy)]
pub struct Place<'s> {
    pub indent: usize,
    pub head: &'s str,
    pub note: &'s str,
    pub tail: &'s str,
}

impl<'s> Place<'s> {
    /// An element of the collection at `self`, one level in.
    fn element(&self, head: &'s str, tail: &'s str) -> Place<'s> {
        Place { indent: self.indent + 4, head, note: "", tail }
    }

    fn one_line(&self, value: &str) -> String {
        format!("{}{value}{}{}", self.head, self.tail, self.note)
    }

    fn fits(&self, out: &Lines, value: &str) -> bool {
        out.fits(self.indent, self.one_line(value).chars().count())
    }

    /// How many characters a value can have and still fit on one line here.
    fn room(&self, out: &Lines) -> usize {
        let around = [self.head, self.tail, self.note].iter().map(|s| s.chars().count()).sum::<usize>();
        out.width.saturating_sub(self.indent + 2 + around)
    }
}

/// [`one_line`] of a value if it has at most `room` characters. Rendering stops at the
/// first character past it: a large map that is shown one entry a line anyway is not
/// written out whole first (at every level of its nesting).
fn one_line_within(value: &Value, sensitive: bool, room: usize) -> Option<String> {
    struct Bounded {
        out: String,
        room: usize,
    }
    impl std::fmt::Write for Bounded {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            let chars = text.chars().count();
            if chars > self.room {
                return Err(std::fmt::Error);
            }
            self.room -= chars;
            self.out.push_str(text);
            Ok(())
        }
    }
    if sensitive && value.is_known() {
        let text = one_line(value, sensitive);
        return (text.chars().count() <= room).then_some(text);
    }
    let mut bounded = Bounded { out: String::new(), room };
    std::fmt::write(&mut bounded, format_args!("{value}")).ok()?;
    Some(bounded.out)
}

/// A value as one line of text: `(sensitive value)` for a secret (`sensitive`: the
/// attribute is, whatever the value's own mark), `(known after apply)` for an unknown.
pub fn one_line(value: &Value, sensitive: bool) -> String {
    if sensitive && value.is_known() {
        "(sensitive value)".to_string()
    } else {
        value.to_string()
    }
}

/// Whether a value is shown as a whole (a secret is never taken apart).
fn opaque(value: &Value, sensitive: bool) -> bool {
    sensitive || value.sensitive
}

/// Text of more than one line, shown as a heredoc.
fn multi_line(value: &Value, sensitive: bool) -> Option<&str> {
    value.as_str().filter(|s| !opaque(value, sensitive) && s.trim_end_matches('\n').contains('\n'))
}

/// A collection that can be shown one element a line.
fn expandable(value: &Value, sensitive: bool) -> bool {
    !opaque(value, sensitive)
        && match &value.kind {
            Kind::List(items) | Kind::Set(items) => !items.is_empty(),
            Kind::Map(entries) => !entries.is_empty(),
            _ => false,
        }
}

/// A value shown whole with one marker: created, destroyed or unchanged. Elements of a
/// collection broken over lines carry the same marker; the lines of a heredoc none, as
/// its first line has it.
pub fn whole(out: &mut Lines, place: Place, mark: Mark, value: &Value, sensitive: bool) {
    if let Some(text) = multi_line(value, sensitive) {
        out.push(place.indent, mark, format!("{}<<-EOT{}", place.head, place.note));
        for line in text.lines() {
            out.push(place.indent + 4, Mark::Same, heredoc_line(line));
        }
        out.push(place.indent, Mark::Same, format!("EOT{}", place.tail));
        return;
    }
    if !expandable(value, sensitive) {
        out.push(place.indent, mark, place.one_line(&one_line(value, sensitive)));
        return;
    }
    if let Some(text) = one_line_within(value, sensitive, place.room(out)) {
        out.push(place.indent, mark, place.one_line(&text));
        return;
    }
    match &value.kind {
        Kind::Map(entries) => {
            out.push(place.indent, mark, format!("{}{{{}", place.head, place.note));
            let keys: Vec<String> = entries.keys().map(|k| map_key(k)).collect();
            let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
            for (key, value) in keys.iter().zip(entries.values()) {
                let head = format!("{} = ", padded(key, width));
                whole(out, place.element(&head, ""), mark, value, false);
            }
            out.push(place.indent, Mark::Same, format!("}}{}", place.tail));
        }
        Kind::List(items) | Kind::Set(items) => {
            let (open, close) = brackets(value);
            out.push(place.indent, mark, format!("{}{open}{}", place.head, place.note));
            for item in items {
                whole(out, place.element("", ","), mark, item, false);
            }
            out.push(place.indent, Mark::Same, format!("{close}{}", place.tail));
        }
        _ => out.push(place.indent, mark, place.one_line(&one_line(value, sensitive))),
    }
}

/// How the language writes a collection's brackets.
fn brackets(value: &Value) -> (&'static str, &'static str) {
    if matches!(value.kind, Kind::Set(_)) {
        ("toset([", "])")
    } else {
        ("[", "]")
    }
}

/// A map key as the language writes it: bare when it is an identifier.
fn map_key(key: &str) -> String {
    let mut chars = key.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        key.to_string()
    } else {
        quote(key)
    }
}

/// A line of a heredoc with control characters other than tabs escaped, so that text
/// from a file cannot move the cursor or recolour the terminal.
fn heredoc_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.chars()
        .map(|c| if c.is_control() && c != '\t' { format!("\\u{:04x}", c as u32) } else { c.to_string() })
        .collect()
}

/// A value that changes from `before` to `after`: element by element, key by key or
/// line by line when both are collections or text of several lines and the change does
/// not fit on one line; `before -> after` otherwise.
pub fn changed(out: &mut Lines, place: Place, before: &Value, after: &Value, sensitive: bool) {
    let (old, new) = (one_line(before, sensitive), one_line(after, sensitive));
    if opaque(before, sensitive) || opaque(after, sensitive) {
        // Two secrets: that it changes is all a plan may say.
        let text = if old == new { old } else { format!("{old} -> {new}") };
        out.push(place.indent, Mark::Change, place.one_line(&text));
        return;
    }
    let structured = after.is_known() && before.is_known();
    if let (Some(b), Some(a), true) = (before.as_str(), after.as_str(), structured) {
        // Only a final newline differing reads best on one line where it fits.
        let ending_only = b.lines().eq(a.lines()) && place.fits(out, &format!("{old} -> {new}"));
        if (multi_line(before, false).is_some() || multi_line(after, false).is_some())
            && !ending_only
            && lines_changed(out, place, b, a)
        {
            return;
        }
    }
    if let (Kind::Map(b), Kind::Map(a)) = (&before.kind, &after.kind) {
        // Which keys change is what a reader of a map wants, however short it is.
        if !b.is_empty() && !a.is_empty() {
            return entries_changed(out, place, b, a);
        }
    }
    let text = format!("{old} -> {new}");
    if place.fits(out, &text) {
        out.push(place.indent, Mark::Change, place.one_line(&text));
        return;
    }
    match (&before.kind, &after.kind) {
        (Kind::List(b), Kind::List(a)) | (Kind::Set(b), Kind::Set(a)) => elements_changed(out, place, after, b, a),
        _ if expandable(before, false) || multi_line(before, false).is_some() => {
            // The old value taken apart, then what replaces it: `] -> (known after apply)`.
            let start = out.len();
            whole(out, Place { tail: "", note: "", ..place }, Mark::Remove, before, false);
            out.remark(start, Mark::Change);
            out.append(&format!(" -> {new}{}{}", place.tail, place.note));
        }
        _ => out.push(place.indent, Mark::Change, place.one_line(&text)),
    }
}

/// A list or set, element by element; long runs of unchanged elements are counted.
fn elements_changed(out: &mut Lines, place: Place, after: &Value, before: &[Value], items: &[Value]) {
    let (open, close) = brackets(after);
    out.push(place.indent, Mark::Change, format!("{}{open}{}", place.head, place.note));
    let elements = match_elements(before, items);
    for shown in elide(elements, |e| matches!(e, Element::Same(_))) {
        let inner = place.element("", ",");
        match shown {
            Shown::Item(Element::Same(v)) => whole(out, inner, Mark::Same, v, false),
            Shown::Item(Element::Added(v)) => whole(out, inner, Mark::Add, v, false),
            Shown::Item(Element::Removed(v)) => whole(out, inner, Mark::Remove, v, false),
            Shown::Item(Element::Changed(b, a)) => changed(out, inner, b, a, false),
            Shown::Hidden(n) => out.push(inner.indent, Mark::Same, hidden(n, "element")),
        }
    }
    out.push(place.indent, Mark::Same, format!("{close}{}", place.tail));
}

/// A map or object, key by key; unchanged entries are counted.
fn entries_changed(out: &mut Lines, place: Place, before: &ValueMap, after: &ValueMap) {
    out.push(place.indent, Mark::Change, format!("{}{{{}", place.head, place.note));
    let mut keys: Vec<&Name> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let pairs: Vec<(&Name, Option<&Value>, Option<&Value>)> =
        keys.into_iter().map(|k| (k, present(before.get(k)), present(after.get(k)))).collect();
    let (shown, unchanged): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(_, b, a)| differs(*b, *a));
    let width = shown.iter().map(|(k, _, _)| map_key(k).chars().count()).max().unwrap_or(0);
    for (key, b, a) in shown {
        let head = format!("{} = ", padded(&map_key(key), width));
        let inner = place.element(&head, "");
        change(out, inner, b, a, false);
    }
    let count = unchanged.iter().filter(|(_, b, _)| b.is_some()).count();
    if count > 0 {
        out.push(place.indent + 4, Mark::Same, hidden(count, "element"));
    }
    out.push(place.indent, Mark::Same, format!("}}{}", place.tail));
}

/// Text of several lines, line by line inside `<<-EOT`; a newline added or removed at the
/// end is a line of its own, `# (a newline at the end)`. False (nothing written) when no
/// line differs otherwise (a `\r\n` ending for a `\n`).
fn lines_changed(out: &mut Lines, place: Place, before: &str, after: &str) -> bool {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let mut lines = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        for change in op.iter_changes(&old, &new) {
            let mark = match change.tag() {
                similar::ChangeTag::Equal => Mark::Same,
                similar::ChangeTag::Delete => Mark::Remove,
                similar::ChangeTag::Insert => Mark::Add,
            };
            lines.push((mark, Some(change.value())));
        }
    }
    match (before.ends_with('\n'), after.ends_with('\n')) {
        (false, true) => lines.push((Mark::Add, None)),
        (true, false) => lines.push((Mark::Remove, None)),
        _ => {}
    }
    if lines.iter().all(|(mark, _)| *mark == Mark::Same) {
        return false;
    }
    out.push(place.indent, Mark::Change, format!("{}<<-EOT{}", place.head, place.note));
    for shown in elide(lines, |(mark, _)| *mark == Mark::Same) {
        match shown {
            Shown::Item((mark, Some(line))) => out.push(place.indent + 4, mark, heredoc_line(line)),
            Shown::Item((mark, None)) => out.push(place.indent + 4, mark, "# (a newline at the end)".to_string()),
            Shown::Hidden(n) => out.push(place.indent + 4, Mark::Same, hidden(n, "line")),
        }
    }
    out.push(place.indent, Mark::Same, format!("EOT{}", place.tail));
    true
}

/// A value that is absent or null is not there.
pub fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// Whether a value is an empty list or set: nothing to show being created or destroyed
/// (an absent repeated block reads back as one).
pub fn is_empty_sequence(value: &Value) -> bool {
    matches!(&value.kind, Kind::List(items) | Kind::Set(items) if items.is_empty())
}

/// Whether `after` differs from `before`: a value not wholly known always may.
pub fn differs(before: Option<&Value>, after: Option<&Value>) -> bool {
    match (present(before), present(after)) {
        (Some(b), Some(a)) => !a.is_wholly_known() || !b.equals(a),
        (None, None) => false,
        _ => true,
    }
}

/// Whatever happens to a value between two sides: added, removed (`-> null`), changed
/// or, when the same, shown unchanged.
pub fn change(out: &mut Lines, place: Place, before: Option<&Value>, after: Option<&Value>, sensitive: bool) {
    match (present(before), present(after)) {
        (None, Some(a)) => whole(out, place, Mark::Add, a, sensitive),
        (Some(b), None) => {
            whole(out, Place { tail: "", note: "", ..place }, Mark::Remove, b, sensitive);
            out.append(&format!(" -> null{}{}", place.tail, place.note));
        }
        (Some(b), Some(a)) if differs(Some(b), Some(a)) => changed(out, place, b, a, sensitive),
        (Some(_), Some(a)) => whole(out, place, Mark::Same, a, sensitive),
        (None, None) => {}
    }
}
