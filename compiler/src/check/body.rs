//! Checking bodies against schemas, meta-arguments (`depends_on`, `provider`,
//! `lifecycle`) and repetition clauses.

use super::items::{list, plural};
use super::{Checker, Local, Reference, Target};
use crate::diagnostic::{codes, suggest, Diagnostic};
use crate::resolve::DeclKind;
use crate::schema::Schema;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::types::Type;

const LIFECYCLE: &[&str] = &["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_when"];

impl Checker<'_> {
    pub(super) fn reference(&mut self, target: Target, span: Span) {
        self.tables.references.push(Reference { from: self.current, target, span });
    }

    pub(super) fn bind(&mut self, name: &Ident, ty: Type) {
        if self.module.decl(&name.name).is_some() && !name.name.starts_with('_') {
            self.error(
                Diagnostic::warning(codes::SHADOWED, format!("`{}` shadows a declaration of this module", name.name))
                    .with_label(name.span, "this binding hides it")
                    .with_help("rename the binding so the declaration stays reachable"),
            );
        }
        self.tables.for_types.insert(name.span, ty.clone());
        self.locals.push(Local { name: name.name.to_string(), ty });
    }

    /// Binds the variables of a `for` clause (checking `key`) and returns the scope mark
    /// to truncate to afterwards.
    pub(super) fn bind_repeat(&mut self, repeat: Option<&Repeat>) -> usize {
        let mark = self.locals.len();
        match repeat {
            Some(Repeat::For(clause)) => {
                let collection = self.expr(&clause.collection);
                let (key_ty, value_ty) = self.iteration_types(&clause.collection, &collection);
                self.tables.for_types.insert(clause.collection.span, collection.clone());
                if let Some(key_var) = &clause.key_var {
                    self.bind(key_var, key_ty);
                }
                self.bind(&clause.value_var, value_ty);
                if let Some(key) = &clause.key {
                    let ty = self.expr(key);
                    self.expect_type(key, &ty, &Type::String);
                }
            }
            Some(Repeat::If { condition, .. }) => {
                let ty = self.expr(condition);
                self.expect_condition(condition, &ty);
            }
            None => {}
        }
        mark
    }

    /// The key and value types when iterating over `ty`; reports non-collections.
    pub(super) fn iteration_types(&mut self, expr: &Expr, ty: &Type) -> (Type, Type) {
        match ty {
            Type::List(_) | Type::Set(_) | Type::Tuple(_) => (Type::Number, ty.element().unwrap_or(Type::Any)),
            Type::Map(_) | Type::Object(_) => (Type::String, ty.element().unwrap_or(Type::Any)),
            Type::Any | Type::Null => (Type::Any, Type::Any),
            other => {
                self.error(
                    Diagnostic::error(codes::TYPE_MISMATCH, format!("cannot iterate over a `{other}`"))
                        .with_label(expr.span, format!("this is a `{other}`"))
                        .with_help("`for` takes a list, set, map or object; use `range(n)` to repeat n times"),
                );
                (Type::Any, Type::Any)
            }
        }
    }

    /// The type of a declaration with a repetition clause: instances keyed by number
    /// form a list, instances keyed by string a map, and `if` gives the instance itself
    /// (null when the condition is false).
    pub(super) fn repeated_type(&mut self, repeat: Option<&Repeat>, instance: Type) -> Type {
        match repeat {
            None | Some(Repeat::If { .. }) => instance,
            Some(Repeat::For(clause)) if clause.key.is_some() => Type::map(instance),
            Some(Repeat::For(clause)) => {
                // Instances are keyed by index only when the collection is a list, set
                // or tuple of something other than strings. When the element type is
                // not known, a map is the permissive choice: it is indexed by strings,
                // and numbers convert to strings.
                let collection = self.expr(&clause.collection);
                match collection {
                    Type::List(_) | Type::Set(_) | Type::Tuple(_) => match collection.element() {
                        Some(Type::String | Type::Any) | None => Type::map(instance),
                        Some(_) => Type::list(instance),
                    },
                    _ => Type::map(instance),
                }
            }
        }
    }

    pub(super) fn expect_type(&mut self, expr: &Expr, actual: &Type, expected: &Type) {
        if !actual.fits(expected) {
            self.error(
                Diagnostic::error(codes::TYPE_MISMATCH, format!("expected `{expected}`, found `{actual}`"))
                    .with_label(expr.span, format!("this is a `{actual}`"))
                    .with_help(conversion_help(actual, expected)),
            );
        }
    }

    pub(super) fn expect_condition(&mut self, expr: &Expr, actual: &Type) {
        if !actual.fits(&Type::Bool) {
            self.error(
                Diagnostic::error(codes::CONDITION_NOT_BOOL, format!("condition must be a `bool`, found `{actual}`"))
                    .with_label(expr.span, format!("this is a `{actual}`"))
                    .with_help("compare the value, for example `x != \"\"` or `length(x) > 0`"),
            );
        }
    }

    /// A resource, data source or provider body against its schema. `meta` lists the
    /// meta-arguments allowed besides the schema's attributes.
    pub(super) fn check_schema_body(
        &mut self,
        body: &Body,
        schema: &Schema,
        what: &str,
        name_span: Span,
        meta: &[&str],
    ) {
        let mut seen: Vec<Ident> = Vec::new();
        let mut seen_blocks: Vec<Ident> = Vec::new();
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(attribute) => {
                    self.check_duplicate(&mut seen, &attribute.name);
                    self.check_schema_attribute(attribute, schema, what, meta);
                }
                BodyItem::Block(block) => {
                    let repeated = schema.block(&block.name.name).is_some_and(|b| b.repeated);
                    if !repeated {
                        self.check_duplicate(&mut seen_blocks, &block.name);
                    }
                    self.check_schema_block(block, schema, what, meta);
                }
                BodyItem::Check(check) if check.kind != CheckKind::Check && meta.contains(&"precondition") => {
                    let mark = self.locals.len();
                    if check.kind == CheckKind::Postcondition {
                        // `self` is the instance as the provider reported it.
                        self.locals.push(Local { name: "self".to_string(), ty: Type::Any });
                    }
                    self.check_check(check);
                    self.locals.truncate(mark);
                }
                other => self.not_allowed(other, &format!("in {what}"), &[]),
            }
        }
        let missing: Vec<&str> = schema
            .attributes
            .iter()
            .filter(|a| a.required && !seen.iter().any(|s| s.name == a.name))
            .map(|a| a.name.as_str())
            .collect();
        let elided = body.items.iter().any(|i| matches!(i, BodyItem::Placeholder(_)));
        if !missing.is_empty() && !elided {
            let names = list(&missing);
            self.error(
                Diagnostic::error(
                    codes::MISSING_ATTRIBUTE,
                    format!("{what} is missing required attribute{} {names}", plural(missing.len())),
                )
                .with_label(name_span, format!("{names} must be set"))
                .with_help(format!(
                    "add {}",
                    missing.iter().map(|n| format!("`{n} = ...`")).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }

    fn check_schema_attribute(&mut self, attribute: &Attribute, schema: &Schema, what: &str, meta: &[&str]) {
        let name = attribute.name.name.as_str();
        if meta.contains(&name) {
            match name {
                "depends_on" => self.check_depends_on(&attribute.value),
                "provider" => self.check_provider_ref(&attribute.value, what.trim_matches('`').split('.').next()),
                _ => self.not_allowed(
                    &BodyItem::Attribute(attribute.clone()),
                    &format!("as an attribute in {what}"),
                    &[],
                ),
            }
            return;
        }
        let ty = self.expr(&attribute.value);
        let Some(attr_schema) = schema.attribute(name) else {
            if let Some(diagnostic) = crate::habits::meta_argument(name, attribute.name.span) {
                self.error(diagnostic);
                return;
            }
            let candidates: Vec<&str> = schema
                .attributes
                .iter()
                .filter(|a| a.settable)
                .map(|a| a.name.as_str())
                .chain(meta.iter().copied().filter(|m| *m != "lifecycle" && *m != "precondition"))
                .collect();
            let help = suggest(name, candidates.iter().copied())
                .unwrap_or_else(|| format!("{what} accepts {}", list(&candidates)));
            self.error(
                Diagnostic::error(codes::UNKNOWN_ATTRIBUTE, format!("{what} has no attribute `{name}`"))
                    .with_label(attribute.name.span, "unknown attribute")
                    .with_help(help),
            );
            return;
        };
        if !attr_schema.settable {
            self.error(
                Diagnostic::error(codes::COMPUTED_ATTRIBUTE, format!("`{name}` of {what} is computed by the provider"))
                    .with_label(attribute.name.span, "cannot be set")
                    .with_help(format!("remove it; read it after apply as `<name>.{name}`")),
            );
            return;
        }
        if let Some(note) = &attr_schema.deprecated {
            let help = match note.trim() {
                "" => "the provider may remove it in a later version; see its documentation for what replaces it",
                note => note,
            };
            self.error(
                Diagnostic::warning(codes::DEPRECATED, format!("`{name}` of {what} is deprecated"))
                    .with_label(attribute.name.span, "deprecated")
                    .with_help(help.to_string()),
            );
        }
        let expected = attr_schema.ty.clone();
        self.expect_type(&attribute.value, &ty, &expected);
        self.validate_literals(&attribute.value, attr_schema);
    }

    fn check_schema_block(&mut self, block: &Block, schema: &Schema, what: &str, meta: &[&str]) {
        let name = block.name.name.as_str();
        if name == "lifecycle" && meta.contains(&"lifecycle") {
            self.check_lifecycle(block, Some(schema));
            return;
        }
        let Some(block_schema) = schema.block(name).cloned() else {
            let candidates: Vec<&str> = schema
                .blocks
                .iter()
                .map(|b| b.name.as_str())
                .chain(meta.iter().copied().filter(|m| *m == "lifecycle"))
                .collect();
            let help = suggest(name, candidates.iter().copied()).unwrap_or_else(|| {
                if name == "lifecycle" {
                    format!("only managed resources have a `lifecycle`; {what} is read, never created or destroyed")
                } else if candidates.is_empty() {
                    format!("{what} takes no nested blocks; if `{name}` is an attribute, write `{name} = {{ ... }}`")
                } else {
                    format!("{what} takes the blocks {}", list(&candidates))
                }
            });
            self.error(
                Diagnostic::error(codes::UNKNOWN_BLOCK, format!("{what} has no block `{name}`"))
                    .with_label(block.name.span, "unknown block")
                    .with_help(help),
            );
            self.check_free_body(&block.body, &[]);
            return;
        };
        if block.repeat.is_some() && !block_schema.repeated {
            self.error(
                Diagnostic::error(codes::INVALID_ITEM_BODY, format!("block `{name}` cannot be repeated"))
                    .with_label(block.repeat.as_ref().map_or(block.name.span, Repeat::span), "repetition not allowed")
                    .with_help(format!("{what} takes at most one `{name}` block")),
            );
        }
        let mark = self.bind_repeat(block.repeat.as_ref());
        let block_what = format!("block `{name}`");
        self.check_schema_body(&block.body, &block_schema.schema, &block_what, block.name.span, &[]);
        self.locals.truncate(mark);
    }

    /// A `lifecycle` block; `schema` is the resource's, when its kind is known.
    fn check_lifecycle(&mut self, block: &Block, schema: Option<&Schema>) {
        if let Some(repeat) = &block.repeat {
            self.error(
                Diagnostic::error(codes::INVALID_ITEM_BODY, "`lifecycle` cannot be repeated")
                    .with_label(repeat.span(), "repetition not allowed")
                    .with_help("write a single `lifecycle { ... }` block"),
            );
        }
        let mut seen = Vec::new();
        for entry in &block.body.items {
            let BodyItem::Attribute(attribute) = entry else {
                self.not_allowed(entry, "in `lifecycle`", LIFECYCLE);
                continue;
            };
            self.check_duplicate(&mut seen, &attribute.name);
            let name = attribute.name.name.as_str();
            match name {
                "create_before_destroy" | "prevent_destroy" => {
                    let ty = self.expr(&attribute.value);
                    self.expect_type(&attribute.value, &ty, &Type::Bool);
                }
                // Attribute paths and trigger values: checked as expressions over the
                // resource's own attributes when the engine evaluates them.
                "ignore_changes" | "replace_when" => {
                    self.check_lifecycle_list(&attribute.value);
                    if let (Some(schema), "ignore_changes") = (schema, name) {
                        self.check_ignored_paths(&attribute.value, schema);
                    }
                }
                _ => {
                    let help = suggest(name, LIFECYCLE.iter().copied())
                        .unwrap_or_else(|| format!("`lifecycle` accepts {}", list(LIFECYCLE)));
                    self.error(
                        Diagnostic::error(codes::UNKNOWN_ATTRIBUTE, format!("`lifecycle` has no setting `{name}`"))
                            .with_label(attribute.name.span, "unknown setting")
                            .with_help(help),
                    );
                }
            }
        }
    }

    /// `ignore_changes = [tags]` names attributes of the resource itself, or `all`;
    /// `replace_when = [a.id]` lists values. Bare names are attribute paths, not references.
    fn check_lifecycle_list(&mut self, value: &Expr) {
        match &value.kind {
            ExprKind::List(items) => {
                for item in items {
                    if !self.is_attribute_path(item) {
                        self.expr(item);
                    }
                }
            }
            ExprKind::Name(name) if name.as_str() == "all" => {}
            _ => {
                self.expr(value);
            }
        }
    }

    /// `ignore_changes = [contnet]`: each path written as a bare name must start at an
    /// attribute or block of the resource, or it ignores nothing (Terraform says
    /// "Unsupported attribute" too). A name the module declares is read as that value
    /// (`let input = "triggers"` makes `[input]` ignore `triggers`): when the resource
    /// also has an attribute of that name, a warning says which one is meant.
    fn check_ignored_paths(&mut self, value: &Expr, schema: &Schema) {
        let ExprKind::List(items) = &value.kind else { return };
        let known = |name: &str| schema.attribute(name).is_some() || schema.block(name).is_some();
        for item in items {
            let mut root = item;
            while let ExprKind::GetAttr { target, .. } | ExprKind::Index { target, .. } = &root.kind {
                root = target;
            }
            let ExprKind::Name(name) = &root.kind else { continue };
            if self.is_attribute_path(item) {
                if !known(name) {
                    let names = schema
                        .attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .chain(schema.blocks.iter().map(|b| b.name.as_str()));
                    let help = suggest(name, names)
                        .unwrap_or_else(|| "name an attribute or block of this resource, or `all`".to_string());
                    self.error(
                        Diagnostic::error(
                            codes::UNKNOWN_ATTRIBUTE,
                            format!("`ignore_changes` names `{name}`, which this resource does not have"),
                        )
                        .with_label(root.span, "no such attribute")
                        .with_help(help),
                    );
                }
            } else if known(name) {
                self.error(
                    Diagnostic::warning(
                        codes::SHADOWED,
                        format!(
                            "`{name}` in `ignore_changes` is the value of the module's `{name}`, not the attribute"
                        ),
                    )
                    .with_label(root.span, "read as a value")
                    .with_help(format!("to ignore the attribute `{name}`, write it as a string: `\"{name}\"`")),
                );
            }
        }
    }

    /// A path rooted at a name that is not declared in the module: an attribute of the
    /// resource itself, such as `tags` or `tags.Name`.
    fn is_attribute_path(&self, expr: &Expr) -> bool {
        match &expr.kind {
            ExprKind::Name(name) => self.module.decl(name).is_none() && self.lookup_local(name).is_none(),
            ExprKind::GetAttr { target, .. } | ExprKind::Index { target, .. } => self.is_attribute_path(target),
            _ => false,
        }
    }

    /// `depends_on = [a, b]`: each entry names a resource, data source or module.
    pub(super) fn check_depends_on(&mut self, value: &Expr) {
        let ExprKind::List(items) = &value.kind else {
            self.error(
                Diagnostic::error(codes::INVALID_ADDRESS, "`depends_on` must be a list")
                    .with_label(value.span, "expected a list such as `[web, db]`")
                    .with_help("list the resources, data sources or modules this one must follow"),
            );
            return;
        };
        for item in items {
            let root = root_name(item);
            let decl = root.as_ref().and_then(|n| self.module.decl(&n.name).copied());
            match (root, decl) {
                (Some(name), Some(decl))
                    if matches!(decl.kind, DeclKind::Resource | DeclKind::Data | DeclKind::Module) =>
                {
                    self.mark_used(&name.name);
                    self.reference(Target::Decl(name.name.clone()), name.span);
                }
                (Some(name), None) => self.undefined(&name),
                _ => self.error(
                    Diagnostic::error(
                        codes::INVALID_ADDRESS,
                        "`depends_on` entries must name a resource, data source or module",
                    )
                    .with_label(item.span, "not a resource, data source or module")
                    .with_help("write the bare name, such as `depends_on = [web]`"),
                ),
            }
        }
    }

    /// `provider = west` or `provider = regional["eu-west-1"]`.
    pub(super) fn check_provider_ref(&mut self, value: &Expr, provider_type: Option<&str>) {
        let (name, key) = match &value.kind {
            ExprKind::Name(name) => (Ident { name: name.clone(), span: value.span }, None),
            ExprKind::Index { target, index } => match &target.kind {
                ExprKind::Name(name) => (Ident { name: name.clone(), span: target.span }, Some(index)),
                _ => return self.bad_provider_ref(value),
            },
            _ => return self.bad_provider_ref(value),
        };
        if let Some(key) = key {
            self.expr(key);
        }
        let Some(config) = self.module.providers.get(name.name.as_str()).cloned() else {
            let names: Vec<&str> = self.module.providers.keys().map(|k| k.as_str()).collect();
            let help = suggest(&name.name, names.iter().copied()).unwrap_or_else(|| {
                format!("declare it with `provider {} as {} {{ ... }}`", provider_type.unwrap_or("TYPE"), name.name)
            });
            self.error(
                Diagnostic::error(
                    codes::UNKNOWN_PROVIDER_CONFIG,
                    format!("unknown provider configuration `{}`", name.name),
                )
                .with_label(name.span, "no such provider configuration")
                .with_help(help),
            );
            return;
        };
        if let Some(expected) = provider_type {
            if config.provider != expected {
                self.error(
                    Diagnostic::error(
                        codes::UNKNOWN_PROVIDER_CONFIG,
                        format!("`{}` configures provider `{}`, not `{expected}`", name.name, config.provider),
                    )
                    .with_label(name.span, "wrong provider")
                    .with_secondary(config.name_span, "declared here")
                    .with_help(format!("pick a configuration of provider `{expected}`")),
                );
            }
        }
        if config.repeated != key.is_some() {
            let help = if config.repeated {
                format!("`{0}` is repeated; pick one instance, such as `{0}[key]`", name.name)
            } else {
                format!("`{}` is not repeated; remove the index", name.name)
            };
            self.error(
                Diagnostic::error(
                    codes::UNKNOWN_PROVIDER_CONFIG,
                    format!("wrong use of provider configuration `{}`", name.name),
                )
                .with_label(value.span, "here")
                .with_help(help),
            );
        }
        self.reference(Target::Provider(name.name.clone()), name.span);
    }

    fn bad_provider_ref(&mut self, value: &Expr) {
        self.error(
            Diagnostic::error(codes::UNKNOWN_PROVIDER_CONFIG, "`provider` must name a provider configuration")
                .with_label(value.span, "expected a name such as `west`")
                .with_help("write `provider = ALIAS` where `provider TYPE as ALIAS { ... }` is declared"),
        );
    }

    /// A body with no schema to check against (unknown provider, backend settings):
    /// every expression is still resolved and typed.
    pub(super) fn check_free_body(&mut self, body: &Body, meta: &[&str]) {
        for entry in &body.items {
            match entry {
                BodyItem::Attribute(a) if a.name.name == "depends_on" && meta.contains(&"depends_on") => {
                    self.check_depends_on(&a.value);
                }
                BodyItem::Attribute(a) if a.name.name == "providers" && meta.contains(&"providers") => {
                    self.check_providers_map(&a.value);
                }
                BodyItem::Attribute(a) if a.name.name == "provider" && meta.contains(&"provider") => {
                    self.check_provider_ref(&a.value, None);
                }
                BodyItem::Attribute(a) => {
                    self.expr(&a.value);
                }
                BodyItem::Block(b) if b.name.name == "lifecycle" && meta.contains(&"lifecycle") => {
                    self.check_lifecycle(b, None)
                }
                BodyItem::Block(b) => {
                    let mark = self.bind_repeat(b.repeat.as_ref());
                    self.check_free_body(&b.body, &[]);
                    self.locals.truncate(mark);
                }
                BodyItem::Check(c) => self.check_check(c),
                BodyItem::Placeholder(_) => self.not_allowed(entry, "", &[]),
            }
        }
    }
}

/// The name an address-like expression starts with: `web` in `web[0].id`.
fn root_name(expr: &Expr) -> Option<Ident> {
    match &expr.kind {
        ExprKind::Name(name) => Some(Ident { name: name.clone(), span: expr.span }),
        ExprKind::Index { target, .. } | ExprKind::GetAttr { target, .. } => root_name(target),
        _ => None,
    }
}

fn conversion_help(actual: &Type, expected: &Type) -> String {
    match (actual, expected) {
        (Type::String, Type::Number) => "convert it with `tonumber(...)`".to_string(),
        (Type::String, Type::Bool) => "convert it with `tobool(...)`".to_string(),
        (_, Type::String) if actual.is_collection() => {
            "join the elements with `join(\",\", ...)` or encode them with `jsonencode(...)`".to_string()
        }
        (Type::Tuple(_) | Type::List(_), Type::Map(_) | Type::Object(_)) => {
            "write an object: `{ key = value }`".to_string()
        }
        _ => format!("a `{expected}` is expected here"),
    }
}
