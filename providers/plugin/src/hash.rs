//! Terraform's `h1:` package hash: the "Hash1" directory hash of Go's module checksum
//! database (`golang.org/x/mod/sumdb/dirhash`), over the unpacked files of a package.
//!
//! Each regular file under the directory, named by its path relative to it with `/`
//! separators, contributes the line `HEX-SHA256  NAME\n`; the lines are sorted by name,
//! and the hash is `h1:` followed by the standard Base64 of the SHA-256 of their
//! concatenation. The same package hashes the same on every machine, whatever its
//! files' times and permissions, which is what lets a lock file written on one machine
//! be verified on another.

use std::io;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};

/// The `h1:` hash of the package unpacked in `dir` (followed if it is a symbolic link).
pub fn hash1(dir: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_root_links(true) {
        let entry = entry.map_err(io::Error::other)?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).map_err(io::Error::other)?;
        let name = relative
            .components()
            .map(|c| c.as_os_str().to_str().ok_or_else(|| io::Error::other("a file name is not UTF-8")))
            .collect::<io::Result<Vec<&str>>>()?
            .join("/");
        if name.contains('\n') {
            return Err(io::Error::other(format!("the file name {name:?} has a newline")));
        }
        files.push((name, entry.into_path()));
    }
    // Go sorts the names as byte strings, which is how `String`'s order compares them.
    files.sort();
    let mut summary = Sha256::new();
    for (name, path) in &files {
        let digest = file_sha256(path)?;
        summary.update(format!("{}  {name}\n", hex(&digest)));
    }
    Ok(format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(summary.finalize())))
}

fn file_sha256(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected hash is the one Terraform 1.11 wrote into `.terraform.lock.hcl` when it
    /// installed these three files, one of them in a subdirectory, from a filesystem
    /// mirror.
    #[test]
    fn hash1_is_terraforms_hash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.txt"), "b\n").unwrap();
        std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        std::fs::write(dir.path().join("terraform-provider-two"), "#!/bin/sh\n").unwrap();
        assert_eq!(hash1(dir.path()).unwrap(), "h1:kN+so4DzvAHFJV1zoALz0a2AG1oaQY5KsFjZ1IW1zOQ=");
    }

    /// Times and permissions are not part of the hash, so a copy hashes the same.
    #[test]
    fn hash1_ignores_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        let before = hash1(dir.path()).unwrap();
        std::fs::set_permissions(dir.path().join("a.txt"), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(hash1(dir.path()).unwrap(), before);
    }
}
