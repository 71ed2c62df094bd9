//! A plugin's schema in `infra check`: learned by `infra init` from the real
//! terraform-provider-workato 0.16.0 over gRPC and cached beside the lock file, it makes
//! `workato.*` kinds known without starting the plugin; without it, `check` says to run
//! `infra init`.

mod common;
#[path = "support/workato.rs"]
mod workato;

use common::{fails, ok, write_module};

const DECLARED: &str = r#"plugin workato {
  source  = "local/workato"
  version = "0.16.0"
}

provider workato {
  base_url = "https://127.0.0.1:8443"
  api_key  = "secret"
}
"#;

const RESOURCES: &str = r#"
resource workato.project app {
  name = "app"
}

resource workato.folder reports {
  name      = "reports"
  folder_id = 101
}

output folder_created = reports.created_at
"#;

#[test]
fn without_a_cached_schema_check_says_to_run_init() {
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), &format!("{DECLARED}{RESOURCES}"));
    let printed = fails(module.path(), &["check"]);
    assert!(printed.contains("E0904") && printed.contains("plugin `workato` has no known schema"), "{printed}");
    assert!(printed.contains("main.infra:6:10"), "points at the provider: {printed}");
    assert!(printed.contains("run `infra init` to install the plugin and learn its schema"), "{printed}");
}

#[test]
fn with_the_cached_schema_check_knows_every_attribute_without_the_plugin() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), &format!("{DECLARED}{RESOURCES}"));
    ok(module.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    let cache: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(module.path().join(".infra/plugins/schemas.json")).unwrap())
            .unwrap();
    let cached = &cache["plugins"]["workato"];
    assert_eq!(cached["source"], "registry.terraform.io/local/workato");
    assert_eq!(cached["version"], "0.16.0");
    assert_eq!(cached["protocol"], 6);
    assert!(cached["schema"]["resources"]["workato_folder"].is_object());

    // The plugin is gone: `check` does not need it.
    std::fs::remove_dir_all(module.path().join(".infra/plugins/registry.terraform.io")).unwrap();
    ok(module.path(), &["check"]);

    // An unknown attribute, a missing required one and a wrong type.
    let broken = RESOURCES
        .replace("  name = \"app\"\n", "  name  = \"app\"\n  colour = \"red\"\n")
        .replace("  folder_id = 101\n", "  folder_id = [1]\n")
        .replace("  name      = \"reports\"\n", "");
    write_module(module.path(), &format!("{DECLARED}{broken}"));
    let printed = fails(module.path(), &["check"]);
    assert!(printed.contains("E0401") && printed.contains("`workato.project` has no attribute `colour`"), "{printed}");
    assert!(printed.contains("`workato.project` accepts `description`, `id`, `name`"), "{printed}");
    assert!(
        printed.contains("E0402") && printed.contains("`workato.folder` is missing required attribute `name`"),
        "{printed}"
    );
    assert!(printed.contains("E0300") && printed.contains("expected `number`, found `tuple([number])`"), "{printed}");
    assert!(printed.contains("main.infra:17:15"), "the wrong type's span: {printed}");
}

/// An attribute the plugin's schema marks deprecated is a warning (W0003) in `infra
/// check`, with the plugin's note as help, from the cached schema alone. (The plugin at
/// hand deprecates nothing, so the cache is edited as a newer version's would read.)
#[test]
fn a_deprecated_attribute_is_a_warning_with_the_plugins_note() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    let resources = RESOURCES.replace("  name = \"app\"\n", "  name        = \"app\"\n  description = \"old\"\n");
    write_module(module.path(), &format!("{DECLARED}{resources}"));
    ok(module.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    ok(module.path(), &["check", "--deny-warnings"]);

    let path = module.path().join(".infra/plugins/schemas.json");
    let mut cache: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let attributes = cache["plugins"]["workato"]["schema"]["resources"]["workato_project"]["block"]["attributes"]
        .as_array_mut()
        .unwrap();
    let description = attributes.iter_mut().find(|a| a["name"] == "description").unwrap();
    description["deprecated"] = serde_json::json!("set the description in Workato instead");
    std::fs::write(&path, serde_json::to_string(&cache).unwrap()).unwrap();

    let printed = ok(module.path(), &["check"]);
    assert!(
        printed.contains("W0003") && printed.contains("`description` of `workato.project` is deprecated"),
        "{printed}"
    );
    assert!(printed.contains("set the description in Workato instead"), "the plugin's note as help: {printed}");
    assert!(printed.contains("main.infra:13:3"), "points at the attribute: {printed}");
    let denied = fails(module.path(), &["check", "--deny-warnings"]);
    assert!(denied.contains("W0003"), "{denied}");
}

/// A cache written in another format (one from before functions were cached has no
/// `format`) is not trusted: `check` says to run `infra init`, which learns the schema
/// again from the plugin rather than reusing the old cache.
#[test]
fn a_cache_of_another_format_is_learned_again() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), &format!("{DECLARED}{RESOURCES}"));
    ok(module.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    let path = module.path().join(".infra/plugins/schemas.json");
    let mut cache: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(cache["format"], 1);
    assert!(cache["plugins"]["workato"]["schema"]["functions"].is_object());
    let plugins = cache.as_object_mut().unwrap();
    plugins.remove("format");
    std::fs::write(&path, serde_json::to_string(&cache).unwrap()).unwrap();

    let printed = fails(module.path(), &["check"]);
    assert!(printed.contains("E0904") && printed.contains("run `infra init`"), "{printed}");
    let printed = ok(module.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    assert!(printed.contains("schema learned over plugin protocol 6"), "learned from the plugin: {printed}");
    ok(module.path(), &["check"]);
}

/// Once its schema is cached, `plan` runs the plugin: `PlanResourceChange` needs no API,
/// so the plan shows the creates with what the plugin computes as unknown.
#[test]
fn plan_runs_the_plugin_once_its_schema_is_cached() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), &format!("{DECLARED}{RESOURCES}"));
    ok(module.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    let printed = ok(module.path(), &["plan"]);
    assert!(printed.contains("+ workato.folder reports {"), "{printed}");
    assert!(printed.contains("+ workato.project app {"), "{printed}");
    assert!(printed.contains("created_at") && printed.contains("(known after apply)"), "{printed}");
    assert!(!printed.contains("forces replacement"), "a create replaces nothing: {printed}");
    assert!(printed.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{printed}");
    assert!(!printed.contains("secret"), "the API key is not printed: {printed}");
    assert!(module.path().join(".infra/plugins/logs/workato.log").exists(), "the plugin logs beside the module");
}

/// The language server reads the same cache: its diagnostics know the plugin's
/// attributes, and hover shows the descriptions the plugin gave.
#[test]
fn the_language_server_knows_the_cached_schema() {
    use common::lsp_client::{uri, Client};
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path().canonicalize().unwrap();
    let text = format!("{DECLARED}{RESOURCES}").replace("  name = \"app\"\n", "  name = \"app\"\n  colour = \"red\"\n");
    write_module(&dir, &text);
    ok(&dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    let file = dir.join("main.infra");
    let mut client = Client::start(std::path::Path::new(env!("CARGO_BIN_EXE_infra")), &dir);
    client.open(&file, &text);
    let diagnostics = client.diagnostics_for(&file);
    let codes: Vec<&str> = diagnostics.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["E0401"], "only the unknown attribute: {diagnostics:?}");

    let offset = text.find("folder_id").unwrap() + 2;
    let line = text[..offset].matches('\n').count();
    let character = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let params = serde_json::json!({
        "textDocument": { "uri": uri(&file) },
        "position": { "line": line, "character": character },
    });
    let hover = client.request("textDocument/hover", params);
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("Parent folder ID. Use the Home folder ID as root."), "{hover}");
    assert_eq!(client.shutdown(), 0);
}

/// Regression: a `plugin` declaration edited after `infra init` was not checked against
/// `.infra.lock`: with `source = "someone/other"`, `version = "9.9.9"` or `">= 0.17"`,
/// `check` said ok and `plan` ran the plugin installed before. Both now refuse, on the
/// edited setting, saying which `infra init` to run (as Terraform does: "locked provider
/// ... does not match configured version constraint").
#[test]
fn a_declaration_edited_since_init_is_refused_until_init_runs_again() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path();
    write_module(dir, &format!("{DECLARED}{RESOURCES}"));
    ok(dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    ok(dir, &["check"]);

    write_module(dir, &format!("{DECLARED}{RESOURCES}").replace("\"local/workato\"", "\"someone/other\""));
    for command in ["check", "plan"] {
        let printed = fails(dir, &[command]);
        assert!(
            printed.contains("E0919")
                && printed
                    .contains("plugin `workato` declares `registry.terraform.io/someone/other`, which is not locked"),
            "{command}: {printed}"
        );
        assert!(printed.contains("main.infra:2:13"), "{command} points at the source: {printed}");
        assert!(printed.contains("run `infra init` to install the plugin"), "{command}: {printed}");
        assert!(printed.contains("registry.terraform.io/local/workato 0.16.0"), "{command} says what is: {printed}");
        assert!(!printed.contains("Plan:") && !printed.contains("No changes"), "{command} ran nothing: {printed}");
    }

    for version in ["9.9.9", ">= 0.17"] {
        write_module(dir, &format!("{DECLARED}{RESOURCES}").replace("\"0.16.0\"", &format!("\"{version}\"")));
        for command in ["check", "plan"] {
            let printed = fails(dir, &[command]);
            assert!(
                printed.contains("E0912") && printed.contains("selects registry.terraform.io/local/workato 0.16.0"),
                "{command} with {version}: {printed}"
            );
            assert!(printed.contains("main.infra:3:13"), "{command} points at the version: {printed}");
            assert!(printed.contains("infra init --upgrade"), "{command}: {printed}");
            assert!(!printed.contains("Plan:") && !printed.contains("No changes"), "{command}: {printed}");
        }
    }

    // The declaration as it was locked runs again.
    write_module(dir, &format!("{DECLARED}{RESOURCES}"));
    ok(dir, &["check"]);
    assert!(ok(dir, &["plan"]).contains("Plan: 2 to add"));

    // A lock file that selects another version than the one installed (edited, or
    // brought from elsewhere) is refused too.
    let lock_path = dir.join(".infra.lock");
    let locked = std::fs::read_to_string(&lock_path).unwrap();
    std::fs::write(&lock_path, locked.replace("\"version\": \"0.16.0\"", "\"version\": \"0.17.0\"")).unwrap();
    write_module(dir, &format!("{DECLARED}{RESOURCES}").replace("\"0.16.0\"", "\">= 0.16\""));
    let printed = fails(dir, &["plan"]);
    assert!(
        printed.contains("E0919")
            && printed.contains("the installed plugin `workato` is not the one `.infra.lock` selects"),
        "{printed}"
    );
    assert!(printed.contains("`.infra.lock` selects 0.17.0; 0.16.0 is installed"), "{printed}");
    assert!(printed.contains("run `infra init` to install the locked plugin"), "{printed}");
}

/// The plugin's log as a run leaves it, with the level variables the test does not set
/// removed from the environment.
fn plan_logging(dir: &std::path::Path, level: &[(&str, &str)]) -> u64 {
    let log = dir.join(".infra/plugins/logs/workato.log");
    let before = std::fs::metadata(&log).map_or(0, |meta| meta.len());
    let mut plan = common::command(dir, &["plan"]);
    for name in ["INFRA_LOG", "INFRA_LOG_PATH", "TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO"] {
        plan.env_remove(name);
    }
    let output = plan.envs(level.iter().copied()).output().unwrap();
    assert!(output.status.success(), "{}", common::text(&output));
    std::fs::metadata(&log).map_or(0, |meta| meta.len()).saturating_sub(before)
}

/// Regression: a plan with no log level set appended about 54 kB of the SDK's trace
/// lines to the plugin's log (`INFRA_LOG=error` and `TF_LOG=error` changed nothing), to a
/// file readable by everyone that grew without bound. Now the plugin logs warnings only
/// unless asked, its log is its owner's, and a log over the limit is moved aside.
#[test]
fn a_plugins_log_is_quiet_unless_asked_private_and_bounded() {
    use std::os::unix::fs::PermissionsExt;
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path();
    write_module(dir, &format!("{DECLARED}{RESOURCES}"));
    ok(dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    let log = dir.join(".infra/plugins/logs/workato.log");

    for quiet in [&[][..], &[("INFRA_LOG", "error")], &[("TF_LOG", "error")]] {
        let grown = plan_logging(dir, quiet);
        assert!(grown < 2048, "a plan with {quiet:?} wrote {grown} bytes to the log");
    }
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log may hold request data");

    // Asked for, the plugin logs every call.
    let grown = plan_logging(dir, &[("INFRA_LOG", "trace")]);
    assert!(grown > 10_000, "trace level wrote {grown} bytes");
    assert!(std::fs::read_to_string(&log).unwrap().contains("PlanResourceChange"));

    // A log over the limit is moved aside as the next plugin starts.
    let limit = infra_provider_plugin::logs::LOG_LIMIT;
    std::fs::write(&log, vec![b'.'; limit as usize + 1]).unwrap();
    plan_logging(dir, &[]);
    assert!(std::fs::metadata(&log).unwrap().len() < 2048, "a new log is started");
    let moved = dir.join(".infra/plugins/logs/workato.log.1");
    assert_eq!(std::fs::metadata(&moved).unwrap().len(), limit + 1, "the old one is kept once");
}

/// Regression: `plan` checked only the root module's `plugin` declarations against
/// `.infra.lock` (`check` checked them all), so a declaration edited since `infra init`
/// in a called module ran the plugin installed before.
#[test]
fn a_called_modules_declaration_edited_since_init_is_refused_by_plan_too() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path();
    let child = dir.join("child");
    std::fs::create_dir_all(&child).unwrap();
    write_module(dir, "module app \"./child\" {}\n");
    write_module(&child, &format!("{DECLARED}{RESOURCES}"));
    ok(dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    assert!(ok(dir, &["plan"]).contains("Plan: 2 to add"));

    write_module(&child, &format!("{DECLARED}{RESOURCES}").replace("\"local/workato\"", "\"someone/other\""));
    for command in ["check", "plan"] {
        let printed = fails(dir, &[command]);
        assert!(printed.contains("E0919") && printed.contains("someone/other"), "{command}: {printed}");
        assert!(printed.contains("child/main.infra:2:13"), "{command} points at the source: {printed}");
        assert!(!printed.contains("Plan:") && !printed.contains("No changes"), "{command} ran nothing: {printed}");
    }
}
