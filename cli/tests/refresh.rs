//! `infra refresh` end to end: what it finds changed or gone outside of Infra is recorded
//! in the state, and no object is touched.

use std::path::Path;
use std::process::Output;

mod common;

use common::{run as infra, text, write_module};

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

fn read(dir: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(path)).ok()
}

const MODULE: &str = "resource local.file note {\n  path    = \"out/note.txt\"\n  content = \"managed\"\n}\n";

#[test]
fn refresh_records_an_edited_object_without_touching_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let unchanged = infra(dir, &["refresh"]);
    assert_exit(&unchanged, 0);
    assert!(text(&unchanged).contains("No changes. The state matches the objects."), "{}", text(&unchanged));

    std::fs::write(dir.join("out/note.txt"), "edited by hand").expect("edit");
    let refreshed = infra(dir, &["refresh"]);
    assert_exit(&refreshed, 0);
    let shown = text(&refreshed);
    assert!(shown.contains("  # note has changed outside of Infra"), "{shown}");
    assert!(shown.contains(r#"~ content = "managed" -> "edited by hand""#), "{shown}");
    assert!(shown.contains("Refresh complete! 1 object changed outside of Infra"), "{shown}");
    assert_eq!(read(dir, "out/note.txt").as_deref(), Some("edited by hand"), "the object is left as it is");
    let state = text(&infra(dir, &["state", "show", "note"]));
    assert!(state.contains("\"edited by hand\""), "the state records what was read:\n{state}");
    let again = infra(dir, &["refresh"]);
    assert!(text(&again).contains("No changes."), "{}", text(&again));
    // The plan now shows the change back to the configuration, not the drift.
    let plan = text(&infra(dir, &["plan"]));
    assert!(!plan.contains("changed outside of Infra"), "{plan}");
    assert!(plan.contains(r#"~ content = "edited by hand" -> "managed""#), "{plan}");
}

#[test]
fn refresh_forgets_an_object_deleted_outside_of_infra() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    std::fs::remove_file(dir.join("out/note.txt")).expect("delete");
    let refreshed = infra(dir, &["refresh"]);
    assert_exit(&refreshed, 0);
    assert!(text(&refreshed).contains("  # note has been deleted outside of Infra"), "{}", text(&refreshed));
    assert_eq!(read(dir, "out/note.txt"), None, "nothing is created");
    let list = infra(dir, &["state", "list"]);
    assert_exit(&list, 0);
    assert!(!text(&list).contains("note"), "{}", text(&list));
}

/// Outputs are saved by a refresh, as Terraform's refresh-only apply saves them: a
/// plan that followed one would otherwise list the outputs it left behind.
#[test]
fn refresh_saves_the_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &format!("{MODULE}output where = note.path\noutput gone = 1\n"));
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    write_module(dir, &format!("{MODULE}output where = \"at ${{note.path}}\"\n"));
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 2);
    assert_exit(&infra(dir, &["refresh"]), 0);
    assert_eq!(text(&infra(dir, &["output"])), "where = \"at out/note.txt\"\n");
    assert_exit(&infra(dir, &["plan", "--detailed-exitcode"]), 0);
}
