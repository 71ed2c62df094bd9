//! Ctrl-C during a `time.sleep`'s wait, against the real binary: what the error says to
//! run next.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{ok, text, write_module};

/// Waits until the journal of `dir` records that `address` began `action`.
/// `infra ARGS` in `dir`, started with its output piped, to be interrupted.
fn piped(dir: &Path, args: &[&str]) -> Child {
    common::command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start infra")
}

fn wait_for_begin(dir: &Path, action: &str, address: &str) {
    let journal = dir.join("infra.state.journal");
    let wanted = format!("\"op\":\"begin\",\"action\":\"{action}\",\"address\":\"{address}\"");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains(&wanted)) {
        assert!(Instant::now() < deadline, "{address} never began to {action}");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The journal's begin comes just before the provider is called.
    std::thread::sleep(Duration::from_millis(300));
}

/// Bug: Ctrl-C during `infra destroy` of a `time.sleep` with `destroy_duration` said
/// "run `infra apply` again to wait in full", which would not delete it. The help now
/// names `infra destroy` (and `infra apply` for a replacement), and the sleep is still
/// in the state for that next run.
#[test]
fn an_interrupted_destroy_wait_says_to_run_destroy_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource time.sleep long {\n  create_duration  = \"0s\"\n  destroy_duration = \"1h\"\n}\n");
    ok(dir, &["apply", "--auto-approve"]);
    let destroy = piped(dir, &["destroy", "--auto-approve"]);
    wait_for_begin(dir, "delete", "long");
    let output = common::interrupt(destroy);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(130), "{printed}");
    assert!(printed.contains("error[E0610]") && printed.contains("interrupted before the wait ended"), "{printed}");
    assert!(printed.contains("run `infra destroy` again to wait in full"), "{printed}");
    assert!(!printed.contains("run `infra apply` again"), "{printed}");
    let listed = ok(dir, &["state", "list"]);
    assert!(listed.lines().any(|line| line == "long"), "the sleep left the state:\n{listed}");
}

/// The create case keeps its help, and its excerpt at the resource.
#[test]
fn an_interrupted_create_wait_says_to_run_apply_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, "resource time.sleep long {\n  create_duration = \"1h\"\n}\n");
    let apply = piped(dir, &["apply", "--auto-approve"]);
    wait_for_begin(dir, "create", "long");
    let output = common::interrupt(apply);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(130), "{printed}");
    assert!(printed.contains("help: run `infra apply` again to wait in full"), "{printed}");
    assert!(printed.contains("main.infra:1:21"), "no excerpt at the resource:\n{printed}");
}
