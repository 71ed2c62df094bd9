//! Expanding repetition clauses into keyed instances, and the errors when the keys are
//! not known at plan time.

use std::path::Path;

use infra_compiler::syntax::ast::Item;
use infra_compiler::MemoryLoader;
use infra_runtime::expand::expand;
use infra_runtime::inputs::{resolve_inputs, InputContext};
use infra_runtime::module::ModuleScope;

/// Expands the resource `r` of `source`; returns the instance keys as printed (with
/// their bindings) or the error's code, message and help.
fn instances(source: &str) -> Result<Vec<String>, String> {
    let mut loader = MemoryLoader::new();
    loader.insert("m/main.infra", source);
    let stdlib = infra_stdlib::builtin();
    let analysis = infra_compiler::analyze(Path::new("m"), &loader, stdlib);
    let errors: Vec<&str> = analysis.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.as_str()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let module = &analysis.modules[0];
    let env = |_: &str| None;
    let context = InputContext { module, functions: stdlib, schemas: stdlib, env: &env };
    let inputs = resolve_inputs(&context, &[], &mut |_, _| None).unwrap_or_else(|d| panic!("{d:?}"));
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let decl = module.decl("r").unwrap_or_else(|| panic!("no resource `r`"));
    let Item::Resource(resource) = module.item(decl.item) else { panic!("`r` is not a resource") };
    match expand(&scope, resource.repeat.as_ref()) {
        Ok(instances) => Ok(instances
            .iter()
            .map(|i| {
                let key = i.key.as_ref().map_or("-".to_string(), ToString::to_string);
                let bindings: Vec<String> = i.bindings.iter().map(|(n, v)| format!("{n}={v}")).collect();
                format!("{key} {}", bindings.join(" ")).trim_end().to_string()
            })
            .collect()),
        Err(d) => Err(format!("{} {} / {}", d.code, d.message, d.help.unwrap_or_default())),
    }
}

#[test]
fn numbers_key_by_position_and_strings_by_value() {
    assert_eq!(
        instances("resource null.resource r for i in range(3) {}"),
        Ok(vec!["[0] i=0".into(), "[1] i=1".into(), "[2] i=2".into()])
    );
    assert_eq!(
        instances("resource null.resource r for z in [\"b\", \"a\"] {}"),
        Ok(vec!["[\"b\"] z=\"b\"".into(), "[\"a\"] z=\"a\"".into()])
    );
    assert_eq!(
        instances("resource null.resource r for i, z in [\"b\", \"a\"] {}"),
        Ok(vec!["[\"b\"] i=0 z=\"b\"".into(), "[\"a\"] i=1 z=\"a\"".into()])
    );
}

#[test]
fn maps_key_by_map_key_and_key_clauses_by_their_value() {
    assert_eq!(
        instances("resource null.resource r for k, v in { web = 2, db = 1 } {}"),
        Ok(vec!["[\"db\"] k=\"db\" v=1".into(), "[\"web\"] k=\"web\" v=2".into()])
    );
    let servers = "let servers = [{ name = \"a\", size = 1 }, { name = \"b\", size = 2 }]\n";
    assert_eq!(
        instances(&format!("{servers}resource null.resource r for s in servers key s.name {{}}")),
        Ok(vec!["[\"a\"] s={ name = \"a\", size = 1 }".into(), "[\"b\"] s={ name = \"b\", size = 2 }".into()])
    );
}

#[test]
fn if_gives_zero_or_one_unkeyed_instance() {
    assert_eq!(instances("resource null.resource r if 1 > 0 {}"), Ok(vec!["-".into()]));
    assert_eq!(instances("resource null.resource r if false {}"), Ok(vec![]));
    assert_eq!(instances("resource null.resource r {}"), Ok(vec!["-".into()]));
}

#[test]
fn duplicate_keys_are_an_error() {
    let result = instances("resource null.resource r for z in [\"a\", \"a\"] {}");
    assert!(result.as_ref().is_err_and(|e| e.starts_with("E0609 two instances have the key [\"a\"]")), "{result:?}");
    let keyed = "resource null.resource r for n in [1, 2] key \"same\" {}";
    assert!(instances(keyed).is_err_and(|e| e.contains("make the `key` expression unique")));
}

#[test]
fn unknown_keys_name_their_origin() {
    let source = "resource null.resource ids for i in range(2) {}\nlet names = ids[*].id\nresource null.resource r for n in names {}";
    let result = instances(source);
    assert!(
        result.as_ref().is_err_and(|e| e.starts_with("E0608 the collection of `for` is not known at plan time")
            && e.contains("apply `ids` first with `--target ids`")),
        "{result:?}"
    );
    let condition = "resource null.resource gate {}\nresource null.resource r if gate.id != \"\" {}";
    assert!(instances(condition).is_err_and(|e| e.contains("the `if` condition is not known") && e.contains("`gate`")));
}
