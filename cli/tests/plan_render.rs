//! Snapshots of `infra plan` for every kind of action: create, update in place, replace
//! (with the attribute that forces it), delete, read during apply, drift, no changes.
//! Only providers with deterministic values are used, so the snapshots are stable.

mod common;

use common::{outcome as infra, write_module as module};

const FIRST: &str = r#"
input greeting: string = "hello"
resource local.file kept {
  path    = "out/kept.txt"
  content = "unchanged"
}
resource local.file edited {
  path    = "out/edited.txt"
  content = greeting
}
resource local.file moved {
  path    = "out/before.txt"
  content = "moving"
}
resource local.file removed {
  path    = "out/removed.txt"
  content = "going away"
}
resource local.file drifted {
  path    = "out/drifted.txt"
  content = "as configured"
}
"#;

const SECOND: &str = r#"
input greeting: string = "goodbye"
resource local.file kept {
  path    = "out/kept.txt"
  content = "unchanged"
}
resource local.file edited {
  path    = "out/edited.txt"
  content = greeting
}
resource local.file moved {
  path    = "out/after.txt"
  content = "moving"
}
resource local.file drifted {
  path    = "out/drifted.txt"
  content = "as configured"
}
resource local.file added {
  path    = "out/added.txt"
  content = "new"
}
data local.file later {
  path = added.path
}
output added_size = added.size
"#;

#[test]
fn plan_rendering_for_every_action() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, FIRST);
    let (code, created) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{created}");
    insta::assert_snapshot!("plan_create", created);
    let (code, applied) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{applied}");

    std::fs::write(dir.join("out/drifted.txt"), "edited by hand").expect("drift");
    module(dir, SECOND);
    let (code, changes) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{changes}");
    insta::assert_snapshot!("plan_every_action", changes);

    let (_, applied) = infra(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("Apply complete!"), "{applied}");
    let (code, none) = infra(dir, &["plan"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("plan_no_changes", none);
}

#[test]
fn a_corrupted_state_file_is_an_error_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"a\"\n}\n");
    std::fs::write(dir.join("infra.state.json"), "{ not json").expect("corrupt");
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("E0700") && text.contains("backup"), "{text}");
    assert_eq!(std::fs::read_to_string(dir.join("infra.state.json")).ok().as_deref(), Some("{ not json"));
    assert!(!dir.join("out/a.txt").exists(), "nothing was applied");

    std::fs::write(
        dir.join("infra.state.json"),
        "{\"format_version\": 99, \"serial\": 1, \"lineage\": \"x\", \"instances\": [], \"outputs\": {}}",
    )
    .expect("newer");
    let (code, text) = infra(dir, &["plan"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("E0701"), "{text}");
}
