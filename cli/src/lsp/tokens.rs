//! Semantic tokens (names coloured by what they refer to) and inlay hints (the types of
//! `let`s and of `for` variables).

use infra_compiler::resolve::DeclKind;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Body, BodyItem, Item};
use infra_compiler::types::Type;
use lsp_types::{
    InlayHint, InlayHintKind, InlayHintLabel, InlayHintParams, SemanticToken, SemanticTokenModifier, SemanticTokenType,
    SemanticTokens, SemanticTokensLegend, SemanticTokensParams, SemanticTokensResult,
};

use super::index::Symbol;
use super::{LspError, LspResult, Server};

const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::TYPE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::KEYWORD,
];
const NAMESPACE: u32 = 0;
const TYPE: u32 = 1;
const FUNCTION: u32 = 2;
const VARIABLE: u32 = 3;
const PARAMETER: u32 = 4;
const PROPERTY: u32 = 5;
const KEYWORD: u32 = 6;

const MODIFIERS: &[SemanticTokenModifier] = &[SemanticTokenModifier::DECLARATION, SemanticTokenModifier::READONLY];
const DECLARATION: u32 = 1;
const READONLY: u32 = 2;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend { token_types: TYPES.to_vec(), token_modifiers: MODIFIERS.to_vec() }
}

pub fn semantic_tokens(server: &mut Server, params: SemanticTokensParams) -> LspResult<Option<SemanticTokensResult>> {
    let document = server.document(&params.text_document.uri)?;
    let snapshot = &document.snapshot;
    let module_index = document.module();
    let modules = &snapshot.analysis.modules;
    let mut tokens: Vec<(Span, u32, u32)> = Vec::new();
    if let Some(index) = snapshot.indexes().get(module_index) {
        for occurrence in index.occurrences.iter().filter(|o| o.span.file == document.file) {
            let declaration = if occurrence.definition { DECLARATION } else { 0 };
            let (token, modifiers) = match &occurrence.symbol {
                Symbol::Decl { module, .. } if *module != module_index => (PROPERTY, 0),
                Symbol::Decl { module, name } => match modules[*module].decl(name).map(|d| d.kind) {
                    Some(DeclKind::Fn) => (FUNCTION, 0),
                    Some(DeclKind::Module) => (NAMESPACE, 0),
                    Some(DeclKind::Output) => (PROPERTY, 0),
                    Some(DeclKind::Input | DeclKind::Let) => (VARIABLE, READONLY),
                    _ => (VARIABLE, 0),
                },
                Symbol::Local { .. } => (PARAMETER, 0),
                Symbol::Provider { .. } => (NAMESPACE, 0),
                Symbol::Function(_) => (FUNCTION, 0),
            };
            tokens.push((occurrence.span, token, modifiers | declaration));
        }
        for span in index.attribute_names.iter().filter(|s| s.file == document.file) {
            if !tokens.iter().any(|(s, _, _)| s == span) {
                tokens.push((*span, PROPERTY, 0));
            }
        }
    }
    if let Some(module) = modules.get(module_index) {
        let text = document.text();
        for (_, item) in module.items().filter(|(_, item)| item.span().file == document.file) {
            if let Item::Resource(resource) = item {
                tokens.push((resource.ty.span, TYPE, 0));
            }
            keyword(text, item.span(), item.keyword(), &mut tokens);
            for body in item_bodies(item) {
                statement_keywords(text, body, &mut tokens);
            }
        }
    }
    tokens.sort_by_key(|(span, _, _)| (span.start, span.end));
    tokens.dedup_by_key(|(span, _, _)| span.start);
    let index = document.index();
    let mut data = Vec::with_capacity(tokens.len());
    let (mut line, mut character) = (0, 0);
    for (span, token_type, modifiers) in tokens {
        let start = index.position(span.start as usize);
        let end = index.position(span.end as usize);
        if end.line != start.line {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 { start.character - character } else { start.character };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type,
            token_modifiers_bitset: modifiers,
        });
        (line, character) = (start.line, start.character);
    }
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}

/// A keyword token at the start of `span`, when the text there is `keyword` (it is for
/// every item and statement that parsed).
fn keyword(text: &str, span: Span, keyword: &str, tokens: &mut Vec<(Span, u32, u32)>) {
    let start = span.start as usize;
    if text.get(start..start + keyword.len()) == Some(keyword) {
        tokens.push((Span::new(span.file, start, start + keyword.len()), KEYWORD, 0));
    }
}

fn item_bodies(item: &Item) -> Vec<&Body> {
    match item {
        Item::Input(x) => x.body.iter().collect(),
        Item::Output(x) => x.body.iter().collect(),
        Item::Provider(x) => vec![&x.body],
        Item::Resource(x) => vec![&x.body],
        Item::Module(x) => vec![&x.body],
        Item::State(x) => vec![&x.body],
        Item::Let(_) | Item::Fn(_) | Item::Check(_) | Item::Moved(_) | Item::Import(_) | Item::Forget(_) => Vec::new(),
    }
}

/// `check`, `precondition` and `postcondition` statements in a body and its blocks.
fn statement_keywords(text: &str, body: &Body, tokens: &mut Vec<(Span, u32, u32)>) {
    for entry in &body.items {
        match entry {
            BodyItem::Check(check) => keyword(text, check.span, check.kind.keyword(), tokens),
            BodyItem::Block(block) => statement_keywords(text, &block.body, tokens),
            BodyItem::Attribute(_) | BodyItem::Placeholder(_) => {}
        }
    }
}

pub fn inlay_hints(server: &mut Server, params: InlayHintParams) -> LspResult<Option<Vec<InlayHint>>> {
    let document = server.document(&params.text_document.uri)?;
    let index = document.index();
    let start = index.offset(params.range.start).map_err(|e| LspError::invalid_params(e.0))?;
    let end = index.range_end(params.range.end).map_err(|e| LspError::invalid_params(e.0))?;
    let in_range = |span: Span| span.file == document.file && start <= span.start as usize && span.end as usize <= end;
    let snapshot = &document.snapshot;
    let module_index = document.module();
    let types = snapshot.analysis.tables.modules.get(module_index);
    let decl_type = |name: &str| types.and_then(|t| t.decl_types.get(name)).filter(|t| !t.is_any());
    let mut hints = Vec::new();
    let hint = |span: Span, label: String| InlayHint {
        position: index.position(span.end as usize),
        label: InlayHintLabel::String(label),
        kind: Some(InlayHintKind::TYPE),
        text_edits: None,
        tooltip: None,
        padding_left: None,
        padding_right: None,
        data: None,
    };
    let module = &snapshot.analysis.modules[module_index];
    for (_, item) in module.items() {
        if let Item::Let(decl) = item {
            if let (true, Some(ty)) = (in_range(decl.name.span), decl_type(&decl.name.name)) {
                hints.push(hint(decl.name.span, format!(": {ty}")));
            }
        }
    }
    if let Some(module_names) = snapshot.indexes().get(module_index) {
        // Every `for` variable, of declarations, blocks and expressions, with the type the
        // checker gave it.
        let for_types = types.map(|t| &t.for_types);
        let for_type = |span: &Span| for_types.and_then(|t| t.get(span)).filter(|t| !t.is_any());
        for occurrence in module_names.occurrences.iter().filter(|o| o.definition && in_range(o.span)) {
            if let (Symbol::Local { .. }, Some(ty)) = (&occurrence.symbol, for_type(&occurrence.span)) {
                hints.push(hint(occurrence.span, format!(": {ty}")));
            }
        }
        // The instances of `for x in xs` are keyed by something no variable names: the
        // element for lists and sets of strings, the position for other lists, the key
        // for maps and objects (see "Repetition" in docs/language.md).
        for (value_var, collection) in module_names.unkeyed_for_clauses.iter().filter(|(v, _)| in_range(*v)) {
            let key = match for_type(collection) {
                Some(Type::Map(_) | Type::Object(_)) => "the map key",
                Some(ty @ (Type::List(_) | Type::Set(_) | Type::Tuple(_))) => {
                    if ty.element() == Some(Type::String) {
                        "the element"
                    } else if matches!(ty, Type::Set(_)) {
                        continue;
                    } else {
                        "its position"
                    }
                }
                _ => continue,
            };
            hints.push(hint(*value_var, format!(" (key: {key})")));
        }
    }
    hints.sort_by_key(|h| (h.position.line, h.position.character));
    Ok(Some(hints))
}
