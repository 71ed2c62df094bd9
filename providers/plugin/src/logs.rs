//! A plugin's log: its standard error, in `.infra/plugins/logs/NAME.log` (or the file
//! `INFRA_LOG_PATH` names), and how much the plugin writes there.
//!
//! Terraform's plugin SDKs log every call at trace level to standard error whatever
//! `TF_LOG` says (its SDK loggers read `TF_LOG_SDK`, and default to trace): Terraform
//! itself reads those lines and drops the ones below its own `TF_LOG`, which is off
//! unless the user sets it. Infra keeps the plugin's standard error as it is, so it asks
//! the plugin for the level it wants instead: the user's `TF_LOG` or `INFRA_LOG`, else
//! `warn`, in every variable the SDKs read that the user did not set. About 50 kB of
//! trace lines a plan become a few hundred bytes.
//!
//! A log may hold what the plugin sent and received, so it is created readable by its
//! owner only; and it is moved aside to `NAME.log.1` (replacing the one before) when a
//! plugin starts and finds it over [`LOG_LIMIT`], so it never grows without bound.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A log larger than this when a plugin starts is moved aside (to `NAME.log.1`).
pub const LOG_LIMIT: u64 = 4 * 1024 * 1024;

/// The level a plugin logs at when the user asks for none: warnings and errors only.
pub const DEFAULT_LEVEL: &str = "warn";

/// The variables Terraform's plugin SDKs take their log levels from: `TF_LOG`, the
/// provider's own logger's, and the SDK's (whose protocol, framework and mux loggers
/// follow `TF_LOG_SDK` unless their own variables are set).
const LEVEL_VARIABLES: [&str; 3] = ["TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK"];

/// The level the user asked plugins to log at: `TF_LOG` (as for Terraform), else
/// `INFRA_LOG`, else [`DEFAULT_LEVEL`].
fn level() -> OsString {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    set("TF_LOG").or_else(|| set("INFRA_LOG")).unwrap_or_else(|| DEFAULT_LEVEL.into())
}

/// Gives the plugin `command` starts the log level the user asked for, in every level
/// variable the user did not set (one set, such as `TF_LOG_SDK_PROTO=trace`, is kept).
pub fn set_level(command: &mut Command) {
    let level = level();
    for name in LEVEL_VARIABLES {
        if std::env::var_os(name).is_none_or(|value| value.is_empty()) {
            command.env(name, &level);
        }
    }
}

/// Opens the log at `path` for a plugin about to start: moved aside first when it is
/// over [`LOG_LIMIT`], then opened as [`append`] does.
pub fn open(path: &Path) -> io::Result<File> {
    if std::fs::metadata(path).is_ok_and(|meta| meta.len() > LOG_LIMIT) {
        let rotated = rotated(path);
        std::fs::rename(path, &rotated)?;
        std::fs::set_permissions(&rotated, Permissions::from_mode(0o600))?;
    }
    append(path)
}

/// Opens the log at `path` for appending, created readable and writable by its owner
/// only; a log made before Infra restricted it is restricted now.
pub fn append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    if file.metadata()?.permissions().mode() & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Where a log over the limit is moved: `NAME.log.1` beside it.
pub fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".1");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_private_and_moved_aside_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workato.log");
        std::fs::write(&path, "before\n").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        drop(open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "an older log is restricted");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before\n", "kept under the limit");

        std::fs::write(&path, vec![b'x'; LOG_LIMIT as usize + 1]).unwrap();
        drop(open(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "a new log is started");
        let moved = rotated(&path);
        assert_eq!(moved, dir.path().join("workato.log.1"));
        assert_eq!(std::fs::metadata(&moved).unwrap().len(), LOG_LIMIT + 1);
        assert_eq!(std::fs::metadata(&moved).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
