//! Instances in state that the configuration no longer declares (every instance, for
//! destroy): planned for deletion and, when applying, deleted concurrently, each one
//! only after every other orphan that depends on it is gone.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use futures_util::stream::{FuturesUnordered, StreamExt};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::Schema;
use infra_compiler::syntax::ast::Item;
use infra_compiler::Span;

use super::engine::Engine;
use super::execute::Operation;
use super::lifecycle::prevents_destroy;
use super::secrets::Secrets;
use super::PlannedInstance;
use crate::address::Address;
use crate::diff::{diff, Action};
use crate::expand::bindings_of_key;
use crate::module::ModuleScope;
use crate::provider::{Attributes, ReadResult};
use crate::state::{Instance, Mode, Status};
use crate::value::Name;

impl<'a> Engine<'_, 'a> {
    pub async fn orphans(&self) {
        let destroy = self.apply.is_some_and(|a| a.destroy);
        let destroyed =
            if destroy { super::destroy_selection(&self.state.borrow(), &self.context.selection) } else { None };
        let orphans: BTreeMap<Address, Instance> = {
            // The planned addresses are borrowed, not copied: a plan of 10,000 instances
            // would copy 10,000 addresses as it ends, where its memory peaks.
            let planned_list = self.planned.borrow();
            let planned: HashSet<&Address> = planned_list.iter().map(|i| &i.address).collect();
            self.state
                .borrow()
                .instances
                .iter()
                .filter(|(address, instance)| {
                    instance.mode == Mode::Managed
                        && match &destroyed {
                            Some(destroyed) => destroyed.contains(*address),
                            None => (destroy || self.is_orphan(address, &planned)) && self.may_delete(address),
                        }
                        && !self.settled.contains(*address)
                })
                .map(|(a, i)| (a.clone(), i.clone()))
                .collect()
        };
        if !destroy && self.moved_nowhere(&orphans) {
            return;
        }
        let deposed = self.deposed.borrow().clone();
        self.delete_all(orphans, &deposed).await;
    }

    /// Whether a `moved` statement moved an object to an instance the configuration
    /// does not declare (each such move an error, E0611). It would be moved, then
    /// deleted with the orphans, after the instances that replace it were created: with
    /// a `for` that keys by name where the old one counted, the object a new instance
    /// took over (the same file, the same name) would go with it. It is a mistake in the
    /// statement, not a wish to delete, which leaving the `moved` out expresses.
    fn moved_nowhere(&self, orphans: &BTreeMap<Address, Instance>) -> bool {
        let moved = self.moved.borrow();
        let errors: Vec<Diagnostic> = orphans
            .keys()
            .filter_map(|new| {
                let (old, span) = moved.get(new)?;
                let mut declaration = new.clone();
                if let Some(last) = declaration.steps.last_mut() {
                    last.key = None;
                }
                let error = Diagnostic::error(
                    codes::INVALID_MOVE,
                    format!("`{old}` would be moved to `{new}`, which the configuration does not declare"),
                )
                .with_label(*span, "not an instance of the configuration")
                .with_help(format!(
                    "move each instance to one the configuration declares, one statement each \
                     (`moved {old} -> {declaration}[\"KEY\"]`), or remove the statement to destroy `{old}` and \
                     create the new instances afresh"
                ));
                Some(error)
            })
            .collect();
        let found = !errors.is_empty();
        errors.into_iter().for_each(|error| self.error(error));
        found
    }

    /// Deletes the objects at `addresses` (those in state), each after every one of them
    /// that depends on it. The ones in `replaced` are the destroy half of a replacement:
    /// their creation is planned, and shown, by the walk that follows.
    pub async fn delete_in_order(&self, addresses: &BTreeSet<Address>, replaced: &HashSet<Address>) {
        let objects: BTreeMap<Address, Instance> = {
            let state = self.state.borrow();
            addresses.iter().filter_map(|a| Some((a.clone(), state.instances.get(a)?.clone()))).collect()
        };
        self.delete_all(objects, replaced).await;
    }

    async fn delete_all(&self, orphans: BTreeMap<Address, Instance>, replaced: &HashSet<Address>) {
        // A protected instance refuses the whole deletion before anything is deleted, as
        // a plan that would delete it fails (the first half of a replacement was refused
        // when it was planned).
        let refused = self.prevented(orphans.keys().filter(|address| !replaced.contains(*address)));
        if !refused.is_empty() {
            refused.into_iter().for_each(|error| self.error(error));
            return;
        }
        let entries: Vec<(&Address, &Instance)> = orphans.iter().collect();
        let count = entries.len();
        let DeletionOrder { mut waiting, unblocks } = DeletionOrder::of(&orphans);
        let mut running = FuturesUnordered::new();
        // Ready orphans not yet started, in order (see `Engine::in_flight`).
        let mut queued: VecDeque<usize> = (0..count).filter(|&i| waiting[i] == 0).collect();
        let mut started = vec![false; count];
        let mut failed = false;
        loop {
            while running.len() < self.in_flight {
                let Some(i) = queued.pop_front() else { break };
                let (address, instance) = entries[i];
                let shown = !replaced.contains(address);
                started[i] = true;
                running.push(self.orphan(i, address.clone(), instance.clone(), shown));
            }
            let Some((i, ok)) = running.next().await else { break };
            if !ok {
                // What it depends on stays: deleting it would break it.
                failed = true;
                continue;
            }
            let mut done = vec![i];
            while let Some(node) = done.pop() {
                for &target in &unblocks[node] {
                    waiting[target] -= 1;
                    if waiting[target] > 0 {
                        continue;
                    }
                    if target < count {
                        queued.push_back(target);
                    } else {
                        done.push(target);
                    }
                }
            }
        }
        // With no failure to wait behind, what never started waits on itself: the
        // state's dependencies form a cycle (a state edited by hand, or pushed).
        let stuck: Vec<String> = (0..count).filter(|&i| !started[i]).map(|i| entries[i].0.to_string()).collect();
        if !failed && !stuck.is_empty() {
            self.error(
                Diagnostic::error(
                    crate::codes::STATE_DEPENDENCY_CYCLE,
                    format!("the state's dependencies form a cycle; not deleted: {}", stuck.join(", ")),
                )
                .with_help(
                    "the state was edited by hand: fix the `dependencies` of these instances (`infra state pull`, \
                     edit, `infra state push`), or `infra state rm` them and delete their objects yourself",
                ),
            );
        }
    }

    /// An instance in state is an orphan when the configuration no longer declares it:
    /// its declaration (or a module call on its way) is gone, or ran completely without
    /// planning this instance. The instances of a declaration that failed, was skipped
    /// or was not selected stay.
    fn is_orphan(&self, address: &Address, planned: &HashSet<&Address>) -> bool {
        let walked = self.walked.borrow();
        if planned.contains(address) || walked.kept.contains(address) {
            return false;
        }
        if walked.kept_frames.iter().any(|frame| address.is_within(frame)) {
            return false;
        }
        let mut prefix = Address { steps: Vec::new() };
        let mut module: &Module = &self.context.modules[0];
        for (i, step) in address.steps.iter().enumerate() {
            let Some(decl) = module.decl(&step.name) else { return true };
            let completed = walked.completed.get(&prefix).is_some_and(|names| names.contains(step.name.as_str()));
            if i + 1 == address.steps.len() {
                return completed;
            }
            if decl.kind != DeclKind::Module {
                return completed;
            }
            let child = Address { steps: vec![step.clone()] }.within(&prefix);
            let Some(frame) = walked.frames.get(&child) else { return completed };
            module = frame.module();
            prefix = child;
        }
        false
    }

    /// With `--target` or `--exclude`, only instances the selection covers are deleted.
    fn may_delete(&self, address: &Address) -> bool {
        let selection = &self.context.selection;
        if selection.targets.is_empty() && selection.excludes.is_empty() {
            return true;
        }
        // The old object of a replacement is selected with the instance it was.
        let address = &super::undeposed(address);
        let on_target = selection.targets.is_empty() || selection.targets.iter().any(|t| address.is_within(t));
        on_target && !selection.excludes.iter().any(|e| address.is_within(e))
    }

    /// Plans (and deletes) one orphan; false when it was not deleted. `shown`: the
    /// deletion is an action of its own in the plan (not the first half of a
    /// replacement).
    async fn orphan(&self, index: usize, address: Address, instance: Instance, shown: bool) -> (usize, bool) {
        let (provider_name, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
        let factory = self.context.providers.iter().find(|f| f.name() == provider_name);
        let schema = factory.and_then(|f| f.schema().resources.get(kind).cloned()).unwrap_or_default();
        let shown_as = |action: Option<Action>| {
            let mut diff = diff(&schema, Some(&instance.attributes), None, false, false);
            if let Some(action) = action {
                diff.action = action;
            }
            let sensitive = super::steps::sensitive_attributes(&schema, &instance.attributes);
            self.push_deletion(&address, &instance.resource_type, diff, sensitive);
        };
        // The configuration that made the object deletes it: it must still exist.
        if let Err(error) = self.record_key(&instance.provider, provider_name) {
            if shown {
                shown_as(None);
            }
            self.error(error.with_note(format!("{address} was made by it and is to be destroyed")));
            return (index, false);
        }
        // A create that began and was never confirmed, whose object is not there: only
        // the record goes, and the plan says so instead of promising a deletion.
        let never_made = instance.status == Status::PendingCreate
            && !self.pending_create_exists(&instance, (provider_name, kind)).await;
        if shown {
            shown_as(never_made.then_some(Action::Forget));
        }
        if self.apply.is_none() {
            return (index, true);
        }
        if never_made {
            self.forget(&address).await;
            return (index, true);
        }
        let deleted = self.delete_orphan(&address, &instance, (provider_name, kind), &schema).await;
        (index, deleted)
    }

    /// Whether the object of a create that began and was never confirmed (Infra stopped
    /// while the provider worked) may exist: the provider reads it from the attributes
    /// the create was asked for. A record with nothing to read by (written before
    /// creates were journaled with their attributes), or that the provider cannot read,
    /// is taken as never created: the create had not reached the provider. A provider
    /// that cannot be configured is left to the deletion to report.
    async fn pending_create_exists(&self, instance: &Instance, (provider_name, kind): (&str, &str)) -> bool {
        if instance.attributes.is_empty() {
            return false;
        }
        let Ok(provider) = self.provider_for_record(&instance.provider, provider_name) else { return true };
        let plain: Attributes = instance.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        matches!(provider.read(kind, &plain).await, Ok(ReadResult::Found(_)))
    }

    /// Deletes an orphan's object through the configuration that made it; false when
    /// it was not deleted (the error reported).
    async fn delete_orphan(
        &self,
        address: &Address,
        instance: &Instance,
        (provider_name, kind): (&str, &str),
        schema: &Schema,
    ) -> bool {
        let provider = match self.provider_for_record(&instance.provider, provider_name) {
            Ok(provider) => provider,
            Err(error) => {
                self.error(error);
                return false;
            }
        };
        let plain: Attributes = instance.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let secrets = Secrets::stored(&instance.attributes, schema);
        let operation = Operation {
            provider: &provider,
            kind,
            resource_type: &instance.resource_type,
            config_name: &instance.provider,
            dependencies: &instance.dependencies,
            triggers: None,
            schema,
            secrets: &secrets,
        };
        // The old object of a `create_before_destroy` replacement, with the new one in
        // state at the instance's address.
        let instance_address = super::undeposed(address);
        let replacement: Option<Attributes> = (instance_address != *address)
            .then(|| {
                let state = self.state.borrow();
                let new = state.instances.get(&instance_address)?;
                Some(new.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect())
            })
            .flatten();
        let deleting = self.delete_deposed(&operation, address, &plain, replacement.as_ref());
        let Err(error) = deleting.await else { return true };
        self.error(not_deleted(address, &secrets, error));
        false
    }

    fn push_deletion(
        &self,
        address: &Address,
        resource_type: &Name,
        diff: crate::diff::InstanceDiff,
        sensitive: BTreeSet<String>,
    ) {
        self.push(PlannedInstance {
            address: address.clone(),
            resource_type: resource_type.clone(),
            mode: Mode::Managed,
            diff,
            sensitive,
            drifted_from: None,
            record_anyway: false,
            moved_from: None,
            imported: None,
        });
    }

    /// E0607 for each of `addresses` whose `prevent_destroy` holds.
    pub(super) fn prevented<'x>(&self, addresses: impl Iterator<Item = &'x Address>) -> Vec<Diagnostic> {
        addresses.filter_map(|address| Some(prevented(address, self.orphan_prevents_destroy(address)?))).collect()
    }

    /// The span of `prevent_destroy` on the declaration of `address` when it is set (or
    /// cannot be evaluated). The declaration is looked up through the module calls on
    /// the way; in a module instance that was walked its inputs are known, elsewhere
    /// the setting is evaluated without them. The instance's own variables are what its
    /// key tells ([`bindings_of_key`]).
    fn orphan_prevents_destroy(&self, address: &Address) -> Option<Span> {
        let (last, calls) = address.steps.split_last()?;
        let mut prefix = Address { steps: Vec::new() };
        let mut module: &Module = &self.context.modules[0];
        let mut walked = true;
        for step in calls {
            let index = *module.calls.get(step.name.as_str())?;
            prefix = Address { steps: vec![step.clone()] }.within(&prefix);
            module = &self.context.modules[index];
            walked &= self.walked.borrow().frames.contains_key(&prefix);
        }
        let decl = module.decl(&last.name)?;
        let Item::Resource(resource) = module.item(decl.item) else { return None };
        let check = |scope: &ModuleScope<'_>, strict: bool| {
            let bindings = bindings_of_key(scope, resource.repeat.as_ref(), last.key.as_ref());
            prevents_destroy(scope, &resource.body, strict, bindings)
        };
        if walked {
            if let Some(frame) = self.walked.borrow().frames.get(&prefix).cloned() {
                return check(&frame.scope, false);
            }
            if prefix.steps.is_empty() {
                return check(self.context.scope, false);
            }
        }
        let root = self.context.scope;
        let scope = ModuleScope::new(module, BTreeMap::new(), root.functions, root.schemas, root.env);
        check(&scope, true)
    }
}

/// The order of deletions: an orphan waits for every orphan that depends on it
/// (dependencies are recorded by declaration, which contains each of its instances;
/// the orphans inside one are a contiguous range of the sorted map). Each declaration
/// depended on is a barrier node after the orphans: it waits for its dependents and its
/// instances wait for it, so a declaration of thousands of instances that thousands
/// depend on costs edges in proportion to both, not their product.
struct DeletionOrder {
    /// For each node (the orphans by position, then the barriers), how many nodes it
    /// still waits for.
    waiting: Vec<usize>,
    /// For each node, the nodes that wait for it.
    unblocks: Vec<Vec<usize>>,
}

impl DeletionOrder {
    fn of(orphans: &BTreeMap<Address, Instance>) -> DeletionOrder {
        let index: HashMap<&Address, usize> = orphans.keys().enumerate().map(|(i, a)| (a, i)).collect();
        let count = orphans.len();
        let mut order = DeletionOrder { waiting: vec![0; count], unblocks: vec![Vec::new(); count] };
        let mut barriers: HashMap<&Address, usize> = HashMap::default();
        for (dependent, (dependent_address, instance)) in orphans.iter().enumerate() {
            let dependencies: BTreeSet<&Address> = instance.dependencies.iter().collect();
            let mut seen = BTreeSet::new();
            for dependency in dependencies {
                let members = || {
                    orphans
                        .range(dependency.clone()..)
                        .take_while(|(a, _)| a.is_within(dependency))
                        .map(|(address, _)| index[address])
                };
                if dependent_address.is_within(dependency) {
                    // Within what it depends on: waited for by the others directly.
                    for target in members().filter(|&t| t != dependent && seen.insert(t)) {
                        order.waiting[target] += 1;
                        order.unblocks[dependent].push(target);
                    }
                    continue;
                }
                let barrier = match barriers.get(dependency) {
                    Some(&barrier) => barrier,
                    None => {
                        let Some(barrier) = order.barrier(members().collect()) else { continue };
                        barriers.insert(dependency, barrier);
                        barrier
                    }
                };
                order.waiting[barrier] += 1;
                order.unblocks[dependent].push(barrier);
            }
        }
        order
    }

    /// A new barrier node that `targets` wait for; `None` when there are none.
    fn barrier(&mut self, targets: Vec<usize>) -> Option<usize> {
        if targets.is_empty() {
            return None;
        }
        let barrier = self.waiting.len();
        for &target in &targets {
            self.waiting[target] += 1;
        }
        self.waiting.push(0);
        self.unblocks.push(targets);
        Some(barrier)
    }
}

fn prevented(address: &Address, span: Span) -> Diagnostic {
    let diagnostic =
        Diagnostic::error(codes::CHECK_FAILED, format!("{address} cannot be destroyed: `prevent_destroy` is set"))
            .with_help("set `prevent_destroy = false` first if it really must go");
    if span == Span::default() {
        return diagnostic;
    }
    diagnostic.with_label(span, "prevent_destroy")
}

/// A failed deletion, with the object's sensitive values taken out of the provider's
/// message (or the message hidden, see [`Secrets`]).
fn not_deleted(address: &Address, secrets: &Secrets, error: crate::provider::ProviderError) -> Diagnostic {
    let Some(error) = secrets.scrub_error(error) else {
        return Diagnostic::error(
            codes::PROVIDER_FAILED,
            format!("{address}: deleting failed; the message is hidden because the object holds a sensitive value"),
        )
        .with_help("the object is still in state; delete it by hand or fix the cause and apply again");
    };
    let help = error.help.unwrap_or_else(|| "the object is still in state; fix the cause and apply again".to_string());
    Diagnostic::error(codes::PROVIDER_FAILED, format!("{address}: {}", error.message)).with_help(help)
}
