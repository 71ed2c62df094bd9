//! `--target`, `--exclude`, `--replace` and saved plans, end to end against the binary:
//! an address that names no instance is an error, not a quiet "No changes"; a targeted
//! plan shows no output change that its apply would not make; a saved plan that no
//! longer applies says what moved. Each test names the bug it pins.

mod common;

use std::path::Path;

use common::{outcome as infra, write_module as module};

/// A repeated resource, one it depends on, a data source, and outputs reading each,
/// one of them sensitive, as a new user's first configuration has them.
const APP: &str = r#"input env: string = "staging"

input db_password: string {
  sensitive = true
}

resource random.id suffix {
  byte_length = 4
  keepers     = { env = env }
}

resource random.password api_token {
  length = 16
}

resource local.file single {
  path    = "out/single.txt"
  content = "one"
}

resource local.file app_conf for i in range(2) {
  path    = "out/app-${i}.conf"
  content = "name = app-${suffix.hex}-${i}\npassword = ${db_password}\n"
}

data exec.json host {
  program = ["sh", "-c", "cat >/dev/null; echo '{\"name\":\"box\"}'"]
}

output suffix = suffix.hex
output token = api_token.result {
  sensitive = true
}
output host = host.result.name
output conf_paths = [for f in app_conf : f.path]
"#;

const PASSWORD: [&str; 2] = ["--var", "db_password=TopSecretValue"];

/// `infra ARGS --var db_password=...`.
fn args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    args.iter().copied().chain(PASSWORD).collect()
}

/// A directory with `APP` applied.
fn applied() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    module(dir.path(), APP);
    ok(dir.path(), &args(&["apply", "--auto-approve"]));
    dir
}

/// What a command printed with its diagnostics' lines joined: a message wrapped at the
/// terminal's width (`│` in the gutter) reads as one line.
fn flat(text: &str) -> String {
    let words = text.lines().map(|line| line.trim().trim_start_matches('│')).flat_map(str::split_whitespace);
    words.collect::<Vec<_>>().join(" ")
}

/// Runs `infra ARGS` in `dir`, which must succeed; what it printed, flattened.
#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    flat(&common::ok(dir, args))
}

/// Runs `infra ARGS` in `dir`, which must fail with exit code 1; what it printed,
/// flattened.
#[track_caller]
fn fails(dir: &Path, args: &[&str]) -> String {
    flat(&common::fails(dir, args))
}

fn state_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("infra.state.json")).expect("the state")
}

/// Bug: `--target 'app_conf[9]'`, `--exclude 'app_conf[9]'` and `--replace 'app_conf[9]'`
/// named a declaration that exists with a key that does not, and planned "No changes"
/// with exit 0; docs/cli.md promises E0726 for an address that matches nothing.
#[test]
fn an_instance_key_that_names_no_instance_is_e0726_listing_the_instances() {
    let dir = applied();
    let dir = dir.path();
    let before = state_text(dir);
    for command in [
        &["plan", "--target", "app_conf[9]"][..],
        &["plan", "--exclude", "app_conf[9]"],
        &["plan", "--replace", "app_conf[9]"],
        &["plan", "--detailed-exitcode", "--target", "app_conf[9]"],
        &["apply", "--auto-approve", "--target", "app_conf[9]"],
        &["destroy", "--auto-approve", "--target", "app_conf[9]"],
    ] {
        let text = fails(dir, &args(command));
        let flag = command.iter().find(|a| a.starts_with("--t") || a.starts_with("--e") || a.starts_with("--r"));
        let flag = flag.expect("a selection flag");
        assert!(text.contains("error[E0726]"), "{command:?}: {text}");
        assert!(text.contains(&format!("`{flag} app_conf[9]` matches nothing")), "{command:?}: {text}");
        assert!(
            text.contains("help: `app_conf` has these instances: `app_conf[0]`, `app_conf[1]`"),
            "{command:?}: {text}"
        );
        // A command-line flag has no place in a file to point at.
        assert!(!text.contains("main.infra"), "{command:?}: {text}");
        assert!(!text.contains("No changes"), "{command:?}: {text}");
    }
    assert_eq!(state_text(dir), before, "nothing was applied or destroyed");
    // The instances that exist are still accepted.
    let text = ok(dir, &args(&["plan", "--target", "app_conf[1]", "--exclude", "app_conf[0]"]));
    assert!(text.contains("No changes"), "{text}");
}

/// Bug: `--replace app_conf`, the whole declaration of two instances, said "No changes"
/// and replaced nothing, and `--replace host` (a data source) did the same. Replacing
/// is destructive: one address replaces one instance, and every one to replace is
/// named; Terraform warns and replaces nothing, Infra refuses.
#[test]
fn replace_takes_one_managed_instance_and_names_each_of_a_declaration() {
    let dir = applied();
    let dir = dir.path();
    let text = fails(dir, &args(&["plan", "--replace", "app_conf"]));
    assert!(text.contains("error[E0726]"), "{text}");
    assert!(text.contains("`--replace app_conf` must name one instance, and `app_conf` has 2 instances"), "{text}");
    assert!(text.contains("`--replace 'app_conf[0]'`, `--replace 'app_conf[1]'`"), "{text}");
    let text = fails(dir, &args(&["apply", "--auto-approve", "--replace", "app_conf"]));
    assert!(text.contains("error[E0726]"), "{text}");

    let text = fails(dir, &args(&["plan", "--replace", "host"]));
    assert!(text.contains("error[E0726]") && text.contains("names a data source"), "{text}");
    assert!(text.contains("help: "), "{text}");

    // One instance, or a declaration of one instance, is replaced.
    let text = ok(dir, &args(&["plan", "--replace", "app_conf[1]"]));
    assert!(text.contains("app_conf[1] must be replaced because of `--replace`"), "{text}");
    assert!(text.contains("Plan: 1 to add, 0 to change, 1 to destroy."), "{text}");
    let text = ok(dir, &args(&["plan", "--replace", "single"]));
    assert!(text.contains("single must be replaced because of `--replace`"), "{text}");
}

/// Bug: with everything applied, `plan --target 'app_conf[0]'` listed the outputs that
/// read what the target leaves out as changing (`~ host = "box" -> (known after
/// apply)`, `~ token = (sensitive value)`), said "Applying saves these output values",
/// and `--detailed-exitcode` exited 2, while the apply changed nothing.
#[test]
fn a_targeted_plan_shows_no_output_change_its_apply_would_not_make() {
    let dir = applied();
    let dir = dir.path();
    let outputs = ok(dir, &["output", "--json"]);
    for selection in [&["--target", "app_conf[0]"][..], &["--target", "single"], &["--exclude", "api_token"]] {
        let plan: Vec<&str> = ["plan", "--detailed-exitcode"].iter().chain(selection).copied().collect();
        let (code, text) = infra(dir, &args(&plan));
        assert_eq!(code, 0, "{selection:?}: {text}");
        assert!(text.contains("No changes."), "{selection:?}: {text}");
        assert!(!text.contains("Changes to Outputs"), "{selection:?}: {text}");
        let apply: Vec<&str> = ["apply", "--auto-approve"].iter().chain(selection).copied().collect();
        ok(dir, &args(&apply));
        assert_eq!(ok(dir, &["output", "--json"]), outputs, "{selection:?}: the outputs are as they were");
    }

    // An output that reads only what the selection plans still changes with it; the
    // others keep their values.
    let text = ok(dir, &args(&["plan", "--target", "suffix", "--var", "env=prod"]));
    assert!(text.contains("suffix = (known after apply)"), "{text}");
    assert!(text.contains("host = \"box\""), "{text}");
    assert!(!text.contains("host = (known after apply)"), "{text}");
}

/// Bug: a saved plan refused with E0710 said only "the configuration or the input
/// values changed since it was saved", although docs/cli.md says it names what moved.
#[test]
fn a_saved_plan_that_no_longer_applies_names_what_moved() {
    let dir = applied();
    let dir = dir.path();
    ok(dir, &args(&["plan", "--out", "saved.plan", "--var", "env=prod"]));

    // A sensitive input's value: named, never shown.
    let text = fails(dir, &["apply", "saved.plan", "--var", "env=prod", "--var", "db_password=Other"]);
    assert!(text.contains("error[E0710]"), "{text}");
    assert!(text.contains("`db_password` is not the value it was planned with"), "{text}");
    assert!(!text.contains("Other") && !text.contains("TopSecretValue"), "{text}");
    assert!(text.contains("--var"), "the help says to give the same values: {text}");
    let text = fails(dir, &args(&["apply", "saved.plan"]));
    assert!(text.contains("`env` is not the value it was planned with"), "{text}");
    assert!(!text.contains("`db_password`"), "{text}");

    // A file changed, and one added.
    std::fs::write(dir.join("main.infra"), format!("{APP}# edited\n")).expect("edits");
    std::fs::write(dir.join("extra.infra"), "output extra = 1\n").expect("adds");
    let text = fails(dir, &args(&["apply", "saved.plan", "--var", "env=prod"]));
    assert!(text.contains("error[E0710]"), "{text}");
    assert!(text.contains("the configuration changed since it was saved"), "{text}");
    assert!(text.contains("`extra.infra` was added and `main.infra` changed"), "{text}");
    // And one removed.
    module(dir, APP);
    std::fs::remove_file(dir.join("extra.infra")).expect("removes");
    ok(dir, &args(&["plan", "--out", "saved.plan", "--var", "env=prod"]));
    std::fs::write(dir.join("extra.infra"), "output extra = 1\n").expect("adds");
    ok(dir, &args(&["plan", "--out", "with_extra.plan"]));
    std::fs::remove_file(dir.join("extra.infra")).expect("removes");
    let text = fails(dir, &args(&["apply", "with_extra.plan"]));
    assert!(text.contains("`extra.infra` was removed"), "{text}");

    // The state: another apply ran since.
    ok(dir, &args(&["apply", "--auto-approve", "--var", "env=prod"]));
    let text = fails(dir, &args(&["apply", "saved.plan", "--var", "env=prod"]));
    assert!(text.contains("error[E0710]") && text.contains("the state changed since it was saved (serial"), "{text}");
}
