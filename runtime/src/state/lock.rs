//! Who holds the state lock: user, host, process, command and since when. Backends store
//! it beside the lock so a refused locker can name the holder.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// The command line, with `--var` values left out (they may be secrets).
    pub command: String,
    /// When the lock was taken, RFC 3339 in UTC (`2026-05-01T09:30:00Z`).
    pub since: String,
}

impl LockHolder {
    /// This process, running `command`.
    pub fn new(command: impl Into<String>) -> LockHolder {
        LockHolder {
            user: current_user(),
            host: current_host(),
            pid: std::process::id(),
            command: command.into(),
            since: rfc3339(SystemTime::now()),
        }
    }

    /// This process, with its own command line.
    pub fn current() -> LockHolder {
        let args: Vec<String> = std::env::args_os().map(|arg| arg.to_string_lossy().into_owned()).collect();
        LockHolder::new(redacted_command(&args))
    }
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` on `{}` (pid {}, running `{}`) since {}",
            self.user, self.host, self.pid, self.command, self.since
        )
    }
}

fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .or_else(user_of_process)
        .unwrap_or_else(|| "unknown".to_string())
}

/// Without `USER` (a container, a service): the name `/etc/passwd` gives the process's
/// user id, or the id itself.
#[cfg(unix)]
fn user_of_process() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let named = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    });
    Some(named.unwrap_or_else(|| format!("uid {uid}")))
}

#[cfg(not(unix))]
fn user_of_process() -> Option<String> {
    None
}

fn current_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|name| !name.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The arguments joined by spaces, with the value of every `--var name=value` replaced,
/// so a secret given on the command line is not written into the lock file or shown to
/// whoever finds the state locked.
pub fn redacted_command(args: &[String]) -> String {
    let mut out = Vec::with_capacity(args.len());
    let mut after_var_flag = false;
    for arg in args {
        let redacted = if let Some(assignment) = arg.strip_prefix("--var=") {
            format!("--var={}", redact_assignment(assignment))
        } else if after_var_flag {
            redact_assignment(arg)
        } else {
            arg.clone()
        };
        after_var_flag = arg == "--var";
        out.push(redacted);
    }
    out.join(" ")
}

fn redact_assignment(assignment: &str) -> String {
    match assignment.split_once('=') {
        Some((name, _)) => format!("{name}=…"),
        None => assignment.to_string(),
    }
}

/// A time as RFC 3339 in UTC, to the second, computed with the standard library only.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", of_day / 3600, of_day % 3600 / 60, of_day % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Bug: without `USER` (a container, CI running as root) the holder was "unknown".
    #[cfg(unix)]
    #[test]
    fn without_user_the_holder_is_the_processes_user() {
        use std::os::unix::fs::MetadataExt as _;
        let found = super::user_of_process().expect("a user");
        let uid = std::fs::metadata("/proc/self").expect("proc").uid();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let listed =
            passwd.lines().any(|line| line.starts_with(&format!("{found}:")) && line.contains(&format!(":{uid}:")));
        assert!(listed || found == format!("uid {uid}"), "{found} (uid {uid})");
    }

    #[test]
    fn times_print_as_rfc3339_utc() {
        let at = |seconds: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn var_values_are_left_out_of_the_command() {
        let args: Vec<String> =
            ["infra", "apply", "--var", "password=hunter2", "--var=token=abc", "-C", "dir"].map(String::from).to_vec();
        assert_eq!(redacted_command(&args), "infra apply --var password=… --var=token=… -C dir");
    }
}
