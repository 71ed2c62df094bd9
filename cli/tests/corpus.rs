//! The data-driven corpus: every entry of `tests/data/{parse,check}/{ok,err}` is checked
//! by the `infra` binary, and the source together with what `infra check` printed and its
//! exit code is snapshotted with insta. Adding a case is adding a file (or, for module
//! cases, a directory with a `main.infra`).
//!
//! - `check/ok/*` must exit 0 with no diagnostics; `parse/ok/*` may have check errors,
//!   never syntax errors;
//! - `*/err/*` must exit 1 (0 for warning cases); a name that starts with a code
//!   (`E0201_...`) must report it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Codes the loader and parser report; the rest come from checking.
const SYNTAX_CODES: &[&str] =
    &["E0001", "E0002", "E0003", "E0100", "E0101", "E0102", "E0103", "E0104", "E0105", "E0106", "E0108"];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// Entries of one corpus directory: single files and module directories, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    entries.retain(|p| p.is_dir() || p.extension().is_some_and(|e| e == "infra"));
    entries.sort();
    entries
}

/// Copies a single-file case into a fresh module directory so it is checked alone.
fn module_dir(entry: &Path) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    if entry.is_dir() {
        return (temp, entry.to_path_buf());
    }
    let target = temp.path().join(entry.file_name().expect("file name"));
    std::fs::copy(entry, &target).expect("copy corpus file");
    let dir = temp.path().to_path_buf();
    (temp, dir)
}

struct Outcome {
    code: i32,
    stderr: String,
    json: serde_json::Value,
}

fn run_check(dir: &Path) -> Outcome {
    let infra = env!("CARGO_BIN_EXE_infra");
    let human = Command::new(infra)
        .args(["--color", "never", "-C"])
        .arg(dir)
        .args(["check", "."])
        .env("NO_COLOR", "1")
        .output()
        .expect("run infra check");
    let json = Command::new(infra)
        .arg("-C")
        .arg(dir)
        .args(["check", ".", "--format", "json"])
        .output()
        .expect("run infra check --format json");
    let json = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| {
        panic!("`check --format json` printed invalid JSON ({e}): {}", String::from_utf8_lossy(&json.stdout))
    });
    Outcome {
        code: human.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&human.stderr).into_owned(),
        json,
    }
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn sources_of(entry: &Path) -> String {
    let mut files = Vec::new();
    collect_sources(entry, &mut files);
    files.sort();
    let base = if entry.is_dir() { entry } else { entry.parent().unwrap_or(entry) };
    files
        .iter()
        .map(|f| {
            let name = f.strip_prefix(base).unwrap_or(f).display().to_string();
            let text = std::fs::read(f).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            format!("--- {name}\n{text}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn collect_sources(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect_sources(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "infra") {
        out.push(path.to_path_buf());
    }
}

fn run_corpus(phase: &str, expect_ok: bool) {
    let dir = corpus_root().join(phase).join(if expect_ok { "ok" } else { "err" });
    let entries = entries(&dir);
    assert!(!entries.is_empty(), "no corpus entries in {}", dir.display());
    let mut failures = Vec::new();
    for entry in &entries {
        let name = entry.file_stem().and_then(|s| s.to_str()).unwrap_or("case").to_string();
        let (_temp, module) = module_dir(entry);
        let outcome = run_check(&module);
        let found = codes(&outcome.json);
        // Warnings alone do not fail `infra check`; a `W...` case expects exit 0.
        let expected_exit = if expect_ok || name.starts_with('W') { 0 } else { 1 };
        // A parse/ok case only promises valid syntax; it may still have check errors.
        let exit_matters = !(phase == "parse" && expect_ok);
        if exit_matters && outcome.code != expected_exit {
            failures.push(format!("{name}: exit {} (expected {expected_exit})\n{}", outcome.code, outcome.stderr));
        }
        if phase == "parse" && expect_ok && found.iter().any(|c| SYNTAX_CODES.contains(&c.as_str())) {
            failures.push(format!("{name}: syntax diagnostics in a parse/ok case: {found:?}"));
        }
        if phase == "check" && expect_ok && !found.is_empty() {
            failures.push(format!("{name}: diagnostics in a check/ok case: {found:?}"));
        }
        let named_code = name.split('_').next().filter(|c| c.len() == 5 && c[1..].bytes().all(|b| b.is_ascii_digit()));
        if let Some(code) = named_code.filter(|_| !expect_ok) {
            if !found.iter().any(|c| c == code) {
                failures.push(format!("{name}: expected {code}, found {found:?}"));
            }
        }
        let snapshot = format!(
            "{}\n=== infra check (exit {})\n{}",
            sources_of(entry),
            outcome.code,
            outcome.stderr.replace(module.to_str().unwrap_or("\u{0}"), "<module>")
        );
        insta::with_settings!({ snapshot_path => corpus_root().join("snapshots").join(phase), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("{}_{}", if expect_ok { "ok" } else { "err" }, name), snapshot);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn parse_ok() {
    run_corpus("parse", true);
}

#[test]
fn parse_err() {
    run_corpus("parse", false);
}

#[test]
fn check_ok() {
    run_corpus("check", true);
}

#[test]
fn check_err() {
    run_corpus("check", false);
}

/// Every diagnostic code the compiler can emit has at least one corpus case named after it.
#[test]
fn every_code_has_a_case() {
    let mut names = Vec::new();
    for phase in ["parse", "check"] {
        for entry in entries(&corpus_root().join(phase).join("err")) {
            names.push(entry.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string());
        }
    }
    // E0002 (an unreadable file) needs file permissions a corpus cannot carry; it is
    // tested end to end in `cli.rs`.
    let missing: Vec<&str> = infra_compiler::diagnostic::codes::ALL
        .iter()
        .map(|(code, _)| code.as_str())
        // Evaluation errors (E06xx) have their cases in `tests/data/eval`, checked by
        // `stdlib/tests/eval_corpus.rs`.
        // State errors (E07xx, W07xx) are tested in `runtime/tests/state.rs`, command-line
        // errors (E08xx) end to end in `cli.rs` and `apply.rs`. Providers' warnings (W06xx)
        // come from a plan (`apply.rs`); W0003 needs a deprecated attribute, which only
        // plugin schemas have (`plugin_schema.rs`).
        .filter(|code| {
            *code != "E0002"
                && *code != "W0003"
                && !code.starts_with("W06")
                && !code.starts_with("E06")
                && !code.starts_with("E07")
                && !code.starts_with("E08")
                && !code.starts_with("W07")
                && !names.iter().any(|n| n.starts_with(code))
        })
        .collect();
    assert!(missing.is_empty(), "no corpus case for {missing:?}");
}
