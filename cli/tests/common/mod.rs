//! Helpers the end-to-end tests share: run the `infra` binary in a directory, read what
//! it printed, write a module.

#![allow(dead_code)] // Each test file uses its own subset.

pub mod lsp_client;

use std::path::Path;
use std::process::{Command, Output};

/// `infra ARGS` in `dir` as a script would run it: no colour, no terminal on stdin.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_infra"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("COLUMNS").stdin(std::process::Stdio::null());
    command
}

/// Runs `infra ARGS` in `dir` as a script would.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().unwrap_or_else(|err| panic!("cannot run infra: {err}"))
}

/// Everything printed: stdout, then stderr.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The exit code and everything printed.
pub fn outcome(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = run(dir, args);
    (output.status.code().unwrap_or(-1), text(&output))
}

/// Writes the module's only file.
pub fn write_module(dir: &Path, source: &str) {
    std::fs::write(dir.join("main.infra"), source).unwrap_or_else(|e| panic!("cannot write main.infra: {e}"));
}

/// Runs `infra ARGS` in `dir`, which must succeed; returns what it printed.
#[track_caller]
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, text) = outcome(dir, args);
    assert_eq!(code, 0, "infra {args:?}:\n{text}");
    text
}

/// Runs `infra ARGS` in `dir`, which must fail with exit code 1; returns what it printed.
#[track_caller]
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let (code, text) = outcome(dir, args);
    assert_eq!(code, 1, "infra {args:?} should fail:\n{text}");
    text
}

/// Sends Ctrl-C (SIGINT) to `apply` and waits for it to end, at most 20 s (its wait would
/// go on for minutes without the stop).
pub fn interrupt(mut apply: std::process::Child) -> Output {
    let sent = std::process::Command::new("kill").args(["-INT", &apply.id().to_string()]).status().expect("kill");
    assert!(sent.success());
    let interrupted = std::time::Instant::now();
    while apply.try_wait().expect("apply status").is_none() {
        if interrupted.elapsed() > std::time::Duration::from_secs(20) {
            let _ = apply.kill();
            panic!("the interrupted apply kept waiting");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    apply.wait_with_output().expect("apply ends")
}
