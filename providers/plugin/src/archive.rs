//! Plugin packages as zip archives, as registries, network mirrors and packed filesystem
//! mirrors keep them: unpacking one (with the zip crate, never by hand) and its `zh:`
//! hash, the lower-case hex SHA-256 of the archive file, as Terraform records it in a
//! lock file and as `SHA256SUMS` lists it.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The `zh:` hash of the archive at `path`.
pub fn zip_hash(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(format!("zh:{}", hex(&hasher.finalize())))
}

/// The lower-case hex SHA-256 of `bytes` (a `SHA256SUMS` line's, a `zh:` hash's digits).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Unpacks the archive at `path` into `into`.
pub fn unzip_file(path: &Path, into: &Path) -> io::Result<()> {
    unzip(std::fs::File::open(path)?, into)
}

/// Unpacks an archive into `into`, keeping each file's Unix permissions (a plugin must
/// stay executable). The zip crate refuses entries whose names would leave `into`.
pub fn unzip(archive: impl io::Read + io::Seek, into: &Path) -> io::Result<()> {
    let mut archive = zip::ZipArchive::new(archive).map_err(not_a_zip)?;
    std::fs::create_dir_all(into)?;
    archive.extract(into).map_err(not_a_zip)
}

fn not_a_zip(error: zip::result::ZipError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("not a usable zip archive: {error}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_sha256sums_digits() {
        // `printf 'a\n' | sha256sum`
        assert_eq!(sha256_hex(b"a\n"), "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = unzip(io::Cursor::new(b"not a zip".to_vec()), &dir.path().join("out")).unwrap_err();
        assert!(error.to_string().starts_with("not a usable zip archive"), "{error}");
    }
}
