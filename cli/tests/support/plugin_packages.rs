//! Plugin packages as registries and mirrors serve them, for the installer's tests: the
//! real workato plugin (`workato.rs`) zipped as Terraform's release archives are,
//! made-up packages, and the packed mirror layout
//! (`HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`).

#![allow(dead_code)] // Each test file uses its own subset.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use zip::write::SimpleFileOptions;

/// `terraform-provider-TYPE_VERSION_OS_ARCH.zip`.
pub fn archive_name(type_name: &str, version: &str, platform: &str) -> String {
    format!("terraform-provider-{type_name}_{version}_{platform}.zip")
}

/// Writes a zip archive at `path` of `files` (name, content), each executable, deflated
/// as release archives are.
pub fn write_zip(path: &Path, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .unix_permissions(0o755);
    for (name, content) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
}

/// The workato plugin's `linux_amd64` package as a release archive in `dir`; its path.
pub fn workato_zip(dir: &Path) -> PathBuf {
    let unpacked = super::workato::mirror().join("registry.terraform.io/local/workato/0.16.0/linux_amd64");
    let binary = std::fs::read(unpacked.join("terraform-provider-workato_v0.16.0")).unwrap();
    let path = dir.join(archive_name("workato", "0.16.0", "linux_amd64"));
    write_zip(&path, &[("terraform-provider-workato_v0.16.0", &binary)]);
    path
}

/// A packed filesystem mirror in `root` holding the workato plugin for `linux_amd64`.
pub fn workato_packed_mirror(root: &Path) -> PathBuf {
    workato_zip(&root.join("registry.terraform.io/local/workato"))
}

/// A made-up package `local/fake` of `version` for `platform` in the packed layout under
/// `root`: one file, `terraform-provider-fake_vVERSION`, holding `fake VERSION`.
pub fn fake_packed(root: &Path, version: &str, platform: &str) -> PathBuf {
    let path = root.join("registry.terraform.io/local/fake").join(archive_name("fake", version, platform));
    let name = format!("terraform-provider-fake_v{version}");
    write_zip(&path, &[(&name, format!("fake {version}\n").as_bytes())]);
    path
}

/// `zh:` and the SHA-256 of `path` as `sha256sum` prints it, to check the installer's
/// own hashing against.
pub fn sha256sum(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).split_whitespace().next().unwrap().to_string()
}
