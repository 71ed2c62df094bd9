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
