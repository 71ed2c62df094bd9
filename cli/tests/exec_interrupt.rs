//! `exec` commands and Ctrl-C, against the real binary: a command runs in a process group
//! of its own, so only Infra decides when it ends; the first Ctrl-C lets it finish, and
//! a command Infra abandons dies with everything it started before it can do more.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod common;

use common::{ok, text};

/// Starts `infra ARGS` in `dir` with its output in `stdout.log` and `stderr.log` (read
/// while it runs); `own_group` makes it lead a process group of its own, as a shell makes a job
/// that a terminal's Ctrl-C signals as a whole.
fn start(dir: &Path, args: &[&str], own_group: bool) -> Child {
    let [stdout, stderr] = ["stdout.log", "stderr.log"].map(|name| std::fs::File::create(dir.join(name)).expect(name));
    let mut command = common::command(dir, args);
    command.stdout(stdout).stderr(stderr);
    if own_group {
        command.process_group(0);
    }
    command.spawn().expect("start infra")
}

/// Waits up to 60 s for `done`, saying what it waited for if it never happens.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The process id a command wrote to `name` (a whole line, so it is written through).
fn pid_in(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    wait_for(name, || std::fs::read_to_string(&path).is_ok_and(|text| text.ends_with('\n')));
    std::fs::read_to_string(&path).expect("pid file").trim().to_string()
}

fn signal(target: &str, name: &str) {
    let sent = Command::new("kill").args([name, "--", target]).status().expect("kill");
    assert!(sent.success(), "kill {name} {target}");
}

/// Whether process `pid` has ended: gone, or a zombie waiting for a parent that does not
/// reap (PID 1 in some containers).
fn ended(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Whether every one of `pids` ends within two seconds (a killed process ends at once; the
/// watchdog acts as Infra exits).
fn all_end_soon(pids: &[&str]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !pids.iter().all(|pid| ended(pid)) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Waits for `child` to exit, at most 20 s; its exit code and everything it printed.
fn finish(mut child: Child, dir: &Path) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("infra status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("infra kept running after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let printed = ["stdout.log", "stderr.log"].map(|name| std::fs::read_to_string(dir.join(name)).unwrap_or_default());
    (status.code().unwrap_or(-1), printed.concat())
}

/// Bug: a second Ctrl-C sent to Infra alone (as CI runners send it) ended Infra with the
/// command's shell still running: reparented to PID 1, it wrote its marker after Infra
/// had exited, and the next apply ran the command a second time. Every process of the
/// abandoned command is now killed, and the command's output never appears.
#[test]
fn a_second_ctrl_c_kills_the_abandoned_command_with_everything_it_started() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    common::write_module(
        dir,
        r#"
resource exec.command slow {
  create  = "echo $$ > shell.pid; sleep 3 & echo $! > sleep.pid; wait; echo created > marker.txt"
  destroy = "rm -f marker.txt"
}
"#,
    );
    let apply = start(dir, &["apply", "--auto-approve"], false);
    let infra_pid = apply.id().to_string();
    let (shell, sleep) = (pid_in(dir, "shell.pid"), pid_in(dir, "sleep.pid"));
    let started = Instant::now();
    signal(&infra_pid, "-INT");
    wait_for("the first Ctrl-C's message", || {
        std::fs::read_to_string(dir.join("stderr.log")).is_ok_and(|log| log.contains("Press Ctrl-C again"))
    });
    signal(&infra_pid, "-INT");
    let (code, printed) = finish(apply, dir);
    assert_eq!(code, 130, "{printed}");
    assert!(printed.contains("E0805") && printed.contains("stopped at once"), "{printed}");

    assert!(all_end_soon(&[&shell, &sleep]), "the command's shell {shell} or its `sleep` {sleep} outlived Infra");
    // Past the moment the command would have finished, it has done nothing more.
    std::thread::sleep(Duration::from_secs(4).saturating_sub(started.elapsed()));
    assert!(!dir.join("marker.txt").exists(), "the abandoned command ran on");

    // The state says the create began and was never confirmed; the next apply runs it.
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("a create of slow began but was never confirmed"), "{plan}");
    assert!(plan.contains("+ exec.command slow"), "{plan}");
}

/// Bug: Ctrl-C at a terminal signals the whole foreground process group, which held the
/// command too: the first Ctrl-C killed it halfway instead of letting it finish, and the
/// resource was recorded as not created though its script had partly run. The command
/// now runs in a group of its own, finishes, and is recorded as created.
#[test]
fn ctrl_c_at_the_terminal_lets_a_running_command_finish() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    common::write_module(
        dir,
        r#"
resource exec.command slow {
  create = "echo $$ > shell.pid; sleep 2; echo created >> marker.txt"
}

resource local.file after {
  path    = "out/after.txt"
  content = slow.id
}
"#,
    );
    let apply = start(dir, &["apply", "--auto-approve"], true);
    let group = format!("-{}", apply.id());
    pid_in(dir, "shell.pid");
    signal(&group, "-INT");
    let (code, printed) = finish(apply, dir);
    assert_eq!(code, 130, "{printed}");
    assert!(printed.contains("slow: Creation complete"), "the command was not let finish:\n{printed}");
    assert!(printed.contains("after: skipped, because the run was interrupted"), "{printed}");
    assert_eq!(std::fs::read_to_string(dir.join("marker.txt")).ok().as_deref(), Some("created\n"));

    // Recorded as created: the next apply makes only what was skipped.
    let applied = ok(dir, &["apply", "--auto-approve"]);
    assert!(applied.contains("1 added, 0 changed"), "{applied}");
    assert_eq!(std::fs::read_to_string(dir.join("marker.txt")).ok().as_deref(), Some("created\n"), "ran twice");
}

/// Bug: an `exec.json` program (and whatever it started) kept running after Ctrl-C
/// ended a plan, and a command's processes outlived an Infra that was killed. Both die
/// with the run now.
#[test]
fn no_process_outlives_a_plan_stopped_by_ctrl_c_or_an_apply_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    common::write_module(
        dir,
        r#"
data exec.json slow {
  program = ["sh", "-c", "echo $$ > shell.pid; sleep 30 & echo $! > sleep.pid; wait; echo '{}'"]
}
"#,
    );
    let plan = start(dir, &["plan"], false);
    let (shell, sleep) = (pid_in(dir, "shell.pid"), pid_in(dir, "sleep.pid"));
    signal(&plan.id().to_string(), "-INT");
    let (code, printed) = finish(plan, dir);
    assert_eq!(code, 130, "{printed}");
    assert!(all_end_soon(&[&shell, &sleep]), "the program's shell {shell} or its `sleep` {sleep} outlived the plan");

    for pid in ["shell.pid", "sleep.pid"] {
        std::fs::remove_file(dir.join(pid)).expect("remove pid file");
    }
    common::write_module(
        dir,
        r#"
resource exec.command slow {
  create = "echo $$ > shell.pid; sleep 30 & echo $! > sleep.pid; wait"
}
"#,
    );
    let mut apply = start(dir, &["apply", "--auto-approve"], false);
    let (shell, sleep) = (pid_in(dir, "shell.pid"), pid_in(dir, "sleep.pid"));
    apply.kill().expect("kill -9 infra");
    apply.wait().expect("infra ends");
    assert!(all_end_soon(&[&shell, &sleep]), "the command's shell {shell} or its `sleep` {sleep} outlived Infra");
    let all = text(&common::run(dir, &["plan"]));
    assert!(all.contains("a create of slow began but was never confirmed"), "{all}");
}
