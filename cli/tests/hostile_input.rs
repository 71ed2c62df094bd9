//! Hostile input reaches the user as a diagnostic, never as a panic, an abort, a hang or
//! escape sequences on their terminal. Each test names the bug it pins.

use std::io::Write;
use std::process::Stdio;

mod common;

use common::{command, outcome as infra, write_module as module};

/// `infra console` in `dir` with `input` piped to it, run to the end.
fn console(dir: &std::path::Path, input: &[u8]) -> std::process::Output {
    let mut child = command(dir, &["console"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(input).expect("writes");
    child.wait_with_output().expect("finishes")
}

/// Bug: a diagnostic whose span starts at column 65,535 or later panicked inside the
/// renderer ("Formatting argument out of range") in `check`, `plan` and `console`.
#[test]
fn a_diagnostic_past_column_65535_is_reported_without_an_excerpt() {
    let dir = tempfile::tempdir().expect("temp dir");
    module(dir.path(), &format!("let a = \"{}\" + nope\n", "x".repeat(65_540)));
    for args in [&["check"][..], &["plan"]] {
        let (code, text) = infra(dir.path(), args);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
        assert!(text.contains("undefined name `nope`"), "{text}");
        assert!(text.contains("note: at main.infra:1:65554 (the line is too long to show)"), "{text}");
    }
}

/// Bug: raw ESC bytes in a source file were echoed into diagnostics, even with
/// `--color never`, so a file could drive the terminal.
#[test]
fn control_characters_in_a_source_reach_the_terminal_as_pictures() {
    let dir = tempfile::tempdir().expect("temp dir");
    module(dir.path(), "let a = \"\x1b[31mred\x07\" + nope\n");
    let (code, text) = infra(dir.path(), &["--color", "never", "check"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains("\"␛[31mred␇\" + nope"), "{text}");
    // The label still points at `nope`, past the pictures.
    assert!(text.contains("main.infra:1:23"), "{text}");
}

/// Bug: 17,000 `let`s each reading the one before overflowed the stack and aborted
/// `check`, `plan` and `console`.
#[test]
fn seventeen_thousand_chained_lets_plan_and_evaluate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("output o = l0\n");
    for i in 0..16_999 {
        text.push_str(&format!("let l{i} = l{}\n", i + 1));
    }
    text.push_str("let l16999 = \"end\"\n");
    module(dir.path(), &text);
    let (code, out) = infra(dir.path(), &["plan"]);
    assert_eq!(code, 0, "{out}");
    let output = console(dir.path(), b"l0\nl8000\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "\"end\"\n\"end\"\n");
}

/// Bug: a map key longer than 65,535 characters panicked while the plan aligned `=`.
#[test]
fn a_map_key_of_seventy_thousand_characters_is_planned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = "k".repeat(70_000);
    module(dir.path(), &format!("resource null.resource r {{\n  input = {{\n    \"{key}\" = 1\n    b = 2\n  }}\n}}\n"));
    let (code, text) = infra(dir.path(), &["plan"]);
    assert_eq!(code, 0, "{}", &text[..text.len().min(2000)]);
    assert!(text.contains(&format!("+ b{} = 2", " ".repeat(69_999))), "b is aligned with the long key");
}

/// Bug: with `infra.state.json` deleted but its backup present, `plan` said "1 to add"
/// with no warning. It is refused with the way back; `--allow-empty-state` is the
/// deliberate way forward.
#[test]
fn a_lost_state_file_is_refused_until_restored_or_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"x\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    module(dir, "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"y\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    std::fs::remove_file(dir.join("infra.state.json")).expect("removes");
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let (code, text) = infra(dir, args);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(text.contains("error[E0725]"), "{text}");
        assert!(text.contains("if the state file was lost, restore it"), "{text}");
    }
    assert!(!dir.join("infra.state.json").exists(), "nothing was written");
    let (code, text) = infra(dir, &["plan", "--allow-empty-state"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Plan: 1 to add"), "{text}");
    std::fs::copy(dir.join("infra.state.json.backup"), dir.join("infra.state.json")).expect("restores");
    let (code, text) = infra(dir, &["plan"]);
    assert_eq!(code, 0, "{text}");
    // The backup is the state before the last apply: the object is known again (its
    // content changed since, which the refresh finds), not planned anew.
    assert!(!text.contains("to add"), "{text}");
}

/// Bug: `--target nonexistent` and `--replace nothing.here` said "No changes" and exited
/// 0; `state mv page page` said "Moved"; `--parallelism 0` was accepted; `output
/// --module` on a missing directory spoke of a workspace; `state push FILE` with a bad
/// file did not name it.
#[test]
fn what_matches_nothing_is_an_error_not_a_quiet_success() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file page {\n  path    = \"out/a.txt\"\n  content = \"x\"\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    for args in [
        &["plan", "--target", "pag"][..],
        &["plan", "--replace", "nothing.here"],
        &["plan", "--exclude", "gone"],
        &["apply", "--auto-approve", "--target", "pag"],
        &["destroy", "--auto-approve", "--target", "pag"],
    ] {
        let (code, text) = infra(dir, args);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(text.contains("error[E0726]") && text.contains("matches nothing"), "{args:?}: {text}");
    }
    assert!(infra(dir, &["plan", "--target", "pag"]).1.contains("did you mean `page`?"));
    // What the state holds counts, although the configuration no longer declares it.
    module(dir, "");
    assert_eq!(infra(dir, &["plan", "--target", "page"]).0, 0);
    assert!(dir.join("out/a.txt").exists(), "nothing was destroyed on the way");

    let (code, text) = infra(dir, &["state", "mv", "page", "page"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("cannot be moved onto itself"), "{text}");
    let (code, text) = infra(dir, &["apply", "--auto-approve", "--parallelism", "0"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("0 is not in 1..="), "{text}");
    let (code, text) = infra(dir, &["output", "--module", "no-such-dir"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("the module directory `no-such-dir` does not exist"), "{text}");
    std::fs::write(dir.join("bad.json"), "{bad").expect("writes");
    let (code, text) = infra(dir, &["state", "push", "bad.json"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("`bad.json` is not a valid state"), "{text}");
}

/// Bug: piped `infra console` stopped at the first line that was not UTF-8 and exited 0,
/// skipping the rest.
#[test]
fn a_console_line_that_is_not_utf8_is_reported_and_the_rest_evaluated() {
    let dir = tempfile::tempdir().expect("temp dir");
    module(dir.path(), "let a = 1\n");
    let output = console(dir.path(), b"a + 1\n\"\xff\xfe\"\na + 2\r\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "2\n3\n");
    assert!(stderr.contains("error[E0001]") && stderr.contains("line 2 is not valid UTF-8 (at byte 1)"), "{stderr}");
}

/// Bug: a state that is valid JSON but wrong inside (a path stored as a number, a
/// resource type no provider has) was reported as an unrelated configuration error or
/// planned as "No changes". It is checked against the schemas on load.
#[test]
fn a_state_with_wrong_content_names_the_instance_and_attribute() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource local.file a {\n  path    = \"out/a.txt\"\n  content = \"x\"\n}\nresource null.resource b {\n  input = 1\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let path = dir.join("infra.state.json");
    let original = std::fs::read_to_string(&path).expect("state");
    let mut state: serde_json::Value = serde_json::from_str(&original).expect("json");
    for instance in state["instances"].as_array_mut().expect("instances") {
        match instance["address"].as_str() {
            Some("a") => instance["attributes"]["path"] = serde_json::json!(5),
            _ => instance["type"] = serde_json::json!("null.resourse"),
        }
    }
    std::fs::write(&path, serde_json::to_string(&state).expect("json")).expect("writes");
    for args in [&["plan"][..], &["apply", "--auto-approve"], &["destroy", "--auto-approve"]] {
        let (code, text) = infra(dir, args);
        assert_eq!(code, 1, "{args:?}: {text}");
        // The message may wrap: compare with the lines joined.
        let flat = text.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
        assert!(flat.contains("`a` stores 5 for `path`, which `local.file` needs to be a `string`"), "{text}");
        assert!(flat.contains("`b` has type `null.resourse`, which no provider offers"), "{text}");
    }
    assert!(dir.join("out/a.txt").exists(), "nothing was changed");
}

/// Bug: `infra state show` panicked aligning `=` after an attribute name longer than
/// 65,535 characters (a state edited by hand).
#[test]
fn state_show_survives_a_seventy_thousand_character_attribute_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource null.resource r {\n  input = 1\n}\n");
    assert_eq!(infra(dir, &["apply", "--auto-approve"]).0, 0);
    let path = dir.join("infra.state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("json");
    state["instances"][0]["attributes"]["k".repeat(70_000)] = serde_json::json!("v");
    std::fs::write(&path, serde_json::to_string(&state).expect("json")).expect("writes");
    let (code, text) = infra(dir, &["state", "show", "r"]);
    assert_eq!(code, 0, "{}", &text[..text.len().min(500)]);
    assert!(text.contains(&format!("input{} = 1", " ".repeat(70_000 - 5))), "input is aligned with the long name");
}
