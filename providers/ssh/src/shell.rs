//! Building the remote shell commands: quoting, `sudo -n`, `timeout`.
//!
//! Every command runs as `sh -c 'SCRIPT'` so the user's login shell only has to pass one
//! single-quoted word on; scripts are POSIX sh and use the GNU coreutils or BusyBox
//! forms of `stat`, `sha256sum`, `mktemp` and `timeout`.

use std::time::Duration;

/// The exit status `timeout` gives a command it had to stop (and the one reported
/// when the channel itself outlived the limit).
pub const TIMED_OUT: u32 = 124;
/// `timeout --kill-after` ends a command that ignored SIGTERM with SIGKILL: 128 + 9.
pub const KILLED: u32 = 137;

/// `text` as one shell word.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The command line the server runs for `script`.
pub fn command_line(script: &str, sudo: bool, timeout: Option<Duration>) -> String {
    let mut line = String::new();
    if sudo {
        line.push_str("sudo -n ");
    }
    if let Some(limit) = timeout {
        line.push_str(&format!("timeout -k 5 {} ", limit.as_secs().max(1)));
    }
    line.push_str("sh -c ");
    line.push_str(&quote(script));
    line
}

/// The last lines of a command's standard error, for a message (at most 2,000 bytes).
pub fn tail(text: &str) -> String {
    let text = text.trim();
    let start = text.len().saturating_sub(2000);
    let start = (start..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(
            command_line("echo 'x'", true, Some(Duration::from_secs(3))),
            r"sudo -n timeout -k 5 3 sh -c 'echo '\''x'\'''"
        );
    }
}
