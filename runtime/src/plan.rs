//! Planning the root module: what apply would do to every resource instance.
//!
//! Declarations are visited in dependency order (the checker's graph). Each resource is
//! expanded into instances; each instance's body is evaluated with every upstream value
//! planned so far, its provider plans the new attributes, and [`diff`] decides the
//! action against the prior attributes from state (refreshed through the provider first,
//! so changes made outside of Infra show as drift). The planned instances then stand for
//! the resource when later declarations refer to it. Instances in state that the
//! configuration no longer has are planned for deletion. Data sources whose
//! configuration is known are read during the plan.
//!
//! Apply ([`apply`]) executes a plan: the approved one it is given, or, without one, the
//! plan it makes first. What the plan deletes (and replaces by destroying first) is
//! deleted first; then the walk runs again, each instance's configuration evaluated
//! just before its operation with every upstream value now known, and its change held
//! to the approved one (a bigger change is E0612). Declarations run as soon as every
//! declaration they depend on has finished, independent ones concurrently. Every
//! operation is journaled (begun, then completed or failed) before anything depends on
//! it. A failure skips the declarations that depend on the failed one, while
//! independent ones finish.
//!
//! Module calls run as nested walks: a call waits for what its inputs depend on, then
//! each of its instances plans the called module's declarations under its own address
//! prefix (`env["prod"].web[0]`), and the call's value is its instances' outputs.
//! Provider configurations are configured per module instance, may be repeated, passed
//! to modules, and may depend on resources (an unknown configuration plans its
//! instances with unknown values). `moved`, `import` and `forget` statements rewrite the
//! state a module instance starts from; `check`s, preconditions and postconditions are
//! evaluated whenever their values are known.
//!
//! Sub-modules: [`engine`] holds what a run holds (state, planned instances, errors,
//! the frames walked); [`schedule`] decides which declaration of a module instance runs
//! when (concurrency, cancellation, skip-on-failure); [`frame`] makes module instances
//! (a call's inputs, outputs, `check`s); [`instance`] runs one resource instance
//! through [`steps`] (evaluate, prior, lifecycle, provider plan and diff, hold to the
//! approved plan, conditions) and performs it; [`providers`] configures provider
//! configurations; [`execute`] performs and journals operations, [`commit`] batches
//! the journal's writes; [`orphans`] deletes what the configuration no longer has;
//! [`lifecycle`] reads `lifecycle` blocks and conditions; [`refactor`] applies `moved`,
//! `import` and `forget`; [`selection`] checks what `--target`, `--exclude` and
//! `--replace` matched once the walk has expanded every declaration, and which outputs a
//! selection leaves as they were.

mod commit;
mod engine;
mod execute;
mod frame;
mod instance;
mod lifecycle;
mod orphans;
mod providers;
mod refactor;
mod schedule;
mod secrets;
mod selection;
mod steps;

pub(crate) use secrets::seen as seen_secret;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::graph::DependencyGraph;
use infra_compiler::resolve::Module;

use crate::address::{Address, Step};
use crate::diff::{Action, InstanceDiff};
use crate::module::ModuleScope;
use crate::provider::{Attributes, ProviderFactory};
use crate::state::{Mode, State, StateBackend};
use crate::value::{Name, Value};

use engine::Engine;

/// One instance's planned change.
#[derive(Clone, Debug)]
pub struct PlannedInstance {
    pub address: Address,
    /// `local.file`.
    pub resource_type: Name,
    pub mode: Mode,
    pub diff: InstanceDiff,
    /// Attributes whose values are sensitive (by schema or because the configuration
    /// made them so); a plan shows them as `(sensitive value)`.
    pub sensitive: BTreeSet<String>,
    /// The instance was changed outside of Infra since the last apply: the attributes
    /// state held, before the refresh.
    pub drifted_from: Option<Attributes>,
    /// Applying records the object even when nothing else changes: the provider upgraded
    /// it to its current form (a plugin's newer schema version), or the refresh found
    /// changes only to attributes others change (`changed_by_others`), which need no
    /// note but belong in the state.
    pub record_anyway: bool,
    /// State held the object at this address before a `moved` statement.
    pub moved_from: Option<Address>,
    /// The object is imported (`import ... from ID`) before any change.
    pub imported: Option<String>,
}

impl PlannedInstance {
    /// Whether applying the plan does anything to this instance or its record.
    pub fn is_change(&self) -> bool {
        self.diff.action != Action::NoOp || self.moved_from.is_some() || self.imported.is_some()
    }

    /// The object's attributes before the change, as the plan saw them (refreshed);
    /// `None` when it did not exist.
    pub fn prior(&self) -> Option<Attributes> {
        if matches!(self.diff.action, Action::Create | Action::Read) {
            return None;
        }
        if let Some(kept) = self.diff.kept() {
            return Some(kept.clone());
        }
        let prior: Attributes =
            self.diff.attributes().filter_map(|c| Some((c.name.clone(), c.before.clone()?))).collect();
        Some(prior)
    }

    /// The attributes after the change, as planned (unknown where apply computes them).
    pub fn planned(&self) -> Attributes {
        if let Some(kept) = self.diff.kept() {
            return kept.clone();
        }
        self.diff.attributes().filter_map(|c| Some((c.name.clone(), c.after.clone()?))).collect()
    }
}

/// The whole plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Sorted by address.
    pub instances: Vec<PlannedInstance>,
    /// Output values, unknown where they depend on what apply computes.
    pub outputs: BTreeMap<String, Value>,
    /// Reads that failed with a transient error and were tried again, with the error:
    /// the plan says so.
    pub retries: Vec<(Address, String)>,
    /// What providers warned of while planning (or applying), on the attributes their
    /// warnings name (W0610).
    pub warnings: Vec<Diagnostic>,
    /// The outputs the state holds from the last apply: a plan whose outputs differ
    /// changes something even when no instance changes.
    pub prior_outputs: BTreeMap<String, Value>,
}

impl Plan {
    /// Instances whose action is not a no-op.
    pub fn changes(&self) -> impl Iterator<Item = &PlannedInstance> {
        self.instances.iter().filter(|i| i.is_change())
    }

    /// The outputs whose values differ from those the state holds: name, before (none:
    /// added) and after (none: removed). An output not wholly known may change.
    pub fn output_changes(&self) -> Vec<(&str, Option<&Value>, Option<&Value>)> {
        let names: std::collections::BTreeSet<&String> = self.outputs.keys().chain(self.prior_outputs.keys()).collect();
        names
            .into_iter()
            .filter_map(|name| {
                let (before, after) = (self.prior_outputs.get(name), self.outputs.get(name));
                let same = match (before, after) {
                    (Some(b), Some(a)) => a.is_wholly_known() && b.equals(a) && b.sensitive == a.sensitive,
                    _ => false,
                };
                (!same).then_some((name.as_str(), before, after))
            })
            .collect()
    }

    /// The planned instance at `address`.
    pub fn instance(&self, address: &Address) -> Option<&PlannedInstance> {
        let index = self.instances.binary_search_by(|i| i.address.cmp(address)).ok()?;
        self.instances.get(index)
    }
}

/// Everything planning needs.
pub struct PlanContext<'a> {
    /// The root module's scope, with its inputs resolved.
    pub scope: &'a ModuleScope<'a>,
    /// Every module, the root first, as the compiler loaded them.
    pub modules: &'a [Module],
    /// Each module's dependency graph, in the order of `modules`.
    pub graphs: &'a [DependencyGraph],
    pub state: &'a State,
    pub providers: &'a [Arc<dyn ProviderFactory>],
    /// Read every prior instance through its provider first (`--refresh=false` skips).
    pub refresh: bool,
    /// Which instances to plan (`--target`, `--exclude`) and which to replace.
    pub selection: Selection,
    /// Imports besides the configuration's `import` statements (`infra import`).
    pub imports: Vec<(Address, String)>,
    /// The process ends once the caller has reported the result: the engine's working
    /// memory (scopes, values, its copy of the state) is then left to the operating
    /// system rather than freed one allocation at a time, which costs about a tenth of
    /// a large plan. Long-lived callers leave this false.
    pub exiting: bool,
}

/// `--target`, `--exclude` and `--replace`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Plan only these (a declaration or one instance) and what they depend on.
    pub targets: Vec<Address>,
    /// Leave these out, and everything that depends on them.
    pub excludes: Vec<Address>,
    /// Replace these instances even if nothing changed (each one managed instance).
    pub replace: Vec<Address>,
}

impl Selection {
    /// The declarations to visit, given each one's dependencies; `None` for all.
    fn declarations(&self, nodes: &[(NodeIndex, Name, Vec<NodeIndex>)]) -> Option<HashSet<String>> {
        if self.targets.is_empty() && self.excludes.is_empty() {
            return None;
        }
        // Indexed once: names by node, dependencies by name, dependents by name.
        let names: HashMap<NodeIndex, &str> = nodes.iter().map(|(i, n, _)| (*i, n.as_str())).collect();
        let dependencies: HashMap<&str, &[NodeIndex]> =
            nodes.iter().map(|(_, n, deps)| (n.as_str(), deps.as_slice())).collect();
        let mut dependents: HashMap<&str, Vec<&str>> = HashMap::default();
        for (_, dependent, deps) in nodes {
            for name in deps.iter().filter_map(|d| names.get(d)) {
                dependents.entry(name).or_default().push(dependent);
            }
        }
        let mut selected: HashSet<String> = if self.targets.is_empty() {
            nodes.iter().map(|(_, name, _)| name.to_string()).collect()
        } else {
            let mut selected = HashSet::default();
            let mut stack: Vec<String> =
                self.targets.iter().filter_map(|t| t.steps.first().map(|s| s.name.to_string())).collect();
            while let Some(name) = stack.pop() {
                if selected.insert(name.clone()) {
                    if let Some(deps) = dependencies.get(name.as_str()) {
                        stack.extend(deps.iter().filter_map(|d| names.get(d)).map(|n| n.to_string()));
                    }
                }
            }
            selected
        };
        // An excluded declaration takes its dependents with it (they would read it).
        let mut stack: Vec<String> = self
            .excludes
            .iter()
            .filter(|e| e.steps.len() == 1 && e.steps[0].key.is_none())
            .map(|e| e.steps[0].name.to_string())
            .collect();
        while let Some(name) = stack.pop() {
            if selected.remove(&name) {
                for dependent in dependents.get(name.as_str()).into_iter().flatten() {
                    stack.push(dependent.to_string());
                }
            }
        }
        Some(selected)
    }

    /// The selection inside the module instance `step` of a call this selection
    /// visits; `None` when the instance is left out. `whole`: the call is visited only
    /// because a target depends on it, so all of it is planned.
    fn enter(&self, step: &Step, whole: bool) -> Option<Selection> {
        let matches = |address: &Address| {
            address.steps.first().is_some_and(|s| s.name == step.name && (s.key.is_none() || s.key == step.key))
        };
        let rest = |address: &Address| Address { steps: address.steps[1..].to_vec() };
        let mut excludes = Vec::new();
        for exclude in self.excludes.iter().filter(|e| matches(e)) {
            if exclude.steps.len() == 1 {
                return None;
            }
            excludes.push(rest(exclude));
        }
        let targets = if whole || self.targets.is_empty() {
            Vec::new()
        } else {
            let inside: Vec<&Address> = self.targets.iter().filter(|t| matches(t)).collect();
            if inside.is_empty() {
                return None;
            }
            if inside.iter().any(|t| t.steps.len() == 1) {
                Vec::new()
            } else {
                inside.into_iter().map(rest).collect()
            }
        };
        Some(Selection { targets, excludes, replace: self.replace.clone() })
    }

    /// Whether one instance of a visited declaration is planned.
    fn includes(&self, address: &Address, dependency_only: bool) -> bool {
        let targeted = dependency_only
            || self.targets.is_empty()
            || self.targets.iter().any(|t| {
                address.is_within(t)
                    || (t.steps.len() == 1 && t.steps[0].key.is_none() && address.steps[0].name == t.steps[0].name)
            });
        targeted && !self.excludes.iter().any(|e| address.is_within(e))
    }
}

/// Plans the root module. Returns every error found, not only the first.
pub async fn plan(context: &PlanContext<'_>) -> Result<Plan, Vec<Diagnostic>> {
    let engine = Engine::new(context, None, Cow::Borrowed(context.state));
    let outputs = engine.run_root().await;
    engine.orphans().await;
    engine.check_selection_matched();
    let mut plan = engine.finish(outputs)?;
    plan.prior_outputs = context.state.outputs.clone();
    Ok(plan)
}

/// What apply needs besides what planning does.
pub struct ApplyOptions<'a> {
    /// Where every operation is journaled before anything depends on it; the caller
    /// holds its lock.
    pub backend: &'a dyn StateBackend,
    /// At most this many provider operations at once.
    pub parallelism: usize,
    /// Told about each operation as it starts and ends, for progress output.
    pub events: &'a (dyn Fn(Event) + Sync),
    /// Destroy everything in state instead of applying the configuration.
    pub destroy: bool,
    /// Set (by Ctrl-C) to stop starting new operations and tell the providers to stop;
    /// the operations in flight end (a provider may end them early) and the state is
    /// saved.
    pub cancelled: &'a crate::provider::Interrupt,
    /// Only import (`infra import`): every other change is planned but not made.
    pub import_only: bool,
    /// Only record what refresh found (`infra refresh`): objects changed outside of
    /// Infra get their new attributes in state, gone ones leave it; nothing is created,
    /// changed or deleted; the outputs are saved as the objects it recorded give them.
    pub refresh_only: bool,
    /// The plan that was shown and approved (or saved and applied). Apply executes it:
    /// objects it deletes or replaces (destroy first) are deleted before anything else,
    /// dependents first; data sources it read are not read again; refresh is not done
    /// again; an instance whose change turns out bigger than approved is an error
    /// (E0612). Without one, apply plans first and executes that plan.
    pub approved: Option<&'a Plan>,
}

/// Progress of an apply, one event per operation start and end.
#[derive(Clone, Debug)]
pub enum Event {
    Started {
        address: Address,
        action: Action,
    },
    /// Still running after this many seconds (every ten).
    Still {
        address: Address,
        action: Action,
        seconds: u64,
    },
    Finished {
        address: Address,
        action: Action,
        id: Option<String>,
        seconds: f64,
    },
    Failed {
        address: Address,
        action: Action,
    },
    /// Not attempted because something it depends on failed, or (`interrupted`) because
    /// the run was interrupted first.
    Skipped {
        address: String,
        interrupted: bool,
    },
    /// Failed with a transient error (`message`); tried once more after `RETRY_DELAY`.
    Retrying {
        address: Address,
        action: Action,
        message: String,
    },
}

/// How long the engine waits before its one retry of an operation that failed with a
/// transient error (see [`crate::provider::ProviderError::retryable`]).
pub const RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// The outcome of an apply: what was done, the state as it now is (already written),
/// and every error.
pub struct ApplyReport {
    pub plan: Plan,
    pub state: State,
    pub errors: Vec<Diagnostic>,
}

/// Applies the root module (or, with `destroy`, deletes everything in state): executes
/// the approved plan, or, without one, plans first and executes that plan. The state is
/// journaled as operations complete and written as a snapshot at the end, whatever
/// failed; the report says what did.
pub async fn apply(context: &PlanContext<'_>, options: &ApplyOptions<'_>) -> ApplyReport {
    if options.destroy {
        return destroy(context, options).await;
    }
    match options.approved {
        Some(approved) => execute(context, options, Some(approved)).await,
        // An import only takes over and records its objects: it plans nothing, so
        // no provider is asked to plan a change it will not make.
        None if options.import_only => execute(context, options, None).await,
        None => match plan(context).await {
            Ok(planned) => execute(context, options, Some(&planned)).await,
            Err(errors) => refused(context, options, errors),
        },
    }
}

/// Executes an approved plan: what it deletes first (see [`destroy_first`]), then a
/// walk that evaluates each instance again with the values now known and performs its
/// change, held to the approved one (E0612); then what the configuration no longer has.
/// An import executes no plan (`approved` is `None`): its walk only records objects.
async fn execute(context: &PlanContext<'_>, options: &ApplyOptions<'_>, approved: Option<&Plan>) -> ApplyReport {
    let record_only = options.import_only || options.refresh_only;
    let mut first = match approved {
        Some(approved) if !record_only => destroy_first(context, options, approved).await,
        _ => DestroyedFirst::default(),
    };
    let state = first.state.take().map_or(Cow::Borrowed(context.state), Cow::Owned);
    let mut engine = Engine::new(context, Some(options), state);
    engine.approved = approved;
    engine.settled = std::mem::take(&mut first.attempted);
    let run = async {
        let outputs = engine.run_root().await;
        if !record_only {
            engine.orphans().await;
        }
        outputs
    };
    let outputs = drive(&engine, run).await;
    let mut state = engine.state.take().into_owned();
    if !options.import_only {
        // An output that depends on something that failed or was not selected is not
        // known: it keeps the value the last complete apply saved. One the root module
        // no longer declares goes. A refresh saves them too, as Terraform's
        // `-refresh-only` does: they are what the objects it recorded give.
        let declared = &context.modules[0].outputs;
        state.outputs.retain(|name, _| declared.contains_key(name.as_str()));
        state.outputs.extend(outputs.into_iter().filter(|(_, value)| value.is_wholly_known()));
    }
    let mut errors = std::mem::take(&mut first.errors);
    errors.extend(engine.errors.take());
    report(engine, state, errors, first.instances, options.backend)
}

/// Deletes everything in state (or what the selection picks, see
/// [`destroy_selection`]), each object by the configuration that made it.
async fn destroy(context: &PlanContext<'_>, options: &ApplyOptions<'_>) -> ApplyReport {
    let engine = Engine::new(context, Some(options), Cow::Borrowed(context.state));
    let run = async {
        engine.prepare_destroy();
        engine.orphans().await;
    };
    drive(&engine, run).await;
    let mut state = engine.state.take().into_owned();
    // A destroy of selected objects keeps the outputs: the rest is still there.
    if context.selection.targets.is_empty() && context.selection.excludes.is_empty() {
        state.outputs.clear();
    }
    let errors = engine.errors.take();
    report(engine, state, errors, Vec::new(), options.backend)
}

/// The report of an apply whose engine is done: the state is compacted (which writes
/// the snapshot, the previous one becoming the backup, and empties the journal).
fn report(
    engine: Engine<'_, '_>,
    mut state: State,
    mut errors: Vec<Diagnostic>,
    mut instances: Vec<PlannedInstance>,
    backend: &dyn StateBackend,
) -> ApplyReport {
    if let Err(error) = backend.compact(&mut state) {
        errors.push(error.to_diagnostic());
    }
    instances.extend(engine.instances());
    instances.sort_by(|a, b| a.address.cmp(&b.address));
    let retries = engine.retries.take();
    let warnings = engine.warnings.take();
    let plan = Plan { instances, outputs: state.outputs.clone(), retries, warnings, prior_outputs: BTreeMap::new() };
    let report = ApplyReport { plan, state, errors };
    engine.release();
    report
}

/// The report of an apply whose plan failed: nothing was done; the state is written as
/// every apply writes it.
fn refused(context: &PlanContext<'_>, options: &ApplyOptions<'_>, mut errors: Vec<Diagnostic>) -> ApplyReport {
    let mut state = context.state.clone();
    if let Err(error) = options.backend.compact(&mut state) {
        errors.push(error.to_diagnostic());
    }
    let plan = Plan { outputs: state.outputs.clone(), ..Plan::default() };
    ApplyReport { plan, state, errors }
}

/// Runs `work` on `engine`, writing deferred journal entries each time it waits (see
/// `commit`), and the rest at the end.
///
/// A pause because the engine spent tokio's budget for one poll (about 128 slots
/// taken or handed on: many operations ending at once) is not a wait: the engine is
/// polled again at once, and writing there cost a sync per 128 operations that end
/// together (`wide` at 1,000 took 14 syncs instead of 7).
async fn drive<T>(engine: &Engine<'_, '_>, work: impl std::future::Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let result = std::future::poll_fn(|cx| {
        let poll = std::future::Future::poll(work.as_mut(), cx);
        if poll.is_pending() && tokio::task::coop::has_budget_remaining() {
            engine.flush_journal(true);
        }
        poll
    })
    .await;
    engine.flush_journal(false);
    result
}

/// What the first phase of an apply did.
#[derive(Default)]
struct DestroyedFirst {
    /// The state after it; `None` when there was nothing to delete first.
    state: Option<State>,
    /// Every object it tried to delete: the rest of the apply leaves them alone.
    attempted: HashSet<Address>,
    /// The deletions of objects the configuration no longer has.
    instances: Vec<PlannedInstance>,
    errors: Vec<Diagnostic>,
}

/// The first phase of an apply: every object the approved plan deletes, and every one
/// it replaces by destroying first, is deleted before anything is created or changed,
/// each only after everything that depends on it (Terraform's destroy edges): a subnet
/// goes after the instances in it, a DNS zone after its records. Deletion uses a
/// configuration of its own (a fresh scope, provider configurations from state), as
/// `destroy` does, so the walk that follows starts from a clean scope.
async fn destroy_first(context: &PlanContext<'_>, options: &ApplyOptions<'_>, approved: &Plan) -> DestroyedFirst {
    let replaced: HashSet<Address> = approved
        .instances
        .iter()
        .filter(|i| i.mode == Mode::Managed && i.diff.action == Action::Replace { create_before_destroy: false })
        .map(|i| i.address.clone())
        .collect();
    let first: BTreeSet<Address> = approved
        .instances
        .iter()
        .filter(|i| i.mode == Mode::Managed && i.diff.action == Action::Delete)
        .map(|i| i.address.clone())
        .chain(replaced.iter().cloned())
        .filter(|address| context.state.instances.contains_key(address))
        .collect();
    if first.is_empty() {
        return DestroyedFirst::default();
    }
    let root = context.scope;
    let scope = ModuleScope::new(root.module, root.inputs.clone(), root.functions, root.schemas, root.env);
    let destroying = PlanContext {
        scope: &scope,
        modules: context.modules,
        graphs: context.graphs,
        state: context.state,
        providers: context.providers,
        refresh: false,
        selection: Selection::default(),
        imports: Vec::new(),
        exiting: false,
    };
    let engine = Engine::new(&destroying, Some(options), Cow::Borrowed(context.state));
    engine.prepare_destroy();
    drive(&engine, engine.delete_in_order(&first, &replaced)).await;
    let state = engine.state.take().into_owned();
    let errors = engine.errors.take();
    let instances = engine.instances();
    engine.release();
    DestroyedFirst { state: Some(state), attempted: first.into_iter().collect(), instances, errors }
}

/// The resource, data and module declarations of a graph with, for each, the
/// declarations of those kinds it depends on, directly or through `let`s, inputs,
/// provider configurations and other values.
fn declaration_dependencies(graph: &DependencyGraph) -> Vec<(NodeIndex, Name, Vec<NodeIndex>)> {
    use infra_compiler::graph::NodeKind;
    let is_declaration =
        |index: NodeIndex| matches!(graph.graph[index].kind, NodeKind::Resource | NodeKind::Data | NodeKind::Module);
    let mut out = Vec::new();
    let mut seen = HashSet::default();
    for index in graph.graph.node_indices().filter(|i| is_declaration(*i)) {
        seen.clear();
        let dependencies = reached(graph, index, &mut seen);
        out.push((index, graph.graph[index].name.clone(), dependencies));
    }
    out
}

/// The resource, data and module declarations `index` (any node) depends on, directly
/// or through nodes of other kinds.
fn reached_declarations(graph: &DependencyGraph, index: NodeIndex) -> Vec<NodeIndex> {
    reached(graph, index, &mut HashSet::default())
}

fn reached(graph: &DependencyGraph, index: NodeIndex, seen: &mut HashSet<NodeIndex>) -> Vec<NodeIndex> {
    use infra_compiler::graph::NodeKind;
    let is_declaration =
        |index: NodeIndex| matches!(graph.graph[index].kind, NodeKind::Resource | NodeKind::Data | NodeKind::Module);
    let mut stack: Vec<NodeIndex> = graph.graph.neighbors(index).collect();
    let mut dependencies = Vec::new();
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        if is_declaration(next) {
            dependencies.push(next);
        } else {
            stack.extend(graph.graph.neighbors(next));
        }
    }
    dependencies
}

/// Where the old object of a create-before-destroy replacement is kept until it is
/// deleted: `web__deposed[0]` for `web[0]`. No declaration has that name, so if it is
/// still in state at the next apply, it is deleted as an orphan.
pub fn deposed_address(address: &Address) -> Address {
    let mut deposed = address.clone();
    if let Some(last) = deposed.steps.last_mut() {
        last.name = Name::from(format!("{}__deposed", last.name));
    }
    deposed
}

/// The instance whose old object `address` holds, when it is a deposed one
/// (`web__deposed[0]` is `web[0]`'s); otherwise `address` itself.
pub fn undeposed(address: &Address) -> Address {
    let mut instance = address.clone();
    if let Some(last) = instance.steps.last_mut() {
        if let Some(name) = last.name.strip_suffix("__deposed") {
            last.name = Name::from(name);
        }
    }
    instance
}

/// What `destroy` deletes with `--target` and `--exclude`: the managed instances within
/// a target and, transitively, every instance that depends on one (it would be left
/// pointing at nothing); less the instances within an exclusion and, transitively,
/// everything they depend on (deleting it would break them). `None`: everything.
pub fn destroy_selection(state: &State, selection: &Selection) -> Option<HashSet<Address>> {
    if selection.targets.is_empty() && selection.excludes.is_empty() {
        return None;
    }
    // Each managed object with the instance it stands for (a deposed object, its
    // instance's).
    let managed: Vec<(&Address, &crate::state::Instance, Address)> = state
        .instances
        .iter()
        .filter(|(_, i)| i.mode == Mode::Managed)
        .map(|(address, instance)| (address, instance, undeposed(address)))
        .collect();
    let within = |i: usize, addresses: &[Address]| addresses.iter().any(|a| managed[i].2.is_within(a));
    let depends = |dependent: usize, dependency: usize| {
        managed[dependent].1.dependencies.iter().any(|d| managed[dependency].2.is_within(d))
    };
    let count = managed.len();
    let targeted = (0..count).filter(|&i| selection.targets.is_empty() || within(i, &selection.targets));
    let excluded = (0..count).filter(|&i| within(i, &selection.excludes));
    // The targets and what depends on them, less the exclusions and what they depend on.
    let selected = reach(count, targeted.collect(), |from, to| depends(to, from));
    let kept = reach(count, excluded.collect(), depends);
    let chosen = (0..count).filter(|&i| selected[i] && !kept[i]);
    Some(chosen.map(|i| managed[i].0.clone()).collect())
}

/// What destroy will delete, as a plan to show before it runs: every managed instance
/// in state, or those `--target` and `--exclude` select (see [`destroy_selection`]). An
/// instance address of the selection that names no instance in state is E0726; an
/// instance whose `prevent_destroy` holds refuses the whole destroy (E0607), before
/// anything is shown or deleted.
pub fn destroy_plan(context: &PlanContext<'_>) -> Result<Plan, Vec<Diagnostic>> {
    let unmatched = selection::unmatched(&context.selection, &selection::Existing::of_state(context.state));
    if !unmatched.is_empty() {
        return Err(unmatched);
    }
    let plan = deletions(context.state, context.providers, &context.selection);
    let engine = Engine::new(context, None, Cow::Borrowed(context.state));
    engine.prepare_destroy();
    let refused = engine.prevented(plan.instances.iter().map(|instance| &instance.address));
    engine.release();
    if refused.is_empty() {
        Ok(plan)
    } else {
        Err(refused)
    }
}

/// Every managed instance in state, or those the selection picks, as deletions.
fn deletions(state: &State, providers: &[Arc<dyn ProviderFactory>], selection: &Selection) -> Plan {
    let selected = destroy_selection(state, selection);
    let instances = state
        .instances
        .iter()
        .filter(|(address, i)| i.mode == Mode::Managed && selected.as_ref().is_none_or(|s| s.contains(*address)))
        .map(|(address, instance)| {
            let (provider, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
            let schema =
                providers.iter().find(|f| f.name() == provider).and_then(|f| f.schema().resources.get(kind).cloned());
            let schema = schema.unwrap_or_default();
            let sensitive = steps::sensitive_attributes(&schema, &instance.attributes);
            PlannedInstance {
                address: address.clone(),
                resource_type: instance.resource_type.clone(),
                mode: Mode::Managed,
                diff: crate::diff::diff(&schema, Some(&instance.attributes), None, false, false),
                sensitive,
                drifted_from: None,
                record_anyway: false,
                moved_from: None,
                imported: None,
            }
        })
        .collect();
    Plan { instances, ..Plan::default() }
}

/// Which of `count` nodes are reachable from `start` (included) along `edge(from, to)`.
fn reach(count: usize, start: Vec<usize>, edge: impl Fn(usize, usize) -> bool) -> Vec<bool> {
    let mut seen = vec![false; count];
    for &i in &start {
        seen[i] = true;
    }
    let mut stack = start;
    while let Some(from) = stack.pop() {
        for (to, seen) in seen.iter_mut().enumerate() {
            if !*seen && edge(from, to) {
                *seen = true;
                stack.push(to);
            }
        }
    }
    seen
}
