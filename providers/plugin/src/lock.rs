//! `.infra.lock`, beside the root module: for each plugin, the version `infra init`
//! chose, the constraints it chose it under, the `h1:` hash of its unpacked package on
//! each platform it was hashed for, and the `zh:` hash (SHA-256 of the zip archive) on
//! each platform a source vouched for one (a packed mirror's archives, a registry's
//! signed `SHA256SUMS`), both as Terraform writes them into `.terraform.lock.hcl`.
//! Either matching verifies a package, as in Terraform. Commit it: a later `infra init`, here or on another
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
    /// `zh:` hashes by platform; absent when no source gave an archive.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub zip_hashes: BTreeMap<String, String>,
}

impl LockedPlugin {
    /// Whether a package of `platform` with the `h1:` hash `h1` (and, when it came as an
    /// archive, the `zh:` hash `zh`) is the locked one: true when either locked hash
    /// matches, or when nothing is locked for the platform.
    pub fn accepts(&self, platform: &str, h1: &str, zh: Option<&str>) -> bool {
        let locked_h1 = self.hashes.get(platform);
        let locked_zh = self.zip_hashes.get(platform);
        match (locked_h1, locked_zh) {
            (None, None) => true,
            _ => locked_h1.is_some_and(|l| l == h1) || locked_zh.is_some_and(|l| Some(l.as_str()) == zh),
        }
    }

    /// What is locked for `platform`, for messages (`h1:…` or `zh:…`, or both).
    pub fn describe(&self, platform: &str) -> String {
        let hashes: Vec<&str> = [self.hashes.get(platform), self.zip_hashes.get(platform)]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        hashes.join(" or ")
    }
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
        let zip_hashes = BTreeMap::from([("linux_arm64".to_string(), "zh:0123".to_string())]);
        let locked =
            LockedPlugin { version: "0.16.0".to_string(), constraints: "= 0.16.0".to_string(), hashes, zip_hashes };
        lock.plugins.insert("registry.terraform.io/local/workato".to_string(), locked);
        lock.write(dir.path()).unwrap();
        assert_eq!(LockFile::read(dir.path()), Ok(lock));
    }

    #[test]
    fn either_locked_hash_accepts_a_package() {
        let locked = LockedPlugin {
            version: "1.0.0".to_string(),
            constraints: String::new(),
            hashes: BTreeMap::from([("linux_amd64".to_string(), "h1:a".to_string())]),
            zip_hashes: BTreeMap::from([("linux_amd64".to_string(), "zh:b".to_string())]),
        };
        assert!(locked.accepts("linux_amd64", "h1:a", None));
        assert!(locked.accepts("linux_amd64", "h1:other", Some("zh:b")));
        assert!(!locked.accepts("linux_amd64", "h1:other", Some("zh:other")));
        assert!(!locked.accepts("linux_amd64", "h1:other", None));
        assert!(locked.accepts("darwin_arm64", "h1:anything", None), "nothing locked for that platform");
        assert_eq!(locked.describe("linux_amd64"), "h1:a or zh:b");
    }

    #[test]
    fn a_damaged_lock_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "{\"plugins\": [").unwrap();
        let error = LockFile::read(dir.path()).unwrap_err();
        assert!(error.contains(".infra.lock is not a lock file"), "{error}");
    }
}
