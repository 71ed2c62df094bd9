//! `infra init`: chooses a version of each declared plugin, installs its package into
//! `.infra/plugins/` beside the root module, and keeps the lock file.
//!
//! The rules, Terraform's: a plugin the lock file names is installed at the locked
//! version (an error when the declaration no longer allows it, unless `--upgrade`),
//! any other at the newest version its sources offer that the constraints allow. Every
//! package is hashed (`h1:`, and `zh:` when it came as a zip archive) before it is put in
//! place; a package neither of whose hashes is the locked one is an error, never a
//! reason to fetch it again. With a shared cache
//! (`INFRA_PLUGIN_CACHE_DIR`), packages are unpacked there once, and each module's
//! `.infra/plugins/` links to them.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use infra_compiler::check::plugin::PluginRequirement;
use infra_compiler::plugin::{SourceAddress, Version, VersionConstraints};
use infra_compiler::{Diagnostic, Span};

use crate::codes;
use crate::hash::hash1;
use crate::lock::{LockFile, LockedPlugin};
use crate::source::{FilesystemMirror, PackageSource, SourceError, ZipHashes};

/// Where plugins are installed, under the root module's directory.
pub const PLUGIN_DIR: &str = ".infra/plugins";

/// What `infra init` is told.
pub struct InitOptions<'a> {
    pub module_dir: &'a Path,
    /// Asked in order.
    pub sources: &'a [Box<dyn PackageSource>],
    /// The shared cache (`INFRA_PLUGIN_CACHE_DIR`), in the unpacked mirror layout.
    pub cache_dir: Option<&'a Path>,
    /// Choose the newest allowed versions again, whatever the lock file says.
    pub upgrade: bool,
    /// The platform to install for (`linux_amd64`).
    pub platform: &'a str,
}

/// One plugin, installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The name the configuration declared it under.
    pub name: String,
    pub address: SourceAddress,
    pub version: Version,
    /// Where its package is unpacked.
    pub dir: PathBuf,
    pub origin: Origin,
}

/// Where an installed package came from in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// It was installed before, and its hash matched.
    AlreadyInstalled,
    /// The shared cache had it.
    Cache,
    /// A source's description (`the mirror at /srv/plugins`).
    Source(String),
}

/// One plugin to install: the declarations of every module that name its address.
struct Wanted {
    name: String,
    address: SourceAddress,
    constraints: VersionConstraints,
    span: Span,
}

/// Installs every plugin `requirements` declare and writes the lock file; the
/// diagnostics of every plugin that could not be installed (the lock file is then left
/// as it was).
pub fn init(requirements: &[PluginRequirement], options: &InitOptions) -> Result<Vec<Installed>, Vec<Diagnostic>> {
    let mut lock = LockFile::read(options.module_dir).map_err(|problem| {
        vec![Diagnostic::error(codes::LOCK_FILE_INVALID, problem)
            .with_help("repair the file, or remove it and run `infra init` to choose the versions again")]
    })?;
    let before = lock.clone();
    let mut installed = Vec::new();
    let mut errors = Vec::new();
    let wanted = merge(requirements);
    for plugin in &wanted {
        match install(plugin, &mut lock, options) {
            Ok(done) => installed.push(done),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let declared: BTreeSet<String> = wanted.iter().map(|w| w.address.to_string()).collect();
    lock.plugins.retain(|address, _| declared.contains(address));
    if lock != before {
        lock.write(options.module_dir).map_err(|e| {
            vec![Diagnostic::error(
                codes::INSTALL_FAILED,
                format!("cannot write {}: {e}", LockFile::path(options.module_dir).display()),
            )
            .with_help("check the module directory's permissions")]
        })?;
    }
    Ok(installed)
}

/// The requirements by source address, in address order: two modules may declare the
/// same plugin, and then both constraints hold.
fn merge(requirements: &[PluginRequirement]) -> Vec<Wanted> {
    let mut by_address: BTreeMap<&SourceAddress, Wanted> = BTreeMap::new();
    for requirement in requirements {
        let wanted = by_address.entry(&requirement.source).or_insert_with(|| Wanted {
            name: requirement.name.clone(),
            address: requirement.source.clone(),
            constraints: VersionConstraints::default(),
            span: requirement.span,
        });
        for constraint in &requirement.version.constraints {
            if !wanted.constraints.constraints.contains(constraint) {
                wanted.constraints.constraints.push(constraint.clone());
            }
        }
    }
    by_address.into_values().collect()
}

fn install(wanted: &Wanted, lock: &mut LockFile, options: &InitOptions) -> Result<Installed, Diagnostic> {
    let key = wanted.address.to_string();
    let previous = lock.plugins.get(&key);
    let version = match previous.filter(|_| !options.upgrade) {
        Some(locked) => locked_version(wanted, locked)?,
        None => newest_version(wanted, options)?,
    };
    // Also with `--upgrade`: a version that stays locked keeps its hashes.
    let previous = previous.filter(|l| l.version == version.to_string());
    let target = package_dir(&options.module_dir.join(PLUGIN_DIR), &wanted.address, &version, options.platform);
    let (hash, zips, origin) = if target.exists() {
        let hash = hash1(&target).map_err(|e| install_failed(wanted, &version, &e))?;
        // A package installed here was verified when it was put in place; its `h1:` is
        // what can be checked now (its archive is gone).
        if let Some(expected) = previous.and_then(|l| l.hashes.get(options.platform)).filter(|e| **e != hash) {
            return Err(mismatch(wanted, &version, &target, expected, &hash));
        }
        (hash, ZipHashes::new(), Origin::AlreadyInstalled)
    } else {
        obtain(wanted, &version, &target, previous, options)?
    };
    let (mut hashes, mut zip_hashes) = match previous {
        Some(previous) => (previous.hashes.clone(), previous.zip_hashes.clone()),
        None => (other_platform_hashes(wanted, &version, options), ZipHashes::new()),
    };
    hashes.insert(options.platform.to_string(), hash);
    for (platform, zip_hash) in zips {
        zip_hashes.entry(platform).or_insert(zip_hash);
    }
    let constraints = wanted.constraints.to_string();
    let entry = LockedPlugin { version: version.to_string(), constraints, hashes, zip_hashes };
    lock.plugins.insert(key, entry);
    Ok(Installed { name: wanted.name.clone(), address: wanted.address.clone(), version, dir: target, origin })
}

/// The locked version, when the declaration still allows it.
fn locked_version(wanted: &Wanted, locked: &LockedPlugin) -> Result<Version, Diagnostic> {
    let version = Version::parse(&locked.version).map_err(|_| {
        Diagnostic::error(
            codes::LOCK_FILE_INVALID,
            format!("`.infra.lock` names `{}`, which is not a version", locked.version),
        )
        .with_label(wanted.span, format!("`{}` is locked to it", wanted.name))
        .with_help("repair the file, or run `infra init --upgrade` to choose the version again")
    })?;
    if !wanted.constraints.allows(&version) {
        return Err(Diagnostic::error(
            codes::LOCKED_VERSION_REFUSED,
            format!("`.infra.lock` selects {} {version}, which this declaration does not allow", wanted.address),
        )
        .with_label(wanted.span, format!("allows `{}`", wanted.constraints))
        .with_help(
            "run `infra init --upgrade` to choose a version the declaration allows, and commit the new lock file",
        ));
    }
    Ok(version)
}

/// The newest version any source (or the shared cache) offers that the constraints allow.
fn newest_version(wanted: &Wanted, options: &InitOptions) -> Result<Version, Diagnostic> {
    let cache = options.cache_dir.map(|dir| FilesystemMirror { root: dir.to_path_buf() });
    let searched: Vec<&dyn PackageSource> =
        options.sources.iter().map(|s| s.as_ref()).chain(cache.as_ref().map(|c| c as &dyn PackageSource)).collect();
    let mut offered = BTreeSet::new();
    for source in &searched {
        let versions = source.versions(&wanted.address).map_err(|error| match error {
            SourceError::Io(e) => {
                Diagnostic::error(codes::INSTALL_FAILED, format!("cannot list the versions of {}: {e}", wanted.address))
                    .with_label(wanted.span, format!("looked for in {}", source.describe()))
                    .with_help("check that the directory is readable")
            }
            SourceError::Refused(_) => source_failed(wanted, &error),
        })?;
        offered.extend(versions);
    }
    if let Some(version) = wanted.constraints.newest(&offered) {
        return Ok(version.clone());
    }
    let places: Vec<String> = searched.iter().map(|s| s.describe()).collect();
    let found = match offered.is_empty() {
        true => "none".to_string(),
        false => offered.iter().map(Version::to_string).collect::<Vec<_>>().join(", "),
    };
    let allowed = match wanted.constraints.constraints.is_empty() {
        true => "any version".to_string(),
        false => format!("`{}`", wanted.constraints),
    };
    let help = match places.is_empty() {
        true => "give a filesystem mirror with `infra init --plugin-dir DIR`, or a network mirror with `--plugin-mirror URL`"
            .to_string(),
        false => format!("searched {}; versions found: {found}", places.join(", ")),
    };
    Err(Diagnostic::error(codes::NO_MATCHING_VERSION, format!("no version of {} matches", wanted.address))
        .with_label(wanted.span, format!("allows {allowed}"))
        .with_help(help))
}

/// `ROOT/HOSTNAME/NAMESPACE/TYPE/VERSION/PLATFORM`, the unpacked layout.
pub fn package_dir(root: &Path, address: &SourceAddress, version: &Version, platform: &str) -> PathBuf {
    root.join(&address.hostname)
        .join(&address.namespace)
        .join(&address.type_name)
        .join(version.to_string())
        .join(platform)
}

/// Puts the package at `target`: through the shared cache when there is one (unpacked
/// there when missing, and linked), else unpacked straight from a source. The package
/// is hashed, and refused on a mismatch, before `target` exists.
fn obtain(
    wanted: &Wanted,
    version: &Version,
    target: &Path,
    locked: Option<&LockedPlugin>,
    options: &InitOptions,
) -> Result<(String, ZipHashes, Origin), Diagnostic> {
    let failed = |e: io::Error| install_failed(wanted, version, &e);
    let Some(cache) = options.cache_dir else {
        return unpack_verified(wanted, version, target, locked, options);
    };
    let cached = package_dir(cache, &wanted.address, version, options.platform);
    // A lock written from a registry on another platform may hold only the archive's
    // `zh:` for this one, which an unpacked cache entry cannot be checked against: then
    // the package comes from a source, as an archive, and the cache is left alone (as
    // Terraform does).
    let only_zip_locked =
        locked.is_some_and(|l| !l.hashes.contains_key(options.platform) && l.zip_hashes.contains_key(options.platform));
    if only_zip_locked {
        return unpack_verified(wanted, version, target, locked, options);
    }
    let (hash, zips, origin) = if cached.exists() {
        let hash = hash1(&cached).map_err(failed)?;
        if let Some(locked) = locked.filter(|l| !l.accepts(options.platform, &hash, None)) {
            return Err(mismatch(wanted, version, &cached, &locked.describe(options.platform), &hash));
        }
        (hash, ZipHashes::new(), Origin::Cache)
    } else {
        unpack_verified(wanted, version, &cached, locked, options)?
    };
    let parent = target.parent().unwrap_or(target);
    std::fs::create_dir_all(parent).map_err(failed)?;
    std::os::unix::fs::symlink(&cached, target).map_err(failed)?;
    Ok((hash, zips, origin))
}

/// Unpacks the package from the first source that has it into a temporary directory
/// beside `target`, hashes it, and renames it to `target` when a hash is the locked one
/// (or nothing is locked). Whatever fails, nothing is left at `target`.
fn unpack_verified(
    wanted: &Wanted,
    version: &Version,
    target: &Path,
    locked: Option<&LockedPlugin>,
    options: &InitOptions,
) -> Result<(String, ZipHashes, Origin), Diagnostic> {
    let failed = |e: io::Error| install_failed(wanted, version, &e);
    let source = offering_source(wanted, version, options)?;
    let partial = target.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(partial.parent().unwrap_or(&partial)).map_err(failed)?;
    let unpacked = source.unpack(&wanted.address, version, options.platform, &partial);
    let verified = unpacked.map_err(|e| source_failed(wanted, &e)).and_then(|zips| {
        let hash = hash1(&partial).map_err(failed)?;
        let zip_hash = zips.get(options.platform).map(String::as_str);
        match locked.filter(|l| !l.accepts(options.platform, &hash, zip_hash)) {
            Some(locked) => {
                let from = source.unpacked(&wanted.address, version, options.platform).unwrap_or(partial.clone());
                Err(mismatch(wanted, version, &from, &locked.describe(options.platform), &hash))
            }
            None => Ok((hash, zips)),
        }
    });
    let (hash, zips) = verified.inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&partial);
    })?;
    std::fs::rename(&partial, target).map_err(failed)?;
    Ok((hash, zips, Origin::Source(source.describe())))
}

/// The first source that offers `version` for this platform. A source that could not
/// be asked is passed over, and its reason is the error when no source offers it.
fn offering_source<'a>(
    wanted: &Wanted,
    version: &Version,
    options: &'a InitOptions,
) -> Result<&'a dyn PackageSource, Diagnostic> {
    let mut first_error = None;
    for source in options.sources {
        match source.platforms(&wanted.address, version) {
            Ok(platforms) if platforms.iter().any(|p| p == options.platform) => return Ok(source.as_ref()),
            Ok(_) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(match first_error {
        Some(error) => source_failed(wanted, &error),
        None => not_offered(wanted, version, options),
    })
}

/// The hashes of the platforms other than this one that the sources keep unpacked, so
/// the lock file verifies the package on those machines too.
fn other_platform_hashes(wanted: &Wanted, version: &Version, options: &InitOptions) -> BTreeMap<String, String> {
    let mut hashes = BTreeMap::new();
    for source in options.sources {
        let platforms = source.platforms(&wanted.address, version).unwrap_or_default();
        for platform in platforms {
            if platform == options.platform || hashes.contains_key(&platform) {
                continue;
            }
            let hash = source.unpacked(&wanted.address, version, &platform).and_then(|dir| hash1(&dir).ok());
            hashes.extend(hash.map(|hash| (platform, hash)));
        }
    }
    hashes
}

fn not_offered(wanted: &Wanted, version: &Version, options: &InitOptions) -> Diagnostic {
    let places: Vec<String> = options.sources.iter().map(|s| s.describe()).collect();
    Diagnostic::error(
        codes::NO_MATCHING_VERSION,
        format!("no package of {} {version} for {}", wanted.address, options.platform),
    )
    .with_label(wanted.span, format!("`{}` needs {version}", wanted.name))
    .with_help(match places.is_empty() {
        true => "give a filesystem mirror that has it with `infra init --plugin-dir DIR`".to_string(),
        false => format!("searched {}", places.join(", ")),
    })
}

fn mismatch(wanted: &Wanted, version: &Version, dir: &Path, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(codes::HASH_MISMATCH, format!("the package of {} {version} does not match `.infra.lock`", wanted.address))
        .with_label(wanted.span, format!("`{}` is locked to {expected}", wanted.name))
        .with_note(format!("{} hashes to {found}", dir.display()))
        .with_help("the package changed since it was locked; nothing was installed. If the new package is trusted, remove its entry from `.infra.lock` and run `infra init` again")
}

/// A source's error as a diagnostic on the declaration.
fn source_failed(wanted: &Wanted, error: &SourceError) -> Diagnostic {
    match error {
        SourceError::Io(e) => {
            Diagnostic::error(codes::INSTALL_FAILED, format!("cannot install {}: {e}", wanted.address))
                .with_label(wanted.span, "declared here")
                .with_help("check that the mirror and the module directory are readable and writable")
        }
        SourceError::Refused(refusal) => Diagnostic::error(refusal.code, refusal.message.clone())
            .with_label(wanted.span, format!("`{}` is declared here", wanted.name))
            .with_help(refusal.help.clone()),
    }
}

fn install_failed(wanted: &Wanted, version: &Version, error: &io::Error) -> Diagnostic {
    Diagnostic::error(codes::INSTALL_FAILED, format!("cannot install {} {version}: {error}", wanted.address))
        .with_label(wanted.span, "declared here")
        .with_help("check that the mirror and the module directory are readable and writable")
}
