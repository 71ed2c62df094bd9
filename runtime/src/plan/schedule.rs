//! The frame scheduler: which declaration of a module instance runs when. A
//! declaration starts once every declaration it depends on is done, independent ones
//! concurrently (at most `Engine::in_flight` at once); a failed one, or a cancelled
//! run, skips its dependents. A module call runs one child frame per instance; a
//! resource or data declaration runs one [`super::instance`] per selected instance.

use std::collections::VecDeque;
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use petgraph::graph::NodeIndex;
use rustc_hash::FxHashSet as HashSet;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::resolve::DeclKind;
use infra_compiler::schema::{ProviderSchema, Schema};
use infra_compiler::syntax::ast::{Item, ModuleCall, Resource, ResourceMode};
use infra_compiler::types::Type;

use super::engine::Engine;
use super::frame::{instances_value, Frame};
use super::{declaration_dependencies, Event, PlanContext};
use crate::address::{Address, InstanceKey, Step};
use crate::expand::{expand, Instance};
use crate::value::{Name, Value};

/// A declaration of a frame, with the declarations it depends on.
type Node = (NodeIndex, Name, Vec<NodeIndex>);

/// Something for each instance of a declaration, by instance key.
type Keyed<T> = Vec<(Option<InstanceKey>, T)>;

/// The order of one frame's declarations: plain data, told what finished. Held by node
/// index (a graph's indices run from 0), in vectors rather than hash maps: a frame of
/// 10,000 declarations looks each one up several times.
struct Schedule {
    /// Each declaration's name; `None` for a node the selection leaves out.
    names: Vec<Option<Name>>,
    /// For each declaration, how many of its dependencies are not done yet.
    waiting: Vec<usize>,
    dependents: Vec<Vec<NodeIndex>>,
    blocked_by: Vec<Vec<NodeIndex>>,
    /// Failed or skipped.
    failed: Vec<bool>,
    /// Ready declarations not yet started, in order.
    queued: VecDeque<NodeIndex>,
    all_ok: bool,
}

impl Schedule {
    fn new(nodes: Vec<Node>) -> Schedule {
        let len = nodes
            .iter()
            .flat_map(|(index, _, dependencies)| dependencies.iter().chain([index]))
            .map(|index| index.index() + 1)
            .max()
            .unwrap_or(0);
        let mut schedule = Schedule {
            names: vec![None; len],
            waiting: vec![0; len],
            dependents: vec![Vec::new(); len],
            blocked_by: vec![Vec::new(); len],
            failed: vec![false; len],
            queued: VecDeque::new(),
            all_ok: true,
        };
        for (index, name, dependencies) in nodes {
            schedule.waiting[index.index()] = dependencies.len();
            for dependency in &dependencies {
                schedule.dependents[dependency.index()].push(index);
            }
            schedule.blocked_by[index.index()] = dependencies;
            schedule.names[index.index()] = Some(name);
        }
        schedule.queued =
            (0..len).filter(|&i| schedule.names[i].is_some() && schedule.waiting[i] == 0).map(NodeIndex::new).collect();
        schedule
    }

    /// The name of declaration `index`.
    fn name(&self, index: NodeIndex) -> &str {
        self.names[index.index()].as_deref().unwrap_or_default()
    }

    /// The name of declaration `index`, shared.
    fn shared_name(&self, index: NodeIndex) -> Name {
        self.names[index.index()].clone().unwrap_or_else(|| Name::from(""))
    }

    /// `index` finished (`ok`: without an error): its dependents that are now ready are
    /// queued, or skipped when one of their dependencies failed or the run is
    /// `cancelled`. Returns the declarations skipped, in the order they are reported.
    fn finished(&mut self, index: NodeIndex, ok: bool, cancelled: impl Fn() -> bool) -> Vec<NodeIndex> {
        if !ok {
            self.all_ok = false;
            self.failed[index.index()] = true;
        }
        let mut skipped = Vec::new();
        // A declaration finishes (or is skipped) once: its list of dependents is taken.
        for dependent in std::mem::take(&mut self.dependents[index.index()]) {
            let d = dependent.index();
            // Already skipped because another of its dependencies failed.
            if self.failed[d] {
                continue;
            }
            self.waiting[d] = self.waiting[d].saturating_sub(1);
            if self.waiting[d] > 0 {
                continue;
            }
            let blocked = self.blocked_by[d].iter().any(|b| self.failed[b.index()]);
            if blocked || cancelled() {
                self.all_ok = false;
                self.failed[d] = true;
                self.skip(dependent, &mut skipped);
            } else {
                self.queued.push_back(dependent);
            }
        }
        skipped
    }

    /// Skips a declaration and, transitively, its dependents.
    fn skip(&mut self, index: NodeIndex, skipped: &mut Vec<NodeIndex>) {
        skipped.push(index);
        for dependent in std::mem::take(&mut self.dependents[index.index()]) {
            let d = dependent.index();
            self.waiting[d] = 0;
            if !std::mem::replace(&mut self.failed[d], true) {
                self.skip(dependent, skipped);
            }
        }
    }
}

impl<'c, 'a> Engine<'c, 'a> {
    /// Runs every declaration of a module instance as soon as those it depends on are
    /// done (a failed one skips its dependents), then its top-level `check`s. False when
    /// anything failed.
    pub fn run_frame(&'c self, frame: Rc<Frame<'a>>) -> LocalBoxFuture<'c, bool>
    where
        'a: 'c,
    {
        async move {
            self.walked.borrow_mut().frames.insert(frame.prefix.clone(), frame.clone());
            self.register_providers(&frame);
            if let Err(errors) = self.refactor(&frame) {
                errors.into_iter().for_each(|e| self.error(e));
                return false;
            }
            let mut schedule = Schedule::new(selected_declarations(&frame));
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < self.in_flight {
                    let Some(index) = schedule.queued.pop_front() else { break };
                    running.push(self.declaration_task(frame.clone(), index, schedule.shared_name(index)));
                }
                let Some((index, ok)) = running.next().await else { break };
                for skipped in schedule.finished(index, ok, || self.cancelled()) {
                    let address = frame.address(schedule.name(skipped), None).to_string();
                    // Once interrupted nothing more starts, whatever failed before (an
                    // operation the interruption stopped fails too).
                    self.event(Event::Skipped { address, interrupted: self.cancelled() });
                }
            }
            // The checks that depend only on what succeeded still run (a failed apply
            // still says which promises the rest breaks).
            let checked = frame.checks(&schedule.failed);
            let checked = checked.map_err(|errors| errors.into_iter().for_each(|e| self.error(e))).is_ok();
            schedule.all_ok && checked
        }
        .boxed_local()
    }

    async fn declaration_task(&'c self, frame: Rc<Frame<'a>>, index: NodeIndex, name: Name) -> (NodeIndex, bool)
    where
        'a: 'c,
    {
        let ok = match frame.module().decl(&name).map(|d| d.kind) {
            Some(DeclKind::Module) => self.module_call(&frame, &name).await,
            Some(DeclKind::Resource | DeclKind::Data) => self.declaration(&frame, &name).await,
            _ => false,
        };
        if ok {
            let completed = &mut self.walked.borrow_mut().completed;
            // The prefix is copied once per module instance, not once per declaration.
            match completed.get_mut(&frame.prefix) {
                Some(names) => {
                    names.insert(name);
                }
                None => {
                    completed.insert(frame.prefix.clone(), HashSet::from_iter([name]));
                }
            }
        }
        (index, ok)
    }

    /// Plans (and applies) a module call: each of its instances walks the called
    /// module, and the call's value becomes its instances' outputs.
    async fn module_call(&'c self, frame: &Rc<Frame<'a>>, name: &Name) -> bool
    where
        'a: 'c,
    {
        let module = frame.module();
        let Some(decl) = module.decl(name).copied() else { return false };
        let Item::Module(call) = module.item(decl.item) else { return false };
        let Some(&child_index) = module.calls.get(name.as_str()) else { return false };
        let instances = match expand(&frame.scope, call.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => return self.failed(error),
        };
        self.implied_move(frame, (name, call.name.span), call.repeat.as_ref(), &instances);
        let (children, mut values, mut ok) = self.children(frame, (call, child_index), &instances);
        let runs = children.iter().map(|(_, child)| self.run_frame(child.clone()));
        let results = futures_util::future::join_all(runs).await;
        for ((key, child), child_ok) in children.iter().zip(results) {
            ok &= child_ok;
            let value = child.outputs().map(Value::map).unwrap_or_else(|errors| {
                errors.into_iter().for_each(|e| self.error(e));
                ok = false;
                Value::unknown(Type::Any)
            });
            values.push((key.clone(), value));
        }
        values.sort_by(|a, b| a.0.cmp(&b.0));
        frame.scope.set_resource(name.clone(), instances_value(call.repeat.as_ref(), values));
        ok
    }

    /// The frames of a module call's selected instances; the values of those that
    /// have none (left out by the selection, or whose inputs failed); false when any
    /// failed.
    fn children(
        &self,
        frame: &Rc<Frame<'a>>,
        (call, child_index): (&ModuleCall, usize),
        instances: &[Instance],
    ) -> (Keyed<Rc<Frame<'a>>>, Keyed<Value>, bool) {
        let name = &call.name.name;
        let targeted = frame.selection.targets.iter().any(|t| t.steps.first().is_some_and(|s| &s.name == name));
        let (mut children, mut values, mut ok) = (Vec::new(), Vec::new(), true);
        for instance in instances {
            let step = Step { name: name.clone(), key: instance.key.clone() };
            let prefix = Address { steps: vec![step.clone()] }.within(&frame.prefix);
            let Some(selection) = frame.selection.enter(&step, !targeted) else {
                self.walked.borrow_mut().kept_frames.push(prefix);
                values.push((instance.key.clone(), Value::unknown(Type::Any)));
                continue;
            };
            match self.child_frame(frame, (call, child_index), instance, prefix, selection) {
                Ok(child) => children.push((instance.key.clone(), child)),
                Err(errors) => {
                    errors.into_iter().for_each(|e| self.error(e));
                    ok = false;
                    values.push((instance.key.clone(), Value::unknown(Type::Any)));
                }
            }
        }
        (children, values, ok)
    }

    /// Plans (and applies) one resource or data declaration; false when any of its
    /// instances failed.
    async fn declaration(&self, frame: &Rc<Frame<'a>>, name: &Name) -> bool {
        let module = frame.module();
        let Some(decl) = module.decl(name).copied() else { return false };
        let Item::Resource(resource) = module.item(decl.item) else { return false };
        let Some(schemas) = schema_of(self.context, resource) else {
            return self.failed(unknown_resource_type(resource));
        };
        let mut instances = match expand(&frame.scope, resource.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => return self.failed(error),
        };
        self.implied_move(frame, (name, resource.name.span), resource.repeat.as_ref(), &instances);
        // A declaration visited only because a target depends on it is planned whole.
        let targeted = frame.selection.targets.iter().any(|t| t.steps.first().is_some_and(|s| s.name == name.as_str()));
        let selection = &frame.selection;
        let (selected, unselected): (Vec<Instance>, Vec<Instance>) = instances
            .drain(..)
            .partition(|i| selection.includes(&Address::new(name.clone(), i.key.clone()), !targeted));
        let work = selected.iter().map(|instance| async move {
            let address = frame.address(name.clone(), instance.key.clone());
            let result = self.instance(frame, resource, schemas, instance, address).await;
            (instance.key.clone(), result)
        });
        // In order, at most `in_flight` at a time, as declarations are: an instance's task
        // holds some kilobytes until it finishes, and 10,000 of them started together
        // held 65 MB. (`join_all` polls a few futures in place; `buffered` costs a task
        // node each, measurable over 10,000 declarations of one instance.)
        let results: Vec<_> = if selected.len() <= self.in_flight {
            futures_util::future::join_all(work).await
        } else {
            futures_util::stream::iter(work).buffered(self.in_flight).collect().await
        };
        let mut ok = true;
        let mut values = Vec::with_capacity(results.len() + unselected.len());
        for (key, result) in results {
            let value = result.unwrap_or_else(|error| {
                self.error(error);
                ok = false;
                Value::unknown(Type::Any)
            });
            values.push((key, value));
        }
        self.keep_unselected(frame, name, unselected, &mut values);
        values.sort_by(|a, b| a.0.cmp(&b.0));
        frame.scope.set_resource(name.clone(), instances_value(resource.repeat.as_ref(), values));
        ok
    }

    /// Instances left out by the selection keep their state and their place, so
    /// `web[1]` still means the second instance.
    fn keep_unselected(&self, frame: &Frame<'a>, name: &Name, unselected: Vec<Instance>, values: &mut Keyed<Value>) {
        for instance in unselected {
            let address = frame.address(name.clone(), instance.key.clone());
            let stored = self.state.borrow().instances.get(&address).map(|i| Value::object(i.attributes.clone()));
            values.push((instance.key.clone(), stored.unwrap_or_else(|| Value::unknown(Type::Any))));
            self.walked.borrow_mut().kept.insert(address);
        }
    }

    /// Reports `error`; the declaration failed.
    fn failed(&self, error: Diagnostic) -> bool {
        self.error(error);
        false
    }
}

/// The declarations of a frame its selection visits, each with those it depends on.
fn selected_declarations(frame: &Frame<'_>) -> Vec<Node> {
    let mut nodes = declaration_dependencies(frame.graph);
    if let Some(selected) = frame.selection.declarations(&nodes) {
        let kept: HashSet<NodeIndex> =
            nodes.iter().filter(|(_, n, _)| selected.contains(n.as_str())).map(|(i, _, _)| *i).collect();
        nodes.retain(|(i, _, _)| kept.contains(i));
        for (_, _, deps) in &mut nodes {
            deps.retain(|d| kept.contains(d));
        }
    }
    nodes
}

/// The schemas of a resource's provider and kind.
pub(super) fn schema_of<'c>(
    context: &'c PlanContext<'_>,
    resource: &Resource,
) -> Option<(&'c ProviderSchema, &'c Schema)> {
    let provider = context.providers.iter().find(|f| f.name() == resource.ty.provider.name)?;
    let schema = provider.schema();
    let kinds = match resource.mode {
        ResourceMode::Managed => &schema.resources,
        ResourceMode::Data => &schema.data_sources,
    };
    Some((schema, kinds.get(resource.ty.kind.name.as_str())?))
}

fn unknown_resource_type(resource: &Resource) -> Diagnostic {
    Diagnostic::error(
        codes::UNKNOWN_RESOURCE_TYPE,
        format!("no provider implements `{}.{}`", resource.ty.provider.name, resource.ty.kind.name),
    )
    .with_label(resource.ty.span, "here")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Declaration `index`, named `d{index}`, after `dependencies`.
    fn node(index: usize, dependencies: &[usize]) -> Node {
        (
            NodeIndex::new(index),
            Name::from(format!("d{index}")),
            dependencies.iter().map(|&d| NodeIndex::new(d)).collect(),
        )
    }

    fn indices(nodes: impl IntoIterator<Item = NodeIndex>) -> Vec<usize> {
        nodes.into_iter().map(NodeIndex::index).collect()
    }

    fn started(schedule: &mut Schedule) -> Vec<usize> {
        indices(schedule.queued.drain(..))
    }

    #[test]
    fn a_declaration_starts_once_its_dependencies_finish_and_a_failure_skips_its_dependents() {
        // Node 5 is no declaration of the frame (another kind of node, or not selected).
        let nodes = vec![node(0, &[]), node(1, &[0]), node(2, &[]), node(3, &[1, 2]), node(4, &[3]), node(6, &[])];
        let mut schedule = Schedule::new(nodes);
        assert_eq!(started(&mut schedule), [0, 2, 6]);
        assert!(schedule.finished(NodeIndex::new(0), true, || false).is_empty());
        assert_eq!(started(&mut schedule), [1]);
        assert!(schedule.finished(NodeIndex::new(2), true, || false).is_empty());
        assert!(started(&mut schedule).is_empty(), "d3 still waits for d1");
        assert!(schedule.all_ok);
        let skipped = schedule.finished(NodeIndex::new(1), false, || false);
        assert_eq!(indices(skipped), [3, 4], "d3 and, through it, d4");
        assert!(started(&mut schedule).is_empty());
        assert!(!schedule.all_ok);
        assert!(schedule.finished(NodeIndex::new(6), true, || false).is_empty());
        assert_eq!(schedule.name(NodeIndex::new(4)), "d4");
    }

    #[test]
    fn a_cancelled_run_skips_what_becomes_ready() {
        let mut schedule = Schedule::new(vec![node(0, &[]), node(1, &[0]), node(2, &[1]), node(3, &[])]);
        assert_eq!(started(&mut schedule), [0, 3]);
        assert_eq!(indices(schedule.finished(NodeIndex::new(0), true, || true)), [1, 2]);
        assert!(started(&mut schedule).is_empty());
        assert!(!schedule.all_ok);
    }
}
