//! Loading modules and building their namespaces.
//!
//! A module is a directory; all its `*.infra` files form one namespace. Local module
//! calls (`module net "./network" { ... }`) are loaded recursively. This phase reports
//! unreadable files, invalid UTF-8, empty directories, duplicate names, missing module
//! directories and module cycles.
//!
//! A module has two namespaces. Its declarations (inputs, `let`s, functions, resources,
//! data sources, module calls) are the names its expressions read; its outputs are the
//! names its callers read (`net.subnet_id`). They are separate so that a module can take
//! `hostname` in and give `hostname` out, as module interfaces ported from Terraform do. Names inside expressions are resolved by `check`,
//! which walks every expression once for names and types together.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use crate::diagnostic::{codes, Diagnostic};
use crate::loader::Loader;
use crate::name::Name;
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ast::{Expr, ExprKind, Item, ResourceMode, SourceFileAst};
use crate::syntax::parse_file;
use crate::syntax::walk::{walk_expr, Visitor};

/// Identifies an item of a module: the index of its file and of the item in that file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId {
    pub file: usize,
    pub item: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeclKind {
    Input,
    Let,
    Fn,
    Resource,
    Data,
    Module,
    /// Outputs are kept in [`Module::outputs`], a namespace of their own, never in
    /// [`Module::decls`].
    Output,
}

impl DeclKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclKind::Input => "input",
            DeclKind::Let => "let",
            DeclKind::Fn => "function",
            DeclKind::Resource => "resource",
            DeclKind::Data => "data source",
            DeclKind::Module => "module",
            DeclKind::Output => "output",
        }
    }
}

/// A name declared in a module's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decl {
    pub kind: DeclKind,
    pub item: ItemId,
    /// The span of the declared name.
    pub name_span: Span,
}

/// A provider configuration: `provider aws { }` is named `aws`, `provider aws as west`
/// is named `west`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The provider type, such as `aws`.
    pub provider: String,
    pub item: ItemId,
    pub name_span: Span,
    pub repeated: bool,
}

#[derive(Debug)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<SourceFileAst>,
    /// The module namespace, in declaration order: every declaration but the outputs.
    pub decls: IndexMap<Name, Decl, FxBuildHasher>,
    /// The outputs, the names a caller reads, in declaration order. An output may share
    /// its name with a declaration: inside the module the name means the declaration.
    pub outputs: IndexMap<Name, Decl, FxBuildHasher>,
    /// Provider configurations by name.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Module calls by call name, to the index of the called module in the module list.
    pub calls: BTreeMap<String, usize>,
}

impl Module {
    pub fn item(&self, id: ItemId) -> &Item {
        &self.files[id.file].items[id.item]
    }

    /// Every item with its id, in file and source order.
    pub fn items(&self) -> impl Iterator<Item = (ItemId, &Item)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(file, ast)| ast.items.iter().enumerate().map(move |(item, it)| (ItemId { file, item }, it)))
    }

    pub fn decl(&self, name: &str) -> Option<&Decl> {
        self.decls.get(name)
    }

    /// The output `name`, which callers read as `call.name`.
    pub fn output(&self, name: &str) -> Option<&Decl> {
        self.outputs.get(name)
    }

    /// The declarations `name`'s value may read, transitively, each after the ones it
    /// reads (a post-order, found without recursion), leaving out `name` itself and
    /// whatever `done` says needs no work (already computed, or being computed).
    ///
    /// A pass that computes a declaration's value or type on demand recurses once per
    /// link of a chain (`let b = a`, `let c = b`, ...); computing these first, in this
    /// order, keeps that recursion shallow. Names are collected syntactically from a
    /// `let`'s value and a repeated declaration's collection, so a local that shadows a
    /// declaration only makes that declaration computed early.
    pub fn dependencies_first<'m>(&'m self, name: &'m str, done: impl Fn(&str) -> bool) -> Vec<&'m str> {
        let mut order = Vec::new();
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::from_iter([name]);
        // Each entry: a declaration and the names it reads, consumed from the end.
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(name, self.names_read_by(name))];
        while let Some((current, reads)) = stack.last_mut() {
            let current = *current;
            let next = reads.pop();
            match next {
                Some(next) if !done(next) && seen.insert(next) => stack.push((next, self.names_read_by(next))),
                Some(_) => {}
                None => {
                    stack.pop();
                    if current != name {
                        order.push(current);
                    }
                }
            }
        }
        order
    }

    /// The declarations of this module named in `name`'s value: a `let`'s expression,
    /// or the collection or condition of a repeated declaration.
    fn names_read_by(&self, name: &str) -> Vec<&str> {
        struct Names<'a> {
            module: &'a Module,
            found: Vec<&'a str>,
        }
        impl<'a> Visitor<'a> for Names<'a> {
            fn visit_expr(&mut self, expr: &'a Expr) {
                if let ExprKind::Name(name) = &expr.kind {
                    if self.module.decl(name).is_some() {
                        self.found.push(name);
                    }
                }
                walk_expr(self, expr);
            }
        }
        let Some(decl) = self.decl(name) else { return Vec::new() };
        let mut names = Names { module: self, found: Vec::new() };
        match self.item(decl.item) {
            Item::Let(decl) => names.visit_expr(&decl.value),
            Item::Resource(resource) => resource.repeat.iter().for_each(|repeat| names.visit_repeat(repeat)),
            Item::Module(call) => call.repeat.iter().for_each(|repeat| names.visit_repeat(repeat)),
            _ => {}
        }
        names.found
    }
}

/// How deep a pass computing declarations on demand may recurse before it computes a
/// declaration's dependencies first (see [`Module::dependencies_first`]).
pub const SHALLOW: usize = 32;

/// Parsed files kept between analyses, by path. An entry is reused when the file has the
/// same text and the same [`FileId`] (spans carry the id, so a file loaded in another
/// position is parsed again).
#[derive(Debug)]
pub struct ParseCache {
    entries: HashMap<PathBuf, (FileId, String, crate::syntax::Parsed)>,
    /// False for a one-shot analysis, which would only pay for copying every tree.
    keep: bool,
}

impl Default for ParseCache {
    fn default() -> Self {
        ParseCache { entries: HashMap::new(), keep: true }
    }
}

impl ParseCache {
    /// A cache that keeps nothing, for analysing once.
    pub fn none() -> Self {
        ParseCache { entries: HashMap::new(), keep: false }
    }

    fn parse(&mut self, path: &Path, id: FileId, text: &str) -> crate::syntax::Parsed {
        if let Some((cached_id, cached_text, parsed)) = self.entries.get(path) {
            if *cached_id == id && cached_text == text {
                return parsed.clone();
            }
        }
        let parsed = parse_file(id, text);
        if self.keep {
            self.entries.insert(path.to_path_buf(), (id, text.to_string(), parsed.clone()));
        }
        parsed
    }
}

fn read_failed(path: &Path, error: &std::io::Error) -> Diagnostic {
    Diagnostic::error(codes::READ_FAILED, format!("cannot read `{}`: {error}", path.display()))
        .with_help("check the file's permissions")
}

/// A module's names: declarations, outputs and provider configurations.
#[derive(Default)]
struct Namespaces {
    decls: IndexMap<Name, Decl, FxBuildHasher>,
    outputs: IndexMap<Name, Decl, FxBuildHasher>,
    providers: BTreeMap<String, ProviderConfig>,
}

struct Loading<'a> {
    cache: &'a mut ParseCache,
    loader: &'a dyn Loader,
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Vec<Diagnostic>,
    modules: Vec<Module>,
    by_dir: HashMap<PathBuf, usize>,
    /// Directories being loaded, outermost first, for cycle detection.
    stack: Vec<PathBuf>,
    /// Files are parsed as they are read, a piece at a time, and their text is not kept
    /// ([`load_modules_unheld`]).
    unheld: bool,
}

/// Loads the root module in `root_dir` and every module it calls, the root first.
/// Returns no modules when the root cannot be read.
pub fn load_modules(
    root_dir: &Path,
    loader: &dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Module> {
    load_modules_cached(root_dir, loader, sources, diagnostics, &mut ParseCache::none())
}

/// [`load_modules`], reusing (and filling) `cache`.
pub fn load_modules_cached(
    root_dir: &Path,
    loader: &dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
    cache: &mut ParseCache,
) -> Vec<Module> {
    load_modules_with(root_dir, loader, sources, diagnostics, cache, false)
}

/// [`load_modules`] for a run that needs the text of its files only for a diagnostic:
/// each file is parsed as it is read, a piece at a time, and never held whole (its
/// [`crate::span::SourceFile`] reads it again from the file when asked). A file that
/// is not UTF-8 is read whole, to report where.
pub fn load_modules_unheld(
    root_dir: &Path,
    loader: &dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Module> {
    load_modules_with(root_dir, loader, sources, diagnostics, &mut ParseCache::none(), true)
}

/// Loads the modules from `loader`, through `cache`, their files held or not (`unheld`).
fn load_modules_with(
    root_dir: &Path,
    loader: &dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
    cache: &mut ParseCache,
    unheld: bool,
) -> Vec<Module> {
    let mut loading = Loading {
        cache,
        loader,
        sources,
        diagnostics,
        modules: Vec::new(),
        by_dir: HashMap::new(),
        stack: Vec::new(),
        unheld,
    };
    loading.load(&normalize(root_dir));
    loading.modules
}

impl Loading<'_> {
    fn load(&mut self, dir: &Path) -> Option<usize> {
        if let Some(&index) = self.by_dir.get(dir) {
            return Some(index);
        }
        let files = self.read_sources(dir)?;
        let Namespaces { decls, outputs, providers } = self.namespace(&files);
        let index = self.modules.len();
        let module = Module { dir: dir.to_path_buf(), files, decls, outputs, providers, calls: BTreeMap::new() };
        self.modules.push(module);
        self.by_dir.insert(dir.to_path_buf(), index);
        self.stack.push(dir.to_path_buf());
        let calls = self.load_calls(index);
        self.modules[index].calls = calls;
        self.stack.pop();
        Some(index)
    }

    fn read_sources(&mut self, dir: &Path) -> Option<Vec<SourceFileAst>> {
        let paths = match self.loader.list_sources(dir) {
            Ok(paths) => paths,
            Err(error) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::READ_FAILED,
                        format!("cannot read directory `{}`: {error}", dir.display()),
                    )
                    .with_help("check the path and its permissions"),
                );
                return None;
            }
        };
        if paths.is_empty() {
            self.diagnostics.push(
                Diagnostic::error(codes::NO_SOURCE_FILES, format!("no `.infra` files in `{}`", dir.display()))
                    .with_help("a module is a directory of `.infra` files; pass the directory that holds them"),
            );
            return None;
        }
        Some(paths.into_iter().filter_map(|path| self.read_file(path)).collect())
    }

    fn read_file(&mut self, path: PathBuf) -> Option<SourceFileAst> {
        if self.unheld {
            let id = self.sources.next_id();
            let read = self
                .loader
                .open(&path)
                .and_then(|reader| crate::syntax::parse_reader(id, reader, crate::syntax::READ_PIECE));
            match read {
                Ok(Some((parsed, fingerprint))) => {
                    self.sources.add_unheld(path, fingerprint);
                    self.diagnostics.extend(parsed.diagnostics);
                    return Some(parsed.ast);
                }
                // Not UTF-8: read whole below, which reports where.
                Ok(None) => {}
                Err(error) => {
                    self.diagnostics.push(read_failed(&path, &error));
                    return None;
                }
            }
        }
        let bytes = match self.loader.read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.diagnostics.push(read_failed(&path, &error));
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => {
                let id = self.sources.add(path.clone(), text);
                let parsed = self.cache.parse(&path, id, self.sources.get(id).text());
                self.diagnostics.extend(parsed.diagnostics);
                Some(parsed.ast)
            }
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let display = path.display().to_string();
                let id = self.sources.add(path, text);
                // The lossy text keeps every valid byte in place up to the first bad one.
                let span = Span::new(id, offset, offset + 1);
                self.diagnostics.push(
                    Diagnostic::error(codes::INVALID_UTF8, format!("`{display}` is not valid UTF-8 at byte {offset}"))
                        .with_label(span, "invalid byte here")
                        .with_help("source files must be UTF-8; re-save the file as UTF-8"),
                );
                None
            }
        }
    }

    fn namespace(&mut self, files: &[SourceFileAst]) -> Namespaces {
        let mut namespaces = Namespaces::default();
        let Namespaces { decls, outputs, providers } = &mut namespaces;
        // Room for every item: grown by doubling, a module of 10,000 declarations would
        // hold room for 16,384.
        decls.reserve(files.iter().map(|ast| ast.items.len()).sum());
        for (file, ast) in files.iter().enumerate() {
            for (item_index, item) in ast.items.iter().enumerate() {
                let id = ItemId { file, item: item_index };
                if let Item::Provider(p) = item {
                    let name = p.config_name();
                    if let Some(previous) = providers.get(name.name.as_str()) {
                        self.diagnostics.push(duplicate(
                            "provider configuration",
                            &name.name,
                            name.span,
                            previous.name_span,
                        ));
                    } else {
                        let config = ProviderConfig {
                            provider: p.provider.name.to_string(),
                            item: id,
                            name_span: name.span,
                            // `if` gives zero or one configuration, used by its plain name.
                            repeated: matches!(p.repeat, Some(crate::syntax::ast::Repeat::For(_))),
                        };
                        providers.insert(name.name.to_string(), config);
                    }
                    continue;
                }
                let Some(name) = item.declared_name() else { continue };
                let (names, what) = match item {
                    Item::Output(_) => (&mut *outputs, "output"),
                    _ => (&mut *decls, "name"),
                };
                if let Some(previous) = names.get(name.name.as_str()) {
                    self.diagnostics.push(duplicate(what, &name.name, name.span, previous.name_span));
                    continue;
                }
                names.insert(name.name.clone(), Decl { kind: decl_kind(item), item: id, name_span: name.span });
            }
        }
        namespaces
    }

    fn load_calls(&mut self, index: usize) -> BTreeMap<String, usize> {
        let dir = self.modules[index].dir.clone();
        let calls: Vec<(String, String, Span)> = self.modules[index]
            .items()
            .filter_map(|(_, item)| match item {
                Item::Module(call) => Some((call.name.name.to_string(), call.source.value.clone(), call.source.span)),
                _ => None,
            })
            .collect();
        let mut resolved = BTreeMap::new();
        for (name, source, span) in calls {
            if let Some(child) = self.load_call(&dir, &source, span) {
                resolved.insert(name, child);
            }
        }
        resolved
    }

    fn load_call(&mut self, dir: &Path, source: &str, span: Span) -> Option<usize> {
        // A source with an interpolation was reported by the parser.
        if source.contains("${") {
            return None;
        }
        if !(source.starts_with("./") || source.starts_with("../")) {
            self.diagnostics.push(
                Diagnostic::error(codes::MODULE_NOT_FOUND, format!("module source `{source}` is not a local path"))
                    .with_label(span, "expected a path such as `./network`")
                    .with_help(
                        "module sources are directories relative to the calling module and start with `./` or `../`",
                    ),
            );
            return None;
        }
        let path = normalize(&dir.join(source));
        if self.stack.contains(&path) {
            let chain: Vec<String> = self.stack.iter().chain([&path]).map(|p| format!("`{}`", p.display())).collect();
            self.diagnostics.push(
                Diagnostic::error(codes::MODULE_CYCLE, "module calls itself")
                    .with_label(span, "this call closes the cycle")
                    .with_note(format!("the cycle: {}", chain.join(" -> ")))
                    .with_help("a module cannot call itself, directly or through other modules"),
            );
            return None;
        }
        if !self.loader.is_dir(&path) {
            self.diagnostics.push(
                Diagnostic::error(codes::MODULE_NOT_FOUND, format!("module directory `{}` not found", path.display()))
                    .with_label(span, "no such directory")
                    .with_help("module sources are relative to the directory of the calling module"),
            );
            return None;
        }
        self.load(&path)
    }
}

fn decl_kind(item: &Item) -> DeclKind {
    match item {
        Item::Input(_) => DeclKind::Input,
        Item::Let(_) => DeclKind::Let,
        Item::Fn(_) => DeclKind::Fn,
        Item::Resource(r) if r.mode == ResourceMode::Data => DeclKind::Data,
        Item::Resource(_) => DeclKind::Resource,
        Item::Module(_) => DeclKind::Module,
        _ => DeclKind::Output,
    }
}

fn duplicate(what: &str, name: &str, span: Span, previous: Span) -> Diagnostic {
    let help = match what {
        // Outputs are a namespace of their own: only another output can clash.
        "output" => "every output of a module needs its own name; rename one of them",
        _ => "every declaration in a module needs its own name; rename one of them",
    };
    Diagnostic::error(codes::DUPLICATE_NAME, format!("the {what} `{name}` is declared twice"))
        .with_label(span, "declared again here")
        .with_secondary(previous, "first declared here")
        .with_help(help)
}

/// Removes `.` and resolves `..` lexically, so one directory has one key.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
