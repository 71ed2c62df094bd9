//! Talking to AWS: where the credentials, region and endpoints come from, signing each
//! request with SigV4 (the `aws-sigv4` crate), retrying throttling and server errors with
//! jittered exponential backoff, and turning AWS error documents into [`AwsError`]s.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use infra_provider_kit::retry::error_chain;
use infra_provider_kit::{Retrying, Stop};
use infra_runtime::provider::ProviderError;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;

use super::xml::{self, Element};

/// The API version of the EC2 Query API this provider speaks.
const EC2_VERSION: &str = "2016-11-15";
/// How often a throttled or failed request is tried in all.
const MAX_ATTEMPTS: u32 = 6;
/// The first backoff; each retry doubles it, up to [`MAX_BACKOFF`], and waits a random
/// part of it ("full jitter").
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Characters left as they are in query strings and form bodies (RFC 3986 unreserved).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// Like [`UNRESERVED`], but keeping `/` for object keys in paths.
pub const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// The AWS services the provider talks to (and KMS, which the state's encryption uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Ec2,
    S3,
    Route53,
    Kms,
}

impl Service {
    /// The name in the signing scope, endpoint host names and `AWS_ENDPOINT_URL_*`.
    fn id(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::S3 => "s3",
            Service::Route53 => "route53",
            Service::Kms => "kms",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Service::Ec2 => "EC2",
            Service::S3 => "S3",
            Service::Route53 => "Route 53",
            Service::Kms => "KMS",
        }
    }
}

/// An AWS failure: the error code and message AWS sent (`code` is empty for failures that
/// never reached AWS or that it answered with something unreadable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: String,
    pub code: String,
    pub message: String,
    pub status: u16,
    /// A retry pause the run's interruption (Ctrl-C) ended, as the error it is: it says
    /// only that. (Boxed: errors are returned everywhere, and this is rare.)
    pub(crate) interrupted: Option<Box<ProviderError>>,
    /// The request was sent and no readable answer came back (a timeout, a connection
    /// reset, an answer cut off): AWS may have carried it out.
    pub(crate) unanswered: bool,
    /// An attempt before the one this error answers may have been processed (a server
    /// error or a lost answer that was retried): an "already exists" answer may then be
    /// about the object that attempt made.
    pub(crate) earlier_attempt_processed: bool,
    /// What a create that may have made its object made, for the error to name ("a VPC
    /// with CIDR block `10.0.0.0/16`"); see [`AwsError::may_have_made`]. (A `Box<str>`:
    /// errors are returned everywhere, so the type is kept small.)
    pub(crate) made: Option<Box<str>>,
}

impl AwsError {
    fn local(service: Service, operation: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            service: service.title(),
            operation: operation.to_string(),
            code: String::new(),
            message: message.into(),
            status: 0,
            interrupted: None,
            unanswered: false,
            earlier_attempt_processed: false,
            made: None,
        }
    }

    /// A success answer that cannot be read: AWS carried the request out, and what it
    /// made (if anything) is unknown.
    fn unreadable(service: Service, operation: &str, problem: String) -> AwsError {
        AwsError { unanswered: true, ..AwsError::local(service, operation, format!("unreadable answer: {problem}")) }
    }

    /// Whether the operation makes an object (`CreateVpc`, `RunInstances`...), which a
    /// request processed in spite of its error may have made. (`CreateTags` and
    /// `CreateRoute` change an object; a repeated `CreateRoute` is refused with
    /// `RouteAlreadyExists`, which its caller takes as done.)
    fn creates(operation: &str) -> bool {
        (operation.starts_with("Create") && !matches!(operation, "CreateTags" | "CreateRoute"))
            || operation == "RunInstances"
            || operation.starts_with("Allocate")
            || operation.starts_with("Import")
    }

    /// The creates that may be sent again after an attempt AWS may have processed, as no
    /// repeat can make a second object: those that carry an idempotency token kept
    /// across attempts (`RunInstances`, `CreateRouteTable`: EC2 answers a repeated
    /// `ClientToken` with the first attempt's object), and those whose repeat AWS refuses
    /// with an answer their caller takes the first attempt's object from
    /// (`CreateHostedZone`'s `HostedZoneAlreadyExists` for its `CallerReference`,
    /// `CreateBucket`'s `BucketAlreadyOwnedByYou`, `ImportKeyPair`'s duplicate name with
    /// the same key). Any other create (`CreateVpc`, `CreateSubnet`, `AllocateAddress`...)
    /// is not sent again after such an attempt.
    fn repeatable(operation: &str) -> bool {
        matches!(operation, "RunInstances" | "CreateRouteTable" | "CreateHostedZone" | "CreateBucket" | "ImportKeyPair")
    }

    /// Whether AWS may have processed the request this error answers: a lost answer
    /// (the request was sent, no answer read) or a server error may have been; a request
    /// never sent (no connection) was not, nor one AWS refused: throttled or turned away
    /// as unavailable (a 429, 502 or 503 with an AWS error code), refused for a
    /// dependency still in use, or any other answer below 500.
    fn maybe_processed(&self) -> bool {
        if self.code.is_empty() {
            return self.unanswered;
        }
        let refused = self.status == 429
            || matches!(self.status, 502 | 503)
            || self.is_throttled()
            || matches!(self.code.as_str(), "ServiceUnavailable" | "DependencyViolation");
        !refused && (self.status >= 500 || self.code == "InternalError")
    }

    /// A create that AWS may have carried out although it ended in this error: this
    /// attempt or an earlier one may have been processed. Its object may exist without
    /// Infra knowing its id, so the error says what to look for and how to import it.
    pub fn may_have_made(&self) -> bool {
        AwsError::creates(&self.operation)
            && self.interrupted.is_none()
            && (self.earlier_attempt_processed || self.maybe_processed())
    }

    /// Names what the create may have made, for its error ("a VPC with CIDR block
    /// `10.0.0.0/16`"); see [`AwsError::may_have_made`].
    pub fn made(mut self, what: impl Into<String>) -> AwsError {
        self.made = Some(what.into().into_boxed_str());
        self
    }

    /// AWS turned the request away to slow the caller down, whatever the status.
    fn is_throttled(&self) -> bool {
        matches!(
            self.code.as_str(),
            "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "RequestLimitExceeded"
                | "RequestThrottled"
                | "RequestThrottledException"
                | "SlowDown"
                | "PriorRequestNotComplete"
        )
    }

    /// The status, code and message, for the message of an interrupted retry.
    fn summary(&self) -> String {
        match (self.status, self.code.as_str()) {
            (0, _) | (_, "") => self.message.clone(),
            (status, code) => format!("{status} `{code}`: {}", self.message),
        }
    }

    /// The object asked about does not exist: `InvalidVpcID.NotFound`, `NoSuchBucket`...
    pub fn is_not_found(&self) -> bool {
        self.status == 404
            || self.code.ends_with("NotFound")
            || self.code.ends_with(".Malformed") && self.operation.starts_with("Describe")
            || matches!(self.code.as_str(), "NoSuchBucket" | "NoSuchKey" | "NoSuchHostedZone")
    }

    fn is_retryable(&self) -> bool {
        if self.interrupted.is_some() {
            return false;
        }
        // Deleting a subnet, group or gateway just after the instance that used it can
        // fail while AWS still cleans up its network interfaces.
        let cleanup = self.operation.starts_with("Delete") || self.operation.starts_with("Detach");
        (cleanup && self.code == "DependencyViolation")
            || self.status >= 500
            || self.status == 429
            || self.is_throttled()
            || matches!(self.code.as_str(), "InternalError" | "ServiceUnavailable")
    }
}

impl From<AwsError> for ProviderError {
    fn from(error: AwsError) -> ProviderError {
        if let Some(interrupted) = error.interrupted {
            return *interrupted;
        }
        if error.may_have_made() {
            return may_have_made(&error);
        }
        if error.code.is_empty() && error.status == 200 {
            return ProviderError::new(format!("{} {}: {}", error.service, error.operation, error.message)).with_help(
                "AWS answered, and the answer does not fit the configuration: the message says what to change",
            );
        }
        if error.code.is_empty() {
            return ProviderError::new(format!("{} {}: {}", error.service, error.operation, error.message))
                .with_help("check the endpoint and the network; the request did not get an AWS answer");
        }
        let help = match error.code.as_str() {
            "AuthFailure" | "InvalidClientTokenId" | "SignatureDoesNotMatch" | "InvalidAccessKeyId"
            | "UnrecognizedClientException" | "AccessDenied" | "UnauthorizedOperation" => {
                "check the credentials (`access_key`/`secret_key`, `AWS_ACCESS_KEY_ID`, the profile) and their permissions"
            }
            // `force_destroy` is read from the state when deleting, so setting it takes an
            // apply before the destroy.
            "HostedZoneNotEmpty" => {
                "the zone holds records Infra does not manage: delete them, or set `force_destroy = true` on the \
                 `aws.route53_zone` and apply before destroying it, to delete them with the zone"
            }
            "BucketAlreadyOwnedByYou" => {
                "the bucket was made outside this configuration: bring it under Infra with `infra import ADDRESS \
                 BUCKET`, or choose another `bucket` name"
            }
            "BucketNotEmpty" => {
                "the bucket holds objects Infra does not manage: delete them, or set `force_destroy = true` on the \
                 `aws.s3_bucket` and apply before destroying it, to delete them with the bucket"
            }
            code if code.ends_with("NotFound") || code.starts_with("NoSuch") => {
                "the object no longer exists or the id is wrong; check the value the configuration refers to"
            }
            code if code.starts_with("Invalid") || code.starts_with("Malformed") => {
                "AWS refused a value of the configuration; the message says which"
            }
            _ => "see the AWS documentation of the error code",
        };
        let retryable = error.is_retryable();
        let mut provider_error = ProviderError::new(format!(
            "{} {} failed with AWS error `{}`: {}",
            error.service, error.operation, error.code, error.message
        ))
        .with_help(help);
        if retryable {
            provider_error = provider_error.retryable();
        }
        provider_error
    }
}

/// The error of a create that AWS may have carried out: what it may have made, why
/// Infra does not know, and how to bring the object under Infra. Never retryable: the
/// engine's retry would send a new create (a new token, a new reference), which could
/// make a second object.
fn may_have_made(error: &AwsError) -> ProviderError {
    let what = error.made.as_deref().unwrap_or("its object");
    let how = if error.maybe_processed() {
        format!("the request failed after AWS may have processed it ({})", error.summary())
    } else {
        format!(
            "an earlier attempt failed after AWS may have processed it, and the last failed with {}",
            error.summary()
        )
    };
    let repeat = if AwsError::repeatable(&error.operation) {
        ""
    } else {
        "; it was not sent again, as a repeat could make a second one"
    };
    ProviderError::new(format!(
        "{} {} may have made {what}, which Infra has not recorded: {how}{repeat}",
        error.service, error.operation
    ))
    .with_help(format!(
        "look for {what} in AWS (the console, or the AWS CLI): if it is there, bring it under Infra with `infra \
         import ADDRESS ID` (this resource's address and the object's id) instead of applying again, which would \
         make another; if it is not, run `infra apply` again"
    ))
}

pub type AwsResult<T> = Result<T, AwsError>;

/// Where the provider's settings come from: the configuration block, then the
/// environment, then the shared credentials and config files.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    /// The process environment, passed in so tests can set it without touching the
    /// process's own.
    pub environment: BTreeMap<String, String>,
    /// The home directory, for `~/.aws/credentials` and `~/.aws/config`.
    pub home: Option<PathBuf>,
}

/// A configured connection to AWS.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    credentials: Credentials,
    pub region: String,
    /// The endpoint per service (`AWS_ENDPOINT_URL_EC2` and so on), when one is set.
    endpoints: BTreeMap<&'static str, String>,
    retry: Retry,
    /// How long to wait for an instance to start or stop, and how often to look.
    pub wait: Wait,
    /// Set when the run is interrupted (`Provider::stop`): the waits end at once.
    pub stop: Stop,
}

/// How long an instance may take to reach `running` after launch, or `terminated` after
/// termination, and the pause between two looks.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
}

const WAIT: Wait = Wait { timeout: Duration::from_secs(600), interval: Duration::from_secs(2) };

/// How throttled and failed requests are tried again.
#[derive(Clone, Copy, Debug)]
struct Retry {
    /// How often a request is tried in all.
    attempts: u32,
    /// The ceiling of the first wait; it doubles with each retry up to `max`.
    base: Duration,
    max: Duration,
}

const RETRY: Retry = Retry { attempts: MAX_ATTEMPTS, base: BASE_BACKOFF, max: MAX_BACKOFF };

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    pub fn xml(&self) -> Result<Element, String> {
        xml::parse(&String::from_utf8_lossy(&self.body))
    }
}

impl Client {
    /// A client from the settings, or an error saying which setting is missing.
    pub fn new(settings: &Settings) -> Result<Client, ProviderError> {
        let env = |name: &str| settings.environment.get(name).filter(|v| !v.is_empty()).cloned();
        let profile = settings.profile.clone().or_else(|| env("AWS_PROFILE")).unwrap_or_else(|| "default".to_string());
        let home = settings.home.clone();
        let shared = |file: &str, env_name: &str, section: &str| {
            let path = env(env_name).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(file)));
            path.and_then(|p| std::fs::read_to_string(p).ok())
                .map(|text| ini_section(&text, section))
                .unwrap_or_default()
        };
        let from_profile =
            settings.profile.is_some() || settings.access_key.is_none() && env("AWS_ACCESS_KEY_ID").is_none();
        let file_credentials =
            if from_profile { shared("credentials", "AWS_SHARED_CREDENTIALS_FILE", &profile) } else { BTreeMap::new() };
        let config_section = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
        let file_config = shared("config", "AWS_CONFIG_FILE", &config_section);

        let (access_key, secret_key, token) = if let Some(access_key) = settings.access_key.clone() {
            (Some(access_key), settings.secret_key.clone(), None)
        } else if settings.profile.is_none() && env("AWS_ACCESS_KEY_ID").is_some() {
            (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"))
        } else {
            let get = |k: &str| file_credentials.get(k).or_else(|| file_config.get(k)).cloned();
            (get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token"))
        };
        let (Some(access_key), Some(secret_key)) = (access_key, secret_key) else {
            return Err(ProviderError::new("no AWS credentials found").with_help(format!(
                "set `access_key` and `secret_key` in `provider aws`, or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, or a profile `{profile}` in ~/.aws/credentials"
            )));
        };
        let region = settings
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| file_config.get("region").cloned())
            .ok_or_else(|| {
                ProviderError::new("no AWS region set").on_attribute("region").with_help(
                    "set `region` in `provider aws`, AWS_REGION or AWS_DEFAULT_REGION, or `region` in ~/.aws/config",
                )
            })?;
        let general = settings.endpoint.clone().or_else(|| env("AWS_ENDPOINT_URL"));
        let mut endpoints = BTreeMap::new();
        for service in [Service::Ec2, Service::S3, Service::Route53, Service::Kms] {
            let specific = env(&format!("AWS_ENDPOINT_URL_{}", service.id().to_uppercase()));
            // The configuration's `endpoint` wins over the environment's.
            let chosen = settings.endpoint.clone().or(specific).or_else(|| general.clone());
            if let Some(url) = chosen {
                endpoints.insert(service.id(), url.trim_end_matches('/').to_string());
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(format!("cannot set up HTTP: {e}")))?;
        let credentials = Credentials::new(access_key, secret_key, token, None, "infra");
        Ok(Client { http, credentials, region, endpoints, retry: RETRY, wait: WAIT, stop: Stop::new() })
    }

    /// The base URL of a service, without a trailing slash.
    fn endpoint(&self, service: Service) -> String {
        if let Some(url) = self.endpoints.get(service.id()) {
            return url.clone();
        }
        match service {
            Service::Ec2 => format!("https://ec2.{}.amazonaws.com", self.region),
            Service::S3 => format!("https://s3.{}.amazonaws.com", self.region),
            Service::Route53 => "https://route53.amazonaws.com".to_string(),
            Service::Kms => format!("https://kms.{}.amazonaws.com", self.region),
        }
    }

    /// Sends one signed request, retrying throttling and server errors; an answer with an
    /// error status becomes an [`AwsError`].
    pub async fn send(
        &self,
        service: Service,
        operation: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> AwsResult<Answer> {
        let creates = AwsError::creates(operation);
        // A create without an idempotency token or an answer that finds its object is
        // never sent again once AWS may have processed it: a repeat could make a second
        // object, which Infra would never record.
        let once_processed = creates && !AwsError::repeatable(operation);
        let mut retrying = Retrying::new(format!("{} {operation}", service.title()), creates);
        let mut attempt = 0;
        let mut earlier_attempt_processed = false;
        loop {
            attempt += 1;
            let mut error = match self.send_once(service, operation, method, path_and_query, headers, &body).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            error.earlier_attempt_processed = earlier_attempt_processed;
            let processed = error.maybe_processed();
            if !error.is_retryable() || attempt >= self.retry.attempts || (processed && once_processed) {
                return Err(error);
            }
            // The pause ends at once when the run is interrupted. A create that carries a
            // token is retried after a server error or a lost answer too, so an
            // interrupted create says it may have made its object unless every attempt
            // was refused unprocessed.
            let pause = backoff(attempt, self.retry.base, self.retry.max);
            retrying.pause(&self.stop, pause, error.summary(), processed).await.map_err(|interrupted| {
                let local = AwsError::local(service, operation, "interrupted while waiting to retry");
                AwsError { interrupted: Some(Box::new(interrupted.into())), ..local }
            })?;
            earlier_attempt_processed |= processed;
        }
    }

    async fn send_once(
        &self,
        service: Service,
        operation: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> AwsResult<Answer> {
        let url = format!("{}{path_and_query}", self.endpoint(service));
        let local = |message: String| AwsError::local(service, operation, message);
        let signing_region = if service == Service::Route53 { "us-east-1" } else { self.region.as_str() };
        let request = SigningRequest { method, url: &url, headers, body };
        let signature = sign_request(&self.credentials, signing_region, service, &request, SystemTime::now())
            .map_err(|e| local(format!("cannot sign the request: {e}")))?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| local(e.to_string()))?;
        let mut request = self.http.request(method, url.as_str()).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        for (name, value) in signature {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let mut error = local(format!("cannot reach {url}: {}", error_chain(&e)));
            if !e.is_builder() {
                // Worth another try, like a server error. Without a connection nothing was
                // sent; otherwise the request may have reached AWS, and only its answer
                // was lost (a timeout, a connection reset or closed before the answer).
                error.status = 503;
                error.unanswered = !e.is_connect();
            }
            error
        })?;
        let status = response.status().as_u16();
        let response_headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            // The answer was cut off: AWS processed the request, with an outcome unknown.
            AwsError { status: 503, unanswered: true, ..local(format!("cannot read the answer: {}", error_chain(&e))) }
        })?;
        let body = body.to_vec();
        let answer = Answer { status, headers: response_headers, body };
        if status < 300 {
            return Ok(answer);
        }
        Err(error_from(service, operation, &answer))
    }

    /// Calls an EC2 Query API action; `params` are its parameters in the API's flattened
    /// form (`Filter.1.Name`).
    pub async fn ec2(&self, action: &str, params: &[(String, String)]) -> AwsResult<Element> {
        let mut form = format!("Action={action}&Version={EC2_VERSION}");
        for (name, value) in params {
            form.push_str(&format!("&{}={}", encode(name), encode(value)));
        }
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_string())];
        let answer = self.send(Service::Ec2, action, "POST", "/", &headers, form.into_bytes()).await?;
        let root = answer.xml().map_err(|e| AwsError::unreadable(Service::Ec2, action, e))?;
        Ok(root.children.into_iter().next().unwrap_or_default())
    }

    /// Calls a `Describe*` action and collects the `<item>`s of `list` across every page
    /// (`NextToken`).
    pub async fn ec2_describe(&self, action: &str, params: &[(String, String)], list: &str) -> AwsResult<Vec<Element>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut page_params = params.to_vec();
            if let Some(token) = &token {
                page_params.push(("NextToken".to_string(), token.clone()));
            }
            let answer = self.ec2(action, &page_params).await?;
            items.extend(answer.items(list).cloned());
            token = answer.text_of("nextToken").filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                return Ok(items);
            }
        }
    }

    /// The path of an object on S3, path-style (`/bucket/key`), which AWS and emulators
    /// both accept.
    pub fn s3_path(&self, bucket: &str, key: &str) -> String {
        format!("/{}/{}", utf8_percent_encode(bucket, UNRESERVED), utf8_percent_encode(key, PATH))
    }

    /// Calls S3; `path` comes from [`Client::s3_path`] plus any query.
    pub async fn s3(
        &self,
        operation: &str,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> AwsResult<Answer> {
        self.send(Service::S3, operation, method, path, headers, body).await
    }

    /// Calls Route 53's REST API (`path` below `/2013-04-01`) and parses its answer.
    pub async fn route53(&self, operation: &str, method: &str, path: &str, body: Option<String>) -> AwsResult<Element> {
        let headers: Vec<(&str, String)> =
            if body.is_some() { vec![("content-type", "application/xml".to_string())] } else { Vec::new() };
        let path = format!("/2013-04-01{path}");
        let answer = self
            .send(Service::Route53, operation, method, &path, &headers, body.unwrap_or_default().into_bytes())
            .await?;
        if answer.body.is_empty() {
            return Ok(Element::default());
        }
        let root = answer.xml().map_err(|e| AwsError::unreadable(Service::Route53, operation, e))?;
        Ok(root.children.into_iter().next().unwrap_or_default())
    }

    /// Calls a KMS action (the JSON protocol: `X-Amz-Target: TrentService.ACTION`) and
    /// parses its answer.
    pub async fn kms(&self, action: &str, request: &serde_json::Value) -> AwsResult<serde_json::Value> {
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", format!("TrentService.{action}")),
        ];
        let body = request.to_string().into_bytes();
        let answer = self.send(Service::Kms, action, "POST", "/", &headers, body).await?;
        serde_json::from_slice(&answer.body)
            .map_err(|e| AwsError::local(Service::Kms, action, format!("unreadable answer: {e}")))
    }

    /// A local failure in `service`'s `operation` (a timeout, a missing field).
    /// An answer AWS gave that does not fit (no image matches, an object gone while
    /// being made): status 200, no code, so it is not taken for a request that got no
    /// answer.
    pub fn failure(&self, service: Service, operation: &str, message: impl Into<String>) -> AwsError {
        AwsError { status: 200, ..AwsError::local(service, operation, message) }
    }
}

/// What SigV4 signs of a request.
pub struct SigningRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, String)],
    pub body: &'a [u8],
}

/// The headers that sign `request` for `service` in `region` at `time` (`authorization`,
/// `x-amz-date`, and for S3 `x-amz-content-sha256`).
pub fn sign_request(
    credentials: &Credentials,
    region: &str,
    service: Service,
    request: &SigningRequest<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let mut settings = SigningSettings::default();
    if service == Service::S3 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    sign_with(credentials, region, service.id(), settings, request, time)
}

fn sign_with(
    credentials: &Credentials,
    region: &str,
    service_name: &str,
    settings: SigningSettings,
    request: &SigningRequest<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service_name)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// The wait before retry number `attempt` (1-based): a random duration between half and
/// all of a ceiling that doubles from `base` with each attempt and stops growing at `max`.
fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = base.saturating_mul(1 << attempt.min(16)).min(max);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The error an AWS answer with an error status describes: its `Code` and `Message`.
fn error_from(service: Service, operation: &str, answer: &Answer) -> AwsError {
    // The JSON protocol (KMS) names the error in `__type` (`DisabledException`, or with a
    // namespace before a `#`).
    let json = serde_json::from_slice::<serde_json::Value>(&answer.body).ok();
    if let Some((document, code)) = json.as_ref().and_then(|d| d["__type"].as_str().map(|code| (d, code))) {
        let code = code.rsplit('#').next().unwrap_or(code).to_string();
        let message = document["message"].as_str().or(document["Message"].as_str()).unwrap_or_default().to_string();
        return AwsError { code, status: answer.status, ..AwsError::local(service, operation, message) };
    }
    let document = answer.xml().unwrap_or_default();
    let code = document.find("Code").map(|c| c.text.clone()).unwrap_or_else(|| match answer.status {
        404 => "NotFound".to_string(),
        403 => "AccessDenied".to_string(),
        status => format!("HTTP{status}"),
    });
    let message =
        document.find("Message").map(|m| m.text.clone()).unwrap_or_else(|| format!("HTTP status {}", answer.status));
    AwsError { code, status: answer.status, ..AwsError::local(service, operation, message) }
}

/// The keys and values of one `[section]` of an INI-style AWS file.
fn ini_section(text: &str, section: &str) -> BTreeMap<String, String> {
    let mut current = None;
    let mut values = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_string());
        } else if current.as_deref() == Some(section) {
            if let Some((key, value)) = line.split_once('=') {
                values.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
    }
    values
}

/// A stand-in server for what moto cannot show, for this provider's unit tests.
#[cfg(test)]
pub mod canned {
    use super::*;

    /// Answers each connection with the next canned `(status, body)` and returns the
    /// requests it served. Hand-written on purpose: moto never throttles nor fails, and
    /// pages only when asked to, so it cannot show retries or pagination.
    pub fn canned_server(answers: Vec<(u16, String)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        infra_provider_kit::canned::serve(|_| answers.into_iter().map(|(status, body)| (status, "", body)).collect())
    }

    /// Serves `connections` connections, each answered as `script` says (`None` closes
    /// the connection without an answer, as a lost answer does): the kit's scripted server.
    pub fn scripted_server(
        connections: usize,
        script: impl FnMut(&[String]) -> Option<(u16, String)> + Send + 'static,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        infra_provider_kit::canned::serve_scripted(connections, script)
    }

    /// The value of `name` in a request's form body or XML body (`<name>value</name>`).
    pub fn sent(request: &str, name: &str) -> Option<String> {
        let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
        let form = body.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string));
        let open = format!("<{name}>");
        let element = body.split(&open).nth(1).and_then(|rest| rest.split('<').next()).map(str::to_string);
        form.or(element)
    }

    /// An EC2 error document.
    pub fn ec2_error(code: &str) -> String {
        format!("<Response><Errors><Error><Code>{code}</Code><Message>try later</Message></Error></Errors></Response>")
    }

    pub fn canned_client(endpoint: &str, attempts: u32) -> Client {
        let environment = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b"), ("AWS_REGION", "us-east-1")];
        let mut settings = Settings {
            environment: environment.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Settings::default()
        };
        settings.endpoint = Some(endpoint.to_string());
        let mut client = Client::new(&settings).expect("configured");
        client.retry = Retry { attempts, base: Duration::from_millis(1), max: Duration::from_millis(5) };
        client
    }
}

#[cfg(test)]
mod tests {
    use super::canned::{canned_client, canned_server, ec2_error, scripted_server};
    use super::*;

    fn settings(env: &[(&str, &str)]) -> Settings {
        Settings {
            environment: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn environment_gives_credentials_region_and_endpoints() {
        let client = Client::new(&settings(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1/"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2"),
        ]))
        .expect("configured");
        assert_eq!(client.region, "eu-west-1");
        assert_eq!(client.endpoint(Service::Ec2), "http://127.0.0.1:1");
        assert_eq!(client.endpoint(Service::S3), "http://127.0.0.1:2");
        assert_eq!(client.credentials.access_key_id(), "AKID");
        assert_eq!(client.credentials.session_token(), Some("token"));

        // AWS_REGION wins over AWS_DEFAULT_REGION, and the block's settings over both.
        let both = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ];
        assert_eq!(Client::new(&settings(&both)).expect("configured").region, "eu-central-1");
        let mut block = settings(&both);
        block.region = Some("sa-east-1".to_string());
        block.endpoint = Some("http://127.0.0.1:3".to_string());
        block.access_key = Some("BLOCK".to_string());
        block.secret_key = Some("block".to_string());
        let client = Client::new(&block).expect("configured");
        assert_eq!((client.region.as_str(), client.credentials.access_key_id()), ("sa-east-1", "BLOCK"));
        assert_eq!(client.endpoint(Service::Route53), "http://127.0.0.1:3");
        assert_eq!(
            client.credentials.session_token(),
            None,
            "the environment's token is not mixed with the block's keys"
        );
    }

    #[test]
    fn profiles_come_from_the_shared_files() {
        let home = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(home.path().join(".aws")).expect("dir");
        std::fs::write(
            home.path().join(".aws/credentials"),
            "[default]\naws_access_key_id = D\naws_secret_access_key = d\n[work]\naws_access_key_id = W\naws_secret_access_key = w\n",
        )
        .expect("write");
        std::fs::write(home.path().join(".aws/config"), "[profile work]\nregion = ap-south-1\n").expect("write");
        let mut work = settings(&[]);
        work.home = Some(home.path().to_path_buf());
        work.profile = Some("work".to_string());
        let client = Client::new(&work).expect("configured");
        assert_eq!((client.credentials.access_key_id(), client.region.as_str()), ("W", "ap-south-1"));
        assert_eq!(client.endpoint(Service::Ec2), "https://ec2.ap-south-1.amazonaws.com");

        let mut default = settings(&[("AWS_REGION", "us-west-2")]);
        default.home = Some(home.path().to_path_buf());
        assert_eq!(Client::new(&default).expect("configured").credentials.access_key_id(), "D");
    }

    #[test]
    fn missing_credentials_and_region_are_explained() {
        let error = Client::new(&settings(&[])).expect_err("no credentials");
        assert!(error.message.contains("credentials"), "{error:?}");
        let error = Client::new(&settings(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]))
            .expect_err("no region");
        assert_eq!(error.attribute.as_deref(), Some("region"));
    }

    /// The `get-vanilla` case of the AWS SigV4 test suite: its credentials, date, region
    /// and service give the suite's published signature.
    #[test]
    fn signs_the_sigv4_test_suite_vanilla_get() {
        let authorization = suite_authorization(None, "GET", "/", &[], b"", SigningSettings::default());
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// More cases of the AWS SigV4 test suite (`aws-signing-test-suite/v4/*`), each with
    /// the signature the suite publishes: a POST, a query whose keys must be sorted, a
    /// session token, and a form body whose hash is signed as S3 requests' are.
    #[test]
    fn signs_more_cases_of_the_sigv4_test_suite() {
        let signature =
            |authorization: String| authorization.rsplit("Signature=").next().unwrap_or_default().to_string();
        let default = SigningSettings::default;
        assert_eq!(
            signature(suite_authorization(None, "POST", "/", &[], b"", default())),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            "post-vanilla"
        );
        assert_eq!(
            signature(suite_authorization(None, "GET", "/?Param2=value2&Param1=value1", &[], b"", default())),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            "get-vanilla-query-order-key-case"
        );
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        assert_eq!(
            signature(suite_authorization(Some(token), "GET", "/", &[], b"", default())),
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
            "get-vanilla-with-session-token"
        );
        let mut with_hash = default();
        with_hash.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let form =
            [("content-type", "application/x-www-form-urlencoded".to_string()), ("content-length", "13".to_string())];
        assert_eq!(
            signature(suite_authorization(None, "POST", "/", &form, b"Param1=value1", with_hash)),
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
            "post-x-www-form-urlencoded"
        );
    }

    /// The `authorization` header for a request to the test suite's host, with its
    /// credentials, region, service and time (2015-08-30T12:36:00Z).
    fn suite_authorization(
        token: Option<&str>,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: &[u8],
        settings: SigningSettings,
    ) -> String {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let mut all = vec![("host", "example.amazonaws.com".to_string())];
        all.extend(headers.iter().cloned());
        let url = format!("https://example.amazonaws.com{path_and_query}");
        let request = SigningRequest { method, url: &url, headers: &all, body };
        let signed = sign_with(&credentials, "us-east-1", "service", settings, &request, time).expect("signed");
        assert!(signed.contains(&("x-amz-date".to_string(), "20150830T123600Z".to_string())), "{signed:?}");
        signed.into_iter().find(|(k, _)| k == "authorization").map(|(_, v)| v).unwrap_or_default()
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let wait = |attempt| backoff(attempt, BASE_BACKOFF, MAX_BACKOFF);
        assert!(wait(1) <= Duration::from_millis(400));
        assert!(wait(1) >= Duration::from_millis(200));
        assert!(wait(3) <= Duration::from_millis(1600));
        assert!(wait(3) >= Duration::from_millis(800));
        assert!(wait(30) <= MAX_BACKOFF);
        assert!(wait(30) >= MAX_BACKOFF / 2);
        let waits: std::collections::BTreeSet<Duration> = (0..20).map(|_| wait(4)).collect();
        assert!(waits.len() > 1, "the waits are jittered: {waits:?}");
    }

    #[test]
    fn throttling_and_server_errors_are_retried_not_found_is_not() {
        let error = |code: &str, status| AwsError {
            code: code.to_string(),
            status,
            ..AwsError::local(Service::Ec2, "DescribeVpcs", "")
        };
        assert!(error("RequestLimitExceeded", 400).is_retryable());
        assert!(error("InternalError", 500).is_retryable());
        assert!(!error("InvalidVpcID.NotFound", 400).is_retryable());
        assert!(!error("DependencyViolation", 400).is_retryable(), "not for a describe call");
        let mut in_use = error("DependencyViolation", 400);
        in_use.operation = "DeleteSubnet".to_string();
        assert!(in_use.is_retryable(), "a subnet still in use while an instance goes away");
        assert!(error("InvalidVpcID.NotFound", 400).is_not_found());
        assert!(error("NoSuchBucket", 404).is_not_found());
        let provider_error = ProviderError::from(error("InvalidAMIID.NotFound", 400));
        assert!(provider_error.message.contains("`InvalidAMIID.NotFound`"), "{provider_error:?}");
    }

    #[test]
    fn throttled_and_failed_requests_are_sent_again_until_they_succeed() {
        let throttled = ec2_error("RequestLimitExceeded");
        let unavailable = ec2_error("Unavailable");
        let success = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>"
            .to_string();
        let (endpoint, server) = canned_server(vec![(503, unavailable), (400, throttled), (200, success)]);
        let client = canned_client(&endpoint, 6);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let answer = runtime.block_on(client.ec2("DescribeVpcs", &[])).expect("the third try succeeds");
        assert_eq!(answer.items("vpcSet").next().and_then(|v| v.text_of("vpcId")), Some("vpc-1"));
        assert_eq!(server.join().expect("server").len(), 3);
    }

    #[test]
    fn retries_are_bounded_and_other_errors_are_not_retried() {
        let throttled = ec2_error("Throttling");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (endpoint, server) = canned_server(vec![(400, throttled); 3]);
        let error = runtime.block_on(canned_client(&endpoint, 3).ec2("DescribeVpcs", &[])).expect_err("gives up");
        assert_eq!((error.code.as_str(), error.message.as_str()), ("Throttling", "try later"));
        assert_eq!(server.join().expect("server").len(), 3);

        let invalid = ec2_error("InvalidParameterValue");
        let (endpoint, server) = canned_server(vec![(400, invalid)]);
        let error = runtime.block_on(canned_client(&endpoint, 3).ec2("CreateVpc", &[])).expect_err("refused");
        assert_eq!(error.code, "InvalidParameterValue");
        assert_eq!(server.join().expect("server").len(), 1);
    }

    /// Regression: a retry pause went on after the run was interrupted (Ctrl-C). A pause
    /// in flight ends as soon as the provider is stopped, with an error that says what
    /// was retried and how it last failed, and the request is not sent again. A create
    /// answered with a server error may have been processed: the error says to look.
    #[test]
    fn a_pending_retry_ends_at_once_when_the_run_is_interrupted() {
        let (endpoint, server) = canned_server(vec![(500, ec2_error("InternalError"))]);
        let mut client = canned_client(&endpoint, 2);
        client.retry = Retry { attempts: 2, base: Duration::from_secs(20), max: Duration::from_secs(20) };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let started = std::time::Instant::now();
        let (sent, ()) = runtime.block_on(async {
            let stopping = async {
                // Stopped once the server has given its one answer.
                while !server.is_finished() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                client.stop.stop();
            };
            tokio::join!(client.ec2("RunInstances", &[]), stopping)
        });
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let error = sent.expect_err("interrupted");
        assert!(!error.is_retryable() && !error.is_not_found(), "{error:?}");
        let error = ProviderError::from(error);
        assert_eq!(
            error.message,
            "interrupted while waiting to retry EC2 RunInstances (the last attempt failed: 500 `InternalError`: try \
             later); an attempt may have been processed, so the object may have been made"
        );
        assert!(!error.retryable);
        assert!(error.help.as_deref().unwrap_or_default().contains("infra import"), "{error:?}");
        assert_eq!(server.join().expect("server").len(), 1);
    }

    /// Throttling turns a request away before any work: a create interrupted while it
    /// waits to be retried made nothing, and says so.
    #[test]
    fn an_interrupted_retry_of_a_throttled_create_says_nothing_was_made() {
        let throttled = AwsError::local(Service::Ec2, "CreateVpc", "try later");
        let throttled = AwsError { code: "RequestLimitExceeded".to_string(), status: 400, ..throttled };
        assert!(!throttled.maybe_processed() && AwsError::creates("CreateVpc"));
        let lost =
            AwsError { status: 503, unanswered: true, ..AwsError::local(Service::Ec2, "CreateVpc", "timed out") };
        assert!(lost.maybe_processed(), "a lost answer may have been processed");
        assert!(!AwsError::creates("CreateTags") && !AwsError::creates("DescribeVpcs"));
        let (endpoint, server) = canned_server(vec![(400, ec2_error("RequestLimitExceeded"))]);
        let client = canned_client(&endpoint, 2);
        client.stop.stop();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let error = ProviderError::from(runtime.block_on(client.ec2("CreateVpc", &[])).expect_err("interrupted"));
        assert_eq!(
            error.message,
            "interrupted while waiting to retry EC2 CreateVpc (the last attempt failed: 400 `RequestLimitExceeded`: \
             try later); no attempt was processed (each was turned away or never sent), so nothing was made"
        );
        assert_eq!(server.join().expect("server").len(), 1);
    }

    /// Regression: a create without an idempotency token (`CreateVpc`) was sent again
    /// after a server error, which AWS may have processed: a second VPC, which Infra
    /// never recorded. Throttling is still retried (nothing was made); after the server
    /// error the create is not sent again, and its error names what to look for and how
    /// to import it, and is not one the engine retries either.
    #[test]
    fn regression_a_create_without_a_token_is_not_sent_again_once_aws_may_have_processed_it() {
        let answers = vec![(400, ec2_error("RequestLimitExceeded")), (500, ec2_error("InternalError"))];
        let (endpoint, server) = canned_server(answers);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let made = "a VPC with CIDR block `10.0.0.0/16`";
        let client = canned_client(&endpoint, 6);
        let error = runtime.block_on(client.ec2("CreateVpc", &[])).expect_err("not sent again").made(made);
        assert_eq!(server.join().expect("server").len(), 2, "the throttled attempt, then the failed one");
        assert!(error.may_have_made());
        let error = ProviderError::from(error);
        assert_eq!(
            error.message,
            "EC2 CreateVpc may have made a VPC with CIDR block `10.0.0.0/16`, which Infra has not recorded: the \
             request failed after AWS may have processed it (500 `InternalError`: try later); it was not sent again, \
             as a repeat could make a second one"
        );
        let help = error.help.as_deref().unwrap_or_default();
        assert!(help.starts_with("look for a VPC with CIDR block `10.0.0.0/16` in AWS"), "{help}");
        assert!(help.contains("`infra import ADDRESS ID`"), "{help}");
        assert!(!error.retryable, "the engine's retry would send a second create");

        // A lost answer (the connection closed before any answer) likewise.
        let (endpoint, server) = scripted_server(1, |_| None);
        let error = runtime.block_on(canned_client(&endpoint, 6).ec2("CreateVpc", &[])).expect_err("lost");
        assert_eq!(server.join().expect("server").len(), 1);
        let error = ProviderError::from(error.made(made));
        assert!(error.message.starts_with("EC2 CreateVpc may have made a VPC"), "{}", error.message);
        assert!(
            error.message.contains("the request failed after AWS may have processed it (cannot reach"),
            "{error:?}"
        );
        assert!(!error.retryable);
    }

    /// A request whose answer was lost (the connection closed before it) is sent again,
    /// as after a timeout; a create refused before any work (a connection that never
    /// opened) is no "may have made".
    #[test]
    fn a_lost_answer_is_retried_and_a_refused_connection_made_nothing() {
        let vpcs = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>";
        let (endpoint, server) = scripted_server(2, move |served| (served.len() == 2).then(|| (200, vpcs.to_string())));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let answer = runtime.block_on(canned_client(&endpoint, 3).ec2("DescribeVpcs", &[])).expect("the retry");
        assert_eq!(answer.items("vpcSet").next().and_then(|v| v.text_of("vpcId")), Some("vpc-1"));
        assert_eq!(server.join().expect("server").len(), 2);

        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", closed.local_addr().expect("address"));
        drop(closed);
        let error = runtime.block_on(canned_client(&endpoint, 2).ec2("CreateVpc", &[])).expect_err("no server");
        assert!(!error.may_have_made(), "{error:?}");
        let error = ProviderError::from(error);
        assert!(error.message.starts_with("EC2 CreateVpc: cannot reach"), "{error:?}");
    }

    #[test]
    fn describe_calls_follow_next_token_to_the_last_page() {
        let page = |id: &str, token: &str| {
            format!(
                "<DescribeVpcsResponse><vpcSet><item><vpcId>{id}</vpcId></item></vpcSet>{token}</DescribeVpcsResponse>"
            )
        };
        let answers = vec![(200, page("vpc-1", "<nextToken>page+2</nextToken>")), (200, page("vpc-2", ""))];
        let (endpoint, server) = canned_server(answers);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let items = runtime
            .block_on(canned_client(&endpoint, 1).ec2_describe("DescribeVpcs", &[], "vpcSet"))
            .expect("both pages");
        let ids: Vec<&str> = items.iter().filter_map(|i| i.text_of("vpcId")).collect();
        assert_eq!(ids, ["vpc-1", "vpc-2"]);
        let requests = server.join().expect("server");
        assert!(!requests[0].contains("NextToken"), "{}", requests[0]);
        assert!(requests[1].ends_with("&NextToken=page%2B2"), "{}", requests[1]);
    }
}
