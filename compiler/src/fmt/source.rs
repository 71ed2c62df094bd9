//! The source text as the formatter sees it: node ranges without trailing trivia,
//! comment lookup, blank-line detection and verbatim re-indentation.

use crate::span::Span;
use crate::syntax::ast::{Comment, CommentKind};

/// Continuation lines of a verbatim slice sit at least this much deeper than its first
/// line, unless they start with a closing bracket. Besides readability this keeps a
/// continuation line from landing in column 0, where a keyword would start an item.
const CONTINUATION_INDENT: usize = 2;

pub(super) struct Source<'a> {
    pub text: &'a str,
    /// Every comment, sorted by start.
    comments: &'a [Comment],
    /// Byte ranges of every heredoc, sorted by start; their lines are never re-indented.
    heredocs: Vec<(usize, usize)>,
    /// For each heredoc in `heredocs`, the furthest end among it and those before it
    /// (a heredoc may sit inside another's interpolation), so that whether a position
    /// lies in any heredoc is one binary search.
    furthest_ends: Vec<usize>,
    /// Every heredoc's end, sorted.
    ends: Vec<usize>,
}

/// What lies between two statements or elements, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    /// A comment on the same line as whatever precedes it.
    Trailing(&'a str),
    /// A comment that starts its own line.
    OwnLine(&'a str),
    /// At least one blank line.
    Blank,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str, comments: &'a [Comment], mut heredocs: Vec<(usize, usize)>) -> Source<'a> {
        heredocs.sort_unstable();
        let furthest_ends = heredocs
            .iter()
            .scan(0, |furthest, &(_, end)| {
                *furthest = end.max(*furthest);
                Some(*furthest)
            })
            .collect();
        let mut ends: Vec<usize> = heredocs.iter().map(|&(_, end)| end).collect();
        ends.sort_unstable();
        Source { text, comments, heredocs, furthest_ends, ends }
    }

    /// The byte range of a node without trailing whitespace and comments: a pest span
    /// of a rule that ends in an optional or repeated part includes the trivia skipped
    /// before pest found that the part is absent.
    pub fn range(&self, span: Span) -> (usize, usize) {
        let (start, mut end) = (span.start as usize, span.end as usize);
        loop {
            end = start + self.text[start..end].trim_end().len();
            if end == start {
                return (start, end);
            }
            match self.comment_at(end - 1) {
                Some(c) if c.span.start as usize >= start => end = c.span.start as usize,
                _ => return (start, end),
            }
        }
    }

    /// The comment covering byte `pos`, if any.
    fn comment_at(&self, pos: usize) -> Option<&Comment> {
        let after = self.comments.partition_point(|c| c.span.start as usize <= pos);
        let c = self.comments.get(after.checked_sub(1)?)?;
        (pos < c.span.end as usize).then_some(c)
    }

    /// The comments that start in `start..end`.
    pub fn comments_in(&self, start: usize, end: usize) -> &'a [Comment] {
        let lo = self.comments.partition_point(|c| (c.span.start as usize) < start);
        let hi = self.comments.partition_point(|c| (c.span.start as usize) < end);
        &self.comments[lo..hi.max(lo)]
    }

    pub fn has_comment(&self, start: usize, end: usize) -> bool {
        !self.comments_in(start, end).is_empty()
    }

    /// True when every comment in `start..end` lies inside one of `children`.
    pub fn comments_covered(&self, start: usize, end: usize, children: &[(usize, usize)]) -> bool {
        self.comments_in(start, end).iter().all(|c| {
            let (c_start, c_end) = (c.span.start as usize, c.span.end as usize);
            children.iter().any(|&(s, e)| s <= c_start && c_end <= e)
        })
    }

    /// True when a heredoc ends at `end`.
    pub fn heredoc_ends_at(&self, end: usize) -> bool {
        self.ends.binary_search(&end).is_ok()
    }

    pub fn has_newline(&self, start: usize, end: usize) -> bool {
        self.text[start..end].contains('\n')
    }

    /// A comment as printed: exactly as written, except that a line comment loses
    /// trailing whitespace (a `\r` of a CRLF file, say).
    fn comment_text(&self, comment: &Comment) -> &'a str {
        let text = &self.text[comment.span.range()];
        match comment.kind {
            CommentKind::Line => text.trim_end(),
            CommentKind::Block => text,
        }
    }

    /// The comments and blank lines between `from` and `to`, which hold nothing else
    /// but whitespace and separating commas.
    pub fn gap(&self, from: usize, to: usize) -> Vec<Piece<'a>> {
        let mut pieces = Vec::new();
        let mut cursor = from;
        for comment in self.comments_in(from, to) {
            let before = &self.text[cursor..comment.span.start as usize];
            if !before.contains('\n') {
                pieces.push(Piece::Trailing(self.comment_text(comment)));
            } else {
                if has_blank_line(before) {
                    pieces.push(Piece::Blank);
                }
                pieces.push(Piece::OwnLine(self.comment_text(comment)));
            }
            cursor = comment.span.end as usize;
        }
        if has_blank_line(&self.text[cursor.min(to)..to]) {
            pieces.push(Piece::Blank);
        }
        pieces
    }

    /// The first character at or after `from` that is neither whitespace nor inside a
    /// comment, and whether a comment was skipped to reach it.
    pub fn next_token(&self, from: usize) -> (usize, bool) {
        let mut pos = from;
        let mut skipped = false;
        loop {
            pos += self.text[pos..].len() - self.text[pos..].trim_start().len();
            match self.comments_in(pos, pos + 1).first() {
                Some(c) => {
                    pos = c.span.end as usize;
                    skipped = true;
                }
                None => return (pos, skipped),
            }
        }
    }

    /// The width of the indentation of the line holding byte `pos`.
    fn line_indent(&self, pos: usize) -> usize {
        let line_start = self.text[..pos].rfind('\n').map_or(0, |i| i + 1);
        leading_whitespace(&self.text[line_start..])
    }

    /// True when the newline at `pos` is inside a heredoc or a block comment, whose
    /// lines must stay exactly as written.
    fn protected(&self, pos: usize) -> bool {
        let before = self.heredocs.partition_point(|&(start, _)| start < pos);
        let in_heredoc = before > 0 && self.furthest_ends[before - 1] > pos;
        in_heredoc || self.comment_at(pos).is_some_and(|c| c.kind == CommentKind::Block)
    }

    /// The source text of `start..end`, re-indented for a first line indented by `base`:
    /// each later line keeps its indentation relative to the first line (but at least
    /// [`CONTINUATION_INDENT`] deeper unless it starts with a closing bracket), loses
    /// trailing whitespace, and lines inside heredocs and block comments stay untouched.
    /// Like [`super::expr::expr`], a slice ending in a heredoc ends with a new line.
    pub fn verbatim(&self, start: usize, end: usize, base: usize) -> String {
        // Only needed to re-indent later lines; finding it searches back to the start of
        // the line, which for every number of a one-line list would be quadratic.
        let original_base = if self.text[start..end].contains('\n') { self.line_indent(start) } else { 0 };
        let mut out = String::new();
        let mut line_start = start;
        let mut raw = false;
        for (offset, _) in self.text[start..end].match_indices('\n').chain([(end - start, "")]) {
            let line_end = start + offset;
            let keep_end = line_end < end && self.protected(line_end);
            let line = &self.text[line_start..line_end];
            let line = if keep_end { line } else { line.trim_end() };
            if line_start > start {
                out.push('\n');
            }
            if raw || line_start == start {
                out.push_str(line);
            } else {
                push_reindented(&mut out, line, base, original_base);
            }
            raw = keep_end;
            line_start = line_end + 1;
        }
        if self.heredoc_ends_at(end) {
            out.push('\n');
            push_spaces(&mut out, base);
        }
        out
    }
}

fn push_reindented(out: &mut String, line: &str, base: usize, original_base: usize) {
    let content = line.trim_start();
    if content.is_empty() {
        return;
    }
    let relative = leading_whitespace(line).saturating_sub(original_base);
    let minimum = if content.starts_with([')', ']', '}']) { 0 } else { CONTINUATION_INDENT };
    push_spaces(out, base + relative.max(minimum));
    out.push_str(content);
}

/// True when `text` holds a line with nothing but whitespace between two newlines.
fn has_blank_line(text: &str) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    lines.len() > 2 && lines[1..lines.len() - 1].iter().any(|l| l.trim().is_empty())
}

fn leading_whitespace(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
}

/// Appends `text` to `out`. After a heredoc, whose closing marker must end its line,
/// `out` ends with a line holding only indentation, and `text` continues there: one
/// level deeper when it continues the expression (`+ 1`), as is when it closes or
/// separates (`)`, `,`, a body's `{`).
pub(super) fn push_text(out: &mut String, text: &str) {
    if !ends_in_blank_line(out) {
        out.push_str(text);
        return;
    }
    let text = text.trim_start();
    if !text.is_empty() && !text.starts_with([')', ']', '}', ',', '{']) {
        push_spaces(out, CONTINUATION_INDENT);
    }
    out.push_str(text);
}

/// True when the last line of `text` (after at least one newline) is only whitespace.
pub(super) fn ends_in_blank_line(text: &str) -> bool {
    // Only the trailing whitespace is looked at, not the whole last line, so appending
    // to one long line stays linear.
    text.trim_end_matches(|c: char| c.is_whitespace() && c != '\n').ends_with('\n')
}

pub(super) fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Appends pieces to one line (or lines) of output, knowing the indentation of its last
/// line without searching for the line's start after every piece: a one-line list of
/// 200,000 elements would otherwise be formatted in quadratic time.
pub(super) struct LineWriter<'o> {
    pub out: &'o mut String,
    base: usize,
    /// The indentation of `out`'s last line.
    pub indent: usize,
}

impl<'o> LineWriter<'o> {
    /// Appends to `out`, whose first line is indented by `base`.
    pub fn new(out: &'o mut String, base: usize) -> LineWriter<'o> {
        let indent = last_line_indent(out, base);
        LineWriter { out, base, indent }
    }

    /// [`push_text`], keeping [`LineWriter::indent`] up to date.
    pub fn push(&mut self, text: &str) {
        let starts_line = ends_in_blank_line(self.out);
        push_text(self.out, text);
        if starts_line || text.contains('\n') {
            self.indent = last_line_indent(self.out, self.base);
        }
    }
}

/// The indentation of the line `text` ends on, where `base` is that of its first line.
pub(super) fn last_line_indent(text: &str, base: usize) -> usize {
    match text.rfind('\n') {
        Some(i) => leading_whitespace(&text[i + 1..]),
        None => base,
    }
}

/// The width in columns of the line `text` ends on, where its first line is indented
/// by `base`.
pub(super) fn last_line_width(text: &str, base: usize) -> usize {
    match text.rfind('\n') {
        Some(i) => text[i + 1..].chars().count(),
        None => base + text.chars().count(),
    }
}
