//! Completion. Half-typed code does not parse, so the context comes from the text
//! before the cursor (see `text::context`) and the names from the last analysis.

use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{Schema, Schemas};
use infra_compiler::types::Type;
use std::path::Path;

use crate::index::Symbol;
use crate::line_index::{Position, Range};
use crate::text::{self, Context};
use crate::workspace::{Snapshot, Workspace};
use crate::{Result, TextEdit};

/// One completion: what the editor lists, and what choosing it inserts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Plain text.
    pub documentation: Option<String>,
    /// Sorted by this rather than by the label, when given.
    pub sort_text: Option<String>,
    /// What is inserted; the label when `None`.
    pub insert: Option<Insert>,
}

/// What choosing a completion inserts.
#[derive(Clone, Debug, PartialEq)]
pub enum Insert {
    /// A snippet: `$0`, `$1`, `${1:name}` mark where the cursor goes and what to fill in.
    Snippet(String),
    /// Plain text replacing a range (the part of a `provider.kind` already typed).
    Replace(TextEdit),
}

/// What a completion names, for the editor's icon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompletionKind {
    #[default]
    Keyword,
    /// A resource type or data source.
    Class,
    /// An attribute one can read.
    Field,
    /// An attribute one can set.
    Property,
    /// A block, or a module call.
    Module,
    Variable,
    Function,
    /// A resource or data source declared in the module.
    Struct,
}

const ITEM_KEYWORDS: &[&str] = &[
    "input", "let", "fn", "provider", "resource", "data", "module", "output", "check", "moved", "import", "forget",
    "state",
];

/// What a `lifecycle` block accepts, as the checker has it.
const LIFECYCLE: &[(&str, &str)] = &[
    ("create_before_destroy", "bool"),
    ("prevent_destroy", "bool"),
    ("ignore_changes", "list of attribute names"),
    ("replace_when", "list of values"),
];

/// The completions at `position`; `None` inside a string or comment.
pub fn completion(workspace: &mut Workspace, path: &Path, position: Position) -> Result<Option<Vec<CompletionItem>>> {
    let located = workspace.locate(path, position)?;
    let document = &located.document;
    let text = document.text();
    let offset = located.offset;
    let context = text::context(text, offset);
    if context.in_string_or_comment {
        return Ok(None);
    }
    let (word_start, _) = text::word_before(text, offset);
    let line_start = text[..word_start].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..offset];
    let snapshot = &document.snapshot;
    let module = &snapshot.analysis.modules[document.module()];
    let items = if word_start == line_start && context.open_braces.is_empty() && !context.in_brackets {
        keyword_items()
    } else if let Some(token_start) = resource_type_position(line) {
        let index = document.index();
        let range = index.range(line_start + token_start, offset);
        resource_type_items(line.split_whitespace().next() == Some("data"), range)
    } else if word_start > 0 && text[..word_start].ends_with('.') {
        let mut target = target_name(&text[..word_start - 1]);
        // In a postcondition, `self` is the resource whose body it is in.
        let enclosing = context
            .open_braces
            .first()
            .filter(|h| matches!(h.first().map(String::as_str), Some("resource" | "data")))
            .and_then(|h| h.get(2));
        if let (true, Some(name)) = (target == "self", enclosing) {
            target = name;
        }
        attribute_items(snapshot, document.module(), target)
    } else if !context.open_braces.is_empty() && at_attribute_name(&text[line_start..word_start], &context) {
        body_items(module, &context, snapshot)
    } else {
        expression_items(snapshot, document.module(), document.file, offset)
    };
    Ok(Some(items))
}

fn keyword_items() -> Vec<CompletionItem> {
    ITEM_KEYWORDS
        .iter()
        .map(|k| CompletionItem { label: k.to_string(), kind: CompletionKind::Keyword, ..Default::default() })
        .collect()
}

/// After `resource ` or `data ` (and inside the type being typed): where the type token
/// starts in the line.
fn resource_type_position(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let keyword = trimmed.split_whitespace().next()?;
    if !(keyword == "resource" || keyword == "data") || line.len() != trimmed.len() {
        return None;
    }
    let rest = &trimmed[keyword.len()..];
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let token = rest.trim_start();
    if token.contains(char::is_whitespace) {
        return None;
    }
    Some(line.len() - token.len())
}

fn resource_type_items(data: bool, range: Range) -> Vec<CompletionItem> {
    let schemas = infra_stdlib::builtin();
    let mut items = Vec::new();
    for provider in schemas.provider_names() {
        let Some(schema) = schemas.provider(provider) else { continue };
        let kinds = if data { &schema.data_sources } else { &schema.resources };
        for (kind, kind_schema) in kinds {
            let label = format!("{provider}.{kind}");
            items.push(CompletionItem {
                label: label.clone(),
                kind: CompletionKind::Class,
                detail: Some(kind_schema.description.clone()),
                insert: Some(Insert::Replace(TextEdit { range, new_text: label })),
                ..Default::default()
            });
        }
    }
    items
}

/// The name an attribute access is on: `web` in `web.`, `web[0].`, `web["a"].`.
fn target_name(before_dot: &str) -> &str {
    let mut end = before_dot.len();
    if before_dot.ends_with(']') {
        let mut depth = 0;
        for (i, c) in before_dot.char_indices().rev() {
            match c {
                ']' => depth += 1,
                '[' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    text::word_before(before_dot, end).1
}

fn attribute_items(snapshot: &Snapshot, module_index: usize, target: &str) -> Vec<CompletionItem> {
    let analysis = &snapshot.analysis;
    let module = &analysis.modules[module_index];
    let Some(decl) = module.decl(target) else { return Vec::new() };
    match decl.kind {
        DeclKind::Resource | DeclKind::Data => {
            let infra_compiler::syntax::ast::Item::Resource(resource) = module.item(decl.item) else {
                return Vec::new();
            };
            let Some(schema) = crate::hover::resource_schema(resource) else { return Vec::new() };
            let mut items: Vec<CompletionItem> = schema
                .attributes
                .iter()
                .map(|a| CompletionItem {
                    label: a.name.clone(),
                    kind: CompletionKind::Field,
                    detail: Some(a.ty.to_string()),
                    documentation: Some(a.description.clone()),
                    ..Default::default()
                })
                .collect();
            items.extend(schema.blocks.iter().map(|b| CompletionItem {
                label: b.name.clone(),
                kind: CompletionKind::Field,
                ..Default::default()
            }));
            items
        }
        DeclKind::Module => {
            let Some(&child) = module.calls.get(target) else { return Vec::new() };
            analysis.modules[child]
                .decls
                .iter()
                .filter(|(_, d)| d.kind == DeclKind::Output)
                .map(|(name, _)| CompletionItem {
                    label: name.clone(),
                    kind: CompletionKind::Field,
                    detail: Some("output".to_string()),
                    ..Default::default()
                })
                .collect()
        }
        _ => {
            let ty = analysis.tables.modules.get(module_index).and_then(|t| t.decl_types.get(target));
            match ty {
                Some(Type::Object(fields)) => fields
                    .iter()
                    .map(|(name, field)| CompletionItem {
                        label: name.clone(),
                        kind: CompletionKind::Field,
                        detail: Some(field.ty.to_string()),
                        ..Default::default()
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
    }
}

/// At the start of a line inside a body (not inside brackets, before any `=`).
fn at_attribute_name(line_before_word: &str, context: &Context) -> bool {
    !context.in_brackets && line_before_word.trim().is_empty()
}

/// The schema of the body the cursor is in, from the headers of the open braces.
fn body_schema(context: &Context) -> Option<Schema> {
    let schemas = infra_stdlib::builtin();
    let (outer, nested) = context.open_braces.split_first()?;
    let keyword = outer.first()?.as_str();
    let mut schema: Schema = match keyword {
        "resource" | "data" => {
            let (provider, kind) = outer.get(1)?.split_once('.')?;
            let provider = schemas.provider(provider)?;
            let kinds = if keyword == "data" { &provider.data_sources } else { &provider.resources };
            kinds.get(kind)?.clone()
        }
        "provider" => schemas.provider(outer.get(1)?)?.config.clone(),
        _ => return None,
    };
    for header in nested {
        let name = header.first()?;
        schema = schema.block(name)?.schema.clone();
    }
    Some(schema)
}

fn body_items(module: &Module, context: &Context, snapshot: &Snapshot) -> Vec<CompletionItem> {
    if let [outer, lifecycle] = context.open_braces.as_slice() {
        if outer.first().is_some_and(|k| k == "resource") && lifecycle.first().is_some_and(|k| k == "lifecycle") {
            return lifecycle_items();
        }
    }
    let Some(schema) = body_schema(context) else {
        return module_call_items(module, context, snapshot);
    };
    let mut items = Vec::new();
    if let [outer] = context.open_braces.as_slice() {
        let keyword = outer.first().map(String::as_str);
        if keyword == Some("resource") || keyword == Some("data") {
            items.extend(meta_items(keyword == Some("resource")));
        }
    }
    for attribute in schema.attributes.iter().filter(|a| a.settable) {
        let rank = if attribute.required { 0 } else { 1 };
        items.push(CompletionItem {
            label: attribute.name.clone(),
            kind: CompletionKind::Property,
            detail: Some(format!("{}{}", attribute.ty, if attribute.required { " (required)" } else { "" })),
            documentation: Some(attribute.description.clone()),
            sort_text: Some(format!("{rank}_{}", attribute.name)),
            insert: Some(Insert::Snippet(format!("{} = $0", attribute.name))),
        });
    }
    for block in &schema.blocks {
        items.push(CompletionItem {
            label: block.name.clone(),
            kind: CompletionKind::Module,
            detail: Some("block".to_string()),
            documentation: Some(block.description.clone()),
            sort_text: Some(format!("2_{}", block.name)),
            insert: Some(Insert::Snippet(format!("{} {{\n\t$0\n}}", block.name))),
        });
    }
    items
}

/// The meta-arguments and statements of a resource or data source body, after its
/// schema's attributes.
fn meta_items(managed: bool) -> Vec<CompletionItem> {
    let snippet = |label: &str, detail: &str, insert: &str, kind| CompletionItem {
        label: label.to_string(),
        kind,
        detail: Some(detail.to_string()),
        sort_text: Some(format!("3_{label}")),
        insert: Some(Insert::Snippet(insert.to_string())),
        ..Default::default()
    };
    let mut items = vec![
        snippet("depends_on", "list of references", "depends_on = [$0]", CompletionKind::Property),
        snippet("provider", "provider configuration", "provider = $0", CompletionKind::Property),
        snippet(
            "precondition",
            "checked before the instance is created or updated",
            "precondition ${1:condition}, \"${2:message}\"",
            CompletionKind::Keyword,
        ),
        snippet(
            "postcondition",
            "checked after, with `self` the instance",
            "postcondition ${1:condition}, \"${2:message}\"",
            CompletionKind::Keyword,
        ),
    ];
    if managed {
        items.push(snippet("lifecycle", "block", "lifecycle {\n\t$0\n}", CompletionKind::Module));
    }
    items
}

fn lifecycle_items() -> Vec<CompletionItem> {
    LIFECYCLE
        .iter()
        .map(|(name, ty)| CompletionItem {
            label: name.to_string(),
            kind: CompletionKind::Property,
            detail: Some(ty.to_string()),
            insert: Some(Insert::Snippet(format!("{name} = $0"))),
            ..Default::default()
        })
        .collect()
}

/// Inside a module call's body: the called module's inputs, required ones first.
fn module_call_items(module: &Module, context: &Context, snapshot: &Snapshot) -> Vec<CompletionItem> {
    let Some(outer) = context.open_braces.first() else { return Vec::new() };
    if outer.first().map(String::as_str) != Some("module") || context.open_braces.len() != 1 {
        return Vec::new();
    }
    let Some(&child) = outer.get(1).and_then(|name| module.calls.get(name.as_str())) else { return Vec::new() };
    let child = &snapshot.analysis.modules[child];
    child
        .decls
        .iter()
        .filter(|(_, d)| d.kind == DeclKind::Input)
        .map(|(name, decl)| {
            let required =
                matches!(child.item(decl.item), infra_compiler::syntax::ast::Item::Input(i) if i.default.is_none());
            CompletionItem {
                label: name.clone(),
                kind: CompletionKind::Property,
                detail: Some(if required { "input (required)" } else { "input" }.to_string()),
                sort_text: Some(format!("{}_{name}", if required { 0 } else { 1 })),
                insert: Some(Insert::Snippet(format!("{name} = $0"))),
                ..Default::default()
            }
        })
        .collect()
}

/// In an expression: locals, the module's names, built-in functions and literals.
fn expression_items(
    snapshot: &Snapshot,
    module_index: usize,
    file: infra_compiler::FileId,
    offset: usize,
) -> Vec<CompletionItem> {
    let module = &snapshot.analysis.modules[module_index];
    let mut items = local_items(snapshot, module_index, file, offset);
    for (name, decl) in &module.decls {
        let (kind, snippet) = match decl.kind {
            DeclKind::Output => continue,
            DeclKind::Fn => (CompletionKind::Function, Some(format!("{name}($1)"))),
            DeclKind::Module => (CompletionKind::Module, None),
            DeclKind::Input | DeclKind::Let => (CompletionKind::Variable, None),
            DeclKind::Resource | DeclKind::Data => (CompletionKind::Struct, None),
        };
        items.push(CompletionItem {
            label: name.clone(),
            kind,
            detail: Some(decl.kind.as_str().to_string()),
            sort_text: Some(format!("1_{name}")),
            insert: snippet.map(Insert::Snippet),
            ..Default::default()
        });
    }
    items.extend(function_items());
    for keyword in ["true", "false", "null", "for"] {
        items.push(CompletionItem {
            label: keyword.to_string(),
            kind: CompletionKind::Keyword,
            sort_text: Some(format!("3_{keyword}")),
            ..Default::default()
        });
    }
    items
}

/// The locals of the item around the cursor (`for` variables, parameters).
fn local_items(
    snapshot: &Snapshot,
    module_index: usize,
    file: infra_compiler::FileId,
    offset: usize,
) -> Vec<CompletionItem> {
    let module = &snapshot.analysis.modules[module_index];
    let Some(index) = snapshot.indexes().get(module_index) else { return Vec::new() };
    let item_span = module
        .items()
        .map(|(_, item)| item.span())
        .find(|s| s.file == file && s.start as usize <= offset && offset <= s.end as usize);
    let mut items = Vec::new();
    for occurrence in &index.occurrences {
        let local = matches!(occurrence.symbol, Symbol::Local { .. }) && occurrence.definition;
        if local && item_span.is_some_and(|s| s.contains(occurrence.span)) {
            let name = snapshot.analysis.sources.get(occurrence.span.file).slice(occurrence.span).to_string();
            items.push(CompletionItem {
                label: name,
                kind: CompletionKind::Variable,
                sort_text: Some("0".to_string()),
                ..Default::default()
            });
        }
    }
    items
}

/// Every built-in function, inserted with placeholders for its required parameters.
fn function_items() -> Vec<CompletionItem> {
    let schemas = infra_stdlib::builtin();
    let mut items = Vec::new();
    for name in schemas.function_names() {
        let Some(signature) = schemas.function(name) else { continue };
        let mut placeholders: Vec<String> = signature.params[..signature.min_args()]
            .iter()
            .enumerate()
            .map(|(i, p)| format!("${{{}:{}}}", i + 1, p.name))
            .collect();
        if placeholders.is_empty() {
            placeholders.push("$1".to_string());
        }
        items.push(CompletionItem {
            label: name.to_string(),
            kind: CompletionKind::Function,
            detail: Some(signature.display()),
            documentation: Some(signature.description.clone()),
            sort_text: Some(format!("2_{name}")),
            insert: Some(Insert::Snippet(format!("{name}({})", placeholders.join(", ")))),
        });
    }
    items
}
