//! Evaluating the declarations of a module: inputs come resolved (see `inputs.rs`),
//! `let`s are evaluated on first use and remembered, and resources, data sources and
//! module calls are unknown until there is state to read them from.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::resolve::{DeclKind, Module, SHALLOW};
use infra_compiler::syntax::ast::{FnDecl, Item, Repeat};
use infra_compiler::types::Type;
use infra_compiler::{Schemas, Span};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::eval::{EvalResult, Evaluator, Globals, Locals};
use crate::function::Functions;
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
    pub fn load_state(&self, state: &crate::state::State) {
        use crate::address::InstanceKey;
        let mut by_name: HashMap<Name, Vec<(Option<InstanceKey>, Value)>> = HashMap::default();
        for (address, instance) in &state.instances {
            let [step] = address.steps.as_slice() else { continue };
            let value = Value::object(instance.attributes.clone());
            by_name.entry(step.name.clone()).or_default().push((step.key.clone(), value));
        }
        for (name, mut instances) in by_name {
            let Some(decl) = self.module.decl(&name) else { continue };
            let Item::Resource(resource) = self.module.item(decl.item) else { continue };
            instances.sort_by(|a, b| a.0.cmp(&b.0));
            let value = match &resource.repeat {
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
            };
            self.set_resource(name, value);
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
            (DeclKind::Module, Item::Module(item)) => self.unknown_instances(item.repeat.as_ref()),
            (kind, _) => {
                Err(Diagnostic::error(codes::NOT_A_VALUE, format!("the {} `{name}` is not a value", kind.as_str()))
                    .with_label(span, "used as a value here")
                    .with_help("only inputs, lets, resources, data sources and modules have values"))
            }
        }
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

fn module_dir(module: &Module) -> &Path {
    &module.dir
}
