//! RE2 patterns for the `regex` crate. Terraform's `regex`, `regexall` and `replace` use
//! Go's RE2, whose syntax the crate shares almost entirely; what differs is rewritten
//! here, before compiling:
//!
//! - `\d`, `\w`, `\s` and `\b` are ASCII in RE2 (`[0-9]`, `[0-9A-Za-z_]`, `[\t\n\f\r ]`),
//!   Unicode-aware in the crate: each class becomes its ASCII ranges (`\d` is `[0-9]`,
//!   and inside brackets `[\d-z]` is `[0-9\-z]`, as RE2 reads it), and `\b` the crate's
//!   ASCII boundary `(?-u:\b)`.
//! - `\Q...\E` quotes the text between them literally; the crate has no such syntax, so
//!   the text is escaped instead.
//!
//! Everything else (`\pL`, `[[:alpha:]]`, flags, groups, repetition, and octal escapes
//! such as `\101`, which `compile` turns on) means the same in both and passes through
//! unchanged.

/// `pattern` rewritten so that the `regex` crate matches what RE2 would.
pub(super) fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Inside a bracketed class: `Some(n)` where `n` counts the characters since `[` (a
    // `]` right after `[` or `[^` is a literal).
    let mut class: Option<usize> = None;
    while let Some(c) = chars.next() {
        match (c, class) {
            ('\\', _) => match chars.next() {
                Some('Q') => {
                    let mut literal = String::new();
                    while let Some(c) = chars.next() {
                        if c == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        literal.push(c);
                    }
                    out.push_str(&regex::escape(&literal));
                }
                Some(perl @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) => match class {
                    None => out.push_str(&format!("[{}]", class_ranges(perl))),
                    Some(_) => {
                        out.push_str(class_ranges(perl));
                        // RE2 reads `[\d-z]` as `\d`, `-`, `z`: a dash after a class is a literal.
                        if chars.peek() == Some(&'-') {
                            chars.next();
                            out.push_str("\\-");
                        }
                    }
                },
                Some(boundary @ ('b' | 'B')) if class.is_none() => out.push_str(&format!("(?-u:\\{boundary})")),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            ('[', None) => {
                out.push('[');
                class = Some(0);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            ('[', Some(_)) if chars.peek() == Some(&':') => {
                // A POSIX class such as `[:alpha:]`: copied up to its `:]`.
                out.push('[');
                for c in chars.by_ref() {
                    out.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            (']', Some(n)) if n > 0 => {
                out.push(']');
                class = None;
                continue;
            }
            _ => out.push(c),
        }
        if let Some(n) = class.as_mut() {
            *n += 1;
        }
    }
    out
}

/// RE2's Perl class `\perl` as ranges inside a bracketed class.
fn class_ranges(perl: char) -> &'static str {
    match perl {
        'd' => "0-9",
        'D' => "\\x00-\\x2F\\x3A-\\x{10FFFF}",
        'w' => "0-9A-Za-z_",
        'W' => "\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x{10FFFF}",
        's' => "\\t\\n\\x0C\\r ",
        _ => "\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\x{10FFFF}",
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn first(pattern: &str, text: &str) -> Option<String> {
        regex::Regex::new(&translate(pattern)).expect("compiles").find(text).map(|m| m.as_str().to_string())
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        assert_eq!(first(r"\w+", "héllo").as_deref(), Some("h"));
        assert_eq!(first(r"\d+", "a\u{663}\u{664} 12").as_deref(), Some("12"));
        assert_eq!(first(r"\s", "a\u{a0}b c").as_deref(), Some(" "));
        // `é` is not a word character: no boundary between a space and it, one after `x`.
        assert_eq!(first(r"\bé", " é"), None);
        assert_eq!(first(r"\bé", "xé").as_deref(), Some("é"));
        assert_eq!(first(r"\W+", "ab—cd").as_deref(), Some("—"));
    }

    #[test]
    fn classes_inside_brackets_become_ranges() {
        assert_eq!(first(r"[\d-z]+", "a-z9").as_deref(), Some("-z9"));
        assert_eq!(first(r"[^\s]+", "a\u{a0}b c").as_deref(), Some("a\u{a0}b"));
        assert_eq!(first(r"[[:alpha:]\d]+", "ab12!").as_deref(), Some("ab12"));
        assert_eq!(first(r"[]a]+", "]a]").as_deref(), Some("]a]"));
    }

    #[test]
    fn quoted_text_is_literal() {
        assert_eq!(first(r"\Q1.5*\E!", "x1.5*!").as_deref(), Some("1.5*!"));
        assert_eq!(first(r"a\Q(", "a(").as_deref(), Some("a("));
    }

    #[test]
    fn everything_else_passes_through() {
        for pattern in [r"(?i)abc", r"\pL+", r"a{2,3}", r"(?P<x>\.)", r"[a-z&&[^b]]"] {
            assert_eq!(translate(pattern), pattern);
        }
    }
}
