//! Hover and signature help.

use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{AttributeSchema, Schema, Schemas};
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Body, BodyItem, CheckKind, Expr, ExprKind, Ident, Item, Resource, ResourceMode};
use infra_compiler::syntax::walk::{self, Visitor};
use std::path::Path;

use crate::complete::Members;

use crate::index::Symbol;
use crate::line_index::{Position, Range};
use crate::text;
use crate::workspace::{DocumentRef, Snapshot, Workspace};
use crate::Result;

/// What is under the cursor, as markdown, and the range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub range: Option<Range>,
}

/// The signature of the function whose arguments the cursor is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHelp {
    pub label: String,
    /// Each parameter as `name: type`.
    pub parameters: Vec<String>,
    pub documentation: String,
    /// The parameter the cursor is at (the variadic one for every argument past it).
    pub active_parameter: usize,
}

/// The function reference pages, searched for a function's section.
const FUNCTION_DOCS: &[&str] = &[
    include_str!("../../docs/functions/collections.md"),
    include_str!("../../docs/functions/encoding.md"),
    include_str!("../../docs/functions/files.md"),
    include_str!("../../docs/functions/hashing.md"),
    include_str!("../../docs/functions/network.md"),
    include_str!("../../docs/functions/numbers.md"),
    include_str!("../../docs/functions/strings.md"),
];

pub fn hover(workspace: &mut Workspace, path: &Path, position: Position) -> Result<Option<Hover>> {
    let located = workspace.locate(path, position)?;
    let document = &located.document;
    let snapshot = &document.snapshot;
    let module = document.module();
    let offset = located.offset;
    let span_at = |span: Span| document.holds(span, offset);
    let mut markdown = None;
    let mut range_span = None;
    if let Some(occurrence) =
        snapshot.indexes().get(module).and_then(|i| i.occurrences.iter().find(|o| span_at(o.span)))
    {
        markdown = describe_symbol(snapshot, &occurrence.symbol);
        range_span = Some(occurrence.span);
    }
    if markdown.is_none() {
        let modules = &snapshot.analysis.modules;
        for (_, item) in modules[module].items().filter(|(_, item)| span_at(item.span())) {
            if let Some((span, text)) = describe_in_item(item, &span_at) {
                markdown = Some(text);
                range_span = Some(span);
            }
        }
    }
    if markdown.is_none() {
        if let Some((span, text)) = describe_member(document, offset) {
            markdown = Some(text);
            range_span = Some(span);
        }
    }
    if markdown.is_none() {
        if let Some((span, text)) =
            describe_self(document.text(), offset, &snapshot.analysis.modules[module], document.file)
        {
            markdown = Some(text);
            range_span = Some(span);
        }
    }
    let Some(markdown) = markdown else { return Ok(None) };
    let index = document.index();
    Ok(Some(Hover { markdown, range: range_span.map(|s| index.range(s.start as usize, s.end as usize)) }))
}

fn code(text: &str) -> String {
    format!("```infra\n{text}\n```")
}

/// What a name refers to, as markdown.
fn describe_symbol(snapshot: &Snapshot, symbol: &Symbol) -> Option<String> {
    let analysis = &snapshot.analysis;
    match symbol {
        Symbol::Decl { module, name } => {
            let module_ast = analysis.modules.get(*module)?;
            let decl = module_ast.decl(name)?;
            let ty = analysis.tables.modules.get(*module).and_then(|t| t.decl_types.get(name.as_str()));
            Some(describe_decl(module_ast, decl.kind, name, decl.item, ty))
        }
        Symbol::Output { module, name } => {
            let module_ast = analysis.modules.get(*module)?;
            let output = module_ast.output(name)?;
            let ty = analysis.tables.modules.get(*module).and_then(|t| t.output_types.get(name.as_str()));
            Some(describe_decl(module_ast, output.kind, name, output.item, ty.filter(|t| !t.is_any())))
        }
        Symbol::Local { def } => {
            let name = analysis.sources.get(def.file).slice(*def);
            let ty = analysis.tables.modules.iter().find_map(|t| t.for_types.get(def)).filter(|t| !t.is_any());
            let header = match ty {
                Some(ty) => format!("(local) {name}: {ty}"),
                None => format!("(local) {name}"),
            };
            Some(code(&header) + "\n\nA `for` variable or function parameter.")
        }
        Symbol::Provider { module, name } => {
            let config = analysis.modules.get(*module)?.providers.get(name)?;
            Some(code(&format!("provider {} as {name}", config.provider)) + "\n\nA provider configuration.")
        }
        Symbol::Function(name) => describe_function(name),
    }
}

fn describe_decl(
    module: &Module,
    kind: DeclKind,
    name: &str,
    item: infra_compiler::resolve::ItemId,
    ty: Option<&infra_compiler::types::Type>,
) -> String {
    let item = module.item(item);
    let header = match item {
        Item::Input(input) => match &input.ty {
            Some(t) => format!("input {name}: {}", infra_compiler::check::lower_type(t)),
            None => format!("input {name}"),
        },
        Item::Let(_) => match ty {
            Some(ty) => format!("let {name}: {ty}"),
            None => format!("let {name}"),
        },
        Item::Fn(function) => {
            let params: Vec<String> = function
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name.name, infra_compiler::check::lower_type(&p.ty)))
                .collect();
            let returns = function.return_type.as_ref().map(|t| format!(": {}", infra_compiler::check::lower_type(t)));
            format!("fn {name}({}){}", params.join(", "), returns.unwrap_or_default())
        }
        Item::Resource(resource) => {
            format!("{} {}.{} {name}", item.keyword(), resource.ty.provider.name, resource.ty.kind.name)
        }
        Item::Module(call) => format!("module {name} \"{}\"", call.source.value),
        Item::Output(_) => match ty {
            Some(ty) => format!("output {name}: {ty}"),
            None => format!("output {name}"),
        },
        _ => format!("{} {name}", kind.as_str()),
    };
    let mut text = code(&header);
    let description = match item {
        Item::Input(input) => input.body.as_ref().and_then(description_of),
        Item::Output(output) => output.body.as_ref().and_then(description_of),
        Item::Resource(resource) => resource_schema(resource).map(|s| s.description.clone()),
        _ => None,
    };
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        text.push_str(&format!("\n\n{description}"));
    }
    text
}

/// The literal `description = "..."` of a body.
fn description_of(body: &Body) -> Option<String> {
    match &body.attribute("description")?.value.kind {
        kind @ (infra_compiler::syntax::ast::ExprKind::Text(_) | infra_compiler::syntax::ast::ExprKind::Heredoc(_)) => {
            kind.as_literal()
        }
        _ => None,
    }
}

pub fn resource_schema(resource: &Resource) -> Option<&'static Schema> {
    schema_of(&resource.ty.provider.name, &resource.ty.kind.name, resource.mode)
}

/// The schema of the resource type or data source `provider.kind`, built in or a plugin's.
pub fn schema_of(provider: &str, kind: &str, mode: ResourceMode) -> Option<&'static Schema> {
    let provider =
        crate::workspace::plugin_provider(provider).or_else(|| infra_stdlib::builtin().provider(provider))?;
    match mode {
        ResourceMode::Managed => provider.resources.get(kind),
        ResourceMode::Data => provider.data_sources.get(kind),
    }
}

/// A built-in function's signature, description and reference section.
fn describe_function(name: &str) -> Option<String> {
    let signature = infra_stdlib::builtin().function(name)?;
    let mut text = code(&signature.display());
    // The reference page's section says what the one-line summary says and more: show
    // one or the other, never both.
    match function_section(name) {
        Some(section) if !section.is_empty() => text.push_str(&format!("\n\n{section}")),
        _ if !signature.description.is_empty() => text.push_str(&format!("\n\n{}", signature.description)),
        _ => {}
    }
    Some(text)
}

/// The body of a function's `## name` section in `docs/functions/`.
fn function_section(name: &str) -> Option<String> {
    for page in FUNCTION_DOCS {
        let mut lines = page.lines();
        while let Some(line) = lines.next() {
            let Some(heading) = line.strip_prefix("## ") else { continue };
            if heading.trim().trim_matches('`') != name {
                continue;
            }
            let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("## ")).collect();
            // The first paragraph repeats the signature; skip it.
            let text = body.join("\n");
            let text = text.trim();
            let text = match text.strip_prefix('`') {
                Some(_) => text.split_once("\n\n").map_or("", |(_, rest)| rest),
                None => text,
            };
            return Some(text.trim().to_string());
        }
    }
    None
}

/// Hover over something the name index does not cover: an attribute name or block in
/// a resource body (its schema), the resource type.
fn describe_in_item(item: &Item, span_at: &dyn Fn(Span) -> bool) -> Option<(Span, String)> {
    let Item::Resource(resource) = item else { return None };
    let schema = resource_schema(resource)?;
    if span_at(resource.ty.span) {
        let kind = if resource.mode == ResourceMode::Data { "data source" } else { "resource type" };
        let header = format!("{kind} {}.{}", resource.ty.provider.name, resource.ty.kind.name);
        return Some((resource.ty.span, format!("{}\n\n{}", code(&header), schema.description)));
    }
    attribute_in_body(&resource.body, schema, span_at)
}

/// The attribute or field `name` of `target.name` under the cursor: a resource's
/// attribute schema (`web.id`, `web[0].tags`), a block's description, an object
/// field's type (`settings.name`, `environments["dev"].region`).
fn describe_member(document: &DocumentRef, offset: usize) -> Option<(Span, String)> {
    let snapshot = &document.snapshot;
    let module_index = document.module();
    let module = &snapshot.analysis.modules[module_index];
    let (_, item) = module.items().find(|(_, item)| document.holds(item.span(), offset))?;
    let mut finder = FindAccess { file: document.file, offset, found: None };
    finder.visit_item(item);
    let (target, name) = finder.found?;
    let self_schema = match item {
        Item::Resource(resource) => resource_schema(resource),
        _ => None,
    };
    let text = document.text();
    let before_dot = text.get(..target.end as usize)?;
    let members = crate::complete::members(snapshot, module_index, &document.path, self_schema, before_dot, offset)?;
    let markdown = match members {
        Members::Schema(schema) => match (schema.attribute(&name.name), schema.block(&name.name)) {
            (Some(attribute), _) => describe_attribute(attribute),
            (None, Some(block)) => format!("{}\n\n{}", code(&format!("block {}", block.name)), block.description),
            (None, None) => return None,
        },
        Members::Type(infra_compiler::types::Type::Object(fields)) => {
            let field = fields.get(name.name.as_str())?;
            code(&format!("{}: {}", name.name, field.ty))
        }
        Members::Type(_) | Members::Outputs(_) => return None,
    };
    Some((name.span, markdown))
}

/// Finds the attribute access `target.name` whose name holds the offset.
struct FindAccess {
    file: infra_compiler::FileId,
    offset: usize,
    found: Option<(Span, Ident)>,
}

impl<'ast> Visitor<'ast> for FindAccess {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if let ExprKind::GetAttr { target, name } = &expr.kind {
            let span = expr.name_span();
            if span.file == self.file && span.start as usize <= self.offset && self.offset <= span.end as usize {
                self.found = Some((target.span, Ident { name: name.clone(), span }));
            }
        }
        walk::walk_expr(self, expr);
    }
}

/// `self` in a resource's `postcondition`: the instance the provider reported.
fn describe_self(text: &str, offset: usize, module: &Module, file: infra_compiler::FileId) -> Option<(Span, String)> {
    let (start, before) = text::word_before(text, offset);
    let after = text[offset..].chars().take_while(|c| text::is_ident_char(*c)).map(char::len_utf8).sum::<usize>();
    if format!("{before}{}", &text[offset..offset + after]) != "self" {
        return None;
    }
    let inside = |span: Span| span.file == file && span.start as usize <= start && start < span.end as usize;
    module.items().find_map(|(_, item)| {
        let Item::Resource(resource) = item else { return None };
        let in_postcondition = inside(resource.body.span)
            && resource.body.items.iter().any(|entry| {
                matches!(entry, BodyItem::Check(check) if check.kind == CheckKind::Postcondition && inside(check.span))
            });
        in_postcondition.then(|| {
            let ty = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
            let text = format!(
                "{}\n\nThe instance of `{}` as the provider reported it after creating or updating it: \
                 its attributes, computed ones included.",
                code(&format!("self: {ty}")),
                resource.name.name
            );
            (Span::new(file, start, start + 4), text)
        })
    })
}

fn attribute_in_body(body: &Body, schema: &Schema, span_at: &dyn Fn(Span) -> bool) -> Option<(Span, String)> {
    for item in &body.items {
        match item {
            BodyItem::Attribute(attribute) if span_at(attribute.name.span) => {
                let attr = schema.attribute(&attribute.name.name)?;
                return Some((attribute.name.span, describe_attribute(attr)));
            }
            BodyItem::Block(block) if span_at(block.span) => {
                let block_schema = schema.block(&block.name.name)?;
                if span_at(block.name.span) {
                    let text =
                        format!("{}\n\n{}", code(&format!("block {}", block.name.name)), block_schema.description);
                    return Some((block.name.span, text));
                }
                return attribute_in_body(&block.body, &block_schema.schema, span_at);
            }
            _ => {}
        }
    }
    None
}

/// An attribute's schema: type, flags and description.
fn describe_attribute(attr: &AttributeSchema) -> String {
    let mut flags = Vec::new();
    if attr.required {
        flags.push("required");
    } else if attr.settable {
        flags.push("optional");
    }
    if attr.computed {
        flags.push("computed");
    }
    if attr.force_new {
        flags.push("forces replacement");
    }
    if attr.sensitive {
        flags.push("sensitive");
    }
    format!("{}\n\n*{}*\n\n{}", code(&format!("{}: {}", attr.name, attr.ty)), flags.join(", "), attr.description)
}

pub fn signature_help(workspace: &mut Workspace, path: &Path, position: Position) -> Result<Option<SignatureHelp>> {
    let located = workspace.locate(path, position)?;
    let document = &located.document;
    let context = text::context(document.text(), located.offset);
    let Some((name, argument)) = context.open_calls.last() else { return Ok(None) };
    let module = &document.snapshot.analysis.modules[document.module()];
    let (label, parameters, documentation) = if let Some(signature) = infra_stdlib::builtin().function(name) {
        let mut parameters: Vec<String> = signature.params.iter().map(|p| format!("{}: {}", p.name, p.ty)).collect();
        if let Some(v) = &signature.variadic {
            parameters.push(format!("{}...: {}", v.name, v.ty));
        }
        (signature.display(), parameters, signature.description.clone())
    } else if let Some(Item::Fn(function)) =
        module.decl(name).filter(|d| d.kind == DeclKind::Fn).map(|d| module.item(d.item))
    {
        let parameters: Vec<String> = function
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name.name, infra_compiler::check::lower_type(&p.ty)))
            .collect();
        (format!("{name}({})", parameters.join(", ")), parameters, String::new())
    } else {
        return Ok(None);
    };
    let variadic = infra_stdlib::builtin().function(name).is_some_and(|s| s.variadic.is_some());
    let active = if variadic { (*argument).min(parameters.len().saturating_sub(1)) } else { *argument };
    Ok(Some(SignatureHelp { label, parameters, documentation, active_parameter: active }))
}
