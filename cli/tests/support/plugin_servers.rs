//! Network mirrors and registries for the installer's tests: their documents written as
//! static files (`plugin_packages.rs` makes the archives) and served by a plain static
//! file server on 127.0.0.1 (`static_files.py`: HTTP, or HTTPS with a test CA), started
//! and stopped here; `SHA256SUMS` signed with `gpg` and a key made for the test.

#![allow(dead_code)] // Each test file uses its own subset.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::plugin_packages::{archive_name, sha256sum};

// Each support file that starts a server holds this module, so a test file may include
// several of them.
#[allow(clippy::duplicate_mod)]
#[path = "ports.rs"]
mod ports;

/// A static file server over `root`; stopped when dropped.
pub struct StaticServer {
    child: Child,
    pub port: u16,
    /// Where the test CA is written (HTTPS only).
    certificates: Option<tempfile::TempDir>,
}

impl StaticServer {
    pub fn http(root: &Path, port: u16) -> StaticServer {
        StaticServer::start(root, port, None, None)
    }

    pub fn https(root: &Path, port: u16) -> StaticServer {
        StaticServer::start(root, port, Some(tempfile::tempdir().unwrap()), None)
    }

    /// Over HTTPS, answering 401 to a request without this bearer token.
    pub fn https_with_token(root: &Path, port: u16, token: &str) -> StaticServer {
        StaticServer::start(root, port, Some(tempfile::tempdir().unwrap()), Some(token))
    }

    fn start(root: &Path, port: u16, certificates: Option<tempfile::TempDir>, token: Option<&str>) -> StaticServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/support/static_files.py");
        let mut command = Command::new("python3");
        command.arg(script).arg(port.to_string()).arg(root);
        if let Some(token) = token {
            command.env("REQUIRED_TOKEN", token);
        }
        if let Some(dir) = &certificates {
            command.arg(dir.path());
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the file server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("its first line");
        assert_eq!(line.trim(), "ready", "the file server did not start");
        StaticServer { child, port, certificates }
    }

    /// The test CA, for `SSL_CERT_FILE`.
    pub fn ca(&self) -> PathBuf {
        self.certificates.as_ref().expect("an HTTPS server").path().join("ca.pem")
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (the documents name it before the server starts).
pub fn free_port() -> u16 {
    ports::free_port()
}

/// Writes a network mirror of `HOSTNAME/NAMESPACE/TYPE` into `root`: `index.json`
/// listing `version`, and `VERSION.json` naming each archive (a file name beside it,
/// copied there) with `hashes`.
pub fn write_network_mirror(root: &Path, address: &str, version: &str, archives: &[(&str, &Path, Vec<String>)]) {
    let dir = root.join(address);
    std::fs::create_dir_all(&dir).unwrap();
    let index = serde_json::json!({ "versions": { version: {} } });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let mut listed = serde_json::Map::new();
    for (platform, archive, hashes) in archives {
        let name = archive.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::copy(archive, dir.join(&name)).unwrap();
        listed.insert(platform.to_string(), serde_json::json!({ "url": name, "hashes": hashes }));
    }
    let document = serde_json::json!({ "archives": listed });
    std::fs::write(dir.join(format!("{version}.json")), document.to_string()).unwrap();
}

/// A registry's documents and files, as written into `root` for `https://127.0.0.1:PORT`.
pub struct RegistryFiles {
    pub root: PathBuf,
    pub port: u16,
    pub namespace: String,
    pub type_name: String,
    pub version: String,
}

impl RegistryFiles {
    /// Writes discovery, versions, a download document for each archive (platform and
    /// path), the archives, and `SHA256SUMS` over them, signed by `signer` with `gpg`;
    /// the download documents name `named_key` (ASCII-armored) as the signing key.
    pub fn write(&self, archives: &[(&str, &Path)], gpg: &Gpg, signer: &str, named_key: &str) {
        let base = format!("https://127.0.0.1:{}", self.port);
        let (namespace, type_name, version) = (&self.namespace, &self.type_name, &self.version);
        write(&self.root.join(".well-known/terraform.json"), &serde_json::json!({ "providers.v1": "/v1/providers/" }));
        let platforms: Vec<serde_json::Value> = archives
            .iter()
            .map(|(platform, _)| {
                let (os, arch) = platform.split_once('_').unwrap();
                serde_json::json!({ "os": os, "arch": arch })
            })
            .collect();
        let provider = self.root.join(format!("v1/providers/{namespace}/{type_name}"));
        let versions = serde_json::json!({ "versions": [
            { "version": version, "protocols": ["6.0"], "platforms": platforms },
            { "version": "0.1.0", "protocols": ["4.0"], "platforms": platforms },
        ]});
        write(&provider.join("versions"), &versions);
        let files = self.root.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let sums_name = format!("terraform-provider-{type_name}_{version}_SHA256SUMS");
        let mut sums = String::new();
        for (platform, archive) in archives {
            let name = archive_name(type_name, version, platform);
            std::fs::copy(archive, files.join(&name)).unwrap();
            sums.push_str(&format!("{}  {name}\n", sha256sum(archive)));
            let (os, arch) = platform.split_once('_').unwrap();
            let download = serde_json::json!({
                "protocols": ["6.0"], "os": os, "arch": arch, "filename": name,
                "download_url": format!("{base}/files/{name}"),
                "shasums_url": format!("{base}/files/{sums_name}"),
                "shasums_signature_url": format!("{base}/files/{sums_name}.sig"),
                "shasum": sha256sum(archive),
                "signing_keys": { "gpg_public_keys": [ { "key_id": "", "ascii_armor": named_key } ] },
            });
            write(&provider.join(format!("{version}/download/{os}/{arch}")), &download);
        }
        std::fs::write(files.join(&sums_name), sums).unwrap();
        gpg.sign(signer, &files.join(&sums_name));
    }

    /// The archive of `platform` as served.
    pub fn archive(&self, platform: &str) -> PathBuf {
        self.root.join("files").join(archive_name(&self.type_name, &self.version, platform))
    }

    /// The `SHA256SUMS` file as served.
    pub fn sums(&self) -> PathBuf {
        self.root.join("files").join(format!("terraform-provider-{}_{}_SHA256SUMS", self.type_name, self.version))
    }
}

fn write(path: &Path, document: &serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, document.to_string()).unwrap();
}

/// A GnuPG home of the test's own, with the keys it generates; its agent is stopped when
/// dropped.
pub struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    pub fn new() -> Gpg {
        let home = tempfile::Builder::new().prefix("gpg").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        Gpg { home }
    }

    fn gpg(&self, args: &[&str]) -> Vec<u8> {
        let output = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("gpg runs");
        assert!(output.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }

    /// A new RSA signing key for `email` (as the keys registries publish are).
    pub fn generate(&self, email: &str) {
        self.gpg(&["--quick-gen-key", &format!("Test signer <{email}>"), "rsa2048", "sign", "never"]);
    }

    /// The public key of `email`, ASCII-armored.
    pub fn public_key(&self, email: &str) -> String {
        String::from_utf8(self.gpg(&["--armor", "--export", email])).unwrap()
    }

    /// Writes the binary detached signature of `file` by `email` to `FILE.sig`.
    pub fn sign(&self, email: &str, file: &Path) {
        let signature = format!("{}.sig", file.display());
        self.gpg(&["--yes", "--local-user", email, "--output", &signature, "--detach-sign", file.to_str().unwrap()]);
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").env("GNUPGHOME", self.home.path()).args(["--kill", "gpg-agent"]).output();
    }
}
