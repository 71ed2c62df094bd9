//! `local.file` copies of a `source` file, against the real binary: a changed source or
//! an edited copy is an update, after which nothing changes; and every example of
//! docs/providers/local.md applies as written, with the files the page says it expects.

use std::path::Path;

mod common;

use common::{ok, outcome, write_module};

const NGINX: &str = r#"
resource local.file nginx_conf {
  path   = "out/nginx.conf"
  source = "templates/nginx.conf"
}
"#;

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// `plan ARGS --detailed-exitcode`: 0 for no changes, 2 for changes.
fn plan_code(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["plan", "--detailed-exitcode"];
    all.extend_from_slice(args);
    outcome(dir, &all)
}

/// Bug: after the `source` file changed, `plan` (with or without refresh, and as JSON)
/// said "No changes" although the page promised an update, and the copy stayed stale
/// for good. The change is now an update, applied, and then nothing changes.
#[test]
fn a_changed_source_file_is_planned_as_an_update_and_copied_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, NGINX);
    write(dir, "templates/nginx.conf", "worker_processes 1;\n");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(plan_code(dir, &[]).0, 0);

    write(dir, "templates/nginx.conf", "worker_processes 4;\n");
    for args in [&[][..], &["--refresh", "false"]] {
        let (code, plan) = plan_code(dir, args);
        assert_eq!(code, 2, "plan {args:?} misses the changed source:\n{plan}");
        assert!(plan.contains("# nginx_conf will be updated in place"), "{plan}");
        assert!(plan.contains("~ copied = ") && plan.contains("-> (known after apply)"), "{plan}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(dir, &["plan", "--json"])).expect("plan --json");
    let change = &json["changes"][0];
    assert_eq!((&change["address"], &change["action"]), (&"nginx_conf".into(), &"update".into()), "{json:#}");

    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/nginx.conf"), "worker_processes 4;\n");
    assert_eq!(plan_code(dir, &[]).0, 0, "apply, then plan: nothing");
    assert_eq!(plan_code(dir, &["--refresh", "false"]).0, 0);
}

/// Bug: a copy edited on disk was seen as drift, yet never copied again (its
/// configuration has no `content` to differ). It is now restored from `source`.
#[test]
fn a_copy_edited_on_disk_is_copied_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, NGINX);
    write(dir, "templates/nginx.conf", "worker_processes 1;\n");
    ok(dir, &["apply", "--auto-approve"]);

    write(dir, "out/nginx.conf", "edited by hand\n");
    let (code, plan) = plan_code(dir, &[]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("# nginx_conf has changed outside of Infra"), "{plan}");
    assert!(plan.contains("# nginx_conf will be updated in place"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/nginx.conf"), "worker_processes 1;\n");
    assert_eq!(plan_code(dir, &[]).0, 0);
}

/// A copy recorded before `copied` existed is brought to the current form without
/// a word: no drift and no change while its source is as copied, an update once the
/// source changes.
#[test]
fn a_copy_recorded_before_copied_existed_plans_as_before_until_its_source_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, NGINX);
    write(dir, "templates/nginx.conf", "v1\n");
    write(dir, "out/nginx.conf", "v1\n");
    // The state an earlier version wrote for it (`id` is the SHA-1 of "v1\n").
    let state = r#"{
  "format_version": 1,
  "serial": 1,
  "lineage": "5fccea55-8438-af45-ad61-07c532ad1913",
  "instances": [
    {"address":"nginx_conf","mode":"managed","type":"local.file","provider":"local","status":"created","attributes":{"content":null,"id":"e1d35a6f7182bfbac1c45f6bfdc12419e06e8d59","mode":"0644","path":"out/nginx.conf","size":3,"source":"templates/nginx.conf"},"sensitive_attributes":[],"dependencies":[]}
  ],
  "outputs": {}
}
"#;
    write(dir, "infra.state.json", state);
    let (code, plan) = plan_code(dir, &[]);
    assert_eq!(code, 0, "{plan}");
    assert!(!plan.contains("changed outside of Infra"), "{plan}");

    write(dir, "templates/nginx.conf", "v2\n");
    assert_eq!(plan_code(dir, &["--refresh", "false"]).0, 2);
    ok(dir, &["apply", "--auto-approve"]);
    assert_eq!(read(dir, "out/nginx.conf"), "v2\n");
    assert_eq!(plan_code(dir, &[]).0, 0);
}

/// Bug: an example of docs/providers/local.md read a `motd.txt` that nothing made, and
/// the page did not say so. Each example now applies as written, given the files the
/// sentence before it says it expects (`` expects `FILE` `` or `` expects a file `FILE` ``),
/// plans no change after, and is destroyed.
#[test]
fn every_example_of_the_local_page_applies_with_the_files_it_names() {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/providers/local.md"))
        .expect("docs/providers/local.md");
    let mut pieces = page.split("```infra\n");
    let mut before = pieces.next().unwrap_or_default();
    for (i, piece) in pieces.enumerate() {
        let (example, after) = piece.split_once("```").expect("a closed example");
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = dir.path();
        write_module(dir, example);
        for file in expected_files(before) {
            write(dir, &file, "expected by the example\n");
        }
        let (code, applied) = outcome(dir, &["apply", "--auto-approve"]);
        assert_eq!(code, 0, "example {i}:\n{example}\n{applied}");
        assert_eq!(plan_code(dir, &[]).0, 0, "example {i} changes after its apply");
        ok(dir, &["destroy", "--auto-approve"]);
        before = after;
    }
}

/// The files the last paragraph of `text` says the example after it expects: the
/// backquoted names after "expects", up to the end of the clause.
fn expected_files(text: &str) -> Vec<String> {
    let paragraph = text.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let Some((_, said)) = paragraph.split_once("expects") else { return Vec::new() };
    let clause = said.split([',', ':', ';']).next().unwrap_or_default();
    clause.split('`').skip(1).step_by(2).map(str::to_string).collect()
}
