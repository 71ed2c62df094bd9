//! A real Mimic server (Rackspace's own stateful API emulator: identity v2.0 and Nova) for
//! tests: `twistd -n mimic` on a free port of 127.0.0.1, in a scratch directory (it
//! writes `twistd.pid` there), ready once identity answers, killed when dropped.
//!
//! Mimic lives in a Python virtual environment in a cache outside the clone
//! (`$INFRA_TEST_CACHE`, by default `~/.cache/infra-tests`, as `mimic-venv/`), with
//! `python-novaclient` beside it to cross-check what the provider made. It is made once,
//! when missing, under a lock file so two test binaries do not make it at once.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// What the virtual environment holds.
const PACKAGES: &[&str] = &["mimic==2.2.0", "python-novaclient"];

pub struct Mimic {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

#[path = "venv.rs"]
mod python;

/// The virtual environment, made when missing.
pub fn venv() -> PathBuf {
    python::venv("mimic-venv", PACKAGES)
}

impl Mimic {
    pub fn start() -> Mimic {
        let venv = venv();
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = ports::free_port();
        let log = std::fs::File::create(dir.path().join("mimic.log")).expect("log file");
        let child = Command::new(venv.join("bin/twistd"))
            .args(["-n", "mimic", "--listen", &format!("tcp:{port}:interface=127.0.0.1")])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("twistd runs");
        let mut mimic = Mimic { child, _dir: dir, port };
        let start = Instant::now();
        while !mimic.ready() {
            let exited = mimic.child.try_wait().expect("wait for twistd");
            assert!(exited.is_none(), "mimic exited: {}", mimic.log());
            assert!(start.elapsed() < Duration::from_secs(60), "mimic did not start on port {port}: {}", mimic.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        mimic
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("mimic.log")).unwrap_or_default()
    }

    /// The identity v2.0 URL.
    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}/identity/v2.0", self.port)
    }

    /// The standard OpenStack environment that reaches this Mimic as user `tester` of
    /// tenant `infra-test` in region ORD.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OS_AUTH_URL", self.auth_url()),
            ("OS_USERNAME", "tester".to_string()),
            ("OS_PASSWORD", "not-checked-by-mimic".to_string()),
            ("OS_TENANT_NAME", "infra-test".to_string()),
            ("OS_REGION_NAME", "ORD".to_string()),
        ]
    }

    /// A `provider rackspace` block reaching this Mimic (as `tester`, region ORD).
    pub fn provider_block(&self) -> String {
        format!(
            "provider rackspace {{\n  auth_url    = \"{}\"\n  username    = \"tester\"\n  password    = \"not-checked-by-mimic\"\n  tenant_name = \"infra-test\"\n  region      = \"ORD\"\n}}\n\n",
            self.auth_url()
        )
    }

    /// Whether identity answers `GET /identity/v2.0` with 200, which it does once Mimic
    /// is ready.
    fn ready(&self) -> bool {
        self.request("GET", "/identity/v2.0", None).is_some_and(|(status, _)| status == 200)
    }

    /// One HTTP/1.0 request to Mimic: the status and the body, or `None` when it cannot
    /// be reached.
    pub fn request(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.get(9..12)?.parse().ok()?;
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Some((status, body))
    }

    /// Makes identity refuse user `username` with 401, as it would a wrong password
    /// (Mimic accepts any password otherwise), through Mimic's behaviour control API.
    pub fn refuse_user(&self, username: &str) {
        let behaviour = serde_json::json!({
            "criteria": [{"username": format!("^{username}$")}],
            "name": "fail",
            "parameters": {"code": 401, "message": "Unable to authenticate user with credentials provided."}
        });
        let answer = self.request("POST", "/mimic/v1.1/IdentityControlAPI/behaviors/auth", Some(&behaviour));
        assert_eq!(answer.map(|(status, _)| status), Some(201), "register the failing behaviour");
    }

    /// The path of the ORD compute endpoint of user `tester`'s tenant, as the catalog
    /// gives it (Mimic names each service anew when it starts).
    pub fn compute_path(&self) -> String {
        let auth = serde_json::json!({"auth": {
            "passwordCredentials": {"username": "tester", "password": "x"}, "tenantName": "infra-test"}});
        let (status, body) = self.request("POST", "/identity/v2.0/tokens", Some(&auth)).expect("identity answers");
        assert_eq!(status, 200, "{body}");
        let access: serde_json::Value = serde_json::from_str(&body).expect("a JSON answer");
        let catalog = access["access"]["serviceCatalog"].as_array().cloned().unwrap_or_default();
        let nova = catalog.iter().find(|s| s["name"] == "cloudServersOpenStack").expect("Nova in the catalog");
        let endpoints = nova["endpoints"].as_array().cloned().unwrap_or_default();
        let ord = endpoints.iter().find(|e| e["region"] == "ORD").expect("an ORD endpoint");
        let url = ord["publicURL"].as_str().expect("a URL");
        let after_host = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
        after_host[after_host.find('/').expect("a path")..].to_string()
    }

    /// Sets one metadata item of a server behind Infra's back (`nova meta set` sends a
    /// `POST`, which Mimic does not serve; `PUT .../metadata/KEY` it does).
    pub fn set_metadata_item(&self, server_id: &str, key: &str, value: &str) {
        let path = format!("{}/servers/{server_id}/metadata/{key}", self.compute_path());
        let body = serde_json::json!({"meta": {key: value}});
        let answer = self.request("PUT", &path, Some(&body));
        assert_eq!(answer.as_ref().map(|(status, _)| *status), Some(200), "{answer:?}");
    }

    /// Creates a server behind Infra's back, as another tool would, through Nova's API
    /// itself (`nova boot` looks the image up in Glance, where Mimic does not list it);
    /// its id.
    pub fn create_server(&self, name: &str, metadata: serde_json::Value) -> String {
        let path = format!("{}/servers", self.compute_path());
        let body = serde_json::json!({"server": {
            "name": name, "flavorRef": "2", "imageRef": "dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6", "metadata": metadata}});
        let (status, body) = self.request("POST", &path, Some(&body)).expect("Nova answers");
        assert_eq!(status, 202, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("a JSON answer");
        answer["server"]["id"].as_str().expect("the new server's id").to_string()
    }

    /// The requests Mimic has answered so far, as `METHOD PATH` (with the query), in
    /// order: read from the access log Twisted writes to Mimic's log as each request
    /// finishes, so a request is there once its answer has been sent.
    pub fn requests(&self) -> Vec<String> {
        let log = self.log();
        let request = |line: &str| {
            let quoted = line.split('"').nth(3)?;
            let mut words = quoted.split(' ');
            Some(format!("{} {}", words.next()?, words.next()?))
        };
        log.lines().filter(|line| line.contains("] \"") && line.contains(" HTTP/1.")).filter_map(request).collect()
    }

    /// Moves Mimic's clock on by `seconds` (a server built with `server_building`
    /// metadata stays in `BUILD` until its clock has moved that far).
    pub fn tick(&self, seconds: f64) {
        let body = serde_json::json!({ "amount": seconds });
        let answer = self.request("POST", "/mimic/v1.1/tick", Some(&body));
        assert_eq!(answer.as_ref().map(|(status, _)| *status), Some(200), "{answer:?}");
    }

    /// `nova ARGS...` (python-novaclient) against this Mimic, with the standard
    /// environment; its standard output.
    pub fn nova(&self, args: &[&str]) -> String {
        let output = Command::new(venv().join("bin/nova"))
            .args(["--os-compute-api-version", "2"])
            .args(args)
            .envs(self.environment())
            .output()
            .expect("nova runs");
        assert!(output.status.success(), "nova {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Mimic {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
