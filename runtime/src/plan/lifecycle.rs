//! A resource's `lifecycle` settings and its conditions.
//!
//! Every setting is an expression evaluated with the instance's variables, so it may
//! depend on inputs and lets (`prevent_destroy = protect`); it must be known when
//! planning. `ignore_changes` lists attribute paths of the resource itself (`tags`,
//! `tags.Name`, `tags["Name"]`), strings holding such paths, or is `all`.
//! `replace_when` lists values; the instance is replaced when they differ from the
//! last apply's (state keeps a digest of them, never the values).

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::syntax::ast::{Body, Check, CheckKind, Expr, ExprKind};
use infra_compiler::Span;
use sha2::{Digest, Sha256};

use crate::address::Address;
use crate::eval::Locals;
use crate::module::ModuleScope;
use crate::provider::Attributes;
use crate::value::{Kind, Value};

/// The values of `replace_when`, as a digest.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Triggers {
    /// No `replace_when`.
    None,
    Known(String),
    /// Some value is computed during apply: it changes.
    Unknown,
}

impl Triggers {
    /// The digest of the `replace_when` values when they are known.
    pub(super) fn known(&self) -> Option<String> {
        match self {
            Triggers::Known(digest) => Some(digest.clone()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Ignore {
    Nothing,
    All,
    Paths(Vec<Vec<Segment>>),
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Name(String),
    Index(usize),
}

pub(super) struct Settings {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub prevent_destroy_span: Option<Span>,
    ignore: Ignore,
    pub triggers: Triggers,
}

impl Settings {
    /// The `lifecycle` block of `body`, evaluated for one instance.
    pub fn of(scope: &ModuleScope<'_>, body: &Body, locals: &Locals) -> Result<Settings, Diagnostic> {
        let mut settings = Settings {
            create_before_destroy: false,
            prevent_destroy: false,
            prevent_destroy_span: None,
            ignore: Ignore::Nothing,
            triggers: Triggers::None,
        };
        let Some(lifecycle) = body.blocks().find(|b| b.name.name == "lifecycle") else { return Ok(settings) };
        for attribute in lifecycle.body.attributes() {
            let value = &attribute.value;
            match attribute.name.name.as_str() {
                "create_before_destroy" => {
                    settings.create_before_destroy = flag(scope, value, locals, "create_before_destroy")?
                }
                "prevent_destroy" => {
                    settings.prevent_destroy = flag(scope, value, locals, "prevent_destroy")?;
                    settings.prevent_destroy_span = Some(attribute.span);
                }
                "ignore_changes" => settings.ignore = ignore_changes(scope, value, locals)?,
                "replace_when" => settings.triggers = replace_when(scope, value, locals)?,
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Keeps the prior value of every ignored attribute in `config`, so that a change
    /// made there (in the configuration or outside Infra) is not planned.
    pub fn ignore(&self, config: &mut Attributes, prior: &Attributes) {
        match &self.ignore {
            Ignore::Nothing => {}
            Ignore::All => {
                for (name, value) in config.iter_mut() {
                    if let Some(before) = prior.get(name) {
                        *value = before.clone();
                    }
                }
            }
            Ignore::Paths(paths) => {
                for path in paths {
                    let Some((Segment::Name(first), rest)) = path.split_first() else { continue };
                    let before = prior.get(first).and_then(|v| get(v, rest)).cloned().unwrap_or_else(Value::null);
                    if let Some(value) = config.get_mut(first) {
                        set(value, rest, before);
                    }
                }
            }
        }
    }
}

fn flag(scope: &ModuleScope<'_>, value: &Expr, locals: &Locals, name: &str) -> Result<bool, Diagnostic> {
    let result = scope.evaluator().eval(value, &mut Locals::with(locals.bindings().to_vec()))?;
    match result.as_bool() {
        Some(flag) => Ok(flag),
        None if result.is_null() => Ok(false),
        None => Err(not_known(value.span, name)),
    }
}

fn not_known(span: Span, name: &str) -> Diagnostic {
    crate::eval::invalid_value(span, format!("`{name}` must be known when planning"))
        .with_help("use values known before apply: inputs, lets and literals")
}

fn ignore_changes(scope: &ModuleScope<'_>, value: &Expr, locals: &Locals) -> Result<Ignore, Diagnostic> {
    if is_bare(scope, value, locals, "all") {
        return Ok(Ignore::All);
    }
    let mut paths = Vec::new();
    match &value.kind {
        ExprKind::List(items) => {
            for item in items {
                match attribute_path(scope, item, locals) {
                    Some(path) => paths.push(path),
                    None => paths.extend(evaluated_paths(scope, item, locals)?),
                }
            }
        }
        _ => {
            let result = scope.evaluator().eval(value, &mut Locals::with(locals.bindings().to_vec()))?;
            if result.as_str() == Some("all") {
                return Ok(Ignore::All);
            }
            paths.extend(paths_of(&result, value.span)?);
        }
    }
    Ok(Ignore::Paths(paths))
}

/// Whether `expr` is the bare word `word`, not a name of the module.
fn is_bare(scope: &ModuleScope<'_>, expr: &Expr, locals: &Locals, word: &str) -> bool {
    matches!(&expr.kind, ExprKind::Name(name) if name.as_str() == word && scope.module.decl(word).is_none()
        && !locals.bindings().iter().any(|(n, _)| n == word))
}

/// A path written as an expression rooted at a name that is not declared: an
/// attribute of the resource itself.
fn attribute_path(scope: &ModuleScope<'_>, expr: &Expr, locals: &Locals) -> Option<Vec<Segment>> {
    match &expr.kind {
        ExprKind::Name(name) => {
            let declared =
                scope.module.decl(name).is_some() || locals.bindings().iter().any(|(n, _)| n == name.as_str());
            (!declared).then(|| vec![Segment::Name(name.to_string())])
        }
        ExprKind::GetAttr { target, name, .. } => {
            let mut path = attribute_path(scope, target, locals)?;
            path.push(Segment::Name(name.to_string()));
            Some(path)
        }
        ExprKind::Index { target, index } => {
            let mut path = attribute_path(scope, target, locals)?;
            let key = scope.evaluator().eval(index, &mut Locals::with(locals.bindings().to_vec())).ok()?;
            match &key.kind {
                Kind::String(s) => path.push(Segment::Name(s.to_string())),
                Kind::Number(n) if n.fract() == 0.0 && *n >= 0.0 => path.push(Segment::Index(*n as usize)),
                _ => return None,
            }
            Some(path)
        }
        _ => None,
    }
}

fn evaluated_paths(scope: &ModuleScope<'_>, expr: &Expr, locals: &Locals) -> Result<Vec<Vec<Segment>>, Diagnostic> {
    let value = scope.evaluator().eval(expr, &mut Locals::with(locals.bindings().to_vec()))?;
    paths_of(&value, expr.span)
}

/// Paths from a string (`"tags.Name"`) or a list of strings.
fn paths_of(value: &Value, span: Span) -> Result<Vec<Vec<Segment>>, Diagnostic> {
    let texts: Vec<&Value> = match &value.kind {
        Kind::List(items) | Kind::Set(items) => items.iter().collect(),
        Kind::Null => Vec::new(),
        _ => vec![value],
    };
    let mut paths = Vec::new();
    for text in texts {
        let Some(text) = text.as_str() else {
            if !text.is_known() {
                return Err(not_known(span, "ignore_changes"));
            }
            return Err(crate::eval::invalid_value(span, "`ignore_changes` lists attribute paths").with_help(
                "write attribute names such as `[tags, content]`, strings such as `\"tags.Name\"`, or `all`",
            ));
        };
        let segments = text
            .split('.')
            .map(|part| match part.parse::<usize>() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Name(part.to_string()),
            })
            .collect();
        paths.push(segments);
    }
    Ok(paths)
}

fn get<'v>(value: &'v Value, path: &[Segment]) -> Option<&'v Value> {
    let Some((first, rest)) = path.split_first() else { return Some(value) };
    let inner = match (first, &value.kind) {
        (Segment::Name(name), Kind::Map(entries)) => entries.get(name)?,
        (Segment::Index(index), Kind::List(items)) => items.get(*index)?,
        (Segment::Name(name), Kind::List(items)) => items.get(name.parse::<usize>().ok()?)?,
        _ => return None,
    };
    get(inner, rest)
}

fn set(value: &mut Value, path: &[Segment], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *value = new;
        return;
    };
    match (first, &mut value.kind) {
        (Segment::Name(name), Kind::Map(entries)) => match entries.get_mut(name) {
            Some(inner) => set(inner, rest, new),
            None if rest.is_empty() && !new.is_null() => {
                entries.insert(name.clone(), new);
            }
            None => {}
        },
        (Segment::Index(index), Kind::List(items)) => {
            if let Some(inner) = items.get_mut(*index) {
                set(inner, rest, new);
            }
        }
        _ => {}
    }
}

fn replace_when(scope: &ModuleScope<'_>, value: &Expr, locals: &Locals) -> Result<Triggers, Diagnostic> {
    let result = scope.evaluator().eval(value, &mut Locals::with(locals.bindings().to_vec()))?;
    if !result.is_wholly_known() {
        return Ok(Triggers::Unknown);
    }
    // The rendering of a plain value is canonical: maps are sorted, numbers and strings
    // written one way.
    let digest = Sha256::digest(result.unmarked_deep().to_string().as_bytes());
    Ok(Triggers::Known(digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// A resource's `precondition`s and `postcondition`s.
pub(super) struct Conditions<'b> {
    pre: Vec<&'b Check>,
    post: Vec<&'b Check>,
}

impl<'b> Conditions<'b> {
    pub fn of(body: &'b Body) -> Conditions<'b> {
        let checks = || {
            body.items.iter().filter_map(|i| match i {
                infra_compiler::syntax::ast::BodyItem::Check(check) => Some(&**check),
                _ => None,
            })
        };
        Conditions {
            pre: checks().filter(|c| c.kind == CheckKind::Precondition).collect(),
            post: checks().filter(|c| c.kind == CheckKind::Postcondition).collect(),
        }
    }

    /// Before the instance is created or changed; an unknown condition is checked
    /// again during apply.
    pub fn preconditions(&self, scope: &ModuleScope<'_>, locals: &Locals, address: &Address) -> Result<(), Diagnostic> {
        for check in &self.pre {
            condition(scope, check, locals, &format!("{address}"))?;
        }
        Ok(())
    }

    /// After it, with `self` standing for the instance.
    pub fn postconditions(
        &self,
        scope: &ModuleScope<'_>,
        locals: &Locals,
        instance: &Value,
        address: &Address,
    ) -> Result<(), Diagnostic> {
        if self.post.is_empty() {
            return Ok(());
        }
        let mut bindings = locals.bindings().to_vec();
        bindings.push(("self".to_string(), instance.clone()));
        let locals = Locals::with(bindings);
        for check in &self.post {
            condition(scope, check, &locals, &format!("{address}"))?;
        }
        Ok(())
    }
}

/// Evaluates one condition: false is an error showing its message at the condition;
/// unknown passes (it is evaluated again once known).
pub(super) fn condition(
    scope: &ModuleScope<'_>,
    check: &Check,
    locals: &Locals,
    place: &str,
) -> Result<(), Diagnostic> {
    let value = scope.evaluator().eval(&check.condition, &mut Locals::with(locals.bindings().to_vec()))?;
    if crate::eval::condition_value(&value, check.condition.span)? != Some(false) {
        return Ok(());
    }
    let message = scope
        .evaluator()
        .message(&check.message, &mut Locals::with(locals.bindings().to_vec()))
        .unwrap_or_else(|| "the condition is false".to_string());
    let what = match check.kind {
        CheckKind::Check => "check failed",
        CheckKind::Precondition => "precondition failed",
        CheckKind::Postcondition => "postcondition failed",
    };
    Err(Diagnostic::error(codes::CHECK_FAILED, format!("{what} in {place}: {message}"))
        .with_label(check.condition.span, "this condition is false")
        .with_help(match check.kind {
            CheckKind::Postcondition => {
                "the object was made, but is not what the configuration promises; fix the cause and apply again"
            }
            _ => "change the values the condition uses so that it holds",
        }))
}

/// `prevent_destroy` of a declaration, evaluated with the instance's variables as far as
/// `bindings` know them (see [`crate::expand::bindings_of_key`]); when it cannot be
/// evaluated, or is unknown, the answer is yes (deleting is what cannot be undone).
/// `strict`: the scope lacks the module's inputs, so only a plain `false` lets it go.
pub(super) fn prevents_destroy(
    scope: &ModuleScope<'_>,
    body: &Body,
    strict: bool,
    bindings: Vec<(String, Value)>,
) -> Option<Span> {
    let lifecycle = body.blocks().find(|b| b.name.name == "lifecycle")?;
    let attribute = lifecycle.body.attribute("prevent_destroy")?;
    match scope.evaluator().eval(&attribute.value, &mut Locals::with(bindings)) {
        Ok(value) if value.as_bool() == Some(false) || (value.is_null() && !strict) => None,
        _ => Some(attribute.span),
    }
}
