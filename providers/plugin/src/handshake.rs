//! Starting a plugin program and reading its go-plugin handshake: the first step of
//! hosting a plugin, before any gRPC.
//!
//! HashiCorp's go-plugin protocol: the host starts the program with the magic cookie
//! Terraform's plugins expect in their environment (without it they print "This binary
//! is a plugin" and exit) and the plugin protocol versions it speaks; the plugin listens
//! on a Unix socket and writes one line to its standard output,
//! `CORE-VERSION|PROTOCOL-VERSION|NETWORK|ADDRESS|grpc[|SERVER-CERTIFICATE]`, after
//! which the host speaks gRPC to that address. The plugin's standard error (its logs)
//! goes to a log file, never into the host's output. For automatic mutual TLS the host
//! hands the plugin a fresh self-signed client certificate (`PLUGIN_CLIENT_CERT`, made
//! with `rcgen`), and the plugin answers with its own in the line's last field;
//! `client.rs` connects with both.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::Duration;

/// The environment variable and value every Terraform plugin checks before it serves.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The plugin protocol versions the host speaks, preferred first.
pub const PROTOCOL_VERSIONS: [u32; 2] = [6, 5];

/// What the plugin's handshake line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The plugin protocol version it serves: 5 or 6.
    pub protocol: u32,
    pub address: Address,
    /// Its TLS certificate (Base64 DER, as the line carries it), when it serves TLS.
    pub server_certificate: Option<String>,
}

/// Where the plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp(String),
}

/// Reads a handshake line; the error says what is wrong with it.
pub fn parse_handshake(line: &str) -> Result<Handshake, HandshakeError> {
    let invalid = |problem: &str| HandshakeError::Invalid { line: line.to_string(), problem: problem.to_string() };
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    if fields.len() < 5 {
        return Err(invalid("it has fewer than five `|`-separated fields"));
    }
    if fields[0] != "1" {
        return Err(invalid("its core protocol version is not 1"));
    }
    let protocol: u32 = fields[1].parse().map_err(|_| invalid("its protocol version is not a number"))?;
    if !PROTOCOL_VERSIONS.contains(&protocol) {
        return Err(HandshakeError::UnsupportedProtocol(protocol));
    }
    let address = match fields[2] {
        "unix" => Address::Unix(PathBuf::from(fields[3])),
        "tcp" => Address::Tcp(fields[3].to_string()),
        _ => return Err(invalid("its network is neither `unix` nor `tcp`")),
    };
    if fields[4] != "grpc" {
        return Err(invalid("it does not speak gRPC (older plugins spoke net/rpc, which Infra does not)"));
    }
    let server_certificate = fields.get(5).filter(|c| !c.is_empty()).map(|c| c.to_string());
    Ok(Handshake { protocol, address, server_certificate })
}

/// Why a plugin did not start.
#[derive(Debug)]
pub enum HandshakeError {
    /// The program could not be started at all.
    Spawn(std::io::Error),
    /// It exited before writing its handshake; the end of its log says why.
    Exited { status: ExitStatus, log_tail: String },
    /// It wrote nothing within the time allowed.
    NoHandshake(Duration),
    /// It wrote a line that is not a handshake.
    Invalid { line: String, problem: String },
    /// It serves a protocol version the host does not speak.
    UnsupportedProtocol(u32),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Spawn(e) => write!(f, "it cannot be started: {e}"),
            HandshakeError::Exited { status, log_tail } if log_tail.is_empty() => {
                write!(f, "it exited ({status}) before its handshake")
            }
            HandshakeError::Exited { status, log_tail } => {
                write!(f, "it exited ({status}) before its handshake; its log ends with: {log_tail}")
            }
            HandshakeError::NoHandshake(waited) => {
                write!(f, "it wrote no handshake within {} seconds", waited.as_secs_f32())
            }
            HandshakeError::Invalid { line, problem } => write!(f, "its handshake `{line}` is not valid: {problem}"),
            HandshakeError::UnsupportedProtocol(version) => {
                write!(f, "it speaks plugin protocol {version}; Infra speaks protocols 5 and 6")
            }
        }
    }
}

/// A fresh certificate for one plugin connection, as go-plugin's automatic mutual TLS
/// wants it: self-signed for `localhost`, allowed to sign (the plugin trusts it as its
/// own root), for both client and server authentication. Deliberately not `Debug`: the
/// key is a secret.
pub struct ClientCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
    /// The same certificate and key (PKCS #8) in DER, for the TLS connection.
    pub certificate_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

impl ClientCertificate {
    /// A new ECDSA P-256 key and its certificate.
    pub fn generate() -> Result<ClientCertificate, rcgen::Error> {
        use rcgen::{BasicConstraints, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params.self_signed(&key)?;
        Ok(ClientCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            certificate_der: certificate.der().to_vec(),
            key_der: key.serialize_der(),
        })
    }
}

/// How to start a plugin.
pub struct StartOptions<'a> {
    pub program: &'a Path,
    /// Given to the plugin for automatic mutual TLS; without one it serves plain gRPC.
    pub client_certificate: Option<&'a ClientCertificate>,
    /// Its standard error is appended here (`logs::open`: private, moved aside when large).
    pub log: &'a Path,
    /// How long to wait for the handshake line.
    pub timeout: Duration,
}

/// A running plugin, stopped (killed and waited for, and its socket removed) when
/// dropped, or by [`stop_all`].
pub struct PluginProcess {
    child: Arc<Mutex<Running>>,
    id: u32,
    pub handshake: Handshake,
}

/// The plugin's process, and the Unix socket it listens on. go-plugin removes the socket
/// only when the plugin ends on its own; a killed one leaves it in the temporary
/// directory, one file per start, so the host removes it once the process is gone.
struct Running {
    child: Child,
    socket: Option<PathBuf>,
}

impl PluginProcess {
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        stop(&self.child);
    }
}

/// Every plugin process started and not yet dropped. A command that ends the process
/// without dropping what it holds (the engine leaves its memory to the operating system
/// as Infra exits) stops them with [`stop_all`], so no plugin outlives Infra.
static STARTED: Mutex<Vec<Weak<Mutex<Running>>>> = Mutex::new(Vec::new());

fn stop(running: &Mutex<Running>) {
    let mut running = running.lock().unwrap_or_else(|e| e.into_inner());
    let _ = running.child.kill();
    let _ = running.child.wait();
    if let Some(socket) = running.socket.take() {
        remove_socket(&socket);
    }
}

/// Removes the file at `path` if it is a socket (the handshake named it; anything else
/// there is not the plugin's to remove).
fn remove_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

/// Stops every plugin process still running; called as Infra exits.
pub fn stop_all() {
    let started = std::mem::take(&mut *STARTED.lock().unwrap_or_else(|e| e.into_inner()));
    for child in started.iter().filter_map(Weak::upgrade) {
        stop(&child);
    }
}

/// Where the standard error of the plugin declared as `name` goes: the file
/// `INFRA_LOG_PATH` names (every plugin appends to it), or `.infra/plugins/logs/NAME.log`
/// beside the root module in `module_dir`.
pub fn log_path(module_dir: &Path, name: &str) -> PathBuf {
    match std::env::var_os("INFRA_LOG_PATH").filter(|path| !path.is_empty()) {
        Some(path) => module_dir.join(path),
        None => module_dir.join(".infra/plugins/logs").join(format!("{name}.log")),
    }
}

/// Starts the plugin and reads its handshake.
pub fn start(options: &StartOptions) -> Result<PluginProcess, HandshakeError> {
    let log = crate::logs::open(options.log).map_err(HandshakeError::Spawn)?;
    let versions: Vec<String> = PROTOCOL_VERSIONS.iter().map(u32::to_string).collect();
    let mut command = Command::new(options.program);
    // How much it writes to its log: `INFRA_LOG` (or `TF_LOG`), else warnings only.
    crate::logs::set_level(&mut command);
    if let Some(certificate) = options.client_certificate {
        command.env("PLUGIN_CLIENT_CERT", &certificate.certificate_pem);
    }
    let mut child = command
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", versions.join(","))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(HandshakeError::Spawn)?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(HandshakeError::Spawn(std::io::Error::other("no standard output")));
    };
    let lines = read_lines(stdout, options.log.to_path_buf());
    let outcome = match lines.recv_timeout(options.timeout) {
        Ok(line) => parse_handshake(&line),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(exited(&mut child, options)),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(HandshakeError::NoHandshake(options.timeout)),
    };
    match outcome {
        Ok(handshake) => {
            let id = child.id();
            let socket = match &handshake.address {
                Address::Unix(path) => Some(path.clone()),
                Address::Tcp(_) => None,
            };
            let child = Arc::new(Mutex::new(Running { child, socket }));
            let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
            started.retain(|c| c.strong_count() > 0);
            started.push(Arc::downgrade(&child));
            Ok(PluginProcess { child, id, handshake })
        }
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(error)
        }
    }
}

/// Sends the first line of the plugin's standard output, then copies the rest to its
/// log (a plugin that writes more must not block on a full pipe), on a thread of its own.
fn read_lines(stdout: std::process::ChildStdout, log: PathBuf) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() || first.is_empty() {
            return;
        }
        let _ = sender.send(first);
        let Ok(mut log) = crate::logs::append(&log) else { return };
        for line in reader.lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
        }
    });
    receiver
}

/// The plugin closed its standard output: wait for it to exit (as long as the handshake
/// may take) and read the end of its log.
fn exited(child: &mut Child, options: &StartOptions) -> HandshakeError {
    let deadline = std::time::Instant::now() + options.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return HandshakeError::NoHandshake(options.timeout),
            Err(e) => return HandshakeError::Spawn(e),
        }
    };
    let text = std::fs::read_to_string(options.log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().filter(|l| !l.trim().is_empty()).take(3).collect();
    let log_tail = tail.into_iter().rev().collect::<Vec<_>>().join(" / ");
    HandshakeError::Exited { status, log_tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_lines_as_go_plugin_writes_them() {
        let handshake = parse_handshake("1|6|unix|/tmp/plugin95627696|grpc|\n").unwrap();
        assert_eq!(handshake.protocol, 6);
        assert_eq!(handshake.address, Address::Unix(PathBuf::from("/tmp/plugin95627696")));
        assert_eq!(handshake.server_certificate, None);
        let with_certificate = parse_handshake("1|5|tcp|127.0.0.1:10000|grpc|MIIBkz").unwrap();
        assert_eq!(with_certificate.address, Address::Tcp("127.0.0.1:10000".to_string()));
        assert_eq!(with_certificate.server_certificate.as_deref(), Some("MIIBkz"));
    }

    #[test]
    fn bad_handshake_lines_say_why() {
        let problem = |line: &str| parse_handshake(line).unwrap_err().to_string();
        assert_eq!(problem("1|4|unix|/tmp/p|grpc|"), "it speaks plugin protocol 4; Infra speaks protocols 5 and 6");
        assert!(problem("1|6|unix|/tmp/p|netrpc").contains("does not speak gRPC"));
        assert!(problem("2|6|unix|/tmp/p|grpc").contains("core protocol version is not 1"));
        assert!(problem("hello").contains("fewer than five"));
        assert!(problem("1|6|pipe|/tmp/p|grpc").contains("neither `unix` nor `tcp`"));
    }
}
