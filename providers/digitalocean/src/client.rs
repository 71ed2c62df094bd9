//! Talking to the DigitalOcean API v2: the bearer token, JSON requests, retries (a 429
//! waits as long as its `Retry-After` says; server errors and lost connections back off
//! exponentially), every page of a list (following `links.pages.next`), waiting for an
//! action (`/v2/actions/ID`) to complete, and DigitalOcean's error documents
//! (`{"id", "message"}`) turned into [`ApiError`]s.

use std::time::{Duration, Instant};

use infra_provider_kit::retry::{backoff, error_chain, retry_after};
use infra_provider_kit::{Interrupted, RetryInterrupted, Retrying, Stop};
use infra_runtime::provider::ProviderError;
use serde_json::{json, Value as Json};

/// The API's address when the configuration and the environment name none.
pub const DEFAULT_API_URL: &str = "https://api.digitalocean.com";
/// How often a throttled or failed request is tried in all.
const MAX_ATTEMPTS: u32 = 6;
/// The first backoff after a server error; each retry doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The largest page DigitalOcean serves; fewer pages mean fewer requests.
const PER_PAGE: u32 = 200;

/// A failed call: the HTTP status (0 when no answer came) and DigitalOcean's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub operation: String,
    pub status: u16,
    pub message: String,
    /// How long the server asked to wait before trying again (`Retry-After`).
    retry_after: Option<Duration>,
    /// The request creates something (a `POST`) and the answer does not say it was
    /// turned away unprocessed: sending it again could make a second object.
    unsafe_to_repeat: bool,
    /// The request never left: no connection to `api_url` could be made, so nothing
    /// reached DigitalOcean (and a create made nothing).
    never_sent: bool,
    /// A wait or a retry pause the run's interruption ended (Ctrl-C), as the error it
    /// is: it says only that. (Boxed: errors are returned everywhere, and this is rare.)
    interrupted: Option<Box<ProviderError>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn local(operation: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            operation: operation.to_string(),
            status: 0,
            message: message.into(),
            retry_after: None,
            unsafe_to_repeat: false,
            never_sent: false,
            interrupted: None,
        }
    }

    pub fn new(operation: &str, status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            operation: operation.to_string(),
            status,
            message: message.into(),
            retry_after: None,
            unsafe_to_repeat: false,
            never_sent: false,
            interrupted: None,
        }
    }

    /// A request that never reached the API: no connection could be made.
    fn unsent(operation: &str, message: impl Into<String>) -> ApiError {
        ApiError { never_sent: true, ..ApiError::local(operation, message) }
    }

    /// An object that was just written but cannot be read back.
    pub fn vanished(operation: &str) -> ApiError {
        ApiError::new(operation, 404, "the object is gone right after it was written; try again")
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// Marks an error of a request that creates something (see `unsafe_to_repeat`); a
    /// request that was never sent made nothing and is safe to send again.
    fn unsafe_to_repeat_if(mut self, creates: bool) -> Self {
        self.unsafe_to_repeat = creates && !self.never_sent;
        self
    }

    /// Throttled (429), unavailable (502, 503: turned away before any work), or any other
    /// server error or lost answer of a request that is safe to send again. A `POST`
    /// that failed otherwise may have made its object, so it is not sent again: the
    /// error says so, and the next plan finds what exists.
    fn is_retryable(&self) -> bool {
        if self.interrupted.is_some() {
            return false;
        }
        match self.status {
            429 | 502 | 503 => true,
            0 | 500.. => !self.unsafe_to_repeat,
            _ => false,
        }
    }
}

/// A wait the run's interruption ended, carried to the [`ProviderError`] unchanged.
impl From<Interrupted> for ApiError {
    fn from(interrupted: Interrupted) -> ApiError {
        let waiting = format!("wait for {}", interrupted.waiting_for);
        ApiError { interrupted: Some(Box::new(interrupted.into())), ..ApiError::local(&waiting, "interrupted") }
    }
}

impl ApiError {
    /// A retry pause of `operation` the run's interruption ended, carried to the
    /// [`ProviderError`] unchanged.
    fn retry_interrupted(operation: &str, interrupted: RetryInterrupted) -> ApiError {
        ApiError { interrupted: Some(Box::new(interrupted.into())), ..ApiError::local(operation, "interrupted") }
    }

    /// Whether DigitalOcean may have processed the request this error answers: not when
    /// it was never sent, nor turned away before any work (429, 502, 503).
    fn maybe_processed(&self) -> bool {
        !self.never_sent && !matches!(self.status, 429 | 502 | 503)
    }

    /// The status and message, for the message of an interrupted retry.
    fn summary(&self) -> String {
        match self.status {
            0 => self.message.clone(),
            status => format!("{status} ({})", self.message),
        }
    }
}

impl From<ApiError> for ProviderError {
    fn from(error: ApiError) -> ProviderError {
        if let Some(interrupted) = error.interrupted {
            return *interrupted;
        }
        let retryable = error.is_retryable();
        let lost = error.status == 0 || error.status >= 500;
        let unsafe_to_repeat = error.unsafe_to_repeat && lost && !retryable;
        let ApiError { operation, status, message, never_sent, .. } = error;
        let (message, help) = match status {
            0 if never_sent => (
                format!("DigitalOcean: cannot {operation}: the request was never sent ({message})"),
                "no connection to the API could be made, so nothing reached DigitalOcean and nothing was made: check \
                 `api_url` in `provider digitalocean` (or DIGITALOCEAN_API_URL, or the default \
                 https://api.digitalocean.com) and the network, then apply again",
            ),
            status if unsafe_to_repeat => (
                format!(
                    "DigitalOcean could not {operation}: {} ({message}); it was not sent again, since it may have \
                     made the object",
                    if status == 0 { "no answer came".to_string() } else { format!("a server error ({status})") },
                ),
                "look for the object at DigitalOcean before applying again: if it was made, `infra import` it; if \
                 not, apply again",
            ),
            0 => (
                format!("DigitalOcean: cannot {operation}: {message}"),
                "check `api_url` and the network; the request got no answer from the API",
            ),
            401 => (
                format!("DigitalOcean refused the token (401 Unauthorized): {message}"),
                "set `token` in `provider digitalocean`, or DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN), to a \
                 valid personal access token",
            ),
            403 => (
                format!("the token may not {operation} (403 Forbidden): {message}"),
                "give the personal access token write scope for this kind of object",
            ),
            408 => (
                format!("DigitalOcean did not finish in time: {operation} timed out, {message}"),
                "the object exists and the state keeps it: apply again once DigitalOcean has caught up, which takes \
                 it over (a Droplet's `timeouts` block sets how long to wait)",
            ),
            404 => (
                format!("DigitalOcean found nothing to {operation} (404): {message}"),
                "the object no longer exists or the id is wrong; check the value the configuration refers to",
            ),
            status if status >= 500 => (
                format!("DigitalOcean could not {operation}: a server error ({status}): {message}"),
                "the fault is on DigitalOcean's side, not in the configuration: apply again later \
                 (status.digitalocean.com tells of incidents)",
            ),
            status => (
                format!("DigitalOcean could not {operation} ({status}): {message}"),
                "DigitalOcean refused a value of the configuration or failed; the message says which",
            ),
        };
        let mut error = ProviderError::new(message).with_help(help);
        if status == 401 {
            // The token, not the object: once for every resource that uses it.
            error = error.about_configuration();
        }
        if retryable {
            error.retryable()
        } else {
            error
        }
    }
}

/// How long an asynchronous operation (a Droplet becoming `active`, an action
/// completing) may take, and the first pause between two looks (it doubles up to
/// `max_interval`).
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

/// A configured connection to the DigitalOcean API.
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
    /// A client of the API at `api_url` (see [`base_url`]), which must be an `http://`
    /// or `https://` address.
    pub fn new(api_url: &str, token: &str) -> Result<Client, ProviderError> {
        let base = base_url(api_url)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(format!("cannot set up HTTP: {e}")))?;
        Ok(Client { http, base, token: token.to_string(), wait: WAIT, stop: Stop::new() })
    }

    /// This client, deaf to the run's interruption: its waits and its retry pauses go on
    /// in full. For an action whose end must be seen to leave the object as it was (see
    /// `droplet::resize`), from its start (whose retries must not end early either) to
    /// its completion.
    pub fn ignoring_stop(&self) -> Client {
        Client { stop: Stop::new(), ..self.clone() }
    }

    pub async fn get(&self, operation: &str, path: &str) -> ApiResult<Json> {
        self.send(operation, reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, operation: &str, path: &str, body: &Json) -> ApiResult<Json> {
        self.send(operation, reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, operation: &str, path: &str, body: &Json) -> ApiResult<Json> {
        self.send(operation, reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, operation: &str, path: &str, body: &Json) -> ApiResult<Json> {
        self.send(operation, reqwest::Method::PATCH, path, Some(body)).await
    }

    /// A DELETE with a body (removing droplets or tags from a firewall).
    pub async fn delete_with(&self, operation: &str, path: &str, body: &Json) -> ApiResult<Json> {
        self.send(operation, reqwest::Method::DELETE, path, Some(body)).await
    }

    /// Deletes an object; one that is already gone is no error.
    pub async fn delete(&self, operation: &str, path: &str) -> ApiResult<()> {
        match self.send(operation, reqwest::Method::DELETE, path, None).await {
            Err(error) if error.is_not_found() => Ok(()),
            other => other.map(drop),
        }
    }

    /// An object, or `None` when the API says there is none.
    pub async fn find(&self, operation: &str, path: &str) -> ApiResult<Option<Json>> {
        match self.get(operation, path).await {
            Err(error) if error.is_not_found() => Ok(None),
            other => other.map(Some),
        }
    }

    /// Every item of a list (the answer's array `key`), following `links.pages.next`.
    /// Only the path and query of `next` are used: the API names its public address
    /// there, which is not the one configured behind a proxy or in tests.
    pub async fn list(&self, operation: &str, path: &str, key: &str) -> ApiResult<Vec<Json>> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={PER_PAGE}"));
        let mut items = Vec::new();
        while let Some(page) = next.take() {
            let answer = self.get(operation, &page).await?;
            items.extend(answer[key].as_array().cloned().unwrap_or_default());
            next = answer["links"]["pages"]["next"].as_str().and_then(path_of);
        }
        Ok(items)
    }

    /// Waits until the action `action` (an answer's `action` object) has `completed`, or
    /// until the run is interrupted (an error saying what the action was at the last
    /// look; the object it acts on is in the state, and the next plan reads it).
    pub async fn complete(&self, operation: &str, action: &Json) -> ApiResult<()> {
        let action_id = action["id"].to_string();
        let start = Instant::now();
        let mut interval = self.wait.interval;
        let mut status = action["status"].as_str().unwrap_or_default().to_string();
        loop {
            match status.as_str() {
                "completed" => return Ok(()),
                "errored" => return Err(ApiError::new(operation, 500, format!("action {action_id} errored"))),
                _ => {}
            }
            if start.elapsed() >= self.wait.timeout {
                let message = format!("action {action_id} is still `{status}` after {} s", self.wait.timeout.as_secs());
                return Err(ApiError::new(operation, 408, message));
            }
            let seen = format!("`{status}`");
            let interrupted = |_| Interrupted::new(format!("action {action_id} ({operation}) to complete"), seen);
            self.stop.sleep(interval).await.map_err(interrupted)?;
            interval = (interval * 2).min(self.wait.max_interval);
            let answer = self.get(operation, &format!("/v2/actions/{action_id}")).await?;
            status = answer["action"]["status"].as_str().unwrap_or_default().to_string();
        }
    }

    async fn send(&self, operation: &str, method: reqwest::Method, path: &str, body: Option<&Json>) -> ApiResult<Json> {
        let creates = method == reqwest::Method::POST;
        let mut retrying = Retrying::new(format!("the DigitalOcean request to {operation} ({method} {path})"), creates);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self.send_once(operation, method.clone(), path, body).await;
            match sent.map_err(|error| error.unsafe_to_repeat_if(creates)) {
                Err(error) if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                    // The pause ends at once when the run is interrupted. A create is
                    // only retried when it was never sent or turned away before any work
                    // (see `is_retryable`), so an interrupted one made nothing.
                    let wait = error.retry_after.unwrap_or_else(|| backoff(attempt, BASE_BACKOFF, MAX_BACKOFF));
                    let processed = error.maybe_processed();
                    retrying
                        .pause(&self.stop, wait, error.summary(), processed)
                        .await
                        .map_err(|interrupted| ApiError::retry_interrupted(operation, interrupted))?;
                }
                Err(mut error) if error.is_retryable() => {
                    error.message.push_str(&format!("; gave up after {MAX_ATTEMPTS} attempts"));
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
    ) -> ApiResult<Json> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, url.as_str()).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| {
            let message = format!("cannot reach {url}: {}", error_chain(&e));
            // A connection that could not be made, or a request that could not be
            // built, never reached the API; any other failure may have after sending.
            if e.is_connect() || e.is_builder() {
                ApiError::unsent(operation, message)
            } else {
                ApiError::local(operation, message)
            }
        })?;
        let status = response.status().as_u16();
        let header = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
        let retry_after = retry_after(header, MAX_RETRY_AFTER);
        let text = response.text().await.map_err(|e| ApiError::local(operation, format!("cannot read: {e}")))?;
        let document: Json =
            if text.trim().is_empty() { json!({}) } else { serde_json::from_str(&text).unwrap_or(Json::Null) };
        if status < 300 {
            if document.is_null() {
                return Err(ApiError::local(operation, "the answer is not JSON"));
            }
            return Ok(document);
        }
        Err(ApiError {
            operation: operation.to_string(),
            status,
            message: message(&document, status),
            retry_after,
            unsafe_to_repeat: false,
            never_sent: false,
            interrupted: None,
        })
    }
}

/// The address every path (`/v2/...`) is put after: `api_url` without a trailing `/`,
/// nor a trailing `/v2`, which is the API's own prefix of every path (written as the API
/// documents its base, `https://api.digitalocean.com/v2`, it would double it). An
/// address that is not `http://` or `https://` with a host is refused, pointing at
/// `api_url`: without a scheme every request would fail.
fn base_url(api_url: &str) -> Result<String, ProviderError> {
    let trimmed = api_url.trim().trim_end_matches('/');
    let base = trimmed.strip_suffix("/v2").unwrap_or(trimmed).trim_end_matches('/');
    let parsed = reqwest::Url::parse(base).ok();
    let web = parsed.as_ref().is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !web || base.contains(['?', '#']) {
        return Err(ProviderError::new(format!("`{api_url}` is not an address of the DigitalOcean API"))
            .on_attribute("api_url")
            .with_help(
                "set `api_url` in `provider digitalocean` (or DIGITALOCEAN_API_URL) to an http:// or https:// \
                 address with a host, such as `https://api.digitalocean.com`, or leave both unset",
            ));
    }
    Ok(base.to_string())
}

/// The path and query of a `links.pages.next` address.
fn path_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    })
}

/// The message of a DigitalOcean error document (`{"id", "message"}`), else of a
/// proxy's problem document, else the status.
fn message(document: &Json, status: u16) -> String {
    if let Some(message) = document["message"].as_str() {
        return message.to_string();
    }
    let problems = document["validation"].as_array().cloned().unwrap_or_default();
    let messages: Vec<&str> = problems.iter().filter_map(|p| p["message"].as_str()).collect();
    if !messages.is_empty() {
        return messages.join("; ");
    }
    match document["detail"].as_str() {
        Some(detail) => detail.to_string(),
        None => format!("HTTP status {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_keep_only_their_path_and_query() {
        let next = "https://api.digitalocean.com/v2/droplets?page=2&per_page=200";
        assert_eq!(path_of(next).as_deref(), Some("/v2/droplets?page=2&per_page=200"));
        assert_eq!(path_of("not a url"), None);
    }

    #[test]
    fn a_trailing_v2_or_slash_of_the_api_url_is_taken_off_and_an_address_needs_a_scheme() {
        for url in ["https://api.digitalocean.com", "https://api.digitalocean.com/", "https://api.digitalocean.com/v2/"]
        {
            assert_eq!(base_url(url).as_deref().ok(), Some("https://api.digitalocean.com"), "{url}");
        }
        assert_eq!(base_url("http://127.0.0.1:4010/proxy/v2").ok().as_deref(), Some("http://127.0.0.1:4010/proxy"));
        for url in ["api.digitalocean.com", "localhost:4010", "ftp://example.com", "https://", ""] {
            let error = base_url(url).expect_err(url);
            assert_eq!(error.attribute.as_deref(), Some("api_url"), "{url}");
        }
    }

    #[test]
    fn a_request_that_was_never_sent_is_safe_to_repeat_and_says_so() {
        let error = ApiError::unsent("add the SSH key", "cannot reach http://127.0.0.1:9: connection refused")
            .unsafe_to_repeat_if(true);
        assert!(error.is_retryable(), "nothing was sent, so nothing was made");
        let provider_error = ProviderError::from(error);
        assert!(provider_error.message.contains("never sent"), "{}", provider_error.message);
        assert!(provider_error.help.as_deref().unwrap_or_default().contains("DIGITALOCEAN_API_URL"));
        let lost = ProviderError::from(ApiError::local("add the SSH key", "timed out").unsafe_to_repeat_if(true));
        assert!(lost.message.contains("may have made the object"), "{}", lost.message);
    }

    /// Answers each connection with the next canned `(status, headers, body)` (see
    /// `infra_provider_kit::canned`).
    fn canned(answers: Vec<(u16, &'static str, &'static str)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        infra_provider_kit::canned::serve(|_| answers.into_iter().map(|(s, h, b)| (s, h, b.to_string())).collect())
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    const THROTTLED: (u16, &str, &str) =
        (429, "retry-after: 3600\r\n", r#"{"id": "too_many_requests", "message": "API Rate limit exceeded."}"#);

    /// Regression: a pause for a `Retry-After` (up to a minute) went on after the run was
    /// interrupted (Ctrl-C). It ends as soon as the provider is stopped, with an error
    /// that says what was retried and how it last failed, and the request is not sent
    /// again; a create throttled before any work made nothing, and the error says so.
    #[test]
    fn a_pending_retry_after_ends_at_once_when_the_run_is_interrupted() {
        let (endpoint, server) = canned(vec![THROTTLED]);
        let client = Client::new(&endpoint, "token").expect("client");
        let key = json!({"name": "k"});
        let started = std::time::Instant::now();
        let (sent, ()) = runtime().block_on(async {
            let stopping = async {
                // Stopped once the server has given its one answer.
                while !server.is_finished() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                client.stop.stop();
            };
            tokio::join!(client.post("create the SSH key", "/v2/account/keys", &key), stopping)
        });
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let error = sent.expect_err("interrupted");
        assert!(!error.is_retryable() && !error.is_not_found(), "{error:?}");
        let error = ProviderError::from(error);
        assert_eq!(
            error.message,
            "interrupted while waiting to retry the DigitalOcean request to create the SSH key (POST \
             /v2/account/keys) (the last attempt failed: 429 (API Rate limit exceeded.)); no attempt was processed \
             (each was turned away or never sent), so nothing was made"
        );
        assert!(!error.retryable);
        assert_eq!(server.join().expect("server").len(), 1);
    }

    /// What must be seen through (a resize, to power the Droplet on again) is not ended by
    /// the run's interruption: [`Client::ignoring_stop`] retries as if not stopped.
    #[test]
    fn a_client_ignoring_the_stop_retries_in_full() {
        let (endpoint, server) =
            canned(vec![(429, "retry-after: 0\r\n", THROTTLED.2), (201, "", r#"{"action": {"id": 1}}"#)]);
        let client = Client::new(&endpoint, "token").expect("client");
        client.stop.stop();
        let whole = client.ignoring_stop();
        let answer = runtime().block_on(whole.post("power on", "/v2/droplets/1/actions", &json!({"type": "power_on"})));
        assert_eq!(answer.expect("sent again")["action"]["id"], 1);
        assert_eq!(server.join().expect("server").len(), 2);
        assert!(client.stop.is_stopped() && !whole.stop.is_stopped());
    }

    #[test]
    fn messages_come_from_the_error_document() {
        let document = json!({"id": "unprocessable_entity", "message": "Name is invalid"});
        assert_eq!(message(&document, 422), "Name is invalid");
        assert_eq!(message(&json!({}), 502), "HTTP status 502");
    }

    #[test]
    fn a_server_error_says_the_fault_is_digitaloceans() {
        let provider_error = ProviderError::from(ApiError::new("create the SSH key", 500, "Server error"));
        assert!(provider_error.message.contains("a server error (500)"), "{}", provider_error.message);
        assert!(provider_error.help.as_deref().unwrap_or_default().contains("DigitalOcean's side"));
        assert!(provider_error.retryable);
    }

    #[test]
    fn an_unauthorized_answer_names_the_setting() {
        let error = ApiError::new("read the Droplet", 401, "Unable to authenticate you");
        let provider_error = ProviderError::from(error);
        assert!(provider_error.message.contains("401"), "{}", provider_error.message);
        assert!(provider_error.help.as_deref().unwrap_or_default().contains("DIGITALOCEAN_TOKEN"));
    }
}
