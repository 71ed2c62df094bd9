//! Resolving names and computing types of expressions.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Checker, Target};
use crate::diagnostic::{codes, suggest, Diagnostic};
use crate::resolve::DeclKind;
use crate::schema::Returns;
use crate::syntax::ast::*;
use crate::types::{unify, unify_all, ObjectField, Type};

impl Checker<'_> {
    pub(super) fn lookup_local(&self, name: &str) -> Option<&Type> {
        self.locals.iter().rev().find(|l| l.name == name).map(|l| &l.ty)
    }

    /// The type of `expr`, reporting every name and type error inside it.
    pub(super) fn expr(&mut self, expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::Null => Type::Null,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Number(_) => Type::Number,
            ExprKind::Error => Type::Any,
            ExprKind::Text(_) => Type::String,
            ExprKind::Template(parts) => self.template(parts),
            ExprKind::Heredoc(heredoc) => self.template(heredoc.template.parts()),
            ExprKind::List(items) => Type::Tuple(items.iter().map(|e| self.expr(e)).collect()),
            ExprKind::Object(items) => self.object(items),
            ExprKind::Name(name) => self.name(&Ident { name: name.clone(), span: expr.span }),
            ExprKind::GetAttr { target, name } => {
                self.get_attr(target, &Ident { name: name.clone(), span: expr.name_span() })
            }
            ExprKind::Index { target, index } => self.index(target, index),
            ExprKind::Splat(splat) => self.splat(&splat.target, &splat.steps),
            ExprKind::Call(call) => self.call(expr, &call.function, &call.args, call.expand_final),
            ExprKind::Unary { op, operand } => self.unary(*op, operand),
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs),
            ExprKind::Conditional(conditional) => {
                let Conditional { condition, then, otherwise } = &**conditional;
                let ty = self.expr(condition);
                self.expect_condition(condition, &ty);
                let a = self.expr(then);
                let b = self.expr(otherwise);
                self.conditional_type(expr, &a, &b)
            }
            ExprKind::ForList(for_list) => {
                let ForList { binding, body, filter } = &**for_list;
                let mark = self.for_binding(binding);
                self.filter(filter.as_ref());
                let ty = self.expr(body);
                self.locals.truncate(mark);
                Type::list(ty)
            }
            ExprKind::ForObject(for_object) => {
                let ForObject { binding, key, value, group, filter } = &**for_object;
                let mark = self.for_binding(binding);
                self.filter(filter.as_ref());
                let key_ty = self.expr(key);
                self.expect_type(key, &key_ty, &Type::String);
                let value_ty = self.expr(value);
                self.locals.truncate(mark);
                Type::map(if *group { Type::list(value_ty) } else { value_ty })
            }
            ExprKind::Paren(inner) => self.expr(inner),
        }
    }

    fn for_binding(&mut self, binding: &ForBinding) -> usize {
        let collection = self.expr(&binding.collection);
        let (key_ty, value_ty) = self.iteration_types(&binding.collection, &collection);
        let mark = self.locals.len();
        if let Some(key_var) = &binding.key_var {
            self.bind(key_var, key_ty);
        }
        self.bind(&binding.value_var, value_ty);
        mark
    }

    fn filter(&mut self, filter: Option<&Expr>) {
        if let Some(filter) = filter {
            let ty = self.expr(filter);
            self.expect_condition(filter, &ty);
        }
    }

    fn template(&mut self, parts: &[TemplatePart]) -> Type {
        // Where each open `%{ for }` started binding its variables.
        let mut marks = Vec::new();
        for part in parts {
            let expr = match part {
                TemplatePart::Interpolation(expr) => expr,
                TemplatePart::If(condition) => {
                    let ty = self.expr(condition);
                    self.expect_condition(condition, &ty);
                    continue;
                }
                TemplatePart::For(binding) => {
                    marks.push(self.for_binding(binding));
                    continue;
                }
                TemplatePart::EndFor(_) => {
                    if let Some(mark) = marks.pop() {
                        self.locals.truncate(mark);
                    }
                    continue;
                }
                TemplatePart::Literal { .. } | TemplatePart::Else(_) | TemplatePart::EndIf(_) => continue,
            };
            let ty = self.expr(expr);
            if ty.is_collection() {
                self.error(
                    Diagnostic::error(codes::TYPE_MISMATCH, format!("cannot interpolate a `{ty}` into a string"))
                        .with_label(expr.span, format!("this is a `{ty}`"))
                        .with_help("join the elements with `join(\",\", ...)` or encode them with `jsonencode(...)`"),
                );
            }
        }
        Type::String
    }

    fn object(&mut self, items: &[ObjectItem]) -> Type {
        let mut fields = BTreeMap::new();
        let mut seen: Vec<Ident> = Vec::new();
        let mut literal_keys = true;
        for item in items {
            let key = match &item.key {
                ObjectKey::Ident { .. } => item.key_ident(),
                ObjectKey::Expr(expr) => {
                    let ty = self.expr(expr);
                    self.expect_type(expr, &ty, &Type::String);
                    match &expr.kind {
                        // Strings are compared in Unicode's composed form (NFC), as values
                        // are: `"e\u0301"` and `"\u00e9"` are one key.
                        ExprKind::Text(name) if !name.is_ascii() => {
                            let composed: String =
                                unicode_normalization::UnicodeNormalization::nfc(name.as_str()).collect();
                            Some(Ident { name: composed.into(), span: expr.span })
                        }
                        ExprKind::Text(name) => Some(Ident { name: name.as_str().into(), span: expr.span }),
                        _ => None,
                    }
                }
            };
            let ty = self.expr(&item.value);
            match key {
                Some(key) => {
                    // The fields found so far say whether the key is new; only a repeated
                    // one is looked for among the keys seen, for where it was first set.
                    let name = key.name.to_string();
                    if fields.contains_key(&name) {
                        self.check_duplicate(&mut seen, &key);
                    } else {
                        seen.push(key);
                    }
                    fields.insert(name, ObjectField { ty, optional: false });
                }
                None => literal_keys = false,
            }
        }
        if literal_keys {
            Type::Object(Arc::new(fields))
        } else {
            Type::map(unify_all(fields.into_values().map(|f| f.ty)))
        }
    }

    fn name(&mut self, name: &Ident) -> Type {
        if let Some(ty) = self.lookup_local(&name.name) {
            return ty.clone();
        }
        let Some(decl) = self.module.decl(&name.name).copied() else {
            self.not_a_declaration(name);
            return Type::Any;
        };
        self.mark_used(&name.name);
        if let Some(function) = &self.in_fn {
            let function = function.clone();
            let refused = match super::constants::readable_in_fn(self.module, &name.name, &function) {
                Ok(()) => None,
                Err(super::constants::NotConstant::Depends { on, kind }) if on == name.name => {
                    Some((format!("a {} of the module", kind.as_str()), None))
                }
                Err(super::constants::NotConstant::Depends { on, kind }) => Some((
                    format!("a {} of the module", decl.kind.as_str()),
                    Some(format!("`{}` depends on the {} `{on}`", name.name, kind.as_str())),
                )),
                Err(super::constants::NotConstant::CallsBack) => Some((
                    format!("a {} of the module", decl.kind.as_str()),
                    Some(format!("`{}` calls `{function}`: the function would read its own result", name.name)),
                )),
            };
            if let Some((label, note)) = refused {
                let mut diagnostic =
                    Diagnostic::error(codes::NOT_A_VALUE, format!("function `{function}` cannot use `{}`", name.name))
                        .with_label(name.span, label)
                        .with_help(
                            "functions see their parameters, the module's inputs and the `let`s that depend on \
                             no resource; pass the value as an argument",
                        );
                if let Some(note) = note {
                    diagnostic = diagnostic.with_note(note);
                }
                self.error(diagnostic);
                return Type::Any;
            }
        }
        match decl.kind {
            DeclKind::Fn => {
                self.error(
                    Diagnostic::error(codes::NOT_A_VALUE, format!("`{}` is a function, not a value", name.name))
                        .with_label(name.span, "used as a value here")
                        .with_help(format!("call it: `{}(...)`", name.name)),
                );
                Type::Any
            }
            _ => {
                self.reference(Target::Decl(name.name.clone()), name.span);
                self.decl_type(&name.name)
            }
        }
    }

    /// Reports a name that is no declaration of the module: a provider configuration or
    /// an output used as a value, or an undefined name.
    fn not_a_declaration(&mut self, name: &Ident) {
        let (what, declared, help) = if let Some(config) = self.module.providers.get(name.name.as_str()) {
            let help = format!("select it in a resource with `provider = {}`", name.name);
            ("a provider configuration", config.name_span, help)
        } else if let Some(output) = self.module.output(&name.name) {
            // Outputs are a namespace of their own, read by callers only; a declaration of
            // the same name would have been found first.
            let help = "outputs are read by the caller of a module; reference the value the output is built from";
            ("an output", output.name_span, help.to_string())
        } else {
            return self.undefined(name);
        };
        self.error(
            Diagnostic::error(codes::NOT_A_VALUE, format!("`{}` is {what}, not a value", name.name))
                .with_label(name.span, "used as a value here")
                .with_secondary(declared, "declared here")
                .with_help(help),
        );
    }

    /// A conditional's type from its results' types, as Terraform unifies them: two
    /// different primitive types give `string` (`true ? 1 : "a"` is `"1"`), and a
    /// primitive against a collection is an error here rather than at plan time.
    fn conditional_type(&mut self, conditional: &Expr, a: &Type, b: &Type) -> Type {
        let primitive = |t: &Type| matches!(t, Type::String | Type::Number | Type::Bool);
        let collection =
            |t: &Type| matches!(t, Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Tuple(_) | Type::Object(_));
        match (a, b) {
            (a, b) if primitive(a) && primitive(b) && a != b => Type::String,
            (a, b) if (primitive(a) && collection(b)) || (collection(a) && primitive(b)) => {
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("the results of this conditional have no common type: `{a}` and `{b}`"),
                    )
                    .with_label(conditional.span, "results of different types")
                    .with_help("make both results the same type, such as two lists or two strings"),
                );
                Type::Any
            }
            _ => unify(a, b),
        }
    }

    pub(super) fn undefined(&mut self, name: &Ident) {
        let module = self.module;
        let decls = if self.in_fn.is_none() { module.decls.len() } else { 0 };
        // Each suggestion compares the name with every declaration, so a module with
        // thousands of undefined names and declarations would take quadratic time: past a
        // budget of comparisons, the general help is given instead.
        let comparisons = self.locals.len() + decls;
        let affordable = comparisons <= self.suggestion_budget;
        self.suggestion_budget = self.suggestion_budget.saturating_sub(comparisons);
        let suggestion = || {
            let locals = self.locals.iter().map(|l| l.name.as_str());
            suggest(&name.name, locals.chain(module.decls.keys().take(decls).map(Name::as_str)))
        };
        let help = if name.name == "self" {
            "`self` is the instance's own attributes, only inside a `postcondition`; elsewhere, \
             use the attribute values the body sets"
                .to_string()
        } else {
            affordable
                .then(suggestion)
                .flatten()
                .unwrap_or_else(|| "declare it with `let`, `input`, `resource`, `data` or `module`".to_string())
        };
        self.error(
            Diagnostic::error(codes::UNDEFINED_NAME, format!("undefined name `{}`", name.name))
                .with_label(name.span, "not found in this module")
                .with_help(help),
        );
    }

    fn get_attr(&mut self, target: &Expr, name: &Ident) -> Type {
        if let Some(diagnostic) = self.typed_resource_reference(target, name) {
            // `null.resource.web` means `web`: it is used, whatever else is wrong.
            self.mark_used(&name.name);
            self.error(diagnostic);
            return Type::Any;
        }
        if let ExprKind::Null = target.kind {
            self.error(
                Diagnostic::error(codes::NO_SUCH_ATTRIBUTE, format!("`null` has no attribute `{}`", name.name))
                    .with_label(target.span.to(name.span), "always fails")
                    .with_help(
                        "`null` is the null value, not a name: read an attribute of a value that may be null \
                                 with `x != null ? x.attr : default`",
                    ),
            );
            return Type::Any;
        }
        if let ExprKind::Name(root) = &target.kind {
            let declared = self.lookup_local(root).is_some()
                || self.module.decl(root).is_some()
                || self.module.providers.contains_key(root.as_str());
            let habit = (!declared).then(|| crate::habits::reference(root, &name.name, target.span.to(name.span)));
            if let Some(Some(diagnostic)) = habit {
                // `var.region` means `region`: it is used, whatever else is wrong.
                if self.module.decl(&name.name).is_some() {
                    self.mark_used(&name.name);
                }
                self.error(diagnostic);
                return Type::Any;
            }
        }
        let target_ty = self.expr(target);
        attribute_of(&target_ty, &name.name).unwrap_or_else(|| {
            self.no_such_attribute(target, &target_ty, name);
            Type::Any
        })
    }

    /// A resource or data source named with its kind in front, as Terraform names them:
    /// `null.resource.web` or `aws.instance.web` (the kind as Infra writes it) and
    /// `aws_instance.web` (as Terraform does), where `web` is declared with that kind and
    /// nothing declared is called `null`, `aws` or `aws_instance`. (`null.resource.web`
    /// would otherwise read `resource` of the null literal, an error only when planned.)
    fn typed_resource_reference(&self, target: &Expr, name: &Ident) -> Option<Diagnostic> {
        let undeclared = |root: &str| {
            self.lookup_local(root).is_none()
                && self.module.decl(root).is_none()
                && !self.module.providers.contains_key(root)
        };
        let written = match &target.kind {
            ExprKind::GetAttr { target: inner, name: kind } => match &inner.kind {
                ExprKind::Null => format!("null.{kind}"),
                ExprKind::Name(root) if undeclared(root) => format!("{root}.{kind}"),
                _ => return None,
            },
            ExprKind::Name(root) if root.contains('_') && undeclared(root) => root.to_string(),
            _ => return None,
        };
        let decl = self.module.decl(&name.name)?;
        let Item::Resource(resource) = self.module.item(decl.item) else { return None };
        let kind = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
        let terraform_kind = format!("{}_{}", resource.ty.provider.name, resource.ty.kind.name);
        if written != kind && written != terraform_kind {
            return None;
        }
        let what = if decl.kind == DeclKind::Data { "data source" } else { "resource" };
        Some(
            Diagnostic::error(
                codes::TERRAFORM_SYNTAX,
                format!("`{written}.{}` names a {what} by its kind, as Terraform does", name.name),
            )
            .with_label(target.span.to(name.span), "Terraform's syntax")
            .with_help(format!("write `{}`: a {what} is read by its name alone, as in `{}.id`", name.name, name.name)),
        )
    }

    fn no_such_attribute(&mut self, target: &Expr, target_ty: &Type, name: &Ident) {
        let candidates: Vec<String> = match target_ty {
            Type::Object(fields) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let suggestion = suggest(&name.name, candidates.iter().map(String::as_str));
        let (code, message) = match self.described(target) {
            Some((DeclKind::Module, module)) => {
                (codes::UNKNOWN_MODULE_OUTPUT, format!("module `{module}` has no output `{}`", name.name))
            }
            Some((_, described)) => (codes::NO_SUCH_ATTRIBUTE, format!("{described} has no attribute `{}`", name.name)),
            None => (codes::NO_SUCH_ATTRIBUTE, format!("a `{target_ty}` has no attribute `{}`", name.name)),
        };
        let is_module = code == codes::UNKNOWN_MODULE_OUTPUT;
        let help = suggestion.unwrap_or_else(|| match target_ty {
            Type::Object(_) if is_module => format!("the module's outputs are {}", super::items::list(&candidates)),
            Type::Object(_) => format!("the attributes are {}", super::items::list(&candidates)),
            Type::List(_) | Type::Tuple(_) | Type::Set(_) => {
                "pick an element first (`x[0].attr`) or use a splat (`x[*].attr`)".to_string()
            }
            _ => "only objects and maps have attributes".to_string(),
        });
        self.error(Diagnostic::error(code, message).with_label(name.span, "unknown attribute").with_help(help));
    }

    /// Describes what an attribute access is applied to, for messages:
    /// "`web` (`aws.instance`)" or the module call name.
    fn described(&self, target: &Expr) -> Option<(DeclKind, String)> {
        let root = match &target.kind {
            ExprKind::Name(n) => n,
            ExprKind::Index { target, .. } => match &target.kind {
                ExprKind::Name(n) => n,
                _ => return None,
            },
            _ => return None,
        };
        if self.lookup_local(root).is_some() {
            return None;
        }
        let decl = self.module.decl(root)?;
        match self.module.item(decl.item) {
            Item::Resource(r) => Some((decl.kind, format!("`{root}` (`{}.{}`)", r.ty.provider.name, r.ty.kind.name))),
            Item::Module(_) => Some((DeclKind::Module, root.to_string())),
            _ => None,
        }
    }

    fn index(&mut self, target: &Expr, index: &Expr) -> Type {
        self.check_single_instance(target);
        let target_ty = self.expr(target);
        let index_ty = self.expr(index);
        let (key_ty, element) = match &target_ty {
            Type::Any | Type::Null => return Type::Any,
            Type::List(t) | Type::Set(t) => (Type::Number, (**t).clone()),
            Type::Tuple(items) => {
                let element = match &index.kind {
                    ExprKind::Number(n) if n.fract() == 0.0 && *n >= 0.0 => {
                        items.get(*n as usize).cloned().unwrap_or(Type::Any)
                    }
                    _ => unify_all(items.iter().cloned()),
                };
                (Type::Number, element)
            }
            Type::Map(t) => (Type::String, (**t).clone()),
            Type::Object(fields) => {
                let element = match &index.kind {
                    ExprKind::Text(k) => fields.get(k.as_str()).map(|f| f.ty.clone()),
                    _ => None,
                };
                (Type::String, element.unwrap_or_else(|| target_ty.element().unwrap_or(Type::Any)))
            }
            other => {
                self.error(
                    Diagnostic::error(codes::NOT_INDEXABLE, format!("a `{other}` cannot be indexed"))
                        .with_label(target.span, format!("this is a `{other}`"))
                        .with_help("only lists, tuples, sets, maps and objects can be indexed"),
                );
                return Type::Any;
            }
        };
        if !index_ty.fits(&key_ty) {
            self.error(
                Diagnostic::error(codes::TYPE_MISMATCH, format!("index must be a `{key_ty}`, found `{index_ty}`"))
                    .with_label(index.span, format!("this is a `{index_ty}`"))
                    .with_help(if key_ty == Type::Number {
                        "lists are indexed by position: `x[0]`"
                    } else {
                        "maps are indexed by key: `x[\"key\"]`"
                    }),
            );
        }
        element
    }

    /// `web[0]` where `web` has no `for` clause: it has exactly one instance.
    fn check_single_instance(&mut self, target: &Expr) {
        let ExprKind::Name(name) = &target.kind else { return };
        if self.lookup_local(name).is_some() {
            return;
        }
        let Some(decl) = self.module.decl(name) else { return };
        let repeat = match self.module.item(decl.item) {
            Item::Resource(r) => &r.repeat,
            Item::Module(m) => &m.repeat,
            _ => return,
        };
        if matches!(repeat, Some(Repeat::For(_))) {
            return;
        }
        let kind = decl.kind.as_str();
        self.error(
            Diagnostic::error(
                codes::NOT_INDEXABLE,
                format!("the {kind} `{name}` has a single instance and cannot be indexed"),
            )
            .with_label(target.span, "not repeated with `for`")
            .with_help(format!("refer to it directly, as `{name}.<attribute>`")),
        );
    }

    fn splat(&mut self, target: &Expr, steps: &[SplatStep]) -> Type {
        let target_ty = self.expr(target);
        let mut element = match &target_ty {
            Type::List(_) | Type::Set(_) | Type::Tuple(_) | Type::Map(_) => target_ty.element().unwrap_or(Type::Any),
            // A splat over a single value treats it as a list of one (null as empty).
            other => other.clone(),
        };
        for step in steps {
            element = match step {
                SplatStep::Attr(name) => attribute_of(&element, &name.name).unwrap_or_else(|| {
                    self.no_such_attribute(target, &element, name);
                    Type::Any
                }),
                SplatStep::Index(index) => {
                    self.expr(index);
                    element.element().unwrap_or(Type::Any)
                }
            };
        }
        Type::list(element)
    }

    fn call(&mut self, call: &Expr, function: &Ident, args: &[Expr], expand_final: bool) -> Type {
        let mut arg_types: Vec<Type> = args.iter().map(|a| self.expr(a)).collect();
        if expand_final {
            // `f(a, xs...)`: the last argument is a collection whose elements are the
            // remaining arguments; how many is known only when it is evaluated.
            if let (Some(last), Some(ty)) = (args.last(), arg_types.pop()) {
                if !matches!(ty, Type::List(_) | Type::Set(_) | Type::Tuple(_) | Type::Any) {
                    self.error(
                        Diagnostic::error(
                            codes::INVALID_ARGUMENT,
                            format!("only a list can be expanded with `...`, found `{ty}`"),
                        )
                        .with_label(last.span, format!("this is a `{ty}`"))
                        .with_help("remove the `...` to pass the value as one argument"),
                    );
                }
            }
            return self.expanded_call(function, &arg_types);
        }
        if let Some(decl) = self.module.decl(&function.name).copied() {
            if decl.kind == DeclKind::Fn {
                return self.user_call(call, function, args, &arg_types, decl.item);
            }
        }
        let Some(signature) = self.schemas.function(&function.name).cloned() else {
            let mut names: Vec<&str> = self.schemas.function_names();
            names.extend(self.module.decls.iter().filter(|(_, d)| d.kind == DeclKind::Fn).map(|(n, _)| n.as_str()));
            let help = suggest(&function.name, names).unwrap_or_else(|| match function.name.split_once("::") {
                Some((plugin, _)) => format!(
                    "a plugin's functions are known once `infra init` has cached its schema: declare `plugin {plugin} {{ ... }}` and run `infra init`"
                ),
                None => "docs/functions.md lists the built-in functions; declare your own with `fn`".to_string(),
            });
            self.error(
                Diagnostic::error(codes::UNKNOWN_FUNCTION, format!("unknown function `{}`", function.name))
                    .with_label(function.span, "no such function")
                    .with_help(help),
            );
            return Type::Any;
        };
        if signature.resource_only && !self.in_resource {
            self.error(
                Diagnostic::error(codes::RESOURCE_ONLY_FUNCTION, format!("`{}` is only allowed in resource bodies", function.name))
                    .with_label(function.span, "called outside a resource")
                    .with_help(format!("`{}` gives a different result each time; call it in a resource attribute, whose value is kept in state", function.name)),
            );
        }
        let too_few = args.len() < signature.min_args();
        let too_many = signature.max_args().is_some_and(|max| args.len() > max);
        if too_few || too_many {
            let expected = match signature.max_args() {
                Some(max) if max == signature.min_args() => format!("{max}"),
                Some(max) => format!("{} to {max}", signature.min_args()),
                None => format!("at least {}", signature.min_args()),
            };
            self.error(
                Diagnostic::error(
                    codes::WRONG_ARGUMENT_COUNT,
                    format!(
                        "`{}` takes {expected} argument{}, found {}",
                        function.name,
                        if expected == "1" { "" } else { "s" },
                        args.len()
                    ),
                )
                .with_label(call.span, "called here")
                .with_help(format!("the signature is `{}`", signature.display())),
            );
        }
        for (i, (arg, ty)) in args.iter().zip(&arg_types).enumerate() {
            let param = signature.params.get(i).or(signature.variadic.as_ref());
            if let Some(param) = param {
                if !ty.fits(&param.ty) {
                    self.error(
                        Diagnostic::error(
                            codes::INVALID_ARGUMENT,
                            format!(
                                "argument `{}` of `{}` must be a `{}`, found `{ty}`",
                                param.name, function.name, param.ty
                            ),
                        )
                        .with_label(arg.span, format!("this is a `{ty}`"))
                        .with_help(format!("the signature is `{}`", signature.display())),
                    );
                }
            }
        }
        match signature.returns {
            Returns::Type(ty) => ty,
            Returns::SameAs(i) => arg_types.get(i).cloned().unwrap_or(Type::Any),
            Returns::ElementOf(i) => arg_types.get(i).and_then(Type::element).unwrap_or(Type::Any),
        }
    }

    /// A call whose final argument is expanded: the function must exist; its result
    /// type is taken from the signature without counting arguments.
    fn expanded_call(&mut self, function: &Ident, _leading: &[Type]) -> Type {
        let is_user_fn = self.module.decl(&function.name).is_some_and(|d| d.kind == DeclKind::Fn);
        if is_user_fn || matches!(function.name.as_str(), "try" | "can" | "sensitive" | "nonsensitive") {
            self.mark_used(&function.name);
            self.error(
                Diagnostic::error(codes::WRONG_ARGUMENT_COUNT, format!("arguments of `{}` cannot be expanded", function.name))
                    .with_label(function.span, "called with `...`")
                    .with_help("`...` expands the last argument of built-in functions such as `max(xs...)`; pass the arguments one by one"),
            );
            return Type::Any;
        }
        match self.schemas.function(&function.name) {
            Some(signature) => match &signature.returns {
                crate::schema::Returns::Type(ty) => ty.clone(),
                _ => Type::Any,
            },
            None => {
                self.error(
                    Diagnostic::error(codes::UNKNOWN_FUNCTION, format!("unknown function `{}`", function.name))
                        .with_label(function.span, "no such function")
                        .with_help(suggest(&function.name, self.schemas.function_names()).unwrap_or_else(|| {
                            "docs/functions.md lists the built-in functions; declare your own with `fn`".to_string()
                        })),
                );
                Type::Any
            }
        }
    }

    fn user_call(
        &mut self,
        call: &Expr,
        function: &Ident,
        args: &[Expr],
        arg_types: &[Type],
        item: crate::resolve::ItemId,
    ) -> Type {
        self.mark_used(&function.name);
        if let Some(caller) = &self.in_fn {
            self.fn_calls.push((caller.clone(), function.name.to_string(), function.span));
        }
        let Item::Fn(decl) = self.module.item(item) else { return Type::Any };
        if args.len() != decl.params.len() {
            let params: Vec<String> = decl.params.iter().map(|p| p.name.name.to_string()).collect();
            self.error(
                Diagnostic::error(
                    codes::WRONG_ARGUMENT_COUNT,
                    format!(
                        "`{}` takes {} argument{}, found {}",
                        function.name,
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .with_label(call.span, "called here")
                .with_secondary(decl.name.span, "declared here")
                .with_help(format!("pass {}", super::items::list(&params))),
            );
        }
        for ((arg, ty), param) in args.iter().zip(arg_types).zip(&decl.params) {
            let expected = super::lower_type(&param.ty);
            if !ty.fits(&expected) {
                self.error(
                    Diagnostic::error(
                        codes::INVALID_ARGUMENT,
                        format!(
                            "argument `{}` of `{}` must be a `{expected}`, found `{ty}`",
                            param.name.name, function.name
                        ),
                    )
                    .with_label(arg.span, format!("this is a `{ty}`"))
                    .with_secondary(param.span, "parameter declared here")
                    .with_help(format!("pass a `{expected}`")),
                );
            }
        }
        decl.return_type.as_ref().map_or(Type::Any, super::lower_type)
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr) -> Type {
        let ty = self.expr(operand);
        let expected = match op {
            UnaryOp::Neg => Type::Number,
            UnaryOp::Not => Type::Bool,
        };
        if !ty.fits(&expected) {
            self.invalid_operand(op.as_str(), operand, &ty, &expected);
        }
        expected
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Type {
        let lhs_ty = self.expr(lhs);
        let rhs_ty = self.expr(rhs);
        let (operand, result) = match op {
            BinaryOp::Or | BinaryOp::And => (Some(Type::Bool), Type::Bool),
            BinaryOp::Eq | BinaryOp::NotEq => (None, Type::Bool),
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => (Some(Type::Number), Type::Bool),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                (Some(Type::Number), Type::Number)
            }
        };
        if let Some(expected) = operand {
            // Strings convert to numbers implicitly only when they are literals of
            // unknown type; a `string` operand is always an error, as `+` is not
            // concatenation (use a template).
            for (expr, ty) in [(lhs, &lhs_ty), (rhs, &rhs_ty)] {
                if !matches!(ty, Type::Any | Type::Null) && *ty != expected {
                    self.invalid_operand(op.as_str(), expr, ty, &expected);
                }
            }
        }
        result
    }

    fn invalid_operand(&mut self, op: &str, expr: &Expr, ty: &Type, expected: &Type) {
        let help = if op == "+" && *ty == Type::String {
            "`+` adds numbers; join strings with a template: `\"${a}${b}\"`".to_string()
        } else {
            format!("`{op}` takes `{expected}` operands")
        };
        self.error(
            Diagnostic::error(codes::INVALID_OPERAND, format!("`{op}` cannot be applied to a `{ty}`"))
                .with_label(expr.span, format!("this is a `{ty}`"))
                .with_help(help),
        );
    }
}

/// The type of attribute `name` of a value of type `ty`; `None` when it has none.
fn attribute_of(ty: &Type, name: &str) -> Option<Type> {
    match ty {
        Type::Any | Type::Null => Some(Type::Any),
        Type::Object(fields) => fields.get(name).map(|f| f.ty.clone()),
        Type::Map(element) => Some((**element).clone()),
        _ => None,
    }
}
