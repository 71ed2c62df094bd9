//! Function calls: the special forms (`try`, `can`, `sensitive`, `nonsensitive`,
//! `issensitive`), user
//! `fn`s and the built-in library.

use infra_compiler::diagnostic::{codes, suggest, Diagnostic};
use infra_compiler::schema::Returns;
use infra_compiler::syntax::ast::{Expr, FnDecl, Ident};
use infra_compiler::types::Type;

use super::{EvalResult, Evaluator, Locals};
use crate::convert::convert;
use crate::function::CallContext;
use crate::value::Value;

/// User function calls nested deeper than this are stopped (the checker rejects
/// recursion; this guards evaluation of unchecked input, such as console lines).
const MAX_CALL_DEPTH: usize = 64;

/// Functions that look only at a collection's shape (how many elements, which keys),
/// so their result is known as soon as the collection is, whatever its elements.
const STRUCTURAL: &[&str] = &["length", "keys"];

impl Evaluator<'_> {
    pub(super) fn call(&self, call: &Expr, function: &Ident, args: &[Expr], locals: &mut Locals) -> EvalResult {
        match function.name.as_str() {
            "try" => return self.try_call(call, args, locals),
            "can" => return self.can_call(call, args, locals),
            "sensitive" => return Ok(self.single_argument(call, function, args, locals)?.mark_sensitive()),
            "nonsensitive" => return self.nonsensitive(call, function, args, locals),
            "issensitive" => return self.issensitive(call, function, args, locals),
            _ => {}
        }
        if let Some(decl) = self.globals.function(&function.name) {
            return self.user_call(call, decl, args, locals);
        }
        let values: Vec<Value> = args.iter().map(|a| self.eval(a, locals)).collect::<Result<_, _>>()?;
        self.builtin_call(call, function, args, &values)
    }

    /// `f(a, xs...)`: the elements of the last argument become the final arguments of a
    /// built-in function.
    pub(super) fn expanded_call(
        &self,
        call: &Expr,
        function: &Ident,
        args: &[Expr],
        locals: &mut Locals,
    ) -> EvalResult {
        let mut values: Vec<Value> = args.iter().map(|a| self.eval(a, locals)).collect::<Result<_, _>>()?;
        let (Some(last), Some(last_expr)) = (values.pop(), args.last()) else {
            return self.builtin_call(call, function, args, &values);
        };
        match &last.kind {
            crate::value::Kind::List(items) | crate::value::Kind::Set(items) => {
                values.extend(items.iter().map(|item| item.clone().with_mark(last.sensitive)));
            }
            crate::value::Kind::Unknown(_) => return Ok(Value::unknown(Type::Any).with_mark(last.sensitive)),
            _ => {
                return Err(super::invalid_value(
                    last_expr.span,
                    format!("only a list can be expanded with `...`, found {}", last.a_type_name()),
                )
                .with_help("remove the `...` to pass the value as one argument"))
            }
        }
        if self.globals.function(&function.name).is_some() {
            return Err(Diagnostic::error(
                codes::WRONG_ARGUMENT_COUNT,
                format!("arguments of `{}` cannot be expanded", function.name),
            )
            .with_label(function.span, "called with `...`")
            .with_help("`...` expands the last argument of built-in functions only"));
        }
        self.builtin_call(call, function, args, &values)
    }

    fn single_argument(&self, call: &Expr, function: &Ident, args: &[Expr], locals: &mut Locals) -> EvalResult {
        match args {
            [arg] => self.eval(arg, locals),
            _ => Err(Diagnostic::error(
                codes::WRONG_ARGUMENT_COUNT,
                format!("`{}` takes 1 argument, found {}", function.name, args.len()),
            )
            .with_label(call.span, "called here")
            .with_help(format!("write `{}(value)`", function.name))),
        }
    }

    /// The first argument that evaluates without error.
    fn try_call(&self, call: &Expr, args: &[Expr], locals: &mut Locals) -> EvalResult {
        let mut last_error = None;
        for arg in args {
            match self.eval(arg, locals) {
                Ok(value) => return Ok(value),
                Err(error) => last_error = Some(error),
            }
        }
        let mut diagnostic = Diagnostic::error(codes::FUNCTION_FAILED, "`try`: no argument evaluated without an error")
            .with_label(call.span, "every argument failed")
            .with_help("add a last argument that cannot fail, such as a default value");
        if let Some(error) = last_error {
            diagnostic = diagnostic.with_note(format!("the last argument failed with: {}", error.message));
        }
        Err(diagnostic)
    }

    /// Whether the argument evaluates without error; unknown when it is unknown.
    fn can_call(&self, call: &Expr, args: &[Expr], locals: &mut Locals) -> EvalResult {
        let [arg] = args else {
            return Err(Diagnostic::error(
                codes::WRONG_ARGUMENT_COUNT,
                format!("`can` takes 1 argument, found {}", args.len()),
            )
            .with_label(call.span, "called here")
            .with_help("write `can(expression)`"));
        };
        match self.eval(arg, locals) {
            Ok(value) if !value.is_wholly_known() => Ok(Value::unknown(Type::Bool)),
            Ok(_) => Ok(Value::bool(true)),
            Err(_) => Ok(Value::bool(false)),
        }
    }

    fn nonsensitive(&self, call: &Expr, function: &Ident, args: &[Expr], locals: &mut Locals) -> EvalResult {
        let value = self.single_argument(call, function, args, locals)?;
        if value.is_known() && !value.contains_sensitive() {
            return Err(Diagnostic::error(codes::FUNCTION_FAILED, "`nonsensitive`: the value is not sensitive")
                .with_label(call.span, "nothing to unmark")
                .with_help("remove the `nonsensitive(...)` call"));
        }
        Ok(value.unmarked_deep())
    }

    /// Whether the value itself is marked sensitive (a collection holding a sensitive
    /// element is not, as in Terraform); unknown when the value is unknown and unmarked,
    /// since it may turn out sensitive.
    fn issensitive(&self, call: &Expr, function: &Ident, args: &[Expr], locals: &mut Locals) -> EvalResult {
        let value = self.single_argument(call, function, args, locals)?;
        if value.sensitive {
            return Ok(Value::bool(true));
        }
        Ok(if value.is_known() { Value::bool(false) } else { Value::unknown(Type::Bool) })
    }

    fn user_call(&self, call: &Expr, decl: &FnDecl, args: &[Expr], locals: &mut Locals) -> EvalResult {
        if args.len() != decl.params.len() {
            return Err(Diagnostic::error(
                codes::WRONG_ARGUMENT_COUNT,
                format!("`{}` takes {} arguments, found {}", decl.name.name, decl.params.len(), args.len()),
            )
            .with_label(call.span, "called here")
            .with_secondary(decl.name.span, "declared here")
            .with_help("pass one argument per parameter"));
        }
        if locals.depth >= MAX_CALL_DEPTH {
            return Err(Diagnostic::error(
                codes::RECURSIVE_FUNCTION,
                format!("calling `{}` nests function calls more than {MAX_CALL_DEPTH} deep", decl.name.name),
            )
            .with_label(call.span, "here")
            .with_help(format!(
                "a function may call others up to {MAX_CALL_DEPTH} calls deep; flatten the chain of calls"
            )));
        }
        let mut bindings = Vec::with_capacity(args.len());
        for (arg, param) in args.iter().zip(&decl.params) {
            let value = self.eval(arg, locals)?;
            let ty = infra_compiler::check::lower_type(&param.ty);
            let value = convert(&value, &ty).map_err(|error| {
                // The conversion message quotes the value; a secret stays hidden.
                let error = if value.contains_sensitive() {
                    format!("the sensitive value is not {} `{ty}`", crate::value::article(&ty.to_string()))
                } else {
                    error.to_string()
                };
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("argument `{}` of `{}`: {error}", param.name.name, decl.name.name),
                )
                .with_label(arg.span, format!("expected `{ty}`"))
                .with_secondary(param.span, "parameter declared here")
                .with_help(format!("pass a `{ty}`"))
            })?;
            // `optional(T, DEFAULT)` fields get their defaults, as an input's do.
            let value =
                crate::inputs::fill_optional_defaults(value, &param.ty, &mut |e| self.eval(e, &mut Locals::new()))?;
            bindings.push((param.name.name.to_string(), value));
        }
        // A function body sees only its parameters.
        let mut inner = Locals { bindings, depth: locals.depth + 1 };
        let value = self.eval(&decl.body, &mut inner)?;
        match &decl.return_type {
            Some(ty) => {
                let ty = infra_compiler::check::lower_type(ty);
                convert(&value, &ty).map_err(|error| {
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        format!(
                            "`{}` returned a value that is not {} `{ty}`: {error}",
                            decl.name.name,
                            crate::value::article(&ty.to_string())
                        ),
                    )
                    .with_label(decl.body.span, "this value")
                    .with_help("change the body or the declared return type")
                })
            }
            None => Ok(value),
        }
    }

    fn builtin_call(&self, call: &Expr, function: &Ident, args: &[Expr], values: &[Value]) -> EvalResult {
        let signature = self.schemas.function(&function.name);
        let Some(signature) = signature else {
            return Err(Diagnostic::error(codes::UNKNOWN_FUNCTION, format!("unknown function `{}`", function.name))
                .with_label(function.span, "no such function")
                .with_help(
                    suggest(&function.name, self.schemas.function_names())
                        .unwrap_or_else(|| "docs/functions.md lists the built-in functions".to_string()),
                ));
        };
        let too_few = values.len() < signature.min_args();
        let too_many = signature.max_args().is_some_and(|max| values.len() > max);
        if too_few || too_many {
            return Err(Diagnostic::error(
                codes::WRONG_ARGUMENT_COUNT,
                format!("`{}` called with {} arguments", function.name, values.len()),
            )
            .with_label(call.span, "called here")
            .with_help(format!("the signature is `{}`", signature.display())));
        }
        let sensitive = values.iter().any(Value::contains_sensitive);
        if sensitive {
            values.iter().for_each(crate::plan::seen_secret);
        }
        let known = if STRUCTURAL.contains(&function.name.as_str()) {
            values.iter().all(Value::is_known)
        } else {
            values.iter().all(Value::is_wholly_known)
        };
        if !known {
            let ty = match &signature.returns {
                Returns::Type(ty) => ty.clone(),
                Returns::SameAs(_) | Returns::ElementOf(_) => Type::Any,
            };
            return Ok(Value::unknown(ty).with_mark(sensitive));
        }
        let plain: Vec<Value> = values.iter().map(Value::unmarked_deep).collect();
        let render = |text: &str, vars: &crate::value::ValueMap| self.render_template(text, vars);
        let context =
            CallContext { module_dir: self.module_dir, env: self.env, render_template: &render, plan_timestamp: None };
        let Some(result) = self.functions.call(&function.name, &plain, &context) else {
            return Err(Diagnostic::error(codes::UNKNOWN_FUNCTION, format!("`{}` is not implemented", function.name))
                .with_label(function.span, "no implementation")
                .with_help("this function is declared but has no implementation yet"));
        };
        match result {
            Ok(value) => Ok(value.with_mark(sensitive)),
            Err(error) => {
                let span = error.argument.and_then(|i| args.get(i)).map_or(call.span, |a| a.span);
                // A message may quote argument values; hide it when any is secret.
                let message = if sensitive {
                    "the call failed; its message is hidden because an argument is sensitive".to_string()
                } else {
                    error.message
                };
                let mut diagnostic =
                    Diagnostic::error(codes::FUNCTION_FAILED, format!("`{}`: {message}", function.name))
                        .with_label(span, if error.argument.is_some() { "this argument" } else { "this call" });
                diagnostic = match error.help {
                    Some(help) if !sensitive => diagnostic.with_help(help),
                    _ => diagnostic.with_help(format!("the signature is `{}`", signature.display())),
                };
                Err(diagnostic)
            }
        }
    }

    /// Renders a template text for `templatefile`: the text is parsed as the inside of
    /// a heredoc and evaluated with only `vars` in scope.
    pub fn render_template(&self, text: &str, vars: &crate::value::ValueMap) -> Result<Value, String> {
        let marker = unique_marker(text);
        let source = format!("<<{marker}\n{text}\n{marker}\n");
        let expr = infra_compiler::syntax::parse_expression(infra_compiler::FileId(u32::MAX), &source).map_err(
            |diagnostics| diagnostics.first().map_or_else(|| "invalid template".to_string(), |d| d.message.clone()),
        )?;
        let mut locals = Locals::with(vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
        let empty = super::NoGlobals;
        let inner = Evaluator { globals: &empty, ..*self };
        let value = inner.eval(&expr, &mut locals).map_err(|d| d.message)?;
        // The heredoc adds a newline after the last line of the text.
        Ok(match value.as_str() {
            Some(s) => Value::string(s.strip_suffix('\n').unwrap_or(s)).with_mark(value.sensitive),
            None => value,
        })
    }
}

/// A heredoc marker that does not occur in `text`.
fn unique_marker(text: &str) -> String {
    let mut marker = "END_OF_TEMPLATE".to_string();
    while text.contains(&marker) {
        marker.push('_');
    }
    marker
}
