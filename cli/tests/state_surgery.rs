//! `infra state mv|rm|pull|push` and local workspaces, end to end on the local backend.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::{run as infra, text, write_module};

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

fn file(name: &str, path: &str) -> String {
    format!("resource local.file {name} {{\n  path    = \"{path}\"\n  content = \"x\"\n}}\n")
}

fn applied(dir: &Path, source: &str) {
    write_module(dir, source);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
}

/// `infra state push` with `input` on stdin.
fn push(dir: &Path, input: &[u8], extra: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["state", "push"])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start infra");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    child.wait_with_output().expect("push")
}

#[test]
fn mv_follows_a_rename_so_the_plan_has_no_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    applied(dir, &file("old", "out/a.txt"));
    write_module(dir, &file("new", "out/a.txt"));
    let before = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&before, 2);

    let dry = infra(dir, &["state", "mv", "--dry-run", "old", "new"]);
    assert_exit(&dry, 0);
    assert_eq!(text(&infra(dir, &["state", "list"])), "old\n", "--dry-run changed the state");

    let moved = infra(dir, &["state", "mv", "old", "new"]);
    assert_exit(&moved, 0);
    assert!(text(&moved).contains("Moved old to new"), "{}", text(&moved));
    assert_eq!(text(&infra(dir, &["state", "list"])), "new\n");
    let after = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&after, 0);

    let unknown = infra(dir, &["state", "mv", "old", "other"]);
    assert_exit(&unknown, 1);
    assert!(text(&unknown).contains("E0802"), "{}", text(&unknown));
}

#[test]
fn mv_of_a_repeated_declaration_moves_every_instance_and_refuses_a_taken_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let repeated = "resource local.file f for i in range(2) {\n  path    = \"out/${i}.txt\"\n  content = \"x\"\n}\n";
    applied(dir, &format!("{repeated}{}", file("g", "out/g.txt")));
    let taken = infra(dir, &["state", "mv", "f[0]", "g"]);
    assert_exit(&taken, 1);
    assert!(text(&taken).contains("E0722"), "{}", text(&taken));
    assert_exit(&infra(dir, &["state", "mv", "f", "h"]), 0);
    assert_eq!(text(&infra(dir, &["state", "list"])), "g\nh[0]\nh[1]\n");
    write_module(dir, &format!("{}{}", repeated.replace("file f ", "file h "), file("g", "out/g.txt")));
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn rm_forgets_without_deleting_so_the_plan_wants_to_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    applied(dir, &format!("{}{}", file("a", "out/a.txt"), file("b", "out/b.txt")));
    let removed = infra(dir, &["state", "rm", "a"]);
    assert_exit(&removed, 0);
    assert!(dir.join("out/a.txt").exists(), "rm deleted the object");
    assert_eq!(text(&infra(dir, &["state", "list"])), "b\n");
    let plan = infra(dir, &["plan", "--json"]);
    assert_exit(&plan, 0);
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan JSON");
    assert_eq!(json["changes"][0]["address"], "a");
    assert_eq!(json["changes"][0]["action"], "create");
    assert_eq!(json["summary"]["add"], 1);

    let unknown = infra(dir, &["state", "rm", "b", "nothing"]);
    assert_exit(&unknown, 1);
    assert!(text(&unknown).contains("E0802"), "{}", text(&unknown));
    assert_eq!(text(&infra(dir, &["state", "list"])), "b\n", "a failed rm removed something");
}

#[test]
fn pull_then_push_round_trips_and_a_foreign_lineage_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    applied(dir, &file("a", "out/a.txt"));
    let pulled = infra(dir, &["state", "pull"]);
    assert_exit(&pulled, 0);
    let before: serde_json::Value = serde_json::from_slice(&pulled.stdout).expect("state JSON");

    let pushed = push(dir, &pulled.stdout, &[]);
    assert_exit(&pushed, 0);
    let again: serde_json::Value = serde_json::from_slice(&infra(dir, &["state", "pull"]).stdout).expect("state JSON");
    assert_eq!(again["lineage"], before["lineage"]);
    assert_eq!(again["instances"], before["instances"]);
    assert!(again["serial"].as_u64() > before["serial"].as_u64());

    // Now the pulled copy is older than the stored state.
    let older = push(dir, &pulled.stdout, &[]);
    assert_exit(&older, 1);
    assert!(text(&older).contains("E0721"), "{}", text(&older));

    let other = tempfile::tempdir().expect("temp dir");
    applied(other.path(), &file("z", "out/z.txt"));
    let foreign = infra(other.path(), &["state", "pull"]);
    let refused = push(dir, &foreign.stdout, &[]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0720"), "{}", text(&refused));
    assert_eq!(text(&infra(dir, &["state", "list"])), "a\n", "a refused push changed the state");
    let forced = push(dir, &foreign.stdout, &["--force"]);
    assert_exit(&forced, 0);
    assert_eq!(text(&infra(dir, &["state", "list"])), "z\n");

    let garbage = push(dir, b"{ not a state", &[]);
    assert_exit(&garbage, 1);
    assert!(text(&garbage).contains("E0807"), "{}", text(&garbage));

    // A document every later load would refuse is refused now, even with --force: a type
    // no provider offers, a value not of its attribute's type.
    let current = infra(dir, &["state", "pull"]).stdout;
    let text_of = String::from_utf8(current.clone()).expect("utf-8");
    for broken in
        [text_of.replace("\"local.file\"", "\"local.nosuch\""), text_of.replace("\"size\":", "\"size\":\"big\",\"x\":")]
    {
        assert_ne!(broken, text_of);
        let refused = push(dir, broken.as_bytes(), &["--force"]);
        assert_exit(&refused, 1);
        assert!(
            text(&refused).contains("E0700") && text(&refused).contains("nothing was changed"),
            "{}",
            text(&refused)
        );
    }
    assert_eq!(infra(dir, &["state", "pull"]).stdout, current, "a refused push changed the state");
}

#[test]
fn local_workspaces_are_isolated_directories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    applied(dir, &file("a", "out/a.txt"));
    assert_exit(&infra(dir, &["workspace", "new", "dev"]), 0);
    assert!(dir.join("infra.state.d/dev").is_dir());
    assert_eq!(text(&infra(dir, &["state", "list", "--workspace", "dev"])), "");
    let plan = infra(dir, &["plan", "--workspace", "dev", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert_eq!(text(&infra(dir, &["workspace", "list"])), "* default\n  dev\n");
    let deleted = infra(dir, &["workspace", "delete", "dev"]);
    assert_exit(&deleted, 0);
    assert_eq!(text(&deleted), "Deleted workspace `dev`.\n", "an empty workspace let nothing go");
    let invalid = infra(dir, &["workspace", "new", "../up"]);
    assert_exit(&invalid, 1);
    assert!(text(&invalid).contains("E0716"), "{}", text(&invalid));
}

/// A module called once per name in `names`, under the call name `call`.
fn environments(dir: &Path, call: &str, names: &[&str]) {
    let module =
        "input name: string\nresource local.file config {\n  path    = \"out/${name}.txt\"\n  content = name\n}\n";
    std::fs::create_dir_all(dir.join("env")).expect("mkdir");
    std::fs::write(dir.join("env/main.infra"), module).expect("write module");
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    write_module(dir, &format!("module {call} \"./env\" for name in [{}] {{\n  name = name\n}}\n", list.join(", ")));
}

#[test]
fn mv_and_rm_take_module_addresses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    environments(dir, "env", &["a", "b"]);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    environments(dir, "stage", &["a", "b"]);
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 2);

    let moved = infra(dir, &["state", "mv", "env", "stage"]);
    assert_exit(&moved, 0);
    assert_eq!(text(&infra(dir, &["state", "list"])), "stage[\"a\"].config\nstage[\"b\"].config\n", "{}", text(&moved));
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);

    let crowded = infra(dir, &["state", "mv", "stage", "one[\"x\"]"]);
    assert_exit(&crowded, 1);
    assert!(text(&crowded).contains("more than one would move"), "{}", text(&crowded));

    assert_exit(&infra(dir, &["state", "rm", "stage[\"b\"]"]), 0);
    assert_eq!(text(&infra(dir, &["state", "list"])), "stage[\"a\"].config\n");
    assert!(dir.join("out/b.txt").exists(), "rm deleted the object");
}

/// Regression: `infra state mv h 'b[2]'` moved a `local.file` onto the address of a
/// `time.sleep` declaration, and the next plan replaced it, deleting the file.
#[test]
fn mv_refuses_a_destination_of_another_resource_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let sleeps = "resource time.sleep b for i in range(2) {\n  create_duration = \"1ms\"\n}\n";
    applied(dir, &format!("{}{sleeps}", file("h", "out/h.txt")));
    let refused = infra(dir, &["state", "mv", "h", "b[2]"]);
    assert_exit(&refused, 1);
    let message = text(&refused);
    assert!(message.contains("resource types don't match") && message.contains("`time.sleep`"), "{message}");
    assert!(message.contains("declares it as `time.sleep`"), "{message}");
    assert_eq!(text(&infra(dir, &["state", "list"])), "b[0]\nb[1]\nh\n", "nothing moved");

    // Without a configuration, the state's other instances of the destination decide.
    std::fs::remove_file(dir.join("main.infra")).expect("remove the module");
    let refused = infra(dir, &["state", "mv", "h", "b[2]"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("the state holds other"), "{}", text(&refused));
    assert_exit(&infra(dir, &["state", "mv", "h", "renamed"]), 0);
}

/// Regressions: migrating a non-default workspace to a directory was refused as E0719
/// with a hint that created it at the source; the hint after a migration to a directory
/// said to "point the module at" it; and the same migration twice (E0721) said to pass
/// `--force`, which `migrate` does not take.
#[test]
fn migrate_creates_the_workspace_at_the_target_and_a_second_run_says_there_is_nothing_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &file("f", "out/f.txt"));
    assert_exit(&infra(dir, &["workspace", "new", "p2"]), 0);
    assert_exit(&infra(dir, &["apply", "--auto-approve", "--workspace", "p2"]), 0);
    let target = tempfile::tempdir().expect("temp dir");
    let target_dir = target.path().display().to_string();
    let moved = infra(dir, &["state", "migrate", "--workspace", "p2", "--to", &target_dir]);
    assert_exit(&moved, 0);
    assert!(text(&moved).contains("a module keeps its local state beside itself"), "{}", text(&moved));
    assert!(target.path().join("infra.state.d/p2/infra.state.json").is_file());

    let again = infra(dir, &["state", "migrate", "--workspace", "p2", "--to", &target_dir]);
    assert_exit(&again, 1);
    let message = text(&again);
    assert!(message.contains("E0721") && message.contains("there is nothing to do"), "{message}");
    assert!(!message.contains("pass --force"), "{message}");
}

/// Regression: `INFRA_WORKSPACE=` was "`` is not a valid workspace name", and
/// `INFRA_STATE_URL=` was taken for a database on a local socket (E0711, "check that
/// the server is running").
#[test]
fn empty_state_variables_are_unset_or_named_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    applied(dir, &file("f", "out/f.txt"));
    let listed = common::command(dir, &["state", "list"]).env("INFRA_WORKSPACE", "").output().expect("infra runs");
    assert_exit(&listed, 0);
    assert_eq!(text(&listed), "f\n");
    let empty = common::command(dir, &["plan"]).env("INFRA_STATE_URL", "").output().expect("infra runs");
    assert_exit(&empty, 1);
    let message = text(&empty);
    assert!(message.contains("E0716") && message.contains("the state URL is empty"), "{message}");
}
