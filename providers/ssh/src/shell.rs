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

/// The exit status of [`explain_parent`] when the file's directory does not exist (on
/// standard output: the directory).
pub const PARENT_MISSING: u32 = 7;
/// The exit status of [`explain_parent`] when the directory, or one of its ancestors,
/// is not a directory (on standard output: that path).
pub const PARENT_NOT_DIRECTORY: u32 = 8;
/// The exit status of [`explain_parent`] when the login user may not enter or write in
/// the directory, or one of its ancestors (on standard output: `enter|PATH` or
/// `write in|PATH`).
pub const PARENT_DENIED: u32 = 9;
/// The exit status of a write whose `chown` or `chgrp` failed (on standard output: the
/// attribute, `owner` or `group`; the tool's complaint on standard error).
pub const OWNERSHIP_REFUSED: u32 = 10;

/// Shell text run once making something in the directory `$q` failed (the private
/// directory of a file's write, or a directory with its parents), so that the error
/// names the reason rather than quoting `mkdir`: the nearest of `$q` and its ancestors
/// that exists is found, and the script exits with [`PARENT_NOT_DIRECTORY`] when that is
/// not a directory, [`PARENT_DENIED`] when the login user (not root) may not enter it or
/// write in it, and, when `missing` (a file's directory is not made for it),
/// [`PARENT_MISSING`] when it is not `$q` itself. Otherwise (a read-only file system, a
/// full disk) the caller's `exit 1` follows, after `mkdir`'s own complaint.
///
/// It runs only after the failure, so it decides nothing: whatever changes meanwhile,
/// the worst it does is explain the failure less exactly.
pub fn explain_parent(missing: bool) -> String {
    let missing = if missing {
        format!("if [ \"$a\" != \"$q\" ]; then echo \"$q\"; exit {PARENT_MISSING}; fi; ")
    } else {
        String::new()
    };
    format!(
        "a=$q; while [ ! -e \"$a\" ] && [ ! -L \"$a\" ]; do a=$(dirname -- \"$a\"); done; \
         if [ ! -d \"$a\" ]; then echo \"$a\"; exit {PARENT_NOT_DIRECTORY}; fi; \
         u=$(id -u); \
         if [ \"$u\" != 0 ] && [ ! -x \"$a\" ]; then echo \"enter|$a\"; exit {PARENT_DENIED}; fi; \
         {missing}\
         if [ \"$u\" != 0 ] && [ ! -w \"$a\" ]; then echo \"write in|$a\"; exit {PARENT_DENIED}; fi"
    )
}

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
