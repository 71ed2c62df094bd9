//! The canonical formatter behind `infra fmt`.
//!
//! The formatter prints the syntax tree again and puts every comment back where it
//! was. It never changes what a file means, never drops or edits a comment, and
//! formatting its own output changes nothing. A file with syntax errors is refused.
//!
//! Layout rules:
//! - Indentation is two spaces per level. `{` ends the line that opens a body; `}` sits
//!   on a line of its own at the indentation of the statement it closes.
//! - One statement per line: top-level items and body entries (attributes, nested
//!   blocks, `check`s, `...`) each start a line; commas between entries are dropped.
//! - A body written on one line stays on one line, as `{ a = 1, b = 2 }` (commas
//!   between entries, a space inside the braces), when it holds no comment and no nested
//!   block and its whole line fits in 100 columns; otherwise every entry gets a line of
//!   its own. An empty body prints as `{}`.
//! - `=` signs line up in a run of consecutive attributes, as in `terraform fmt`: one
//!   space after the longest name. A blank line, a comment on its own line, a nested
//!   block, a `check` or an attribute spanning several lines ends the run. An attribute
//!   whose first line is complete in itself (its value is a heredoc, or is broken after
//!   a balanced first line) still joins the run before it, as its last member; one
//!   whose first line opens a bracket (`tags = {`) does not. Entries of a multi-line
//!   object and fields of a multi-line `object({...})` type align the same way; `key:
//!   value` object entries do not align. A run of consecutive one-line top-level `let`s
//!   aligns the same way, as the entries of a Terraform `locals` block do; `input`s do
//!   not align.
//! - Blank lines between entries are kept, several collapsed into one; blank lines at
//!   the start and end of a body, a bracket or the file are removed. Two consecutive
//!   top-level items that both span several lines get a blank line between them.
//! - Single spaces around binary operators, `?`, `:`, `=>` and `=`, after commas, and
//!   inside the braces of a one-line object or `{ for ... }`; none inside `[...]` and
//!   `(...)`, none around `.` and none after a prefix `-` or `!`.
//! - A list, object, argument list or parameter list is laid out one element per line
//!   when the source puts its first element on a line after the opening bracket, or when
//!   a comment sits anywhere inside it; otherwise it is printed on one line. The author
//!   picks the layout with that first line break. One element per line means a
//!   trailing comma after every list element, argument and parameter, no commas between
//!   object entries (except where a value ending in a name meets a parenthesised key,
//!   which would otherwise read as a call), and aligned `=` in objects.
//! - Other expressions (a condition broken over lines, a multi-line `for`) are printed
//!   with canonical spacing on one line, unless that would join lines the author broke,
//!   or a comment sits inside: then they are kept as written, re-indented as a whole.
//!   Each line keeps its indentation relative to the expression's first line, and sits
//!   at least one level deeper unless it starts with a closing bracket.
//! - String literals and numbers are printed exactly as written (escapes, `$${` and
//!   spelling are kept). Heredocs are printed byte for byte, indentation included.
//!   Nothing may follow a heredoc's closing marker on its line, so whatever follows (a
//!   comma, an operator, a closing bracket, a body's `{`) starts the next line.
//! - Comments keep their text. A comment that followed code on the same line still
//!   does, after one space; the comments ending consecutive one-line statements (no
//!   blank or comment line between them) line up one space after the longest, as in
//!   `terraform fmt`. A comment on its own line stays on its own line, indented like the
//!   statement after it; a block comment sharing a line with the start of a statement
//!   moves to its own line. Lines inside block comments are untouched.
//! - A statement or declaration header with a comment between its own tokens
//!   (`resource /* x */ a.b c`, `name /* x */ = 1`) is printed as written, re-indented.
//!   When a header ends in a line comment, the body's `{` starts the next line.
//! - Trailing whitespace is removed everywhere except inside heredocs and block
//!   comments; line endings become `\n` outside them. The file ends with exactly one
//!   newline; a file without items or comments formats to nothing.

mod expr;
mod items;
mod seq;
mod source;
mod types;
mod walk;

use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use crate::syntax::parse_file;

/// Formats one file. Refuses (returning the errors) when the file does not parse
/// cleanly.
pub fn format_source(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = parse_file(file, text);
    let errors: Vec<Diagnostic> = parsed.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let heredocs = walk::heredocs(&parsed.ast.items);
    let src = source::Source::new(text, &parsed.ast.comments, heredocs);
    Ok(items::file(&src, &parsed.ast.items))
}
