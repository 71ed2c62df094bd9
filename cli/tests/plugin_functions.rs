//! Functions a plugin defines, called as `NAME::FUNCTION(...)`: the real
//! terraform-provider-workato 0.16.0 defines `asset_id`, `resolve_manifest_refs` and
//! `rewrite_recipe_providers`, which need no provider configuration and no API.

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{run as infra, text, write_module};

const PLUGIN: &str = "plugin workato {\n  source  = \"local/workato\"\n  version = \"0.16.0\"\n}\n";

fn init(dir: &Path) {
    let mirror = workato::mirror();
    common::ok(dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
}

#[test]
fn a_plugins_functions_are_called_from_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_module(
        dir,
        &format!(
            r#"{PLUGIN}
resource null.resource r {{
  input = workato::asset_id("MCP/create_issue.recipe.json")
}}

output id = r.input
output tree = workato::resolve_manifest_refs(jsonencode({{ a = {{ zip_name = "X/y.recipe.json" }} }}), {{ y = "123" }}, {{}})
"#
        ),
    );
    init(dir);
    common::ok(dir, &["check"]);
    let formatted = infra(dir, &["fmt", "--check"]);
    assert!(formatted.status.success(), "`NAME::FUNCTION(...)` is formatted as written: {}", text(&formatted));

    // `INFRA_LOG` is the plugin's log level, `INFRA_LOG_PATH` where its log goes. (The
    // SDK logs each call at trace level.)
    let applied = common::command(dir, &["apply", "--auto-approve"])
        .env("INFRA_LOG", "trace")
        .env("INFRA_LOG_PATH", "debug.log")
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", text(&applied));
    let printed = text(&applied);
    let log = std::fs::read_to_string(dir.join("debug.log")).unwrap_or_default();
    assert!(log.contains("CallFunction"), "the plugin logged its calls at trace level:\n{log}");
    assert!(!printed.contains("CallFunction"), "never mixed into the output: {printed}");
    assert!(printed.contains(r#"+ input  = "create_issue""#), "the plan shows the plugin's answer: {printed}");
    assert!(printed.contains(r#"id = "create_issue""#), "{printed}");
    assert!(printed.contains(r#"tree = "{\"a\":\"123\"}""#), "{printed}");
    assert!(common::ok(dir, &["plan"]).contains("No changes."), "a function's result is stable");
    assert_eq!(workato::plugins_running_in(dir), 0, "the plugin started for the calls was stopped");
}

#[test]
fn bad_calls_of_a_plugins_functions_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_module(
        dir,
        &format!(
            "{PLUGIN}\noutput a = workato::asset_id()\noutput b = workato::asset_ix(\"x\")\noutput c = nope::f(1)\n"
        ),
    );
    init(dir);
    let checked = infra(dir, &["check"]);
    assert_eq!(checked.status.code(), Some(1));
    let printed = text(&checked);
    // Arity, from the cached signature, with the signature as the help.
    assert!(
        printed.contains("E0210") && printed.contains("`workato::asset_id` takes 1 argument, found 0"),
        "{printed}"
    );
    assert!(printed.contains("workato::asset_id(zip_name: string): string"), "{printed}");
    // A misspelt function of a known plugin is suggested; an unknown plugin says how to get one.
    assert!(printed.contains("did you mean `workato::asset_id`?"), "{printed}");
    assert!(printed.contains("unknown function `nope::f`") && printed.contains("run `infra init`"), "{printed}");

    // The plugin's own error, on the call.
    write_module(
        dir,
        &format!(
            "{PLUGIN}\noutput bad = workato::resolve_manifest_refs(jsonencode({{ a = {{ zip_name = \"X/z.recipe.json\" }} }}), {{}}, {{}})\n"
        ),
    );
    let applied = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(applied.status.code(), Some(1));
    let printed = text(&applied);
    assert!(printed.contains("E0600") && printed.contains("unresolved zip_name reference"), "{printed}");
    assert!(printed.contains("X/z.recipe.json"), "{printed}");
    assert_eq!(workato::plugins_running_in(dir), 0);
}
