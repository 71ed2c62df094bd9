//! The `ide` crate's plain-data answers as `lsp-types` values, and back for positions.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use lsp_types::{
    CompletionItemKind, CompletionTextEdit, DiagnosticRelatedInformation, DiagnosticSeverity, InsertTextFormat,
    NumberOrString, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend, SymbolKind, Uri,
};

use super::{path_to_uri, LspError, LspResult};

pub fn position(position: lsp_types::Position) -> infra_ide::Position {
    infra_ide::Position::new(position.line, position.character)
}

pub fn range(range: lsp_types::Range) -> infra_ide::Range {
    infra_ide::Range::new(position(range.start), position(range.end))
}

pub fn lsp_position(position: infra_ide::Position) -> lsp_types::Position {
    lsp_types::Position::new(position.line, position.character)
}

pub fn lsp_range(range: infra_ide::Range) -> lsp_types::Range {
    lsp_types::Range::new(lsp_position(range.start), lsp_position(range.end))
}

/// A location, or nothing when its path makes no URI.
pub fn location(location: &infra_ide::Location) -> Option<lsp_types::Location> {
    Some(lsp_types::Location { uri: path_to_uri(&location.path).ok()?, range: lsp_range(location.range) })
}

pub fn error(error: infra_ide::Error) -> LspError {
    match error.kind {
        infra_ide::ErrorKind::InvalidRequest => LspError::invalid_params(error.message),
        infra_ide::ErrorKind::Failed => LspError::failed(error.message),
    }
}

pub fn text_edit(edit: infra_ide::TextEdit) -> lsp_types::TextEdit {
    lsp_types::TextEdit { range: lsp_range(edit.range), new_text: edit.new_text }
}

/// Edits per file as a workspace edit.
pub fn workspace_edit(changes: BTreeMap<PathBuf, Vec<infra_ide::TextEdit>>) -> LspResult<lsp_types::WorkspaceEdit> {
    // lsp-types keys a WorkspaceEdit's changes by `Uri`, which hashes its text; the cell
    // inside (from the URI parser) takes no part in the hash.
    #[allow(clippy::mutable_key_type)]
    let mut by_uri: HashMap<Uri, Vec<lsp_types::TextEdit>> = HashMap::new();
    for (path, edits) in changes {
        by_uri.entry(path_to_uri(&path)?).or_default().extend(edits.into_iter().map(text_edit));
    }
    Ok(lsp_types::WorkspaceEdit { changes: Some(by_uri), ..Default::default() })
}

pub fn diagnostic(diagnostic: infra_ide::Diagnostic) -> lsp_types::Diagnostic {
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .related
        .iter()
        .filter_map(|r| {
            Some(DiagnosticRelatedInformation { location: location(&r.location)?, message: r.message.clone() })
        })
        .collect();
    lsp_types::Diagnostic {
        range: lsp_range(diagnostic.range),
        severity: Some(match diagnostic.severity {
            infra_ide::Severity::Error => DiagnosticSeverity::ERROR,
            infra_ide::Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code)),
        source: Some("infra".to_string()),
        message: diagnostic.message,
        related_information: if related.is_empty() { None } else { Some(related) },
        data: diagnostic.help.map(serde_json::Value::String),
        ..Default::default()
    }
}

pub fn completion_item(item: infra_ide::CompletionItem) -> lsp_types::CompletionItem {
    let (insert_text, text_edit, format) = match item.insert {
        Some(infra_ide::Insert::Snippet(snippet)) => (Some(snippet), None, Some(InsertTextFormat::SNIPPET)),
        Some(infra_ide::Insert::Replace(edit)) => (None, Some(CompletionTextEdit::Edit(text_edit(edit))), None),
        None => (None, None, None),
    };
    lsp_types::CompletionItem {
        label: item.label,
        kind: Some(completion_kind(item.kind)),
        detail: item.detail,
        documentation: item.documentation.map(lsp_types::Documentation::String),
        sort_text: item.sort_text,
        insert_text,
        insert_text_format: format,
        text_edit,
        ..Default::default()
    }
}

fn completion_kind(kind: infra_ide::CompletionKind) -> CompletionItemKind {
    match kind {
        infra_ide::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        infra_ide::CompletionKind::Class => CompletionItemKind::CLASS,
        infra_ide::CompletionKind::Field => CompletionItemKind::FIELD,
        infra_ide::CompletionKind::Property => CompletionItemKind::PROPERTY,
        infra_ide::CompletionKind::Module => CompletionItemKind::MODULE,
        infra_ide::CompletionKind::Variable => CompletionItemKind::VARIABLE,
        infra_ide::CompletionKind::Function => CompletionItemKind::FUNCTION,
        infra_ide::CompletionKind::Struct => CompletionItemKind::STRUCT,
    }
}

pub fn symbol_kind(kind: infra_ide::SymbolKind) -> SymbolKind {
    match kind {
        infra_ide::SymbolKind::Variable => SymbolKind::VARIABLE,
        infra_ide::SymbolKind::Constant => SymbolKind::CONSTANT,
        infra_ide::SymbolKind::Function => SymbolKind::FUNCTION,
        infra_ide::SymbolKind::Namespace => SymbolKind::NAMESPACE,
        infra_ide::SymbolKind::Struct => SymbolKind::STRUCT,
        infra_ide::SymbolKind::Object => SymbolKind::OBJECT,
        infra_ide::SymbolKind::Module => SymbolKind::MODULE,
        infra_ide::SymbolKind::Property => SymbolKind::PROPERTY,
        infra_ide::SymbolKind::Event => SymbolKind::EVENT,
    }
}

/// The token types in the order of [`infra_ide::TokenKind::ALL`], and the two modifiers.
pub fn legend() -> SemanticTokensLegend {
    let token_type = |kind: infra_ide::TokenKind| match kind {
        infra_ide::TokenKind::Namespace => SemanticTokenType::NAMESPACE,
        infra_ide::TokenKind::Type => SemanticTokenType::TYPE,
        infra_ide::TokenKind::Function => SemanticTokenType::FUNCTION,
        infra_ide::TokenKind::Variable => SemanticTokenType::VARIABLE,
        infra_ide::TokenKind::Parameter => SemanticTokenType::PARAMETER,
        infra_ide::TokenKind::Property => SemanticTokenType::PROPERTY,
        infra_ide::TokenKind::Keyword => SemanticTokenType::KEYWORD,
    };
    SemanticTokensLegend {
        token_types: infra_ide::TokenKind::ALL.into_iter().map(token_type).collect(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION, SemanticTokenModifier::READONLY],
    }
}

/// Tokens in order as the protocol's relative encoding (each token's line and start
/// from the one before).
pub fn semantic_tokens(tokens: Vec<infra_ide::SemanticToken>) -> Vec<lsp_types::SemanticToken> {
    let (mut line, mut character) = (0, 0);
    let mut data = Vec::with_capacity(tokens.len());
    for token in tokens {
        let start = token.range.start;
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 { start.character - character } else { start.character };
        let kind = infra_ide::TokenKind::ALL.iter().position(|k| *k == token.kind).unwrap_or_default() as u32;
        data.push(lsp_types::SemanticToken {
            delta_line,
            delta_start,
            length: token.range.end.character - start.character,
            token_type: kind,
            token_modifiers_bitset: u32::from(token.declaration) | u32::from(token.readonly) << 1,
        });
        (line, character) = (start.line, start.character);
    }
    data
}
