//! A real Debian 12 (bookworm) server for tests, with systemd as PID 1: packages,
//! services and users are changed there, never on the machine the tests run on.
//!
//! The root file system is made once with `mmdebstrap` into a cache outside the clone
//! (`$INFRA_TEST_CACHE`, by default `~/.cache/infra-tests`, as `debian-bookworm/`) and
//! made again when missing; `systemd-nspawn --volatile=overlay` boots it with every write
//! going to a tmpfs that vanishes when the container stops, so each container starts
//! from the same clean system. It shares this machine's network: its sshd listens on a
//! free port of 127.0.0.1 and lets root in with a key made for this run. A local apt
//! repository in it (`/srv/infra-test-repo`) offers `infra-test-a`, `-b` and `-c` at
//! versions 1.0 and 2.0, for pinning and upgrades that do not depend on the mirror.
//! See "A real Debian server with systemd" in the services notes for the measurements.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// The packages the root file system is made with.
const INCLUDE: &str = "openssh-server,systemd,systemd-sysv,dbus,iproute2,sudo,ca-certificates";

pub struct Debian {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The client's private key, in OpenSSH form.
    pub private_key: String,
}

/// The cache directory: `$INFRA_TEST_CACHE`, or `~/.cache/infra-tests`.
fn cache_dir() -> PathBuf {
    match std::env::var_os("INFRA_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/infra-tests"),
    }
}

/// The root file system, made when missing. A lock file keeps two test binaries from
/// making it at once; it is made beside its final place and renamed there when whole.
pub fn rootfs() -> PathBuf {
    let cache = cache_dir();
    let rootfs = cache.join("debian-bookworm");
    if rootfs.join("etc/os-release").exists() {
        return rootfs;
    }
    std::fs::create_dir_all(&cache).expect("cache directory");
    let lock = std::fs::File::create(cache.join("debian-bookworm.lock")).expect("lock file");
    lock.lock().expect("lock the cache");
    if rootfs.join("etc/os-release").exists() {
        return rootfs;
    }
    for tool in ["mmdebstrap", "systemd-nspawn"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().expect("sh runs");
        assert!(
            found.status.success(),
            "`{tool}` is missing: apt-get install -y mmdebstrap systemd-container (see .ci/run)"
        );
    }
    let building = cache.join(format!("debian-bookworm.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let made = Command::new("mmdebstrap")
        .args(["--quiet", "--variant=minbase", &format!("--include={INCLUDE}"), "bookworm"])
        .arg(&building)
        .stdout(Stdio::null())
        .output()
        .expect("mmdebstrap runs");
    assert!(made.status.success(), "mmdebstrap failed:\n{}", String::from_utf8_lossy(&made.stderr));
    prepare(&building);
    std::fs::rename(&building, &rootfs).expect("rename the new root file system into place");
    rootfs
}

/// What every container needs of the root file system: no apt timers holding the dpkg
/// lock during a test, and root's `.ssh` for the key bound in at boot.
fn prepare(rootfs: &Path) {
    for timer in ["apt-daily.timer", "apt-daily-upgrade.timer"] {
        let link = rootfs.join("etc/systemd/system").join(timer);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/dev/null", link).expect("mask a timer");
    }
    let ssh = rootfs.join("root/.ssh");
    std::fs::create_dir_all(&ssh).expect("root's .ssh");
    std::fs::write(ssh.join("authorized_keys"), "").expect("authorized_keys");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).expect("chmod .ssh");
}

impl Debian {
    /// Boots a container from the cached root file system and waits until root can log
    /// in over SSH and the test repository is ready.
    pub fn start() -> Debian {
        let rootfs = rootfs();
        let dir = tempfile::tempdir().expect("temporary directory");
        keygen(&dir.path().join("client_key"));
        let port = ports::free_port();
        let config = dir.path().join("sshd.conf");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 MaxSessions 100\nMaxStartups 100\n"
            ),
        )
        .expect("sshd configuration");
        let log = std::fs::File::create(dir.path().join("console.log")).expect("console log");
        let bind = |from: &str, to: &str| format!("--bind-ro={}:{to}", dir.path().join(from).display());
        let child = Command::new("systemd-nspawn")
            .args(["--quiet", "--boot", "--register=no", "--keep-unit", "--volatile=overlay", "--console=passive"])
            .arg("-D")
            .arg(&rootfs)
            .arg(bind("sshd.conf", "/etc/ssh/sshd_config.d/infra-test.conf"))
            .arg(bind("client_key.pub", "/root/.ssh/authorized_keys"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("systemd-nspawn runs");
        let private_key = std::fs::read_to_string(dir.path().join("client_key")).expect("key");
        let debian = Debian { child, dir, port, private_key };
        debian.wait_ready();
        debian.sh(SETUP);
        debian
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            if self.run("true").status.success() {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "the Debian container did not answer:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What the container printed on its console.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("console.log")).unwrap_or_default()
    }

    /// Runs `script` as root in the container with OpenSSH's client.
    pub fn run(&self, script: &str) -> Output {
        self.run_as("root", &self.dir.path().join("client_key"), script)
    }

    /// Runs `script` in the container as `user`, logging in with the private key at `key`.
    pub fn run_as(&self, user: &str, key: &Path, script: &str) -> Output {
        Command::new("ssh")
            .args(["-q", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "ConnectTimeout=5", "-i"])
            .arg(key)
            .args(["-p", &self.port.to_string(), &format!("{user}@127.0.0.1"), script])
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs (openssh-client)")
    }

    /// A new key pair in the harness's directory: the private key's path and the public
    /// key line.
    pub fn new_key(&self, name: &str) -> (PathBuf, String) {
        let path = self.dir.path().join(name);
        keygen(&path);
        let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
        (path, public.trim().to_string())
    }

    /// Runs `script`, which must succeed; returns its standard output, trimmed.
    #[track_caller]
    pub fn sh(&self, script: &str) -> String {
        let output = self.run(script);
        assert!(
            output.status.success(),
            "`{script}` failed in the container:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Whether `script` succeeds in the container.
    pub fn succeeds(&self, script: &str) -> bool {
        self.run(script).status.success()
    }

    /// The provider block that logs in to the container as root, its host key trusted on
    /// first use.
    pub fn provider_block(&self) -> String {
        format!(
            "provider ssh {{\n  host        = \"127.0.0.1\"\n  port        = {}\n  user        = \"root\"\n  private_key = file(\"{}\")\n}}\n",
            self.port,
            self.dir.path().join("client_key").display(),
        )
    }
}

/// Run in each new container: the local apt repository with two versions of three
/// packages (each installs `/usr/share/NAME/version`), listed for apt. The index is not
/// refreshed here: that is the provider's job (`cache_valid`).
const SETUP: &str = r#"set -e
repo=/srv/infra-test-repo
mkdir -p $repo
cd $repo
for name in infra-test-a infra-test-b infra-test-c; do
  for version in 1.0 2.0; do
    d=$(mktemp -d)
    mkdir -p $d/DEBIAN $d/usr/share/$name
    printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Infra tests <tests@example.invalid>\nDescription: a package for Infra tests\n' $name $version > $d/DEBIAN/control
    echo $version > $d/usr/share/$name/version
    dpkg-deb -Zgzip --root-owner-group --build $d ${name}_${version}_all.deb >/dev/null
    rm -rf $d
  done
done
: > Packages
for deb in *.deb; do
  dpkg-deb -f $deb >> Packages
  printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' $deb $(stat -c %s $deb) $(sha256sum $deb | cut -d' ' -f1) >> Packages
done
echo "deb [trusted=yes] file:$repo ./" > /etc/apt/sources.list.d/infra-test.list
"#;

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "infra-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

impl Drop for Debian {
    /// SIGTERM to systemd-nspawn shuts the container down cleanly (SIGKILL would orphan
    /// it, its sshd still answering).
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
