//! The engine: what one run (a plan, or the execution of an approved plan) holds while
//! it walks: the state as it changes, the planned instances, the errors, the frames
//! walked and the journal. Which declaration runs when is [`super::schedule`]'s; what
//! happens to one instance is [`super::instance`]'s, through [`super::steps`].

use std::borrow::Cow;
use std::cell::{Cell, RefCell, RefMut};
use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::syntax::ast::Item;
use infra_compiler::Span;

pub(super) use super::frame::{display_frame, Frame};
pub(super) use super::providers::instance_key;
use super::providers::Providers;
use super::{ApplyOptions, Event, Plan, PlanContext, PlannedInstance, Selection};
use crate::address::{Address, Step};
use crate::expand::expand;
use crate::state::State;
use crate::value::{Name, Value};

/// What the walk saw of the module instances: the orphans are what it did not plan.
#[derive(Default)]
pub(super) struct Walked<'a> {
    /// Module instances that were walked.
    pub frames: HashMap<Address, Rc<Frame<'a>>>,
    /// Declarations that ran without an error, by module instance and name: only their
    /// instances that are no longer configured are orphans. A failed, skipped or
    /// unselected declaration keeps its instances in state, untouched.
    pub completed: HashMap<Address, HashSet<Name>>,
    /// Instances the selection left out: never orphans.
    pub kept: HashSet<Address>,
    /// Module instances the selection left out: nothing in them is an orphan.
    pub kept_frames: Vec<Address>,
}

pub(super) struct Engine<'c, 'a> {
    pub context: &'c PlanContext<'a>,
    /// Set when the run performs what it plans (apply, destroy, import).
    pub apply: Option<&'c ApplyOptions<'c>>,
    /// The plan this run executes, when applying one: each instance's change is held
    /// to it, and what it read and refreshed is not read again.
    pub approved: Option<&'c Plan>,
    pub limit: tokio::sync::Semaphore,
    /// At most this many declarations of one module instance (or orphans) in progress at
    /// once: one in progress holds its evaluated body and planned values (about 10 kB),
    /// and ten thousand independent ones started together held 100 MB. Enough to keep
    /// every operation slot busy and the journal's batches large (each sync serves the
    /// operations that are running together).
    pub in_flight: usize,
    /// Objects the first phase of the apply deleted, or tried to (see
    /// `plan::destroy_first`): never deleted again as orphans.
    pub settled: HashSet<Address>,
    pub providers: RefCell<Providers>,
    pub planned: RefCell<Vec<PlannedInstance>>,
    pub errors: RefCell<Vec<Diagnostic>>,
    /// The provider failures among `errors`, by message, to drop a repeated one without
    /// comparing it with every error (thousands of resources can fail at once).
    provider_failures: RefCell<HashMap<String, Vec<usize>>>,
    /// The state as operations complete (when planning: as moves and forgets leave it).
    /// It borrows the caller's state until the first change (see [`Engine::state_mut`]),
    /// so a plan that changes nothing never copies it.
    pub state: RefCell<Cow<'a, State>>,
    pub walked: RefCell<Walked<'a>>,
    /// Old objects of create-before-destroy replacements made in this run: deleted last,
    /// with the orphans, as the second half of their replacement (not a deletion of
    /// their own).
    pub deposed: RefCell<HashSet<Address>>,
    /// Operations tried again after a transient error, with the error.
    pub retries: RefCell<Vec<(Address, String)>>,
    /// Providers' warnings (see [`crate::provider::warn`]), each once.
    pub warnings: RefCell<Vec<Diagnostic>>,
    /// `import` statements waiting for their instance: the id and the statement's span.
    pub imports: RefCell<HashMap<Address, (String, Span)>>,
    /// Instances moved by `moved` statements, new address to old, and the span of the
    /// statement's destination.
    pub moved: RefCell<HashMap<Address, (Address, Span)>>,
    /// Set when the journal cannot be written: no operation starts after that, since
    /// its outcome could not be recorded.
    pub journal_failed: Cell<bool>,
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
        // Every instance in state is planned (kept, changed or deleted) unless the plan
        // is targeted: sized up front, the plan's list does not hold the room of
        // doubling, up to half of it, through the plan. (10,000 instances are 1.7 MB.)
        let planned = Vec::with_capacity(state.instances.len());
        Engine {
            context,
            apply,
            approved: None,
            limit: tokio::sync::Semaphore::new(parallelism),
            in_flight: parallelism.saturating_mul(4).max(1024),
            settled: HashSet::default(),
            providers: RefCell::default(),
            planned: RefCell::new(planned),
            errors: RefCell::default(),
            provider_failures: RefCell::default(),
            state: RefCell::new(state),
            walked: RefCell::default(),
            deposed: RefCell::default(),
            retries: RefCell::default(),
            warnings: RefCell::default(),
            imports: RefCell::default(),
            moved: RefCell::default(),
            journal_failed: Cell::new(false),
            journal_queue: super::commit::GroupCommit::default(),
        }
    }

    /// Reports `diagnostic`, unless the same one was reported already (a provider
    /// configuration that failed fails every resource that uses it).
    pub fn error(&self, diagnostic: Diagnostic) {
        let mut errors = self.errors.borrow_mut();
        if diagnostic.code == codes::PROVIDER_FAILED {
            let mut failures = self.provider_failures.borrow_mut();
            let same = failures.entry(diagnostic.message.clone()).or_default();
            if same.iter().any(|&i| errors.get(i) == Some(&diagnostic)) {
                return;
            }
            same.push(errors.len());
        }
        errors.push(diagnostic);
    }

    /// Keeps a provider's warning, once (an apply plans each instance again).
    pub fn warn(&self, diagnostic: Diagnostic) {
        let mut warnings = self.warnings.borrow_mut();
        if !warnings.contains(&diagnostic) {
            warnings.push(diagnostic);
        }
    }

    /// The planned instances, by address: independent declarations finish in any order.
    pub fn instances(&self) -> Vec<PlannedInstance> {
        let mut instances = self.planned.take();
        // Addresses are distinct; a stable sort would take a buffer of half the plan.
        instances.sort_unstable_by(|a, b| a.address.cmp(&b.address));
        instances
    }

    /// The plan, with the root's `outputs`; the state is dropped with the engine
    /// (planning keeps no state).
    pub fn finish(self, outputs: BTreeMap<String, Value>) -> Result<Plan, Vec<Diagnostic>> {
        let mut errors = self.errors.take();
        let warnings = self.warnings.take();
        let result = if errors.is_empty() {
            let retries = self.retries.take();
            Ok(Plan { instances: self.instances(), outputs, retries, warnings, prior_outputs: BTreeMap::new() })
        } else {
            errors.extend(warnings);
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
        self.journal_failed.get() || self.apply.is_some_and(|a| a.cancelled.is_set())
    }

    /// Walks the root module: its declarations, its module calls, then its outputs and
    /// checks. Returns the root's outputs (empty when they cannot be evaluated; those a
    /// selection does not plan, as the state holds them).
    pub async fn run_root(&self) -> BTreeMap<String, Value> {
        let graph = &self.context.graphs[0];
        let frame = Rc::new(Frame::root(self.context.scope, graph, self.context.selection.clone()));
        for (address, id) in &self.context.imports {
            self.imports.borrow_mut().insert(address.clone(), (id.clone(), Span::default()));
        }
        self.run_frame(frame.clone()).await;
        let mut outputs = frame.outputs().unwrap_or_else(|errors| {
            errors.into_iter().for_each(|e| self.error(e));
            BTreeMap::new()
        });
        self.keep_unselected_outputs(&mut outputs);
        self.unused_imports();
        outputs
    }

    /// Before destroying: the module instances whose repetition can be evaluated from
    /// state, with their provider configurations, so each object is deleted by the
    /// configuration that made it.
    pub fn prepare_destroy(&self) {
        self.context.scope.load_state(&self.state.borrow());
        let graph = &self.context.graphs[0];
        let mut pending = vec![Rc::new(Frame::root(self.context.scope, graph, self.context.selection.clone()))];
        while let Some(frame) = pending.pop() {
            self.walked.borrow_mut().frames.insert(frame.prefix.clone(), frame.clone());
            self.register_providers(&frame);
            let module = frame.module();
            for (name, &child_index) in &module.calls {
                let Some(decl) = module.decl(name) else { continue };
                let Item::Module(call) = module.item(decl.item) else { continue };
                let Ok(instances) = expand(&frame.scope, call.repeat.as_ref()) else { continue };
                for instance in &instances {
                    let step = Step { name: call.name.name.clone(), key: instance.key.clone() };
                    let prefix = Address { steps: vec![step] }.within(&frame.prefix);
                    let selection = Selection::default();
                    let child = self.child_frame(&frame, (call, child_index), instance, prefix, selection);
                    pending.extend(child.ok());
                }
            }
        }
    }

    /// `import`s whose instance the configuration does not declare.
    fn unused_imports(&self) {
        // A statement for an instance `--target` or `--exclude` leaves out waits for a
        // plan that includes it: its declaration was never walked.
        let selection = &self.context.selection;
        let unused: Vec<(Address, Span)> = self
            .imports
            .borrow()
            .iter()
            .filter(|(address, _)| selection.includes(address, false))
            .map(|(address, (_, span))| (address.clone(), *span))
            .collect();
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
}
