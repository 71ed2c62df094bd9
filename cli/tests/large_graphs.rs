//! The paths the benchmarks made fast, end to end: indexing into a repeated declaration,
//! `let`s that read resources seeing their applied values, and destroy ordering
//! through a declaration that many instances depend on.

use std::path::Path;

mod common;

use common::{outcome as infra, write_module};

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const REPEATED: &str = r#"
resource local.file a for i in range(4) {
  path    = "out/a${i}.txt"
  content = "a${i}"
}

let contents = [for f in a : f.content]

resource local.file b for i in range(4) {
  path    = "out/b${i}.txt"
  content = "${a[i].content} then ${a[i].path} of ${length(contents)}: ${contents[i]}"
}

output joined = join(",", contents)
"#;

#[test]
fn instances_read_the_matching_instance_and_lets_see_applied_values() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.path();
    write_module(dir, REPEATED);
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    for i in 0..4 {
        assert_eq!(read(dir, &format!("out/b{i}.txt")), format!("a{i} then out/a{i}.txt of 4: a{i}"));
    }
    assert!(text.contains(r#"joined = "a0,a1,a2,a3""#), "{text}");
    let (code, text) = infra(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "no changes after apply: {text}");
}

#[test]
fn an_index_out_of_range_is_still_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.path();
    let source = REPEATED.replace("${a[i].path}", "${a[i + 4].path}");
    write_module(dir, &source);
    let (code, text) = infra(dir, &["plan"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("a[i + 4]") || text.contains("i + 4"), "points at the index: {text}");
    assert!(text.contains("error["), "a coded diagnostic: {text}");
}

#[test]
fn destroy_deletes_every_dependent_instance_before_what_they_depend_on() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.path();
    write_module(dir, REPEATED);
    let (code, text) = infra(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = infra(dir, &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{text}");
    let position = |name: &str| text.find(&format!("{name}: Destroying")).unwrap_or_else(|| panic!("{name}: {text}"));
    let last_b = (0..4).map(|i| position(&format!("b[{i}]"))).max();
    let first_a = (0..4).map(|i| position(&format!("a[{i}]"))).min();
    assert!(last_b < first_a, "every b before any a:\n{text}");
    for i in 0..4 {
        assert!(!dir.join(format!("out/a{i}.txt")).exists() && !dir.join(format!("out/b{i}.txt")).exists());
    }
}
