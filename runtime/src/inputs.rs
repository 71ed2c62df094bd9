//! Resolving the root module's input values.
//!
//! Sources, lowest precedence first (a later one wins):
//! 1. the input's default;
//! 2. the environment variable `INFRA_VAR_<name>`;
//! 3. `--var-file FILE`s, in the order given;
//! 4. `--var name=value` flags, in the order given.
//!
//! A value from the command line or the environment is taken as a plain string when
//! the input is a `string` (or has no type); otherwise it is parsed as an expression
//! (`--var 'ports=[80, 443]'`). Every value is converted to the declared type, inputs
//! marked `sensitive` are marked, and the inputs' `check`s are evaluated.

mod var_file;

use std::collections::{BTreeMap, BTreeSet};

use infra_compiler::check::lower_type;
use infra_compiler::diagnostic::{codes, suggest, Diagnostic};
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::syntax::ast::{BodyItem, Expr, ExprKind, Input, Item, TypeExpr, TypeExprKind};
use infra_compiler::types::Type;
use infra_compiler::{Schemas, Span};

use crate::convert::convert;
use crate::eval::{Evaluator, Locals, NoGlobals};
use crate::function::Functions;
use crate::module::ModuleScope;
use crate::value::{Kind, Value};

pub use var_file::{mask as mask_var_file, parse_json as parse_json_var_file, Masked, Secrets};

/// Where a value was given.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Environment,
    /// A `--var-file`; the span is the `name = value` line.
    VarFile(Span),
    Flag,
}

/// One value given for an input, before conversion.
#[derive(Clone, Debug)]
pub struct GivenValue {
    pub name: String,
    pub value: GivenText,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub enum GivenText {
    /// From `--var` or the environment: interpreted by the input's type.
    Text(String),
    /// From a var file: already an expression.
    Expr(Expr),
    /// From a JSON var file: already a value.
    Value(Value),
}

/// Asks for a missing required input (on a terminal); `None` when it cannot.
pub type Prompt<'p> = dyn FnMut(&str, &Input) -> Option<String> + 'p;

pub struct InputContext<'a> {
    pub module: &'a Module,
    pub functions: &'a dyn Functions,
    pub schemas: &'a dyn Schemas,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Resolves every input of `module` from `given` (var files and flags, in precedence
/// order), the environment and defaults. Returns every problem at once.
pub fn resolve_inputs(
    context: &InputContext<'_>,
    given: &[GivenValue],
    prompt: &mut Prompt<'_>,
) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let inputs = inputs_of(context.module);
    for value in given {
        if !inputs.iter().any(|i| i.name.name == value.name) {
            diagnostics.push(unknown_input(value, &inputs));
        }
    }
    let mut values = BTreeMap::new();
    for input in &inputs {
        match resolve_one(context, input, given, prompt) {
            Ok(value) => {
                values.insert(input.name.name.to_string(), value);
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if diagnostics.is_empty() {
        diagnostics.extend(run_checks(context, &inputs, &values));
    }
    if diagnostics.is_empty() {
        Ok(values)
    } else {
        Err(diagnostics)
    }
}

fn unknown_input(value: &GivenValue, inputs: &[&Input]) -> Diagnostic {
    let names: Vec<&str> = inputs.iter().map(|i| i.name.name.as_str()).collect();
    let help = suggest(&value.name, names.iter().copied()).unwrap_or_else(|| {
        if names.is_empty() {
            "this module declares no inputs".to_string()
        } else {
            format!("the inputs are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
        }
    });
    let mut diagnostic =
        Diagnostic::error(codes::INVALID_INPUT, format!("no input named `{}`", value.name)).with_help(help);
    match &value.origin {
        Origin::VarFile(span) => diagnostic = diagnostic.with_label(*span, "not an input of this module"),
        Origin::Flag => diagnostic = diagnostic.with_note(format!("given with `--var {}=...`", value.name)),
        Origin::Environment => diagnostic = diagnostic.with_note(format!("given by `INFRA_VAR_{}`", value.name)),
    }
    diagnostic
}

/// The names of the module's inputs declared `sensitive`.
pub fn sensitive_inputs(module: &Module) -> BTreeSet<String> {
    inputs_of(module).into_iter().filter(|i| is_sensitive(i)).map(|i| i.name.name.to_string()).collect()
}

fn is_sensitive(input: &Input) -> bool {
    let attribute = input.body.as_ref().and_then(|b| b.attribute("sensitive"));
    attribute.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)))
}

/// Whether `null` is a value the input takes: unless it says `nullable = false`.
pub fn is_nullable(input: &Input) -> bool {
    let attribute = input.body.as_ref().and_then(|b| b.attribute("nullable"));
    !attribute.is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(false)))
}

fn resolve_one(
    context: &InputContext<'_>,
    input: &Input,
    given: &[GivenValue],
    prompt: &mut Prompt<'_>,
) -> Result<Value, Diagnostic> {
    let name = &input.name.name;
    let ty = input.ty.as_ref().map_or(Type::Any, lower_type);
    let environment = (context.env)(&format!("INFRA_VAR_{name}")).map(|text| GivenValue {
        name: name.to_string(),
        value: GivenText::Text(text),
        origin: Origin::Environment,
    });
    let chosen = given.iter().rev().find(|g| &g.name == name).cloned().or(environment);
    let origin = chosen.as_ref().map(|g| g.origin.clone());
    let given = match chosen {
        Some(given) => Some(given_value(context, &given, &ty, is_sensitive(input))?),
        None => None,
    };
    // `null` given means the default when there is one, as for a module's inputs; without
    // one it is the value, unless the input is not nullable.
    let given = given.filter(|value| !(value.is_null() && input.default.is_some()));
    if given.as_ref().is_some_and(Value::is_null) && !is_nullable(input) {
        let diagnostic = Diagnostic::error(codes::INVALID_INPUT, format!("input `{name}` cannot be null"))
            .with_label(input.name.span, "declared with `nullable = false`")
            .with_help(format!("give `{name}` a value, or give it a default for `null` to mean"));
        return Err(match &origin {
            Some(Origin::VarFile(span)) => diagnostic.with_secondary(*span, "null given here"),
            _ => diagnostic,
        });
    }
    let value = match given {
        Some(value) => value,
        None => match &input.default {
            Some(default) => evaluate(context, default)
                .map_err(|d| d.with_note(format!("while evaluating the default of `{name}`")))?,
            None => match prompt(name, input) {
                Some(text) => text_value(context, &text, (&ty, is_sensitive(input)), name, &Origin::Flag)?,
                None => return Err(missing(input)),
            },
        },
    };
    let converted = convert(&value, &ty).map_err(|error| {
        // The conversion message quotes the value; a sensitive input's stays hidden.
        let (error, shown) = if is_sensitive(input) {
            ("the sensitive value does not convert".to_string(), "(sensitive value)".to_string())
        } else {
            (error.to_string(), value.to_string())
        };
        let diagnostic = Diagnostic::error(
            codes::INVALID_INPUT,
            format!("the value of `{name}` is not {} `{ty}`: {error}", crate::value::article(&ty.to_string())),
        )
        .with_label(input.name.span, format!("declared `{ty}`"))
        .with_note(format!("the value given: {shown}"))
        .with_help(format!("give `{name}` a `{ty}`"));
        match &origin {
            Some(Origin::VarFile(span)) => diagnostic.with_secondary(*span, "given here"),
            Some(Origin::Flag) => diagnostic.with_note(format!("given with `--var {name}=...`")),
            Some(Origin::Environment) => diagnostic.with_note(format!("given by `INFRA_VAR_{name}`")),
            None => diagnostic,
        }
    })?;
    let converted = match &input.ty {
        Some(written) => fill_optional_defaults(converted, written, &mut |e| evaluate(context, e))?,
        None => converted,
    };
    Ok(if is_sensitive(input) { converted.mark_sensitive() } else { converted })
}

fn missing(input: &Input) -> Diagnostic {
    let name = &input.name.name;
    Diagnostic::error(codes::MISSING_INPUT, format!("required input `{name}` is not set"))
        .with_label(input.name.span, "declared here without a default")
        .with_help(format!(
            "set it with `--var {name}=VALUE`, a `--var-file`, or the environment variable `INFRA_VAR_{name}`"
        ))
}

fn given_value(
    context: &InputContext<'_>,
    given: &GivenValue,
    ty: &Type,
    sensitive: bool,
) -> Result<Value, Diagnostic> {
    match &given.value {
        GivenText::Expr(expr) => evaluate(context, expr),
        GivenText::Value(value) => Ok(value.clone()),
        GivenText::Text(text) => text_value(context, text, (ty, sensitive), &given.name, &given.origin),
    }
}

/// A value from the command line or environment: a string as is for string inputs,
/// otherwise parsed as an expression.
fn text_value(
    context: &InputContext<'_>,
    text: &str,
    (ty, sensitive): (&Type, bool),
    name: &str,
    origin: &Origin,
) -> Result<Value, Diagnostic> {
    if matches!(ty, Type::String | Type::Any) {
        return Ok(Value::string(text));
    }
    let source = match origin {
        Origin::Environment => format!("`INFRA_VAR_{name}`"),
        _ => format!("`--var {name}=...`"),
    };
    let unreadable = |reason: &str| {
        // A parse error can quote part of the text; a sensitive value's stays hidden.
        let reason = if sensitive { "the sensitive value is not a valid expression" } else { reason };
        Diagnostic::error(codes::INVALID_INPUT, format!("cannot read the value of `{name}` from {source}: {reason}"))
            .with_help(format!(
                "`{name}` is a `{ty}`; write its value as an expression, such as `[1, 2]` or `{{ a = 1 }}`"
            ))
    };
    let expr = infra_compiler::syntax::parse_expression(infra_compiler::FileId(u32::MAX), text)
        .map_err(|diagnostics| unreadable(diagnostics.first().map_or("not an expression", |d| d.message.as_str())))?;
    evaluate(context, &expr).map_err(|d| unreadable(&d.message))
}

/// Evaluates a default or a given expression: literals and functions, no references.
fn evaluate(context: &InputContext<'_>, expr: &Expr) -> Result<Value, Diagnostic> {
    let evaluator = Evaluator {
        functions: context.functions,
        schemas: context.schemas,
        globals: &NoGlobals,
        module_dir: &context.module.dir,
        env: context.env,
    };
    evaluator.eval(expr, &mut Locals::new())
}

/// Every `input` declaration of `module`.
fn inputs_of(module: &Module) -> Vec<&Input> {
    module
        .decls
        .values()
        .filter(|d| d.kind == DeclKind::Input)
        .filter_map(|d| match module.item(d.item) {
            Item::Input(input) => Some(input),
            _ => None,
        })
        .collect()
}

/// The `check`s of every input of `context.module`, with `values` in scope: how a
/// module instance's inputs are checked once its caller gave them. A condition that is
/// not known yet passes.
pub(crate) fn run_input_checks(context: &InputContext<'_>, values: &BTreeMap<String, Value>) -> Vec<Diagnostic> {
    let inputs = inputs_of(context.module);
    run_checks(context, &inputs, values)
}

/// Each input's `check`s, with every input in scope.
fn run_checks(context: &InputContext<'_>, inputs: &[&Input], values: &BTreeMap<String, Value>) -> Vec<Diagnostic> {
    let scope = ModuleScope::new(context.module, values.clone(), context.functions, context.schemas, context.env);
    let mut diagnostics = Vec::new();
    for input in inputs {
        let Some(body) = &input.body else { continue };
        for entry in &body.items {
            let BodyItem::Check(check) = entry else { continue };
            let outcome = scope
                .eval(&check.condition)
                .and_then(|value| crate::eval::condition_value(&value, check.condition.span));
            match outcome {
                Ok(Some(false)) => {
                    let message = scope
                        .evaluator()
                        .message(&check.message, &mut Locals::default())
                        .unwrap_or_else(|| "the check failed".to_string());
                    diagnostics.push(
                        Diagnostic::error(codes::CHECK_FAILED, format!("input `{}`: {message}", input.name.name))
                            .with_label(check.condition.span, "this condition is false")
                            .with_help(format!("change the value given for `{}`", input.name.name)),
                    );
                }
                Ok(_) => {}
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
    }
    diagnostics
}

/// Fills the defaults of `optional(T, default)` object fields in an already converted
/// `value` of the written type `ty`: a field that is absent or null takes its default,
/// evaluated by `eval` and converted to the field's type. Unknown values are left as
/// they are; their defaults apply once they are known.
pub(crate) fn fill_optional_defaults(
    value: Value,
    ty: &TypeExpr,
    eval: &mut dyn FnMut(&Expr) -> Result<Value, Diagnostic>,
) -> Result<Value, Diagnostic> {
    let sensitive = value.sensitive;
    let filled = match (value.kind, &ty.kind) {
        (Kind::Map(mut entries), TypeExprKind::Object(fields)) => {
            for field in fields {
                let name = &field.name.name;
                let current = entries.remove(name).unwrap_or_else(Value::null);
                let current = match &field.default {
                    Some(default) if current.is_null() => {
                        let value = eval(default)?;
                        convert(&value, &lower_type(&field.ty))
                            .map_err(|e| crate::eval::invalid_value(default.span, e.to_string()))?
                    }
                    _ => current,
                };
                entries.insert(name.clone(), fill_optional_defaults(current, &field.ty, eval)?);
            }
            Value::object(entries)
        }
        (Kind::Map(entries), TypeExprKind::Map(element)) => Value::object(
            entries
                .into_iter()
                .map(|(k, v)| Ok((k, fill_optional_defaults(v, element, eval)?)))
                .collect::<Result<_, Diagnostic>>()?,
        ),
        (Kind::List(items), TypeExprKind::List(element)) => Value::list(
            items.into_vec().into_iter().map(|v| fill_optional_defaults(v, element, eval)).collect::<Result<_, _>>()?,
        ),
        (Kind::Set(items), TypeExprKind::Set(element)) => Value::set(
            items.into_vec().into_iter().map(|v| fill_optional_defaults(v, element, eval)).collect::<Result<_, _>>()?,
        ),
        (Kind::List(items), TypeExprKind::Tuple(elements)) => Value::list(
            items
                .into_vec()
                .into_iter()
                .zip(elements)
                .map(|(v, element)| fill_optional_defaults(v, element, eval))
                .collect::<Result<_, _>>()?,
        ),
        (kind, _) => Value { kind, sensitive },
    };
    Ok(filled.with_mark(sensitive))
}
