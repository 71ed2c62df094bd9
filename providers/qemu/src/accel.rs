//! The accelerator a VM runs with. KVM is used only once a probe proved that it runs
//! guests: some hosts let `/dev/kvm` open while every guest crawls (nested virtualization
//! that does not work), so opening the device proves nothing. The probe boots a tiny
//! guest under KVM, once per process, with a deadline; `auto` falls back to TCG when it
//! fails, and `kvm` is then an error that says why.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use infra_runtime::provider::{ProviderError, ProviderResult};
use tokio::sync::OnceCell;

use crate::vm::QEMU_SYSTEM;

/// How long the probe guest may take under KVM. It writes 128 MiB and exits: a working
/// KVM does that in a fraction of a second, QEMU's start included (TCG takes 0.2 s);
/// where nested virtualization is broken each page the guest first touches takes a
/// millisecond or more, and the guest needed 8 s on an idle machine (as a Linux kernel
/// unpacking itself then seems to hang). With 32 MiB it needed 3.1 s, too close to the
/// deadline: a probe that passed by chance sent real guests to a KVM that stalls them.
const PROBE_DEADLINE: Duration = Duration::from_secs(3);

/// The exit status QEMU gives when the probe guest writes 0x2a to the isa-debug-exit port:
/// `(0x2a << 1) | 1`.
const PROBE_EXIT_STATUS: i32 = 85;

/// The probe guest's code, assembled from `kvm_probe.S` (the commands are in that file):
/// a multiboot header with load addresses, then the code and its descriptor table. It is
/// loaded at 1 MiB; its page tables follow at 1 MiB + 4, 8 and 12 KiB.
const PROBE_CODE: [u8; 134] = [
    0x02, 0xb0, 0xad, 0x1b, 0x00, 0x00, 0x01, 0x00, 0xfe, 0x4f, 0x51, 0xe4, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x10, 0x00, 0xbf, 0x00, 0x00, 0x20, 0x00, 0xb9,
    0x00, 0x00, 0x00, 0x02, 0x31, 0xc0, 0xf3, 0xab, 0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb8, 0x00,
    0x10, 0x10, 0x00, 0x0f, 0x22, 0xd8, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f,
    0x30, 0x0f, 0x20, 0xc0, 0x0d, 0x01, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x0f, 0x01, 0x15, 0x80, 0x00, 0x10, 0x00,
    0xea, 0x66, 0x00, 0x10, 0x00, 0x08, 0x00, 0xb0, 0x2a, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd, 0x0f, 0x1f, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9a, 0x20, 0x00, 0x0f, 0x00, 0x70, 0x00, 0x10,
    0x00,
];

/// The first entry of each page table (PML4, PDPT, page directory): each points at the
/// next, and the last maps the first 2 MiB to themselves.
const PAGE_TABLES: [u64; 3] = [0x0010_2003, 0x0010_3003, 0x83];

const PAGE: usize = 4096;

/// The probe guest as QEMU's `-kernel` takes it.
pub fn probe_image() -> Vec<u8> {
    let mut image = vec![0u8; PAGE * (1 + PAGE_TABLES.len())];
    image[..PROBE_CODE.len()].copy_from_slice(&PROBE_CODE);
    for (index, entry) in PAGE_TABLES.iter().enumerate() {
        let at = PAGE * (index + 1);
        image[at..at + 8].copy_from_slice(&entry.to_le_bytes());
    }
    image
}

/// Whether KVM runs guests here: `Err` says why not.
static KVM: OnceCell<Result<(), String>> = OnceCell::const_new();

async fn kvm_works() -> &'static Result<(), String> {
    KVM.get_or_init(probe).await
}

async fn probe() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map_err(|error| format!("/dev/kvm cannot be opened ({error})"))?;
    let image = std::env::temp_dir().join(format!("infra-kvm-probe-{}.bin", std::process::id()));
    std::fs::write(&image, probe_image()).map_err(|error| format!("writing `{}`: {error}", image.display()))?;
    let outcome = run_probe(&image).await;
    let _ = std::fs::remove_file(&image);
    outcome
}

async fn run_probe(image: &PathBuf) -> Result<(), String> {
    let mut child = tokio::process::Command::new(QEMU_SYSTEM)
        .args(["-accel", "kvm", "-machine", "q35", "-m", "192", "-nodefaults", "-no-user-config"])
        .args(["-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel"])
        .arg(image)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("`{QEMU_SYSTEM}` could not run: {error}"))?;
    match tokio::time::timeout(PROBE_DEADLINE, child.wait()).await {
        Ok(Ok(status)) if status.code() == Some(PROBE_EXIT_STATUS) => Ok(()),
        Ok(Ok(status)) => Err(format!("a test guest under KVM failed ({status})")),
        Ok(Err(error)) => Err(format!("a test guest under KVM failed: {error}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "a test guest that runs in a moment under KVM was not done after {} s (/dev/kvm opens, but guests \
                 barely run: nested virtualization that does not work)",
                PROBE_DEADLINE.as_secs()
            ))
        }
    }
}

/// The accelerator for `accel`: `auto` is KVM when the probe passed, else TCG; `kvm`
/// where the probe failed is an error that says why and suggests TCG.
pub async fn choose(accel: &str) -> ProviderResult<&'static str> {
    match accel {
        "tcg" => Ok("tcg"),
        "kvm" => match kvm_works().await {
            Ok(()) => Ok("kvm"),
            Err(why) => Err(ProviderError::new(format!("KVM is not usable here: {why}"))
                .on_attribute("accel")
                .with_help("set `accel = \"tcg\"` to emulate the CPU in software (slower, works everywhere)")),
        },
        _ => Ok(if kvm_works().await.is_ok() { "kvm" } else { "tcg" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_image_is_a_multiboot_kernel_with_its_page_tables_in_place() {
        let image = probe_image();
        assert_eq!(image.len(), 4 * PAGE);
        assert_eq!(&image[..4], &0x1BAD_B002u32.to_le_bytes(), "the multiboot magic");
        let words: Vec<u32> = image[..12].chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(words[0].wrapping_add(words[1]).wrapping_add(words[2]), 0, "the header's checksum");
        assert_eq!(&image[PAGE..PAGE + 8], &0x0010_2003u64.to_le_bytes());
        assert_eq!(&image[3 * PAGE..3 * PAGE + 8], &0x83u64.to_le_bytes());
    }
}
