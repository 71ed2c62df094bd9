//! `yamlencode` and `yamldecode`, on `yaml-rust2`.
//!
//! The crate's loader reads YAML 1.2. Its emitter lays out mappings and sequences well,
//! but its choice of style for a string is not always safe: a literal block (`|`) loses
//! leading blank lines and all but one trailing newline and cannot start with a space,
//! a multi-line key becomes a block scalar, and `0o7` or `+.inf` go out unquoted and read
//! back as numbers. So every string's style is chosen here (see [`string_node`]) and the
//! emitter is left only the layout: a plain or double-quoted string is handed to it as
//! `Yaml::Real`, which it writes verbatim, and only a string that a literal block
//! represents exactly is handed to it as `Yaml::String`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::format_number;
use infra_runtime::{Kind, Value};
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[("yamlencode", yamlencode), ("yamldecode", yamldecode)];

// ------------------------------------------------------------------------------ encode

/// A YAML document without the `---` start marker, ending in a newline, as Terraform
/// writes it. Multi-line strings use the literal block style (`|`) where it represents
/// them exactly, and double quotes otherwise.
fn yamlencode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let yaml = to_yaml(args::any(args, 0)?, 0);
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    // Only strings that [`is_literal_block_safe`] accepts reach the emitter as strings.
    emitter.multiline_strings(true);
    emitter.dump(&yaml).map_err(|error| FunctionError::new(format!("cannot encode as YAML: {error}")))?;
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    Ok(Value::string(format!("{body}\n")))
}

/// Where a string is written: its style, and for a long key its layout, depend on it.
#[derive(Clone, Copy)]
enum Place {
    /// The whole document. A block scalar here would not be indented, and a line `---`
    /// in it would start a new document.
    Top,
    /// A mapping value or a sequence element.
    Nested,
    /// A key of a mapping whose keys the emitter writes `indent` spaces in.
    Key { indent: usize },
}

/// `value` as the emitter's tree; `depth` is the number of collections around it, which
/// is the emitter's indentation level of a collection (two spaces a level).
fn to_yaml(value: &Value, depth: usize) -> Yaml {
    match &value.kind {
        // The emitter writes `Yaml::Null` as `~`; `Real` is written verbatim, which gives
        // the `null` that readers (and Terraform's output) expect.
        Kind::Null | Kind::Unknown(_) => Yaml::Real("null".to_string()),
        Kind::Bool(b) => Yaml::Boolean(*b),
        Kind::Number(n) => whole_i64(*n).map_or_else(|| Yaml::Real(format_number(*n)), Yaml::Integer),
        Kind::String(s) => string_node(s, if depth == 0 { Place::Top } else { Place::Nested }),
        Kind::List(items) | Kind::Set(items) => {
            Yaml::Array(items.iter().map(|item| to_yaml(item, depth + 1)).collect())
        }
        Kind::Map(entries) => {
            let key = Place::Key { indent: 2 * depth };
            Yaml::Hash(entries.iter().map(|(k, v)| (string_node(k, key), to_yaml(v, depth + 1))).collect())
        }
    }
}

/// `n` as an `i64` when it is whole and in range.
fn whole_i64(n: f64) -> Option<i64> {
    // 2^63, exactly: every whole number below it in magnitude fits.
    const LIMIT: f64 = i64::MAX as f64;
    (n.fract() == 0.0 && n.abs() < LIMIT).then_some(n as i64)
}

/// YAML allows an implicit key (one without `?`) of at most 1024 characters.
const MAX_IMPLICIT_KEY: usize = 1024;

/// A string in the safest readable style for its place: plain where every YAML 1.1 and
/// 1.2 reader takes it as this string, a literal block for a multi-line value that one
/// represents exactly, double quotes with escapes otherwise.
fn string_node(text: &str, place: Place) -> Yaml {
    if matches!(place, Place::Nested) && !is_plain_safe(text) && is_literal_block_safe(text) {
        return Yaml::String(text.to_string());
    }
    let written = if is_plain_safe(text) { text.to_string() } else { double_quoted(text) };
    match place {
        // The emitter writes `:` right after the key; an explicit key puts it on a line
        // of its own, at the key's indentation.
        Place::Key { indent } if written.chars().count() > MAX_IMPLICIT_KEY => {
            Yaml::Real(format!("? {written}\n{}", " ".repeat(indent)))
        }
        _ => Yaml::Real(written),
    }
}

/// Plain style only for a conservative set of strings: a letter, `_` or `/` first, then
/// letters, digits, spaces and a few punctuation marks that mean nothing to YAML, no
/// space last, and not a word that a YAML 1.1 reader takes as a bool or null. A digit
/// first is never plain: YAML 1.1 reads `0777`, `1_000`, `12:30` and `2001-12-14` as
/// numbers and timestamps.
fn is_plain_safe(text: &str) -> bool {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let Some(first) = text.chars().next() else { return false };
    (first.is_alphabetic() || first == '_' || first == '/')
        && !text.ends_with(' ')
        && text.chars().all(|c| (c.is_alphanumeric() && is_printable(c)) || " _./-+@()$=".contains(c))
        && !WORDS.contains(&text.to_lowercase().as_str())
}

/// A literal block (`|` or `|-`, as the emitter writes it) reads back as exactly this
/// string when: it has a line break, but not first (leading blank lines would be lost);
/// its first line starts with neither a space nor a tab (the reader takes the block's
/// indentation from that line); it ends in at most one newline (the emitter's `|` keeps
/// exactly one); and every character is printable and not a line break other than `\n`
/// (`\r`, U+0085, U+2028 and U+2029 are read as line breaks, or dropped by the emitter).
fn is_literal_block_safe(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with(['\n', ' ', '\t'])
        && !text.ends_with("\n\n")
        && text.chars().all(|c| c == '\n' || c == '\t' || (is_printable(c) && c <= '\u{d7fff}'))
}

/// Whether `c` may stand for itself in a YAML scalar: YAML's printable characters less
/// the line breaks, tab and byte order mark.
fn is_printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A double-quoted YAML string on one line: `"`, `\` and every character that is not
/// [`is_printable`] escaped.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

// ------------------------------------------------------------------------------ decode

/// One YAML document to a value. An empty input or document is `null`; more than one
/// document is an error, since the result could only be one of them.
fn yamldecode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let documents = YamlLoader::load_from_str(&text).map_err(|error| {
        let mark = error.marker();
        // The loader names a duplicate key in its debug form (`String("a")`); the
        // position is enough.
        let info = if error.info().ends_with("duplicated key in mapping") { "duplicate key" } else { error.info() };
        FunctionError::new(format!("invalid YAML at line {} column {}: {info}", mark.line(), mark.col() + 1)).at(0)
    })?;
    match documents.as_slice() {
        [] => Ok(Value::null()),
        // The loader gives `BadValue` both for an empty document and for a value that
        // does not match its tag (`!!int abc`); only the text tells them apart.
        [Yaml::BadValue] if is_blank_document(&text) => Ok(Value::null()),
        [document] => from_yaml(document).map_err(|message| FunctionError::new(message).at(0)),
        more => Err(FunctionError::new(format!("the string holds {} YAML documents; only one is allowed", more.len()))
            .at(0)
            .with_help("split the string at each `---` and decode the documents one by one")),
    }
}

/// Whether a YAML text holds nothing but comments and document markers.
fn is_blank_document(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        let rest = line.strip_prefix("---").or_else(|| line.strip_prefix("...")).unwrap_or(line).trim_start();
        rest.is_empty() || rest.starts_with('#')
    })
}

fn from_yaml(yaml: &Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::null(),
        Yaml::Boolean(b) => Value::bool(*b),
        Yaml::Integer(i) => Value::number(*i as f64),
        Yaml::Real(text) => match yaml.as_f64() {
            Some(n) if n.is_finite() => Value::number(n),
            _ => return Err(format!("the YAML number `{text}` is not a finite number")),
        },
        Yaml::String(s) => Value::string(s.clone()),
        Yaml::Array(items) => Value::list(items.iter().map(from_yaml).collect::<Result<_, _>>()?),
        Yaml::Hash(entries) => {
            let mut map = BTreeMap::new();
            for (key, value) in entries {
                map.insert(yaml_key(key)?, from_yaml(value)?);
            }
            Value::map(map)
        }
        Yaml::Alias(_) => return Err("YAML aliases are not supported".to_string()),
        Yaml::BadValue => return Err("a YAML value does not match its tag".to_string()),
    })
}

/// Mapping keys become strings, as object keys are: `1: a` has the key `"1"`.
fn yaml_key(key: &Yaml) -> Result<String, String> {
    match key {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".to_string()),
        _ => Err("a YAML mapping key must be a string, number, bool or null".to_string()),
    }
}
