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
//! The same walk applies a configuration ([`apply`]): declarations run as soon as every
//! declaration they depend on has finished, independent ones concurrently, and each
//! instance's configuration is evaluated just before its operation, with every upstream
//! value now known. Every operation is journaled (begun, then completed or failed)
//! before anything depends on it. A failure skips the declarations that depend on the
//! failed one, while independent ones finish.
//!
//! Not yet here: module calls at run time, repeated provider configurations,
//! `moved`/`import`, `--target`, lifecycle `ignore_changes`, saved plans.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use petgraph::graph::NodeIndex;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::graph::{DependencyGraph, NodeKind};
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{ProviderSchema, Schema};
use infra_compiler::syntax::ast::{Body, BodyItem, ExprKind, Item, Repeat, Resource, ResourceMode};
use infra_compiler::types::Type;

use crate::address::{Address, InstanceKey};
use crate::convert::convert;
use crate::diff::{diff, Action, InstanceDiff};
use crate::eval::Locals;
use crate::expand::{expand, expand_within, Instance};
use crate::module::ModuleScope;
use crate::provider::{Attributes, Provider, ProviderContext, ProviderError, ProviderFactory, ReadResult};
use crate::state::{Action as JournalAction, JournalEntry, Mode, State, StateBackend, StateError, Status};
use crate::value::{Kind, Value};

/// One instance's planned change.
#[derive(Clone, Debug)]
pub struct PlannedInstance {
    pub address: Address,
    /// `local.file`.
    pub resource_type: String,
    pub mode: Mode,
    pub diff: InstanceDiff,
    /// Attributes whose values are sensitive (by schema or because the configuration
    /// made them so); a plan shows them as `(sensitive value)`.
    pub sensitive: BTreeSet<String>,
    /// The instance was changed outside of Infra since the last apply: the attributes
    /// state held, before the refresh.
    pub drifted_from: Option<Attributes>,
}

/// The whole plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Sorted by address.
    pub instances: Vec<PlannedInstance>,
    /// Output values, unknown where they depend on what apply computes.
    pub outputs: BTreeMap<String, Value>,
}

impl Plan {
    /// Instances whose action is not a no-op.
    pub fn changes(&self) -> impl Iterator<Item = &PlannedInstance> {
        self.instances.iter().filter(|i| i.diff.action != Action::NoOp)
    }
}

/// Everything planning needs.
pub struct PlanContext<'a> {
    pub scope: &'a ModuleScope<'a>,
    pub graph: &'a DependencyGraph,
    pub state: &'a State,
    pub providers: &'a [Arc<dyn ProviderFactory>],
    /// Read every prior instance through its provider first (`--refresh=false` skips).
    pub refresh: bool,
    /// Which instances to plan (`--target`, `--exclude`) and which to replace.
    pub selection: Selection,
}

/// `--target`, `--exclude` and `--replace`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Plan only these (a declaration or one instance) and what they depend on.
    pub targets: Vec<Address>,
    /// Leave these out, and everything that depends on them.
    pub excludes: Vec<Address>,
    /// Replace these instances even if nothing changed.
    pub replace: Vec<Address>,
}

impl Selection {
    /// The declarations to visit, given each one's dependencies; `None` for all.
    fn declarations(&self, nodes: &[(NodeIndex, String, Vec<NodeIndex>)]) -> Option<HashSet<String>> {
        if self.targets.is_empty() && self.excludes.is_empty() {
            return None;
        }
        let name_of = |index: &NodeIndex| nodes.iter().find(|(i, _, _)| i == index).map(|(_, n, _)| n.clone());
        let mut selected: HashSet<String> = if self.targets.is_empty() {
            nodes.iter().map(|(_, name, _)| name.clone()).collect()
        } else {
            let mut selected = HashSet::new();
            let mut stack: Vec<String> =
                self.targets.iter().filter_map(|t| t.steps.first().map(|s| s.name.clone())).collect();
            while let Some(name) = stack.pop() {
                if selected.insert(name.clone()) {
                    if let Some((_, _, deps)) = nodes.iter().find(|(_, n, _)| *n == name) {
                        stack.extend(deps.iter().filter_map(name_of));
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
            .map(|e| e.steps[0].name.clone())
            .collect();
        while let Some(name) = stack.pop() {
            if selected.remove(&name) {
                for (_, dependent, deps) in nodes {
                    if deps.iter().filter_map(name_of).any(|d| d == name) {
                        stack.push(dependent.clone());
                    }
                }
            }
        }
        Some(selected)
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
    let engine = Engine::new(context, None, context.state.clone());
    engine.run().await;
    engine.orphans().await;
    engine.outputs();
    engine.finish().map(|(plan, _)| plan)
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
    /// Set (by Ctrl-C) to stop starting new operations; those in flight finish and the
    /// state is saved.
    pub cancelled: &'a std::sync::atomic::AtomicBool,
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
    /// Not attempted because something it depends on failed.
    Skipped {
        address: String,
    },
}

/// The outcome of an apply: what was done, the state as it now is (already written),
/// and every error.
pub struct ApplyReport {
    pub plan: Plan,
    pub state: State,
    pub errors: Vec<Diagnostic>,
}

/// Applies the root module (or, with `destroy`, deletes everything in state). The state
/// is journaled as operations complete and written as a snapshot at the end, whatever
/// failed; the report says what did.
pub async fn apply(context: &PlanContext<'_>, options: &ApplyOptions<'_>) -> ApplyReport {
    let engine = Engine::new(context, Some(options), context.state.clone());
    if !options.destroy {
        engine.run().await;
    }
    engine.orphans().await;
    if !options.destroy {
        engine.outputs();
    }
    let mut state = engine.state.take();
    let mut errors = engine.errors.take();
    if options.destroy {
        state.outputs.clear();
    } else {
        // An output that depends on something that failed or was not selected is not
        // known: it keeps the value the last complete apply saved.
        for (name, value) in engine.planned_outputs.take() {
            if value.is_wholly_known() {
                state.outputs.insert(name, value);
            }
        }
    }
    // Compacting writes the snapshot (the previous one becomes the backup) and empties
    // the journal.
    if let Err(error) = options.backend.compact(&mut state) {
        errors.push(error.to_diagnostic());
    }
    ApplyReport { plan: Plan { instances: engine.instances(), outputs: state.outputs.clone() }, state, errors }
}

/// The resource and data declarations with, for each, the declarations of those kinds
/// it depends on, directly or through `let`s, inputs and other values.
fn resource_dependencies(graph: &DependencyGraph) -> Vec<(NodeIndex, String, Vec<NodeIndex>)> {
    let is_resource = |index: NodeIndex| matches!(graph.graph[index].kind, NodeKind::Resource | NodeKind::Data);
    let mut out = Vec::new();
    for index in graph.graph.node_indices().filter(|i| is_resource(*i)) {
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeIndex> = graph.graph.neighbors(index).collect();
        let mut dependencies = Vec::new();
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            if is_resource(next) {
                dependencies.push(next);
            } else {
                stack.extend(graph.graph.neighbors(next));
            }
        }
        out.push((index, graph.graph[index].name.clone(), dependencies));
    }
    out
}

struct Engine<'c, 'a> {
    context: &'c PlanContext<'a>,
    apply: Option<&'c ApplyOptions<'c>>,
    limit: tokio::sync::Semaphore,
    configured: RefCell<HashMap<String, Arc<dyn Provider>>>,
    planned: RefCell<Vec<PlannedInstance>>,
    planned_outputs: RefCell<BTreeMap<String, Value>>,
    errors: RefCell<Vec<Diagnostic>>,
    /// Apply: the state as operations complete.
    state: RefCell<State>,
    /// For each resource or data declaration, the declarations it depends on, recorded
    /// with its instances so they can be deleted in the right order later.
    dependencies: HashMap<String, Vec<Address>>,
    /// Declarations that ran without an error: only their instances that are no longer
    /// configured are orphans. A failed, skipped or unselected declaration keeps its
    /// instances in state, untouched.
    completed: RefCell<HashSet<String>>,
    /// Instances the selection left out: never orphans.
    kept: RefCell<HashSet<Address>>,
    /// Set when the journal cannot be written: no operation starts after that, since
    /// its outcome could not be recorded.
    journal_failed: std::cell::Cell<bool>,
}

impl<'c, 'a> Engine<'c, 'a> {
    fn new(context: &'c PlanContext<'a>, apply: Option<&'c ApplyOptions<'c>>, state: State) -> Engine<'c, 'a> {
        let parallelism = apply.map_or(64, |a| a.parallelism.max(1));
        Engine {
            context,
            apply,
            limit: tokio::sync::Semaphore::new(parallelism),
            configured: RefCell::new(HashMap::new()),
            planned: RefCell::new(Vec::new()),
            planned_outputs: RefCell::new(BTreeMap::new()),
            errors: RefCell::new(Vec::new()),
            state: RefCell::new(state),
            completed: RefCell::new(HashSet::new()),
            kept: RefCell::new(HashSet::new()),
            journal_failed: std::cell::Cell::new(false),
            dependencies: resource_dependencies(context.graph)
                .into_iter()
                .map(|(_, name, deps)| {
                    let addresses =
                        deps.iter().map(|d| Address::new(context.graph.graph[*d].name.clone(), None)).collect();
                    (name, addresses)
                })
                .collect(),
        }
    }

    fn module(&self) -> &Module {
        self.context.scope.module
    }

    fn error(&self, diagnostic: Diagnostic) {
        self.errors.borrow_mut().push(diagnostic);
    }

    /// The planned instances, by address: independent declarations finish in any order.
    fn instances(&self) -> Vec<PlannedInstance> {
        let mut instances = self.planned.take();
        instances.sort_by(|a, b| a.address.cmp(&b.address));
        instances
    }

    fn finish(self) -> Result<(Plan, State), Vec<Diagnostic>> {
        let errors = self.errors.take();
        if errors.is_empty() {
            let plan = Plan { instances: self.instances(), outputs: self.planned_outputs.take() };
            Ok((plan, self.state.take()))
        } else {
            Err(errors)
        }
    }

    /// Runs every declaration as soon as those it depends on are done; a failed one
    /// skips its dependents.
    async fn run(&self) {
        let mut nodes = resource_dependencies(self.context.graph);
        if let Some(selected) = self.context.selection.declarations(&nodes) {
            let kept: HashSet<NodeIndex> =
                nodes.iter().filter(|(_, n, _)| selected.contains(n)).map(|(i, _, _)| *i).collect();
            nodes.retain(|(i, _, _)| kept.contains(i));
            for (_, _, deps) in &mut nodes {
                deps.retain(|d| kept.contains(d));
            }
        }
        let mut waiting: HashMap<NodeIndex, usize> = HashMap::new();
        let mut dependents: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::new();
        let names: HashMap<NodeIndex, String> = nodes.iter().map(|(i, n, _)| (*i, n.clone())).collect();
        for (index, _, dependencies) in &nodes {
            waiting.insert(*index, dependencies.len());
            for dependency in dependencies {
                dependents.entry(*dependency).or_default().push(*index);
            }
        }
        let mut failed: HashSet<NodeIndex> = HashSet::new();
        let mut running = FuturesUnordered::new();
        let mut ready: Vec<NodeIndex> = waiting.iter().filter(|(_, n)| **n == 0).map(|(i, _)| *i).collect();
        ready.sort();
        for index in ready {
            running.push(self.declaration_task(index, names[&index].clone()));
        }
        while let Some((index, ok)) = running.next().await {
            if !ok {
                failed.insert(index);
            }
            for dependent in dependents.get(&index).cloned().unwrap_or_default() {
                // Already skipped because another of its dependencies failed.
                if failed.contains(&dependent) {
                    continue;
                }
                let Some(count) = waiting.get_mut(&dependent) else { continue };
                *count = count.saturating_sub(1);
                if *count > 0 {
                    continue;
                }
                let blocked = nodes
                    .iter()
                    .find(|(i, _, _)| *i == dependent)
                    .is_some_and(|(_, _, deps)| deps.iter().any(|d| failed.contains(d)));
                if blocked || self.cancelled() {
                    failed.insert(dependent);
                    self.skip(dependent, &names, &dependents, &mut failed, &mut waiting);
                } else {
                    running.push(self.declaration_task(dependent, names[&dependent].clone()));
                }
            }
        }
    }

    /// Reports a declaration and, transitively, its dependents as skipped.
    fn skip(
        &self,
        index: NodeIndex,
        names: &HashMap<NodeIndex, String>,
        dependents: &HashMap<NodeIndex, Vec<NodeIndex>>,
        failed: &mut HashSet<NodeIndex>,
        waiting: &mut HashMap<NodeIndex, usize>,
    ) {
        if let Some(apply) = self.apply {
            (apply.events)(Event::Skipped { address: names[&index].clone() });
        }
        for dependent in dependents.get(&index).cloned().unwrap_or_default() {
            if let Some(count) = waiting.get_mut(&dependent) {
                *count = 0;
            }
            if failed.insert(dependent) {
                self.skip(dependent, names, dependents, failed, waiting);
            }
        }
    }

    async fn declaration_task(&self, index: NodeIndex, name: String) -> (NodeIndex, bool) {
        let ok = self.declaration(&name).await;
        if ok {
            self.completed.borrow_mut().insert(name);
        }
        (index, ok)
    }

    /// Plans (and applies) one declaration; false when any of its instances failed.
    async fn declaration(&self, name: &str) -> bool {
        let Some(decl) = self.module().decl(name).copied() else { return false };
        let Item::Resource(resource) = self.module().item(decl.item) else { return false };
        let resource = resource.clone();
        let Some((provider_schema, schema)) = self.schema_of(&resource) else {
            self.error(
                Diagnostic::error(
                    codes::UNKNOWN_RESOURCE_TYPE,
                    format!("no provider implements `{}.{}`", resource.ty.provider.name, resource.ty.kind.name),
                )
                .with_label(resource.ty.span, "here"),
            );
            return false;
        };
        let provider = match self.provider(&resource, &provider_schema) {
            Ok(provider) => provider,
            Err(error) => {
                self.error(error);
                return false;
            }
        };
        let mut instances = match expand(self.context.scope, resource.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => {
                self.error(error);
                return false;
            }
        };
        // A declaration visited only because a target depends on it is planned whole.
        let targeted = self.context.selection.targets.iter().any(|t| t.steps.first().is_some_and(|s| s.name == name));
        let selection = &self.context.selection;
        let (selected, unselected): (Vec<Instance>, Vec<Instance>) =
            instances.drain(..).partition(|i| selection.includes(&Address::new(name, i.key.clone()), !targeted));
        let work = selected.iter().map(|instance| {
            let address = Address::new(name, instance.key.clone());
            let (resource, schema, provider) = (&resource, &schema, &provider);
            async move {
                let result = self.instance(resource, schema, provider, instance, address).await;
                (instance.key.clone(), result)
            }
        });
        let results: Vec<_> = futures_util::future::join_all(work).await;
        let mut ok = true;
        let mut values = Vec::with_capacity(results.len() + unselected.len());
        for (key, result) in results {
            match result {
                Ok(value) => values.push((key, value)),
                Err(error) => {
                    self.error(error);
                    ok = false;
                    values.push((key, Value::unknown(Type::Any)));
                }
            }
        }
        // Instances left out by the selection keep their state and their place, so
        // `web[1]` still means the second instance.
        for instance in unselected {
            let address = Address::new(name, instance.key.clone());
            let stored = self.state.borrow().instances.get(&address).map(|i| Value::map(i.attributes.clone()));
            values.push((instance.key.clone(), stored.unwrap_or_else(|| Value::unknown(Type::Any))));
            self.kept.borrow_mut().insert(address);
        }
        values.sort_by(|a, b| a.0.cmp(&b.0));
        self.context.scope.set_resource(name, instances_value(resource.repeat.as_ref(), values));
        ok
    }

    fn schema_of(&self, resource: &Resource) -> Option<(ProviderSchema, Schema)> {
        let provider = self.context.providers.iter().find(|f| f.name() == resource.ty.provider.name)?;
        let schema = provider.schema().clone();
        let kinds = match resource.mode {
            ResourceMode::Managed => &schema.resources,
            ResourceMode::Data => &schema.data_sources,
        };
        let kind = kinds.get(&resource.ty.kind.name)?.clone();
        Some((schema, kind))
    }

    /// The configured provider a resource uses: its `provider = NAME`, or the default
    /// configuration of its provider type.
    fn provider(&self, resource: &Resource, schema: &ProviderSchema) -> Result<Arc<dyn Provider>, Diagnostic> {
        let config_name = match resource.body.attribute("provider").map(|a| &a.value.kind) {
            Some(ExprKind::Name(name)) => name.name.clone(),
            _ => resource.ty.provider.name.clone(),
        };
        self.configure(&config_name, &schema.name, resource.ty.span)
    }

    fn configure(
        &self,
        config_name: &str,
        provider_type: &str,
        span: infra_compiler::Span,
    ) -> Result<Arc<dyn Provider>, Diagnostic> {
        if let Some(provider) = self.configured.borrow().get(config_name) {
            return Ok(provider.clone());
        }
        let module = self.module();
        let factory = self.context.providers.iter().find(|f| f.name() == provider_type).cloned();
        let factory = factory.ok_or_else(|| {
            Diagnostic::error(codes::UNKNOWN_PROVIDER, format!("no provider `{provider_type}`"))
                .with_label(span, "here")
        })?;
        let config_item = module.providers.get(config_name).map(|c| module.item(c.item));
        let config = match config_item {
            Some(Item::Provider(block)) if block.repeat.is_some() => {
                return Err(Diagnostic::error(
                    codes::UNKNOWN_PROVIDER_CONFIG,
                    "repeated provider configurations cannot be planned yet",
                )
                .with_label(block.provider.span, "repeated with `for` or `if`")
                .with_help("declare one configuration per region for now"))
            }
            Some(Item::Provider(block)) => self.evaluate_body(&block.body, &factory.schema().config, &Locals::new())?,
            _ => Attributes::new(),
        };
        let context = ProviderContext { module_dir: module.dir.clone() };
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let provider = factory.configure(&plain, &context).map_err(|e| {
            Diagnostic::error(codes::PROVIDER_FAILED, format!("provider `{config_name}`: {}", e.message))
                .with_label(span, "used here")
                .with_help(e.help.unwrap_or_else(|| "check the provider's configuration".to_string()))
        })?;
        self.configured.borrow_mut().insert(config_name.to_string(), provider.clone());
        Ok(provider)
    }

    async fn instance(
        &self,
        resource: &Resource,
        schema: &Schema,
        provider: &Arc<dyn Provider>,
        instance: &Instance,
        address: Address,
    ) -> Result<Value, Diagnostic> {
        let config = self.evaluate_body(&resource.body, schema, &instance.locals())?;
        let sensitive: BTreeSet<String> = config
            .iter()
            .filter(|(_, value)| value.contains_sensitive())
            .map(|(name, _)| name.clone())
            .chain(schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()))
            .collect();
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let kind = resource.ty.kind.name.as_str();
        let resource_type = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
        let secret = config.values().any(Value::contains_sensitive);
        let failed = |e: crate::provider::ProviderError| provider_error(resource, &address, secret, e);
        if resource.mode == ResourceMode::Data {
            // A data source that depends on something about to change would read the
            // world as it is before the change: when planning, it is read during apply.
            let upstream_changes = self.apply.is_none() && self.upstream_changes(&resource.name.name);
            let known = plain.values().all(Value::is_wholly_known) && !upstream_changes;
            let (attributes, action) = if known {
                (provider.read_data(kind, &plain).await.map_err(failed)?, Action::NoOp)
            } else {
                (deferred_read(schema, &plain), Action::Read)
            };
            let mut diff = diff(schema, None, Some(&attributes), false, false);
            diff.action = action;
            self.push(PlannedInstance {
                address,
                resource_type,
                mode: Mode::Data,
                diff,
                sensitive: sensitive.clone(),
                drifted_from: None,
            });
            return Ok(mark(attributes, &sensitive));
        }
        // An object whose update or delete began but was never confirmed still existed
        // before; refreshing tells what it is now. One whose create was never confirmed
        // may or may not exist: it is created again (providers' creates are written to
        // converge, as `local.file` overwriting its file).
        let stored = self
            .state
            .borrow()
            .instances
            .get(&address)
            .filter(|i| {
                i.status != Status::PendingCreate
                    && i.status != Status::PendingRead
                    && i.status != Status::PendingImport
            })
            .cloned();
        let mut prior = stored
            .as_ref()
            .map(|i| i.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect::<Attributes>());
        let mut drifted_from = None;
        if let (true, Some(current)) = (self.context.refresh, prior.clone()) {
            let read = {
                let _permit = self.limit.acquire().await;
                provider.read(kind, &current).await.map_err(failed)?
            };
            match read {
                ReadResult::Found(now) => {
                    if !same(&now, &current) {
                        drifted_from = Some(current);
                    }
                    prior = Some(now);
                }
                ReadResult::Gone => {
                    drifted_from = Some(current);
                    prior = None;
                }
            }
        }
        let planned = provider.plan(kind, prior.as_ref(), &plain).map_err(failed)?;
        let create_before_destroy =
            lifecycle_flag(self.context.scope, &resource.body, "create_before_destroy", &instance.locals())?;
        let forced = self.context.selection.replace.contains(&address);
        let diff = diff(schema, prior.as_ref(), Some(&planned), create_before_destroy, forced);
        let action = diff.action;
        if matches!(action, Action::Replace { .. }) {
            if let Some(span) = self.prevent_destroy(&address) {
                return Err(Diagnostic::error(
                    codes::CHECK_FAILED,
                    format!("{address} must be replaced, but `prevent_destroy` is set"),
                )
                .with_label(span, "prevent_destroy")
                .with_help("change it back, or set `prevent_destroy = false` first if it really must be replaced"));
            }
        }
        let refreshed = drifted_from.is_some() || stored.as_ref().is_some_and(|i| i.status != Status::Created);
        self.push(PlannedInstance {
            address: address.clone(),
            resource_type: resource_type.clone(),
            mode: Mode::Managed,
            diff,
            sensitive: sensitive.clone(),
            drifted_from,
        });
        if self.apply.is_none() {
            return Ok(mark(planned, &sensitive));
        }
        let dependencies = self.dependencies.get(&resource.name.name).cloned().unwrap_or_default();
        let operation = Operation {
            provider,
            kind,
            resource_type: &resource_type,
            config_name: &resource.ty.provider.name,
            dependencies: &dependencies,
        };
        let current = match action {
            Action::NoOp => {
                let current = prior.unwrap_or(planned);
                // Nothing to do, but what refresh found (or a pending status now
                // resolved) is saved.
                if refreshed {
                    self.record(&address, &operation, &current, &sensitive, JournalAction::Update)
                        .map_err(|e| e.to_diagnostic())?;
                }
                current
            }
            _ => self
                .execute(&operation, &address, action, prior.as_ref(), &planned, &sensitive)
                .await
                .map_err(failed)?,
        };
        Ok(mark(current, &sensitive))
    }

    /// Whether a declaration that `name` depends on has a planned change.
    fn upstream_changes(&self, name: &str) -> bool {
        let Some(dependencies) = self.dependencies.get(name) else { return false };
        self.planned.borrow().iter().any(|planned| {
            planned.diff.action != Action::NoOp
                && planned.diff.action != Action::Read
                && dependencies.iter().any(|d| planned.address.is_within(d))
        })
    }

    fn push(&self, instance: PlannedInstance) {
        self.planned.borrow_mut().push(instance);
    }

    /// Performs one instance's action, journaling it; returns the attributes the
    /// provider reported.
    async fn execute(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        action: Action,
        prior: Option<&Attributes>,
        planned: &Attributes,
        sensitive: &BTreeSet<String>,
    ) -> Result<Attributes, ProviderError> {
        match action {
            Action::Create => self.create(operation, address, planned, sensitive).await,
            Action::Update => {
                let prior = prior.cloned().unwrap_or_default();
                let run = || operation.provider.update(operation.kind, &prior, planned);
                self.journaled(address, JournalAction::Update, sensitive, operation, run).await
            }
            Action::Replace { create_before_destroy: true } => {
                // The old object is first recorded as deposed, under its own address, so
                // that a crash between creating the new one and deleting the old one
                // leaves it in state, to be deleted by the next apply.
                let deposed = deposed_address(address);
                // An object left deposed by an earlier run goes first: one slot each.
                let earlier = self.state.borrow().instances.get(&deposed).map(|i| i.attributes.clone());
                if let Some(earlier) = earlier {
                    let plain: Attributes = earlier.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
                    self.delete_object(operation, &deposed, &plain).await?;
                }
                if let Some(prior) = prior {
                    self.record(&deposed, operation, prior, sensitive, JournalAction::Create)
                        .map_err(|e| ProviderError::new(e.message))?;
                }
                let created = match self.create(operation, address, planned, sensitive).await {
                    Ok(created) => created,
                    Err(error) => {
                        // The old object is still the current one: drop its deposed record.
                        self.forget(&deposed);
                        return Err(error);
                    }
                };
                if let Some(prior) = prior {
                    self.delete_object(operation, &deposed, prior).await?;
                }
                Ok(created)
            }
            Action::Replace { create_before_destroy: false } => {
                if let Some(prior) = prior {
                    self.delete_object(operation, address, prior).await?;
                }
                self.create(operation, address, planned, sensitive).await
            }
            Action::Delete | Action::NoOp | Action::Read => Ok(planned.clone()),
        }
    }

    async fn create(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        planned: &Attributes,
        sensitive: &BTreeSet<String>,
    ) -> Result<Attributes, ProviderError> {
        let run = || operation.provider.create(operation.kind, planned);
        self.journaled(address, JournalAction::Create, sensitive, operation, run).await
    }

    fn event(&self, event: Event) {
        if let Some(apply) = self.apply {
            (apply.events)(event);
        }
    }

    async fn delete_object(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        prior: &Attributes,
    ) -> Result<(), ProviderError> {
        if self.cancelled() {
            return Err(Self::interrupted());
        }
        self.event(Event::Started { address: address.clone(), action: Action::Delete });
        let started = std::time::Instant::now();
        if !self.journal(JournalEntry::begin(self.serial(), address.clone(), JournalAction::Delete, None)) {
            return Err(Self::interrupted());
        }
        let result = {
            let _permit = self.limit.acquire().await;
            self.ticking(address, Action::Delete, operation.provider.delete(operation.kind, prior)).await
        };
        match result {
            Ok(()) => {
                self.journal(JournalEntry::complete(self.serial(), address.clone(), JournalAction::Delete, None));
                self.state.borrow_mut().instances.remove(address);
                let seconds = started.elapsed().as_secs_f64();
                self.event(Event::Finished { address: address.clone(), action: Action::Delete, id: None, seconds });
                Ok(())
            }
            Err(error) => {
                self.journal(JournalEntry::fail(
                    self.serial(),
                    address.clone(),
                    JournalAction::Delete,
                    FAILED_IN_JOURNAL,
                ));
                self.event(Event::Failed { address: address.clone(), action: Action::Delete });
                Err(error)
            }
        }
    }

    /// Runs a create or update between a journaled begin and complete (or fail), and
    /// records the result in state.
    async fn journaled<F, Fut>(
        &self,
        address: &Address,
        action: JournalAction,
        sensitive: &BTreeSet<String>,
        operation: &Operation<'_>,
        run: F,
    ) -> Result<Attributes, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Attributes, ProviderError>>,
    {
        let shown = if action == JournalAction::Create { Action::Create } else { Action::Update };
        if self.cancelled() {
            return Err(Self::interrupted());
        }
        self.event(Event::Started { address: address.clone(), action: shown });
        let started = std::time::Instant::now();
        // The begin entry carries the instance, so that after a crash mid-create the
        // replayed state still knows the object may exist (as pending).
        let pending = crate::state::Instance::new(Mode::Managed, operation.resource_type, operation.config_name)
            .with_dependencies(operation.dependencies.to_vec());
        if !self.journal(JournalEntry::begin(self.serial(), address.clone(), action, Some(pending))) {
            return Err(Self::interrupted());
        }
        let result = {
            let _permit = self.limit.acquire().await;
            self.ticking(address, shown, run()).await
        };
        match result {
            Ok(attributes) => {
                self.record(address, operation, &attributes, sensitive, action)
                    .map_err(|e| ProviderError::new(e.message))?;
                let id = attributes.get("id").and_then(|v| v.as_str()).map(str::to_string);
                let seconds = started.elapsed().as_secs_f64();
                self.event(Event::Finished { address: address.clone(), action: shown, id, seconds });
                Ok(attributes)
            }
            Err(error) => {
                self.journal(JournalEntry::fail(self.serial(), address.clone(), action, FAILED_IN_JOURNAL));
                self.event(Event::Failed { address: address.clone(), action: shown });
                Err(error)
            }
        }
    }

    /// Journals a completed operation and puts its object in state.
    fn record(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        attributes: &Attributes,
        sensitive: &BTreeSet<String>,
        action: JournalAction,
    ) -> Result<(), StateError> {
        let marked: Attributes =
            attributes.iter().map(|(k, v)| (k.clone(), v.clone().with_mark(sensitive.contains(k)))).collect();
        let instance = crate::state::Instance::new(Mode::Managed, operation.resource_type, operation.config_name)
            .with_attributes(marked)
            .with_dependencies(operation.dependencies.to_vec());
        let entry = JournalEntry::complete(self.serial(), address.clone(), action, Some(instance.clone()));
        if let Some(apply) = self.apply {
            if let Err(error) = apply.backend.append_journal(&entry) {
                self.journal_failed.set(true);
                return Err(error);
            }
        }
        self.state.borrow_mut().instances.insert(address.clone(), instance);
        Ok(())
    }

    /// Drops a record from state without touching the object (journaled as a
    /// completed delete of the record, which is what replay needs).
    fn forget(&self, address: &Address) {
        self.journal(JournalEntry::complete(self.serial(), address.clone(), JournalAction::Delete, None));
        self.state.borrow_mut().instances.remove(address);
    }

    fn serial(&self) -> u64 {
        self.state.borrow().serial
    }

    /// Awaits an operation, telling every ten seconds that it is still running.
    async fn ticking<T>(
        &self,
        address: &Address,
        action: Action,
        operation: impl std::future::Future<Output = T>,
    ) -> T {
        let mut operation = std::pin::pin!(operation);
        let mut seconds = 0;
        loop {
            tokio::select! {
                result = &mut operation => return result,
                () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
                    seconds += 10;
                    self.event(Event::Still { address: address.clone(), action, seconds });
                }
            }
        }
    }

    fn cancelled(&self) -> bool {
        self.journal_failed.get() || self.apply.is_some_and(|a| a.cancelled.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The error of an operation not started because the run was interrupted (or the
    /// journal could not be written).
    fn interrupted() -> ProviderError {
        ProviderError::new("not started: the run was interrupted")
            .with_help("run the command again to finish; everything completed so far is saved")
    }

    /// Appends to the journal; a journal that cannot be written is an error of the
    /// whole apply, reported once (when it ends), and stops new operations. Returns
    /// whether the entry was recorded.
    fn journal(&self, entry: JournalEntry) -> bool {
        if let Some(apply) = self.apply {
            if let Err(error) = apply.backend.append_journal(&entry) {
                if !self.journal_failed.replace(true) {
                    self.error(error.to_diagnostic());
                }
                return false;
            }
        }
        true
    }

    /// The configuration of a body as attributes: every attribute of the schema (null
    /// when not set), nested blocks as objects (lists of them when repeated).
    fn evaluate_body(&self, body: &Body, schema: &Schema, locals: &Locals) -> Result<Attributes, Diagnostic> {
        let scope = self.context.scope;
        let mut attributes: Attributes = schema.attributes.iter().map(|a| (a.name.clone(), Value::null())).collect();
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    let Some(attribute_schema) = schema.attribute(&attribute.name.name) else { continue };
                    let mut bindings = Locals::with(locals_clone(locals));
                    let value = scope.evaluator().eval(&attribute.value, &mut bindings)?;
                    let value = convert(&value, &attribute_schema.ty).map_err(|error| {
                        crate::eval::invalid_value(attribute.value.span, format!("`{}`: {error}", attribute.name.name))
                            .with_help(format!("`{}` is a `{}`", attribute.name.name, attribute_schema.ty))
                    })?;
                    attributes.insert(attribute.name.name.clone(), value);
                }
                BodyItem::Block(block) => {
                    let Some(block_schema) = schema.block(&block.name.name) else { continue };
                    let instances = expand_within(scope, block.repeat.as_ref(), locals.bindings())?;
                    let mut objects = Vec::new();
                    for instance in instances {
                        let mut inner = locals_clone(locals);
                        inner.extend(instance.bindings);
                        let inner = Locals::with(inner);
                        objects.push(Value::map(self.evaluate_body(&block.body, &block_schema.schema, &inner)?));
                    }
                    let value = if block_schema.repeated {
                        let mut all = match attributes.remove(&block.name.name).map(|v| v.kind) {
                            Some(Kind::List(items)) => items,
                            _ => Vec::new(),
                        };
                        all.extend(objects);
                        Value::list(all)
                    } else {
                        objects.pop().unwrap_or_else(Value::null)
                    };
                    attributes.insert(block.name.name.clone(), value);
                }
                BodyItem::Check(_) | BodyItem::Placeholder(_) => {}
            }
        }
        Ok(attributes)
    }

    /// Instances in state that the configuration no longer declares (every instance,
    /// for destroy) are deleted, dependents before what they depend on.
    async fn orphans(&self) {
        let destroy = self.apply.is_some_and(|a| a.destroy);
        let planned: BTreeSet<Address> = self.planned.borrow().iter().map(|i| i.address.clone()).collect();
        let mut orphans: Vec<(Address, crate::state::Instance)> = self
            .state
            .borrow()
            .instances
            .iter()
            .filter(|(address, instance)| {
                instance.mode == Mode::Managed
                    && (destroy || self.is_orphan(address, &planned))
                    && self.may_delete(address)
            })
            .map(|(a, i)| (a.clone(), i.clone()))
            .collect();
        while !orphans.is_empty() {
            // Delete first whatever no other remaining orphan depends on (dependencies
            // are recorded by declaration, which contains every instance).
            let position = orphans
                .iter()
                .position(|(address, _)| {
                    !orphans.iter().any(|(other, instance)| {
                        other != address && instance.dependencies.iter().any(|d| address.is_within(d))
                    })
                })
                .unwrap_or(0);
            let (address, instance) = orphans.remove(position);
            self.orphan(address, instance).await;
        }
    }

    /// An instance in state is an orphan when the configuration no longer declares it:
    /// its declaration is gone, or ran completely without planning this instance. The
    /// instances of a declaration that failed, was skipped or was not selected stay.
    fn is_orphan(&self, address: &Address, planned: &BTreeSet<Address>) -> bool {
        if planned.contains(address) || self.kept.borrow().contains(address) {
            return false;
        }
        let Some(step) = address.steps.first() else { return false };
        match self.module().decl(&step.name) {
            None => true,
            Some(_) => self.completed.borrow().contains(&step.name),
        }
    }

    /// With `--target` or `--exclude`, only instances of selected declarations that the
    /// selection covers are deleted.
    fn may_delete(&self, address: &Address) -> bool {
        let selection = &self.context.selection;
        if selection.targets.is_empty() && selection.excludes.is_empty() {
            return true;
        }
        let on_target = selection.targets.is_empty() || selection.targets.iter().any(|t| address.is_within(t));
        on_target && !selection.excludes.iter().any(|e| address.is_within(e))
    }

    async fn orphan(&self, address: Address, instance: crate::state::Instance) {
        let (provider_name, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
        let factory = self.context.providers.iter().find(|f| f.name() == provider_name);
        let schema = factory.and_then(|f| f.schema().resources.get(kind).cloned()).unwrap_or_default();
        let diff = diff(&schema, Some(&instance.attributes), None, false, false);
        let sensitive = schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()).collect();
        let resource_type = instance.resource_type.clone();
        self.push(PlannedInstance {
            address: address.clone(),
            resource_type: resource_type.clone(),
            mode: Mode::Managed,
            diff,
            sensitive,
            drifted_from: None,
        });
        if self.apply.is_none() {
            return;
        }
        if let Some(span) = self.prevent_destroy(&address) {
            return self.error(
                Diagnostic::error(
                    codes::CHECK_FAILED,
                    format!("{address} cannot be destroyed: `prevent_destroy` is set"),
                )
                .with_label(span, "prevent_destroy")
                .with_help("set `prevent_destroy = false` first if it really must go"),
            );
        }
        let provider = match self.configure(&instance.provider, provider_name, infra_compiler::Span::default()) {
            Ok(provider) => provider,
            Err(error) => return self.error(error),
        };
        let plain: Attributes = instance.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let operation = Operation {
            provider: &provider,
            kind,
            resource_type: &resource_type,
            config_name: &instance.provider,
            dependencies: &instance.dependencies,
        };
        if let Err(error) = self.delete_object(&operation, &address, &plain).await {
            if instance.attributes.values().any(Value::contains_sensitive) {
                return self.error(
                    Diagnostic::error(codes::PROVIDER_FAILED, format!("{address}: deleting failed; the message is hidden because the object holds a sensitive value"))
                        .with_help("the object is still in state; delete it by hand or fix the cause and apply again"),
                );
            }
            let help =
                error.help.unwrap_or_else(|| "the object is still in state; fix the cause and apply again".to_string());
            self.error(
                Diagnostic::error(codes::PROVIDER_FAILED, format!("{address}: {}", error.message)).with_help(help),
            );
        }
    }

    /// The span of `prevent_destroy = true` on the declaration of `address`, if set.
    fn prevent_destroy(&self, address: &Address) -> Option<infra_compiler::Span> {
        let name = &address.steps.first()?.name;
        let decl = self.module().decl(name)?;
        let Item::Resource(resource) = self.module().item(decl.item) else { return None };
        let lifecycle = resource.body.blocks().find(|b| b.name.name == "lifecycle")?;
        let attribute = lifecycle.body.attribute("prevent_destroy")?;
        let value = self.context.scope.eval(&attribute.value).ok()?;
        (value.as_bool() == Some(true)).then_some(attribute.span)
    }

    fn outputs(&self) {
        let module = self.context.scope.module;
        for (name, decl) in &module.decls {
            if decl.kind != DeclKind::Output {
                continue;
            }
            let Item::Output(output) = module.item(decl.item) else { continue };
            match self.context.scope.eval(&output.value) {
                Ok(value) => {
                    let sensitive = output.body.as_ref().and_then(|b| b.attribute("sensitive"));
                    let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
                    self.planned_outputs.borrow_mut().insert(name.clone(), value.with_mark(marked));
                }
                Err(error) => self.error(error),
            }
        }
    }
}

/// What the journal says of a failed operation: the provider's message may quote a
/// secret (a command's stderr can), and the journal is a file on disk.
const FAILED_IN_JOURNAL: &str = "the provider reported an error (shown when it happened)";

/// A provider operation's context.
struct Operation<'p> {
    provider: &'p Arc<dyn Provider>,
    kind: &'p str,
    resource_type: &'p str,
    /// The provider configuration that manages the object, as state records it.
    config_name: &'p str,
    /// The declarations the object depends on.
    dependencies: &'p [Address],
}

/// Where the old object of a create-before-destroy replacement is kept until it is
/// deleted: `web__deposed[0]` for `web[0]`. No declaration has that name, so if it is
/// still in state at the next apply, it is deleted as an orphan.
pub fn deposed_address(address: &Address) -> Address {
    let mut deposed = address.clone();
    if let Some(last) = deposed.steps.last_mut() {
        last.name = format!("{}__deposed", last.name);
    }
    deposed
}

/// What a data source read during apply will give: its configuration, and every
/// computed attribute unknown.
fn deferred_read(schema: &Schema, config: &Attributes) -> Attributes {
    schema
        .attributes
        .iter()
        .map(|a| {
            let value = match config.get(&a.name) {
                Some(value) if a.settable && !value.is_null() => value.clone(),
                _ if a.computed => Value::unknown(a.ty.clone()),
                _ => Value::null(),
            };
            (a.name.clone(), value)
        })
        .collect()
}

fn locals_clone(locals: &Locals) -> Vec<(String, Value)> {
    locals.bindings().to_vec()
}

fn same(a: &Attributes, b: &Attributes) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
}

/// A planned instance as dependents see it, with its sensitive attributes marked.
fn mark(attributes: Attributes, sensitive: &BTreeSet<String>) -> Value {
    Value::map(
        attributes
            .into_iter()
            .map(|(k, v)| {
                let marked = sensitive.contains(&k);
                (k, v.with_mark(marked))
            })
            .collect(),
    )
}

/// A declaration's value from its instances: the instance itself, a list (keys by
/// position), a map (keys by name), or null for an `if` that is false.
fn instances_value(repeat: Option<&Repeat>, instances: Vec<(Option<InstanceKey>, Value)>) -> Value {
    match repeat {
        None | Some(Repeat::If { .. }) => instances.into_iter().next().map_or_else(Value::null, |(_, v)| v),
        Some(Repeat::For(_)) => {
            if instances.iter().all(|(k, _)| matches!(k, Some(InstanceKey::Index(_)))) {
                Value::list(instances.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::map(
                    instances
                        .into_iter()
                        .filter_map(|(k, v)| match k {
                            Some(InstanceKey::Name(name)) => Some((name, v)),
                            _ => None,
                        })
                        .collect(),
                )
            }
        }
    }
}

fn lifecycle_flag(scope: &ModuleScope<'_>, body: &Body, name: &str, locals: &Locals) -> Result<bool, Diagnostic> {
    let Some(lifecycle) = body.blocks().find(|b| b.name.name == "lifecycle") else { return Ok(false) };
    let Some(attribute) = lifecycle.body.attribute(name) else { return Ok(false) };
    let value = scope.evaluator().eval(&attribute.value, &mut Locals::with(locals_clone(locals)))?;
    match value.as_bool() {
        Some(flag) => Ok(flag),
        None => Err(crate::eval::invalid_value(attribute.value.span, format!("`{name}` must be known when planning"))
            .with_help("use values known before apply: inputs, lets and literals")),
    }
}

/// A provider's error as a diagnostic at the attribute it is about. When the
/// configuration holds a secret, the provider's message is hidden: it may repeat it (a
/// command's stderr can).
fn provider_error(
    resource: &Resource,
    address: &Address,
    secret: bool,
    error: crate::provider::ProviderError,
) -> Diagnostic {
    let span = error
        .attribute
        .as_deref()
        .and_then(|name| resource.body.attribute(name))
        .map_or(resource.name.span, |a| a.value.span);
    if secret {
        return Diagnostic::error(
            codes::PROVIDER_FAILED,
            format!("{address}: the operation failed; its message is hidden because the configuration holds a sensitive value"),
        )
        .with_label(span, "here")
        .with_help("run the operation by hand to see the error, or remove the secret from what the provider may print");
    }
    let mut diagnostic =
        Diagnostic::error(codes::PROVIDER_FAILED, format!("{address}: {}", error.message)).with_label(span, "here");
    if let Some(help) = error.help {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}
