//! One session over a configuration and its state: what every command that plans,
//! applies, destroys or imports shares, behind one type.
//!
//! [`Session::open`] does the chain each of them needs: check the module (stopping at its
//! errors), resolve its inputs, open the state where the caller says it is (the caller
//! decides between the backends, from its flags and the `state` block), lock and load
//! it, and start the async runtime the providers run on. The session then plans,
//! applies an approved plan, plans a destroy, imports one object, and saves or verifies
//! a saved plan. Nothing here prints: each operation returns its result or its
//! diagnostics, and the front end renders them. [`state_edit`] edits a state by hand
//! (`infra state mv`, `rm`, `push`, `migrate`), which needs no configuration.

mod deferred;
pub mod selection;
pub mod state_check;
pub mod state_edit;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use std::sync::Arc;
use std::time::Duration;

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::resolve::Module;
use infra_compiler::{Analysis, Schemas, SourceMap};

use crate::address::Address;
use crate::function::{AtPlanTime, Functions};
use crate::module::ModuleScope;
use crate::plan::{self, ApplyOptions, ApplyReport, Event, Plan, PlanContext, Selection};
use crate::provider::{Interrupt, ProviderFactory};
use crate::saved_plan::{self, Basis, EnvironmentReads, FileDigest, Fingerprint, PlanFile, SavedPlan};
use crate::state::read_ahead::ReadAhead;
use crate::state::{Loaded, LockHolder, State, StateBackend, StateLock};
use crate::Value;

/// Resolves the root module's inputs (flags, var files, the environment, prompts), given
/// every module, the root first (the front end may refuse the run over any of them); var
/// files are added to the source map so their diagnostics can be shown.
pub type ResolveInputs<'a> = &'a dyn Fn(&[Module], &mut SourceMap) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>>;

/// Opens the state of a checked module: the front end decides where it is kept (its
/// flags, the module's `state` block evaluated with `inputs`) and which backend keeps it.
pub trait OpenState {
    fn open(&self, module: &Module, inputs: &BTreeMap<String, Value>)
        -> Result<Box<dyn StateBackend>, Vec<Diagnostic>>;

    /// The local snapshot file [`OpenState::open`] most likely opens, as far as is known
    /// before the module is read (its `state` block may still say otherwise): it is read
    /// ahead while the module is checked ([`crate::state::read_ahead`]).
    fn likely_snapshot(&self, module_dir: &Path) -> Option<PathBuf> {
        let _ = module_dir;
        None
    }
}

/// What [`Session::open`] needs: the session keeps the functions and schemas (`'a`);
/// the rest serves only the opening (`'o`).
pub struct SessionOptions<'a, 'o> {
    /// The root module's directory.
    pub module_dir: PathBuf,
    /// The functions configurations may call.
    pub functions: &'a dyn Functions,
    /// The resource and data source schemas the checker and the engine read.
    pub schemas: &'a dyn Schemas,
    pub providers: Vec<Arc<dyn ProviderFactory>>,
    pub inputs: ResolveInputs<'o>,
    pub state: &'o dyn OpenState,
    /// Who holds the state's lock, as other runs are told.
    pub holder: LockHolder,
    /// How long to wait for the lock.
    pub lock_timeout: Duration,
}

/// Why a session did not open.
pub enum OpenError {
    /// The module has errors (or did not load); nothing was evaluated.
    Module { diagnostics: Vec<Diagnostic>, sources: SourceMap },
    /// Its inputs, or its state, could not be had.
    Refused { diagnostics: Vec<Diagnostic>, sources: SourceMap },
    /// The async runtime did not start.
    Runtime(std::io::Error),
}

/// `env()` for a configuration: a variable's value by name.
type Env = Box<dyn Fn(&str) -> Option<String>>;

/// Why [`Session::import`] imported nothing. Either way the state was not written.
pub enum ImportError {
    /// The state already holds the address; nothing ran.
    Taken(Diagnostic),
    /// The import, something it evaluated, or writing the state failed.
    Failed(Vec<Diagnostic>),
}

/// How to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Read every prior instance through its provider first.
    pub refresh: bool,
    pub selection: Selection,
    /// The process ends once the plan is reported (see [`PlanContext::exiting`]).
    pub exiting: bool,
}

/// How to apply, besides the plan.
pub struct ApplyRun<'a> {
    /// At most this many provider operations at once.
    pub parallelism: usize,
    /// Told about each operation as it starts and ends.
    pub events: &'a (dyn Fn(Event) + Sync),
    /// Destroy what the plan (from [`Run::destroy_plan`]) lists.
    pub destroy: bool,
    /// Set to stop starting new operations.
    pub cancelled: &'a Interrupt,
    /// Called after each time the apply is polled (with whether it is done), for
    /// progress output written from the waiting thread.
    pub polled: &'a dyn Fn(bool),
    /// The process ends once the apply is reported (see [`PlanContext::exiting`]).
    pub exiting: bool,
}

/// A configuration, checked and with its inputs, and its state, locked and loaded.
pub struct Session<'a> {
    analysis: Analysis,
    inputs: BTreeMap<String, Value>,
    /// The library, with the plan's time for `plantimestamp()`.
    functions: AtPlanTime<'a>,
    schemas: &'a dyn Schemas,
    providers: Vec<Arc<dyn ProviderFactory>>,
    backend: Box<dyn StateBackend>,
    lock: RefCell<Option<StateLock>>,
    loaded: Loaded,
    environment: Rc<EnvironmentReads>,
    /// `env()` as the configuration calls it: reads recorded in `environment`.
    env: Env,
    runtime: tokio::runtime::Runtime,
}

impl<'a> Session<'a> {
    /// Checks the module, resolves its inputs, opens, locks and loads its state, and
    /// starts the async runtime.
    pub fn open(options: SessionOptions<'a, '_>) -> Result<Session<'a>, OpenError> {
        let ahead = options.state.likely_snapshot(&options.module_dir).and_then(ReadAhead::start);
        let mut analysis = infra_compiler::analyze_files(&options.module_dir, options.schemas);
        if analysis.has_errors() || analysis.modules.is_empty() {
            return Err(OpenError::Module { diagnostics: analysis.diagnostics, sources: analysis.sources });
        }
        // The checker's side tables (types of every declaration, every reference) serve
        // the language server; evaluation does not read them, and a large module's tables
        // would otherwise stay allocated through the whole plan. They are freed on a
        // thread of their own (a few milliseconds for 10,000 resources), beside the plan,
        // which uses one core.
        // (When no thread can start, the closure holding them is dropped, and they with it.)
        let tables = std::mem::take(&mut analysis.tables);
        let _ = std::thread::Builder::new().spawn(move || drop(tables));
        let refused = |diagnostics, analysis: Analysis| OpenError::Refused { diagnostics, sources: analysis.sources };
        let inputs = match (options.inputs)(&analysis.modules, &mut analysis.sources) {
            Ok(inputs) => inputs,
            Err(diagnostics) => return Err(refused(diagnostics, analysis)),
        };
        let opened = options.state.open(&analysis.modules[0], &inputs).and_then(|backend| {
            let lock = backend.lock(&options.holder, options.lock_timeout).map_err(|e| vec![e.to_diagnostic()])?;
            let loaded = backend.load_read_ahead(ahead).map_err(|e| vec![e.to_diagnostic()])?;
            let invalid = state_check::check(&loaded.state, &options.providers, &backend.location());
            if !invalid.is_empty() {
                return Err(invalid);
            }
            Ok((backend, lock, loaded))
        });
        let (backend, lock, loaded) = match opened {
            Ok(opened) => opened,
            Err(diagnostics) => return Err(refused(diagnostics, analysis)),
        };
        // One thread, since the engine is one future (blocking work goes to tokio's
        // blocking pool).
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(OpenError::Runtime)?;
        let environment = Rc::new(EnvironmentReads::default());
        Ok(Session {
            analysis,
            inputs,
            functions: AtPlanTime {
                functions: options.functions,
                timestamp: crate::state::lock::rfc3339(std::time::SystemTime::now()),
            },
            schemas: options.schemas,
            providers: options.providers,
            backend,
            lock: RefCell::new(Some(lock)),
            loaded,
            env: Box::new({
                let environment = environment.clone();
                move |name: &str| environment.get(name)
            }),
            environment,
            runtime,
        })
    }

    /// The sources the session's diagnostics point into.
    pub fn sources(&self) -> &SourceMap {
        &self.analysis.sources
    }

    /// What loading the state warned about (an incomplete last journal line).
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.loaded.warnings.iter().map(|w| w.to_diagnostic()).collect()
    }

    /// The state as loaded, before anything this session did.
    pub fn state(&self) -> &State {
        &self.loaded.state
    }

    pub fn module_dir(&self) -> &Path {
        &self.analysis.modules[0].dir
    }

    /// The async runtime the providers run on, for the front end's own tasks (Ctrl-C).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Releases the state's lock; the session can still render what it did.
    pub fn unlock(&self) {
        self.lock.borrow_mut().take();
    }

    /// Ends the session of a process about to exit: the lock is released, and the
    /// syntax trees and the state are left to the operating system rather than freed one
    /// allocation at a time, which would cost about a tenth of a large plan
    /// (bench/RESULTS.md).
    pub fn finish(self) {
        self.unlock();
        std::mem::forget(self);
    }

    /// A run of the root module planned with `options`: the plan it shows and the apply
    /// that executes it share one scope, so what the configuration evaluated for the one
    /// (a `let` calling `timestamp()`) is what the other uses.
    pub fn run(&self, options: PlanOptions) -> Run<'_> {
        let module = &self.analysis.modules[0];
        let scope = ModuleScope::new(module, self.inputs.clone(), &self.functions, self.schemas, self.env.as_ref());
        Run { session: self, scope, options }
    }

    /// Errors for the addresses of `selection` that match nothing in the configuration
    /// or the state.
    pub fn check_selection(&self, selection: &Selection) -> Result<(), Vec<Diagnostic>> {
        let unmatched = selection::unmatched(selection, &self.analysis.modules, &self.loaded.state);
        if unmatched.is_empty() {
            Ok(())
        } else {
            Err(unmatched)
        }
    }

    /// Records the object `id` in the state as the instance `address`, through its
    /// provider's import, changing nothing else. The configuration's own `import`
    /// statements are not run (as `terraform import` leaves `import` blocks to plan and
    /// apply). All or nothing: the state is written only when the whole run succeeded,
    /// so an error leaves it as it was.
    pub fn import(&self, address: &Address, id: &str) -> Result<(), ImportError> {
        if self.loaded.state.instances.contains_key(address) {
            return Err(ImportError::Taken(
                Diagnostic::error(crate::codes::STATE_ADDRESS_TAKEN, format!("`{address}` is already in the state"))
                    .with_help("`infra state rm` it first to import another object in its place"),
            ));
        }
        let deferred = deferred::Deferred { inner: self.backend.as_ref() };
        let cancelled = Interrupt::new();
        let options = ApplyOptions {
            backend: &deferred,
            parallelism: 10,
            events: &|_: Event| {},
            destroy: false,
            cancelled: &cancelled,
            import_only: true,
            refresh_only: false,
            approved: None,
        };
        let run = self.run(PlanOptions {
            refresh: false,
            selection: Selection { targets: vec![address.clone()], ..Selection::default() },
            exiting: true,
        });
        let mut context = run.context();
        context.imports = vec![(address.clone(), id.to_string())];
        let report = self.runtime.block_on(plan::apply(&context, &options));
        std::mem::forget(context);
        std::mem::forget(run);
        if !report.errors.is_empty() {
            return Err(ImportError::Failed(report.errors));
        }
        let mut state = report.state;
        self.backend.compact(&mut state).map_err(|error| ImportError::Failed(vec![error.to_diagnostic()]))
    }

    /// The plan's time, which `plantimestamp()` gives in every run of the session: when
    /// the session was opened, unless [`Session::plan_at`] set it.
    pub fn plan_timestamp(&self) -> &str {
        &self.functions.timestamp
    }

    /// Plans at `timestamp` (RFC 3339) rather than now: a saved plan is applied at the
    /// time it was made, so that planning again gives the same values.
    pub fn plan_at(&mut self, timestamp: String) {
        self.functions.timestamp = timestamp;
    }

    /// The digest of the configuration and the input values, with each file's, which a
    /// saved plan records.
    pub fn fingerprint(&self) -> Fingerprint {
        saved_plan::fingerprint(&self.analysis, &self.inputs)
    }

    /// Saves `plan`, made with `options`, for `infra apply FILE`; `files` are the files
    /// the configuration read while planning, with their contents' digests.
    pub fn save_plan(
        &self,
        path: &Path,
        plan: &Plan,
        fingerprint: Fingerprint,
        options: &PlanOptions,
        files: BTreeMap<PathBuf, String>,
        workspace: &str,
    ) -> std::io::Result<()> {
        let basis = Basis {
            fingerprint,
            inputs: &self.inputs,
            selection: &options.selection,
            refresh: options.refresh,
            environment: &self.environment,
            files,
            plan_timestamp: &self.functions.timestamp,
            workspace,
        };
        saved_plan::save(path, self.module_dir(), &self.loaded.state, self.backend.encryption(), basis, plan)
    }

    /// The plan a saved plan file holds, decrypted with the state's keys when sealed.
    pub fn open_plan(&self, file: PlanFile) -> Result<SavedPlan, Diagnostic> {
        file.open(self.backend.encryption())
    }

    /// Refuses `saved` when what it was based on moved; `fresh` is the plan made again.
    pub fn verify(&self, saved: &SavedPlan, fresh: &Plan, file_digest: FileDigest<'_>) -> Result<(), Diagnostic> {
        let fingerprint = self.fingerprint();
        let now =
            saved_plan::Now { state: &self.loaded.state, fingerprint: &fingerprint, inputs: &self.inputs, plan: fresh };
        saved_plan::verify(saved, &now, file_digest)
    }
}

/// One run of a session: the root module's scope, planned with one set of options.
pub struct Run<'s> {
    session: &'s Session<'s>,
    scope: ModuleScope<'s>,
    options: PlanOptions,
}

impl<'s> Run<'s> {
    fn context(&self) -> PlanContext<'_> {
        let session = self.session;
        PlanContext {
            scope: &self.scope,
            modules: &session.analysis.modules,
            graphs: &session.analysis.graphs,
            state: &session.loaded.state,
            providers: &session.providers,
            refresh: self.options.refresh,
            selection: self.options.selection.clone(),
            imports: Vec::new(),
            exiting: self.options.exiting,
        }
    }

    pub fn options(&self) -> &PlanOptions {
        &self.options
    }

    /// Plans the run; returns every error found, not only the first. An address of
    /// `--target`, `--exclude` or `--replace` that matches no declaration is an error
    /// before anything is planned; one whose instance key matches no instance, once the
    /// declarations are expanded.
    pub fn plan(&self) -> Result<Plan, Vec<Diagnostic>> {
        self.session.check_selection(&self.options.selection)?;
        self.session.runtime.block_on(plan::plan(&self.context()))
    }

    /// [`Run::plan`], given up when `stop` ends first (Ctrl-C), with the diagnostic it
    /// gives: planning changes nothing, so nothing is left half done; the providers'
    /// reads in flight are dropped.
    pub fn plan_until(&self, stop: impl std::future::Future<Output = Diagnostic>) -> Result<Plan, Vec<Diagnostic>> {
        self.session.check_selection(&self.options.selection)?;
        let context = self.context();
        self.session.runtime.block_on(async {
            tokio::select! {
                planned = plan::plan(&context) => planned,
                stopped = stop => Err(vec![stopped]),
            }
        })
    }

    /// What destroy will delete (all, or what the selection chooses), as a plan to show;
    /// an address of the selection that matches nothing is an error.
    pub fn destroy_plan(&self) -> Result<Plan, Vec<Diagnostic>> {
        self.session.check_selection(&self.options.selection)?;
        plan::destroy_plan(&self.context())
    }

    /// Executes `approved` (from [`Run::plan`], or from [`Run::destroy_plan`] with
    /// `run.destroy`): every operation is journaled and the state written.
    pub fn apply(&self, approved: &Plan, run: &ApplyRun<'_>) -> ApplyReport {
        let session = self.session;
        let options = ApplyOptions {
            backend: session.backend.as_ref(),
            parallelism: run.parallelism,
            events: run.events,
            destroy: run.destroy,
            cancelled: run.cancelled,
            import_only: false,
            refresh_only: false,
            approved: (!run.destroy).then_some(approved),
        };
        let context = PlanContext { exiting: run.exiting, ..self.context() };
        session.runtime.block_on(polled(plan::apply(&context, &options), run.polled))
    }

    /// Records in the state what refreshing finds (from [`Run::plan`] made with
    /// `refresh`), changing no object: see [`ApplyOptions::refresh_only`].
    pub fn refresh(&self, planned: &Plan) -> ApplyReport {
        let session = self.session;
        let cancelled = Interrupt::new();
        let options = ApplyOptions {
            backend: session.backend.as_ref(),
            parallelism: 10,
            events: &|_: Event| {},
            destroy: false,
            cancelled: &cancelled,
            import_only: false,
            refresh_only: true,
            approved: Some(planned),
        };
        session.runtime.block_on(plan::apply(&self.context(), &options))
    }
}

/// `work`, calling `after` each time it has been polled.
fn polled<'f, F: Future + 'f>(work: F, after: &'f dyn Fn(bool)) -> impl Future<Output = F::Output> + 'f {
    let mut work = Box::pin(work);
    std::future::poll_fn(move |cx| {
        let poll = work.as_mut().poll(cx);
        after(poll.is_ready());
        poll
    })
}
