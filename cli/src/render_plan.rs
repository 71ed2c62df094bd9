//! Plans as text, as Terraform users expect to read them: a notice of what changed
//! outside of Infra, then each instance's action with its attributes, nested blocks,
//! long values broken one element a line and text of several lines diffed line by line.
//!
//! Sub-modules: [`lines`] holds the line model, element matching and elision, [`value`]
//! renders one value or the change of one, [`body`] the attributes and blocks of an
//! object.

mod body;
mod lines;
mod value;

use std::io::IsTerminal;

use infra_runtime::diff::{Action, ReplaceCause};
use infra_runtime::plan::{Plan, PlannedInstance};
use infra_runtime::Value;

use body::{body, Entry, Mode};
use lines::{Lines, Mark};

/// The width a plan keeps within when stdout is not a terminal, so that what a script
/// or a test reads does not depend on the window it ran in.
pub const PLAIN_WIDTH: usize = 80;

/// How a plan is rendered.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    /// Values longer than this break one element a line.
    pub width: usize,
}

/// The plan as text, Terraform style, written to stdout as it is made: as wide as the
/// terminal, or [`PLAIN_WIDTH`] when stdout is not one. (The text of a plan of 10,000
/// resources with thirty attributes each is some fifty megabytes, not worth holding.)
/// With `two_threads` (and two cores), a large plan's instances are rendered on two.
pub fn print(plan: &Plan, pending: &[String], color: bool, two_threads: bool) {
    let style = Style { color, width: stdout_width() };
    let cores = infra_compiler::cores();
    let batch = if two_threads && cores > 1 { RENDER_BATCH } else { 0 };
    render_into(plan, pending, style, (RENDER_CHUNK, batch), &mut |text: &mut String| {
        crate::render::to_stdout(text);
        text.clear();
    });
}

/// The terminal's width: `COLUMNS` when the shell exports it, else the terminal's own.
fn stdout_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return PLAIN_WIDTH;
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let queried = || terminal_size::terminal_size().map(|(width, _)| usize::from(width.0));
    columns.or_else(queried).filter(|&w| w >= 40).unwrap_or(PLAIN_WIDTH)
}

/// The plan as text with an explicit style.
#[cfg(test)]
pub fn render_with(plan: &Plan, pending: &[String], style: Style) -> String {
    render_chunked(plan, pending, style, (usize::MAX, 0))
}

/// The plan as text, made in chunks of about `chunk` bytes, its instances in batches of
/// `batch` on two threads (0: on one).
#[cfg(test)]
fn render_chunked(plan: &Plan, pending: &[String], style: Style, (chunk, batch): (usize, usize)) -> String {
    let mut whole = String::new();
    render_into(plan, pending, style, (chunk, batch), &mut |part: &mut String| {
        whole.push_str(part);
        part.clear();
    });
    whole
}

/// Text past this many bytes is handed to stdout between two instances.
const RENDER_CHUNK: usize = 64 * 1024;

/// Instances rendered at a time by each of two threads (some 300 KB of text for large
/// resources): a few batches' text is held at once, never the whole plan's.
const RENDER_BATCH: usize = 64;

/// Renders the plan into a buffer and hands it to `sink` (which empties it) whenever it
/// holds `chunk` bytes or more after an instance (or a batch of `batch` instances, when
/// they are rendered on two threads), and at the end.
fn render_into(
    plan: &Plan,
    pending: &[String],
    style: Style,
    (chunk, batch): (usize, usize),
    sink: &mut dyn FnMut(&mut String),
) {
    let mut text = String::new();
    render_parts(&mut text, plan, pending, style, (chunk, batch), sink);
    if !text.is_empty() {
        sink(&mut text);
    }
}

fn render_parts(
    text: &mut String,
    plan: &Plan,
    pending: &[String],
    style: Style,
    (chunk, batch): (usize, usize),
    sink: &mut dyn FnMut(&mut String),
) {
    drift_notice(text, plan, style);
    for line in pending {
        text.push_str(&format!("warning: {line}\n\n"));
    }
    let changes: Vec<&PlannedInstance> = plan.changes().collect();
    if changes.is_empty() {
        output_changes(text, plan, style);
        return;
    }
    text.push_str("Infra will perform the following actions:\n\n");
    if batch == 0 || changes.len() <= batch {
        for instance in &changes {
            render_instance(text, instance, style);
            if text.len() >= chunk {
                sink(text);
            }
        }
    } else {
        render_on_two_threads(text, &changes, style, (chunk, batch), sink);
    }
    text.push_str(&summary_line(plan));
    outputs(text, plan, style);
}

/// Renders `changes` in batches of `batch`: the even batches on this thread, the odd ones
/// on another, one batch ahead at most. Each batch's text is added in order, so the text
/// is the same as one thread's.
fn render_on_two_threads(
    text: &mut String,
    changes: &[&PlannedInstance],
    style: Style,
    (chunk, batch): (usize, usize),
    sink: &mut dyn FnMut(&mut String),
) {
    let batches: Vec<&[&PlannedInstance]> = changes.chunks(batch).collect();
    let odd: Vec<&[&PlannedInstance]> = batches.iter().skip(1).step_by(2).copied().collect();
    std::thread::scope(|scope| {
        let (made, taken) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for batch in odd {
                let mut part = String::new();
                batch.iter().for_each(|instance| render_instance(&mut part, instance, style));
                if made.send(part).is_err() {
                    break;
                }
            }
        });
        for (i, batch) in batches.iter().enumerate() {
            if i % 2 == 0 {
                batch.iter().for_each(|instance| render_instance(text, instance, style));
            } else {
                // Nothing comes only if the other thread panicked: the scope raises that.
                let Ok(part) = taken.recv() else { break };
                text.push_str(&part);
            }
            if text.len() >= chunk {
                sink(text);
            }
        }
    });
}

/// `Plan: 1 to add, 2 to change, 0 to destroy, 1 to import.`
fn summary_line(plan: &Plan) -> String {
    let (add, change, destroy) = summary(plan);
    let mut line = format!("Plan: {add} to add, {change} to change, {destroy} to destroy");
    let (moved, imported, forgotten) = refactoring_summary(plan);
    for (count, what) in [(moved, "to move"), (imported, "to import"), (forgotten, "to forget")] {
        if count > 0 {
            line.push_str(&format!(", {count} {what}"));
        }
    }
    format!("{line}.\n")
}

/// A plan that changes no instance: "No changes", or the outputs it changes (as
/// Terraform's "Changes to Outputs"), which applying saves to the state.
fn output_changes(text: &mut String, plan: &Plan, style: Style) {
    let changed = plan.output_changes();
    if changed.is_empty() {
        text.push_str("No changes. The infrastructure matches the configuration.\n");
        return;
    }
    text.push_str("Changes to Outputs:\n");
    let mut out = Lines::new(style.width);
    for (name, before, after) in changed {
        let head = format!("{name} = ");
        let place = value::Place { indent: 2, head: &head, note: "", tail: "" };
        value::change(&mut out, place, before, after, false);
    }
    out.write(text, style.color);
    text.push_str(
        "\nNo infrastructure changes. Applying saves these output values to the state, without changing any object.\n",
    );
}

fn outputs(text: &mut String, plan: &Plan, style: Style) {
    if plan.outputs.is_empty() {
        return;
    }
    text.push_str("\nOutputs:\n");
    let mut out = Lines::new(style.width);
    for (name, value) in &plan.outputs {
        let head = format!("{name} = ");
        let place = value::Place { indent: 0, head: &head, note: "", tail: "" };
        value::whole(&mut out, place, Mark::Same, value, false);
    }
    out.write(text, style.color);
}

/// How many instances are added, changed and destroyed (a replacement counts as one
/// added and one destroyed).
pub fn summary(plan: &Plan) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for instance in plan.changes() {
        match instance.diff.action {
            Action::Create => counts.0 += 1,
            Action::Update => counts.1 += 1,
            Action::Replace { .. } => {
                counts.0 += 1;
                counts.2 += 1;
            }
            Action::Delete => counts.2 += 1,
            Action::NoOp | Action::Read | Action::Forget => {}
        }
    }
    counts
}

/// How many instances are moved, imported and forgotten.
pub fn refactoring_summary(plan: &Plan) -> (usize, usize, usize) {
    let moved = plan.instances.iter().filter(|i| i.moved_from.is_some()).count();
    let imported = plan.instances.iter().filter(|i| i.imported.is_some()).count();
    let forgotten = plan.instances.iter().filter(|i| i.diff.action == Action::Forget).count();
    (moved, imported, forgotten)
}

/// What `infra refresh` found: each object changed outside of Infra (from what state
/// held to what was read) or gone, as the plan's drift notice shows them.
pub fn render_drift_only(plan: &Plan, color: bool) -> String {
    let style = Style { color, width: stdout_width() };
    let mut text = String::new();
    for instance in plan.instances.iter().filter(|i| i.drifted_from.is_some()) {
        render_drift(&mut text, instance, style);
    }
    text
}

/// "Objects have changed outside of Infra": for each refreshed instance that differs
/// from the state, what changed from what (the state before the refresh) to what (the
/// object as read), or that it is gone.
fn drift_notice(text: &mut String, plan: &Plan, style: Style) {
    let drifted: Vec<&PlannedInstance> = plan.instances.iter().filter(|i| i.drifted_from.is_some()).collect();
    if drifted.is_empty() {
        return;
    }
    text.push_str("Note: Objects have changed outside of Infra\n\n");
    text.push_str("Infra detected the following changes made outside of Infra since the last apply:\n\n");
    for instance in drifted {
        render_drift(text, instance, style);
    }
    text.push_str(
        "Unless the configuration is changed to match, or `ignore_changes` lists these attributes,\n\
         the actions below undo or respond to these changes.\n\n",
    );
}

fn render_drift(text: &mut String, instance: &PlannedInstance, style: Style) {
    let Some(stored) = &instance.drifted_from else { return };
    // The object as read is the diff's `before` side.
    let attributes: Vec<_> = instance.diff.attributes().collect();
    let read: Vec<(&str, &Value)> =
        attributes.iter().filter_map(|c| Some((c.name.as_str(), c.before.as_ref()?))).collect();
    let (mark, what, mode) = if read.is_empty() {
        (Mark::Remove, "has been deleted", Mode::Delete)
    } else {
        (Mark::Change, "has changed", Mode::Update)
    };
    let mut names: Vec<&str> = stored.keys().map(|k| k.as_str()).chain(read.iter().map(|(n, _)| *n)).collect();
    names.sort_unstable();
    names.dedup();
    let entries = names
        .into_iter()
        .map(|name| Entry {
            name,
            before: stored.get(name),
            after: read.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
            sensitive: instance.sensitive.contains(name),
            forces: false,
        })
        .collect();
    text.push_str(&format!("  # {} {what} outside of Infra\n", instance.address));
    object(text, instance, (mark.symbol(), mark.color()), mode, entries, style);
}

fn describe(action: Action) -> &'static str {
    match action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace { create_before_destroy: false } => "must be replaced",
        Action::Replace { create_before_destroy: true } => "must be replaced (created before the old one is destroyed)",
        Action::Delete => "will be destroyed",
        Action::Read => "will be read during apply",
        Action::NoOp => "is unchanged",
        Action::Forget => "will be forgotten: removed from the state, the object itself left as it is",
    }
}

fn color_of(action: Action) -> &'static str {
    match action {
        Action::Create => "32",
        Action::Update | Action::Read => "33",
        Action::Replace { .. } | Action::Delete => "31",
        Action::NoOp | Action::Forget => "0",
    }
}

fn render_instance(text: &mut String, instance: &PlannedInstance, style: Style) {
    let action = instance.diff.action;
    if let Some(from) = &instance.moved_from {
        text.push_str(&format!("  # {from} has moved to {}\n", instance.address));
    }
    if let Some(id) = &instance.imported {
        let id = infra_runtime::value::quote(id);
        text.push_str(&format!("  # {} will be imported from id {id}\n", instance.address));
    }
    match action {
        Action::Forget => return text.push_str(&format!("  # {} {}\n\n", instance.address, describe(action))),
        Action::NoOp => return text.push('\n'),
        _ => {}
    }
    let because = match instance.diff.cause {
        Some(ReplaceCause::Requested) => " because of `--replace`",
        Some(ReplaceCause::ReplaceWhen) => " because a value in `replace_when` changed",
        Some(ReplaceCause::TypeChanged) => " because its resource type changed (the old object is deleted first)",
        None => "",
    };
    text.push_str(&format!("  # {} {}{because}\n", instance.address, describe(action)));
    let mode = match action {
        Action::Create | Action::Read => Mode::Create,
        Action::Delete => Mode::Delete,
        _ => Mode::Update,
    };
    let attributes: Vec<_> = instance.diff.attributes().collect();
    let entries = attributes
        .iter()
        .map(|c| Entry {
            name: &c.name,
            before: c.before.as_ref(),
            after: c.after.as_ref(),
            sensitive: instance.sensitive.contains(c.name.as_str()),
            forces: c.forces_replacement,
        })
        .collect();
    object(text, instance, (action.symbol(), color_of(action)), mode, entries, style);
}

/// `  ~ kind address {`, the body, `    }` and a blank line.
fn object(
    text: &mut String,
    instance: &PlannedInstance,
    (symbol, color): (&str, &str),
    mode: Mode,
    entries: Vec<Entry>,
    style: Style,
) {
    let symbol = crate::render::paint(symbol, color, style.color);
    text.push_str(&format!("  {symbol} {} {} {{\n", instance.resource_type, instance.address));
    let mut out = Lines::new(style.width);
    body(&mut out, 6, mode, entries);
    out.write(text, style.color);
    text.push_str("    }\n\n");
}

#[cfg(test)]
mod corpus;
