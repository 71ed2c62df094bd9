//! The plan corpus: every folder of `tests/data/plan/` is a case, planned by the `infra`
//! binary, and what `infra plan` printed (with its exit code) is compared with the
//! insta snapshot `plan.snap` in the same folder. Adding a case is adding a folder:
//!
//! - `*.infra` and module folders: the configuration that is planned;
//! - `before/` (optional): a configuration applied first (`infra apply --auto-approve`),
//!   so the plan starts from the state and files that apply left; its files are then
//!   removed, the state and what the resources wrote stay;
//! - `drift/` (optional): files copied over the working directory after that apply, as
//!   someone editing by hand would;
//! - `args` (optional): the flags given to `infra plan`, whitespace-separated;
//! - `plan.snap`: the expected output (`cargo insta review` after adding a case).
//!
//! Only providers with deterministic values are used, so the snapshots are stable. How
//! to add a case: `docs/contributing/plan-corpus.md`.

mod common;

use std::path::{Path, PathBuf};

/// Folders of a case that are not part of the planned configuration.
const NOT_CONFIGURATION: &[&str] = &["before", "drift", "args", "plan.snap", "plan.snap.new"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/plan")
}

/// Copies `from` (a file or a folder) to `to`, recursively.
fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
        for entry in std::fs::read_dir(from).expect("read corpus folder").flatten() {
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
    }
}

/// The entries of a folder, sorted, except those `skip` names.
fn entries(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| !skip.iter().any(|name| path.file_name().is_some_and(|file| file == *name)))
        .collect();
    entries.sort();
    entries
}

/// Applies `before/` in `work`, then removes its configuration files again.
fn apply_before(case: &Path, work: &Path) {
    let before = case.join("before");
    if !before.is_dir() {
        return;
    }
    let copied: Vec<PathBuf> = entries(&before, &[])
        .into_iter()
        .map(|entry| {
            let target = work.join(entry.file_name().expect("file name"));
            copy(&entry, &target);
            target
        })
        .collect();
    common::ok(work, &["apply", "--auto-approve"]);
    for path in copied {
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
    }
}

/// Sets the case up in `work` and plans it: the exit code and what was printed.
fn plan(case: &Path, work: &Path) -> String {
    apply_before(case, work);
    if case.join("drift").is_dir() {
        copy(&case.join("drift"), work);
    }
    for entry in entries(case, NOT_CONFIGURATION) {
        copy(&entry, &work.join(entry.file_name().expect("file name")));
    }
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let mut command: Vec<&str> = vec!["plan"];
    command.extend(args.split_whitespace());
    let (code, text) = common::outcome(work, &command);
    let text = text.replace(&work.display().to_string(), "[WORK]");
    format!("exit code: {code}\n{text}")
}

#[test]
fn plan_corpus() {
    let cases = entries(&corpus(), &[]);
    assert!(cases.len() >= 10, "the plan corpus has {} cases", cases.len());
    for case in cases {
        let name = case.file_name().expect("case name").to_string_lossy().into_owned();
        let work = tempfile::tempdir().expect("temp dir");
        let output = plan(&case, work.path());
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&case);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&case);
        settings.set_description(format!("infra plan, case `{name}`"));
        settings.bind(|| insta::assert_snapshot!("plan", output));
    }
}
