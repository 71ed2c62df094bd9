//! Expanding a declaration's repetition clause into keyed instances.
//!
//! `for x in LIST` keys instances by the element when every element is a string (stable
//! keys that survive reordering) and by position otherwise; `for k, v in MAP` by map key;
//! `for x in LIST key EXPR` by the key expression; `if COND` gives zero or one instance
//! without a key. How many instances there are, and their keys, must be known when
//! planning: an unknown collection, key or condition is an error that names the
//! declarations the value comes from.

use std::collections::BTreeSet;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::resolve::DeclKind;
use infra_compiler::syntax::ast::{Expr, ExprKind, ForClause, Repeat, SplatStep, TemplatePart};

use crate::address::InstanceKey;
use crate::eval::Locals;
use crate::module::ModuleScope;
use crate::value::{Kind, Value};

/// One instance: its key (none for a declaration without `for`) and the values of the
/// clause's variables, to evaluate its body with.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub key: Option<InstanceKey>,
    pub bindings: Vec<(String, Value)>,
}

impl Instance {
    pub fn locals(&self) -> Locals {
        Locals::with(self.bindings.clone())
    }
}

/// The instances of a declaration with the given repetition clause.
pub fn expand(scope: &ModuleScope<'_>, repeat: Option<&Repeat>) -> Result<Vec<Instance>, Diagnostic> {
    expand_within(scope, repeat, &[])
}

/// Like [`expand`], for a clause inside an instance (a nested block's `for`): `outer`
/// are the enclosing instance's variables, in scope for the clause. The instances'
/// bindings hold only the clause's own variables.
pub fn expand_within(
    scope: &ModuleScope<'_>,
    repeat: Option<&Repeat>,
    outer: &[(String, Value)],
) -> Result<Vec<Instance>, Diagnostic> {
    let eval = |expr: &Expr| scope.evaluator().eval(expr, &mut Locals::with(outer.to_vec()));
    match repeat {
        None => Ok(vec![Instance { key: None, bindings: Vec::new() }]),
        Some(Repeat::If { condition, .. }) => {
            let value = eval(condition)?;
            match crate::eval::condition_value(&value, condition.span)? {
                Some(true) => Ok(vec![Instance { key: None, bindings: Vec::new() }]),
                Some(false) => Ok(Vec::new()),
                None => Err(unknown(scope, condition, "the `if` condition")),
            }
        }
        Some(Repeat::For(clause)) => expand_for(scope, clause, outer),
    }
}

/// The variables of the repetition clause for an instance known only by its key: one
/// in state that the clause no longer produces (its element is gone), to evaluate a
/// setting such as `prevent_destroy = env == "prod"` for it. What the key tells is bound
/// (the element of a list of strings, a map's key, a position); the rest is unknown, so
/// a setting that needs it is unknown too.
pub fn bindings_of_key(
    scope: &ModuleScope<'_>,
    repeat: Option<&Repeat>,
    key: Option<&InstanceKey>,
) -> Vec<(String, Value)> {
    let Some(Repeat::For(clause)) = repeat else { return Vec::new() };
    let unknown = || Value::unknown(infra_compiler::types::Type::Any);
    let (mut position, mut element) = (unknown(), unknown());
    if clause.key.is_none() {
        let collection = scope.eval(&clause.collection).map(|c| c.kind);
        match (collection, key) {
            (Ok(Kind::Map(_)), Some(InstanceKey::Name(name))) => position = Value::string(name),
            (Ok(Kind::List(_) | Kind::Set(_)), Some(InstanceKey::Name(name))) => element = Value::string(name),
            (Ok(Kind::List(_) | Kind::Set(_)), Some(InstanceKey::Index(index))) => {
                position = Value::number(*index as f64);
            }
            _ => {}
        }
    }
    let mut bindings = Vec::new();
    if let Some(key_var) = &clause.key_var {
        bindings.push((key_var.name.to_string(), position));
    }
    bindings.push((clause.value_var.name.to_string(), element));
    bindings
}

fn expand_for(
    scope: &ModuleScope<'_>,
    clause: &ForClause,
    outer: &[(String, Value)],
) -> Result<Vec<Instance>, Diagnostic> {
    let collection = scope.evaluator().eval(&clause.collection, &mut Locals::with(outer.to_vec()))?;
    if !collection.is_known() {
        return Err(unknown(scope, &clause.collection, "the collection of `for`"));
    }
    let elements: Vec<(Value, Value)> = match &collection.kind {
        // Whether instances are keyed by value or by position depends on the elements
        // being strings, so an unknown element leaves the keys unknown. A map's keys are
        // known even when its values are not.
        Kind::List(items) | Kind::Set(items) if items.iter().any(|i| !i.is_known()) && clause.key.is_none() => {
            return Err(unknown(scope, &clause.collection, "the collection of `for`"));
        }
        Kind::List(items) | Kind::Set(items) => {
            items.iter().enumerate().map(|(i, v)| (Value::number(i as f64), v.clone())).collect()
        }
        Kind::Map(entries) => entries.iter().map(|(k, v)| (Value::string(k.clone()), v.clone())).collect(),
        _ => {
            return Err(crate::eval::invalid_value(
                clause.collection.span,
                format!("`for` needs a list, set or map, found {}", collection.a_type_name()),
            )
            .with_help("use `range(n)` to repeat a declaration n times"))
        }
    };
    let by_string = matches!(collection.kind, Kind::Map(_))
        || (!elements.is_empty() && elements.iter().all(|(_, v)| v.as_str().is_some()));
    // A sensitive collection's elements, and a sensitive map's keys, are sensitive: the
    // clause's variables keep the mark the collection had.
    let secret = collection.sensitive;
    let mut instances = Vec::with_capacity(elements.len());
    let mut seen = BTreeSet::new();
    for (position, element) in elements {
        let is_map = matches!(collection.kind, Kind::Map(_));
        let (position, element) = (position.with_mark(secret && is_map), element.with_mark(secret));
        if clause.key.is_none() && (is_map || by_string) && (position.sensitive || element.sensitive) {
            return Err(sensitive_key(clause.collection.span));
        }
        let mut bindings = Vec::new();
        if let Some(key_var) = &clause.key_var {
            bindings.push((key_var.name.to_string(), position.clone()));
        }
        bindings.push((clause.value_var.name.to_string(), element.clone()));
        let key = match &clause.key {
            Some(key_expr) => {
                let mut in_scope = outer.to_vec();
                in_scope.extend(bindings.iter().cloned());
                explicit_key(scope, key_expr, &in_scope)?
            }
            None if matches!(collection.kind, Kind::Map(_)) => {
                InstanceKey::Name(position.as_str().unwrap_or("").to_string())
            }
            None if by_string => InstanceKey::Name(element.as_str().unwrap_or("").to_string()),
            None => InstanceKey::Index(position.as_number().unwrap_or(0.0) as u64),
        };
        if !seen.insert(key.clone()) {
            let span = clause.key.as_ref().map_or(clause.collection.span, |k| k.span);
            return Err(Diagnostic::error(codes::DUPLICATE_INSTANCE_KEY, format!("two instances have the key {key}"))
                .with_label(span, "keys must be unique")
                .with_help(if clause.key.is_some() {
                    "make the `key` expression unique for every element"
                } else {
                    "remove the duplicate strings, or add `key EXPR` to key instances another way"
                }));
        }
        instances.push(Instance { key: Some(key), bindings });
    }
    Ok(instances)
}

fn explicit_key(
    scope: &ModuleScope<'_>,
    key_expr: &Expr,
    bindings: &[(String, Value)],
) -> Result<InstanceKey, Diagnostic> {
    let value = scope.evaluator().eval(key_expr, &mut Locals::with(bindings.to_vec()))?;
    if value.contains_sensitive() {
        return Err(sensitive_key(key_expr.span));
    }
    match &value.kind {
        Kind::String(s) => Ok(InstanceKey::Name(s.to_string())),
        Kind::Number(_) | Kind::Bool(_) => Ok(InstanceKey::Name(value.unmarked_deep().to_string())),
        Kind::Unknown(_) => Err(unknown(scope, key_expr, "the instance key")),
        _ => Err(crate::eval::invalid_value(
            key_expr.span,
            format!("an instance key must be a string, found {}", value.a_type_name()),
        )),
    }
}

/// E0613: instance keys are shown in addresses, so none may come from a secret.
fn sensitive_key(span: infra_compiler::Span) -> Diagnostic {
    Diagnostic::error(codes::SENSITIVE_KEY, "instance keys cannot come from a sensitive value")
        .with_label(span, "sensitive")
        .with_note("instance keys are part of addresses, which plans, progress lines and `infra state list` show")
        .with_help(
            "key the instances by something not secret: names whose values alone are `sensitive(...)`, \
             `for name in nonsensitive(keys(m))`, or `key EXPR`",
        )
}

/// "the collection of `for` is not known until `web` is applied".
fn unknown(scope: &ModuleScope<'_>, expr: &Expr, what: &str) -> Diagnostic {
    let origins = unknown_origins(scope, expr);
    let (note, help) = if origins.is_empty() {
        (
            "it depends on a value computed during apply".to_string(),
            "apply the resources it depends on first, with `--target`".to_string(),
        )
    } else {
        let names: Vec<String> = origins.iter().map(|n| format!("`{n}`")).collect();
        (
            format!("it depends on {}, known only after apply", names.join(", ")),
            format!(
                "apply {} first with `--target {}`, then plan again; or repeat over values known now",
                names.join(", "),
                origins[0]
            ),
        )
    };
    Diagnostic::error(codes::UNKNOWN_REPETITION, format!("{what} is not known at plan time"))
        .with_label(expr.span, "not known until apply")
        .with_note(note)
        .with_help(help)
}

/// The resources, data sources and module calls an expression refers to, directly or
/// through `let`s: where its unknown values come from.
fn unknown_origins(scope: &ModuleScope<'_>, expr: &Expr) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = Vec::new();
    collect_names(expr, &mut pending);
    let mut visited = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !visited.insert(name.clone()) {
            continue;
        }
        let Some(decl) = scope.module.decl(&name) else { continue };
        match (decl.kind, scope.module.item(decl.item)) {
            (DeclKind::Resource | DeclKind::Data | DeclKind::Module, _) => names.push(name),
            (DeclKind::Let, infra_compiler::syntax::ast::Item::Let(item)) => collect_names(&item.value, &mut pending),
            _ => {}
        }
    }
    names.sort();
    names
}

fn collect_names(expr: &Expr, out: &mut Vec<String>) {
    let mut visit = |e: &Expr| collect_names(e, out);
    match &expr.kind {
        ExprKind::Name(name) => out.push(name.to_string()),
        ExprKind::Template(_) | ExprKind::Heredoc(_) => {
            expr.kind.template().into_iter().flat_map(|t| t.parts()).for_each(|p| match p {
                TemplatePart::Interpolation(e) | TemplatePart::If(e) => visit(e),
                TemplatePart::For(binding) => visit(&binding.collection),
                _ => {}
            })
        }
        ExprKind::List(items) => items.iter().for_each(visit),
        ExprKind::Object(items) => items.iter().for_each(|i| visit(&i.value)),
        ExprKind::GetAttr { target, .. } | ExprKind::Paren(target) | ExprKind::Unary { operand: target, .. } => {
            visit(target)
        }
        ExprKind::Index { target, index } => {
            visit(target);
            visit(index);
        }
        ExprKind::Splat(splat) => {
            visit(&splat.target);
            for step in &splat.steps {
                if let SplatStep::Index(e) = step {
                    visit(e);
                }
            }
        }
        ExprKind::Call(call) => call.args.iter().for_each(visit),
        ExprKind::Binary { lhs, rhs, .. } => {
            visit(lhs);
            visit(rhs);
        }
        ExprKind::Conditional(conditional) => {
            visit(&conditional.condition);
            visit(&conditional.then);
            visit(&conditional.otherwise);
        }
        ExprKind::ForList(for_list) => {
            visit(&for_list.binding.collection);
            visit(&for_list.body);
            for_list.filter.iter().for_each(&mut visit);
        }
        ExprKind::ForObject(for_object) => {
            visit(&for_object.binding.collection);
            visit(&for_object.key);
            visit(&for_object.value);
            for_object.filter.iter().for_each(&mut visit);
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Error => {}
    }
}
