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
    /// A one-line `key = value`, whose `=` lines up with its neighbours'.
    Assign { key: String, value: String },
}

impl Rendered {
    fn is_multi_line(&self) -> bool {
        match self {
            Rendered::Text(text) => text.contains('\n'),
            Rendered::Assign { .. } => false,
        }
    }

    /// The entry with its key padded to `key_width` columns.
    fn render(&self, key_width: usize) -> String {
        match self {
            Rendered::Text(text) => text.clone(),
            Rendered::Assign { key, value } => format!("{key:<key_width$} = {value}"),
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
pub(super) fn render(src: &Source, out: &mut String, (open, close): (usize, usize), entries: &[Entry], layout: &Layout) {
    let mut gaps = Vec::with_capacity(entries.len());
    let mut previous_end = open;
    for entry in entries {
        gaps.push(src.gap(previous_end, entry.start));
        previous_end = entry.end;
    }
    let key_widths = key_widths(entries, &gaps);
    let mut writer = Writer { out, indent: layout.indent, pending_blank: false, started: false };
    for (i, entry) in entries.iter().enumerate() {
        let separate = layout.top_level && i > 0 && entry.rendered.is_multi_line() && entries[i - 1].rendered.is_multi_line();
        writer.pending_blank |= separate;
        writer.pieces(&gaps[i]);
        writer.line(&entry.rendered.render(key_widths[i]));
    }
    writer.pieces(&src.gap(previous_end, close));
}

/// The key width of every entry: the widest key of the run of consecutive `Assign`
/// entries it belongs to. A comment line or a blank line ends a run.
fn key_widths(entries: &[Entry], gaps: &[Vec<Piece>]) -> Vec<usize> {
    let mut widths = vec![0; entries.len()];
    let mut run_start = 0;
    for i in 0..=entries.len() {
        let continues = i < entries.len()
            && i > 0
            && matches!(entries[i].rendered, Rendered::Assign { .. })
            && matches!(entries[i - 1].rendered, Rendered::Assign { .. })
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
