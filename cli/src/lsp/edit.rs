//! Formatting (the same as `infra fmt`) and code actions.

use std::collections::HashMap;

use infra_compiler::diagnostic::codes;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Body, BodyItem, Item};
use infra_compiler::types::Type;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, DocumentFormattingParams,
    TextEdit, WorkspaceEdit,
};

use super::diagnostics::to_lsp;
use super::{LspError, LspResult, Server};

pub fn formatting(server: &mut Server, params: DocumentFormattingParams) -> LspResult<Option<Vec<TextEdit>>> {
    let document = server.document(&params.text_document.uri)?;
    let text = document.text();
    match infra_compiler::fmt::format_source(document.file, text) {
        Ok(formatted) if formatted == text => Ok(Some(Vec::new())),
        Ok(formatted) => Ok(Some(vec![TextEdit { range: document.index().full_range(), new_text: formatted }])),
        Err(errors) => {
            let first = errors.first().map(|e| format!(" (first: {} {})", e.code, e.message)).unwrap_or_default();
            Err(LspError::failed(format!("cannot format a file with syntax errors{first}")))
        }
    }
}

pub fn code_actions(server: &mut Server, params: CodeActionParams) -> LspResult<Option<CodeActionResponse>> {
    let document = server.document(&params.text_document.uri)?;
    let index = document.index();
    let start = index.offset(params.range.start).map_err(|e| LspError::invalid_params(e.0))?;
    let end = index.range_end(params.range.end).map_err(|e| LspError::invalid_params(e.0))?;
    let analysis = &document.snapshot.analysis;
    let text = document.text();
    let mut actions = Vec::new();
    for diagnostic in &analysis.diagnostics {
        let Some(span) = diagnostic.primary_span() else { continue };
        if span.file != document.file || (span.end as usize) < start || (span.start as usize) > end {
            continue;
        }
        let fix = if diagnostic.code == codes::MISSING_ATTRIBUTE {
            missing_attributes_fix(&document, span)
        } else {
            diagnostic.help.as_deref().and_then(did_you_mean).map(|name| replacement(text, span, name))
        };
        let Some((title, edits)) = fix else { continue };
        // lsp-types keys a WorkspaceEdit's changes by `Uri`, which hashes its text; the cell
        // inside (from the URI parser) takes no part in the hash.
        #[allow(clippy::mutable_key_type)]
        let mut changes = HashMap::new();
        changes.insert(params.text_document.uri.clone(), edits);
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![to_lsp(diagnostic, &analysis.sources)]),
            edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Ok(Some(actions))
}

/// The name in a "did you mean `x`?" help.
fn did_you_mean(help: &str) -> Option<&str> {
    let rest = help.strip_prefix("did you mean `")?;
    rest.strip_suffix("`?")
}

/// Replaces the span with the suggestion. A suggested `provider.kind` for a span that
/// holds only the kind replaces the kind.
fn replacement(text: &str, span: Span, name: &str) -> (String, Vec<TextEdit>) {
    let written = text.get(span.range()).unwrap_or("");
    let name =
        if name.contains('.') && !written.contains('.') { name.rsplit('.').next().unwrap_or(name) } else { name };
    let index = super::position::LineIndex::new(text);
    let edit = TextEdit { range: index.range(span.start as usize, span.end as usize), new_text: name.to_string() };
    (format!("Replace with `{name}`"), vec![edit])
}

/// Adds `name = <placeholder>` for each required attribute the body lacks, before its `}`.
fn missing_attributes_fix(document: &super::DocumentRef, span: Span) -> Option<(String, Vec<TextEdit>)> {
    let module = &document.snapshot.analysis.modules[document.module()];
    let (_, item) = module.items().find(|(_, item)| item.span().contains(span))?;
    let Item::Resource(resource) = item else { return None };
    let schema = super::hover::resource_schema(resource)?;
    let (body, schema) = innermost_body(&resource.body, schema, span);
    let missing: Vec<_> =
        schema.attributes.iter().filter(|a| a.required && body.attribute(&a.name).is_none()).collect();
    if missing.is_empty() {
        return None;
    }
    let text = document.text();
    let close = (body.span.end as usize).checked_sub(1)?;
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    let before_brace = &text[line_start..close];
    let item_line_start = text[..body.span.start as usize].rfind('\n').map_or(0, |i| i + 1);
    let outer_indent: String = text[item_line_start..].chars().take_while(|c| *c == ' ').collect();
    let lines: String =
        missing.iter().map(|a| format!("{outer_indent}  {} = {}\n", a.name, placeholder(&a.ty))).collect();
    let (at, new_text) =
        if before_brace.trim().is_empty() { (line_start, lines) } else { (close, format!("\n{lines}{outer_indent}")) };
    let index = document.index();
    let names: Vec<String> = missing.iter().map(|a| format!("`{}`", a.name)).collect();
    let edit = TextEdit { range: index.range(at, at), new_text };
    Some((format!("Add missing attribute{} {}", if names.len() > 1 { "s" } else { "" }, names.join(", ")), vec![edit]))
}

/// The innermost body (and its schema) whose span holds the diagnostic.
fn innermost_body<'a>(
    body: &'a Body,
    schema: &'a infra_compiler::schema::Schema,
    span: Span,
) -> (&'a Body, &'a infra_compiler::schema::Schema) {
    for item in &body.items {
        if let BodyItem::Block(block) = item {
            if block.span.contains(span) {
                if let Some(block_schema) = schema.block(&block.name.name) {
                    return innermost_body(&block.body, &block_schema.schema, span);
                }
            }
        }
    }
    (body, schema)
}

/// A value of the type that reads as "fill me in".
fn placeholder(ty: &Type) -> &'static str {
    match ty {
        Type::String | Type::Any | Type::Null => "\"\"",
        Type::Number => "0",
        Type::Bool => "false",
        Type::List(_) | Type::Set(_) | Type::Tuple(_) => "[]",
        Type::Map(_) | Type::Object(_) => "{}",
    }
}
