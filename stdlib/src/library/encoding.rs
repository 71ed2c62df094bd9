//! Built-in conversion and encoding functions: the `to*` conversions, JSON and CSV
//! encoding and decoding, Base64 (of UTF-8, of gzip, of other character encodings) and
//! URL query encoding. YAML is in `yaml.rs`.
//!
//! Semantics follow Terraform's functions where a question is open. The deliberate
//! difference: `jsonencode` does not escape `<`, `>` and `&` (Go's encoder does, for
//! embedding JSON in HTML, which infrastructure code never does).
//! docs/functions/encoding.md is the reference for users.

use base64::Engine as _;
use infra_compiler::types::{unify_all, Type};
use infra_runtime::convert::convert;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::{Kind, Value};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("tostring", tostring),
    ("tonumber", tonumber),
    ("tobool", tobool),
    ("tolist", tolist),
    ("toset", toset),
    ("tomap", tomap),
    ("jsonencode", jsonencode),
    ("jsondecode", jsondecode),
    ("base64encode", base64encode),
    ("base64decode", base64decode),
    ("urlencode", urlencode),
    ("base64gzip", base64gzip),
    ("textencodebase64", textencodebase64),
    ("textdecodebase64", textdecodebase64),
    ("csvdecode", csvdecode),
];

// -------------------------------------------------------------------------- conversion

fn tostring(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    convert_to(args, &Type::String, "use `jsonencode` to turn a collection into a string")
}

fn tonumber(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    convert_to(args, &Type::Number, "only numbers and strings that spell a number convert, such as \"42\" or \"2.5\"")
}

/// As in Terraform, the strings `"1"` and `"0"` convert too. The language's own
/// conversion (`runtime/src/convert.rs`) takes only `"true"` and `"false"`, so they are
/// handled here first.
fn tobool(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    match args::any(args, 0)?.as_str() {
        Some("1") => Ok(Value::bool(true)),
        Some("0") => Ok(Value::bool(false)),
        _ => convert_to(args, &Type::Bool, "only bools and the strings \"true\", \"false\", \"1\" and \"0\" convert"),
    }
}

/// Like Terraform, the elements are converted to one common type where there is one:
/// `tolist(["a", 1])` is `["a", "1"]`. Elements with no common type stay as they are.
fn tolist(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let value = args::any(args, 0)?;
    let element = common_type(value.as_list().unwrap_or_default());
    convert_to(args, &Type::list(element), "only lists, tuples and sets convert to a list")
}

fn toset(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let value = args::any(args, 0)?;
    let element = common_type(value.as_list().unwrap_or_default());
    convert_to(args, &Type::set(element), "only lists, tuples and sets convert to a set")
}

fn tomap(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let value = args::any(args, 0)?;
    let values: Vec<Value> = value.as_map().map(|entries| entries.values().cloned().collect()).unwrap_or_default();
    convert_to(args, &Type::map(common_type(&values)), "only maps and objects convert to a map")
}

/// The most specific type every element fits: `string` for strings mixed with numbers.
fn common_type(items: &[Value]) -> Type {
    unify_all(items.iter().map(Value::ty))
}

fn convert_to(args: &[Value], ty: &Type, help: &str) -> FunctionResult {
    let value = args::any(args, 0)?;
    convert(value, ty).map_err(|error| FunctionError::new(error.to_string()).at(0).with_help(help))
}

// -------------------------------------------------------------------------------- JSON

fn jsonencode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out = String::new();
    write_json(args::any(args, 0)?, &mut out);
    Ok(Value::string(out))
}

/// Compact JSON, keys in lexical order (maps are `BTreeMap`s).
fn write_json(value: &Value, out: &mut String) {
    match &value.kind {
        Kind::Null | Kind::Unknown(_) => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(&json_number(*n)),
        Kind::String(s) => out.push_str(&json_string(s)),
        Kind::List(items) | Kind::Set(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Kind::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(key));
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A number in plain decimal, never in exponent form (`0.0000001`, not `1e-7`), the
/// shortest that reads back as the same value, as Terraform writes numbers; whole numbers
/// have no fraction and -0 is 0.
fn json_number(n: f64) -> String {
    // Values never hold NaN or infinities; `null` is the safe answer if one slipped in.
    if !n.is_finite() {
        return "null".to_string();
    }
    // Rust's `Display` for floats never uses an exponent.
    format!("{}", n + 0.0)
}

/// A JSON string literal. Like Go's encoder, U+2028 and U+2029 (line and paragraph
/// separators, which JavaScript does not allow in a string) are escaped too.
fn json_string(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted.replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
}

/// Arrays and objects nested deeper than this are refused: the parser, the conversion to
/// a value and every later walk over it recurse once a level. It is the language's own
/// limit on the depth of an expression (E0104, `MAX_EXPR_DEPTH` in the compiler), so a
/// decoded value is never deeper than one the language can write out.
const MAX_JSON_NESTING: usize = 256;

fn jsondecode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let prepared = prepare_json(&text).map_err(|offset| {
        let (line, column) = line_and_column(&text, offset);
        FunctionError::new(format!(
            "the JSON is nested more than {MAX_JSON_NESTING} levels deep at line {line} column {column}"
        ))
        .at(0)
        .with_help(format!("jsondecode reads arrays and objects nested up to {MAX_JSON_NESTING} levels deep"))
    })?;
    let json = parse_json(&prepared).map_err(|error| {
        FunctionError::new(format!("invalid JSON: {error}")).at(0).with_help("the argument must be one JSON value")
    })?;
    Ok(from_json(&json))
}

/// One JSON value, without serde_json's own nesting limit of 128 ([`prepare_json`] has
/// checked the nesting against [`MAX_JSON_NESTING`]).
fn parse_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    use serde::Deserialize as _;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let json = serde_json::Value::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(json)
}

/// Checks that `text` nests arrays and objects at most [`MAX_JSON_NESTING`] deep (else
/// the byte offset of the bracket too deep), and replaces each escape of a lone UTF-16
/// surrogate (`\ud800` not followed by a low surrogate's escape, or a low one alone) by
/// `\ufffd`, as Go's decoder and so Terraform do: serde_json refuses them.
fn prepare_json(text: &str) -> Result<std::borrow::Cow<'_, str>, usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut in_string, mut i) = (0usize, false, 0);
    let mut out = String::new();
    let mut copied = 0;
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (false, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_JSON_NESTING {
                    return Err(i);
                }
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            (_, b'"') => in_string = !in_string,
            (true, b'\\') if bytes.get(i + 1) == Some(&b'u') => {
                let width = surrogate_escape_width(bytes, i);
                if let Some(false) = width.map(|(_, paired)| paired) {
                    out.push_str(&text[copied..i]);
                    out.push_str("\\ufffd");
                    copied = i + 6;
                }
                i += width.map_or(2, |(width, _)| width);
                continue;
            }
            (true, b'\\') => i += 1,
            _ => {}
        }
        i += 1;
    }
    if copied == 0 {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    out.push_str(&text[copied..]);
    Ok(std::borrow::Cow::Owned(out))
}

/// For a `\uXXXX` escape at `i` that is a UTF-16 surrogate: how many bytes to skip (12
/// for a high surrogate whose low one follows, else 6) and whether it is such a pair.
/// `None` for any other escape, which serde_json reads (or refuses) itself.
fn surrogate_escape_width(bytes: &[u8], i: usize) -> Option<(usize, bool)> {
    let unit = |at: usize| {
        let hex = bytes.get(at + 2..at + 6)?;
        (bytes.get(at..at + 2)? == b"\\u").then(|| u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())?
    };
    match unit(i)? {
        0xd800..=0xdbff if matches!(unit(i + 6), Some(0xdc00..=0xdfff)) => Some((12, true)),
        0xd800..=0xdfff => Some((6, false)),
        _ => None,
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::null(),
        serde_json::Value::Bool(b) => Value::bool(*b),
        // Every JSON number serde_json accepts fits an `f64`, at worst rounded.
        serde_json::Value::Number(n) => Value::number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::string(s.clone()),
        serde_json::Value::Array(items) => Value::list(items.iter().map(from_json).collect()),
        serde_json::Value::Object(entries) => {
            Value::map(entries.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

// ------------------------------------------------------------------------------ Base64

fn base64encode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    Ok(Value::string(base64::engine::general_purpose::STANDARD.encode(text)))
}

/// Standard alphabet with padding, as Terraform. The bytes must be UTF-8 text, because
/// strings cannot hold anything else.
/// Base64 text as Go's decoder reads it (and so Terraform): line breaks (`\r`, `\n`)
/// anywhere are skipped, so wrapped text and a final newline decode.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let unwrapped: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    base64::engine::general_purpose::STANDARD.decode(unwrapped)
}

/// The error for Base64 `text` that [`decode_base64`] refused, as argument `i`: what is
/// wrong and at which offset of `text` (the crate counts without the line breaks).
fn base64_error(text: &str, error: &base64::DecodeError, i: usize) -> FunctionError {
    use base64::DecodeError::{InvalidByte, InvalidLastSymbol, InvalidLength, InvalidPadding};
    // The offset in `text` of the character holding the `n`th byte that is not a line
    // break (the crate may name a byte inside a character).
    let offset = |n: usize| {
        let byte = text.bytes().enumerate().filter(|(_, b)| !matches!(b, b'\r' | b'\n')).nth(n).map_or(0, |(o, _)| o);
        (0..=byte).rev().find(|&start| text.is_char_boundary(start)).unwrap_or(0)
    };
    let character =
        |o: usize| infra_runtime::value::quote(&text[o..].chars().next().map(String::from).unwrap_or_default());
    let (message, help) = match *error {
        InvalidByte(n, b'=') => (
            format!("the padding `=` at offset {} is not at the end", offset(n)),
            "`=` may only end the text, once or twice",
        ),
        InvalidByte(n, _) => (
            format!("{} at offset {} is not a Base64 character", character(offset(n)), offset(n)),
            "the standard alphabet is `A-Z a-z 0-9 + /`, with `=` padding at the end",
        ),
        InvalidLength(n) => (
            format!("{n} Base64 characters do not make whole bytes"),
            "Base64 comes in groups of 4 characters; the text may have been cut short",
        ),
        InvalidLastSymbol(n, _) => (
            format!("the last character, {} at offset {}, does not end a whole byte", character(offset(n)), offset(n)),
            "the text may have been cut short or changed",
        ),
        InvalidPadding => (
            "the `=` padding at the end is missing or too long".to_string(),
            "the length of Base64 text, with its `=` padding, is a multiple of 4",
        ),
    };
    FunctionError::new(format!("invalid Base64: {message}")).at(i).with_help(help)
}

fn base64decode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let bytes = decode_base64(&text).map_err(|error| base64_error(&text, &error, 0))?;
    String::from_utf8(bytes).map(Value::string).map_err(|_| {
        FunctionError::new("the decoded bytes are not UTF-8 text")
            .at(0)
            .with_help("only Base64 of text can be decoded into a string")
    })
}

// --------------------------------------------------------------------------------- URL

/// Everything but Go's unreserved characters (`A-Z a-z 0-9 - _ . ~`) is escaped.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Go's `url.QueryEscape`, as Terraform: spaces become `+`. A literal `%` is itself
/// escaped to `%25`, so replacing `%20` afterwards cannot touch the input's own text.
fn urlencode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    Ok(Value::string(utf8_percent_encode(&text, QUERY).to_string().replace("%20", "+")))
}

// ------------------------------------------------------------ gzip and text encodings

/// The gzip header says nothing about where or when (no time, no name, operating system
/// "unknown"), as Go writes it, so the result depends on the string only.
fn base64gzip(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    use std::io::Write as _;
    let text = args::string(args, 0)?;
    let mut encoder =
        flate2::GzBuilder::new().mtime(0).operating_system(255).write(Vec::new(), flate2::Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|error| FunctionError::new(format!("gzip failed: {error}")))?;
    Ok(Value::string(base64::engine::general_purpose::STANDARD.encode(compressed)))
}

/// A character encoding named as Terraform names them (IANA names and aliases, any
/// case). UTF-16 and ISO-8859-1 are encoded here, since the WHATWG encoders in
/// `encoding_rs` write UTF-8 for the one and read the other as windows-1252; every
/// other name is looked up as a WHATWG label.
enum TextEncoding {
    Utf16 { big_endian: bool },
    Latin1,
    Other(&'static encoding_rs::Encoding),
}

fn text_encoding(args: &[Value], i: usize) -> Result<(TextEncoding, String), FunctionError> {
    let name = args::string(args, i)?;
    let encoding = match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-16LE" => TextEncoding::Utf16 { big_endian: false },
        "UTF-16BE" => TextEncoding::Utf16 { big_endian: true },
        "ISO-8859-1" | "ISO-8859-1:1987" | "LATIN1" | "L1" | "ISO-IR-100" | "IBM819" | "CP819" | "CSISOLATIN1" => {
            TextEncoding::Latin1
        }
        _ => match encoding_rs::Encoding::for_label_no_replacement(name.as_bytes()) {
            Some(encoding) if encoding != encoding_rs::UTF_16LE && encoding != encoding_rs::UTF_16BE => {
                TextEncoding::Other(encoding)
            }
            _ => {
                return Err(FunctionError::new(format!(
                    "{} is not a supported encoding name",
                    infra_runtime::value::quote(&name)
                ))
                .at(i)
                .with_help(
                    "name an encoding such as `UTF-8`, `UTF-16LE`, `ISO-8859-1`, `windows-1252` or `Shift_JIS`",
                ))
            }
        },
    };
    Ok((encoding, name))
}

fn textencodebase64(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let (encoding, name) = text_encoding(args, 1)?;
    let unrepresentable = || {
        FunctionError::new(format!("the string has characters that cannot be written in {name}"))
            .at(0)
            .with_help("choose an encoding that has every character, such as `UTF-8` or `UTF-16LE`")
    };
    let bytes: Vec<u8> = match encoding {
        TextEncoding::Utf16 { big_endian } => text
            .encode_utf16()
            .flat_map(|unit| if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() })
            .collect(),
        TextEncoding::Latin1 => {
            text.chars().map(|c| u8::try_from(u32::from(c)).map_err(|_| unrepresentable())).collect::<Result<_, _>>()?
        }
        TextEncoding::Other(encoding) => {
            let (bytes, _, unmappable) = encoding.encode(&text);
            if unmappable {
                return Err(unrepresentable());
            }
            bytes.into_owned()
        }
    };
    Ok(Value::string(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

fn textdecodebase64(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let source = args::string(args, 0)?;
    let (encoding, name) = text_encoding(args, 1)?;
    let bytes = decode_base64(&source).map_err(|error| base64_error(&source, &error, 0))?;
    let undefined = || {
        FunctionError::new(format!("the decoded bytes are not valid {name} text"))
            .at(0)
            .with_help("check that the encoding named is the one the text was written in")
    };
    let text = match encoding {
        TextEncoding::Utf16 { big_endian } => {
            let pairs = bytes.chunks_exact(2);
            if !pairs.remainder().is_empty() {
                return Err(undefined());
            }
            let units: Vec<u16> = pairs
                .map(|pair| {
                    if big_endian {
                        u16::from_be_bytes([pair[0], pair[1]])
                    } else {
                        u16::from_le_bytes([pair[0], pair[1]])
                    }
                })
                .collect();
            String::from_utf16(&units).map_err(|_| undefined())?
        }
        TextEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        TextEncoding::Other(encoding) => {
            encoding.decode_without_bom_handling_and_without_replacement(&bytes).ok_or_else(undefined)?.into_owned()
        }
    };
    Ok(Value::string(text))
}

// --------------------------------------------------------------------------------- CSV

/// `csvdecode(text)`: RFC 4180 CSV whose first line names the columns; a list with one
/// map per further line, every value a string. Empty lines are skipped.
fn csvdecode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let parse_error = |error: csv::Error| {
        let line = error.position().map_or(String::new(), |p| format!(" on line {}", p.line()));
        FunctionError::new(format!("CSV parse error{line}: {error}")).at(0)
    };
    let Some(header) = records.next().transpose().map_err(parse_error)? else {
        return Err(FunctionError::new("missing header line").at(0).with_help("the first line names the columns"));
    };
    let columns: Vec<String> = header.iter().map(str::to_string).collect();
    if let Some(name) = columns.iter().enumerate().find_map(|(i, c)| columns[..i].contains(c).then_some(c)) {
        return Err(FunctionError::new(format!("duplicate column name {}", infra_runtime::value::quote(name)))
            .at(0)
            .with_help("each column of the header line needs its own name"));
    }
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(parse_error)?;
        if record.len() != columns.len() {
            let line = record.position().map_or(0, csv::Position::line);
            return Err(FunctionError::new(format!(
                "CSV parse error on line {line}: wrong number of fields ({} where the header has {})",
                record.len(),
                columns.len()
            ))
            .at(0));
        }
        rows.push(Value::map(columns.iter().cloned().zip(record.iter().map(Value::string)).collect()));
    }
    Ok(Value::list(rows))
}
