//! The `qemu` provider end to end through the `infra` binary, with real VMs under QEMU:
//! two Debian guests with cloud-init (`support/qemu_debian.rs`) made from one base image,
//! booted, and one logged in to with the key its seed gave it and configured by the
//! `ssh` provider in the same apply, as `examples/local-vm` does; an apply killed while its
//! VM boots, after which the next plan reads the VM (the create reported it) and the next
//! apply adopts it and waits for SSH instead of starting a second one; a missing base
//! image, as the user sees the error; and what failures leave behind: a VM whose QEMU
//! does not start, a copy ended by Ctrl-C.
//! One VM test runs at a time on the machine (a lock file shared with the provider's own
//! tests), since TCG guests slow each other down.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::{command, ok, outcome, write_module};

#[path = "support/qemu_debian.rs"]
mod qemu_debian;
#[allow(dead_code)] // The marker is for the provider's own tests.
#[path = "../../providers/qemu/tests/support/tiny_guest.rs"]
mod tiny_guest;

use qemu_debian::{base_image, free_port, one_vm_at_a_time, qemu_processes, KillLeftovers};

/// How long the Debian guests get to power down before QEMU is quit: far longer than
/// systemd takes under TCG, so a destroy that ends well before it proves they did.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 120;

/// What the kernel prints on the console as it powers the machine off.
const POWER_DOWN: &str = "reboot: Power down";

/// The page the guest's web server serves.
const PAGE: &str = "<h1>Hello from a VM Infra made</h1>\n";

/// A configuration like `examples/local-vm`'s, with the web server a Python one run by
/// a systemd unit (the image has Python for cloud-init; nothing is downloaded inside),
/// and a second VM over the same base image.
fn web_server(base: &Path, kernel: &Path, ssh_port: u16, http_port: u16, db_ssh_port: u16) -> String {
    format!(
        r##"resource tls.private_key login {{
  algorithm = "ED25519"
}}

resource qemu.disk root {{
  path = "vms/web.qcow2"
  base = "{base}"
  size = "4G"
}}

resource qemu.cloudinit seed {{
  path           = "vms/web-seed.img"
  local_hostname = "web"
  user_data = "#cloud-config\n${{yamlencode({{
    users = [{{
      name                = "deploy"
      sudo                = "ALL=(ALL) NOPASSWD:ALL"
      shell               = "/bin/bash"
      ssh_authorized_keys = [login.public_key_openssh]
    }}]
  }})}}"
}}

resource qemu.vm web {{
  name             = "web"
  memory           = 1024
  disks            = [root.path]
  cloudinit        = seed.path
  kernel           = "{kernel}"
  cmdline          = "{cmdline}"
  console_log      = "logs/web.log"
  accel            = "auto"
  wait_for         = "ssh"
  boot_timeout     = "5m"
  shutdown_timeout = "{SHUTDOWN_TIMEOUT_SECONDS}s"

  network {{
    forward {{
      host_port  = {ssh_port}
      guest_port = 22
    }}

    forward {{
      host_port  = {http_port}
      guest_port = 80
    }}
  }}
}}

provider ssh {{
  host        = web.ssh_host
  port        = web.ssh_port
  user        = "deploy"
  private_key = login.private_key_openssh
  sudo        = true
  wait        = "3m"
}}

resource ssh.directory www {{
  path = "/srv/www"
}}

resource ssh.file page {{
  path       = "/srv/www/index.html"
  content    = "{page}"
  depends_on = [www]
}}

resource ssh.file unit {{
  path    = "/etc/systemd/system/site.service"
  content = "[Unit]\nDescription=The site\nAfter=network.target\n\n[Service]\nExecStart=/usr/bin/python3 -m http.server 80 --directory /srv/www\n\n[Install]\nWantedBy=multi-user.target\n"
}}

resource ssh.service site {{
  name       = "site"
  enabled    = true
  running    = true
  restart_on = [unit.sha256]
  depends_on = [page]
}}

# A second VM from the same base: its own overlay and seed, booted until SSH answers.
resource qemu.disk db_root {{
  path = "vms/db.qcow2"
  base = "{base}"
}}

resource qemu.cloudinit db_seed {{
  path      = "vms/db-seed.img"
  user_data = "#cloud-config\n{{}}\n"
}}

resource qemu.vm db {{
  name             = "db"
  memory           = 512
  disks            = [db_root.path]
  cloudinit        = db_seed.path
  kernel           = "{kernel}"
  cmdline          = "{cmdline}"
  console_log      = "logs/db.log"
  accel            = "auto"
  wait_for         = "ssh"
  boot_timeout     = "5m"
  shutdown_timeout = "{SHUTDOWN_TIMEOUT_SECONDS}s"

  network {{
    forward {{
      host_port  = {db_ssh_port}
      guest_port = 22
    }}
  }}
}}

output accelerator = web.accelerator
"##,
        base = base.display(),
        kernel = kernel.display(),
        cmdline = qemu_debian::CMDLINE,
        page = PAGE.replace('\n', "\\n"),
    )
}

/// The last lines of a console log, for a failure message.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The body of `GET /` on `127.0.0.1:port`. The unit has started when the apply ends, but
/// Python takes a few seconds under TCG before it listens; until then QEMU's forward
/// accepts and resets the connection.
fn get(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match try_get(port) {
            Ok(body) => return body,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(500)),
            Err(error) => panic!("GET / on port {port}: {error}"),
        }
    }
}

fn try_get(port: u16) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => Ok(body.to_string()),
        None => Err(std::io::Error::other(format!("no HTTP response: {response:?}"))),
    }
}

/// Nothing to do: `plan --detailed-exitcode` exits 0.
#[track_caller]
fn converged(dir: &Path) {
    let (code, printed) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan should be empty:\n{printed}");
}

#[test]
fn two_debian_vms_from_one_base_image_boot_and_one_is_configured_over_ssh_to_serve_a_page() {
    let _lock = one_vm_at_a_time();
    let image = base_image();
    let dir = tempfile::tempdir().expect("temp dir");
    let state_dir = dir.path().join(".qemu/web");
    let _leftovers = KillLeftovers(dir.path().join(".qemu").display().to_string());
    let (ssh_port, http_port, db_ssh_port) = (free_port(), free_port(), free_port());
    write_module(dir.path(), &web_server(&image.disk, &image.kernel, ssh_port, http_port, db_ssh_port));
    let stamp = |path: &Path| {
        let metadata = std::fs::metadata(path).expect("the base image");
        (metadata.len(), metadata.modified().expect("a modification time"))
    };
    let base_before = stamp(&image.disk);

    let applied = ok(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(get(http_port), PAGE, "the guest serves the page:\n{applied}");
    let running = qemu_processes(&state_dir.display().to_string());
    assert_eq!(running.len(), 1, "one QEMU for the VM");
    // Both VMs boot from overlays of the one base, which neither changed.
    let db_banner = {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", db_ssh_port)).expect("the second VM's SSH port");
        let mut banner = [0u8; 8];
        stream.read_exact(&mut banner).expect("a banner");
        banner
    };
    assert_eq!(&db_banner, b"SSH-2.0-", "the second VM answers SSH");
    for overlay in ["vms/web.qcow2", "vms/db.qcow2"] {
        let info = std::process::Command::new("qemu-img")
            .args(["info", "-U", "--output=json"])
            .arg(dir.path().join(overlay))
            .output()
            .expect("qemu-img runs");
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
        assert_eq!(info["backing-filename"].as_str(), image.disk.to_str(), "{overlay}: {info}");
    }
    assert_eq!(stamp(&image.disk), base_before, "the base is unchanged");
    let accelerator = ok(dir.path(), &["output", "accelerator"]);
    assert!(accelerator.contains("kvm") || accelerator.contains("tcg"), "{accelerator}");
    // The `ssh` resources logged in as `deploy` with the key: the user cloud-init added
    // from the seed.
    converged(dir.path());

    // Systemd in each guest honours the power button (QMP `system_powerdown`) and powers
    // the guest off: the kernel says so on the console, and QEMU exits long before
    // `shutdown_timeout` would have it quit.
    let destroying = Instant::now();
    ok(dir.path(), &["destroy", "--auto-approve"]);
    let destroyed_in = destroying.elapsed();
    assert!(
        destroyed_in < Duration::from_secs(SHUTDOWN_TIMEOUT_SECONDS / 2),
        "the guests powered themselves off in {destroyed_in:?}"
    );
    for log in ["logs/web.log", "logs/db.log"] {
        let console = std::fs::read_to_string(dir.path().join(log)).expect("a console log of one's own is kept");
        assert!(console.contains(POWER_DOWN), "{log} ends:\n{}", tail(&console));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !qemu_processes(&dir.path().join(".qemu").display().to_string()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let all_vms = dir.path().join(".qemu").display().to_string();
    assert!(qemu_processes(&all_vms).is_empty(), "the VMs were powered down");
    assert!(!dir.path().join("vms/web.qcow2").exists(), "the overlays are deleted");
    assert!(!dir.path().join("vms/db.qcow2").exists(), "the overlays are deleted");
    assert!(image.disk.exists(), "the base image is kept");
}

/// How long the tiny guest of the kill test sleeps before its init runs: time enough for
/// the test to kill one apply and start the next while SSH is still closed.
const SLOW_BOOT_SECONDS: u64 = 30;

/// A tiny guest that answers SSH with a banner once booted, so `wait_for = "ssh"` holds the
/// apply while it boots; its kernel sleeps `SLOW_BOOT_SECONDS` before it runs the init.
fn tiny_vm(guest: &tiny_guest::TinyGuest, ssh_port: u16) -> String {
    format!(
        r#"resource qemu.vm tiny {{
  name             = "tiny"
  memory           = 128
  kernel           = "{kernel}"
  initrd           = "{initrd}"
  cmdline          = "console=ttyS0 quiet rdinit=/bin/busybox -- sh -c \"/bin/busybox sleep {SLOW_BOOT_SECONDS}; exec /init\""
  accel            = "tcg"
  wait_for         = "ssh"
  boot_timeout     = "3m"
  shutdown_timeout = "1s"

  network {{
    forward {{
      host_port  = {ssh_port}
      guest_port = 22
    }}
  }}
}}
"#,
        kernel = guest.kernel.display(),
        initrd = guest.initrd.display(),
    )
}

/// Whether `127.0.0.1:port` answers with an SSH banner now.
fn ssh_banner(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut banner = [0u8; 4];
    stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-"
}

#[test]
fn an_apply_killed_while_the_vm_boots_is_followed_by_one_that_adopts_the_vm_and_waits_for_ssh() {
    let _lock = one_vm_at_a_time();
    let guest = tiny_guest::tiny_guest();
    let dir = tempfile::tempdir().expect("temp dir");
    let state_dir = dir.path().join(".qemu/tiny");
    let needle = state_dir.display().to_string();
    let _leftovers = KillLeftovers(needle.clone());
    let ssh_port = free_port();
    write_module(dir.path(), &tiny_vm(&guest, ssh_port));

    let printed = dir.path().join("killed-apply.log");
    let log = std::fs::File::create(&printed).expect("a log file");
    let mut apply = command(dir.path(), &["apply", "--auto-approve"])
        .stdout(log.try_clone().expect("a second handle"))
        .stderr(log)
        .spawn()
        .expect("infra apply runs");
    // Once QEMU runs, the create reports the VM and the journal records it as made; the
    // guest then takes half a minute to boot.
    let journal = dir.path().join("infra.state.journal");
    let reported = || std::fs::read_to_string(&journal).is_ok_and(|j| j.contains(r#""op":"progress""#));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reported() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed_output = || std::fs::read_to_string(&printed).unwrap_or_default();
    assert!(reported(), "the create reported the VM:\n{}", killed_output());
    apply.kill().expect("kill -9 infra");
    apply.wait().expect("reaped");
    let pid: u32 =
        std::fs::read_to_string(state_dir.join("qemu.pid")).expect("pid file").trim().parse().expect("a pid");
    let booting = qemu_processes(&needle);
    assert_eq!(booting, [pid], "the VM outlives the killed apply");

    // The state knows the VM, partly created: the plan reads it and, since no run of
    // Infra saw it boot, plans to start it, which waits for SSH.
    let (code, planned) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{planned}");
    assert!(planned.contains("the create of tiny stopped after its object was made"), "{planned}");
    assert!(!planned.contains("will be created"), "the VM is not made again:\n{planned}");
    assert!(planned.contains("tiny will be updated in place"), "{planned}");
    assert!(!ssh_banner(ssh_port), "the guest has not booted yet, so the next apply has something to wait for");
    let applied = ok(dir.path(), &["apply", "--auto-approve"]);
    // The guest answers one connection at a time (the apply's wait took the first), so
    // the next may wait a moment for its listener: moments, where the guest's own sleep
    // lasts half a minute.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut answered = ssh_banner(ssh_port);
    while !answered && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        answered = ssh_banner(ssh_port);
    }
    assert!(answered, "the apply returned once SSH answered:\n{applied}");
    assert_eq!(qemu_processes(&needle), booting, "the same QEMU, never a second one");
    converged(dir.path());
    ok(dir.path(), &["destroy", "--auto-approve"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !qemu_processes(&needle).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(qemu_processes(&needle).is_empty(), "no QEMU left");
}

#[test]
fn a_missing_base_image_is_a_coded_error_at_base_with_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_module(
        dir.path(),
        r#"resource qemu.disk web {
  path = "vms/web.qcow2"
  base = "images/no-such-base.qcow2"
}
"#,
    );
    let (code, printed) = outcome(dir.path(), &["apply", "--auto-approve"]);
    assert_ne!(code, 0, "{printed}");
    assert!(printed.contains("E0610"), "{printed}");
    assert!(printed.contains("images/no-such-base.qcow2` does not exist"), "{printed}");
    assert!(printed.contains("base = \"images/no-such-base.qcow2\""), "the span is on `base`: {printed}");
    assert!(printed.contains("make it first"), "the hint: {printed}");
    assert!(!dir.path().join("vms/web.qcow2").exists());
}

/// Regression: a copy of `source` that `qemu-img` made but could not then grow to `size`
/// (here beyond what qcow2 takes) was not recorded, so the file stayed at `path`, unknown
/// to the state, and every later apply was refused with "`path` already exists". The
/// copy is now reported once made: the state keeps it, the next apply (with a size it can
/// take) grows that same file, and destroy removes it.
#[test]
fn a_copy_that_could_not_be_grown_is_recorded_and_grown_by_the_next_apply() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    std::fs::create_dir(dir.join("images")).expect("images dir");
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "images/source.qcow2", "1M"])
        .current_dir(dir)
        .status()
        .expect("qemu-img runs");
    assert!(made.success());
    let module = |size: &str| {
        format!("resource qemu.disk copy {{\n  path   = \"vms/copy.qcow2\"\n  source = \"images/source.qcow2\"\n  size   = \"{size}\"\n}}\n")
    };
    write_module(dir, &module("4P"));
    let (code, printed) = outcome(dir, &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("resizing the image"), "{printed}");
    let listed = ok(dir, &["state", "list"]);
    assert!(listed.lines().any(|l| l.split_whitespace().next() == Some("copy")), "copy kept: {listed}");
    let files: Vec<_> = std::fs::read_dir(dir.join("vms")).expect("vms dir").collect();
    assert_eq!(files.len(), 1, "one copy: {files:?}");
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(dir.join("vms/copy.qcow2")).expect("the copy").ino();

    // Fixed: the same copy is grown, not refused as a file in the way nor made again.
    write_module(dir, &module("64M"));
    let printed = ok(dir, &["apply", "--auto-approve"]);
    assert!(!printed.contains("already exists"), "{printed}");
    assert_eq!(std::fs::metadata(dir.join("vms/copy.qcow2")).expect("the copy").ino(), inode, "the same file");
    let info = std::process::Command::new("qemu-img")
        .args(["info", "--output=json", "-U", "vms/copy.qcow2"])
        .current_dir(dir)
        .output()
        .expect("qemu-img runs");
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
    assert_eq!(info["virtual-size"], 64 << 20, "{info}");
    let (code, printed) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "nothing left to do: {printed}");
    ok(dir, &["destroy", "--auto-approve"]);
    assert!(!dir.join("vms/copy.qcow2").exists());
}

/// Regression: a VM whose QEMU did not start (here its forwarded port is taken, which
/// QEMU finds only as it starts) left its state directory behind, with the QMP socket
/// QEMU had made in it, though nothing was recorded: the next create reused it, and no
/// destroy would ever remove it. A create whose QEMU does not start now removes what it
/// made, and only that: a state directory that existed before is kept, with what was in
/// it.
#[test]
fn regression_a_vm_whose_qemu_did_not_start_leaves_behind_only_what_was_there_before() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let _leftovers = KillLeftovers(dir.display().to_string());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken_port = taken.local_addr().expect("its address").port();
    let module = |extra: &str| {
        format!(
            "resource qemu.vm busy {{\n  name   = \"busy\"\n  memory = 64\n  accel  = \"tcg\"\n{extra}\n  network \
             {{\n    forward {{\n      host_port  = {taken_port}\n      guest_port = 22\n    }}\n  }}\n}}\n"
        )
    };
    let failed_apply = || {
        let (code, printed) = outcome(dir, &["apply", "--auto-approve"]);
        let printed = unwrapped(&printed);
        assert_eq!(code, 1, "{printed}");
        assert!(printed.contains("Could not set up host forwarding"), "QEMU's reason is quoted: {printed}");
        assert!(printed.contains("pick a free `host_port`"), "the hint: {printed}");
        let listed = ok(dir, &["state", "list"]);
        assert!(!listed.lines().any(|l| l.split_whitespace().next() == Some("busy")), "nothing recorded: {listed}");
    };

    // The default state directory, `.qemu/busy`, and `.qemu` with it, were made by the
    // create: both are gone.
    write_module(dir, &module(""));
    failed_apply();
    assert!(!dir.join(".qemu").exists(), "left behind: {:?}", files_under(&dir.join(".qemu")));
    assert!(qemu_processes(&dir.display().to_string()).is_empty(), "no QEMU runs");

    // A state directory that was there before stays, with only what it held; the console
    // log's directory, which the create made, goes.
    std::fs::create_dir_all(dir.join("vms/busy")).expect("a state directory");
    std::fs::write(dir.join("vms/busy/notes.txt"), "mine\n").expect("a file of one's own");
    write_module(dir, &module("  state_dir   = \"vms/busy\"\n  console_log = \"logs/busy/console.log\""));
    failed_apply();
    assert_eq!(files_under(&dir.join("vms")), ["busy", "busy/notes.txt"]);
    assert!(!dir.join("logs").exists(), "left behind: {:?}", files_under(&dir.join("logs")));
    drop(taken);
}

/// What `infra` printed with the lines of its wrapped messages joined again.
fn unwrapped(printed: &str) -> String {
    printed.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every path under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().filter_map(Result::ok) {
            let path = entry.path();
            found.push(path.strip_prefix(dir).expect("under dir").display().to_string());
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The pid of the `qemu-img convert` whose command line names `source`, if one runs.
fn converting(source: &Path) -> Option<u32> {
    let source = source.display().to_string();
    std::fs::read_dir("/proc").ok()?.filter_map(Result::ok).find_map(|entry| {
        let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
        let command = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let command = String::from_utf8_lossy(&command);
        (command.starts_with("qemu-img\0convert\0") && command.contains(&source)).then_some(pid)
    })
}

fn signal(name: &str, pid: u32) {
    let sent = std::process::Command::new("kill").args([name, &pid.to_string()]).status().expect("kill runs");
    assert!(sent.success(), "kill {name} {pid}");
}

/// Bytes no compression or zero detection can skip, from a fixed seed.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len / 8)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()
        })
        .collect()
}

/// Regression: Ctrl-C during a copy of `source` let `qemu-img convert` run on (and a
/// second Ctrl-C, or `qemu-img` failing, left its partial file at `path`). The copy is
/// now ended: `qemu-img` is killed, its partial file removed, the error says so, nothing
/// is recorded, and the next apply makes the copy afresh. `qemu-img` is held still
/// (SIGSTOP) once it has written part of the copy, so the interruption surely lands
/// mid-copy; without the fix it is let go after a while, and the test fails on what it
/// left.
#[test]
fn regression_ctrl_c_during_a_copy_kills_qemu_img_and_removes_the_partial_copy() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    std::fs::create_dir(dir.join("images")).expect("images dir");
    let source = dir.canonicalize().expect("the directory").join("images/source.raw");
    std::fs::write(&source, noise(128 << 20)).expect("a source image");
    write_module(
        dir,
        "resource qemu.disk copy {\n  path   = \"vms/copy.qcow2\"\n  source = \"images/source.raw\"\n}\n",
    );
    let target = dir.join("vms/copy.qcow2");
    let mut apply = command(dir, &["apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("infra apply runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Some(pid) = converting(&source) {
            break pid;
        }
        assert!(Instant::now() < deadline, "`qemu-img convert` never ran");
        std::thread::sleep(Duration::from_millis(1));
    };
    signal("-STOP", pid);
    // Let it run a moment at a time until part of the copy is written.
    let written = || std::fs::metadata(&target).map_or(0, |m| m.len());
    while written() < 1 << 20 {
        assert!(converting(&source).is_some(), "the copy ended before it could be interrupted");
        signal("-CONT", pid);
        std::thread::sleep(Duration::from_millis(1));
        signal("-STOP", pid);
    }
    signal("-INT", apply.id());

    let deadline = Instant::now() + Duration::from_secs(20);
    while apply.try_wait().expect("the apply").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let ended_by_itself = apply.try_wait().expect("the apply").is_some();
    if !ended_by_itself {
        // It waits for `qemu-img`, which was not killed: let the copy finish.
        signal("-CONT", pid);
    }
    let output = apply.wait_with_output().expect("the apply ends");
    let printed = unwrapped(&common::text(&output));
    assert!(ended_by_itself, "the apply waited for `qemu-img` after Ctrl-C:\n{printed}");
    assert_ne!(output.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("interrupted while making the image `")
            && printed.contains("vms/copy.qcow2`: `qemu-img` was stopped, and what it had written was removed"),
        "the error says what was interrupted, and what became of the partial copy: {printed}"
    );
    assert!(printed.contains("run `infra apply` again"), "the hint: {printed}");
    assert!(!target.exists(), "the partial copy is removed");
    assert!(converting(&source).is_none(), "`qemu-img` is killed");
    let listed = ok(dir, &["state", "list"]);
    assert!(!listed.lines().any(|l| l.split_whitespace().next() == Some("copy")), "nothing recorded: {listed}");

    // The next apply makes the copy afresh, and it is whole.
    ok(dir, &["apply", "--auto-approve"]);
    let compared = std::process::Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "qcow2", "images/source.raw", "vms/copy.qcow2"])
        .current_dir(dir)
        .output()
        .expect("qemu-img runs");
    assert!(compared.status.success(), "{}", String::from_utf8_lossy(&compared.stdout));
    ok(dir, &["destroy", "--auto-approve"]);
    assert!(!target.exists());
}
