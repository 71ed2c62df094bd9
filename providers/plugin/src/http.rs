//! HTTP for network mirrors and registries: one client (reqwest over rustls) on a small
//! runtime of its own, since installing is synchronous, and the errors of a request as
//! the installer's diagnostics.
//!
//! Trust: the webpki roots reqwest is built with, plus every certificate in the PEM file
//! `SSL_CERT_FILE` names, as Go programs such as Terraform and the plugins themselves
//! trust it on Linux (a private registry's or a test's CA).
//!
//! Credentials, as Terraform finds them: a `TF_TOKEN_<host>` environment variable (the
//! host's periods written `_`, its hyphens `__`), else the token `terraform login` keeps
//! for the host in `~/.terraform.d/credentials.tfrc.json`. A host's token is sent as a
//! bearer token with every request to that host, and to no other.

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::codes;
use crate::source::SourceError;

/// The environment variable naming extra trusted CA certificates (PEM).
pub const CA_VARIABLE: &str = "SSL_CERT_FILE";

/// What to tell someone whose network, registry or mirror failed.
const OFFLINE_HELP: &str = "check the network and the address; without network access, install from a \
     filesystem mirror with `infra init --plugin-dir DIR`";

pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    credentials: Credentials,
}

impl Http {
    pub fn new() -> Result<Http, SourceError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // A connection that cannot be made in this time will not be made; a slow download
        // of a large package is left to finish.
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30));
        for certificate in extra_roots()? {
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder.build().map_err(|e| failed(format!("cannot set up HTTPS: {e}")))?;
        Ok(Http { runtime, client, credentials: Credentials::found() })
    }

    /// The body of `url`; `None` when the server says it has nothing there (404).
    pub fn get(&self, url: &Url) -> Result<Option<Vec<u8>>, SourceError> {
        self.runtime.block_on(async {
            let mut request = self.client.get(url.clone());
            let token = self.credentials.token(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.map_err(|e| unreachable(url, &e))?;
            match response.status() {
                StatusCode::NOT_FOUND => return Ok(None),
                status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                    return Err(refused_credentials(url, status, token.is_some()))
                }
                status if !status.is_success() => {
                    return Err(failed(format!("{} answered {status} to GET {}", host(url), redact(url))))
                }
                _ => {}
            }
            let body = response.bytes().await.map_err(|e| unreachable(url, &e))?;
            Ok(Some(body.to_vec()))
        })
    }

    /// The body of `url`, which must be there.
    pub fn get_found(&self, url: &Url) -> Result<Vec<u8>, SourceError> {
        self.get(url)?.ok_or_else(|| failed(format!("{} answered 404 Not Found to GET {}", host(url), redact(url))))
    }

    /// The JSON document at `url`; `None` on 404.
    pub fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<Option<T>, SourceError> {
        let Some(body) = self.get(url)? else { return Ok(None) };
        let document = serde_json::from_slice(&body)
            .map_err(|e| failed(format!("GET {} did not answer the expected JSON: {e}", redact(url))))?;
        Ok(Some(document))
    }
}

/// API tokens by host name (lower case, with its port when it has one).
#[derive(Debug, Default)]
struct Credentials {
    tokens: std::collections::BTreeMap<String, String>,
}

impl Credentials {
    /// The tokens of `credentials.tfrc.json`, overridden by `TF_TOKEN_*` variables.
    fn found() -> Credentials {
        let mut tokens = std::collections::BTreeMap::new();
        let file = std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(CREDENTIALS_FILE));
        if let Some(document) = file.and_then(|path| std::fs::read(path).ok()) {
            if let Ok(file) = serde_json::from_slice::<CredentialsFile>(&document) {
                for (host, entry) in file.credentials {
                    tokens.insert(host.to_lowercase(), entry.token);
                }
            }
        }
        for (name, value) in std::env::vars_os() {
            let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else { continue };
            if let Some(encoded) = name.strip_prefix(TOKEN_PREFIX).filter(|_| !value.is_empty()) {
                tokens.insert(encoded.replace("__", "-").replace('_', ".").to_lowercase(), value.to_string());
            }
        }
        Credentials { tokens }
    }

    /// The token for `url`'s host: `HOST:PORT` first, then the host name alone.
    fn token(&self, url: &Url) -> Option<&str> {
        let name = url.host_str()?.to_lowercase();
        let with_port = url.port().map(|port| format!("{name}:{port}"));
        with_port.and_then(|host| self.tokens.get(&host)).or_else(|| self.tokens.get(&name)).map(String::as_str)
    }
}

/// The prefix of the environment variables holding a host's token.
const TOKEN_PREFIX: &str = "TF_TOKEN_";

/// Where `terraform login` keeps tokens, under the home directory.
const CREDENTIALS_FILE: &str = ".terraform.d/credentials.tfrc.json";

#[derive(serde::Deserialize)]
struct CredentialsFile {
    #[serde(default)]
    credentials: std::collections::BTreeMap<String, CredentialsEntry>,
}

#[derive(serde::Deserialize)]
struct CredentialsEntry {
    token: String,
}

/// A host that wants credentials (401, 403): the help says how to give them, or that
/// the ones given were refused. The token itself is never shown.
fn refused_credentials(url: &Url, status: StatusCode, sent: bool) -> SourceError {
    let host = host(url);
    let variable = format!("{TOKEN_PREFIX}{}", url.host_str().unwrap_or_default().replace('-', "__").replace('.', "_"));
    let (message, help) = match sent {
        false => (
            format!("{host} answered {status} to GET {}: it needs credentials", redact(url)),
            format!(
                "set {variable} to an API token for {host}, or log in with `terraform login {host}` \
                 (Infra reads the token it keeps in ~/{CREDENTIALS_FILE})"
            ),
        ),
        true => (
            format!("{host} answered {status} to GET {}: it refused the token given for it", redact(url)),
            format!("check the token in {variable} or ~/{CREDENTIALS_FILE}; it may have expired or lack access"),
        ),
    };
    SourceError::refused(codes::SOURCE_FAILED, message, &help)
}

/// The certificates of `SSL_CERT_FILE`, when it is set.
fn extra_roots() -> Result<Vec<reqwest::Certificate>, SourceError> {
    let Some(path) = std::env::var_os(CA_VARIABLE).filter(|p| !p.is_empty()) else { return Ok(Vec::new()) };
    let pem = std::fs::read(&path).map_err(|e| {
        failed(format!("cannot read the CA certificates {CA_VARIABLE} names ({}): {e}", path.to_string_lossy()))
    })?;
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        failed(format!("{CA_VARIABLE} ({}) is not a PEM file of certificates: {e}", path.to_string_lossy()))
    })
}

/// A request that got no answer: the network, DNS, TLS or the server is at fault. The
/// innermost cause says which (reqwest's own layers repeat the URL).
fn unreachable(url: &Url, error: &reqwest::Error) -> SourceError {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        reason = inner.to_string();
        source = inner.source();
    }
    SourceError::refused(
        codes::SOURCE_FAILED,
        format!("cannot reach {} (GET {}): {reason}", host(url), redact(url)),
        OFFLINE_HELP,
    )
}

pub fn failed(message: String) -> SourceError {
    SourceError::refused(codes::SOURCE_FAILED, message, OFFLINE_HELP)
}

/// `HOST[:PORT]` of `url`.
pub fn host(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    }
}

/// `url` without a user name, password or query, which may hold credentials.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}
