//! `infra apply` and `infra destroy` end to end, in temporary directories, checking the
//! real files they manage and the state they leave.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{run as infra, text, write_module};

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// Starts `infra ARGS` in `dir` with its output discarded, for a test that stops or
/// races it.
fn spawn_quiet(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start infra")
}

fn read(dir: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(path)).ok()
}

fn file_module(content: &str, path: &str) -> String {
    format!("resource local.file note {{\n  path    = \"{path}\"\n  content = \"{content}\"\n}}\n")
}

#[test]
fn create_change_replace_and_delete_real_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &file_module("one", "out/note.txt"));
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."), "{}", text(&output));
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("one"));

    let again = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&again, 0);

    write_module(dir, &file_module("two", "out/note.txt"));
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("1 changed"), "{}", text(&output));
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("two"));

    write_module(dir, &file_module("two", "out/moved.txt"));
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("# forces replacement"), "{}", text(&output));
    assert_eq!(read(dir, "out/note.txt"), None, "the old file is deleted");
    assert_eq!(read(dir, "out/moved.txt").as_deref(), Some("two"));

    write_module(dir, "let _nothing = 1\n");
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert_eq!(read(dir, "out/moved.txt"), None);
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn drift_is_shown_and_apply_puts_it_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &file_module("managed", "out/note.txt"));
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    std::fs::write(dir.join("out/note.txt"), "edited by hand").expect("edit");
    let plan = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = text(&plan);
    assert!(shown.contains("Note: Objects have changed outside of Infra"), "{shown}");
    assert!(shown.contains("  # note has changed outside of Infra"), "{shown}");
    assert!(
        shown.contains(r#"~ content = "managed" -> "edited by hand""#),
        "what changed, from what to what:\n{shown}"
    );
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("managed"));
    std::fs::remove_file(dir.join("out/note.txt")).expect("delete");
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("managed"));
}

#[test]
fn a_failure_skips_dependents_while_independent_work_finishes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource exec.command broken {
  create = "echo failing on purpose >&2; exit 3"
}
resource local.file after_broken {
  path    = "out/after.txt"
  content = broken.stdout
}
resource local.file independent {
  path    = "out/independent.txt"
  content = "fine"
}
"#;
    write_module(dir, source);
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let all = text(&output);
    assert!(all.contains("failing on purpose"), "the command's stderr is shown:\n{all}");
    assert!(all.contains("after_broken: skipped"), "{all}");
    assert_eq!(read(dir, "out/independent.txt").as_deref(), Some("fine"));
    assert_eq!(read(dir, "out/after.txt"), None);
    // The state holds exactly what exists: the next plan creates only what is missing.
    let plan = infra(dir, &["plan"]);
    let plan_text = text(&plan);
    assert!(
        plan_text.contains("+ exec.command broken") && plan_text.contains("+ local.file after_broken"),
        "{plan_text}"
    );
    assert!(!plan_text.contains("+ local.file independent"), "{plan_text}");
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &file_module("x", "out/note.txt"));
    let output = infra(dir, &["apply"]);
    assert_exit(&output, 1);
    assert!(text(&output).contains("--auto-approve"), "{}", text(&output));
    assert_eq!(read(dir, "out/note.txt"), None, "nothing was applied");
}

#[test]
fn destroy_removes_everything_in_dependency_order_and_honours_prevent_destroy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource local.file base {
  path    = "out/base.txt"
  content = "base"
}
resource local.file top {
  path    = "out/top.txt"
  content = "on ${base.id}"
}
"#;
    write_module(dir, source);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let output = infra(dir, &["destroy", "--auto-approve"]);
    assert_exit(&output, 0);
    let all = text(&output);
    let top = all.find("top: Destroying").expect("top destroyed");
    let base = all.find("base: Destroying").expect("base destroyed");
    assert!(top < base, "dependents go first:\n{all}");
    assert_eq!(read(dir, "out/base.txt"), None);
    assert_eq!(read(dir, "out/top.txt"), None);

    let guarded = "resource local.file keep {\n  path    = \"out/keep.txt\"\n  content = \"k\"\n  lifecycle { prevent_destroy = true }\n}\n";
    write_module(dir, guarded);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let output = infra(dir, &["destroy", "--auto-approve"]);
    assert_exit(&output, 1);
    assert!(text(&output).contains("prevent_destroy"), "{}", text(&output));
    assert_eq!(read(dir, "out/keep.txt").as_deref(), Some("k"));
}

#[test]
fn secrets_stay_out_of_apply_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
input token: string = "tok-123456" {
  sensitive = true
}
resource random.password db {
  length = 20
}
resource local.file secret {
  path    = "out/secret.txt"
  content = "${token}:${db.result}"
}
output password = db.result
"#;
    write_module(dir, source);
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let written = read(dir, "out/secret.txt").expect("written");
    // The password's alphabet includes `:`, so take everything after the token's.
    let password = written.strip_prefix("tok-123456:").expect("token then password").to_string();
    assert_eq!(password.len(), 20);
    let all = text(&output);
    assert!(!all.contains("tok-123456") && !all.contains(&password), "a secret leaked:\n{all}");
    assert!(all.contains("password = (sensitive value)"), "{all}");
    let plan = infra(dir, &["plan", "--json"]);
    assert!(!text(&plan).contains(&password) && !text(&plan).contains("tok-123456"), "{}", text(&plan));
}

/// `kill -9` of an apply at 20 different moments: afterwards every file on disk is in
/// state (or recorded as pending), and the next apply converges with no duplicates.
#[test]
fn a_killed_apply_loses_nothing_and_the_next_one_converges() {
    use infra_runtime::state::{LocalBackend, StateBackend};
    const FILES: usize = 24;
    let source = format!(
        r#"
resource time.sleep pause for i in range({FILES}) {{
  create_duration = "15ms"
}}
resource local.file out for i in range({FILES}) {{
  path    = "out/file-${{i}}.txt"
  content = "file ${{i}} after ${{pause[i].id}}"
}}
"#
    );
    for run in 0..20u64 {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = dir.path();
        write_module(dir, &source);
        let mut child = spawn_quiet(dir, &["apply", "--auto-approve", "--parallelism", "4"]);
        std::thread::sleep(std::time::Duration::from_millis(20 + run * 17));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let loaded = LocalBackend::new(dir.to_path_buf()).load().unwrap_or_else(|e| panic!("run {run}: {e:?}"));
        let on_disk: Vec<String> = std::fs::read_dir(dir.join("out"))
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        // A write killed midway may leave its temporary file behind; only finished files
        // (renamed into place) count.
        for file in on_disk.iter().filter(|f| f.starts_with("file-") && f.ends_with(".txt")) {
            let index: String = file.trim_start_matches("file-").trim_end_matches(".txt").to_string();
            let address: infra_runtime::address::Address = format!("out[{index}]").parse().expect("address");
            assert!(
                loaded.state.instances.contains_key(&address),
                "run {run}: {file} exists but its instance is neither in state nor pending"
            );
        }

        let output = infra(dir, &["apply", "--auto-approve"]);
        assert_exit(&output, 0);
        let plan = infra(dir, &["plan", "--detailed-exitcode"]);
        assert_exit(&plan, 0);
        let final_state = LocalBackend::new(dir.to_path_buf()).load().expect("load");
        assert_eq!(final_state.state.instances.len(), 2 * FILES, "run {run}: no duplicates, nothing missing");
        assert!(final_state.state.pending().next().is_none(), "run {run}: nothing left pending");
        let count = std::fs::read_dir(dir.join("out"))
            .map(|e| e.flatten().filter(|f| f.file_name().to_string_lossy().starts_with("file-")).count())
            .unwrap_or(0);
        assert_eq!(count, FILES, "run {run}");
    }
}

#[test]
fn state_list_show_and_output_read_what_apply_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource local.file note for name in ["a", "b"] {
  path    = "out/${name}.txt"
  content = name
}
resource random.password db {
  length = 12
}
output paths = [for n in note : n.path]
output secret = db.result
"#;
    write_module(dir, source);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);

    let list = infra(dir, &["state", "list"]);
    assert_exit(&list, 0);
    assert_eq!(String::from_utf8_lossy(&list.stdout), "db\nnote[\"a\"]\nnote[\"b\"]\n");

    let show = infra(dir, &["state", "show", "note[\"b\"]"]);
    assert_exit(&show, 0);
    let shown = String::from_utf8_lossy(&show.stdout).into_owned();
    assert!(shown.starts_with("# local.file note[\"b\"]\n") && shown.contains("path    = \"out/b.txt\""), "{shown}");
    let db = String::from_utf8_lossy(&infra(dir, &["state", "show", "db"]).stdout).into_owned();
    assert!(db.contains("result  = (sensitive value)"), "{db}");
    assert_exit(&infra(dir, &["state", "show", "missing"]), 1);

    let outputs = infra(dir, &["output"]);
    assert_eq!(
        String::from_utf8_lossy(&outputs.stdout),
        "paths = [\"out/a.txt\", \"out/b.txt\"]\nsecret = (sensitive value)\n"
    );
    let json: serde_json::Value = serde_json::from_slice(&infra(dir, &["output", "--json"]).stdout).expect("json");
    assert_eq!(json["secret"], serde_json::json!({ "value": null, "sensitive": true }));
    assert_eq!(json["paths"]["sensitive"], false);
    assert_exit(&infra(dir, &["output", "nope"]), 1);
}

#[test]
fn output_raw_prints_a_scalar_as_it_is_and_refuses_secrets_and_collections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "resource random.password db {\n  length = 12\n}\n\
         output motd = \"hello \\\"there\\\"\\n\"\noutput port = 8080\noutput on = true\n\
         output list = [1]\noutput secret = db.result\n",
    );
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let raw = |name: &str| infra(dir, &["output", "--raw", name]);
    // The text itself: no quotes, no escapes, no newline added.
    assert_eq!(String::from_utf8_lossy(&raw("motd").stdout), "hello \"there\"\n");
    assert_eq!(String::from_utf8_lossy(&raw("port").stdout), "8080");
    assert_eq!(String::from_utf8_lossy(&raw("on").stdout), "true");

    let secret = raw("secret");
    assert_exit(&secret, 1);
    let state = std::fs::read_to_string(dir.join("infra.state.json")).expect("state");
    let password = serde_json::from_str::<serde_json::Value>(&state).expect("json")["instances"][0]["attributes"]
        ["result"]
        .as_str()
        .expect("the password")
        .to_string();
    let shown = format!("{}{}", String::from_utf8_lossy(&secret.stdout), String::from_utf8_lossy(&secret.stderr));
    assert!(shown.contains("E0801") && shown.contains("sensitive"), "{shown}");
    assert!(!shown.contains(&password), "{shown}");

    let list = raw("list");
    assert_exit(&list, 1);
    let shown = String::from_utf8_lossy(&list.stderr).replace('│', " ");
    assert!(shown.contains("E0801") && shown.contains("infra output --json list"), "{shown}");
}

#[test]
fn a_second_apply_fails_fast_naming_the_holder_or_waits_for_the_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource time.sleep slow {\n  create_duration = \"1500ms\"\n}\n");
    let mut first = spawn_quiet(dir, &["apply", "--auto-approve"]);
    // Wait until the first apply holds the lock (it writes its holder into the lock file).
    let lock_file = dir.join("infra.state.lock");
    for _ in 0..200 {
        if std::fs::read_to_string(&lock_file).is_ok_and(|t| t.contains("infra apply")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&second, 1);
    let all = text(&second);
    assert!(all.contains("E0702") && all.contains("infra apply"), "{all}");

    let waiting = infra(dir, &["apply", "--auto-approve", "--lock-timeout", "60"]);
    assert_exit(&waiting, 0);
    assert!(text(&waiting).contains("No changes."), "the first apply finished first:\n{}", text(&waiting));
    assert!(first.wait().expect("first apply ends").success());
}

#[test]
fn target_exclude_and_replace_select_what_is_planned_and_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource local.file base {
  path    = "out/base.txt"
  content = "base"
}
resource local.file web for i in range(3) {
  path    = "out/web-${i}.txt"
  content = "web ${i} on ${base.id}"
}
resource local.file other {
  path    = "out/other.txt"
  content = "other"
}
"#;
    write_module(dir, source);
    // A target brings what it depends on, and nothing else.
    let output = infra(dir, &["apply", "--auto-approve", "--target", "web[1]"]);
    assert_exit(&output, 0);
    assert!(read(dir, "out/base.txt").is_some() && read(dir, "out/web-1.txt").is_some());
    assert!(read(dir, "out/web-0.txt").is_none() && read(dir, "out/other.txt").is_none());

    // An exclusion takes what depends on it along.
    let plan = infra(dir, &["plan", "--exclude", "base"]);
    let plan_text = text(&plan);
    assert!(plan_text.contains("+ local.file other") && !plan_text.contains("web[0]"), "{plan_text}");

    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
    let forced = infra(dir, &["plan", "--replace", "other", "--detailed-exitcode"]);
    assert_exit(&forced, 2);
    assert!(text(&forced).contains("# other must be replaced"), "{}", text(&forced));

    let bad = infra(dir, &["plan", "--target", "web["]);
    assert_exit(&bad, 2);
    assert!(text(&bad).contains("is not an address"), "{}", text(&bad));
}

/// Sends Ctrl-C (SIGINT) to the apply `child` once its first operation is confirmed in
/// the journal: it is then surely running (its Ctrl-C handler installed) and not done.
fn interrupt_once_an_operation_completed(dir: &Path, child: &std::process::Child) {
    let journal = dir.join("infra.state.journal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains("complete")) {
        assert!(std::time::Instant::now() < deadline, "the apply never completed an operation");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("send SIGINT");
    assert!(status.success());
}

/// Bug: Ctrl-C while planning (a slow data source, a large file hashed) killed the
/// process without a word. It now says that nothing was changed and exits 130, for
/// `plan` and for `apply`'s plan alike.
#[test]
fn ctrl_c_while_planning_says_nothing_was_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
data exec.json slow {
  program = ["sh", "-c", "touch started; sleep 30; echo '{}'"]
}
resource local.file f {
  path    = "out/f.txt"
  content = "x"
}
"#;
    write_module(dir, source);
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        let _ = std::fs::remove_file(dir.join("started"));
        let child = Command::new(env!("CARGO_BIN_EXE_infra"))
            .args(command)
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !dir.join("started").exists() {
            assert!(std::time::Instant::now() < deadline, "the data source never started");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("send SIGINT");
        assert!(status.success());
        let output = child.wait_with_output().expect("ends");
        assert_exit(&output, 130);
        let all = text(&output);
        assert!(all.contains("E0805") && all.contains("interrupted while planning: nothing was changed"), "{all}");
        assert_eq!(read(dir, "out/f.txt"), None);
    }
}

/// Ctrl-C (SIGINT) stops starting new operations, lets those in flight finish, saves the
/// state and exits 130; the next apply finishes the job.
#[test]
fn an_interrupted_apply_saves_what_it_did_and_exits_130() {
    use infra_runtime::state::{LocalBackend, StateBackend};
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource time.sleep step for i in range(6) {
  create_duration = "300ms"
}
resource local.file done for i in range(6) {
  path    = "out/done-${i}.txt"
  content = step[i].id
}
"#;
    write_module(dir, source);
    let child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve", "--parallelism", "2"])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start apply");
    interrupt_once_an_operation_completed(dir, &child);
    let output = child.wait_with_output().expect("apply ends");
    assert_exit(&output, 130);
    let all = text(&output);
    assert!(all.contains("Interrupted") && all.contains("run again to finish"), "{all}");
    // `done` waits for every `step`, so it is not started: the interruption says why.
    assert!(all.contains("done: skipped, because the run was interrupted"), "{all}");
    assert!(!all.contains("because something it depends on failed"), "nothing failed:\n{all}");

    let loaded = LocalBackend::new(dir.to_path_buf()).load().expect("state saved");
    assert!(loaded.replayed == 0, "the snapshot was written and the journal folded into it");
    let created = loaded.state.instances.len();
    assert!(created > 0 && created < 12, "some but not all instances exist: {created}");
    assert!(loaded.state.pending().next().is_none(), "in-flight operations finished and were recorded");

    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
}

/// Ctrl-C tells the providers to stop: a `time.sleep` of an hour in flight ends at once,
/// unmade, while what completed before is saved; the next apply makes it.
#[test]
fn an_interrupt_tells_providers_to_stop_what_is_in_flight() {
    use infra_runtime::state::{LocalBackend, StateBackend};
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input wait: string = \"1h\"\nresource local.file first {\n  path    = \"out/first.txt\"\n  content = \"x\"\n}\nresource time.sleep long {\n  create_duration = wait\n}\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve"])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start apply");
    interrupt_once_an_operation_completed(dir, &child);
    // Without the stop, the apply would wait the whole hour.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("apply status").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the interrupted apply kept waiting for the sleep");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("apply ends");
    assert_exit(&output, 130);
    let all = text(&output);
    assert!(all.contains("interrupted before the wait ended"), "{all}");

    let loaded = LocalBackend::new(dir.to_path_buf()).load().expect("state saved");
    let addresses: Vec<String> = loaded.state.instances.keys().map(ToString::to_string).collect();
    assert_eq!(addresses, ["first"], "the sleep was not made");
    assert!(loaded.state.pending().next().is_none(), "nothing is left pending");

    let again = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve", "--var", "wait=10ms"])
        .current_dir(dir)
        .output()
        .expect("apply again");
    assert_exit(&again, 0);
    assert!(text(&again).contains("time.sleep long"), "{}", text(&again));
}

#[test]
fn a_saved_plan_applies_exactly_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input x: string = \"a\"\nresource local.file f {\n  path    = \"out/f.txt\"\n  content = x\n}\n",
    );
    assert_exit(&infra(dir, &["plan", "--out", "first.plan"]), 0);
    assert_eq!(read(dir, "out/f.txt"), None, "saving a plan changes nothing");
    let applied = infra(dir, &["apply", "first.plan"]);
    assert_exit(&applied, 0);
    assert_eq!(read(dir, "out/f.txt").as_deref(), Some("a"));

    // The state moved on: the same file is refused.
    let again = infra(dir, &["apply", "first.plan"]);
    assert_exit(&again, 1);
    assert!(text(&again).contains("E0710") && text(&again).contains("the state changed"), "{}", text(&again));

    // Inputs must be the ones the plan was made with.
    assert_exit(&infra(dir, &["plan", "--out", "second.plan", "--var", "x=b"]), 0);
    let other_inputs = infra(dir, &["apply", "second.plan", "--var", "x=c"]);
    assert_exit(&other_inputs, 1);
    assert!(text(&other_inputs).contains("input values changed"), "{}", text(&other_inputs));
    assert_exit(&infra(dir, &["apply", "second.plan", "--var", "x=b"]), 0);
    assert_eq!(read(dir, "out/f.txt").as_deref(), Some("b"));

    // So must the configuration.
    assert_exit(&infra(dir, &["plan", "--out", "third.plan"]), 0);
    write_module(
        dir,
        "input x: string = \"a\"\nresource local.file f {\n  path    = \"out/g.txt\"\n  content = x\n}\n",
    );
    assert_exit(&infra(dir, &["apply", "third.plan"]), 1);

    std::fs::write(dir.join("garbage.plan"), "not a plan").expect("write");
    let garbage = infra(dir, &["apply", "garbage.plan"]);
    assert_exit(&garbage, 1);
    assert!(text(&garbage).contains("is not a saved plan"), "{}", text(&garbage));
}

/// Bug: a saved plan did not record its workspace, so `infra plan --workspace staging
/// --out FILE` then `infra apply FILE` applied it to the default workspace's state.
#[test]
fn a_saved_plan_is_applied_only_in_the_workspace_it_was_made_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file f {\n  path    = \"out/f.txt\"\n  content = \"s\"\n}\n");
    assert_exit(&infra(dir, &["workspace", "new", "staging"]), 0);
    assert_exit(&infra(dir, &["plan", "--workspace", "staging", "--out", "staging.plan"]), 0);
    let elsewhere = infra(dir, &["apply", "staging.plan"]);
    assert_exit(&elsewhere, 1);
    let shown = text(&elsewhere);
    assert!(shown.contains("E0710") && shown.contains("made in the workspace `staging`"), "{shown}");
    assert!(shown.contains("--workspace staging"), "{shown}");
    assert_eq!(read(dir, "out/f.txt"), None, "nothing was applied");
    let mut in_default = Command::new(env!("CARGO_BIN_EXE_infra"));
    in_default.current_dir(dir).args(["apply", "staging.plan"]).env("INFRA_WORKSPACE", "staging");
    assert_exit(&in_default.output().expect("infra runs"), 0);
    assert_eq!(read(dir, "out/f.txt").as_deref(), Some("s"));
    let listed = infra(dir, &["state", "list", "--workspace", "staging"]);
    assert_eq!(text(&listed).trim(), "f");
    assert_eq!(text(&infra(dir, &["state", "list"])).trim(), "", "the default workspace's state is untouched");
}

/// Bug: a saved plan edited by hand (`"refresh": false` written in, an action changed)
/// was applied with what the edit said, or refused as if something had changed outside.
/// A plain plan carries a checksum of what it holds; an edited one is refused as such.
#[test]
fn a_saved_plan_edited_after_it_was_saved_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file f {\n  path    = \"out/f.txt\"\n  content = \"s\"\n}\n");
    assert_exit(&infra(dir, &["plan", "--out", "p.plan"]), 0);
    let saved = std::fs::read_to_string(dir.join("p.plan")).expect("plan");
    assert!(saved.contains("\"refresh\": true"), "{saved}");
    std::fs::write(dir.join("p.plan"), saved.replace("\"refresh\": true", "\"refresh\": false")).expect("write");
    let edited = infra(dir, &["apply", "p.plan"]);
    assert_exit(&edited, 1);
    let shown = text(&edited);
    assert!(shown.contains("E0710") && shown.contains("was changed after it was saved"), "{shown}");
    assert_eq!(read(dir, "out/f.txt"), None, "nothing was applied");
    // As it was written, it applies.
    std::fs::write(dir.join("p.plan"), &saved).expect("write");
    assert_exit(&infra(dir, &["apply", "p.plan"]), 0);
    assert_eq!(read(dir, "out/f.txt").as_deref(), Some("s"));
}

/// Bug: a plan that changed only outputs said "No changes" (and `--detailed-exitcode`
/// 0), and an output removed from the configuration stayed in the state for good. The
/// plan now lists the outputs it changes, as Terraform's "Changes to Outputs".
#[test]
fn a_plan_that_changes_only_outputs_says_so_and_apply_saves_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module = |outputs: &str| format!("resource null.resource r {{\n  input = 1\n}}\n{outputs}");
    write_module(dir, &module("output kept = \"a\"\noutput gone = 1\n"));
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    write_module(dir, &module("output kept = \"b\"\noutput added = [1, 2]\n"));
    let plan = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = text(&plan);
    assert!(shown.contains("Changes to Outputs:"), "{shown}");
    for line in ["  + added = [1, 2]", "  - gone = 1 -> null", "  ~ kept = \"a\" -> \"b\""] {
        assert!(shown.contains(line), "{line}:\n{shown}");
    }
    assert!(!shown.contains("No changes."), "{shown}");
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(text(&infra(dir, &["output"])), "added = [1, 2]\nkept = \"b\"\n");
    let settled = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&settled, 0);
    assert!(text(&settled).contains("No changes."), "{}", text(&settled));
}

/// A long operation reports that it is still running every ten seconds.
#[test]
fn long_operations_report_progress_every_ten_seconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource time.sleep long {\n  create_duration = \"10500ms\"\n}\n");
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let all = text(&output);
    let started = all.find("long: Creating...").expect("start line");
    let still = all.find("long: Still creating... [10s elapsed]").expect("progress line");
    let done = all.find("long: Creation complete after").expect("end line");
    assert!(started < still && still < done, "{all}");
}

/// A provider's error may repeat its configuration (a command's stderr can): when the
/// configuration holds a secret, the secret's text is taken out of the message, and the
/// rest of it (what went wrong) is still shown. A secret too short to look for hides the
/// whole message.
#[test]
fn a_failing_command_cannot_leak_a_secret_through_its_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
input token: string = "tok-987654" {
  sensitive = true
}
input pin: number = 42 {
  sensitive = true
}
resource exec.command leaky {
  create = "echo token ${token} refused >&2; exit 1"
}
resource exec.command short {
  create = "echo using pin ${pin} >&2; exit 1"
}
"#;
    write_module(dir, source);
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let all = text(&output);
    assert!(!all.contains("987654"), "the secret leaked:\n{all}");
    let flat = all.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("token (sensitive value) refused"), "the stderr, scrubbed, is shown:\n{all}");
    assert!(flat.contains("short: the operation failed; its message is hidden"), "{all}");
    assert!(!flat.contains("using pin 42"), "the short secret's message is hidden whole:\n{all}");
    assert_eq!(flat.matches("E0610").count(), 2, "{all}");
}

/// After an apply, `infra console` reads resource attributes from the state.
#[test]
fn console_reads_applied_attributes_from_the_state() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file note for n in [\"a\", \"b\"] {\n  path    = \"out/${n}.txt\"\n  content = n\n}\nresource random.password pw {\n  length = 8\n}\n");
    let before = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
            .arg("console")
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("console");
        let _ = child.stdin.take().map(|mut s| s.write_all(b"pw.result\n"));
        child.wait_with_output().expect("console ends")
    };
    assert_eq!(String::from_utf8_lossy(&before.stdout), "(known after apply)\n");
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .arg("console")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("console");
    let _ = child.stdin.take().map(|mut s| s.write_all(b"note[\"b\"].path\nnote[\"a\"].size\npw.result\n"));
    let after = child.wait_with_output().expect("console ends");
    assert_eq!(String::from_utf8_lossy(&after.stdout), "\"out/b.txt\"\n1\n(sensitive value)\n");
}

#[test]
fn create_before_destroy_creates_the_new_object_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let config = |path: &str| {
        format!("resource local.file f {{\n  path    = \"{path}\"\n  content = \"x\"\n  lifecycle {{ create_before_destroy = true }}\n}}\n")
    };
    write_module(dir, &config("out/old.txt"));
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    write_module(dir, &config("out/new.txt"));
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let all = text(&output);
    let created = all.find("f: Creation complete").expect("created");
    let deleted = all.find("f (deposed object): Destruction complete").expect("old one deleted");
    assert!(created < deleted, "{all}");
    assert_eq!(read(dir, "out/new.txt").as_deref(), Some("x"));
    assert_eq!(read(dir, "out/old.txt"), None);
    let list = infra(dir, &["state", "list"]);
    assert_eq!(String::from_utf8_lossy(&list.stdout), "f\n");
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
}

/// A create's completion is journaled as what differs from its begin: Infra killed
/// after the objects exist (and before compaction), the reloaded state records each
/// one whole, as on disk, and the next apply has nothing to change in them.
#[test]
fn objects_created_before_a_kill_are_reloaded_whole_from_the_journal() {
    use infra_runtime::state::{LocalBackend, StateBackend, Status};
    const FILES: usize = 8;
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        &format!(
            r#"
resource local.file out for i in range({FILES}) {{
  path    = "out/file-${{i}}.txt"
  content = "file ${{i}}"
}}

resource time.sleep after {{
  create_duration = "60s"
  depends_on      = [out]
}}
"#
        ),
    );
    let mut child = spawn_quiet(dir, &["apply", "--auto-approve"]);
    // Killed once every file's completion is in the journal (the sleep has begun).
    let journal = dir.join("infra.state.journal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains(r#""address":"after""#)) {
        assert!(std::time::Instant::now() < deadline, "the apply never began `after`");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let written = std::fs::read_to_string(&journal).expect("journal");
    let completions: Vec<serde_json::Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
        .filter(|entry: &serde_json::Value| entry["op"] == "complete-changes")
        .collect();
    assert_eq!(completions.len(), FILES, "{written}");
    assert!(completions.iter().all(|c| c["attributes"].get("content").is_none()), "{written}");

    let loaded = LocalBackend::new(dir.to_path_buf()).load().expect("load");
    for i in 0..FILES {
        let address: infra_runtime::address::Address = format!("out[{i}]").parse().expect("address");
        let instance = &loaded.state.instances[&address];
        assert_eq!(instance.status, Status::Created, "{address}");
        let attribute = |name: &str| instance.attributes.get(name).and_then(|v| v.as_str()).map(str::to_string);
        let on_disk = read(dir, &format!("out/file-{i}.txt"));
        assert_eq!(attribute("content"), on_disk, "{address}");
        assert_eq!(attribute("path").as_deref(), Some(format!("out/file-{i}.txt").as_str()), "{address}");
        assert!(attribute("id").is_some(), "{address}");
    }
    let plan = infra(dir, &["plan", "--target", "out"]);
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
}

/// A completion reaches the journal on disk before anything that depends on it begins,
/// and, when nothing else is about to be written, while the apply waits for other work.
#[test]
fn completions_are_on_disk_before_dependents_begin_and_while_the_apply_waits() {
    let completed = |dir: &Path, file: &str, address: &str| {
        let journal = read(dir, file).unwrap_or_else(|| panic!("{file} was not written"));
        journal.lines().any(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("a journal line is JSON");
            // A create's completion carries what differs from its begin.
            matches!(entry["op"].as_str(), Some("complete" | "complete-changes")) && entry["address"] == address
        })
    };

    // Applies a module in a directory of its own, where a command copies the journal.
    let apply = |source: &str| {
        let dir = tempfile::tempdir().expect("temp dir");
        write_module(dir.path(), source);
        assert_exit(&infra(dir.path(), &["apply", "--auto-approve"]), 0);
        dir
    };

    let chain = apply(
        r#"
resource exec.command first {
  create = "true"
}

resource exec.command second {
  create     = "cp infra.state.journal seen.journal"
  depends_on = [first]
}
"#,
    );
    assert!(completed(chain.path(), "seen.journal", "first"), "`first` was confirmed before `second` began");

    // Nothing begins after `quick`: its completion is written while `watcher` runs.
    let idle = apply(
        r#"
resource exec.command quick {
  create = "true"
}

resource exec.command watcher {
  create = "sleep 2 && cp infra.state.journal seen.journal"
}
"#,
    );
    assert!(completed(idle.path(), "seen.journal", "quick"), "`quick` was confirmed while the apply waited");
    assert!(!completed(idle.path(), "seen.journal", "watcher"), "the copy was taken while `watcher` ran");
}

/// Outputs are a namespace of their own (#18 item 11): a module takes `hostname` in and
/// gives `hostname` out, and so does the root. Inside each module `hostname` is the
/// input; the caller's `server.hostname` and the saved output are the output.
#[test]
fn a_module_gives_hostname_back_under_the_name_it_takes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input hostname: string = \"web1\"\n\
         module server \"./server\" { hostname = hostname }\n\
         output hostname = server.hostname\n\
         output motd = server.motd\n\
         output ports = { web = [80, 443], weight = 0.5, on = true }\n",
    );
    std::fs::create_dir_all(dir.join("server")).expect("mkdir");
    std::fs::write(
        dir.join("server/main.infra"),
        "input hostname: string\n\
         let fqdn = \"${hostname}.example.test\"\n\
         resource local.file motd {\n  path    = \"out/${hostname}.txt\"\n  content = fqdn\n}\n\
         output hostname = fqdn\n\
         output motd = motd.path\n",
    )
    .expect("write module");
    let output = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert_eq!(read(dir, "out/web1.txt").as_deref(), Some("web1.example.test"));
    let saved = infra(dir, &["output", "hostname"]);
    assert_eq!(text(&saved).trim(), "\"web1.example.test\"");
    let json = infra(dir, &["output", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["hostname"]["value"], "web1.example.test");
    assert_eq!(json["motd"]["value"], "out/web1.txt");
    // Values are JSON, for `jq`: not strings of the language's syntax.
    assert_eq!(json["ports"]["value"], serde_json::json!({ "web": [80, 443], "weight": 0.5, "on": true }));
    let plan = infra(dir, &["plan"]);
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    // A new input value reaches the module's input, not its output of the same name.
    let plan = infra(dir, &["plan", "--var", "hostname=web2"]);
    let shown = text(&plan);
    assert!(shown.contains("server.motd must be replaced"), "{shown}");
    assert!(shown.contains("\"web2.example.test\""), "{shown}");
    assert_exit(&infra(dir, &["apply", "--auto-approve", "--var", "hostname=web2"]), 0);
    assert_eq!(read(dir, "out/web2.txt").as_deref(), Some("web2.example.test"));
    assert_eq!(text(&infra(dir, &["output", "hostname"])).trim(), "\"web2.example.test\"");
}

/// A provider's warning (W0610) is shown on the attribute it names by `plan` and by
/// `apply` (once, though an apply plans the instance again), listed by `plan --json`,
/// and fails nothing.
#[test]
fn a_providers_warning_is_shown_on_its_attribute_once_and_fails_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource tls.private_key deploy {\n  algorithm = \"ED25519\"\n  rsa_bits  = 4096\n}\n");
    let plan = infra(dir, &["plan"]);
    assert_exit(&plan, 0);
    let shown = text(&plan);
    assert!(shown.contains("W0610") && shown.contains("`rsa_bits` has no effect on an ED25519 key"), "{shown}");
    assert!(shown.contains("main.infra:3:15"), "on `rsa_bits`: {shown}");
    assert!(shown.contains("set `algorithm = \"RSA\"`"), "with the provider's help: {shown}");

    let json = infra(dir, &["plan", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan --json");
    assert_eq!(parsed["warnings"][0]["code"], "W0610", "{parsed}");

    let apply = infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    let shown = text(&apply);
    assert_eq!(shown.matches("W0610").count(), 1, "one warning, once: {shown}");
    assert!(shown.contains("1 added"), "{shown}");

    // Without `rsa_bits` there is nothing to warn of.
    write_module(dir, "resource tls.private_key deploy {\n  algorithm = \"ED25519\"\n}\n");
    let clean = infra(dir, &["plan"]);
    assert!(!text(&clean).contains("W0610"), "{}", text(&clean));
}
