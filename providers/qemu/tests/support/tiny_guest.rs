//! A tiny guest for VM tests: Debian's cloud kernel with an initramfs of `busybox-static`
//! whose `/init` loads virtio-net, takes QEMU's user-mode address, prints a marker on the
//! serial console and answers port 22 with an SSH banner. It boots in seconds under TCG.
//!
//! The kernel and initramfs are built once into `$INFRA_TEST_CACHE/qemu-tiny-guest`
//! (`~/.cache/infra-tests/qemu-tiny-guest` by default), outside the clone, and rebuilt
//! when missing; a lock file keeps two test binaries from building them at once. Building
//! needs `apt-get` (the kernel package is downloaded), `dpkg-deb`, `cpio`, `gzip` and
//! `/bin/busybox` from `busybox-static`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `/init` prints once the network is up.
pub const MARKER: &str = "infra-tiny-guest: init is running";

/// The modules virtio-net needs, in the order they load.
const MODULES: [&str; 8] = [
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "net/core/failover.ko",
    "drivers/net/net_failover.ko",
    "drivers/net/virtio_net.ko",
];

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
    insmod /lib/modules/$m.ko
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
echo "infra-tiny-guest: init is running"
while true; do echo "SSH-2.0-infra-tiny-guest" | nc -l -p 22; done
"#;

/// The kernel and initramfs.
pub struct TinyGuest {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("INFRA_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/infra-tests")
    });
    base.join("qemu-tiny-guest")
}

/// The tiny guest, built when missing.
pub fn tiny_guest() -> TinyGuest {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("cache dir");
    let lock = File::create(dir.with_extension("lock")).expect("lock file");
    lock.lock().expect("lock the cache");
    let guest = TinyGuest { kernel: dir.join("vmlinuz"), initrd: dir.join("initrd.gz") };
    if !guest.kernel.exists() || !guest.initrd.exists() {
        build(&dir, &guest);
    }
    guest
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn build(dir: &Path, guest: &TinyGuest) {
    let work = tempfile::tempdir_in(dir).expect("work dir");
    let depends = run(Command::new("apt-cache").args(["depends", "linux-image-cloud-amd64"]));
    let package = depends
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").filter(|p| p.starts_with("linux-image-")))
        .expect("linux-image-cloud-amd64 names a kernel package")
        .to_string();
    run(Command::new("apt-get").arg("download").arg(&package).current_dir(work.path()));
    let deb = std::fs::read_dir(work.path())
        .expect("work dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("the kernel package");
    let root = work.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let version = package.trim_start_matches("linux-image-");
    let initramfs = work.path().join("initramfs");
    for sub in ["bin", "proc", "sys", "lib/modules"] {
        std::fs::create_dir_all(initramfs.join(sub)).expect("initramfs dir");
    }
    std::fs::copy("/bin/busybox", initramfs.join("bin/busybox")).expect("busybox-static is installed");
    let modules = root.join(format!("lib/modules/{version}/kernel"));
    for module in MODULES {
        let name = Path::new(module).file_name().expect("module name");
        std::fs::copy(modules.join(module), initramfs.join("lib/modules").join(name)).expect("module");
    }
    let init = initramfs.join("init");
    std::fs::write(&init, INIT).expect("init");
    run(Command::new("chmod").arg("755").arg(&init));
    let initrd = work.path().join("initrd.gz");
    let script = format!("find . | cpio -o -H newc --quiet | gzip -1 > '{}'", initrd.display());
    run(Command::new("sh").arg("-c").arg(script).current_dir(&initramfs));
    std::fs::copy(root.join(format!("boot/vmlinuz-{version}")), &guest.kernel).expect("kernel");
    std::fs::rename(&initrd, &guest.initrd).expect("initrd");
}
