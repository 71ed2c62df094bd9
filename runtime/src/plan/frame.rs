//! Module instances as frames: the root, or one instance of a module call
//! (`env["prod"]`) with its address prefix, scope, passed provider configurations and
//! slice of the selection; how a call's inputs become a child frame's scope, and a
//! frame's outputs and `check`s.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use infra_compiler::check::lower_type;
use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::graph::DependencyGraph;
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::syntax::ast::{BodyItem, ExprKind, Input, Item, ModuleCall, ObjectKey, Repeat};
use infra_compiler::types::Type;
use infra_compiler::Span;

use super::engine::Engine;
use super::lifecycle;
use super::providers::ProviderKey;
use super::{declaration_dependencies, Selection};
use crate::address::{Address, InstanceKey};
use crate::convert::convert;
use crate::eval::Locals;
use crate::expand::Instance;
use crate::module::ModuleScope;
use crate::value::{Name, Value};

/// A module's scope: the root's is the caller's, a module instance's is made here.
pub(super) enum ScopeRef<'a> {
    Root(&'a ModuleScope<'a>),
    Child(Box<ModuleScope<'a>>),
}

impl<'a> std::ops::Deref for ScopeRef<'a> {
    type Target = ModuleScope<'a>;

    fn deref(&self) -> &ModuleScope<'a> {
        match self {
            ScopeRef::Root(scope) => scope,
            ScopeRef::Child(scope) => scope,
        }
    }
}

/// One module instance being planned: the root, or `env["prod"]`.
pub(super) struct Frame<'a> {
    /// Empty for the root.
    pub prefix: Address,
    pub scope: ScopeRef<'a>,
    pub graph: &'a DependencyGraph,
    /// Provider configurations the caller passed (`providers = { aws = west }`).
    pub passed: HashMap<String, ProviderKey>,
    pub parent: Option<Rc<Frame<'a>>>,
    pub selection: Selection,
    /// For each declaration, what it depends on (full addresses), including what the
    /// module call depends on in the callers.
    pub dependencies: HashMap<Name, Vec<Address>>,
}

impl<'a> Frame<'a> {
    pub fn module(&self) -> &'a Module {
        self.scope.module
    }

    /// The full address of a declaration's instance in this module instance.
    pub fn address(&self, name: impl Into<Name>, key: Option<InstanceKey>) -> Address {
        Address::new(name, key).within(&self.prefix)
    }

    /// The root module's frame.
    pub fn root(scope: &'a ModuleScope<'a>, graph: &'a DependencyGraph, selection: Selection) -> Frame<'a> {
        let prefix = Address { steps: Vec::new() };
        let dependencies = frame_dependencies(graph, &prefix, &[]);
        let passed = HashMap::default();
        Frame { prefix, scope: ScopeRef::Root(scope), graph, passed, parent: None, selection, dependencies }
    }

    /// The outputs of a module instance, evaluated with what was planned or applied.
    pub fn outputs(&self) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
        let module = self.module();
        let mut outputs = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, decl) in &module.outputs {
            let Item::Output(output) = module.item(decl.item) else { continue };
            match self.scope.eval(&output.value) {
                Ok(value) => {
                    let sensitive = output.body.as_ref().and_then(|b| b.attribute("sensitive"));
                    let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
                    outputs.insert(name.to_string(), if marked { value.mark_sensitive() } else { value });
                }
                Err(error) => errors.push(error),
            }
        }
        errors.is_empty().then_some(outputs).ok_or(errors)
    }

    /// The top-level `check`s of a module instance: an unknown condition is checked
    /// again after apply; a false one is an error. The `let`s nothing reads are
    /// evaluated here too, for their errors.
    pub fn checks(&self, failed: &[bool]) -> Result<(), Vec<Diagnostic>> {
        use infra_compiler::graph::NodeKind;
        let place = display_frame(&self.prefix);
        let mut errors: Vec<Diagnostic> = self
            .module()
            .items()
            .filter_map(|(id, item)| match item {
                Item::Check(check) if !self.check_reaches_failed(id, failed) => {
                    lifecycle::condition(&self.scope, check, &Locals::new(), &place).err()
                }
                _ => None,
            })
            .collect();
        // A let that nothing reads is evaluated too: an error in it (`tonumber("abc")`) is
        // an error in the configuration whether or not it is used yet, as Terraform
        // reports one in an unused local. A let that is read is evaluated where it is.
        let graph = &self.graph.graph;
        for node in graph.node_indices() {
            let unread = graph.neighbors_directed(node, petgraph::Direction::Incoming).next().is_none();
            if graph[node].kind != NodeKind::Let || !unread || self.reaches_failed(node, failed) {
                continue;
            }
            if let Item::Let(decl) = self.module().item(graph[node].item) {
                errors.extend(self.scope.eval(&decl.value).err());
            }
        }
        errors.is_empty().then_some(()).ok_or(errors)
    }
}

impl Frame<'_> {
    /// Whether the top-level check `item` depends, through lets and outputs, on a
    /// declaration that failed or was skipped (`failed`, by graph node): its values are
    /// missing, so the check cannot be evaluated. Checks of what succeeded still run.
    fn check_reaches_failed(&self, item: infra_compiler::resolve::ItemId, failed: &[bool]) -> bool {
        use infra_compiler::graph::NodeKind;
        if !failed.contains(&true) {
            return false;
        }
        let graph = &self.graph.graph;
        let Some(start) = graph.node_indices().find(|&i| graph[i].kind == NodeKind::Check && graph[i].item == item)
        else {
            return false;
        };
        self.reaches_failed(start, failed)
    }

    /// Whether the node `start` depends, through lets and outputs, on a declaration that
    /// failed or was skipped (`failed`, by graph node).
    fn reaches_failed(&self, start: petgraph::graph::NodeIndex, failed: &[bool]) -> bool {
        use infra_compiler::graph::NodeKind;
        if !failed.contains(&true) {
            return false;
        }
        let graph = &self.graph.graph;
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack: Vec<petgraph::graph::NodeIndex> = graph.neighbors(start).collect();
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            if failed.get(next.index()).copied().unwrap_or(false) {
                return true;
            }
            if !matches!(graph[next].kind, NodeKind::Resource | NodeKind::Data | NodeKind::Module) {
                stack.extend(graph.neighbors(next));
            }
        }
        false
    }
}

/// What a module call gives one of its instances: input values (with where they were
/// written) and provider configurations.
#[derive(Default)]
struct Arguments {
    given: BTreeMap<String, (Value, Span)>,
    passed: HashMap<String, ProviderKey>,
    errors: Vec<Diagnostic>,
}

impl<'a> Engine<'_, 'a> {
    /// A module instance: its inputs evaluated in the caller with the instance's
    /// variables, converted to the types the module declares, defaults filled in and
    /// the inputs' checks run; its provider configurations passed.
    pub fn child_frame(
        &self,
        frame: &Rc<Frame<'a>>,
        (call, child_index): (&ModuleCall, usize),
        instance: &Instance,
        prefix: Address,
        selection: Selection,
    ) -> Result<Rc<Frame<'a>>, Vec<Diagnostic>> {
        let child: &'a Module = &self.context.modules[child_index];
        let Arguments { given, passed, errors } = self.call_arguments(frame, call, instance);
        let inputs = module_inputs(&frame.scope, call, child, given, errors)?;
        let input_context = crate::inputs::InputContext {
            module: child,
            functions: frame.scope.functions,
            schemas: frame.scope.schemas,
            env: frame.scope.env,
        };
        let check_errors = crate::inputs::run_input_checks(&input_context, &inputs);
        if !check_errors.is_empty() {
            let at = format!("in module instance `{prefix}`");
            return Err(check_errors.into_iter().map(|d| d.with_note(at.clone())).collect());
        }
        let scope = ModuleScope::new(child, inputs, frame.scope.functions, frame.scope.schemas, frame.scope.env);
        // What the call depends on (its callers' dependencies included) is what every
        // declaration inside depends on.
        let inherited = frame.dependencies.get(call.name.name.as_str()).cloned().unwrap_or_default();
        let graph = &self.context.graphs[child_index];
        let dependencies = frame_dependencies(graph, &prefix, &inherited);
        let scope = ScopeRef::Child(Box::new(scope));
        Ok(Rc::new(Frame { prefix, scope, graph, passed, parent: Some(frame.clone()), selection, dependencies }))
    }

    /// The call's attributes for one instance: input values and `providers`.
    fn call_arguments(&self, frame: &Frame<'a>, call: &ModuleCall, instance: &Instance) -> Arguments {
        let mut arguments = Arguments::default();
        for entry in &call.body.items {
            let BodyItem::Attribute(attribute) = entry else { continue };
            let name = attribute.name.name.as_str();
            match name {
                "depends_on" => {}
                "providers" => {
                    let ExprKind::Object(items) = &attribute.value.kind else { continue };
                    for item in items {
                        let Some(local) = object_key_name(&item.key) else { continue };
                        match self.provider_reference(frame, &item.value, &instance.locals()) {
                            Ok(key) => {
                                arguments.passed.insert(local, key);
                            }
                            Err(error) => arguments.errors.push(error),
                        }
                    }
                }
                _ => match frame.scope.evaluator().eval(&attribute.value, &mut instance.locals()) {
                    Ok(value) => {
                        arguments.given.insert(name.to_string(), (value, attribute.value.span));
                    }
                    Err(error) => arguments.errors.push(error),
                },
            }
        }
        arguments
    }
}

/// The called module's inputs from what the call gives: converted, defaulted, their
/// optional attributes filled in, sensitive ones marked. Every error, not the first.
fn module_inputs(
    caller: &ModuleScope<'_>,
    call: &ModuleCall,
    child: &Module,
    mut given: BTreeMap<String, (Value, Span)>,
    mut errors: Vec<Diagnostic>,
) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
    // Defaults are evaluated in the called module, where only constants are in scope.
    let constants = ModuleScope::new(child, BTreeMap::new(), caller.functions, caller.schemas, caller.env);
    let mut inputs = BTreeMap::new();
    for decl in child.decls.values().filter(|d| d.kind == DeclKind::Input) {
        let Item::Input(input) = child.item(decl.item) else { continue };
        // A null given for an input with a default means the default; for one without,
        // it is the value, unless the input says `nullable = false`.
        let name = &input.name.name;
        let value = given.remove(name.as_str()).filter(|(v, _)| !(v.is_null() && input.default.is_some()));
        if let Some((value, span)) = &value {
            if value.is_null() && !crate::inputs::is_nullable(input) {
                errors.push(
                    Diagnostic::error(
                        codes::INVALID_INPUT,
                        format!("input `{name}` of module `{}` cannot be null", call.name.name),
                    )
                    .with_label(*span, "null given")
                    .with_secondary(input.name.span, "declared with `nullable = false`")
                    .with_help(format!("give `{name}` a value, or give it a default for `null` to mean")),
                );
                continue;
            }
        }
        match input_value(&constants, call, input, value) {
            Ok(value) => {
                inputs.insert(name.to_string(), value);
            }
            Err(error) => errors.push(error),
        }
    }
    errors.is_empty().then_some(inputs).ok_or(errors)
}

/// One input's value: the given one converted to the declared type, or the default,
/// with optional attributes' defaults filled in.
fn input_value(
    constants: &ModuleScope<'_>,
    call: &ModuleCall,
    input: &Input,
    given: Option<(Value, Span)>,
) -> Result<Value, Diagnostic> {
    let ty = input.ty.as_ref().map_or(Type::Any, lower_type);
    let value = match (given, &input.default) {
        (Some((value, span)), _) => {
            convert(&value, &ty).map_err(|error| wrong_input(call, input, &ty, (&value, span), error))?
        }
        (None, Some(default)) => constants
            .eval(default)
            .and_then(|v| convert(&v, &ty).map_err(|e| crate::eval::invalid_value(default.span, e.to_string())))?,
        (None, None) => return Err(missing_input(call, &input.name.name)),
    };
    let value = match &input.ty {
        Some(written) => crate::inputs::fill_optional_defaults(value, written, &mut |e| constants.eval(e))?,
        None => value,
    };
    let sensitive = input
        .body
        .as_ref()
        .and_then(|b| b.attribute("sensitive"))
        .is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
    Ok(if sensitive { value.mark_sensitive() } else { value })
}

fn wrong_input(
    call: &ModuleCall,
    input: &Input,
    ty: &Type,
    (value, span): (&Value, Span),
    error: impl std::fmt::Display,
) -> Diagnostic {
    let name = &input.name.name;
    // The conversion error can quote the value (or a key of it): a secret's stays hidden.
    let (shown, error) = if value.contains_sensitive() {
        ("(sensitive value)".to_string(), "the sensitive value does not convert".to_string())
    } else {
        (value.to_string(), error.to_string())
    };
    Diagnostic::error(
        codes::INVALID_INPUT,
        format!("input `{name}` of module `{}` is a `{ty}`: {error}", call.name.name),
    )
    .with_label(span, format!("given {shown}"))
    .with_secondary(input.name.span, format!("declared `{ty}` here"))
    .with_help(format!("give `{name}` a `{ty}`"))
}

fn missing_input(call: &ModuleCall, name: &str) -> Diagnostic {
    Diagnostic::error(
        codes::MISSING_MODULE_INPUT,
        format!("module `{}` is missing required input `{name}`", call.name.name),
    )
    .with_label(call.name.span, "called here")
    .with_help(format!("set `{name} = ...` in the module body"))
}

/// For each declaration of a module instance, what it depends on: its dependencies in
/// the module under the instance's prefix, plus what the instance's call depends on.
fn frame_dependencies(graph: &DependencyGraph, prefix: &Address, inherited: &[Address]) -> HashMap<Name, Vec<Address>> {
    declaration_dependencies(graph)
        .into_iter()
        .map(|(_, name, deps)| {
            let mut addresses: Vec<Address> =
                deps.iter().map(|d| Address::new(graph.graph[*d].name.clone(), None).within(prefix)).collect();
            addresses.extend(inherited.iter().cloned());
            (name, addresses)
        })
        .collect()
}

/// `root module` or the module instance's address, for messages.
pub(super) fn display_frame(prefix: &Address) -> String {
    if prefix.steps.is_empty() {
        "the root module".to_string()
    } else {
        format!("module instance `{prefix}`")
    }
}

fn object_key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident { name, .. } => Some(name.to_string()),
        ObjectKey::Expr(expr) => match &expr.kind {
            ExprKind::Text(text) => Some(text.to_string()),
            _ => None,
        },
    }
}

/// A declaration's value from its instances: the instance itself, a list (keys by
/// position), a map (keys by name), or null for an `if` that is false.
pub(super) fn instances_value(repeat: Option<&Repeat>, instances: Vec<(Option<InstanceKey>, Value)>) -> Value {
    match repeat {
        None | Some(Repeat::If { .. }) => instances.into_iter().next().map_or_else(Value::null, |(_, v)| v),
        Some(Repeat::For(_)) => {
            if instances.iter().all(|(k, _)| matches!(k, Some(InstanceKey::Index(_)))) {
                Value::list(instances.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::object(
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
