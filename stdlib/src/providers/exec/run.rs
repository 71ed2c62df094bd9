//! Running one process for the `exec` provider: spawning it with its environment and
//! directory, feeding its standard input, collecting its output, killing it (and every
//! process it started) when it outlives its timeout, and describing how it ended.

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
    /// How long it may run; with one, it runs in a process group of its own, which is
    /// killed as a whole when the time is up.
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

/// Runs `invocation` to completion, or until its timeout expires. Dropping the future kills
/// the process (with SIGKILL), so an interrupted apply leaves no command running behind
/// it. Processes the command started in the background are its own business, as in a
/// shell, unless a timeout expires: then its whole process group is killed.
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
    // Only a command with a timeout gets a group of its own: one without stays in Infra's,
    // so Ctrl-C at the terminal reaches it as before.
    #[cfg(unix)]
    if invocation.timeout.is_some() {
        command.process_group(0);
    }
    let mut child = command.spawn()?;
    let group = child.id();
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
                // outlives it while any process it started is alive.
                kill_group(group);
                return Ok(Outcome::TimedOut);
            }
        },
    };
    Ok(Outcome::Finished(Finished { status: output.status, stdout: output.stdout, stderr: output.stderr }))
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
    // Elsewhere only the direct child is killed (when the wait is dropped).
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
