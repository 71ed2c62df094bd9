//! Checking each kind of top-level item.

use super::{lower_type, Checker, Target};
use crate::diagnostic::{codes, suggest, Diagnostic};
use crate::resolve::DeclKind;
use crate::schema::Schema;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::types::Type;

impl<'a> Checker<'a> {
    pub(super) fn check_item(&mut self, item: &Item) {
        match item {
            Item::Input(input) => self.check_input(input),
            Item::Let(decl) => {
                let ty = self.expr(&decl.value);
                self.tables.decl_types.entry(decl.name.name.clone()).or_insert(ty);
            }
            Item::Fn(decl) => self.check_fn(decl),
            Item::Provider(provider) => self.check_provider(provider),
            Item::Resource(resource) => self.check_resource(resource),
            Item::Module(call) => self.check_module_call(call),
            Item::Output(output) => self.check_output(output),
            Item::Check(check) => self.check_check(check),
            Item::Moved(moved) => {
                self.check_address(&moved.from, false);
                self.check_address(&moved.to, true);
            }
            Item::Import(import) => {
                self.check_address(&import.to, true);
                let ty = self.expr(&import.id);
                self.expect_type(&import.id, &ty, &Type::String);
            }
            Item::Forget(forget) => self.check_address(&forget.address, false),
            Item::State(state) => self.check_free_body(&state.body, &[]),
            // Checked once per module, in `plugin.rs`: its body names nothing.
            Item::Plugin(_) => {}
        }
    }

    fn check_input(&mut self, input: &Input) {
        if let Some(ty) = &input.ty {
            self.check_type_defaults(ty);
        }
        if let Some(default) = &input.default {
            let declared_at = input.ty.as_ref().map_or(input.name.span, |t| t.span);
            let declared = input.ty.as_ref().map_or(Type::Any, lower_type);
            self.check_default(&input.name, default, declared_at, &declared);
        }
        if let Some(body) = &input.body {
            self.check_meta_body(
                body,
                &[("description", Type::String), ("sensitive", Type::Bool), ("nullable", Type::Bool)],
                true,
            );
        }
    }

    /// The defaults in `optional(T, default)` fields are expressions: resolve and type them.
    fn check_type_defaults(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::List(t) | TypeExprKind::Set(t) | TypeExprKind::Map(t) => self.check_type_defaults(t),
            TypeExprKind::Tuple(items) => items.iter().for_each(|t| self.check_type_defaults(t)),
            TypeExprKind::Object(fields) => {
                for field in fields {
                    self.check_type_defaults(&field.ty);
                    if let Some(default) = &field.default {
                        self.check_default(&field.name, default, field.ty.span, &lower_type(&field.ty));
                    }
                }
            }
            _ => {}
        }
    }

    /// A default value (of an input or an `optional` field) against its declared type.
    fn check_default(&mut self, name: &Ident, default: &Expr, declared_at: Span, declared: &Type) {
        let actual = self.expr(default);
        if !actual.fits(declared) {
            self.error(
                Diagnostic::error(
                    codes::INVALID_DEFAULT,
                    format!("the default of `{}` does not match its type", name.name),
                )
                .with_label(default.span, format!("this is a `{actual}`"))
                .with_secondary(declared_at, format!("`{}` is declared `{declared}`", name.name))
                .with_help("change the default or the declared type"),
            );
        }
    }

    fn check_fn(&mut self, decl: &FnDecl) {
        for ty in decl.params.iter().map(|p| &p.ty).chain(decl.return_type.as_ref()) {
            self.check_type_defaults(ty);
        }
        self.in_fn = Some(decl.name.name.to_string());
        let mark = self.locals.len();
        // A function body sees only its parameters, so a parameter named like a module
        // declaration hides nothing: bind without the shadowing warning.
        for param in &decl.params {
            let ty = lower_type(&param.ty);
            self.tables.for_types.insert(param.name.span, ty.clone());
            self.locals.push(super::Local { name: param.name.name.to_string(), ty });
        }
        let ty = self.expr(&decl.body);
        self.locals.truncate(mark);
        self.in_fn = None;
        if let Some(ret) = &decl.return_type {
            let declared = lower_type(ret);
            if !ty.fits(&declared) {
                self.error(
                    Diagnostic::error(
                        codes::INVALID_RETURN,
                        format!("the body of `{}` does not match its return type", decl.name.name),
                    )
                    .with_label(decl.body.span, format!("this is a `{ty}`"))
                    .with_secondary(ret.span, format!("declared to return `{declared}`"))
                    .with_help("change the body or the declared return type"),
                );
            }
        }
    }

    fn check_provider(&mut self, provider: &Provider) {
        let mark = self.bind_repeat(provider.repeat.as_ref());
        match self.schemas.provider(&provider.provider.name).map(|p| p.config.clone()) {
            Some(schema) => {
                let what = format!("provider `{}`", provider.provider.name);
                self.check_schema_body(&provider.body, &schema, &what, provider.provider.span, &[]);
            }
            None => {
                self.unknown_provider(&provider.provider);
                self.check_free_body(&provider.body, &[]);
            }
        }
        self.locals.truncate(mark);
    }

    pub(super) fn unknown_provider(&mut self, name: &Ident) {
        if let Some(declared) = self.declared_plugin(&name.name) {
            self.error(super::plugin::not_installed(name, declared));
            return;
        }
        let names = self.schemas.provider_names();
        let help = suggest(&name.name, names.iter().copied())
            .unwrap_or_else(|| format!("the available providers are {}", list(&names)));
        self.error(
            Diagnostic::error(codes::UNKNOWN_PROVIDER, format!("unknown provider `{}`", name.name))
                .with_label(name.span, "no such provider")
                .with_help(help),
        );
    }

    /// The schema of a resource or data source kind. Reports unknown providers and kinds
    /// when `report` is set.
    pub(super) fn resource_schema(&mut self, resource: &Resource, report: bool) -> Option<&'a Schema> {
        let ty = &resource.ty;
        let schemas = self.schemas;
        let Some(provider) = schemas.provider(&ty.provider.name) else {
            if report {
                self.unknown_provider(&ty.provider);
            }
            return None;
        };
        let kinds = match resource.mode {
            ResourceMode::Managed => &provider.resources,
            ResourceMode::Data => &provider.data_sources,
        };
        if let Some(schema) = kinds.get(ty.kind.name.as_str()) {
            return Some(schema);
        }
        if report {
            let names: Vec<String> = kinds.keys().map(|k| format!("{}.{k}", ty.provider.name)).collect();
            let written = format!("{}.{}", ty.provider.name, ty.kind.name);
            let what = if resource.mode == ResourceMode::Data { "data source" } else { "resource type" };
            let help = suggest(&written, names.iter().map(String::as_str)).unwrap_or_else(|| {
                if names.is_empty() {
                    format!("provider `{}` has no {what}s", ty.provider.name)
                } else {
                    format!("`{}` has {}", ty.provider.name, list(&names))
                }
            });
            self.error(
                Diagnostic::error(codes::UNKNOWN_RESOURCE_TYPE, format!("unknown {what} `{written}`"))
                    .with_label(ty.span, format!("`{}` has no such {what}", ty.provider.name))
                    .with_help(help),
            );
        }
        None
    }

    fn check_resource(&mut self, resource: &Resource) {
        let mark = self.bind_repeat(resource.repeat.as_ref());
        let schema = self.resource_schema(resource, true);
        let provider_name = resource.ty.provider.name.clone();
        if resource.body.attribute("provider").is_none() && self.module.providers.contains_key(provider_name.as_str()) {
            self.reference(Target::Provider(provider_name), resource.ty.span);
        }
        let mut meta = vec!["depends_on", "provider", "precondition"];
        if resource.mode == ResourceMode::Managed {
            meta.push("lifecycle");
        }
        let what = format!("`{}.{}`", resource.ty.provider.name, resource.ty.kind.name);
        self.in_resource = resource.mode == ResourceMode::Managed;
        match schema {
            Some(schema) => self.check_schema_body(&resource.body, schema, &what, resource.name.span, &meta),
            None => self.check_free_body(&resource.body, &meta),
        }
        self.in_resource = false;
        self.locals.truncate(mark);
    }

    fn check_module_call(&mut self, call: &ModuleCall) {
        let mark = self.bind_repeat(call.repeat.as_ref());
        let Some(&child_index) = self.module.calls.get(call.name.name.as_str()) else {
            self.check_free_body(&call.body, &["depends_on", "providers"]);
            self.locals.truncate(mark);
            return;
        };
        let child = &self.modules[child_index];
        let mut inputs: Vec<(String, Type, bool)> = Vec::new();
        for (name, decl) in &child.decls {
            if let Item::Input(input) = child.item(decl.item) {
                let ty = input.ty.as_ref().map_or(Type::Any, lower_type);
                inputs.push((name.to_string(), ty, input.default.is_none()));
            }
        }
        self.check_module_inputs(call, &inputs);
        self.locals.truncate(mark);
    }

    fn check_module_inputs(&mut self, call: &ModuleCall, inputs: &[(String, Type, bool)]) {
        let mut set = Vec::new();
        for entry in &call.body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    let name = attribute.name.name.as_str();
                    set.push(name.to_string());
                    match name {
                        "depends_on" => self.check_depends_on(&attribute.value),
                        "providers" => self.check_providers_map(&attribute.value),
                        _ => self.check_module_input(call, attribute, inputs),
                    }
                }
                other => {
                    let mut allowed: Vec<&str> = inputs.iter().map(|(n, _, _)| n.as_str()).collect();
                    allowed.extend(["depends_on", "providers"]);
                    self.not_allowed(other, "in a module call", &allowed);
                }
            }
        }
        let missing: Vec<&str> = inputs
            .iter()
            .filter(|(n, _, required)| *required && !set.contains(n))
            .map(|(n, _, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
            self.error(
                Diagnostic::error(
                    codes::MISSING_MODULE_INPUT,
                    format!(
                        "module `{}` is missing required input{} {}",
                        call.name.name,
                        plural(names.len()),
                        names.join(", ")
                    ),
                )
                .with_label(call.name.span, "called here")
                .with_help(format!(
                    "set {} in the module body, or give the input a default in the module",
                    missing.iter().map(|n| format!("`{n} = ...`")).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }

    fn check_module_input(&mut self, call: &ModuleCall, attribute: &Attribute, inputs: &[(String, Type, bool)]) {
        let ty = self.expr(&attribute.value);
        let name = &attribute.name.name;
        match inputs.iter().find(|(n, _, _)| n == name) {
            Some((_, declared, _)) => self.expect_type(&attribute.value, &ty, declared),
            None => {
                let help = suggest(name, inputs.iter().map(|(n, _, _)| n.as_str())).unwrap_or_else(|| {
                    format!(
                        "the module's inputs are {}",
                        list(&inputs.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>())
                    )
                });
                self.error(
                    Diagnostic::error(
                        codes::UNKNOWN_MODULE_INPUT,
                        format!("module `{}` has no input `{name}`", call.name.name),
                    )
                    .with_label(attribute.name.span, "unknown input")
                    .with_help(help),
                );
            }
        }
    }

    /// `providers = { aws = west }`: values name provider configurations.
    pub(super) fn check_providers_map(&mut self, value: &Expr) {
        let ExprKind::Object(items) = &value.kind else {
            self.error(
                Diagnostic::error(codes::TYPE_MISMATCH, "`providers` must be an object")
                    .with_label(value.span, "expected `{ aws = west }`")
                    .with_help("map each provider the module uses to a configuration of this module"),
            );
            return;
        };
        for item in items {
            self.check_provider_ref(&item.value, None);
        }
    }

    fn check_output(&mut self, output: &Output) {
        let ty = self.expr(&output.value);
        self.tables.output_types.entry(output.name.name.to_string()).or_insert(ty);
        if let Some(body) = &output.body {
            let allowed = [("description", Type::String), ("sensitive", Type::Bool), ("depends_on", Type::Any)];
            self.check_meta_body(body, &allowed, false);
        }
    }

    pub(super) fn check_check(&mut self, check: &Check) {
        let ty = self.expr(&check.condition);
        self.expect_condition(&check.condition, &ty);
        let ty = self.expr(&check.message);
        self.expect_type(&check.message, &ty, &Type::String);
    }

    /// A body of plain settings such as an input's `description`, with `check`s when
    /// `checks` is set.
    fn check_meta_body(&mut self, body: &Body, allowed: &[(&str, Type)], checks: bool) {
        let mut seen = Vec::new();
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    self.check_duplicate(&mut seen, &attribute.name);
                    let allowed_here = allowed.iter().find(|(n, _)| *n == attribute.name.name);
                    if allowed_here.is_some() && attribute.name.name == "depends_on" {
                        self.check_depends_on(&attribute.value);
                        continue;
                    }
                    let ty = self.expr(&attribute.value);
                    match allowed_here {
                        Some((_, expected)) => self.expect_type(&attribute.value, &ty, expected),
                        None => {
                            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                            self.not_allowed(entry, "here", &names);
                        }
                    }
                }
                BodyItem::Check(check) if checks && check.kind == CheckKind::Check => self.check_check(check),
                other => {
                    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                    self.not_allowed(other, "here", &names);
                }
            }
        }
    }

    pub(super) fn not_allowed(&mut self, entry: &BodyItem, place: &str, allowed: &[&str]) {
        let (what, span) = match entry {
            BodyItem::Attribute(a) => (format!("`{}`", a.name.name), a.name.span),
            BodyItem::Block(b) => (format!("block `{}`", b.name.name), b.name.span),
            BodyItem::Check(c) => (format!("`{}`", c.kind.keyword()), c.span),
            BodyItem::Placeholder(span) => {
                self.error(
                    Diagnostic::error(codes::INVALID_ITEM_BODY, "placeholder `...` in a body")
                        .with_label(*span, "elided here")
                        .with_help("`...` marks an unfinished sketch; replace it with the real attributes"),
                );
                return;
            }
        };
        let mut diagnostic = Diagnostic::error(codes::INVALID_ITEM_BODY, format!("{what} is not allowed {place}"))
            .with_label(span, "not allowed here");
        if !allowed.is_empty() {
            let names: Vec<String> = allowed.iter().map(|n| n.to_string()).collect();
            diagnostic = diagnostic.with_help(format!("allowed here: {}", list(&names)));
        }
        self.error(diagnostic);
    }

    /// `moved` and `import` addresses. `must_exist`: the first step names a resource or
    /// module declared in this module.
    fn check_address(&mut self, address: &Address, must_exist: bool) {
        for step in &address.steps {
            if let Some(key) = &step.key {
                self.expr(key);
            }
        }
        let Some(first) = address.steps.first() else { return };
        let decl = self.module.decl(&first.name.name).copied();
        let valid = match decl {
            Some(decl) => matches!(decl.kind, DeclKind::Resource | DeclKind::Module),
            None => !must_exist,
        };
        if !valid {
            let candidates: Vec<&str> = self
                .module
                .decls
                .iter()
                .filter(|(_, d)| matches!(d.kind, DeclKind::Resource | DeclKind::Module))
                .map(|(n, _)| n.as_str())
                .collect();
            let help = suggest(&first.name.name, candidates.iter().copied())
                .unwrap_or_else(|| "an address names a managed resource or a module call of this module".to_string());
            self.error(
                Diagnostic::error(
                    codes::INVALID_ADDRESS,
                    format!("`{}` is not a resource or module of this module", first.name.name),
                )
                .with_label(first.name.span, "not a resource or module")
                .with_help(help),
            );
        }
    }

    pub(super) fn check_duplicate(&mut self, seen: &mut Vec<Ident>, name: &Ident) {
        if let Some(previous) = seen.iter().find(|i| i.name == name.name) {
            let previous = previous.span;
            self.error(
                Diagnostic::error(codes::DUPLICATE_ATTRIBUTE, format!("`{}` is set twice", name.name))
                    .with_label(name.span, "set again here")
                    .with_secondary(previous, "first set here")
                    .with_help("remove one of them"),
            );
        } else {
            seen.push(name.clone());
        }
    }
}

/// "`a`, `b` and `c`"
pub(super) fn list(names: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.split_last() {
        None => "none".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
