//! Drives pest over a file, one top-level item chunk at a time, and turns its errors
//! and the lexical scan's problems into diagnostics.

use pest::Parser as _;

use crate::diagnostic::{codes, Diagnostic};
use crate::name::Names;
use crate::span::{FileId, Span};
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
    let comment_ranges: Vec<(usize, usize)> = scan.comments.iter().map(|c| (c.start, c.end)).collect();
    let mut starts = scan.item_starts.clone();
    starts.push(text.len());
    let chunks: Vec<(usize, usize)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
    let context = Chunks {
        file,
        text,
        problems: &scan.problems,
        comments: &comment_ranges,
        heredoc_ends: &scan.heredoc_ends,
        fast,
        taken: std::sync::atomic::AtomicUsize::new(0),
    };
    let (items, diagnostics) = match crate::workers(text.len(), BYTES_PER_PARSER) {
        1 => context.parse(&chunks),
        workers => context.parse_parallel(&chunks, workers),
    };
    let comments = scan
        .comments
        .iter()
        .map(|c| Comment {
            kind: if c.block { CommentKind::Block } else { CommentKind::Line },
            span: Span::new(file, c.start, c.end),
        })
        .collect();
    let ast = SourceFileAst { file, items, comments, span: Span::new(file, 0, text.len()) };
    (Parsed { ast, diagnostics }, context.taken.into_inner())
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

/// What parsing a chunk needs besides the chunk: the whole file's text, its lexical
/// problems and its comments.
struct Chunks<'a> {
    file: FileId,
    text: &'a str,
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
                diagnostics.extend(problems.map(|p| problem_diagnostic(self.file, self.text, p)));
                continue;
            }
            let first = self.heredoc_ends.partition_point(|&(s, _)| s < start);
            let count = self.heredoc_ends[first..].partition_point(|&(s, _)| s < end);
            if self.fast && count == 0 {
                let mut lower =
                    Lower::new(self.file, start, (self.text, self.comments), (&mut diagnostics, &mut names));
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
                    if let Some(pair) = pairs.next() {
                        items.extend(lower.file(pair));
                    }
                }
                Err(error) => {
                    let error = detailed_error(chunk).unwrap_or(error);
                    diagnostics.push(syntax_error(self.file, self.text, start, &error));
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
