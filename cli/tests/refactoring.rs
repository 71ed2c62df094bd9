//! Modules at run time, provider configurations, lifecycle rules, `moved`, `import`,
//! `forget` and checks, end to end through the binary with the built-in providers,
//! checking the real files and the state they leave.

use std::path::Path;

mod common;

use common::{fails, ok, outcome, write_module};

fn read(dir: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(path)).ok()
}

/// The plan's text from "Infra will perform" on: what the snapshots compare.
fn actions(text: &str) -> String {
    text.find("Infra will perform").map_or_else(|| text.to_string(), |i| text[i..].to_string())
}

fn state_list(dir: &Path) -> Vec<String> {
    ok(dir, &["state", "list"]).lines().map(str::to_string).collect()
}

const ENV_MODULE: &str = r#"
input name: string

resource local.file config {
  path    = "out/${name}.txt"
  content = "environment ${name}"
}

output path = config.path
"#;

fn environments(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir.join("env")).expect("mkdir");
    std::fs::write(dir.join("env/main.infra"), ENV_MODULE).expect("write module");
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    write_module(
        dir,
        &format!(
            "module env \"./env\" for name in [{}] {{\n  name = name\n}}\n\noutput paths = {{ for k, e in env : k => e.path }}\n",
            list.join(", ")
        ),
    );
}

#[test]
fn a_module_per_environment_then_one_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    environments(dir, &["dev", "staging", "prod"]);
    let applied = ok(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("3 added"), "{applied}");
    assert!(
        applied.contains(r#"paths = { dev = "out/dev.txt", prod = "out/prod.txt", staging = "out/staging.txt" }"#),
        "{applied}"
    );
    for name in ["dev", "staging", "prod"] {
        assert_eq!(read(dir, &format!("out/{name}.txt")), Some(format!("environment {name}")));
    }
    assert_eq!(state_list(dir), [r#"env["dev"].config"#, r#"env["prod"].config"#, r#"env["staging"].config"#]);
    let (code, _) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan has nothing to do");

    // Targeting one module instance plans only what is inside it.
    let targeted = ok(dir, &["plan", "--target", r#"env["prod"]"#, "--replace", r#"env["prod"].config"#]);
    insta::assert_snapshot!("module_target_replace", actions(&targeted));

    environments(dir, &["dev", "prod"]);
    let plan = ok(dir, &["plan"]);
    insta::assert_snapshot!("module_instance_removed", actions(&plan));
    let before = std::fs::metadata(dir.join("out/dev.txt")).and_then(|m| m.modified()).expect("mtime");
    let applied = ok(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("0 added, 0 changed, 1 destroyed"), "{applied}");
    assert_eq!(read(dir, "out/staging.txt"), None, "the removed instance's file is gone");
    assert_eq!(read(dir, "out/prod.txt").as_deref(), Some("environment prod"));
    let after = std::fs::metadata(dir.join("out/dev.txt")).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(before, after, "the other instances are untouched");
    assert_eq!(state_list(dir), [r#"env["dev"].config"#, r#"env["prod"].config"#]);

    ok(dir, &["destroy", "--auto-approve"]);
    assert!(state_list(dir).is_empty());
    assert_eq!(read(dir, "out/dev.txt"), None);
}

#[test]
fn a_module_input_of_the_wrong_type_is_reported_at_the_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("m")).expect("mkdir");
    std::fs::write(dir.join("m/main.infra"), "input port: number\n\noutput value = port\n").expect("write");
    write_module(
        dir,
        "input raw: string = \"eighty\"\n\nmodule m \"./m\" {\n  port = jsondecode(\"\\\"${raw}\\\"\")\n}\n",
    );
    let text = fails(dir, &["plan"]);
    assert!(text.contains("E0605") && text.contains("input `port` of module `m` is a `number`"), "{text}");
    assert!(!dir.join("infra.state.json").exists(), "a failing plan writes no state");
}

#[test]
fn moved_renames_without_destroying() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file old {\n  path    = \"out/a.txt\"\n  content = \"a\"\n}\n");
    ok(dir, &["apply", "--auto-approve"]);
    // A move from an address that is neither in state nor declared is a typo.
    write_module(
        dir,
        "resource local.file renamed {\n  path    = \"out/a.txt\"\n  content = \"a\"\n}\n\nmoved olf -> renamed\n",
    );
    let text = fails(dir, &["plan"]);
    assert!(text.contains("E0611") && text.contains("nothing to move"), "{text}");

    write_module(
        dir,
        "resource local.file renamed {\n  path    = \"out/a.txt\"\n  content = \"a\"\n}\n\nmoved old -> renamed\n",
    );
    let plan = ok(dir, &["plan"]);
    insta::assert_snapshot!("moved_rename", actions(&plan));
    let applied = ok(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("0 added, 0 changed, 0 destroyed"), "{applied}");
    assert_eq!(state_list(dir), ["renamed"]);
    assert_eq!(read(dir, "out/a.txt").as_deref(), Some("a"));
    // The statement can stay: the move is done.
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");
}

/// Bug: `moved web -> app` where `web` counted and `app` keys by name moved `web[0]` to
/// `app[0]`, which the configuration does not declare; the plan did not show the move,
/// and the apply created `app["x"]` (the same file) before deleting `app[0]`, so the
/// file was lost while the state recorded it. Such a move is refused before anything is
/// done; one statement per instance, to keys the configuration declares, moves them.
#[test]
fn moved_to_an_instance_the_configuration_does_not_declare_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "resource local.file web for i in range(2) {\n  path    = \"out/web-${i}.txt\"\n  content = \"web\"\n}\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    let app = "let names = [\"x\", \"y\"]\nresource local.file app for n in names {\n  path    = \"out/web-${index(names, n)}.txt\"\n  content = \"web\"\n}\n";
    for statement in ["moved web -> app", "moved web[0] -> app[\"x\"]\nmoved web[1] -> app[\"z\"]"] {
        write_module(dir, &format!("{app}\n{statement}\n"));
        let text = fails(dir, &["apply", "--auto-approve"]);
        assert!(text.contains("E0611") && text.contains("which the configuration does not declare"), "{text}");
        assert!(!text.contains("Creating") && !text.contains("Destroying"), "nothing is done:\n{text}");
        assert_eq!(state_list(dir), ["web[0]", "web[1]"]);
    }
    write_module(dir, &format!("{app}\nmoved web[0] -> app[\"x\"]\nmoved web[1] -> app[\"y\"]\n"));
    let applied = ok(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("0 added, 0 changed, 0 destroyed"), "{applied}");
    assert_eq!(state_list(dir), [r#"app["x"]"#, r#"app["y"]"#]);
    assert_eq!(read(dir, "out/web-0.txt").as_deref(), Some("web"));
    assert_eq!(read(dir, "out/web-1.txt").as_deref(), Some("web"));
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");
}

/// A declaration that gains `for i in range(n)` keeps its object as `[0]`, and one that
/// loses it keeps `[0]` as the bare address, as Terraform does for `count`; without it,
/// adding repetition to a server replaced it.
#[test]
fn gaining_or_losing_a_for_moves_the_object_to_or_from_the_first_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file note {\n  path    = \"out/note.txt\"\n  content = \"n\"\n}\n");
    ok(dir, &["apply", "--auto-approve"]);
    let repeated = "resource local.file note for i in range(2) {\n  path    = i == 0 ? \"out/note.txt\" : \"out/note-${i}.txt\"\n  content = \"n\"\n}\n";
    write_module(dir, repeated);
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("# note has moved to note[0]"), "{plan}");
    assert!(plan.contains("1 to add, 0 to change, 0 to destroy, 1 to move"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["note[0]", "note[1]"]);
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");

    write_module(dir, "resource local.file note {\n  path    = \"out/note.txt\"\n  content = \"n\"\n}\n");
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("# note[0] has moved to note"), "{plan}");
    assert!(plan.contains("0 to add, 0 to change, 1 to destroy, 1 to move"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["note"]);
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("n"));
    assert_eq!(read(dir, "out/note-1.txt"), None);
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");
}

/// The same for a module call: `net` gaining `for i in range(n)` keeps what its instance
/// made as `net[0]` (Terraform asks for a `moved` here; without one, every object the
/// module made was replaced).
#[test]
fn a_module_call_gaining_or_losing_a_for_moves_its_objects_to_or_from_the_first_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("net")).expect("mkdir");
    std::fs::write(
        dir.join("net/main.infra"),
        "input n: number\n\nresource local.file a {\n  path    = \"out/a-${n}.txt\"\n  content = \"a\"\n}\n\n\
         resource local.file b {\n  path    = \"out/b-${n}.txt\"\n  content = a.content\n}\n",
    )
    .expect("write");
    let single = "module net \"./net\" {\n  n = 0\n}\n";
    write_module(dir, single);
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["net.a", "net.b"]);

    write_module(dir, "module net \"./net\" for i in range(2) {\n  n = i\n}\n");
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("# net.a has moved to net[0].a"), "{plan}");
    assert!(plan.contains("# net.b has moved to net[0].b"), "{plan}");
    assert!(plan.contains("2 to add, 0 to change, 0 to destroy, 2 to move"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["net[0].a", "net[0].b", "net[1].a", "net[1].b"]);
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");

    write_module(dir, single);
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("# net[0].a has moved to net.a"), "{plan}");
    assert!(plan.contains("0 to add, 0 to change, 2 to destroy, 2 to move"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["net.a", "net.b"]);
    assert_eq!(read(dir, "out/a-0.txt").as_deref(), Some("a"));
    assert_eq!(read(dir, "out/a-1.txt"), None);
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn moved_into_a_module_and_chains_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    environments(dir, &["dev"]);
    write_module(
        dir,
        "resource local.file config {\n  path    = \"out/dev.txt\"\n  content = \"environment dev\"\n}\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    environments(dir, &["dev"]);
    let root = std::fs::read_to_string(dir.join("main.infra")).expect("read");
    write_module(dir, &format!("{root}\nmoved config -> env[\"dev\"].config\n"));
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains(r#"# config has moved to env["dev"].config"#), "{plan}");
    assert!(plan.contains("0 to add, 0 to change, 0 to destroy, 1 to move"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), [r#"env["dev"].config"#]);

    write_module(
        dir,
        &format!(
            "{root}\nresource null.resource b {{}}\n\nresource null.resource c {{}}\n\nmoved a -> b\nmoved b -> c\n"
        ),
    );
    let text = fails(dir, &["plan"]);
    assert!(text.contains("moves cannot be chained"), "{text}");
}

#[test]
fn import_statement_and_command_take_over_existing_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("out")).expect("mkdir");
    std::fs::write(dir.join("out/existing.txt"), "old").expect("write");
    write_module(
        dir,
        "resource local.file existing {\n  path    = \"out/existing.txt\"\n  content = \"new\"\n}\n\nimport existing from \"out/existing.txt\"\n",
    );
    let plan = ok(dir, &["plan"]);
    insta::assert_snapshot!("import_then_update", actions(&plan));
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(state_list(dir), ["existing"]);
    assert_eq!(read(dir, "out/existing.txt").as_deref(), Some("new"));

    // An id that does not exist: the provider's error, at the statement.
    write_module(
        dir,
        "resource local.file existing {\n  path    = \"out/existing.txt\"\n  content = \"new\"\n}\n\nresource local.file other {\n  path    = \"out/other.txt\"\n  content = \"x\"\n}\n\nimport other from \"out/missing.txt\"\n",
    );
    let text = fails(dir, &["plan"]);
    assert!(text.contains("cannot import `out/missing.txt` into other"), "{text}");
    // A statement left after its object was imported and destroyed is what this usually is.
    assert!(text.contains("needed only until its import is applied"), "{text}");

    // `infra import ADDR ID` records the object and changes nothing else.
    std::fs::write(dir.join("out/other.txt"), "x").expect("write");
    write_module(
        dir,
        "resource local.file existing {\n  path    = \"out/existing.txt\"\n  content = \"new\"\n}\n\nresource local.file other {\n  path    = \"out/other.txt\"\n  content = \"x\"\n}\n",
    );
    let text = ok(dir, &["import", "other", "out/other.txt"]);
    assert!(text.contains("Imported other"), "{text}");
    assert_eq!(state_list(dir), ["existing", "other"]);
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");

    // An id may start with `-` (a file's name, a random id): it is the id, not an option.
    std::fs::write(dir.join("-draft.txt"), "d").expect("write");
    write_module(
        dir,
        "resource local.file existing {\n  path    = \"out/existing.txt\"\n  content = \"new\"\n}\n\nresource local.file other {\n  path    = \"out/other.txt\"\n  content = \"x\"\n}\n\nresource local.file draft {\n  path    = \"-draft.txt\"\n  content = \"d\"\n}\n",
    );
    let text = ok(dir, &["import", "draft", "-draft.txt", "--lock-timeout", "1"]);
    assert!(text.contains("Imported draft from id \"-draft.txt\""), "{text}");
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn forget_drops_from_state_and_keeps_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file keep {\n  path    = \"out/keep.txt\"\n  content = \"k\"\n}\n");
    ok(dir, &["apply", "--auto-approve"]);
    write_module(dir, "forget keep\n");
    let plan = ok(dir, &["plan"]);
    insta::assert_snapshot!("forget", actions(&plan));
    ok(dir, &["apply", "--auto-approve"]);
    assert!(state_list(dir).is_empty());
    assert_eq!(read(dir, "out/keep.txt").as_deref(), Some("k"), "the file itself stays");
}

#[test]
fn prevent_destroy_follows_an_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input protect: bool = true\n\nresource local.file db {\n  path    = \"out/db.txt\"\n  content = \"data\"\n  lifecycle {\n    prevent_destroy = protect\n  }\n}\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    let text = fails(dir, &["destroy", "--auto-approve"]);
    assert!(text.contains("E0607") && text.contains("`prevent_destroy` is set"), "{text}");
    assert_eq!(read(dir, "out/db.txt").as_deref(), Some("data"));
    ok(dir, &["destroy", "--auto-approve", "--var", "protect=false"]);
    assert_eq!(read(dir, "out/db.txt"), None);
}

#[test]
fn ignore_changes_ignores_an_edit_made_outside() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input ignored: list(string) = [\"content\"]\n\nresource local.file motd {\n  path    = \"out/motd.txt\"\n  content = \"hello\"\n  lifecycle {\n    ignore_changes = ignored\n  }\n}\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    std::fs::write(dir.join("out/motd.txt"), "edited by hand").expect("edit");
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the edit is ignored:\n{text}");
    let (code, text) = outcome(dir, &["plan", "--detailed-exitcode", "--var", "ignored=[]"]);
    assert_eq!(code, 2, "without the rule the edit is undone:\n{text}");
}

#[test]
fn replace_when_replaces_when_a_value_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input release: string = \"1\"\n\nresource random.id token {\n  byte_length = 4\n  lifecycle {\n    replace_when = [release]\n  }\n}\n\noutput hex = token.hex\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    let (code, _) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "same release, nothing to do");
    let plan = ok(dir, &["plan", "--var", "release=2"]);
    assert!(plan.contains("# token must be replaced because a value in `replace_when` changed"), "{plan}");
    assert!(plan.contains("~ hex = ") && plan.contains("-> (known after apply)"), "a new value:\n{plan}");
    let first = ok(dir, &["output", "hex"]);
    ok(dir, &["apply", "--auto-approve", "--var", "release=2"]);
    let second = ok(dir, &["output", "hex"]);
    assert_ne!(first, second, "a new token");
    let (code, _) = outcome(dir, &["plan", "--detailed-exitcode", "--var", "release=2"]);
    assert_eq!(code, 0);
}

#[test]
fn aliased_and_repeated_provider_configurations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module = |regions: &str| {
        format!(
            r#"input regions: list(string) = {regions}

provider local as staging {{
  root = "out/staging"
}}

provider local as regional for r in regions {{
  root = "out/${{r}}"
}}

resource local.file a {{
  provider = staging
  path     = "a.txt"
  content  = "staging"
}}

resource local.file motd for r in regions {{
  provider = regional[r]
  path     = "motd.txt"
  content  = "hello ${{r}}"
}}
"#
        )
    };
    write_module(dir, &module(r#"["eu", "us"]"#));
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/staging/a.txt").as_deref(), Some("staging"));
    assert_eq!(read(dir, "out/eu/motd.txt").as_deref(), Some("hello eu"));
    assert_eq!(read(dir, "out/us/motd.txt").as_deref(), Some("hello us"));

    // Dropping a region while its configuration goes too is refused: nothing else
    // knows where its objects are.
    write_module(dir, &module(r#"["eu"]"#));
    let text = fails(dir, &["plan"]);
    assert!(text.contains(r#"provider configuration `local.regional["us"]` is no longer declared"#), "{text}");
    assert!(text.contains(r#"motd["us"] was made by it"#), "{text}");
    let text = fails(dir, &["apply", "--auto-approve"]);
    assert!(text.contains(r#"provider configuration `local.regional["us"]` is no longer declared"#), "{text}");
    assert_eq!(read(dir, "out/us/motd.txt").as_deref(), Some("hello us"));

    write_module(dir, &module(r#"["eu", "us"]"#));
    ok(dir, &["destroy", "--auto-approve"]);
    for path in ["out/staging/a.txt", "out/eu/motd.txt", "out/us/motd.txt"] {
        assert_eq!(read(dir, path), None, "{path} is deleted by its own configuration");
    }
}

/// Bug: selecting a configuration repeated over numbers by the number (`web[p]` for
/// `for p in [8022, 8023]`) said only "has no instance `[8022]`": such instances are
/// keyed by position, and the help now names the keys there are and both ways out.
#[test]
fn a_missing_provider_instance_names_the_keys_there_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module = |key: &str, select: &str| {
        format!(
            "provider local as web for p in [8022, 8023]{key} {{\n  root = \"out/${{p}}\"\n}}\n\n\
             resource local.file f for p in [8022, 8023] {{\n  provider = web[{select}]\n  path     = \"a.txt\"\n  content  = \"x\"\n}}\n"
        )
    };
    write_module(dir, &module("", "p"));
    let text = fails(dir, &["plan"]);
    assert!(text.contains("provider configuration `web` has no instance `[8022]`"), "{text}");
    assert!(text.contains("its instances are `web[0]`, `web[1]`"), "{text}");
    assert!(text.contains("key them by value"), "{text}");
    // The way out the help names works.
    write_module(dir, &module(" key tostring(p)", "tostring(p)"));
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/8023/a.txt").as_deref(), Some("x"));
}

#[test]
fn provider_configurations_pass_to_modules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("site")).expect("mkdir");
    std::fs::write(
        dir.join("site/main.infra"),
        "resource local.file index {\n  path    = \"index.html\"\n  content = \"<h1>hi</h1>\"\n}\n",
    )
    .expect("write");
    write_module(
        dir,
        "provider local as public {\n  root = \"out/public\"\n}\n\nmodule site \"./site\" {\n  providers = { local = public }\n}\n",
    );
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/public/index.html").as_deref(), Some("<h1>hi</h1>"));
    ok(dir, &["destroy", "--auto-approve"]);
    assert_eq!(read(dir, "out/public/index.html"), None);
}

#[test]
fn failing_checks_and_conditions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "input replicas: number = 0\n\ncheck replicas > 0, \"run at least one replica\"\n");
    let text = fails(dir, &["plan"]);
    assert!(
        text.contains("E0607") && text.contains("check failed in the root module: run at least one replica"),
        "{text}"
    );

    write_module(
        dir,
        "input port: number = 22\n\nresource null.resource web {\n  input = port\n  precondition port != 22, \"port 22 is reserved for SSH\"\n}\n",
    );
    let text = fails(dir, &["plan"]);
    assert!(text.contains("precondition failed in web: port 22 is reserved for SSH"), "{text}");

    // Known when planning: nothing is made.
    write_module(
        dir,
        "resource local.file f {\n  path    = \"out/f.txt\"\n  content = \"\"\n  postcondition self.size > 0, \"the file must not be empty\"\n}\n",
    );
    let text = fails(dir, &["apply", "--auto-approve"]);
    assert!(text.contains("postcondition failed in f: the file must not be empty"), "{text}");
    assert!(state_list(dir).is_empty());
    assert_eq!(read(dir, "out/f.txt"), None);

    // Known only once made: checked after the create, which state records.
    write_module(
        dir,
        "resource random.id r {\n  byte_length = 4\n  postcondition length(self.hex) == 100, \"the id is too short\"\n}\n",
    );
    ok(dir, &["plan"]);
    let text = fails(dir, &["apply", "--auto-approve"]);
    assert!(text.contains("postcondition failed in r: the id is too short"), "{text}");
    assert_eq!(state_list(dir), ["r"], "the object was made and is recorded");
}
