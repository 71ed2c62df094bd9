//! Name resolution inside expressions and type checking, in one walk per module.
//!
//! For every item the checker resolves each name (local `for` bindings and `fn`
//! parameters first, then the module namespace), records the reference in a side
//! table (the dependency graph and the language server read it), computes expression
//! types and checks bodies against provider schemas. All errors are collected; nothing
//! stops at the first.

mod body;
mod constants;
mod expr;
mod items;
pub mod plugin;
mod state_block;
mod validate;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{codes, Diagnostic};
use crate::name::Name;
use crate::resolve::SHALLOW;
use crate::resolve::{DeclKind, ItemId, Module};
use crate::schema::Schemas;
use crate::span::Span;
use crate::syntax::ast::{Item, TypeExpr, TypeExprKind};
use crate::types::{ObjectField, Type};

/// What a reference points at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// A declaration in the module namespace. (Names, not strings: a module of 10,000
    /// resources has tens of thousands of references, each naming what the syntax tree
    /// already names.)
    Decl(Name),
    /// A provider configuration (`provider = west`, or the default one a resource uses).
    Provider(Name),
}

/// One use of a declaration by an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub from: ItemId,
    pub target: Target,
    /// Where the reference is written; for implicit provider references, the resource type.
    pub span: Span,
}

/// Side tables for one module.
#[derive(Debug, Default)]
pub struct ModuleTables {
    pub references: Vec<Reference>,
    /// The type of each value declaration, by name.
    pub decl_types: HashMap<Name, Type>,
    /// The type of each output's value, by name: outputs are a namespace of their own, so
    /// an output may share its name with a declaration of another type.
    pub output_types: HashMap<String, Type>,
    /// The types in `for` clauses (of declarations, blocks and expressions): of each
    /// variable, by the span of its name, and of each repetition clause's collection, by
    /// the span of the expression; and of each function parameter, by its name's span.
    pub for_types: HashMap<Span, Type>,
}

/// Side tables for every module, indexed like the module list.
#[derive(Debug, Default)]
pub struct Tables {
    pub modules: Vec<ModuleTables>,
}

/// Checks every module; diagnostics are appended to `diagnostics`.
pub fn check_modules(modules: &[Module], schemas: &dyn Schemas, diagnostics: &mut Vec<Diagnostic>) -> Tables {
    let mut tables = Tables::default();
    report_state_blocks(modules, diagnostics);
    for module in modules {
        plugin::module_plugins(module, diagnostics);
        let mut checker = Checker::new(modules, module, schemas);
        let items: Vec<(ItemId, &Item)> = module.items().collect();
        let bytes = items.iter().map(|(_, item)| item.span().len()).sum();
        match crate::workers(bytes, BYTES_PER_CHECKER) {
            1 => checker.check_items(&items),
            workers => checker.check_items_parallel(&items, workers),
        }
        checker.report_recursion();
        checker.report_unused();
        diagnostics.append(&mut checker.diagnostics);
        tables.modules.push(checker.tables);
    }
    tables
}

/// Each checking thread gets at least this many bytes of items, so modules under twice
/// it are checked on one thread. Weighed in bytes rather than items: ten thousand
/// resources of thirty attributes (13 MB) take a tenth of a second to check, ten thousand
/// of one a few milliseconds. A second thread's allocations cost a few megabytes of peak
/// memory for the rest of the run (see `BYTES_PER_PARSER` in `syntax/parser.rs`), which
/// only a large module's time repays.
const BYTES_PER_CHECKER: usize = 4 * 1024 * 1024;

/// The root module may have one `state` block; called modules none. The one block is
/// checked as [`state_block`] says.
fn report_state_blocks(modules: &[Module], diagnostics: &mut Vec<Diagnostic>) {
    for (index, module) in modules.iter().enumerate() {
        let mut first: Option<Span> = None;
        for (_, item) in module.items() {
            let Item::State(state) = item else { continue };
            if index > 0 {
                diagnostics.push(
                    Diagnostic::error(codes::DUPLICATE_STATE, "`state` in a called module")
                        .with_label(state.span, "only the root module chooses where state is kept")
                        .with_help("move the `state` block to the root module"),
                );
            } else if let Some(first) = first {
                diagnostics.push(
                    Diagnostic::error(codes::DUPLICATE_STATE, "more than one `state` block")
                        .with_label(state.span, "second `state` block")
                        .with_secondary(first, "first `state` block")
                        .with_help("a configuration keeps its state in one place; remove one of them"),
                );
            } else {
                first = Some(state.span);
                state_block::check_state_block(module, state, diagnostics);
            }
        }
    }
}

/// A local binding: a `for` variable or a `fn` parameter.
pub(crate) struct Local {
    pub(crate) name: String,
    pub(crate) ty: Type,
}

pub(crate) struct Checker<'a> {
    modules: &'a [Module],
    module: &'a Module,
    schemas: &'a dyn Schemas,
    diagnostics: Vec<Diagnostic>,
    tables: ModuleTables,
    /// The item whose expressions are being walked.
    current: ItemId,
    locals: Vec<Local>,
    /// Inside a `fn` body, only parameters and functions may be used.
    in_fn: Option<String>,
    /// Inside a managed resource's body, where non-deterministic functions are allowed.
    in_resource: bool,
    /// Declarations whose type is being computed, to stop on cycles (reported by `graph`).
    typing: HashSet<Name>,
    used: HashSet<Name>,
    /// Calls between user functions: caller, callee, call span.
    fn_calls: Vec<(String, String, Span)>,
    /// How many more name comparisons "did you mean" suggestions may make.
    suggestion_budget: usize,
    /// The module's `plugin` declarations by name, found when an unknown provider is
    /// first met (see `plugin::not_installed`).
    declared_plugins: Option<HashMap<String, Span>>,
    /// The instance type of each resource kind met, by the address of its schema: every
    /// resource of a kind shares it ([`Type::Object`] is shared).
    instance_types: HashMap<usize, Type>,
}

/// The name comparisons one checker may make for "did you mean" suggestions: every
/// undefined name gets one in any module people write, and checking stays linear in
/// modules with thousands of undefined names.
const SUGGESTION_BUDGET: usize = 2_000_000;

impl<'a> Checker<'a> {
    fn new(modules: &'a [Module], module: &'a Module, schemas: &'a dyn Schemas) -> Checker<'a> {
        Checker {
            modules,
            module,
            schemas,
            diagnostics: Vec::new(),
            tables: ModuleTables::default(),
            current: ItemId { file: 0, item: 0 },
            locals: Vec::new(),
            in_fn: None,
            in_resource: false,
            typing: HashSet::default(),
            used: HashSet::default(),
            fn_calls: Vec::new(),
            suggestion_budget: SUGGESTION_BUDGET,
            declared_plugins: None,
            instance_types: HashMap::default(),
        }
    }

    /// Records a use of a declaration, for the unused-declaration warnings.
    fn mark_used(&mut self, name: &Name) {
        if !self.used.contains(name) {
            self.used.insert(name.clone());
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn check_items(&mut self, items: &[(ItemId, &Item)]) {
        for &(id, item) in items {
            self.current = id;
            self.check_item(item);
        }
    }

    /// [`Checker::check_items`] on `workers` threads, each with its own checker over a
    /// run of consecutive items; their findings are then joined in item order. Each
    /// worker computes the types of the declarations its items use on its own (the
    /// type of a declaration does not depend on who asks, so the tables agree).
    fn check_items_parallel(&mut self, items: &[(ItemId, &Item)], workers: usize) {
        let (modules, module, schemas) = (self.modules, self.module, self.schemas);
        let parts: Vec<Checker<'a>> = std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .chunks(items.len().div_ceil(workers))
                .map(|run| {
                    scope.spawn(move || {
                        let mut checker = Checker::new(modules, module, schemas);
                        checker.check_items(run);
                        checker
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        // Sized once: grown part by part, the list of references (one or more per
        // declaration) would be copied at each doubling.
        self.tables.references.reserve(parts.iter().map(|part| part.tables.references.len()).sum());
        for part in parts {
            self.diagnostics.extend(part.diagnostics);
            self.tables.references.extend(part.tables.references);
            self.tables.for_types.extend(part.tables.for_types);
            self.tables.output_types.extend(part.tables.output_types);
            for (name, ty) in part.tables.decl_types {
                self.tables.decl_types.entry(name).or_insert(ty);
            }
            self.used.extend(part.used);
            self.fn_calls.extend(part.fn_calls);
        }
    }

    /// Runs `f` without keeping its diagnostics or references: used to compute the
    /// type of a declaration out of order, before its own walk reports on it.
    fn quietly<T>(&mut self, item: ItemId, f: impl FnOnce(&mut Self) -> T) -> T {
        let diagnostics = std::mem::take(&mut self.diagnostics);
        let n_references = self.tables.references.len();
        let n_fn_calls = self.fn_calls.len();
        let current = std::mem::replace(&mut self.current, item);
        let locals = std::mem::take(&mut self.locals);
        let in_fn = self.in_fn.take();
        let result = f(self);
        self.diagnostics = diagnostics;
        self.tables.references.truncate(n_references);
        self.fn_calls.truncate(n_fn_calls);
        self.current = current;
        self.locals = locals;
        self.in_fn = in_fn;
        result
    }

    /// The type of a value declaration, computed on first use.
    ///
    /// Computing a type asks for the types of the declarations it reads, so a long chain
    /// (`let b = a`, `let c = b`, ...) would recurse once per link and could exhaust the
    /// stack. Past [`SHALLOW`] levels the declaration's dependencies are typed first,
    /// deepest first ([`Module::dependencies_first`]), so each finds its own already
    /// typed and the recursion stays bounded however long the chain.
    fn decl_type(&mut self, name: &str) -> Type {
        if let Some(ty) = self.tables.decl_types.get(name) {
            return ty.clone();
        }
        if self.typing.len() >= SHALLOW {
            let module = self.module;
            let pending =
                module.dependencies_first(name, |n| self.tables.decl_types.contains_key(n) || self.typing.contains(n));
            for dependency in pending {
                self.compute_and_record(dependency);
            }
        }
        self.compute_and_record(name)
    }

    /// Computes the type of `name` (unless it is known or being computed) and records it.
    fn compute_and_record(&mut self, name: &str) -> Type {
        if let Some(ty) = self.tables.decl_types.get(name) {
            return ty.clone();
        }
        // Keyed by the declaration's own name, shared with the syntax tree.
        let Some((name, &decl)) = self.module.decls.get_key_value(name) else { return Type::Any };
        if !self.typing.insert(name.clone()) {
            return Type::Any;
        }
        let module = self.module;
        let ty = self.quietly(decl.item, |checker| checker.compute_decl_type(module.item(decl.item)));
        self.typing.remove(name);
        self.tables.decl_types.insert(name.clone(), ty.clone());
        ty
    }

    fn compute_decl_type(&mut self, item: &Item) -> Type {
        match item {
            Item::Input(input) => input.ty.as_ref().map_or(Type::Any, lower_type),
            Item::Let(decl) => self.expr(&decl.value),
            Item::Resource(resource) => {
                let instance = match self.resource_schema(resource, false) {
                    Some(schema) => {
                        let address = std::ptr::from_ref(schema) as usize;
                        self.instance_types.entry(address).or_insert_with(|| schema.instance_type()).clone()
                    }
                    None => Type::Any,
                };
                self.repeated_type(resource.repeat.as_ref(), instance)
            }
            Item::Module(call) => {
                let outputs = self.module_outputs(&call.name.name);
                let instance = match outputs {
                    Some(names) => Type::object(names.iter().map(|n| (n.as_str(), Type::Any))),
                    None => Type::Any,
                };
                self.repeated_type(call.repeat.as_ref(), instance)
            }
            _ => Type::Any,
        }
    }

    /// The output names of the module a call loads, if it loaded.
    fn module_outputs(&self, call: &str) -> Option<Vec<String>> {
        let child = &self.modules[*self.module.calls.get(call)?];
        Some(child.outputs.keys().map(ToString::to_string).collect())
    }

    fn report_unused(&mut self) {
        let module = self.module;
        for (name, decl) in &module.decls {
            let reportable = matches!(decl.kind, DeclKind::Let | DeclKind::Fn);
            if reportable && !name.starts_with('_') && !self.used.contains(name.as_str()) {
                self.diagnostics.push(
                    Diagnostic::warning(codes::UNUSED, format!("the {} `{name}` is never used", decl.kind.as_str()))
                        .with_label(decl.name_span, "declared here")
                        .with_help(format!("remove it, or rename it to `_{name}` to keep it")),
                );
            }
        }
    }

    /// Recursive functions are an error: the language stays total and plans terminate.
    fn report_recursion(&mut self) {
        let mut graph: petgraph::graphmap::DiGraphMap<&str, ()> = petgraph::graphmap::DiGraphMap::new();
        for (caller, callee, _) in &self.fn_calls {
            graph.add_edge(caller.as_str(), callee.as_str(), ());
        }
        let mut reports = Vec::new();
        for component in petgraph::algo::tarjan_scc(&graph) {
            let cyclic = component.len() > 1 || graph.contains_edge(component[0], component[0]);
            if !cyclic {
                continue;
            }
            let names: Vec<String> = component.iter().rev().map(|n| format!("`{n}`")).collect();
            let mut diagnostic = Diagnostic::error(
                codes::RECURSIVE_FUNCTION,
                format!("recursive function{}: {}", if names.len() > 1 { "s" } else { "" }, names.join(", ")),
            );
            let mut primary = true;
            for (caller, callee, span) in &self.fn_calls {
                if component.contains(&caller.as_str()) && component.contains(&callee.as_str()) {
                    let message = format!("`{caller}` calls `{callee}` here");
                    diagnostic = if primary {
                        diagnostic.with_label(*span, message)
                    } else {
                        diagnostic.with_secondary(*span, message)
                    };
                    primary = false;
                }
            }
            reports.push(
                diagnostic
                    .with_help("functions cannot call themselves; use `for` expressions over collections instead"),
            );
        }
        self.diagnostics.extend(reports);
    }
}

/// The semantic type of a written type.
pub fn lower_type(ty: &TypeExpr) -> Type {
    match &ty.kind {
        TypeExprKind::String => Type::String,
        TypeExprKind::Number => Type::Number,
        TypeExprKind::Bool => Type::Bool,
        TypeExprKind::Any | TypeExprKind::Error => Type::Any,
        TypeExprKind::List(t) => Type::list(lower_type(t)),
        TypeExprKind::Set(t) => Type::set(lower_type(t)),
        TypeExprKind::Map(t) => Type::map(lower_type(t)),
        TypeExprKind::Tuple(items) => Type::Tuple(items.iter().map(lower_type).collect()),
        TypeExprKind::Object(fields) => Type::object_of(
            fields
                .iter()
                .map(|f| (f.name.name.to_string(), ObjectField { ty: lower_type(&f.ty), optional: f.optional })),
        ),
    }
}
