//! Go to definition, find references, rename, and document and workspace symbols.

use std::collections::HashMap;
use std::path::Path;

use infra_compiler::resolve::DeclKind;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::Item;
use infra_compiler::SourceMap;
use lsp_types::{
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    Location, OneOf, PrepareRenameResponse, ReferenceParams, RenameParams, SymbolKind, TextDocumentPositionParams,
    TextEdit, WorkspaceEdit, WorkspaceSymbol, WorkspaceSymbolParams, WorkspaceSymbolResponse,
};

use super::index::Symbol;
use super::workspace::Snapshot;
use super::{location, Located, LspError, LspResult, Server};

/// The symbol under the cursor, with the span of the name there.
fn symbol_at(located: &Located) -> Option<(Symbol, Span)> {
    let document = &located.document;
    let index = document.snapshot.indexes().get(document.module())?;
    let offset = located.offset;
    index
        .occurrences
        .iter()
        .find(|o| o.span.file == document.file && o.span.start as usize <= offset && offset <= o.span.end as usize)
        .map(|o| (o.symbol.clone(), o.span))
}

/// Where a symbol is declared.
fn definition_span(snapshot: &Snapshot, symbol: &Symbol) -> Option<Span> {
    let modules = &snapshot.analysis.modules;
    match symbol {
        Symbol::Decl { module, name } => Some(modules.get(*module)?.decl(name)?.name_span),
        Symbol::Local { def } => Some(*def),
        Symbol::Provider { module, name } => Some(modules.get(*module)?.providers.get(name)?.name_span),
        Symbol::Function(_) => None,
    }
}

pub fn definition(server: &mut Server, params: GotoDefinitionParams) -> LspResult<Option<GotoDefinitionResponse>> {
    let at = &params.text_document_position_params;
    let located = server.locate(&at.text_document.uri, at.position)?;
    let snapshot = &located.document.snapshot;
    if let Some(location) = module_source_target(&located) {
        return Ok(Some(GotoDefinitionResponse::Scalar(location)));
    }
    let Some((symbol, _)) = symbol_at(&located) else { return Ok(None) };
    let Some(span) = definition_span(snapshot, &symbol) else { return Ok(None) };
    Ok(location(snapshot, span).map(GotoDefinitionResponse::Scalar))
}

/// On a module call's source string: the called module's directory, shown as its
/// `main.infra` (or first file), since editors open files, not directories.
fn module_source_target(located: &Located) -> Option<Location> {
    let document = &located.document;
    let modules = &document.snapshot.analysis.modules;
    let module = &modules[document.module()];
    let offset = located.offset as u32;
    let call = module.items().find_map(|(_, item)| match item {
        Item::Module(call)
            if call.source.span.file == document.file
                && call.source.span.start <= offset
                && offset <= call.source.span.end =>
        {
            Some(call)
        }
        _ => None,
    })?;
    let child = &modules[*module.calls.get(&call.name.name)?];
    let sources = &document.snapshot.analysis.sources;
    let files: Vec<&Path> = child.files.iter().map(|f| sources.get(f.file).path.as_path()).collect();
    let main = files.iter().find(|p| p.file_name().is_some_and(|n| n == "main.infra")).or(files.first())?;
    Some(Location { uri: super::path_to_uri(main).ok()?, range: lsp_types::Range::default() })
}

pub fn references(server: &mut Server, params: ReferenceParams) -> LspResult<Option<Vec<Location>>> {
    let at = &params.text_document_position;
    let located = server.locate(&at.text_document.uri, at.position)?;
    let Some((symbol, _)) = symbol_at(&located) else { return Ok(None) };
    let spans = occurrences(server, &located.document.snapshot, &symbol, params.context.include_declaration);
    Ok(Some(spans))
}

/// Every place `symbol` is written, in this analysis and, for a module's inputs and
/// outputs, in every other module of the workspace that calls that module.
fn occurrences(server: &mut Server, snapshot: &Snapshot, symbol: &Symbol, declarations: bool) -> Vec<Location> {
    let mut found: Vec<Location> = Vec::new();
    collect(snapshot, symbol, declarations, &mut found);
    if let Symbol::Decl { module, name } = symbol {
        let modules = &snapshot.analysis.modules;
        let kind = modules.get(*module).and_then(|m| m.decl(name)).map(|d| d.kind);
        if matches!(kind, Some(DeclKind::Input | DeclKind::Output)) {
            let dir = modules[*module].dir.clone();
            for other_dir in server.workspace.module_dirs() {
                let other = server.workspace.snapshot(&other_dir);
                for (index, other_module) in other.analysis.modules.iter().enumerate() {
                    if other_module.dir == dir {
                        let symbol = Symbol::Decl { module: index, name: name.clone() };
                        collect(&other, &symbol, declarations, &mut found);
                    }
                }
            }
        }
    }
    found.sort_by(|a, b| (a.uri.as_str(), a.range.start).cmp(&(b.uri.as_str(), b.range.start)));
    found.dedup();
    found
}

fn collect(snapshot: &Snapshot, symbol: &Symbol, declarations: bool, found: &mut Vec<Location>) {
    for index in snapshot.indexes() {
        for occurrence in &index.occurrences {
            if occurrence.symbol == *symbol && (declarations || !occurrence.definition) {
                found.extend(location(snapshot, occurrence.span));
            }
        }
    }
}

pub fn prepare_rename(
    server: &mut Server,
    params: TextDocumentPositionParams,
) -> LspResult<Option<PrepareRenameResponse>> {
    let located = server.locate(&params.text_document.uri, params.position)?;
    let Some((symbol, span)) = symbol_at(&located) else { return Ok(None) };
    if matches!(symbol, Symbol::Function(_)) {
        return Err(LspError::failed("built-in functions cannot be renamed"));
    }
    let index = located.document.index();
    Ok(Some(PrepareRenameResponse::Range(index.range(span.start as usize, span.end as usize))))
}

pub fn rename(server: &mut Server, params: RenameParams) -> LspResult<Option<WorkspaceEdit>> {
    let at = &params.text_document_position;
    let new_name = params.new_name.trim();
    if !is_identifier(new_name) {
        return Err(LspError::invalid_params(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, starting with a letter or `_`"
        )));
    }
    let located = server.locate(&at.text_document.uri, at.position)?;
    let Some((symbol, _)) = symbol_at(&located) else {
        return Err(LspError::failed("there is no declared name here to rename"));
    };
    if matches!(symbol, Symbol::Function(_)) {
        return Err(LspError::failed("built-in functions cannot be renamed"));
    }
    let snapshot = located.document.snapshot.clone();
    // lsp-types keys a WorkspaceEdit's changes by `Uri`, which hashes its text; the cell
    // inside (from the URI parser) takes no part in the hash.
    #[allow(clippy::mutable_key_type)]
    let mut changes: HashMap<lsp_types::Uri, Vec<TextEdit>> = HashMap::new();
    for location in occurrences(server, &snapshot, &symbol, true) {
        changes
            .entry(location.uri)
            .or_default()
            .push(TextEdit { range: location.range, new_text: new_name.to_string() });
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let reserved = matches!(name, "true" | "false" | "null" | "for" | "in" | "if");
    starts && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !reserved
}

/// The name, kind and name span of an item, for outlines. Items without a name are named
/// by their keyword and the address they are about (`moved a.b -> c.d`, `forget x`).
fn item_symbol(sources: &SourceMap, item: &Item) -> (String, SymbolKind, Span) {
    let text = |span: Span| sources.get(span.file).text.get(span.range()).unwrap_or_default().to_string();
    match item {
        Item::Input(x) => (x.name.name.clone(), SymbolKind::VARIABLE, x.name.span),
        Item::Let(x) => (x.name.name.clone(), SymbolKind::CONSTANT, x.name.span),
        Item::Fn(x) => (x.name.name.clone(), SymbolKind::FUNCTION, x.name.span),
        Item::Provider(x) => {
            (format!("provider {}", x.config_name().name), SymbolKind::NAMESPACE, x.config_name().span)
        }
        Item::Resource(x) => (
            format!("{}.{}.{}", x.ty.provider.name, x.ty.kind.name, x.name.name),
            if x.mode == infra_compiler::syntax::ast::ResourceMode::Data {
                SymbolKind::STRUCT
            } else {
                SymbolKind::OBJECT
            },
            x.name.span,
        ),
        Item::Module(x) => (format!("module {}", x.name.name), SymbolKind::MODULE, x.name.span),
        Item::Output(x) => (format!("output {}", x.name.name), SymbolKind::PROPERTY, x.name.span),
        Item::Check(x) => ("check".to_string(), SymbolKind::EVENT, x.span),
        Item::Moved(x) => {
            (format!("moved {} -> {}", text(x.from.span), text(x.to.span)), SymbolKind::EVENT, x.from.span)
        }
        Item::Import(x) => (format!("import {}", text(x.to.span)), SymbolKind::EVENT, x.to.span),
        Item::Forget(x) => (format!("forget {}", text(x.address.span)), SymbolKind::EVENT, x.address.span),
        Item::State(x) => (format!("state {}", x.backend.name), SymbolKind::NAMESPACE, x.backend.span),
    }
}

pub fn document_symbols(
    server: &mut Server,
    params: DocumentSymbolParams,
) -> LspResult<Option<DocumentSymbolResponse>> {
    let document = server.document(&params.text_document.uri)?;
    let index = document.index();
    let module = &document.snapshot.analysis.modules[document.module()];
    let Some(ast) = module.files.iter().find(|f| f.file == document.file) else { return Ok(None) };
    let symbols = ast
        .items
        .iter()
        .map(|item| {
            let (name, kind, name_span) = item_symbol(&document.snapshot.analysis.sources, item);
            let span = item.span();
            #[allow(deprecated)] // `deprecated` is a required field of the type.
            DocumentSymbol {
                name,
                detail: Some(item.keyword().to_string()),
                kind,
                tags: None,
                deprecated: None,
                range: index.range(span.start as usize, span.end as usize),
                selection_range: index.range(name_span.start as usize, name_span.end as usize),
                children: None,
            }
        })
        .collect();
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

pub fn workspace_symbols(
    server: &mut Server,
    params: WorkspaceSymbolParams,
) -> LspResult<Option<WorkspaceSymbolResponse>> {
    let query = params.query.to_lowercase();
    let mut symbols = Vec::new();
    for dir in server.workspace.module_dirs() {
        let snapshot = server.workspace.snapshot(&dir);
        let Some(root) = snapshot.analysis.modules.first() else { continue };
        for (_, item) in root.items() {
            let (name, kind, name_span) = item_symbol(&snapshot.analysis.sources, item);
            if !name.to_lowercase().contains(&query) {
                continue;
            }
            let Some(location) = location(&snapshot, name_span) else { continue };
            symbols.push(WorkspaceSymbol {
                name,
                kind,
                tags: None,
                container_name: Some(dir.display().to_string()),
                location: OneOf::Left(location),
                data: None,
            });
        }
    }
    Ok(Some(WorkspaceSymbolResponse::Nested(symbols)))
}
