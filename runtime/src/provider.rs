//! The provider interface: how the engine creates, reads, updates and deletes the
//! objects resources describe.
//!
//! A [`ProviderFactory`] (one per provider type, such as `local`) turns a provider
//! configuration block into a configured [`Provider`]. The engine calls a provider with an
//! instance's attributes as an object ([`Attributes`]): the configuration evaluated with
//! every upstream value known, plus the computed attributes the provider fills in.
//!
//! Values handed to a provider are known and unmarked; sensitivity is the engine's
//! business (the schema says which attributes are sensitive). Planned values may contain
//! unknowns: [`Provider::plan`] marks the computed attributes a create or update will
//! fill in as unknown.

use std::path::PathBuf;
use std::sync::Arc;

use infra_compiler::schema::ProviderSchema;

/// An instance's attributes: its object value, attribute by attribute.
pub type Attributes = crate::value::ValueMap;

/// A provider's failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    pub message: String,
    /// The attribute the error is about, so the diagnostic can point at it.
    pub attribute: Option<String>,
    pub help: Option<String>,
    /// A transient failure (throttling, a server error, a timeout) that persisted
    /// through the provider's own retries, if it has any: the engine tries the operation
    /// once more after a pause (`plan::RETRY_DELAY`), and says so.
    pub retryable: bool,
    /// About the provider's configuration, not the object (credentials it refuses): the
    /// same for every resource that uses it, so reported once, without the address.
    pub about_configuration: bool,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            message: message.into(),
            attribute: None,
            help: None,
            retryable: false,
            about_configuration: false,
        }
    }

    /// See [`ProviderError::about_configuration`].
    pub fn about_configuration(mut self) -> ProviderError {
        self.about_configuration = true;
        self
    }

    pub fn on_attribute(mut self, attribute: impl Into<String>) -> ProviderError {
        self.attribute = Some(attribute.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ProviderError {
        self.help = Some(help.into());
        self
    }

    pub fn retryable(mut self) -> ProviderError {
        self.retryable = true;
        self
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

tokio::task_local! {
    /// The warnings reported by the provider calls of the instance being planned or
    /// applied (see [`warn`]).
    static WARNINGS: std::cell::RefCell<Vec<ProviderError>>;
}

/// Reports a warning about the call in progress (a deprecated setting, a value the
/// provider adjusted): the engine shows it as a warning on the instance, on the
/// attribute it names. Returns false when no instance collects warnings (a call made
/// outside the engine), so the provider can log it instead.
pub fn warn(warning: ProviderError) -> bool {
    WARNINGS.try_with(|warnings| warnings.borrow_mut().push(warning)).is_ok()
}

/// Runs `calls` (an instance's provider calls), collecting the warnings they report.
///
/// (A combinator, not an `async fn` around an `async` block: those held `calls` three
/// times over, the argument, the block's capture and the block's awaited future, and an
/// instance's calls are about 4 kB: every instance's future was 13 kB, moved and
/// zeroed as it started.)
pub fn collecting_warnings<F: std::future::Future>(
    calls: F,
) -> impl std::future::Future<Output = (F::Output, Vec<ProviderError>)> {
    use futures_util::FutureExt;
    let collect = calls.map(|output| (output, WARNINGS.with(|warnings| warnings.take())));
    WARNINGS.scope(std::cell::RefCell::new(Vec::new()), collect)
}

/// What `read` found.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadResult {
    /// The object exists; these are its current attributes.
    Found(Attributes),
    /// The object no longer exists (deleted outside of Infra).
    Gone,
}

/// What a create in progress tells the engine: the object now exists, with these
/// attributes (at least the id that finds it again). See
/// [`Provider::create_reporting`].
#[derive(Debug)]
pub struct CreateProgress {
    sender: Option<tokio::sync::watch::Sender<Option<Attributes>>>,
}

impl CreateProgress {
    /// A progress reporter and the receiver the engine watches.
    pub fn channel() -> (CreateProgress, tokio::sync::watch::Receiver<Option<Attributes>>) {
        let (sender, receiver) = tokio::sync::watch::channel(None);
        (CreateProgress { sender: Some(sender) }, receiver)
    }

    /// A reporter nobody listens to, for calling a provider outside the engine.
    pub fn ignored() -> CreateProgress {
        CreateProgress { sender: None }
    }

    /// The object exists with `attributes`: what reading it needs, at least its id.
    pub fn exists(&self, attributes: Attributes) {
        if let Some(sender) = &self.sender {
            sender.send_replace(Some(attributes));
        }
    }
}

/// Where a provider runs.
#[derive(Clone, Debug)]
pub struct ProviderContext {
    /// The root module's directory: relative paths start there, whichever module
    /// declares the resource (as a shell started there would see them).
    pub module_dir: PathBuf,
}

/// One provider type: its schema, and configuring it.
pub trait ProviderFactory: Send + Sync {
    /// The provider type's name, such as `local`.
    fn name(&self) -> &str;
    fn schema(&self) -> &ProviderSchema;
    /// A provider configured by a `provider NAME { ... }` block (empty for the implicit
    /// default configuration).
    fn configure(&self, config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>>;
}

/// A configured provider. `kind` is the resource or data source kind (`file` for
/// `local.file`).
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Checks a configuration beyond what the schema says (mutually exclusive
    /// attributes, value ranges). Values may be unknown; check only what is known.
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        let _ = (kind, config);
        Vec::new()
    }

    /// The planned attributes after a create (`prior` is `None`) or an update: the
    /// configuration with defaults filled in and the computed attributes the operation
    /// will set marked unknown (computed attributes that do not change keep their prior
    /// value).
    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes>;

    /// [`plan`](Provider::plan), with the attributes whose change replaces the object
    /// beyond those the schema marks force-new: a Terraform plugin says so plan by plan.
    /// The default plans and names none.
    fn plan_replacing(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        Ok((self.plan(kind, prior, config)?, Vec::new()))
    }

    /// [`plan_replacing`](Provider::plan_replacing), awaited: what the engine calls. A
    /// provider whose planning waits on another process (a Terraform plugin) answers
    /// here without blocking, so the engine plans other objects meanwhile. The default
    /// calls `plan_replacing`.
    async fn plan_async(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        self.plan_replacing(kind, prior, config)
    }

    /// Creates the object; returns its attributes, every one known.
    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes>;

    /// Creates the object as [`create`](Provider::create) does, telling `progress` as
    /// soon as the object exists (its id known) when the create goes on after that:
    /// a server polled until it runs. The engine journals what it is told, so if Infra
    /// stops before the create returns, the next plan reads the object instead of
    /// making a second one. The default calls `create` and tells nothing.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let _ = progress;
        self.create(kind, planned).await
    }

    /// The object as state holds it (`stored`), brought to the provider's current form
    /// when it was recorded under an older one: a Terraform plugin upgrades state written
    /// under an older schema version. `None` when it is current (the default). The engine
    /// asks before reading or planning an object, so an upgrade is never drift.
    async fn upgrade(&self, kind: &str, stored: &Attributes) -> ProviderResult<Option<Attributes>> {
        let _ = (kind, stored);
        Ok(None)
    }

    /// Reads the object as it is now, to detect drift.
    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult>;

    /// Told before a plan refreshes: it will read `count` objects of `kind` through this
    /// provider configuration. A provider whose API lists a kind in one request may then
    /// read the list once and answer each `read` from it, instead of one request per
    /// object. The default does nothing.
    fn expect_reads(&self, kind: &str, count: usize) {
        let _ = (kind, count);
    }

    /// Told, once configured, of each object the state holds for this configuration, as
    /// recorded (`stored`), whether or not the plan refreshes: what an object recorded
    /// about where it lives (a server's host key) can then be checked by every
    /// operation of the run, a create too, before it reaches the server. The default
    /// does nothing.
    fn recorded(&self, kind: &str, stored: &Attributes) {
        let _ = (kind, stored);
    }

    /// Changes the object in place; only called when no changed attribute is force-new.
    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes>;

    /// Deletes the object. Deleting one that is already gone is not an error.
    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()>;

    /// Deletes the old object of a replacement made with `create_before_destroy`, once
    /// `replacement`, the new object, exists. The default deletes it; a kind whose
    /// objects the configuration names (a file by its path) leaves alone what the
    /// replacement took over, since deleting it would delete the new object.
    async fn delete_replaced(&self, kind: &str, old: &Attributes, replacement: &Attributes) -> ProviderResult<()> {
        let _ = replacement;
        self.delete(kind, old).await
    }

    /// Finds an existing object by the id a user gives to `import`.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let _ = id;
        Err(ProviderError::new(format!("`{kind}` cannot be imported")))
    }

    /// Reads a data source.
    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let _ = config;
        Err(ProviderError::new(format!("no data source `{kind}`")))
    }

    /// Told once when the run is interrupted (Ctrl-C): operations in flight should end
    /// as soon as they safely can, reporting what they did. Called from another task
    /// than the operations; it must not wait for them. The default does nothing, so
    /// operations in flight finish.
    fn stop(&self) {}
}

/// An apply's interruption: set by Ctrl-C, it stops the engine from starting new
/// operations and tells every provider configured for the run to [`stop`](Provider::stop).
#[derive(Default)]
pub struct Interrupt {
    set: std::sync::atomic::AtomicBool,
    providers: std::sync::Mutex<Vec<Arc<dyn Provider>>>,
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Interrupts the run: no new operation starts, and each provider is told to stop.
    pub fn interrupt(&self) {
        if self.set.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let providers = std::mem::take(&mut *self.providers.lock().unwrap_or_else(|e| e.into_inner()));
        for provider in providers {
            provider.stop();
        }
    }

    pub fn is_set(&self) -> bool {
        self.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A provider configured for the run, to be told when the run is interrupted (at
    /// once, when it already is).
    pub fn watch(&self, provider: &Arc<dyn Provider>) {
        let mut providers = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        match self.is_set() {
            true => provider.stop(),
            false => providers.push(provider.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_reach_the_instance_whose_calls_report_them() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert!(!warn(ProviderError::new("nobody listens")), "outside the engine, a warning is the provider's to log");
        let calls = async {
            assert!(warn(ProviderError::new("deprecated setting").on_attribute("size")));
            tokio::task::yield_now().await;
            warn(ProviderError::new("value adjusted"));
            7
        };
        // Two instances planned concurrently keep their own warnings.
        let other = collecting_warnings(async {
            warn(ProviderError::new("other instance"));
        });
        let ((value, warnings), (_, others)) =
            runtime.block_on(async { tokio::join!(collecting_warnings(calls), other) });
        assert_eq!(value, 7);
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(messages, ["deprecated setting", "value adjusted"]);
        assert_eq!(warnings[0].attribute.as_deref(), Some("size"));
        assert_eq!(others.len(), 1);
    }

    /// Collecting holds an instance's calls once: the future every instance's plan (and
    /// apply) runs in is not three times their size.
    #[test]
    fn collecting_warnings_holds_the_calls_once() {
        let calls = async {
            let held = [7u8; 4096];
            tokio::task::yield_now().await;
            held.iter().map(|&b| usize::from(b)).sum::<usize>()
        };
        let calls_size = std::mem::size_of_val(&calls);
        assert!(calls_size > 4096);
        let collecting = collecting_warnings(calls);
        let size = std::mem::size_of_val(&collecting);
        assert!(size < calls_size + 128, "{size} bytes for calls of {calls_size}");
    }
}
