//! Performing operations: each one journaled (begun, then completed or failed) and
//! its result recorded in state before anything depends on it.

use std::collections::BTreeSet;
use std::sync::Arc;

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::schema::Schema;

use super::engine::Engine;
use super::secrets::Secrets;
use super::steps::Subject;
use super::{deposed_address, Event};
use crate::address::Address;
use crate::diff::Action;
use crate::provider::{Attributes, CreateProgress, Provider, ProviderError, ReadResult};
use crate::state::{Action as JournalAction, JournalEntry, Mode};

/// What the journal says of a failed operation: the provider's message may quote a
/// secret (a command's stderr can), and the journal is a file on disk.
const FAILED_IN_JOURNAL: &str = "the provider reported an error (shown when it happened)";

/// What the journal says of an operation journaled as begun that never reached its
/// provider: the run was interrupted while it waited for a slot.
const NOT_STARTED: &str = "not started: the run was interrupted";

/// An operation slot (`--parallelism`), held while the provider is called.
type Slot<'e> = Result<tokio::sync::SemaphorePermit<'e>, tokio::sync::AcquireError>;

/// A provider operation's context.
pub(super) struct Operation<'p> {
    pub provider: &'p Arc<dyn Provider>,
    pub kind: &'p str,
    pub resource_type: &'p str,
    /// The provider configuration that manages the object, as state records it.
    pub config_name: &'p str,
    /// The declarations the object depends on.
    pub dependencies: &'p [Address],
    /// The digest of the instance's `replace_when` values.
    pub triggers: Option<String>,
    /// The resource kind's schema: how its attributes' values compare.
    pub schema: &'p Schema,
    /// What to take out of the provider's messages about the object.
    pub secrets: &'p Secrets,
}

impl Operation<'_> {
    /// The state's instance of this operation's object with `attributes`, those named in
    /// `sensitive` marked.
    fn instance(&self, attributes: &Attributes, sensitive: &BTreeSet<String>) -> crate::state::Instance {
        let marked: Attributes =
            attributes.iter().map(|(k, v)| (k.clone(), v.clone().with_mark(sensitive.contains(k.as_str())))).collect();
        crate::state::Instance::new(Mode::Managed, self.resource_type, self.config_name)
            .with_attributes(marked)
            .with_dependencies(self.dependencies.to_vec())
            .with_triggers(self.triggers.clone())
    }

    /// What the provider returned, with the planned form of every attribute it reports in
    /// an equivalent form (see [`crate::compare`]), so state keeps what was configured.
    fn in_configured_form(&self, planned: &Attributes, mut returned: Attributes) -> Attributes {
        crate::compare::keep_configured_forms(self.schema, planned, &mut returned);
        returned
    }
}

impl Engine<'_, '_> {
    /// Performs one instance's action, journaling it; returns the attributes the
    /// provider reported.
    pub async fn execute(
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
                let run = || async {
                    let updated = operation.provider.update(operation.kind, &prior, planned).await?;
                    Ok(operation.in_configured_form(planned, updated))
                };
                self.journaled(address, (JournalAction::Update, planned), sensitive, operation, run).await
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
                    self.record(&deposed, operation, prior, sensitive, JournalAction::Create);
                    self.deposed.borrow_mut().insert(deposed.clone());
                }
                let created = match self.create(operation, address, planned, sensitive).await {
                    Ok(created) => created,
                    Err(error) => {
                        // The old object is still the current one: drop its deposed record.
                        self.deposed.borrow_mut().remove(&deposed);
                        self.forget(&deposed).await;
                        return Err(error);
                    }
                };
                // The old object goes last: once what depends on it has moved to the new
                // one, with the objects the configuration no longer has (see `orphans`).
                Ok(created)
            }
            Action::Replace { create_before_destroy: false } => {
                if let Some(prior) = prior {
                    self.delete_object(operation, address, prior).await?;
                }
                self.create(operation, address, planned, sensitive).await
            }
            Action::Delete | Action::NoOp | Action::Read | Action::Forget => Ok(planned.clone()),
        }
    }

    async fn create(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        planned: &Attributes,
        sensitive: &BTreeSet<String>,
    ) -> Result<Attributes, ProviderError> {
        let run = || async {
            let (progress, mut reports) = CreateProgress::channel();
            let mut create = std::pin::pin!(operation.provider.create_reporting(operation.kind, planned, &progress));
            let mut reported = false;
            let created = loop {
                tokio::select! {
                    result = &mut create => break result,
                    Ok(()) = reports.changed() => {
                        let told = reports.borrow_and_update().clone();
                        if let Some(attributes) = told {
                            reported = true;
                            self.journal_progress(address, operation, planned, attributes, sensitive).await;
                        }
                    }
                }
            };
            // Told just before the create ended (both ready in the same poll): journaled too.
            if reports.has_changed().unwrap_or(false) {
                let told = reports.borrow_and_update().clone();
                if let Some(attributes) = told {
                    reported = true;
                    self.journal_progress(address, operation, planned, attributes, sensitive).await;
                }
            }
            match created {
                Ok(created) => Ok(operation.in_configured_form(planned, created)),
                // The object exists: trying the create again would make a second one.
                Err(error) if reported => Err(ProviderError { retryable: false, ..error }),
                Err(error) => Err(error),
            }
        };
        self.journaled(address, (JournalAction::Create, planned), sensitive, operation, run).await
    }

    /// Journals that a create's object exists (see [`Provider::create_reporting`]) and
    /// keeps it in state as partly created, so that it is not lost if the create
    /// fails or Infra stops before the create returns.
    async fn journal_progress(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        planned: &Attributes,
        reported: Attributes,
        sensitive: &BTreeSet<String>,
    ) {
        let mut attributes: Attributes =
            planned.iter().filter(|(_, v)| v.is_wholly_known()).map(|(k, v)| (k.clone(), v.clone())).collect();
        // What is not known yet cannot be stored: what the provider reports wins only
        // where it knows it.
        for (name, value) in reported.into_iter().filter(|(_, v)| v.is_wholly_known()) {
            attributes.insert(name, value);
        }
        let instance = operation.instance(&attributes, sensitive);
        self.journal(JournalEntry::progress(self.serial(), address.clone(), instance.clone())).await;
        let partly = crate::state::Instance { status: crate::state::Status::PartlyCreated, ..instance };
        self.state_mut().instances.insert(address.clone(), partly);
    }

    pub async fn delete_object(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        prior: &Attributes,
    ) -> Result<(), ProviderError> {
        self.delete_deposed(operation, address, prior, None).await
    }

    /// [`Self::delete_object`]; `replacement`: the object that replaced this one (it is
    /// the old object of a `create_before_destroy` replacement), for
    /// [`crate::provider::Provider::delete_replaced`].
    pub async fn delete_deposed(
        &self,
        operation: &Operation<'_>,
        address: &Address,
        prior: &Attributes,
        replacement: Option<&Attributes>,
    ) -> Result<(), ProviderError> {
        if self.cancelled() {
            return Err(self.not_started());
        }
        // Journaled with every other ready operation's begin (see `begin`).
        let begin = JournalEntry::begin(self.serial(), address.clone(), JournalAction::Delete, None);
        let Some(permit) = self.begin(begin).await else { return Err(self.not_started()) };
        if self.cancelled() {
            self.journal(JournalEntry::fail(self.serial(), address.clone(), JournalAction::Delete, NOT_STARTED)).await;
            return Err(self.not_started());
        }
        self.event(Event::Started { address: address.clone(), action: Action::Delete });
        let started = std::time::Instant::now();
        let result = {
            let delete = || match replacement {
                Some(replacement) => operation.provider.delete_replaced(operation.kind, prior, replacement),
                None => operation.provider.delete(operation.kind, prior),
            };
            let deleting = std::pin::pin!(self.retried(address, (Action::Delete, operation.secrets), delete));
            self.ticking(address, Action::Delete, deleting).await
        };
        drop(permit);
        match result {
            Ok(()) => {
                self.journal(JournalEntry::complete(self.serial(), address.clone(), JournalAction::Delete, None)).await;
                self.state_mut().instances.remove(address);
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
                ))
                .await;
                self.event(Event::Failed { address: address.clone(), action: Action::Delete });
                Err(error)
            }
        }
    }

    /// Reads an object back through its provider (refresh), in an operation slot and
    /// tried once more after a transient error.
    pub async fn refresh(
        &self,
        subject: &Subject<'_>,
        provider: &Arc<dyn Provider>,
        current: &Attributes,
        secrets: &Secrets,
    ) -> Result<ReadResult, Diagnostic> {
        let _permit = self.limit.acquire().await;
        let read = || provider.read(subject.kind, current);
        self.retried(&subject.address, (Action::NoOp, secrets), read).await.map_err(subject.failed(secrets))
    }

    /// Runs `operation`, and once more after [`super::RETRY_DELAY`] when it fails with a
    /// transient error (told as an event, and recorded for the plan to show). `secrets`:
    /// the object's sensitive values, which the provider's message might quote, so they
    /// are taken out of it (or it is not repeated, see [`Secrets`]).
    pub async fn retried<T, F, Fut>(
        &self,
        address: &Address,
        (action, secrets): (Action, &Secrets),
        operation: F,
    ) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        match operation().await {
            Err(error) if error.retryable && !self.cancelled() => {
                let message = secrets.scrub(&error.message).unwrap_or_else(|| {
                    "a transient error (the message is hidden: the object holds a sensitive value)".to_string()
                });
                self.event(Event::Retrying { address: address.clone(), action, message: message.clone() });
                self.retries.borrow_mut().push((address.clone(), message));
                tokio::time::sleep(super::RETRY_DELAY).await;
                operation().await
            }
            result => result,
        }
    }

    /// Runs a create or update between a journaled begin and complete (or fail), and
    /// records the result in state. The operation takes its slot (`--parallelism`)
    /// before anything is journaled or shown: a `begin` means the provider is about to be
    /// called, so after a crash only what really started is pending.
    async fn journaled<F, Fut>(
        &self,
        address: &Address,
        (action, planned): (JournalAction, &Attributes),
        sensitive: &BTreeSet<String>,
        operation: &Operation<'_>,
        run: F,
    ) -> Result<Attributes, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Attributes, ProviderError>>,
    {
        let shown = if action == JournalAction::Create { Action::Create } else { Action::Update };
        if self.cancelled() {
            return Err(self.not_started());
        }
        // The begin entry carries the instance with what is known of it (the planned
        // values; the computed ones come with the provider's answer), so that after a
        // crash mid-create the replayed state still knows the object may exist (as
        // pending), and where: a later plan can read it, a destroy delete it. An update's
        // begin needs none: replay keeps the confirmed attributes of an object it has.
        let known: Attributes = match action {
            JournalAction::Create => planned
                .iter()
                .filter(|(_, v)| v.is_wholly_known())
                .map(|(k, v)| (k.clone(), v.clone().with_mark(sensitive.contains(k.as_str()))))
                .collect(),
            _ => Attributes::new(),
        };
        let pending = crate::state::Instance::new(Mode::Managed, operation.resource_type, operation.config_name)
            .with_attributes(known.clone())
            .with_dependencies(operation.dependencies.to_vec());
        // One that never got its slot (the run was interrupted) is journaled as failed,
        // so it is not left pending.
        let begin = JournalEntry::begin(self.serial(), address.clone(), action, Some(pending));
        let Some(permit) = self.begin(begin).await else { return Err(self.not_started()) };
        if self.cancelled() {
            self.journal(JournalEntry::fail(self.serial(), address.clone(), action, NOT_STARTED)).await;
            return Err(self.not_started());
        }
        self.event(Event::Started { address: address.clone(), action: shown });
        let started = std::time::Instant::now();
        let result = {
            let running = std::pin::pin!(self.retried(address, (shown, operation.secrets), run));
            self.ticking(address, shown, running).await
        };
        drop(permit);
        match result {
            Ok(attributes) => {
                // A create's completion is journaled as what differs from its begin.
                let begun = (action == JournalAction::Create).then_some(&known);
                self.record_since(address, operation, &attributes, sensitive, (action, begun));
                // An id computed from a secret (a file's content hash) is as secret.
                let id = attributes.get("id").and_then(|v| v.as_str()).map(|id| match sensitive.contains("id") {
                    true => "(sensitive value)".to_string(),
                    false => id.to_string(),
                });
                let seconds = started.elapsed().as_secs_f64();
                self.event(Event::Finished { address: address.clone(), action: shown, id, seconds });
                Ok(attributes)
            }
            Err(error) => {
                self.journal(JournalEntry::fail(self.serial(), address.clone(), action, FAILED_IN_JOURNAL)).await;
                self.event(Event::Failed { address: address.clone(), action: shown });
                Err(error)
            }
        }
    }

    /// Journals a completed operation and puts its object in state. The entry is
    /// deferred (see [`super::commit`]): on disk before any later operation begins, or
    /// as soon as the engine waits.
    pub fn record(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        attributes: &Attributes,
        sensitive: &BTreeSet<String>,
        action: JournalAction,
    ) {
        self.record_since(address, operation, attributes, sensitive, (action, None));
    }

    /// [`Self::record`] for an operation whose `begin` journaled the attributes `begun`
    /// (a create's): the entry carries only what differs from them.
    fn record_since(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        attributes: &Attributes,
        sensitive: &BTreeSet<String>,
        (action, begun): (JournalAction, Option<&Attributes>),
    ) {
        let instance = operation.instance(attributes, sensitive);
        let entry = match begun {
            Some(begun) => JournalEntry::complete_create(self.serial(), address.clone(), begun, instance.clone()),
            None => JournalEntry::complete(self.serial(), address.clone(), action, Some(instance.clone())),
        };
        if self.apply.is_some() {
            self.journal_queue.defer(entry);
        }
        self.state_mut().instances.insert(address.clone(), instance);
    }

    /// Drops a record from state without touching the object (journaled as a
    /// completed delete of the record, which is what replay needs).
    pub async fn forget(&self, address: &Address) {
        self.journal(JournalEntry::complete(self.serial(), address.clone(), JournalAction::Delete, None)).await;
        self.state_mut().instances.remove(address);
    }

    pub fn serial(&self) -> u64 {
        self.state.borrow().serial
    }

    /// Awaits an operation, telling every ten seconds that it is still running. (The
    /// caller pins the operation: pinned here, it would be held twice in this future,
    /// as the argument and as the pinned local.)
    async fn ticking<T>(
        &self,
        address: &Address,
        action: Action,
        mut operation: std::pin::Pin<&mut impl std::future::Future<Output = T>>,
    ) -> T {
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

    /// The error of an operation not started because the run was interrupted (or the
    /// journal could not be written).
    pub(super) fn not_started(&self) -> ProviderError {
        if self.journal_failed.get() {
            // Not Ctrl-C: the state (its journal) could not be written, and nothing may
            // start whose outcome could not be recorded.
            return ProviderError::new("not started: the state could not be written (the error about it says why)")
                .with_help("fix what stops the state from being written, then run the command again");
        }
        ProviderError::new("not started: the run was interrupted")
            .with_help("run the command again to finish; everything completed so far is saved")
    }

    /// Appends to the journal; a journal that cannot be written is an error of the
    /// whole apply, reported once (when it ends), and stops new operations. Returns
    /// whether the entry was recorded.
    pub async fn journal(&self, entry: JournalEntry) -> bool {
        match self.apply {
            Some(apply) => self.journaled_ok(self.journal_queue.append(apply.backend, entry).await),
            None => true,
        }
    }

    /// Journals an operation's `begin` and takes its slot (`--parallelism`); `None`
    /// when the begin could not be written. The begin is queued before the slot is
    /// taken and written once it is, unless a batch written meanwhile carried it:
    /// every operation ready now queues its begin in the same batch, and those that
    /// wait for a slot share one sync with everything queued while they waited, so a
    /// wave of ready operations costs one sync, not one per `--parallelism` of them,
    /// and a thousand waiting for slots one, not one per slot freed. A `begin` on disk
    /// still means the provider is about to be called, or was ready to be: after a
    /// crash, what is pending is what was ready.
    async fn begin(&self, entry: JournalEntry) -> Option<Slot<'_>> {
        let Some(apply) = self.apply else { return Some(self.limit.acquire().await) };
        let queued = self.journal_queue.enqueue(entry).await;
        let permit = self.limit.acquire().await;
        self.journaled_ok(self.journal_queue.settle(apply.backend, queued)).then_some(permit)
    }

    /// Whether a journal write succeeded; a failure is reported once (see
    /// [`Self::journal`]).
    fn journaled_ok(&self, result: Result<(), crate::state::StateError>) -> bool {
        let Err(error) = result else { return true };
        if !self.journal_failed.replace(true) {
            self.error(error.to_diagnostic());
        }
        false
    }

    /// Writes the journal entries no operation is about to write (deferred
    /// completions): when the engine waits (`idle`), and before the run ends. A failure
    /// is reported like [`Self::journal`]'s.
    pub fn flush_journal(&self, idle: bool) {
        let Some(apply) = self.apply else { return };
        // Once interrupted, a second Ctrl-C may end the process the next time the engine
        // waits: nothing queued is left unwritten then.
        let interrupted = apply.cancelled.is_set();
        let result = if idle && !interrupted {
            self.journal_queue.flush_idle(apply.backend)
        } else {
            self.journal_queue.flush_all(apply.backend)
        };
        if let Some(result) = result {
            self.journaled_ok(result);
        }
    }

    /// Appends to the journal at once (with whatever operations queued before), for
    /// steps that run outside an operation; errors are reported like [`Self::journal`]'s.
    pub fn journal_now(&self, entry: JournalEntry) {
        if let Some(apply) = self.apply {
            self.journaled_ok(self.journal_queue.append_now(apply.backend, entry));
        }
    }

    /// [`Self::forget`] outside an operation.
    pub fn forget_now(&self, address: &Address) {
        self.journal_now(JournalEntry::complete(self.serial(), address.clone(), JournalAction::Delete, None));
        self.state_mut().instances.remove(address);
    }

    /// Takes over an existing object (`import`): journaled like a create, without
    /// calling the provider again.
    pub async fn record_import(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        id: &str,
        found: &Attributes,
        sensitive: &BTreeSet<String>,
    ) -> Result<(), ProviderError> {
        if self.cancelled() {
            return Err(self.not_started());
        }
        let pending = crate::state::Instance::new(Mode::Managed, operation.resource_type, operation.config_name)
            .with_dependencies(operation.dependencies.to_vec());
        if !self
            .journal(JournalEntry::begin(self.serial(), address.clone(), JournalAction::Import, Some(pending)))
            .await
        {
            return Err(self.not_started());
        }
        self.record(address, operation, found, sensitive, JournalAction::Import);
        let _ = id;
        Ok(())
    }
}
