//! A real Terraform provider plugin for tests: terraform-provider-workato 0.16.0, built on
//! HashiCorp's plugin framework, as the PyPI package `workato-terraform-provider` ships
//! it (no plugin can be downloaded from a registry here).
//!
//! The wheel is fetched once with `pip download` into a cache outside the clone
//! (`$INFRA_TEST_CACHE`, by default `~/.cache/infra-tests`, as `workato-plugin/`), and
//! its payload, a filesystem mirror in Terraform's unpacked layout
//! (`registry.terraform.io/local/workato/0.16.0/OS_ARCH/`, five platforms), is unpacked
//! beside it. A lock file keeps two test binaries from making it at once; it is made
//! beside its final place and renamed there when whole.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// The package and version the mirror comes from.
const PACKAGE: &str = "workato-terraform-provider==0.16.0";

/// The `h1:` hash Terraform 1.11 writes into `.terraform.lock.hcl` for the `linux_amd64`
/// package of this mirror (`terraform init` with a `filesystem_mirror` and
/// `required_providers { workato = { source = "local/workato", version = "0.16.0" } }`).
pub const TERRAFORM_H1_LINUX_AMD64: &str = "h1:/UPUkmGAqwajqxjaXCJmy4v7EbIzKsNk3Ddgm1O5IO0=";

/// The cache directory: `$INFRA_TEST_CACHE`, or `~/.cache/infra-tests`.
fn cache_dir() -> PathBuf {
    match std::env::var_os("INFRA_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/infra-tests"),
    }
}

/// The filesystem mirror (the directory holding `registry.terraform.io/`), made when
/// missing.
pub fn mirror() -> PathBuf {
    let cache = cache_dir();
    let mirror = cache.join("workato-plugin");
    if mirror.join("registry.terraform.io").exists() {
        return mirror;
    }
    std::fs::create_dir_all(&cache).expect("cache directory");
    let lock = std::fs::File::create(cache.join("workato-plugin.lock")).expect("lock file");
    lock.lock().expect("lock the cache");
    if mirror.join("registry.terraform.io").exists() {
        return mirror;
    }
    let building = cache.join(format!("workato-plugin.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).expect("building directory");
    let wheel_dir = building.join("wheel");
    run(
        Command::new("python3")
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--dest"])
            .arg(&wheel_dir)
            .arg(PACKAGE),
        "pip download workato-terraform-provider",
    );
    let wheel = std::fs::read_dir(&wheel_dir).expect("the wheel").next().expect("one wheel").expect("entry").path();
    let unpacked = building.join("unpacked");
    // The payload only: a wheel is a zip archive, and Python reads it without `unzip`.
    let script = "import sys, zipfile\n\
                  names = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if '/payload/registry.terraform.io/' in n]\n\
                  zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], names)\n";
    run(Command::new("python3").args(["-c", script]).arg(&wheel).arg(&unpacked), "unzip the wheel");
    let payload = unpacked.join("workato_terraform_provider/payload");
    std::fs::rename(payload.join("registry.terraform.io"), building.join("registry.terraform.io"))
        .expect("move the payload");
    // zipfile does not keep the executable bit; the mirror's plugins must run.
    for entry in walkdir(&building.join("registry.terraform.io")) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755)).expect("make the plugin executable");
    }
    let _ = std::fs::remove_dir_all(&wheel_dir);
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::rename(&building, &mirror).expect("rename the mirror into place");
    mirror
}

/// Every file under `dir`.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the mirror") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn run(command: &mut Command, what: &str) {
    let output = command.stdout(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what} failed:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// The Workato API stand-in (`tests/standins/workato.py`, a fake serving the folder
/// endpoints the plugin uses) on a free port of 127.0.0.1 over TLS, with its test CA;
/// stopped when dropped.
pub struct Standin {
    child: std::process::Child,
    pub port: u16,
    /// The directory holding `ca.pem`, the CA to give the plugin as `SSL_CERT_FILE`.
    dir: tempfile::TempDir,
    pub token: String,
}

impl Standin {
    pub fn start() -> Standin {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("a directory for the certificates");
        let port = ports::free_port();
        let token = format!("token-{}", std::process::id());
        let mut script = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        while !script.join("tests/standins").is_dir() {
            assert!(script.pop(), "no tests/standins above {}", env!("CARGO_MANIFEST_DIR"));
        }
        let mut child = Command::new("python3")
            .arg(script.join("tests/standins/workato.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .arg(&token)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Workato stand-in");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("its first line");
        assert_eq!(line.trim(), "ready", "the stand-in did not start");
        Standin { child, port, dir, token }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A control request to the stand-in (`/__standin/NAME`), with `curl` trusting its CA.
    pub fn control(&self, method: &str, name: &str, body: &str) -> String {
        let output = Command::new("curl")
            .args(["-s", "--fail", "-X", method, "--cacert"])
            .arg(self.ca())
            .args(["-d", body])
            .arg(format!("{}/__standin/{name}", self.base_url()))
            .output()
            .expect("curl");
        assert!(output.status.success(), "the control `{name}` failed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Every request the stand-in saw, as `{"method", "path", "body"}` objects.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.control("GET", "requests.json", "")).expect("the requests as JSON")
    }

    /// `GET PATH` of the API with the token, as a client would ask: the HTTP status and
    /// the body.
    pub fn api(&self, path: &str) -> (u16, String) {
        let output = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}", "--cacert"])
            .arg(self.ca())
            .args(["-H", &format!("Authorization: Bearer {}", self.token)])
            .arg(format!("{}{path}", self.base_url()))
            .output()
            .expect("curl");
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = printed.rsplit_once('\n').expect("curl printed the status");
        (status.trim().parse().expect("an HTTP status"), body.to_string())
    }
}

/// A Terraform CLI configuration (for `TF_CLI_CONFIG_FILE`) installing plugins only from
/// the filesystem mirror `mirror`, written into `dir`.
pub fn terraform_cli_config(dir: &Path, mirror: &Path) -> PathBuf {
    let path = dir.join("terraform.rc");
    let text =
        format!("provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n", mirror.display());
    std::fs::write(&path, text).expect("write the Terraform CLI configuration");
    path
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many plugin processes run with `dir` as their working directory.
pub fn plugins_running_in(dir: &Path) -> usize {
    let dir = dir.canonicalize().unwrap();
    let processes = std::fs::read_dir("/proc").unwrap().flatten();
    processes
        .filter(|p| std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd == dir))
        .filter(|p| {
            std::fs::read(p.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("terraform-provider-"))
        })
        .count()
}
