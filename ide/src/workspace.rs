//! What the editor has open: documents, and one analysis per module directory, built
//! from the files on disk overlaid with the editor's unsaved buffers.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use infra_compiler::resolve::{normalize, ParseCache};
use infra_compiler::{Analysis, FileId, FsLoader, Loader, SourceMap, Span};

use crate::index::{index_module, ModuleIndex};
use crate::line_index::{LineIndex, Position};
use crate::text::{apply_change, TextChange};
use crate::{Error, Location, Result};

/// The schemas a module directory is checked with: the built-in ones and the plugins
/// `infra init` cached for it (`.infra/plugins/schemas.json`), read again only when that
/// file changes. Each reading is kept for the life of the server (hover hands out
/// `'static` schemas), so a server leaks one reading per `infra init` that changed it.
pub fn schemas_for(dir: &Path) -> &'static infra_provider_plugin::schemas::WithPlugins<'static> {
    use infra_provider_plugin::schema::SchemaCache;
    use infra_provider_plugin::schemas::WithPlugins;
    type Loaded = (Option<std::time::SystemTime>, &'static WithPlugins<'static>);
    let modified = std::fs::metadata(SchemaCache::path(dir)).and_then(|m| m.modified()).ok();
    let mut loaded = plugin_schemas().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((when, schemas)) = loaded.get(dir) {
        if *when == modified {
            return schemas;
        }
    }
    let plugins = SchemaCache::read(dir).map(|cache| cache.providers()).unwrap_or_default();
    let schemas: &'static WithPlugins<'static> =
        Box::leak(Box::new(WithPlugins::with(infra_stdlib::builtin(), plugins)));
    let entry: Loaded = (modified, schemas);
    loaded.insert(dir.to_path_buf(), entry);
    schemas
}

/// A plugin provider named `name` that any module directory analysed so far has cached
/// (hover and completion know the resource, not its module directory).
pub fn plugin_provider(name: &str) -> Option<&'static infra_compiler::schema::ProviderSchema> {
    let loaded = plugin_schemas().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loaded.values().find_map(|(_, schemas)| schemas.plugin(name))
}

type PluginSchemas = std::sync::Mutex<
    HashMap<PathBuf, (Option<std::time::SystemTime>, &'static infra_provider_plugin::schemas::WithPlugins<'static>)>,
>;

fn plugin_schemas() -> &'static PluginSchemas {
    static LOADED: std::sync::OnceLock<PluginSchemas> = std::sync::OnceLock::new();
    LOADED.get_or_init(Default::default)
}

/// An open document: the editor's text, which wins over the file on disk.
pub struct Document {
    pub text: String,
    pub version: i32,
}

/// One module directory's analysis and the name index of each of its modules.
pub struct Snapshot {
    pub analysis: Analysis,
    indexes: OnceCell<Vec<ModuleIndex>>,
}

impl Snapshot {
    pub fn indexes(&self) -> &[ModuleIndex] {
        self.indexes
            .get_or_init(|| (0..self.analysis.modules.len()).map(|i| index_module(&self.analysis.modules, i)).collect())
    }

    /// The file id and text of `path`, if the analysis loaded it.
    pub fn file(&self, path: &Path) -> Option<(infra_compiler::FileId, &str)> {
        let id = self.analysis.sources.find(path)?;
        Some((id, self.analysis.sources.get(id).text()))
    }

    /// The module (index) that owns `path`.
    pub fn module_of(&self, path: &Path) -> Option<usize> {
        let dir = path.parent()?;
        self.analysis.modules.iter().position(|m| m.dir == dir)
    }
}

struct Cached {
    generation: u64,
    snapshot: Rc<Snapshot>,
}

#[derive(Default)]
pub struct Workspace {
    /// The workspace folders the client opened.
    pub folders: Vec<PathBuf>,
    pub documents: BTreeMap<PathBuf, Document>,
    /// Bumped by every edit; a snapshot from an older generation is stale.
    generation: u64,
    snapshots: HashMap<PathBuf, Cached>,
    parse_caches: HashMap<PathBuf, ParseCache>,
}

impl Workspace {
    pub fn open(&mut self, path: PathBuf, text: String, version: i32) {
        self.documents.insert(normalize(&path), Document { text, version });
        self.generation += 1;
    }

    pub fn close(&mut self, path: &Path) {
        self.documents.remove(&normalize(path));
        self.generation += 1;
    }

    /// Marks every analysis stale (a file may have changed on disk).
    pub fn touch(&mut self) {
        self.generation += 1;
    }

    /// Applies the editor's changes to an open document, in order; false when the
    /// document is not open.
    pub fn edit(&mut self, path: &Path, version: i32, changes: impl IntoIterator<Item = TextChange>) -> bool {
        self.generation += 1;
        let Some(document) = self.documents.get_mut(&normalize(path)) else { return false };
        document.version = version;
        for change in changes {
            apply_change(&mut document.text, change);
        }
        true
    }

    /// The analysis of the module in `dir`, reusing the last one when nothing changed
    /// since.
    pub fn snapshot(&mut self, dir: &Path) -> Rc<Snapshot> {
        let dir = normalize(dir);
        if let Some(cached) = self.snapshots.get(&dir) {
            if cached.generation == self.generation {
                return cached.snapshot.clone();
            }
        }
        let loader = Overlay { documents: &self.documents };
        let cache = self.parse_caches.entry(dir.clone()).or_default();
        let analysis = infra_compiler::analyze_cached(&dir, &loader, schemas_for(&dir), cache);
        let snapshot = Rc::new(Snapshot { analysis, indexes: OnceCell::new() });
        self.snapshots.insert(dir, Cached { generation: self.generation, snapshot: snapshot.clone() });
        snapshot
    }

    /// The analysis of the module `path` belongs to.
    pub fn snapshot_for(&mut self, path: &Path) -> Rc<Snapshot> {
        let dir = path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        self.snapshot(&dir)
    }

    /// Every directory with `.infra` files below the workspace folders (and the
    /// directories of open documents), for workspace symbols and for finding a module's
    /// callers. Hidden directories, `target` and `node_modules` are skipped, and the
    /// walk stops after a few thousand directories so a huge folder cannot stall it.
    pub fn module_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut pending: Vec<PathBuf> = self.folders.clone();
        let mut visited = 0;
        while let Some(dir) = pending.pop() {
            visited += 1;
            if visited > 5000 {
                break;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut has_sources = false;
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if path.is_dir() {
                    if !name.starts_with('.') && name != "target" && name != "node_modules" {
                        pending.push(path);
                    }
                } else if name.ends_with(".infra") {
                    has_sources = true;
                }
            }
            if has_sources {
                dirs.push(normalize(&dir));
            }
        }
        for path in self.documents.keys() {
            if let Some(dir) = path.parent() {
                dirs.push(dir.to_path_buf());
            }
        }
        dirs.sort();
        dirs.dedup();
        dirs
    }
}

impl Workspace {
    /// The analysis of a document's module and the document's place in it.
    pub(crate) fn document(&mut self, path: &Path) -> Result<DocumentRef> {
        let path = normalize(path);
        let snapshot = self.snapshot_for(&path);
        let Some((file, _)) = snapshot.file(&path) else {
            return Err(Error::invalid(format!(
                "`{}` is not an open document or a readable `.infra` file",
                path.display()
            )));
        };
        Ok(DocumentRef { snapshot, path, file })
    }

    /// The analysis of `path`'s module with `text` in place of the open document's text,
    /// for a question the real text cannot answer because it does not parse. The
    /// document keeps its text, and the next request analyses that again (the parse
    /// cache keeps that cheap: only the changed item is parsed twice).
    pub(crate) fn snapshot_with_text(&mut self, path: &Path, text: String) -> Rc<Snapshot> {
        let path = normalize(path);
        let Some(document) = self.documents.get_mut(&path) else { return self.snapshot_for(&path) };
        let original = std::mem::replace(&mut document.text, text);
        self.generation += 1;
        let snapshot = self.snapshot_for(&path);
        if let Some(document) = self.documents.get_mut(&path) {
            document.text = original;
        }
        self.generation += 1;
        snapshot
    }

    /// A document and the byte offset of `position` in it.
    pub(crate) fn locate(&mut self, path: &Path, position: Position) -> Result<Located> {
        let document = self.document(path)?;
        let offset = document.index().offset(position).map_err(|e| Error::invalid(e.0))?;
        Ok(Located { document, offset })
    }
}

/// A document inside its module's analysis.
pub(crate) struct DocumentRef {
    pub snapshot: Rc<Snapshot>,
    pub path: PathBuf,
    pub file: FileId,
}

impl DocumentRef {
    pub fn text(&self) -> &str {
        self.snapshot.analysis.sources.get(self.file).text()
    }

    pub fn index(&self) -> LineIndex<'_> {
        LineIndex::new(self.text())
    }

    /// The module the document belongs to (0, the root, unless it was loaded as a call).
    pub fn module(&self) -> usize {
        self.snapshot.module_of(&self.path).unwrap_or(0)
    }

    /// Whether a span of this document holds `offset` (its ends included).
    pub fn holds(&self, span: Span, offset: usize) -> bool {
        span.file == self.file && span.start as usize <= offset && offset <= span.end as usize
    }
}

/// A document and a byte offset in it.
pub(crate) struct Located {
    pub document: DocumentRef,
    pub offset: usize,
}

/// The location of a span in one of `sources`.
pub(crate) fn location(sources: &SourceMap, span: Span) -> Location {
    let file = sources.get(span.file);
    let range = LineIndex::new(file.text()).range(span.start as usize, span.end as usize);
    Location { path: file.path.clone(), range }
}

/// The file system with the open documents laid over it.
struct Overlay<'a> {
    documents: &'a BTreeMap<PathBuf, Document>,
}

impl Loader for Overlay<'_> {
    fn list_sources(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let open = self
            .documents
            .keys()
            .filter(|p| p.parent() == Some(dir) && p.extension().is_some_and(|e| e == "infra"))
            .cloned();
        let mut files = match FsLoader.list_sources(dir) {
            Ok(files) => files,
            // A directory that exists only in unsaved buffers is still a module.
            Err(_) if self.documents.keys().any(|p| p.parent() == Some(dir)) => Vec::new(),
            Err(error) => return Err(error),
        };
        files.extend(open);
        files.sort();
        files.dedup();
        Ok(files)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.documents.get(path) {
            Some(document) => Ok(document.text.clone().into_bytes()),
            None => FsLoader.read(path),
        }
    }

    fn is_dir(&self, path: &Path) -> bool {
        FsLoader.is_dir(path) || self.documents.keys().any(|p| p.starts_with(path) && p != path)
    }
}
