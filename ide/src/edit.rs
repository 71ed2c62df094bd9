//! Formatting (the same as `infra fmt`) and code actions.

use std::path::Path;

use crate::diagnostics::convert;
use crate::line_index::Range;
use crate::workspace::{DocumentRef, Workspace};
use crate::{Diagnostic, Error, Result, TextEdit};
use infra_compiler::diagnostic::codes;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Body, BodyItem, Item};
use infra_compiler::types::Type;

/// A fix for a diagnostic: edits to the document it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub diagnostic: Diagnostic,
    pub edits: Vec<TextEdit>,
}

/// The document as `infra fmt` formats it: one edit replacing the whole text, or `None`
/// when it is formatted already.
pub fn formatting(workspace: &mut Workspace, path: &Path) -> Result<Option<TextEdit>> {
    let document = workspace.document(path)?;
    let text = document.text();
    match infra_compiler::fmt::format_source(document.file, text) {
        Ok(formatted) if formatted == text => Ok(None),
        Ok(formatted) => Ok(Some(TextEdit { range: document.index().full_range(), new_text: formatted })),
        Err(errors) => {
            let first = errors.first().map(|e| format!(" (first: {} {})", e.code, e.message)).unwrap_or_default();
            Err(Error::failed(format!("cannot format a file with syntax errors{first}")))
        }
    }
}

/// Fixes for the diagnostics in `range`, and for those at the ranges of the client's
/// `diagnostics` (the ones an editor sends with the request: those on the cursor's
/// line, so a cursor anywhere on that line finds their fixes): "did you mean"
/// replacements and missing required attributes.
pub fn code_actions(
    workspace: &mut Workspace,
    path: &Path,
    range: Range,
    diagnostics: &[Range],
) -> Result<Vec<CodeAction>> {
    let document = workspace.document(path)?;
    let index = document.index();
    let offsets = |range: Range| -> Result<(usize, usize)> {
        let start = index.offset(range.start).map_err(|e| Error::invalid(e.0))?;
        let end = index.range_end(range.end).map_err(|e| Error::invalid(e.0))?;
        Ok((start, end))
    };
    let mut ranges = vec![offsets(range)?];
    // A client's diagnostic from an older version of the text may be past its end.
    ranges.extend(diagnostics.iter().filter_map(|&range| offsets(range).ok()));
    let analysis = &document.snapshot.analysis;
    let text = document.text();
    let mut actions = Vec::new();
    for diagnostic in &analysis.diagnostics {
        let Some(span) = diagnostic.primary_span() else { continue };
        let touches = |&(start, end): &(usize, usize)| (span.end as usize) >= start && (span.start as usize) <= end;
        if span.file != document.file || !ranges.iter().any(touches) {
            continue;
        }
        let fix = if diagnostic.code == codes::MISSING_ATTRIBUTE {
            missing_attributes_fix(&document, span)
        } else {
            diagnostic.help.as_deref().and_then(did_you_mean).map(|name| replacement(text, span, name))
        };
        let Some((title, edits)) = fix else { continue };
        actions.push(CodeAction { title, diagnostic: convert(diagnostic, &analysis.sources), edits });
    }
    Ok(actions)
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
    let index = crate::line_index::LineIndex::new(text);
    let edit = TextEdit { range: index.range(span.start as usize, span.end as usize), new_text: name.to_string() };
    (format!("Replace with `{name}`"), vec![edit])
}

/// Adds `name = <placeholder>` for each required attribute the body lacks, before its `}`.
fn missing_attributes_fix(document: &DocumentRef, span: Span) -> Option<(String, Vec<TextEdit>)> {
    let module = &document.snapshot.analysis.modules[document.module()];
    let (_, item) = module.items().find(|(_, item)| item.span().contains(span))?;
    let Item::Resource(resource) = item else { return None };
    let schema = crate::hover::resource_schema(resource)?;
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
