//! Completion. Half-typed code does not parse, so the context comes from the text
//! before the cursor (see `text::context`) and the names from the last analysis.

use infra_compiler::check::ModuleTables;
use infra_compiler::resolve::{DeclKind, Module};
use infra_compiler::schema::{Schema, Schemas};
use infra_compiler::syntax::ast::{Item, ResourceMode};
use infra_compiler::types::Type;
use std::collections::BTreeSet;
use std::path::Path;

use crate::index::Symbol;
use crate::line_index::{Position, Range};
use crate::text::{self, Context};
use crate::workspace::{Located, Snapshot, Workspace};
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
    "state", "plugin",
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
        dot_items(workspace, &located, &context, word_start - 1)
    } else if !context.open_braces.is_empty() && at_attribute_name(&text[line_start..word_start], &context) {
        let set = set_elsewhere(text, &context, word_start);
        body_items(module, &context, snapshot, &set)
    } else {
        expression_items(snapshot, document.module(), document.file, offset)
    };
    Ok(Some(items))
}

/// What follows the `.` at `dot`.
fn dot_items(workspace: &mut Workspace, located: &Located, context: &Context, dot: usize) -> Vec<CompletionItem> {
    let document = &located.document;
    let (text, offset) = (document.text(), located.offset);
    let before_dot = &text[..dot];
    let module_index = document.module();
    let module = &document.snapshot.analysis.modules[module_index];
    let in_parsed_item = module.items().any(|(_, item)| document.holds(item.span(), offset));
    // `self` is read from the body's header, which needs no analysis.
    let declared = access_chain(before_dot).is_some_and(|(base, _)| base == "self" || module.decl(base).is_some());
    if in_parsed_item || declared {
        return member_items(&document.snapshot, module_index, &document.path, context, before_dot, offset);
    }
    // The item being typed does not parse, so its `for` variables are not in the
    // analysis: analyse the text without the `.` and the name being typed after it
    // instead (only for a name the module does not declare, as that costs an analysis).
    // Nothing before the dot moves, so spans and the dot's offset still match.
    let word_end = text[offset..].find(|c| !text::is_ident_char(c)).map_or(text.len(), |n| offset + n);
    let patched = format!("{before_dot}{}", &text[word_end..]);
    let snapshot = workspace.snapshot_with_text(&document.path, patched);
    member_items(&snapshot, module_index, &document.path, context, before_dot, dot)
}

/// The names the innermost open body sets, except the one being typed at `word_start`.
fn set_elsewhere(text: &str, context: &Context, word_start: usize) -> BTreeSet<String> {
    let Some(&open) = context.brace_offsets.last() else { return BTreeSet::new() };
    text::body_entries(text, open).into_iter().filter(|(_, at)| *at != word_start).map(|(name, _)| name).collect()
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

/// One step of an access after its first name: `.name` or `[index]`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step<'a> {
    Field(&'a str),
    Index(&'a str),
}

/// The access a `.` completes: `web` and `[0]`, `.tags` in `web[0].tags.`; `None` when
/// the text before the dot does not end with a name and accesses.
fn access_chain(before_dot: &str) -> Option<(&str, Vec<Step<'_>>)> {
    let mut steps = Vec::new();
    let mut end = before_dot.len();
    loop {
        let head = &before_dot[..end];
        if head.ends_with(']') {
            let open = matching_open_bracket(head)?;
            steps.push(Step::Index(head[open + 1..end - 1].trim()));
            end = open;
            continue;
        }
        let (start, word) = text::word_before(head, end);
        if word.is_empty() {
            return None;
        }
        if before_dot[..start].ends_with('.') {
            steps.push(Step::Field(word));
            end = start - 1;
            continue;
        }
        steps.reverse();
        return Some((word, steps));
    }
}

/// Where the `[` matching the `]` that `text` ends with is.
fn matching_open_bracket(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth == 1 => return Some(i),
            '[' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    None
}

/// What can follow a `.`: an instance's attributes and blocks (its schema), a module
/// call's outputs (the called module's index), or an object's fields (its type).
pub(crate) enum Members<'a> {
    Schema(&'a Schema),
    Outputs(usize),
    Type(Type),
}

/// What follows a `.`: a resource's attributes, a module call's outputs, an object's
/// fields, after any chain of attribute accesses and indexes.
fn member_items(
    snapshot: &Snapshot,
    module_index: usize,
    path: &Path,
    context: &Context,
    before_dot: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    match members(snapshot, module_index, path, self_schema(context), before_dot, offset) {
        Some(Members::Schema(schema)) => schema_items(schema),
        Some(Members::Outputs(child)) => {
            output_items(&snapshot.analysis.modules[child], snapshot.analysis.tables.modules.get(child))
        }
        Some(Members::Type(ty)) => type_members(Some(&ty)),
        None => Vec::new(),
    }
}

/// In a postcondition, `self` is an instance of the resource whose body it is in: its
/// schema, from the header of the outermost open body. The header is read from the text
/// rather than the analysis, as a body whose condition is still being typed does not
/// parse.
fn self_schema(context: &Context) -> Option<&'static Schema> {
    let header = context.open_braces.first()?;
    let mode = match header.first()?.as_str() {
        "resource" => ResourceMode::Managed,
        "data" => ResourceMode::Data,
        _ => return None,
    };
    let (provider, kind) = header.get(1)?.split_once('.')?;
    crate::hover::schema_of(provider, kind, mode)
}

/// What the access `before_dot` (the text before a `.`, ending in a name and any
/// indexes and attribute accesses) has after the dot. `self` is an instance with
/// `self_schema`, and `for` variables are those in scope at `offset`.
pub(crate) fn members<'a>(
    snapshot: &'a Snapshot,
    module_index: usize,
    path: &Path,
    self_schema: Option<&'a Schema>,
    before_dot: &'a str,
    offset: usize,
) -> Option<Members<'a>> {
    let (base, steps) = access_chain(before_dot)?;
    if base == "self" {
        if let Some(schema) = self_schema {
            return schema_steps(schema, &steps);
        }
    }
    let analysis = &snapshot.analysis;
    if let Some(ty) = local_type(snapshot, module_index, path, base, offset) {
        return walk(ty, &steps).cloned().map(Members::Type);
    }
    let module = &analysis.modules[module_index];
    let decl = module.decl(base)?;
    let instance_steps = match steps.split_first() {
        Some((Step::Index(_), rest)) => rest,
        _ => &steps[..],
    };
    match decl.kind {
        DeclKind::Resource | DeclKind::Data => {
            let Item::Resource(resource) = module.item(decl.item) else { return None };
            schema_steps(crate::hover::resource_schema(resource)?, instance_steps)
        }
        DeclKind::Module => {
            let child = *module.calls.get(base)?;
            match instance_steps.split_first() {
                None => Some(Members::Outputs(child)),
                Some((Step::Field(output), rest)) => {
                    let ty = analysis.tables.modules.get(child)?.output_types.get(*output)?;
                    walk(ty, rest).cloned().map(Members::Type)
                }
                Some((Step::Index(_), _)) => None,
            }
        }
        _ => {
            let ty = match analysis.tables.modules.get(module_index).and_then(|t| t.decl_types.get(base)) {
                Some(ty) => ty.clone(),
                // The checker types an input when something uses it; the one being
                // typed may be its first use, and does not parse.
                None => match module.item(decl.item) {
                    Item::Input(input) => infra_compiler::check::lower_type(input.ty.as_ref()?),
                    _ => return None,
                },
            };
            walk(&ty, &steps).cloned().map(Members::Type)
        }
    }
}

/// The type of the `for` variable or parameter `name` in scope at `offset`, when there
/// is one: the innermost declared before the offset in the item around it.
fn local_type<'a>(
    snapshot: &'a Snapshot,
    module_index: usize,
    path: &Path,
    name: &str,
    offset: usize,
) -> Option<&'a Type> {
    let analysis = &snapshot.analysis;
    let (file, text) = snapshot.file(path)?;
    let item_span = analysis.modules[module_index]
        .items()
        .map(|(_, item)| item.span())
        .find(|s| s.file == file && s.start as usize <= offset && offset <= s.end as usize)?;
    let def = snapshot
        .indexes()
        .get(module_index)?
        .occurrences
        .iter()
        .filter(|o| o.definition && matches!(o.symbol, Symbol::Local { .. }) && item_span.contains(o.span))
        .filter(|o| (o.span.end as usize) <= offset && text.get(o.span.range()) == Some(name))
        .max_by_key(|o| o.span.start)?;
    analysis.tables.modules.iter().find_map(|t| t.for_types.get(&def.span))
}

/// The type after `steps`: an index into a collection is its element, into a tuple the
/// element at that position; a field of an object is the field's type.
fn walk<'t>(ty: &'t Type, steps: &[Step]) -> Option<&'t Type> {
    steps.iter().try_fold(ty, |ty, step| match (ty, step) {
        (Type::List(element) | Type::Set(element) | Type::Map(element), Step::Index(_)) => Some(&**element),
        (Type::Tuple(elements), Step::Index(i)) => elements.get(i.parse::<usize>().ok()?),
        (Type::Object(fields), Step::Field(name)) => fields.get(*name).map(|f| &f.ty),
        (Type::Object(fields), Step::Index(key)) => fields.get(key.trim_matches('"')).map(|f| &f.ty),
        _ => None,
    })
}

/// The fields of an object type.
fn type_members(ty: Option<&Type>) -> Vec<CompletionItem> {
    let Some(Type::Object(fields)) = ty else { return Vec::new() };
    fields
        .iter()
        .map(|(name, field)| CompletionItem {
            label: name.clone(),
            kind: CompletionKind::Field,
            detail: Some(field.ty.to_string()),
            ..Default::default()
        })
        .collect()
}

/// What is after `steps` into the attributes and blocks of an instance with `schema`.
fn schema_steps<'a>(schema: &'a Schema, steps: &[Step]) -> Option<Members<'a>> {
    match steps.split_first() {
        None => Some(Members::Schema(schema)),
        Some((Step::Field(name), rest)) => {
            if let Some(attribute) = schema.attribute(name) {
                return walk(&attribute.ty, rest).cloned().map(Members::Type);
            }
            let block = schema.block(name)?;
            let rest = match rest.split_first() {
                Some((Step::Index(_), rest)) if block.repeated => rest,
                _ => rest,
            };
            schema_steps(&block.schema, rest)
        }
        Some((Step::Index(_), _)) => None,
    }
}

/// The attributes and blocks one can read from an instance with `schema`.
fn schema_items(schema: &Schema) -> Vec<CompletionItem> {
    let attributes = schema.attributes.iter().map(|a| CompletionItem {
        label: a.name.clone(),
        kind: CompletionKind::Field,
        detail: Some(a.ty.to_string()),
        documentation: Some(a.description.clone()),
        ..Default::default()
    });
    let blocks = schema.blocks.iter().map(|b| CompletionItem {
        label: b.name.clone(),
        kind: CompletionKind::Field,
        ..Default::default()
    });
    attributes.chain(blocks).collect()
}

/// A module's outputs, with their types when the checker knows them (`tables`).
fn output_items(module: &Module, tables: Option<&ModuleTables>) -> Vec<CompletionItem> {
    module
        .outputs
        .keys()
        .map(|name| {
            let ty = tables.and_then(|t| t.output_types.get(name.as_str())).filter(|t| !t.is_any());
            CompletionItem {
                label: name.to_string(),
                kind: CompletionKind::Field,
                detail: Some(ty.map_or_else(|| "output".to_string(), ToString::to_string)),
                ..Default::default()
            }
        })
        .collect()
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

/// What a body can set, less what it sets already (`set`) unless it can be repeated:
/// conditions and repeated blocks.
fn body_items(module: &Module, context: &Context, snapshot: &Snapshot, set: &BTreeSet<String>) -> Vec<CompletionItem> {
    let schema = body_schema(context);
    let repeated = |label: &str| {
        matches!(label, "precondition" | "postcondition")
            || schema.as_ref().and_then(|s| s.block(label)).is_some_and(|b| b.repeated)
    };
    let mut items = all_body_items(module, context, snapshot);
    items.retain(|item| !set.contains(&item.label) || repeated(&item.label));
    items
}

fn all_body_items(module: &Module, context: &Context, snapshot: &Snapshot) -> Vec<CompletionItem> {
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
                label: name.to_string(),
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
            // Outputs are not in `decls`: they are read by callers only.
            DeclKind::Output => continue,
            DeclKind::Fn => (CompletionKind::Function, Some(format!("{name}($1)"))),
            DeclKind::Module => (CompletionKind::Module, None),
            DeclKind::Input | DeclKind::Let => (CompletionKind::Variable, None),
            DeclKind::Resource | DeclKind::Data => (CompletionKind::Struct, None),
        };
        items.push(CompletionItem {
            label: name.to_string(),
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
