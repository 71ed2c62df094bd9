//! `.infra.lock`, beside the root module: for each plugin, the version `infra init`
//! chose, the constraints it chose it under, and the `h1:` hash of its package on each
//! platform it was hashed for. Commit it: a later `infra init`, here or on another
//! machine, installs exactly that version and refuses a package whose hash differs.
//!
//! The file is JSON with sorted keys, so it diffs well and reads the same everywhere:
//!
//! ```json
//! {
//!   "plugins": {
//!     "registry.terraform.io/local/workato": {
//!       "version": "0.16.0",
//!       "constraints": "= 0.16.0",
//!       "hashes": { "linux_amd64": "h1:/UPUkmGAqwajqxjaXCJmy4v7EbIzKsNk3Ddgm1O5IO0=" }
//!     }
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The lock file's name, in the root module's directory.
pub const LOCK_FILE: &str = ".infra.lock";

/// The whole lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// By full source address (`registry.terraform.io/local/workato`).
    pub plugins: BTreeMap<String, LockedPlugin>,
}

/// What the lock file says about one plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPlugin {
    pub version: String,
    /// The constraints the version was chosen under, for people reading the file.
    pub constraints: String,
    /// `h1:` hashes by platform (`linux_amd64`).
    pub hashes: BTreeMap<String, String>,
}

impl LockFile {
    pub fn path(module_dir: &Path) -> PathBuf {
        module_dir.join(LOCK_FILE)
    }

    /// Reads the lock file of `module_dir`: empty when there is none, an error (with what
    /// is wrong) when it cannot be read or is not a lock file.
    pub fn read(module_dir: &Path) -> Result<LockFile, String> {
        let path = LockFile::path(module_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockFile::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        serde_json::from_str(&text).map_err(|e| format!("{} is not a lock file: {e}", path.display()))
    }

    /// Writes the lock file of `module_dir` atomically (a temporary file renamed over it).
    pub fn write(&self, module_dir: &Path) -> io::Result<()> {
        let path = LockFile::path(module_dir);
        let temporary = module_dir.join(format!("{LOCK_FILE}.tmp"));
        let mut text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(LockFile::read(dir.path()), Ok(LockFile::default()));
        let mut lock = LockFile::default();
        let hashes = BTreeMap::from([("linux_amd64".to_string(), "h1:abc=".to_string())]);
        let locked = LockedPlugin { version: "0.16.0".to_string(), constraints: "= 0.16.0".to_string(), hashes };
        lock.plugins.insert("registry.terraform.io/local/workato".to_string(), locked);
        lock.write(dir.path()).unwrap();
        assert_eq!(LockFile::read(dir.path()), Ok(lock));
    }

    #[test]
    fn a_damaged_lock_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "{\"plugins\": [").unwrap();
        let error = LockFile::read(dir.path()).unwrap_err();
        assert!(error.contains(".infra.lock is not a lock file"), "{error}");
    }
}
