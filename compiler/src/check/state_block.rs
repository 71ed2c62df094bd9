//! The root module's `state` block: which backend it names, which attributes it sets, and
//! that its values use only literals, inputs and `env()` (E0717, E0718).
//!
//! The state's location is decided before anything else is evaluated, so a `state` block
//! never depends on anything the state itself would tell. The checks here need no
//! evaluation, so `infra check` and the editor report them; the values themselves are
//! evaluated by the command that opens the state.

use crate::diagnostic::{codes, Diagnostic};
use crate::resolve::{DeclKind, Module};
use crate::syntax::ast::{BodyItem, Expr, ExprKind, StateBlock};
use crate::syntax::walk::{self, Visitor};

/// The attributes each backend takes; `None` for a backend there is not.
pub fn backend_attributes(backend: &str) -> Option<&'static [&'static str]> {
    match backend {
        "local" => Some(&["encryption", "kms_key_id", "fallback", "fallback_kms_key_id"]),
        "postgres" => {
            Some(&["url", "schema", "workspace", "encryption", "kms_key_id", "fallback", "fallback_kms_key_id"])
        }
        "s3" => Some(&[
            "bucket",
            "key",
            "region",
            "endpoint",
            "workspace_key_prefix",
            "profile",
            "workspace",
            "encryption",
            "kms_key_id",
            "fallback",
            "fallback_kms_key_id",
        ]),
        _ => None,
    }
}

/// Every problem with `block` (the root module's `state` block) found without evaluating it.
pub fn check_state_block(module: &Module, block: &StateBlock, diagnostics: &mut Vec<Diagnostic>) {
    let backend = block.backend.name.as_str();
    let Some(allowed) = backend_attributes(backend) else {
        diagnostics.push(
            Diagnostic::error(codes::STATE_BLOCK_INVALID, format!("unknown state backend `{backend}`"))
                .with_label(block.backend.span, "not a backend")
                .with_help("the backends are `local` (files beside the module), `postgres` and `s3`"),
        );
        return;
    };
    let takes = || format!("`state {backend}` takes {}", attribute_list(allowed));
    let before = diagnostics.len();
    for item in &block.body.items {
        let attribute = match item {
            BodyItem::Attribute(attribute) => attribute,
            // The checker reports an elided body wherever it is.
            BodyItem::Placeholder(_) => continue,
            BodyItem::Block(_) | BodyItem::Check(_) => {
                diagnostics.push(
                    Diagnostic::error(codes::STATE_BLOCK_INVALID, "a `state` block holds only attributes")
                        .with_label(block.body.span, "nested block here")
                        .with_help(takes()),
                );
                continue;
            }
        };
        let name = attribute.name.name.as_str();
        if !allowed.contains(&name) {
            diagnostics.push(
                Diagnostic::error(codes::STATE_BLOCK_INVALID, format!("`state {backend}` has no attribute `{name}`"))
                    .with_label(attribute.name.span, "unknown attribute")
                    .with_help(takes()),
            );
        } else if let Some(offending) = disallowed(module, &attribute.value) {
            diagnostics.push(
                Diagnostic::error(codes::STATE_BLOCK_EXPRESSION, "a `state` block may use only literals, inputs and `env()`")
                    .with_label(offending.span, "evaluated before anything else, so this cannot be used here")
                    .with_help("the state's location is needed before resources, lets and other functions are known; pass the value as an input or through `env(\"NAME\")`"),
            );
        }
    }
    let sets =
        |name: &str| block.body.items.iter().any(|item| matches!(item, BodyItem::Attribute(a) if a.name.name == name));
    if backend == "s3" && diagnostics.len() == before {
        for name in ["bucket", "key"].into_iter().filter(|name| !sets(name)) {
            diagnostics.push(
                Diagnostic::error(codes::STATE_BLOCK_INVALID, format!("`state s3` needs a `{name}`"))
                    .with_label(block.span, format!("no `{name}`"))
                    .with_help("name the bucket and the state object's key: `bucket = \"team-state\"`, `key = \"prod/infra.state.json\"`"),
            );
        }
    }
    let has_url = sets("url");
    if backend == "postgres" && !has_url && diagnostics.len() == before {
        diagnostics.push(
            Diagnostic::error(codes::STATE_BLOCK_INVALID, "`state postgres` needs a `url`")
                .with_label(block.span, "no `url`")
                .with_help("add `url = env(\"INFRA_STATE_URL\")` (or an input), so the password stays out of the file"),
        );
    }
}

fn attribute_list(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "no attributes".to_string()
    } else {
        allowed.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
    }
}

/// The first part of `expr` that is not a literal, an input or an `env()` call.
fn disallowed<'e>(module: &Module, expr: &'e Expr) -> Option<&'e Expr> {
    let mut finder = Disallowed { module, found: None };
    finder.visit_expr(expr);
    finder.found
}

/// Walks literals, templates, heredocs and `env()` calls; stops at the first other
/// expression.
struct Disallowed<'m, 'e> {
    module: &'m Module,
    found: Option<&'e Expr>,
}

impl<'e> Visitor<'e> for Disallowed<'_, 'e> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        if self.found.is_some() {
            return;
        }
        match &expr.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Error => {}
            ExprKind::Text(_) | ExprKind::Template(_) | ExprKind::Heredoc(_) => walk::walk_expr(self, expr),
            ExprKind::Call(call) if call.function.name == "env" => walk::walk_expr(self, expr),
            // A name declared nowhere is the checker's `undefined name`, reported once.
            ExprKind::Name(name) => match self.module.decl(name) {
                Some(decl) if decl.kind != DeclKind::Input => self.found = Some(expr),
                _ => {}
            },
            _ => self.found = Some(expr),
        }
    }
}
