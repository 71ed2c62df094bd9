//! Input values: sources and their precedence (default < `INFRA_VAR_*` < var files <
//! `--var`), conversion to the declared type, sensitivity, missing inputs and checks.

use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::syntax::parse_var_file;
use infra_compiler::{FileId, MemoryLoader};
use infra_runtime::inputs::{resolve_inputs, GivenText, GivenValue, InputContext, Origin};
use infra_runtime::Value;

const MODULE: &str = r#"
input region: string = "default-region"
input count: number = 1 {
  check count >= 1 && count <= 5, "count must be between 1 and 5, not ${count}"
}
input ports: list(number) = [80]
input password: string {
  sensitive = true
}
output summary = "${region} ${count} ${length(ports)} ${length(password)}"
"#;

fn flag(name: &str, value: &str) -> GivenValue {
    GivenValue { name: name.into(), value: GivenText::Text(value.into()), origin: Origin::Flag }
}

fn var_file(text: &str) -> Vec<GivenValue> {
    let attributes = parse_var_file(FileId(7), text).unwrap_or_else(|d| panic!("var file does not parse: {d:?}"));
    attributes
        .into_iter()
        .map(|a| GivenValue {
            name: a.name.name.to_string(),
            origin: Origin::VarFile(a.span),
            value: GivenText::Expr(a.value),
        })
        .collect()
}

fn resolve(given: &[GivenValue], env: &[(&str, &str)]) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
    let mut loader = MemoryLoader::new();
    loader.insert("m/main.infra", MODULE);
    let stdlib = infra_stdlib::builtin();
    let analysis = infra_compiler::analyze(Path::new("m"), &loader, stdlib);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let context = InputContext { module: &analysis.modules[0], functions: stdlib, schemas: stdlib, env: &lookup };
    resolve_inputs(&context, given, &mut |_, _| None)
}

fn shown(values: &BTreeMap<String, Value>, name: &str) -> String {
    values.get(name).map(Value::to_string).unwrap_or_default()
}

fn codes(result: Result<BTreeMap<String, Value>, Vec<Diagnostic>>) -> Vec<String> {
    match result {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.iter().map(|d| d.code.to_string()).collect(),
    }
}

#[test]
fn defaults_apply_when_nothing_is_given() {
    let values = resolve(&[flag("password", "pw")], &[]).expect("resolves");
    assert_eq!(shown(&values, "region"), "\"default-region\"");
    assert_eq!(shown(&values, "count"), "1");
    assert_eq!(shown(&values, "ports"), "[80]");
}

#[test]
fn environment_beats_default_and_var_file_beats_environment_and_flag_beats_all() {
    let env = [("INFRA_VAR_region", "from-env"), ("INFRA_VAR_count", "2"), ("INFRA_VAR_password", "pw")];
    let values = resolve(&[], &env).expect("resolves");
    assert_eq!(shown(&values, "region"), "\"from-env\"");
    assert_eq!(shown(&values, "count"), "2");

    let mut given = var_file("region = \"from-file\"\ncount = 3\n");
    let values = resolve(&given, &env).expect("resolves");
    assert_eq!(shown(&values, "region"), "\"from-file\"");
    assert_eq!(shown(&values, "count"), "3");

    given.push(flag("region", "from-flag"));
    let values = resolve(&given, &env).expect("resolves");
    assert_eq!(shown(&values, "region"), "\"from-flag\"");
    assert_eq!(shown(&values, "count"), "3", "a flag for one input leaves the others alone");
}

#[test]
fn later_sources_of_the_same_kind_win() {
    let mut given = var_file("count = 2\n");
    given.extend(var_file("count = 4\n"));
    given.push(flag("region", "first"));
    given.push(flag("region", "second"));
    given.push(flag("password", "pw"));
    let values = resolve(&given, &[]).expect("resolves");
    assert_eq!(shown(&values, "count"), "4");
    assert_eq!(shown(&values, "region"), "\"second\"");
}

#[test]
fn text_values_are_read_by_the_declared_type() {
    let given = [flag("ports", "[80, 443]"), flag("count", "3"), flag("region", "[not a list]"), flag("password", "p")];
    let values = resolve(&given, &[]).expect("resolves");
    assert_eq!(shown(&values, "ports"), "[80, 443]");
    assert_eq!(shown(&values, "count"), "3");
    assert_eq!(shown(&values, "region"), "\"[not a list]\"", "a string input takes the text as is");
}

#[test]
fn sensitive_inputs_are_marked() {
    let values = resolve(&[flag("password", "hunter2")], &[]).expect("resolves");
    assert_eq!(shown(&values, "password"), "(sensitive value)");
    assert!(values["password"].sensitive);
}

#[test]
fn wrong_types_unknown_names_and_unparsable_values_are_errors() {
    assert_eq!(codes(resolve(&[flag("password", "p"), flag("ports", "[80, \"http\"]")], &[])), ["E0605"]);
    assert_eq!(codes(resolve(&[flag("password", "p"), flag("count", "many")], &[])), ["E0605"]);
    assert_eq!(codes(resolve(&[flag("password", "p"), flag("regoin", "x")], &[])), ["E0605"]);
    assert_eq!(codes(resolve(&[flag("password", "p"), flag("ports", "[80,")], &[])), ["E0605"]);
    let message = match resolve(&[flag("password", "p"), flag("regoin", "x")], &[]) {
        Err(diagnostics) => format!("{} / {:?}", diagnostics[0].message, diagnostics[0].help),
        Ok(_) => String::new(),
    };
    assert!(message.contains("regoin") && message.contains("did you mean `region`?"), "{message}");
}

#[test]
fn a_missing_required_input_is_named() {
    let result = resolve(&[], &[]);
    assert_eq!(codes(resolve(&[], &[])), ["E0606"]);
    let Err(diagnostics) = result else { return };
    assert!(diagnostics[0].message.contains("`password`"), "{}", diagnostics[0].message);
    assert!(diagnostics[0].help.as_deref().unwrap_or("").contains("INFRA_VAR_password"));
}

#[test]
fn input_checks_run_on_the_given_values() {
    assert_eq!(codes(resolve(&[flag("password", "p"), flag("count", "9")], &[])), ["E0607"]);
    let Err(diagnostics) = resolve(&[flag("password", "p"), flag("count", "0")], &[]) else {
        panic!("count = 0 passed its check");
    };
    assert!(diagnostics[0].message.contains("count must be between 1 and 5, not 0"), "{}", diagnostics[0].message);
    assert!(resolve(&[flag("password", "p"), flag("count", "5")], &[]).is_ok());
}

/// Regression: a sensitive input's value never appears in an error about it.
#[test]
fn errors_about_sensitive_inputs_do_not_quote_the_value() {
    for value in ["hunter2", "\"hunter2\"", "[\"hunter2\"]", "hunter-2"] {
        let text = secret_number_errors(value);
        assert!(!text.is_empty(), "{value} was accepted as a number");
        assert!(!text.contains("hunter"), "{value} leaked: {text}");
    }
}

fn secret_number_errors(value: &str) -> String {
    let mut loader = MemoryLoader::new();
    loader.insert("s/main.infra", "input pin: number {\n  sensitive = true\n}\n");
    let stdlib = infra_stdlib::builtin();
    let analysis = infra_compiler::analyze(Path::new("s"), &loader, stdlib);
    let env = |_: &str| None;
    let context = InputContext { module: &analysis.modules[0], functions: stdlib, schemas: stdlib, env: &env };
    match resolve_inputs(&context, &[flag("pin", value)], &mut |_, _| None) {
        Err(diagnostics) => diagnostics.iter().map(|d| format!("{} {:?} {:?}", d.message, d.help, d.notes)).collect(),
        Ok(_) => String::new(),
    }
}
