//! The file system side of `local.file`: resolving paths, permission modes, hashing, and
//! writing a file atomically. Everything here is synchronous; the provider runs it on
//! tokio's blocking pool.

use std::fs;
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha1::{Digest, Sha1};

/// The mode a file gets when the configuration does not say.
pub(super) const DEFAULT_MODE: &str = "0644";

/// `path` relative to the module directory; an absolute path stays as it is.
pub(super) fn resolve(module_dir: &Path, path: &str) -> PathBuf {
    module_dir.join(path)
}

/// The SHA-1 hash of `bytes` in hexadecimal: a file's `id`, as Terraform's `local_file`.
pub(super) fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// Parses a permission mode written in octal, such as `"0644"` or `"755"`. The error
/// says what is wrong, for a message about `mode`.
pub(super) fn parse_mode(text: &str) -> Result<u32, String> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!("`mode` must be 3 or 4 octal digits, such as \"0644\", not \"{text}\""));
    }
    let mode = u32::from_str_radix(text, 8).map_err(|error| error.to_string())?;
    if mode > 0o777 {
        return Err(format!("`mode` \"{text}\" sets the setuid, setgid or sticky bit, which `local.file` does not"));
    }
    Ok(mode)
}

/// A mode as `read` reports it: four octal digits.
pub(super) fn format_mode(mode: u32) -> String {
    format!("{mode:04o}")
}

/// What is at a path: its bytes and permission bits, or nothing.
pub(super) struct OnDisk {
    pub(super) bytes: Vec<u8>,
    pub(super) mode: u32,
}

/// Reads the regular file at `path`; `Ok(None)` when nothing is there.
pub(super) fn read(path: &Path) -> io::Result<Option<OnDisk>> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    if !metadata.is_file() {
        return Err(io::Error::new(ErrorKind::InvalidInput, "it is not a regular file"));
    }
    let bytes = fs::read(path)?;
    Ok(Some(OnDisk { bytes, mode: permission_bits(&metadata) }))
}

/// The permission bits of the regular file at `path`, if there is one.
pub(super) fn existing_mode(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().filter(fs::Metadata::is_file).map(|metadata| permission_bits(&metadata))
}

/// Writes `bytes` to `path` with `mode`, creating the parent directories. The content
/// goes to a temporary file beside `path` that is then renamed over it, so a reader (or a
/// crash) never sees half a file. A symbolic link at `path` is replaced, not followed.
pub(super) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let temporary = parent.join(temporary_name(path));
    let written = write_new(&temporary, bytes, mode).and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Removes the file at `path`; nothing there is not an error. Parent directories stay.
pub(super) fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        result => result,
    }
}

/// `.NAME.PID.N.infra-tmp`: unique within this process by the counter, and across
/// processes by the process id, so concurrent writes never share a temporary file.
fn temporary_name(path: &Path) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.{}.{}.infra-tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    // Set explicitly rather than at open, where the process's umask would narrow it.
    set_permission_bits(&file, mode)?;
    file.sync_all()
}

#[cfg(unix)]
fn permission_bits(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_permission_bits(file: &fs::File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Without Unix permissions, only "read-only" exists: reported as 0444 or 0644.
#[cfg(not(unix))]
fn permission_bits(metadata: &fs::Metadata) -> u32 {
    if metadata.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(not(unix))]
fn set_permission_bits(file: &fs::File, mode: u32) -> io::Result<()> {
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(mode & 0o200 == 0);
    file.set_permissions(permissions)
}
