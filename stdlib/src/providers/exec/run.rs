//! Running one process for the `exec` provider: spawning it in a process group of its
//! own with its environment and directory, feeding its standard input, collecting its
//! output, killing the group (the process and every process it started) when it
//! outlives its timeout or is abandoned, and describing how it ended.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// How much of standard error a failure quotes: its last lines, at most this many bytes.
const STDERR_TAIL_LINES: usize = 20;
const STDERR_TAIL_BYTES: usize = 4096;

/// One process to run.
pub(super) struct Invocation {
    pub(super) program: String,
    pub(super) args: Vec<String>,
    /// Added to the environment Infra itself runs with.
    pub(super) environment: Vec<(String, String)>,
    pub(super) working_dir: PathBuf,
    /// Written to standard input, which is then closed; with none, standard input is
    /// empty, so a command that reads it does not wait forever.
    pub(super) stdin: Option<Vec<u8>>,
    /// How long it may run; when the time is up, its process group is killed.
    pub(super) timeout: Option<Duration>,
}

/// How a run ended.
pub(super) enum Outcome {
    Finished(Finished),
    /// The timeout expired; the process group was killed.
    TimedOut,
}

/// A process that ran to its end.
pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

/// Runs `invocation` to completion, or until its timeout expires.
///
/// The process leads a process group of its own, so Ctrl-C at the terminal (which
/// signals the terminal's foreground group, Infra's) does not reach it: only Infra
/// decides when it ends. A run abandoned before the process ends kills the whole group
/// with SIGKILL: when its timeout expires, when the future is dropped, and when Infra
/// exits without dropping it (see [`Group`]). What the command left running in the
/// background once it has ended is its own business, as in a shell.
pub(super) async fn run(invocation: Invocation) -> io::Result<Outcome> {
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .envs(invocation.environment)
        .current_dir(&invocation.working_dir)
        .stdin(if invocation.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn()?;
    let group = Group::watch(child.id());
    let stdin = child.stdin.take();
    let feed = async move {
        if let (Some(mut pipe), Some(bytes)) = (stdin, invocation.stdin) {
            // A program may exit without reading all of its input; the broken pipe that
            // follows is not an error of ours, and its exit status tells the rest.
            let _ = pipe.write_all(&bytes).await;
        }
    };
    // Input is written while output is read: a program that writes before it has read
    // everything would otherwise fill a pipe and wait forever.
    let wait = async move { tokio::join!(feed, child.wait_with_output()).1 };
    let output = match invocation.timeout {
        None => wait.await?,
        Some(limit) => match tokio::time::timeout(limit, wait).await {
            Ok(output) => output?,
            Err(_elapsed) => {
                // The wait is dropped by now, which killed the direct child; the group
                // outlives it while any process it started is alive, until this.
                drop(group);
                return Ok(Outcome::TimedOut);
            }
        },
    };
    group.ended();
    Ok(Outcome::Finished(Finished { status: output.status, stdout: output.stdout, stderr: output.stderr }))
}

/// The process group of a running command, killed with SIGKILL when it is dropped
/// before [`Group::ended`].
///
/// Infra may also end without dropping it: a second Ctrl-C exits the process at once,
/// and so does `kill -9`. For those, a watchdog runs beside the command: `sh`, in a
/// group of its own (so Ctrl-C at the terminal does not reach it either), reading a pipe
/// whose other end only Infra holds. When Infra exits, for whatever reason, the pipe
/// closes, the read ends, and the watchdog kills the command's group. A run that ends
/// as usual kills the watchdog instead, while its pipe is still open.
struct Group {
    /// The id of the process that leads the group: the command's own.
    leader: Option<u32>,
    watchdog: Option<tokio::process::Child>,
    ended: bool,
}

/// The watchdog's script: wait for the end of standard input, then kill the group whose
/// id is the first argument. `kill -s KILL -- -ID` is the form every POSIX shell's
/// `kill` reads as a process group.
const WATCHDOG: &str = r#"read -r line; kill -s KILL -- "-$1""#;

impl Group {
    /// Watches the group that process `leader` leads. Without a watchdog (when `sh`
    /// cannot be started), the group is still killed when the run is dropped.
    fn watch(leader: Option<u32>) -> Group {
        let watchdog = leader.filter(|_| cfg!(unix)).and_then(|id| spawn_watchdog(id).ok());
        Group { leader, watchdog, ended: false }
    }

    /// The command ended by itself: what it left running in the background stays.
    fn ended(mut self) {
        self.ended = true;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.ended {
            stop_watchdog(self.watchdog.take());
        } else if cfg!(target_os = "linux") {
            // Killed here, at once: by the time the run is gone, so is every process of
            // its command.
            kill_group(self.leader);
            stop_watchdog(self.watchdog.take());
        }
        // Elsewhere the watchdog, dropped alive, finds its pipe closed and kills the
        // group.
    }
}

fn spawn_watchdog(leader: u32) -> io::Result<tokio::process::Child> {
    let mut command = Command::new("sh");
    command
        .args(["-c", WATCHDOG, "infra-exec-watchdog", &leader.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    command.process_group(0);
    command.spawn()
}

/// Kills the watchdog with SIGKILL while its pipe is still open, so it never reads the
/// end of it; tokio reaps it in the background.
fn stop_watchdog(watchdog: Option<tokio::process::Child>) {
    if let Some(mut watchdog) = watchdog {
        let _ = watchdog.start_kill();
        drop(watchdog.stdin.take());
    }
}

/// Sends SIGKILL to process group `group` (the id of the process that leads it). A group
/// already gone is not an error.
fn kill_group(group: Option<u32>) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{kill_process_group, Pid, Signal};
        let pid = group.and_then(|id| i32::try_from(id).ok()).and_then(Pid::from_raw);
        if let Some(pid) = pid {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
    // Elsewhere the watchdog kills the group (see `Group`'s `drop`).
    #[cfg(not(target_os = "linux"))]
    let _ = group;
}

/// `path` relative to `base`; an absolute path stays as it is.
pub(super) fn resolve(base: &Path, path: &str) -> PathBuf {
    base.join(path)
}

/// How a process ended, for a message: `exit code 3` or `signal 9`.
pub(super) fn describe_exit(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    "an unknown status".to_string()
}

/// The end of what a process wrote to standard error, for an error message: its last
/// lines, indented, with a note when some were left out.
pub(super) fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim_end();
    if text.is_empty() {
        return "it wrote nothing to standard error".to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut bytes = 0;
    for line in lines.iter().rev().take(STDERR_TAIL_LINES) {
        bytes += line.len() + 1;
        if bytes > STDERR_TAIL_BYTES {
            break;
        }
        kept.push(line);
    }
    let mut cut = kept.len() < lines.len();
    if kept.is_empty() {
        // The last line alone is over the budget: keep its end.
        let line = lines[lines.len() - 1];
        let start = line.len() - STDERR_TAIL_BYTES;
        let start = (start..line.len()).find(|&i| line.is_char_boundary(i)).unwrap_or(line.len());
        kept.push(&line[start..]);
        cut = true;
    }
    kept.reverse();
    let heading = if cut { "the end of its standard error:" } else { "its standard error:" };
    let body: Vec<String> = kept.iter().map(|line| format!("  {line}")).collect();
    format!("{heading}\n{}", body.join("\n"))
}
