//! Provider configurations: which one an instance or module call names, configuring
//! each once its values are known, and finding the one that made an object in state.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::syntax::ast::{Expr, ExprKind, Item};
use infra_compiler::Span;

use super::engine::Engine;
use super::frame::{display_frame, Frame};
use super::steps::evaluate_body;
use crate::address::{Address, InstanceKey};
use crate::eval::Locals;
use crate::expand::{expand, Instance};
use crate::provider::{Attributes, Provider, ProviderContext, ProviderFactory};
use crate::value::{Kind, Value};

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

impl Configured {
    pub fn ready(&self) -> Option<&Arc<dyn Provider>> {
        match self {
            Configured::Ready(provider) => Some(provider),
            Configured::Unknown => None,
        }
    }
}

/// The provider configurations of a run: those configured so far, and every one the
/// walked module instances declare, by how state records it (to delete orphans with
/// the configuration that made them).
#[derive(Default)]
pub(super) struct Providers {
    configured: HashMap<ProviderKey, Configured>,
    /// Configurations that failed, with the error: told once, not once per resource
    /// (the same diagnostic again is not reported twice, see `Engine::error`).
    failed: HashMap<ProviderKey, Diagnostic>,
    records: HashMap<String, ProviderKey>,
}

impl<'a> Engine<'_, 'a> {
    /// Which configuration `provider = west` or `provider = regional[r]` names, from
    /// the module instance `frame`.
    pub fn provider_reference(
        &self,
        frame: &Frame<'a>,
        value: &Expr,
        locals: &Locals,
    ) -> Result<ProviderKey, Diagnostic> {
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
        self.resolve_provider(frame, name, key, value.span)
    }

    /// Finds the configuration `name` (with `key`) as module instance `frame` sees it:
    /// passed by the caller, declared in the module, or (for a provider type's default
    /// configuration) the caller's, up to the root's, which may be implicit.
    pub fn resolve_provider(
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
    pub fn configure(&self, key: &ProviderKey, provider_type: &str, span: Span) -> Result<Configured, Diagnostic> {
        if let Some(configured) = self.providers.borrow().configured.get(key) {
            return Ok(configured.clone());
        }
        if let Some(failed) = self.providers.borrow().failed.get(key) {
            return Err(failed.clone());
        }
        let factory = self.context.providers.iter().find(|f| f.name() == provider_type).cloned();
        let factory = factory.ok_or_else(|| {
            Diagnostic::error(codes::UNKNOWN_PROVIDER, format!("no provider `{provider_type}`"))
                .with_label(span, "here")
        })?;
        let config = self.provider_config(key, factory.as_ref(), span)?;
        if !config.values().all(Value::is_wholly_known) {
            return Ok(Configured::Unknown);
        }
        let context = ProviderContext { module_dir: self.context.scope.module.dir.clone() };
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let provider = factory.configure(&plain, &context).map_err(|e| {
            let diagnostic = Diagnostic::error(
                codes::PROVIDER_FAILED,
                format!("provider `{}`: {}", key.record(provider_type), e.message),
            );
            // At the configuration: the attribute the provider names, else the block;
            // the resource that first needed it beside.
            let diagnostic = match self.config_span(key, e.attribute.as_deref()) {
                Some((at, what)) => diagnostic.with_label(at, what).with_secondary(span, "used here"),
                None => diagnostic.with_label(span, "used here"),
            }
            .with_help(e.help.unwrap_or_else(|| "check the provider's configuration".to_string()));
            self.providers.borrow_mut().failed.insert(key.clone(), diagnostic.clone());
            diagnostic
        })?;
        self.announce_records(provider.as_ref(), &key.record(provider_type), provider_type);
        if let Some(apply) = self.apply {
            apply.cancelled.watch(&provider);
        }
        let configured = Configured::Ready(provider);
        self.providers.borrow_mut().configured.insert(key.clone(), configured.clone());
        Ok(configured)
    }

    /// Where the configuration block for `key` is: the span of its `attribute` when the
    /// block sets it, else of the block's provider name; none for a configuration no
    /// block declares (the provider's defaults).
    pub(super) fn config_span(&self, key: &ProviderKey, attribute: Option<&str>) -> Option<(Span, &'static str)> {
        let frame = self.walked.borrow().frames.get(&key.frame).cloned()?;
        let module = frame.module();
        let Item::Provider(block) = module.item(module.providers.get(&key.name)?.item) else { return None };
        let set = attribute.and_then(|name| block.body.attribute(name));
        Some(match set {
            Some(attribute) => (attribute.value.span, "the provider refused this"),
            None => (block.provider.span, "configured here"),
        })
    }

    /// Tells a newly configured provider of each object the state holds for its
    /// configuration `record` (`Provider::recorded`) and, when the plan refreshes, how
    /// many of each kind there are: the reads refresh will ask of it.
    fn announce_records(&self, provider: &dyn Provider, record: &str, provider_type: &str) {
        let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        let state = self.state.borrow();
        let prefix = format!("{provider_type}.");
        for instance in state.instances.values() {
            if instance.mode != crate::state::Mode::Managed || instance.provider != record {
                continue;
            }
            if let Some(kind) = instance.resource_type.strip_prefix(&prefix) {
                provider.recorded(kind, &instance.attributes);
                *counts.entry(kind).or_default() += 1;
            }
        }
        if !self.context.refresh {
            return;
        }
        for (kind, count) in counts {
            provider.expect_reads(kind, count);
        }
    }

    /// The configuration block's values for `key` (none when the module instance was
    /// not walked or declares no block: the provider's defaults).
    fn provider_config(
        &self,
        key: &ProviderKey,
        factory: &dyn ProviderFactory,
        span: Span,
    ) -> Result<Attributes, Diagnostic> {
        let Some(frame) = self.walked.borrow().frames.get(&key.frame).cloned() else { return Ok(Attributes::new()) };
        let module = frame.module();
        let block = module.providers.get(&key.name).map(|c| module.item(c.item));
        let Some(Item::Provider(block)) = block else { return Ok(Attributes::new()) };
        let instances = expand(&frame.scope, block.repeat.as_ref())?;
        let Some(instance) = instances.iter().find(|i| i.key == key.key) else {
            let shown = key.key.as_ref().map_or(String::new(), ToString::to_string);
            return Err(Diagnostic::error(
                codes::UNKNOWN_PROVIDER_CONFIG,
                format!("provider configuration `{}` has no instance `{shown}`", key.name),
            )
            .with_label(span, "used here")
            .with_secondary(block.provider.span, "declared here")
            .with_help(missing_instance_help(&key.name, &instances)));
        };
        let schema = &factory.schema().config;
        let config = evaluate_body(&frame.scope, &block.body, schema, &instance.locals())?;
        let what = format!("provider `{}`", key.name);
        crate::validate::check_body(schema, &block.body, &config, &what)?;
        Ok(config)
    }

    /// Notes the provider configurations a module instance declares (their instances,
    /// when the repetition is known), by how state records them.
    pub fn register_providers(&self, frame: &Frame<'a>) {
        let module = frame.module();
        for (name, config) in &module.providers {
            let Item::Provider(block) = module.item(config.item) else { continue };
            let Ok(instances) = expand(&frame.scope, block.repeat.as_ref()) else { continue };
            for instance in instances {
                let key = ProviderKey { frame: frame.prefix.clone(), name: name.clone(), key: instance.key };
                self.providers.borrow_mut().records.insert(key.record(&config.provider), key);
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
        match self.providers.borrow().records.get(record) {
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
}

/// The help for a key a repeated provider configuration does not produce: the keys it
/// does, and, when they are positions, how to key by the elements instead.
fn missing_instance_help(name: &str, instances: &[Instance]) -> String {
    const SHOWN: usize = 5;
    let keys: Vec<String> = instances.iter().take(SHOWN).map(|i| format!("`{name}{}`", display_key(i))).collect();
    if keys.is_empty() {
        return "its `for` produces no instance here: select a configuration that exists".to_string();
    }
    let more = if instances.len() > SHOWN { format!(" and {} more", instances.len() - SHOWN) } else { String::new() };
    let mut help = format!("its instances are {}{more}", keys.join(", "));
    if instances.iter().all(|i| matches!(i.key, Some(InstanceKey::Index(_)))) {
        help.push_str(
            "; a `for` over a list that is not of strings keys its instances by position: select one with the \
             position (`for i, x in LIST`, then `[i]`), or key them by value (`for x in LIST key tostring(x)`)",
        );
    }
    help
}

fn display_key(instance: &Instance) -> String {
    instance.key.as_ref().map_or(String::new(), ToString::to_string)
}

fn bad_provider_reference(value: &Expr) -> Diagnostic {
    Diagnostic::error(codes::UNKNOWN_PROVIDER_CONFIG, "a provider reference must name a provider configuration")
        .with_label(value.span, "expected a name such as `west` or `regional[key]`")
        .with_help("write `provider = ALIAS` where `provider TYPE as ALIAS { ... }` is declared")
}

/// An instance key from a value: a whole number or a string.
pub(super) fn instance_key(value: &Value) -> Option<InstanceKey> {
    match &value.kind {
        Kind::String(s) => Some(InstanceKey::Name(s.to_string())),
        Kind::Number(n) if n.fract() == 0.0 && *n >= 0.0 => Some(InstanceKey::Index(*n as u64)),
        _ => None,
    }
}
