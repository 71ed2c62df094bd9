//! No expression makes the evaluator or a built-in function panic, overflow or hang:
//! every built-in function is called with arguments drawn from awkward values.

use infra_compiler::Schemas;
use proptest::prelude::*;

/// Values that tend to break things: empty and huge, negative and fractional, Unicode,
/// nested, null, sensitive.
const ATOMS: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1",
    "2.5",
    "-0.5",
    "1e300",
    "-1e300",
    "4294967296",
    "9007199254740993",
    "\"\"",
    "\"a\"",
    "\"é🦀\"",
    "\"a,b,,c\"",
    "\"%\"",
    "\"%d %s %[9]v %*d\"",
    "\"10.0.0.0/8\"",
    "\"::/0\"",
    "\"255.255.255.255/32\"",
    "\"[\"",
    "\"(?P<x>a)\"",
    "\"{\\\"a\\\": [1, {}]}\"",
    "\"a: [\"",
    "\"/\"",
    "\"../..\"",
    "\"\\n\\n\"",
    "[]",
    "[1, 2, 3]",
    "[\"b\", \"a\"]",
    "[[1], [2, [3]]]",
    "[null]",
    "{}",
    "{ a = 1, b = \"x\" }",
    "{ a = [\"x\", \"y\"] }",
    "sensitive(\"s\")",
    "sensitive([1])",
    "toset([3, 1])",
];

fn function_names() -> Vec<String> {
    infra_stdlib::builtin().function_names().into_iter().map(str::to_string).collect()
}

fn call() -> impl Strategy<Value = String> {
    let names = function_names();
    (prop::sample::select(names), prop::collection::vec(prop::sample::select(ATOMS), 0..4))
        .prop_map(|(name, args)| format!("{name}({})", args.join(", ")))
}

/// Runs an evaluation on a thread with the default 2 MiB stack, so an overflow is
/// caught as a failed join rather than hidden by a big main stack.
fn evaluate(src: String) -> Result<String, String> {
    let shown = src.clone();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || infra_stdlib::testing::eval(&src).map(|v| v.to_string()))
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| format!("panicked evaluating {shown}"))?
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn function_calls_never_panic(src in call()) {
        let result = evaluate(src.clone());
        prop_assert!(result.is_ok() || !result.as_ref().is_err_and(|e| e.starts_with("panicked")), "{src}: {result:?}");
    }

    #[test]
    fn nested_calls_never_panic(outer in call(), inner in call()) {
        let src = outer.replacen('(', &format!("({inner}, "), 1);
        let result = evaluate(src.clone());
        prop_assert!(!result.as_ref().is_err_and(|e| e.starts_with("panicked")), "{src}: {result:?}");
    }
}

/// Each function once with each single awkward argument, exhaustively.
#[test]
fn every_function_with_every_single_atom() {
    let mut panics = Vec::new();
    for name in function_names() {
        for atom in ATOMS {
            for src in [format!("{name}({atom})"), format!("{name}({atom}, {atom})"), format!("{name}({atom}, 1, 1)")] {
                if let Err(e) = evaluate(src.clone()) {
                    if e.starts_with("panicked") {
                        panics.push(src);
                    }
                }
            }
        }
    }
    assert!(panics.is_empty(), "these calls panicked:\n{}", panics.join("\n"));
}
