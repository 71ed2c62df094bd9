//! Go to definition, find references, rename, and document and workspace symbols.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infra_compiler::resolve::DeclKind;
use infra_compiler::span::Span;
use infra_compiler::syntax::ast::{Item, ResourceMode};
use infra_compiler::SourceMap;

use crate::index::Symbol;
use crate::line_index::{Position, Range};
use crate::workspace::{location, Located, Snapshot, Workspace};
use crate::{Error, Location, Result, TextEdit};

/// What kind of thing an outline entry is, for the editor's icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// An input.
    Variable,
    /// A `let`.
    Constant,
    Function,
    /// A provider configuration or the `state` block.
    Namespace,
    /// A data source.
    Struct,
    /// A managed resource.
    Object,
    Module,
    /// An output.
    Property,
    /// A statement: `check`, `moved`, `import`, `forget`.
    Event,
}

/// One item of a document's outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    /// The item's keyword.
    pub detail: String,
    pub kind: SymbolKind,
    /// The whole item.
    pub range: Range,
    /// Its name.
    pub selection_range: Range,
}

/// A top-level item of some module in the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The module directory.
    pub container: String,
    pub location: Location,
}

/// The symbol under the cursor, with the span of the name there.
fn symbol_at(located: &Located) -> Option<(Symbol, Span)> {
    let document = &located.document;
    let index = document.snapshot.indexes().get(document.module())?;
    index.occurrences.iter().find(|o| document.holds(o.span, located.offset)).map(|o| (o.symbol.clone(), o.span))
}

/// Where a symbol is declared.
fn definition_span(snapshot: &Snapshot, symbol: &Symbol) -> Option<Span> {
    let modules = &snapshot.analysis.modules;
    match symbol {
        Symbol::Decl { module, name } => Some(modules.get(*module)?.decl(name)?.name_span),
        Symbol::Output { module, name } => Some(modules.get(*module)?.output(name)?.name_span),
        Symbol::Local { def } => Some(*def),
        Symbol::Provider { module, name } => Some(modules.get(*module)?.providers.get(name)?.name_span),
        Symbol::Function(_) => None,
    }
}

/// Where the name under the cursor is declared; on a module call's source, the called
/// module.
pub fn definition(workspace: &mut Workspace, path: &Path, position: Position) -> Result<Option<Location>> {
    let located = workspace.locate(path, position)?;
    let snapshot = &located.document.snapshot;
    if let Some(location) = module_source_target(&located) {
        return Ok(Some(location));
    }
    let Some((symbol, _)) = symbol_at(&located) else { return Ok(None) };
    let Some(span) = definition_span(snapshot, &symbol) else { return Ok(None) };
    Ok(Some(location(&snapshot.analysis.sources, span)))
}

/// On a module call's source string: the called module's directory, shown as its
/// `main.infra` (or first file), since editors open files, not directories.
fn module_source_target(located: &Located) -> Option<Location> {
    let document = &located.document;
    let modules = &document.snapshot.analysis.modules;
    let module = &modules[document.module()];
    let call = module.items().find_map(|(_, item)| match item {
        Item::Module(call) if document.holds(call.source.span, located.offset) => Some(call),
        _ => None,
    })?;
    let child = &modules[*module.calls.get(call.name.name.as_str())?];
    let sources = &document.snapshot.analysis.sources;
    let files: Vec<&Path> = child.files.iter().map(|f| sources.get(f.file).path.as_path()).collect();
    let main = files.iter().find(|p| p.file_name().is_some_and(|n| n == "main.infra")).or(files.first())?;
    Some(Location { path: main.to_path_buf(), range: Range::default() })
}

/// Every place the name under the cursor is written, its declaration when asked.
pub fn references(
    workspace: &mut Workspace,
    path: &Path,
    position: Position,
    include_declaration: bool,
) -> Result<Option<Vec<Location>>> {
    let located = workspace.locate(path, position)?;
    let Some((symbol, _)) = symbol_at(&located) else { return Ok(None) };
    Ok(Some(occurrences(workspace, &located.document.snapshot, &symbol, include_declaration)))
}

/// Every place `symbol` is written, in this analysis and, for a module's inputs and
/// outputs, in every other module of the workspace that calls that module.
fn occurrences(workspace: &mut Workspace, snapshot: &Snapshot, symbol: &Symbol, declarations: bool) -> Vec<Location> {
    let mut found: Vec<Location> = Vec::new();
    collect(snapshot, symbol, declarations, &mut found);
    if let Some(module) = interface_module(snapshot, symbol) {
        let dir = snapshot.analysis.modules[module].dir.clone();
        for other_dir in workspace.module_dirs() {
            let other = workspace.snapshot(&other_dir);
            for (index, other_module) in other.analysis.modules.iter().enumerate() {
                if other_module.dir == dir {
                    collect(&other, &in_module(symbol, index), declarations, &mut found);
                }
            }
        }
    }
    found.sort_by(|a, b| (&a.path, a.range.start).cmp(&(&b.path, b.range.start)));
    found.dedup();
    found
}

/// The module whose interface `symbol` belongs to, when it does: an input or an output,
/// which the module's callers in other analyses name too.
fn interface_module(snapshot: &Snapshot, symbol: &Symbol) -> Option<usize> {
    match symbol {
        Symbol::Decl { module, name } => {
            let kind = snapshot.analysis.modules.get(*module)?.decl(name)?.kind;
            (kind == DeclKind::Input).then_some(*module)
        }
        Symbol::Output { module, .. } => Some(*module),
        Symbol::Local { .. } | Symbol::Provider { .. } | Symbol::Function(_) => None,
    }
}

/// `symbol` as another analysis names it, where its module has the index `module`.
fn in_module(symbol: &Symbol, module: usize) -> Symbol {
    match symbol.clone() {
        Symbol::Decl { name, .. } => Symbol::Decl { module, name },
        Symbol::Output { name, .. } => Symbol::Output { module, name },
        other => other,
    }
}

fn collect(snapshot: &Snapshot, symbol: &Symbol, declarations: bool, found: &mut Vec<Location>) {
    let sources = &snapshot.analysis.sources;
    // One line index per file, not one per occurrence: a name used 10,000 times in a
    // file of 40,000 lines took seconds.
    let mut lines: BTreeMap<infra_compiler::FileId, crate::line_index::LineIndex> = BTreeMap::new();
    for index in snapshot.indexes() {
        for occurrence in &index.occurrences {
            if occurrence.symbol == *symbol && (declarations || !occurrence.definition) {
                let span = occurrence.span;
                let file = sources.get(span.file);
                let line_index =
                    lines.entry(span.file).or_insert_with(|| crate::line_index::LineIndex::new(file.text()));
                let range = line_index.range(span.start as usize, span.end as usize);
                found.push(Location { path: file.path.clone(), range });
            }
        }
    }
}

/// The range of the name a rename at `position` would change.
pub fn prepare_rename(workspace: &mut Workspace, path: &Path, position: Position) -> Result<Option<Range>> {
    let located = workspace.locate(path, position)?;
    let Some((symbol, span)) = symbol_at(&located) else { return Ok(None) };
    if matches!(symbol, Symbol::Function(_)) {
        return Err(Error::failed("built-in functions cannot be renamed"));
    }
    let index = located.document.index();
    Ok(Some(index.range(span.start as usize, span.end as usize)))
}

/// The edits, per file, that rename the name under the cursor everywhere it is written.
pub fn rename(
    workspace: &mut Workspace,
    path: &Path,
    position: Position,
    new_name: &str,
) -> Result<BTreeMap<PathBuf, Vec<TextEdit>>> {
    let new_name = new_name.trim();
    if !is_identifier(new_name) {
        return Err(Error::invalid(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, starting with a letter or `_`"
        )));
    }
    let located = workspace.locate(path, position)?;
    let Some((symbol, _)) = symbol_at(&located) else {
        return Err(Error::failed("there is no declared name here to rename"));
    };
    if matches!(symbol, Symbol::Function(_)) {
        return Err(Error::failed("built-in functions cannot be renamed"));
    }
    if taken(&located.document.snapshot, &symbol, new_name) {
        return Err(Error::failed(format!(
            "`{new_name}` is already declared in this module: renamed to it, the name would clash with that \
             declaration or change what a reference to it means; choose another name"
        )));
    }
    let mut changes: BTreeMap<PathBuf, Vec<TextEdit>> = BTreeMap::new();
    for location in occurrences(workspace, &located.document.snapshot, &symbol, true) {
        let edit = TextEdit { range: location.range, new_text: new_name.to_string() };
        changes.entry(location.path).or_default().push(edit);
    }
    Ok(changes)
}

/// Whether `new_name` already names something in the module of `symbol` that a rename
/// to it would clash with (two declarations of one name) or capture (a `for` variable or
/// parameter of that name hides a declaration, and the other way round). Outputs are a
/// namespace of their own. Conservative: a variable of that name anywhere in the module
/// counts, in scope or not.
fn taken(snapshot: &crate::workspace::Snapshot, symbol: &Symbol, new_name: &str) -> bool {
    let indexes = snapshot.indexes();
    let home = match symbol {
        Symbol::Decl { module, .. } | Symbol::Output { module, .. } | Symbol::Provider { module, .. } => Some(*module),
        Symbol::Local { .. } => {
            indexes.iter().position(|index| index.occurrences.iter().any(|o| o.definition && o.symbol == *symbol))
        }
        Symbol::Function(_) => None,
    };
    let Some(index) = home.and_then(|home| indexes.get(home)) else { return false };
    let sources = &snapshot.analysis.sources;
    let text = |span: Span| sources.get(span.file).text().get(span.range()).unwrap_or_default().to_string();
    index.occurrences.iter().filter(|o| o.definition && o.symbol != *symbol).any(|o| match (&o.symbol, symbol) {
        (Symbol::Output { name, .. }, Symbol::Output { .. }) => name == new_name,
        (Symbol::Output { .. } | Symbol::Provider { .. } | Symbol::Function(_), _)
        | (_, Symbol::Output { .. } | Symbol::Provider { .. }) => false,
        (Symbol::Decl { name, .. }, _) => name == new_name,
        (Symbol::Local { def }, _) => text(*def) == new_name,
    })
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
    let text = |span: Span| sources.get(span.file).text().get(span.range()).unwrap_or_default().to_string();
    match item {
        Item::Input(x) => (x.name.name.to_string(), SymbolKind::Variable, x.name.span),
        Item::Let(x) => (x.name.name.to_string(), SymbolKind::Constant, x.name.span),
        Item::Fn(x) => (x.name.name.to_string(), SymbolKind::Function, x.name.span),
        Item::Provider(x) => {
            (format!("provider {}", x.config_name().name), SymbolKind::Namespace, x.config_name().span)
        }
        Item::Resource(x) => (
            format!("{}.{}.{}", x.ty.provider.name, x.ty.kind.name, x.name.name),
            if x.mode == ResourceMode::Data { SymbolKind::Struct } else { SymbolKind::Object },
            x.name.span,
        ),
        Item::Module(x) => (format!("module {}", x.name.name), SymbolKind::Module, x.name.span),
        Item::Output(x) => (format!("output {}", x.name.name), SymbolKind::Property, x.name.span),
        Item::Check(x) => ("check".to_string(), SymbolKind::Event, x.span),
        Item::Moved(x) => {
            (format!("moved {} -> {}", text(x.from.span), text(x.to.span)), SymbolKind::Event, x.from.span)
        }
        Item::Import(x) => (format!("import {}", text(x.to.span)), SymbolKind::Event, x.to.span),
        Item::Forget(x) => (format!("forget {}", text(x.address.span)), SymbolKind::Event, x.address.span),
        Item::State(x) => (format!("state {}", x.backend.name), SymbolKind::Namespace, x.backend.span),
        Item::Plugin(x) => (format!("plugin {}", x.name.name), SymbolKind::Namespace, x.name.span),
    }
}

/// The outline of a document: its items in order; `None` when the analysis has no
/// syntax tree for it.
pub fn document_symbols(workspace: &mut Workspace, path: &Path) -> Result<Option<Vec<DocumentSymbol>>> {
    let document = workspace.document(path)?;
    let index = document.index();
    let module = &document.snapshot.analysis.modules[document.module()];
    let Some(ast) = module.files.iter().find(|f| f.file == document.file) else { return Ok(None) };
    let symbols = ast
        .items
        .iter()
        .map(|item| {
            let (name, kind, name_span) = item_symbol(&document.snapshot.analysis.sources, item);
            let span = item.span();
            DocumentSymbol {
                name,
                detail: item.keyword().to_string(),
                kind,
                range: index.range(span.start as usize, span.end as usize),
                selection_range: index.range(name_span.start as usize, name_span.end as usize),
            }
        })
        .collect();
    Ok(Some(symbols))
}

/// The top-level items of every module in the workspace whose name contains `query`
/// (ignoring case).
pub fn workspace_symbols(workspace: &mut Workspace, query: &str) -> Vec<WorkspaceSymbol> {
    let query = query.to_lowercase();
    let mut symbols = Vec::new();
    for dir in workspace.module_dirs() {
        let snapshot = workspace.snapshot(&dir);
        let Some(root) = snapshot.analysis.modules.first() else { continue };
        for (_, item) in root.items() {
            let (name, kind, name_span) = item_symbol(&snapshot.analysis.sources, item);
            if !name.to_lowercase().contains(&query) {
                continue;
            }
            let location = location(&snapshot.analysis.sources, name_span);
            symbols.push(WorkspaceSymbol { name, kind, container: dir.display().to_string(), location });
        }
    }
    symbols
}
