//! `qemu.vm` through the provider interface against the real `qemu-system-x86_64`, under
//! TCG except for the tiny guest, which boots with `accel = "auto"`: KVM where the probe
//! proves it runs guests, else TCG (as on a host where /dev/kvm opens but guests crawl).
//! The other VMs boot no guest (the firmware finds nothing and waits), which is all that
//! start, status, stop, drift, adoption and port errors need. One VM test runs at a time
//! on the machine (a lock file), since TCG guests slow each other down.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ReadResult};
use infra_runtime::Value;

#[path = "../../../cli/tests/support/ports.rs"]
mod ports;
#[path = "support/tiny_guest.rs"]
mod tiny_guest;

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn s(text: &str) -> Value {
    Value::string(text)
}

fn provider(dir: &Path) -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: dir.to_path_buf() };
    infra_provider_qemu::factory().configure(&Attributes::new(), &context).expect("configured")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Held while a test runs VMs: one at a time on this machine.
fn one_vm_at_a_time() -> File {
    let lock = File::create(std::env::temp_dir().join("infra-qemu-vm-tests.lock")).expect("lock file");
    lock.lock().expect("lock");
    lock
}

/// Kills every QEMU a test left running under `dir` (its pid files under `.qemu/`), so a
/// failing test leaves no VM behind.
struct KillLeftovers<'a>(&'a Path);

impl Drop for KillLeftovers<'_> {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.0.join(".qemu")) else { return };
        for entry in entries.filter_map(Result::ok) {
            if let Ok(pid) = std::fs::read_to_string(entry.path().join("qemu.pid")) {
                let _ = std::process::Command::new("kill").args(["-9", pid.trim()]).status();
            }
        }
    }
}

/// A VM with no guest, under TCG, with a short shutdown timeout (the firmware ignores
/// the power button, so stopping it shows the forced quit).
fn idle_vm(name: &str, extra: &[(&str, Value)]) -> Attributes {
    let mut config = attributes(&[
        ("name", s(name)),
        ("memory", Value::number(64.0)),
        ("accel", s("tcg")),
        ("shutdown_timeout", s("1s")),
    ]);
    config.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    config
}

async fn create(provider: &Arc<dyn Provider>, config: &Attributes) -> Result<Attributes, ProviderError> {
    let planned = provider.plan("vm", None, config)?;
    provider.create("vm", &planned).await
}

async fn read(provider: &Arc<dyn Provider>, current: &Attributes) -> Attributes {
    match provider.read("vm", current).await.expect("read") {
        ReadResult::Found(found) => found,
        ReadResult::Gone => panic!("the VM read as gone"),
    }
}

/// One user-mode `network` block forwarding `port` of this machine to the guest's SSH port.
fn ssh_network(port: u16) -> Value {
    let map = |pairs: Vec<(&str, Value)>| Value::map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    let forward = map(vec![("host_port", Value::number(f64::from(port))), ("guest_port", Value::number(22.0))]);
    Value::list(vec![map(vec![("mode", s("user")), ("forward", Value::list(vec![forward]))])])
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn pid(attributes: &Attributes) -> u32 {
    attributes.get("pid").and_then(Value::as_number).unwrap_or(0.0) as u32
}

/// Whether `pid` is a live process (an exited QEMU may linger as a zombie, with no
/// command line, until its parent reaps it).
fn alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|command| !command.is_empty())
}

#[test]
fn a_vm_starts_stops_starts_again_drifts_when_killed_and_is_deleted() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = idle_vm("idle", &[]);
        let created = create(&qemu, &config).await.expect("started");
        assert_eq!(text(&created, "status"), "running", "QMP query-status");
        assert!(alive(pid(&created)));
        assert_eq!(text(&created, "qmp_socket"), ".qemu/idle/qmp.sock");
        assert!(dir.path().join(".qemu/idle/qmp.sock").exists());
        assert_eq!(read(&qemu, &created).await, created, "nothing drifted");

        let mut stopped_config = config.clone();
        stopped_config.insert("running".to_string(), Value::bool(false));
        let planned = qemu.plan("vm", Some(&created), &stopped_config).expect("planned");
        let stopped = qemu.update("vm", &created, &planned).await.expect("stopped");
        assert_eq!(text(&stopped, "status"), "stopped");
        assert!(!alive(pid(&created)), "QEMU was quit after the shutdown timeout");

        let planned = qemu.plan("vm", Some(&stopped), &config).expect("planned");
        let started = qemu.update("vm", &stopped, &planned).await.expect("started again");
        assert_eq!(text(&started, "status"), "running");

        let status = std::process::Command::new("kill").args(["-9", &pid(&started).to_string()]).status();
        assert!(status.expect("kill").success());
        std::thread::sleep(std::time::Duration::from_millis(300));
        let found = read(&qemu, &started).await;
        assert_eq!(found.get("running"), Some(&Value::bool(false)), "a VM killed outside Infra reads as stopped");
        let planned = qemu.plan("vm", Some(&found), &config).expect("planned");
        assert_eq!(planned.get("running"), Some(&Value::bool(true)), "the plan starts it");
        let restarted = qemu.update("vm", &found, &planned).await.expect("restarted");

        qemu.delete("vm", &restarted).await.expect("deleted");
        assert!(!alive(pid(&restarted)));
        assert!(!dir.path().join(".qemu/idle").exists(), "the state directory is gone");
    });
}

#[test]
fn a_second_create_adopts_the_running_vm_instead_of_starting_another() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = idle_vm("adopted", &[]);
        let (progress, reports) = CreateProgress::channel();
        let planned = qemu.plan("vm", None, &config).expect("planned");
        let first = qemu.create_reporting("vm", &planned, &progress).await.expect("started");
        // The VM was reported as soon as its QEMU ran, before create's wait, so a run of
        // Infra killed during the wait leaves it in state.
        let reported = reports.borrow().clone().expect("the create reported the VM");
        assert_eq!(text(&reported, "id"), ".qemu/adopted");
        assert_eq!(pid(&reported), pid(&first));
        // As when Infra was killed while the VM booted: nothing recorded, the VM runs.
        let second = create(&qemu, &config).await.expect("adopted");
        assert_eq!(pid(&second), pid(&first), "the same QEMU, not a second one");
        qemu.delete("vm", &second).await.expect("deleted");
    });
}

/// Runs `command` on the VM's QMP socket as a person would (outside Infra); its reply.
fn qmp(socket: &Path, command: &str) -> serde_json::Value {
    use std::io::{BufRead, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("the QMP socket");
    let mut lines = std::io::BufReader::new(stream.try_clone().expect("a second handle")).lines();
    let mut reply = || -> serde_json::Value {
        loop {
            let line = lines.next().expect("a line").expect("read");
            let message: serde_json::Value = serde_json::from_str(&line).expect("JSON");
            if message.get("event").is_none() {
                return message;
            }
        }
    };
    reply(); // the greeting
    for execute in ["qmp_capabilities", command] {
        writeln!(stream, "{}", serde_json::json!({ "execute": execute })).expect("write");
        let answer = reply();
        if execute == command {
            return answer;
        }
    }
    unreachable!("the loop returns at the command")
}

/// QEMU's command line for the process `pid`.
fn command_line(pid: u32) -> Vec<String> {
    let command = std::fs::read(format!("/proc/{pid}/cmdline")).expect("QEMU's command line");
    command.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

#[test]
fn a_vm_paused_outside_infra_reads_as_not_running_and_the_plan_resumes_it() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let socket = dir.path().join(".qemu/paused/qmp.sock");
    runtime().block_on(async {
        let config = idle_vm("paused", &[]);
        let created = create(&qemu, &config).await.expect("started");
        assert_eq!(qmp(&socket, "stop")["return"], serde_json::json!({}));
        let found = read(&qemu, &created).await;
        assert_eq!(text(&found, "status"), "paused", "QMP query-status");
        assert_eq!(found.get("running"), Some(&Value::bool(false)), "a paused VM is drift");
        assert_eq!(pid(&found), pid(&created), "its QEMU still runs");
        let planned = qemu.plan("vm", Some(&found), &config).expect("planned");
        assert_eq!(planned.get("running"), Some(&Value::bool(true)), "the plan starts it");
        let resumed = qemu.update("vm", &found, &planned).await.expect("resumed");
        assert_eq!(pid(&resumed), pid(&created), "resumed (QMP `cont`), not started again");
        assert_eq!(text(&resumed, "status"), "running");
        assert_eq!(qmp(&socket, "query-status")["return"]["status"], "running");
        assert_eq!(read(&qemu, &resumed).await, resumed, "nothing drifted");
        qemu.delete("vm", &resumed).await.expect("deleted");
    });
}

#[test]
fn changing_wait_for_on_a_running_vm_waits_for_nothing() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let port = ports::free_port();
    runtime().block_on(async {
        // The firmware never opens SSH: an update that waited would time out.
        let config = idle_vm("settled", &[("network", ssh_network(port))]);
        let created = create(&qemu, &config).await.expect("started");
        let waiting =
            idle_vm("settled", &[("network", ssh_network(port)), ("wait_for", s("ssh")), ("boot_timeout", s("2s"))]);
        let planned = qemu.plan("vm", Some(&created), &waiting).expect("planned");
        let updated = qemu.update("vm", &created, &planned).await.expect("no wait for a VM that runs");
        assert_eq!(pid(&updated), pid(&created));
        assert_eq!(updated.get("running"), Some(&Value::bool(true)));
        qemu.delete("vm", &updated).await.expect("deleted");
    });
}

#[test]
fn a_forwarded_port_in_use_and_a_guest_that_never_opens_ssh_are_clear_errors() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken_port = taken.local_addr().expect("address").port();
    runtime().block_on(async {
        let busy = idle_vm("busy", &[("network", ssh_network(taken_port))]);
        let planned = qemu.plan("vm", None, &busy).expect("planned");
        assert_eq!(planned.get("ssh_port"), Some(&Value::number(f64::from(taken_port))), "known when planning");
        assert_eq!(text(&planned, "ssh_host"), "127.0.0.1");
        let error = qemu.create("vm", &planned).await.expect_err("the port is taken");
        assert!(error.message.contains(&taken_port.to_string()), "{error:?}");
        assert_eq!(error.attribute.as_deref(), Some("network"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("free `host_port`")), "{error:?}");

        let free_port = ports::free_port();
        let silent = idle_vm(
            "silent",
            &[("network", ssh_network(free_port)), ("wait_for", s("ssh")), ("boot_timeout", s("3s"))],
        );
        let error = create(&qemu, &silent).await.expect_err("no SSH ever answers");
        let log = dir.path().join(".qemu/silent/console.log");
        assert!(
            error.message.contains(&format!("did not answer SSH on 127.0.0.1:{free_port} within 3 s")),
            "{error:?}"
        );
        assert!(error.message.contains(&log.display().to_string()), "the error names the console log: {error:?}");
        assert_eq!(error.attribute.as_deref(), Some("boot_timeout"));
        let stuck = qemu.plan("vm", None, &silent).expect("planned");
        qemu.delete("vm", &stuck).await.expect("the VM left running is deleted");
    });
}

/// Ctrl-C (`Provider::stop`) ends the wait for a guest to answer SSH at once, not at
/// `boot_timeout`: the VM was reported first (so the state keeps it), it is left running,
/// and it reads as not running (its boot was not seen to finish), so the next apply
/// waits again. No guest boots; the firmware waits.
#[test]
fn an_interrupted_wait_for_ssh_ends_at_once_and_the_vm_is_reported_first() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let config = idle_vm(
        "waiting",
        &[("network", ssh_network(ports::free_port())), ("wait_for", s("ssh")), ("boot_timeout", s("10m"))],
    );
    runtime().block_on(async {
        let planned = qemu.plan("vm", None, &config).expect("planned");
        let (progress, mut reports) = CreateProgress::channel();
        // Without the stop, the wait would last 10 minutes.
        let creating =
            tokio::time::timeout(std::time::Duration::from_secs(60), qemu.create_reporting("vm", &planned, &progress));
        let interrupting = async {
            reports.changed().await.expect("the VM is reported");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            qemu.stop();
            std::time::Instant::now()
        };
        let (created, stopped_at) = tokio::join!(creating, interrupting);
        assert!(stopped_at.elapsed() < std::time::Duration::from_secs(10), "{:?}", stopped_at.elapsed());
        let error = created.expect("the wait ends once stopped").expect_err("interrupted");
        assert!(
            error.message.starts_with("interrupted while waiting for VM `waiting` to answer SSH on 127.0.0.1:"),
            "{error:?}"
        );
        assert!(error.message.ends_with("it is recorded, and the next plan reads it"), "{error:?}");
        let reported = reports.borrow().clone().expect("reported");
        assert!(alive(pid(&reported)), "the VM is left running");
        let read_back = read(&qemu, &reported).await;
        assert_eq!(read_back.get("running"), Some(&Value::bool(false)), "its boot was not seen to finish");
        qemu.delete("vm", &read_back).await.expect("deleted");
        assert!(!alive(pid(&reported)));
    });
}

#[test]
fn kvm_is_used_only_where_a_test_guest_proves_it_runs_guests() {
    let _lock = one_vm_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    runtime().block_on(async {
        // Hosts differ: where the probe passes the VM runs under KVM, and where it fails
        // (as where /dev/kvm opens but guests crawl) `kvm` is refused, suggesting TCG.
        match create(&qemu, &idle_vm("kvm", &[("accel", s("kvm"))])).await {
            Ok(created) => {
                assert_eq!(text(&created, "accelerator"), "kvm");
                qemu.delete("vm", &created).await.expect("deleted");
            }
            Err(error) => {
                assert!(error.message.starts_with("KVM is not usable here: "), "{error:?}");
                assert_eq!(error.attribute.as_deref(), Some("accel"));
                assert!(error.help.as_deref().is_some_and(|h| h.contains("accel = \"tcg\"")), "{error:?}");
                assert!(!dir.path().join(".qemu/kvm/qemu.pid").exists(), "no QEMU was started");
            }
        }
    });
}

#[test]
fn bad_settings_are_refused_when_planning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    let error = qemu.plan("vm", None, &idle_vm("x", &[("cmdline", s("console=ttyS0"))])).expect_err("no kernel");
    assert_eq!(error.message, "`initrd` and `cmdline` need `kernel`");
    let error = qemu
        .plan("vm", None, &idle_vm("x", &[("wait_for", s("ssh")), ("network", Value::list(Vec::new()))]))
        .expect_err("no forward");
    assert!(error.message.contains("needs a `forward` to guest port 22"), "{error:?}");
}

#[test]
fn a_tiny_guest_boots_under_auto_answers_ssh_through_the_forward_and_is_quit_when_it_ignores_powerdown() {
    let _lock = one_vm_at_a_time();
    let guest = tiny_guest::tiny_guest();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let port = ports::free_port();
    runtime().block_on(async {
        let config = idle_vm(
            "tiny",
            &[
                ("memory", Value::number(128.0)),
                ("kernel", s(&guest.kernel.display().to_string())),
                ("initrd", s(&guest.initrd.display().to_string())),
                ("cmdline", s("console=ttyS0 quiet")),
                ("console_log", s("logs/tiny.log")),
                ("network", ssh_network(port)),
                ("accel", s("auto")),
                ("wait_for", s("ssh")),
                ("boot_timeout", s("3m")),
            ],
        );
        let created = create(&qemu, &config).await.expect("booted and answered SSH");
        // Whichever `auto` chose, the VM booted with it, and `accelerator` reports it.
        let accelerator = text(&created, "accelerator").to_string();
        let command = std::fs::read(format!("/proc/{}/cmdline", pid(&created))).expect("QEMU's command line");
        let command: Vec<String> =
            command.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let accel_at = command.iter().position(|a| a == "-accel").expect("-accel");
        assert!(command[accel_at + 1].starts_with(&accelerator), "{accelerator} vs {command:?}");
        assert!(accelerator == "kvm" || accelerator == "tcg", "{accelerator}");
        let log = std::fs::read_to_string(dir.path().join("logs/tiny.log")).expect("console log");
        assert!(log.contains(tiny_guest::MARKER), "the kernel ran the initramfs's init:\n{log}");
        // The guest answers one connection at a time (create's wait took the first), so
        // an early try may find nobody listening yet.
        let mut banner = String::new();
        for _ in 0..40 {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the forwarded port");
            std::io::Read::read_to_string(&mut stream, &mut banner).expect("banner");
            if !banner.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        assert!(banner.starts_with("SSH-2.0-infra-tiny-guest"), "{banner}");
        // The busybox init has no ACPI handling: the power button is ignored, QEMU is quit.
        qemu.delete("vm", &created).await.expect("deleted");
        assert!(!alive(pid(&created)));
        assert!(dir.path().join("logs/tiny.log").exists(), "a console log of one's own is kept");
    });
}

#[test]
fn a_qcow2_image_named_img_is_attached_as_qcow2_on_virtio_and_the_tiny_guest_boots() {
    let _lock = one_vm_at_a_time();
    let guest = tiny_guest::tiny_guest();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(dir.path().join("data.img"))
        .arg("16M")
        .status()
        .expect("qemu-img runs");
    assert!(made.success());
    runtime().block_on(async {
        let extra = [("disks", Value::list(vec![s("data.img")])), ("disk_bus", s("virtio"))];
        let config = tiny_vm(&guest, "virtio", &extra);
        let created = create(&qemu, &config).await.expect("booted and answered SSH");
        assert_eq!(created.get("disk_formats"), Some(&Value::list(vec![s("qcow2")])), "found by `qemu-img info`");
        let command = command_line(pid(&created));
        let file = dir.path().join("data.img");
        assert!(command.contains(&format!("file={},format=qcow2,if=none,id=disk0", file.display())), "{command:?}");
        assert!(command.contains(&"virtio-blk-pci,drive=disk0,serial=infra0".to_string()), "{command:?}");
        assert!(!command.iter().any(|a| a.starts_with("nvme")), "{command:?}");
        let socket = dir.path().join(".qemu/virtio/qmp.sock");
        let blocks = qmp(&socket, "query-block");
        let disk = blocks["return"].as_array().expect("a list").iter().find(|b| b["device"] == "disk0");
        assert_eq!(disk.map(|d| &d["inserted"]["drv"]), Some(&serde_json::json!("qcow2")), "{blocks}");
        qemu.delete("vm", &created).await.expect("deleted");
    });
}

/// The tiny guest with `extra` settings, waiting for SSH on a free port.
fn tiny_vm(guest: &tiny_guest::TinyGuest, name: &str, extra: &[(&str, Value)]) -> Attributes {
    let port = ports::free_port();
    let mut config = idle_vm(
        name,
        &[
            ("memory", Value::number(128.0)),
            ("kernel", s(&guest.kernel.display().to_string())),
            ("initrd", s(&guest.initrd.display().to_string())),
            ("cmdline", s("console=ttyS0")),
            ("network", ssh_network(port)),
            ("wait_for", s("ssh")),
        ],
    );
    config.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    config
}

#[test]
fn a_guest_with_too_little_memory_is_stopped_with_an_error_on_memory() {
    let _lock = one_vm_at_a_time();
    let guest = tiny_guest::tiny_guest();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    runtime().block_on(async {
        // QEMU starts 16 MiB VMs without a word; the kernel finds no room to unpack
        // itself and resets the VM, again and again, before it prints anything.
        let config = tiny_vm(&guest, "small", &[("memory", Value::number(16.0)), ("boot_timeout", s("10m"))]);
        let error = create(&qemu, &config).await.expect_err("the guest cannot start");
        assert!(error.message.contains("16 MiB of `memory` is likely too little"), "{error:?}");
        assert!(error.message.contains("printing nothing on its console"), "{error:?}");
        assert_eq!(error.attribute.as_deref(), Some("memory"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("raise `memory`")), "{error:?}");
        assert!(!dir.path().join(".qemu/small/qemu.pid").exists(), "the VM was stopped, not left to be adopted");
    });
}

#[test]
fn a_tiny_guest_that_never_opens_ssh_times_out_quoting_its_console_log() {
    let _lock = one_vm_at_a_time();
    let guest = tiny_guest::tiny_guest();
    let dir = tempfile::tempdir().expect("temp dir");
    let _leftovers = KillLeftovers(dir.path());
    let qemu = provider(dir.path());
    runtime().block_on(async {
        // The kernel boots and runs `sleep` instead of the init that answers SSH.
        let cmdline = "console=ttyS0 rdinit=/bin/busybox -- sleep 600";
        let config = tiny_vm(&guest, "mute", &[("cmdline", s(cmdline)), ("boot_timeout", s("20s"))]);
        let error = create(&qemu, &config).await.expect_err("no SSH ever answers");
        let log = dir.path().join(".qemu/mute/console.log");
        assert!(error.message.contains("did not answer SSH on 127.0.0.1:"), "{error:?}");
        assert!(error.message.contains(&format!("its console log `{}`:\n", log.display())), "{error:?}");
        assert_eq!(error.attribute.as_deref(), Some("boot_timeout"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("console log")), "{error:?}");
        let quoted = error.message.split_once(":\n").map(|(_, quoted)| quoted).unwrap_or_default();
        let written = std::fs::read_to_string(&log).expect("console log");
        assert!(!quoted.trim().is_empty(), "the kernel printed its boot: {error:?}");
        for line in quoted.lines() {
            assert!(written.lines().any(|l| l == line), "a line of the console log: {line:?}\n{written}");
        }
        let stuck = qemu.plan("vm", None, &config).expect("planned");
        qemu.delete("vm", &stuck).await.expect("the VM left running is deleted");
    });
}
