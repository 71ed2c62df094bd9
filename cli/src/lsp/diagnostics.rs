//! Compiler diagnostics as LSP diagnostics, published per file of each module that has
//! an open document.
//!
//! The message is the compiler's, with its help and notes on the lines after, so the
//! editor shows what `infra check` prints. The help travels in `data` too, for the
//! "did you mean" code action.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use infra_compiler::{Diagnostic, Severity, SourceMap};
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString};

use super::position::LineIndex;
use super::{location_in, Server};

/// The diagnostics of every file of every module with an open document, including
/// empty lists for files that had some before (which clears them in the editor).
pub fn publish(server: &mut Server) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    // A set: documents of one directory need not be next to each other in path order
    // (`a/main.infra`, `a/sub/x.infra`, `a/vars.infra`).
    let dirs: BTreeSet<PathBuf> =
        server.workspace.documents.keys().filter_map(|p| p.parent().map(PathBuf::from)).collect();
    let mut out: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for path in &server.published {
        out.insert(path.clone(), Vec::new());
    }
    for dir in dirs {
        let snapshot = server.workspace.snapshot(&dir);
        let analysis = &snapshot.analysis;
        let Some(root) = analysis.modules.first() else {
            // Nothing loaded (say, the directory went away): report on the open files.
            for path in server.workspace.documents.keys().filter(|p| p.parent() == Some(&dir)) {
                let entry = out.entry(path.clone()).or_default();
                entry.extend(analysis.diagnostics.iter().map(|d| to_lsp(d, &analysis.sources)));
            }
            continue;
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
                None => match server.workspace.documents.keys().find(|p| p.parent() == Some(dir.as_path())) {
                    Some(path) => path.clone(),
                    None => continue,
                },
            };
            // Diagnostics inside called modules are published when one of their files is
            // open (then they are analysed as a module of their own).
            if diagnostic.primary_span().is_none_or(|s| root_files.contains(&s.file)) {
                out.entry(path).or_default().push(to_lsp(diagnostic, &analysis.sources));
            }
        }
    }
    out
}

/// One compiler diagnostic in LSP form.
pub fn to_lsp(diagnostic: &Diagnostic, sources: &SourceMap) -> lsp_types::Diagnostic {
    let range = match diagnostic.primary_span() {
        Some(span) => {
            let file = sources.get(span.file);
            LineIndex::new(&file.text).range(span.start as usize, span.end as usize)
        }
        None => lsp_types::Range::default(),
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
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation { location: location_in(sources, l.span)?, message: l.message.clone() })
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("infra".to_string()),
        message,
        related_information: if related.is_empty() { None } else { Some(related) },
        data: diagnostic.help.as_ref().map(|h| serde_json::Value::String(h.clone())),
        ..Default::default()
    }
}
