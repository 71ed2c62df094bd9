//! One resource instance, through its steps (see [`super::steps`]): evaluate, take the
//! prior object (import, refresh, or the approved plan's), lifecycle, provider plan and
//! diff, hold to the approved plan, record the planned change; then, when applying,
//! perform it; postconditions last.

use std::collections::BTreeSet;
use std::sync::Arc;

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::schema::{ProviderSchema, Schema};
use infra_compiler::syntax::ast::{Resource, ResourceMode};

use super::engine::Engine;
use super::execute::Operation;
use super::frame::Frame;
use super::lifecycle::{self, Conditions, Settings};
use super::secrets::Secrets;
use super::steps::{self, mark, Evaluated, Prior, Start, Stored, Subject};
use super::PlannedInstance;
use crate::address::Address;
use crate::diff::Action;
use crate::eval::Locals;
use crate::expand::Instance;
use crate::module::ModuleScope;
use crate::provider::{Attributes, Provider};
use crate::state::{Action as JournalAction, Status};
use crate::value::Value;

/// Where an instance's postconditions are checked, once its value is known.
struct Postconditions<'x, 'a> {
    scope: &'x ModuleScope<'a>,
    locals: &'x Locals,
    conditions: Conditions<'x>,
    address: &'x Address,
}

impl Postconditions<'_, '_> {
    fn check(&self, value: Value) -> Result<Value, Diagnostic> {
        self.conditions.postconditions(self.scope, self.locals, &value, self.address)?;
        Ok(value)
    }
}

/// A managed instance's change, once planned: what performing it needs.
struct Change {
    action: Action,
    prior: Option<Attributes>,
    planned: Attributes,
    /// State is written even without a change (see [`Start::refreshed`]).
    refreshed: bool,
    triggers: lifecycle::Triggers,
}

impl<'c, 'a> Engine<'c, 'a> {
    /// Plans (and, when applying, performs) one instance; returns its value as
    /// dependents see it.
    pub async fn instance(
        &self,
        frame: &Frame<'a>,
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
        let subject = Subject::new(resource, schema, address);
        let conditions = Conditions::of(&resource.body);
        let mut evaluated = steps::evaluate(&frame.scope, &subject, &locals, &conditions)?;
        if resource.mode == ResourceMode::Managed {
            // The object may hold secrets of an earlier configuration (see `covering`).
            let state = self.state.borrow();
            let stored = state.instances.get(&subject.address).map(|instance| &instance.attributes);
            evaluated.secrets = evaluated.secrets.covering(stored, schema);
        }
        let after = Postconditions { scope: &frame.scope, locals: &locals, conditions, address: &subject.address };
        let provider = configured.ready();
        let secrets = evaluated.secrets.clone();
        let steps = async {
            match resource.mode {
                ResourceMode::Data => self.data_instance(frame, &subject, provider, evaluated, &after).await,
                ResourceMode::Managed => {
                    let record = provider_key.record(&provider_schema.name);
                    let dependencies =
                        frame.dependencies.get(resource.name.name.as_str()).map_or(&[][..], Vec::as_slice);
                    let made_by = (record.as_str(), dependencies);
                    self.managed_instance(&subject, provider, evaluated, &after, made_by).await
                }
            }
        };
        let (value, warnings) = crate::provider::collecting_warnings(steps).await;
        for warning in warnings {
            self.warn(steps::provider_warning(resource, &subject.address, &secrets, warning));
        }
        // An error about the provider's configuration points at the configuration, the
        // same block for every instance, so the engine still keeps it once.
        value.map_err(|diagnostic| match steps::is_about_configuration(&diagnostic) {
            true => match self.config_span(&provider_key, None) {
                Some((span, label)) => diagnostic.with_label(span, label),
                None => diagnostic,
            },
            false => diagnostic,
        })
    }

    /// A data source: read now when its configuration is known (or as the approved
    /// plan read it), else during apply.
    async fn data_instance(
        &self,
        frame: &Frame<'a>,
        subject: &Subject<'_>,
        provider: Option<&Arc<dyn Provider>>,
        evaluated: Evaluated,
        after: &Postconditions<'_, 'a>,
    ) -> Result<Value, Diagnostic> {
        // A data source that depends on something about to change would read the
        // world as it is before the change: when planning, it is read during apply.
        let upstream_changes = self.apply.is_none() && self.upstream_changes(frame, &subject.resource.name.name);
        let plain = &evaluated.plain;
        let known = plain.values().all(Value::is_wholly_known) && !upstream_changes;
        // What the approved plan read stands: reading again could give another answer
        // than the one approved (and runs a program twice).
        let read = self.approved(&subject.address).filter(|a| a.diff.action == Action::NoOp);
        let (attributes, action) = match (read.map(PlannedInstance::planned), provider, known) {
            (Some(read), _, _) => (read, Action::NoOp),
            (None, Some(provider), true) => {
                let read = provider.read_data(subject.kind, plain).await;
                (read.map_err(subject.failed(&evaluated.secrets))?, Action::NoOp)
            }
            _ => (steps::deferred_read(subject.schema, plain), Action::Read),
        };
        self.push(steps::data_read(subject, &attributes, action, &evaluated.sensitive));
        after.check(mark(attributes, &evaluated.sensitive))
    }

    /// A managed resource instance: its steps, then (when applying) its operation,
    /// recorded with the provider configuration `record` and what it depends on.
    async fn managed_instance(
        &self,
        subject: &Subject<'_>,
        provider: Option<&Arc<dyn Provider>>,
        evaluated: Evaluated,
        after: &Postconditions<'_, 'a>,
        (record, dependencies): (&str, &[Address]),
    ) -> Result<Value, Diagnostic> {
        let start = self.start(&subject.address, &subject.resource_type);
        let mut prior = self.prior(subject, &start, provider, &evaluated.secrets).await?;
        let settings = Settings::of(after.scope, &subject.resource.body, after.locals)?;
        let Evaluated { mut plain, sensitive, secrets } = evaluated;
        let carried = steps::against_prior(subject.schema, &settings, &mut plain, &mut prior.attributes);
        // `infra import` takes the object over and records it (in the configured forms of
        // equivalent values, as a plan would); it plans no change.
        let import_only = self.apply.is_some_and(|a| a.import_only);
        if let (true, Some(provider), Some((id, _)), Some(found)) =
            (import_only, provider, &start.import, &prior.attributes)
        {
            let operation = operation(subject, provider, (record, dependencies), (settings.triggers.known(), &secrets));
            let recorded = self.record_import(&subject.address, &operation, id, found, &sensitive).await;
            recorded.map_err(subject.failed(&secrets))?;
            return Ok(mark(found.clone(), &sensitive));
        }
        let requested = self.context.selection.replace.contains(&subject.address);
        let cause = steps::replace_cause(requested, &settings.triggers, &start);
        // Two objects of different types cannot share the address, even for a moment:
        // a type change always deletes first.
        let replacing = (settings.create_before_destroy && !start.retyped, cause);
        let (planned, mut diff) = steps::plan_change(
            provider,
            subject,
            (&plain, &carried),
            (prior.attributes.as_ref(), prior.drifted_from.as_ref()),
            replacing,
        )
        .await
        .map_err(subject.failed(&secrets))?;
        if self.approved.is_some() {
            steps::hold_to_approved(subject, start.approved, &mut diff)?;
        }
        steps::guard_destroy(subject, &settings, diff.action)?;
        let refreshed = start.refreshed(&prior, &settings.triggers);
        let action = diff.action;
        self.push(steps::planned_instance(subject, &start, (diff, &sensitive), &prior));
        let change = Change { action, prior: prior.attributes, planned, refreshed, triggers: settings.triggers };
        let refresh_only = self.apply.is_some_and(|a| a.refresh_only);
        let performed =
            provider.filter(|_| self.apply.is_some() && !refresh_only && (!import_only || start.import.is_some()));
        let Some(provider) = performed else {
            if let (true, Some(provider)) = (refresh_only, provider) {
                let triggers = start.stored.as_ref().and_then(|stored| stored.triggers.clone());
                let operation = operation(subject, provider, (record, dependencies), (triggers, &secrets));
                self.record_refreshed(&subject.address, &operation, &start, &change, &sensitive);
            }
            let value = change.prior.filter(|_| action == Action::NoOp || refresh_only).unwrap_or(change.planned);
            return after.check(mark(value, &sensitive));
        };
        let operation = operation(subject, provider, (record, dependencies), (change.triggers.known(), &secrets));
        self.perform(subject, &operation, (&start, change, &sensitive, &secrets), after).await
    }

    /// `infra refresh`: records what refresh found (an object changed outside of Infra,
    /// or gone) and changes nothing else, not even the `replace_when` values.
    fn record_refreshed(
        &self,
        address: &Address,
        operation: &Operation<'_>,
        start: &Start<'_>,
        change: &Change,
        sensitive: &BTreeSet<String>,
    ) {
        if start.stored.is_none() || !change.refreshed {
            return;
        }
        match &change.prior {
            Some(prior) => self.record(address, operation, prior, sensitive, JournalAction::Update),
            None => self.forget_now(address),
        }
    }

    /// What the engine knows of an instance of type `resource_type` before its steps.
    fn start(&self, address: &Address, resource_type: &str) -> Start<'c> {
        // An object whose update or delete began but was never confirmed still existed
        // before; refreshing tells what it is now. So does one whose create reported
        // the object made (`PartlyCreated`): reading it finds the object, or finds it
        // gone and it is created. One whose create was never confirmed otherwise may or
        // may not exist: it is created again (providers' creates are written to
        // converge, as `local.file` overwriting its file).
        let pending = [Status::PendingCreate, Status::PendingRead, Status::PendingImport];
        let (stored, retyped) = match self.state.borrow().instances.get(address) {
            Some(instance) if !pending.contains(&instance.status) => {
                (Some(Stored::of(instance)), instance.resource_type != resource_type)
            }
            _ => (None, false),
        };
        // An `import` statement for an instance state does not have yet: the provider
        // finds the object, which then stands as the prior one.
        let import = if stored.is_none() { self.imports.borrow_mut().remove(address) } else { None };
        let approved = self.approved(address);
        let moved_from = self.moved.borrow().get(address).map(|(old, _)| old.clone());
        Start { stored, import, approved, settled: self.settled.contains(address), moved_from, retyped }
    }

    /// Step 2: the prior object: imported, as the approved plan saw it, or refreshed.
    async fn prior(
        &self,
        subject: &Subject<'_>,
        start: &Start<'_>,
        provider: Option<&Arc<dyn Provider>>,
        secrets: &Secrets,
    ) -> Result<Prior, Diagnostic> {
        let mut found = start.stored_attributes();
        if let (Some((id, span)), Some(provider)) = (&start.import, provider) {
            let imported = provider.import(subject.kind, id).await;
            found = Some(imported.map_err(|e| steps::import_error(&subject.address, id, *span, e))?);
        }
        if let Some(approved) = start.approved {
            return start.approved_prior(approved, subject, found);
        }
        // An object recorded in an older form is upgraded first: what refresh then finds
        // is compared with it.
        let mut upgraded = false;
        if let (Some(current), Some(provider), None) = (&found, provider, &start.import) {
            let upgrade = provider.upgrade(subject.kind, current).await.map_err(subject.failed(secrets))?;
            if let Some(upgrade) = upgrade {
                (found, upgraded) = (Some(upgrade), true);
            }
        }
        let prior = match (self.context.refresh, found, provider, &start.import) {
            (true, Some(current), Some(provider), None) => {
                let read = self.refresh(subject, provider, &current, secrets).await?;
                steps::refreshed(subject.schema, current, read)
            }
            (_, found, _, _) => Prior { attributes: found, drifted_from: None, record_anyway: false },
        };
        Ok(Prior { record_anyway: upgraded, ..prior })
    }

    /// Performs the planned change: takes over an imported object, then creates,
    /// updates or replaces it (or records what refresh found); postconditions last.
    async fn perform(
        &self,
        subject: &Subject<'_>,
        operation: &Operation<'_>,
        (start, change, sensitive, secrets): (&Start<'_>, Change, &BTreeSet<String>, &Secrets),
        after: &Postconditions<'_, 'a>,
    ) -> Result<Value, Diagnostic> {
        let address = &subject.address;
        if let (Some((id, _)), Some(found)) = (&start.import, &change.prior) {
            self.record_import(address, operation, id, found, sensitive).await.map_err(subject.failed(secrets))?;
        }
        let current = match change.action {
            Action::NoOp => {
                let current = change.prior.unwrap_or(change.planned);
                // Nothing to do, but what refresh found (or a pending status now
                // resolved, or new `replace_when` values) is saved.
                if change.refreshed {
                    self.record(address, operation, &current, sensitive, JournalAction::Update);
                }
                current
            }
            action => self
                .execute(operation, address, action, change.prior.as_ref(), &change.planned, sensitive)
                .await
                .map_err(subject.failed(secrets))?,
        };
        after.check(mark(current, sensitive))
    }

    /// The approved plan's instance at `address`, when applying one.
    pub fn approved(&self, address: &Address) -> Option<&'c PlannedInstance> {
        self.approved?.instance(address)
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
}

/// The operation on one managed instance: its provider, and what its record in state
/// names besides its attributes.
fn operation<'o>(
    subject: &'o Subject<'_>,
    provider: &'o Arc<dyn Provider>,
    (record, dependencies): (&'o str, &'o [Address]),
    (triggers, secrets): (Option<String>, &'o Secrets),
) -> Operation<'o> {
    Operation {
        provider,
        kind: subject.kind,
        resource_type: &subject.resource_type,
        config_name: record,
        dependencies,
        triggers,
        schema: subject.schema,
        secrets,
    }
}
