//! Var files (`--var-file`): `name = expression` lines, or a JSON object of names to
//! values when the file's name ends in `.json` (as `terraform.tfvars.json`).
//!
//! A var file is where secrets are typed by hand, so its diagnostics must not quote
//! them. Before anything is parsed, the value of every input declared `sensitive` is
//! masked in the text that diagnostics show (each byte becomes `*`, so every span stays
//! valid), and [`Secrets::redact`] removes the words of those values from the messages
//! (`undefined name `hunter2`` for a secret written without quotes).

use std::collections::BTreeSet;
use std::path::Path;

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::{FileId, Span};

use super::{GivenText, GivenValue, Origin};
use crate::state::json::value_from_json;

/// What diagnostics show of a var file, and the words they must not.
pub struct Masked {
    /// The file's text with sensitive inputs' values masked: add this to the source map.
    pub shown: String,
    pub secrets: Secrets,
}

/// The words of sensitive values found in var files.
#[derive(Default)]
pub struct Secrets {
    words: BTreeSet<String>,
}

impl Secrets {
    /// Adds the words of another file's secrets.
    pub fn extend(&mut self, other: Secrets) {
        self.words.extend(other.words);
    }

    /// The diagnostic without any text that holds a word of a secret: such a message
    /// becomes its code's title with a note that it is hidden, such a label or help a
    /// fixed text, such a note goes. Replacing only the words would show the rest of the
    /// sentence around them, and so which words they were (a secret `value` garbled every
    /// "value" of the message).
    pub fn redact(&self, mut diagnostic: Diagnostic) -> Diagnostic {
        if self.words.is_empty() {
            return diagnostic;
        }
        if self.holds_secret(&diagnostic.message) {
            let title = infra_compiler::diagnostic::codes::title(diagnostic.code.as_str())
                .or_else(|| crate::codes::title(diagnostic.code.as_str()))
                .unwrap_or("error");
            diagnostic.message = format!("{title} (the message is hidden: it would quote a sensitive value)");
        }
        for label in &mut diagnostic.labels {
            if self.holds_secret(&label.message) {
                label.message = "here".to_string();
            }
        }
        diagnostic.notes.retain(|note| !self.holds_secret(note));
        if diagnostic.help.as_deref().is_some_and(|help| self.holds_secret(help)) {
            diagnostic.help = Some("check the value given to the sensitive input".to_string());
        }
        diagnostic
    }

    fn holds_secret(&self, text: &str) -> bool {
        text.split(|c: char| !is_word_char(c)).any(|word| self.words.contains(word))
    }
}

/// Letters, digits and everything but the punctuation that separates tokens: a secret
/// such as `p@ss-w0rd!` is one word.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | ',' | '=' | ':' | '{' | '}' | '[' | ']' | '(' | ')' | ';')
}

/// Masks the values of the `sensitive` inputs in a var file's `text`. In a file that is
/// valid JSON, exactly each such member's value (a string token with its quotes, an
/// array or object whole), so an error about another member on the same line is shown
/// as it is. Otherwise, from the `=` (or the JSON `:`) after the input's name to the end
/// of its line, and every following line up to the next that starts an assignment at
/// the same or a lesser indentation (a heredoc, a list or an object over several lines
/// is masked whole). Masking more than the value is harmless; less is not.
pub fn mask(text: &str, sensitive: &BTreeSet<String>) -> Masked {
    match json_members(text) {
        Some(members) => mask_json(text, &members, sensitive),
        None => mask_lines(text, sensitive),
    }
}

/// [`mask`] of a valid JSON var file: the sensitive members' values, byte for byte.
fn mask_json(text: &str, members: &[JsonMember], sensitive: &BTreeSet<String>) -> Masked {
    let mut shown = String::with_capacity(text.len());
    let mut words = BTreeSet::new();
    let mut kept = 0;
    for member in members.iter().filter(|m| sensitive.contains(&m.name)) {
        let secret = &text[member.value.clone()];
        shown.push_str(&text[kept..member.value.start]);
        push_masked(&mut shown, secret);
        add_words(&mut words, secret);
        // A message quotes the value as read (`"a\u0041"` as `aA`): those words too.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(secret) {
            add_json_words(&mut words, &value);
        }
        kept = member.value.end;
    }
    shown.push_str(&text[kept..]);
    Masked { shown, secrets: Secrets { words } }
}

/// [`mask`] of any other var file, line by line.
fn mask_lines(text: &str, sensitive: &BTreeSet<String>) -> Masked {
    let mut shown = String::with_capacity(text.len());
    let mut words = BTreeSet::new();
    // The indentation of the sensitive assignment being masked.
    let mut masking: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if masking.is_some_and(|at| indent <= at && assigned_name(line).is_some()) {
            masking = None;
        }
        let from = match masking {
            Some(_) => 0,
            None => match sensitive_value_start(line, sensitive) {
                Some(start) => {
                    masking = Some(indent);
                    start
                }
                None => line.len(),
            },
        };
        let (kept, secret) = line.split_at(from);
        shown.push_str(kept);
        add_words(&mut words, secret);
        push_masked(&mut shown, secret);
    }
    Masked { shown, secrets: Secrets { words } }
}

/// `secret` with each byte of every character but whitespace made `*`: offsets and
/// lines stay where they were.
fn push_masked(shown: &mut String, secret: &str) {
    shown.extend(secret.chars().map(|c| if c.is_whitespace() { c.to_string() } else { "*".repeat(c.len_utf8()) }));
}

fn add_words(words: &mut BTreeSet<String>, secret: &str) {
    words.extend(secret.split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty()).map(str::to_string));
}

/// The words of every string, number and key in a JSON value.
fn add_json_words(words: &mut BTreeSet<String>, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(text) => add_words(words, text),
        serde_json::Value::Number(number) => add_words(words, &number.to_string()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| add_json_words(words, item)),
        serde_json::Value::Object(members) => members.iter().for_each(|(key, item)| {
            add_words(words, key);
            add_json_words(words, item);
        }),
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// One member of a JSON var file's object: its name as read (escapes decoded), where
/// the name is written (with its quotes), and where its value is.
struct JsonMember {
    name: String,
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

/// The members of the top-level object of `text`, in order, when `text` is valid JSON
/// and an object; `None` otherwise.
fn json_members(text: &str) -> Option<Vec<JsonMember>> {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok()?;
    // Valid JSON: the scan below need not guard against anything malformed.
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0) + 1;
    let mut members = Vec::new();
    loop {
        at = skip_space(bytes, at);
        if bytes.get(at) != Some(&b'"') {
            return Some(members);
        }
        let key = at..string_end(bytes, at);
        let name = serde_json::from_str::<String>(&text[key.clone()]).ok()?;
        let start = skip_space(bytes, skip_space(bytes, key.end) + 1);
        let value = start..value_end(bytes, start);
        at = skip_space(bytes, value.end) + 1;
        members.push(JsonMember { name, key, value });
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The end of the string token that starts at `at` (after its closing quote).
fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut at = at + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The end of the JSON value that starts at `at`: a string, an array or object (to its
/// matching bracket), or a number or literal.
fn value_end(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(b'"') => string_end(bytes, at),
        Some(b'[' | b'{') => {
            let mut depth = 0usize;
            let mut at = at;
            while let Some(&byte) = bytes.get(at) {
                match byte {
                    b'"' => {
                        at = string_end(bytes, at);
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            bytes.len()
        }
        _ => {
            let rest = &bytes[at.min(bytes.len())..];
            at + rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len())
        }
    }
}

/// The name a line starts assigning (`name =`, `"name" =` or `"name":`).
fn assigned_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().trim_start_matches(['{', ',', ' ', '\t']);
    let (name, after) = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"')?,
        None => {
            rest.split_at(rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len()))
        }
    };
    (!name.is_empty() && assignment_operator(after).is_some()).then_some(name)
}

/// After a name: the length of the spaces and `=` (not `==`) or `:` that follow it.
fn assignment_operator(after: &str) -> Option<usize> {
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    let rest = &after[spaces..];
    let is_assignment = (rest.starts_with('=') && !rest.starts_with("==")) || rest.starts_with(':');
    is_assignment.then_some(spaces + 1)
}

/// Where the value of the first sensitive input assigned anywhere on the line starts
/// (a JSON object on one line assigns several).
fn sensitive_value_start(line: &str, sensitive: &BTreeSet<String>) -> Option<usize> {
    sensitive
        .iter()
        .flat_map(|name| line.match_indices(name.as_str()).map(move |(at, _)| (at, name.len())))
        .filter_map(|(at, len)| {
            let before = line[..at].chars().next_back();
            let starts_token = before.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '{' | ','));
            let after = line[at + len..].strip_prefix('"').unwrap_or(&line[at + len..]);
            let operator = assignment_operator(after)?;
            starts_token.then_some(line.len() - after.len() + operator)
        })
        .min()
}

/// The values a JSON var file gives: a JSON object whose members are inputs. `text` is
/// the file's real text (the source map holds the masked one).
pub fn parse_json(file: FileId, path: &Path, text: &str) -> Result<Vec<GivenValue>, Diagnostic> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        let at = offset(text, error.line(), error.column());
        // serde_json's message can quote the text it choked on: keep only its category.
        let what = match error.classify() {
            serde_json::error::Category::Eof => "the JSON ends too early",
            serde_json::error::Category::Syntax => "this is not valid JSON",
            _ => "this is not a JSON object of input values",
        };
        Diagnostic::error(codes::SYNTAX, format!("cannot read var file `{}`: {what}", path.display()))
            .with_label(Span::new(file, at, (at + 1).min(text.len()).max(at)), "here")
            .with_help("a JSON var file holds one object whose members are inputs: {\"region\": \"eu-west-1\"}")
    })?;
    let serde_json::Value::Object(members) = json else {
        return Err(Diagnostic::error(
            codes::SYNTAX,
            format!("cannot read var file `{}`: it is not a JSON object", path.display()),
        )
        .with_label(Span::new(file, 0, text.len().min(1)), "expected `{`")
        .with_help("a JSON var file holds one object whose members are inputs: {\"region\": \"eu-west-1\"}"));
    };
    // Where each member's name is written; the last of a name written twice is the
    // one read (as serde_json keeps it).
    let written: std::collections::BTreeMap<String, std::ops::Range<usize>> =
        json_members(text).unwrap_or_default().into_iter().map(|m| (m.name, m.key)).collect();
    members
        .into_iter()
        .map(|(name, value)| {
            let key = written.get(&name).cloned().unwrap_or(0..text.len().min(1));
            let span = Span::new(file, key.start, key.end);
            if let Some(number) = inexact_number(&value) {
                return Err(Diagnostic::error(
                    codes::INVALID_NUMBER,
                    format!("input `{name}`: the whole number {number} cannot be represented exactly"),
                )
                .with_label(span, "in this value")
                .with_help(
                    "numbers are 64-bit floating point: whole numbers are exact up to 9007199254740992 (2^53); \
                     give an id this long as a JSON string",
                ));
            }
            Ok(GivenValue { origin: Origin::VarFile(span), value: GivenText::Value(value_from_json(&value)), name })
        })
        .collect()
}

/// A whole number in `value` that a 64-bit float cannot hold (beyond 2^53, such as
/// `9007199254740993`): read as a number it would silently become another.
fn inexact_number(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(n) => {
            // Whole numbers serde_json read exactly (as 64-bit integers), compared with
            // the float they would be; others are floating point already.
            let whole = n.as_u64().map(|u| u.to_string()).or_else(|| n.as_i64().map(|i| i.to_string()))?;
            let float = n.as_f64()?;
            (format!("{float:.0}") != whole).then_some(whole)
        }
        serde_json::Value::Array(items) => items.iter().find_map(inexact_number),
        serde_json::Value::Object(members) => members.values().find_map(inexact_number),
        _ => None,
    }
}

/// The byte offset of a 1-based line and column (serde_json's), clamped to the text.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let mut at = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn masks_only_the_values_of_sensitive_inputs_and_keeps_every_offset() {
        let text = "region = \"eu\"\ndb_password = \"hünter2\" # note\nport = 80\n";
        let masked = mask(text, &names(&["db_password"]));
        assert_eq!(masked.shown.len(), text.len());
        assert!(masked.shown.starts_with("region = \"eu\"\ndb_password = *"), "{}", masked.shown);
        assert!(!masked.shown.contains("nter2"), "{}", masked.shown);
        assert!(masked.shown.ends_with("port = 80\n"), "{}", masked.shown);
    }

    #[test]
    fn masks_a_value_over_several_lines_until_the_next_assignment() {
        let text = "db_password = <<EOT\nhunter2\nEOT\nregion = \"eu\"\n";
        let masked = mask(text, &names(&["db_password"]));
        assert!(!masked.shown.contains("hunter2"), "{}", masked.shown);
        assert!(masked.shown.ends_with("region = \"eu\"\n"), "{}", masked.shown);
    }

    #[test]
    fn masks_json_members() {
        let text = "{\n  \"db_password\": \"hunter2\",\n  \"region\": \"eu\"\n}\n";
        let masked = mask(text, &names(&["db_password"]));
        assert!(!masked.shown.contains("hunter2"), "{}", masked.shown);
        assert!(masked.shown.contains("\"region\": \"eu\""), "{}", masked.shown);
        let one_line = "{\"region\": \"eu\", \"db_password\": \"hunter2\"}";
        let masked = mask(one_line, &names(&["db_password"]));
        assert!(!masked.shown.contains("hunter2"), "{}", masked.shown);
        assert!(masked.shown.starts_with("{\"region\": \"eu\""), "{}", masked.shown);
    }

    /// Bug: on one JSON line, everything after the secret was masked and its words taken
    /// for the secret's, so errors about the members after it were hidden.
    #[test]
    fn masks_exactly_a_json_members_value() {
        let text = "{\"db_password\": \"hunter2\", \"replicas\": \"x\", \"nope\": 1}";
        let masked = mask(text, &names(&["db_password"]));
        assert_eq!(masked.shown, "{\"db_password\": *********, \"replicas\": \"x\", \"nope\": 1}");
        let message = "the value of `replicas` is not a `number`: cannot convert \"x\" to number";
        let shown = masked.secrets.redact(Diagnostic::error(codes::INVALID_INPUT, message));
        assert_eq!(shown.message, message);
        let quoting = masked.secrets.redact(Diagnostic::error(codes::INVALID_INPUT, "cannot convert \"hunter2\""));
        assert!(quoting.message.contains("the message is hidden"), "{}", quoting.message);
    }

    #[test]
    fn masks_a_json_object_or_escaped_string_whole_and_knows_its_words() {
        let text = "{\"db\": {\"pass\": \"a}b\", \"list\": [1, \"]\"]}, \"x\": \"h\\u0069dden\", \"region\": \"eu\"}";
        let masked = mask(text, &names(&["db", "x"]));
        assert_eq!(masked.shown.len(), text.len());
        assert!(masked.shown.starts_with("{\"db\": ***"), "{}", masked.shown);
        assert!(masked.shown.ends_with("\"region\": \"eu\"}"), "{}", masked.shown);
        assert!(!masked.shown.contains("pass") && !masked.shown.contains("idden"), "{}", masked.shown);
        // The escaped string as read is a word of the secret too.
        let quoting = masked.secrets.redact(Diagnostic::error(codes::INVALID_INPUT, "bad `hidden`"));
        assert!(quoting.message.contains("the message is hidden"), "{}", quoting.message);
    }

    /// A file that is not valid JSON is masked line by line, to the end of the line.
    #[test]
    fn invalid_json_is_masked_to_the_end_of_the_line() {
        let masked = mask("{\"db_password\": \"hunter2\", \"replicas\": \n", &names(&["db_password"]));
        assert!(!masked.shown.contains("hunter2") && !masked.shown.contains("replicas"), "{}", masked.shown);
    }

    #[test]
    fn masks_a_nested_object_whole_and_stops_at_the_next_input() {
        let text = "db = {\n  user = \"app\"\n  pass = \"hunter2\"\n}\nregion = \"eu\"\n";
        let masked = mask(text, &names(&["db"]));
        assert!(!masked.shown.contains("hunter2") && !masked.shown.contains("app"), "{}", masked.shown);
        assert!(masked.shown.ends_with("region = \"eu\"\n"), "{}", masked.shown);
    }

    #[test]
    fn hides_whole_texts_that_quote_a_secret() {
        let masked = mask("db_password = p@ss-w0rd!\n", &names(&["db_password"]));
        let diagnostic = masked.secrets.redact(
            Diagnostic::error(codes::UNDEFINED_NAME, "undefined name `p@ss-w0rd!`").with_help("p@ss is not it"),
        );
        assert_eq!(diagnostic.message, "undefined name (the message is hidden: it would quote a sensitive value)");
        // Only whole words of the secret count.
        assert_eq!(diagnostic.help.as_deref(), Some("p@ss is not it"));
    }

    /// A whole number a 64-bit float cannot hold is refused, not silently changed; one it
    /// can (2^53 itself, 1e19) is read.
    #[test]
    fn a_json_whole_number_beyond_2_53_is_refused() {
        let path = Path::new("ids.json");
        let error = parse_json(FileId(0), path, "{\"ids\": {\"account\": 9007199254740993}}").expect_err("refused");
        assert_eq!(error.code, codes::INVALID_NUMBER);
        assert_eq!(error.message, "input `ids`: the whole number 9007199254740993 cannot be represented exactly");
        let read = parse_json(FileId(0), path, "{\"a\": 9007199254740992, \"b\": 10000000000000000000, \"c\": 1.5}");
        assert_eq!(read.expect("exact").len(), 3);
    }

    /// Bug: a secret that is an ordinary word (`value`) was replaced wherever the word
    /// was, so the sentence around it showed which words the secret was.
    #[test]
    fn a_secret_that_is_an_ordinary_word_does_not_garble_the_message() {
        let masked = mask("pin = \"value\"\n", &names(&["pin"]));
        let diagnostic = masked.secrets.redact(
            Diagnostic::error(codes::INVALID_INPUT, "the value of `pin` is not a `number`")
                .with_note("the value given: \"value\"")
                .with_help("give `pin` a `number`"),
        );
        assert_eq!(diagnostic.message, "invalid input value (the message is hidden: it would quote a sensitive value)");
        assert!(diagnostic.notes.is_empty(), "{:?}", diagnostic.notes);
        assert_eq!(diagnostic.help.as_deref(), Some("give `pin` a `number`"));
    }
}
