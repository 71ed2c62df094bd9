//! `--format json`: diagnostics as one JSON document for editors and CI.
//!
//! Lines and columns are 1-based, columns count characters (as the human rendering
//! does); offsets are 0-based byte offsets. A diagnostic without a span has `null`
//! positions. The shape is documented in `docs/cli.md`.

use infra_compiler::{Diagnostic, SourceMap, Span};
use serde::Serialize;

use crate::paths;

#[derive(Serialize, Debug)]
pub struct Document {
    pub diagnostics: Vec<JsonDiagnostic>,
    pub errors: usize,
    pub warnings: usize,
}

/// Where a span is, in every unit a consumer may want.
#[derive(Serialize, Debug, Default)]
pub struct Location {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub start_offset: Option<u32>,
    pub end_offset: Option<u32>,
}

#[derive(Serialize, Debug)]
pub struct JsonDiagnostic {
    /// The primary span's location.
    #[serde(flatten)]
    pub location: Location,
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct JsonLabel {
    #[serde(flatten)]
    pub location: Location,
    pub message: String,
    pub primary: bool,
}

pub fn document(diagnostics: &[Diagnostic], sources: &SourceMap) -> Document {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    Document {
        diagnostics: diagnostics.iter().map(|d| diagnostic(d, sources)).collect(),
        errors,
        warnings: diagnostics.len() - errors,
    }
}

/// The document as pretty-printed JSON text.
pub fn to_string(document: &Document) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(document).unwrap_or_else(|_| String::from("{}"))
}

fn diagnostic(diagnostic: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
    JsonDiagnostic {
        location: diagnostic.primary_span().map(|s| location(s, sources)).unwrap_or_default(),
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity.as_str(),
        message: diagnostic.message.clone(),
        labels: diagnostic
            .labels
            .iter()
            .map(|l| JsonLabel { location: location(l.span, sources), message: l.message.clone(), primary: l.primary })
            .collect(),
        help: diagnostic.help.clone(),
        notes: diagnostic.notes.clone(),
    }
}

fn location(span: Span, sources: &SourceMap) -> Location {
    if span.file.0 as usize >= sources.len() {
        return Location::default();
    }
    let file = sources.get(span.file);
    // A file changed since it was parsed has no lines to give: its path and the span's
    // offsets are what is known.
    if file.read().is_none() {
        let file = Some(paths::display(&file.path));
        return Location { file, start_offset: Some(span.start), end_offset: Some(span.end), ..Location::default() };
    }
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    Location {
        file: Some(paths::display(&file.path)),
        line: Some(line + 1),
        column: Some(column + 1),
        end_line: Some(end_line + 1),
        end_column: Some(end_column + 1),
        start_offset: Some(span.start),
        end_offset: Some(span.end),
    }
}

/// A known, unmarked value as JSON for `plan --json` and `output --json`: as the state
/// stores it (sets as arrays); a number JSON has no form for (an infinity) is the
/// language's text of it.
pub fn value(value: &infra_runtime::Value) -> serde_json::Value {
    infra_runtime::state::value_to_json(value).unwrap_or_else(|| serde_json::Value::String(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;
    use std::path::PathBuf;

    #[test]
    fn positions_are_one_based_and_offsets_zero_based() {
        let mut sources = SourceMap::new();
        let file = sources.add(PathBuf::from("./main.infra"), "let a = 1\nlet x = nope\n".to_string());
        let diagnostics = vec![
            Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `nope`")
                .with_label(Span::new(file, 18, 22), "not found"),
            Diagnostic::warning(codes::UNUSED, "`a` is never used"),
        ];
        let value = serde_json::to_value(document(&diagnostics, &sources)).unwrap_or_default();
        assert_eq!(value["errors"], 1);
        assert_eq!(value["warnings"], 1);
        let first = &value["diagnostics"][0];
        assert_eq!(first["file"], "main.infra");
        assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(2), Some(9)));
        assert_eq!((first["end_line"].as_u64(), first["end_column"].as_u64()), (Some(2), Some(13)));
        assert_eq!((first["start_offset"].as_u64(), first["end_offset"].as_u64()), (Some(18), Some(22)));
        assert_eq!(first["code"], "E0201");
        assert_eq!(first["labels"][0]["primary"], true);
        assert_eq!(first["labels"][0]["line"], 2);
        let second = &value["diagnostics"][1];
        assert!(second["file"].is_null() && second["line"].is_null());
        assert_eq!(second["severity"], "warning");
    }

    #[test]
    fn a_file_changed_since_it_was_read_has_offsets_but_no_lines() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("main.infra");
        std::fs::write(&path, "let x = nope\n").expect("written");
        let mut sources = SourceMap::new();
        let file = sources.add(path.clone(), "let x = nope\n".to_string());
        sources.release_texts();
        std::fs::write(&path, "\n\nlet x = 1\n").expect("written");
        let diagnostics =
            vec![Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `nope`")
                .with_label(Span::new(file, 8, 12), "")];
        let value = serde_json::to_value(document(&diagnostics, &sources)).unwrap_or_default();
        let first = &value["diagnostics"][0];
        assert!(first["file"].as_str().is_some_and(|f| f.ends_with("main.infra")), "{first}");
        assert!(first["line"].is_null() && first["end_column"].is_null(), "{first}");
        assert_eq!((first["start_offset"].as_u64(), first["end_offset"].as_u64()), (Some(8), Some(12)));
    }
}
