//! Built-in functions on timestamps: `formatdate`, `timeadd`, `timecmp` and
//! `plantimestamp`. Timestamps are RFC 3339 strings, read as strictly as Terraform
//! reads them (`2006-01-02T15:04:05Z`, optional fractional seconds, `Z` or `±hh:mm`);
//! durations are Go's (`1h30m`, `-1.5h`, `300ms`). The calendar and the arithmetic are
//! the `time` crate's; the format letters of `formatdate` are Terraform's own.
//!
//! docs/functions/time.md is the reference for users.

use infra_compiler::types::Type;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] =
    &[("formatdate", formatdate), ("timeadd", timeadd), ("timecmp", timecmp), ("plantimestamp", plantimestamp)];

const TIMESTAMP_HELP: &str =
    "write an RFC 3339 timestamp such as `2024-01-31T15:04:05Z` or `2024-01-31T15:04:05+01:00`";

fn formatdate(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let format = args::string(args, 0)?;
    let time = timestamp(args, 1)?;
    format_date(&format, time).map(Value::string).map_err(|message| {
        FunctionError::new(message).at(0).with_help(
            "letters are verbs (`YYYY`, `MM`, `DD`, `hh`, `mm`, `ss`, `ZZZ`, ...); quote other text: `'at' hh:mm`",
        )
    })
}

fn timeadd(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let time = timestamp(args, 0)?;
    let text = args::string(args, 1)?;
    let nanoseconds = parse_duration(&text).map_err(|message| {
        FunctionError::new(message)
            .at(1)
            .with_help("a duration is numbers with units `h`, `m`, `s`, `ms`, `us` or `ns`, such as `1h30m` or `-10m`")
    })?;
    let sum = time
        .checked_add(time::Duration::nanoseconds(nanoseconds))
        .filter(|sum| (MIN_YEAR..=MAX_YEAR).contains(&sum.year()))
        .ok_or_else(|| FunctionError::new(format!("the result is outside the years {MIN_YEAR} to {MAX_YEAR}")).at(1))?;
    Ok(Value::string(rfc3339(sum)))
}

fn timecmp(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let a = timestamp(args, 0)?;
    let b = timestamp(args, 1)?;
    Ok(Value::number(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    }))
}

/// The plan's own time, fixed for the whole plan (and kept in a saved plan); unknown
/// where there is no plan, as in `infra console`.
fn plantimestamp(_: &[Value], context: &CallContext<'_>) -> FunctionResult {
    Ok(context.plan_timestamp.map_or_else(|| Value::unknown(Type::String), Value::string))
}

/// Argument `i` as a timestamp.
fn timestamp(args: &[Value], i: usize) -> Result<OffsetDateTime, FunctionError> {
    let text = args::string(args, i)?;
    parse_timestamp(&text).map_err(|message| {
        FunctionError::new(format!("not a valid RFC 3339 timestamp: {message}")).at(i).with_help(TIMESTAMP_HELP)
    })
}

const MIN_YEAR: i32 = 0;
const MAX_YEAR: i32 = 9999;

/// `time` written as Terraform's `timeadd` writes it: whole seconds, `Z` for UTC.
pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    let offset = if time.offset().is_utc() { "Z".to_string() } else { offset_text(time.offset(), ":") };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{offset}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `+05:30` (with `separator` `":"`) or `+0530`.
fn offset_text(offset: UtcOffset, separator: &str) -> String {
    let sign = if offset.is_negative() { '-' } else { '+' };
    let (hours, minutes, _) = offset.as_hms();
    format!("{sign}{:02}{separator}{:02}", hours.unsigned_abs(), minutes.unsigned_abs())
}

/// Reads a timestamp field by field, with Terraform's messages for what is wrong.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// `n` ASCII digits, as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let field = self.rest.get(..n).filter(|f| f.bytes().all(|b| b.is_ascii_digit()))?;
        self.rest = &self.rest[n..];
        field.parse().ok()
    }

    fn literal(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// "cannot use "…" as month": the rest of the text, as Terraform quotes it.
    fn cannot_use(&self, what: &str) -> String {
        format!("cannot use {} as {what}", infra_runtime::value::quote(self.rest))
    }

    fn expect_separator(&mut self, c: char) -> Result<(), String> {
        if self.literal(c) {
            return Ok(());
        }
        Err(match self.rest {
            "" => format!("end of string where \"{c}\" is expected"),
            rest => format!("found {} where \"{c}\" is expected", infra_runtime::value::quote(rest)),
        })
    }

    /// Two digits, or the message for a field that is not.
    fn two_digits(&mut self, what: &str) -> Result<u32, String> {
        let before = self.rest;
        self.digits(2).ok_or_else(|| match before {
            "" => format!("end of string before {what}"),
            _ if what == "hour" || what == "minute" => format!("{what} must have exactly two digits"),
            _ => self.cannot_use(what),
        })
    }
}

/// Parses `2006-01-02T15:04:05.999999999Z07:00` exactly; the error is the message after
/// "not a valid RFC 3339 timestamp: ".
fn parse_timestamp(text: &str) -> Result<OffsetDateTime, String> {
    let mut cursor = Cursor { rest: text };
    let year = cursor.digits(4).ok_or_else(|| cursor.cannot_use("year"))?;
    cursor.expect_separator('-')?;
    let month = cursor.digits(2).filter(|m| (1..=12).contains(m)).ok_or_else(|| cursor.cannot_use("month"))?;
    cursor.expect_separator('-')?;
    let day = cursor.two_digits("day of month")?;
    if !cursor.literal('T') {
        return Err("missing required time introducer 'T'".to_string());
    }
    let hour = cursor.two_digits("hour")?;
    if hour > 23 {
        return Err("hour must be between 0 and 23 inclusive".to_string());
    }
    cursor.expect_separator(':')?;
    let minute = cursor.two_digits("minute")?;
    if minute > 59 {
        return Err("minute must have exactly two digits".to_string());
    }
    cursor.expect_separator(':')?;
    let second = cursor.two_digits("second")?;
    if second > 59 {
        return Err(format!("second {second} is out of range (0 to 59)"));
    }
    let nanosecond = fraction(&mut cursor)?;
    let offset = utc_offset(&mut cursor)?;
    if !cursor.rest.is_empty() {
        return Err(cursor.cannot_use("timestamp segment"));
    }
    let month = Month::try_from(month as u8).map_err(|_| "month out of range".to_string())?;
    let date = Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| "day out of range".to_string())?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanosecond)
        .map_err(|_| "time out of range".to_string())?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Optional fractional seconds (any number of digits; the first nine count).
fn fraction(cursor: &mut Cursor<'_>) -> Result<u32, String> {
    let Some(rest) = cursor.rest.strip_prefix('.') else {
        return Ok(0);
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(cursor.cannot_use("UTC offset"));
    }
    let nine: String = rest[..digits].chars().chain(std::iter::repeat('0')).take(9).collect();
    cursor.rest = &rest[digits..];
    nine.parse().map_err(|_| "invalid fractional seconds".to_string())
}

/// `Z`, or `+hh:mm` / `-hh:mm` with hours below 24 and minutes below 60.
fn utc_offset(cursor: &mut Cursor<'_>) -> Result<UtcOffset, String> {
    if cursor.rest.is_empty() {
        return Err("end of string before UTC offset".to_string());
    }
    if cursor.literal('Z') {
        return Ok(UtcOffset::UTC);
    }
    let invalid = cursor.cannot_use("UTC offset");
    let bytes = cursor.rest.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(invalid),
    };
    let field = |range: std::ops::Range<usize>| {
        cursor.rest.get(range).filter(|f| f.bytes().all(|b| b.is_ascii_digit())).and_then(|f| f.parse::<i8>().ok())
    };
    let (Some(hours), Some(b':'), Some(minutes)) = (field(1..3), bytes.get(3), field(4..6)) else {
        return Err(invalid);
    };
    if hours > 23 || minutes > 59 {
        return Err(invalid);
    }
    cursor.rest = &cursor.rest[6..];
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| invalid)
}

/// Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers each
/// with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit. The
/// result in nanoseconds must fit 64 bits.
fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid duration {}", infra_runtime::value::quote(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after) = rest.strip_prefix('.') {
            let len = after.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after[..len];
            rest = &after[len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(format!("missing unit in duration {}", infra_runtime::value::quote(text)));
        }
        let scale = infra_compiler::schema::validate::unit_nanos(unit).ok_or_else(|| {
            format!(
                "unknown unit {} in duration {}",
                infra_runtime::value::quote(unit),
                infra_runtime::value::quote(text)
            )
        })?;
        total = total.checked_add(component(whole, fraction, scale).ok_or_else(invalid)?).ok_or_else(invalid)?;
    }
    let limit = if negative { 1u128 << 63 } else { (1u128 << 63) - 1 };
    if total > limit {
        return Err(invalid());
    }
    let signed = if negative { -(total as i128) } else { total as i128 };
    i64::try_from(signed).map_err(|_| invalid())
}

/// `whole.fraction` units of `scale` nanoseconds each, the fraction truncated.
fn component(whole: &str, fraction: &str, scale: u128) -> Option<u128> {
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut nanoseconds = whole.checked_mul(scale)?;
    // Digits past the 20th cannot change a result that fits 64 bits.
    let fraction = &fraction[..fraction.len().min(20)];
    if !fraction.is_empty() {
        let numerator: u128 = fraction.parse().ok()?;
        let denominator = 10u128.pow(fraction.len() as u32);
        nanoseconds = nanoseconds.checked_add(numerator * scale / denominator)?;
    }
    Some(nanoseconds)
}

/// Terraform's `formatdate`: runs of one ASCII letter are verbs, text in `'...'` is
/// literal (`''` is a quote), and anything else is copied.
fn format_date(format: &str, time: OffsetDateTime) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(first) = rest.chars().next() {
        let len = if first == '\'' {
            quoted_len(rest)
        } else if first.is_ascii_alphabetic() {
            rest.find(|c| c != first).unwrap_or(rest.len())
        } else {
            rest.find(|c: char| c == '\'' || c.is_ascii_alphabetic()).unwrap_or(rest.len())
        };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        match first {
            '\'' => out.push_str(&unquote(token)?),
            c if c.is_ascii_alphabetic() => out.push_str(&verb(token, time)?),
            _ => out.push_str(token),
        }
    }
    Ok(out)
}

/// The length of the quoted literal at the start of `text`: up to the closing quote
/// (doubled quotes inside are escapes), or all of it when none closes it.
fn quoted_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if bytes.get(1) == Some(&b'\'') {
        return 2;
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn unquote(token: &str) -> Result<String, String> {
    if token == "''" {
        return Ok("'".to_string());
    }
    match token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) if token.len() > 1 => Ok(inner.replace("''", "'")),
        _ => Err("unterminated literal '".to_string()),
    }
}

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// One verb: a run of the same letter.
fn verb(token: &str, time: OffsetDateTime) -> Result<String, String> {
    let invalid = |rule: &str| format!("invalid date format verb {}{rule}", infra_runtime::value::quote(token));
    let number = |n: u32, rule: &str| match token.len() {
        1 => Ok(n.to_string()),
        2 => Ok(format!("{n:02}")),
        _ => Err(invalid(rule)),
    };
    let month = u8::from(time.month());
    let hour12 = match time.hour() % 12 {
        0 => 12,
        h => h,
    };
    match (token.as_bytes()[0], token.len()) {
        (b'Y', 2) => Ok(format!("{:02}", time.year().rem_euclid(100))),
        (b'Y', 4) => Ok(format!("{:04}", time.year())),
        (b'Y', _) => Err(invalid(": year must either be \"YY\" or \"YYYY\"")),
        (b'M', 3) => Ok(MONTHS[usize::from(month - 1)][..3].to_string()),
        (b'M', 4) => Ok(MONTHS[usize::from(month - 1)].to_string()),
        (b'M', _) => number(u32::from(month), ": month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""),
        (b'D', _) => number(u32::from(time.day()), ": day of month must either be \"D\" or \"DD\""),
        (b'E', 3) => Ok(WEEKDAYS[usize::from(time.weekday().number_days_from_monday())][..3].to_string()),
        (b'E', 4) => Ok(WEEKDAYS[usize::from(time.weekday().number_days_from_monday())].to_string()),
        (b'E', _) => Err(invalid(": day of week must either be \"EEE\" or \"EEEE\"")),
        (b'h', _) => number(u32::from(time.hour()), ": 24-hour must either be \"h\" or \"hh\""),
        (b'H', _) => number(u32::from(hour12), ": 12-hour must either be \"H\" or \"HH\""),
        (b'A', 2) => Ok(if time.hour() < 12 { "AM" } else { "PM" }.to_string()),
        (b'a', 2) => Ok(if time.hour() < 12 { "am" } else { "pm" }.to_string()),
        (b'A', _) => Err(invalid(": must be \"AA\"")),
        (b'a', _) => Err(invalid(": must be \"aa\"")),
        (b'm', _) => number(u32::from(time.minute()), ": minute must either be \"m\" or \"mm\""),
        (b's', _) => number(u32::from(time.second()), ": second must either be \"s\" or \"ss\""),
        (b'Z', 1) if time.offset().is_utc() => Ok("Z".to_string()),
        (b'Z', 1) => Ok(offset_text(time.offset(), ":")),
        (b'Z', 3) if time.offset().is_utc() => Ok("UTC".to_string()),
        (b'Z', 3 | 4) => Ok(offset_text(time.offset(), "")),
        (b'Z', 5) => Ok(offset_text(time.offset(), ":")),
        (b'Z', _) => Err(invalid(": timezone must be Z, ZZZZ, or ZZZZZ")),
        _ => Err(invalid("")),
    }
}
