//! Human rendering of compiler diagnostics with miette, and the one-line messages and
//! summaries the commands print around them.
//!
//! The compiler's [`Diagnostic`] is plain data; here it is wrapped in a [`Report`] that
//! implements `miette::Diagnostic` and handed to miette's graphical handler. Without colour
//! (not a terminal, `NO_COLOR`, `--color never`) the rendering is fixed at 100 columns and
//! uses no escape codes, so it is stable enough to snapshot.

use std::fmt;
use std::io::Write;

use infra_compiler::span::SourceFile;
use infra_compiler::{Diagnostic, FileId, Severity, SourceMap, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode,
    SourceSpan, SpanContents,
};

use crate::{paths, Output};

/// The width of the colourless rendering, fixed so snapshots do not depend on the terminal.
pub const PLAIN_WIDTH: usize = 100;

/// Renders one diagnostic. Labels in the primary label's file are drawn on its excerpt;
/// labels in other files (the other declaration of a duplicate name, say) follow as
/// "related" excerpts of their own.
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let report = Report::new(diagnostic, sources);
    let handler = if color {
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode()).with_width(terminal_width())
    } else {
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(PLAIN_WIDTH)
    };
    let mut text = String::new();
    if handler.render_report(&mut text, &report).is_err() {
        // miette only fails when a span cannot be read; fall back to the message alone
        // rather than lose the diagnostic.
        text = format!("{}: {}\n", report.code, report.message);
    }
    for note in &diagnostic.notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    text
}

/// Writes every diagnostic to stderr, each followed by a blank line.
pub fn print_diagnostics(out: Output, diagnostics: &[Diagnostic], sources: &SourceMap) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        // A closed stderr leaves nothing useful to do with the error.
        let _ = writeln!(stderr, "{}", render(diagnostic, sources, out.stderr_color));
    }
}

/// `error: MESSAGE` on stderr, for failures that are not about a span of source.
pub fn print_error(out: Output, message: &str) {
    eprintln!("{}: {message}", paint("error", "1;31", out.stderr_color));
}

/// The closing line of a command: `error: 2 errors, 1 warning` or `ok: 3 files checked`.
pub fn print_summary(out: Output, ok: bool, text: &str) {
    if ok {
        eprintln!("{}: {text}", paint("ok", "1;32", out.stderr_color));
    } else {
        eprintln!("{}: {text}", paint("error", "1;31", out.stderr_color));
    }
}

/// `n errors, m warnings`, leaving out a zero count of warnings.
pub fn count_summary(errors: usize, warnings: usize) -> String {
    let mut text = plural(errors, "error");
    if warnings > 0 {
        text.push_str(&format!(", {}", plural(warnings, "warning")));
    }
    text
}

pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Wraps `text` in an SGR escape sequence when colour is on.
pub fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The terminal width for coloured output, from `COLUMNS` when the shell exports it.
fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&w| w >= 40).unwrap_or(PLAIN_WIDTH)
}

/// The file a span points into, if the source map has it.
fn source_file(sources: &SourceMap, file: FileId) -> Option<&SourceFile> {
    ((file.0 as usize) < sources.len()).then(|| sources.get(file))
}

/// A compiler diagnostic in the shape miette wants.
struct Report {
    /// `error[E0201]`: miette prints the code on its own line, so the severity goes with it
    /// to keep colourless output greppable.
    code: String,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<FileSource>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> Report {
        let (severity, word) = match diagnostic.severity {
            Severity::Error => (miette::Severity::Error, "error"),
            Severity::Warning => (miette::Severity::Warning, "warning"),
        };
        let primary_file = diagnostic.primary_span().map(|span| span.file);
        let mut report = Report {
            code: format!("{word}[{}]", diagnostic.code),
            severity,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            source: primary_file.and_then(|file| FileSource::new(sources, file)),
            labels: Vec::new(),
            related: Vec::new(),
        };
        for label in &diagnostic.labels {
            let Some(file) = source_file(sources, label.span.file) else { continue };
            let labeled = labeled_span(file, label.span, &label.message, label.primary);
            if Some(label.span.file) == primary_file {
                report.labels.push(labeled);
            } else {
                report.related_in(sources, label.span.file).labels.push(labeled);
            }
        }
        report
    }

    /// The related report holding labels for `file`, created on first use.
    fn related_in(&mut self, sources: &SourceMap, file: FileId) -> &mut Report {
        let source = FileSource::new(sources, file);
        let name = source.as_ref().map(|s| s.name.clone()).unwrap_or_default();
        let index = match self.related.iter().position(|r| r.source.as_ref().map(|s| &s.name) == Some(&name)) {
            Some(index) => index,
            None => {
                self.related.push(Report {
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    message: format!("related: `{name}`"),
                    help: None,
                    source,
                    labels: Vec::new(),
                    related: Vec::new(),
                });
                self.related.len() - 1
            }
        };
        &mut self.related[index]
    }
}

/// A miette label for a span, clamped to the text so a stale span cannot break rendering.
fn labeled_span(file: &SourceFile, span: Span, message: &str, primary: bool) -> LabeledSpan {
    let start = floor_char_boundary(&file.text, span.start as usize);
    let end = floor_char_boundary(&file.text, (span.end as usize).max(start));
    let label = (!message.is_empty()).then(|| message.to_string());
    let source_span = SourceSpan::from(start..end);
    if primary {
        LabeledSpan::new_primary_with_span(label, source_span)
    } else {
        LabeledSpan::new_with_span(label, source_span)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.source.is_none() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

/// One source file under its display name.
///
/// This is miette's `NamedSource` with one difference: miette counts the column of the
/// excerpt header in bytes, the compiler (and `--format json`) in characters. Reporting the
/// character column keeps `file:line:col` identical in both outputs on non-ASCII lines.
struct FileSource {
    name: String,
    text: String,
}

impl FileSource {
    fn new(sources: &SourceMap, file: FileId) -> Option<FileSource> {
        let file = source_file(sources, file)?;
        Some(FileSource { name: paths::display(&file.path), text: file.text.clone() })
    }
}

impl SourceCode for FileSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.text.read_span(span, context_lines_before, context_lines_after)?;
        let column = if contents.column() == 0 { 0 } else { char_column(&self.text, span.offset()) };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}

/// Zero-based column of a byte offset, in characters.
fn char_column(text: &str, offset: usize) -> usize {
    let offset = floor_char_boundary(text, offset);
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    text[line_start..offset].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_compiler::diagnostic::codes;
    use std::path::PathBuf;

    fn one_file(text: &str) -> (SourceMap, FileId) {
        let mut sources = SourceMap::new();
        let file = sources.add(PathBuf::from("main.infra"), text.to_string());
        (sources, file)
    }

    #[test]
    fn plain_rendering_shows_code_location_excerpt_and_help() {
        let text = "let x = undefined_name\n";
        let (sources, file) = one_file(text);
        let diagnostic = Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `undefined_name`")
            .with_label(Span::new(file, 8, 22), "not declared in this module")
            .with_help("declare it with `let undefined_name = ...`")
            .with_note("names are module-wide");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("error[E0201]"), "{rendered}");
        assert!(rendered.contains("main.infra:1:9"), "{rendered}");
        assert!(rendered.contains("let x = undefined_name"), "{rendered}");
        assert!(rendered.contains("not declared in this module"), "{rendered}");
        assert!(rendered.contains("help: declare it"), "{rendered}");
        assert!(rendered.contains("note: names are module-wide"), "{rendered}");
        assert!(!rendered.contains('\x1b'), "{rendered}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "let s = \"é\" + nope\n";
        let (sources, file) = one_file(text);
        let start = text.find("nope").unwrap_or_default();
        let diagnostic = Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `nope`")
            .with_label(Span::new(file, start, start + 4), "");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("main.infra:1:15"), "{rendered}");
    }

    #[test]
    fn labels_in_other_files_are_rendered_as_related_excerpts() {
        let mut sources = SourceMap::new();
        let a = sources.add(PathBuf::from("a.infra"), "let x = 1\n".to_string());
        let b = sources.add(PathBuf::from("b.infra"), "let x = 2\n".to_string());
        let diagnostic = Diagnostic::error(codes::DUPLICATE_NAME, "`x` is declared twice")
            .with_label(Span::new(b, 4, 5), "declared again here")
            .with_secondary(Span::new(a, 4, 5), "first declared here");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("b.infra:1:5"), "{rendered}");
        assert!(rendered.contains("a.infra:1:5"), "{rendered}");
        assert!(rendered.contains("first declared here"), "{rendered}");
    }

    #[test]
    fn out_of_range_spans_and_files_do_not_panic() {
        let (sources, file) = one_file("let x = 1");
        let diagnostic = Diagnostic::error(codes::SYNTAX, "syntax error")
            .with_label(Span::new(file, 50, 60), "here")
            .with_secondary(Span::new(FileId(9), 0, 1), "nowhere");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("syntax error"), "{rendered}");
    }

    #[test]
    fn summaries_pluralise() {
        assert_eq!(count_summary(1, 0), "1 error");
        assert_eq!(count_summary(3, 1), "3 errors, 1 warning");
        assert_eq!(count_summary(0, 2), "0 errors, 2 warnings");
    }
}
