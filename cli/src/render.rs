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
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

use crate::output::Output;
use crate::paths;

/// The width of the colourless rendering, fixed so snapshots do not depend on the terminal.
pub const PLAIN_WIDTH: usize = 100;

/// Renders one diagnostic: code, message, an excerpt per file its labels point into (the
/// primary label's file first), help and notes.
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
    if let Some(location) = &report.unshown {
        text.push_str(&format!("  note: at {location}\n"));
    }
    for note in &diagnostic.notes {
        text.push_str(&format!("  note: {}\n", control_pictures(note)));
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

/// Writes to stdout. A closed pipe (`infra graph | head -1`) is not worth reporting, and
/// `print!` would panic on it.
pub fn to_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes to stderr, ignoring a closed stream as [`to_stdout`] does.
pub fn to_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The closing line of a command: `error: 2 errors, 1 warning` or `ok: 3 files checked`.
pub fn print_summary(out: Output, ok: bool, text: &str) {
    if ok {
        to_stderr(&format!("{}: {text}\n", paint("ok", "1;32", out.stderr_color)));
    } else {
        to_stderr(&format!("{}: {text}\n", paint("error", "1;31", out.stderr_color)));
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
    source: ModuleSource,
    labels: Vec<LabeledSpan>,
    /// Where the diagnostic is, when its lines cannot be drawn (too long, or the file
    /// changed since it was read), and why.
    unshown: Option<String>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> Report {
        let (severity, word) = match diagnostic.severity {
            Severity::Error => (miette::Severity::Error, "error"),
            Severity::Warning => (miette::Severity::Warning, "warning"),
        };
        let mut source = ModuleSource::default();
        // The primary label's file goes first, so its excerpt is drawn first.
        let mut unshown = None;
        if let Some(span) = diagnostic.primary_span() {
            let file = source_file(sources, span.file);
            if let (None, Some(file)) = (source.add(sources, span.file, diagnostic), file) {
                let path = paths::display(&file.path);
                unshown = Some(match file.read() {
                    Some(_) => {
                        let (line, column) = file.line_col(span.start);
                        format!("{path}:{}:{} (the line is too long to show)", line + 1, column + 1)
                    }
                    None => format!("{path} (the file changed since it was read; its lines are not shown)"),
                });
            }
        }
        let labels = diagnostic
            .labels
            .iter()
            .filter_map(|label| {
                let span = source.add(sources, label.span.file, diagnostic)?.span(label.span, sources);
                let message = (!label.message.is_empty()).then(|| control_pictures(&label.message));
                Some(if label.primary {
                    LabeledSpan::new_primary_with_span(message, span)
                } else {
                    LabeledSpan::new_with_span(message, span)
                })
            })
            .collect();
        Report {
            code: format!("{word}[{}]", diagnostic.code),
            severity,
            message: control_pictures(&diagnostic.message),
            help: diagnostic.help.as_deref().map(control_pictures),
            source,
            labels,
            unshown,
        }
    }
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
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        (!self.source.files.is_empty()).then_some(&self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = _>>)
    }
}

/// The files a diagnostic's labels point into, laid end to end in one offset space.
///
/// miette draws a diagnostic against a single source, but a diagnostic's labels may be in
/// several files (the two declarations of a duplicate name). Each file gets its own range
/// of offsets, and [`SourceCode::read_span`] answers with the name of the file a span falls
/// in, so every excerpt is headed by its own `file:line:col`.
#[derive(Default)]
struct ModuleSource {
    files: Vec<VirtualFile>,
}

struct VirtualFile {
    id: FileId,
    name: String,
    /// The lines of the file that the diagnostic's labels cover, with a line of context
    /// either side (what miette draws), control characters shown as pictures (`␛`), plus
    /// one space when a label sits at the very end of the file (where a syntax error says
    /// "file ends here"): miette draws no label past the last character. Only these
    /// lines, not the whole file, so that rendering many diagnostics of a large file stays
    /// linear.
    text: String,
    /// The byte range of the file the excerpt shows; it starts at the start of a line.
    shown: std::ops::Range<usize>,
    /// The zero-based line the excerpt starts on.
    first_line: usize,
    /// Where the excerpt starts in the shared offset space.
    base: usize,
}

/// Lines longer than this (in bytes) are not drawn: the diagnostic says where it is
/// instead. miette cannot draw a label past column 65,535, and nobody reads such a line.
const LONGEST_SHOWN_LINE: usize = 10_000;

impl ModuleSource {
    /// The file's entry, added on first use; `None` when the source map does not have it,
    /// its lines are too long to draw, or its text was let go and the file has changed
    /// since ([`SourceFile::read`]): the spans would point at other text.
    fn add(&mut self, sources: &SourceMap, id: FileId, diagnostic: &Diagnostic) -> Option<&VirtualFile> {
        if let Some(index) = self.files.iter().position(|f| f.id == id) {
            return self.files.get(index);
        }
        let file = source_file(sources, id).filter(|file| file.read().is_some())?;
        let spans = || diagnostic.labels.iter().filter(|l| l.span.file == id).map(|l| l.span);
        let lowest = spans().map(|s| s.start).min()?;
        let highest = spans().map(|s| s.end).max()?;
        let first_line = file.line_col(lowest).0.saturating_sub(1);
        let last_line = (file.line_col(highest).0 + 1).min(file.line_count() - 1);
        let lines = first_line..last_line + 1;
        if lines.clone().any(|line| file.line_range(line).len() > LONGEST_SHOWN_LINE) {
            return None;
        }
        let shown = file.line_range(first_line).start..file.line_range(last_line).end;
        let mut text = control_pictures(&file.text()[shown.clone()]);
        if shown.end == file.text().len() && highest as usize >= file.text().len() {
            text.push(' ');
        }
        // A gap of one offset keeps the end of one file from touching the start of the next.
        let base = self.files.last().map_or(0, |f| f.base + f.text.len() + 1);
        self.files.push(VirtualFile { id, name: paths::display(&file.path), text, shown, first_line, base });
        self.files.last()
    }
}

impl VirtualFile {
    /// A compiler span as a span in the shared offset space, clamped to the excerpt so a
    /// stale span cannot break rendering.
    fn span(&self, span: Span, sources: &SourceMap) -> SourceSpan {
        let Some(file) = source_file(sources, self.id) else { return SourceSpan::from(self.base..self.base) };
        let start = self.excerpt_offset(file, span.start as usize);
        let end = self.excerpt_offset(file, (span.end as usize).max(span.start as usize)).max(start);
        SourceSpan::from(self.base + start..self.base + end)
    }

    /// Where byte `offset` of the file falls in the excerpt, past the pictures that stand
    /// for the control characters before it.
    fn excerpt_offset(&self, file: &SourceFile, offset: usize) -> usize {
        let offset = floor_char_boundary(file.text(), offset.clamp(self.shown.start, self.shown.end));
        let before = &file.text()[self.shown.start..offset];
        before.len() + before.chars().filter(|&c| is_control(c)).map(|c| PICTURE_LEN - c.len_utf8()).sum::<usize>()
    }
}

/// The UTF-8 length of every control picture (`U+2400`..`U+2421`, `U+FFFD`).
const PICTURE_LEN: usize = 3;

/// Control characters other than line breaks and tabs, which a terminal would act on.
fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// `text` with each control character replaced by its picture (`ESC` by `␛`), so that a
/// source file cannot send escape sequences to the terminal through an excerpt or a
/// message, whatever `--color` says.
pub fn control_pictures(text: &str) -> String {
    if !text.chars().any(is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            c if !is_control(c) => c,
            '\u{7f}' => '\u{2421}',
            c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            _ => '\u{fffd}',
        })
        .collect()
}

impl SourceCode for ModuleSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        // A span crossing from one file into the next is refused, which keeps miette from
        // merging excerpts of different files into one.
        let file = self
            .files
            .iter()
            .find(|f| f.base <= start && end <= f.base + f.text.len())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((start - file.base).into(), span.len());
        let contents = file.text.read_span(&local, context_lines_before, context_lines_after)?;
        let column = if contents.column() == 0 { 0 } else { char_column(&file.text, local.offset()) };
        let shifted = SourceSpan::new((contents.span().offset() + file.base).into(), contents.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            contents.data(),
            shifted,
            contents.line() + file.first_line,
            column,
            contents.line_count(),
        )))
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Zero-based column of a byte offset, in characters. miette counts the column in its
/// excerpt headers in bytes; the compiler and `--format json` count characters, and the
/// two must agree on non-ASCII lines.
fn char_column(text: &str, offset: usize) -> usize {
    let offset = floor_char_boundary(text, offset);
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    text[line_start..offset].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;
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
    fn labels_in_other_files_get_excerpts_of_their_own() {
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
        let primary = rendered.find("b.infra:1:5").unwrap_or(usize::MAX);
        assert!(primary < rendered.find("a.infra:1:5").unwrap_or(0), "primary file first: {rendered}");
    }

    #[test]
    fn a_span_at_the_end_of_the_file_is_drawn() {
        let (sources, file) = one_file("resource null.resource a {\n");
        let diagnostic =
            Diagnostic::error(codes::SYNTAX, "expected `}`").with_label(Span::new(file, 27, 27), "file ends here");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("main.infra:2:1"), "{rendered}");
        assert!(rendered.contains("file ends here"), "{rendered}");
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

    /// The colourless rendering is what users see in CI logs and what tests compare, so its
    /// exact shape is pinned here with diagnostics built by hand (not by the compiler, whose
    /// wording changes independently).
    #[test]
    fn plain_rendering_snapshot() {
        let mut sources = SourceMap::new();
        let a = sources.add(PathBuf::from("a.infra"), "let web = 1\noutput o = web\n".to_string());
        let b = sources.add(PathBuf::from("b.infra"), "# second file\nresource null.resource web {\n}\n".to_string());
        let diagnostics = [
            Diagnostic::error(codes::DUPLICATE_NAME, "the name `web` is declared twice")
                .with_label(Span::new(b, 37, 40), "declared again here")
                .with_secondary(Span::new(a, 4, 7), "first declared here")
                .with_help("every declaration in a module needs its own name; rename one of them")
                .with_note("inputs, lets, functions, resources and modules share one namespace"),
            Diagnostic::warning(codes::UNUSED, "the let `web` is never used")
                .with_label(Span::new(a, 4, 7), "declared here")
                .with_help("remove it, or rename it to `_web` to keep it"),
            Diagnostic::error(codes::READ_FAILED, "cannot read `gone.infra`: No such file or directory"),
        ];
        let rendered: Vec<String> = diagnostics.iter().map(|d| render(d, &sources, false)).collect();
        insta::assert_snapshot!(rendered.join("\n"));
    }

    /// The excerpt holds only the lines around the labels (so rendering stays linear in
    /// many diagnostics of a large file), yet its line numbers are the file's.
    #[test]
    fn excerpts_deep_in_a_file_carry_the_file_line_numbers() {
        let text: String = (1..=1000).map(|i| format!("let v{i} = {i}\n")).collect();
        let (sources, file) = one_file(&text);
        let start = text.find("let v500 ").unwrap_or_default() + 4;
        let other = text.find("let v502 ").unwrap_or_default() + 4;
        let diagnostic = Diagnostic::error(codes::DUPLICATE_NAME, "twice")
            .with_label(Span::new(file, start, start + 4), "here")
            .with_secondary(Span::new(file, other, other + 4), "and here");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("main.infra:500:5"), "{rendered}");
        for line in ["499 │ let v499 = 499", "500 │ let v500 = 500", "502 │ let v502 = 502", "503 │ let v503 = 503"]
        {
            assert!(rendered.contains(line), "{line} in {rendered}");
        }
        assert!(!rendered.contains("v498") && !rendered.contains("v504"), "{rendered}");
    }

    /// A plan lets its files' texts go and reads them again for its diagnostics; a file
    /// changed in between has other text at the spans, so it gets its path, not lines.
    #[test]
    fn a_file_changed_since_it_was_read_gets_its_path_and_no_excerpt() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("main.infra");
        std::fs::write(&path, "let x = undefined_name\n").expect("written");
        let mut sources = SourceMap::new();
        let file = sources.add(path.clone(), "let x = undefined_name\n".to_string());
        sources.release_texts();
        let diagnostic = Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `undefined_name`")
            .with_label(Span::new(file, 8, 22), "not declared in this module");
        // Unchanged, it is read again and drawn.
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("main.infra:1:9") && rendered.contains("let x = undefined_name"), "{rendered}");
        let mut sources = SourceMap::new();
        let file = sources.add(path.clone(), "let x = undefined_name\n".to_string());
        sources.release_texts();
        std::fs::write(&path, "let x = 1\n").expect("written");
        let diagnostic = Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `undefined_name`")
            .with_label(Span::new(file, 8, 22), "not declared in this module");
        let rendered = render(&diagnostic, &sources, false);
        assert!(rendered.contains("undefined name `undefined_name`"), "{rendered}");
        assert!(rendered.contains("the file changed since it was read"), "{rendered}");
        assert!(!rendered.contains("let x = 1") && !rendered.contains(":1:9"), "{rendered}");
    }

    #[test]
    fn summaries_pluralise() {
        assert_eq!(count_summary(1, 0), "1 error");
        assert_eq!(count_summary(3, 1), "3 errors, 1 warning");
        assert_eq!(count_summary(0, 2), "0 errors, 2 warnings");
    }
}
