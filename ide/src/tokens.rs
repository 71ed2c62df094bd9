//! Semantic tokens (names coloured by what they refer to) and inlay hints (the types of
//! `let`s and of `for` variables).

use std::path::Path;

use infra_compiler::resolve::DeclKind;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Check, Expr, Item};
use infra_compiler::syntax::walk::{self, Visitor};
use infra_compiler::types::Type;

use crate::index::Symbol;
use crate::line_index::{Position, Range};
use crate::workspace::Workspace;
use crate::{Error, Result};

/// What a token is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A module call or provider configuration.
    Namespace,
    /// A resource type.
    Type,
    Function,
    Variable,
    /// A `for` variable or `fn` parameter.
    Parameter,
    /// An attribute name, or an input or output of another module.
    Property,
    Keyword,
}

impl TokenKind {
    /// Every kind, in a fixed order a front end can number them by.
    pub const ALL: [TokenKind; 7] = [
        TokenKind::Namespace,
        TokenKind::Type,
        TokenKind::Function,
        TokenKind::Variable,
        TokenKind::Parameter,
        TokenKind::Property,
        TokenKind::Keyword,
    ];
}

/// A name or keyword and what it is; on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: Range,
    pub kind: TokenKind,
    /// Where the name is declared rather than used.
    pub declaration: bool,
    /// A name whose value cannot change (an input or a `let`).
    pub readonly: bool,
}

/// The type of a `let` or `for` variable, or the key of an unkeyed repetition, shown
/// after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    pub position: Position,
    /// `: string`, ` (key: the element)`.
    pub label: String,
}

/// A token before it has a position: span, kind, declaration, readonly.
type Token = (Span, TokenKind, bool, bool);

/// The tokens of a document in order, each on one line.
pub fn semantic_tokens(workspace: &mut Workspace, path: &Path) -> Result<Vec<SemanticToken>> {
    let document = workspace.document(path)?;
    let snapshot = &document.snapshot;
    let module_index = document.module();
    let modules = &snapshot.analysis.modules;
    let mut tokens: Vec<Token> = Vec::new();
    if let Some(index) = snapshot.indexes().get(module_index) {
        for occurrence in index.occurrences.iter().filter(|o| o.span.file == document.file) {
            let (kind, readonly) = match &occurrence.symbol {
                Symbol::Decl { module, .. } if *module != module_index => (TokenKind::Property, false),
                Symbol::Decl { module, name } => match modules[*module].decl(name).map(|d| d.kind) {
                    Some(DeclKind::Fn) => (TokenKind::Function, false),
                    Some(DeclKind::Module) => (TokenKind::Namespace, false),
                    Some(DeclKind::Input | DeclKind::Let) => (TokenKind::Variable, true),
                    _ => (TokenKind::Variable, false),
                },
                Symbol::Output { .. } => (TokenKind::Property, false),
                Symbol::Local { .. } => (TokenKind::Parameter, false),
                Symbol::Provider { .. } => (TokenKind::Namespace, false),
                Symbol::Function(_) => (TokenKind::Function, false),
            };
            tokens.push((occurrence.span, kind, occurrence.definition, readonly));
        }
        for span in index.attribute_names.iter().filter(|s| s.file == document.file) {
            if !tokens.iter().any(|(s, ..)| s == span) {
                tokens.push((*span, TokenKind::Property, false, false));
            }
        }
    }
    if let Some(module) = modules.get(module_index) {
        let mut keywords = Keywords { text: document.text(), tokens: &mut tokens };
        for (_, item) in module.items().filter(|(_, item)| item.span().file == document.file) {
            keywords.visit_item(item);
        }
    }
    tokens.sort_by_key(|(span, ..)| (span.start, span.end));
    tokens.dedup_by_key(|(span, ..)| span.start);
    let index = document.index();
    let on_one_line = |(span, kind, declaration, readonly): Token| {
        let range = index.range(span.start as usize, span.end as usize);
        (range.start.line == range.end.line).then_some(SemanticToken { range, kind, declaration, readonly })
    };
    Ok(tokens.into_iter().filter_map(on_one_line).collect())
}

/// Item and statement keywords, and resource types: a walk that stops at expressions.
struct Keywords<'a> {
    text: &'a str,
    tokens: &'a mut Vec<Token>,
}

impl<'ast> Visitor<'ast> for Keywords<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if let Item::Resource(resource) = item {
            self.tokens.push((resource.ty.span, TokenKind::Type, false, false));
        }
        self.keyword(item.span(), item.keyword());
        walk::walk_item(self, item);
    }

    /// `check`, `precondition` and `postcondition`, at the top level and in bodies.
    fn visit_check(&mut self, check: &'ast Check) {
        self.keyword(check.span, check.kind.keyword());
    }

    fn visit_expr(&mut self, _expr: &'ast Expr) {}
}

impl Keywords<'_> {
    /// A keyword token at the start of `span`, when the text there is `keyword` (it is
    /// for every item and statement that parsed).
    fn keyword(&mut self, span: Span, keyword: &str) {
        let start = span.start as usize;
        if self.text.get(start..start + keyword.len()) == Some(keyword) {
            self.tokens.push((Span::new(span.file, start, start + keyword.len()), TokenKind::Keyword, false, false));
        }
    }
}

/// The hints of the names declared in `range`, in order.
pub fn inlay_hints(workspace: &mut Workspace, path: &Path, range: Range) -> Result<Vec<InlayHint>> {
    let document = workspace.document(path)?;
    let index = document.index();
    let start = index.offset(range.start).map_err(|e| Error::invalid(e.0))?;
    let end = index.range_end(range.end).map_err(|e| Error::invalid(e.0))?;
    let in_range = |span: Span| span.file == document.file && start <= span.start as usize && span.end as usize <= end;
    let snapshot = &document.snapshot;
    let module_index = document.module();
    let types = snapshot.analysis.tables.modules.get(module_index);
    let decl_type = |name: &str| types.and_then(|t| t.decl_types.get(name)).filter(|t| !t.is_any());
    let mut hints = Vec::new();
    let hint = |span: Span, label: String| InlayHint { position: index.position(span.end as usize), label };
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
        // (A parameter's type is written beside it: `who: string` needs no hint.)
        let text = snapshot.analysis.sources.get(document.file).text();
        let annotated =
            |span: &Span| text.get(span.end as usize..).is_some_and(|rest| rest.trim_start().starts_with(':'));
        for occurrence in module_names.occurrences.iter().filter(|o| o.definition && in_range(o.span)) {
            if annotated(&occurrence.span) {
                continue;
            }
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
    hints.sort_by_key(|h| h.position);
    Ok(hints)
}
