//! Laying out a sequence of statements or elements one per line, with the comments
//! and blank lines between them, and `=` aligned in runs of one-line attributes.

use super::source::{push_spaces, Piece, Source};

/// One formatted statement or element and its source range.
pub(super) struct Entry {
    pub start: usize,
    pub end: usize,
    pub rendered: Rendered,
}

pub(super) enum Rendered {
    /// Printed as is.
    Text(String),
    /// `key = value`, whose `=` lines up with its neighbours'. Built by
    /// [`Rendered::assign`].
    Assign { key: String, value: String },
}

impl Rendered {
    /// `key = value`, aligned with its neighbours when its first line is a whole line
    /// of its own: a one-line value, or one whose line breaks are inside a heredoc or
    /// after a balanced first line. A value that opens a bracket on the first line and
    /// closes it on a later one is not aligned; `terraform fmt` decides the same way.
    pub fn assign(key: String, value: String) -> Rendered {
        if value.lines().next().is_some_and(opens_bracket) {
            Rendered::Text(format!("{key} = {value}"))
        } else {
            Rendered::Assign { key, value }
        }
    }

    fn is_single_line(&self) -> bool {
        match self {
            Rendered::Text(text) | Rendered::Assign { value: text, .. } => !text.contains('\n'),
        }
    }

    /// The entry with its key padded to `key_width` columns.
    pub fn render(&self, key_width: usize) -> String {
        match self {
            Rendered::Text(text) => text.clone(),
            Rendered::Assign { key, value } => {
                // Padded by hand: `format!`'s width stops at 65,535 and a key may be longer.
                let mut text = key.clone();
                push_spaces(&mut text, key_width.saturating_sub(key.chars().count()));
                text.push_str(" = ");
                text.push_str(value);
                text
            }
        }
    }

    /// The entry as one line without alignment, when it fits on one.
    pub fn single_line(&self) -> Option<String> {
        let text = self.render(0);
        (!text.contains('\n')).then_some(text)
    }

    /// Appends `suffix` (a separating comma) to the end of the entry.
    pub fn with_suffix(self, suffix: &str) -> Rendered {
        match self {
            Rendered::Text(text) => Rendered::Text(text + suffix),
            Rendered::Assign { key, value } => Rendered::Assign { key, value: value + suffix },
        }
    }
}

pub(super) struct Layout {
    /// Indentation of each entry's first line.
    pub indent: usize,
    /// The file's top level: a blank line separates two multi-line items.
    pub top_level: bool,
}

/// Appends `entries`, found in the source between `open` and `close`, to `out`, one per
/// line. `out` ends with the line that opens the sequence (empty at the top level).
pub(super) fn render(
    src: &Source,
    out: &mut String,
    (open, close): (usize, usize),
    entries: &[Entry],
    layout: &Layout,
) {
    let mut gaps = Vec::with_capacity(entries.len());
    let mut previous_end = open;
    for entry in entries {
        gaps.push(src.gap(previous_end, entry.start));
        previous_end = entry.end;
    }
    gaps.push(src.gap(previous_end, close));
    let key_widths = key_widths(entries, &gaps);
    // An entry ending in a heredoc ends with the indentation for what would follow.
    let mut texts: Vec<String> =
        entries.iter().zip(key_widths).map(|(e, width)| e.rendered.render(width).trim_end().to_string()).collect();
    align_trailing_comments(&mut texts, &gaps);
    let mut writer = Writer { out, indent: layout.indent, pending_blank: false, started: false };
    for (i, text) in texts.iter().enumerate() {
        let separate = layout.top_level && i > 0 && text.contains('\n') && texts[i - 1].contains('\n');
        writer.pending_blank |= separate;
        writer.pieces(&gaps[i]);
        writer.line(text);
    }
    writer.pieces(&gaps[entries.len()]);
}

/// Pads one-line entries on consecutive lines that all end in a comment, so that the
/// comments line up. `gaps[i + 1]` is what follows entry `i`.
fn align_trailing_comments(texts: &mut [String], gaps: &[Vec<Piece>]) {
    let trails = |i: usize| !texts[i].contains('\n') && matches!(gaps[i + 1].first(), Some(Piece::Trailing(_)));
    let trailing: Vec<bool> = (0..texts.len()).map(trails).collect();
    let mut run_start = 0;
    for i in 0..=texts.len() {
        let continues = i < texts.len()
            && i > 0
            && trailing[i]
            && trailing[i - 1]
            && gaps[i].iter().all(|p| matches!(p, Piece::Trailing(_)));
        if !continues {
            let widest = texts[run_start..i].iter().map(|t| t.chars().count()).max().unwrap_or(0);
            for text in &mut texts[run_start..i] {
                let padding = widest - text.chars().count();
                push_spaces(text, padding);
            }
            run_start = i;
        }
    }
}

/// The key width of every entry: the widest key of the run of consecutive `Assign`
/// entries it belongs to. A comment line, a blank line or an entry that spans lines
/// ends a run (a multi-line `Assign` can be the last of its run).
fn key_widths(entries: &[Entry], gaps: &[Vec<Piece>]) -> Vec<usize> {
    let mut widths = vec![0; entries.len()];
    let mut run_start = 0;
    for i in 0..=entries.len() {
        let continues = i < entries.len()
            && i > 0
            && matches!(entries[i].rendered, Rendered::Assign { .. })
            && matches!(entries[i - 1].rendered, Rendered::Assign { .. })
            && entries[i - 1].rendered.is_single_line()
            && gaps[i].iter().all(|p| matches!(p, Piece::Trailing(_)));
        if !continues {
            let run = run_start..i;
            let widest = entries[run.clone()].iter().map(|e| key_width(&e.rendered)).max().unwrap_or(0);
            widths[run].fill(widest);
            run_start = i;
        }
    }
    widths
}

fn key_width(rendered: &Rendered) -> usize {
    match rendered {
        Rendered::Assign { key, .. } => key.chars().count(),
        Rendered::Text(_) => 0,
    }
}

struct Writer<'o> {
    out: &'o mut String,
    indent: usize,
    /// A blank line goes before the next line, unless that is the first.
    pending_blank: bool,
    /// Whether a line of this sequence has been written.
    started: bool,
}

impl Writer<'_> {
    fn pieces(&mut self, pieces: &[Piece]) {
        for piece in pieces {
            match piece {
                // At the top of a file there is no line to trail.
                Piece::Trailing(text) if !self.out.is_empty() => {
                    self.out.push(' ');
                    self.out.push_str(text);
                }
                Piece::Trailing(text) | Piece::OwnLine(text) => self.line(text),
                Piece::Blank => self.pending_blank = true,
            }
        }
    }

    fn line(&mut self, text: &str) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        if self.pending_blank && self.started {
            self.out.push('\n');
        }
        push_spaces(self.out, self.indent);
        self.out.push_str(text);
        self.pending_blank = false;
        self.started = true;
    }
}

/// True when `line` (the first line of an expression) leaves a bracket, a string or an
/// interpolation open. Scanning stops at a heredoc opener or a comment.
fn opens_bracket(line: &str) -> bool {
    // Each open bracket; `true` for a `${` inside a string.
    let mut open: Vec<bool> = Vec::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                '$' if chars.peek() == Some(&'$') => {
                    chars.next();
                    chars.next_if_eq(&'{');
                }
                '$' if chars.next_if_eq(&'{').is_some() => {
                    open.push(true);
                    in_string = false;
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => open.push(false),
            ')' | ']' | '}' => in_string = open.pop() == Some(true),
            '<' if chars.peek() == Some(&'<') => break,
            '#' => break,
            '/' if matches!(chars.peek(), Some('/' | '*')) => break,
            _ => {}
        }
    }
    in_string || !open.is_empty()
}
