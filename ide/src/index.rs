//! Every name in a module and what it refers to, for navigation, rename, hover and
//! highlighting.
//!
//! The checker records references to declarations (`ModuleTables::references`), but the
//! editor also needs the ones it does not: `for` variables and `fn` parameters, calls to
//! functions, module outputs read by a caller (`net.subnet_id`) and module inputs set by
//! one. This walk (a [`Visitor`]) resolves names the way the checker does (locals first, then the module
//! namespace, then provider configurations) and records each occurrence with its span.

use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{
    Address, Body, BodyItem, Expr, ExprKind, ForBinding, Ident, Item, Repeat, SplatStep,
};
use infra_compiler::syntax::walk::{self, Visitor};

/// What a name refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// A declaration of module `module` (an index into the analysis' module list): a
    /// name used in that module, or an input set by a caller.
    Decl { module: usize, name: String },
    /// An output of module `module`, read by a caller (`net.subnet_id`). Outputs are a
    /// namespace of their own: an output and an input may both be called `hostname`.
    Output { module: usize, name: String },
    /// A `for` variable or `fn` parameter, by the span of its declaration.
    Local { def: Span },
    /// A provider configuration of module `module`.
    Provider { module: usize, name: String },
    /// A built-in function.
    Function(String),
}

#[derive(Clone, Debug)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
    /// True where the symbol is declared rather than used.
    pub definition: bool,
}

/// The names of one module.
#[derive(Debug, Default)]
pub struct ModuleIndex {
    pub occurrences: Vec<Occurrence>,
    /// Attribute names written in bodies (`path = ...`), for highlighting.
    pub attribute_names: Vec<Span>,
    /// Repetition clauses `for x in COLLECTION` with neither a key variable nor a `key`
    /// expression, whose instances' keys nothing names: the value variable and the
    /// collection.
    pub unkeyed_for_clauses: Vec<(Span, Span)>,
}

/// Indexes module `module_index` of `modules`.
pub fn index_module(modules: &[Module], module_index: usize) -> ModuleIndex {
    let mut walker = Walker { modules, module_index, locals: Vec::new(), index: ModuleIndex::default() };
    for (_, item) in modules[module_index].items() {
        walker.visit_item(item);
    }
    walker.index
}

struct Walker<'a> {
    modules: &'a [Module],
    module_index: usize,
    /// Locals in scope, innermost last: name, declaration span, and the called module
    /// when the local is an instance of a module call (`s` in `for s in site`).
    locals: Vec<(String, Span, Option<usize>)>,
    index: ModuleIndex,
}

impl<'ast> Visitor<'ast> for Walker<'_> {
    /// Records the name an item declares; the locals it binds end with it.
    fn visit_item(&mut self, item: &'ast Item) {
        let mark = self.locals.len();
        match item {
            Item::Provider(provider) => {
                if let Some(alias) = &provider.alias {
                    let symbol = Symbol::Provider { module: self.module_index, name: alias.name.to_string() };
                    self.push(alias.span, symbol, true);
                }
            }
            Item::Output(output) => {
                let symbol = Symbol::Output { module: self.module_index, name: output.name.name.to_string() };
                self.push(output.name.span, symbol, true);
            }
            _ => {
                if let Some(name) = item.declared_name() {
                    self.decl(name.span, &name.name);
                }
            }
        }
        match item {
            Item::Module(call) => {
                call.repeat.iter().for_each(|repeat| self.visit_repeat(repeat));
                self.module_inputs(&call.name.name, &call.body);
            }
            _ => walk::walk_item(self, item),
        }
        self.locals.truncate(mark);
    }

    fn visit_body_item(&mut self, item: &'ast BodyItem) {
        let mark = self.locals.len();
        match item {
            BodyItem::Attribute(attribute) => self.index.attribute_names.push(attribute.name.span),
            BodyItem::Block(block) => self.index.attribute_names.push(block.name.span),
            BodyItem::Check(_) | BodyItem::Placeholder(_) => {}
        }
        walk::walk_body_item(self, item);
        self.locals.truncate(mark);
    }

    fn visit_repeat(&mut self, repeat: &'ast Repeat) {
        if let Repeat::For(clause) = repeat {
            if clause.key_var.is_none() && clause.key.is_none() {
                self.index.unkeyed_for_clauses.push((clause.value_var.span, clause.collection.span));
            }
        }
        walk::walk_repeat(self, repeat);
    }

    fn visit_address(&mut self, address: &'ast Address) {
        if let Some(first) = address.steps.first() {
            if self.module().decl(&first.name.name).is_some() {
                let symbol = Symbol::Decl { module: self.module_index, name: first.name.name.to_string() };
                self.push(first.name.span, symbol, false);
            }
        }
        walk::walk_address(self, address);
    }

    fn visit_binding(&mut self, name: &'ast Ident) {
        self.bind_instance(name, None);
    }

    fn visit_for_binding(&mut self, binding: &'ast ForBinding) {
        self.visit_expr(&binding.collection);
        // `for s in site`, over a repeated module call: `s.url` reads an output.
        let instance_of = match &binding.collection.kind {
            ExprKind::Name(_) => self.called_module(&binding.collection),
            _ => None,
        };
        if let Some(key_var) = &binding.key_var {
            self.visit_binding(key_var);
        }
        self.bind_instance(&binding.value_var, instance_of);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        let mark = self.locals.len();
        match &expr.kind {
            ExprKind::Name(name) => self.name(&Ident { name: name.clone(), span: expr.span }),
            ExprKind::GetAttr { target, name } => {
                self.visit_expr(target);
                if let Some(child) = self.called_module(target) {
                    self.output(child, &Ident { name: name.clone(), span: expr.name_span() });
                }
            }
            ExprKind::Splat(splat) => {
                self.visit_expr(&splat.target);
                self.splat_steps(&splat.target, &splat.steps);
            }
            ExprKind::Call(call) => {
                self.call(&call.function);
                walk::walk_expr(self, expr);
            }
            _ => walk::walk_expr(self, expr),
        }
        // The variables of a `for` expression end with it.
        self.locals.truncate(mark);
    }
}

impl Walker<'_> {
    fn module(&self) -> &Module {
        &self.modules[self.module_index]
    }

    fn push(&mut self, span: Span, symbol: Symbol, definition: bool) {
        self.index.occurrences.push(Occurrence { span, symbol, definition });
    }

    fn decl(&mut self, span: Span, name: &str) {
        let symbol = Symbol::Decl { module: self.module_index, name: name.to_string() };
        self.push(span, symbol, true);
    }

    fn bind_instance(&mut self, name: &Ident, module: Option<usize>) {
        self.push(name.span, Symbol::Local { def: name.span }, true);
        self.locals.push((name.name.to_string(), name.span, module));
    }

    /// The attributes of a module call's body are the called module's inputs.
    fn module_inputs(&mut self, call: &str, body: &Body) {
        let child = self.module().calls.get(call).copied();
        for item in &body.items {
            match (item, child) {
                (BodyItem::Attribute(attribute), Some(child))
                    if self.modules[child].decl(&attribute.name.name).is_some_and(|d| d.kind == DeclKind::Input) =>
                {
                    let symbol = Symbol::Decl { module: child, name: attribute.name.name.to_string() };
                    self.push(attribute.name.span, symbol, false);
                    self.visit_expr(&attribute.value);
                }
                _ => self.visit_body_item(item),
            }
        }
    }

    fn name(&mut self, name: &Ident) {
        if let Some((_, def, _)) = self.locals.iter().rev().find(|(n, _, _)| *n == name.name) {
            let def = *def;
            self.push(name.span, Symbol::Local { def }, false);
        } else if self.module().decl(&name.name).is_some() {
            let symbol = Symbol::Decl { module: self.module_index, name: name.name.to_string() };
            self.push(name.span, symbol, false);
        } else if self.module().providers.contains_key(name.name.as_str()) {
            let symbol = Symbol::Provider { module: self.module_index, name: name.name.to_string() };
            self.push(name.span, symbol, false);
        }
    }

    /// `name` read from an instance of module `child`, when it is one of its outputs.
    fn output(&mut self, child: usize, name: &Ident) {
        if self.modules[child].output(&name.name).is_some() {
            self.push(name.span, Symbol::Output { module: child, name: name.name.to_string() }, false);
        }
    }

    /// The module a call expression's target reads outputs of: `net.x`, `net[0].x`,
    /// `net["a"].x`.
    fn called_module(&self, target: &Expr) -> Option<usize> {
        let name = match &target.kind {
            ExprKind::Name(name) => name,
            ExprKind::Index { target, .. } => match &target.kind {
                ExprKind::Name(name) => name,
                _ => return None,
            },
            _ => return None,
        };
        if let Some((_, _, module)) = self.locals.iter().rev().find(|(n, _, _)| n == name.as_str()) {
            return *module;
        }
        let decl = self.module().decl(name)?;
        if decl.kind != DeclKind::Module {
            return None;
        }
        self.module().calls.get(name.as_str()).copied()
    }

    /// `site[*].url`: the first attribute step reads an output of every call.
    fn splat_steps(&mut self, target: &Expr, steps: &[SplatStep]) {
        let child = match &target.kind {
            ExprKind::Name(_) => self.called_module(target),
            _ => None,
        };
        for (position, step) in steps.iter().enumerate() {
            match step {
                SplatStep::Attr(name) if position == 0 => {
                    if let Some(child) = child {
                        self.output(child, name);
                    }
                }
                SplatStep::Attr(_) => {}
                SplatStep::Index(index) => self.visit_expr(index),
            }
        }
    }

    fn call(&mut self, function: &Ident) {
        let user = self.module().decl(&function.name).is_some_and(|d| d.kind == DeclKind::Fn);
        let symbol = if user {
            Symbol::Decl { module: self.module_index, name: function.name.to_string() }
        } else {
            Symbol::Function(function.name.to_string())
        };
        self.push(function.span, symbol, false);
    }
}
