//! The Infra language front end: parsing, name resolution, type checking, the
//! dependency graph and the formatter.
//!
//! The compiler does no I/O of its own: source files come through a [`Loader`], and
//! results are plain data (syntax trees, side tables, [`Diagnostic`]s) that the CLI and
//! the language server render.

// pest is built without its `std` feature, which probes the remaining native stack on
// every rule call (about a tenth of parsing time); the lexical pre-scan already bounds
// nesting, so the probe buys nothing here. Without `std`, the parser pest_derive
// generates names the `alloc` crate.
extern crate alloc;

pub mod check;
pub mod diagnostic;
pub mod fmt;
pub mod graph;
pub mod habits;
pub mod loader;
pub mod name;
pub mod plugin;
pub mod resolve;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod types;

use std::path::Path;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use loader::{FsLoader, Loader, MemoryLoader};
pub use schema::Schemas;
pub use span::{FileId, Offsets, SourceMap, Span};

/// How many threads to share `amount` of work among, when each must get at least
/// `per_thread` of it: 1 below twice that, at most one per core.
fn workers(amount: usize, per_thread: usize) -> usize {
    (amount / per_thread).min(cores()).max(1)
}

/// The cores this process may use, asked once: `available_parallelism` reads the
/// control groups' quota files each time it is asked.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Everything `infra check` knows about a root module and the modules it calls.
pub struct Analysis {
    pub sources: SourceMap,
    /// Every module, the root first.
    pub modules: Vec<resolve::Module>,
    /// Every module's dependency graph, in the order of `modules` (the root's first;
    /// see [`Analysis::graph`]).
    pub graphs: Vec<graph::DependencyGraph>,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The checker's side tables (references, declaration types), indexed like `modules`.
    pub tables: check::Tables,
}

impl Analysis {
    /// The root module's dependency graph (empty when the root could not be loaded).
    pub fn graph(&self) -> &graph::DependencyGraph {
        static EMPTY: std::sync::OnceLock<graph::DependencyGraph> = std::sync::OnceLock::new();
        self.graphs.first().unwrap_or_else(|| EMPTY.get_or_init(graph::DependencyGraph::default))
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads, parses, resolves and checks the module in `root_dir` and every module it calls.
pub fn analyze(root_dir: &Path, loader: &dyn Loader, schemas: &dyn Schemas) -> Analysis {
    analyze_cached(root_dir, loader, schemas, &mut resolve::ParseCache::none())
}

/// [`analyze`], reusing the syntax trees in `cache` of files whose text has not changed
/// since the last call with the same cache (the language server re-analyses on every
/// keystroke; only the edited file needs parsing again).
pub fn analyze_cached(
    root_dir: &Path,
    loader: &dyn Loader,
    schemas: &dyn Schemas,
    cache: &mut resolve::ParseCache,
) -> Analysis {
    analyze_with(root_dir, loader, schemas, cache, false)
}

/// [`analyze`] of the module in the file system, for a run that evaluates it (a plan, an
/// apply): once every file is parsed, the texts are let go ([`SourceMap::release_texts`])
/// and read again only if a diagnostic or a saved plan's digest needs them. Ten thousand
/// resources are 13 MB of text, otherwise held through the whole plan beside their tree.
pub fn analyze_files(root_dir: &Path, schemas: &dyn Schemas) -> Analysis {
    analyze_with(root_dir, &FsLoader, schemas, &mut resolve::ParseCache::none(), true)
}

fn analyze_with(
    root_dir: &Path,
    loader: &dyn Loader,
    schemas: &dyn Schemas,
    cache: &mut resolve::ParseCache,
    release_texts: bool,
) -> Analysis {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let modules = if release_texts {
        let modules = resolve::load_modules_unheld(root_dir, loader, &mut sources, &mut diagnostics);
        // A file that is not UTF-8 was read whole.
        sources.release_texts();
        modules
    } else {
        resolve::load_modules_cached(root_dir, loader, &mut sources, &mut diagnostics, cache)
    };
    let (graphs, tables): (Vec<graph::DependencyGraph>, check::Tables) = if modules.is_empty() {
        (Vec::new(), check::Tables::default())
    } else {
        let tables = check::check_modules(&modules, schemas, &mut diagnostics);
        let graphs =
            modules.iter().zip(&tables.modules).map(|(m, t)| graph::build_module(m, t, &mut diagnostics)).collect();
        (graphs, tables)
    };
    diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    Analysis { sources, modules, graphs, diagnostics, tables }
}
