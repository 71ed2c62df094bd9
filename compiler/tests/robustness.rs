//! No input makes the front end panic, hang or overflow the stack: hostile inputs,
//! limits, and a property test over random and mutated programs.

use infra_compiler::{analyze, Analysis, MemoryLoader};
use proptest::prelude::*;

/// Checks `text` as the only file of a module, on a thread with the default 2 MiB
/// stack that test threads (and many embedders) get.
fn check(text: impl Into<Vec<u8>>) -> Vec<String> {
    let text = text.into();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let mut loader = MemoryLoader::new();
            loader.insert("m/main.infra", text);
            let analysis: Analysis = analyze(std::path::Path::new("m"), &loader, infra_stdlib::builtin());
            analysis.diagnostics.iter().map(|d| d.code.to_string()).collect()
        })
        .expect("spawn")
        .join()
        .expect("the checker panicked")
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("let _a = {}{inner}{}\n", open.repeat(depth), close.repeat(depth))
}

#[test]
fn ten_thousand_deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [("[", "]"), ("(", ")"), ("{ a = ", " }"), ("\"${", "}\""), ("f(", ")")] {
        let codes = check(nested(open, "1", close, 10_000));
        assert!(codes.contains(&"E0104".to_string()), "{open}: {codes:?}");
    }
    let codes = check(format!("let _a = {}2\n", "true ? 1 : ".repeat(10_000)));
    assert_eq!(codes, ["E0104"]);
    let codes = check(format!("resource null.resource r {{\n{}{}}}\n", "b {\n".repeat(10_000), "}\n".repeat(10_000)));
    assert_eq!(codes, ["E0104"]);
}

#[test]
fn long_operator_chains_are_an_error_not_a_crash() {
    for text in [
        format!("let _a = {}\n", vec!["1"; 10_000].join(" + ")),
        format!("let _a = {}true\n", "!".repeat(10_000)),
        format!("let _a = x{}\nlet x = 1\n", ".y".repeat(10_000)),
        // Chains inside brackets must not multiply past the budget.
        format!("let _a = {}1{}\n", "(1 + 1 + 1 + 1 + 1 + 1 + ".repeat(60), ")".repeat(60)),
    ] {
        assert!(check(text).contains(&"E0104".to_string()));
    }
}

#[test]
fn nesting_just_under_the_limits_checks_clean() {
    assert_eq!(check(nested("[", "1", "]", 60)), Vec::<String>::new());
    assert_eq!(check(format!("let _a = {}2\n", "true ? 1 : ".repeat(60))), Vec::<String>::new());
    assert_eq!(check(format!("let _a = {}\n", vec!["1"; 200].join(" + "))), Vec::<String>::new());
}

#[test]
fn unterminated_constructs_are_reported_once_each() {
    assert_eq!(check("let _a = \"abc\n"), ["E0101"]);
    assert_eq!(check("let _a = <<EOT\nabc\n"), ["E0102"]);
    assert_eq!(check("let _a = 1 /* abc\n"), ["E0103"]);
    assert_eq!(check("let _a = \"abc ${ 1 \nlet _b = 2\n"), ["E0101"]);
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let mut loader = MemoryLoader::new();
    loader.insert("m/main.infra", b"let a = \"caf\xe9\"\n".to_vec());
    let analysis = analyze(std::path::Path::new("m"), &loader, infra_stdlib::builtin());
    let diagnostic = &analysis.diagnostics[0];
    assert_eq!(diagnostic.code.as_str(), "E0001");
    assert!(diagnostic.message.contains("byte 12"), "{}", diagnostic.message);
    assert_eq!(diagnostic.primary_span().map(|s| s.start), Some(12));
}

#[test]
fn empty_inputs() {
    assert_eq!(check(""), Vec::<String>::new());
    assert_eq!(check("# only a comment\n"), Vec::<String>::new());
    let loader = MemoryLoader::new();
    let analysis = analyze(std::path::Path::new("empty"), &loader, infra_stdlib::builtin());
    assert_eq!(analysis.diagnostics[0].code.as_str(), "E0003");
}

#[test]
fn a_byte_order_mark_starts_a_file_but_nowhere_else() {
    assert_eq!(check("\u{FEFF}let a = 1\noutput o = a\n"), Vec::<String>::new());
    assert_eq!(check("let a = 1\n\u{FEFF}output o = a\n"), vec!["E0100"]);
}

/// Files over a megabyte are parsed on several threads, a run of items each:
/// the items and the diagnostics still come out whole and in source order.
#[test]
fn a_large_file_parses_in_order_with_every_error() {
    let mut text = String::new();
    let mut broken = Vec::new();
    for k in 0..40000 {
        if k % 3000 == 700 {
            broken.push(text.len() + "let v".len() + k.to_string().len() + " = ".len());
            text.push_str(&format!("let v{k} = )\n"));
        } else {
            text.push_str(&format!("let v{k} = [for i in range({k}) : \"x-${{i}}\" if i > 0]\n"));
        }
    }
    assert!(text.len() > 1024 * 1024, "large enough to be split");
    let parsed = infra_compiler::syntax::parse_file(infra_compiler::FileId(0), &text);
    let names: Vec<String> = parsed
        .ast
        .items
        .iter()
        .map(|item| match item {
            infra_compiler::syntax::ast::Item::Let(l) => l.name.name.to_string(),
            other => panic!("unexpected item {other:?}"),
        })
        .collect();
    let expected: Vec<String> = (0..40000).filter(|k| k % 3000 != 700).map(|k| format!("v{k}")).collect();
    assert_eq!(names, expected);
    let errors: Vec<(String, usize)> = parsed
        .diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.primary_span().map_or(0, |s| s.start as usize)))
        .collect();
    assert_eq!(errors, broken.iter().map(|&at| ("E0100".to_string(), at)).collect::<Vec<_>>());
}

/// Modules of over 8 MiB of items are checked on several threads, a run of items
/// each: a type error found through a declaration in another run, a name missing, mutual
/// recursion split between runs and an unused declaration are all still reported, once.
#[test]
fn a_large_module_reports_across_its_parts() {
    const N: usize = 12000;
    // Each number is padded, so the module is over twice the 4 MiB a checking thread
    // takes at least.
    let pad = format!(" + length(\"{}\")", "x".repeat(720));
    let pad = pad.as_str();
    let mut text = String::from("fn first(x: number): number = last(x)\n");
    for k in 0..N {
        let value = if k < N / 2 { format!("v{} + 1{pad}", N - 1 - k) } else { format!("{k}{pad}") };
        let value = match k {
            k if k == N - 1 - 100 => "\"text\"".to_string(),
            9000 => "missing_name".to_string(),
            _ => value,
        };
        text.push_str(&format!("let v{k} = {value}\n"));
        if k < N / 2 && k != 7 {
            text.push_str(&format!("output o{k} = v{k}\n"));
        }
    }
    text.push_str("fn last(x: number): number = first(x)\noutput f = first(1)\n");
    assert!(text.len() > 2 * 4 * 1024 * 1024, "large enough to be split");
    let mut loader = infra_compiler::MemoryLoader::new();
    loader.insert("big/main.infra", text.clone());
    let analysis = analyze(std::path::Path::new("big"), &loader, infra_stdlib::builtin());
    let found: Vec<(String, String)> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let at = d.primary_span().map_or(0, |s| s.start as usize);
            let line = text[..at].lines().count();
            (d.code.to_string(), text.lines().nth(line.saturating_sub(1)).unwrap_or("").to_string())
        })
        .collect();
    let expected = [
        ("E0202", "fn first(x: number): number = last(x)".to_string()),
        ("W0001", format!("let v7 = v11992 + 1{pad}")),
        ("E0301", format!("let v100 = v11899 + 1{pad}")),
        ("E0201", "let v9000 = missing_name".to_string()),
    ];
    assert_eq!(found, expected.map(|(code, line)| (code.to_string(), line)));
}

const SEED_PROGRAM: &str = r#"
input count: number = 2 {
  description = "How many"
  check count >= 1, "at least one"
}
let prefix = "web-${count}"
fn double(x: number): number = x * 2
resource local.file f for i in range(count) {
  path    = "out/${prefix}-${i}.txt"
  content = <<-EOT
    value ${double(i)}
    EOT
  lifecycle { prevent_destroy = i > 0 }
}
output paths = [for x in f : x.path if x.size > 0]
output m = { for k, v in { a = 1 } : k => v... }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(bytes);
    }

    #[test]
    fn random_token_soup_never_panics(tokens in proptest::collection::vec(
        prop::sample::select(vec![
            "{", "}", "[", "]", "(", ")", "\"", "${", "<<EOT\n", "\nEOT\n", "=", "==", "?", ":", ",", ".",
            "[*]", "for", "in", "if", "key", "resource", "let", "input", "x", "1", "1e3", "\n", " ", "#",
            "/*", "*/", "...", "local.file", "-", "!", "+", "=>",
        ]), 0..80)) {
        check(tokens.concat());
    }

    #[test]
    fn mutated_programs_never_panic(
        edits in proptest::collection::vec((0..SEED_PROGRAM.len(), 0..4usize, any::<char>()), 1..6)
    ) {
        let mut text: Vec<char> = SEED_PROGRAM.chars().collect();
        for (at, op, c) in edits {
            let at = at.min(text.len());
            match op {
                0 if at < text.len() => { text.remove(at); }
                1 => text.insert(at, c),
                2 if at < text.len() => text[at] = c,
                _ => text.truncate(at),
            }
        }
        check(text.into_iter().collect::<String>());
    }
}

#[test]
fn seed_program_checks_clean() {
    assert_eq!(check(SEED_PROGRAM), Vec::<String>::new());
}

/// Bug: 17,000 `let`s each reading the one before overflowed the stack while checking
/// (each declaration's type was computed recursively from the one it reads), on the
/// checker's own threads and, written in reverse order, on the main thread too.
#[test]
fn seventeen_thousand_chained_lets_check_without_overflowing_the_stack() {
    let forward: String = std::iter::once("let l0 = 1\n".to_string())
        .chain((1..17_000).map(|i| format!("let l{i} = l{}\n", i - 1)))
        .chain(["output o = l16999\n".to_string()])
        .collect();
    assert_eq!(check(forward), Vec::<String>::new());
    let backward: String = std::iter::once("output o = l0\n".to_string())
        .chain((0..16_999).map(|i| format!("let l{i} = l{}\n", i + 1)))
        .chain(["let l16999 = 1\n".to_string()])
        .collect();
    assert_eq!(check(backward), Vec::<String>::new());
    // A cycle inside a long chain is still reported, not typed as anything.
    let cycle: String =
        (0..5_000).map(|i| format!("let c{i} = c{}\n", (i + 1) % 5_000)).chain(["output o = c0\n".into()]).collect();
    assert!(check(cycle).contains(&"E0500".to_string()));
}

/// Bug: `infra fmt` panicked ("Formatting argument out of range") aligning `=` after a
/// name of 65,532 characters: `format!` widths stop at 65,535.
#[test]
fn formatting_a_sixty_five_thousand_character_name_does_not_panic() {
    let name = "a".repeat(65_532);
    let text = format!("let {name} = 1\nlet b = 2\noutput o = {name} + b\n");
    let formatted = infra_compiler::fmt::format_source(infra_compiler::FileId(0), &text).expect("formats");
    let again = infra_compiler::fmt::format_source(infra_compiler::FileId(0), &formatted).expect("formats");
    assert!(formatted == again, "formatting is not stable");
    let block = format!("resource null.resource r {{\n  input = {{\n    {name} = 1\n    b = 2\n  }}\n}}\n");
    let formatted = infra_compiler::fmt::format_source(infra_compiler::FileId(0), &block).expect("formats");
    assert!(formatted.contains(&format!("    b{} = 2", " ".repeat(65_531))), "b is aligned with the long key");
}
