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
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;

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
}

/// The outcome of the last attempt to connect, and when it ended.
struct Attempt {
    result: Result<Arc<Connection>, ProviderError>,
    ended: Instant,
}

/// How old a transient failure must be before another operation tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Lazy {
    pub fn new(settings: Settings) -> Lazy {
        Lazy { settings, state: tokio::sync::Mutex::new(None) }
    }

    /// The connection; `recorded` is the host key fingerprint a resource recorded when
    /// it was last applied. Without `host_key` or `known_hosts`, the first caller's
    /// recorded fingerprint is what the server must present, checked before logging in
    /// (a password is never sent to a server whose key changed); every caller's record
    /// is checked against the connection's key after.
    pub async fn get(&self, recorded: Option<&str>) -> ProviderResult<Arc<Connection>> {
        let connection = {
            let mut state = self.state.lock().await;
            // A failed attempt is retried after a pause; a connection the server or the
            // network closed (a dropped connection mid-apply) is opened again.
            let stale = |attempt: &Attempt| match &attempt.result {
                Err(error) => error.retryable && attempt.ended.elapsed() >= RETRY_AFTER,
                Ok(connection) => connection.handle.is_closed(),
            };
            if state.as_ref().is_none_or(stale) {
                let result = connect_waiting(&self.settings, recorded.map(str::to_string)).await;
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

    /// Whether host keys are trusted on first use: neither `host_key` nor `known_hosts`
    /// is set.
    pub fn is_first_use(&self) -> bool {
        self.settings.host_key.is_none() && self.settings.known_hosts.is_none()
    }
}

fn changed_key(settings: &Settings, recorded: &str, presented: &str) -> ProviderError {
    ProviderError::new(format!(
        "the host key of {} changed: it was {recorded} when this resource was applied, the server now presents {presented}",
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
            Err(Failure::Final(error)) => return Err(error),
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
}

async fn connect(settings: &Settings, recorded: Option<&str>) -> Result<Connection, Failure> {
    let policy = policy(settings, recorded).map_err(Failure::Final)?;
    let verifier = Verifier { policy, seen: Arc::new(Mutex::new(None)) };
    let seen = verifier.seen.clone();
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        // Commands are small messages waiting for answers: Nagle's delay would cost
        // tens of milliseconds per command.
        nodelay: true,
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
                            "the bastion {} did not open a tunnel to {}: {error}",
                            address(jump),
                            address(settings)
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
            Failure::Final(error) => Failure::Final(in_bastion(error)),
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
        return Failure::Final(key_refused(settings, recorded, &presented));
    }
    let retry = matches!(error, russh::Error::IO(_) | russh::Error::Disconnect | russh::Error::ConnectionTimeout);
    let error = ProviderError::new(format!("cannot connect to {}: {error}", address(settings)))
        .with_help("check `host` and `port`, and that an SSH server listens there; `wait` keeps trying while it boots");
    if retry {
        Failure::Transient(error.retryable())
    } else {
        Failure::Final(error)
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
    russh::keys::parse_public_key_base64(base64).map_err(|error| format!("not a public key: {error}"))
}

/// Which host keys this connection accepts.
enum Policy {
    /// `host_key`: exactly this key (or a key with this fingerprint).
    Pinned(String),
    /// `known_hosts`: a key the file lists for the host.
    KnownHosts { path: PathBuf, host: String, port: u16 },
    /// Neither: any key on first use, else the key a resource recorded.
    FirstUse(Option<String>),
}

fn policy(settings: &Settings, recorded: Option<&str>) -> ProviderResult<Policy> {
    if let Some(pinned) = &settings.host_key {
        let expected = if pinned.trim().starts_with("SHA256:") {
            pinned.trim().to_string()
        } else {
            let key = parse_public_key(pinned)
                .map_err(|message| ProviderError::new(format!("`host_key`: {message}")).on_attribute("host_key"))?;
            fingerprint(&key)
        };
        return Ok(Policy::Pinned(expected));
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
            Policy::Pinned(expected) => *expected == presented,
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
    let mut agent =
        russh::keys::agent::client::AgentClient::connect_env().await.map_err(|e| agent_error(e.to_string()))?;
    let identities = agent.request_identities().await.map_err(|e| agent_error(e.to_string()))?;
    let hash = handle.best_supported_rsa_hash().await.map_err(|e| lost(settings, e))?.flatten();
    for key in identities {
        match handle.authenticate_publickey_with(settings.user.clone(), key, hash, &mut agent).await {
            Ok(result) if accepted(&result) => return Ok(true),
            Ok(_) => {}
            Err(error) => return Err(agent_error(error.to_string())),
        }
    }
    Ok(false)
}

fn accepted(result: &AuthResult) -> bool {
    matches!(result, AuthResult::Success)
}

fn lost(settings: &Settings, error: russh::Error) -> Failure {
    Failure::Transient(
        ProviderError::new(format!("the connection to {} failed while logging in: {error}", address(settings)))
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
            ProviderError::new(format!("the SSH connection failed: {error}"))
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
