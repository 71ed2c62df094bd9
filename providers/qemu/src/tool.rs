//! Running QEMU's command-line tools (`qemu-img`): a missing tool or a failure is an
//! error that quotes the end of what the tool printed.

use std::ffi::OsStr;

use infra_runtime::provider::{ProviderError, ProviderResult};

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
    let output =
        tokio::process::Command::new(program).args(args).kill_on_drop(true).output().await.map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                ProviderError::new(format!("{what}: `{program}` is not installed"))
                    .with_help("install QEMU (Debian: `apt-get install qemu-utils qemu-system-x86`)")
            } else {
                ProviderError::new(format!("{what}: could not run `{program}`: {error}"))
            }
        })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = tail(&String::from_utf8_lossy(&output.stderr));
    let status = output.status.code().map_or("was ended by a signal".to_string(), |c| format!("exited with {c}"));
    Err(ProviderError::new(format!("{what}: `{program}` {status}: {stderr}")))
}
