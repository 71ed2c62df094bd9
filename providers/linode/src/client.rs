//! Talking to the Linode API v4: the bearer token, JSON requests, retries (a 429 waits
//! as long as its `Retry-After` says; server errors and lost connections back off
//! exponentially), every page of a list (`page`, `pages`), and Linode's error documents
//! (`{"errors": [{"field", "reason"}]}`) turned into [`LinodeError`]s.

use std::time::Duration;

use infra_provider_kit::retry::error_chain;
use infra_provider_kit::{Interrupted, RetryInterrupted, Retrying, Stop};
use infra_runtime::provider::ProviderError;
use serde_json::{json, Value as Json};

/// The API's address when the configuration and the environment name none.
pub const DEFAULT_API_URL: &str = "https://api.linode.com/v4";
/// How often a throttled or failed request is tried in all.
const MAX_ATTEMPTS: u32 = 6;
/// The first backoff after a server error; each retry doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The largest page Linode serves; fewer pages mean fewer requests.
const PAGE_SIZE: u32 = 500;

/// Why a request never left Infra: nothing reached Linode, so nothing was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSent {
    /// The API's address is not a URL a request can go to (`127.0.0.1:8080`, without
    /// its scheme): sending it again cannot help.
    BadAddress,
    /// No connection was made (refused, no route, a name that does not resolve): the
    /// request may be sent again, even a create.
    Unreachable,
}

/// A failed call: the HTTP status (0 when no answer came) and Linode's reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinodeError {
    pub operation: String,
    pub status: u16,
    pub reasons: Vec<String>,
    /// The first field of the configuration Linode's errors name, if any.
    pub field: Option<String>,
    /// How long the server asked to wait before trying again (`Retry-After`).
    retry_after: Option<Duration>,
    /// The request creates something (a `POST`) and the answer does not say it was
    /// turned away unprocessed: sending it again could make a second object.
    unsafe_to_repeat: bool,
    /// The request never reached Linode, and why (see [`NotSent`]).
    not_sent: Option<NotSent>,
    /// A wait or a retry pause the run's interruption ended (Ctrl-C), as the error it
    /// is: it says only that. (Boxed: errors are returned everywhere, and this is rare.)
    interrupted: Option<Box<ProviderError>>,
}

impl LinodeError {
    fn local(operation: &str, message: impl Into<String>) -> LinodeError {
        LinodeError {
            operation: operation.to_string(),
            status: 0,
            reasons: vec![message.into()],
            field: None,
            retry_after: None,
            unsafe_to_repeat: false,
            not_sent: None,
            interrupted: None,
        }
    }

    pub fn new(operation: &str, status: u16, reason: String) -> LinodeError {
        LinodeError {
            operation: operation.to_string(),
            status,
            reasons: vec![reason],
            field: None,
            retry_after: None,
            unsafe_to_repeat: false,
            not_sent: None,
            interrupted: None,
        }
    }

    /// An object that was just written but cannot be read back.
    pub fn vanished(operation: &str) -> LinodeError {
        let reason = "the object is gone right after it was written; try again".to_string();
        LinodeError {
            operation: operation.to_string(),
            status: 404,
            reasons: vec![reason],
            field: None,
            retry_after: None,
            unsafe_to_repeat: false,
            not_sent: None,
            interrupted: None,
        }
    }

    /// The error, on `field` when Linode's answer names no field of its own.
    pub fn on_field(mut self, field: &str) -> LinodeError {
        self.field.get_or_insert_with(|| field.to_string());
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// Marks an error of a request that creates something (see `unsafe_to_repeat`); one
    /// that never reached Linode made nothing.
    fn unsafe_to_repeat_if(mut self, creates: bool) -> Self {
        self.unsafe_to_repeat = creates && self.not_sent.is_none();
        self
    }

    /// Never sent for want of a connection, throttled (429), unavailable (502, 503:
    /// turned away before any work), or any other server error or lost answer of a
    /// request that is safe to send again. A `POST` that failed otherwise may have made
    /// its object, so it is not sent again: the error says so, and the next plan finds
    /// what exists.
    fn is_retryable(&self) -> bool {
        if self.interrupted.is_some() {
            return false;
        }
        match self.not_sent {
            Some(NotSent::BadAddress) => return false,
            Some(NotSent::Unreachable) => return true,
            None => {}
        }
        match self.status {
            429 | 502 | 503 => true,
            0 | 500.. => !self.unsafe_to_repeat,
            _ => false,
        }
    }
}

/// A wait the run's interruption ended, carried to the [`ProviderError`] unchanged.
impl From<Interrupted> for LinodeError {
    fn from(interrupted: Interrupted) -> LinodeError {
        let waiting = format!("wait for {}", interrupted.waiting_for);
        LinodeError { interrupted: Some(Box::new(interrupted.into())), ..LinodeError::local(&waiting, "interrupted") }
    }
}

impl LinodeError {
    /// A retry pause of `operation` the run's interruption ended, carried to the
    /// [`ProviderError`] unchanged.
    fn retry_interrupted(operation: &str, interrupted: RetryInterrupted) -> LinodeError {
        LinodeError { interrupted: Some(Box::new(interrupted.into())), ..LinodeError::local(operation, "interrupted") }
    }

    /// Whether Linode may have processed the request this error answers: not when it was
    /// never sent, nor turned away before any work (429, 502, 503).
    fn maybe_processed(&self) -> bool {
        self.not_sent.is_none() && !matches!(self.status, 429 | 502 | 503)
    }

    /// The status and reasons, for the message of an interrupted retry.
    fn summary(&self) -> String {
        match self.status {
            0 => self.reasons.join("; "),
            status => format!("{status} ({})", self.reasons.join("; ")),
        }
    }
}

impl From<LinodeError> for ProviderError {
    fn from(error: LinodeError) -> ProviderError {
        if let Some(interrupted) = error.interrupted {
            return *interrupted;
        }
        let reasons = error.reasons.join("; ");
        let operation = &error.operation;
        let (message, help) = match error.status {
            _ if error.not_sent.is_some() => not_sent_message(&error, &reasons),
            status if error.unsafe_to_repeat && (status == 0 || status >= 500) && !error.is_retryable() => (
                format!(
                    "Linode could not {operation}: {}; it was not sent again, since it may have made the object",
                    if status == 0 { reasons } else { format!("a server error ({status}) ({reasons})") },
                ),
                "look for the object at Linode before applying again: if it was made, `infra import` it; if not, \
                 apply again",
            ),
            0 => (
                format!("Linode: cannot {operation}: {reasons}"),
                "check `api_url` (or LINODE_URL) and the network; the request got no answer from the API",
            ),
            401 => (
                format!("Linode refused the token (401 Unauthorized): {reasons}"),
                "set `token` in `provider linode`, or LINODE_TOKEN, to a valid personal access token",
            ),
            403 => (
                format!("the token may not {operation} (403 Forbidden): {reasons}"),
                "give the personal access token read/write access to this kind of object",
            ),
            408 => (
                format!("Linode did not finish in time: the {operation} timed out, {reasons}"),
                "the object exists and the state keeps it: apply again once Linode has caught up, which takes it \
                 over (an instance's `timeouts` block sets how long to wait)",
            ),
            404 => (
                format!("Linode found nothing to {operation} (404): {reasons}"),
                "the object no longer exists or the id is wrong; check the value the configuration refers to",
            ),
            status if status >= 500 => (
                format!("Linode could not {operation}: a server error ({status}): {reasons}"),
                "the fault is on Linode's side, not in the configuration: apply again later (status.linode.com \
                 tells of incidents)",
            ),
            status => (
                format!("Linode could not {operation} ({status}): {reasons}"),
                match error.field.as_deref() {
                    Some("type") => "Linode has no such type: the `linode.types` data source lists them",
                    Some("region") => "Linode has no such region: the `linode.regions` data source lists them",
                    _ => "Linode refused a value of the configuration or failed; the message says which",
                },
            ),
        };
        let retryable = error.is_retryable();
        let mut provider_error = ProviderError::new(message).with_help(help);
        if let Some(field) = error.field {
            provider_error = provider_error.on_attribute(field);
        }
        if error.status == 401 {
            // The token, not the object: once for every resource that uses it.
            provider_error = provider_error.about_configuration();
        }
        if retryable {
            provider_error.retryable()
        } else {
            provider_error
        }
    }
}

/// The message and help of a request that never reached Linode: nothing was made, so
/// (unlike a create whose answer was lost) applying again is safe once the address or
/// the network is fixed.
fn not_sent_message(error: &LinodeError, reasons: &str) -> (String, &'static str) {
    let operation = &error.operation;
    match error.not_sent {
        Some(NotSent::BadAddress) => (
            format!(
                "Linode: cannot {operation}: the API's address is not a URL ({reasons}); the request was never sent"
            ),
            "set `api_url` in `provider linode` (or LINODE_URL) to the API's address with its scheme, such as \
             `https://api.linode.com/v4`; nothing reached Linode",
        ),
        _ => (
            format!("Linode: cannot {operation}: no connection to the API ({reasons}); the request was never sent"),
            "nothing reached Linode, so nothing was made and applying again is safe: check `api_url` in \
             `provider linode` (or LINODE_URL) and the network",
        ),
    }
}

pub type LinodeResult<T> = Result<T, LinodeError>;

/// How long an instance may take to reach the status it is heading for, and the first
/// pause between two looks (it doubles up to `max_interval`).
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
    pub max_interval: Duration,
}

const WAIT: Wait = Wait {
    timeout: Duration::from_secs(600),
    interval: Duration::from_millis(250),
    max_interval: Duration::from_secs(5),
};

/// A configured connection to the Linode API.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The personal access token: only ever put in the `Authorization` header.
    token: String,
    pub wait: Wait,
    /// Set when the run is interrupted (`Provider::stop`): the waits end at once.
    pub stop: Stop,
}

impl Client {
    pub fn new(api_url: &str, token: &str) -> Result<Client, ProviderError> {
        check_address(api_url)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(format!("cannot set up HTTP: {e}")))?;
        let base = api_url.trim_end_matches('/').to_string();
        Ok(Client { http, base, token: token.to_string(), wait: WAIT, stop: Stop::new() })
    }

    pub async fn get(&self, operation: &str, path: &str) -> LinodeResult<Json> {
        self.send(operation, reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, operation: &str, path: &str, body: &Json) -> LinodeResult<Json> {
        self.send(operation, reqwest::Method::POST, path, Some(body)).await
    }

    /// A POST without a body: an action such as `boot`.
    pub async fn action(&self, operation: &str, path: &str) -> LinodeResult<Json> {
        self.send(operation, reqwest::Method::POST, path, None).await
    }

    pub async fn put(&self, operation: &str, path: &str, body: &Json) -> LinodeResult<Json> {
        self.send(operation, reqwest::Method::PUT, path, Some(body)).await
    }

    /// Deletes an object; one that is already gone is no error.
    pub async fn delete(&self, operation: &str, path: &str) -> LinodeResult<()> {
        match self.send(operation, reqwest::Method::DELETE, path, None).await {
            Err(error) if error.is_not_found() => Ok(()),
            other => other.map(drop),
        }
    }

    /// An object, or `None` when the API says there is none.
    pub async fn find(&self, operation: &str, path: &str) -> LinodeResult<Option<Json>> {
        match self.get(operation, path).await {
            Err(error) if error.is_not_found() => Ok(None),
            other => other.map(Some),
        }
    }

    /// Every item of a list, page after page.
    pub async fn list(&self, operation: &str, path: &str) -> LinodeResult<Vec<Json>> {
        let mut items = Vec::new();
        let mut page: u64 = 1;
        loop {
            let answer = self.get(operation, &format!("{path}?page={page}&page_size={PAGE_SIZE}")).await?;
            items.extend(answer["data"].as_array().cloned().unwrap_or_default());
            let pages = answer["pages"].as_u64().unwrap_or(1);
            if page >= pages {
                return Ok(items);
            }
            page += 1;
        }
    }

    async fn send(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Json>,
    ) -> LinodeResult<Json> {
        let creates = method == reqwest::Method::POST;
        let mut retrying = Retrying::new(format!("the Linode request to {operation} ({method} {path})"), creates);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self.send_once(operation, method.clone(), path, body).await;
            match sent.map_err(|error| error.unsafe_to_repeat_if(creates)) {
                Err(error) if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                    // The pause ends at once when the run is interrupted. A create is
                    // only retried when it was never sent or turned away before any work
                    // (see `is_retryable`), so an interrupted one made nothing.
                    let wait = error.retry_after.unwrap_or_else(|| backoff(attempt));
                    let processed = error.maybe_processed();
                    retrying
                        .pause(&self.stop, wait, error.summary(), processed)
                        .await
                        .map_err(|interrupted| LinodeError::retry_interrupted(operation, interrupted))?;
                }
                Err(mut error) if error.is_retryable() => {
                    error.reasons.push(format!("gave up after {MAX_ATTEMPTS} attempts"));
                    return Err(error);
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Json>,
    ) -> LinodeResult<Json> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, url.as_str()).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| send_error(operation, &url, &e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
        let text = response.text().await.map_err(|e| LinodeError::local(operation, format!("cannot read: {e}")))?;
        let document: Json =
            if text.trim().is_empty() { json!({}) } else { serde_json::from_str(&text).unwrap_or(Json::Null) };
        if status < 300 {
            if document.is_null() {
                return Err(LinodeError::local(operation, "the answer is not JSON"));
            }
            return Ok(document);
        }
        let field = document["errors"][0]["field"].as_str().map(str::to_string);
        let reasons = reasons(&document, status);
        Err(LinodeError {
            operation: operation.to_string(),
            status,
            reasons,
            field,
            retry_after,
            unsafe_to_repeat: false,
            not_sent: None,
            interrupted: None,
        })
    }
}

/// The form `api_url` takes: `http://` or `https://` and a host (the provider schema's
/// validator, which `infra check` runs on a literal).
pub const ADDRESS_PATTERN: &str = r"^https?://[^/?#\s]+";

/// Refuses an API address no request can go to, before anything is sent: without its
/// scheme (`127.0.0.1:8080`), a URL would be relative, or read `localhost:` as a scheme.
fn check_address(api_url: &str) -> Result<(), ProviderError> {
    let parsed = reqwest::Url::parse(api_url);
    let usable = parsed.as_ref().is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
    if usable {
        return Ok(());
    }
    let why = match parsed {
        Err(error) => error.to_string(),
        Ok(url) if !url.has_host() => "it names no host".to_string(),
        Ok(url) => format!("`{}` is not `http` or `https`", url.scheme()),
    };
    Err(ProviderError::new(format!("`{api_url}` is not an address of the Linode API: {why}"))
        .on_attribute("api_url")
        .with_help(
            "set `api_url` in `provider linode` (or LINODE_URL) to an address with its scheme, such as \
             `https://api.linode.com/v4` or `http://127.0.0.1:8080`",
        ))
}

/// A request `reqwest` could not complete. One that never left (an address that is not
/// a URL, no connection) is told from one whose answer was lost, which a create must not
/// repeat.
fn send_error(operation: &str, url: &str, error: &reqwest::Error) -> LinodeError {
    let not_sent = if error.is_builder() {
        Some(NotSent::BadAddress)
    } else if error.is_connect() {
        Some(NotSent::Unreachable)
    } else {
        None
    };
    let prefix = if not_sent.is_some() { "" } else { "no answer from " };
    let mut failed = LinodeError::local(operation, format!("{prefix}`{url}`: {}", error_chain(error)));
    failed.not_sent = not_sent;
    failed
}

/// The reasons of a Linode error document, each with its field when it names one.
fn reasons(document: &Json, status: u16) -> Vec<String> {
    let errors = document["errors"].as_array().cloned().unwrap_or_default();
    let reasons: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let reason = e["reason"].as_str()?;
            Some(match e["field"].as_str() {
                Some(field) => format!("`{field}`: {reason}"),
                None => reason.to_string(),
            })
        })
        .collect();
    if reasons.is_empty() {
        // Not Linode's form: a proxy's problem document, or nothing readable.
        let problems = document["validation"].as_array().cloned().unwrap_or_default();
        let messages: Vec<String> = problems.iter().filter_map(|p| p["message"].as_str().map(str::to_string)).collect();
        if !messages.is_empty() {
            return messages;
        }
        if let Some(detail) = document["detail"].as_str() {
            return vec![detail.to_string()];
        }
        return vec![format!("HTTP status {status}")];
    }
    reasons
}

fn backoff(attempt: u32) -> Duration {
    infra_provider_kit::retry::backoff(attempt, BASE_BACKOFF, MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }

    /// A create that could not connect was never sent: the pause before its retry ends
    /// at once when the run is interrupted (Ctrl-C), saying that nothing was made.
    #[test]
    fn an_interrupted_retry_of_a_create_never_sent_says_nothing_was_made() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = closed.local_addr().expect("address");
        drop(closed);
        let client = Client::new(&format!("http://{address}/v4"), "token").expect("client");
        client.stop.stop();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let started = std::time::Instant::now();
        let sent = runtime.block_on(client.post("create the SSH key", "/profile/sshkeys", &json!({"label": "k"})));
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let error = sent.expect_err("interrupted");
        assert!(!error.is_retryable() && !error.is_not_found(), "{error:?}");
        let error = ProviderError::from(error);
        assert!(
            error.message.starts_with(
                "interrupted while waiting to retry the Linode request to create the SSH key (POST /profile/sshkeys) \
                 (the last attempt failed: "
            ),
            "{}",
            error.message
        );
        let outcome = "; no attempt was processed (each was turned away or never sent), so nothing was made";
        assert!(error.message.ends_with(outcome), "{}", error.message);
        assert!(!error.retryable);
    }

    #[test]
    fn reasons_name_their_fields() {
        let document = json!({"errors": [{"field": "label", "reason": "too short"}, {"reason": "no"}]});
        assert_eq!(reasons(&document, 400), ["`label`: too short", "no"]);
        assert_eq!(reasons(&json!({}), 502), ["HTTP status 502"]);
    }

    #[test]
    fn a_server_error_says_the_fault_is_linodes() {
        let error = LinodeError::new("create the SSH key", 503, "Service Unavailable".to_string());
        let provider_error = ProviderError::from(error);
        assert!(provider_error.message.contains("a server error (503)"), "{}", provider_error.message);
        assert!(provider_error.help.as_deref().unwrap_or_default().contains("Linode's side"));
        assert!(provider_error.retryable);
    }

    #[test]
    fn an_unauthorized_answer_names_the_setting() {
        let error = LinodeError {
            operation: "GET /linode/instances/1".to_string(),
            status: 401,
            reasons: vec!["Invalid Token".to_string()],
            field: None,
            retry_after: None,
            unsafe_to_repeat: false,
            not_sent: None,
            interrupted: None,
        };
        let provider_error = ProviderError::from(error);
        assert!(provider_error.message.contains("401"), "{}", provider_error.message);
        assert!(provider_error.help.as_deref().unwrap_or_default().contains("LINODE_TOKEN"));
    }
}
