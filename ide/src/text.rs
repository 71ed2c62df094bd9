//! Text edits from the client, and the small lexical look-backs that completion and
//! signature help use where the code being typed does not parse yet.

use crate::line_index::{LineIndex, Range};

/// An edit from the editor: the whole new text, or a range replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextChange {
    pub range: Option<Range>,
    pub text: String,
}

/// Applies one change. A change whose range the text does not have replaces nothing
/// rather than guessing.
pub fn apply_change(text: &mut String, change: TextChange) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let index = LineIndex::new(text);
    let (Ok(start), Ok(end)) = (index.offset(range.start), index.offset(range.end)) else { return };
    if start <= end {
        text.replace_range(start..end, &change.text);
    }
}

/// The identifier (ASCII letters, digits and `_`) that ends at `offset`, and its start.
pub fn word_before(text: &str, offset: usize) -> (usize, &str) {
    let before = &text[..offset];
    let start = before.char_indices().rev().take_while(|(_, c)| is_ident_char(*c)).last().map_or(offset, |(i, _)| i);
    (start, &text[start..offset])
}

pub fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// What surrounds an offset, read from the text before it: the nesting of brackets
/// (skipping strings and comments) from the start of the top-level item it is in.
#[derive(Debug, Default, PartialEq)]
pub struct Context {
    /// The header words of every `{` still open, outermost first: for
    /// `resource local.file a {` the words `resource local.file a`; for `tags = {` the
    /// words `tags =`.
    pub open_braces: Vec<Vec<String>>,
    /// The offset in the text of each `{` in `open_braces`.
    pub brace_offsets: Vec<usize>,
    /// Unclosed `(` with the identifier before each (the function called) and the number
    /// of commas seen inside it at its own depth.
    pub open_calls: Vec<(String, usize)>,
    /// Inside a `[` or `(` (an expression), so attribute names do not apply.
    pub in_brackets: bool,
    /// Inside a string or comment.
    pub in_string_or_comment: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Brace,
    Paren,
    Bracket,
    Interpolation,
}

/// Scans from the start of the item containing `offset` (the last line before it that
/// starts in column 0 with a letter) to `offset`.
pub fn context(text: &str, offset: usize) -> Context {
    let item_start = item_start(text, offset);
    let source = &text[item_start..offset];
    let mut stack: Vec<Open> = Vec::new();
    let mut context = Context::default();
    // Where the statement being read at the current brace depth starts: after the last
    // `{`, `}` ending a body or newline that is not inside brackets. A header's
    // own brackets (`for i in range(2) {`) and object literals (`for k, v in {a = 1} {`)
    // leave it where it is.
    let mut header_start = 0;
    // For each open `{` that opens an object, the header start to go back to when it
    // closes; `None` for a body, after which a new statement starts.
    let mut saved_header_starts: Vec<Option<usize>> = Vec::new();
    let mut chars = source.char_indices().peekable();
    // Whether the scanner is inside a quoted string (and at which stack depth it began).
    let mut strings: Vec<usize> = Vec::new();
    while let Some((i, c)) = chars.next() {
        if let Some(&depth) = strings.last() {
            if stack.len() == depth {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => {
                        strings.pop();
                    }
                    '$' if chars.peek().map(|p| p.1) == Some('{') => {
                        chars.next();
                        stack.push(Open::Interpolation);
                    }
                    _ => {}
                }
                continue;
            }
        }
        match c {
            '"' => strings.push(stack.len()),
            '#' => skip_line(&mut chars),
            '/' if chars.peek().map(|p| p.1) == Some('/') => skip_line(&mut chars),
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                let mut last = ' ';
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if last == '*' && c == '/' {
                        closed = true;
                        break;
                    }
                    last = c;
                }
                if !closed {
                    context.in_string_or_comment = true;
                    return context;
                }
            }
            '{' => {
                stack.push(Open::Brace);
                let header = &source[header_start..i];
                saved_header_starts.push(opens_expression(header).then_some(header_start));
                context.open_braces.push(header_words(header));
                context.brace_offsets.push(item_start + i);
                header_start = i + 1;
            }
            '(' => {
                stack.push(Open::Paren);
                let (_, name) = word_before(source, i);
                context.open_calls.push((name.to_string(), 0));
            }
            '[' => stack.push(Open::Bracket),
            ',' if stack.last() == Some(&Open::Paren) => {
                if let Some(call) = context.open_calls.last_mut() {
                    call.1 += 1;
                }
            }
            '}' | ')' | ']' => match stack.pop() {
                Some(Open::Brace) => {
                    context.open_braces.pop();
                    context.brace_offsets.pop();
                    header_start = saved_header_starts.pop().flatten().unwrap_or(i + 1);
                }
                Some(Open::Paren) => {
                    context.open_calls.pop();
                }
                _ => {}
            },
            '\n' if matches!(stack.last(), None | Some(Open::Brace)) => header_start = i + 1,
            _ => {}
        }
    }
    // A line comment running to the offset.
    let line_start = source.rfind('\n').map_or(0, |i| i + 1);
    let line = &source[line_start..];
    let in_comment = !strings.is_empty() && strings.last() == Some(&stack.len()) || line_comment_open(line);
    context.in_string_or_comment = in_comment;
    context.in_brackets = stack.iter().any(|o| matches!(o, Open::Paren | Open::Bracket | Open::Interpolation));
    context
}

fn line_comment_open(line: &str) -> bool {
    let mut in_string = false;
    let mut previous = ' ';
    for c in line.chars() {
        match c {
            '"' if previous != '\\' => in_string = !in_string,
            '#' if !in_string => return true,
            '/' if !in_string && previous == '/' => return true,
            _ => {}
        }
        previous = c;
    }
    false
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    while let Some(&(_, c)) = chars.peek() {
        if c == '\n' {
            break;
        }
        chars.next();
    }
}

/// Whether a `{` after `header` opens an object (an expression) rather than a body:
/// after `=`, an operator, an opening bracket, a comma, `:`, `?`, `in` or `if`.
fn opens_expression(header: &str) -> bool {
    let header = header.trim_end();
    let last_word = header.rsplit(|c: char| !is_ident_char(c)).next().unwrap_or("");
    header.is_empty()
        || header.ends_with(|c| "=([,:?+-*/%&|!<>".contains(c))
        || (header.ends_with(last_word) && matches!(last_word, "in" | "if"))
}

fn header_words(header: &str) -> Vec<String> {
    header.split_whitespace().map(str::to_string).collect()
}

/// The entries a body sets, read from the text after its `{` at `open_brace` to its
/// `}` (or the end of the text): each name that starts a statement at the body's own
/// depth and is followed by `=` (an attribute), `{` or a repetition (a block), with its
/// offset. Strings, comments and nested brackets are skipped.
pub fn body_entries(text: &str, open_brace: usize) -> Vec<(String, usize)> {
    let mut entries = Vec::new();
    let mut depth = 0usize;
    let mut at_statement = true;
    let mut chars = text[open_brace + 1..].char_indices().map(|(i, c)| (open_brace + 1 + i, c)).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => skip_string(&mut chars),
            // A comment does not end a statement or start one.
            '#' => {
                skip_to_newline(&mut chars);
                continue;
            }
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                skip_to_newline(&mut chars);
                continue;
            }
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                skip_block_comment(&mut chars);
                continue;
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' if depth == 0 => break,
            '}' | ')' | ']' => depth -= 1,
            '\n' | ',' if depth == 0 => {
                at_statement = true;
                continue;
            }
            c if depth == 0 && at_statement && (c.is_ascii_alphabetic() || c == '_') => {
                let end = text[i..].find(|c: char| !is_ident_char(c)).map_or(text.len(), |n| i + n);
                let rest = text[end..].trim_start_matches([' ', '\t']);
                let next_word = rest.split(|c: char| !is_ident_char(c)).next().unwrap_or("");
                let attribute = rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>");
                if attribute || rest.starts_with('{') || matches!(next_word, "for" | "if") {
                    entries.push((text[i..end].to_string(), i));
                }
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            _ => {}
        }
        if !c.is_whitespace() {
            at_statement = false;
        }
    }
    entries
}

/// Skips a quoted string whose `"` was just read, with its interpolations.
fn skip_string(chars: &mut std::iter::Peekable<impl Iterator<Item = (usize, char)>>) {
    let mut interpolations = 0usize;
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '$' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                interpolations += 1;
            }
            '}' if interpolations > 0 => interpolations -= 1,
            '"' if interpolations == 0 => return,
            '\n' => return,
            _ => {}
        }
    }
}

fn skip_to_newline(chars: &mut std::iter::Peekable<impl Iterator<Item = (usize, char)>>) {
    while chars.next_if(|&(_, c)| c != '\n').is_some() {}
}

fn skip_block_comment(chars: &mut std::iter::Peekable<impl Iterator<Item = (usize, char)>>) {
    let mut last = ' ';
    for (_, c) in chars.by_ref() {
        if last == '*' && c == '/' {
            return;
        }
        last = c;
    }
}

/// The start of the line that starts the top-level item containing `offset`.
pub fn item_start(text: &str, offset: usize) -> usize {
    let mut start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    loop {
        let first = text[start..].chars().next();
        if first.is_some_and(|c| c.is_ascii_alphabetic()) || start == 0 {
            return start;
        }
        start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_sees_the_open_resource_body() {
        let text = "let a = 1\nresource local.file f {\n  path = \"{x}\"\n  ";
        let context = context(text, text.len());
        assert_eq!(context.open_braces, vec![vec!["resource", "local.file", "f"]]);
        assert!(!context.in_brackets);
    }

    #[test]
    fn context_counts_arguments_of_the_open_call() {
        let text = "let a = join(\",\", [1, 2], ";
        let context = context(text, text.len());
        assert_eq!(context.open_calls, vec![("join".to_string(), 2)]);
        assert!(context.in_brackets);
    }

    #[test]
    fn context_knows_strings_and_interpolations() {
        let text = "let a = \"x ${b";
        assert!(!context(text, text.len()).in_string_or_comment);
        let text = "let a = \"x ";
        assert!(context(text, text.len()).in_string_or_comment);
        let text = "let a = 1 # note";
        assert!(context(text, text.len()).in_string_or_comment);
    }

    #[test]
    fn context_keeps_a_header_with_brackets_and_objects() {
        let text = "resource local.file f for k, v in merge({ a = \"}\" }, {}) {\n  ";
        let context = context(text, text.len());
        assert_eq!(context.open_braces[0][..4], ["resource", "local.file", "f", "for"]);
        assert_eq!(context.brace_offsets, [text.rfind('{').unwrap_or_default()]);
    }

    #[test]
    fn body_entries_are_the_names_set_at_the_body_depth() {
        let text = "resource a.b c {\n  x = \"}\" # y = 1\n  tags = { z = 1 }\n  ingress for p in ps {\n    w = 1\n  }\n  check == 1\n  /* v = 2 */ u {}\n}\nlet after = 1\n";
        let names: Vec<String> =
            body_entries(text, text.find('{').unwrap_or_default()).into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["x", "tags", "ingress", "u"]);
    }

    #[test]
    fn changes_replace_ranges_by_utf16_positions() {
        let mut text = "let café = 1\n".to_string();
        use crate::line_index::Position;
        let change =
            TextChange { range: Some(Range::new(Position::new(0, 4), Position::new(0, 8))), text: "tea".to_string() };
        apply_change(&mut text, change);
        assert_eq!(text, "let tea = 1\n");
    }
}
