//! The bucket's objects over the `aws` provider's client (credentials, endpoints,
//! SigV4, retries): get, conditional put, delete and list, each a blocking call.
//!
//! The client is asynchronous and the backend interface is not, and the backend is
//! called from inside the engine's tokio runtime, where blocking on another runtime is
//! not allowed. So the bucket owns a runtime of its own and runs each call on a scoped
//! thread that blocks on it; the thread costs microseconds, the request milliseconds.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

use infra_provider_aws::client::{AwsError, Client, Service, Settings, UNRESERVED};
use infra_runtime::state::StateError;
use percent_encoding::utf8_percent_encode;

use crate::codes;
use crate::location::S3Location;

/// What a write requires of the object already at its key.
#[derive(Clone, Debug)]
pub enum Condition {
    /// No object may be there (`If-None-Match: *`).
    Absent,
    /// The object there must have this ETag (`If-Match`).
    Matches(String),
}

/// An object as read: its bytes and its ETag.
pub struct Object {
    pub body: Vec<u8>,
    pub etag: String,
}

/// One bucket, reached with the settings of an [`S3Location`].
pub struct Bucket {
    client: Client,
    name: String,
    runtime: Runtime,
}

impl Bucket {
    /// The bucket of `location`, with credentials and region from it, the environment and
    /// `~/.aws`; nothing is contacted yet.
    pub fn new(location: &S3Location) -> Result<Bucket, StateError> {
        Bucket::with_environment(location, std::env::vars().collect(), std::env::var_os("HOME").map(Into::into))
    }

    /// [`Bucket::new`] with the environment and home directory given, so tests need not
    /// change the process's own.
    fn with_environment(
        location: &S3Location,
        environment: BTreeMap<String, String>,
        home: Option<PathBuf>,
    ) -> Result<Bucket, StateError> {
        let settings = Settings {
            region: location.region.clone(),
            endpoint: location.endpoint.clone(),
            profile: location.profile.clone(),
            access_key: None,
            secret_key: None,
            environment,
            home,
        };
        let client = Client::new(&settings).map_err(|error| settings_error(location, error))?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            StateError::new(codes::kind(codes::STATE_S3_UNREACHABLE), format!("cannot start the HTTP runtime: {e}"))
        })?;
        Ok(Bucket { client, name: location.bucket.clone(), runtime: Runtime(Some(runtime)) })
    }

    fn path(&self, key: &str) -> String {
        self.client.s3_path(&self.name, key)
    }

    /// The object at `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Object>, AwsError> {
        let path = self.path(key);
        let answer = self.run(|| self.client.s3("GetObject", "GET", &path, &[], Vec::new()));
        match answer {
            Ok(answer) => {
                let etag = answer.header("etag").unwrap_or_default();
                Ok(Some(Object { body: answer.body, etag }))
            }
            Err(error) if error.code == "NoSuchKey" || error.status == 404 && error.code != "NoSuchBucket" => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Writes `body` at `key` if `condition` holds; `Ok(false)` when it did not (S3's
    /// `PreconditionFailed`), and nothing was written.
    pub fn put(&self, key: &str, body: Vec<u8>, condition: &Condition) -> Result<bool, AwsError> {
        let path = self.path(key);
        let mut headers = vec![("content-type", "application/octet-stream".to_string())];
        match condition {
            Condition::Absent => headers.push(("if-none-match", "*".to_string())),
            Condition::Matches(etag) => headers.push(("if-match", etag.clone())),
        }
        match self.run(|| self.client.s3("PutObject", "PUT", &path, &headers, body)) {
            Ok(_) => Ok(true),
            Err(error) if error.status == 412 || error.code == "PreconditionFailed" => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes `body` at `key` if `condition` holds, as [`Bucket::put`], but a refusal is
    /// checked first. The client tries a request again when its answer is lost (a
    /// timeout, a dropped connection); when the first attempt had landed, the retry's
    /// condition fails on this very write (`If-None-Match: *` finds the object,
    /// `If-Match` a new ETag). An object holding exactly `body` is that write, so the
    /// write succeeded; anything else there is another writer's.
    pub fn put_confirmed(&self, key: &str, body: Vec<u8>, condition: &Condition) -> Result<bool, AwsError> {
        if self.put(key, body.clone(), condition)? {
            return Ok(true);
        }
        Ok(self.get(key)?.is_some_and(|object| object.body == body))
    }

    /// Deletes the object at `key`; deleting one that is not there succeeds.
    pub fn delete(&self, key: &str) -> Result<(), AwsError> {
        let path = self.path(key);
        match self.run(|| self.client.s3("DeleteObject", "DELETE", &path, &[], Vec::new())) {
            Err(error) if error.code == "NoSuchKey" => Ok(()),
            other => other.map(drop),
        }
    }

    /// The keys under `prefix`, sorted; with `delimiter`, only the common prefixes one
    /// level down (`prefix/NAME/`) instead.
    pub fn list(&self, prefix: &str, delimiter: bool) -> Result<Vec<String>, AwsError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!(
                "/{}?list-type=2&prefix={}",
                utf8_percent_encode(&self.name, UNRESERVED),
                utf8_percent_encode(prefix, UNRESERVED)
            );
            if delimiter {
                path.push_str("&delimiter=%2F");
            }
            if let Some(token) = &token {
                path.push_str(&format!("&continuation-token={}", utf8_percent_encode(token, UNRESERVED)));
            }
            let answer = self.run(|| self.client.s3("ListObjectsV2", "GET", &path, &[], Vec::new()))?;
            let document = answer.xml().map_err(|e| self.client.failure(Service::S3, "ListObjectsV2", e))?;
            let Some(result) = document.child("ListBucketResult") else { break };
            if delimiter {
                keys.extend(result.all("CommonPrefixes").map(|c| c.text_or_empty("Prefix")));
            } else {
                keys.extend(result.all("Contents").map(|c| c.text_or_empty("Key")));
            }
            token = result.text_of("NextContinuationToken").filter(|t| !t.is_empty()).map(str::to_string);
            if result.text_of("IsTruncated") != Some("true") || token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Runs the future `make` gives on the bucket's runtime, from a thread of its own.
    fn run<T: Send, F: Future<Output = T>>(&self, make: impl FnOnce() -> F + Send) -> T {
        let runtime = self.runtime.0.as_ref().expect("the runtime lives as long as the bucket");
        std::thread::scope(|scope| {
            let worker = scope.spawn(|| runtime.block_on(make()));
            worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// `Client::new`'s failure as this backend's settings error. The client's hint speaks of
/// `provider aws`, whose `access_key` and `secret_key` the `state s3` block does not take
/// (keys in a configuration file would be in version control): credentials come from
/// the environment or a profile.
fn settings_error(location: &S3Location, error: infra_runtime::provider::ProviderError) -> StateError {
    let state_error = StateError::new(
        codes::kind(codes::STATE_S3_SETTINGS),
        format!("the S3 state at {}: {}", location.display(), error.message),
    );
    let help = if error.message.contains("no AWS credentials") {
        Some(
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in \
             the environment, or name a profile of ~/.aws/credentials with `profile` in the `state s3` block or \
             AWS_PROFILE (the `state s3` block takes no keys)"
                .to_string(),
        )
    } else {
        error.help.map(|help| help.replace("`provider aws`", "the `state s3` block"))
    };
    match help {
        Some(help) => state_error.with_help(help),
        None => state_error,
    }
}

/// The bucket's runtime, shut down without waiting when dropped: the backend may be
/// dropped inside the engine's runtime, where dropping a runtime the usual way (which
/// blocks) is not allowed.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
#[path = "../../../cli/tests/support/moto.rs"]
mod moto;

#[cfg(test)]
mod tests {
    use super::*;

    fn location(endpoint: &str) -> S3Location {
        let mut location = S3Location::new("retries", "state.json", None).expect("a location");
        location.endpoint = Some(endpoint.to_string());
        location.region = Some("us-east-1".to_string());
        location
    }

    fn bucket(moto: &moto::Moto) -> Bucket {
        let environment = moto.environment().into_iter().map(|(name, value)| (name.to_string(), value)).collect();
        Bucket::with_environment(&location(&moto.endpoint), environment, None).expect("a bucket")
    }

    /// Regression: a journal or snapshot write whose answer was lost and which the client
    /// sent again found its own first attempt there (412) and was reported as another
    /// run's write, aborting the apply. The first attempt is made here by a plain `put`;
    /// `put_confirmed` is the retry.
    #[test]
    fn a_retried_write_that_finds_its_own_first_attempt_succeeded() {
        let moto = moto::Moto::start();
        moto.aws(&["s3api", "create-bucket", "--bucket", "retries"]);
        let bucket = bucket(&moto);
        let journal = b"one batch of entries\n".to_vec();
        assert_eq!(bucket.put("state.json.journal/000000000000", journal.clone(), &Condition::Absent), Ok(true));
        let retried = bucket.put_confirmed("state.json.journal/000000000000", journal, &Condition::Absent);
        assert_eq!(retried, Ok(true), "the retry of a write that landed");
        let other =
            bucket.put_confirmed("state.json.journal/000000000000", b"another run's".to_vec(), &Condition::Absent);
        assert_eq!(other, Ok(false), "another writer's object is a conflict");

        assert_eq!(bucket.put("state.json", b"serial 1".to_vec(), &Condition::Absent), Ok(true));
        let read = bucket.get("state.json").ok().flatten().map(|object| object.etag).expect("the snapshot");
        let next = Condition::Matches(read);
        assert_eq!(bucket.put("state.json", b"serial 2".to_vec(), &next), Ok(true));
        assert_eq!(bucket.put_confirmed("state.json", b"serial 2".to_vec(), &next), Ok(true), "the retry");
        assert_eq!(bucket.put_confirmed("state.json", b"serial 3".to_vec(), &next), Ok(false), "a stale ETag");
        let stored = bucket.get("state.json").ok().flatten().map(|object| object.body);
        assert_eq!(stored.as_deref(), Some(&b"serial 2"[..]));
    }

    /// Regression: without credentials, the hint said to set `access_key` and
    /// `secret_key` in the `state s3` block, which refuses them (E0718).
    #[test]
    fn the_missing_credentials_hint_names_what_the_state_block_takes() {
        let error = Bucket::with_environment(&location("http://127.0.0.1:9"), BTreeMap::new(), None)
            .err()
            .expect("no credentials");
        assert_eq!(error.code(), codes::STATE_S3_SETTINGS.as_str());
        let help = error.help.unwrap_or_default();
        assert!(help.contains("AWS_ACCESS_KEY_ID") && help.contains("`profile`"), "{help}");
        assert!(!help.contains("access_key`"), "{help}");
    }
}
