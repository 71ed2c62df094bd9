//! The evaluation corpus: every `tests/data/eval/*.infra` file is a module whose `let`s
//! carry their expected value in a trailing comment, `# => VALUE` (the value as
//! `infra console` prints it) or `# => error CODE`. Inputs take their defaults.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use infra_compiler::resolve::DeclKind;
use infra_compiler::MemoryLoader;
use infra_runtime::eval::Globals;
use infra_runtime::inputs::{resolve_inputs, InputContext};
use infra_runtime::module::ModuleScope;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/eval");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "infra")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// `(line number, expectation)` for every `# =>` comment.
fn expectations(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| line.split_once("# => ").map(|(_, want)| (i, want.trim().to_string())))
        .collect()
}

/// Checks one file; returns the failures and the error codes it expected.
fn run(path: &Path) -> (Vec<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
    let mut loader = MemoryLoader::new();
    loader.insert(Path::new("m").join(&name), text.clone());
    let stdlib = infra_stdlib::builtin();
    let analysis = infra_compiler::analyze(Path::new("m"), &loader, stdlib);
    let errors: Vec<String> =
        analysis.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{} {}", d.code, d.message)).collect();
    if !errors.is_empty() {
        return (vec![format!("{name}: does not check: {errors:?}")], BTreeSet::new());
    }
    let module = &analysis.modules[0];
    let env = |_: &str| None;
    let context = InputContext { module, functions: stdlib, schemas: stdlib, env: &env };
    let inputs = match resolve_inputs(&context, &[], &mut |_, _| None) {
        Ok(inputs) => inputs,
        Err(diagnostics) => return (vec![format!("{name}: inputs: {:?}", diagnostics[0].message)], BTreeSet::new()),
    };
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let file = &analysis.sources.get(infra_compiler::FileId(0));
    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();
    let wanted = expectations(&text);
    assert!(!wanted.is_empty(), "{name} has no `# =>` expectations");
    for (line, want) in wanted {
        let decl = module
            .decls
            .iter()
            .find(|(_, d)| d.kind == DeclKind::Let && file.line_col(module.item(d.item).span().end).0 == line);
        let Some((let_name, decl)) = decl else {
            failures.push(format!("{name}:{}: no `let` ends on this line", line + 1));
            continue;
        };
        let got = match scope.value(let_name, decl.name_span) {
            Some(Ok(value)) => value.to_string(),
            Some(Err(diagnostic)) => format!("error {}", diagnostic.code),
            None => "undefined".to_string(),
        };
        if let Some(code) = want.strip_prefix("error ") {
            codes.insert(code.to_string());
        }
        if got != want {
            failures.push(format!("{name}:{}: `{let_name}` is {got}, expected {want}", line + 1));
        }
    }
    (failures, codes)
}

#[test]
fn every_let_evaluates_to_its_expected_value() {
    let files = corpus();
    assert!(!files.is_empty(), "no evaluation corpus");
    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();
    for path in &files {
        let (file_failures, file_codes) = run(path);
        failures.extend(file_failures);
        codes.extend(file_codes);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every evaluation error raised by expressions has a case (input errors are
    // tested in `inputs.rs`).
    for code in ["E0600", "E0601", "E0602", "E0603", "E0604"] {
        assert!(codes.contains(code), "no evaluation case expects {code}");
    }
}
