//! Evaluating the declarations of a module: inputs come resolved (see `inputs.rs`),
//! `let`s are evaluated on first use and remembered, and resources, data sources and
//! module calls are unknown until there is state to read them from (a module call's
//! value, its outputs, is then computed by its module from the state, as `infra
//! console` shows it).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::check::lower_type;
use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::resolve::{DeclKind, Module, SHALLOW};
use infra_compiler::syntax::ast::{ExprKind, FnDecl, Input, Item, ModuleCall, Repeat};
use infra_compiler::types::Type;
use infra_compiler::{Schemas, Span};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::address::{Address, InstanceKey, Step};
use crate::eval::{EvalResult, Evaluator, Globals, Locals};
use crate::expand::Instance;
use crate::function::Functions;
use crate::state::State;
use crate::value::{Kind, Name, Value};

/// The values of one module's declarations.
pub struct ModuleScope<'a> {
    pub module: &'a Module,
    pub inputs: BTreeMap<String, Value>,
    pub functions: &'a dyn Functions,
    pub schemas: &'a dyn Schemas,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Values of `let`s (and the unknown values of resources not yet set), once
    /// evaluated.
    cache: RefCell<HashMap<String, EvalResult>>,
    /// For each declaration, the cached ones whose evaluation read it: what setting a
    /// resource makes stale.
    readers: RefCell<HashMap<String, HashSet<String>>>,
    /// Values of resources, data sources and module calls known from a plan or from
    /// state; the rest are unknown.
    resources: RefCell<HashMap<Name, Value>>,
    /// Declarations being evaluated, to stop on a cycle instead of overflowing.
    active: RefCell<Vec<String>>,
    /// The state this module instance's module calls are computed from, when it was
    /// loaded with [`ModuleScope::load_state_and_calls`]. (A plain field, not a cell:
    /// a cell would make the scope invariant in `'a`, and the plan holds it as
    /// `&'a ModuleScope<'a>` for a shorter `'a`.)
    stored: Option<Stored<'a>>,
}

/// Where a module instance's objects are in a state: what its module calls' outputs are
/// computed from when they are first read.
struct Stored<'a> {
    state: &'a State,
    /// Every module of the configuration, indexed as `Module::calls` says.
    modules: &'a [Module],
    /// The module instance's address (empty for the root).
    prefix: Address,
}

impl<'a> ModuleScope<'a> {
    pub fn new(
        module: &'a Module,
        inputs: BTreeMap<String, Value>,
        functions: &'a dyn Functions,
        schemas: &'a dyn Schemas,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> ModuleScope<'a> {
        ModuleScope {
            module,
            inputs,
            functions,
            schemas,
            env,
            cache: RefCell::new(HashMap::default()),
            readers: RefCell::new(HashMap::default()),
            resources: RefCell::new(HashMap::default()),
            active: RefCell::new(Vec::new()),
            stored: None,
        }
    }

    /// Sets the value of a resource, data source or module call (its planned or stored
    /// instances), replacing the unknown it has before. Set a declaration before
    /// evaluating anything that depends on it.
    pub fn set_resource(&self, name: Name, value: Value) {
        // Cached values that read the old value (directly or through others) are stale;
        // the rest stay, so setting each of many resources costs only what it touches.
        let mut cache = self.cache.borrow_mut();
        let mut readers = self.readers.borrow_mut();
        cache.remove(name.as_str());
        let mut stale: Vec<String> = readers.remove(name.as_str()).map(Vec::from_iter).unwrap_or_default();
        while let Some(reader) = stale.pop() {
            cache.remove(&reader);
            if let Some(names) = readers.remove(&reader) {
                stale.extend(names);
            }
        }
        self.resources.borrow_mut().insert(name, value);
    }

    /// Gives every resource and data source with instances in `state` its stored
    /// attributes (secrets marked), as `infra console` shows them after an apply.
    pub fn load_state(&self, state: &State) {
        self.load_instances(state, &Address { steps: Vec::new() });
    }

    /// [`Self::load_state`], and every module call the outputs its module computes from
    /// the objects `state` holds for the call's instances and the inputs the call gives
    /// them (`modules`: every module, the root first), computed when first read. Terraform's
    /// console shows module outputs so; the state records only the root's. Call it before
    /// evaluating anything.
    pub fn load_state_and_calls(&mut self, state: &'a State, modules: &'a [Module]) {
        self.load_state(state);
        self.stored = Some(Stored { state, modules, prefix: Address { steps: Vec::new() } });
    }

    /// The stored attributes of the resources and data sources of the module instance
    /// at `prefix` (their addresses are `prefix` and one step more).
    fn load_instances(&self, state: &State, prefix: &Address) {
        let depth = prefix.steps.len();
        let mut by_name: HashMap<Name, Vec<(Option<InstanceKey>, Value)>> = HashMap::default();
        for (address, instance) in &state.instances {
            let Some((step, within)) = address.steps.split_last() else { continue };
            if within.len() != depth || within != prefix.steps.as_slice() {
                continue;
            }
            let value = Value::object(instance.attributes.clone());
            by_name.entry(step.name.clone()).or_default().push((step.key.clone(), value));
        }
        for (name, mut instances) in by_name {
            let Some(decl) = self.module.decl(&name) else { continue };
            let Item::Resource(resource) = self.module.item(decl.item) else { continue };
            instances.sort_by(|a, b| a.0.cmp(&b.0));
            self.set_resource(name, instances_value(resource.repeat.as_ref(), instances));
        }
    }

    /// An evaluator whose names resolve in this module.
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            functions: self.functions,
            schemas: self.schemas,
            globals: self,
            module_dir: module_dir(self.module),
            env: self.env,
        }
    }

    /// Evaluates an expression written in this module (or typed at the console).
    pub fn eval(&self, expr: &infra_compiler::syntax::ast::Expr) -> EvalResult {
        self.evaluator().eval(expr, &mut Locals::new())
    }

    fn declaration(&self, name: &str, span: Span) -> EvalResult {
        let Some(decl) = self.module.decl(name).copied() else {
            return Err(Diagnostic::error(codes::UNDEFINED_NAME, format!("undefined name `{name}`"))
                .with_label(span, "not found"));
        };
        match (decl.kind, self.module.item(decl.item)) {
            (DeclKind::Input, _) => Ok(self.inputs.get(name).cloned().unwrap_or_else(Value::null)),
            (DeclKind::Let, Item::Let(item)) => self.evaluator().eval(&item.value, &mut Locals::new()),
            (DeclKind::Resource | DeclKind::Data | DeclKind::Module, _)
                if self.resources.borrow().contains_key(name) =>
            {
                Ok(self.resources.borrow()[name].clone())
            }
            (DeclKind::Resource | DeclKind::Data, Item::Resource(item)) => self.unknown_instances(item.repeat.as_ref()),
            (DeclKind::Module, Item::Module(call)) => match &self.stored {
                Some(stored) => self.stored_call(stored, call),
                None => self.unknown_instances(call.repeat.as_ref()),
            },
            (kind, _) => {
                Err(Diagnostic::error(codes::NOT_A_VALUE, format!("the {} `{name}` is not a value", kind.as_str()))
                    .with_label(span, "used as a value here")
                    .with_help("only inputs, lets, resources, data sources and modules have values"))
            }
        }
    }

    /// A module call's value from the state: for each of its instances, the outputs its
    /// module computes from the objects stored under the instance's address. What the
    /// state does not hold yet is unknown, as before an apply; so is every instance when
    /// the call's repetition cannot be evaluated.
    fn stored_call(&self, stored: &Stored<'a>, call: &ModuleCall) -> EvalResult {
        let child = self.module.calls.get(call.name.name.as_str()).and_then(|&index| stored.modules.get(index));
        let (Some(child), Ok(instances)) = (child, crate::expand::expand(self, call.repeat.as_ref())) else {
            return self.unknown_instances(call.repeat.as_ref());
        };
        let mut values = Vec::with_capacity(instances.len());
        for instance in &instances {
            let step = Step { name: call.name.name.clone(), key: instance.key.clone() };
            let prefix = Address { steps: vec![step] }.within(&stored.prefix);
            let inputs = self.call_inputs(call, child, instance)?;
            let mut scope = ModuleScope::new(child, inputs, self.functions, self.schemas, self.env);
            scope.load_instances(stored.state, &prefix);
            scope.stored = Some(Stored { state: stored.state, modules: stored.modules, prefix });
            values.push((instance.key.clone(), scope.outputs()?));
        }
        Ok(instances_value(call.repeat.as_ref(), values))
    }

    /// The inputs a module call gives one of its instances, evaluated here with the
    /// instance's variables: converted to the declared types, defaulted (a default is
    /// evaluated in the called module), optional attributes filled in, sensitive ones
    /// marked. The plan does the same and reports what is wrong; here a value that does
    /// not convert is unknown.
    fn call_inputs(
        &self,
        call: &ModuleCall,
        child: &'a Module,
        instance: &Instance,
    ) -> Result<BTreeMap<String, Value>, Diagnostic> {
        let constants = ModuleScope::new(child, BTreeMap::new(), self.functions, self.schemas, self.env);
        let mut inputs = BTreeMap::new();
        for decl in child.decls.values().filter(|d| d.kind == DeclKind::Input) {
            let Item::Input(input) = child.item(decl.item) else { continue };
            let name = &input.name.name;
            let given = match call.body.attribute(name) {
                Some(attribute) => Some(self.evaluator().eval(&attribute.value, &mut instance.locals())?),
                None => None,
            };
            // A null given for an input with a default means the default.
            let given = given.filter(|value| !(value.is_null() && input.default.is_some()));
            inputs.insert(name.to_string(), input_value(&constants, input, given)?);
        }
        Ok(inputs)
    }

    /// The module's outputs, as its callers read them.
    fn outputs(&self) -> EvalResult {
        let mut outputs = BTreeMap::new();
        for (name, decl) in &self.module.outputs {
            let Item::Output(output) = self.module.item(decl.item) else { continue };
            let value = self.eval(&output.value)?;
            let sensitive = output.body.as_ref().and_then(|b| b.attribute("sensitive"));
            let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
            outputs.insert(name.to_string(), if marked { value.mark_sensitive() } else { value });
        }
        Ok(Value::map(outputs))
    }

    /// Before apply, every attribute of a resource is unknown; what is known is how many
    /// instances there are and their keys, when the repetition can be evaluated.
    fn unknown_instances(&self, repeat: Option<&Repeat>) -> EvalResult {
        let instance = || Value::unknown(Type::Any);
        match repeat {
            None => Ok(instance()),
            Some(Repeat::If { condition, .. }) => {
                let value = self.eval(condition)?;
                Ok(match value.as_bool() {
                    Some(true) => instance(),
                    Some(false) => Value::null(),
                    None => Value::unknown(Type::Any),
                })
            }
            Some(Repeat::For(clause)) => {
                let collection = self.eval(&clause.collection)?;
                Ok(match &collection.kind {
                    _ if clause.key.is_some() => Value::unknown(Type::map(Type::Any)),
                    Kind::List(items) | Kind::Set(items) if items.iter().any(|i| i.as_str().is_none()) => {
                        Value::list(items.iter().map(|_| instance()).collect())
                    }
                    Kind::List(items) | Kind::Set(items) => Value::map(
                        items.iter().filter_map(|i| i.as_str().map(|k| (k.to_string(), instance()))).collect(),
                    ),
                    Kind::Map(entries) => Value::object(entries.keys().map(|k| (k.clone(), instance())).collect()),
                    _ => Value::unknown(Type::Any),
                })
            }
        }
    }
}

impl ModuleScope<'_> {
    /// Notes that the declaration being evaluated, if any, reads `name`.
    fn note_reader(&self, name: &str) {
        if let Some(reader) = self.active.borrow().last() {
            let mut readers = self.readers.borrow_mut();
            match readers.get_mut(name) {
                Some(names) => {
                    if !names.contains(reader) {
                        names.insert(reader.clone());
                    }
                }
                None => {
                    readers.insert(name.to_string(), HashSet::from_iter([reader.clone()]));
                }
            }
        }
    }
}

impl Globals for ModuleScope<'_> {
    fn with_value(&self, name: &str, span: Span, f: &mut dyn FnMut(&Value) -> EvalResult) -> Option<EvalResult> {
        self.module.decl(name)?;
        self.note_reader(name);
        if let Some(value) = self.resources.borrow().get(name) {
            return Some(f(value));
        }
        if let Some(result) = self.cache.borrow().get(name) {
            return Some(result.as_ref().map_err(Clone::clone).and_then(&mut *f));
        }
        self.value(name, span).map(|result| result.and_then(|value| f(&value)))
    }

    fn value(&self, name: &str, span: Span) -> Option<EvalResult> {
        self.module.decl(name)?;
        self.note_reader(name);
        if let Some(value) = self.resources.borrow().get(name) {
            return Some(Ok(value.clone()));
        }
        if let Some(result) = self.cache.borrow().get(name) {
            return Some(result.clone());
        }
        if self.active.borrow().iter().any(|n| n == name) {
            return Some(Err(Diagnostic::error(codes::DEPENDENCY_CYCLE, format!("`{name}` depends on itself"))
                .with_label(span, "used while it is being evaluated")
                .with_help("break the dependency cycle")));
        }
        if self.active.borrow().len() >= SHALLOW {
            // A long chain of declarations: evaluate what this one reads first, deepest
            // first, so the recursion below stays shallow (see `dependencies_first`).
            let pending = self.module.dependencies_first(name, |n| {
                self.cache.borrow().contains_key(n)
                    || self.resources.borrow().contains_key(n)
                    || self.active.borrow().iter().any(|a| a == n)
            });
            for dependency in pending {
                self.value(dependency, span);
            }
        }
        self.active.borrow_mut().push(name.to_string());
        let result = self.declaration(name, span);
        self.active.borrow_mut().pop();
        self.cache.borrow_mut().insert(name.to_string(), result.clone());
        Some(result)
    }

    fn function(&self, name: &str) -> Option<&FnDecl> {
        let decl = self.module.decl(name)?;
        match self.module.item(decl.item) {
            Item::Fn(function) => Some(function),
            _ => None,
        }
    }
}

/// One input of a called module: the given value converted to the declared type (unknown
/// when it does not convert), or the default; optional attributes' defaults filled in.
fn input_value(constants: &ModuleScope<'_>, input: &Input, given: Option<Value>) -> EvalResult {
    let ty = input.ty.as_ref().map_or(Type::Any, lower_type);
    let value = match (given, &input.default) {
        (Some(value), _) => crate::convert::convert(&value, &ty).unwrap_or_else(|_| Value::unknown(ty.clone())),
        (None, Some(default)) => {
            let value = constants.eval(default)?;
            crate::convert::convert(&value, &ty).unwrap_or_else(|_| Value::unknown(ty.clone()))
        }
        (None, None) => Value::unknown(ty.clone()),
    };
    let value = match &input.ty {
        Some(written) => crate::inputs::fill_optional_defaults(value, written, &mut |e| constants.eval(e))?,
        None => value,
    };
    let sensitive = input.body.as_ref().and_then(|b| b.attribute("sensitive"));
    let marked = sensitive.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
    Ok(if marked { value.mark_sensitive() } else { value })
}

/// A declaration's value from its instances' (sorted by key): a list when they are
/// numbered, a map when they are named, the one instance's otherwise.
fn instances_value(repeat: Option<&Repeat>, instances: Vec<(Option<InstanceKey>, Value)>) -> Value {
    match repeat {
        Some(Repeat::For(_)) if instances.iter().all(|(k, _)| matches!(k, Some(InstanceKey::Index(_)))) => {
            Value::list(instances.into_iter().map(|(_, v)| v).collect())
        }
        Some(Repeat::For(_)) => Value::map(
            instances
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Some(InstanceKey::Name(key)) => Some((key, v)),
                    _ => None,
                })
                .collect(),
        ),
        _ => instances.into_iter().next().map_or_else(Value::null, |(_, v)| v),
    }
}

fn module_dir(module: &Module) -> &Path {
    &module.dir
}
