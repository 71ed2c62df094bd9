//! Every function the checker knows has an implementation, and nothing is implemented
//! that the checker would reject.

use infra_compiler::Schemas;

/// Evaluated by the evaluator itself, not by the library.
const SPECIAL_FORMS: &[&str] = &["can", "issensitive", "nonsensitive", "sensitive", "try"];

#[test]
fn signatures_and_implementations_agree() {
    let declared: Vec<&str> =
        infra_stdlib::builtin().function_names().into_iter().filter(|n| !SPECIAL_FORMS.contains(n)).collect();
    let implemented = infra_stdlib::library::implemented();
    let missing: Vec<&&str> = declared.iter().filter(|n| !implemented.contains(n)).collect();
    let undeclared: Vec<&&str> = implemented.iter().filter(|n| !declared.contains(n)).collect();
    assert!(missing.is_empty(), "declared but not implemented: {missing:?}");
    assert!(undeclared.is_empty(), "implemented but not declared: {undeclared:?}");
}

#[test]
fn every_function_is_documented() {
    let docs: String = ["strings", "numbers", "collections", "encoding", "hashing", "network", "files", "time"]
        .iter()
        .filter_map(|part| {
            std::fs::read_to_string(format!("{}/../docs/functions/{part}.md", env!("CARGO_MANIFEST_DIR"))).ok()
        })
        .collect();
    let undocumented: Vec<&str> = infra_stdlib::builtin()
        .function_names()
        .into_iter()
        .filter(|name| !SPECIAL_FORMS.contains(name) && !docs.contains(&format!("`{name}(")))
        .collect();
    assert!(undocumented.is_empty(), "not in docs/functions/: {undocumented:?}");
}
