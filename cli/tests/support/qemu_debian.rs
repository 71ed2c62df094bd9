//! A Debian 12 base image with cloud-init for `qemu.vm` tests: made once by the
//! example's own script (`examples/local-vm/build-base-image.sh`: mmdebstrap, the cloud
//! kernel, `mkfs.ext4 -d`, qcow2) into a cache outside the clone (`$INFRA_TEST_CACHE`,
//! by default `~/.cache/infra-tests`, as `qemu-debian-cloud/`) and made again when
//! missing. Each test puts a copy-on-write overlay over it, so the base never changes.
//! See "QEMU" in the services notes for the boot times under TCG.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::Command;

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// The cached base image and the kernel it boots with.
pub struct BaseImage {
    pub disk: PathBuf,
    pub kernel: PathBuf,
}

/// The kernel command line for the base image: root on the NVMe disk's first namespace.
pub const CMDLINE: &str = "root=/dev/nvme0n1 rw console=ttyS0";

fn cache_dir() -> PathBuf {
    match std::env::var_os("INFRA_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/infra-tests"),
    }
}

fn image_in(dir: &Path) -> BaseImage {
    BaseImage { disk: dir.join("debian-12-base.qcow2"), kernel: dir.join("vmlinuz") }
}

/// The base image, built when missing. A lock file keeps two test binaries from building
/// it at once; it is built beside its final place and renamed there when whole.
pub fn base_image() -> BaseImage {
    let cache = cache_dir();
    let dir = cache.join("qemu-debian-cloud");
    let image = image_in(&dir);
    if image.disk.exists() && image.kernel.exists() {
        return image;
    }
    std::fs::create_dir_all(&cache).expect("cache directory");
    let lock = std::fs::File::create(cache.join("qemu-debian-cloud.lock")).expect("lock file");
    lock.lock().expect("lock the cache");
    if image.disk.exists() && image.kernel.exists() {
        return image;
    }
    let building = cache.join(format!("qemu-debian-cloud.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/local-vm/build-base-image.sh");
    let built = Command::new("sh").arg(&script).arg(&building).output().expect("sh runs");
    assert!(
        built.status.success(),
        "{} failed (it needs mmdebstrap, e2fsprogs and qemu-utils; see .ci/run):\n{}",
        script.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&building, &dir).expect("rename the new base image into place");
    image
}

/// A free TCP port of 127.0.0.1 (free when asked; QEMU takes it soon after).
pub fn free_port() -> u16 {
    ports::free_port()
}

/// The pids of the QEMU processes whose command line names `needle` (such as a VM's
/// state directory).
pub fn qemu_processes(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let command = String::from_utf8_lossy(&command);
            command.contains("qemu-system") && command.contains(needle)
        })
        .collect()
}

/// Kills the QEMU processes whose command line names `needle` when dropped, so a failing
/// test leaves no VM behind.
pub struct KillLeftovers(pub String);

impl Drop for KillLeftovers {
    fn drop(&mut self) {
        for pid in qemu_processes(&self.0) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// Held while a test runs VMs: one at a time on this machine (the provider's own tests
/// take the same lock), since TCG guests slow each other down.
pub fn one_vm_at_a_time() -> std::fs::File {
    let lock = std::fs::File::create(std::env::temp_dir().join("infra-qemu-vm-tests.lock")).expect("lock file");
    lock.lock().expect("lock");
    lock
}
