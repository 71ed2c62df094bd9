//! Positions: an editor's (line, UTF-16 column) against the compiler's byte offsets.
//!
//! Editors speaking LSP count columns in UTF-16 code units; the compiler counts bytes. A column past the
//! end of its line means the end of the line (as the protocol asks); a line past the end
//! of the text, or a column in the middle of a surrogate pair, is an error the client
//! gets back.

/// A line and a column in UTF-16 code units, both from 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub fn new(line: u32, character: u32) -> Position {
        Position { line, character }
    }
}

/// From `start` up to (not including) `end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub fn new(start: Position, end: Position) -> Range {
        Range { start, end }
    }
}

/// The start of every line of one text, for converting positions both ways.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

/// A position the text does not have.
#[derive(Debug, PartialEq, Eq)]
pub struct BadPosition(pub String);

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// The byte offset of a position.
    pub fn offset(&self, position: Position) -> Result<usize, BadPosition> {
        let line = position.line as usize;
        let Some(&start) = self.line_starts.get(line) else {
            return Err(BadPosition(format!(
                "line {} is past the end of the document ({} lines)",
                position.line,
                self.line_starts.len()
            )));
        };
        let end = self.line_end(line);
        let mut units = 0u32;
        for (index, ch) in self.text[start..end].char_indices() {
            if units == position.character {
                return Ok(start + index);
            }
            units += ch.len_utf16() as u32;
            if units > position.character {
                return Err(BadPosition(format!(
                    "character {} of line {} is inside a UTF-16 surrogate pair",
                    position.character, position.line
                )));
            }
        }
        Ok(end)
    }

    /// The byte offset of the end of a range a client asks about (inlay hints, code
    /// actions): a line past the end means the end of the text.
    pub fn range_end(&self, position: Position) -> Result<usize, BadPosition> {
        if position.line as usize >= self.line_starts.len() {
            return Ok(self.text.len());
        }
        self.offset(position)
    }

    /// The position of a byte offset (clamped to the text, moved back to a character
    /// boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = self.line_starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The end of a line's text, before its `\n` (and a `\r` before that).
    fn line_end(&self, line: usize) -> usize {
        let end = self.line_starts.get(line + 1).map_or(self.text.len(), |next| next - 1);
        let start = self.line_starts[line];
        if end > start && self.text.as_bytes()[end - 1] == b'\r' && end < self.text.len() {
            end - 1
        } else {
            end
        }
    }

    /// The whole text's range, for edits that replace it.
    pub fn full_range(&self) -> Range {
        self.range(0, self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, offset: usize, expected: (u32, u32)) {
        let index = LineIndex::new(text);
        let position = index.position(offset);
        assert_eq!((position.line, position.character), expected, "position of byte {offset}");
        assert_eq!(index.offset(position), Ok(offset), "offset of {position:?}");
    }

    #[test]
    fn ascii_columns_are_bytes() {
        round_trip("let a = 1\nlet b = 2\n", 14, (1, 4));
    }

    #[test]
    fn two_byte_characters_count_as_one_unit() {
        // `é` is two bytes in UTF-8 and one UTF-16 unit.
        let text = "let café = \"é\"\nlet x = café\n";
        let x = text.find("x =").unwrap();
        round_trip(text, x, (1, 4));
        let quote = text.find("= \"").unwrap() + 2;
        round_trip(text, quote, (0, 11));
        let after = text.find('\n').unwrap();
        round_trip(text, after, (0, 14));
    }

    #[test]
    fn astral_characters_count_as_two_units() {
        // `🚀` is four bytes in UTF-8 and a surrogate pair (two units) in UTF-16.
        let text = "# 🚀 launch\nlet 名前 = 1\n";
        let launch = text.find("launch").unwrap();
        round_trip(text, launch, (0, 5));
        let equals = text.find('=').unwrap();
        round_trip(text, equals, (1, 7));
    }

    #[test]
    fn a_column_inside_a_surrogate_pair_is_an_error() {
        let index = LineIndex::new("# 🚀\n");
        assert!(index.offset(Position::new(0, 3)).is_err());
        assert_eq!(index.offset(Position::new(0, 4)), Ok(6));
    }

    #[test]
    fn a_column_past_the_line_end_is_the_line_end() {
        let index = LineIndex::new("ab\r\ncd");
        assert_eq!(index.offset(Position::new(0, 99)), Ok(2));
        assert_eq!(index.offset(Position::new(1, 99)), Ok(6));
    }

    #[test]
    fn a_line_past_the_end_is_an_error() {
        let index = LineIndex::new("ab\ncd");
        assert!(index.offset(Position::new(2, 0)).is_err());
        assert_eq!(index.offset(Position::new(1, 0)), Ok(3));
    }

    #[test]
    fn offsets_inside_a_character_move_back_to_its_start() {
        let index = LineIndex::new("é");
        assert_eq!(index.position(1), Position::new(0, 0));
        assert_eq!(index.position(2), Position::new(0, 1));
    }
}
