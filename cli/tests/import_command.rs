//! `infra import ADDR ID` end to end through the binary with `local.file`: the one object
//! it is given is imported whatever `import` statements the configuration holds, and a
//! run that reports an error leaves the state exactly as it was. Each test is named
//! after the bug it pins.

use std::path::Path;

mod common;

use common::{fails, ok, write_module};

fn state_list(dir: &Path) -> Vec<String> {
    ok(dir, &["state", "list"]).lines().map(str::to_string).collect()
}

/// The state's files as they are on disk: the snapshot and the journal (`None` when a
/// file does not exist).
fn state_files(dir: &Path) -> [Option<String>; 2] {
    ["infra.state.json", "infra.state.journal"].map(|name| std::fs::read_to_string(dir.join(name)).ok())
}

fn write(dir: &Path, path: &str, text: &str) {
    std::fs::write(dir.join(path), text).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
}

const TWO_FILES: &str = r#"
resource local.file one {
  path    = "one.txt"
  content = "a"
}

resource local.file two {
  path    = "two.txt"
  content = "b"
}
"#;

/// Regression: with `import two from ...` in the configuration, `infra import one ID`
/// failed with a false E0211 (`two` "declares no such instance": the command plans only
/// `one`, so the statement's instance was never reached) and still wrote `one` to the
/// state, so the next run was E0722.
#[test]
fn import_beside_an_import_statement_for_another_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write(dir, "one.txt", "a");
    write(dir, "two.txt", "b");
    write_module(dir, &format!("{TWO_FILES}\nimport two from \"two.txt\"\n"));
    let text = ok(dir, &["import", "one", "one.txt"]);
    assert!(text.contains("Imported one from id \"one.txt\""), "{text}");
    assert!(!text.contains("E0211"), "{text}");
    assert_eq!(state_list(dir), ["one"], "the statement waits for a plan");
    // The statement is still the configuration's: the next plan imports `two`.
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("two will be imported from id \"two.txt\""), "{plan}");
    assert!(plan.contains("0 to add, 0 to change, 0 to destroy, 1 to import"), "{plan}");
}

/// Regression: the configuration's `import` statement for the same instance replaced the
/// id given on the command line, so another object was recorded than the one asked for.
#[test]
fn import_statement_for_the_same_instance_does_not_replace_the_given_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write(dir, "one.txt", "a");
    write(dir, "other.txt", "a");
    write_module(dir, &format!("{TWO_FILES}\nimport one from \"other.txt\"\n"));
    ok(dir, &["import", "one", "one.txt"]);
    assert_eq!(state_list(dir), ["one"]);
    let shown = ok(dir, &["state", "show", "one"]);
    assert!(shown.contains("path    = \"one.txt\""), "{shown}");
}

/// Regression: an `import` statement for a dependency of the instance was run too, so
/// `infra import one ID` also recorded `two`, which it was not asked to import.
#[test]
fn import_statement_of_a_dependency_is_not_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write(dir, "one.txt", "b");
    write(dir, "two.txt", "b");
    write_module(
        dir,
        r#"
resource local.file two {
  path    = "two.txt"
  content = "b"
}

resource local.file one {
  path    = "one.txt"
  content = two.content
}

import two from "two.txt"
"#,
    );
    ok(dir, &["import", "one", "one.txt"]);
    assert_eq!(state_list(dir), ["one"]);
}

/// Regression: an import whose run reported an error (here an output that reads the
/// imported object fails) still wrote the object to the state; docs/cli.md promises the
/// state is written only when the import succeeded.
#[test]
fn failed_import_writes_no_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource local.file base {\n  path    = \"base.txt\"\n  content = \"base\"\n}\n");
    ok(dir, &["apply", "--auto-approve"]);
    write(dir, "one.txt", "a");
    let resources = "resource local.file base {\n  path    = \"base.txt\"\n  content = \"base\"\n}\n\nresource local.file one {\n  path    = \"one.txt\"\n  content = \"a\"\n}\n";
    write_module(dir, &format!("{resources}\noutput decoded = jsondecode(one.content)\n"));
    let before = state_files(dir);
    let text = fails(dir, &["import", "one", "one.txt"]);
    assert!(text.contains("error[E0600]"), "{text}");
    assert!(text.contains("nothing was imported, the state is unchanged"), "{text}");
    assert_eq!(state_files(dir), before, "the state's files are untouched");
    assert_eq!(state_list(dir), ["base"]);

    // With the output fixed, the same import succeeds: nothing of the first run is left
    // to make it E0722.
    write_module(dir, resources);
    ok(dir, &["import", "one", "one.txt"]);
    assert_eq!(state_list(dir), ["base", "one"]);
    let text = fails(dir, &["import", "one", "one.txt"]);
    assert!(text.contains("error[E0722]") && text.contains("`one` is already in the state"), "{text}");
    assert!(text.contains("infra state rm"), "{text}");
}

/// Regression: an import that imported nothing (an instance key the configuration does
/// not make) still wrote the state: a new snapshot, its serial one higher, or a first
/// one where there was none.
#[test]
fn import_into_an_undeclared_instance_writes_no_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write(dir, "one-0.txt", "0");
    write_module(
        dir,
        "resource local.file one for i in range(2) {\n  path    = \"one-${i}.txt\"\n  content = \"${i}\"\n}\n",
    );
    let text = fails(dir, &["import", "one[5]", "one-0.txt"]);
    assert!(text.contains("error[E0211]"), "{text}");
    assert!(text.contains("cannot import into `one[5]`: the configuration declares no such instance"), "{text}");
    assert!(text.contains("help: import into an instance"), "{text}");
    assert_eq!(state_files(dir), [None, None], "no state was made");

    ok(dir, &["import", "one[0]", "one-0.txt"]);
    let before = state_files(dir);
    fails(dir, &["import", "one[5]", "one-0.txt"]);
    assert_eq!(state_files(dir), before, "the state's files are untouched");
    assert_eq!(state_list(dir), ["one[0]"]);
}

/// Regression: `infra plan --target one` beside `import two from ...` failed with the same
/// false E0211 (`two` was never walked); a statement for an instance the configuration
/// does not declare is still E0211 in a plan that includes it.
#[test]
fn a_targeted_plan_leaves_an_import_statement_it_does_not_reach_for_later() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write(dir, "two.txt", "b");
    write_module(dir, &format!("{TWO_FILES}\nimport two from \"two.txt\"\n"));
    let targeted = ok(dir, &["plan", "--target", "one"]);
    assert!(!targeted.contains("E0211") && !targeted.contains("two will be imported"), "{targeted}");
    let excluded = ok(dir, &["plan", "--exclude", "two"]);
    assert!(!excluded.contains("E0211"), "{excluded}");
    write_module(dir, &format!("{TWO_FILES}\nimport three from \"two.txt\"\n"));
    let undeclared = fails(dir, &["plan", "--target", "one", "--target", "three"]);
    assert!(undeclared.contains("E0211") || undeclared.contains("E0726"), "{undeclared}");
    let whole = fails(dir, &["plan"]);
    assert!(whole.contains("E0211"), "{whole}");
}
