//! Planning the root module with the built-in providers, against real files: creates,
//! no-ops, updates, replacements, deletions, drift and data sources.

use std::path::Path;

use infra_compiler::FsLoader;
use infra_runtime::address::Address;
use infra_runtime::diff::Action;
use infra_runtime::inputs::{resolve_inputs, InputContext};
use infra_runtime::module::ModuleScope;
use infra_runtime::plan::{plan, Plan, PlanContext, Selection};
use infra_runtime::provider::{Attributes, ProviderContext};
use infra_runtime::state::{Instance, Mode, State};

/// Plans `source` as the module in `dir` against `state`.
async fn plan_module(dir: &Path, source: &str, state: &State) -> Result<Plan, Vec<String>> {
    std::fs::write(dir.join("main.infra"), source).expect("write module");
    let stdlib = infra_stdlib::builtin();
    let analysis = infra_compiler::analyze(dir, &FsLoader, stdlib);
    let errors: Vec<String> = analysis.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let module = &analysis.modules[0];
    let env = |_: &str| None;
    let context = InputContext { module, functions: stdlib, schemas: stdlib, env: &env };
    let inputs = resolve_inputs(&context, &[], &mut |_, _| None).expect("inputs");
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let providers = infra_stdlib::providers::factories();
    let context = PlanContext {
        scope: &scope,
        modules: &analysis.modules,
        graphs: &analysis.graphs,
        state,
        providers: &providers,
        refresh: true,
        selection: Selection::default(),
        imports: Vec::new(),
        exiting: false,
    };
    plan(&context).await.map_err(|errors| errors.iter().map(|d| format!("{} {}", d.code, d.message)).collect())
}

fn actions(plan: &Plan) -> Vec<String> {
    plan.instances.iter().map(|i| format!("{} {}", i.diff.action.symbol(), i.address)).collect()
}

/// Creates `local.file` `name` for real, as an apply would, and records it in `state`.
async fn create_file(dir: &Path, state: &mut State, name: &str, path: &str, content: &str) {
    let context = ProviderContext { module_dir: dir.to_path_buf() };
    let provider =
        infra_stdlib::providers::local::factory().configure(&Attributes::new(), &context).expect("configure");
    let config: Attributes = [
        ("path".to_string(), infra_runtime::Value::string(path)),
        ("content".to_string(), infra_runtime::Value::string(content)),
    ]
    .into_iter()
    .collect();
    let planned = provider.plan("file", None, &config).expect("plan");
    let created = provider.create("file", &planned).await.expect("create");
    let instance = Instance::new(Mode::Managed, "local.file", "local").with_attributes(created);
    state.instances.insert(Address::new(name, None), instance);
}

#[tokio::test]
async fn a_fresh_state_plans_every_instance_for_creation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = r#"
resource null.resource copies for i in range(2) {
  input = note.id
}
resource local.file note {
  path    = "out/note.txt"
  content = "hello"
}
output first = copies[0].output
"#;
    let plan = plan_module(dir.path(), source, &State::new()).await.expect("plans");
    assert_eq!(actions(&plan), ["+ copies[0]", "+ copies[1]", "+ note"]);
    // `local.file` knows a file's id (the SHA-1 of its content) at plan time, so the
    // copies' input and the output are known before anything is applied.
    let first = plan.outputs["first"].to_string();
    assert_eq!(first, "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\"");
    assert!(!dir.path().join("out/note.txt").exists(), "planning creates nothing");
}

#[tokio::test]
async fn no_change_update_replace_and_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = State::new();
    create_file(dir.path(), &mut state, "note", "out/note.txt", "hello").await;

    let same = "resource local.file note {\n  path    = \"out/note.txt\"\n  content = \"hello\"\n}\n";
    assert_eq!(actions(&plan_module(dir.path(), same, &state).await.expect("plans")), ["  note"]);

    let edited = same.replace("hello", "goodbye");
    let plan = plan_module(dir.path(), &edited, &state).await.expect("plans");
    assert_eq!(actions(&plan), ["~ note"]);
    let changed: Vec<&str> = plan.instances[0].diff.changes().map(|c| c.name.as_str()).collect();
    assert!(changed.contains(&"content") && changed.contains(&"id"), "{changed:?}");

    let moved = same.replace("out/note.txt", "out/moved.txt");
    let plan = plan_module(dir.path(), &moved, &state).await.expect("plans");
    assert_eq!(actions(&plan), ["-/+ note"]);
    assert_eq!(plan.instances[0].diff.replacement_reasons(), ["path"]);

    let plan = plan_module(dir.path(), "let _nothing = 1\n", &state).await.expect("plans");
    assert_eq!(actions(&plan), ["- note"]);
}

#[tokio::test]
async fn changes_made_outside_are_drift() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = State::new();
    create_file(dir.path(), &mut state, "note", "out/note.txt", "hello").await;
    let source = "resource local.file note {\n  path    = \"out/note.txt\"\n  content = \"hello\"\n}\n";

    std::fs::write(dir.path().join("out/note.txt"), "edited by hand").expect("edit");
    let plan = plan_module(dir.path(), source, &state).await.expect("plans");
    assert_eq!(actions(&plan), ["~ note"], "the edit is drift, and apply puts the content back");
    assert!(plan.instances[0].drifted_from.is_some());

    std::fs::remove_file(dir.path().join("out/note.txt")).expect("delete");
    let plan = plan_module(dir.path(), source, &state).await.expect("plans");
    assert_eq!(actions(&plan), ["+ note"], "a file deleted outside is created again");
}

#[tokio::test]
async fn data_sources_with_known_configuration_are_read_while_planning() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("version.txt"), "1.2.3").expect("write");
    let source = r#"
data local.file version {
  path = "version.txt"
}
resource null.resource release {
  input = "v${data_version}"
}
let data_version = version.content
output tag = release.output
"#;
    let plan = plan_module(dir.path(), source, &State::new()).await.expect("plans");
    assert_eq!(actions(&plan), ["+ release", "  version"]);
    assert_eq!(plan.outputs["tag"].to_string(), "\"v1.2.3\"");
}

#[tokio::test]
async fn keys_that_depend_on_apply_are_an_error_naming_their_origin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = r#"
resource random.id tag for i in range(2) {
  byte_length = 4
}
resource null.resource named for h in tag[*].hex {
  input = h
}
"#;
    let errors = plan_module(dir.path(), source, &State::new()).await.expect_err("keys are unknown");
    assert!(errors.iter().any(|e| e.starts_with("E0608")), "{errors:?}");
}

#[tokio::test]
async fn sensitive_values_are_marked_in_the_plan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = r#"
input token: string = "s3cret" {
  sensitive = true
}
resource null.resource holder {
  input = token
}
resource random.password db {
  length = 12
}
"#;
    let plan = plan_module(dir.path(), source, &State::new()).await.expect("plans");
    let holder = plan.instances.iter().find(|i| i.address.to_string() == "holder").expect("holder planned");
    assert!(holder.sensitive.contains("input"), "{:?}", holder.sensitive);
    let db = plan.instances.iter().find(|i| i.address.to_string() == "db").expect("db planned");
    assert!(db.sensitive.contains("result"), "{:?}", db.sensitive);
    assert_eq!(plan.changes().filter(|i| i.diff.action == Action::Create).count(), 2);
}
