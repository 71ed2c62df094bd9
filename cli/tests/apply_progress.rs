//! Apply progress as a terminal shows it: each operation's lines scroll above one overall
//! line (done / total, in flight, failed, elapsed); without a terminal, plain lines only,
//! with durations in tenths of a second.
//!
//! The terminal is a pseudo-terminal from `script` (util-linux), as a user's would be.

mod common;

use std::process::Command;

use common::{outcome, write_module};

const MODULE: &str = r#"
resource local.file a {
  path    = "out/a.txt"
  content = "a"
}
resource local.file b {
  path    = "out/b.txt"
  content = "b"
}
resource local.file bad {
  path    = "/proc/not-a-directory/bad.txt"
  content = "cannot be written"
}
resource local.file after_bad {
  path    = "out/after.txt"
  content = bad.id
}
"#;

/// Runs `infra ARGS` under `script`, so that its stdout is a terminal; returns what the
/// terminal received.
fn on_a_terminal(dir: &std::path::Path, args: &str) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_infra"));
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("`script` (util-linux) runs infra on a terminal: {e}"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn on_a_terminal_one_overall_line_stays_below_the_operation_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_module(dir.path(), MODULE);
    let screen = on_a_terminal(dir.path(), "apply --auto-approve");
    for address in ["a", "b"] {
        assert!(screen.contains(&format!("{address}: Creation complete after 0.")), "tenths:\n{screen}");
    }
    assert!(screen.contains("bad: Creating failed"), "{screen}");
    assert!(screen.contains("after_bad: skipped"), "{screen}");
    let last_operation = screen.rfind("after_bad: skipped").expect("the skipped line");
    let overall = screen
        .rfind("2/4 done, 0 in flight, 1 failed, 1 skipped")
        .unwrap_or_else(|| panic!("the final counts, out of the plan's four operations:\n{screen:?}"));
    assert!(overall > last_operation, "the overall line is drawn below the others:\n{screen:?}");
    assert!(screen[overall..].contains("s elapsed"), "{screen:?}");
    let first_count = screen.find("0/4 done").expect("the total, from the plan, before anything is done");
    assert!(first_count < screen.find("Creation complete").unwrap_or(0), "{screen:?}");
}

#[test]
fn without_a_terminal_progress_is_plain_lines_with_tenths() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_module(dir.path(), MODULE);
    let (code, text) = outcome(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{text}");
    let a = text.lines().find(|l| l.starts_with("a: Creation complete after ")).expect("a's line");
    let took = a.trim_start_matches("a: Creation complete after ").split(' ').next().unwrap_or_default();
    assert!(took.ends_with('s') && took.contains('.'), "a duration in tenths, such as 0.0s: {a}");
    assert!(!text.contains("done, "), "no overall line without a terminal:\n{text}");
    assert!(!text.contains('\u{1b}'), "no terminal escapes:\n{text:?}");
}

/// An approved apply without a terminal starts while the plan's text is still being
/// written (on another thread); its progress lines still come after all of it.
#[test]
fn without_a_terminal_progress_follows_the_whole_plan_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Some two megabytes of plan text: long enough to be still printing when the first
    // operations end.
    let mut source = String::new();
    for i in 0..400 {
        let tags: Vec<String> = (0..40).map(|t| format!("tag{t} = \"value-{i}-{t}\"")).collect();
        let after = if i >= 10 { format!("after = r{}.id\n", i - 10) } else { String::new() };
        source.push_str(&format!(
            "resource null.resource r{i} {{\n  input = {{\n    {after}    tags = {{ {} }}\n  }}\n}}\n",
            tags.join(", ")
        ));
    }
    write_module(dir.path(), &source);
    let output = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve"])
        .current_dir(dir.path())
        .output()
        .expect("infra runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.find("Plan: 400 to add, 0 to change, 0 to destroy.").expect("the plan's summary");
    let first = stdout.find(": Creating...").expect("a progress line");
    assert!(summary < first, "every progress line comes after the plan:\n{}", &stdout[..first.min(2000)]);
    let last_plan_line = stdout.rfind("tag39 = \"value-").expect("the plan's last attribute");
    assert!(last_plan_line < first, "no progress line inside the plan's text");
    assert_eq!(stdout.matches(": Creation complete after ").count(), 400, "every operation's line is written");
    let complete = stdout.find("Apply complete! Resources: 400 added").expect("the closing line");
    assert!(stdout.rfind(": Creation complete after ").is_some_and(|last| last < complete));
}
