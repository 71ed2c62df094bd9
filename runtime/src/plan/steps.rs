//! The steps of one resource instance, as functions over plain data: evaluate its body,
//! take its prior object (as the approved plan saw it, or refreshed), apply its
//! `lifecycle`, let the provider plan it and diff, hold the change to the approved plan,
//! and describe it as a [`PlannedInstance`]. None of them reads or writes the engine:
//! `instance` feeds each the outputs of the ones before, and performs the change.

use std::collections::BTreeSet;
use std::sync::Arc;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::schema::Schema;
use infra_compiler::syntax::ast::{Body, BodyItem, Resource};
use infra_compiler::Span;

use super::lifecycle::{self, Conditions, Settings};
use super::secrets::Secrets;
use super::PlannedInstance;
use crate::address::Address;
use crate::compare;
use crate::convert::convert;
use crate::diff::{diff, Action, InstanceDiff, ReplaceCause};
use crate::eval::Locals;
use crate::expand::expand_within;
use crate::module::ModuleScope;
use crate::provider::{Attributes, Provider, ProviderError, ReadResult};
use crate::state::{self, Mode, Status};
use crate::value::{Kind, Name, Names, Value};

/// The resource instance the steps are about.
pub(super) struct Subject<'r> {
    pub resource: &'r Resource,
    pub schema: &'r Schema,
    pub address: Address,
    /// `file`, the provider's name for the kind.
    pub kind: &'r str,
    /// `local.file`.
    pub resource_type: Name,
}

thread_local! {
    /// Each resource type's name, made once: the instances of a kind share it. (With
    /// the text looked up, written in one buffer rather than a string per instance.)
    static RESOURCE_TYPES: std::cell::RefCell<(Names, String)> = std::cell::RefCell::default();
}

impl<'r> Subject<'r> {
    pub fn new(resource: &'r Resource, schema: &'r Schema, address: Address) -> Subject<'r> {
        let resource_type = RESOURCE_TYPES.with(|cell| {
            let (types, text) = &mut *cell.borrow_mut();
            text.clear();
            text.push_str(&resource.ty.provider.name);
            text.push('.');
            text.push_str(&resource.ty.kind.name);
            types.name(text)
        });
        Subject { resource, schema, address, kind: resource.ty.kind.name.as_str(), resource_type }
    }

    /// A provider's error as a diagnostic about this instance (see [`provider_error`]).
    pub fn failed<'s>(&'s self, secrets: &'s Secrets) -> impl Fn(ProviderError) -> Diagnostic + 's {
        move |error| provider_error(self.resource, &self.address, secrets, error)
    }
}

/// Step 1: the instance's configuration, evaluated with the values upstream has now.
pub(super) struct Evaluated {
    /// The configuration without sensitive marks, as providers take it.
    pub plain: Attributes,
    /// Attributes whose values are sensitive (by schema or by the configuration).
    pub sensitive: BTreeSet<String>,
    /// The configuration's sensitive values, which a provider's message might quote.
    pub secrets: Secrets,
}

/// Evaluates the instance's body, validates what the checker could not see, and checks
/// its preconditions (they hold before anything is created or changed).
pub(super) fn evaluate(
    scope: &ModuleScope<'_>,
    subject: &Subject<'_>,
    locals: &Locals,
    conditions: &Conditions<'_>,
) -> Result<Evaluated, Diagnostic> {
    let (resource, schema) = (subject.resource, subject.schema);
    let (config, seen) = super::secrets::watching(|| evaluate_body(scope, &resource.body, schema, locals));
    let config = config?;
    crate::validate::check_body(schema, &resource.body, &config, &subject.address)?;
    conditions.preconditions(scope, locals, &subject.address)?;
    // Each value is looked through for secrets once: most hold none.
    let marked: Vec<String> =
        config.iter().filter(|(_, v)| v.contains_sensitive()).map(|(k, _)| k.to_string()).collect();
    let sensitive = sensitive_from(schema, marked);
    let secrets = Secrets::of(&config, &sensitive).with(&seen);
    let plain: Attributes = match sensitive.is_empty() {
        true => config,
        false => config.into_iter().map(|(k, v)| (k, v.unmarked_deep())).collect(),
    };
    Ok(Evaluated { plain, sensitive, secrets })
}

/// The configuration of a body as attributes: every attribute of the schema (null
/// when not set), nested blocks as objects (lists of them when repeated).
pub(super) fn evaluate_body(
    scope: &ModuleScope<'_>,
    body: &Body,
    schema: &Schema,
    locals: &Locals,
) -> Result<Attributes, Diagnostic> {
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
                let mut objects = Vec::new();
                for instance in expand_within(scope, block.repeat.as_ref(), locals.bindings())? {
                    let mut inner = locals.bindings().to_vec();
                    inner.extend(instance.bindings);
                    let inner = Locals::with(inner);
                    objects.push(Value::object(evaluate_body(scope, &block.body, &block_schema.schema, &inner)?));
                }
                let value = if block_schema.repeated {
                    let mut all = match attributes.remove(&block.name.name).map(|v| v.kind) {
                        Some(Kind::List(items)) => items.into_vec(),
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

/// A data source's planned read: `attributes` as read (or as deferred to apply, with
/// `Action::Read`).
pub(super) fn data_read(
    subject: &Subject<'_>,
    attributes: &Attributes,
    action: Action,
    sensitive: &BTreeSet<String>,
) -> PlannedInstance {
    let mut diff = diff(subject.schema, None, Some(attributes), false, false);
    diff.action = action;
    PlannedInstance {
        address: subject.address.clone(),
        resource_type: subject.resource_type.clone(),
        mode: Mode::Data,
        diff,
        sensitive: sensitive.clone(),
        drifted_from: None,
        record_anyway: false,
        moved_from: None,
        imported: None,
    }
}

/// What a managed instance starts from, as the engine knows it before its steps.
pub(super) struct Start<'p> {
    /// Its object in state, unless its create (or import) was never confirmed.
    pub stored: Option<Stored>,
    /// An `import` statement for it, when state does not have it yet: id and span.
    pub import: Option<(String, Span)>,
    /// Its change in the approved plan, when applying one.
    pub approved: Option<&'p PlannedInstance>,
    /// The first phase of the apply deleted (or tried to delete) its object.
    pub settled: bool,
    /// State held it at another address before a `moved` statement.
    pub moved_from: Option<Address>,
    /// State holds an object of another resource type at this address (the declaration
    /// changed its type): it is no prior object of this one, but deleted and replaced.
    pub retyped: bool,
}

/// What the steps read of an instance's record in state: its object (shared with
/// state, not copied), status and `replace_when` digest.
pub(super) struct Stored {
    pub attributes: Attributes,
    pub status: Status,
    pub triggers: Option<String>,
}

impl Stored {
    pub fn of(instance: &state::Instance) -> Stored {
        Stored { attributes: instance.attributes.clone(), status: instance.status, triggers: instance.triggers.clone() }
    }
}

/// Step 2: the object before the change, and what it was before a refresh found it
/// changed outside of Infra.
#[derive(Default)]
pub(super) struct Prior {
    pub attributes: Option<Attributes>,
    pub drifted_from: Option<Attributes>,
    /// Recorded even when nothing else changes: the provider upgraded the stored object
    /// to its current form, or (from an approved plan) the refresh found changes that
    /// need no note ([`PlannedInstance::record_anyway`]).
    pub record_anyway: bool,
}

impl Start<'_> {
    /// The object as state holds it, without marks.
    pub fn stored_attributes(&self) -> Option<Attributes> {
        let stored = self.stored.as_ref().filter(|_| !self.retyped)?;
        if !stored.attributes.contains_sensitive() {
            // Nothing to unmark: the map state holds is shared, not copied.
            return Some(stored.attributes.clone());
        }
        Some(stored.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect())
    }

    /// When applying an approved plan: the prior object as the plan saw it (the plan
    /// refreshed it already). An object the first phase deleted to replace it, but
    /// that is still in state, was not deleted: an error.
    pub fn approved_prior(
        &self,
        approved: &PlannedInstance,
        subject: &Subject<'_>,
        found: Option<Attributes>,
    ) -> Result<Prior, Diagnostic> {
        let replaced_first = approved.diff.action == (Action::Replace { create_before_destroy: false });
        if replaced_first && self.stored.is_some() && self.settled {
            return Err(not_replaced(subject.resource, &subject.address));
        }
        if self.stored.is_some() && self.import.is_none() {
            let drifted_from = approved.drifted_from.clone();
            return Ok(Prior { attributes: approved.prior(), drifted_from, record_anyway: approved.record_anyway });
        }
        Ok(Prior { attributes: found, drifted_from: None, record_anyway: false })
    }

    /// Whether state is to be written even without a change: refresh found drift, the
    /// provider upgraded the object, a pending status is now resolved, or the
    /// `replace_when` values are new.
    pub fn refreshed(&self, prior: &Prior, triggers: &lifecycle::Triggers) -> bool {
        let Some(stored) = &self.stored else { return prior.drifted_from.is_some() };
        prior.drifted_from.is_some()
            || prior.record_anyway
            || stored.status != Status::Created
            || matches!(triggers, lifecycle::Triggers::Known(now) if stored.triggers.as_deref() != Some(now.as_str()))
    }
}

/// The prior object after a refresh read it back as `read` (`current`: as state held it).
pub(super) fn refreshed(schema: &Schema, current: Attributes, read: ReadResult) -> Prior {
    match read {
        ReadResult::Found(mut now) => {
            // A value read back in another but equivalent form is no drift.
            compare::keep_configured_forms(schema, &current, &mut now);
            let drifted_from = (!same(&now, &current)).then_some(current);
            Prior { attributes: Some(now), drifted_from, record_anyway: false }
        }
        ReadResult::Gone => Prior { attributes: None, drifted_from: Some(current), record_anyway: false },
    }
}

/// Step 3: `lifecycle` against the prior object: ignored attributes keep their prior
/// values, the prior takes the configured forms of equivalent values, and what the
/// configuration leaves unset keeps the value the provider chose (the names returned).
pub(super) fn against_prior(
    schema: &Schema,
    settings: &Settings,
    plain: &mut Attributes,
    prior: &mut Option<Attributes>,
) -> Vec<String> {
    if let Some(prior) = prior.as_ref() {
        settings.ignore(plain, prior);
        crate::salted::keep_prior(plain, prior);
    }
    if let Some(prior) = prior.as_mut() {
        compare::keep_configured_forms(schema, plain, prior);
    }
    carry_over(schema, prior.as_ref(), plain)
}

/// Why the instance is replaced whatever its attributes: `--replace`, or `replace_when`
/// values that differ from the last apply's.
pub(super) fn replace_cause(
    requested: bool,
    triggers: &lifecycle::Triggers,
    start: &Start<'_>,
) -> Option<ReplaceCause> {
    if start.retyped {
        return Some(ReplaceCause::TypeChanged);
    }
    let stored = start.stored.as_ref();
    let triggered = match (triggers, stored.and_then(|s| s.triggers.as_ref())) {
        (lifecycle::Triggers::Known(now), Some(before)) => now != before,
        (lifecycle::Triggers::Unknown, Some(_)) => true,
        _ => false,
    };
    if requested {
        Some(ReplaceCause::Requested)
    } else {
        triggered.then_some(ReplaceCause::ReplaceWhen)
    }
}

/// Step 4: the provider plans the configuration (`None`: the provider's configuration
/// is known only during apply, so every computed attribute is unknown), and the change
/// is the diff against the prior object. A replacement creates a new object: what the
/// provider computes is planned afresh, not kept from the old one.
pub(super) async fn plan_change(
    provider: Option<&Arc<dyn Provider>>,
    subject: &Subject<'_>,
    (plain, carried): (&Attributes, &[String]),
    (prior, drifted_from): (Option<&Attributes>, Option<&Attributes>),
    (create_before_destroy, cause): (bool, Option<ReplaceCause>),
) -> Result<(Attributes, InstanceDiff), ProviderError> {
    let (schema, kind) = (subject.schema, subject.kind);
    let (mut planned, replacing) = match provider {
        Some(provider) => provider.plan_async(kind, prior, plain).await?,
        None => (deferred_read(schema, plain), Vec::new()),
    };
    if let (Some(before), Some(now)) = (drifted_from, prior) {
        restore_drifted(schema, before, now, &mut planned);
    }
    let mut diff = diff(schema, prior, Some(&planned), create_before_destroy, cause.is_some());
    force_replacing(&mut diff, &replacing, create_before_destroy);
    if let (Action::Replace { .. }, Some(provider)) = (diff.action, provider) {
        let mut configured = plain.clone();
        for name in carried {
            configured.insert(name.clone(), Value::null());
        }
        let (fresh, _) = provider.plan_async(kind, None, &configured).await?;
        diff = crate::diff::diff(schema, prior, Some(&fresh), create_before_destroy, true);
        force_replacing(&mut diff, &replacing, create_before_destroy);
        // An attribute the configuration does not set never forces the replacement.
        for change in diff.attributes_mut().iter_mut().filter(|c| carried.iter().any(|n| *n == *c.name)) {
            change.forces_replacement = false;
        }
        planned = fresh;
    }
    if diff.action != Action::NoOp && !diff.changes().any(|c| c.forces_replacement) {
        diff.cause = cause;
    }
    if cause == Some(ReplaceCause::TypeChanged) {
        // Nothing of this type exists yet (a create), but the old object goes first.
        diff.action = Action::Replace { create_before_destroy: false };
        diff.cause = cause;
    }
    Ok((planned, diff))
}

/// The attributes the provider said replace the object, when they change: the change
/// forces the replacement, as a force-new attribute's does.
fn force_replacing(diff: &mut InstanceDiff, replacing: &[String], create_before_destroy: bool) {
    if !matches!(diff.action, Action::Update | Action::Replace { .. }) {
        return;
    }
    let mut forced = false;
    for change in diff.attributes_mut().iter_mut().filter(|c| c.is_change() && replacing.iter().any(|n| *n == *c.name))
    {
        change.forces_replacement = true;
        forced = true;
    }
    if forced && diff.action == Action::Update {
        diff.action = Action::Replace { create_before_destroy };
    }
}

/// An attribute that corrects drift and that a refresh found changed (`now` against
/// `before`, as state held it) is restored by the update: planned unknown, so the diff
/// shows the change and the provider knows to restore it.
fn restore_drifted(schema: &Schema, before: &Attributes, now: &Attributes, planned: &mut Attributes) {
    for attribute in schema.attributes.iter().filter(|a| a.corrects_drift) {
        let (was, is) = (before.get(&attribute.name), now.get(&attribute.name));
        if was.is_some() && !was.zip(is).is_some_and(|(was, is)| was.equals(is)) {
            planned.insert(attribute.name.clone(), Value::unknown(attribute.ty.clone()));
        }
    }
}

/// Step 5, when applying an approved plan: the change may turn out smaller than
/// approved, never bigger (E0612). What the first phase deleted to replace it is left
/// to create: its action is still the approved replacement.
pub(super) fn hold_to_approved(
    subject: &Subject<'_>,
    approved: Option<&PlannedInstance>,
    diff: &mut InstanceDiff,
) -> Result<(), Diagnostic> {
    let shown = approved.map_or(Action::NoOp, |a| a.diff.action);
    if diff.action == Action::Create && matches!(shown, Action::Replace { .. }) {
        diff.action = shown;
    }
    if !within_approved(shown, diff.action) {
        return Err(plan_changed(subject.resource, &subject.address, shown, diff.action));
    }
    Ok(())
}

/// A replacement of an instance with `prevent_destroy` set is an error.
pub(super) fn guard_destroy(subject: &Subject<'_>, settings: &Settings, action: Action) -> Result<(), Diagnostic> {
    if !matches!(action, Action::Replace { .. }) || !settings.prevent_destroy {
        return Ok(());
    }
    Err(Diagnostic::error(
        codes::CHECK_FAILED,
        format!("{} must be replaced, but `prevent_destroy` is set", subject.address),
    )
    .with_label(settings.prevent_destroy_span.unwrap_or(subject.resource.name.span), "prevent_destroy")
    .with_help("change it back, or set `prevent_destroy = false` first if it really must be replaced"))
}

/// Step 6: the instance's planned change, as the plan shows it.
pub(super) fn planned_instance(
    subject: &Subject<'_>,
    start: &Start<'_>,
    (diff, sensitive): (InstanceDiff, &BTreeSet<String>),
    prior: &Prior,
) -> PlannedInstance {
    let shown = prior.drifted_from.clone().filter(|before| shown_drift(subject.schema, before, prior));
    PlannedInstance {
        address: subject.address.clone(),
        resource_type: subject.resource_type.clone(),
        mode: Mode::Managed,
        diff,
        sensitive: sensitive.clone(),
        drifted_from: shown.clone(),
        // A refresh that found only changes others make shows no note, and is recorded
        // all the same.
        record_anyway: prior.record_anyway || (prior.drifted_from.is_some() && shown.is_none()),
        moved_from: start.moved_from.clone(),
        imported: start.import.as_ref().map(|(id, _)| id.clone()),
    }
}

/// Whether a refresh's changes are worth the "changed outside of Infra" note: not when
/// every attribute that changed is one other resources of the configuration change.
fn shown_drift(schema: &Schema, before: &Attributes, prior: &Prior) -> bool {
    let Some(now) = &prior.attributes else { return true };
    let names = before.keys().chain(now.keys());
    names
        .filter(|name| !before.get(name.as_str()).zip(now.get(name.as_str())).is_some_and(|(b, n)| b.equals(n)))
        .any(|name| !schema.attribute(name.as_str()).is_some_and(|a| a.changed_by_others))
}

/// What a data source read during apply will give (or a resource whose provider is
/// configured only during apply): its configuration, and every computed attribute
/// unknown.
pub(super) fn deferred_read(schema: &Schema, config: &Attributes) -> Attributes {
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
    // A provider that read back what state held (a clone of it) is answered at once.
    a.shares_entries(b) || a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
}

/// The attributes of an instance shown as `(sensitive value)`: those its schema marks,
/// those whose value in `values` (the configuration, or the state's attributes) holds a
/// sensitive value, and the computed ones the provider derives from any of these.
pub(super) fn sensitive_attributes(schema: &Schema, values: &Attributes) -> BTreeSet<String> {
    let secrets = values.iter().filter(|(_, value)| value.contains_sensitive()).map(|(name, _)| name.to_string());
    sensitive_from(schema, secrets.collect())
}

/// [`sensitive_attributes`] of values whose `secrets` hold a sensitive value.
fn sensitive_from(schema: &Schema, secrets: Vec<String>) -> BTreeSet<String> {
    let mut sensitive: BTreeSet<String> =
        secrets.into_iter().chain(schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone())).collect();
    let derived: Vec<String> = schema
        .attributes
        .iter()
        .filter(|a| a.derived_from.iter().any(|source| sensitive.contains(source)))
        .map(|a| a.name.clone())
        .collect();
    sensitive.extend(derived);
    sensitive
}

/// A planned instance as dependents see it, with its sensitive attributes marked.
pub(super) fn mark(attributes: Attributes, sensitive: &BTreeSet<String>) -> Value {
    if !attributes.keys().any(|k| sensitive.contains(k.as_str())) {
        // Nothing to mark: the map is kept, shared with whatever else holds it.
        return Value::object(attributes);
    }
    Value::object(
        attributes
            .into_iter()
            .map(|(k, v)| {
                let marked = sensitive.contains(k.as_str());
                (k, v.with_mark(marked))
            })
            .collect(),
    )
}

/// The provider's error when it cannot find the object an `import` names.
pub(super) fn import_error(address: &Address, id: &str, span: Span, error: ProviderError) -> Diagnostic {
    let mut diagnostic =
        Diagnostic::error(codes::PROVIDER_FAILED, format!("cannot import `{id}` into {address}: {}", error.message))
            .with_help(error.help.unwrap_or_else(|| {
                "check that the object exists and the id is the one the provider expects".to_string()
            }));
    if span != Span::default() {
        // An `import` statement, not `infra import`: one left in place after its object
        // was imported and then destroyed imports it again.
        diagnostic = diagnostic.with_label(span, "this id").with_note(
            "an `import` statement is needed only until its import is applied; if this object was imported \
             and has since been destroyed, remove the statement",
        );
    }
    diagnostic
}

/// A provider's error as a diagnostic at the attribute it is about. When the
/// configuration holds a secret, the provider's message may repeat it (a command's
/// stderr can): the secret's text is taken out of it, or the whole message hidden when
/// the secret is too short to look for (see [`Secrets`]).
fn provider_error(resource: &Resource, address: &Address, secrets: &Secrets, error: ProviderError) -> Diagnostic {
    let span = provider_span(resource, &error);
    let Some(error) = secrets.scrub_error(error) else {
        return Diagnostic::error(
            codes::PROVIDER_FAILED,
            format!(
                "{address}: the operation failed; its message is hidden because it may quote a sensitive value that \
                 cannot be taken out of it"
            ),
        )
        .with_label(span, "here")
        .with_help(
            "run the operation by hand to see the error, or remove the secret from what the provider may print",
        );
    };
    if error.about_configuration {
        // The same for every resource of the configuration: one diagnostic, which the
        // engine keeps once (see `Engine::error`); the instance's caller labels it at
        // the configuration (see [`is_about_configuration`]).
        let diagnostic = Diagnostic::error(codes::PROVIDER_FAILED, error.message);
        return match error.help {
            Some(help) => diagnostic.with_help(help),
            None => diagnostic,
        };
    }
    let mut diagnostic =
        Diagnostic::error(codes::PROVIDER_FAILED, format!("{address}: {}", error.message)).with_label(span, "here");
    if let Some(help) = error.help {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// Whether `diagnostic` is a provider's error about its configuration, as
/// [`provider_error`] makes it: the only one without a label, for the caller to place.
pub(super) fn is_about_configuration(diagnostic: &Diagnostic) -> bool {
    diagnostic.code == codes::PROVIDER_FAILED && diagnostic.labels.is_empty()
}

/// Where a provider's error or warning points: the attribute it names, else the
/// resource's name.
fn provider_span(resource: &Resource, error: &ProviderError) -> Span {
    error
        .attribute
        .as_deref()
        .and_then(|name| resource.body.attribute(name))
        .map_or(resource.name.span, |a| a.value.span)
}

/// A provider's warning about an instance (W0610), with the configuration's secrets
/// taken out of it as they are from its errors (see [`provider_error`]).
pub(super) fn provider_warning(
    resource: &Resource,
    address: &Address,
    secrets: &Secrets,
    warning: ProviderError,
) -> Diagnostic {
    let span = provider_span(resource, &warning);
    let generic =
        || "the provider still did what was asked; a warning often announces a change in a later version".to_string();
    let (message, help) = match secrets.scrub_error(warning) {
        Some(warning) => (format!("{address}: {}", warning.message), warning.help.unwrap_or_else(generic)),
        None => (
            format!(
                "{address}: the provider warned; its message is hidden because it may quote a sensitive value that \
                 cannot be taken out of it"
            ),
            generic(),
        ),
    };
    Diagnostic::warning(codes::PROVIDER_WARNING, message).with_label(span, "here").with_help(help)
}
