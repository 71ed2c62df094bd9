//! Regression tests for engine bugs found in review; each names the bug it pins.

use std::path::Path;

mod common;

use common::{outcome as infra, write_module as module};

fn state_list(dir: &Path) -> String {
    infra(dir, &["state", "list"]).1
}

/// Bug: a failure in one declaration marked concurrent healthy ones as failed, and the
/// instances of skipped declarations were then deleted as orphans.
#[test]
fn a_failure_never_destroys_unrelated_existing_objects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let base = r#"
resource time.sleep b {
  create_duration = "300ms"
  triggers        = { v = "VERSION" }
}
resource exec.command c {
  create      = "echo c"
  destroy     = "echo destroyed-c >> log.txt"
  environment = { X = b.create_duration }
}
"#;
    module(dir, &base.replace("VERSION", "1"));
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let failing = format!("{}\nresource exec.command a {{\n  create = \"exit 3\"\n}}\n", base.replace("VERSION", "2"));
    module(dir, &failing);
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(!dir.join("log.txt").exists(), "c was destroyed:\n{text}");
    assert!(state_list(dir).contains("c\n"), "c is still in state");
}

/// Bug: `--exclude X` deleted what depends on X.
#[test]
fn exclude_never_destroys_dependents_of_the_excluded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource null.resource a {\n  input = 1\n}\nresource exec.command c {\n  create      = \"echo c\"\n  destroy     = \"echo destroyed >> log.txt\"\n  environment = { X = a.output }\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--exclude", "a"]);
    assert_eq!(code, 0, "{text}");
    assert!(!dir.join("log.txt").exists(), "{text}");
    assert_eq!(state_list(dir), "a\nc\n");
}

/// Bug: when the new object of a create-before-destroy replacement failed to create,
/// the old (still live) object was deleted as a deposed orphan.
#[test]
fn a_failed_create_before_destroy_keeps_the_live_object() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = |create: &str, v: &str| {
        format!("resource exec.command w {{\n  create   = \"{create}\"\n  destroy  = \"echo destroyed >> log.txt\"\n  triggers = {{ v = \"{v}\" }}\n  lifecycle {{ create_before_destroy = true }}\n}}\n")
    };
    module(dir, &source("echo ok", "1"));
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    module(dir, &source("exit 4", "2"));
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(!dir.join("log.txt").exists(), "the live object was destroyed:\n{text}");
    assert_eq!(state_list(dir), "w\n");
}

/// Bug: an output reading a failed or unselected resource was unknown, and the unknown
/// value stopped the state snapshot from being written.
#[test]
fn unknown_outputs_do_not_stop_the_state_from_being_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource exec.command bad {\n  create = \"exit 1\"\n}\nresource null.resource good {\n  input = 1\n}\noutput o = bad.id\n");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("E0706"), "{text}");
    assert!(dir.join("infra.state.json").exists());
    assert_eq!(state_list(dir), "good\n");
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--target", "good"]);
    assert_eq!(code, 0, "{text}");
}

/// Bug: `prevent_destroy` was only checked for deletions, not for replacements.
#[test]
fn prevent_destroy_also_stops_replacements() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = |path: &str| {
        format!("resource local.file k {{\n  path    = \"{path}\"\n  content = \"k\"\n  lifecycle {{ prevent_destroy = true }}\n}}\n")
    };
    module(dir, &source("out/k.txt"));
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--replace", "k"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("prevent_destroy"), "{text}");
    module(dir, &source("out/moved.txt"));
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 1);
    assert!(dir.join("out/k.txt").exists());
}

/// Bug: a dependent skipped after one dependency failed had its wait count reset, and
/// a later dependency finishing underflowed it (a panic in debug builds).
#[test]
fn a_skipped_dependent_with_a_slow_second_dependency_does_not_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
resource exec.command w {
  create = "exit 1"
}
resource null.resource x {
  input = w.id
}
resource time.sleep y {
  create_duration = "500ms"
}
resource null.resource d {
  input = [x.id, y.id]
}
"#;
    module(dir, source);
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(text.contains("x: skipped") && text.contains("d: skipped"), "{text}");
    assert_eq!(state_list(dir), "y\n");
}

/// Bug: with no resource changes, apply returned before saving new outputs or what
/// refresh found.
#[test]
fn output_only_changes_are_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource null.resource a {\n  input = \"x\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    module(dir, "resource null.resource a {\n  input = \"x\"\n}\noutput o = a.output\n");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(infra(dir, &["output", "o"]).1, "\"x\"\n");
}

/// Bug: a failed delete printed the provider's message even when the object held a
/// secret, and failure messages were written to the journal.
#[test]
fn a_failed_delete_does_not_print_a_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "input t: string = \"hunter2\" {\n  sensitive = true\n}\nresource exec.command s {\n  create  = \"echo ok\"\n  destroy = \"echo bad-${t} >&2; exit 1\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let (code, text) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let journal = std::fs::read_to_string(dir.join("infra.state.journal")).unwrap_or_default();
    assert!(!journal.contains("hunter2"), "{journal}");
}

/// A provider's message about an object made from an earlier secret: replacing it runs
/// its old `destroy` command, whose stderr quotes the old token. The new configuration's
/// secrets cannot account for the old one spliced into the stored command, so the message
/// is hidden whole rather than shown with only the new token taken out.
#[test]
fn a_message_about_an_object_holding_an_older_secret_is_hidden() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = |token: &str| {
        format!(
            "input t: string = \"{token}\" {{\n  sensitive = true\n}}\nresource exec.command s {{\n  create  = \"echo ${{t}}\"\n  destroy = \"echo bad-${{t}} >&2; exit 1\"\n}}\n"
        )
    };
    module(dir, &source("oldSecret771"));
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    module(dir, &source("newSecret882"));
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--replace", "s"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("oldSecret771") && !text.contains("newSecret882"), "{text}");
    assert!(text.contains("message is hidden"), "{text}");
}

/// Bug: the defaults of `optional(T, default)` object fields were never filled in, so a
/// field left out was `null` at run time (and `settings.debug ? ...` failed) although
/// the checker typed it as the field's type.
#[test]
fn optional_field_defaults_are_filled_in_root_and_module_inputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("svc")).expect("mkdir");
    std::fs::write(
        dir.join("svc/main.infra"),
        "input spec: object({ port = number, tags = optional(list(string), [\"base\"]) })\n\
         output summary = \"${spec.port}:${join(\",\", spec.tags)}\"\n",
    )
    .expect("write module");
    module(
        dir,
        r#"
input envs: map(object({ replicas = number, debug = optional(bool, false) })) = {
  dev  = { replicas = 1, debug = true }
  prod = { replicas = 3 }
}
module svc "./svc" {
  spec = { port = 80 }
}
output modes = { for name, e in envs : name => e.debug ? "debug" : "info" }
output service = svc.summary
"#,
    );
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(r#"modes = { dev = "debug", prod = "info" }"#), "{text}");
    assert!(text.contains(r#"service = "80:base""#), "{text}");
    // A value given on the command line gets the defaults too.
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--var", "envs={ qa = { replicas = 2 } }"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(r#"modes = { qa = "info" }"#), "{text}");
}

/// Bug: a function parameter's `optional(T, default)` fields stayed `null`, although
/// inputs of the same type got their defaults.
#[test]
fn optional_field_defaults_are_filled_in_function_arguments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "fn port(o: object({ port = optional(number, 80) })): number = o.port
\
         fn all(o: list(object({ port = optional(number, 80) }))): any = o
\
         output ports = [port({}), port({ port = 8080 }), all([{}])[0].port]
",
    );
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(infra(dir, &["output", "ports"]).1, "[80, 8080, 80]\n");
}

/// Bug: changing a declaration's resource type under the same name was planned as an
/// update; the apply left the old object (a file on disk) behind and dropped it from
/// the state.
#[test]
fn changing_a_resource_type_deletes_the_old_object_with_its_own_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"x\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    assert!(dir.join("out/a.txt").exists());
    module(dir, "resource null.resource a {\n  input = 1\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n");
    let (code, plan) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{plan}");
    assert!(plan.contains("a must be replaced because its resource type changed"), "{plan}");
    assert!(plan.contains("Plan: 1 to add, 0 to change, 1 to destroy."), "{plan}");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert!(!dir.join("out/a.txt").exists(), "the old file is deleted:\n{text}");
    let shown = infra(dir, &["state", "show", "a"]).1;
    assert!(shown.contains("null.resource"), "{shown}");
    assert!(infra(dir, &["plan"]).1.contains("No changes."), "converged");
}

/// Every operation ready at once journals its `begin` in one batch (one sync), before
/// it waits for one of the `--parallelism` slots; only those holding a slot print
/// "Creating...". After `kill -9`, what was ready is pending: the next plan says so in
/// one warning, and the next apply makes each object once.
#[test]
fn operations_ready_together_are_journaled_together_and_settled_after_a_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let mut text = String::new();
    for i in 0..6 {
        text.push_str(&format!("resource time.sleep s{i} {{\n  create_duration = \"400ms\"\n}}\n"));
    }
    module(dir, &text);
    let mut child = common::command(dir, &["apply", "--auto-approve", "--parallelism", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs");
    std::thread::sleep(std::time::Duration::from_millis(600));
    child.kill().expect("kills");
    let output = child.wait_with_output().expect("waits");
    let printed = String::from_utf8_lossy(&output.stdout);
    let creating = printed.matches("Creating...").count();
    assert!(creating <= 4, "only slot holders start: {printed}");
    let journal = std::fs::read_to_string(dir.join("infra.state.journal")).unwrap_or_default();
    let begins = journal.lines().filter(|l| l.contains("\"op\":\"begin\"")).count();
    assert!(begins >= 6, "the six ready creates are journaled together:\n{journal}");

    let (code, plan) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{plan}");
    assert!(plan.contains("began and were never confirmed"), "one warning for them all: {plan}");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(state_list(dir).lines().count(), 6);
    assert!(infra(dir, &["plan"]).1.contains("No changes."), "converged");
    let (code, text) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(state_list(dir), "");
}

/// Applies a module of one `local.file kept`, and gives the journal line of a `create` of
/// a `local.file` at an address, with attributes (JSON), begun and never confirmed.
fn applied_with_pending_creates(dir: &Path) -> impl Fn(&str, &str) -> String {
    module(dir, "resource local.file kept {\n  path    = \"out/kept.txt\"\n  content = \"k\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("infra.state.json")).expect("state")).expect("json");
    let serial = state["serial"].as_u64().expect("serial");
    move |address: &str, attributes: &str| {
        format!(
            "{{\"op\":\"begin\",\"action\":\"create\",\"address\":\"{address}\",\"serial\":{serial},\"mode\":\"managed\",\
             \"type\":\"local.file\",\"provider\":\"local\",\"attributes\":{attributes}}}\n"
        )
    }
}

/// Bug: a create that began and was never confirmed, recorded with no attributes (as
/// journals written before creates carried them), made `destroy` fail every time once
/// its declaration was gone (`E0610 early[0]: path is not set`).
#[test]
fn a_pending_create_with_nothing_to_read_by_does_not_wedge_destroy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let begin = applied_with_pending_creates(dir);
    std::fs::create_dir_all(dir.join("out")).expect("dir");
    std::fs::write(dir.join("out/made.txt"), "m").expect("writes");
    let journal = begin("early[0]", "{}") + &begin("made", "{\"path\":\"out/made.txt\",\"content\":\"m\"}");
    std::fs::write(dir.join("infra.state.journal"), journal).expect("writes");
    let listed = state_list(dir);
    assert!(listed.contains("early[0]") && listed.contains("made"), "{listed}");
    let (code, text) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(state_list(dir), "");
    assert!(!dir.join("out/made.txt").exists(), "the object a pending create made is deleted");
    assert!(!dir.join("out/kept.txt").exists());
}

/// Bug: a dependency cycle in the state (edited by hand) made `destroy` exit 0 with the
/// instances on the cycle left in place.
#[test]
fn a_dependency_cycle_in_the_state_fails_destroy_instead_of_passing_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"a\"\n}\n\
         resource local.file b {\n  path    = \"out/b.txt\"\n  content = a.path\n}\n",
    );
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let path = dir.join("infra.state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("json");
    for instance in state["instances"].as_array_mut().expect("instances") {
        if instance["address"] == "a" {
            instance["dependencies"] = serde_json::json!(["b"]);
        }
    }
    std::fs::write(&path, serde_json::to_string(&state).expect("json")).expect("writes");
    let (code, text) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("error[E0727]") && text.contains("not deleted: a, b"), "{text}");
    assert!(state_list(dir).contains('a'), "nothing on the cycle is forgotten");
}

/// Bug: `destroy` deleted the unprotected objects and only then stopped at one with
/// `prevent_destroy`; the whole destroy is refused before anything is deleted.
#[test]
fn a_protected_instance_refuses_the_whole_destroy_before_anything_is_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        r#"
resource local.file other {
  path    = "out/other.txt"
  content = "o"
}
resource local.file guarded {
  path    = "out/guarded.txt"
  content = "g"
  lifecycle { prevent_destroy = true }
}
"#,
    );
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let (code, output) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("E0607") && output.contains("guarded cannot be destroyed"), "{output}");
    assert!(!output.contains("Destroying"), "nothing is deleted:\n{output}");
    assert!(dir.join("out/other.txt").exists() && dir.join("out/guarded.txt").exists());
    assert_eq!(state_list(dir).lines().count(), 2, "both are still in state");
    // Targeting only the unprotected one destroys it.
    assert_eq!(infra(dir, &["destroy", "--auto-approve", "--target", "other"]).0, 0);
    assert!(!dir.join("out/other.txt").exists());
}

/// Bug: a `prevent_destroy` that uses the `for` variable counted as set for every
/// instance that was to be deleted, since it was evaluated without the variable.
#[test]
fn prevent_destroy_is_evaluated_with_the_instance_key_of_what_is_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
input envs: list(string) = ["staging", "prod"]
resource local.file db for env in envs {
  path    = "out/${env}.conf"
  content = env
  lifecycle { prevent_destroy = env == "prod" }
}
resource local.file tagged for k, v in { a = 1, b = 2 } {
  path    = "out/${k}.txt"
  content = "${v}"
  lifecycle { prevent_destroy = k == "zzz" }
}
"#;
    module(dir, source);
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    // staging leaves the list: it is not protected, so it goes.
    let (code, output) = infra(dir, &["apply", "--auto-approve", "--var", r#"envs=["prod"]"#]);
    assert_eq!(code, 0, "{output}");
    assert!(!dir.join("out/staging.conf").exists() && dir.join("out/prod.conf").exists());
    // prod leaving is refused, and so is a destroy, which would delete it; `tagged`'s
    // condition is false for every key, so only `db["prod"]` is named.
    let (code, output) = infra(dir, &["apply", "--auto-approve", "--var", "envs=[]"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains(r#"db["prod"] cannot be destroyed"#), "{output}");
    let (code, output) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains(r#"db["prod"] cannot be destroyed"#), "{output}");
    assert!(!output.contains("tagged"), "{output}");
    assert!(dir.join("out/prod.conf").exists() && dir.join("out/a.txt").exists());
    assert_eq!(infra(dir, &["destroy", "--auto-approve", "--target", "tagged"]).0, 0);
    assert!(!dir.join("out/a.txt").exists() && !dir.join("out/b.txt").exists());
}

/// Bug: a `local.file` replaced with `create_before_destroy` at the same path lost its
/// file: the new one was written, then deleting the old one removed it, and the next
/// plan blamed an outside change. A file that moves is still deleted at its old path.
#[test]
fn create_before_destroy_keeps_a_file_replaced_at_the_same_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = r#"
input rel: string = "1"
input name: string = "cbd"
resource local.file cbd {
  path    = "out/${name}.txt"
  content = "v${rel}"
  lifecycle {
    create_before_destroy = true
    replace_when          = [rel]
  }
}
"#;
    module(dir, source);
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let (code, output) = infra(dir, &["apply", "--auto-approve", "--var", "rel=2"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("1 added, 0 changed, 1 destroyed"), "{output}");
    assert_eq!(std::fs::read_to_string(dir.join("out/cbd.txt")).ok().as_deref(), Some("v2"));
    let (code, output) = infra(dir, &["plan", "--detailed-exitcode", "--var", "rel=2"]);
    assert_eq!(code, 0, "{output}");
    // Replaced with a new path, the old file goes.
    let (code, output) = infra(dir, &["apply", "--auto-approve", "--var", "rel=3", "--var", "name=moved"]);
    assert_eq!(code, 0, "{output}");
    assert!(!dir.join("out/cbd.txt").exists());
    assert_eq!(std::fs::read_to_string(dir.join("out/moved.txt")).ok().as_deref(), Some("v3"));
}

/// Bug: a `local.file` written over a file that was already there, without `mode`, made
/// it `0644`: a file of secrets kept at `0600` became readable by everyone.
#[test]
fn a_file_infra_takes_over_keeps_its_mode_unless_one_is_configured() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("out")).expect("mkdir");
    std::fs::write(dir.join("out/pre.txt"), "old").expect("write");
    std::fs::set_permissions(dir.join("out/pre.txt"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    module(dir, "resource local.file pre {\n  path    = \"out/pre.txt\"\n  content = \"new\"\n}\n");
    let (code, output) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{output}");
    let mode = || std::fs::metadata(dir.join("out/pre.txt")).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(), 0o600, "{output}");
    assert_eq!(std::fs::read_to_string(dir.join("out/pre.txt")).ok().as_deref(), Some("new"));
    let (code, output) = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{output}");
    // A new file gets the default.
    module(dir, "resource local.file fresh {\n  path    = \"out/fresh.txt\"\n  content = \"f\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let fresh = std::fs::metadata(dir.join("out/fresh.txt")).expect("stat").permissions().mode() & 0o777;
    assert_eq!(fresh, 0o644);
}

/// Bug: once any declaration failed, no top-level `check` ran, so a failed apply did not
/// say which promises the rest of the configuration broke. A check of what succeeded
/// still runs; one that needs what failed is left out, not reported as broken.
#[test]
fn checks_of_what_succeeded_run_after_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        r#"
resource null.resource a {
  input = "x"
}
resource exec.command fail {
  create = "exit 1"
}
check length(a.id) > 100, "the id of a is too short"
check fail.id != "", "never evaluated: fail has no id"
"#,
    );
    let (code, output) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("the id of a is too short"), "{output}");
    assert_eq!(output.matches("check failed").count(), 1, "only the check of `a`:\n{output}");
    assert!(output.contains("the `create` command failed"), "{output}");
}

/// Bug: `destroy` (and `apply`) showed their plan without the notes `plan` gives for
/// operations an earlier run began and never confirmed.
#[test]
fn destroy_names_operations_that_were_never_confirmed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file c {\n  path    = \"out/c.txt\"\n  content = \"c\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("infra.state.json")).expect("state")).expect("json");
    let serial = state["serial"].as_u64().expect("serial");
    // As a run killed while deleting `c` leaves it.
    let begin = format!(r#"{{"op":"begin","action":"delete","address":"c","serial":{serial}}}"#);
    std::fs::write(dir.join("infra.state.journal"), begin + "\n").expect("journal");
    let (code, output) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("a delete of c began but was never confirmed"), "{output}");
    assert!(!dir.join("out/c.txt").exists());
}

/// Bug: a create that began and was never confirmed, no longer declared and whose object
/// does not exist, was shown and counted as destroyed; only its record goes, and the
/// plan says so. One whose object does exist is still destroyed.
#[test]
fn a_pending_create_whose_object_is_missing_plans_a_forget_not_a_destroy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let pending = applied_with_pending_creates(dir);
    let begin = |address: &str, path: &str| pending(address, &format!("{{\"path\":\"{path}\",\"content\":\"x\"}}"));
    std::fs::write(dir.join("out/made.txt"), "x").expect("writes");
    let journal = begin("gone", "out/never.txt") + &begin("made", "out/made.txt");
    std::fs::write(dir.join("infra.state.journal"), journal).expect("writes");
    let (code, text) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("# gone will be forgotten"), "{text}");
    assert!(text.contains("# made will be destroyed"), "{text}");
    assert!(text.contains("0 to add, 0 to change, 1 to destroy, 1 to forget"), "{text}");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(state_list(dir), "kept\n");
    assert!(!dir.join("out/made.txt").exists(), "the object a pending create made is deleted");
    assert!(infra(dir, &["plan"]).1.contains("No changes."));
}

/// Bug: `nullable = false` was accepted and ignored, and a root input set to `null` in a
/// var file was null instead of its default (a module's input already took its default).
/// `null` now means the default wherever there is one, and an input that is not
/// nullable refuses it otherwise, at the call or in the var file.
#[test]
fn null_means_the_default_and_nullable_false_refuses_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("child")).expect("mkdir");
    std::fs::write(dir.join("child/main.infra"), "input x: string { nullable = false }\noutput x = x\n")
        .expect("write");
    let root = |call: &str| {
        format!(
            "input nd: string = \"d\" {{ nullable = false }}\ninput nn: string {{ nullable = false }}\n\
             input plain: string = \"p\"\ninput free: string\nmodule m \"./child\" {{ x = {call} }}\n\
             output all = [nd, nn, plain, free == null ? \"null\" : free, m.x]\n"
        )
    };
    module(dir, &root("\"v\""));
    std::fs::write(dir.join("v.vars"), "nd = null\nnn = \"n\"\nplain = null\nfree = null\n").expect("write");
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--var-file", "v.vars"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(infra(dir, &["output", "all"]).1, "[\"d\", \"n\", \"p\", \"null\", \"v\"]\n");

    std::fs::write(dir.join("v.vars"), "nn = null\nfree = \"f\"\n").expect("write");
    let (code, text) = infra(dir, &["plan", "--var-file", "v.vars"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("input `nn` cannot be null") && text.contains("v.vars:1:1"), "{text}");

    module(dir, &root("null"));
    let (code, text) = infra(dir, &["plan", "--var", "nn=n", "--var", "free=f"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("input `x` of module `m` cannot be null"), "{text}");
    assert!(text.contains("declared with `nullable = false`"), "{text}");
}

/// Bug: `bcrypt` makes a new salt each call, so a resource set from it was updated (or,
/// in `triggers`, replaced) after every apply, and a saved plan with one never applied.
/// The plan keeps the hash the state holds while it is one of the same string at the
/// same cost; a new string or cost gives a new hash.
#[test]
fn a_bcrypt_hash_settles_and_changes_only_with_its_string_or_cost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let source = |password: &str, cost: u32| {
        format!(
            "resource null.resource r {{\n  input = bcrypt(\"{password}\", {cost})\n}}\n\
             resource null.resource u {{\n  triggers = {{ h = bcrypt(\"{password}\", {cost}) }}\n}}\n"
        )
    };
    module(dir, &source("x", 4));
    let (code, text) = infra(dir, &["plan", "--out", "p.plan"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = infra(dir, &["apply", "p.plan"]);
    assert_eq!(code, 0, "a saved plan with a bcrypt hash applies: {text}");
    for _ in 0..2 {
        let (code, text) = infra(dir, &["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "{text}");
    }
    for (password, cost) in [("y", 4), ("y", 5)] {
        module(dir, &source(password, cost));
        let (code, text) = infra(dir, &["plan", "--detailed-exitcode"]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("1 to add, 1 to change, 1 to destroy"), "{text}");
        assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    }
    let state = std::fs::read_to_string(dir.join("infra.state.json")).expect("state");
    assert!(state.contains("\"$2a$05$"), "{state}");
}

/// Bug: a `let` nothing read was never evaluated, so an error in it went unreported
/// (only W0001), where Terraform reports an error in an unused local.
#[test]
fn an_error_in_a_let_nothing_reads_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        r#"
let broken = tonumber("abc")
let _kept  = 1 / 0
let fine   = "ok"
resource null.resource a { input = fine }
output later = a.id
"#,
    );
    let (code, message) = infra(dir, &["plan"]);
    assert_eq!(code, 1, "{message}");
    assert!(message.contains("E0600") && message.contains("cannot convert \"abc\""), "{message}");
    assert!(message.contains("E0601") && message.contains("division by zero"), "{message}");

    // Fixed, the plan goes on; a let reading what is not known yet is not an error.
    module(
        dir,
        r#"
let unread = "id ${a.id}"
resource null.resource a { input = "x" }
"#,
    );
    let (code, applied) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{applied}");
    assert_eq!(state_list(dir), "a\n");
}

/// Bug: `infra refresh` printed none of the providers' warnings, which `plan` shows (an
/// ssh link where a file was: the refresh said the file was deleted, not why).
#[test]
fn refresh_shows_what_the_providers_warned_about() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource tls.private_key k {\n  algorithm = \"ED25519\"\n  rsa_bits  = 4096\n}\n");
    let (code, applied) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{applied}");
    let (code, refreshed) = infra(dir, &["refresh"]);
    assert_eq!(code, 0, "{refreshed}");
    assert!(refreshed.contains("W0610") && refreshed.contains("`rsa_bits` has no effect"), "{refreshed}");
    assert!(refreshed.contains("No changes. The state matches the objects."), "{refreshed}");
}
