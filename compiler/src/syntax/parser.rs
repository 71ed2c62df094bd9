//! Drives pest over a file, one top-level item chunk at a time, and turns its errors
//! and the lexical scan's problems into diagnostics.

use pest::Parser as _;

use crate::diagnostic::{codes, Diagnostic};
use crate::name::Names;
use crate::span::{FileId, Fingerprint, FingerprintHasher, Span};
use crate::syntax::ast::{Comment, CommentKind, Item, SourceFileAst};
use crate::syntax::lexical::{self, Problem, ProblemKind};
use crate::syntax::lower::Lower;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
pub(crate) struct InfraParser;

/// A parsed file: the syntax tree of every item that parsed, and the diagnostics of
/// those that did not.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub ast: SourceFileAst,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. Never panics; every problem becomes a diagnostic.
///
/// The file is split at top-level item boundaries (see [`lexical::Scan::item_starts`])
/// and each chunk is parsed on its own, so a syntax error in one item leaves the others
/// parsed and checked.
pub fn parse_file(file: FileId, text: &str) -> Parsed {
    parse_file_with(file, text, true).0
}

/// [`parse_file`] with pest alone, without the hand-written parser of the commonest
/// items (`lower/fast.rs`): the reference its trees are tested against.
#[doc(hidden)]
pub fn parse_file_with_pest(file: FileId, text: &str) -> Parsed {
    parse_file_with(file, text, false).0
}

/// How many of the file's chunks (top-level items, see [`parse_file`]) the hand-written
/// parser took, and how many there are: what its tests check it covers.
#[doc(hidden)]
pub fn fast_parser_coverage(text: &str) -> (usize, usize) {
    let (_, taken) = parse_file_with(FileId(0), text, true);
    (taken, lexical::scan(text).item_starts.len())
}

/// The parsed file, and how many chunks the hand-written parser took.
fn parse_file_with(file: FileId, text: &str, fast: bool) -> (Parsed, usize) {
    let scan = lexical::scan(text);
    let mut pieces = Pieces::new(file);
    let taken = pieces.parse((text, text.len()), 0, &scan, fast);
    (pieces.finish(text.len()), taken)
}

/// How many bytes [`parse_reader`] reads at a time: a piece of the file is parsed
/// once this much more is in hand (or the file ends).
pub const READ_PIECE: usize = 1024 * 1024;

/// Parses the file `reader` reads without ever holding its whole text: what `plan` and
/// `apply` do, which need the text again only for a diagnostic (read from the file
/// then, [`crate::span::SourceFile::read`]). Reads `piece` bytes at a time (more while
/// one item is longer than that); each time, the text up to the last item that starts
/// in what was read is scanned, parsed and let go, and the rest waits for the next
/// read. The lexical scan starts afresh at an item start, so the pieces parse exactly
/// as the whole file would.
///
/// Returns the parsed file and the fingerprint of its text, or nothing when the file
/// is not UTF-8 (read it whole to report where).
pub(crate) fn parse_reader(
    file: FileId,
    mut reader: impl std::io::Read,
    piece: usize,
) -> std::io::Result<Option<(Parsed, Fingerprint)>> {
    let mut hasher = FingerprintHasher::default();
    let mut pieces = Pieces::new(file);
    let mut pending: Vec<u8> = Vec::new();
    // Where `pending` starts in the file.
    let mut origin = 0;
    loop {
        let read_from = pending.len();
        // As much again as is waiting, when an item runs past what was read: each
        // round scans what is waiting from its start, so reading it in growing steps
        // keeps the scans of one long item linear in its length.
        let more = piece.max(pending.len());
        let ended = read_more(&mut reader, &mut pending, more)?;
        hasher.write(&pending[read_from..]);
        if ended {
            let Ok(text) = std::str::from_utf8(&pending) else { return Ok(None) };
            pieces.parse((text, text.len()), origin, &lexical::scan(text), true);
            return Ok(Some((pieces.finish(origin + text.len()), hasher.finish())));
        }
        // Up to the last line break: whatever follows an item's keyword is in hand.
        // (A line break is never inside a character, so this much is UTF-8 or the file
        // is not.)
        let Some(line_end) = pending.iter().rposition(|&b| b == b'\n') else { continue };
        let Ok(text) = std::str::from_utf8(&pending[..=line_end]) else { return Ok(None) };
        let mut scan = lexical::scan(text);
        let cut = match scan.item_starts[..] {
            [_, .., last] => last,
            _ => continue,
        };
        scan.truncate(cut);
        // The text after the cut is there for a syntax error at the end of the piece,
        // which names what follows, as it would in the whole file.
        pieces.parse((text, cut), origin, &scan, true);
        origin += cut;
        pending.drain(..cut);
    }
}

/// Reads up to `more` bytes onto the end of `buffer`; true when the reader has ended.
/// (The buffer grows as bytes come, so a small file takes only its own size.)
fn read_more(reader: &mut impl std::io::Read, buffer: &mut Vec<u8>, more: usize) -> std::io::Result<bool> {
    let wanted = u64::try_from(more).unwrap_or(u64::MAX);
    let read = std::io::Read::read_to_end(&mut std::io::Read::take(reader, wanted), buffer)?;
    Ok(read < more)
}

/// A file's items, diagnostics and comments, gathered from the pieces it is parsed in.
struct Pieces {
    file: FileId,
    items: Vec<Item>,
    diagnostics: Vec<Diagnostic>,
    comments: Vec<Comment>,
}

impl Pieces {
    fn new(file: FileId) -> Pieces {
        Pieces { file, items: Vec::new(), diagnostics: Vec::new(), comments: Vec::new() }
    }

    /// Parses `text` up to `end`: `text` starts at byte `origin` of the file, and its
    /// scan up to `end` is `scan`. Returns how many chunks the hand-written parser took.
    fn parse(&mut self, (text, end): (&str, usize), origin: usize, scan: &lexical::Scan, fast: bool) -> usize {
        let file = self.file;
        let comment_ranges: Vec<(usize, usize)> = scan.comments.iter().map(|c| (c.start, c.end)).collect();
        let mut starts = scan.item_starts.clone();
        starts.push(end);
        let chunks: Vec<(usize, usize)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
        let context = Chunks {
            file,
            text,
            origin,
            problems: &scan.problems,
            comments: &comment_ranges,
            heredoc_ends: &scan.heredoc_ends,
            fast,
            taken: std::sync::atomic::AtomicUsize::new(0),
        };
        let (items, diagnostics) = match crate::workers(end, BYTES_PER_PARSER) {
            1 => context.parse(&chunks),
            workers => context.parse_parallel(&chunks, workers),
        };
        if self.items.is_empty() {
            self.items = items;
        } else {
            self.items.extend(items);
        }
        self.diagnostics.extend(diagnostics);
        self.comments.extend(scan.comments.iter().map(|c| Comment {
            kind: if c.block { CommentKind::Block } else { CommentKind::Line },
            span: Span::new(file, origin + c.start, origin + c.end),
        }));
        context.taken.into_inner()
    }

    /// The parsed file, `len` bytes long.
    fn finish(self, len: usize) -> Parsed {
        let Pieces { file, mut items, diagnostics, comments } = self;
        // Grown piece by piece, the vector has up to half its room empty; the tree lives
        // as long as the run. (A file parsed whole has its items' vector sized already.)
        items.shrink_to_fit();
        let ast = SourceFileAst { file, items, comments, span: Span::new(file, 0, len) };
        Parsed { ast, diagnostics }
    }
}

/// Each parsing thread gets at least this many bytes, so files under twice it are
/// parsed on one thread. Below that, parsing takes well under a tenth of a second;
/// with the system allocator, each parsing thread's allocations lived in an arena of
/// their own that `plan` and `apply` carried as some ten megabytes of extra peak memory
/// on a half-megabyte module, and with mimalloc a second thread parses an 80 KB file
/// no faster.
const BYTES_PER_PARSER: usize = 512 * 1024;

/// The items of a run of chunks, and their diagnostics.
type ParsedRun = (Vec<Item>, Vec<Diagnostic>);

/// What parsing a chunk needs besides the chunk: the text it is in (the whole file's,
/// or a piece of it, see [`parse_reader`]), its lexical problems and its comments.
/// Offsets are in `text`; the spans made are in the file.
struct Chunks<'a> {
    file: FileId,
    text: &'a str,
    /// Where `text` starts in the file.
    origin: usize,
    problems: &'a [Problem],
    comments: &'a [(usize, usize)],
    /// The closing markers of heredocs, in order ([`lexical::Scan::heredoc_ends`]).
    heredoc_ends: &'a [(usize, usize)],
    /// Whether chunks are first offered to the hand-written parser (`lower/fast.rs`).
    fast: bool,
    /// How many chunks it took.
    taken: std::sync::atomic::AtomicUsize,
}

impl Chunks<'_> {
    /// Parses `chunks` (byte ranges of whole items) in order: their items and their
    /// diagnostics.
    fn parse(&self, chunks: &[(usize, usize)]) -> ParsedRun {
        let mut diagnostics = Vec::new();
        // A chunk is one top-level item (unless it does not parse, or pest's lowering of it
        // finds more): sized up front, a run's items do not hold the slack of doubling
        // while the runs are joined.
        let mut items = Vec::with_capacity(chunks.len());
        let mut names = Names::default();
        let mut scratch = super::lower::Scratch::default();
        for &(start, end) in chunks {
            let mut problems = self.problems.iter().filter(|p| p.start >= start && p.start < end).peekable();
            if problems.peek().is_some() {
                diagnostics.extend(problems.map(|p| moved(problem_diagnostic(self.file, self.text, p), self.origin)));
                continue;
            }
            let first = self.heredoc_ends.partition_point(|&(s, _)| s < start);
            let count = self.heredoc_ends[first..].partition_point(|&(s, _)| s < end);
            if self.fast && count == 0 {
                let mut lower =
                    Lower::new(self.file, start, (self.text, self.comments), (&mut diagnostics, &mut names));
                lower.origin = self.origin;
                lower.scratch = std::mem::take(&mut scratch);
                let taken = lower.fast_items(start, end, &mut items);
                scratch = std::mem::take(&mut lower.scratch);
                if taken {
                    self.taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
            }
            let ends: Vec<(usize, usize)> =
                self.heredoc_ends[first..first + count].iter().map(|&(s, e)| (s - start, e - start)).collect();
            let chunk = lexical::mark_heredoc_ends(&self.text[start..end], &ends);
            let chunk = chunk.as_ref();
            match InfraParser::parse(Rule::file, chunk) {
                Ok(mut pairs) => {
                    let mut lower =
                        Lower::new(self.file, start, (self.text, self.comments), (&mut diagnostics, &mut names));
                    lower.origin = self.origin;
                    if let Some(pair) = pairs.next() {
                        items.extend(lower.file(pair));
                    }
                }
                Err(error) => {
                    let error = detailed_error(chunk).unwrap_or(error);
                    diagnostics.push(moved(syntax_error(self.file, self.text, start, &error), self.origin));
                }
            }
        }
        (items, diagnostics)
    }

    /// [`Chunks::parse`] on `workers` threads. The chunks are cut into runs of
    /// consecutive items, several per worker so that one slow run does not hold up the
    /// rest; each worker takes the next run not yet taken, and the results are joined
    /// in source order.
    fn parse_parallel(&self, chunks: &[(usize, usize)], workers: usize) -> ParsedRun {
        let share = self.text.len().div_ceil(workers * RUNS_PER_WORKER);
        let mut runs = Vec::new();
        let mut rest = chunks;
        while !rest.is_empty() {
            let first = rest[0].0;
            let len = rest.iter().position(|&(_, end)| end - first >= share).map_or(rest.len(), |i| i + 1);
            let (run, tail) = rest.split_at(len);
            runs.push(run);
            rest = tail;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut results: Vec<(usize, ParsedRun)> = std::thread::scope(|scope| {
            let worker = || {
                let mut done = Vec::new();
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(run) = runs.get(index) else { return done };
                    done.push((index, self.parse(run)));
                }
            };
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(worker)).collect();
            let mut results = worker();
            for handle in handles {
                results.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            results
        });
        results.sort_unstable_by_key(|(index, _)| *index);
        // Sized up front: grown by doubling, the vector of a 10 MB file's items held up to
        // twice their size while the runs' vectors were still alive.
        let mut items = Vec::with_capacity(results.iter().map(|(_, (items, _))| items.len()).sum());
        let mut diagnostics = Vec::new();
        for (_, (run_items, run_diagnostics)) in results {
            items.extend(run_items);
            diagnostics.extend(run_diagnostics);
        }
        (items, diagnostics)
    }
}

/// `diagnostic` with its spans, made in a piece of the file starting at `origin`, moved
/// to where they are in the file.
fn moved(mut diagnostic: Diagnostic, origin: usize) -> Diagnostic {
    let origin = u32::try_from(origin).unwrap_or(u32::MAX);
    for label in &mut diagnostic.labels {
        label.span.start = label.span.start.saturating_add(origin);
        label.span.end = label.span.end.saturating_add(origin);
    }
    diagnostic
}

/// How many runs of items each parsing thread gets on average; see
/// [`Chunks::parse_parallel`].
const RUNS_PER_WORKER: usize = 4;

/// Parses a failing chunk again with pest's error tracking on, which records the
/// literal tokens it expected. Tracking costs time, so it is off for the first try.
fn detailed_error(chunk: &str) -> Option<pest::error::Error<Rule>> {
    detailed_error_for(Rule::file, chunk)
}

/// Parses a single expression, as typed at `infra console`.
pub fn parse_expression(file: FileId, text: &str) -> Result<crate::syntax::ast::Expr, Vec<Diagnostic>> {
    let scan = lexical::scan(text);
    if !scan.problems.is_empty() {
        return Err(scan.problems.iter().map(|p| problem_diagnostic(file, text, p)).collect());
    }
    let mut diagnostics = Vec::new();
    let comments: Vec<(usize, usize)> = scan.comments.iter().map(|c| (c.start, c.end)).collect();
    let start = bom_len(text);
    let marked = marked_from(text, start, &scan);
    let expr = match InfraParser::parse(Rule::expression_only, &marked) {
        Ok(mut pairs) => pairs.next().map(|pair| {
            Lower::new(file, start, (text, &comments), (&mut diagnostics, &mut Names::default())).expression_only(pair)
        }),
        Err(error) => {
            let error = detailed_error_for(Rule::expression_only, &marked).unwrap_or(error);
            diagnostics.push(syntax_error(file, text, start, &error));
            None
        }
    };
    match expr {
        Some(expr) if diagnostics.is_empty() => Ok(expr),
        _ => Err(diagnostics),
    }
}

/// Parses a `--var-file`: `name = expression` lines.
pub fn parse_var_file(file: FileId, text: &str) -> Result<Vec<crate::syntax::ast::Attribute>, Vec<Diagnostic>> {
    let scan = lexical::scan(text);
    if !scan.problems.is_empty() {
        return Err(scan.problems.iter().map(|p| problem_diagnostic(file, text, p)).collect());
    }
    let mut diagnostics = Vec::new();
    let comments: Vec<(usize, usize)> = scan.comments.iter().map(|c| (c.start, c.end)).collect();
    let start = bom_len(text);
    let marked = marked_from(text, start, &scan);
    let attributes = match InfraParser::parse(Rule::var_file, &marked) {
        Ok(mut pairs) => pairs.next().map(|pair| {
            Lower::new(file, start, (text, &comments), (&mut diagnostics, &mut Names::default())).var_file(pair)
        }),
        Err(error) => {
            let error = detailed_error_for(Rule::var_file, &marked).unwrap_or(error);
            diagnostics.push(syntax_error(file, text, start, &error));
            None
        }
    };
    match attributes {
        Some(attributes) if diagnostics.is_empty() => Ok(attributes),
        _ => Err(diagnostics),
    }
}

/// `text` from `start` (past a byte order mark), with its heredocs' closing markers
/// overwritten for the grammar ([`lexical::mark_heredoc_ends`]).
fn marked_from<'a>(text: &'a str, start: usize, scan: &lexical::Scan) -> std::borrow::Cow<'a, str> {
    let ends: Vec<(usize, usize)> = scan.heredoc_ends.iter().map(|&(s, e)| (s - start, e - start)).collect();
    lexical::mark_heredoc_ends(&text[start..], &ends)
}

/// The length of a leading byte order mark, which the grammar does not accept.
fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{FEFF}') {
        '\u{FEFF}'.len_utf8()
    } else {
        0
    }
}

fn detailed_error_for(rule: Rule, text: &str) -> Option<pest::error::Error<Rule>> {
    pest::set_error_detail(true);
    let result = InfraParser::parse(rule, text);
    pest::set_error_detail(false);
    result.err()
}

fn problem_diagnostic(file: FileId, text: &str, problem: &Problem) -> Diagnostic {
    let span = Span::new(file, problem.start, problem.end.min(text.len()));
    match problem.kind {
        ProblemKind::UnterminatedString => Diagnostic::error(codes::UNTERMINATED_STRING, "unterminated string")
            .with_label(span, "this string is never closed")
            .with_help(
                "close the string with `\"` on the same line; use a heredoc (`<<EOT`) for text over several lines",
            ),
        ProblemKind::UnterminatedHeredoc => {
            let marker = text.get(problem.start..problem.end).unwrap_or("").trim_start_matches(['<', '-']);
            Diagnostic::error(codes::UNTERMINATED_HEREDOC, "unterminated heredoc")
                .with_label(span, "this heredoc is never closed")
                .with_help(format!("end the heredoc with a line holding only `{marker}`"))
        }
        ProblemKind::UnterminatedComment => {
            Diagnostic::error(codes::UNTERMINATED_COMMENT, "unterminated block comment")
                .with_label(span, "this comment is never closed")
                .with_help("close the comment with `*/`")
        }
        ProblemKind::MarkerLikeLine => Diagnostic::error(codes::SYNTAX, "a heredoc line of U+0001 characters")
            .with_label(span, "a line holding only U+0001 characters cannot be in a heredoc")
            .with_help("write the characters in a quoted string with `\\u0001` escapes, inserted with `${...}`"),
        ProblemKind::TooDeep => Diagnostic::error(codes::TOO_DEEP, "nesting too deep")
            .with_label(span, format!("more than {} levels deep here", lexical::MAX_NESTING))
            .with_help("split the expression into `let` declarations"),
    }
}

fn syntax_error(file: FileId, text: &str, base: usize, error: &pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match error.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    // pest places the error at the start of the last rule it tried; with error detail on
    // it also records the furthest position any token was tried at, which is where the
    // missing `=` or `)` belongs.
    let furthest = error.parse_attempts().map_or(0, |a| a.max_position);
    let (start, end) = if furthest > start { (furthest, furthest) } else { (start, end) };
    let (start, end) = (base + start, base + end);
    if let Some(diagnostic) = crate::habits::syntax(file, text, start) {
        return diagnostic;
    }
    let found = found_token(text, start);
    let end = if end > start { end } else { start + found.len().max(usize::from(start < text.len())) };
    let span = Span::new(file, start, end.min(text.len()));
    let expected = expected_list(error);
    let message = match (&expected, found.is_empty()) {
        (Some(expected), false) => format!("expected {expected}, found `{found}`"),
        (Some(expected), true) => format!("expected {expected}, found end of file"),
        (None, false) => format!("unexpected `{found}`"),
        (None, true) => "unexpected end of file".to_string(),
    };
    let label = if found.is_empty() { "file ends here".to_string() } else { "unexpected here".to_string() };
    Diagnostic::error(codes::SYNTAX, message).with_label(span, label).with_help(syntax_help(found, expected.as_deref()))
}

/// The word, number or punctuation character at `offset`.
fn found_token(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or("");
    let word_len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    if word_len > 0 {
        return &rest[..word_len];
    }
    let first = rest.chars().next().map_or(0, char::len_utf8);
    let found = &rest[..first];
    if found.trim().is_empty() {
        ""
    } else {
        found
    }
}

fn syntax_help(found: &str, expected: Option<&str>) -> String {
    let expected = expected.unwrap_or("");
    let help = match found {
        ";" => "statements end at the end of the line; remove the `;`",
        "-" if expected.contains("`=`") => {
            "a `-` is never part of a name: quote a key that has one, as in `\"eu-west-1\" = ...`"
        }
        ":" if expected.contains("`=`") => "attributes are set with `=`: `name = value`",
        _ if expected.contains("`]`") => "a list is still open: close it with `]`, or separate elements with `,`",
        _ if expected.contains("`)`") => "a `(` is still open: close it with `)`, or separate arguments with `,`",
        _ if expected.contains("`}`") => "a `{` is still open: close it with `}`",
        _ if expected.starts_with("an expression") => {
            "a value is missing here: a number, a string, a list, an object, a name or a call"
        }
        _ if expected.contains("a declaration") => {
            "a file holds declarations: `input`, `let`, `fn`, `provider`, `resource`, `data`, `module`, `output`, `check`, `moved`, `import`, `forget` or `state`"
        }
        _ if expected.contains("`=`") => "attributes are set with `=`: `name = value`",
        _ if expected.contains("`->`") => "a move is written `moved FROM -> TO`",
        _ if expected == "`:`" => "a type follows `:`, as in `count: number`",
        _ => "see docs/language.md for the syntax of each declaration",
    };
    help.to_string()
}

/// "`=`, `{` or an expression", from pest's record of what it tried at the error.
fn expected_list(error: &pest::error::Error<Rule>) -> Option<String> {
    let mut expected: Vec<String> = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(name) = describe_rule(*rule) {
                if !expected.contains(&name.to_string()) {
                    expected.push(name.to_string());
                }
            }
        }
    }
    if let Some(attempts) = error.parse_attempts() {
        let has_expression = expected.iter().any(|e| e == "an expression");
        // `?` is only tried after an operand (the guard before `conditional`), where an
        // operator may follow too; the operators themselves are skipped by their guard
        // when the next token cannot start one.
        let after_operand = attempts.expected_tokens().iter().any(|t| t.to_string() == "?");
        if after_operand && !expected.iter().any(|e| e == "an operator") {
            expected.push("an operator".to_string());
        }
        let has_operator = expected.iter().any(|e| e == "an operator");
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            if !structural_token(&token, has_expression, has_operator) {
                continue;
            }
            let name = format!("`{token}`");
            if !expected.contains(&name) {
                expected.push(name);
            }
        }
    }
    // Tokens first, then descriptions such as "an expression".
    expected.sort_by_key(|e| (!e.starts_with('`'), e.clone()));
    match expected.len() {
        0 => None,
        1 => Some(expected.remove(0)),
        n => {
            let last = expected.remove(n - 1);
            Some(format!("{} or {last}", expected.join(", ")))
        }
    }
}

/// Whether a literal token pest expected is worth naming: closing brackets and
/// separators are, while the tokens that start an expression or continue one are
/// summarised as "an expression" or "an operator".
fn structural_token(token: &str, has_expression: bool, has_operator: bool) -> bool {
    match token {
        "," | "]" | ")" | "}" | "=" | ":" | "->" | "=>" => true,
        "{" | "[" | "(" => !has_expression && !has_operator,
        "." | "?" => !has_operator,
        _ => false,
    }
}

fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::input_item
        | Rule::let_item
        | Rule::fn_item
        | Rule::provider_item
        | Rule::resource_item
        | Rule::data_item
        | Rule::module_item
        | Rule::output_item
        | Rule::check_item
        | Rule::moved_item
        | Rule::import_item
        | Rule::forget_item
        | Rule::state_item
        | Rule::plugin_item
        | Rule::kw_input
        | Rule::kw_let
        | Rule::kw_fn
        | Rule::kw_provider
        | Rule::kw_resource
        | Rule::kw_data
        | Rule::kw_module
        | Rule::kw_output
        | Rule::kw_check
        | Rule::kw_moved
        | Rule::kw_import
        | Rule::kw_forget
        | Rule::kw_state
        | Rule::kw_plugin => "a declaration",
        Rule::ident | Rule::name | Rule::variable | Rule::heredoc_marker => "a name",
        Rule::resource_type => "a resource type such as `local.file`",
        Rule::expr
        | Rule::number
        | Rule::template_string
        | Rule::heredoc
        | Rule::list
        | Rule::object
        | Rule::paren
        | Rule::for_list
        | Rule::for_object
        | Rule::kw_true
        | Rule::kw_false
        | Rule::kw_null
        | Rule::prefix_op => "an expression",
        Rule::binary_op => "an operator",
        Rule::type_expr | Rule::primitive_type | Rule::collection_type | Rule::object_type | Rule::tuple_type => {
            "a type"
        }
        Rule::body => "`{`",
        Rule::attribute | Rule::block | Rule::check_stmt => "an attribute or block",
        Rule::default_value | Rule::object_eq => "`=`",
        Rule::object_colon => "`:`",
        Rule::for_clause | Rule::kw_for => "`for`",
        Rule::if_clause | Rule::kw_if | Rule::for_filter => "`if`",
        Rule::kw_in => "`in`",
        Rule::kw_from => "`from`",
        Rule::kw_as | Rule::provider_alias => "`as`",
        Rule::key_clause | Rule::kw_key => "`key`",
        // Continuations of an expression are summarised by "an operator".
        Rule::conditional | Rule::get_attr | Rule::index | Rule::splat | Rule::arguments => return None,
        Rule::return_type => "`:`",
        Rule::address | Rule::address_step => "an address such as `web[0]`",
        Rule::object_item => "an object entry",
        Rule::ellipsis => "`...`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn infra_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                infra_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "infra") {
                out.push(path);
            }
        }
    }

    /// `text` parsed as read `piece` bytes at a time, and its fingerprint.
    fn read_in_pieces(text: &str, piece: usize) -> Option<(Parsed, Fingerprint)> {
        parse_reader(FileId(3), std::io::Cursor::new(text.as_bytes()), piece).expect("a cursor reads")
    }

    fn assert_same_as_whole(name: &str, text: &str, piece: usize) {
        let whole = parse_file(FileId(3), text);
        let (parsed, fingerprint) = read_in_pieces(text, piece).unwrap_or_else(|| panic!("{name}: not UTF-8?"));
        assert_eq!(parsed, whole, "{name}, read {piece} bytes at a time");
        assert_eq!(fingerprint, Fingerprint::of(text), "{name}, read {piece} bytes at a time");
    }

    #[test]
    fn every_corpus_file_read_in_pieces_parses_as_it_does_whole() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        infra_files(&root.join("tests/data"), &mut files);
        infra_files(&root.join("examples"), &mut files);
        assert!(files.len() > 100, "only {} files; is the corpus there?", files.len());
        let mut cut = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            for piece in [24, 200, 4096] {
                assert_same_as_whole(&path.display().to_string(), &text, piece);
            }
            cut += usize::from(lexical::scan(&text).item_starts.len() > 1);
        }
        assert!(cut > 100, "only {cut} files of several items");
    }

    #[test]
    fn pieces_are_cut_only_where_an_item_starts() {
        // Item keywords at the start of a line inside a heredoc, a block comment and a
        // multi-line object are not item starts; a string left open and a syntax error
        // in a later piece are reported where they are in the file.
        let text = "\u{FEFF}let a = <<EOT\nresource x.y z {\nEOT\n/*\nresource x.y w {}\n*/\nlet b = {\n  c = 1\n}\n\
                    resource null.resource r {\n  input = \"x\"\n}\n\
                    let broken = = 1\n\
                    let open = \"never closed\n\
                    output o = a\n";
        for piece in 1..=text.len() + 1 {
            assert_same_as_whole("mixed", text, piece);
        }
        let parsed = parse_file(FileId(3), text);
        let spans: Vec<Span> = parsed.diagnostics.iter().flat_map(|d| d.labels.iter().map(|l| l.span)).collect();
        assert_eq!(parsed.diagnostics.len(), 2, "{:#?}", parsed.diagnostics);
        assert_eq!(&text[spans[0].range()], "=");
        assert!(text[spans[1].range()].starts_with("\"never closed"));
    }

    #[test]
    fn a_file_that_is_not_utf8_is_left_to_be_read_whole() {
        let mut bytes = b"let a = 1\nlet b = \"".to_vec();
        bytes.extend_from_slice(&[0xff, b'"', b'\n']);
        for piece in [1, 4, 1024] {
            let read = parse_reader(FileId(0), std::io::Cursor::new(&bytes), piece).expect("a cursor reads");
            assert!(read.is_none(), "read {piece} bytes at a time");
        }
    }

    #[test]
    fn an_empty_file_parses_as_it_does_whole() {
        assert_same_as_whole("empty", "", 16);
    }
}
