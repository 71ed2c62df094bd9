//! The walk: module instances (frames), their declarations in dependency order, and
//! each resource instance planned (and, when applying, made so).

use std::borrow::Cow;
use std::cell::{RefCell, RefMut};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use petgraph::graph::NodeIndex;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use infra_compiler::check::lower_type;
use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::graph::DependencyGraph;
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{ProviderSchema, Schema};
use infra_compiler::syntax::ast::{
    Body, BodyItem, Expr, ExprKind, Item, ModuleCall, ObjectKey, Repeat, Resource, ResourceMode,
};
use infra_compiler::types::Type;
use infra_compiler::Span;

use super::execute::Operation;
use super::lifecycle::{self, Conditions};
use super::{declaration_dependencies, ApplyOptions, Event, Plan, PlanContext, PlannedInstance, Selection};
use crate::address::{Address, InstanceKey, Step};
use crate::compare;
use crate::convert::convert;
use crate::diff::{diff, Action, ReplaceCause};
use crate::eval::Locals;
use crate::expand::{expand, expand_within, Instance};
use crate::module::ModuleScope;
use crate::provider::{Attributes, Provider, ProviderContext, ReadResult};
use crate::state::{Action as JournalAction, Mode, State, Status};
use crate::value::{Kind, Value};

/// A module's scope: the root's is the caller's, a module instance's is made here.
pub(super) enum ScopeRef<'a> {
    Root(&'a ModuleScope<'a>),
    Child(Box<ModuleScope<'a>>),
}

impl<'a> std::ops::Deref for ScopeRef<'a> {
    type Target = ModuleScope<'a>;

    fn deref(&self) -> &ModuleScope<'a> {
        match self {
            ScopeRef::Root(scope) => scope,
            ScopeRef::Child(scope) => scope,
        }
    }
}

/// Names one configured provider: the module instance whose configuration it is, the
/// configuration's name, and its key when the configuration is repeated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ProviderKey {
    pub frame: Address,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl ProviderKey {
    /// How state records it: `aws`, `aws.west`, `aws.regional["eu"]`, prefixed by the
    /// module instance for configurations declared in one.
    pub fn record(&self, provider_type: &str) -> String {
        let mut text = String::new();
        if !self.frame.steps.is_empty() {
            text.push_str(&format!("{}.", self.frame));
        }
        text.push_str(provider_type);
        if self.name != provider_type {
            text.push_str(&format!(".{}", self.name));
        }
        if let Some(key) = &self.key {
            text.push_str(&key.to_string());
        }
        text
    }
}

/// A configured provider, or one whose configuration is not known before apply.
#[derive(Clone)]
pub(super) enum Configured {
    Ready(Arc<dyn Provider>),
    Unknown,
}

/// One module instance being planned: the root, or `env["prod"]`.
pub(super) struct Frame<'a> {
    /// Empty for the root.
    pub prefix: Address,
    pub scope: ScopeRef<'a>,
    pub graph: &'a DependencyGraph,
    /// Provider configurations the caller passed (`providers = { aws = west }`).
    pub passed: HashMap<String, ProviderKey>,
    pub parent: Option<Rc<Frame<'a>>>,
    pub selection: Selection,
    /// For each declaration, what it depends on (full addresses), including what the
    /// module call depends on in the callers.
    pub dependencies: HashMap<String, Vec<Address>>,
}

impl<'a> Frame<'a> {
    pub fn module(&self) -> &'a Module {
        self.scope.module
    }

    /// The full address of a declaration's instance in this module instance.
    pub fn address(&self, name: &str, key: Option<InstanceKey>) -> Address {
        Address::new(name, key).within(&self.prefix)
    }
}

pub(super) struct Engine<'c, 'a> {
    pub context: &'c PlanContext<'a>,
    pub apply: Option<&'c ApplyOptions<'c>>,
    pub limit: tokio::sync::Semaphore,
    /// At most this many declarations of one module instance (or orphans) in progress at
    /// once: one in progress holds its evaluated body and planned values (about 10 kB),
    /// and ten thousand independent ones started together held 100 MB. Enough to keep
    /// every operation slot busy and the journal's batches large (each sync serves the
    /// operations that are running together).
    pub in_flight: usize,
    configured: RefCell<HashMap<ProviderKey, Configured>>,
    pub planned: RefCell<Vec<PlannedInstance>>,
    pub planned_outputs: RefCell<BTreeMap<String, Value>>,
    pub errors: RefCell<Vec<Diagnostic>>,
    /// The state as operations complete (when planning: as moves and forgets leave it).
    /// It borrows the caller's state until the first change (see [`Engine::state_mut`]),
    /// so a plan that changes nothing never copies it.
    pub state: RefCell<Cow<'a, State>>,
    /// Declarations that ran without an error, by module instance and name: only their
    /// instances that are no longer configured are orphans. A failed, skipped or
    /// unselected declaration keeps its instances in state, untouched.
    pub completed: RefCell<HashSet<(Address, String)>>,
    /// Module instances that were walked.
    pub frames: RefCell<HashMap<Address, Rc<Frame<'a>>>>,
    /// Instances and module instances the selection left out: never orphans.
    pub kept: RefCell<HashSet<Address>>,
    /// Objects the first phase of the apply deleted, or tried to (see
    /// `plan::destroy_first`): never deleted again as orphans.
    pub settled: RefCell<HashSet<Address>>,
    /// Old objects of create-before-destroy replacements made in this run: deleted last,
    /// with the orphans, as the second half of their replacement (not a deletion of
    /// their own).
    pub deposed: RefCell<HashSet<Address>>,
    /// Operations tried again after a transient error, with the error.
    pub retries: RefCell<Vec<(Address, String)>>,
    pub kept_frames: RefCell<Vec<Address>>,
    /// `import` statements waiting for their instance: the id and the statement's span.
    pub imports: RefCell<HashMap<Address, (String, Span)>>,
    /// Instances moved by `moved` statements, new address to old.
    pub moved: RefCell<HashMap<Address, Address>>,
    /// Every provider configuration of the walked module instances, by how state
    /// records it, to delete orphans with the configuration that made them.
    records: RefCell<HashMap<String, ProviderKey>>,
    /// Set when the journal cannot be written: no operation starts after that, since
    /// its outcome could not be recorded.
    pub journal_failed: std::cell::Cell<bool>,
    /// Journal entries of operations running at the same time, written together.
    pub journal_queue: super::commit::GroupCommit,
}

impl<'c, 'a> Engine<'c, 'a> {
    pub fn new(
        context: &'c PlanContext<'a>,
        apply: Option<&'c ApplyOptions<'c>>,
        state: Cow<'a, State>,
    ) -> Engine<'c, 'a> {
        let parallelism = apply.map_or(64, |a| a.parallelism.max(1));
        Engine {
            context,
            apply,
            limit: tokio::sync::Semaphore::new(parallelism),
            in_flight: parallelism.saturating_mul(4).max(1024),
            configured: RefCell::new(HashMap::default()),
            planned: RefCell::new(Vec::new()),
            planned_outputs: RefCell::new(BTreeMap::new()),
            errors: RefCell::new(Vec::new()),
            state: RefCell::new(state),
            completed: RefCell::new(HashSet::default()),
            frames: RefCell::new(HashMap::default()),
            kept: RefCell::new(HashSet::default()),
            settled: RefCell::new(HashSet::default()),
            deposed: RefCell::new(HashSet::default()),
            retries: RefCell::new(Vec::new()),
            kept_frames: RefCell::new(Vec::new()),
            imports: RefCell::new(HashMap::default()),
            moved: RefCell::new(HashMap::default()),
            records: RefCell::new(HashMap::default()),
            journal_failed: std::cell::Cell::new(false),
            journal_queue: super::commit::GroupCommit::default(),
        }
    }

    pub fn error(&self, diagnostic: Diagnostic) {
        self.errors.borrow_mut().push(diagnostic);
    }

    /// The planned instances, by address: independent declarations finish in any order.
    pub fn instances(&self) -> Vec<PlannedInstance> {
        let mut instances = self.planned.take();
        instances.sort_by(|a, b| a.address.cmp(&b.address));
        instances
    }

    /// The plan; the state is dropped with the engine (planning keeps no state).
    pub fn finish(self) -> Result<Plan, Vec<Diagnostic>> {
        let errors = self.errors.take();
        let result = if errors.is_empty() {
            let retries = self.retries.take();
            let plan = Plan { instances: self.instances(), outputs: self.planned_outputs.take(), retries };
            Ok(plan)
        } else {
            Err(errors)
        };
        self.release();
        result
    }

    /// Drops the engine, or, when the process is about to end (`PlanContext::exiting`),
    /// leaves its memory to the operating system.
    pub fn release(self) {
        if self.context.exiting {
            std::mem::forget(self);
        }
    }

    /// The state, for changing it: copied from the caller's on the first change.
    pub fn state_mut(&self) -> RefMut<'_, State> {
        RefMut::map(self.state.borrow_mut(), Cow::to_mut)
    }

    pub fn push(&self, instance: PlannedInstance) {
        self.planned.borrow_mut().push(instance);
    }

    pub fn event(&self, event: Event) {
        if let Some(apply) = self.apply {
            (apply.events)(event);
        }
    }

    pub fn cancelled(&self) -> bool {
        self.journal_failed.get() || self.apply.is_some_and(|a| a.cancelled.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Walks the root module: its declarations, its module calls, then its outputs and
    /// checks.
    pub async fn run_root(&self) {
        let frame = self.root_frame();
        for (address, id) in &self.context.imports {
            self.imports.borrow_mut().insert(address.clone(), (id.clone(), Span::default()));
        }
        self.run_frame(frame.clone()).await;
        match self.outputs(&frame) {
            Ok(outputs) => *self.planned_outputs.borrow_mut() = outputs,
            Err(errors) => errors.into_iter().for_each(|e| self.error(e)),
        }
        self.unused_imports();
    }

    /// Before destroying: the module instances whose repetition can be evaluated from
    /// state, with their provider configurations, so each object is deleted by the
    /// configuration that made it.
    pub fn prepare_destroy(&self) {
        self.context.scope.load_state(&self.state.borrow());
        let mut pending = vec![self.root_frame()];
        while let Some(frame) = pending.pop() {
            self.frames.borrow_mut().insert(frame.prefix.clone(), frame.clone());
            self.register_providers(&frame);
            let module = frame.module();
            for (name, &child_index) in &module.calls {
                let Some(decl) = module.decl(name) else { continue };
                let Item::Module(call) = module.item(decl.item) else { continue };
                let Ok(instances) = expand(&frame.scope, call.repeat.as_ref()) else { continue };
                for instance in &instances {
                    let step = Step { name: name.clone(), key: instance.key.clone() };
                    let prefix = Address { steps: vec![step] }.within(&frame.prefix);
                    let selection = Selection::default();
                    if let Ok(child) = self.child_frame(&frame, call, child_index, instance, prefix, selection) {
                        pending.push(child);
                    }
                }
            }
        }
    }

    fn root_frame(&self) -> Rc<Frame<'a>> {
        let graph = &self.context.graphs[0];
        Rc::new(Frame {
            prefix: Address { steps: Vec::new() },
            scope: ScopeRef::Root(self.context.scope),
            graph,
            passed: HashMap::default(),
            parent: None,
            selection: self.context.selection.clone(),
            dependencies: frame_dependencies(graph, &Address { steps: Vec::new() }, &[]),
        })
    }

    /// `import`s whose instance the configuration does not declare.
    fn unused_imports(&self) {
        let unused: Vec<(Address, Span)> =
            self.imports.borrow().iter().map(|(address, (_, span))| (address.clone(), *span)).collect();
        for (address, span) in unused {
            let mut diagnostic = Diagnostic::error(
                codes::INVALID_ADDRESS,
                format!("cannot import into `{address}`: the configuration declares no such instance"),
            )
            .with_help("import into an instance a `resource` of the configuration declares, such as `web[0]`");
            if span != Span::default() {
                diagnostic = diagnostic.with_label(span, "no such instance");
            }
            self.error(diagnostic);
        }
    }

    /// Runs every declaration of a module instance as soon as those it depends on are
    /// done (a failed one skips its dependents), then its top-level `check`s. False when
    /// anything failed.
    fn run_frame(&'c self, frame: Rc<Frame<'a>>) -> LocalBoxFuture<'c, bool>
    where
        'a: 'c,
    {
        async move {
            self.frames.borrow_mut().insert(frame.prefix.clone(), frame.clone());
            self.register_providers(&frame);
            if let Err(errors) = self.refactor(&frame) {
                errors.into_iter().for_each(|e| self.error(e));
                return false;
            }
            let mut nodes = declaration_dependencies(frame.graph);
            if let Some(selected) = frame.selection.declarations(&nodes) {
                let kept: HashSet<NodeIndex> =
                    nodes.iter().filter(|(_, n, _)| selected.contains(n)).map(|(i, _, _)| *i).collect();
                nodes.retain(|(i, _, _)| kept.contains(i));
                for (_, _, deps) in &mut nodes {
                    deps.retain(|d| kept.contains(d));
                }
            }
            let mut waiting: HashMap<NodeIndex, usize> = HashMap::default();
            let mut dependents: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::default();
            let mut blocked_by: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::default();
            let names: HashMap<NodeIndex, String> = nodes.iter().map(|(i, n, _)| (*i, n.clone())).collect();
            for (index, _, dependencies) in &nodes {
                waiting.insert(*index, dependencies.len());
                blocked_by.insert(*index, dependencies.clone());
                for dependency in dependencies {
                    dependents.entry(*dependency).or_default().push(*index);
                }
            }
            let mut failed: HashSet<NodeIndex> = HashSet::default();
            let mut all_ok = true;
            let mut running = FuturesUnordered::new();
            let mut ready: Vec<NodeIndex> = waiting.iter().filter(|(_, n)| **n == 0).map(|(i, _)| *i).collect();
            ready.sort();
            // Ready declarations not yet started, in order.
            let mut queued: std::collections::VecDeque<NodeIndex> = ready.into();
            loop {
                while running.len() < self.in_flight {
                    let Some(index) = queued.pop_front() else { break };
                    running.push(self.declaration_task(frame.clone(), index, names[&index].clone()));
                }
                let Some((index, ok)) = running.next().await else { break };
                if !ok {
                    all_ok = false;
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
                    let blocked = blocked_by[&dependent].iter().any(|d| failed.contains(d));
                    if blocked || self.cancelled() {
                        all_ok = false;
                        failed.insert(dependent);
                        self.skip(&frame, dependent, &names, &dependents, &mut failed, &mut waiting);
                    } else {
                        queued.push_back(dependent);
                    }
                }
            }
            if all_ok {
                if let Err(errors) = self.checks(&frame) {
                    errors.into_iter().for_each(|e| self.error(e));
                    all_ok = false;
                }
            }
            all_ok
        }
        .boxed_local()
    }

    /// Reports a declaration and, transitively, its dependents as skipped.
    fn skip(
        &self,
        frame: &Frame<'a>,
        index: NodeIndex,
        names: &HashMap<NodeIndex, String>,
        dependents: &HashMap<NodeIndex, Vec<NodeIndex>>,
        failed: &mut HashSet<NodeIndex>,
        waiting: &mut HashMap<NodeIndex, usize>,
    ) {
        self.event(Event::Skipped { address: frame.address(&names[&index], None).to_string() });
        for dependent in dependents.get(&index).cloned().unwrap_or_default() {
            if let Some(count) = waiting.get_mut(&dependent) {
                *count = 0;
            }
            if failed.insert(dependent) {
                self.skip(frame, dependent, names, dependents, failed, waiting);
            }
        }
    }

    async fn declaration_task(&'c self, frame: Rc<Frame<'a>>, index: NodeIndex, name: String) -> (NodeIndex, bool)
    where
        'a: 'c,
    {
        let ok = match frame.module().decl(&name).map(|d| d.kind) {
            Some(DeclKind::Module) => self.module_call(&frame, &name).await,
            Some(DeclKind::Resource | DeclKind::Data) => self.declaration(&frame, &name).await,
            _ => false,
        };
        if ok {
            self.completed.borrow_mut().insert((frame.prefix.clone(), name));
        }
        (index, ok)
    }

    /// Plans (and applies) a module call: each of its instances walks the called
    /// module, and the call's value becomes its instances' outputs.
    async fn module_call(&'c self, frame: &Rc<Frame<'a>>, name: &str) -> bool
    where
        'a: 'c,
    {
        let module = frame.module();
        let Some(decl) = module.decl(name).copied() else { return false };
        let Item::Module(call) = module.item(decl.item) else { return false };
        let Some(&child_index) = module.calls.get(name) else { return false };
        let instances = match expand(&frame.scope, call.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => {
                self.error(error);
                return false;
            }
        };
        let targeted = frame.selection.targets.iter().any(|t| t.steps.first().is_some_and(|s| s.name == name));
        let mut children = Vec::new();
        let mut values = Vec::new();
        let mut ok = true;
        for instance in &instances {
            let step = Step { name: name.to_string(), key: instance.key.clone() };
            let prefix = Address { steps: vec![step.clone()] }.within(&frame.prefix);
            let Some(selection) = frame.selection.enter(&step, !targeted) else {
                self.kept_frames.borrow_mut().push(prefix);
                values.push((instance.key.clone(), Value::unknown(Type::Any)));
                continue;
            };
            match self.child_frame(frame, call, child_index, instance, prefix, selection) {
                Ok(child) => children.push((instance.key.clone(), child)),
                Err(errors) => {
                    errors.into_iter().for_each(|e| self.error(e));
                    ok = false;
                    values.push((instance.key.clone(), Value::unknown(Type::Any)));
                }
            }
        }
        let runs = children.iter().map(|(_, child)| self.run_frame(child.clone()));
        let results = futures_util::future::join_all(runs).await;
        for ((key, child), child_ok) in children.iter().zip(results) {
            ok &= child_ok;
            match self.outputs(child) {
                Ok(outputs) => values.push((key.clone(), Value::map(outputs))),
                Err(errors) => {
                    errors.into_iter().for_each(|e| self.error(e));
                    ok = false;
                    values.push((key.clone(), Value::unknown(Type::Any)));
                }
            }
        }
        values.sort_by(|a, b| a.0.cmp(&b.0));
        frame.scope.set_resource(name, instances_value(call.repeat.as_ref(), values));
        ok
    }

    /// A module instance: its inputs evaluated in the caller with the instance's
    /// variables, converted to the types the module declares, defaults filled in and
    /// the inputs' checks run; its provider configurations passed.
    fn child_frame(
        &self,
        frame: &Rc<Frame<'a>>,
        call: &ModuleCall,
        child_index: usize,
        instance: &Instance,
        prefix: Address,
        selection: Selection,
    ) -> Result<Rc<Frame<'a>>, Vec<Diagnostic>> {
        let child: &'a Module = &self.context.modules[child_index];
        let mut errors = Vec::new();
        let mut given: BTreeMap<String, (Value, Span)> = BTreeMap::new();
        let mut passed = HashMap::default();
        for entry in &call.body.items {
            let BodyItem::Attribute(attribute) = entry else { continue };
            let name = attribute.name.name.as_str();
            match name {
                "depends_on" => {}
                "providers" => {
                    let ExprKind::Object(items) = &attribute.value.kind else { continue };
                    for item in items {
                        let Some(local) = object_key_name(&item.key) else { continue };
                        match self.provider_reference(frame, &item.value, &instance.locals()) {
                            Ok(key) => {
                                passed.insert(local, key);
                            }
                            Err(error) => errors.push(error),
                        }
                    }
                }
                _ => match frame.scope.evaluator().eval(&attribute.value, &mut instance.locals()) {
                    Ok(value) => {
                        given.insert(name.to_string(), (value, attribute.value.span));
                    }
                    Err(error) => errors.push(error),
                },
            }
        }
        let mut inputs = BTreeMap::new();
        // Defaults are evaluated in the called module, where only constants are in scope.
        let constants =
            ModuleScope::new(child, BTreeMap::new(), frame.scope.functions, frame.scope.schemas, frame.scope.env);
        for decl in child.decls.values().filter(|d| d.kind == DeclKind::Input) {
            let Item::Input(input) = child.item(decl.item) else { continue };
            let name = &input.name.name;
            let ty = input.ty.as_ref().map_or(Type::Any, lower_type);
            let sensitive = input
                .body
                .as_ref()
                .and_then(|b| b.attribute("sensitive"))
                .is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
            // A null given for an input with a default means the default.
            let given_value = given.remove(name).filter(|(v, _)| !(v.is_null() && input.default.is_some()));
            let value = match given_value {
                Some((value, span)) => match convert(&value, &ty) {
                    Ok(value) => value,
                    Err(error) => {
                        let shown = if value.contains_sensitive() {
                            "(sensitive value)".to_string()
                        } else {
                            value.to_string()
                        };
                        errors.push(
                            Diagnostic::error(
                                codes::INVALID_INPUT,
                                format!("input `{name}` of module `{}` is a `{ty}`: {error}", call.name.name),
                            )
                            .with_label(span, format!("given {shown}"))
                            .with_secondary(input.name.span, format!("declared `{ty}` here"))
                            .with_help(format!("give `{name}` a `{ty}`")),
                        );
                        continue;
                    }
                },
                None => match &input.default {
                    Some(default) => {
                        match constants.eval(default).and_then(|v| {
                            convert(&v, &ty).map_err(|e| crate::eval::invalid_value(default.span, e.to_string()))
                        }) {
                            Ok(value) => value,
                            Err(error) => {
                                errors.push(error);
                                continue;
                            }
                        }
                    }
                    None => {
                        errors.push(
                            Diagnostic::error(
                                codes::MISSING_MODULE_INPUT,
                                format!("module `{}` is missing required input `{name}`", call.name.name),
                            )
                            .with_label(call.name.span, "called here")
                            .with_help(format!("set `{name} = ...` in the module body")),
                        );
                        continue;
                    }
                },
            };
            let value = match &input.ty {
                Some(written) => {
                    match crate::inputs::fill_optional_defaults(value, written, &mut |e| constants.eval(e)) {
                        Ok(value) => value,
                        Err(error) => {
                            errors.push(error);
                            continue;
                        }
                    }
                }
                None => value,
            };
            inputs.insert(name.clone(), if sensitive { value.mark_sensitive() } else { value });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let input_context = crate::inputs::InputContext {
            module: child,
            functions: frame.scope.functions,
            schemas: frame.scope.schemas,
            env: frame.scope.env,
        };
        let check_errors = crate::inputs::run_input_checks(&input_context, &inputs);
        if !check_errors.is_empty() {
            let at = format!("in module instance `{prefix}`");
            return Err(check_errors.into_iter().map(|d| d.with_note(at.clone())).collect());
        }
        let scope = ModuleScope::new(child, inputs, frame.scope.functions, frame.scope.schemas, frame.scope.env);
        // What the call depends on (its callers' dependencies included) is what every
        // declaration inside depends on.
        let inherited = frame.dependencies.get(&call.name.name).cloned().unwrap_or_default();
        let graph = &self.context.graphs[child_index];
        let dependencies = frame_dependencies(graph, &prefix, &inherited);
        Ok(Rc::new(Frame {
            prefix,
            scope: ScopeRef::Child(Box::new(scope)),
            graph,
            passed,
            parent: Some(frame.clone()),
            selection,
            dependencies,
        }))
    }

    /// The outputs of a module instance, evaluated with what was planned or applied.
    pub fn outputs(&self, frame: &Frame<'a>) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
        let module = frame.module();
        let mut outputs = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, decl) in &module.decls {
            if decl.kind != DeclKind::Output {
                continue;
            }
            let Item::Output(output) = module.item(decl.item) else { continue };
            match frame.scope.eval(&output.value) {
                Ok(value) => {
                    let sensitive = output.body.as_ref().and_then(|b| b.attribute("sensitive"));
                    let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
                    outputs.insert(name.clone(), if marked { value.mark_sensitive() } else { value });
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(outputs)
        } else {
            Err(errors)
        }
    }

    /// Plans (and applies) one resource or data declaration; false when any of its
    /// instances failed.
    async fn declaration(&self, frame: &Rc<Frame<'a>>, name: &str) -> bool {
        let module = frame.module();
        let Some(decl) = module.decl(name).copied() else { return false };
        let Item::Resource(resource) = module.item(decl.item) else { return false };
        let Some((provider_schema, schema)) = self.schema_of(resource) else {
            self.error(
                Diagnostic::error(
                    codes::UNKNOWN_RESOURCE_TYPE,
                    format!("no provider implements `{}.{}`", resource.ty.provider.name, resource.ty.kind.name),
                )
                .with_label(resource.ty.span, "here"),
            );
            return false;
        };
        let mut instances = match expand(&frame.scope, resource.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => {
                self.error(error);
                return false;
            }
        };
        // A declaration visited only because a target depends on it is planned whole.
        let targeted = frame.selection.targets.iter().any(|t| t.steps.first().is_some_and(|s| s.name == name));
        let selection = &frame.selection;
        let (selected, unselected): (Vec<Instance>, Vec<Instance>) =
            instances.drain(..).partition(|i| selection.includes(&Address::new(name, i.key.clone()), !targeted));
        let work = selected.iter().map(|instance| async move {
            let address = frame.address(name, instance.key.clone());
            let result = self.instance(frame, resource, (provider_schema, schema), instance, address).await;
            (instance.key.clone(), result)
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
            let address = frame.address(name, instance.key.clone());
            let stored = self.state.borrow().instances.get(&address).map(|i| Value::map(i.attributes.clone()));
            values.push((instance.key.clone(), stored.unwrap_or_else(|| Value::unknown(Type::Any))));
            self.kept.borrow_mut().insert(address);
        }
        values.sort_by(|a, b| a.0.cmp(&b.0));
        frame.scope.set_resource(name, instances_value(resource.repeat.as_ref(), values));
        ok
    }

    pub fn schema_of(&self, resource: &Resource) -> Option<(&'c ProviderSchema, &'c Schema)> {
        let context: &'c PlanContext<'a> = self.context;
        let provider = context.providers.iter().find(|f| f.name() == resource.ty.provider.name)?;
        let schema = provider.schema();
        let kinds = match resource.mode {
            ResourceMode::Managed => &schema.resources,
            ResourceMode::Data => &schema.data_sources,
        };
        Some((schema, kinds.get(&resource.ty.kind.name)?))
    }

    /// Which configuration `provider = west` or `provider = regional[r]` names, from
    /// the module instance `frame`.
    fn provider_reference(&self, frame: &Frame<'a>, value: &Expr, locals: &Locals) -> Result<ProviderKey, Diagnostic> {
        let (name, key) = match &value.kind {
            ExprKind::Name(name) => (name, None),
            ExprKind::Index { target, index } => match &target.kind {
                ExprKind::Name(name) => (name, Some(index)),
                _ => return Err(bad_provider_reference(value)),
            },
            _ => return Err(bad_provider_reference(value)),
        };
        let key = match key {
            None => None,
            Some(index) => {
                let value = frame.scope.evaluator().eval(index, &mut Locals::with(locals.bindings().to_vec()))?;
                Some(instance_key(&value).ok_or_else(|| {
                    crate::eval::invalid_value(
                        index.span,
                        "a provider configuration's key must be a known string or number",
                    )
                    .with_help("use the value the configuration's `for` iterates over")
                })?)
            }
        };
        self.resolve_provider(frame, &name.name, key, value.span)
    }

    /// Finds the configuration `name` (with `key`) as module instance `frame` sees it:
    /// passed by the caller, declared in the module, or (for a provider type's default
    /// configuration) the caller's, up to the root's, which may be implicit.
    fn resolve_provider(
        &self,
        frame: &Frame<'a>,
        name: &str,
        key: Option<InstanceKey>,
        span: Span,
    ) -> Result<ProviderKey, Diagnostic> {
        if let Some(passed) = frame.passed.get(name) {
            return Ok(passed.clone());
        }
        if frame.module().providers.contains_key(name) {
            return Ok(ProviderKey { frame: frame.prefix.clone(), name: name.to_string(), key });
        }
        if self.context.providers.iter().any(|f| f.name() == name) {
            return match &frame.parent {
                Some(parent) => self.resolve_provider(parent, name, key, span),
                None => Ok(ProviderKey { frame: frame.prefix.clone(), name: name.to_string(), key: None }),
            };
        }
        Err(Diagnostic::error(
            codes::UNKNOWN_PROVIDER_CONFIG,
            format!("provider configuration `{name}` is not available in `{}`", display_frame(&frame.prefix)),
        )
        .with_label(span, "not declared here nor passed by the caller")
        .with_help(format!("pass it from the caller with `providers = {{ {name} = ... }}` in the module call")))
    }

    /// The configured provider for `key`, configuring it on first use; unknown when its
    /// configuration depends on values apply has not computed yet.
    fn configure(&self, key: &ProviderKey, provider_type: &str, span: Span) -> Result<Configured, Diagnostic> {
        if let Some(configured) = self.configured.borrow().get(key) {
            return Ok(configured.clone());
        }
        let factory = self.context.providers.iter().find(|f| f.name() == provider_type).cloned();
        let factory = factory.ok_or_else(|| {
            Diagnostic::error(codes::UNKNOWN_PROVIDER, format!("no provider `{provider_type}`"))
                .with_label(span, "here")
        })?;
        let frame = self.frames.borrow().get(&key.frame).cloned();
        let (config, module_dir) = match &frame {
            Some(frame) => {
                let module = frame.module();
                let block = module.providers.get(&key.name).map(|c| module.item(c.item));
                let config = match block {
                    Some(Item::Provider(block)) => {
                        let instances = expand(&frame.scope, block.repeat.as_ref())?;
                        let Some(instance) = instances.iter().find(|i| i.key == key.key) else {
                            let shown = key.key.as_ref().map_or(String::new(), ToString::to_string);
                            return Err(Diagnostic::error(
                                codes::UNKNOWN_PROVIDER_CONFIG,
                                format!("provider configuration `{}` has no instance `{shown}`", key.name),
                            )
                            .with_label(span, "used here")
                            .with_secondary(block.provider.span, "declared here")
                            .with_help("use a key the configuration's `for` produces"));
                        };
                        let schema = &factory.schema().config;
                        let config = self.evaluate_body(frame, &block.body, schema, &instance.locals())?;
                        let what = format!("provider `{}`", key.name);
                        crate::validate::check_body(schema, &block.body, &config, &what)?;
                        config
                    }
                    _ => Attributes::new(),
                };
                (config, self.context.scope.module.dir.clone())
            }
            None => (Attributes::new(), self.context.scope.module.dir.clone()),
        };
        if !config.values().all(Value::is_wholly_known) {
            return Ok(Configured::Unknown);
        }
        let context = ProviderContext { module_dir };
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let provider = factory.configure(&plain, &context).map_err(|e| {
            Diagnostic::error(
                codes::PROVIDER_FAILED,
                format!("provider `{}`: {}", key.record(provider_type), e.message),
            )
            .with_label(span, "used here")
            .with_help(e.help.unwrap_or_else(|| "check the provider's configuration".to_string()))
        })?;
        let configured = Configured::Ready(provider);
        self.configured.borrow_mut().insert(key.clone(), configured.clone());
        Ok(configured)
    }

    /// Notes the provider configurations a module instance declares (their instances,
    /// when the repetition is known), by how state records them.
    fn register_providers(&self, frame: &Frame<'a>) {
        let module = frame.module();
        for (name, config) in &module.providers {
            let Item::Provider(block) = module.item(config.item) else { continue };
            let Ok(instances) = expand(&frame.scope, block.repeat.as_ref()) else { continue };
            for instance in instances {
                let key = ProviderKey { frame: frame.prefix.clone(), name: name.clone(), key: instance.key };
                self.records.borrow_mut().insert(key.record(&config.provider), key);
            }
        }
    }

    /// The provider for deleting an object whose declaration may be gone: the
    /// configuration recorded with it, which must still exist (an object is deleted by
    /// the configuration that made it: another might look in the wrong place), or the
    /// provider type's default.
    pub fn provider_for_record(&self, record: &str, provider_type: &str) -> Result<Arc<dyn Provider>, Diagnostic> {
        let key = self.record_key(record, provider_type)?;
        match self.configure(&key, provider_type, Span::default())? {
            Configured::Ready(provider) => Ok(provider),
            Configured::Unknown => Err(Diagnostic::error(
                codes::PROVIDER_FAILED,
                format!("provider `{record}` cannot be configured: its configuration is not known"),
            )
            .with_help("apply first, so that the values the configuration uses are known")),
        }
    }

    /// The configuration recorded as `record`, which must still be declared.
    pub fn record_key(&self, record: &str, provider_type: &str) -> Result<ProviderKey, Diagnostic> {
        match self.records.borrow().get(record) {
            Some(key) => Ok(key.clone()),
            None if record == provider_type => {
                Ok(ProviderKey { frame: Address { steps: Vec::new() }, name: provider_type.to_string(), key: None })
            }
            None => Err(Diagnostic::error(
                codes::UNKNOWN_PROVIDER_CONFIG,
                format!("provider configuration `{record}` is no longer declared"),
            )
            .with_help(
                "the objects it made are deleted with it: keep the configuration until they are destroyed, then remove it",
            )),
        }
    }

    /// Plans (and applies) one instance; returns its value as dependents see it.
    async fn instance(
        &self,
        frame: &Rc<Frame<'a>>,
        resource: &Resource,
        (provider_schema, schema): (&ProviderSchema, &Schema),
        instance: &Instance,
        address: Address,
    ) -> Result<Value, Diagnostic> {
        let locals = instance.locals();
        let provider_key = match resource.body.attribute("provider") {
            Some(attribute) => self.provider_reference(frame, &attribute.value, &locals)?,
            None => self.resolve_provider(frame, &resource.ty.provider.name, None, resource.ty.span)?,
        };
        let configured = self.configure(&provider_key, &provider_schema.name, resource.ty.span)?;
        let config = self.evaluate_body(frame, &resource.body, schema, &locals)?;
        // Values the checker could not see are validated now that they are known.
        crate::validate::check_body(schema, &resource.body, &config, &address.to_string())?;
        let conditions = Conditions::of(&resource.body);
        // Preconditions hold before anything is created or changed.
        conditions.preconditions(&frame.scope, &locals, &address)?;
        let sensitive: BTreeSet<String> = config
            .iter()
            .filter(|(_, value)| value.contains_sensitive())
            .map(|(name, _)| name.clone())
            .chain(schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()))
            .collect();
        let mut plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let kind = resource.ty.kind.name.as_str();
        let resource_type = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
        let secret = config.values().any(Value::contains_sensitive);
        let failed = |e: crate::provider::ProviderError| provider_error(resource, &address, secret, e);
        let approved = self.approved(&address);
        if resource.mode == ResourceMode::Data {
            // A data source that depends on something about to change would read the
            // world as it is before the change: when planning, it is read during apply.
            let upstream_changes = self.apply.is_none() && self.upstream_changes(frame, &resource.name.name);
            let known = plain.values().all(Value::is_wholly_known) && !upstream_changes;
            // What the approved plan read stands: reading again could give another answer
            // than the one approved (and runs a program twice).
            let read = approved.filter(|a| a.diff.action == Action::NoOp).map(PlannedInstance::planned);
            let (attributes, action) = match (read, &configured, known) {
                (Some(read), _, _) => (read, Action::NoOp),
                (None, Configured::Ready(provider), true) => {
                    (provider.read_data(kind, &plain).await.map_err(failed)?, Action::NoOp)
                }
                _ => (deferred_read(schema, &plain), Action::Read),
            };
            let mut diff = diff(schema, None, Some(&attributes), false, false);
            diff.action = action;
            self.push(PlannedInstance {
                address: address.clone(),
                resource_type,
                mode: Mode::Data,
                diff,
                sensitive: sensitive.clone(),
                drifted_from: None,
                moved_from: None,
                imported: None,
            });
            let value = mark(attributes, &sensitive);
            conditions.postconditions(&frame.scope, &locals, &value, &address)?;
            return Ok(value);
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
        let provider = match &configured {
            Configured::Ready(provider) => Some(provider.clone()),
            Configured::Unknown => None,
        };
        // An `import` statement for an instance state does not have yet: the provider
        // finds the object, which then stands as the prior one.
        let import = if stored.is_none() { self.imports.borrow_mut().remove(&address) } else { None };
        let mut prior = stored
            .as_ref()
            .map(|i| i.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect::<Attributes>());
        if let (Some((id, span)), Some(provider)) = (&import, &provider) {
            let found = provider.import(kind, id).await.map_err(|e| import_error(&address, id, *span, e))?;
            prior = Some(found);
        }
        let mut drifted_from = None;
        if let Some(approved) = approved {
            // The plan refreshed the object already: apply starts from what it saw. An
            // object the first phase deleted to replace it is gone.
            let replaced_first = approved.diff.action == (Action::Replace { create_before_destroy: false });
            if replaced_first && stored.is_some() && self.settled.borrow().contains(&address) {
                return Err(not_replaced(resource, &address));
            }
            if stored.is_some() && import.is_none() {
                prior = approved.prior();
                drifted_from = approved.drifted_from.clone();
            }
        } else if let (true, Some(current), Some(provider), None) =
            (self.context.refresh, prior.clone(), &provider, &import)
        {
            let read = {
                let _permit = self.limit.acquire().await;
                self.retried(&address, (Action::NoOp, secret), || provider.read(kind, &current))
                    .await
                    .map_err(failed)?
            };
            match read {
                ReadResult::Found(mut now) => {
                    // A value read back in another but equivalent form is no drift.
                    compare::keep_configured_forms(schema, &current, &mut now);
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
        let settings = lifecycle::Settings::of(&frame.scope, &resource.body, &locals)?;
        if let Some(prior) = &prior {
            settings.ignore(&mut plain, prior);
        }
        if let Some(prior) = &mut prior {
            compare::keep_configured_forms(schema, &plain, prior);
        }
        // What the configuration leaves unset keeps the value the provider chose; a
        // replacement plans those afresh from the configuration itself.
        let carried = carry_over(schema, prior.as_ref(), &mut plain);
        let mut planned = match &provider {
            Some(provider) => provider.plan(kind, prior.as_ref(), &plain).map_err(failed)?,
            // The provider's configuration is known only during apply: every computed
            // attribute is unknown until then.
            None => deferred_read(schema, &plain),
        };
        let triggers = settings.triggers.clone();
        let triggered = match (&triggers, stored.as_ref().and_then(|s| s.triggers.as_ref())) {
            (lifecycle::Triggers::Known(now), Some(before)) => now != before,
            (lifecycle::Triggers::Unknown, Some(_)) => true,
            _ => false,
        };
        let cause = if self.context.selection.replace.contains(&address) {
            Some(ReplaceCause::Requested)
        } else {
            triggered.then_some(ReplaceCause::ReplaceWhen)
        };
        let mut diff = diff(schema, prior.as_ref(), Some(&planned), settings.create_before_destroy, cause.is_some());
        if let (Action::Replace { .. }, Some(provider)) = (diff.action, &provider) {
            // A replacement creates a new object: what the provider computes is planned
            // afresh, not kept from the old one.
            let mut configured = plain.clone();
            for name in &carried {
                configured.insert(name.clone(), Value::null());
            }
            let fresh = provider.plan(kind, None, &configured).map_err(failed)?;
            diff = crate::diff::diff(schema, prior.as_ref(), Some(&fresh), settings.create_before_destroy, true);
            // An attribute the configuration does not set never forces the replacement.
            for change in diff.attributes.iter_mut().filter(|c| carried.contains(&c.name)) {
                change.forces_replacement = false;
            }
            planned = fresh;
        }
        if diff.action != Action::NoOp && !diff.attributes.iter().any(|c| c.is_change() && c.forces_replacement) {
            diff.cause = cause;
        }
        if self.apply.is_some_and(|a| a.approved.is_some()) {
            let shown = approved.map_or(Action::NoOp, |a| a.diff.action);
            // The first phase deleted the old object: what is left is the creation.
            if diff.action == Action::Create && matches!(shown, Action::Replace { .. }) {
                diff.action = shown;
            }
            if !within_approved(shown, diff.action) {
                return Err(plan_changed(resource, &address, shown, diff.action));
            }
        }
        let action = diff.action;
        if matches!(action, Action::Replace { .. }) && settings.prevent_destroy {
            return Err(Diagnostic::error(
                codes::CHECK_FAILED,
                format!("{address} must be replaced, but `prevent_destroy` is set"),
            )
            .with_label(settings.prevent_destroy_span.unwrap_or(resource.name.span), "prevent_destroy")
            .with_help("change it back, or set `prevent_destroy = false` first if it really must be replaced"));
        }
        let refreshed = drifted_from.is_some()
            || stored.as_ref().is_some_and(|i| i.status != Status::Created)
            || stored.as_ref().is_some_and(
                |i| matches!(&triggers, lifecycle::Triggers::Known(now) if i.triggers.as_deref() != Some(now.as_str())),
            );
        let moved_from = self.moved.borrow().get(&address).cloned();
        let imported = import.as_ref().map(|(id, _)| id.clone());
        self.push(PlannedInstance {
            address: address.clone(),
            resource_type: resource_type.clone(),
            mode: Mode::Managed,
            diff,
            sensitive: sensitive.clone(),
            drifted_from,
            moved_from,
            imported: imported.clone(),
        });
        let import_only = self.apply.is_some_and(|a| a.import_only);
        let Some(provider) = provider.filter(|_| self.apply.is_some() && (!import_only || import.is_some())) else {
            let value = mark(prior.clone().filter(|_| action == Action::NoOp).unwrap_or(planned), &sensitive);
            conditions.postconditions(&frame.scope, &locals, &value, &address)?;
            return Ok(value);
        };
        let dependencies = frame.dependencies.get(&resource.name.name).cloned().unwrap_or_default();
        let record = provider_key.record(&provider_schema.name);
        let operation = Operation {
            provider: &provider,
            kind,
            resource_type: &resource_type,
            config_name: &record,
            dependencies: &dependencies,
            triggers: match &triggers {
                lifecycle::Triggers::Known(digest) => Some(digest.clone()),
                _ => None,
            },
            schema,
        };
        if let (Some(id), Some(found)) = (&imported, &prior) {
            self.record_import(&address, &operation, id, found, &sensitive).await.map_err(failed)?;
            if import_only {
                let value = mark(found.clone(), &sensitive);
                return Ok(value);
            }
        }
        let current = match action {
            Action::NoOp => {
                let current = prior.unwrap_or(planned);
                // Nothing to do, but what refresh found (or a pending status now
                // resolved, or new `replace_when` values) is saved.
                if refreshed {
                    self.record(&address, &operation, &current, &sensitive, JournalAction::Update);
                }
                current
            }
            _ => self
                .execute(&operation, &address, action, prior.as_ref(), &planned, &sensitive)
                .await
                .map_err(failed)?,
        };
        let value = mark(current, &sensitive);
        conditions.postconditions(&frame.scope, &locals, &value, &address)?;
        Ok(value)
    }

    /// The approved plan's instance at `address`, when applying one.
    fn approved(&self, address: &Address) -> Option<&'c PlannedInstance> {
        self.apply?.approved?.instance(address)
    }

    /// Whether a declaration that `name` depends on has a planned change.
    fn upstream_changes(&self, frame: &Frame<'a>, name: &str) -> bool {
        let Some(dependencies) = frame.dependencies.get(name) else { return false };
        self.planned.borrow().iter().any(|planned| {
            planned.diff.action != Action::NoOp
                && planned.diff.action != Action::Read
                && dependencies.iter().any(|d| planned.address.is_within(d))
        })
    }

    /// The configuration of a body as attributes: every attribute of the schema (null
    /// when not set), nested blocks as objects (lists of them when repeated).
    pub fn evaluate_body(
        &self,
        frame: &Frame<'a>,
        body: &Body,
        schema: &Schema,
        locals: &Locals,
    ) -> Result<Attributes, Diagnostic> {
        let scope = &frame.scope;
        let mut attributes: Attributes = schema.attributes.iter().map(|a| (a.name.clone(), Value::null())).collect();
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    let Some(attribute_schema) = schema.attribute(&attribute.name.name) else { continue };
                    let mut bindings = Locals::with(locals.bindings().to_vec());
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
                        let mut inner = locals.bindings().to_vec();
                        inner.extend(instance.bindings);
                        let inner = Locals::with(inner);
                        objects.push(Value::map(self.evaluate_body(
                            frame,
                            &block.body,
                            &block_schema.schema,
                            &inner,
                        )?));
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

    /// The top-level `check`s of a module instance: an unknown condition is checked
    /// again after apply; a false one is an error.
    fn checks(&self, frame: &Frame<'a>) -> Result<(), Vec<Diagnostic>> {
        let mut errors = Vec::new();
        for (_, item) in frame.module().items() {
            let Item::Check(check) = item else { continue };
            if let Err(error) = lifecycle::condition(&frame.scope, check, &Locals::new(), &display_frame(&frame.prefix))
            {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// For each declaration of a module instance, what it depends on: its dependencies in
/// the module under the instance's prefix, plus what the instance's call depends on.
fn frame_dependencies(
    graph: &DependencyGraph,
    prefix: &Address,
    inherited: &[Address],
) -> HashMap<String, Vec<Address>> {
    declaration_dependencies(graph)
        .into_iter()
        .map(|(_, name, deps)| {
            let mut addresses: Vec<Address> =
                deps.iter().map(|d| Address::new(graph.graph[*d].name.clone(), None).within(prefix)).collect();
            addresses.extend(inherited.iter().cloned());
            (name, addresses)
        })
        .collect()
}

/// `root module` or the module instance's address, for messages.
pub(super) fn display_frame(prefix: &Address) -> String {
    if prefix.steps.is_empty() {
        "the root module".to_string()
    } else {
        format!("module instance `{prefix}`")
    }
}

fn object_key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(name) => Some(name.name.clone()),
        ObjectKey::Expr(expr) => match &expr.kind {
            ExprKind::Template(template) => template.as_literal(),
            _ => None,
        },
    }
}

fn bad_provider_reference(value: &Expr) -> Diagnostic {
    Diagnostic::error(codes::UNKNOWN_PROVIDER_CONFIG, "a provider reference must name a provider configuration")
        .with_label(value.span, "expected a name such as `west` or `regional[key]`")
        .with_help("write `provider = ALIAS` where `provider TYPE as ALIAS { ... }` is declared")
}

/// An instance key from a value: a whole number or a string.
pub(super) fn instance_key(value: &Value) -> Option<InstanceKey> {
    match &value.kind {
        Kind::String(s) => Some(InstanceKey::Name(s.clone())),
        Kind::Number(n) if n.fract() == 0.0 && *n >= 0.0 => Some(InstanceKey::Index(*n as u64)),
        _ => None,
    }
}

/// What a data source read during apply will give (or a resource whose provider is
/// configured only during apply): its configuration, and every computed attribute
/// unknown.
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

/// Sets, in `config`, every optional-and-computed attribute it leaves unset to the value
/// the provider chose before (`prior`), as Terraform does: such an attribute is never
/// compared, so it cannot force a replacement. Returns the names it set.
fn carry_over(schema: &Schema, prior: Option<&Attributes>, config: &mut Attributes) -> Vec<String> {
    let Some(prior) = prior else { return Vec::new() };
    let mut carried = Vec::new();
    for attribute in schema.attributes.iter().filter(|a| a.settable && a.computed) {
        let Some(value) = prior.get(&attribute.name).filter(|v| !v.is_null()) else { continue };
        let unset = config.get(&attribute.name).is_none_or(Value::is_null);
        if unset {
            config.insert(attribute.name.clone(), value.clone());
            carried.push(attribute.name.clone());
        }
    }
    carried
}

/// Whether doing `now` stays within the approved `shown` action: the same, or less (an
/// unknown value turned out unchanged).
fn within_approved(shown: Action, now: Action) -> bool {
    now == shown || now == Action::NoOp || (now == Action::Update && matches!(shown, Action::Replace { .. }))
}

fn plan_changed(resource: &Resource, address: &Address, shown: Action, now: Action) -> Diagnostic {
    let describe = |action: Action| match action {
        Action::NoOp => "no change",
        Action::Create => "a creation",
        Action::Update => "an update in place",
        Action::Replace { .. } => "a replacement",
        Action::Delete => "a deletion",
        Action::Read => "a read",
        Action::Forget => "a removal from state",
    };
    Diagnostic::error(
        codes::PLAN_CHANGED,
        format!("{address} now needs {}, but the approved plan showed {}", describe(now), describe(shown)),
    )
    .with_label(resource.name.span, "left as it is")
    .with_help("something changed since the plan was made; run `infra plan` again, review it and apply that")
}

fn not_replaced(resource: &Resource, address: &Address) -> Diagnostic {
    Diagnostic::error(
        codes::PROVIDER_FAILED,
        format!("{address} was not replaced: its old object could not be deleted first"),
    )
    .with_label(resource.name.span, "still the old object")
    .with_help("the errors above say why; fix the cause and apply again")
}

fn same(a: &Attributes, b: &Attributes) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
}

/// A planned instance as dependents see it, with its sensitive attributes marked.
pub(super) fn mark(attributes: Attributes, sensitive: &BTreeSet<String>) -> Value {
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

/// The provider's error when it cannot find the object an `import` names.
fn import_error(address: &Address, id: &str, span: Span, error: crate::provider::ProviderError) -> Diagnostic {
    let mut diagnostic =
        Diagnostic::error(codes::PROVIDER_FAILED, format!("cannot import `{id}` into {address}: {}", error.message))
            .with_help(error.help.unwrap_or_else(|| {
                "check that the object exists and the id is the one the provider expects".to_string()
            }));
    if span != Span::default() {
        diagnostic = diagnostic.with_label(span, "this id");
    }
    diagnostic
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
