//! A real OpenSSH server for tests: `/usr/sbin/sshd` in the foreground on a free port
//! of 127.0.0.1, with its own configuration, a fresh host key and a fresh client key in
//! a temporary directory; killed (and waited for) when dropped. It logs in the user the
//! tests run as (root in CI) with the client key only.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

pub struct Sshd {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The user the server logs in.
    pub user: String,
    /// The client's private key, in OpenSSH form.
    pub private_key: String,
    /// The server's public host key line (`ssh-ed25519 AAAA...`).
    pub host_key: String,
}

const SSHD: &str = "/usr/sbin/sshd";

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::start_with("")
    }

    /// A server with `extra` lines added to its configuration.
    pub fn start_with(extra: &str) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: apt-get install -y --no-install-recommends openssh-server"
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("client_key"));
        std::fs::copy(dir.path().join("client_key.pub"), dir.path().join("authorized_keys")).expect("authorized_keys");
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = ports::free_port();
        let config = dir.path().join("sshd_config");
        let d = dir.path().display();
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 MaxSessions 100\nMaxStartups 100\nLogLevel ERROR\n{extra}"
            ),
        )
        .expect("sshd_config");
        let child = spawn(dir.path());
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("key file");
        let sshd = Sshd {
            child,
            port,
            user: current_user(),
            private_key: read("client_key"),
            host_key: read("host_key.pub").trim().to_string(),
            dir,
        };
        sshd.wait_ready();
        sshd
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while !self.ready() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "sshd did not start on port {}: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and starts it again on the same port with a new host key, as a
    /// rebuilt server (or one impersonating it) would present.
    pub fn restart_with_new_host_key(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for name in ["host_key", "host_key.pub"] {
            let _ = std::fs::remove_file(self.dir.path().join(name));
        }
        keygen(&self.dir.path().join("host_key"));
        self.host_key = std::fs::read_to_string(self.dir.path().join("host_key.pub")).expect("key").trim().to_string();
        self.child = spawn(self.dir.path());
        self.wait_ready();
    }

    /// Whether the server answers with its SSH banner.
    fn ready(&self) -> bool {
        use std::io::Read;
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut banner = [0u8; 4];
        stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-"
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// A directory the tests may write in: the remote and local file systems are the
    /// same machine's.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("scratch directory");
        path
    }

    /// A second key pair the server does not accept.
    pub fn stranger_key(&self) -> String {
        let path = self.dir.path().join("stranger_key");
        if !path.exists() {
            keygen(&path);
        }
        std::fs::read_to_string(path).expect("key file")
    }

    /// Another host key, as a rebuilt server would present.
    pub fn other_host_key(&self) -> String {
        let path = self.dir.path().join("other_host_key");
        if !path.exists() {
            keygen(&path);
        }
        std::fs::read_to_string(path.with_extension("pub")).expect("key file").trim().to_string()
    }

    /// The provider block that reaches this server, its host key trusted on first use
    /// and recorded in the state.
    pub fn provider_block(&self) -> String {
        format!(
            "provider ssh {{\n  host        = \"127.0.0.1\"\n  port        = {}\n  user        = \"{}\"\n  private_key = file(\"{}\")\n}}\n",
            self.port,
            self.user,
            self.dir.path().join("client_key").display(),
        )
    }
}

/// `sshd -D` with the configuration in `dir`, logging to `dir/sshd.log`.
fn spawn(dir: &Path) -> Child {
    let log = std::fs::File::options().create(true).append(true).open(dir.join("sshd.log")).expect("log file");
    Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("sshd runs")
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "infra-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

fn current_user() -> String {
    let output = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
