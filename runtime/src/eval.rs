//! Evaluating expressions to [`Value`]s.
//!
//! Unknown values flow through everything: an operator or function with an unknown
//! operand gives an unknown result of the type it would have had, an unknown condition
//! makes a conditional unknown, and a collection with unknown elements stays indexable
//! where the index is known. Sensitive marks flow the same way (see `value.rs`).
//! Runtime errors are diagnostics pointing at the failing sub-expression; values shown in
//! them are redacted when sensitive.

mod calls;
mod operators;

use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::diagnostic::{codes, suggest, Diagnostic};
use infra_compiler::syntax::ast::*;
use infra_compiler::types::Type;
use infra_compiler::Schemas;

use crate::function::Functions;
use crate::value::{quote, Kind, Value};

/// Where names that are not local bindings get their values: the module being
/// evaluated (inputs, lets, resources) or nothing, for a bare expression.
pub trait Globals {
    /// The value of a module-level name; `None` when the name is not declared.
    fn value(&self, name: &str, span: infra_compiler::Span) -> Option<Result<Value, Diagnostic>>;
    /// A user function declared in the module.
    fn function(&self, name: &str) -> Option<&FnDecl>;
    /// `f` applied to the value of a module-level name, without copying the value where
    /// it is stored: indexing into a resource's thousands of instances reads only the
    /// one indexed. `f` must not evaluate anything in this module.
    fn with_value(
        &self,
        name: &str,
        span: infra_compiler::Span,
        f: &mut dyn FnMut(&Value) -> EvalResult,
    ) -> Option<EvalResult> {
        self.value(name, span).map(|result| result.and_then(|value| f(&value)))
    }
}

/// No module: only literals, locals and built-in functions.
pub struct NoGlobals;

impl Globals for NoGlobals {
    fn value(&self, _: &str, _: infra_compiler::Span) -> Option<Result<Value, Diagnostic>> {
        None
    }
    fn function(&self, _: &str) -> Option<&FnDecl> {
        None
    }
}

/// Everything an evaluation needs besides the expression.
pub struct Evaluator<'a> {
    pub functions: &'a dyn Functions,
    /// Signatures, for the type of a call's unknown result.
    pub schemas: &'a dyn Schemas,
    pub globals: &'a dyn Globals,
    /// The module's directory: relative paths in `file()` and friends start there.
    pub module_dir: &'a Path,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// A template's text as it is rendered, and what its values were.
struct Rendered {
    out: String,
    sensitive: bool,
    known: bool,
}

/// `for` variables and `fn` parameters in scope, innermost last.
#[derive(Default)]
pub struct Locals {
    bindings: Vec<(String, Value)>,
    /// User function calls in progress, to stop runaway recursion the checker missed.
    depth: usize,
}

impl Locals {
    pub fn new() -> Locals {
        Locals::default()
    }

    pub fn with(bindings: Vec<(String, Value)>) -> Locals {
        Locals { bindings, depth: 0 }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.bindings.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The bindings in scope, outermost first.
    pub fn bindings(&self) -> &[(String, Value)] {
        &self.bindings
    }
}

pub type EvalResult = Result<Value, Diagnostic>;

/// Whether `expr` is a name that is not a local binding.
fn is_global(expr: &Expr, locals: &Locals) -> bool {
    matches!(&expr.kind, ExprKind::Name(name) if locals.get(name).is_none())
}

/// One step into a value: `.name` or `[index]` (the index evaluated, and its span).
enum Step<'e> {
    Attr(&'e Ident),
    Index(Value, infra_compiler::Span),
}

impl Evaluator<'_> {
    /// A condition's message as it is shown in its error: the text of a template, with
    /// each sensitive interpolation shown as `(sensitive value)` and each unknown one as
    /// `(known after apply)`; any other expression's value, redacted when sensitive.
    /// `None` when it cannot be evaluated.
    pub fn message(&self, expr: &Expr, locals: &mut Locals) -> Option<String> {
        let shown = |value: Value| {
            if value.contains_sensitive() || !value.is_wholly_known() {
                value.to_string()
            } else {
                value.as_str().map_or_else(|| value.to_string(), str::to_string)
            }
        };
        // A template of text and interpolations only is shown piece by piece; one with
        // directives, as a whole.
        let ExprKind::Template(parts) = &expr.kind else {
            return self.eval(expr, locals).ok().map(shown);
        };
        let mut out = String::new();
        for part in parts {
            match part {
                TemplatePart::Literal { text, .. } => out.push_str(text),
                TemplatePart::Interpolation(part) => out.push_str(&shown(self.eval(part, locals).ok()?)),
                _ => return self.eval(expr, locals).ok().map(shown),
            }
        }
        Some(out)
    }

    pub fn eval(&self, expr: &Expr, locals: &mut Locals) -> EvalResult {
        match &expr.kind {
            ExprKind::Null => Ok(Value::null()),
            ExprKind::Bool(b) => Ok(Value::bool(*b)),
            ExprKind::Number(n) => Ok(Value::number(*n)),
            ExprKind::Error => Ok(Value::unknown(Type::Any)),
            ExprKind::Text(text) => Ok(Value::shared_string(text)),
            ExprKind::Template(parts) => self.template(parts, locals),
            ExprKind::Heredoc(heredoc) => match &heredoc.template {
                Template::Text(text) => Ok(Value::shared_string(text)),
                Template::Parts(parts) => self.template(parts, locals),
            },
            ExprKind::List(items) => {
                Ok(Value::list(items.iter().map(|e| self.eval(e, locals)).collect::<Result<_, _>>()?))
            }
            ExprKind::Object(items) => self.object(items, locals),
            ExprKind::Name(name) => self.name(name, expr.span, locals),
            ExprKind::GetAttr { target, name } => {
                let name = Ident { name: name.clone(), span: expr.name_span() };
                if let Some(result) = self.step_into_global(target, &Step::Attr(&name), locals) {
                    return result;
                }
                let target = self.eval(target, locals)?;
                get_attr(&target, &name)
            }
            ExprKind::Index { target, index } => {
                if is_global(target, locals) {
                    if let Ok(index_value) = self.eval(index, locals) {
                        let step = Step::Index(index_value, index.span);
                        if let Some(result) = self.step_into_global(target, &step, locals) {
                            return result;
                        }
                    }
                }
                let target_value = self.eval(target, locals)?;
                let index_value = self.eval(index, locals)?;
                index_into(&target_value, &index_value, index.span)
            }
            ExprKind::Splat(splat) => self.splat(&splat.target, &splat.steps, locals),
            ExprKind::Call(call) if call.expand_final => self.expanded_call(expr, &call.function, &call.args, locals),
            ExprKind::Call(call) => self.call(expr, &call.function, &call.args, locals),
            ExprKind::Unary { op, operand } => {
                let value = self.eval(operand, locals)?;
                operators::unary(*op, &value, operand.span)
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs, locals),
            ExprKind::Conditional(conditional) => {
                let Conditional { condition, then, otherwise } = &**conditional;
                let value = self.eval(condition, locals)?;
                let (chosen, other) = match condition_value(&value, condition.span)? {
                    Some(true) => (then, otherwise),
                    Some(false) => (otherwise, then),
                    None => return Ok(Value::unknown(Type::Any).with_mark(value.sensitive)),
                };
                let result = self.eval(chosen, locals)?;
                Ok(self.unified(result, other, expr, locals)?.with_mark(value.sensitive))
            }
            ExprKind::ForList(for_list) => {
                let ForList { binding, body, filter } = &**for_list;
                self.for_list(binding, body, filter.as_ref(), locals)
            }
            ExprKind::ForObject(for_object) => {
                let ForObject { binding, key, value, group, filter } = &**for_object;
                self.for_object(binding, (key, value), *group, filter.as_ref(), locals)
            }
            ExprKind::Paren(inner) => self.eval(inner, locals),
        }
    }

    /// `x.attr` or `x[index]` where `x` is a module-level name: the step taken on the
    /// value where the module keeps it, instead of on a copy of all of it. `None` when
    /// `target` is anything else (or a local), to be evaluated the ordinary way. The
    /// index was evaluated first; when it fails, the ordinary way reports the errors in
    /// their usual order.
    fn step_into_global(&self, target: &Expr, step: &Step<'_>, locals: &Locals) -> Option<EvalResult> {
        let ExprKind::Name(name) = &target.kind else { return None };
        if !is_global(target, locals) {
            return None;
        }
        let mut take = |value: &Value| match step {
            Step::Attr(attr) => get_attr(value, attr),
            Step::Index(index, span) => index_into(value, index, *span),
        };
        self.globals.with_value(name, target.span, &mut take)
    }

    fn name(&self, name: &str, span: infra_compiler::Span, locals: &Locals) -> EvalResult {
        if let Some(value) = locals.get(name) {
            return Ok(value.clone());
        }
        match self.globals.value(name, span) {
            Some(result) => result,
            None => {
                let candidates = locals.bindings.iter().map(|(n, _)| n.as_str());
                let mut diagnostic = Diagnostic::error(codes::UNDEFINED_NAME, format!("undefined name `{name}`"))
                    .with_label(span, "not found");
                diagnostic = match suggest(name, candidates) {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic.with_help(
                        "only inputs, lets, resources, data sources, modules and `for` variables have values",
                    ),
                };
                Err(diagnostic)
            }
        }
    }

    fn template(&self, parts: &[TemplatePart], locals: &mut Locals) -> EvalResult {
        let mut rendered = Rendered { out: String::new(), sensitive: false, known: true };
        self.render(parts, locals, &mut rendered)?;
        let value = if rendered.known { Value::string(rendered.out) } else { Value::unknown(Type::String) };
        Ok(value.with_mark(rendered.sensitive))
    }

    /// Renders template parts into `rendered`: literals, interpolations, and `%{ if }`
    /// and `%{ for }` sections (lowering guarantees they nest). An unknown condition or
    /// collection makes the whole result unknown; a sensitive one marks it.
    fn render(&self, parts: &[TemplatePart], locals: &mut Locals, rendered: &mut Rendered) -> Result<(), Diagnostic> {
        let mut i = 0;
        while i < parts.len() {
            match &parts[i] {
                TemplatePart::Literal { text, .. } => rendered.out.push_str(text),
                TemplatePart::Interpolation(expr) => {
                    let value = self.eval(expr, locals)?;
                    if value.contains_sensitive() {
                        rendered.sensitive = true;
                        crate::plan::seen_secret(&value);
                    }
                    match &value.kind {
                        Kind::Unknown(_) => rendered.known = false,
                        Kind::String(s) => rendered.out.push_str(s),
                        Kind::Number(_) | Kind::Bool(_) => rendered.out.push_str(&value.unmarked_deep().to_string()),
                        Kind::Null => {
                            return Err(invalid_value(expr.span, "cannot interpolate `null` into a string").with_help(
                                "give the value a default with `coalesce(x, \"\")` or test it with `x != null`",
                            ))
                        }
                        _ => {
                            return Err(invalid_value(
                                expr.span,
                                format!("cannot interpolate a {} into a string", value.type_name()),
                            )
                            .with_help(
                                "join the elements with `join(\",\", ...)` or encode them with `jsonencode(...)`",
                            ))
                        }
                    }
                }
                TemplatePart::If(condition) => {
                    let (otherwise, end) = TemplatePart::section(parts, i);
                    let value = self.eval(condition, locals)?;
                    rendered.sensitive |= value.contains_sensitive();
                    match condition_value(&value, condition.span)? {
                        Some(true) => self.render(&parts[i + 1..otherwise.unwrap_or(end)], locals, rendered)?,
                        Some(false) => {
                            if let Some(otherwise) = otherwise {
                                self.render(&parts[otherwise + 1..end], locals, rendered)?;
                            }
                        }
                        None => rendered.known = false,
                    }
                    i = end;
                }
                TemplatePart::For(binding) => {
                    let (_, end) = TemplatePart::section(parts, i);
                    let body = &parts[i + 1..end.min(parts.len())];
                    match self.each_element(binding, locals, |this, locals| this.render(body, locals, rendered))? {
                        Some(sensitive) => rendered.sensitive |= sensitive,
                        None => rendered.known = false,
                    }
                    i = end;
                }
                TemplatePart::Else(_) | TemplatePart::EndIf(_) | TemplatePart::EndFor(_) => {}
            }
            i += 1;
        }
        Ok(())
    }

    /// An object literal. A key built from a sensitive value marks the whole object: the
    /// key is shown wherever the object is, and `keys(...)` would hand it out.
    /// A conditional's result given the expression it did not choose, as Terraform types
    /// it: results of two different primitive types are both strings (`true ? 1 : "a"`
    /// is `"1"`), and a primitive against a collection is an error. The other result is
    /// evaluated only to learn its type (its errors are not this expression's) and only
    /// when that can change the answer: when the chosen result is a primitive, or the
    /// other is written as one.
    fn unified(&self, chosen: Value, other: &Expr, conditional: &Expr, locals: &mut Locals) -> EvalResult {
        let primitive = |value: &Value| matches!(value.kind, Kind::String(_) | Kind::Number(_) | Kind::Bool(_));
        let collection = |value: &Value| matches!(value.kind, Kind::List(_) | Kind::Set(_) | Kind::Map(_));
        let written_primitive = matches!(
            other.kind,
            ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Text(_) | ExprKind::Template(_) | ExprKind::Heredoc(_)
        );
        if !(primitive(&chosen) || (collection(&chosen) && written_primitive)) {
            return Ok(chosen);
        }
        let Ok(other) = self.eval(other, locals) else { return Ok(chosen) };
        match (&chosen.kind, &other.kind) {
            (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(chosen),
            _ if primitive(&chosen) && primitive(&other) => {
                let text = chosen.unmarked_deep().to_string();
                let text = chosen.as_str().map_or(text, str::to_string);
                Ok(Value::string(text).with_mark(chosen.sensitive))
            }
            _ if (primitive(&chosen) && collection(&other)) || (collection(&chosen) && primitive(&other)) => {
                Err(invalid_value(
                    conditional.span,
                    format!(
                        "the results of this conditional have no common type: a {} and a {}",
                        chosen.type_name(),
                        other.type_name()
                    ),
                )
                .with_help("make both results the same type, such as two lists or two strings"))
            }
            _ => Ok(chosen),
        }
    }

    fn object(&self, items: &[ObjectItem], locals: &mut Locals) -> EvalResult {
        // Collected in the written order and sorted once: inserting each into a sorted
        // map searched and moved the entries thirty times for an object of thirty.
        let mut entries = Vec::with_capacity(items.len());
        let mut keyed_by_secret = false;
        for item in items {
            let key = match &item.key {
                ObjectKey::Ident { name, .. } => name.clone(),
                ObjectKey::Expr(expr) => {
                    let key = self.eval(expr, locals)?;
                    keyed_by_secret |= key.contains_sensitive();
                    match key_string(&key) {
                        Some(key) => key.into(),
                        None if !key.is_known() => return Ok(Value::unknown(Type::Any).with_mark(keyed_by_secret)),
                        None => {
                            return Err(invalid_value(
                                expr.span,
                                format!("an object key must be a string, found {}", key.a_type_name()),
                            )
                            .with_help("convert the key with `tostring(...)`"))
                        }
                    }
                }
            };
            entries.push((key, self.eval(&item.value, locals)?));
        }
        Ok(Value::object(crate::value::ValueMap::from_entries(entries)).with_mark(keyed_by_secret))
    }

    fn splat(&self, target: &Expr, steps: &[SplatStep], locals: &mut Locals) -> EvalResult {
        let value = self.eval(target, locals)?;
        let elements: Vec<Value> = match &value.kind {
            Kind::Unknown(_) => return Ok(Value::unknown(Type::list(Type::Any)).with_mark(value.sensitive)),
            Kind::Null => Vec::new(),
            Kind::List(items) | Kind::Set(items) => items.to_vec(),
            // Instances of a declaration repeated over strings form a map; a splat
            // takes its values, as the checker types it.
            Kind::Map(entries) => entries.values().cloned().collect(),
            _ => vec![value.clone()],
        };
        let mut out = Vec::with_capacity(elements.len());
        for mut element in elements {
            for step in steps {
                element = match step {
                    SplatStep::Attr(name) => get_attr(&element, name)?,
                    SplatStep::Index(index) => {
                        let key = self.eval(index, locals)?;
                        index_into(&element, &key, index.span)?
                    }
                };
            }
            out.push(element);
        }
        Ok(Value::list(out).with_mark(value.sensitive))
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, locals: &mut Locals) -> EvalResult {
        let left = self.eval(lhs, locals)?;
        // `&&` and `||` stop early when the left side decides, so `x != null && x.a`
        // never reads an attribute of null.
        match (op, left.as_bool()) {
            (BinaryOp::And, Some(false)) => return Ok(Value::bool(false).with_mark(left.sensitive)),
            (BinaryOp::Or, Some(true)) => return Ok(Value::bool(true).with_mark(left.sensitive)),
            _ => {}
        }
        let right = self.eval(rhs, locals)?;
        operators::binary(op, (&left, lhs.span), (&right, rhs.span))
    }

    /// Binds a `for` expression's variables for each element, calling `each` with the
    /// locals in place. An unknown collection gives `None`.
    fn each_element(
        &self,
        binding: &ForBinding,
        locals: &mut Locals,
        mut each: impl FnMut(&Self, &mut Locals) -> Result<(), Diagnostic>,
    ) -> Result<Option<bool>, Diagnostic> {
        let collection = self.eval(&binding.collection, locals)?;
        let pairs: Vec<(Value, Value)> = match &collection.kind {
            Kind::Unknown(_) => return Ok(None),
            Kind::List(items) | Kind::Set(items) => {
                items.iter().enumerate().map(|(i, v)| (Value::number(i as f64), v.clone())).collect()
            }
            Kind::Map(entries) => entries.iter().map(|(k, v)| (Value::string(k.clone()), v.clone())).collect(),
            Kind::Null => {
                return Err(invalid_value(binding.collection.span, "cannot iterate over `null`")
                    .with_help("use an empty list or map when there is nothing to iterate over"))
            }
            _ => {
                return Err(invalid_value(
                    binding.collection.span,
                    format!("cannot iterate over a {}", collection.type_name()),
                )
                .with_help("`for` takes a list, set, map or object"))
            }
        };
        for (key, value) in pairs {
            let mark = locals.bindings.len();
            if let Some(key_var) = &binding.key_var {
                locals.bindings.push((key_var.name.to_string(), key.with_mark(collection.sensitive)));
            }
            locals.bindings.push((binding.value_var.name.to_string(), value.with_mark(collection.sensitive)));
            let result = each(self, locals);
            locals.bindings.truncate(mark);
            result?;
        }
        Ok(Some(collection.sensitive))
    }

    /// Evaluates a `for` filter: `Some(keep)`, or `None` when it is unknown.
    fn filter(&self, filter: Option<&Expr>, locals: &mut Locals) -> Result<Option<bool>, Diagnostic> {
        let Some(filter) = filter else { return Ok(Some(true)) };
        let value = self.eval(filter, locals)?;
        condition_value(&value, filter.span)
    }

    fn for_list(&self, binding: &ForBinding, body: &Expr, filter: Option<&Expr>, locals: &mut Locals) -> EvalResult {
        let mut out = Vec::new();
        let mut known = true;
        let outcome = self.each_element(binding, locals, |this, locals| {
            match this.filter(filter, locals)? {
                Some(true) => out.push(this.eval(body, locals)?),
                Some(false) => {}
                None => known = false,
            }
            Ok(())
        })?;
        match outcome {
            Some(sensitive) if known => Ok(Value::list(out).with_mark(sensitive)),
            _ => Ok(Value::unknown(Type::list(Type::Any))),
        }
    }

    fn for_object(
        &self,
        binding: &ForBinding,
        (key_expr, value_expr): (&Expr, &Expr),
        group: bool,
        filter: Option<&Expr>,
        locals: &mut Locals,
    ) -> EvalResult {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        // With `...`, each key's values, made lists once every element is seen.
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut known = true;
        // A key built from a sensitive value marks the whole object (see `object`).
        let mut keyed_by_secret = false;
        let outcome = self.each_element(binding, locals, |this, locals| {
            match this.filter(filter, locals)? {
                Some(true) => {}
                Some(false) => return Ok(()),
                None => {
                    known = false;
                    return Ok(());
                }
            }
            let key = this.eval(key_expr, locals)?;
            keyed_by_secret |= key.contains_sensitive();
            let Some(key) = key_string(&key) else {
                if !key.is_known() {
                    known = false;
                    return Ok(());
                }
                return Err(invalid_value(
                    key_expr.span,
                    format!("an object key must be a string, found {}", key.a_type_name()),
                ));
            };
            let value = this.eval(value_expr, locals)?;
            if group {
                grouped.entry(key).or_default().push(value);
                return Ok(());
            }
            match out.entry(key) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    let shown = if keyed_by_secret { "(sensitive value)".to_string() } else { quote(slot.key()) };
                    return Err(invalid_value(key_expr.span, format!("duplicate key {shown}"))
                        .with_help("add `...` after the value to group values with the same key into lists"));
                }
            }
            Ok(())
        })?;
        out.extend(grouped.into_iter().map(|(key, values)| (key, Value::list(values))));
        match outcome {
            Some(sensitive) if known => Ok(Value::map(out).with_mark(sensitive || keyed_by_secret)),
            _ => Ok(Value::unknown(Type::map(Type::Any)).with_mark(keyed_by_secret)),
        }
    }
}

fn key_string(key: &Value) -> Option<String> {
    match &key.kind {
        Kind::String(s) => Some(s.to_string()),
        Kind::Number(_) | Kind::Bool(_) => Some(key.unmarked_deep().to_string()),
        _ => None,
    }
}

/// A condition's truth: `Some(bool)`, or `None` when unknown. Anything else is an error.
pub fn condition_value(value: &Value, span: infra_compiler::Span) -> Result<Option<bool>, Diagnostic> {
    match &value.kind {
        Kind::Bool(b) => Ok(Some(*b)),
        Kind::Unknown(_) => Ok(None),
        Kind::Null => {
            Err(invalid_value(span, "condition is `null`").with_help("a condition must be `true` or `false`"))
        }
        _ => Err(invalid_value(span, format!("condition must be a bool, found {}", value.a_type_name()))
            .with_help("compare the value, for example `x != \"\"`")),
    }
}

pub fn invalid_value(span: infra_compiler::Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(codes::INVALID_VALUE, message).with_label(span, "here")
}

fn get_attr(target: &Value, name: &Ident) -> EvalResult {
    match &target.kind {
        Kind::Unknown(_) => Ok(Value::unknown(Type::Any).with_mark(target.sensitive)),
        Kind::Map(entries) => match entries.get(&name.name) {
            Some(value) => Ok(value.clone().with_mark(target.sensitive)),
            None => {
                let keys: Vec<&str> = entries.keys().map(|k| k.as_str()).collect();
                let help = keys_help(target, &name.name, &keys);
                Err(Diagnostic::error(codes::MISSING_KEY, format!("no attribute `{}`", name.name))
                    .with_label(name.span, "not in this object")
                    .with_help(help))
            }
        },
        Kind::Null => Err(invalid_value(name.span, format!("cannot read `{}` of `null`", name.name))
            .with_help("test for null first: `x != null ? x.attr : default`")),
        _ => Err(invalid_value(name.span, format!("a {} has no attributes", target.type_name()))
            .with_help("only objects and maps have attributes")),
    }
}

/// "did you mean ...?" or the list of keys, unless the object is sensitive: its keys are
/// part of the secret (an object keyed by a secret is marked whole). A sensitive value
/// inside it hides nothing of its keys.
fn keys_help(target: &Value, wanted: &str, keys: &[&str]) -> String {
    if target.sensitive {
        return "the object is sensitive, so its keys are not shown".to_string();
    }
    suggest(wanted, keys.iter().copied()).unwrap_or_else(|| available(keys))
}

fn available(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "the object is empty".to_string();
    }
    let shown: Vec<String> = keys.iter().take(8).map(|k| format!("`{k}`")).collect();
    let more = if keys.len() > 8 { format!(" and {} more", keys.len() - 8) } else { String::new() };
    format!("the keys are {}{more}", shown.join(", "))
}

pub(crate) fn index_into(target: &Value, index: &Value, span: infra_compiler::Span) -> EvalResult {
    let mark = target.sensitive || index.sensitive;
    if !target.is_known() || !index.is_known() {
        return Ok(Value::unknown(Type::Any).with_mark(mark));
    }
    match &target.kind {
        Kind::List(items) => {
            let position = match &index.kind {
                Kind::Number(n) => *n,
                Kind::String(s) => s.parse::<f64>().map_err(|_| {
                    invalid_value(span, format!("a list index must be a number, found {}", redacted(index)))
                })?,
                _ => {
                    return Err(invalid_value(
                        span,
                        format!("a list index must be a number, found {}", index.a_type_name()),
                    ))
                }
            };
            if position.fract() != 0.0 && position.is_finite() && !index.sensitive {
                return Err(crate::eval::invalid_value(
                    span,
                    format!("a list index must be a whole number, found {}", crate::value::format_number(position)),
                )
                .with_help("round it with `floor`, `ceil` or `round` first"));
            }
            if position.fract() != 0.0 || position < 0.0 || position >= items.len() as f64 {
                let shown = if index.sensitive {
                    "(sensitive value)".to_string()
                } else {
                    crate::value::format_number(position)
                };
                return Err(Diagnostic::error(codes::INDEX_OUT_OF_RANGE, format!("index {shown} is out of range"))
                    .with_label(
                        span,
                        format!("the list has {} element{}", items.len(), if items.len() == 1 { "" } else { "s" }),
                    )
                    .with_help(if items.is_empty() {
                        "the list is empty; check `length(x) > 0` first".to_string()
                    } else {
                        format!("valid indexes are 0 to {}", items.len() - 1)
                    }));
            }
            Ok(items[position as usize].clone().with_mark(mark))
        }
        Kind::Map(entries) => {
            let Some(key) = key_string(index) else {
                return Err(invalid_value(span, format!("a map key must be a string, found {}", index.a_type_name())));
            };
            match entries.get(&key) {
                Some(value) => Ok(value.clone().with_mark(mark)),
                None => {
                    let keys: Vec<&str> = entries.keys().map(|k| k.as_str()).collect();
                    let shown = if index.sensitive { "(sensitive value)".to_string() } else { quote(&key) };
                    Err(Diagnostic::error(codes::MISSING_KEY, format!("key {shown} not found"))
                        .with_label(span, "no such key")
                        .with_help(keys_help(target, &key, &keys)))
                }
            }
        }
        Kind::Set(_) => Err(invalid_value(span, "a set cannot be indexed")
            .with_help("sets have no order; convert with `tolist(...)` first")),
        Kind::Null => Err(invalid_value(span, "cannot index `null`")),
        _ => Err(invalid_value(span, format!("a {} cannot be indexed", target.type_name()))),
    }
}

/// A value for an error message: redacted when sensitive.
pub(crate) fn redacted(value: &Value) -> String {
    if value.contains_sensitive() {
        "(sensitive value)".to_string()
    } else {
        value.to_string()
    }
}
