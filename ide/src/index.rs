//! Every name in a module and what it refers to, for navigation, rename, hover and
//! highlighting.
//!
//! The checker records references to declarations (`ModuleTables::references`), but the
//! editor also needs the ones it does not: `for` variables and `fn` parameters, calls to
//! functions, module outputs read by a caller (`net.subnet_id`) and module inputs set by
//! one. This walk resolves names the way the checker does (locals first, then the module
//! namespace, then provider configurations) and records each occurrence with its span.

use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{
    Address, Body, BodyItem, Expr, ExprKind, ForBinding, Item, ObjectKey, Repeat, SplatStep, TemplatePart, TypeExpr,
    TypeExprKind,
};

/// What a name refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// A declaration of module `module` (an index into the analysis' module list): a
    /// name used in that module, an output read by a caller or an input set by one.
    Decl { module: usize, name: String },
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
        walker.item(item);
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

    fn bind(&mut self, name: &infra_compiler::syntax::ast::Ident) {
        self.bind_instance(name, None);
    }

    fn bind_instance(&mut self, name: &infra_compiler::syntax::ast::Ident, module: Option<usize>) {
        self.push(name.span, Symbol::Local { def: name.span }, true);
        self.locals.push((name.name.clone(), name.span, module));
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Input(input) => {
                self.decl(input.name.span, &input.name.name);
                if let Some(ty) = &input.ty {
                    self.type_expr(ty);
                }
                self.opt_expr(input.default.as_ref());
                if let Some(body) = &input.body {
                    self.body(body);
                }
            }
            Item::Let(decl) => {
                self.decl(decl.name.span, &decl.name.name);
                self.expr(&decl.value);
            }
            Item::Fn(function) => {
                self.decl(function.name.span, &function.name.name);
                let mark = self.locals.len();
                for param in &function.params {
                    self.bind(&param.name);
                    self.type_expr(&param.ty);
                }
                self.expr(&function.body);
                self.locals.truncate(mark);
            }
            Item::Provider(provider) => {
                if let Some(alias) = &provider.alias {
                    let symbol = Symbol::Provider { module: self.module_index, name: alias.name.clone() };
                    self.push(alias.span, symbol, true);
                }
                self.repeated_body(provider.repeat.as_ref(), &provider.body);
            }
            Item::Resource(resource) => {
                self.decl(resource.name.span, &resource.name.name);
                self.repeated_body(resource.repeat.as_ref(), &resource.body);
            }
            Item::Module(call) => {
                self.decl(call.name.span, &call.name.name);
                let mark = self.repeat(call.repeat.as_ref());
                self.module_inputs(&call.name.name, &call.body);
                self.locals.truncate(mark);
            }
            Item::Output(output) => {
                self.decl(output.name.span, &output.name.name);
                self.expr(&output.value);
                if let Some(body) = &output.body {
                    self.body(body);
                }
            }
            Item::Check(check) => {
                self.expr(&check.condition);
                self.expr(&check.message);
            }
            Item::Moved(moved) => {
                self.address(&moved.from);
                self.address(&moved.to);
            }
            Item::Import(import) => {
                self.address(&import.to);
                self.expr(&import.id);
            }
            Item::Forget(forget) => self.address(&forget.address),
            Item::State(state) => self.body(&state.body),
        }
    }

    /// The attributes of a module call's body are the called module's inputs.
    fn module_inputs(&mut self, call: &str, body: &Body) {
        let child = self.module().calls.get(call).copied();
        for item in &body.items {
            match (item, child) {
                (BodyItem::Attribute(attribute), Some(child))
                    if self.modules[child].decl(&attribute.name.name).is_some_and(|d| d.kind == DeclKind::Input) =>
                {
                    let symbol = Symbol::Decl { module: child, name: attribute.name.name.clone() };
                    self.push(attribute.name.span, symbol, false);
                    self.expr(&attribute.value);
                }
                _ => self.body_item(item),
            }
        }
    }

    fn address(&mut self, address: &Address) {
        if let Some(first) = address.steps.first() {
            if self.module().decl(&first.name.name).is_some() {
                let symbol = Symbol::Decl { module: self.module_index, name: first.name.name.clone() };
                self.push(first.name.span, symbol, false);
            }
        }
        for step in &address.steps {
            self.opt_expr(step.key.as_ref());
        }
    }

    /// Walks a repetition clause's collection and binds its variables; returns the
    /// scope mark to truncate to afterwards.
    fn repeat(&mut self, repeat: Option<&Repeat>) -> usize {
        let mark = self.locals.len();
        match repeat {
            Some(Repeat::For(clause)) => {
                self.expr(&clause.collection);
                if let Some(key_var) = &clause.key_var {
                    self.bind(key_var);
                }
                self.bind(&clause.value_var);
                if clause.key_var.is_none() && clause.key.is_none() {
                    self.index.unkeyed_for_clauses.push((clause.value_var.span, clause.collection.span));
                }
                self.opt_expr(clause.key.as_ref());
            }
            Some(Repeat::If { condition, .. }) => self.expr(condition),
            None => {}
        }
        mark
    }

    fn repeated_body(&mut self, repeat: Option<&Repeat>, body: &Body) {
        let mark = self.repeat(repeat);
        self.body(body);
        self.locals.truncate(mark);
    }

    fn body(&mut self, body: &Body) {
        for item in &body.items {
            self.body_item(item);
        }
    }

    fn body_item(&mut self, item: &BodyItem) {
        match item {
            BodyItem::Attribute(attribute) => {
                self.index.attribute_names.push(attribute.name.span);
                self.expr(&attribute.value);
            }
            BodyItem::Block(block) => {
                self.index.attribute_names.push(block.name.span);
                self.repeated_body(block.repeat.as_ref(), &block.body);
            }
            BodyItem::Check(check) => {
                self.expr(&check.condition);
                self.expr(&check.message);
            }
            BodyItem::Placeholder(_) => {}
        }
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::List(t) | TypeExprKind::Set(t) | TypeExprKind::Map(t) => self.type_expr(t),
            TypeExprKind::Tuple(items) => items.iter().for_each(|t| self.type_expr(t)),
            TypeExprKind::Object(fields) => {
                for field in fields {
                    self.type_expr(&field.ty);
                    self.opt_expr(field.default.as_ref());
                }
            }
            TypeExprKind::String | TypeExprKind::Number | TypeExprKind::Bool | TypeExprKind::Any => {}
            TypeExprKind::Error => {}
        }
    }

    fn opt_expr(&mut self, expr: Option<&Expr>) {
        if let Some(expr) = expr {
            self.expr(expr);
        }
    }

    fn name(&mut self, name: &infra_compiler::syntax::ast::Ident) {
        if let Some((_, def, _)) = self.locals.iter().rev().find(|(n, _, _)| *n == name.name) {
            let def = *def;
            self.push(name.span, Symbol::Local { def }, false);
        } else if self.module().decl(&name.name).is_some() {
            let symbol = Symbol::Decl { module: self.module_index, name: name.name.clone() };
            self.push(name.span, symbol, false);
        } else if self.module().providers.contains_key(&name.name) {
            let symbol = Symbol::Provider { module: self.module_index, name: name.name.clone() };
            self.push(name.span, symbol, false);
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
        if let Some((_, _, module)) = self.locals.iter().rev().find(|(n, _, _)| *n == name.name) {
            return *module;
        }
        let decl = self.module().decl(&name.name)?;
        if decl.kind != DeclKind::Module {
            return None;
        }
        self.module().calls.get(&name.name).copied()
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Error => {}
            ExprKind::Template(template) | ExprKind::Heredoc { template, .. } => {
                for part in &template.parts {
                    if let TemplatePart::Interpolation(inner) = part {
                        self.expr(inner);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e)),
            ExprKind::Object(items) => {
                for item in items {
                    if let ObjectKey::Expr(key) = &item.key {
                        self.expr(key);
                    }
                    self.expr(&item.value);
                }
            }
            ExprKind::Name(name) => self.name(name),
            ExprKind::GetAttr { target, name } => {
                self.expr(target);
                if let Some(child) = self.called_module(target) {
                    if self.modules[child].decl(&name.name).is_some_and(|d| d.kind == DeclKind::Output) {
                        self.push(name.span, Symbol::Decl { module: child, name: name.name.clone() }, false);
                    }
                }
            }
            ExprKind::Index { target, index } => {
                self.expr(target);
                self.expr(index);
            }
            ExprKind::Splat { target, steps } => {
                self.expr(target);
                self.splat_steps(target, steps);
            }
            ExprKind::Call { function, args, .. } => {
                self.call(function);
                args.iter().for_each(|e| self.expr(e));
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Conditional { condition, then, otherwise } => {
                self.expr(condition);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::ForList { binding, body, filter } => {
                let mark = self.for_binding(binding);
                self.expr(body);
                if let Some(filter) = filter {
                    self.expr(filter);
                }
                self.locals.truncate(mark);
            }
            ExprKind::ForObject { binding, key, value, filter, .. } => {
                let mark = self.for_binding(binding);
                self.expr(key);
                self.expr(value);
                if let Some(filter) = filter {
                    self.expr(filter);
                }
                self.locals.truncate(mark);
            }
            ExprKind::Paren(inner) => self.expr(inner),
        }
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
                        if self.modules[child].decl(&name.name).is_some_and(|d| d.kind == DeclKind::Output) {
                            self.push(name.span, Symbol::Decl { module: child, name: name.name.clone() }, false);
                        }
                    }
                }
                SplatStep::Attr(_) => {}
                SplatStep::Index(index) => self.expr(index),
            }
        }
    }

    fn call(&mut self, function: &infra_compiler::syntax::ast::Ident) {
        let user = self.module().decl(&function.name).is_some_and(|d| d.kind == DeclKind::Fn);
        let symbol = if user {
            Symbol::Decl { module: self.module_index, name: function.name.clone() }
        } else {
            Symbol::Function(function.name.clone())
        };
        self.push(function.span, symbol, false);
    }

    fn for_binding(&mut self, binding: &ForBinding) -> usize {
        self.expr(&binding.collection);
        // `for s in site`, over a repeated module call: `s.url` reads an output.
        let instance_of = match &binding.collection.kind {
            ExprKind::Name(_) => self.called_module(&binding.collection),
            _ => None,
        };
        let mark = self.locals.len();
        if let Some(key_var) = &binding.key_var {
            self.bind(key_var);
        }
        self.bind_instance(&binding.value_var, instance_of);
        mark
    }
}
