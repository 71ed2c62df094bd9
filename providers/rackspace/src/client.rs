//! Talking to Rackspace: the settings and where they come from, one authenticated
//! session (token and compute endpoint, from [`identity`](crate::identity)), retries of
//! throttled and failed requests with jittered exponential backoff (honouring
//! `Retry-After`), a new token when the old one is refused (401), pagination of lists,
//! and Nova's error documents turned into [`ProviderError`]s.

use std::collections::BTreeMap;
use std::time::Duration;

use infra_provider_kit::retry::error_chain;
use infra_provider_kit::{Retrying, Stop};
use infra_runtime::provider::ProviderError;
use rand::Rng;
use serde_json::Value as Json;

use crate::identity::{self, Credentials, Session};

/// Rackspace's public identity service (v2.0).
pub const DEFAULT_AUTH_URL: &str = "https://identity.api.rackspacecloud.com/v2.0/";
/// How often a throttled or failed request is tried in all.
const MAX_ATTEMPTS: u32 = 6;
/// The first backoff; each retry doubles it, up to `max`, and waits a random part of it
/// ("full jitter").
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; a longer one waits this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// How long a new server may take to become `ACTIVE` (and a deleted one to go) when its
/// `timeouts` block does not say: Rackspace builds can take many minutes.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(1800);
/// Servers and key pairs asked for per page; Nova's own default cap is 1000.
pub const PAGE_SIZE: usize = 100;

/// The provider's settings as configured; each falls back to its `OS_*` variable.
#[derive(Clone, Default)]
pub struct Settings {
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub api_key: Option<String>,
    pub tenant_name: Option<String>,
    pub region: Option<String>,
    /// The compute endpoint, instead of the catalog's.
    pub api_url: Option<String>,
    /// The process environment, passed in so tests can set it without touching the
    /// process's own.
    pub environment: BTreeMap<String, String>,
}

/// How throttled and failed requests are tried again.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

/// How long a server may take to become `ACTIVE` or to disappear, and the pause between
/// two looks.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
}

/// A configured connection; it authenticates on its first request.
pub struct Client {
    http: reqwest::Client,
    auth_url: String,
    credentials: Credentials,
    tenant_name: Option<String>,
    /// The region as configured; the user's default region when `None`.
    region: Option<String>,
    /// The compute endpoint as configured (`api_url`); the catalog's when `None`.
    api_url: Option<String>,
    session: tokio::sync::Mutex<Option<Session>>,
    pub retry: Retry,
    pub wait: Wait,
    /// Set when the run is interrupted (`Provider::stop`): the waits end at once.
    pub stop: Stop,
    /// How many servers or key pairs a list asks for per page.
    pub page_size: usize,
}

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

impl Client {
    /// A client from the settings, or an error saying which setting is missing.
    pub fn new(settings: &Settings) -> Result<Client, ProviderError> {
        let env = |name: &str| settings.environment.get(name).filter(|v| !v.is_empty()).cloned();
        let auth_url = settings.auth_url.clone().or_else(|| env("OS_AUTH_URL")).unwrap_or(DEFAULT_AUTH_URL.to_string());
        identity::check_version(&auth_url)?;
        let username = settings.username.clone().or_else(|| env("OS_USERNAME")).ok_or_else(|| {
            ProviderError::new("no Rackspace user name set")
                .on_attribute("username")
                .with_help("set `username` in `provider rackspace`, or OS_USERNAME")
        })?;
        let password = settings.password.clone().or_else(|| env("OS_PASSWORD"));
        let api_key = settings.api_key.clone().or_else(|| env("OS_API_KEY"));
        let credentials = match (password, api_key) {
            (Some(password), _) => Credentials::Password { username, password },
            (None, Some(api_key)) => Credentials::ApiKey { username, api_key },
            (None, None) => {
                return Err(ProviderError::new("no Rackspace password or API key set")
                    .with_help("set `password` or `api_key` in `provider rackspace`, or OS_PASSWORD or OS_API_KEY"))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(format!("cannot set up HTTP: {e}")))?;
        Ok(Client {
            http,
            auth_url,
            credentials,
            tenant_name: settings.tenant_name.clone().or_else(|| env("OS_TENANT_NAME")),
            // The catalog writes regions in capitals; `ord` is `ORD` from the block or
            // the environment alike.
            region: settings.region.clone().or_else(|| env("OS_REGION_NAME")).map(|r| r.to_ascii_uppercase()),
            api_url: settings.api_url.clone().or_else(|| env("OS_ENDPOINT_OVERRIDE")),
            session: tokio::sync::Mutex::new(None),
            retry: Retry { attempts: MAX_ATTEMPTS, base: BASE_BACKOFF, max: MAX_BACKOFF },
            wait: Wait { timeout: DEFAULT_CREATE_TIMEOUT, interval: Duration::from_secs(5) },
            stop: Stop::new(),
            page_size: PAGE_SIZE,
        })
    }

    /// The current session, authenticating when there is none.
    async fn session(&self) -> Result<Session, ProviderError> {
        let mut session = self.session.lock().await;
        if let Some(current) = session.as_ref() {
            return Ok(current.clone());
        }
        let request = identity::Request {
            auth_url: &self.auth_url,
            credentials: &self.credentials,
            tenant_name: self.tenant_name.as_deref(),
            region: self.region.as_deref(),
            compute_url: self.api_url.as_deref(),
        };
        let fresh = identity::authenticate(self, &request).await?;
        *session = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `token` (refused by the server), so the next request authenticates again;
    /// a newer token another request already fetched is kept.
    async fn forget(&self, token: &str) {
        let mut session = self.session.lock().await;
        if session.as_ref().is_some_and(|s| s.token == token) {
            *session = None;
        }
    }

    /// The compute endpoint of the configured region.
    pub async fn compute_url(&self) -> Result<String, ProviderError> {
        Ok(self.session().await?.compute_url)
    }

    /// Sends one compute request (`path` relative to the compute endpoint, or a whole URL
    /// from a `links` entry), retrying throttling and server errors and authenticating
    /// again once when the token is refused. An error status is an `Err` unless it is
    /// 404, which callers read as "gone".
    pub async fn compute(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Answer, ProviderError> {
        let mut authenticated_again = false;
        loop {
            let session = self.session().await?;
            let url =
                if path.starts_with("http") { path.to_string() } else { format!("{}/{path}", session.compute_url) };
            let answer = self.send(method, &url, Some(&session.token), body).await;
            match answer {
                Ok(answer) if answer.status == 401 && !authenticated_again => {
                    // The token expired (or was revoked): one new token, then the request again.
                    self.forget(&session.token).await;
                    authenticated_again = true;
                }
                Ok(answer) if answer.status < 300 || answer.status == 404 => return Ok(answer),
                Ok(answer) => return Err(failure(method, path, &answer)),
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends a request with retries of 429 and 5xx answers and of failed connections;
    /// any other answer is returned as it is.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Answer, ProviderError> {
        // Each pause ends at once when the run is interrupted. A create is only retried
        // when it was turned away before any work (429, 502, 503: see `repeatable`), so
        // an interrupted one made nothing.
        let mut retrying = Retrying::new(format!("Rackspace {method} {}", path_of(url)), creates(method, url));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.send_once(method, url, token, body).await;
            let last = attempt >= self.retry.attempts;
            let repeatable = |status: u16| repeatable(method, url, status);
            match result {
                Ok((answer, retry_after)) if !last && repeatable(answer.status) => {
                    let pause = retry_after.unwrap_or_else(|| backoff(attempt, self.retry.base, self.retry.max));
                    let failure = format!("{}: {}", status_line(answer.status, &answer.body), error_message(&answer.body));
                    let processed = !matches!(answer.status, 429 | 502 | 503);
                    retrying.pause(&self.stop, pause, failure, processed).await?;
                }
                Ok((answer, _)) => return Ok(answer),
                Err(message) if !last && repeatable(0) => {
                    // No answer: it may have been processed all the same.
                    let pause = backoff(attempt, self.retry.base, self.retry.max);
                    retrying.pause(&self.stop, pause, message, true).await?;
                }
                Err(message) if repeatable(0) => {
                    return Err(ProviderError::new(format!("Rackspace {method} {}: {message}", path_of(url)))
                        .with_help("check `auth_url` (or OS_AUTH_URL) and the network")
                        .retryable())
                }
                Err(message) => {
                    return Err(ProviderError::new(format!(
                        "Rackspace {method} {}: {message}; it was not sent again, since it may have made the object",
                        path_of(url)
                    ))
                    .with_help("look for the object with `nova list` before applying again: if it was made, `infra import` it; if not, apply again"))
                }
            }
        }
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> Result<(Answer, Option<Duration>), String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.http.request(method, url).header("Accept", "application/json");
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| format!("cannot reach the server: {}", error_chain(&e)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
        let bytes = response.bytes().await.map_err(|e| format!("cannot read the answer: {e}"))?;
        // A body that is not JSON (a proxy's or a web framework's error page) is
        // summarized: it goes into messages, where a whole HTML page does not belong.
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Json::String(summary(&String::from_utf8_lossy(&bytes))));
        Ok((Answer { status, body }, retry_after))
    }

    /// Every item of a paginated list (`servers/detail`...): pages of `page_size` items
    /// asked for with `limit`, each next page by the `next` link of `KEY_links` when the
    /// server gives one, else by `marker` (the last item's id) for as long as pages come
    /// back full. A server that does not page (it answers the same page again for a
    /// marker) has given the whole list.
    pub async fn list(&self, path: &str, key: &str, page_size: usize) -> Result<Vec<Json>, ProviderError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{separator}limit={page_size}");
        let mut items = Vec::new();
        let mut previous_last: Option<String> = None;
        loop {
            let answer = self.compute("GET", &next, None).await?;
            if answer.status == 404 {
                return Err(failure("GET", &next, &answer));
            }
            let page = answer.body[key].as_array().cloned().unwrap_or_default();
            let link = answer.body[format!("{key}_links")]
                .as_array()
                .and_then(|links| links.iter().find(|l| l["rel"] == "next"))
                .and_then(|l| l["href"].as_str())
                .map(str::to_string);
            let marker = page.last().and_then(item_id);
            if marker.is_some() && marker == previous_last {
                return Ok(items);
            }
            previous_last.clone_from(&marker);
            let full = page.len() == page_size;
            items.extend(page);
            next = match (link, marker) {
                (Some(link), _) => link,
                (None, Some(marker)) if full => format!("{path}{separator}limit={page_size}&marker={marker}"),
                _ => return Ok(items),
            };
        }
    }
}

/// An item's id for `marker`: its `id`, or a key pair's name.
fn item_id(item: &Json) -> Option<String> {
    item["id"].as_str().or_else(|| item["keypair"]["name"].as_str()).map(str::to_string)
}

/// A URL's path, for messages (a whole URL is long and says nothing more).
fn path_of(url: &str) -> &str {
    url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])).unwrap_or(url)
}

/// The longest summary of a body that is not JSON, in characters.
const SUMMARY_LENGTH: usize = 120;

/// What a body that is not JSON says, in one short line: an HTML page's `<title>` (or
/// its first line of text), or a text's first line, cut at [`SUMMARY_LENGTH`].
fn summary(body: &str) -> String {
    let body = body.trim();
    let lower = body.to_ascii_lowercase();
    let html = lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<title");
    if !html {
        return shortened(body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default());
    }
    let title = lower.find("<title").and_then(|start| {
        let open = start + lower[start..].find('>')? + 1;
        let close = open + lower[open..].find("</title")?;
        Some(body[open..close].to_string())
    });
    let title = title.map(|t| words(&t)).filter(|t| !t.is_empty());
    match title {
        Some(title) => format!("an HTML page titled `{}`", shortened(&title)),
        None => {
            let first = strip_tags(body).lines().map(words).find(|l| !l.is_empty()).unwrap_or_default();
            format!("an HTML page beginning `{}`", shortened(&first))
        }
    }
}

/// `text` with its runs of white space made single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of an HTML fragment, its tags left out.
fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// `text` cut at [`SUMMARY_LENGTH`] characters, with an ellipsis when cut.
fn shortened(text: &str) -> String {
    if text.chars().count() <= SUMMARY_LENGTH {
        return text.to_string();
    }
    format!("{}…", text.chars().take(SUMMARY_LENGTH - 1).collect::<String>())
}

/// The status as an error message gives it: with its reason phrase (`405 Method Not
/// Allowed`) when the body is not an OpenStack error document, which would say more.
pub fn status_line(status: u16, body: &Json) -> String {
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
    match (body, reason) {
        (Json::Object(_), _) | (_, None) => status.to_string(),
        (_, Some(reason)) => format!("{status} {reason}"),
    }
}

/// The message of an OpenStack error document (`{"badRequest": {"message": ...}}`), or
/// the body itself when it is text.
pub fn error_message(body: &Json) -> String {
    match body {
        Json::Object(fields) => {
            fields.values().find_map(|v| v["message"].as_str()).map(str::to_string).unwrap_or_else(|| body.to_string())
        }
        Json::String(text) if !text.is_empty() => text.clone(),
        _ => "no message".to_string(),
    }
}

/// Whether a request that got `status` (0: no answer) may be sent again: a 429, 502 or
/// 503 (turned away before any work) always; another server error or a lost answer
/// unless the request creates something (a compute `POST`, such as a new server), which
/// may then exist already. Asking identity for a token creates nothing that matters.
fn repeatable(method: &str, url: &str, status: u16) -> bool {
    match status {
        429 | 502 | 503 => true,
        0 | 500.. => !creates(method, url),
        _ => false,
    }
}

/// Whether a request creates something (see [`repeatable`]).
fn creates(method: &str, url: &str) -> bool {
    method == "POST" && !url.ends_with("/tokens")
}

/// An error answer of the compute API as a provider error.
pub fn failure(method: &str, path: &str, answer: &Answer) -> ProviderError {
    let message = error_message(&answer.body);
    let path = path_of(path).split('?').next().unwrap_or_default();
    let status = status_line(answer.status, &answer.body);
    let error = ProviderError::new(format!("Rackspace compute {method} {path} failed with {status}: {message}"));
    if answer.status >= 500 && !repeatable(method, path, answer.status) {
        return ProviderError::new(format!("{}; it was not sent again, since it may have made the object", error.message))
            .with_help("look for the object with `nova list` before applying again: if it was made, `infra import` it; if not, apply again");
    }
    match answer.status {
        401 | 403 => error.with_help("the credentials were refused; check `username`, `password` or `api_key`"),
        429 | 500.. => error.with_help("the service stayed unavailable through the retries").retryable(),
        405 => error.with_help(
            "this compute service does not offer the operation at this URL; check that `api_url` (or the \
             catalog's compute endpoint) is Nova's",
        ),
        _ => error.with_help("the compute API refused a value of the configuration; the message says which"),
    }
}

/// The wait before retry `attempt` (1 after the first failure): a random part of a
/// ceiling that doubles from `base` up to `max`.
fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))).min(max);
    ceiling.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 1..20 {
            let ceiling = base.saturating_mul(2u32.saturating_pow(attempt - 1)).min(max);
            assert!(backoff(attempt, base, max) <= ceiling);
        }
    }

    #[test]
    fn error_documents_give_their_message() {
        let body = serde_json::json!({"itemNotFound": {"message": "Instance could not be found", "code": 404}});
        assert_eq!(error_message(&body), "Instance could not be found");
        assert_eq!(error_message(&Json::String("KeyPair not found: k".into())), "KeyPair not found: k");
        assert_eq!(error_message(&Json::Null), "no message");
    }

    #[test]
    fn messages_name_the_path_not_the_host() {
        assert_eq!(path_of("http://127.0.0.1:1/v2/t/servers?limit=1"), "/v2/t/servers?limit=1");
        let answer = Answer { status: 400, body: serde_json::json!({"badRequest": {"message": "bad flavor"}}) };
        let error = failure("POST", "http://h/v2/t/servers", &answer);
        assert_eq!(error.message, "Rackspace compute POST /v2/t/servers failed with 400: bad flavor");
        assert!(!error.retryable);
    }

    /// Regression: `region = "ord"` in the block was refused while `OS_REGION_NAME=ord`
    /// was taken. Both are taken, in the catalog's capitals.
    #[test]
    fn a_region_in_either_case_is_taken_in_capitals() {
        let environment: BTreeMap<String, String> =
            [("OS_USERNAME", "u"), ("OS_API_KEY", "k"), ("OS_REGION_NAME", "ord")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let from_environment = Settings { environment: environment.clone(), ..Settings::default() };
        assert_eq!(Client::new(&from_environment).expect("client").region.as_deref(), Some("ORD"));
        let from_block = Settings { region: Some("Dfw".into()), environment, ..Settings::default() };
        assert_eq!(Client::new(&from_block).expect("client").region.as_deref(), Some("DFW"));

        let schema = crate::schema();
        let region = schema.config.attributes.iter().find(|a| a.name == "region").expect("a region setting");
        let check = |value: &str| {
            let subject = infra_compiler::schema::validate::Subject::Text(value);
            region.validators.iter().try_for_each(|v| v.check("region", subject, false))
        };
        for accepted in ["ORD", "ord", "Syd", "lon"] {
            assert_eq!(check(accepted), Ok(()), "{accepted}");
        }
        for refused in ["XYZ", "ordx", "", "o.d"] {
            let rejection = check(refused).expect_err(refused);
            assert!(rejection.help.contains("`ORD`") && rejection.help.contains("either case"), "{rejection:?}");
        }
    }

    #[test]
    fn settings_fall_back_to_the_environment_and_missing_ones_are_named() {
        let environment: BTreeMap<String, String> = [
            ("OS_USERNAME", "u"),
            ("OS_API_KEY", "k"),
            ("OS_REGION_NAME", "ORD"),
            ("OS_TENANT_NAME", "t"),
            ("OS_ENDPOINT_OVERRIDE", "http://nova.test/v2/t"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let client =
            Client::new(&Settings { environment: environment.clone(), ..Settings::default() }).expect("client");
        assert_eq!(client.auth_url, DEFAULT_AUTH_URL);
        assert_eq!(client.region.as_deref(), Some("ORD"));
        assert_eq!(client.tenant_name.as_deref(), Some("t"));
        assert!(matches!(client.credentials, Credentials::ApiKey { .. }));
        assert_eq!(client.api_url.as_deref(), Some("http://nova.test/v2/t"));
        let block = Settings {
            api_url: Some("http://block.test".into()),
            environment: environment.clone(),
            ..Settings::default()
        };
        assert_eq!(Client::new(&block).expect("client").api_url.as_deref(), Some("http://block.test"));

        let password = Settings { password: Some("p".into()), environment, ..Settings::default() };
        assert!(matches!(Client::new(&password).expect("client").credentials, Credentials::Password { .. }));

        let nothing = Client::new(&Settings::default()).err().expect("an error");
        assert_eq!(nothing.message, "no Rackspace user name set");
        let no_secret = Settings { username: Some("u".into()), ..Settings::default() };
        let error = Client::new(&no_secret).err().expect("an error");
        assert_eq!(error.message, "no Rackspace password or API key set");
    }
}

/// A hand-written HTTP server with canned answers, for what Mimic cannot show: tokens
/// that expire (its Nova takes any token), throttling with `Retry-After`, server errors
/// that pass, and pages ended by `marker` alone.
#[cfg(test)]
pub(crate) mod canned {
    pub use infra_provider_kit::canned::{serve, Canned};

    /// An identity answer handing out `token`, with the compute endpoint of ORD at
    /// `endpoint/nova`.
    pub fn token(endpoint: &str, token: &str) -> Canned {
        let body = serde_json::json!({"access": {
            "token": {"id": token},
            "user": {"RAX-AUTH:defaultRegion": "ORD"},
            "serviceCatalog": [{"name": "cloudServersOpenStack", "type": "compute",
                "endpoints": [{"region": "ORD", "publicURL": format!("{endpoint}/nova")}]}]}});
        (200, "", body.to_string())
    }
}

#[cfg(test)]
mod canned_tests {
    use super::canned::{serve, token};
    use super::*;

    fn client(endpoint: &str) -> Client {
        let settings = Settings {
            auth_url: Some(format!("{endpoint}/v2.0")),
            username: Some("u".into()),
            api_key: Some("secret-key".into()),
            ..Settings::default()
        };
        let mut client = Client::new(&settings).expect("client");
        client.retry = Retry { attempts: 4, base: Duration::from_millis(1), max: Duration::from_millis(5) };
        client
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
    }

    #[test]
    fn an_expired_token_is_renewed_and_throttling_and_server_errors_are_retried() {
        let (endpoint, server) = serve(|endpoint| {
            vec![
                token(endpoint, "first"),
                (401, "", r#"{"unauthorized": {"message": "token expired", "code": 401}}"#.into()),
                token(endpoint, "second"),
                (429, "retry-after: 0\r\n", r#"{"overLimit": {"message": "slow down", "code": 429}}"#.into()),
                (503, "", "Service Unavailable".into()),
                (200, "", r#"{"server": {"id": "s1", "status": "ACTIVE"}}"#.into()),
            ]
        });
        let answer =
            run(client(&endpoint).compute("GET", "servers/s1", None)).unwrap_or_else(|e| panic!("an answer: {e:?}"));
        assert_eq!(answer.body["server"]["id"], "s1");
        let requests = server.join().expect("server");
        let lines: Vec<&str> = requests.iter().filter_map(|r| r.lines().next()).collect();
        assert_eq!(lines[0], "POST /v2.0/tokens HTTP/1.1");
        assert_eq!(lines[1], "GET /nova/servers/s1 HTTP/1.1");
        assert_eq!(lines[2], "POST /v2.0/tokens HTTP/1.1");
        assert!(requests[0].contains(r#""apiKey":"secret-key""#));
        assert!(requests[1].to_ascii_lowercase().contains("x-auth-token: first"));
        for request in &requests[3..] {
            assert!(request.to_ascii_lowercase().contains("x-auth-token: second"), "{request}");
        }
    }

    #[test]
    fn retries_are_bounded_and_a_refused_new_token_is_an_error() {
        let (endpoint, server) = serve(|endpoint| {
            let mut answers = vec![token(endpoint, "t")];
            answers.extend((0..4).map(|_| (500, "", r#"{"computeFault": {"message": "boom"}}"#.to_string())));
            answers
        });
        let error = run(client(&endpoint).compute("GET", "servers/s1", None)).err().expect("an error");
        assert_eq!(error.message, "Rackspace compute GET servers/s1 failed with 500: boom");
        assert!(error.retryable);
        assert_eq!(server.join().expect("server").len(), 5);

        let (endpoint, _server) = serve(|endpoint| {
            vec![
                token(endpoint, "t"),
                (401, "", String::new()),
                (401, "", r#"{"unauthorized": {"message": "bad key"}}"#.to_string()),
            ]
        });
        let error = run(client(&endpoint).compute("GET", "servers/s1", None)).err().expect("an error");
        assert_eq!(error.message, "Rackspace identity refused the credentials of user `u`: bad key");
        assert!(!error.message.contains("secret-key") && !error.help.unwrap_or_default().contains("secret-key"));
    }

    /// A create (`POST servers`) answered 500 may have made its server: it is sent once,
    /// and neither the client nor the engine sends it again; a 503 is retried.
    #[test]
    fn a_create_answered_with_a_server_error_is_sent_once() {
        let (endpoint, server) = serve(|endpoint| {
            vec![token(endpoint, "t"), (500, "", r#"{"computeFault": {"message": "boom"}}"#.to_string())]
        });
        let body = serde_json::json!({"server": {"name": "web"}});
        let error = run(client(&endpoint).compute("POST", "servers", Some(&body))).err().expect("an error");
        assert!(
            error.message.contains("failed with 500: boom") && error.message.contains("not sent again"),
            "{error:?}"
        );
        assert!(!error.retryable);
        assert!(error.help.unwrap_or_default().contains("infra import"));
        assert_eq!(server.join().expect("server").len(), 2, "a token and one POST");

        let (endpoint, server) = serve(|endpoint| {
            vec![
                token(endpoint, "t"),
                (503, "", "Service Unavailable".into()),
                (202, "", r#"{"server": {"id": "s1"}}"#.into()),
            ]
        });
        let answer = run(client(&endpoint).compute("POST", "servers", Some(&body))).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(answer.body["server"]["id"], "s1");
        assert_eq!(server.join().expect("server").len(), 3);
    }

    /// Regression: a pause for a `Retry-After` (up to a minute) went on after the run was
    /// interrupted (Ctrl-C). It ends as soon as the provider is stopped, with an error
    /// that says what was retried and how it last failed, and the request is not sent
    /// again; a create throttled before any work made nothing, and the error says so.
    #[test]
    fn a_pending_retry_after_ends_at_once_when_the_run_is_interrupted() {
        let (endpoint, server) = serve(|endpoint| {
            vec![
                token(endpoint, "t"),
                (429, "retry-after: 3600\r\n", r#"{"overLimit": {"message": "slow down", "code": 429}}"#.into()),
            ]
        });
        let client = client(&endpoint);
        let body = serde_json::json!({"server": {"name": "web"}});
        let started = std::time::Instant::now();
        let (sent, ()) = run(async {
            let stopping = async {
                // Stopped once the server has given its answers.
                while !server.is_finished() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                client.stop.stop();
            };
            tokio::join!(client.compute("POST", "servers", Some(&body)), stopping)
        });
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let error = sent.err().expect("interrupted");
        assert_eq!(
            error.message,
            "interrupted while waiting to retry Rackspace POST /nova/servers (the last attempt failed: 429: slow \
             down); no attempt was processed (each was turned away or never sent), so nothing was made"
        );
        assert!(!error.retryable);
        assert!(error.help.unwrap_or_default().contains("infra apply"));
        assert_eq!(server.join().expect("server").len(), 2, "a token and one POST");
    }

    #[test]
    fn lists_follow_next_links_then_markers_to_the_last_page() {
        let (endpoint, server) = serve(|endpoint| {
            let page = |ids: &[&str], next: Option<String>| {
                let servers: Vec<Json> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
                let links: Vec<Json> =
                    next.into_iter().map(|href| serde_json::json!({"rel": "next", "href": href})).collect();
                (200, "", serde_json::json!({"servers": servers, "servers_links": links}).to_string())
            };
            vec![
                token(endpoint, "t"),
                page(&["a", "b"], Some(format!("{endpoint}/nova/servers/detail?limit=2&marker=b"))),
                page(&["c", "d"], None),
                page(&["e"], None),
            ]
        });
        let items =
            run(client(&endpoint).list("servers/detail", "servers", 2)).unwrap_or_else(|e| panic!("items: {e:?}"));
        let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        let requests = server.join().expect("server");
        let lines: Vec<&str> = requests.iter().filter_map(|r| r.lines().next()).collect();
        assert_eq!(lines[1], "GET /nova/servers/detail?limit=2 HTTP/1.1");
        assert_eq!(lines[2], "GET /nova/servers/detail?limit=2&marker=b HTTP/1.1");
        assert_eq!(lines[3], "GET /nova/servers/detail?limit=2&marker=d HTTP/1.1");
    }

    /// A list that is not paged (a Nova older than the list's paging, which ignores
    /// `marker`) gives the same full page again: that is the whole list, not a loop.
    #[test]
    fn a_list_that_ignores_the_marker_ends_at_the_repeated_page() {
        let page = || (200, "", serde_json::json!({"servers": [{"id": "a"}, {"id": "b"}]}).to_string());
        let (endpoint, server) = serve(|endpoint| vec![token(endpoint, "t"), page(), page()]);
        let items =
            run(client(&endpoint).list("servers/detail", "servers", 2)).unwrap_or_else(|e| panic!("items: {e:?}"));
        let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(server.join().expect("server").len(), 3);
    }
}
