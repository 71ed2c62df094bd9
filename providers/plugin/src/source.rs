//! Where plugin packages come from. A [`PackageSource`] lists the versions of a provider it
//! offers, the platforms of a version, and puts one package, unpacked, into a directory.
//!
//! `infra init` asks its sources in the order they are configured: [`FilesystemMirror`]s
//! (a directory in Terraform's unpacked layout, `HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/`,
//! or its packed layout, `HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`,
//! so the output of `terraform providers mirror` works as is), network mirrors
//! (`network.rs`) and registries (`registry.rs`). A source that unpacks a zip archive
//! reports its `zh:` hash, and a source that downloads one checks it against what its
//! server vouches for before anything is unpacked where `infra init` will use it.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use infra_compiler::diagnostic::Code;
use infra_compiler::plugin::{SourceAddress, Version};

use crate::archive::{unzip_file, zip_hash};

/// The `zh:` hashes (SHA-256 of the zip archive) a source vouches for, by platform.
pub type ZipHashes = BTreeMap<String, String>;

/// Why a source could not list or deliver a package.
#[derive(Debug)]
pub enum SourceError {
    /// Reading, writing or unpacking failed.
    Io(io::Error),
    /// The source refused, was unreachable or answered wrongly, or what it delivered
    /// failed a check: a diagnostic of its own code.
    Refused(Refusal),
}

/// A source's reason to stop, with the code and help of its diagnostic.
#[derive(Debug)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
    pub help: String,
}

impl From<io::Error> for SourceError {
    fn from(error: io::Error) -> SourceError {
        SourceError::Io(error)
    }
}

impl SourceError {
    /// The error as a diagnostic of its own, for a source that cannot even be set up.
    pub fn into_diagnostic(self) -> infra_compiler::Diagnostic {
        use infra_compiler::Diagnostic;
        match self {
            SourceError::Io(e) => Diagnostic::error(crate::codes::INSTALL_FAILED, e.to_string())
                .with_help("check that the mirror and the module directory are readable and writable"),
            SourceError::Refused(r) => Diagnostic::error(r.code, r.message).with_help(r.help),
        }
    }

    pub fn refused(code: Code, message: impl Into<String>, help: impl Into<String>) -> SourceError {
        SourceError::Refused(Refusal { code, message: message.into(), help: help.into() })
    }
}

/// A place that offers plugin packages.
pub trait PackageSource {
    /// How to name this source in messages (`the mirror at /srv/plugins`).
    fn describe(&self) -> String;

    /// Every version of `address` it offers, in no particular order.
    fn versions(&self, address: &SourceAddress) -> Result<Vec<Version>, SourceError>;

    /// The platforms (`linux_amd64`) it offers `version` of `address` for, sorted.
    fn platforms(&self, address: &SourceAddress, version: &Version) -> Result<Vec<String>, SourceError>;

    /// Where the unpacked package is on this machine, when the source keeps it unpacked
    /// (a filesystem mirror does), so it can be hashed without copying it.
    fn unpacked(&self, address: &SourceAddress, version: &Version, platform: &str) -> Option<PathBuf>;

    /// Puts the package, unpacked, into `into` (which does not exist yet), after every
    /// check the source makes; returns the `zh:` hashes it vouches for (none when it
    /// keeps the package unpacked).
    fn unpack(
        &self,
        address: &SourceAddress,
        version: &Version,
        platform: &str,
        into: &Path,
    ) -> Result<ZipHashes, SourceError>;
}

/// A directory in Terraform's filesystem-mirror layout, unpacked or packed (both may be
/// mixed; the unpacked package wins).
pub struct FilesystemMirror {
    pub root: PathBuf,
}

impl FilesystemMirror {
    fn provider_dir(&self, address: &SourceAddress) -> PathBuf {
        self.root.join(&address.hostname).join(&address.namespace).join(&address.type_name)
    }

    /// The packed archives of `address`: (version, platform, path), in name order.
    fn archives(&self, address: &SourceAddress) -> io::Result<Vec<(Version, String, PathBuf)>> {
        let dir = self.provider_dir(address);
        let mut found = Vec::new();
        for name in file_names(&dir)? {
            if let Some((version, platform)) = parse_archive_name(&address.type_name, &name) {
                found.push((version, platform, dir.join(&name)));
            }
        }
        Ok(found)
    }
}

/// `terraform-provider-TYPE_VERSION_OS_ARCH.zip` → (VERSION, OS_ARCH).
pub fn parse_archive_name(type_name: &str, name: &str) -> Option<(Version, String)> {
    let rest = name.strip_prefix("terraform-provider-")?.strip_prefix(type_name)?.strip_prefix('_')?;
    let rest = rest.strip_suffix(".zip")?;
    let mut parts = rest.rsplitn(3, '_');
    let (arch, os, version) = (parts.next()?, parts.next()?, parts.next()?);
    let platform = format!("{os}_{arch}");
    is_platform(&platform).then_some(())?;
    Some((Version::parse(version).ok()?, platform))
}

/// `terraform-provider-TYPE_VERSION_OS_ARCH.zip`, as Terraform names a packed package.
pub fn archive_name(type_name: &str, version: &Version, platform: &str) -> String {
    format!("terraform-provider-{type_name}_{version}_{platform}.zip")
}

impl PackageSource for FilesystemMirror {
    fn describe(&self) -> String {
        format!("the mirror at {}", self.root.display())
    }

    fn versions(&self, address: &SourceAddress) -> Result<Vec<Version>, SourceError> {
        let names = subdirectories(&self.provider_dir(address))?;
        let mut versions: Vec<Version> = names.iter().filter_map(|name| Version::parse(name).ok()).collect();
        versions.extend(self.archives(address)?.into_iter().map(|(version, _, _)| version));
        Ok(versions)
    }

    fn platforms(&self, address: &SourceAddress, version: &Version) -> Result<Vec<String>, SourceError> {
        let names = subdirectories(&self.provider_dir(address).join(version.to_string()))?;
        let mut platforms: Vec<String> = names.into_iter().filter(|name| is_platform(name)).collect();
        let packed = self.archives(address)?.into_iter().filter(|(v, _, _)| v == version);
        platforms.extend(packed.map(|(_, platform, _)| platform));
        platforms.sort();
        platforms.dedup();
        Ok(platforms)
    }

    fn unpacked(&self, address: &SourceAddress, version: &Version, platform: &str) -> Option<PathBuf> {
        let dir = self.provider_dir(address).join(version.to_string()).join(platform);
        dir.is_dir().then_some(dir)
    }

    /// The unpacked package is copied; a packed one is unpacked, and the `zh:` hashes of
    /// every archive of this version are reported, so the lock verifies them elsewhere.
    fn unpack(
        &self,
        address: &SourceAddress,
        version: &Version,
        platform: &str,
        into: &Path,
    ) -> Result<ZipHashes, SourceError> {
        if let Some(from) = self.unpacked(address, version, platform) {
            copy_dir(&from, into)?;
            return Ok(ZipHashes::new());
        }
        let archives: Vec<(String, PathBuf)> = self
            .archives(address)?
            .into_iter()
            .filter(|(v, _, _)| v == version)
            .map(|(_, platform, path)| (platform, path))
            .collect();
        let Some((_, archive)) = archives.iter().find(|(p, _)| p == platform) else {
            let message = format!("{} has no {address} {version} for {platform}", self.describe());
            return Err(io::Error::new(io::ErrorKind::NotFound, message).into());
        };
        unzip_file(archive, into)?;
        let mut hashes = ZipHashes::new();
        for (platform, path) in &archives {
            hashes.insert(platform.clone(), zip_hash(path)?);
        }
        Ok(hashes)
    }
}

/// The names of the files in `dir`, sorted; none when it does not exist.
fn file_names(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.path().is_file() {
            names.extend(entry.file_name().to_str().map(str::to_string));
        }
    }
    names.sort();
    Ok(names)
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
pub fn is_platform(name: &str) -> bool {
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
