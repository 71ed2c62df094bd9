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
    // One command per file written, and the check of the paths to create (is a file
    // there already?) read for all of them together, when planning and when applying.
    let run = commands_run(&log);
    assert!((31..=34).contains(&run), "30 writes and a batched check or two: {run}");
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

/// Regression: the server's content of a drifted or imported `ssh.file` was printed in
/// the plan and kept in the state, so importing `/etc/shadow` printed its password
/// hashes. A file not every user of the server may read is shown by its SHA-256 only.
#[test]
fn regression_a_private_files_server_content_never_reaches_a_plan_or_the_state() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let env = dir.path().join("app.env");
    let shadow = dir.path().join("shadow");
    let body = format!(
        "resource ssh.file env {{\n  path    = \"{}\"\n  content = \"TOKEN=configured\\n\"\n  mode    = \"0600\"\n}}\n",
        env.display()
    );
    module(dir.path(), &sshd, &body);
    ok(dir.path(), &["apply", "--auto-approve"]);
    std::fs::write(&env, "TOKEN=leaked-on-server\n").unwrap();
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "the drift is planned: {plan}");
    assert!(!plan.contains("leaked-on-server"), "{plan}");
    assert!(plan.contains("not shown"), "{plan}");

    std::fs::write(&shadow, "root:$6$password-hash-secret:19000:0:99999:7:::\n").unwrap();
    std::fs::set_permissions(&shadow, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let body =
        format!("{body}resource ssh.file shadow {{\n  path    = \"{}\"\n  content = \"x\\n\"\n}}\n", shadow.display());
    module(dir.path(), &sshd, &body);
    let imported = ok(dir.path(), &["import", "shadow", &shadow.display().to_string()]);
    assert!(!imported.contains("password-hash-secret"), "{imported}");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(!plan.contains("password-hash-secret"), "{plan}");
    let state = std::fs::read_to_string(dir.path().join("infra.state.json")).unwrap();
    assert!(!state.contains("password-hash-secret") && !state.contains("leaked-on-server"), "{state}");
}

/// Regression: an `ssh.command` whose `create` succeeded but whose `read` failed was not
/// recorded, so the next apply ran `create` again and a destroy never ran `destroy`.
#[test]
fn regression_a_command_whose_read_fails_after_create_is_recorded_and_not_created_twice() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let counter = dir.path().join("counter");
    let flag = dir.path().join("flag");
    module(
        dir.path(),
        &sshd,
        &format!(
            "resource ssh.command counter {{\n  create  = \"echo x >> {c}\"\n  destroy = \"rm -f {c}\"\n  read    = \"cat {f}\"\n}}\n",
            c = counter.display(),
            f = flag.display()
        ),
    );
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("`read` command"), "{printed}");
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "x\n");
    let listed = ok(dir.path(), &["state", "list"]);
    assert!(listed.contains("counter"), "recorded: {listed}");
    // The refresh runs `read`, which still fails: nothing is created again.
    fails(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "x\n", "created once");
    std::fs::write(&flag, "ready\n").unwrap();
    ok(dir.path(), &["destroy", "--auto-approve"]);
    assert!(!counter.exists(), "`destroy` ran");
}

/// Regression: `owner = "1000"` and `group = "0"` were compared with the names the
/// server reports (`UNKNOWN`, `root`), so the plan showed a change after every apply.
#[test]
fn regression_a_numeric_owner_and_group_converge() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("numeric");
    let sub = dir.path().join("numeric-dir");
    module(
        dir.path(),
        &sshd,
        &format!(
            "resource ssh.file numeric {{\n  path    = \"{}\"\n  content = \"x\\n\"\n  owner   = \"54321\"\n  group   = \"0\"\n}}\n\
             resource ssh.directory numeric_dir {{\n  path  = \"{}\"\n  owner = \"54321\"\n  group = \"0\"\n}}\n",
            file.display(),
            sub.display()
        ),
    );
    ok(dir.path(), &["apply", "--auto-approve"]);
    use std::os::unix::fs::MetadataExt;
    for path in [&file, &sub] {
        let metadata = std::fs::metadata(path).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (54321, 0));
    }
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "no change after the apply: {plan}");
}

/// Regression: `authorized_keys` entries holding several keys (from `file()` of a
/// multi-key file) were rewritten at every apply, text that is no key was written as is,
/// and `groups` naming a group twice showed a change forever: each is refused at plan.
#[test]
fn regression_user_keys_and_groups_that_could_never_converge_are_refused_at_plan() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let key = sshd.host_key.clone();
    let cases = [
        (format!("authorized_keys = [\"{key}\\n{key}\"]"), "holds 2 lines"),
        ("authorized_keys = [\"not a key at all\"]".to_string(), "is not a public key line"),
        ("authorized_keys = [\"ssh-ed25519 AAAA x\"]".to_string(), "is not a public key line"),
        ("groups = [\"adm\", \"adm\", \"ops\"]".to_string(), "lists `adm` twice"),
    ];
    for (setting, expected) in cases {
        module(dir.path(), &sshd, &format!("resource ssh.user bob {{\n  name = \"bob\"\n  {setting}\n}}\n"));
        let printed = fails(dir.path(), &["plan"]);
        assert!(printed.contains(expected), "{setting}: {printed}");
        assert!(printed.contains("help:"), "{printed}");
    }
    module(
        dir.path(),
        &sshd,
        &format!("resource ssh.user bob {{\n  name = \"bob\"\n  authorized_keys = [\"{key}\"]\n}}\n"),
    );
    ok(dir.path(), &["plan"]);
}

/// Regression: a `source` file that does not exist was not caught by the plan (the
/// hash was left unknown), and the apply failed.
#[test]
fn regression_a_missing_source_fails_the_plan_at_source() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("target");
    module(
        dir.path(),
        &sshd,
        &format!("resource ssh.file f {{\n  path   = \"{}\"\n  source = \"missing.txt\"\n}}\n", target.display()),
    );
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("missing.txt` does not exist"), "{printed}");
    assert!(printed.contains("source = \"missing.txt\""), "the span is at `source`: {printed}");
    assert!(printed.contains("help: `source` is read when planning"), "{printed}");
    assert!(!printed.contains("os error"), "{printed}");
}

/// Regression: `ssh.service` on a server not booted with systemd failed with
/// "changing the service" on a create, quoting systemctl's complaint four times, with
/// no hint.
#[test]
fn regression_a_service_on_a_server_without_systemd_is_one_clear_error() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(!Path::new("/run/systemd/system").exists(), "this machine is not booted with systemd");
    module(dir.path(), &sshd, "resource ssh.service ssh {\n  name    = \"ssh\"\n  running = true\n}\n");
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(printed.matches("does not run systemd").count(), 1, "{printed}");
    assert!(!printed.contains("changing") && !printed.contains("System has not been booted"), "{printed}");
    assert!(printed.contains("help: `ssh.service` manages systemd units"), "{printed}");
}

/// Regression: an `ssh.file` at a path that exists on the server was planned as "will
/// be created" with no word that applying takes the file over and destroying deletes it.
#[test]
fn regression_a_file_that_exists_on_the_server_is_a_plan_warning() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let existing = dir.path().join("motd");
    std::fs::write(&existing, "the server's own\n").unwrap();
    let fresh = dir.path().join("fresh");
    module(
        dir.path(),
        &sshd,
        &format!(
            "resource ssh.file motd {{\n  path    = \"{}\"\n  content = \"managed\\n\"\n}}\n\
             resource ssh.file fresh {{\n  path    = \"{}\"\n  content = \"managed\\n\"\n}}\n",
            existing.display(),
            fresh.display()
        ),
    );
    let printed = ok(dir.path(), &["plan"]);
    assert_eq!(printed.matches("exists on the server already").count(), 1, "only the existing one: {printed}");
    assert!(printed.contains("infra import"), "{printed}");
    assert!(!printed.contains("the server's own"), "{printed}");
}

/// Regression: connection errors quoted the libraries' own text ("Environment variable
/// `SSH_AUTH_SOCK` not found", "Connection refused (os error 111)", "failed to lookup
/// address information", "Base64 decoding error: invalid length at 8").
#[test]
fn regression_connection_errors_are_the_providers_own_words_with_a_hint() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let block = sshd.provider_block();
    let key_line = block.lines().find(|line| line.contains("private_key")).unwrap().to_string();
    let cases = [
        (block.replace(&key_line, "  agent = true"), "`SSH_AUTH_SOCK` is not set"),
        (block.replace(&format!("= {}", sshd.port), &format!("= {closed_port}")), "the connection was refused"),
        (block.replace("\"127.0.0.1\"", "\"no-such-host.invalid\""), "the host name does not resolve"),
        (block.replace("}\n", "  host_key    = \"ssh-ed25519 AAAA\"\n}\n"), "`host_key` is not a public key"),
    ];
    let raw = ["SSH_AUTH_SOCK` not found", "os error", "failed to lookup", "Base64 decoding error"];
    let body = format!(
        "resource ssh.file f {{\n  path    = \"{}\"\n  content = \"x\\n\"\n}}\n",
        dir.path().join("f").display()
    );
    for (provider, expected) in cases {
        write_module(dir.path(), &format!("{provider}{body}"));
        let output = common::command(dir.path(), &["apply", "--auto-approve"])
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .expect("infra runs");
        let printed = common::text(&output);
        assert!(!output.status.success(), "{printed}");
        assert!(printed.contains(expected), "{expected}: {printed}");
        assert!(printed.contains("help:"), "{printed}");
        for text in raw {
            assert!(!printed.contains(text), "{text}: {printed}");
        }
    }
}

/// With the fix for data sources (they wait for a resource's recorded host key), a data
/// source that resources depend on still plans as before when another resource of the
/// host does not depend on it, and is refused with the resources once the key changes.
#[test]
fn a_data_source_uses_the_key_the_resources_recorded() {
    let mut sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let site = dir.path().join("site");
    module(
        dir.path(),
        &sshd,
        &format!(
            "data ssh.facts web {{}}\n\
             resource ssh.directory site {{\n  path = \"{}\"\n}}\n\
             resource ssh.file index {{\n  path    = \"${{site.path}}/index.html\"\n  content = \"hello from ${{web.hostname}}\\n\"\n}}\n",
            site.display()
        ),
    );
    ok(dir.path(), &["apply", "--auto-approve"]);
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
    sshd.restart_with_new_host_key();
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("changed"), "{printed}");
    assert!(!printed.contains("cannot be checked"), "{printed}");
}

/// Regression: without a refresh (`plan --refresh=false`, and `infra import`), nothing read the
/// host key the state recorded before the first connection, so a new resource's create
/// trusted whatever key the server presented and ran there. The state's records are now
/// the key to check from the start of every run.
#[test]
fn without_a_refresh_the_recorded_host_key_is_still_checked_before_anything_runs() {
    let mut sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("motd");
    let marker = dir.path().join("ran");
    let first =
        format!("resource ssh.file motd {{\n  path    = \"{}\"\n  content = \"hello\\n\"\n}}\n", target.display());
    module(dir.path(), &sshd, &first);
    ok(dir.path(), &["apply", "--auto-approve"]);

    sshd.restart_with_new_host_key();
    let body = format!("{first}resource ssh.command mark {{\n  create = \"touch {}\"\n}}\n", marker.display());
    module(dir.path(), &sshd, &body);
    let plan = dir.path().join("p.plan");
    let planned = ok(dir.path(), &["plan", "--refresh=false", "--out", plan.to_str().unwrap()]);
    assert!(!marker.exists(), "{planned}");
    let printed = fails(dir.path(), &["apply", plan.to_str().unwrap()]);
    assert!(squeezed(&printed).contains("hostkeyhaschanged") || printed.contains("changed"), "{printed}");
    assert_eq!(printed.matches("SHA256:").count(), 2, "both fingerprints: {printed}");
    assert!(!marker.exists(), "the create ran on a server presenting another key:\n{printed}");

    // An import of another object of the host is checked against the record too.
    std::fs::write(dir.path().join("other"), "x\n").unwrap();
    let other = format!(
        "resource ssh.file other {{\n  path    = \"{}\"\n  content = \"x\\n\"\n}}\n",
        dir.path().join("other").display()
    );
    module(dir.path(), &sshd, &format!("{first}{other}"));
    let printed = fails(dir.path(), &["import", "other", &dir.path().join("other").display().to_string()]);
    assert_eq!(printed.matches("SHA256:").count(), 2, "both fingerprints: {printed}");
}

/// `text` without whitespace and the renderer's `│` margins, so that a message the
/// renderer wrapped (anywhere, even inside a path) can be compared with its text.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '│').collect()
}

/// Whether `path` itself (not what it may point at) is a regular file.
fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// Regression: an `ssh.file` at a path that was a symbolic link on the server was
/// planned as an ordinary create, with no word of the link (a link to a regular file
/// even warned that its "content is replaced"), and a link to a directory failed the
/// apply. Now the plan names the link and its target, and apply replaces the link
/// itself with the file, never writing through it.
#[test]
fn regression_a_file_over_a_symbolic_link_is_a_plan_warning_and_replaces_the_link_not_its_target() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("passwd");
    std::fs::write(&target, "root:x:0:0\n").unwrap();
    let target_dir = dir.path().join("elsewhere");
    std::fs::create_dir(&target_dir).unwrap();
    let missing = dir.path().join("missing");
    let links = [("motd", &target), ("conf", &target_dir), ("dangling", &missing)];
    let mut body = String::new();
    for (name, points_at) in links {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(points_at, &link).unwrap();
        body.push_str(&format!(
            "resource ssh.file {name} {{\n  path    = \"{}\"\n  content = \"managed\\n\"\n}}\n",
            link.display()
        ));
    }
    module(dir.path(), &sshd, &body);
    let plan = ok(dir.path(), &["plan"]);
    let unwrapped = squeezed(&plan);
    for (name, points_at) in links {
        let warning = format!(
            "`{}` on the server is a symbolic link (to `{}`), not a regular file",
            dir.path().join(name).display(),
            points_at.display()
        );
        assert!(unwrapped.contains(&squeezed(&warning)), "{name}: {plan}");
    }
    assert_eq!(
        unwrapped.matches(&squeezed("creating the file replaces the link itself with the file")).count(),
        3,
        "{plan}"
    );
    assert!(!plan.contains("root:x"), "the link's target is not read: {plan}");
    // A link is not a file to import: an error with a code and a hint, and nothing read.
    let link = dir.path().join("motd").display().to_string();
    let printed = fails(dir.path(), &["import", "motd", &link]);
    assert!(printed.contains("error[E0610]") && printed.contains("help:"), "{printed}");
    assert!(squeezed(&printed).contains(&squeezed("cannot be imported as `ssh.file`")), "{printed}");
    assert!(!printed.contains("root:x"), "{printed}");

    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root:x:0:0\n", "the link's target is untouched");
    assert_eq!(std::fs::read_dir(&target_dir).unwrap().count(), 0, "nothing was written into the directory");
    assert!(!missing.exists(), "a dangling link's target is not created");
    for (name, _) in links {
        let path = dir.path().join(name);
        assert!(is_regular_file(&path), "{name} is a regular file now");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "managed\n");
    }
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
    assert!(!plan.contains("symbolic link"), "{plan}");
}

/// Regression: a managed file replaced by a symbolic link outside Infra was read through
/// the link: a link to a file with the same content was no drift at all, and a link to
/// another file showed that file's content as the managed file's. Now the plan says the
/// file is gone and a link is there, and apply puts a regular file back without writing
/// through the link.
#[test]
fn regression_a_managed_file_replaced_by_a_symbolic_link_is_drift_and_apply_restores_the_file() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let same = dir.path().join("same");
    let other = dir.path().join("other");
    let body = format!(
        "resource ssh.file same {{\n  path    = \"{}\"\n  content = \"managed\\n\"\n}}\n\
         resource ssh.file other {{\n  path    = \"{}\"\n  content = \"managed\\n\"\n}}\n",
        same.display(),
        other.display()
    );
    module(dir.path(), &sshd, &body);
    ok(dir.path(), &["apply", "--auto-approve"]);
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");

    // Outside Infra: each file replaced by a link, one to a file with the very content
    // Infra wrote, one to a file with another.
    let same_target = dir.path().join("same-target");
    let other_target = dir.path().join("other-target");
    std::fs::write(&same_target, "managed\n").unwrap();
    std::fs::write(&other_target, "someone else's\n").unwrap();
    for (path, target) in [(&same, &same_target), (&other, &other_target)] {
        std::fs::remove_file(path).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "both are changes: {plan}");
    let unwrapped = squeezed(&plan);
    for (path, target) in [(&same, &same_target), (&other, &other_target)] {
        let warning = format!(
            "`{}` on the server is a symbolic link (to `{}`), not a regular file",
            path.display(),
            target.display()
        );
        assert_eq!(unwrapped.matches(&squeezed(&warning)).count(), 1, "{warning}, once: {plan}");
    }
    assert!(plan.contains("has been deleted outside of Infra"), "{plan}");
    assert!(plan.contains("2 to add"), "{plan}");
    assert!(!plan.contains("someone else's"), "the link's target is not read: {plan}");
    // `infra refresh` records that the files are gone, and says why, as the plan does.
    let refreshed = ok(dir.path(), &["refresh"]);
    assert_eq!(refreshed.matches("has been deleted outside of Infra").count(), 2, "{refreshed}");
    assert_eq!(squeezed(&refreshed).matches(&squeezed("is a symbolic link (to")).count(), 2, "{refreshed}");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert_eq!(squeezed(&plan).matches(&squeezed("is a symbolic link (to")).count(), 2, "{plan}");

    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&same_target).unwrap(), "managed\n");
    assert_eq!(std::fs::read_to_string(&other_target).unwrap(), "someone else's\n", "the link's target is untouched");
    for path in [&same, &other] {
        assert!(is_regular_file(path), "{} is a regular file again", path.display());
        assert_eq!(std::fs::read_to_string(path).unwrap(), "managed\n");
    }
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}

/// Regression: an `ssh.directory` at a path that was a symbolic link to a directory was
/// made "through" the link: `chmod` and `chown` changed the directory it pointed at
/// (anywhere on the server), and the link stayed. Now the plan names the link, apply
/// replaces the link itself with a directory and changes nothing it pointed at, and a
/// managed directory replaced by a link is made again the same way.
#[test]
fn regression_a_directory_over_a_symbolic_link_replaces_the_link_and_never_changes_its_target() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("elsewhere");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("kept"), "kept\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).unwrap();
    let site = dir.path().join("site");
    std::os::unix::fs::symlink(&target, &site).unwrap();
    module(
        dir.path(),
        &sshd,
        &format!("resource ssh.directory site {{\n  path = \"{}\"\n  mode = \"0751\"\n}}\n", site.display()),
    );
    let warning = squeezed(&format!(
        "`{}` on the server is a symbolic link (to `{}`), not a directory: creating the directory replaces the link with an empty \
         directory, and changes nothing at `{}`",
        site.display(),
        target.display(),
        target.display()
    ));
    let plan = ok(dir.path(), &["plan"]);
    assert!(squeezed(&plan).contains(&warning), "{plan}");

    let unchanged = |what: &str| {
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700, "{what}: the link's target keeps its permissions");
        assert_eq!(std::fs::read_to_string(target.join("kept")).unwrap(), "kept\n", "{what}");
    };
    ok(dir.path(), &["apply", "--auto-approve"]);
    unchanged("create");
    let made = std::fs::symlink_metadata(&site).unwrap();
    assert!(made.is_dir(), "the link was replaced by a directory");
    assert_eq!(made.permissions().mode() & 0o7777, 0o751);
    assert_eq!(std::fs::read_dir(&site).unwrap().count(), 0, "a new, empty directory");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");

    // Outside Infra: the managed directory replaced by a link again.
    std::fs::remove_dir(&site).unwrap();
    std::os::unix::fs::symlink(&target, &site).unwrap();
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("has been deleted outside of Infra"), "{plan}");
    assert!(squeezed(&plan).contains(&warning), "{plan}");
    ok(dir.path(), &["apply", "--auto-approve"]);
    unchanged("drift");
    assert!(std::fs::symlink_metadata(&site).unwrap().is_dir());
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");

    // Destroying it removes the directory Infra made, and nothing through a link.
    ok(dir.path(), &["destroy", "--auto-approve"]);
    assert!(!site.exists());
    unchanged("destroy");
}

/// The permissions of `path` itself.
fn permissions(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).expect("metadata").permissions().mode() & 0o7777
}

/// Regression: an applied `mode = "0755"` edited to `mode = "755"` planned `~ mode =
/// "0755" -> "755"` (exit 2, one to change) and applied an update for nothing, though the
/// two are the same permissions. Now either form is no change, for a file and a
/// directory, and the recorded form stays.
#[test]
fn regression_a_mode_written_with_or_without_its_leading_zero_is_no_change() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (script, bin) = (dir.path().join("hello.sh"), dir.path().join("bin"));
    let body = |file_mode: &str, directory_mode: &str| {
        format!(
            "resource ssh.file hello {{\n  path    = \"{}\"\n  content = \"echo hi\\n\"\n  mode    = \"{file_mode}\"\n}}\n\
             resource ssh.directory bin {{\n  path = \"{}\"\n  mode = \"{directory_mode}\"\n}}\n",
            script.display(),
            bin.display()
        )
    };
    module(dir.path(), &sshd, &body("0755", "0750"));
    ok(dir.path(), &["apply", "--auto-approve"]);
    for (file_mode, directory_mode) in [("755", "750"), ("0755", "0750"), ("755", "0750")] {
        module(dir.path(), &sshd, &body(file_mode, directory_mode));
        let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "{file_mode} and {directory_mode} are no change: {plan}");
        let applied = ok(dir.path(), &["apply", "--auto-approve"]);
        assert!(!applied.contains("mode"), "nothing is updated: {applied}");
    }
    let state = ok(dir.path(), &["state", "show", "hello"]);
    assert!(state.contains("\"0755\""), "the recorded form stays: {state}");

    // Other permissions are still a change, in either form.
    module(dir.path(), &sshd, &body("700", "0700"));
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("\"0755\" -> \"700\"") && plan.contains("\"0750\" -> \"0700\""), "{plan}");
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!((permissions(&script), permissions(&bin)), (0o700, 0o700));
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{plan}");
}

/// Regression: an `ssh.file` whose directory does not exist failed with `mkdir`'s
/// complaint about Infra's private temporary directory (`mkdir: cannot create directory
/// '.../bin/.hello.sh.infra-0a91...'`), with no hint and no word of the missing
/// directory. Now the error names the directory, and its hint how to make it first;
/// something other than a directory on the way is named the same way.
#[test]
fn regression_a_file_whose_directory_is_missing_names_the_directory_with_a_hint() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("bin");
    let script = bin.join("hello.sh");
    let file = |path: &Path| {
        format!("resource ssh.file hello {{\n  path    = \"{}\"\n  content = \"echo hi\\n\"\n}}\n", path.display())
    };
    module(dir.path(), &sshd, &file(&script));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    let expected = format!("the directory `{}` does not exist on the server", bin.display());
    assert!(squeezed(&printed).contains(&squeezed(&expected)), "{printed}");
    assert!(printed.contains("help:") && printed.contains("ssh.directory"), "{printed}");
    assert!(!printed.contains(".infra-") && !printed.contains("mkdir"), "no shell complaint: {printed}");

    // A regular file where a directory on the way should be.
    std::fs::write(&bin, "not a directory\n").unwrap();
    module(dir.path(), &sshd, &file(&bin.join("sub/hello.sh")));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    let expected = format!("`{}` on the server is not a directory", bin.display());
    assert!(squeezed(&printed).contains(&squeezed(&expected)), "{printed}");
    assert!(printed.contains("help:") && !printed.contains(".infra-"), "{printed}");
    std::fs::remove_file(&bin).unwrap();

    // What the hint says: the directory managed, the file's path built from it.
    module(
        dir.path(),
        &sshd,
        &format!(
            "resource ssh.directory bin {{\n  path = \"{}\"\n}}\n\
             resource ssh.file hello {{\n  path    = \"${{bin.path}}/hello.sh\"\n  content = \"echo hi\\n\"\n}}\n",
            bin.display()
        ),
    );
    ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), "echo hi\n");
}

/// An sshd whose commands run as `nobody` (65534), as for a login user who is not root.
fn unprivileged_sshd(dir: &Path) -> Sshd {
    let wrapper = dir.join("as-nobody.sh");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \"$SSH_ORIGINAL_COMMAND\"\n",
    )
    .expect("wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    Sshd::start_with(&format!("ForceCommand {}\n", wrapper.display()))
}

/// Regression: a login user who may not write in a file's or directory's parent, or give
/// it the owner configured, got the shell's words (`mkdir: cannot create directory ...:
/// Permission denied`, naming Infra's temporary directory; `chown: changing ownership of
/// ...: Operation not permitted`) and no hint. Now the error names the directory or the
/// owner, with a hint (`sudo = true`), and nothing is left behind.
#[test]
fn regression_permission_denied_names_the_directory_or_the_owner_with_a_hint() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sshd = unprivileged_sshd(dir.path());
    let (locked, open) = (dir.path().join("locked"), dir.path().join("open"));
    std::fs::create_dir(&locked).unwrap();
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cases = [
        (
            format!("resource ssh.file f {{\n  path    = \"{}/f\"\n  content = \"x\\n\"\n}}\n", locked.display()),
            format!("the login user may not write in the directory `{}`", locked.display()),
        ),
        (
            format!("resource ssh.directory d {{\n  path = \"{}/d/e\"\n}}\n", locked.display()),
            format!("the login user may not write in the directory `{}`", locked.display()),
        ),
        (
            format!(
                "resource ssh.file f {{\n  path    = \"{}/f\"\n  content = \"x\\n\"\n  owner   = \"root\"\n}}\n",
                open.display()
            ),
            format!("`{}/f` could not be given the owner `root`", open.display()),
        ),
        (
            format!("resource ssh.directory d {{\n  path  = \"{}/d\"\n  group = \"root\"\n}}\n", open.display()),
            format!("`{}/d` could not be given the group `root`", open.display()),
        ),
    ];
    for (body, expected) in cases {
        module(dir.path(), &sshd, &body);
        let printed = fails(dir.path(), &["apply", "--auto-approve"]);
        assert!(squeezed(&printed).contains(&squeezed(&expected)), "{body}: {printed}");
        assert!(printed.contains("help:") && printed.contains("sudo = true"), "{printed}");
        assert!(!printed.contains(".infra-"), "{printed}");
    }
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
    let left: Vec<_> = std::fs::read_dir(&open).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["d"], "the file was not written; the directory was made, without the group");
}
