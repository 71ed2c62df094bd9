//! Where the state is kept (the `state` block, `--state-url` / `INFRA_STATE_URL`,
//! `--workspace`), and opening the runtime's [`Session`] with the built-in functions and
//! providers, the plugins `infra init` cached, and that state: the one choice between
//! the backends.
//!
//! The location is decided before anything else is evaluated: `--state-url` wins, then
//! the root module's `state postgres { ... }` or `state s3 { ... }` block, else the
//! local files beside the module. A `state` block may use only literals, inputs and `env()`, so it never depends
//! on anything the state itself would tell.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use infra_compiler::diagnostic::Diagnostic;

use crate::codes;
use infra_backend_postgres::{PostgresBackend, PostgresLocation};
use infra_backend_s3::{S3Backend, S3Location};
use infra_compiler::resolve::Module;
use infra_compiler::syntax::ast::{Item, StateBlock};
use infra_compiler::SourceMap;
use infra_provider_plugin::functions::PluginFunctions;
use infra_provider_plugin::host::PluginFactory;
use infra_provider_plugin::schemas::WithPlugins;
use infra_runtime::module::ModuleScope;
use infra_runtime::provider::ProviderFactory;
use infra_runtime::session::{OpenError, OpenState, Session, SessionOptions};
use infra_runtime::state::envelope::Encryption;
use infra_runtime::state::workspace::DEFAULT_WORKSPACE;
use infra_runtime::state::{LocalBackend, LockHolder, StateBackend, StateError, StateErrorKind};
use infra_runtime::Value;

use crate::inputs::InputArgs;
use crate::output::Report;

/// Where local workspaces other than `default` keep their files, beside the module.
pub const LOCAL_WORKSPACES_DIR: &str = "infra.state.d";

/// The flags that choose where the state is.
#[derive(Args, Debug, Clone, Default)]
pub struct BackendArgs {
    /// Keep the state in PostgreSQL (`postgres://USER:PASSWORD@HOST:PORT/DB`) or S3
    /// (`s3://BUCKET/KEY`) at this URL, whatever the module's `state` block says
    #[arg(long = "state-url", value_name = "URL", env = "INFRA_STATE_URL", hide_env_values = true)]
    pub state_url: Option<String>,

    /// The workspace: one of several isolated states of the same configuration
    #[arg(long, value_name = "NAME", env = "INFRA_WORKSPACE")]
    pub workspace: Option<String>,

    /// Start from an empty state even though the local state file is missing while its
    /// backup is there (refused otherwise, as the state was probably lost: E0725)
    #[arg(long)]
    pub allow_empty_state: bool,
}

impl BackendArgs {
    /// The workspace named (`--workspace`, `INFRA_WORKSPACE`), else `default`.
    pub fn workspace_name(&self) -> &str {
        self.workspace_given().unwrap_or(DEFAULT_WORKSPACE)
    }

    /// The workspace named, if one is: an empty name (`INFRA_WORKSPACE=`) is none, as
    /// a variable set to nothing usually means "not set".
    pub fn workspace_given(&self) -> Option<&str> {
        self.workspace.as_deref().filter(|name| !name.is_empty())
    }
}

/// Where a state is kept, and how it is encrypted.
#[derive(Clone)]
pub struct StateLocation {
    pub store: Store,
    /// The keys from the `state` block's encryption settings and the environment; `None`
    /// for a state kept in the clear.
    pub encryption: Option<Encryption>,
}

impl StateLocation {
    pub fn workspace(&self) -> &str {
        self.store.workspace()
    }

    /// The backend for this location, encrypting with its keys.
    pub fn backend(&self) -> Result<Box<dyn StateBackend>, StateError> {
        self.store.backend(self.encryption.as_ref())
    }

    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        self.store.workspaces()
    }

    pub fn create_workspace(&self, name: &str) -> Result<(), StateError> {
        self.store.create_workspace(name, self.encryption.as_ref())
    }

    /// Deletes workspace `name`; how many instances it held.
    pub fn delete_workspace(&self, name: &str, force: bool) -> Result<usize, StateError> {
        self.store.delete_workspace(name, force, self.encryption.as_ref())
    }
}

/// Which backend keeps a state, and where.
#[derive(Clone)]
pub enum Store {
    /// Files beside the module (`default`), or under `infra.state.d/NAME/`.
    Local {
        module_dir: PathBuf,
        workspace: String,
        /// `--allow-empty-state`: a missing state file beside its backup loads empty.
        allow_empty: bool,
    },
    Postgres(Box<PostgresLocation>),
    S3(Box<S3Location>),
}

impl Store {
    pub fn workspace(&self) -> &str {
        match self {
            Store::Local { workspace, .. } => workspace,
            Store::Postgres(location) => location.workspace(),
            Store::S3(location) => location.workspace(),
        }
    }

    /// The same store, another workspace.
    pub fn with_workspace(&self, workspace: &str) -> Result<Store, StateError> {
        infra_runtime::state::workspace::check_workspace_name(workspace)?;
        Ok(match self {
            Store::Local { module_dir, allow_empty, .. } => Store::Local {
                module_dir: module_dir.clone(),
                workspace: workspace.to_string(),
                allow_empty: *allow_empty,
            },
            Store::Postgres(location) => Store::Postgres(Box::new(location.with_workspace(workspace)?)),
            Store::S3(location) => Store::S3(Box::new(location.with_workspace(workspace)?)),
        })
    }

    fn local_dir(module_dir: &Path, workspace: &str) -> PathBuf {
        if workspace == DEFAULT_WORKSPACE {
            module_dir.to_path_buf()
        } else {
            module_dir.join(LOCAL_WORKSPACES_DIR).join(workspace)
        }
    }

    /// The backend for this location; a local workspace other than `default` must exist.
    pub fn backend(&self, encryption: Option<&Encryption>) -> Result<Box<dyn StateBackend>, StateError> {
        let encryption = encryption.cloned();
        match self {
            Store::Local { module_dir, workspace, allow_empty } => {
                let dir = Store::local_dir(module_dir, workspace);
                if !dir.is_dir() {
                    return Err(missing_workspace(workspace, &dir.display().to_string()));
                }
                Ok(Box::new(LocalBackend::new(dir).allowing_empty_state(*allow_empty).with_encryption(encryption)))
            }
            Store::Postgres(location) => {
                Ok(Box::new(PostgresBackend::new(location.as_ref().clone()).with_encryption(encryption)))
            }
            Store::S3(location) => Ok(Box::new(S3Backend::new(location.as_ref().clone())?.with_encryption(encryption))),
        }
    }

    /// The workspaces there are, sorted; `default` always.
    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        match self {
            Store::Local { module_dir, .. } => {
                let mut names = vec![DEFAULT_WORKSPACE.to_string()];
                if let Ok(entries) = std::fs::read_dir(module_dir.join(LOCAL_WORKSPACES_DIR)) {
                    names.extend(
                        entries
                            .flatten()
                            .filter(|entry| entry.path().is_dir())
                            .map(|entry| entry.file_name().to_string_lossy().into_owned()),
                    );
                }
                names.sort();
                names.dedup();
                Ok(names)
            }
            Store::Postgres(location) => PostgresBackend::new(location.as_ref().clone()).workspaces(),
            Store::S3(location) => S3Backend::new(location.as_ref().clone())?.workspaces(),
        }
    }

    pub fn create_workspace(&self, name: &str, encryption: Option<&Encryption>) -> Result<(), StateError> {
        infra_runtime::state::workspace::check_workspace_name(name)?;
        match self {
            Store::Local { module_dir, .. } => {
                let dir = Store::local_dir(module_dir, name);
                if name == DEFAULT_WORKSPACE || dir.exists() {
                    return Err(StateError::new(
                        StateErrorKind::Workspace,
                        format!("workspace `{name}` already exists"),
                    )
                    .with_help(format!("select it with `--workspace {name}`")));
                }
                std::fs::create_dir_all(&dir).map_err(|e| {
                    StateError::new(StateErrorKind::WriteFailed, format!("cannot create `{}`: {e}", dir.display()))
                        .with_help("check that the module directory is writable")
                })
            }
            Store::Postgres(location) => PostgresBackend::new(location.as_ref().clone()).create_workspace(name),
            Store::S3(location) => {
                S3Backend::new(location.as_ref().clone())?.with_encryption(encryption.cloned()).create_workspace(name)
            }
        }
    }

    pub fn delete_workspace(
        &self,
        name: &str,
        force: bool,
        encryption: Option<&Encryption>,
    ) -> Result<usize, StateError> {
        infra_runtime::state::workspace::check_workspace_name(name)?;
        match self {
            Store::Local { module_dir, .. } => {
                if name == DEFAULT_WORKSPACE {
                    return Err(StateError::new(
                        StateErrorKind::Workspace,
                        "the `default` workspace cannot be deleted",
                    )
                    .with_help("destroy what it holds with `infra destroy` if it is no longer needed"));
                }
                let location = self.with_workspace(name)?;
                let backend = location.backend(encryption)?;
                let lock = backend.lock(&LockHolder::new(format!("infra workspace delete {name}")), Duration::ZERO)?;
                let loaded = backend.load()?;
                if !force && !loaded.state.instances.is_empty() {
                    return Err(StateError::workspace_not_empty(name, loaded.state.instances.len()));
                }
                drop(lock);
                let dir = Store::local_dir(module_dir, name);
                std::fs::remove_dir_all(&dir).map_err(|e| {
                    StateError::new(StateErrorKind::WriteFailed, format!("cannot remove `{}`: {e}", dir.display()))
                })?;
                Ok(loaded.state.instances.len())
            }
            Store::Postgres(location) => PostgresBackend::new(location.as_ref().clone())
                .with_encryption(encryption.cloned())
                .delete_workspace(name, force),
            Store::S3(location) => S3Backend::new(location.as_ref().clone())?
                .with_encryption(encryption.cloned())
                .delete_workspace(name, force),
        }
    }
}

fn missing_workspace(workspace: &str, place: &str) -> StateError {
    StateError::new(StateErrorKind::Workspace, format!("workspace `{workspace}` does not exist (no `{place}`)"))
        .with_help(format!(
            "create it with `infra workspace new {workspace}`, or list them with `infra workspace list`"
        ))
}

/// The root module's `state` block, if any.
pub fn state_block(module: &Module) -> Option<&StateBlock> {
    module.items().find_map(|(_, item)| match item {
        Item::State(block) => Some(block),
        _ => None,
    })
}

/// Where the state of `module` (in `module_dir`) is: the flags, then its `state` block,
/// then local files. `inputs` are the root module's resolved inputs, for the block.
pub fn location(
    module: Option<&Module>,
    inputs: &BTreeMap<String, Value>,
    module_dir: &Path,
    args: &BackendArgs,
) -> Result<StateLocation, Vec<Diagnostic>> {
    let state_error = |error: StateError| vec![error.to_diagnostic()];
    let block = module.and_then(|module| state_block(module).map(|block| (module, block)));
    // `--state-url` overrides the block: only its encryption settings, which apply
    // wherever the state is, are evaluated (its `url = env(...)` may well be unset).
    let values = match block {
        Some((module, block)) => block_values(module, block, inputs, args.state_url.is_some())?,
        None => BTreeMap::new(),
    };
    let encryption = encryption(&values).map_err(|error| match block {
        Some((_, block)) if !values.is_empty() => {
            vec![error.to_diagnostic().with_label(block.span, "in this `state` block")]
        }
        _ => state_error(error),
    })?;
    let located = |store| Ok(StateLocation { store, encryption: encryption.clone() });
    if let Some(url) = &args.state_url {
        return located(url_location(url, args.workspace_given()).map_err(|e| state_error(with_origin(e)))?);
    }
    if let Some((_, block)) = block {
        if let Some(store) = block_store(block, &values, args)? {
            return located(store);
        }
    }
    let workspace = args.workspace_name().to_string();
    infra_runtime::state::workspace::check_workspace_name(&workspace).map_err(state_error)?;
    located(Store::Local { module_dir: module_dir.to_path_buf(), workspace, allow_empty: args.allow_empty_state })
}

/// The keys to encrypt the state with: the `state` block's `encryption`, `kms_key_id`,
/// `fallback` and `fallback_kms_key_id`, with key material from the environment
/// (`INFRA_STATE_PASSPHRASE` alone is enough); `None` for a state kept in the clear.
fn encryption(values: &BTreeMap<String, String>) -> Result<Option<Encryption>, StateError> {
    let settings = infra_state_encryption::Settings {
        method: values.get("encryption").cloned(),
        kms_key_id: values.get("kms_key_id").cloned(),
        fallback: values.get("fallback").cloned(),
        fallback_kms_key_id: values.get("fallback_kms_key_id").cloned(),
    };
    let env = |name: &str| std::env::var(name).ok();
    Ok(infra_state_encryption::keyring(&settings, &env)?.map(infra_state_encryption::Keyring::into_encryption))
}

/// The location a state URL names: `s3://BUCKET/KEY`, else a PostgreSQL connection
/// string.
pub fn url_location(url: &str, workspace: Option<&str>) -> Result<Store, StateError> {
    if url.starts_with("s3://") {
        return Ok(Store::S3(Box::new(S3Location::from_url(url, workspace)?)));
    }
    Ok(Store::Postgres(Box::new(PostgresLocation::new(url, None, workspace)?)))
}

fn with_origin(error: StateError) -> StateError {
    let help = error.help.clone().unwrap_or_default();
    error.with_help(format!("{help} (the URL comes from `--state-url` or `INFRA_STATE_URL`)"))
}

/// The store a `state` block names: `state local {}` is the default, `state postgres
/// { url, schema, workspace }` a database, `state s3 { bucket, key, region, endpoint,
/// workspace_key_prefix, profile, workspace }` a bucket; every backend also takes the
/// encryption settings (see [`encryption`]). The checker has made sure the block names a
/// backend, sets only its attributes, and uses only literals, inputs and `env()`
/// (`compiler/src/check/state_block.rs`); `values` are its evaluated attributes.
fn block_store(
    block: &StateBlock,
    values: &BTreeMap<String, String>,
    args: &BackendArgs,
) -> Result<Option<Store>, Vec<Diagnostic>> {
    let backend = block.backend.name.as_str();
    if backend != "postgres" && backend != "s3" {
        return Ok(None);
    }
    let required = |name: &str| {
        values.get(name).map(String::as_str).ok_or_else(|| {
            vec![Diagnostic::error(codes::STATE_BLOCK_INVALID, format!("`state {backend}` needs a `{name}`"))
                .with_label(block.span, format!("no `{name}`"))]
        })
    };
    let workspace = args.workspace_given().or(values.get("workspace").map(String::as_str));
    let in_block = |error: StateError| vec![error.to_diagnostic().with_label(block.span, "in this `state` block")];
    if backend == "s3" {
        let mut location = S3Location::new(required("bucket")?, required("key")?, workspace).map_err(in_block)?;
        if let Some(prefix) = values.get("workspace_key_prefix") {
            location = location.with_workspace_key_prefix(prefix).map_err(in_block)?;
        }
        location.region = values.get("region").cloned();
        location.endpoint = values.get("endpoint").cloned();
        location.profile = values.get("profile").cloned();
        return Ok(Some(Store::S3(Box::new(location))));
    }
    let location = PostgresLocation::new(required("url")?, values.get("schema").map(String::as_str), workspace)
        .map_err(in_block)?;
    Ok(Some(Store::Postgres(Box::new(location))))
}

/// The values of a `state` block's attributes, each a string.
/// With `only_encryption`, only the encryption settings.
fn block_values(
    module: &Module,
    block: &StateBlock,
    inputs: &BTreeMap<String, Value>,
    only_encryption: bool,
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    const ENCRYPTION: [&str; 4] = ["encryption", "kms_key_id", "fallback", "fallback_kms_key_id"];
    let mut diagnostics = Vec::new();
    let mut values = BTreeMap::new();
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    let scope = ModuleScope::new(module, inputs.clone(), stdlib, stdlib, &env);
    for attribute in block.body.attributes() {
        let name = attribute.name.name.as_str();
        if only_encryption && !ENCRYPTION.contains(&name) {
            continue;
        }
        match scope.eval(&attribute.value) {
            Ok(value) => match value.as_str() {
                Some(text) if value.is_wholly_known() => {
                    values.insert(name.to_string(), text.to_string());
                }
                _ => diagnostics.push(
                    Diagnostic::error(codes::STATE_BLOCK_INVALID, format!("`{name}` must be a string"))
                        .with_label(attribute.value.span, "not a string")
                        .with_help("give a string, such as an input of type `string` or `env(\"NAME\")`"),
                ),
            },
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if diagnostics.is_empty() {
        Ok(values)
    } else {
        Err(diagnostics)
    }
}

/// Opens the state where the flags and the module's `state` block say it is.
struct StateAt<'a>(&'a BackendArgs);

impl OpenState for StateAt<'_> {
    fn open(
        &self,
        module: &Module,
        inputs: &BTreeMap<String, Value>,
    ) -> Result<Box<dyn StateBackend>, Vec<Diagnostic>> {
        let location = location(Some(module), inputs, &module.dir, self.0)?;
        // A backend changed without moving the state would plan every object anew.
        let given = self.0.state_url.is_some();
        crate::state::backend_change::refuse_left_behind(&location, &module.dir, given)
            .map_err(|error| vec![error.to_diagnostic()])?;
        if !given {
            crate::state::backend_change::record(&location, &module.dir);
        }
        location.backend().map_err(|error| vec![error.to_diagnostic()])
    }

    /// The local file, unless `--state-url` names another store.
    fn likely_snapshot(&self, module_dir: &Path) -> Option<PathBuf> {
        let workspace = self.0.workspace_name();
        let local = self.0.state_url.is_none().then(|| Store::local_dir(module_dir, workspace));
        local.map(|dir| LocalBackend::new(dir).state_path())
    }
}

/// What a command that plans, applies or imports needs to open its session.
pub struct Opening<'a> {
    pub module_dir: &'a Path,
    pub inputs: &'a InputArgs,
    pub backend: &'a BackendArgs,
    pub holder: LockHolder,
    pub lock_timeout: u64,
    /// The summary when the module has errors: what was not done.
    pub refusal: &'a str,
}

/// The providers of the module in `module_dir`: the built-in ones and the plugins
/// `infra init` cached, a plugin hiding a built-in provider of its name.
pub fn providers(module_dir: &Path) -> Vec<Arc<dyn ProviderFactory>> {
    let plugins = PluginFactory::cached(module_dir);
    let mut providers = infra_stdlib::providers::factories();
    providers.retain(|factory| plugins.iter().all(|plugin| plugin.name() != factory.name()));
    providers.extend(plugins.into_iter().map(|plugin| Arc::new(plugin) as Arc<dyn ProviderFactory>));
    providers
}

/// The session of the module in `module_dir` with the built-in functions and providers,
/// its state locked and loaded; or the report of why not.
pub fn open(opening: Opening<'_>) -> Result<Session<'static>, Report> {
    let stdlib = infra_stdlib::builtin();
    let resolve = |modules: &[Module], sources: &mut SourceMap| {
        // A `plugin` declaration edited since `infra init`, in any module, must not run
        // the old plugin.
        let mismatched = infra_provider_plugin::declared::check(opening.module_dir, modules);
        if !mismatched.is_empty() {
            return Err(mismatched);
        }
        crate::inputs::resolve(opening.inputs, &modules[0], sources)
    };
    // The plugins `infra init` cached are providers like the built-in ones; a plugin
    // hides a built-in provider of its name. The schemas live as long as the process.
    let schemas: &'static WithPlugins<'static> = Box::leak(Box::new(WithPlugins::new(stdlib, opening.module_dir)));
    // Their functions too, over the built-in library: `workato::asset_id(...)`.
    let functions: &'static PluginFunctions<'static> =
        Box::leak(Box::new(PluginFunctions::cached(stdlib, opening.module_dir)));
    let providers = providers(opening.module_dir);
    let options = SessionOptions {
        module_dir: opening.module_dir.to_path_buf(),
        functions,
        schemas,
        providers,
        inputs: &resolve,
        state: &StateAt(opening.backend),
        holder: opening.holder,
        lock_timeout: Duration::from_secs(opening.lock_timeout),
    };
    Session::open(options).map_err(|error| match error {
        OpenError::Module { diagnostics, sources } => {
            Report::failed(diagnostics, sources).with_summary(false, opening.refusal)
        }
        OpenError::Refused { diagnostics, sources } => Report::failed(diagnostics, sources),
        OpenError::Runtime(error) => Report::no_runtime(&error),
    })
}

/// The state location for commands that do not plan (`state`, `output`, `workspace`):
/// the module in `dir` is read only for its `state` block, and its inputs (from the
/// environment and defaults) only when that block exists. A directory without a module
/// keeps its state locally.
pub fn location_for_dir(dir: &Path, args: &BackendArgs) -> Result<StateLocation, Report> {
    if !dir.is_dir() {
        return Err(Report::error(
            codes::COMMAND_FAILED,
            &format!("the module directory `{}` does not exist", dir.display()),
            "give the directory of the root module whose state to read (`--module DIR`)",
        ));
    }
    let local = |sources: SourceMap| {
        location(None, &BTreeMap::new(), dir, args).map_err(|diagnostics| Report::failed(diagnostics, sources))
    };
    // With `--state-url` the block is still read: its encryption settings apply wherever
    // the state is (see `location`).
    let has_sources = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|entry| entry.path().extension().is_some_and(|e| e == "infra")))
        .unwrap_or(false);
    if !has_sources {
        return local(SourceMap::new());
    }
    let mut analysis = crate::check::analyze(dir);
    // A module that does not load has no `state` block to read; its state is local.
    if analysis.modules.first().is_none_or(|module| state_block(module).is_none()) {
        return local(analysis.sources);
    }
    if analysis.has_errors() {
        return Err(Report::failed(analysis.diagnostics, analysis.sources)
            .with_summary(false, "the module has errors, so its `state` block cannot be read"));
    }
    let mut sources = std::mem::take(&mut analysis.sources);
    let inputs = crate::inputs::resolve(&InputArgs::default(), &analysis.modules[0], &mut sources);
    let result = inputs.and_then(|inputs| location(Some(&analysis.modules[0]), &inputs, dir, args));
    result.map_err(|diagnostics| Report::failed(diagnostics, sources))
}
