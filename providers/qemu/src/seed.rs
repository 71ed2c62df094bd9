//! The NoCloud seed volume: a FAT file system labelled `CIDATA` holding `user-data`,
//! `meta-data` and, when given, `network-config` and `vendor-data`, made in memory with
//! the `fatfs` crate.
//!
//! The same files always make the same bytes: the files are written in a fixed order,
//! `fatfs` stamps them with the FAT epoch (it is built without a clock), and the volume
//! serial number is taken from the content's hash instead of the time.

use std::io::{Cursor, Write};

use sha2::Digest;

/// The volume label cloud-init's NoCloud data source looks for.
const LABEL: &[u8; 11] = b"CIDATA     ";

/// The volume grows in whole MiB, with at least this much room for the file system's
/// own structures.
const MIB: usize = 1 << 20;

/// The files of a seed, by name, in the order they are written.
pub struct Files<'a> {
    pub entries: Vec<(&'static str, &'a str)>,
}

/// The volume holding `files`.
pub fn volume(files: &Files) -> std::io::Result<Vec<u8>> {
    let content: usize = files.entries.iter().map(|(_, text)| text.len()).sum();
    let size = (content / MIB + 1) * MIB + MIB;
    let mut disk = Cursor::new(vec![0u8; size]);
    let serial = serial_number(files);
    let options = fatfs::FormatVolumeOptions::new().volume_label(*LABEL).volume_id(serial);
    fatfs::format_volume(&mut disk, options)?;
    {
        let fs = fatfs::FileSystem::new(&mut disk, fatfs::FsOptions::new())?;
        for (name, text) in &files.entries {
            let mut file = fs.root_dir().create_file(name)?;
            file.truncate()?;
            file.write_all(text.as_bytes())?;
            file.flush()?;
        }
        fs.unmount()?;
    }
    Ok(disk.into_inner())
}

fn serial_number(files: &Files) -> u32 {
    let mut hasher = sha2::Sha256::new();
    for (name, text) in &files.entries {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}
