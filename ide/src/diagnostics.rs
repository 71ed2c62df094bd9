//! The compiler's diagnostics for the editor, per file of each module that has an open
//! document.
//!
//! The message is the compiler's, with its help and notes on the lines after, so the
//! editor shows what `infra check` prints. The help is kept apart too, for the "did you
//! mean" code action.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use infra_compiler::SourceMap;

use crate::line_index::{LineIndex, Range};
use crate::workspace::{location, Workspace};
use crate::Location;

/// One compiler diagnostic, placed in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the primary label points; the start of the file for a diagnostic about no
    /// place in it.
    pub range: Range,
    pub severity: Severity,
    /// `E0102`.
    pub code: String,
    /// The message, the primary label's text, then `help:` and `note:` lines.
    pub message: String,
    /// The other labels.
    pub related: Vec<Related>,
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary label of a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// The diagnostics of every file of every module with an open document, including
/// empty lists for the files in `published` (which clears them in the editor).
pub fn diagnostics(workspace: &mut Workspace, published: &BTreeSet<PathBuf>) -> BTreeMap<PathBuf, Vec<Diagnostic>> {
    // A set: documents of one directory need not be next to each other in path order
    // (`a/main.infra`, `a/sub/x.infra`, `a/vars.infra`).
    let dirs: BTreeSet<PathBuf> = workspace.documents.keys().filter_map(|p| p.parent().map(PathBuf::from)).collect();
    let mut out: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
    for path in published {
        out.insert(path.clone(), Vec::new());
    }
    for dir in dirs {
        module_diagnostics(workspace, &dir, &mut out);
    }
    out
}

/// The diagnostics of the module in `dir`, by file.
fn module_diagnostics(workspace: &mut Workspace, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<Diagnostic>>) {
    let snapshot = workspace.snapshot(dir);
    let analysis = &snapshot.analysis;
    let open_here = || workspace.documents.keys().filter(|p| p.parent() == Some(dir));
    let Some(root) = analysis.modules.first() else {
        // Nothing loaded (say, the directory went away): report on the open files.
        for path in open_here() {
            let entry = out.entry(path.clone()).or_default();
            entry.extend(analysis.diagnostics.iter().map(|d| convert(d, &analysis.sources)));
        }
        return;
    };
    let root_files: Vec<infra_compiler::FileId> = root.files.iter().map(|f| f.file).collect();
    for file in &root.files {
        out.entry(analysis.sources.get(file.file).path.clone()).or_default();
    }
    for diagnostic in &analysis.diagnostics {
        let path = match diagnostic.primary_span() {
            Some(span) => analysis.sources.get(span.file).path.clone(),
            // A diagnostic about no file (an unreadable directory) goes on the open
            // documents of the module.
            None => match open_here().next() {
                Some(path) => path.clone(),
                None => continue,
            },
        };
        // Diagnostics inside called modules are published when one of their files is
        // open (then they are analysed as a module of their own).
        if diagnostic.primary_span().is_none_or(|s| root_files.contains(&s.file)) {
            out.entry(path).or_default().push(convert(diagnostic, &analysis.sources));
        }
    }
}

/// One compiler diagnostic for the editor.
pub(crate) fn convert(diagnostic: &infra_compiler::Diagnostic, sources: &SourceMap) -> Diagnostic {
    let range = match diagnostic.primary_span() {
        Some(span) => {
            let file = sources.get(span.file);
            LineIndex::new(file.text()).range(span.start as usize, span.end as usize)
        }
        None => Range::default(),
    };
    let mut message = diagnostic.message.clone();
    if let Some(label) = diagnostic.labels.iter().find(|l| l.primary) {
        if !label.message.is_empty() {
            message.push_str(&format!(": {}", label.message));
        }
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    for note in &diagnostic.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    let related = diagnostic
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| Related { location: location(sources, l.span), message: l.message.clone() })
        .collect();
    Diagnostic {
        range,
        severity: match diagnostic.severity {
            infra_compiler::Severity::Error => Severity::Error,
            infra_compiler::Severity::Warning => Severity::Warning,
        },
        code: diagnostic.code.as_str().to_string(),
        message,
        related,
        help: diagnostic.help.clone(),
    }
}
