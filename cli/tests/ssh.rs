//! The `ssh` provider end to end: `infra` plans and applies files over SSH against a real
//! `sshd` on 127.0.0.1 (started and stopped by each test), and what users rely on shows
//! in its output: drift as a line diff, secrets redacted, and a changed host key as a
//! plan error that runs nothing.

use std::path::Path;

mod common;

use common::{fails, ok, outcome, write_module};

#[path = "support/sshd.rs"]
mod sshd;

use sshd::Sshd;

/// A module with the provider block reaching `sshd` (host key trusted on first use) and
/// `body` after it.
fn module(dir: &Path, sshd: &Sshd, body: &str) {
    write_module(dir, &format!("{}{body}", sshd.provider_block()));
}

#[test]
fn a_changed_host_key_is_a_plan_error_naming_both_fingerprints_and_nothing_runs() {
    let mut sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("motd");
    let marker = dir.path().join("ran");
    module(
        dir.path(),
        &sshd,
        &format!("resource ssh.file motd {{\n  path    = \"{}\"\n  content = \"hello\\n\"\n}}\n", target.display()),
    );
    ok(dir.path(), &["apply", "--auto-approve"]);
    let (code, _) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the recorded key is accepted");
    let state = ok(dir.path(), &["state", "show", "motd"]);
    let recorded = state.split_whitespace().find(|w| w.contains("SHA256:")).expect("recorded").trim_matches('"');

    sshd.restart_with_new_host_key();
    // A new command would leave a mark if it ran before the key was checked.
    let body = format!(
        "resource ssh.file motd {{\n  path    = \"{}\"\n  content = \"changed\\n\"\n}}\n\
         resource ssh.command mark {{\n  create = \"touch {}\"\n}}\n",
        target.display(),
        marker.display()
    );
    module(dir.path(), &sshd, &body);
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("changed"), "{printed}");
    // The renderer wraps long lines: compare without the wrapping.
    let unwrapped: String = printed.split_whitespace().filter(|w| *w != "│").collect();
    assert!(unwrapped.contains(recorded), "the recorded fingerprint: {printed}");
    assert_eq!(printed.matches("SHA256:").count(), 2, "both fingerprints: {printed}");
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("help: nothing was run"), "{printed}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello\n");
    assert!(!marker.exists(), "nothing ran");

    // Pinning the new key is how a rebuilt server is accepted; the record follows it.
    let pinned = sshd.provider_block().replace("}\n", &format!("  host_key    = \"{}\"\n}}\n", sshd.host_key));
    write_module(dir.path(), &format!("{pinned}{body}"));
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "changed\n");
    assert!(marker.exists());
}

#[test]
fn drift_shows_the_changed_lines_and_never_a_secret() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("index.html");
    let secret = dir.path().join("token");
    module(
        dir.path(),
        &sshd,
        &format!(
            "resource ssh.file page {{\n  path    = \"{}\"\n  content = \"<h1>one</h1>\\n<p>two</p>\\n\"\n}}\n\
             resource ssh.file token {{\n  path    = \"{}\"\n  content = sensitive(\"s3cr3t-token\\n\")\n  mode    = \"0600\"\n}}\n",
            page.display(),
            secret.display()
        ),
    );
    let applied = ok(dir.path(), &["apply", "--auto-approve"]);
    assert!(!applied.contains("s3cr3t"), "{applied}");
    std::fs::write(&page, "<h1>one</h1>\n<p>tampered</p>\n").unwrap();
    std::fs::write(&secret, "s3cr3t-other\n").unwrap();
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("~ ssh.file.page") || plan.contains("~ ssh.file page"), "{plan}");
    assert!(plan.contains("tampered") && plan.contains("<p>two</p>"), "the changed line: {plan}");
    assert!(!plan.contains("s3cr3t"), "no secret: {plan}");
    let applied = ok(dir.path(), &["apply", "--auto-approve"]);
    assert!(!applied.contains("s3cr3t"), "{applied}");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "s3cr3t-token\n");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}

/// Every command the server runs is logged by a `ForceCommand` wrapper, one line each.
fn counting_sshd(log: &Path) -> Sshd {
    let wrapper = log.with_extension("sh");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\necho run >> {}\nexec sh -c \"$SSH_ORIGINAL_COMMAND\"\n", log.display()),
    )
    .expect("wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    Sshd::start_with(&format!("ForceCommand {}\n", wrapper.display()))
}

fn commands_run(log: &Path) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().lines().count()
}

#[test]
fn a_plan_reads_every_file_of_a_host_with_one_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("commands.log");
    let sshd = counting_sshd(&log);
    let files: String = (0..30)
        .map(|i| {
            format!(
                "resource ssh.file f{i} {{\n  path    = \"{}/f{i}\"\n  content = \"{i}\\n\"\n}}\n",
                dir.path().display()
            )
        })
        .collect();
    module(dir.path(), &sshd, &files);
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(commands_run(&log), 30, "one command per file written");
    std::fs::remove_file(&log).unwrap();
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(commands_run(&log), 1, "one command read all 30 files");
}

#[test]
fn a_read_command_whose_output_changes_plans_the_update_that_restores_it() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let setting = dir.path().join("setting");
    let runs = dir.path().join("runs");
    let body = |update: &str| {
        format!(
            "resource ssh.command setting {{\n  create = \"echo on > {setting}; echo create >> {runs}\"\n{update}  \
             read   = \"cat {setting}\"\n}}\n\
             output seen = setting.read_output\n",
            setting = setting.display(),
            runs = runs.display(),
        )
    };
    module(dir.path(), &sshd, &body(""));
    let applied = ok(dir.path(), &["apply", "--auto-approve"]);
    assert!(applied.contains("seen = \"on\\n\""), "{applied}");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the output `read` recorded is read again: {plan}");

    // Changed outside Infra: the plan shows what `read` found and restores it with
    // `create`, as there is no `update`.
    std::fs::write(&setting, "off\n").unwrap();
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("read_output"), "{plan}");
    assert!(plan.contains("update in place") || plan.contains("~ ssh.command"), "{plan}");
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&setting).unwrap(), "on\n");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "create\ncreate\n");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");

    // With an `update` command, that is what restores it.
    let update = format!("  update = \"echo on > {}; echo update >> {}\"\n", setting.display(), runs.display());
    module(dir.path(), &sshd, &body(&update));
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "create\ncreate\nupdate\n", "a new `update` runs");
    std::fs::write(&setting, "off\n").unwrap();
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&setting).unwrap(), "on\n");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "create\ncreate\nupdate\nupdate\n");

    // `infra refresh` accepts what `read` prints now: nothing is planned afterwards.
    std::fs::write(&setting, "accepted\n").unwrap();
    ok(dir.path(), &["refresh"]);
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");

    // A `read` that fails is an error naming it, not drift.
    std::fs::remove_file(&setting).unwrap();
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("the `read` command exited with status 1"), "{printed}");
    assert!(printed.contains("|| true"), "{printed}");
}

#[test]
fn a_connection_dropped_mid_apply_leaves_a_state_that_matches_the_server() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    // The command kills the server's process for its own session (the nearest `sshd`
    // above its shell): the connection drops under the apply.
    let drop = "p=$$; while ! grep -qx 'sshd\\\\(-session\\\\)\\\\?' /proc/$p/comm; do p=$(cut -d' ' -f4 /proc/$p/stat); done; kill -9 $p";
    let body = |create: &str| {
        format!(
            "resource ssh.file first {{\n  path    = \"{}\"\n  content = \"one\\n\"\n}}\n\
             resource ssh.command cut {{\n  create   = \"{create}\"\n  triggers = {{ after = first.sha256 }}\n}}\n\
             resource ssh.file second {{\n  path    = \"{}\"\n  content = \"after ${{cut.id}}\\n\"\n}}\n",
            first.display(),
            second.display(),
        )
    };
    module(dir.path(), &sshd, &body(drop));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("cut"), "the failure names the resource: {printed}");
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "one\n");
    assert!(!second.exists(), "what depends on the failed command is not made");
    let listed = ok(dir.path(), &["state", "list"]);
    assert!(listed.contains("first") && !listed.contains("second"), "{listed}");

    // The next plan starts from what the server has: only the command and what
    // depends on it are left to create, over a new connection.
    module(dir.path(), &sshd, &body("true"));
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("Plan: 2 to add, 0 to change, 0 to destroy"), "{plan}");
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert!(second.exists());
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}

#[test]
fn infra_killed_mid_upload_leaves_no_half_written_file() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let remote = dir.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let target = remote.join("big");
    std::fs::write(&target, "old\n").unwrap();
    let big = "x".repeat(64 * 1024 * 1024);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    module(
        dir.path(),
        &sshd,
        &format!("resource ssh.file big {{\n  path   = \"{}\"\n  source = \"big.bin\"\n}}\n", target.display()),
    );
    let mut apply = common::command(dir.path(), &["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("infra apply");
    // Killed once the upload is under way: the temporary file beside the target grows.
    let others = || -> Vec<std::fs::DirEntry> {
        std::fs::read_dir(&remote).unwrap().map(Result::unwrap).filter(|e| e.file_name() != "big").collect()
    };
    let start = std::time::Instant::now();
    while !others().iter().any(|e| e.metadata().is_ok_and(|m| m.len() > 0)) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the upload never started");
        assert!(apply.try_wait().unwrap().is_none(), "the apply ended before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    apply.kill().expect("kill -9");
    apply.wait().unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"old\n", "the old file stays whole");
    // The server sees the input end with the hash unmatched and removes its temporary file.
    let start = std::time::Instant::now();
    while !others().is_empty() && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(others().is_empty(), "no temporary file is left behind");

    // The next apply finishes the job from the journal's record; then nothing is planned.
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::metadata(&target).unwrap().len(), big.len() as u64);
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}
