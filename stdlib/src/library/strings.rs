//! Built-in string functions: `format`, `join`, `split`, `replace`, case and trimming,
//! `substr`, the predicates, `regex` and `regexall`, `indent`, `chomp` and `strrev`.
//!
//! Semantics follow Terraform's functions (which come from go-cty) wherever a question is
//! open, with two deliberate differences: `substr` and `strrev` count Unicode scalar
//! values (`char`s) rather than grapheme clusters, and regular expressions use the
//! `regex` crate, whose syntax is RE2's as in Terraform but whose error messages differ.
//! docs/functions/strings.md is the reference for users.

use std::sync::LazyLock;

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::format_number;
use infra_runtime::{Kind, Value};
use regex::{Captures, Regex};

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("format", format),
    ("join", join),
    ("split", split),
    ("replace", replace),
    ("lower", lower),
    ("upper", upper),
    ("title", title),
    ("trim", trim),
    ("trimspace", trimspace),
    ("trimprefix", trimprefix),
    ("trimsuffix", trimsuffix),
    ("substr", substr),
    ("startswith", startswith),
    ("endswith", endswith),
    ("strcontains", strcontains),
    ("regex", regex),
    ("regexall", regexall),
    ("indent", indent),
    ("chomp", chomp),
    ("strrev", strrev),
    ("formatlist", formatlist),
];

// ------------------------------------------------------------------------------ format

/// One `%` verb of a format string: `%`, flags, an optional `[n]` argument index, width,
/// precision and the verb character (empty when the string ends inside the verb).
static VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)%(?P<flags>[-+ 0#]*)(?:\[(?P<index>\d+)\])?(?P<width>\d*)(?:\.(?P<precision>\d*))?(?P<verb>.?)")
        .expect("the format verb pattern is valid")
});

/// Widths and precisions above this are refused, so that a typo cannot ask for gigabytes.
const MAX_WIDTH: usize = 10_000;

const VERB_HELP: &str = "the verbs are %v %s %q %t %d %b %o %x %X %e %E %f %g %G and %% for a literal `%`";

struct Verb<'a> {
    /// The verb as written, such as `%-5s`, for messages.
    raw: &'a str,
    /// Byte offset of the `%` in the format string.
    offset: usize,
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: usize,
    precision: Option<usize>,
    mode: char,
}

/// `format(spec, args...)`: Terraform's printf-style formatting. Arguments are used in
/// order, or from `%[n]` on; with no explicit index, leaving arguments unused is an error.
fn format(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let spec = args::string(arguments, 0)?;
    let values = arguments.get(1..).unwrap_or_default();
    let mut out = String::new();
    let mut last = 0;
    let (mut next, mut reordered) = (0, false);
    for captures in VERB.captures_iter(&spec) {
        let whole = captures.get(0).expect("group 0 always participates");
        out.push_str(&spec[last..whole.start()]);
        last = whole.end();
        let verb = parse_verb(&captures)?;
        if verb.mode == '%' {
            out.push('%');
            continue;
        }
        if let Some(index) = captures.name("index") {
            next = argument_index(index.as_str(), values.len(), &verb)?;
            reordered = true;
        }
        let value = values.get(next).ok_or_else(|| not_enough(&verb, next, values.len()))?;
        out.push_str(&format_one(&verb, value).map_err(|e| e.at(next + 1))?);
        next += 1;
    }
    out.push_str(&spec[last..]);
    if !reordered && next < values.len() {
        let message =
            format!("too many arguments: the format string uses {}, found {}", count(next), count(values.len()));
        return Err(FunctionError::new(message).at(next + 1).with_help("add a verb such as %s for each argument"));
    }
    Ok(Value::string(out))
}

fn parse_verb<'a>(captures: &Captures<'a>) -> Result<Verb<'a>, FunctionError> {
    let whole = captures.get(0).expect("group 0 always participates");
    let flags = captures.name("flags").map_or("", |m| m.as_str());
    let mode = captures.name("verb").and_then(|m| m.as_str().chars().next());
    let Some(mode) = mode else {
        let message =
            format!("the format string ends inside the verb \"{}\" at offset {}", whole.as_str(), whole.start());
        return Err(FunctionError::new(message).at(0).with_help("write %% for a literal `%`"));
    };
    let mut verb = Verb {
        raw: whole.as_str(),
        offset: whole.start(),
        minus: flags.contains('-'),
        plus: flags.contains('+'),
        space: flags.contains(' '),
        zero: flags.contains('0'),
        sharp: flags.contains('#'),
        width: 0,
        precision: None,
        mode,
    };
    verb.width = bounded(captures.name("width").map_or("", |m| m.as_str()), &verb)?.unwrap_or(0);
    if let Some(precision) = captures.name("precision") {
        // `%.f` means precision zero, as in Go.
        verb.precision = Some(bounded(precision.as_str(), &verb)?.unwrap_or(0));
    }
    if !"%vsqtdboxXeEfgG".contains(mode) {
        let message = format!("unrecognized format verb \"{}\" at offset {}", verb.raw, verb.offset);
        return Err(FunctionError::new(message).at(0).with_help(VERB_HELP));
    }
    Ok(verb)
}

/// A width or precision, `None` when absent.
fn bounded(digits: &str, verb: &Verb<'_>) -> Result<Option<usize>, FunctionError> {
    if digits.is_empty() {
        return Ok(None);
    }
    match digits.parse::<usize>() {
        Ok(n) if n <= MAX_WIDTH => Ok(Some(n)),
        _ => Err(FunctionError::new(format!(
            "the width or precision of \"{}\" at offset {} is larger than {MAX_WIDTH}",
            verb.raw, verb.offset
        ))
        .at(0)),
    }
}

/// The zero-based argument that `%[n]` (one-based) selects.
fn argument_index(digits: &str, n_values: usize, verb: &Verb<'_>) -> Result<usize, FunctionError> {
    match digits.parse::<usize>() {
        Ok(n) if (1..=n_values).contains(&n) => Ok(n - 1),
        _ => Err(FunctionError::new(format!(
            "the argument index in \"{}\" at offset {} is out of range: found {}",
            verb.raw,
            verb.offset,
            count(n_values)
        ))
        .at(0)
        .with_help("argument indexes count from 1: %[1]s is the first argument after the format string")),
    }
}

fn not_enough(verb: &Verb<'_>, index: usize, n_values: usize) -> FunctionError {
    let message = format!(
        "not enough arguments for \"{}\" at offset {}: it needs argument {}, found {}",
        verb.raw,
        verb.offset,
        index + 1,
        count(n_values)
    );
    FunctionError::new(message).with_help("pass one argument for each verb, or write %% for a literal `%`")
}

/// "1 argument", "2 arguments".
fn count(n: usize) -> String {
    if n == 1 {
        "1 argument".to_string()
    } else {
        format!("{n} arguments")
    }
}

/// Formats one argument by one verb; the caller places the error at the argument.
fn format_one(verb: &Verb<'_>, value: &Value) -> Result<String, FunctionError> {
    match verb.mode {
        'v' if verb.sharp || !is_primitive(value) => Ok(pad(verb, "", &to_json(value).to_string())),
        'v' | 's' => {
            let text = primitive_string(verb, value)?;
            let text = match verb.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            Ok(pad(verb, "", &text))
        }
        'q' => Ok(pad(verb, "", &serde_json::Value::String(primitive_string(verb, value)?).to_string())),
        // Terraform ignores the width and flags of `%t`.
        't' => match &value.kind {
            Kind::Bool(b) => Ok(b.to_string()),
            Kind::String(s) if &**s == "true" || &**s == "false" => Ok(s.to_string()),
            _ => Err(unsupported(verb, value, "a bool")),
        },
        'd' | 'b' | 'o' | 'x' | 'X' => format_integer(verb, value),
        _ => format_float(verb, value),
    }
}

fn is_primitive(value: &Value) -> bool {
    matches!(value.kind, Kind::String(_) | Kind::Number(_) | Kind::Bool(_))
}

/// A string, number or bool as text, the way the language converts it to a string.
fn primitive_string(verb: &Verb<'_>, value: &Value) -> Result<String, FunctionError> {
    match &value.kind {
        Kind::String(s) => Ok(s.to_string()),
        Kind::Number(n) => Ok(format_number(*n)),
        Kind::Bool(b) => Ok(b.to_string()),
        _ => Err(unsupported(verb, value, "a string").with_help("%v formats lists and objects as JSON")),
    }
}

/// A number argument; numeric strings convert, as everywhere else.
fn number(verb: &Verb<'_>, value: &Value) -> Result<f64, FunctionError> {
    match &value.kind {
        Kind::Number(n) => Ok(*n),
        Kind::String(s) => s.trim().parse().map_err(|_| unsupported(verb, value, "a number")),
        _ => Err(unsupported(verb, value, "a number")),
    }
}

fn unsupported(verb: &Verb<'_>, value: &Value, expected: &str) -> FunctionError {
    let found = args::a_type(value);
    FunctionError::new(format!("\"{}\" at offset {} needs {expected}, found {found}", verb.raw, verb.offset))
}

/// `%d`, `%b`, `%o`, `%x`, `%X`: whole numbers only. A precision is a minimum number of
/// digits; `#` adds Go's `0b`, `0`, `0x` prefixes.
fn format_integer(verb: &Verb<'_>, value: &Value) -> Result<String, FunctionError> {
    let n = number(verb, value)?;
    // Every whole number a value holds is formatted (below 2^128 in every base, beyond
    // that in decimal), as Terraform's arbitrary-precision numbers are.
    let whole = n.fract() == 0.0 && n.is_finite();
    if !whole {
        return Err(FunctionError::new(format!(
            "\"{}\" at offset {} needs a whole number, found {}",
            verb.raw,
            verb.offset,
            format_number(n)
        ))
        .with_help("use %f or %g for fractional numbers, or floor() to drop the fraction"));
    }
    if n.abs() >= 3.402_823_669_209_385e38 && verb.mode != 'd' {
        return Err(FunctionError::new(format!(
            "\"{}\" at offset {} formats whole numbers below 2^128, found {}",
            verb.raw,
            verb.offset,
            format_number(n)
        ))
        .with_help("use %d for larger numbers"));
    }
    // The number is the shortest decimal that reads back as the value, as templates
    // write it: `1e23` is 10^23, not the nearest binary value 99999999999999991611392.
    // Below 2^128 the shortest decimal is below 2^128 too, so the fallback is never used.
    let decimal = whole_decimal(n);
    let magnitude = decimal.parse::<u128>().unwrap_or(u128::MAX);
    let (digits, prefix) = match verb.mode {
        'b' => (format!("{magnitude:b}"), "0b"),
        'o' => (format!("{magnitude:o}"), "0"),
        'x' => (format!("{magnitude:x}"), "0x"),
        'X' => (format!("{magnitude:X}"), "0X"),
        _ => (decimal, ""),
    };
    let digits = match verb.precision {
        Some(p) => format!("{digits:0>p$}"),
        None => digits,
    };
    let prefix = if verb.sharp { prefix } else { "" };
    Ok(pad(verb, &format!("{}{prefix}", sign(verb, n)), &digits))
}

/// `%e`, `%E`, `%f`, `%g`, `%G`, printed as Go prints them (`1.500000e+03`).
fn format_float(verb: &Verb<'_>, value: &Value) -> Result<String, FunctionError> {
    let n = number(verb, value)?;
    let magnitude = n.abs();
    let body = match verb.mode {
        'e' | 'E' => exponent_form(&format!("{magnitude:.*e}", verb.precision.unwrap_or(6))),
        // A whole number's digits are the shortest decimal, as in `%d`.
        'f' if magnitude.fract() == 0.0 && magnitude.is_finite() => match verb.precision.unwrap_or(6) {
            0 => whole_decimal(magnitude),
            p => format!("{}.{}", whole_decimal(magnitude), "0".repeat(p)),
        },
        'f' => format!("{magnitude:.*}", verb.precision.unwrap_or(6)),
        _ => general_form(magnitude, verb.precision),
    };
    let body = if verb.mode.is_ascii_uppercase() { body.to_uppercase() } else { body };
    Ok(pad(verb, sign(verb, n), &body))
}

/// The magnitude of a whole number in decimal digits: the shortest decimal that reads
/// back as the same value (Rust's `Display`, which never uses an exponent), so that
/// `format("%d", 1e23)` agrees with `"${1e23}"` and with Terraform.
fn whole_decimal(n: f64) -> String {
    format!("{}", n.abs())
}

/// Rust's `1.5e3` as Go's `1.5e+03`: a signed exponent of at least two digits.
fn exponent_form(rust: &str) -> String {
    let Some((mantissa, exponent)) = rust.split_once('e') else {
        return rust.to_string(); // `inf` and `NaN` have no exponent.
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// `%g`: the exponent form for large and small exponents, the plain form otherwise, with
/// no trailing zeros. Without a precision the digits are the shortest that round-trip.
fn general_form(magnitude: f64, precision: Option<usize>) -> String {
    let significant = precision.map(|p| p.max(1));
    let scientific = match significant {
        Some(p) => format!("{magnitude:.*e}", p - 1),
        None => format!("{magnitude:e}"),
    };
    let exponent: i64 = scientific.split_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    // Go decides with a precision of 6 when printing the shortest digits.
    let limit = significant.unwrap_or(6) as i64;
    if exponent < -4 || exponent >= limit {
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        return exponent_form(&format!("{}e{exponent}", strip_zeros(mantissa)));
    }
    match significant {
        Some(p) => strip_zeros(&format!("{magnitude:.*}", (p as i64 - 1 - exponent).max(0) as usize)).to_string(),
        None => format!("{magnitude}"),
    }
}

fn strip_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

fn sign(verb: &Verb<'_>, n: f64) -> &'static str {
    if n.is_sign_negative() && n != 0.0 {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    }
}

/// Pads `sign` and `body` to the verb's width: on the right with `-`, with zeros between
/// sign and body with `0`, with spaces on the left otherwise.
fn pad(verb: &Verb<'_>, sign: &str, body: &str) -> String {
    let fill = verb.width.saturating_sub(sign.chars().count() + body.chars().count());
    if verb.minus {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if verb.zero {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

/// The JSON form `%v` uses for lists, objects and null, as Terraform does.
fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match &value.kind {
        Kind::Null | Kind::Unknown(_) => Json::Null,
        Kind::Bool(b) => Json::Bool(*b),
        Kind::Number(n) if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 => Json::from(*n as i64),
        Kind::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Kind::String(s) => Json::String(s.to_string()),
        Kind::List(items) | Kind::Set(items) => Json::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => Json::Object(entries.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
    }
}

// ------------------------------------------------------------------- join, split, replace

/// `join(separator, list)`: numbers and bools convert to strings; null or nested
/// elements are errors, as in Terraform.
fn join(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let separator = args::string(arguments, 0)?;
    let items = args::list(arguments, 1)?;
    let mut parts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let part = match &item.kind {
            Kind::String(s) => s.to_string(),
            Kind::Number(n) => format_number(*n),
            Kind::Bool(b) => b.to_string(),
            Kind::Null => {
                let message = format!("element {i} of the list is null");
                return Err(FunctionError::new(message).at(1).with_help("compact() removes null elements from a list"));
            }
            _ => {
                let message = format!("element {i} of the list must be a string, found {}", args::a_type(item));
                return Err(FunctionError::new(message)
                    .at(1)
                    .with_help("flatten() turns a list of lists into one list"));
            }
        };
        parts.push(part);
    }
    Ok(Value::string(parts.join(&separator)))
}

/// `split(separator, string)`: an empty separator splits into characters, and an empty
/// string gives `[""]` (Go's `strings.Split`).
fn split(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let separator = args::string(arguments, 0)?;
    let string = args::string(arguments, 1)?;
    let parts: Vec<Value> = if separator.is_empty() {
        string.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        string.split(separator.as_str()).map(Value::string).collect()
    };
    Ok(Value::list(parts))
}

/// `replace(string, substring, replacement)`: a substring written `/.../` is a regular
/// expression, and the replacement may then refer to groups as `$1` or `${name}`.
fn replace(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let search = args::string(arguments, 1)?;
    let replacement = args::string(arguments, 2)?;
    let pattern = search.strip_prefix('/').and_then(|s| s.strip_suffix('/')).filter(|_| search.len() > 1);
    match pattern {
        Some(pattern) => {
            let regex = compile(pattern, 1)?;
            Ok(Value::string(regex.replace_all(&string, replacement.as_str())))
        }
        None => Ok(Value::string(string.replace(&search, &replacement))),
    }
}

// ------------------------------------------------------------------ case and trimming

/// Lower case by Unicode's simple, one-character mapping, as Go's `unicode.ToLower` (and
/// so Terraform) does: `Σ` is always `σ`, never the final `ς`. The only letter whose full
/// lowercase is longer, `İ`, maps to its simple lowercase `i`, the first character.
fn lower(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    Ok(Value::string(string.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect::<String>()))
}

/// Upper case by Unicode's simple mapping, as Go's `unicode.ToUpper`: a letter whose
/// uppercase takes several characters (`ß`, `ŉ`, ligatures) is left as it is.
fn upper(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    Ok(Value::string(string.chars().map(simple_upper).collect::<String>()))
}

/// `c` in upper case when that is one character, else `c` itself.
fn simple_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// `title(string)`: puts the first letter of each word in title case and leaves the rest
/// alone, with Go's `strings.Title` idea of a word boundary (see [`is_separator`]).
fn title(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let mut out = String::with_capacity(string.len());
    let mut previous = ' ';
    for c in string.chars() {
        if is_separator(previous) {
            out.push(simple_title(c));
        } else {
            out.push(c);
        }
        previous = c;
    }
    Ok(Value::string(out))
}

/// `c` in title case, by Unicode's simple mapping (as Go's `unicode.ToTitle`). It is the
/// simple upper case but for three groups, listed here since the standard library has
/// upper and lower case only: the digraphs `ǆ`, `ǉ`, `ǌ` and `ǳ`, whose title case is
/// `ǅ` (capital and small letter) where their upper case is `Ǆ`; the Georgian Mkhedruli
/// letters, which are their own title case (their upper case, Mtavruli, is for all-caps
/// text); and the Greek letters with ypogegrammeni, whose full upper case is two letters
/// and whose simple title (and upper) case is the letter with prosgegrammeni.
fn simple_title(c: char) -> char {
    match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        '\u{10d0}'..='\u{10fa}' | '\u{10fd}'..='\u{10ff}' => c,
        '\u{1f80}'..='\u{1f87}' | '\u{1f90}'..='\u{1f97}' | '\u{1fa0}'..='\u{1fa7}' => {
            char::from_u32(u32::from(c) + 8).unwrap_or(c)
        }
        '\u{1fb3}' => '\u{1fbc}',
        '\u{1fc3}' => '\u{1fcc}',
        '\u{1ff3}' => '\u{1ffc}',
        _ => simple_upper(c),
    }
}

/// Go's rule: ASCII letters, digits and `_` join words, any other ASCII character
/// separates them; beyond ASCII, letters and digits join and only spaces separate.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        !(c.is_ascii_alphanumeric() || c == '_')
    } else {
        c.is_whitespace()
    }
}

/// `trim(string, cutset)`: every character of `cutset` is removed from both ends.
fn trim(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let cutset = args::string(arguments, 1)?;
    Ok(Value::string(string.trim_matches(|c| cutset.contains(c))))
}

/// `trimspace(string)`: Unicode whitespace, including newlines, from both ends.
fn trimspace(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::string(args::string(arguments, 0)?.trim()))
}

fn trimprefix(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let prefix = args::string(arguments, 1)?;
    Ok(Value::string(string.strip_prefix(prefix.as_str()).unwrap_or(&string)))
}

fn trimsuffix(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let suffix = args::string(arguments, 1)?;
    Ok(Value::string(string.strip_suffix(suffix.as_str()).unwrap_or(&string)))
}

/// `chomp(string)`: every trailing `\n` and `\r`.
fn chomp(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::string(args::string(arguments, 0)?.trim_end_matches(['\n', '\r'])))
}

// ---------------------------------------------------------------- substr, predicates

/// `substr(string, offset, length)` in characters. A negative offset counts from the end
/// (clamped at the start); an offset at or past the end gives `""`, as in Terraform; a
/// negative length, or one past the end, takes the rest.
fn substr(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let string = args::string(arguments, 0)?;
    let offset = args::integer(arguments, 1)?;
    let length = args::integer(arguments, 2)?;
    let chars: Vec<char> = string.chars().collect();
    let n_chars = chars.len() as i64;
    let start = if offset < 0 { (n_chars + offset).max(0) } else { offset.min(n_chars) };
    let end = if length < 0 { n_chars } else { (start + length).min(n_chars) };
    Ok(Value::string(chars[start as usize..end as usize].iter().collect::<String>()))
}

fn startswith(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::bool(args::string(arguments, 0)?.starts_with(args::string(arguments, 1)?.as_str())))
}

fn endswith(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::bool(args::string(arguments, 0)?.ends_with(args::string(arguments, 1)?.as_str())))
}

fn strcontains(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::bool(args::string(arguments, 0)?.contains(args::string(arguments, 1)?.as_str())))
}

// ---------------------------------------------------------------------- regular expressions

/// What a match of a pattern evaluates to, decided by its capture groups.
enum Shape {
    /// No groups: the matched text.
    Whole,
    /// Unnamed groups: a list of the groups' texts.
    Groups,
    /// Named groups: an object of them, by name.
    Named,
}

/// `regex(pattern, string)`: the first match, shaped by [`Shape`]; no match is an error.
fn regex(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let pattern = args::string(arguments, 0)?;
    let string = args::string(arguments, 1)?;
    let regex = compile(&pattern, 0)?;
    let shape = shape(&regex)?;
    match regex.captures(&string) {
        Some(captures) => Ok(shaped(&regex, &shape, &captures)),
        None => Err(FunctionError::new("the pattern did not match any part of the string")
            .with_help("regexall() returns an empty list instead, and can() tests for a match")),
    }
}

/// `regexall(pattern, string)`: every non-overlapping match, each shaped as `regex` does.
fn regexall(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let pattern = args::string(arguments, 0)?;
    let string = args::string(arguments, 1)?;
    let regex = compile(&pattern, 0)?;
    let shape = shape(&regex)?;
    Ok(Value::list(regex.captures_iter(&string).map(|captures| shaped(&regex, &shape, &captures)).collect()))
}

/// Compiles `pattern`, argument `argument` of the call, with an error that points at it.
fn compile(pattern: &str, argument: usize) -> Result<Regex, FunctionError> {
    // RE2 reads `\123` as an octal character code, as the crate does with `octal`.
    regex::RegexBuilder::new(&super::re2::translate(pattern)).octal(true).build().map_err(|error| {
        if let regex::Error::CompiledTooBig(limit) = error {
            return FunctionError::new(format!(
                "the regular expression is too large: compiled, it would take more than {} MiB",
                limit / (1024 * 1024)
            ))
            .at(argument)
            .with_help("a counted repetition such as `{1000}` copies what it repeats; use a smaller count or `*`/`+`");
        }
        // The crate's message draws the pattern with a caret over several lines; the
        // diagnostic already points at the argument, so keep only the last line.
        let text = error.to_string();
        let reason = text.lines().last().unwrap_or(&text).trim_start_matches("error: ");
        FunctionError::new(format!("invalid regular expression: {reason}")).at(argument).with_help(
            "patterns use RE2 syntax, as in Terraform; escape a special character such as `.`, `(` or `[` \
             with a backslash, written `\\\\` inside a quoted string",
        )
    })
}

/// Terraform refuses patterns that mix named and unnamed groups.
fn shape(regex: &Regex) -> Result<Shape, FunctionError> {
    let n_groups = regex.captures_len() - 1;
    let n_named = regex.capture_names().flatten().count();
    match (n_groups, n_named) {
        (0, _) => Ok(Shape::Whole),
        (_, 0) => Ok(Shape::Groups),
        (n, m) if n == m => Ok(Shape::Named),
        _ => Err(FunctionError::new("the pattern mixes named and unnamed capture groups")
            .at(0)
            .with_help("name every group, or make the unnamed ones non-capturing with `(?:...)`")),
    }
}

/// One match as a value. A group that did not take part in the match is null.
fn shaped(regex: &Regex, shape: &Shape, captures: &Captures<'_>) -> Value {
    let group = |i: usize| captures.get(i).map_or_else(Value::null, |m| Value::string(m.as_str()));
    match shape {
        Shape::Whole => group(0),
        Shape::Groups => Value::list((1..captures.len()).map(group).collect()),
        Shape::Named => Value::map(
            regex.capture_names().enumerate().filter_map(|(i, name)| Some((name?.to_string(), group(i)))).collect(),
        ),
    }
}

// ------------------------------------------------------------------------- indent, strrev

/// `indent(spaces, string)`: adds the spaces after every newline, so every line but the
/// first is indented, empty ones included (Terraform does the same).
fn indent(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let spaces = args::integer(arguments, 0)?;
    let string = args::string(arguments, 1)?;
    let spaces = usize::try_from(spaces)
        .ok()
        .filter(|n| *n <= MAX_WIDTH)
        .ok_or_else(|| FunctionError::new(format!("spaces must be between 0 and {MAX_WIDTH}, found {spaces}")).at(0))?;
    Ok(Value::string(string.replace('\n', &format!("\n{}", " ".repeat(spaces)))))
}

/// `strrev(string)`: reverses Unicode scalar values. Terraform reverses grapheme
/// clusters, so a letter followed by a combining accent comes out with the accent first
/// here; no crate for grapheme segmentation is a dependency yet.
fn strrev(arguments: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::string(args::string(arguments, 0)?.chars().rev().collect::<String>()))
}

/// `formatlist(spec, args...)`: `format` once per index of the list arguments, which
/// must all be as long; other arguments are used at every index. With no list argument
/// the result has one element.
fn formatlist(arguments: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let spec = args::string(arguments, 0)?;
    let mut length: Option<(usize, usize)> = None;
    for (i, argument) in arguments.iter().enumerate().skip(1) {
        let Some(items) = argument.as_list() else { continue };
        match length {
            Some((n, first)) if n != items.len() => {
                return Err(FunctionError::new(format!(
                    "argument {} has {} elements but argument {} has {n}: the lists must be as long",
                    i + 1,
                    items.len(),
                    first + 1
                ))
                .at(i)
                .with_help("each element is formatted with the elements at the same index of the other lists"));
            }
            None => length = Some((items.len(), i)),
            _ => {}
        }
    }
    let rows = length.map_or(1, |(n, _)| n);
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let mut call = vec![Value::string(spec.clone())];
        call.extend(arguments.iter().skip(1).map(|argument| match argument.as_list() {
            Some(items) => items[row].clone(),
            None => argument.clone(),
        }));
        out.push(format(&call, context)?);
    }
    Ok(Value::list(out))
}
