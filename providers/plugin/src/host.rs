//! A plugin as one of Infra's runtime providers: [`PluginFactory`] is a plugin whose
//! schema `infra init` cached, and each provider configuration that a plan uses starts
//! one plugin process (when the engine first needs that configuration, so a plan that
//! uses none starts none), configures it, and stops it when the session ends.
//!
//! The process and its gRPC connection live on a thread of their own with its own async
//! runtime: the engine's calls, synchronous (`plan`) or not, hand their request over and
//! wait for the answer, so no call blocks the engine's runtime on itself.
//!
//! The lifecycle, as Terraform drives it:
//! - plan: `PlanResourceChange` with the prior state, the configuration, and the
//!   proposed new state (the configuration, with the prior value of each computed
//!   attribute the configuration leaves null, in nested blocks too: `proposed.rs`); the
//!   plugin's `requires_replace` names the attributes whose change replaces the object.
//! - create, update, delete: `ApplyResourceChange` (a delete plans a null state).
//! - read: `ReadResource`; a null state means the object is gone.
//! - data sources: `ReadDataSource`. Import: `ImportResourceState`, then a read.
//!
//! A plugin's private data for an object (opaque bytes it asks the host to keep) is
//! kept in Infra's state as the object's attribute `__plugin_private`, Base64, when
//! the plugin gives any; it is marked sensitive, so it is never shown, and it is never
//! sent back as an attribute. Error diagnostics become provider errors on the attribute
//! their path starts with; warnings are written to the plugin's log.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use infra_compiler::schema::ProviderSchema;
use infra_runtime::provider::{
    Attributes, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;

use crate::client::{Connection, PathStep, PluginDiagnostic, PluginError};
use crate::convert::{attributes_from_plugin, attributes_to_plugin, inexact_numbers, restore_exact_numbers};
use crate::handshake::{self, ClientCertificate, StartOptions};
use crate::lifecycle::{Kind, Planned};
use crate::proposed::proposed_new;
use crate::schema::{Block, CachedPlugin, PluginSchema, SchemaCache};
use crate::values::PluginValue;

/// The attribute Infra's state keeps a plugin's private data for an object in.
pub const PRIVATE: &str = "__plugin_private";

/// The attribute Infra's state keeps the schema version an object was written under, when
/// it is not 0 (Terraform's `schema_version`; absent means 0).
pub const SCHEMA_VERSION: &str = "__plugin_schema_version";

/// The attribute Infra's state keeps, for an object whose state holds whole numbers a
/// 64-bit float cannot hold exactly (an int64 id beyond 2^53), each number's exact text
/// by its path (`{"[\"id\"]": "9007199254740993"}`): the attributes hold them rounded,
/// and the plugin is sent the exact numbers back.
pub const NUMBERS: &str = "__plugin_numbers";

/// How long a plugin has to start and answer its handshake.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A cached plugin, ready to be started for each of its provider configurations.
pub struct PluginFactory {
    /// The name the configuration declares it under (`workato`).
    name: String,
    plugin: Arc<Plugin>,
    infra: ProviderSchema,
}

/// What every configuration of one plugin shares.
struct Plugin {
    /// The name the configuration declares it under, which errors name it by.
    name: String,
    provider_type: String,
    /// Its program, when installed; why not, when not.
    program: Result<PathBuf, String>,
    /// Where its standard error goes: `.infra/plugins/logs/NAME.log`, or `INFRA_LOG_PATH`.
    log: PathBuf,
    schema: PluginSchema,
}

impl PluginFactory {
    /// A factory for every plugin cached for the root module in `module_dir`.
    pub fn cached(module_dir: &Path) -> Vec<PluginFactory> {
        let Some(cache) = SchemaCache::read(module_dir) else { return Vec::new() };
        let providers = cache.providers();
        cache
            .plugins
            .into_iter()
            .filter_map(|(name, cached)| {
                let infra = providers.get(&name)?.clone();
                let program = installed_program(module_dir, &cached);
                let log = crate::handshake::log_path(module_dir, &name);
                let plugin = Plugin {
                    name: name.clone(),
                    provider_type: cached.provider_type,
                    program,
                    log,
                    schema: cached.schema,
                };
                Some(PluginFactory { name, plugin: Arc::new(plugin), infra })
            })
            .collect()
    }
}

/// The program of a cached plugin in `.infra/plugins/`.
pub(crate) fn installed_program(module_dir: &Path, cached: &CachedPlugin) -> Result<PathBuf, String> {
    let dir = module_dir
        .join(crate::install::PLUGIN_DIR)
        .join(&cached.source)
        .join(&cached.version)
        .join(crate::current_platform());
    crate::schema::program(&dir, &cached.provider_type)
}

impl ProviderFactory for PluginFactory {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> &ProviderSchema {
        &self.infra
    }

    fn configure(&self, config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let plugin = &self.plugin;
        let program = plugin.program.clone().map_err(|problem| {
            ProviderError::new(format!("plugin `{}` is not installed: {problem}", self.name))
                .with_help("run `infra init` to install the plugins the configuration declares")
        })?;
        if let Some(parent) = plugin.log.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let running = Running::start(&program, &plugin.log).map_err(|e| self.failed(&e))?;
        let config = attributes_to_plugin(config).map_err(ProviderError::new)?;
        let block = plugin.schema.provider.clone();
        let mut connection = running.connection.clone();
        let answer = running.block(async move {
            let validated = connection.validate_provider_config(&config, &block).await?;
            if validated.iter().any(|d| d.error) {
                return Ok(validated);
            }
            let mut configured = connection.configure_provider(&config, &block).await?;
            configured.extend(validated);
            Ok(configured)
        });
        let diagnostics = answer.and_then(|a| a).map_err(|e| self.failed(&e))?;
        let provider = PluginProvider { running, plugin: self.plugin.clone() };
        provider.checked(diagnostics)?;
        Ok(Arc::new(provider))
    }
}

impl PluginFactory {
    fn failed(&self, error: &PluginError) -> ProviderError {
        ProviderError::new(format!("plugin `{}`: {error}", self.name))
            .with_help(format!("its log is {}", self.plugin.log.display()))
    }
}

/// A started plugin: its connection, and the runtime its calls run on. Dropping it ends
/// the thread, which stops the process.
pub(crate) struct Running {
    pub(crate) connection: Connection,
    handle: tokio::runtime::Handle,
    /// Dropped to tell the thread to stop the plugin.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub(crate) fn start(program: &Path, log: &Path) -> Result<Running, PluginError> {
        let (program, log) = (program.to_path_buf(), log.to_path_buf());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("plugin".to_string())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(PluginError::Connect(e.to_string())));
                        return;
                    }
                };
                let started = (|| {
                    let certificate =
                        ClientCertificate::generate().map_err(|e| PluginError::Certificate(e.to_string()))?;
                    let options = StartOptions {
                        program: &program,
                        client_certificate: Some(&certificate),
                        log: &log,
                        timeout: START_TIMEOUT,
                    };
                    let process = handshake::start(&options)?;
                    let connection = runtime.block_on(Connection::open(&process, &certificate))?;
                    Ok((process, connection))
                })();
                match started {
                    Ok((process, connection)) => {
                        let _ = ready_tx.send(Ok((connection, runtime.handle().clone())));
                        // Serves the calls until told to stop (or the host is gone).
                        let _ = runtime.block_on(stop_rx);
                        drop(process);
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            })
            .map_err(|e| PluginError::Connect(e.to_string()))?;
        let (connection, handle) = ready_rx
            .recv()
            .map_err(|_| PluginError::Connect("the plugin's thread ended before it started".to_string()))??;
        Ok(Running { connection, handle, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// Runs `call` on the plugin's runtime and waits for it, from synchronous code.
    pub(crate) fn block<T: Send + 'static>(
        &self,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, PluginError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.handle.spawn(async move {
            let _ = tx.send(call.await);
        });
        rx.recv().map_err(|_| PluginError::Connect("the plugin stopped".to_string()))
    }

    /// Runs `call` on the plugin's runtime and awaits it.
    async fn run<T: Send + 'static>(&self, call: impl Future<Output = T> + Send + 'static) -> Result<T, PluginError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.handle.spawn(async move {
            let _ = tx.send(call.await);
        });
        rx.await.map_err(|_| PluginError::Connect("the plugin stopped".to_string()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One configured plugin provider.
struct PluginProvider {
    running: Running,
    plugin: Arc<Plugin>,
}

/// A kind's Terraform name and schema, owned so a call can take it to the plugin's
/// runtime.
#[derive(Clone)]
struct OwnedKind {
    type_name: String,
    block: Block,
    /// The schema version the plugin writes objects of the kind under.
    version: i64,
}

impl OwnedKind {
    fn borrowed(&self) -> Kind<'_> {
        Kind { type_name: &self.type_name, block: &self.block }
    }
}

impl PluginProvider {
    /// The resource kind `kind` (`folder` for `workato_folder`).
    fn resource(&self, kind: &str) -> ProviderResult<OwnedKind> {
        self.find(kind, &self.plugin.schema.resources, "resource")
    }

    fn data_source(&self, kind: &str) -> ProviderResult<OwnedKind> {
        self.find(kind, &self.plugin.schema.data_sources, "data source")
    }

    fn find(
        &self,
        kind: &str,
        kinds: &BTreeMap<String, crate::schema::Versioned>,
        what: &str,
    ) -> ProviderResult<OwnedKind> {
        let prefixed = format!("{}_{kind}", self.plugin.provider_type);
        [prefixed, kind.to_string()]
            .into_iter()
            .find_map(|name| {
                kinds.get(&name).map(|v| OwnedKind { type_name: name, block: v.block.clone(), version: v.version })
            })
            .ok_or_else(|| ProviderError::new(format!("the plugin has no {what} `{kind}`")))
    }

    fn checked(&self, diagnostics: Vec<PluginDiagnostic>) -> ProviderResult<()> {
        checked(diagnostics, &self.plugin.log)
    }

    /// A call that failed (not one the plugin answered with diagnostics): named after
    /// the plugin, with its log, which says why when the plugin crashed.
    fn call_failed(&self, error: PluginError) -> ProviderError {
        let log = self.plugin.log.display();
        let help = match &error {
            PluginError::Call { message, .. } if is_transport(message) => {
                format!("the plugin's process stopped or dropped its connection; its log is {log}")
            }
            _ => format!("the plugin's log is {log}"),
        };
        ProviderError::new(format!("plugin `{}`: {error}", self.plugin.name)).with_help(help)
    }

    fn body(&self, attributes: &Attributes) -> ProviderResult<(PluginValue, Vec<u8>)> {
        let mut attributes = attributes.clone();
        attributes.remove(SCHEMA_VERSION);
        let private = attributes.remove(PRIVATE).and_then(|v| v.as_str().map(str::to_string));
        let private =
            private.and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok()).unwrap_or_default();
        let exact = attributes.remove(NUMBERS).map(|recorded| recorded_numbers(&recorded)).unwrap_or_default();
        let mut body = attributes_to_plugin(&attributes).map_err(ProviderError::new)?;
        restore_exact_numbers(&mut body, &exact);
        Ok((body, private))
    }

    /// A state the plugin answered as attributes, with its private data.
    fn attributes(&self, state: &PluginValue, block: &Block, private: &[u8]) -> ProviderResult<Attributes> {
        let mut attributes = attributes_from_plugin(state, block)
            .map_err(|e| ProviderError::new(format!("the plugin's answer does not fit its schema: {e}")))?;
        let inexact = inexact_numbers(state);
        if !inexact.is_empty() {
            let recorded = inexact.into_iter().map(|(path, exact)| (path, Value::string(exact))).collect();
            attributes.insert(NUMBERS.to_string(), Value::map(recorded));
        }
        if !private.is_empty() {
            let encoded = base64::engine::general_purpose::STANDARD.encode(private);
            attributes.insert(PRIVATE.to_string(), Value::string(encoded).mark_sensitive());
        }
        Ok(attributes)
    }

    /// An object's state as the plugin answered it, recorded under `version`.
    fn object(
        &self,
        state: &PluginValue,
        kind: &OwnedKind,
        private: &[u8],
        version: i64,
    ) -> ProviderResult<Attributes> {
        let mut attributes = self.attributes(state, &kind.block, private)?;
        if version != 0 {
            attributes.insert(SCHEMA_VERSION.to_string(), Value::number(version as f64));
        }
        Ok(attributes)
    }

    /// `stored` as the kind's current schema has it: a state written under an older
    /// schema version is upgraded by the plugin (`UpgradeResourceState`, from the state's
    /// JSON, as Terraform does before using stored state); one written under a newer
    /// version than the plugin's is an error. Returns `stored` itself when its version
    /// is the plugin's.
    fn upgrade_call(
        &self,
        kind: &OwnedKind,
        stored: &Attributes,
    ) -> ProviderResult<Option<impl Future<Output = Result<UpgradeAnswer, PluginError>> + Send + 'static>> {
        let version = stored_version(stored);
        if version == kind.version {
            return Ok(None);
        }
        if version > kind.version {
            return Err(ProviderError::new(format!(
                "this object was written by a newer version of the plugin: `{}` schema version {version}, \
                 the installed plugin has {}",
                kind.type_name, kind.version
            ))
            .with_help(
                "install the plugin version that wrote it (`.infra.lock` names the version locked), then run again",
            ));
        }
        let (state, private) = self.body(stored)?;
        let json = serde_json::to_vec(&json_of(&state)).map_err(|e| ProviderError::new(e.to_string()))?;
        let mut connection = self.running.connection.clone();
        let kind = kind.clone();
        Ok(Some(async move {
            let (state, diagnostics) = connection.upgrade_resource_state(&kind.borrowed(), version, json).await?;
            Ok(UpgradeAnswer { state, diagnostics, private })
        }))
    }

    /// The attributes an upgrade answered.
    fn upgraded(&self, kind: &OwnedKind, answer: UpgradeAnswer) -> ProviderResult<Attributes> {
        self.checked(answer.diagnostics)?;
        self.object(&answer.state, kind, &answer.private, kind.version)
    }

    /// `stored`, upgraded to the kind's current schema when it is older (`None` when it
    /// is current).
    async fn upgraded_state(&self, kind: &OwnedKind, stored: &Attributes) -> ProviderResult<Option<Attributes>> {
        let Some(call) = self.upgrade_call(kind, stored)? else { return Ok(None) };
        let answer = self.running.run(call).await.and_then(|a| a).map_err(|e| self.call_failed(e))?;
        self.upgraded(kind, answer).map(Some)
    }

    /// `stored`, upgraded to the kind's current schema when it is older.
    async fn current(&self, kind: &OwnedKind, stored: &Attributes) -> ProviderResult<Attributes> {
        Ok(self.upgraded_state(kind, stored).await?.unwrap_or_else(|| stored.clone()))
    }

    /// [`current`](Self::current), from synchronous code.
    fn current_blocking(&self, kind: &OwnedKind, stored: &Attributes) -> ProviderResult<Attributes> {
        match self.upgrade_call(kind, stored)? {
            None => Ok(stored.clone()),
            Some(call) => {
                let answer = self.running.block(call).and_then(|a| a).map_err(|e| self.call_failed(e))?;
                self.upgraded(kind, answer)
            }
        }
    }

    /// Creates, updates (`prior` given) or deletes (`planned` null) an object.
    async fn apply(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        planned: Option<&Attributes>,
    ) -> ProviderResult<Attributes> {
        let resource = self.resource(kind)?;
        let (prior, prior_private) = match prior {
            Some(prior) => self.body(&self.current(&resource, prior).await?)?,
            None => (PluginValue::Null, Vec::new()),
        };
        // A delete keeps the private data the object had.
        let (planned, private) = match planned {
            Some(planned) => self.body(planned)?,
            None => (PluginValue::Null, prior_private),
        };
        // The configuration as the plan had it: what is still unknown is what it left unset.
        let config = without_unknowns(&planned);
        let mut connection = self.running.connection.clone();
        let kind_owned = resource.clone();
        let answer = self
            .running
            .run(async move {
                let kind = kind_owned.borrowed();
                connection.apply_resource_change(&kind, &prior, &planned, &config, &private).await
            })
            .await
            .and_then(|a| a)
            .map_err(|e| self.call_failed(e))?;
        self.checked(answer.diagnostics)?;
        let attributes = self.object(&answer.state, &resource, &answer.private, resource.version)?;
        warn_inexact(&attributes);
        if let Some((name, _)) = attributes.iter().find(|(_, v)| !v.is_wholly_known()) {
            return Err(
                ProviderError::new(format!("the plugin left `{name}` unknown after applying")).on_attribute(name)
            );
        }
        Ok(attributes)
    }
}

/// What a plan's answer is read with: the version the object was recorded under, and
/// the private data it keeps (none for a create).
struct PlanRequest {
    recorded_version: i64,
    private: Vec<u8>,
}

impl PluginProvider {
    /// The `PlanResourceChange` call for `config` over `prior` (as recorded) and `current`
    /// (`prior` at the plugin's schema version), to run on the plugin's runtime.
    fn plan_call(
        &self,
        resource: &OwnedKind,
        prior: Option<&Attributes>,
        current: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(impl Future<Output = Result<Planned, PluginError>> + Send + 'static, PlanRequest)> {
        // The plan keeps the version the object was recorded under, so it shows no change
        // of it; the apply records the plugin's.
        let recorded_version = prior.map_or(resource.version, stored_version);
        let (prior, prior_private) = match current {
            Some(current) => self.body(current)?,
            None => (PluginValue::Null, Vec::new()),
        };
        let (config, _) = self.body(config)?;
        let proposed = proposed_new(&resource.block, &prior, &config);
        // The planned object keeps the private data it had, so a plan shows no change
        // of it (the plugin's answer to an apply replaces it); a create's plan has none.
        let request = PlanRequest { recorded_version, private: prior_private.clone() };
        let mut connection = self.running.connection.clone();
        let kind = resource.clone();
        let call = async move {
            connection.plan_resource_change(&kind.borrowed(), &prior, &proposed, &config, &prior_private).await
        };
        Ok((call, request))
    }

    /// The planned object and the attributes whose change replaces it.
    fn planned(
        &self,
        resource: &OwnedKind,
        answer: Planned,
        request: &PlanRequest,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        self.checked(answer.diagnostics)?;
        let planned = self.object(&answer.state, resource, &request.private, request.recorded_version)?;
        let replacing = answer
            .requires_replace
            .iter()
            .filter_map(|path| match path.first() {
                Some(PathStep::Attribute(name)) => Some(name.clone()),
                _ => None,
            })
            .collect();
        Ok((planned, replacing))
    }
}

/// The exact numbers recorded in an object's [`NUMBERS`] attribute: path → exact text.
fn recorded_numbers(recorded: &Value) -> Vec<(String, String)> {
    match &recorded.kind {
        infra_runtime::Kind::Map(entries) => {
            entries.iter().filter_map(|(path, exact)| Some((path.to_string(), exact.as_str()?.to_string()))).collect()
        }
        _ => Vec::new(),
    }
}

/// A warning for each whole number of a created, updated or imported object that Infra's
/// numbers hold rounded: expressions that read it get the rounded number.
fn warn_inexact(attributes: &Attributes) {
    let Some(recorded) = attributes.get(NUMBERS) else { return };
    for (path, exact) in recorded_numbers(recorded) {
        let steps: Vec<serde_json::Value> = serde_json::from_str(&path).unwrap_or_default();
        let attribute = steps.first().and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        let rounded = exact.parse::<f64>().map(|n| Value::number(n).to_string()).unwrap_or_default();
        let mut warning = ProviderError::new(format!(
            "the plugin answered {exact} for `{}`, a whole number beyond 2^53 that Infra's numbers hold as {rounded}",
            display_steps(&steps)
        ))
        .with_help(
            "Infra sends the plugin the exact number back, so the object stays the same; an expression that reads \
             it gets the rounded number, so do not build other values (an id in a URL, another resource's \
             argument) from it",
        );
        if !attribute.is_empty() {
            warning = warning.on_attribute(&attribute);
        }
        infra_runtime::provider::warn(warning);
    }
}

/// A path of keys and indexes (as JSON) as the language writes the access, as the state's
/// paths are shown: `rule[0].owner`.
fn display_steps(steps: &[serde_json::Value]) -> String {
    use infra_runtime::state::PathStep;
    let steps: Vec<PathStep> = steps
        .iter()
        .filter_map(|step| match step {
            serde_json::Value::String(key) => Some(PathStep::Key(key.clone())),
            other => other.as_u64().map(PathStep::Index),
        })
        .collect();
    infra_runtime::state::json::display_path(&steps)
}

/// What `UpgradeResourceState` answered, with the object's private data (kept as it was).
struct UpgradeAnswer {
    state: PluginValue,
    diagnostics: Vec<PluginDiagnostic>,
    private: Vec<u8>,
}

/// The schema version an object's state was recorded under (absent: 0).
fn stored_version(attributes: &Attributes) -> i64 {
    attributes.get(SCHEMA_VERSION).and_then(Value::as_number).map_or(0, |v| v as i64)
}

/// A body as Terraform writes state: JSON, sets and tuples as arrays.
fn json_of(value: &PluginValue) -> serde_json::Value {
    match value {
        PluginValue::Null | PluginValue::Unknown => serde_json::Value::Null,
        PluginValue::Bool(b) => serde_json::Value::Bool(*b),
        PluginValue::Number(n) => serde_json::Value::Number(n.clone()),
        PluginValue::String(s) => serde_json::Value::String(s.clone()),
        PluginValue::List(items) => serde_json::Value::Array(items.iter().map(json_of).collect()),
        PluginValue::Map(fields) => {
            serde_json::Value::Object(fields.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

/// Appends `line` to a plugin's log, marked as Infra's.
fn log_line(log: &Path, line: &str) {
    use std::io::Write;
    if let Ok(mut file) = crate::logs::append(log) {
        let _ = writeln!(file, "[infra] {line}");
    }
}

/// Whether a failed call's status says the connection itself broke (tonic reports a
/// peer that went away as `Unknown: transport error` or `Unavailable`).
fn is_transport(message: &str) -> bool {
    message.contains("transport error") || message.starts_with("Unavailable")
}

/// A plugin's diagnostic as a provider error: on the attribute its path starts with.
/// A call's diagnostics from the plugin: the first error as the call's error (on the
/// attribute its path names); each warning to the instance being planned or applied
/// (W0610, on its attribute) and always to the plugin's log at `log`.
fn checked(diagnostics: Vec<PluginDiagnostic>, log: &Path) -> ProviderResult<()> {
    let mut first = None;
    for diagnostic in diagnostics {
        if !diagnostic.error {
            log_line(log, &format!("warning: {}", text(&diagnostic)));
            infra_runtime::provider::warn(diagnostic_error(&diagnostic, log));
        } else if first.is_none() {
            first = Some(diagnostic);
        }
    }
    match first {
        None => Ok(()),
        Some(diagnostic) => Err(diagnostic_error(&diagnostic, log)),
    }
}

fn diagnostic_error(diagnostic: &PluginDiagnostic, log: &Path) -> ProviderError {
    let error = ProviderError::new(text(diagnostic))
        .with_help(format!("the plugin reported this; its log is {}", log.display()));
    match diagnostic.path.first() {
        Some(PathStep::Attribute(name)) => error.on_attribute(name),
        _ => error,
    }
}

fn text(diagnostic: &PluginDiagnostic) -> String {
    match diagnostic.detail.is_empty() {
        true => diagnostic.summary.clone(),
        false => format!("{}: {}", diagnostic.summary, diagnostic.detail),
    }
}

/// A body with every unknown attribute null.
fn without_unknowns(body: &PluginValue) -> PluginValue {
    match body {
        PluginValue::Map(fields) => PluginValue::Map(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), if *v == PluginValue::Unknown { PluginValue::Null } else { v.clone() }))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[async_trait::async_trait]
impl Provider for PluginProvider {
    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        self.plan_replacing(kind, prior, config).map(|(planned, _)| planned)
    }

    fn plan_replacing(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let resource = self.resource(kind)?;
        let current = prior.map(|prior| self.current_blocking(&resource, prior)).transpose()?;
        let (call, request) = self.plan_call(&resource, prior, current.as_ref(), config)?;
        let answer = self.running.block(call).and_then(|a| a).map_err(|e| self.call_failed(e))?;
        self.planned(&resource, answer, &request)
    }

    /// [`plan_replacing`](Self::plan_replacing), awaiting the plugin's answer, so the
    /// engine plans other objects meanwhile (the plugin answers calls concurrently).
    async fn plan_async(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let resource = self.resource(kind)?;
        let current = match prior {
            Some(prior) => Some(self.current(&resource, prior).await?),
            None => None,
        };
        let (call, request) = self.plan_call(&resource, prior, current.as_ref(), config)?;
        let answer = self.running.run(call).await.and_then(|a| a).map_err(|e| self.call_failed(e))?;
        self.planned(&resource, answer, &request)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.apply(kind, None, Some(planned)).await
    }

    async fn upgrade(&self, kind: &str, stored: &Attributes) -> ProviderResult<Option<Attributes>> {
        self.upgraded_state(&self.resource(kind)?, stored).await
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        let resource = self.resource(kind)?;
        let (current, private) = self.body(&self.current(&resource, current).await?)?;
        let mut connection = self.running.connection.clone();
        let kind_owned = resource.clone();
        let answer = self
            .running
            .run(async move { connection.read_resource(&kind_owned.borrowed(), &current, &private).await })
            .await
            .and_then(|a| a)
            .map_err(|e| self.call_failed(e))?;
        self.checked(answer.diagnostics)?;
        if answer.state == PluginValue::Null {
            return Ok(ReadResult::Gone);
        }
        Ok(ReadResult::Found(self.object(&answer.state, &resource, &answer.private, resource.version)?))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        self.apply(kind, Some(prior), Some(planned)).await
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        self.apply(kind, Some(current), None).await.map(|_| ())
    }

    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let resource = self.resource(kind)?;
        let mut connection = self.running.connection.clone();
        let (kind_owned, id_owned) = (resource.clone(), id.to_string());
        let (imported, diagnostics) = self
            .running
            .run(async move { connection.import_resource_state(&kind_owned.borrowed(), &id_owned).await })
            .await
            .and_then(|a| a)
            .map_err(|e| self.call_failed(e))?;
        self.checked(diagnostics)?;
        let Some(found) = imported.into_iter().next() else {
            return Err(ProviderError::new(format!("the plugin found no `{kind}` with id `{id}`")));
        };
        let attributes = self.object(&found.state, &resource, &found.private, resource.version)?;
        warn_inexact(&attributes);
        // What an import finds is read again, as Terraform does: it may hold only the id.
        match self.read(kind, &attributes).await? {
            ReadResult::Found(attributes) => Ok(attributes),
            ReadResult::Gone => Err(ProviderError::new(format!("the plugin found no `{kind}` with id `{id}`"))),
        }
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let source = self.data_source(kind)?;
        let (config, _) = self.body(config)?;
        let mut connection = self.running.connection.clone();
        let kind_owned = source.clone();
        let (state, diagnostics) = self
            .running
            .run(async move { connection.read_data_source(&kind_owned.borrowed(), &config).await })
            .await
            .and_then(|a| a)
            .map_err(|e| self.call_failed(e))?;
        self.checked(diagnostics)?;
        // A data source is never sent back: the exact numbers are only warned about.
        let mut attributes = self.attributes(&state, &source.block, &[])?;
        warn_inexact(&attributes);
        attributes.remove(NUMBERS);
        Ok(attributes)
    }

    /// Sends `StopProvider` (`Stop` in protocol 5) without waiting for the answer: the
    /// plugin cancels what it is doing, and its operations in flight return.
    fn stop(&self) {
        let mut connection = self.running.connection.clone();
        let log = self.plugin.log.clone();
        self.running.handle.spawn(async move {
            log_line(&log, "interrupted: asking the plugin to stop (StopProvider)");
            match connection.stop().await {
                Ok(()) => log_line(&log, "the plugin acknowledged StopProvider"),
                Err(error) => log_line(&log, &format!("StopProvider failed: {error}")),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(error: bool, summary: &str, attribute: Option<&str>) -> PluginDiagnostic {
        let path = attribute.map(|name| vec![PathStep::Attribute(name.to_string())]).unwrap_or_default();
        PluginDiagnostic { error, summary: summary.to_string(), detail: String::new(), path }
    }

    /// A rounded number's warning names it where it is, as the language writes the access.
    #[test]
    fn an_inexact_numbers_warning_names_its_path_as_the_language_does() {
        let steps: Vec<serde_json::Value> = serde_json::from_str(r#"["rule",0,"owner id"]"#).unwrap();
        assert_eq!(display_steps(&steps), r#"rule[0]["owner id"]"#);
        let mut attributes = Attributes::new();
        let recorded = [(r#"["size"]"#.to_string(), Value::string("9007199254740993"))];
        attributes.insert(NUMBERS.to_string(), Value::map(recorded.into_iter().collect()));
        let ((), warnings) = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(infra_runtime::provider::collecting_warnings(async { warn_inexact(&attributes) }));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].attribute.as_deref(), Some("size"));
        assert!(warnings[0].message.contains("9007199254740993 for `size`"), "{}", warnings[0].message);
        assert!(warnings[0].message.contains("as 9007199254740992"), "{}", warnings[0].message);
    }

    #[test]
    fn a_plugins_warnings_reach_the_instance_and_its_log_and_its_first_error_fails_the_call() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("plugin.log");
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let diagnostics = vec![
            diagnostic(false, "Attribute Deprecated", Some("size")),
            diagnostic(true, "Invalid name", Some("name")),
            diagnostic(true, "second error", None),
        ];
        let (result, warnings) =
            runtime.block_on(infra_runtime::provider::collecting_warnings(async { checked(diagnostics, &log) }));
        let error = result.unwrap_err();
        assert_eq!((error.message.as_str(), error.attribute.as_deref()), ("Invalid name", Some("name")));
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            (warnings[0].message.as_str(), warnings[0].attribute.as_deref()),
            ("Attribute Deprecated", Some("size"))
        );
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.contains("warning: Attribute Deprecated"), "{logged}");
    }
}
