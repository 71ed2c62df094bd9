//! placeholder
use std::path::{Path, PathBuf};
use crate::{Diagnostic, Loader, SourceMap};
use crate::syntax::ast::SourceFileAst;
pub struct Module { pub dir: PathBuf, pub files: Vec<SourceFileAst> }
pub fn load_modules(root: &Path, loader: &dyn Loader, sources: &mut SourceMap, diagnostics: &mut Vec<Diagnostic>) -> Vec<Module> {
    let mut files = Vec::new();
    for path in loader.list_sources(root).unwrap_or_default() {
        let text = String::from_utf8(loader.read(&path).unwrap_or_default()).unwrap_or_default();
        let id = sources.add(path, text.clone());
        let parsed = crate::syntax::parse_file(id, &text);
        diagnostics.extend(parsed.diagnostics);
        files.push(parsed.ast);
    }
    vec![Module { dir: root.to_path_buf(), files }]
}
