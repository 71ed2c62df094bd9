//! HTTP for network mirrors and registries: one client (reqwest over rustls) on a small
//! runtime of its own, since installing is synchronous, and the errors of a request as
//! the installer's diagnostics.
//!
//! Trust: the webpki roots reqwest is built with, plus every certificate in the PEM file
//! `SSL_CERT_FILE` names, as Go programs such as Terraform and the plugins themselves
//! trust it on Linux (a private registry's or a test's CA).

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
        Ok(Http { runtime, client })
    }

    /// The body of `url`; `None` when the server says it has nothing there (404).
    pub fn get(&self, url: &Url) -> Result<Option<Vec<u8>>, SourceError> {
        self.runtime.block_on(async {
            let response = self.client.get(url.clone()).send().await.map_err(|e| unreachable(url, &e))?;
            match response.status() {
                StatusCode::NOT_FOUND => return Ok(None),
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
