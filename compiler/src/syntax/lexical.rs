//! A lexical pre-scan of a source file that runs before the pest parser.
//!
//! pest is a recursive-descent parser that stops at the first error with a generic
//! "expected ..." message. This scan, which understands strings, interpolations,
//! heredocs and comments but nothing else, gives us what pest cannot:
//! - every comment with its span, for the formatter;
//! - the offsets where top-level items start, so a syntax error in one item does not
//!   hide the errors in the others;
//! - precise diagnostics for unterminated strings, heredocs and comments;
//! - a nesting limit, checked before any recursive pass sees the input.

/// Brackets, interpolations and chained conditionals nested deeper than this are an
/// error (E0104). Real configurations stay far below it.
pub const MAX_NESTING: usize = 64;

/// Keywords that start a top-level item.
const ITEM_KEYWORDS: &[&str] = &[
    "input", "let", "fn", "provider", "resource", "data", "module", "output", "check", "moved", "import", "forget",
    "state", "plugin",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    UnterminatedString,
    UnterminatedHeredoc,
    UnterminatedComment,
    TooDeep,
    /// A heredoc line holding only U+0001 characters (and blanks): the parser would read
    /// it as the closing marker (see [`Scan::heredoc_ends`]).
    MarkerLikeLine,
}

/// A lexical error: `start..end` is the construct it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedComment {
    pub block: bool,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Default)]
pub struct Scan {
    pub comments: Vec<ScannedComment>,
    /// Byte offsets of lines that start, in column 0 and outside any string, heredoc or
    /// comment, with an item keyword. Always begins with 0.
    pub item_starts: Vec<usize>,
    pub problems: Vec<Problem>,
    /// The byte range of each heredoc's closing marker, in order. The grammar cannot
    /// match a closing marker to its opening one without pest's stack, which costs a
    /// snapshot at every choice in the grammar; the parser instead replaces these bytes
    /// with [`HEREDOC_END`] before parsing (same length, so every span stays true) and
    /// the grammar ends a heredoc at a line of those.
    pub heredoc_ends: Vec<(usize, usize)>,
}

impl Scan {
    /// What the scan found before `end`, an item start: the scan of the text up to it.
    /// (At an item start the scanner starts afresh, so what it found before one does not
    /// depend on the text after; what is still open at the end of the text scanned,
    /// and reported as unterminated, started after it.)
    pub fn truncate(&mut self, end: usize) {
        self.comments.retain(|c| c.start < end);
        self.item_starts.retain(|&s| s < end);
        self.problems.retain(|p| p.start < end);
        self.heredoc_ends.retain(|&(s, _)| s < end);
    }
}

/// The byte the parser writes over each heredoc's closing marker (U+0001).
pub const HEREDOC_END: u8 = 0x01;

/// `text` with each heredoc's closing marker in `ends` (ranges relative to `text`)
/// overwritten with [`HEREDOC_END`]; `text` itself when there are none.
pub fn mark_heredoc_ends<'a>(text: &'a str, ends: &[(usize, usize)]) -> std::borrow::Cow<'a, str> {
    if ends.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for &(start, end) in ends {
        bytes[start..end].fill(HEREDOC_END);
    }
    // A marker is ASCII letters, digits and `_`, so the text stays UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned()))
}

#[derive(Clone, Debug)]
enum Frame {
    Bracket { questions: usize },
    String { start: usize },
    Interpolation { questions: usize },
    Heredoc { start: usize, marker: String, mid_line: bool },
}

pub fn scan(text: &str) -> Scan {
    let mut scanner = Scanner {
        text: text.as_bytes(),
        pos: 0,
        stack: Vec::new(),
        root_questions: 0,
        stopped: false,
        out: Scan::default(),
    };
    // A byte order mark is not part of the first item (the grammar has no rule for it).
    scanner.out.item_starts.push(if text.starts_with('\u{FEFF}') { '\u{FEFF}'.len_utf8() } else { 0 });
    scanner.run();
    scanner.out
}

struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
    stack: Vec<Frame>,
    /// Conditional operators at top level, outside any bracket.
    root_questions: usize,
    /// Set when scanning gave up (nesting too deep); nothing after is reported.
    stopped: bool,
    out: Scan,
}

impl Scanner<'_> {
    fn run(&mut self) {
        while self.pos < self.text.len() && !self.stopped {
            match self.stack.last() {
                Some(Frame::String { .. }) => self.string_char(),
                Some(Frame::Heredoc { .. }) => self.heredoc_line(),
                _ => {
                    if !self.code_char() {
                        self.stopped = true;
                    }
                }
            }
        }
        if !self.stopped {
            self.finish();
        }
    }

    fn at(&self, s: &str) -> bool {
        self.text[self.pos..].starts_with(s.as_bytes())
    }

    /// Scans one construct in code. Returns false when scanning must stop.
    fn code_char(&mut self) -> bool {
        let c = self.text[self.pos];
        let start = self.pos;
        match c {
            b'\n' => {
                self.pos += 1;
                self.line_start();
            }
            b'#' => self.line_comment(),
            b'/' if self.at("//") => self.line_comment(),
            b'/' if self.at("/*") => return self.block_comment(start),
            b'"' => {
                self.stack.push(Frame::String { start });
                self.pos += 1;
            }
            b'<' if self.at("<<") => self.maybe_heredoc(),
            b'(' | b'[' | b'{' => {
                self.pos += 1;
                return self.push(Frame::Bracket { questions: 0 }, start);
            }
            b')' | b']' | b'}' => {
                self.pos += 1;
                if matches!(self.stack.last(), Some(Frame::Bracket { .. } | Frame::Interpolation { .. })) {
                    self.stack.pop();
                }
            }
            b'?' => {
                self.pos += 1;
                return self.count_question(start);
            }
            b',' => {
                self.pos += 1;
                self.reset_questions();
            }
            b'=' => {
                let prev = if start > 0 { self.text[start - 1] } else { b' ' };
                let next = self.text.get(start + 1).copied().unwrap_or(b' ');
                if !matches!(prev, b'=' | b'!' | b'<' | b'>') && !matches!(next, b'=' | b'>') {
                    self.reset_questions();
                }
                self.pos += 1;
            }
            // A run of bytes that mean nothing here (names, numbers, spaces), at once.
            _ => {
                let rest = &self.text[self.pos + 1..];
                self.pos += 1 + rest
                    .iter()
                    .position(|c| {
                        matches!(
                            c,
                            b'\n'
                                | b'#'
                                | b'/'
                                | b'"'
                                | b'<'
                                | b'('
                                | b'['
                                | b'{'
                                | b')'
                                | b']'
                                | b'}'
                                | b'?'
                                | b','
                                | b'='
                        )
                    })
                    .unwrap_or(rest.len());
            }
        }
        true
    }

    fn push(&mut self, frame: Frame, start: usize) -> bool {
        self.stack.push(frame);
        let depth =
            self.stack.iter().filter(|f| matches!(f, Frame::Bracket { .. } | Frame::Interpolation { .. })).count();
        if depth > MAX_NESTING {
            self.too_deep(start);
            return false;
        }
        true
    }

    fn too_deep(&mut self, start: usize) {
        self.stopped = true;
        self.out.problems.push(Problem { kind: ProblemKind::TooDeep, start, end: start + 1 });
    }

    fn count_question(&mut self, start: usize) -> bool {
        let count = match self.stack.last_mut() {
            Some(Frame::Bracket { questions } | Frame::Interpolation { questions }) => {
                *questions += 1;
                *questions
            }
            _ => {
                self.root_questions += 1;
                self.root_questions
            }
        };
        if count > MAX_NESTING {
            self.too_deep(start);
            return false;
        }
        true
    }

    fn reset_questions(&mut self) {
        if self.stack.is_empty() {
            self.root_questions = 0;
        }
        if let Some(Frame::Bracket { questions } | Frame::Interpolation { questions }) = self.stack.last_mut() {
            *questions = 0;
        }
    }

    /// At the start of a line in code: records an item start when the line begins, in
    /// column 0, with an item keyword. A keyword there also resets the bracket stack, so
    /// a missing `}` in one item does not swallow the items after it.
    fn line_start(&mut self) {
        let in_code = self.stack.iter().all(|f| matches!(f, Frame::Bracket { .. }));
        if !in_code {
            return;
        }
        let rest = &self.text[self.pos..];
        // Most lines are indented: no keyword to compare (a `memcmp` call each).
        if !rest.first().is_some_and(u8::is_ascii_lowercase) {
            return;
        }
        let starts_item = ITEM_KEYWORDS.iter().any(|k| {
            rest.starts_with(k.as_bytes())
                && rest.get(k.len()).is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        });
        if starts_item {
            self.stack.clear();
            self.root_questions = 0;
            self.out.item_starts.push(self.pos);
        }
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        let end = self.find_from(start, b"\n").unwrap_or(self.text.len());
        self.out.comments.push(ScannedComment { block: false, start, end });
        self.pos = end;
    }

    fn block_comment(&mut self, start: usize) -> bool {
        match self.find_from(start + 2, b"*/") {
            Some(end) => {
                self.out.comments.push(ScannedComment { block: true, start, end: end + 2 });
                self.pos = end + 2;
                true
            }
            None => {
                self.out.problems.push(Problem { kind: ProblemKind::UnterminatedComment, start, end: start + 2 });
                false
            }
        }
    }

    fn find_from(&self, from: usize, needle: &[u8]) -> Option<usize> {
        self.text.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
    }

    /// `<<EOT` or `<<-EOT` followed by a newline starts a heredoc.
    fn maybe_heredoc(&mut self) {
        let start = self.pos;
        let mut i = start + 2;
        if self.text.get(i) == Some(&b'-') {
            i += 1;
        }
        let marker_start = i;
        while self.text.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            i += 1;
        }
        let marker = &self.text[marker_start..i];
        while self.text.get(i) == Some(&b' ') || self.text.get(i) == Some(&b'\r') {
            i += 1;
        }
        let is_heredoc = !marker.is_empty() && !marker[0].is_ascii_digit() && self.text.get(i) == Some(&b'\n');
        if is_heredoc {
            let marker = String::from_utf8_lossy(marker).into_owned();
            self.stack.push(Frame::Heredoc { start, marker, mid_line: false });
            self.pos = i + 1;
        } else {
            self.pos += 2;
        }
    }

    fn heredoc_line(&mut self) {
        let Some(Frame::Heredoc { marker, mid_line, .. }) = self.stack.last() else { return };
        let line_end = self.find_from(self.pos, b"\n").unwrap_or(self.text.len());
        if !mid_line {
            let line = &self.text[self.pos..line_end];
            let indent = line.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
            let trimmed = &line[indent..];
            // The closing marker stands alone on its line.
            let closes = trimmed.starts_with(marker.as_bytes())
                && trimmed[marker.len()..].iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'));
            if closes {
                let marker_start = self.pos + indent;
                self.out.heredoc_ends.push((marker_start, marker_start + marker.len()));
                self.pos += indent + marker.len();
                self.stack.pop();
                return;
            }
            let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r');
            if trimmed.contains(&HEREDOC_END) && trimmed.iter().all(|c| *c == HEREDOC_END || blank(c)) {
                let (start, end) = (self.pos + indent, line_end);
                self.out.problems.push(Problem { kind: ProblemKind::MarkerLikeLine, start, end });
            }
        }
        // Scan the rest of the line for interpolations and directives; text outside them
        // is literal.
        while self.pos < line_end {
            if self.at("$${") || self.at("%%{") {
                self.pos += 3;
            } else if self.at("${") || self.at("%{") {
                let start = self.pos;
                self.pos += 2;
                self.set_heredoc_mid_line(true);
                if !self.push(Frame::Interpolation { questions: 0 }, start) {
                    self.pos = self.text.len();
                }
                return;
            } else {
                self.pos += 1;
            }
        }
        self.set_heredoc_mid_line(false);
        self.pos = (line_end + 1).min(self.text.len());
    }

    fn set_heredoc_mid_line(&mut self, value: bool) {
        if let Some(Frame::Heredoc { mid_line, .. }) = self.stack.last_mut() {
            *mid_line = value;
        }
    }

    fn string_char(&mut self) {
        let c = self.text[self.pos];
        match c {
            b'\\' => self.pos += 2,
            b'"' => {
                self.stack.pop();
                self.pos += 1;
            }
            b'$' if self.at("$${") => self.pos += 3,
            b'$' if self.at("${") => {
                let start = self.pos;
                self.pos += 2;
                if !self.push(Frame::Interpolation { questions: 0 }, start) {
                    self.pos = self.text.len();
                }
            }
            b'\n' => {
                self.unterminated_string();
                self.pos += 1;
                self.line_start();
            }
            // A run of plain text at once.
            _ => {
                let rest = &self.text[self.pos + 1..];
                self.pos +=
                    1 + rest.iter().position(|c| matches!(c, b'\\' | b'"' | b'$' | b'\n')).unwrap_or(rest.len());
            }
        }
        self.pos = self.pos.min(self.text.len());
    }

    /// A string that reaches the end of its line: report it and resume scanning as code.
    fn unterminated_string(&mut self) {
        if let Some(Frame::String { start }) = self.stack.pop() {
            let end = self.find_from(start, b"\n").unwrap_or(self.text.len());
            self.out.problems.push(Problem { kind: ProblemKind::UnterminatedString, start, end });
        }
        // An interpolation left open inside the string is abandoned with it.
        while matches!(self.stack.last(), Some(Frame::Interpolation { .. })) {
            self.stack.pop();
        }
    }

    fn finish(&mut self) {
        while let Some(frame) = self.stack.pop() {
            match frame {
                Frame::String { start } => {
                    let end = self.text.len();
                    self.out.problems.push(Problem { kind: ProblemKind::UnterminatedString, start, end });
                }
                Frame::Heredoc { start, marker, .. } => {
                    let dash = usize::from(self.text.get(start + 2) == Some(&b'-'));
                    let end = start + 2 + dash + marker.len();
                    self.out.problems.push(Problem { kind: ProblemKind::UnterminatedHeredoc, start, end });
                }
                Frame::Bracket { .. } | Frame::Interpolation { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_item_starts_and_comments() {
        let text = "# c\nlet a = 1\nresource x.y z {\n  a = \"#no\" // yes\n}\n";
        let scan = scan(text);
        assert_eq!(scan.item_starts, vec![0, 4, 14]);
        let comments: Vec<&str> = scan.comments.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(comments, vec!["# c", "// yes"]);
        assert!(scan.problems.is_empty());
    }

    #[test]
    fn reports_unterminated_constructs() {
        assert_eq!(scan("let a = \"abc\nlet b = 1\n").problems[0].kind, ProblemKind::UnterminatedString);
        assert_eq!(scan("let a = <<EOT\nabc\n").problems[0].kind, ProblemKind::UnterminatedHeredoc);
        assert_eq!(scan("let a = 1 /* abc").problems[0].kind, ProblemKind::UnterminatedComment);
    }

    #[test]
    fn heredoc_contents_are_not_code() {
        let scan = scan("let a = <<EOT\nresource \"x\n  EOT\nlet b = 2\n");
        assert!(scan.problems.is_empty(), "{:?}", scan.problems);
        assert_eq!(scan.item_starts.len(), 2);
    }

    #[test]
    fn heredoc_closing_markers_are_recorded() {
        let text = "let a = <<EOT\n${x}\n  EOT\nlet b = <<-X\n%{ for v in [\nX,\n] }${v}%{ endfor }\n X \n";
        let scan = scan(text);
        assert!(scan.problems.is_empty(), "{:?}", scan.problems);
        let ends: Vec<&str> = scan.heredoc_ends.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(ends, ["EOT", "X"], "a line of a directive spanning lines is not a closing marker");
        assert_eq!(scan.heredoc_ends[1].0, text.rfind(" X ").unwrap() + 1);
        let marked = mark_heredoc_ends(text, &scan.heredoc_ends);
        assert_eq!(marked.len(), text.len());
        assert!(marked.contains("\n  \u{1}\u{1}\u{1}\nlet b") && marked.ends_with("\n \u{1} \n"), "{marked:?}");
        assert!(matches!(mark_heredoc_ends("let a = 1", &[]), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_heredoc_line_that_would_read_as_a_closing_marker_is_a_problem() {
        let scan = scan("let a = <<EOT\n \u{1}\u{1}\r\nx\u{1}\nEOT\n");
        assert_eq!(scan.problems.len(), 1, "{:?}", scan.problems);
        assert_eq!((scan.problems[0].kind, scan.problems[0].start), (ProblemKind::MarkerLikeLine, 15));
    }

    #[test]
    fn deep_nesting_is_a_problem() {
        let text = format!("let a = {}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(scan(&text).problems[0].kind, ProblemKind::TooDeep);
    }
}
