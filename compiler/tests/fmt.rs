//! Tests of the formatter: one snapshot per layout rule (`tests/data/fmt/*.infra`), and
//! over every `.infra` file in the repository that parses, checks that formatting is
//! idempotent, keeps every comment and does not change the syntax tree.

use std::path::{Path, PathBuf};

use infra_compiler::fmt::format_source;
use infra_compiler::syntax::ast::CommentKind;
use infra_compiler::syntax::parse_file;
use infra_compiler::FileId;
use proptest::prelude::*;

const FILE: FileId = FileId(0);

/// The repository root, where `examples/` and `tests/data/` live.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn format(text: &str) -> String {
    match format_source(FILE, text) {
        Ok(formatted) => formatted,
        Err(errors) => panic!("refused to format:\n{text}\n{errors:#?}"),
    }
}

/// Every property the formatter promises, for one input that parses.
fn check_invariants(name: &str, text: &str) {
    let formatted = format(text);
    let parsed = parse_file(FILE, &formatted);
    assert!(
        parsed.diagnostics.is_empty(),
        "{name}: formatted output does not parse:\n{formatted}\n{:#?}",
        parsed.diagnostics
    );
    assert_eq!(format(&formatted), formatted, "{name}: formatting is not idempotent; first pass:\n{formatted}");
    assert_eq!(comment_texts(&formatted), comment_texts(text), "{name}: comments changed:\n{formatted}");
    assert_eq!(meaning(&formatted), meaning(text), "{name}: syntax tree changed:\n{formatted}");
    assert!(formatted.is_empty() || formatted.ends_with('\n') && !formatted.ends_with("\n\n"), "{name}: bad file end");
    // Trailing whitespace survives only on lines copied from heredocs and block comments.
    for line in formatted.lines().filter(|l| l.ends_with([' ', '\t'])) {
        assert!(text.lines().any(|l| l.ends_with(line)), "{name}: trailing whitespace on {line:?}");
    }
}

/// The text of every comment, in order. Line comments lose trailing whitespace (a
/// CRLF's `\r`), as the formatter documents.
fn comment_texts(text: &str) -> Vec<String> {
    let parsed = parse_file(FILE, text);
    let comment_text = |c: &infra_compiler::syntax::ast::Comment| {
        let raw = &text[c.span.range()];
        match c.kind {
            CommentKind::Line => raw.trim_end().to_string(),
            CommentKind::Block => raw.to_string(),
        }
    };
    parsed.ast.comments.iter().map(comment_text).collect()
}

/// The syntax tree of every item, printed with every span erased.
fn meaning(text: &str) -> String {
    let parsed = parse_file(FILE, text);
    erase_spans(&format!("{:?}", parsed.ast.items))
}

/// Removes every `Span { file: FileId(0), start: 1, end: 2 }` and `Offsets { start: 1,
/// end: 2 }` (a span without its file), and the offset of each binary operator
/// (`op_start: 12`), from `Debug` output, except inside string literals, where it would
/// be user text.
fn erase_spans(debug: &str) -> String {
    const SPANS: [&str; 2] = ["Span { file: FileId(", "Offsets { start: "];
    const OFFSET: &str = "op_start: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    let mut in_string = false;
    while let Some(c) = rest.chars().next() {
        if !in_string && SPANS.iter().any(|span| rest.starts_with(span)) {
            let end = rest.find('}').expect("a span's Debug output ends with `}`");
            out.push_str("Span");
            rest = &rest[end + 1..];
            continue;
        }
        if !in_string && rest.starts_with(OFFSET) {
            out.push_str("op_start");
            rest = rest[OFFSET.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
            continue;
        }
        if in_string && c == '\\' {
            let escaped = rest[1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&rest[..1 + escaped]);
            rest = &rest[1 + escaped..];
            continue;
        }
        in_string ^= c == '"';
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn infra_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            infra_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "infra") {
            out.push(path);
        }
    }
}

/// Every `.infra` file under `examples/` and `tests/data/`, plus the design example.
fn corpus() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = vec![root.join("examples/design.infra.txt")];
    infra_files(&root.join("examples"), &mut files);
    infra_files(&root.join("tests/data"), &mut files);
    files.sort();
    files
}

#[test]
fn layout_rules() {
    insta::glob!("../../tests/data/fmt", "*.infra", |path| {
        let text = std::fs::read_to_string(path).expect("test input is readable");
        let formatted = format(&text);
        check_invariants(&path.display().to_string(), &text);
        insta::assert_snapshot!(format!("{text}\n----- formatted -----\n{formatted}"));
    });
}

#[test]
fn design_example_formats_idempotently() {
    let text = std::fs::read_to_string(repo_root().join("examples/design.infra.txt")).expect("design example exists");
    check_invariants("design.infra.txt", &text);
    insta::assert_snapshot!(format(&text));
}

#[test]
fn corpus_is_formatted_safely() {
    let mut checked = 0;
    for path in corpus() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if parse_file(FILE, &text).diagnostics.iter().any(|d| d.is_error()) {
            continue;
        }
        check_invariants(&path.display().to_string(), &text);
        checked += 1;
    }
    assert!(checked > 0, "no corpus files found under {}", repo_root().display());
}

#[test]
fn refuses_files_with_syntax_errors() {
    let errors = format_source(FILE, "let a = \nresource x.y z {\n  b = = 1\n}\n").expect_err("syntax errors");
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|d| d.is_error()));
}

#[test]
fn empty_and_blank_files() {
    assert_eq!(format(""), "");
    assert_eq!(format("\n\n  \n"), "");
    assert_eq!(format("# only a comment"), "# only a comment\n");
    assert_eq!(format("let a = 1\n\n\n"), "let a = 1\n");
}

#[test]
fn crlf_line_endings_become_lf() {
    let formatted = format("let a = 1 # one\r\nresource x.y z {\r\n  b = 2\r\n\r\n\r\n  c = 3\r\n}\r\n");
    assert_eq!(formatted, "let a = 1 # one\nresource x.y z {\n  b = 2\n\n  c = 3\n}\n");
}

#[test]
fn erase_spans_keeps_strings() {
    let debug = r#"Ident { name: "Span { file: FileId(0), start: 1, end: 2 }", span: Span { file: FileId(0), start: 3, end: 4 } }"#;
    let erased = r#"Ident { name: "Span { file: FileId(0), start: 1, end: 2 }", span: Span }"#;
    assert_eq!(erase_spans(debug), erased);
    let debug = r#"Ident { name: "Offsets { start: 1, end: 2 }", offsets: Offsets { start: 3, end: 4 } }"#;
    let erased = r#"Ident { name: "Offsets { start: 1, end: 2 }", offsets: Span }"#;
    assert_eq!(erase_spans(debug), erased);
    let debug = r#"Binary { op: Add, op_start: 12, lhs: Expr { kind: Text("op_start: 3"), span: Span } }"#;
    let erased = r#"Binary { op: Add, op_start, lhs: Expr { kind: Text("op_start: 3"), span: Span } }"#;
    assert_eq!(erase_spans(debug), erased);
}

// ------------------------------------------------------------------ generated programs

/// Whitespace and comments the generator puts between tokens. Every choice holds some
/// whitespace, and a newline is always followed by indentation, so no token lands in
/// column 0 (where a keyword would start a new item).
const TRIVIA: &[&str] = &[
    " ",
    " ",
    " ",
    "  ",
    "\n  ",
    "\n\n    ",
    " # note\n  ",
    " // note\n      ",
    " /* note */ ",
    "\n  /* two\nlines */\n  ",
    "\n\t",
];

/// Between top-level items, which start in column 0.
const ITEM_TRIVIA: &[&str] =
    &["\n", "\n\n", "\n\n\n", "\n# about the next item\n", " # trailing\n\n", "\n/* block */\n"];

fn leaf() -> impl Strategy<Value = Vec<String>> {
    prop::sample::select(vec![
        "1",
        "2.5",
        "1e3",
        "<<-EOT\n  leaf\n  EOT\n",
        "true",
        "null",
        "\"s\"",
        "\"x-${a}\"",
        "\"\\n\"",
        "a",
        "web_sg",
        "b.c",
        "web[0].id",
        "xs[*].id",
    ])
    .prop_map(tokens)
}

fn tokens(text: &str) -> Vec<String> {
    text.split(' ').map(str::to_string).collect()
}

fn join(parts: Vec<Vec<String>>, open: &str, separator: &str, close: &str) -> Vec<String> {
    let mut out = tokens(open);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(separator.to_string());
        }
        out.extend(part);
    }
    out.extend(tokens(close));
    out
}

/// An expression as a list of tokens.
fn expression() -> impl Strategy<Value = Vec<String>> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        let op = prop::sample::select(vec!["+", "-", "*", "/", "%", "==", "!=", "<", "<=", "&&", "||"]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(l, op, r)| [l, vec![op.to_string()], r].concat()),
            inner.clone().prop_map(|e| [tokens("! ("), e, tokens(")")].concat()),
            inner.clone().prop_map(|e| [tokens("- ("), e, tokens(")")].concat()),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, o)| [
                tokens("("),
                c,
                tokens("?"),
                t,
                tokens(":"),
                o,
                tokens(")")
            ]
            .concat()),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|xs| join(xs, "[", ",", "]")),
            (prop::collection::vec(inner.clone(), 1..4), any::<bool>()).prop_map(|(xs, comma)| {
                let mut list = join(xs, "[", ",", "]");
                if comma {
                    list.insert(list.len() - 1, ",".to_string());
                }
                list
            }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|xs| {
                let items = xs.into_iter().enumerate().map(|(i, x)| [tokens(&format!("k{i} =")), x].concat()).collect();
                join(items, "{", ",", "}")
            }),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|xs| join(xs, "merge (", ",", ")")),
            (inner.clone(), inner.clone())
                .prop_map(|(c, b)| [tokens("[ for x in"), c, tokens(":"), b, tokens("]")].concat()),
            inner.clone().prop_map(|e| [tokens("( a . b ) ["), e, tokens("]")].concat()),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| [
                tokens("{ ("),
                k,
                tokens(") = 1 , \"q\" :"),
                v,
                tokens("}")
            ]
            .concat()),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, v, f)| {
                [tokens("{ for k , v in"), c, tokens(": k =>"), v, tokens("... if"), f, tokens("}")].concat()
            }),
        ]
    })
}

/// A heredoc with trailing spaces and an interpolation, which must come out unchanged.
const HEREDOC: &str = "<<EOT\n  text ${a}\n    more  \nEOT\n";

/// Item templates; every `E` is replaced by a generated expression.
const ITEMS: &[&str] = &[
    "let v = E",
    "input i : string = E",
    "input n : number = E { description = E check E , E }",
    "input o : list ( object ( { a = string , b = optional ( number , E ) } ) ) { sensitive = true }",
    "resource aws.instance r for i in E { ami = E tags = E lifecycle { create_before_destroy = E } }",
    "resource aws.vpc r2 if E { cidr_block = E , tags = { Name = E } }",
    "data aws.ami d { name = E }",
    "output out = E { description = E }",
    "check E , E",
    "fn f ( x : number , y : string ) : string = E",
    "moved a [ 0 ] -> b",
    "import a [ E ] from E",
    "module m \"./m\" for k , v in E { x = E }",
    "provider aws as west { region = E }",
    "state local { path = E }",
    "resource local.file h { content = H ingress for p in E { from_port = E } }",
];

fn program() -> impl Strategy<Value = String> {
    let item = (0..ITEMS.len(), prop::collection::vec(expression(), 6));
    let items = prop::collection::vec(item, 1..5);
    let trivia = prop::collection::vec(0..TRIVIA.len(), 400);
    let item_trivia = prop::collection::vec(0..ITEM_TRIVIA.len(), 5);
    (items, trivia, item_trivia).prop_map(|(items, trivia, item_trivia)| {
        let mut text = String::new();
        let mut slots = trivia.into_iter().cycle();
        for (i, (template, exprs)) in items.into_iter().enumerate() {
            let mut exprs = exprs.into_iter();
            let mut item_tokens = Vec::new();
            for token in ITEMS[template].split(' ') {
                match token {
                    "E" => item_tokens.extend(exprs.next().unwrap_or_default()),
                    "H" => item_tokens.push(HEREDOC.to_string()),
                    _ => item_tokens.push(token.to_string()),
                }
            }
            if i > 0 {
                text.push_str(ITEM_TRIVIA[item_trivia[i % item_trivia.len()]]);
            }
            for (j, token) in item_tokens.iter().enumerate() {
                if j > 0 {
                    text.push_str(TRIVIA[slots.next().unwrap_or(0)]);
                }
                text.push_str(token);
            }
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_programs_are_formatted_safely(text in program()) {
        let parsed = parse_file(FILE, &text);
        prop_assume!(parsed.diagnostics.is_empty());
        check_invariants("generated program", &text);
    }
}

#[test]
fn deep_nesting_and_long_chains() {
    let chain = format!("let a = {}1\n", "1 + ".repeat(250));
    check_invariants("long chain", &chain);
    let nested = format!("let b = {}1{}\n", "[\n".repeat(60), "]".repeat(60));
    check_invariants("nested lists", &nested);
    let conditionals = format!("let c = {}0\n", "x ? 1 : ".repeat(60));
    check_invariants("chained conditionals", &conditionals);
}
