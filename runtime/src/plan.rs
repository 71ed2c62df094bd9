//! Planning the root module: what apply would do to every resource instance.
//!
//! Declarations are visited in dependency order (the checker's graph). Each resource is
//! expanded into instances; each instance's body is evaluated with every upstream value
//! planned so far, its provider plans the new attributes, and [`diff`] decides the
//! action against the prior attributes from state (refreshed through the provider first,
//! so changes made outside of Infra show as drift). The planned instances then stand for
//! the resource when later declarations refer to it. Instances in state that the
//! configuration no longer has are planned for deletion. Data sources whose
//! configuration is known are read during the plan.
//!
//! Not yet here (they come with the apply engine): module calls at run time, repeated
//! provider configurations, `moved`/`import`, `--target`, lifecycle `ignore_changes`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::graph::{DependencyGraph, NodeKind};
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{ProviderSchema, Schema};
use infra_compiler::syntax::ast::{Body, BodyItem, ExprKind, Item, Repeat, Resource, ResourceMode};
use infra_compiler::types::Type;

use crate::address::{Address, InstanceKey};
use crate::convert::convert;
use crate::diff::{diff, Action, InstanceDiff};
use crate::eval::Locals;
use crate::expand::{expand, expand_within, Instance};
use crate::module::ModuleScope;
use crate::provider::{Attributes, Provider, ProviderContext, ProviderFactory, ReadResult};
use crate::state::{Mode, State, Status};
use crate::value::{Kind, Value};

/// One instance's planned change.
#[derive(Clone, Debug)]
pub struct PlannedInstance {
    pub address: Address,
    /// `local.file`.
    pub resource_type: String,
    pub mode: Mode,
    pub diff: InstanceDiff,
    /// Attributes whose values are sensitive (by schema or because the configuration
    /// made them so); a plan shows them as `(sensitive value)`.
    pub sensitive: BTreeSet<String>,
    /// The instance was changed outside of Infra since the last apply: the attributes
    /// state held, before the refresh.
    pub drifted_from: Option<Attributes>,
}

/// The whole plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// In dependency order; deletions of instances gone from the configuration last.
    pub instances: Vec<PlannedInstance>,
    /// Output values, unknown where they depend on what apply computes.
    pub outputs: BTreeMap<String, Value>,
}

impl Plan {
    /// Instances whose action is not a no-op.
    pub fn changes(&self) -> impl Iterator<Item = &PlannedInstance> {
        self.instances.iter().filter(|i| i.diff.action != Action::NoOp)
    }
}

/// Everything planning needs.
pub struct PlanContext<'a> {
    pub scope: &'a ModuleScope<'a>,
    pub graph: &'a DependencyGraph,
    pub state: &'a State,
    pub providers: &'a [Arc<dyn ProviderFactory>],
    /// Read every prior instance through its provider first (`--refresh=false` skips).
    pub refresh: bool,
}

/// Plans the root module. Returns every error found, not only the first.
pub async fn plan(context: &PlanContext<'_>) -> Result<Plan, Vec<Diagnostic>> {
    let mut planner = Planner { context, configured: HashMap::new(), plan: Plan::default(), errors: Vec::new() };
    for name in dependency_order(context.graph) {
        planner.declaration(&name).await;
    }
    planner.orphans().await;
    planner.outputs();
    if planner.errors.is_empty() {
        Ok(planner.plan)
    } else {
        Err(planner.errors)
    }
}

/// Resource and data declarations, every dependency before its dependents.
fn dependency_order(graph: &DependencyGraph) -> Vec<String> {
    let order = petgraph::algo::toposort(&graph.graph, None).unwrap_or_default();
    order
        .into_iter()
        .rev()
        .map(|index| &graph.graph[index])
        .filter(|node| matches!(node.kind, NodeKind::Resource | NodeKind::Data))
        .map(|node| node.name.clone())
        .collect()
}

struct Planner<'c, 'a> {
    context: &'c PlanContext<'a>,
    configured: HashMap<String, Arc<dyn Provider>>,
    plan: Plan,
    errors: Vec<Diagnostic>,
}

impl Planner<'_, '_> {
    fn module(&self) -> &Module {
        self.context.scope.module
    }

    async fn declaration(&mut self, name: &str) {
        let Some(decl) = self.module().decl(name).copied() else { return };
        let Item::Resource(resource) = self.module().item(decl.item) else { return };
        let resource = resource.clone();
        let Some((provider_schema, schema)) = self.schema_of(&resource) else { return };
        let provider = match self.provider(&resource, &provider_schema) {
            Ok(provider) => provider,
            Err(error) => return self.errors.push(error),
        };
        let instances = match expand(self.context.scope, resource.repeat.as_ref()) {
            Ok(instances) => instances,
            Err(error) => return self.errors.push(error),
        };
        let mut values = Vec::with_capacity(instances.len());
        for instance in &instances {
            let address = Address::new(name, instance.key.clone());
            match self.instance(&resource, &schema, &provider, instance, address).await {
                Ok(value) => values.push((instance.key.clone(), value)),
                Err(error) => {
                    self.errors.push(error);
                    values.push((instance.key.clone(), Value::unknown(Type::Any)));
                }
            }
        }
        self.context.scope.set_resource(name, instances_value(resource.repeat.as_ref(), values));
    }

    fn schema_of(&mut self, resource: &Resource) -> Option<(ProviderSchema, Schema)> {
        let provider = self.context.providers.iter().find(|f| f.name() == resource.ty.provider.name)?;
        let schema = provider.schema().clone();
        let kinds = match resource.mode {
            ResourceMode::Managed => &schema.resources,
            ResourceMode::Data => &schema.data_sources,
        };
        let kind = kinds.get(&resource.ty.kind.name)?.clone();
        Some((schema, kind))
    }

    /// The configured provider a resource uses: its `provider = NAME`, or the default
    /// configuration of its provider type.
    fn provider(&mut self, resource: &Resource, schema: &ProviderSchema) -> Result<Arc<dyn Provider>, Diagnostic> {
        let config_name = match resource.body.attribute("provider").map(|a| &a.value.kind) {
            Some(ExprKind::Name(name)) => name.name.clone(),
            _ => resource.ty.provider.name.clone(),
        };
        if let Some(provider) = self.configured.get(&config_name) {
            return Ok(provider.clone());
        }
        let module = self.module();
        let config_item = module.providers.get(&config_name).map(|c| module.item(c.item));
        let config = match config_item {
            Some(Item::Provider(block)) if block.repeat.is_some() => {
                return Err(Diagnostic::error(
                    codes::UNKNOWN_PROVIDER_CONFIG,
                    "repeated provider configurations cannot be planned yet",
                )
                .with_label(block.provider.span, "repeated with `for` or `if`")
                .with_help("declare one configuration per region for now"))
            }
            Some(Item::Provider(block)) => self.evaluate_body(&block.body, &schema.config, &Locals::new())?,
            _ => Attributes::new(),
        };
        let factory = self.context.providers.iter().find(|f| f.name() == schema.name).cloned();
        let factory = factory.ok_or_else(|| {
            Diagnostic::error(codes::UNKNOWN_PROVIDER, format!("no provider `{}`", schema.name))
                .with_label(resource.ty.span, "here")
        })?;
        let context = ProviderContext { module_dir: module.dir.clone() };
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let provider = factory.configure(&plain, &context).map_err(|e| {
            Diagnostic::error(codes::FUNCTION_FAILED, format!("provider `{config_name}`: {}", e.message))
                .with_label(resource.ty.span, "used here")
                .with_help(e.help.unwrap_or_else(|| "check the provider's configuration".to_string()))
        })?;
        self.configured.insert(config_name, provider.clone());
        Ok(provider)
    }

    async fn instance(
        &mut self,
        resource: &Resource,
        schema: &Schema,
        provider: &Arc<dyn Provider>,
        instance: &Instance,
        address: Address,
    ) -> Result<Value, Diagnostic> {
        let config = self.evaluate_body(&resource.body, schema, &instance.locals())?;
        let sensitive: BTreeSet<String> = config
            .iter()
            .filter(|(name, value)| value.contains_sensitive() || schema.attribute(name).is_some_and(|a| a.sensitive))
            .map(|(name, _)| name.clone())
            .chain(schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()))
            .collect();
        let plain: Attributes = config.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect();
        let kind = resource.ty.kind.name.as_str();
        let failed = |e: crate::provider::ProviderError| provider_error(resource, &address, e);
        if resource.mode == ResourceMode::Data {
            let (attributes, action) = if plain.values().all(Value::is_wholly_known) {
                (provider.read_data(kind, &plain).await.map_err(failed)?, Action::NoOp)
            } else {
                (provider.plan(kind, None, &plain).map_err(failed)?, Action::Read)
            };
            let mut diff = diff(schema, None, Some(&attributes), false, false);
            diff.action = action;
            self.push(address, resource, Mode::Data, diff, sensitive.clone(), None);
            return Ok(mark(attributes, &sensitive));
        }
        let stored = self.context.state.instances.get(&address).filter(|i| i.status == Status::Created);
        let mut prior =
            stored.map(|i| i.attributes.iter().map(|(k, v)| (k.clone(), v.unmarked_deep())).collect::<Attributes>());
        let mut drifted_from = None;
        if let (true, Some(current)) = (self.context.refresh, prior.clone()) {
            match provider.read(kind, &current).await.map_err(failed)? {
                ReadResult::Found(now) => {
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
        let planned = provider.plan(kind, prior.as_ref(), &plain).map_err(failed)?;
        let lifecycle =
            lifecycle_flag(self.context.scope, &resource.body, "create_before_destroy", &instance.locals())?;
        let diff = diff(schema, prior.as_ref(), Some(&planned), lifecycle, false);
        self.push(address, resource, Mode::Managed, diff, sensitive.clone(), drifted_from);
        Ok(mark(planned, &sensitive))
    }

    fn push(
        &mut self,
        address: Address,
        resource: &Resource,
        mode: Mode,
        diff: InstanceDiff,
        sensitive: BTreeSet<String>,
        drifted_from: Option<Attributes>,
    ) {
        let resource_type = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
        self.plan.instances.push(PlannedInstance { address, resource_type, mode, diff, sensitive, drifted_from });
    }

    /// The configuration of a body as attributes: every attribute of the schema (null
    /// when not set), nested blocks as objects (lists of them when repeated).
    fn evaluate_body(&self, body: &Body, schema: &Schema, locals: &Locals) -> Result<Attributes, Diagnostic> {
        let scope = self.context.scope;
        let mut attributes: Attributes = schema.attributes.iter().map(|a| (a.name.clone(), Value::null())).collect();
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    let Some(attribute_schema) = schema.attribute(&attribute.name.name) else { continue };
                    let mut bindings = Locals::with(locals_clone(locals));
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
                        let mut inner = locals_clone(locals);
                        inner.extend(instance.bindings);
                        let inner = Locals::with(inner);
                        objects.push(Value::map(self.evaluate_body(&block.body, &block_schema.schema, &inner)?));
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

    /// Instances in state that the configuration no longer declares are deleted.
    async fn orphans(&mut self) {
        let planned: BTreeSet<Address> = self.plan.instances.iter().map(|i| i.address.clone()).collect();
        let orphans: Vec<(Address, crate::state::Instance)> = self
            .context
            .state
            .instances
            .iter()
            .filter(|(address, instance)| !planned.contains(address) && instance.mode == Mode::Managed)
            .map(|(a, i)| (a.clone(), i.clone()))
            .collect();
        for (address, instance) in orphans {
            let (provider_name, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
            let factory = self.context.providers.iter().find(|f| f.name() == provider_name);
            let schema = factory.and_then(|f| f.schema().resources.get(kind).cloned()).unwrap_or_default();
            let diff = diff(&schema, Some(&instance.attributes), None, false, false);
            let sensitive = schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()).collect();
            let resource_type = instance.resource_type.clone();
            self.plan.instances.push(PlannedInstance {
                address,
                resource_type,
                mode: Mode::Managed,
                diff,
                sensitive,
                drifted_from: None,
            });
        }
    }

    fn outputs(&mut self) {
        let module = self.context.scope.module;
        for (name, decl) in &module.decls {
            if decl.kind != DeclKind::Output {
                continue;
            }
            let Item::Output(output) = module.item(decl.item) else { continue };
            match self.context.scope.eval(&output.value) {
                Ok(value) => {
                    let sensitive = output.body.as_ref().and_then(|b| b.attribute("sensitive"));
                    let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
                    self.plan.outputs.insert(name.clone(), value.with_mark(marked));
                }
                Err(error) => self.errors.push(error),
            }
        }
    }
}

fn locals_clone(locals: &Locals) -> Vec<(String, Value)> {
    locals.bindings().to_vec()
}

fn same(a: &Attributes, b: &Attributes) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
}

/// A planned instance as dependents see it, with its sensitive attributes marked.
fn mark(attributes: Attributes, sensitive: &BTreeSet<String>) -> Value {
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

fn lifecycle_flag(scope: &ModuleScope<'_>, body: &Body, name: &str, locals: &Locals) -> Result<bool, Diagnostic> {
    let Some(lifecycle) = body.blocks().find(|b| b.name.name == "lifecycle") else { return Ok(false) };
    let Some(attribute) = lifecycle.body.attribute(name) else { return Ok(false) };
    let value = scope.evaluator().eval(&attribute.value, &mut Locals::with(locals_clone(locals)))?;
    match value.as_bool() {
        Some(flag) => Ok(flag),
        None => Err(crate::eval::invalid_value(attribute.value.span, format!("`{name}` must be known when planning"))
            .with_help("use values known before apply: inputs, lets and literals")),
    }
}

fn provider_error(resource: &Resource, address: &Address, error: crate::provider::ProviderError) -> Diagnostic {
    let span = error
        .attribute
        .as_deref()
        .and_then(|name| resource.body.attribute(name))
        .map_or(resource.name.span, |a| a.value.span);
    let mut diagnostic =
        Diagnostic::error(codes::FUNCTION_FAILED, format!("{address}: {}", error.message)).with_label(span, "here");
    if let Some(help) = error.help {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}
