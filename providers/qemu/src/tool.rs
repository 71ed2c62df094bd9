//! Running QEMU's command-line tools (`qemu-img`): a missing tool or a failure is an
//! error that quotes the end of what the tool printed; a run that writes a file can be
//! ended by the run's interruption, the tool killed and waited for.

use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};

use infra_provider_kit::{Stop, Stopped};
use infra_runtime::provider::{ProviderError, ProviderResult};
use tokio::io::AsyncReadExt;

/// How much of a tool's standard error an error quotes.
const TAIL_LINES: usize = 5;

/// The last few lines of `text`.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Runs `program` with `args`; its standard output when it succeeds. `what` says what it
/// was doing, for the error.
pub async fn run<I, S>(program: &str, args: I, what: &str) -> ProviderResult<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = tokio::process::Command::new(program)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|error| not_run(program, what, &error))?;
    answer(program, what, output.status, &output.stdout, &output.stderr)
}

/// Runs `program` as [`run`] does, unless the run is interrupted (`stop`) first: then
/// the program is killed and waited for, so that it has written its last byte when this
/// returns `Err(Stopped)`, and the caller can remove what it left.
pub async fn run_unless_stopped<I, S>(
    program: &str,
    args: I,
    what: &str,
    stop: &Stop,
) -> Result<ProviderResult<String>, Stopped>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => return Ok(Err(not_run(program, what, &error))),
    };
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let finished = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let read_out = async {
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(pipe) = stderr.as_mut() {
                let _ = pipe.read_to_end(&mut err).await;
            }
        };
        let ((), (), status) = tokio::join!(read_out, read_err, child.wait());
        (status, out, err)
    };
    match stop.unless_stopped(finished).await {
        Ok((Ok(status), out, err)) => Ok(answer(program, what, status, &out, &err)),
        Ok((Err(error), _, _)) => Ok(Err(ProviderError::new(format!("{what}: waiting for `{program}`: {error}")))),
        Err(Stopped) => {
            // SIGKILL, then reaped: nothing more is written once this returns.
            let _ = child.kill().await;
            Err(Stopped)
        }
    }
}

/// The error of a program that could not be started.
fn not_run(program: &str, what: &str, error: &std::io::Error) -> ProviderError {
    if error.kind() == std::io::ErrorKind::NotFound {
        ProviderError::new(format!("{what}: `{program}` is not installed"))
            .with_help("install QEMU (Debian: `apt-get install qemu-utils qemu-system-x86`)")
    } else {
        ProviderError::new(format!("{what}: could not run `{program}`: {error}"))
            .with_help("check that the program can be run by this user")
    }
}

/// What a program that ran answered: its standard output when it succeeded, else an
/// error quoting the end of its standard error.
fn answer(program: &str, what: &str, status: ExitStatus, stdout: &[u8], stderr: &[u8]) -> ProviderResult<String> {
    if status.success() {
        return Ok(String::from_utf8_lossy(stdout).into_owned());
    }
    let stderr = tail(&String::from_utf8_lossy(stderr));
    let status = status.code().map_or("was ended by a signal".to_string(), |c| format!("exited with {c}"));
    Err(ProviderError::new(format!("{what}: `{program}` {status}: {stderr}")))
}
