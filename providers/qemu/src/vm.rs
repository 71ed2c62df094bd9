//! `qemu.vm`: a virtual machine run by `qemu-system-x86_64`, daemonized, with its pid
//! file, QMP socket and console log in a state directory. Whether it runs is read
//! through QMP; it is stopped by asking the guest to power down, then by quitting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::{AttributeSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, kind, known, plan_attributes, whole_number, Interrupted, Stop};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use tokio::io::AsyncReadExt;

use crate::network::{self, Network};
use crate::tool::{run, tail};
use crate::{accel, disk, one_of, qmp, required_text, string, Qemu};

pub(crate) const QEMU_SYSTEM: &str = "qemu-system-x86_64";

/// The values of `disk_bus`; the first is what an unset one means (left null when
/// planning, so VMs recorded before `disk_bus` existed are not replaced).
const DISK_BUSES: [&str; 2] = ["nvme", "virtio"];

pub fn schema() -> Schema {
    let forced = |name: &str, ty: Type, description: &str| AttributeSchema::optional(name, ty, description).force_new();
    let duration = |name: &str, description: &str| string(name, description).validate(Validator::Duration);
    let mut schema = kind(
        "A virtual machine run by QEMU in the background (no daemon, no root), with user-mode networking and \
         forwarded ports, or a tap device or bridge.",
        "The VM's state directory, as configured.",
        vec![
            AttributeSchema::required("name", Type::String, "The VM's name, shown by QEMU; changing it replaces the VM.")
                .force_new()
                .validate(Validator::Regex {
                    pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$".to_string(),
                    description: "letters, digits, `.`, `_` and `-`, such as \"web-1\"".to_string(),
                }),
            forced("cpus", Type::Number, "Virtual CPUs; 1 by default.").validate(Validator::Range { min: 1, max: 64 }),
            forced("memory", Type::Number, "Memory in MiB; 512 by default.")
                .validate(Validator::Range { min: 16, max: 1_048_576 }),
            forced(
                "disks",
                Type::list(Type::String),
                "Disk image paths in order (the first is the boot disk), on the bus `disk_bus` names. Each is \
                 attached in the format `qemu-img info` finds when the VM first starts (`disk_formats`).",
            ),
            string(
                "disk_bus",
                "How the disks and the seed are attached: \"nvme\" (the default: namespaces of one NVMe controller, \
                 which Debian's cloud kernel has built in) or \"virtio\" (a virtio-blk device each, which most \
                 guests load as a module). Changing it replaces the VM.",
            )
            .force_new()
            .validate(one_of(&DISK_BUSES)),
            forced(
                "cloudinit",
                Type::String,
                "A `qemu.cloudinit` seed's path: attached after the disks, on the same bus, where cloud-init finds \
                 it early.",
            ),
            forced("kernel", Type::String, "A kernel to boot directly (no boot loader)."),
            forced("initrd", Type::String, "An initial RAM disk for `kernel`."),
            forced("cmdline", Type::String, "The kernel command line for `kernel`."),
            string("machine", "The machine type; \"q35\" by default.").force_new(),
            string(
                "accel",
                "The accelerator: \"auto\" (the default: KVM when a test guest proves it runs guests, else TCG), \
                 \"kvm\" or \"tcg\" (software emulation, slower but everywhere). `accelerator` says which one runs.",
            )
            .force_new()
            .validate(one_of(&["auto", "kvm", "tcg"])),
            AttributeSchema::optional(
                "running",
                Type::Bool,
                "Whether the VM runs; true by default. A stopped VM keeps its disks; started or stopped in place. It \
                 reads as false while the guest is paused (QMP `stop`; starting resumes it) and while a boot Infra \
                 began has not been seen to reach `wait_for` (Infra stopped meanwhile; starting waits again).",
            ),
            string(
                "state_dir",
                "The directory for the pid file, QMP socket and (by default) console log; `.qemu/NAME` under the root \
                 module's directory by default.",
            )
            .also_computed()
            .force_new(),
            string("console_log", "The file the serial console is written to; `console.log` in `state_dir` by default.")
                .also_computed()
                .force_new(),
            string(
                "wait_for",
                "What create and start wait for: \"none\" (the default) or \"ssh\": the forwarded port of guest port 22 \
                 answers with an SSH banner.",
            )
            .validate(one_of(&["none", "ssh"])),
            duration("boot_timeout", "How long to wait for `wait_for`; \"5m\" by default."),
            duration(
                "shutdown_timeout",
                "How long the guest gets to power down before QEMU is quit; \"30s\" by default.",
            ),
            AttributeSchema::computed(
                "disk_formats",
                Type::list(Type::String),
                "The format each of `disks` is attached in (\"qcow2\", \"raw\", ...), as `qemu-img info` found it \
                 when the VM first started, and kept: never probed again, since a guest can write anything to a raw \
                 disk, a qcow2 header included.",
            ),
            AttributeSchema::computed("pid", Type::Number, "The QEMU process's id while it runs; 0 when stopped."),
            AttributeSchema::computed("qmp_socket", Type::String, "The QMP socket's path."),
            AttributeSchema::computed(
                "accelerator",
                Type::String,
                "The accelerator the running VM uses, as QMP `query-kvm` reports it: \"kvm\" or \"tcg\"; null when \
                 stopped.",
            ),
            AttributeSchema::computed(
                "status",
                Type::String,
                "What QMP `query-status` says (`running`, `paused`, `shutdown`, ...), or `stopped`.",
            ),
            AttributeSchema::computed(
                "ssh_host",
                Type::String,
                "The host address forwarded to guest port 22, for an `ssh` provider block; null without one.",
            ),
            AttributeSchema::computed(
                "ssh_port",
                Type::Number,
                "The host port forwarded to guest port 22, for an `ssh` provider block; null without one.",
            ),
        ],
    );
    schema.blocks = vec![network::block()];
    schema
}

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    let set = |name: &str| !attribute(config, name).is_null();
    if (set("initrd") || set("cmdline")) && !set("kernel") {
        errors.push(
            ProviderError::new("`initrd` and `cmdline` need `kernel`")
                .on_attribute(if set("initrd") { "initrd" } else { "cmdline" })
                .with_help("set `kernel` to boot a kernel directly, or boot from `disks`"),
        );
    }
    let Some(networks) = network::networks(config) else { return errors };
    errors.extend(network::validate(&networks));
    let waits_for_ssh = known(config, "wait_for").and_then(Value::as_str) == Some("ssh");
    if waits_for_ssh && network::ssh_forward(&networks).is_none() {
        errors.push(
            ProviderError::new("`wait_for = \"ssh\"` needs a `forward` to guest port 22")
                .on_attribute("wait_for")
                .with_help("add `network { forward { host_port = 2222, guest_port = 22 } }`"),
        );
    }
    errors
}

/// The default state directory, `.qemu/NAME`.
fn default_state_dir(name: &str) -> String {
    format!(".qemu/{name}")
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
    let mut config = config.clone();
    if let Some(name) = known(&config, "name").and_then(Value::as_str).map(str::to_string) {
        let state_dir = default_state_dir(&name);
        let state_dir = known(&config, "state_dir").and_then(Value::as_str).map_or(state_dir, str::to_string);
        config.insert("state_dir".to_string(), Value::string(state_dir.clone()));
        if attribute(&config, "console_log").is_null() {
            config.insert("console_log".to_string(), Value::string(format!("{state_dir}/console.log")));
        }
    }
    let defaults = [
        ("cpus", Value::number(1.0)),
        ("memory", Value::number(512.0)),
        ("machine", Value::string("q35")),
        ("accel", Value::string("auto")),
        ("running", Value::bool(true)),
        ("wait_for", Value::string("none")),
        ("boot_timeout", Value::string("5m")),
        ("shutdown_timeout", Value::string("30s")),
    ];
    let mut planned = plan_attributes(schema, prior, &config, &defaults);
    planned.insert("network".to_string(), attribute(&config, "network").clone());
    if let Some(networks) = network::networks(&config) {
        let (host, port) = network::ssh_forward(&networks).map_or((Value::null(), Value::null()), |f| {
            (Value::string(f.host_address.clone()), Value::number(f64::from(f.host_port)))
        });
        planned.insert("ssh_host".to_string(), host);
        planned.insert("ssh_port".to_string(), port);
    }
    if let Some(state_dir) = known(&planned, "state_dir").and_then(Value::as_str) {
        planned.insert("qmp_socket".to_string(), Value::string(format!("{state_dir}/qmp.sock")));
    }
    let running = attribute(&planned, "running").as_bool().unwrap_or(true);
    let changed = prior.is_none_or(|prior| {
        attribute(prior, "running").as_bool() != Some(running) || (running && restarts(prior, &planned))
    });
    if changed {
        planned.insert("pid".to_string(), Value::unknown(Type::Number));
        planned.insert("status".to_string(), Value::unknown(Type::String));
        planned.insert("accelerator".to_string(), Value::unknown(Type::String));
        let no_disks = attribute(&planned, "disks").as_list().is_some_and(|d| d.is_empty())
            || attribute(&planned, "disks").is_null();
        if running && attribute(&planned, "disk_formats").is_null() && !no_disks {
            planned.insert("disk_formats".to_string(), Value::unknown(Type::list(Type::String)));
        }
    }
    Ok(planned)
}

/// The files of a VM's state directory.
struct Paths {
    state_dir: PathBuf,
    pid_file: PathBuf,
    qmp_socket: PathBuf,
    console_log: PathBuf,
    /// Exists from the moment Infra starts QEMU until it has seen the boot reach
    /// `wait_for`: while it exists the VM reads as not running, so a run of Infra that
    /// stopped during the boot is followed by one that waits for it.
    booting: PathBuf,
}

fn paths(qemu: &Qemu, attributes: &Attributes) -> ProviderResult<Paths> {
    let name = required_text(attributes, "name")?;
    let state_dir =
        attribute(attributes, "state_dir").as_str().map_or_else(|| default_state_dir(&name), str::to_string);
    let state_dir = absolute(&qemu.resolve(&state_dir));
    let console_log = attribute(attributes, "console_log")
        .as_str()
        .map_or_else(|| state_dir.join("console.log"), |log| absolute(&qemu.resolve(log)));
    Ok(Paths {
        pid_file: state_dir.join("qemu.pid"),
        qmp_socket: state_dir.join("qmp.sock"),
        booting: state_dir.join("booting"),
        console_log,
        state_dir,
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The pid of the VM's QEMU while it runs: its pid file names a live QEMU process.
fn live_pid(paths: &Paths) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(&paths.pid_file).ok()?.trim().parse().ok()?;
    runs_vm(pid, paths).then_some(pid)
}

/// Whether `pid` is the VM's QEMU and has not yet exited. Waiting for a stop asks this
/// of the pid, never of the pid file: QEMU deletes its pid file as it begins to exit,
/// while it still holds the disks.
fn runs_vm(pid: u32, paths: &Paths) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|command| {
        let command = String::from_utf8_lossy(&command);
        command.contains("qemu-system") && command.contains(&*paths.qmp_socket.to_string_lossy())
    })
}

/// What a VM's QEMU says about it.
struct Observed {
    /// 0 when no QEMU runs for the VM.
    pid: u32,
    /// Whether the guest runs as Infra left it: QEMU runs, the guest is not paused, and
    /// the boot Infra began was seen to finish.
    running: bool,
    /// What QMP `query-status` says, or `stopped` when no QEMU runs for the VM.
    status: String,
    /// `kvm` or `tcg`, as QMP `query-kvm` says; `None` when no QEMU runs or QMP does not answer.
    accelerator: Option<&'static str>,
}

async fn status(paths: &Paths) -> Observed {
    let Some(pid) = live_pid(paths) else {
        return Observed { pid: 0, running: false, status: "stopped".to_string(), accelerator: None };
    };
    let status = query_status(paths).await;
    // A VM whose QMP does not answer may well run; starting it again would not help.
    let running = matches!(status.as_str(), "running" | "unresponsive") && !paths.booting.exists();
    let accelerator = qmp::call(&paths.qmp_socket, "query-kvm").await.ok().map(|reply| {
        if reply.get("enabled").and_then(|e| e.as_bool()) == Some(true) {
            "kvm"
        } else {
            "tcg"
        }
    });
    Observed { pid, running, status, accelerator }
}

/// What QMP `query-status` says of a VM whose QEMU runs: `running`, `paused`, ...; or
/// `unresponsive`.
async fn query_status(paths: &Paths) -> String {
    match qmp::call(&paths.qmp_socket, "query-status").await {
        Ok(reply) => reply.get("status").and_then(|s| s.as_str()).unwrap_or("unknown").to_string(),
        Err(_) => "unresponsive".to_string(),
    }
}

fn number(attributes: &Attributes, name: &str, default: i64) -> ProviderResult<i64> {
    Ok(whole_number(attributes, name)?.unwrap_or(default))
}

/// QEMU's command line for the VM, under the accelerator `accel` (`kvm` or `tcg`).
fn arguments(qemu: &Qemu, attributes: &Attributes, paths: &Paths, accel: &str) -> ProviderResult<Vec<String>> {
    let cpus = number(attributes, "cpus", 1)?;
    let machine = attribute(attributes, "machine").as_str().unwrap_or("q35");
    let accel = if accel == "tcg" && cpus > 1 { "tcg,thread=multi".to_string() } else { accel.to_string() };
    let path = |p: &str| absolute(&qemu.resolve(p)).display().to_string();
    let mut args: Vec<String> = vec![
        "-name".into(),
        required_text(attributes, "name")?,
        "-machine".into(),
        machine.into(),
        "-accel".into(),
        accel,
        "-smp".into(),
        cpus.to_string(),
        "-m".into(),
        number(attributes, "memory", 512)?.to_string(),
        "-display".into(),
        "none".into(),
        "-monitor".into(),
        "none".into(),
        "-serial".into(),
        format!("file:{}", paths.console_log.display()),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", paths.qmp_socket.display()),
        "-pidfile".into(),
        paths.pid_file.display().to_string(),
        "-daemonize".into(),
    ];
    for name in ["kernel", "initrd"] {
        if let Some(file) = attribute(attributes, name).as_str() {
            args.extend([format!("-{name}"), path(file)]);
        }
    }
    if let Some(cmdline) = attribute(attributes, "cmdline").as_str() {
        args.extend(["-append".into(), cmdline.into()]);
    }
    args.extend(disk_arguments(attributes, &path));
    args.extend(network::arguments(&required_text(attributes, "name")?, &configured_networks(attributes)));
    Ok(args)
}

/// The paths in `disks`, as configured.
fn disk_paths(attributes: &Attributes) -> Vec<&str> {
    attribute(attributes, "disks").as_list().unwrap_or_default().iter().filter_map(Value::as_str).collect()
}

/// The disks, then the seed, on the bus `disk_bus` names: on NVMe, namespaces of one
/// controller (the cloud kernel has NVMe built in, so the seed is there before cloud-init
/// looks for it); on virtio, a virtio-blk device each. Each disk in the format recorded
/// in `disk_formats`, the seed raw: QEMU is never left to guess.
fn disk_arguments(attributes: &Attributes, path: &dyn Fn(&str) -> String) -> Vec<String> {
    let formats = attribute(attributes, "disk_formats").as_list().unwrap_or_default();
    let format_of = |index: usize| formats.get(index).and_then(Value::as_str).unwrap_or("raw");
    let mut drives: Vec<(String, &str)> =
        disk_paths(attributes).iter().enumerate().map(|(index, d)| (path(d), format_of(index))).collect();
    if let Some(seed) = attribute(attributes, "cloudinit").as_str() {
        drives.push((path(seed), "raw"));
    }
    if drives.is_empty() {
        return Vec::new();
    }
    let virtio = attribute(attributes, "disk_bus").as_str() == Some("virtio");
    let mut args = Vec::new();
    if !virtio {
        args.extend(["-device".to_string(), "nvme,id=nvme0,serial=infra0".to_string()]);
    }
    for (index, (file, format)) in drives.iter().enumerate() {
        let id = format!("disk{index}");
        let device = if virtio {
            format!("virtio-blk-pci,drive={id},serial=infra{index}")
        } else {
            format!("nvme-ns,drive={id},bus=nvme0,nsid={}", index + 1)
        };
        args.extend([
            "-drive".to_string(),
            format!("file={file},format={format},if=none,id={id}"),
            "-device".to_string(),
            device,
        ]);
    }
    args
}

/// `attributes` with `disk_formats`: as recorded, or, for a VM starting for the first
/// time, as `qemu-img info` finds each disk (an image's name says nothing of its format).
async fn with_disk_formats(qemu: &Qemu, mut attributes: Attributes) -> ProviderResult<Attributes> {
    let disks: Vec<String> = disk_paths(&attributes).into_iter().map(str::to_string).collect();
    if disks.is_empty() {
        // Null, as `disks` is when unset.
        attributes.insert("disk_formats".to_string(), Value::null());
        return Ok(attributes);
    }
    let recorded = attribute(&attributes, "disk_formats");
    if recorded.is_wholly_known() && recorded.as_list().map(|l| l.len()) == Some(disks.len()) {
        return Ok(attributes);
    }
    let mut formats = Vec::new();
    for disk in &disks {
        let format = disk::format(&qemu.resolve(disk)).await.map_err(|e| e.on_attribute("disks"))?;
        formats.push(Value::string(format));
    }
    attributes.insert("disk_formats".to_string(), Value::list(formats));
    Ok(attributes)
}

/// Starts the VM and waits for `wait_for`: [`run_qemu`], then [`report_and_wait`].
async fn start(qemu: &Qemu, attributes: &Attributes, paths: &Paths, progress: &CreateProgress) -> ProviderResult<()> {
    let waits = run_qemu(qemu, attributes, paths).await?;
    report_and_wait(qemu, attributes, paths, progress, waits).await
}

/// Makes sure the VM's QEMU runs; whether its boot is still to be waited for. A QEMU
/// that already runs for the VM is adopted, never a second started: one a run of Infra
/// left while it booted (it was killed) is waited for as a fresh one is, and one paused
/// outside Infra is resumed, then waited for. One that runs and was seen to boot is left
/// alone.
async fn run_qemu(qemu: &Qemu, attributes: &Attributes, paths: &Paths) -> ProviderResult<bool> {
    if live_pid(paths).is_some() {
        return Ok(resume(paths).await? || paths.booting.exists());
    }
    launch(qemu, attributes, paths).await?;
    Ok(true)
}

/// `progress` hears of the VM, whose QEMU runs, then its boot is waited for (`waits`).
async fn report_and_wait(
    qemu: &Qemu,
    attributes: &Attributes,
    paths: &Paths,
    progress: &CreateProgress,
    waits: bool,
) -> ProviderResult<()> {
    let mut launched = observed(attributes.clone(), paths).await;
    launched.insert("id".to_string(), attribute(attributes, "state_dir").clone());
    progress.exists(launched);
    if waits {
        wait_for(attributes, paths, &qemu.stop).await?;
    }
    let _ = std::fs::remove_file(&paths.booting);
    Ok(())
}

/// Starts the VM's QEMU, marking the boot as one not yet seen to finish.
async fn launch(qemu: &Qemu, attributes: &Attributes, paths: &Paths) -> ProviderResult<()> {
    for (dir, attribute) in
        [(Some(paths.state_dir.as_path()), "state_dir"), (paths.console_log.parent(), "console_log")]
    {
        let Some(dir) = dir else { continue };
        std::fs::create_dir_all(dir)
            .map_err(|e| ProviderError::new(format!("making `{}`: {e}", dir.display())).on_attribute(attribute))?;
    }
    let _ = std::fs::remove_file(&paths.qmp_socket);
    let accel = accel::choose(attribute(attributes, "accel").as_str().unwrap_or("auto")).await?;
    let args = arguments(qemu, attributes, paths, accel)?;
    std::fs::write(&paths.booting, b"").map_err(|e| {
        ProviderError::new(format!("writing `{}`: {e}", paths.booting.display())).on_attribute("state_dir")
    })?;
    let started = run(QEMU_SYSTEM, &args, "starting the VM").await.map_err(explain_start_failure);
    if started.is_err() {
        let _ = std::fs::remove_file(&paths.booting);
    }
    started.map(drop)
}

/// What a create made for its VM before QEMU ran: the files of the state directory and
/// the console log, and the directories holding them, that did not exist when the create
/// began. A create whose QEMU does not start (nothing was reported to the engine, so
/// nothing is recorded and no destroy would ever look) removes exactly these, so the
/// next create starts from what was there before it: a directory that existed is kept,
/// with whatever else is in it, and one that holds anything else by then is kept too.
struct MadeByCreate {
    files: Vec<PathBuf>,
    /// Deepest first, so that each is empty (if nothing else is in it) when removed.
    directories: Vec<PathBuf>,
}

impl MadeByCreate {
    /// What is missing now, before the create makes anything.
    fn missing_before(paths: &Paths) -> MadeByCreate {
        let absent = |path: &Path| std::fs::symlink_metadata(path).is_err();
        let files = [&paths.pid_file, &paths.qmp_socket, &paths.booting, &paths.console_log];
        let mut directories: Vec<PathBuf> = Vec::new();
        for directory in [Some(paths.state_dir.as_path()), paths.console_log.parent()].into_iter().flatten() {
            for missing in directory.ancestors().take_while(|d| absent(d)) {
                if !directories.iter().any(|d| d == missing) {
                    directories.push(missing.to_path_buf());
                }
            }
        }
        directories.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        MadeByCreate { files: files.into_iter().filter(|f| absent(f)).cloned().collect(), directories }
    }

    /// Removes what the create made, unless a QEMU runs for the VM after all: its pid
    /// file and socket are then how the next create finds and adopts it.
    fn remove(&self, paths: &Paths) {
        if live_pid(paths).is_some() {
            return;
        }
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        for directory in &self.directories {
            // Never a directory with anything in it.
            let _ = std::fs::remove_dir(directory);
        }
    }
}

/// Resumes a VM whose QEMU runs but whose guest does not: paused outside Infra (QMP
/// `stop`). A guest that cannot simply go on (it panicked, or QEMU stopped it on an
/// error) is an error that says how to start it afresh. Whether it was resumed.
async fn resume(paths: &Paths) -> ProviderResult<bool> {
    let status = query_status(paths).await;
    if matches!(status.as_str(), "running" | "unresponsive") {
        return Ok(false);
    }
    qmp::call(&paths.qmp_socket, "cont").await.map(|_| true).map_err(|error| {
        ProviderError::new(format!("the VM is `{status}` and cannot be resumed: {}", error.message))
            .on_attribute("running")
            .with_help("stop it (`running = false`) and apply, then start it again; or replace it")
    })
}

/// A clearer hint for the failures people meet most.
fn explain_start_failure(error: ProviderError) -> ProviderError {
    let help = if error.message.contains("hostfwd") || error.message.contains("Could not set up host forwarding") {
        Some(("network", "another program uses that port; pick a free `host_port`"))
    } else if error.message.contains("ram size") || error.message.contains("cannot set up guest memory") {
        Some(("memory", "this machine cannot give the VM that much memory; lower `memory`"))
    } else {
        None
    };
    match help {
        Some((attribute, help)) => error.on_attribute(attribute).with_help(help),
        None => error.with_help("QEMU says above why it did not start; change that setting and apply again"),
    }
}

fn timeout(attributes: &Attributes, name: &str, default: u64) -> Duration {
    attribute(attributes, name)
        .as_str()
        .and_then(|text| parse_duration(text).ok())
        .map_or(Duration::from_secs(default), |d| Duration::from_secs_f64(d.as_secs_f64()))
}

/// Resets before SSH answers that make a guest one that cannot start: a guest that
/// reboots once on purpose (as after installing a kernel) stays well below it.
const RESETS_OF_A_GUEST_THAT_CANNOT_START: usize = 3;

/// Waits for `wait_for` (an SSH banner on the forwarded port), up to `boot_timeout`, or
/// until the run is interrupted: then it ends at once, leaving the VM running and its
/// `booting` file in place, so the VM reads as not running until a later start has seen
/// it boot (the next apply waits again).
async fn wait_for(attributes: &Attributes, paths: &Paths, stop: &Stop) -> ProviderResult<()> {
    if attribute(attributes, "wait_for").as_str() != Some("ssh") {
        return Ok(());
    }
    let networks = configured_networks(attributes);
    let Some(forward) = network::ssh_forward(&networks) else { return Ok(()) };
    let limit = timeout(attributes, "boot_timeout", 300);
    let deadline = tokio::time::Instant::now() + limit;
    let address = format!("{}:{}", forward.host_address, forward.host_port);
    let name = attribute(attributes, "name").as_str().unwrap_or_default();
    let waiting_for = format!("VM `{name}` to answer SSH on {address}");
    let interrupted = |_| Interrupted::new(&waiting_for, "running, its guest not answering SSH yet");
    let resets = qmp::ResetCounter::start(&paths.qmp_socket).await;
    while tokio::time::Instant::now() < deadline {
        if stop.unless_stopped(ssh_banner(&address)).await.map_err(interrupted)? {
            return Ok(());
        }
        if live_pid(paths).is_none() {
            break;
        }
        let reset = resets.as_ref().map_or(0, qmp::ResetCounter::resets);
        if reset >= RESETS_OF_A_GUEST_THAT_CANNOT_START {
            // It never boots as configured; left running, it would be adopted by the
            // next apply even with more memory.
            let error = resetting(attributes, paths, reset);
            drop(resets);
            stop_within(paths, Duration::ZERO).await;
            return Err(error);
        }
        stop.sleep(Duration::from_millis(500)).await.map_err(interrupted)?;
    }
    let log = std::fs::read_to_string(&paths.console_log).unwrap_or_default();
    Err(ProviderError::new(format!(
        "the VM did not answer SSH on {address} within {} s; the end of its console log `{}`:\n{}",
        limit.as_secs(),
        paths.console_log.display(),
        tail(&log)
    ))
    .on_attribute("boot_timeout")
    .with_help("read the console log for why it did not boot; a longer `boot_timeout` helps a slow guest"))
}

/// The error for a guest that resets again and again while it boots. With nothing on
/// its console it most likely has too little memory to start; QEMU itself says nothing.
fn resetting(attributes: &Attributes, paths: &Paths, resets: usize) -> ProviderError {
    let log = std::fs::read_to_string(&paths.console_log).unwrap_or_default();
    let memory = number(attributes, "memory", 512).unwrap_or(512);
    let what = format!("the guest reset {resets} times while it booted");
    if log.trim().is_empty() {
        return ProviderError::new(format!(
            "{what}, printing nothing on its console (`{}`): {memory} MiB of `memory` is likely too little for it \
             to start",
            paths.console_log.display()
        ))
        .on_attribute("memory")
        .with_help("raise `memory` (a Linux guest needs room to unpack its kernel; most want 256 MiB or more)");
    }
    ProviderError::new(format!("{what}; the end of its console log `{}`:\n{}", paths.console_log.display(), tail(&log)))
        .on_attribute("boot_timeout")
        .with_help("read the console log for why it restarts; with little `memory`, raise it")
}

/// Whether `address` answers with an SSH banner within a few seconds.
async fn ssh_banner(address: &str) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        let mut buffer = [0u8; 4];
        stream.read_exact(&mut buffer).await.ok()?;
        (&buffer == b"SSH-").then_some(())
    };
    matches!(tokio::time::timeout(Duration::from_secs(5), attempt).await, Ok(Some(())))
}

/// Stops the VM: the guest is asked to power down, then QEMU is quit, then killed.
async fn stop(attributes: &Attributes, paths: &Paths) -> ProviderResult<()> {
    stop_within(paths, timeout(attributes, "shutdown_timeout", 30)).await;
    Ok(())
}

/// Stops the VM, giving the guest `shutdown_timeout` to power down.
///
/// Its waits are not ended by an interruption (Ctrl-C): they are bounded (the guest's
/// `shutdown_timeout`, then 10 s for `quit` and 10 s for a kill), and ended early they
/// would leave a QEMU behind that is still powering down, with its pid file and socket
/// removed or not, for the next run to find half stopped.
async fn stop_within(paths: &Paths, shutdown_timeout: Duration) {
    if let Some(pid) = live_pid(paths) {
        if !shutdown_timeout.is_zero() {
            let _ = qmp::call(&paths.qmp_socket, "system_powerdown").await;
            gone_within(pid, paths, shutdown_timeout).await;
        }
        if runs_vm(pid, paths) {
            let _ = qmp::call(&paths.qmp_socket, "quit").await;
            gone_within(pid, paths, Duration::from_secs(10)).await;
        }
        if runs_vm(pid, paths) {
            let _ = run("kill", ["-9", &pid.to_string()], "killing QEMU").await;
            // The disks stay locked until the process has ended.
            gone_within(pid, paths, Duration::from_secs(10)).await;
        }
    }
    let _ = std::fs::remove_file(&paths.pid_file);
    let _ = std::fs::remove_file(&paths.qmp_socket);
    let _ = std::fs::remove_file(&paths.booting);
}

/// Waits until the VM's QEMU `pid` has exited, at most `limit`.
async fn gone_within(pid: u32, paths: &Paths, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while runs_vm(pid, paths) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `attributes` with the VM's process and status as they are now.
async fn observed(mut attributes: Attributes, paths: &Paths) -> Attributes {
    let observed = status(paths).await;
    attributes.insert("pid".to_string(), Value::number(f64::from(observed.pid)));
    attributes.insert("running".to_string(), Value::bool(observed.running));
    attributes.insert("status".to_string(), Value::string(observed.status));
    attributes.insert("accelerator".to_string(), observed.accelerator.map_or_else(Value::null, Value::string));
    attributes
}

pub async fn create(qemu: &Qemu, planned: &Attributes, progress: &CreateProgress) -> ProviderResult<Attributes> {
    let paths = paths(qemu, planned)?;
    let mut planned = planned.clone();
    if attribute(&planned, "running").as_bool().unwrap_or(true) {
        planned = with_disk_formats(qemu, planned).await?;
        let made = MadeByCreate::missing_before(&paths);
        let waits = run_qemu(qemu, &planned, &paths).await.inspect_err(|_| made.remove(&paths))?;
        // Reported from here on: a failure after this leaves the VM recorded, for the
        // next apply to start again or a destroy to remove.
        report_and_wait(qemu, &planned, &paths, progress, waits).await?;
    } else if !attribute(&planned, "disk_formats").is_known() {
        // Found when the VM first starts.
        planned.insert("disk_formats".to_string(), Value::null());
    }
    let planned = &planned;
    let mut created = observed(planned.clone(), &paths).await;
    created.insert("id".to_string(), attribute(planned, "state_dir").clone());
    if attribute(planned, "running").as_bool() == Some(false) {
        created.insert("running".to_string(), Value::bool(false));
    }
    Ok(created)
}

pub async fn read(qemu: &Qemu, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let paths = paths(qemu, current)?;
    Ok(Some(observed(current.clone(), &paths).await))
}

/// Whether an update from `prior` restarts the VM: QEMU takes its network cards and
/// forwarded ports when it starts.
fn restarts(prior: &Attributes, planned: &Attributes) -> bool {
    network::networks(planned).is_some_and(|planned| Some(planned) != network::networks(prior))
}

/// The networks of a VM whose attributes are all known (as when it is made).
fn configured_networks(attributes: &Attributes) -> Vec<Network> {
    network::networks(attributes).unwrap_or_default()
}

pub async fn update(qemu: &Qemu, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let paths = paths(qemu, planned)?;
    if restarts(prior, planned) {
        stop(prior, &paths).await?;
    }
    let mut planned = planned.clone();
    if attribute(&planned, "running").as_bool().unwrap_or(true) {
        planned = with_disk_formats(qemu, planned).await?;
        start(qemu, &planned, &paths, &CreateProgress::ignored()).await?;
    } else {
        stop(&planned, &paths).await?;
    }
    Ok(observed(planned, &paths).await)
}

pub async fn delete(qemu: &Qemu, current: &Attributes) -> ProviderResult<()> {
    let paths = paths(qemu, current)?;
    stop(current, &paths).await?;
    let _ = std::fs::remove_file(paths.state_dir.join("console.log"));
    let _ = std::fs::remove_dir(&paths.state_dir);
    Ok(())
}
