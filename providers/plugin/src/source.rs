//! Where plugin packages come from. A [`PackageSource`] lists the versions of a provider it
//! offers, the platforms of a version, and puts one package, unpacked, into a directory.
//!
//! `infra init` asks its sources in the order they are configured. Today there is one
//! kind, [`FilesystemMirror`]: a directory in Terraform's unpacked mirror layout
//! (`HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/`), so the output of
//! `terraform providers mirror`, unzipped, works as is. Terraform's provider network
//! mirror protocol and the registry protocol are further implementations of the same
//! trait: each downloads a zip archive, checks it against `SHA256SUMS` (and, for a
//! registry, its signature) and unpacks it into the directory it is given.

use std::io;
use std::path::{Path, PathBuf};

use infra_compiler::plugin::{SourceAddress, Version};

/// A place that offers plugin packages.
pub trait PackageSource {
    /// How to name this source in messages (`the mirror at /srv/plugins`).
    fn describe(&self) -> String;

    /// Every version of `address` it offers, in no particular order.
    fn versions(&self, address: &SourceAddress) -> io::Result<Vec<Version>>;

    /// The platforms (`linux_amd64`) it offers `version` of `address` for, sorted.
    fn platforms(&self, address: &SourceAddress, version: &Version) -> io::Result<Vec<String>>;

    /// Where the unpacked package is on this machine, when the source keeps it unpacked
    /// (a filesystem mirror does), so it can be hashed without copying it.
    fn unpacked(&self, address: &SourceAddress, version: &Version, platform: &str) -> Option<PathBuf>;

    /// Puts the package, unpacked, into `into` (which does not exist yet).
    fn unpack(&self, address: &SourceAddress, version: &Version, platform: &str, into: &Path) -> io::Result<()>;
}

/// A directory in Terraform's unpacked filesystem-mirror layout.
pub struct FilesystemMirror {
    pub root: PathBuf,
}

impl FilesystemMirror {
    fn provider_dir(&self, address: &SourceAddress) -> PathBuf {
        self.root.join(&address.hostname).join(&address.namespace).join(&address.type_name)
    }
}

impl PackageSource for FilesystemMirror {
    fn describe(&self) -> String {
        format!("the mirror at {}", self.root.display())
    }

    fn versions(&self, address: &SourceAddress) -> io::Result<Vec<Version>> {
        let names = subdirectories(&self.provider_dir(address))?;
        Ok(names.iter().filter_map(|name| Version::parse(name).ok()).collect())
    }

    fn platforms(&self, address: &SourceAddress, version: &Version) -> io::Result<Vec<String>> {
        let names = subdirectories(&self.provider_dir(address).join(version.to_string()))?;
        Ok(names.into_iter().filter(|name| is_platform(name)).collect())
    }

    fn unpacked(&self, address: &SourceAddress, version: &Version, platform: &str) -> Option<PathBuf> {
        let dir = self.provider_dir(address).join(version.to_string()).join(platform);
        dir.is_dir().then_some(dir)
    }

    fn unpack(&self, address: &SourceAddress, version: &Version, platform: &str, into: &Path) -> io::Result<()> {
        let from = self.unpacked(address, version, platform).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no {address} {version} for {platform}", self.describe()),
            )
        })?;
        copy_dir(&from, into)
    }
}

/// The names of the directories in `dir`, sorted; none when it does not exist.
fn subdirectories(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.path().is_dir() {
            names.extend(entry.file_name().to_str().map(str::to_string));
        }
    }
    names.sort();
    Ok(names)
}

/// `OS_ARCH`, as Terraform names platforms: lower-case letters and digits on both sides.
fn is_platform(name: &str) -> bool {
    let part = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    name.split_once('_').is_some_and(|(os, arch)| part(os) && part(arch))
}

/// Copies the directory `from` to `into`, files with their permissions (a plugin must
/// stay executable).
pub fn copy_dir(from: &Path, into: &Path) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_root_links(true) {
        let entry = entry.map_err(io::Error::other)?;
        let target = into.join(entry.path().strip_prefix(from).map_err(io::Error::other)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The platform this machine runs, as Terraform names it (`linux_amd64`).
pub fn current_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}
