//! What a function body may read besides its parameters: the module's inputs and the
//! `let`s whose values depend on no resource, data source or module call (constants), so
//! a function stays pure and can be evaluated at check time, and never its own result.

use rustc_hash::FxHashSet;

use crate::resolve::{DeclKind, Module};
use crate::syntax::ast::{Expr, ExprKind, Item};
use crate::syntax::walk::{walk_expr, Visitor};

/// Why a function cannot read a declaration.
pub(super) enum NotConstant {
    /// It is, or it reads, a resource, data source or module call (named).
    Depends { on: String, kind: DeclKind },
    /// Reading it would call the function itself: its value would be its own result.
    CallsBack,
}

/// Whether the function `function` may read the module-level `name`: an input, or a
/// `let` whose value, following every `let` and function it reads or calls, reads no
/// resource, data source or module call and never calls `function`. Names are collected
/// syntactically (a `for` variable named like a declaration counts as reading it).
pub(super) fn readable_in_fn(module: &Module, name: &str, function: &str) -> Result<(), NotConstant> {
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut stack: Vec<&str> = vec![name];
    while let Some(current) = stack.pop() {
        if !seen.insert(current) {
            continue;
        }
        let Some(decl) = module.decl(current) else { continue };
        let (expr, params): (&Expr, Vec<&str>) = match (decl.kind, module.item(decl.item)) {
            (DeclKind::Resource | DeclKind::Data | DeclKind::Module, _) => {
                return Err(NotConstant::Depends { on: current.to_string(), kind: decl.kind });
            }
            (DeclKind::Let, Item::Let(item)) => (&item.value, Vec::new()),
            (DeclKind::Fn, Item::Fn(item)) => (&item.body, item.params.iter().map(|p| p.name.name.as_str()).collect()),
            _ => continue,
        };
        let mut reads = Reads { module, params, found: Vec::new(), calls_back: false, function };
        reads.visit_expr(expr);
        if reads.calls_back {
            return Err(NotConstant::CallsBack);
        }
        stack.extend(reads.found);
    }
    Ok(())
}

/// The declarations an expression names or calls, leaving out a function's parameters.
struct Reads<'a> {
    module: &'a Module,
    params: Vec<&'a str>,
    found: Vec<&'a str>,
    calls_back: bool,
    function: &'a str,
}

impl<'a> Visitor<'a> for Reads<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match &expr.kind {
            ExprKind::Name(name) if !self.params.contains(&name.as_str()) && self.module.decl(name).is_some() => {
                self.found.push(name);
            }
            ExprKind::Call(call) => {
                let function = &call.function;
                if function.name == self.function {
                    self.calls_back = true;
                } else if self.module.decl(&function.name).is_some_and(|d| d.kind == DeclKind::Fn) {
                    self.found.push(&function.name);
                }
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}
