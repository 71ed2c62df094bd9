//! One SSH connection per configured provider: opened on first use with `russh`, the
//! server's host key checked before anything is sent, authenticated, then shared by
//! every resource of the configuration (each command is a channel of its own, multiplexed
//! over the one connection).
//!
//! Nothing here ever puts a private key, a password or a command's text in a message:
//! an error names the host, the user, the method and what went wrong.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use infra_runtime::provider::{ProviderError, ProviderResult};
use russh::client::{self, AuthResult, Handle};
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;
use russh::Preferred;

use crate::shell;

/// How the provider reaches and logs in to its host, from `provider ssh { ... }`.
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub private_key: Option<String>,
    pub password: Option<String>,
    pub agent: bool,
    pub host_key: Option<String>,
    pub known_hosts: Option<PathBuf>,
    pub sudo: bool,
    pub connect_timeout: Duration,
    pub wait: Option<Duration>,
    /// A jump host the connection goes through (`bastion { ... }`).
    pub bastion: Option<Box<Settings>>,
}

/// What one remote command did.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The exit status; `None` when the command was ended by a signal or the server
    /// reported none.
    pub exit_code: Option<u32>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// An open, authenticated connection.
pub struct Connection {
    handle: Handle<Verifier>,
    /// The connection to the bastion the session is tunnelled through, kept open as
    /// long as this one.
    _bastion: Option<Box<Connection>>,
    /// The SHA-256 fingerprint of the host key the server presented.
    pub fingerprint: String,
    sudo: bool,
}

/// The provider's connection, opened once on first use. A failure is kept too, so a
/// host that cannot be reached is tried once per wave of operations, not once per
/// resource: operations waiting for the attempt share its failure, and a transient one
/// (refused, no answer) is tried again by an operation that comes a second or more
/// later — the engine's own retry of a failed operation, typically.
pub struct Lazy {
    settings: Settings,
    state: tokio::sync::Mutex<Option<Attempt>>,
    /// Without `host_key` or `known_hosts`: the host key fingerprint trusted for this
    /// run, the first one a caller brought from the state (or, when the state holds
    /// nothing of this host, the key the first connection saw). Every connection opened
    /// during the run is checked against it before logging in.
    trusted: Mutex<Option<String>>,
    /// Whether the state holds objects of this configuration, so a recorded fingerprint
    /// exists and a caller with none of its own (a data source) must wait for it.
    records_exist: std::sync::atomic::AtomicBool,
}

/// The outcome of the last attempt to connect, and when it ended.
struct Attempt {
    result: Result<Arc<Connection>, ProviderError>,
    ended: Instant,
}

/// How old a transient failure must be before another operation tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a caller with no recorded fingerprint (a data source) waits for one that
/// has one (a resource's refresh) before giving up: the refreshes of the resources that
/// do not depend on it start at once.
const RECORD_GRACE: Duration = Duration::from_secs(10);

impl Lazy {
    pub fn new(settings: Settings) -> Lazy {
        Lazy {
            settings,
            state: tokio::sync::Mutex::new(None),
            trusted: Mutex::new(None),
            records_exist: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Told that the state holds objects of this configuration: their refreshes will
    /// bring the fingerprint they recorded.
    pub fn expect_records(&self) {
        self.records_exist.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Told of the fingerprint an object of this host recorded (the state's, as the run
    /// starts, whether or not it refreshes): without `host_key` or `known_hosts`, the
    /// first one is the key every connection of the run must present, a create's and a
    /// data source's too, checked before logging in.
    pub fn recorded(&self, fingerprint: &str) {
        if self.is_first_use() && !fingerprint.is_empty() {
            self.trust(fingerprint);
        }
        self.expect_records();
    }

    fn trusted(&self) -> Option<String> {
        self.trusted.lock().ok().and_then(|trusted| trusted.clone())
    }

    fn trust(&self, fingerprint: &str) {
        if let Ok(mut trusted) = self.trusted.lock() {
            trusted.get_or_insert_with(|| fingerprint.to_string());
        }
    }

    /// The connection; `recorded` is the host key fingerprint a resource recorded when
    /// it was last applied. Without `host_key` or `known_hosts`, the first recorded
    /// fingerprint a caller brings is what the server must present, checked before
    /// logging in (a password is never sent to a server whose key changed); every
    /// caller's record is checked against the connection's key after.
    pub async fn get(&self, recorded: Option<&str>) -> ProviderResult<Arc<Connection>> {
        if let (true, Some(recorded)) = (self.is_first_use(), recorded) {
            self.trust(recorded);
        }
        let connection = {
            let mut state = self.state.lock().await;
            // A failed attempt is retried after a pause; a connection the server or the
            // network closed (a dropped connection mid-apply) is opened again.
            let stale = |attempt: &Attempt| match &attempt.result {
                Err(error) => error.retryable && attempt.ended.elapsed() >= RETRY_AFTER,
                Ok(connection) => connection.handle.is_closed(),
            };
            if state.as_ref().is_none_or(stale) {
                let expected = if self.is_first_use() { self.trusted() } else { None };
                let result = connect_waiting(&self.settings, expected).await;
                if let (true, Ok(connection)) = (self.is_first_use(), &result) {
                    self.trust(&connection.fingerprint);
                }
                *state = Some(Attempt { result, ended: Instant::now() });
            }
            state
                .as_ref()
                .map(|attempt| attempt.result.clone())
                .unwrap_or_else(|| Err(ProviderError::new("no connection")))?
        };
        if self.is_first_use() {
            if let Some(recorded) = recorded {
                if recorded != connection.fingerprint {
                    return Err(changed_key(&self.settings, recorded, &connection.fingerprint));
                }
            }
        }
        Ok(connection)
    }

    /// The connection for a caller that has no recorded fingerprint of its own: a data
    /// source (the state keeps none for it). When the state holds objects of this host,
    /// their record is the key to check, so this waits for the first of them to bring
    /// it rather than trust whatever key the server presents; the very first
    /// connection to a host the state knows nothing of trusts the key it sees.
    pub async fn get_unrecorded(&self) -> ProviderResult<Arc<Connection>> {
        if self.is_first_use() && self.records_exist.load(std::sync::atomic::Ordering::SeqCst) {
            let deadline = Instant::now() + RECORD_GRACE;
            while self.trusted().is_none() {
                if Instant::now() >= deadline {
                    return Err(unchecked_key(&self.settings));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.get(None).await
    }

    /// The connection when its host key can be checked without waiting (pinned, listed,
    /// recorded, or a host the state knows nothing of); `None` otherwise or when it
    /// cannot be opened. For best-effort reads at plan time, which must not hold up the
    /// plan nor trust a key the state's record will judge later.
    pub async fn get_if_checkable(&self) -> Option<Arc<Connection>> {
        let waiting_for_record = self.is_first_use()
            && self.records_exist.load(std::sync::atomic::Ordering::SeqCst)
            && self.trusted().is_none();
        if waiting_for_record {
            return None;
        }
        self.get(None).await.ok()
    }

    /// Whether host keys are trusted on first use: neither `host_key` nor `known_hosts`
    /// is set.
    pub fn is_first_use(&self) -> bool {
        self.settings.host_key.is_none() && self.settings.known_hosts.is_none()
    }
}

/// A data source that found no recorded fingerprint to check the server against.
fn unchecked_key(settings: &Settings) -> ProviderError {
    ProviderError::new(format!(
        "the host key of {} cannot be checked for this data source: the state records it in the host's resources, \
         and none of them was read within {}s",
        address(settings),
        RECORD_GRACE.as_secs()
    ))
    .with_help(
        "nothing was sent to the server. A data source keeps no record of its own: pin the server's key with \
         `host_key` (or list it in `known_hosts`) in the provider block, or let a resource of the host that does not \
         depend on the data source be read first",
    )
}

fn changed_key(settings: &Settings, recorded: &str, presented: &str) -> ProviderError {
    ProviderError::new(format!(
        "the host key of {} changed: the state recorded {recorded}, the server now presents {presented}",
        address(settings)
    ))
    .with_help(
        "nothing was run. If the server was rebuilt, pin its new key with `host_key` (or `known_hosts`) in the \
         provider block; otherwise someone may be intercepting the connection",
    )
}

fn address(settings: &Settings) -> String {
    format!("`{}@{}:{}`", settings.user, settings.host, settings.port)
}

/// Connects, retrying while `wait` lasts: a server that is still booting refuses
/// connections, or logins until its keys are installed. A host key mismatch is never
/// retried.
async fn connect_waiting(settings: &Settings, recorded: Option<String>) -> Result<Arc<Connection>, ProviderError> {
    let deadline = settings.wait.map(|wait| Instant::now() + wait);
    let mut pause = Duration::from_millis(500);
    loop {
        match connect(settings, recorded.as_deref()).await {
            Ok(connection) => return Ok(Arc::new(connection)),
            Err(Failure::Final(error) | Failure::Refused(error)) => return Err(error),
            Err(Failure::Transient(error)) => match deadline {
                Some(deadline) if Instant::now() + pause < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Some(_) => {
                    let waited = settings.wait.map(|w| w.as_secs()).unwrap_or_default();
                    return Err(ProviderError {
                        message: format!("{} (after waiting {waited}s)", error.message),
                        ..error
                    });
                }
                None => return Err(error),
            },
        }
    }
}

/// Why a connection attempt failed: worth another try while waiting, or not.
enum Failure {
    Transient(ProviderError),
    Final(ProviderError),
    /// The host key was refused (final; [`connect`] may ask for another algorithm's key).
    Refused(ProviderError),
}

/// Connects and logs in. The server presents the key of the first host key algorithm
/// in our list that it has: the pinned or listed key's algorithm comes first, so a
/// server with several keys presents the one `host_key` or `known_hosts` names. A pinned
/// fingerprint does not say its algorithm: each family is asked for in turn until one
/// matches (before logging in, so nothing is sent to a server whose keys all differ).
async fn connect(settings: &Settings, recorded: Option<&str>) -> Result<Connection, Failure> {
    let policy = policy(settings, recorded).map_err(Failure::Final)?;
    let orders = key_orders(&policy);
    let mut refusal = None;
    for order in orders {
        match connect_once(settings, recorded, &policy, order).await {
            Err(Failure::Refused(error)) => {
                refusal.get_or_insert(error);
            }
            other => return other,
        }
    }
    Err(Failure::Final(refusal.unwrap_or_else(|| ProviderError::new("no host key algorithm to ask for"))))
}

/// The host key algorithms to ask for, one list per attempt: see [`connect`].
fn key_orders(policy: &Policy) -> Vec<Vec<Algorithm>> {
    let default = Preferred::DEFAULT.key.to_vec();
    let first = |family: &[Algorithm]| -> Vec<Algorithm> {
        let rest = default.iter().filter(|a| !family.contains(a)).cloned();
        family.iter().cloned().chain(rest).collect()
    };
    match policy {
        Policy::Pinned { algorithm: Some(algorithm), .. } => vec![first(&family_of(algorithm))],
        Policy::Pinned { algorithm: None, .. } => {
            let families = [
                vec![Algorithm::Ed25519],
                family_of(&Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 }),
                family_of(&Algorithm::Rsa { hash: None }),
            ];
            families.iter().map(|family| first(family)).collect()
        }
        Policy::KnownHosts { path, host, port } => {
            let listed = russh::keys::known_hosts::known_host_keys_path(host, *port, path).unwrap_or_default();
            let mut family = Vec::new();
            for (_, key) in listed {
                for algorithm in family_of(&key.algorithm()) {
                    if !family.contains(&algorithm) {
                        family.push(algorithm);
                    }
                }
            }
            vec![first(&family)]
        }
        Policy::FirstUse(_) => vec![default],
    }
}

/// The host key algorithms a key of `algorithm` signs with: RSA with SHA-2 first, and
/// every ECDSA curve (a fingerprint does not say which).
fn family_of(algorithm: &Algorithm) -> Vec<Algorithm> {
    match algorithm {
        Algorithm::Rsa { .. } => vec![
            Algorithm::Rsa { hash: Some(HashAlg::Sha512) },
            Algorithm::Rsa { hash: Some(HashAlg::Sha256) },
            Algorithm::Rsa { hash: None },
        ],
        Algorithm::Ecdsa { .. } => [EcdsaCurve::NistP256, EcdsaCurve::NistP384, EcdsaCurve::NistP521]
            .into_iter()
            .map(|curve| Algorithm::Ecdsa { curve })
            .collect(),
        other => vec![other.clone()],
    }
}

async fn connect_once(
    settings: &Settings,
    recorded: Option<&str>,
    policy: &Policy,
    order: Vec<Algorithm>,
) -> Result<Connection, Failure> {
    let verifier = Verifier { policy: policy.clone(), seen: Arc::new(Mutex::new(None)) };
    let seen = verifier.seen.clone();
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        // Commands are small messages waiting for answers: Nagle's delay would cost
        // tens of milliseconds per command.
        nodelay: true,
        preferred: Preferred { key: order.into(), ..Preferred::DEFAULT },
        ..client::Config::default()
    });
    let (connected, bastion) = match &settings.bastion {
        None => {
            let target = (settings.host.as_str(), settings.port);
            (tokio::time::timeout(settings.connect_timeout, client::connect(config, target, verifier)).await, None)
        }
        Some(jump) => {
            let bastion = Box::pin(connect_bastion(jump)).await?;
            let channel = bastion
                .handle
                .channel_open_direct_tcpip(settings.host.clone(), u32::from(settings.port), "127.0.0.1", 0)
                .await
                .map_err(|error| {
                    Failure::Final(
                        ProviderError::new(format!(
                            "the bastion {} did not open a tunnel to {}: {}",
                            address(jump),
                            address(settings),
                            describe(&error)
                        ))
                        .with_help("the bastion's sshd must allow TCP forwarding (`AllowTcpForwarding`, `PermitOpen`) to the host"),
                    )
                })?;
            let connecting = client::connect_stream(config, channel.into_stream(), verifier);
            (tokio::time::timeout(settings.connect_timeout, connecting).await, Some(Box::new(bastion)))
        }
    };
    let handle = match connected {
        Err(_) => {
            return Err(Failure::Transient(
                ProviderError::new(format!(
                    "cannot connect to {}: no answer within {}s",
                    address(settings),
                    settings.connect_timeout.as_secs()
                ))
                .with_help("check `host` and `port`, and that the server is up; `wait` keeps trying while it boots")
                .retryable(),
            ))
        }
        Ok(Err(error)) => return Err(connect_error(settings, recorded, error, &seen)),
        Ok(Ok(handle)) => handle,
    };
    let fingerprint = seen.lock().map(|seen| seen.clone()).unwrap_or_default().unwrap_or_default();
    let mut connection = Connection { handle, _bastion: bastion, fingerprint, sudo: settings.sudo };
    authenticate(settings, &mut connection.handle).await?;
    Ok(connection)
}

/// The connection to the bastion. Its host key cannot be recorded (resources record
/// the host's), so it must be pinned with its `host_key` or listed in the provider's
/// `known_hosts`.
async fn connect_bastion(jump: &Settings) -> Result<Connection, Failure> {
    if jump.host_key.is_none() && jump.known_hosts.is_none() {
        return Err(Failure::Final(
            ProviderError::new(format!("the bastion {} has no `host_key`", address(jump)))
                .on_attribute("bastion")
                .with_help("pin the bastion's key with `host_key` in the `bastion` block, or list it in `known_hosts`"),
        ));
    }
    connect(jump, None).await.map_err(|failure| {
        let in_bastion =
            |error: ProviderError| ProviderError { message: format!("bastion: {}", error.message), ..error };
        match failure {
            Failure::Transient(error) => Failure::Transient(in_bastion(error)),
            Failure::Final(error) | Failure::Refused(error) => Failure::Final(in_bastion(error)),
        }
    })
}

fn connect_error(
    settings: &Settings,
    recorded: Option<&str>,
    error: russh::Error,
    seen: &Arc<Mutex<Option<String>>>,
) -> Failure {
    if let russh::Error::UnknownKey = error {
        let presented = seen.lock().ok().and_then(|seen| seen.clone()).unwrap_or_default();
        return Failure::Refused(key_refused(settings, recorded, &presented));
    }
    let retry = matches!(error, russh::Error::IO(_) | russh::Error::Disconnect | russh::Error::ConnectionTimeout);
    let error = ProviderError::new(format!("cannot connect to {}: {}", address(settings), describe(&error)))
        .with_help("check `host` and `port`, and that an SSH server listens there; `wait` keeps trying while it boots");
    if retry {
        Failure::Transient(error.retryable())
    } else {
        Failure::Final(error)
    }
}

/// What went wrong, in words of our own: russh's and the system's messages ("Connection
/// refused (os error 111)", "failed to lookup address information") are not shown as
/// they are.
fn describe(error: &russh::Error) -> String {
    match error {
        russh::Error::IO(io) => describe_io(io),
        russh::Error::Disconnect => "the server closed the connection".to_string(),
        russh::Error::ConnectionTimeout | russh::Error::KeepaliveTimeout => "the server stopped answering".to_string(),
        russh::Error::ChannelOpenFailure(_) => "the server refused to open a channel".to_string(),
        russh::Error::NoCommonAlgo { .. } => "the server and Infra have no algorithm in common".to_string(),
        other => format!("the SSH session failed ({other})"),
    }
}

fn describe_io(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "the connection was refused (nothing listens on that port)".to_string(),
        ErrorKind::TimedOut => "no answer".to_string(),
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof => "the connection was cut".to_string(),
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => "the host cannot be reached".to_string(),
        ErrorKind::AddrNotAvailable => "the address is not available".to_string(),
        _ if error.to_string().contains("lookup address") => "the host name does not resolve".to_string(),
        _ => format!("a network error ({})", error.kind()),
    }
}

fn key_refused(settings: &Settings, recorded: Option<&str>, presented: &str) -> ProviderError {
    match (&settings.host_key, &settings.known_hosts) {
        (Some(pinned), _) => ProviderError::new(format!(
            "the host key of {} does not match `host_key`: expected {}, the server presents {presented}",
            address(settings),
            pinned_fingerprint(pinned),
        ))
        .on_attribute("host_key")
        .with_help("nothing was run; if the server's key really changed, update `host_key`"),
        (None, Some(path)) => ProviderError::new(format!(
            "the host key of {} ({presented}) is not accepted by `{}`",
            address(settings),
            path.display()
        ))
        .on_attribute("known_hosts")
        .with_help(
            "nothing was run; the file must list the host (as `[host]:port` for a port other than 22) with this key",
        ),
        (None, None) => changed_key(settings, recorded.unwrap_or("another key"), presented),
    }
}

/// The fingerprint of a pinned `host_key` (a public key line, or a fingerprint itself).
fn pinned_fingerprint(pinned: &str) -> String {
    match parse_public_key(pinned) {
        Ok(key) => fingerprint(&key),
        Err(_) => pinned.trim().to_string(),
    }
}

pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A public key in OpenSSH's one-line form (`ssh-ed25519 AAAA... comment`).
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let mut fields = text.split_whitespace();
    let (Some(_algorithm), Some(base64)) = (fields.next(), fields.next()) else {
        return Err("a public key is written `ALGORITHM BASE64 [COMMENT]`, as in known_hosts or a .pub file".into());
    };
    russh::keys::parse_public_key_base64(base64)
        .map_err(|_| "its key (the second word) is not a valid public key in Base64".to_string())
}

/// Checks a configured `host_key` (in the block `within`, "" or "bastion: "): a public
/// key line or a `SHA256:` fingerprint.
pub fn check_host_key(pinned: &str, within: &str) -> ProviderResult<()> {
    if pinned.trim().starts_with("SHA256:") {
        return Ok(());
    }
    parse_public_key(pinned).map(drop).map_err(|message| {
        ProviderError::new(format!("{within}`host_key` is not a public key or a fingerprint: {message}"))
            .on_attribute(if within.is_empty() { "host_key" } else { "bastion" })
            .with_help(
                "give the server's public key line (`ssh-ed25519 AAAA...`, from /etc/ssh/ssh_host_ed25519_key.pub) or \
                 its fingerprint (`SHA256:...`, as `ssh-keygen -lf` prints it)",
            )
    })
}

/// Which host keys this connection accepts.
#[derive(Clone)]
enum Policy {
    /// `host_key`: exactly this key (or a key with this fingerprint), and the key's
    /// algorithm when the pin is a public key line.
    Pinned { fingerprint: String, algorithm: Option<Algorithm> },
    /// `known_hosts`: a key the file lists for the host.
    KnownHosts { path: PathBuf, host: String, port: u16 },
    /// Neither: any key on first use, else the key a resource recorded.
    FirstUse(Option<String>),
}

fn policy(settings: &Settings, recorded: Option<&str>) -> ProviderResult<Policy> {
    if let Some(pinned) = &settings.host_key {
        if pinned.trim().starts_with("SHA256:") {
            return Ok(Policy::Pinned { fingerprint: pinned.trim().to_string(), algorithm: None });
        }
        check_host_key(pinned, "")?;
        let key = parse_public_key(pinned).map_err(ProviderError::new)?;
        return Ok(Policy::Pinned { fingerprint: fingerprint(&key), algorithm: Some(key.algorithm()) });
    }
    if let Some(path) = &settings.known_hosts {
        if !path.is_file() {
            return Err(ProviderError::new(format!("`known_hosts` file `{}` does not exist", path.display()))
                .on_attribute("known_hosts")
                .with_help("the file is checked strictly: it must exist and list the host"));
        }
        return Ok(Policy::KnownHosts { path: path.clone(), host: settings.host.clone(), port: settings.port });
    }
    Ok(Policy::FirstUse(recorded.map(str::to_string)))
}

/// russh's client handler: checks the server's host key against the policy, and keeps
/// the fingerprint it saw for the messages and the record.
struct Verifier {
    policy: Policy,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
        let presented = fingerprint(key);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(presented.clone());
        }
        Ok(match &self.policy {
            Policy::Pinned { fingerprint, .. } => *fingerprint == presented,
            Policy::KnownHosts { path, host, port } => known_hosts_accepts(path, host, *port, key),
            Policy::FirstUse(None) => true,
            Policy::FirstUse(Some(recorded)) => *recorded == presented,
        })
    }
}

/// Strict: the file must list the host with this very key. A host it does not list, or
/// lists with another key, is refused.
fn known_hosts_accepts(path: &PathBuf, host: &str, port: u16, key: &PublicKey) -> bool {
    match russh::keys::known_hosts::known_host_keys_path(host, port, path) {
        Ok(keys) => keys.iter().any(|(_, known)| known.key_data() == key.key_data()),
        Err(_) => false,
    }
}

/// Logs in with the configured methods in turn: the private key, the agent's keys, the
/// password. A refusal is retried while `wait` lasts (a new server's keys may not be
/// installed yet).
async fn authenticate(settings: &Settings, handle: &mut Handle<Verifier>) -> Result<(), Failure> {
    let user = settings.user.clone();
    let mut tried = Vec::new();
    if let Some(text) = &settings.private_key {
        tried.push("the private key");
        let key = russh::keys::decode_secret_key(text, None).map_err(|_| {
            Failure::Final(
                ProviderError::new("`private_key` is not a private key Infra can read")
                    .on_attribute("private_key")
                    .with_help(
                    "give an unencrypted key in OpenSSH or PEM form, such as `tls.private_key`'s `private_key_openssh`",
                ),
            )
        })?;
        let hash = handle.best_supported_rsa_hash().await.map_err(|e| lost(settings, e))?.flatten();
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
        if accepted(&handle.authenticate_publickey(user.clone(), key).await.map_err(|e| lost(settings, e))?) {
            return Ok(());
        }
    }
    if settings.agent {
        tried.push("the agent's keys");
        if authenticate_with_agent(settings, handle).await? {
            return Ok(());
        }
    }
    if let Some(password) = &settings.password {
        tried.push("the password");
        let result = handle.authenticate_password(user.clone(), password.clone()).await;
        if accepted(&result.map_err(|e| lost(settings, e))?) {
            return Ok(());
        }
    }
    if tried.is_empty() {
        return Err(Failure::Final(
            ProviderError::new(format!("no way to log in to {}", address(settings)))
                .with_help("set `private_key`, `password` or `agent = true` in the provider block"),
        ));
    }
    Err(Failure::Transient(
        ProviderError::new(format!("{} refused the login (tried {})", address(settings), tried.join(", ")))
            .with_help("check `user` and that the server accepts this key or password for them"),
    ))
}

async fn authenticate_with_agent(settings: &Settings, handle: &mut Handle<Verifier>) -> Result<bool, Failure> {
    let agent_error = |message: String| {
        Failure::Final(
            ProviderError::new(format!("cannot use the SSH agent: {message}"))
                .on_attribute("agent")
                .with_help("`agent = true` uses the agent at SSH_AUTH_SOCK; start one (`ssh-agent`) and add a key"),
        )
    };
    let Some(socket) = std::env::var_os("SSH_AUTH_SOCK") else {
        return Err(agent_error("`SSH_AUTH_SOCK` is not set, so there is no agent to ask".to_string()));
    };
    let socket = PathBuf::from(socket);
    let mut agent = russh::keys::agent::client::AgentClient::connect_uds(&socket)
        .await
        .map_err(|_| agent_error(format!("no agent answers at `{}` (`SSH_AUTH_SOCK`)", socket.display())))?;
    let identities =
        agent.request_identities().await.map_err(|_| agent_error("the agent did not list its keys".to_string()))?;
    let hash = handle.best_supported_rsa_hash().await.map_err(|e| lost(settings, e))?.flatten();
    for key in identities {
        match handle.authenticate_publickey_with(settings.user.clone(), key, hash, &mut agent).await {
            Ok(result) if accepted(&result) => return Ok(true),
            Ok(_) => {}
            Err(_) => return Err(agent_error("the agent did not sign the login".to_string())),
        }
    }
    Ok(false)
}

fn accepted(result: &AuthResult) -> bool {
    matches!(result, AuthResult::Success)
}

fn lost(settings: &Settings, error: russh::Error) -> Failure {
    Failure::Transient(
        ProviderError::new(format!(
            "the connection to {} failed while logging in: {}",
            address(settings),
            describe(&error)
        ))
        .retryable(),
    )
}

impl Connection {
    /// Runs `script` with `sh -c` (through `sudo -n` when the provider says so), feeding
    /// it `stdin`. With a `timeout`, the remote `timeout` command kills it when time is
    /// up (exit status 124 or 137), and the channel is abandoned a little later still.
    pub async fn run(&self, script: &str, stdin: Option<&[u8]>, timeout: Option<Duration>) -> ProviderResult<Output> {
        let command = shell::command_line(script, self.sudo, timeout);
        let running = self.run_raw(&command, stdin);
        match timeout {
            None => running.await,
            Some(limit) => match tokio::time::timeout(limit + Duration::from_secs(10), running).await {
                Ok(result) => result,
                Err(_) => Ok(Output { exit_code: Some(shell::TIMED_OUT), ..Output::default() }),
            },
        }
    }

    async fn run_raw(&self, command: &str, stdin: Option<&[u8]>) -> ProviderResult<Output> {
        let lost = |error: russh::Error| {
            ProviderError::new(format!("the SSH connection failed: {}", describe(&error)))
                .with_help("the server may have closed the connection; run again")
                .retryable()
        };
        let channel = self.handle.channel_open_session().await.map_err(lost)?;
        channel.exec(true, command.as_bytes()).await.map_err(lost)?;
        // Standard input is sent while the channel's messages are read: the session
        // queues window adjustments among them, and a full queue would stall the upload.
        let (mut messages, input) = channel.split();
        let send = async {
            if let Some(bytes) = stdin {
                input.data(bytes).await?;
            }
            input.eof().await
        };
        let receive = async {
            let mut output = Output::default();
            while let Some(message) = messages.wait().await {
                match message {
                    ChannelMsg::Data { data } => output.stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => output.stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => output.exit_code = Some(exit_status),
                    _ => {}
                }
            }
            output
        };
        let (sent, output) = tokio::join!(send, receive);
        // A command that exits without reading all of its input has its say in its
        // exit status; only a channel that ended without one lost the connection.
        if let (Err(error), None) = (sent, output.exit_code) {
            return Err(lost(error));
        }
        Ok(output)
    }
}
