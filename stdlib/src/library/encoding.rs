//! Built-in conversion and encoding functions: the `to*` conversions, JSON, YAML and CSV
//! encoding and decoding, Base64 (of UTF-8, of gzip, of other character encodings) and
//! URL query encoding.
//!
//! Semantics follow Terraform's functions where a question is open. The deliberate
//! differences: `jsonencode` does not escape `<`, `>` and `&` (Go's encoder does, for
//! embedding JSON in HTML, which infrastructure code never does), and `yamlencode` quotes
//! strings only where YAML needs it. docs/functions/encoding.md is the reference for users.

use std::collections::BTreeMap;

use base64::Engine as _;
use infra_compiler::types::{unify_all, Type};
use infra_runtime::convert::convert;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::format_number;
use infra_runtime::{Kind, Value};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

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
    ("yamlencode", yamlencode),
    ("yamldecode", yamldecode),
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

fn tobool(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    convert_to(args, &Type::Bool, "only bools and the strings \"true\" and \"false\" convert")
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

/// `n` as an `i64` when it is whole and in range.
fn whole_i64(n: f64) -> Option<i64> {
    // 2^63, exactly: every whole number below it in magnitude fits.
    const LIMIT: f64 = i64::MAX as f64;
    (n.fract() == 0.0 && n.abs() < LIMIT).then_some(n as i64)
}

fn jsondecode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        FunctionError::new(format!("invalid JSON: {error}")).at(0).with_help("the argument must be one JSON value")
    })?;
    Ok(from_json(&json))
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

// -------------------------------------------------------------------------------- YAML

/// A YAML document without the `---` start marker, ending in a newline, as Terraform
/// writes it. Multi-line strings use the literal block style (`|`).
fn yamlencode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let yaml = to_yaml(args::any(args, 0)?);
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    // A block scalar at the top level would not be indented, and a line `---` in it would
    // then start a new document for most parsers; a quoted string is safe there.
    emitter.multiline_strings(!matches!(yaml, Yaml::String(_)));
    emitter.dump(&yaml).map_err(|error| FunctionError::new(format!("cannot encode as YAML: {error:?}")))?;
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    Ok(Value::string(format!("{body}\n")))
}

fn to_yaml(value: &Value) -> Yaml {
    match &value.kind {
        // The emitter writes `Yaml::Null` as `~`; `Real` is written verbatim, which gives
        // the `null` that readers (and Terraform's output) expect.
        Kind::Null | Kind::Unknown(_) => Yaml::Real("null".to_string()),
        Kind::Bool(b) => Yaml::Boolean(*b),
        Kind::Number(n) => whole_i64(*n).map_or_else(|| Yaml::Real(format_number(*n)), Yaml::Integer),
        Kind::String(s) => Yaml::String(s.to_string()),
        Kind::List(items) | Kind::Set(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Kind::Map(entries) => {
            Yaml::Hash(entries.iter().map(|(k, v)| (Yaml::String(k.to_string()), to_yaml(v))).collect())
        }
    }
}

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

fn base64decode(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let text = args::string(args, 0)?;
    let bytes = decode_base64(&text).map_err(|error| {
        FunctionError::new(format!("invalid Base64: {error}"))
            .at(0)
            .with_help("the standard alphabet (`A-Z a-z 0-9 + /`) with `=` padding is expected")
    })?;
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
    let bytes = decode_base64(&source).map_err(|error| {
        FunctionError::new(format!("invalid Base64: {error}"))
            .at(0)
            .with_help("the standard alphabet (`A-Z a-z 0-9 + /`) with `=` padding is expected")
    })?;
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
