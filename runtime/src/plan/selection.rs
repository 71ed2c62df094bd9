//! What `--target`, `--exclude` and `--replace` come to once the walk has expanded every
//! declaration into its instances. An instance address that names no instance is an
//! error (E0726), and so is a `--replace` of anything but one managed instance, rather
//! than a run that quietly plans nothing. And an output that reads a declaration the
//! selection does not plan keeps the value the state holds: its new value is not known
//! (Terraform keeps such outputs the same way), and an apply of the selection leaves it.
//!
//! Which declarations an address names is checked before the walk
//! (`session::selection`); which keys exist is known only here.

use std::collections::{BTreeMap, BTreeSet};

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::graph::{DependencyGraph, NodeKind};

use super::engine::Engine;
use super::{declaration_dependencies, reached_declarations, Selection};
use crate::address::{Address, Step};
use crate::state::{Mode, State};
use crate::value::Value;

/// How many instances a hint lists before it says how many more there are.
const LISTED: usize = 8;

/// The instances and module instances a walk (or, for a destroy, the state) knows of.
#[derive(Default)]
pub(super) struct Existing {
    /// Resource and data instances, each with its mode when it is known.
    pub instances: BTreeMap<Address, Option<Mode>>,
    pub module_instances: BTreeSet<Address>,
}

impl Existing {
    /// What the state holds: its instances (a deposed object as the instance it was)
    /// and the module instances they are in.
    pub fn of_state(state: &State) -> Existing {
        let mut existing = Existing::default();
        for (address, instance) in &state.instances {
            existing.instances.insert(super::undeposed(address), Some(instance.mode));
        }
        existing
    }

    /// Whether anything is `address` or inside it.
    fn holds(&self, address: &Address) -> bool {
        self.instances.keys().chain(&self.module_instances).any(|a| a.is_within(address))
    }

    /// What exists where `address` points, each cut to `address`'s length: `app_conf[0]`
    /// and `app_conf[1]` for `app_conf[9]`, `env["a"]` for `env["x"]`.
    fn near(&self, address: &Address) -> Vec<String> {
        let unkeyed =
            Address { steps: address.steps.iter().map(|s| Step { name: s.name.clone(), key: None }).collect() };
        let keyed_last = address.steps.last().is_some_and(|s| s.key.is_some());
        let near: BTreeSet<Address> = self
            .instances
            .keys()
            .chain(&self.module_instances)
            .filter(|a| a.is_within(&unkeyed))
            .map(|a| {
                let mut cut = Address { steps: a.steps[..address.steps.len()].to_vec() };
                if !keyed_last {
                    if let Some(last) = cut.steps.last_mut() {
                        last.key = None;
                    }
                }
                cut
            })
            .collect();
        near.iter().map(ToString::to_string).collect()
    }

    /// The managed instances inside `address`.
    fn managed_within(&self, address: &Address) -> Vec<String> {
        self.instances
            .iter()
            .filter(|(a, mode)| a.is_within(address) && **mode != Some(Mode::Data))
            .map(|(a, _)| a.to_string())
            .collect()
    }
}

/// An error for every address of `selection` with an instance key that names no
/// instance, and for every `--replace` that is not one managed instance.
pub(super) fn unmatched(selection: &Selection, existing: &Existing) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (flag, addresses) in [("--target", &selection.targets), ("--exclude", &selection.excludes)] {
        for address in addresses.iter().filter(|a| a.steps.iter().any(|s| s.key.is_some())) {
            if !existing.holds(address) {
                diagnostics.push(no_instance(flag, address, existing));
            }
        }
    }
    for address in &selection.replace {
        match existing.instances.get(address) {
            Some(Some(Mode::Data)) => diagnostics.push(data_source(address)),
            Some(_) => {}
            None => diagnostics.push(not_one_instance(address, existing)),
        }
    }
    diagnostics
}

fn no_instance(flag: &str, address: &Address, existing: &Existing) -> Diagnostic {
    Diagnostic::error(
        crate::codes::SELECTION_UNMATCHED,
        format!("`{flag} {address}` matches nothing: there is no instance `{address}`"),
    )
    .with_help(what_exists(address, &existing.near(address)))
}

/// `--replace` of a declaration (or module instance) of several instances, or of an
/// instance that does not exist.
fn not_one_instance(address: &Address, existing: &Existing) -> Diagnostic {
    let within = existing.managed_within(address);
    if within.is_empty() {
        return no_instance("--replace", address, existing);
    }
    let count = within.len();
    let options: Vec<String> = within.iter().take(LISTED).map(|a| format!("`--replace '{a}'`")).collect();
    let more = if count > LISTED { format!(" and {} more", count - LISTED) } else { String::new() };
    let plural = if count == 1 { "" } else { "s" };
    Diagnostic::error(
        crate::codes::SELECTION_UNMATCHED,
        format!("`--replace {address}` must name one instance, and `{address}` has {count} instance{plural}"),
    )
    .with_help(format!("give each instance to replace: {}{more}", options.join(", ")))
}

fn data_source(address: &Address) -> Diagnostic {
    Diagnostic::error(
        crate::codes::SELECTION_UNMATCHED,
        format!("`--replace {address}` names a data source, which is read, not replaced"),
    )
    .with_help("name an instance of a `resource`; a data source is read again at every plan")
}

/// The hint of an address that names nothing: what there is where it points.
fn what_exists(address: &Address, near: &[String]) -> String {
    let declaration =
        Address { steps: address.steps.iter().map(|s| Step { name: s.name.clone(), key: None }).collect() };
    if near.is_empty() {
        return format!("`{declaration}` has no instances now; `infra state list` shows what the state holds");
    }
    let listed: Vec<String> = near.iter().take(LISTED).map(|a| format!("`{a}`")).collect();
    let more = if near.len() > LISTED { format!(" and {} more", near.len() - LISTED) } else { String::new() };
    format!("`{declaration}` has these instances: {}{more}", listed.join(", "))
}

impl Engine<'_, '_> {
    /// Reports the addresses of the selection that name no instance of those the walk
    /// found (see [`unmatched`]); nothing when the walk failed, since a failed
    /// declaration's instances are not known.
    pub(super) fn check_selection_matched(&self) {
        let selection = &self.context.selection;
        let keyed =
            selection.targets.iter().chain(&selection.excludes).any(|a| a.steps.iter().any(|s| s.key.is_some()));
        let nothing_to_check = !keyed && selection.replace.is_empty();
        if nothing_to_check || !self.errors.borrow().is_empty() {
            return;
        }
        let mut existing = Existing::of_state(self.context.state);
        for instance in self.planned.borrow().iter() {
            existing.instances.insert(instance.address.clone(), Some(instance.mode));
        }
        let walked = self.walked.borrow();
        for address in &walked.kept {
            existing.instances.entry(address.clone()).or_insert(None);
        }
        existing.module_instances.extend(walked.frames.keys().cloned());
        existing.module_instances.extend(walked.kept_frames.iter().cloned());
        drop(walked);
        for diagnostic in unmatched(selection, &existing) {
            self.error(diagnostic);
        }
    }

    /// With `--target` or `--exclude`, the root outputs that read a declaration the
    /// selection does not plan whole take the value the state holds (or none), as an
    /// apply of the selection leaves them.
    pub(super) fn keep_unselected_outputs(&self, outputs: &mut BTreeMap<String, Value>) {
        let graph = &self.context.graphs[0];
        for name in outputs_not_planned(graph, &self.context.selection) {
            match self.context.state.outputs.get(&name) {
                Some(stored) => outputs.insert(name, stored.clone()),
                None => outputs.remove(&name),
            };
        }
    }
}

/// The root outputs that read, directly or through `let`s, a declaration the selection
/// leaves out, or a module call it plans only in part (the other instances' outputs are
/// not known). A resource planned in part is fine: its other instances keep their values
/// from the state.
fn outputs_not_planned(graph: &DependencyGraph, selection: &Selection) -> Vec<String> {
    let Some(selected) = selection.declarations(&declaration_dependencies(graph)) else { return Vec::new() };
    let in_part = |name: &str| {
        selection.targets.iter().chain(&selection.excludes).any(|a| {
            a.steps.first().is_some_and(|s| s.name.as_str() == name) && (a.steps.len() > 1 || a.steps[0].key.is_some())
        })
    };
    let whole = |index| {
        let node = graph.node(index);
        selected.contains(node.name.as_str()) && !(node.kind == NodeKind::Module && in_part(node.name.as_str()))
    };
    graph
        .graph
        .node_indices()
        .filter(|&index| graph.node(index).kind == NodeKind::Output)
        .filter(|&index| !reached_declarations(graph, index).into_iter().all(whole))
        .map(|index| graph.node(index).name.to_string())
        .collect()
}
