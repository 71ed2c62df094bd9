//! A real PostgreSQL server for tests: `initdb` into a temporary directory and
//! `postgres` on 127.0.0.1 on a free port (as the `postgres` user when the tests run as
//! root, since both refuse to run as root), with a private socket directory. Stopped by
//! its PID when dropped.

#![allow(dead_code)] // Each test file uses its own subset.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

pub struct Postgres {
    /// Holds the data directory; removed on drop.
    _dir: tempfile::TempDir,
    data: PathBuf,
    socket_dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    uid: u32,
    gid: u32,
    /// More `-c NAME=VALUE` settings for the server.
    settings: Vec<String>,
}

/// A PostgreSQL binary: on the PATH, else where Debian installs the server (the newest
/// version there).
fn binary(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file()));
    on_path.unwrap_or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin").join(name)).collect())
            .unwrap_or_default();
        versions.retain(|candidate| candidate.is_file());
        versions.sort_by_key(|candidate| {
            let version = candidate.parent().and_then(Path::parent).and_then(Path::file_name);
            version.and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
        });
        versions.pop().unwrap_or_else(|| PathBuf::from(name))
    })
}

/// Whether the tests run as root: then the server runs as the `postgres` user (it
/// refuses to run as root), otherwise as the current user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Who the server runs as: the `postgres` user (from `/etc/passwd`) when the tests run
/// as root, else the current user.
fn postgres_user() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    if !running_as_root() {
        let me = std::fs::metadata("/proc/self").expect("read /proc/self");
        return (me.uid(), me.gid());
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres")).then(|| (fields[2].parse().ok(), fields[3].parse().ok()))
        })
        .and_then(|(uid, gid)| Some((uid?, gid?)))
        .expect("a `postgres` user (see SERVICES.md)")
}

impl Postgres {
    /// A server that trusts every local connection.
    pub fn start() -> Postgres {
        Postgres::start_with(None)
    }

    /// A server that asks for a password (`scram-sha-256`); the `postgres` user's is
    /// `password`.
    pub fn start_with_password(password: &str) -> Postgres {
        Postgres::start_with(Some(password))
    }

    fn start_with(password: Option<&str>) -> Postgres {
        let mut server = Postgres::initdb(password);
        server.resume();
        server
    }

    /// A new data directory, the server not started.
    fn initdb(password: Option<&str>) -> Postgres {
        let (uid, gid) = postgres_user();
        let dir = tempfile::Builder::new().prefix("pg").tempdir_in("/tmp").expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let root = dir.path().join("pg");
        std::fs::create_dir(&root).expect("mkdir");
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).expect("chown to postgres");
        let data = root.join("data");
        let mut initdb = Command::new(binary("initdb"));
        initdb.args(["-D"]).arg(&data).args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
        match password {
            Some(password) => {
                let file = root.join("pwfile");
                std::fs::write(&file, password).expect("write the password file");
                std::os::unix::fs::chown(&file, Some(uid), Some(gid)).expect("chown");
                initdb.args(["-A", "scram-sha-256"]).arg(format!("--pwfile={}", file.display()));
            }
            None => {
                initdb.args(["-A", "trust"]);
            }
        }
        if running_as_root() {
            initdb.uid(uid).gid(gid);
        }
        let status = initdb.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("run initdb");
        assert!(status.success(), "initdb failed");
        let port = ports::free_port();
        Postgres { _dir: dir, data, socket_dir: root, port, child: None, uid, gid, settings: Vec::new() }
    }

    /// A server that accepts only TLS connections over TCP, with a certificate for
    /// `127.0.0.1` signed by a CA made for it (by the `openssl` command); returns the
    /// server and the CA certificate's path.
    pub fn start_with_tls() -> (Postgres, PathBuf) {
        let mut server = Postgres::initdb(None);
        let root = server.socket_dir.clone();
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl").args(args).current_dir(&root).output().expect("run openssl");
            assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &["-subj", "/CN=Infra test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                &ec[..],
                &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            ]
            .concat(),
        );
        openssl(
            &[&["req"][..], &ec[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]]
                .concat(),
        );
        std::fs::write(
            root.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write the extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        for file in ["server.key", "server.crt"] {
            std::os::unix::fs::chown(root.join(file), Some(server.uid), Some(server.gid)).expect("chown");
            std::fs::set_permissions(root.join(file), std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        std::fs::write(
            server.data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("write pg_hba.conf");
        server.settings = vec![
            "ssl=on".to_string(),
            format!("ssl_cert_file={}", root.join("server.crt").display()),
            format!("ssl_key_file={}", root.join("server.key").display()),
        ];
        server.resume();
        (server, root.join("ca.pem"))
    }

    /// Starts the server (again) on the same data directory and port.
    pub fn resume(&mut self) {
        let mut command = Command::new(binary("postgres"));
        if running_as_root() {
            command.uid(self.uid).gid(self.gid);
        }
        let child = command
            .arg("-D")
            .arg(&self.data)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-p", &self.port.to_string(), "-k"])
            .arg(&self.socket_dir)
            .args(self.settings.iter().flat_map(|setting| ["-c", setting]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() || !self.ready() {
            assert!(start.elapsed() < Duration::from_secs(30), "postgres did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready(&self) -> bool {
        Command::new(binary("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Fast shutdown (SIGINT to the postmaster): sessions are ended at once.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// A connection URL for `database` as the `postgres` user.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable", self.port)
    }

    /// Runs SQL with `psql` against `database`; returns its unaligned output.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        self.try_sql(database, sql).unwrap_or_else(|error| panic!("psql failed: {error}"))
    }

    /// Runs SQL with `psql`; its unaligned output, or what it printed on failure (a
    /// table Infra has not created yet, say).
    pub fn try_sql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(binary("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .output()
            .expect("run psql");
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// A new empty database.
    pub fn create_database(&self, name: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One server for every test in this binary that does not stop it; each test uses its
/// own database. Statics are never dropped, so a watcher process stops the server once
/// the test process has exited.
pub fn shared() -> &'static Postgres {
    static SERVER: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let server = Postgres::start();
        let postmaster = server.child.as_ref().map(Child::id).expect("running");
        let watcher = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill -INT {postmaster}; \
             while kill -0 {postmaster} 2>/dev/null; do sleep 0.2; done; rm -rf '{}'",
            std::process::id(),
            server._dir.path().display()
        );
        // The watcher must outlive this process, so it is never waited for.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &watcher])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the watcher");
        server
    })
}

/// A fresh database on the shared server, named after the test.
pub fn database(name: &str) -> String {
    shared().create_database(name)
}
