//! AWS KMS envelope encryption: a data key from `GenerateDataKey` encrypts the state,
//! and its copy encrypted under the KMS key is stored beside it; `Decrypt` turns that
//! copy back into the data key. Both are called at most once per process (per stored
//! copy), through the `aws` provider's client (credentials, endpoints, SigV4, retries).
//!
//! The client is asynchronous; as in the S3 backend, each call runs on a runtime of
//! this value's own, from a scoped thread, since the caller may be inside the engine's
//! runtime.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use infra_provider_aws::client::{AwsError, Client, Settings};
use infra_runtime::state::StateError;
use serde_json::json;

use crate::codes;

/// A data key and its encrypted copy.
type DataKey = ([u8; 32], Vec<u8>);

pub struct Kms {
    key_id: String,
    client: Client,
    runtime: Runtime,
    /// The data key this process writes with, made on first use.
    writing: Mutex<Option<DataKey>>,
    /// Data keys decrypted so far, by their encrypted copy.
    decrypted: Mutex<BTreeMap<Vec<u8>, [u8; 32]>>,
}

impl Kms {
    /// KMS key `key_id` (an ID, ARN or `alias/NAME`), reached with the environment's AWS
    /// settings; nothing is contacted yet.
    pub fn new(key_id: &str) -> Result<Kms, StateError> {
        let settings = Settings {
            environment: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(Into::into),
            ..Settings::default()
        };
        let client = Client::new(&settings).map_err(|error| {
            let state_error = crate::unavailable(format!("KMS key `{key_id}`: {}", error.message));
            match error.help {
                Some(help) => state_error.with_help(help.replace("in `provider aws`, ", "")),
                None => state_error,
            }
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::unavailable(format!("cannot start the HTTP runtime: {e}")))?;
        Ok(Kms {
            key_id: key_id.to_string(),
            client,
            runtime: Runtime(Some(runtime)),
            writing: Mutex::default(),
            decrypted: Mutex::default(),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The data key this process writes with, and its encrypted copy.
    pub fn data_key(&self) -> Result<DataKey, StateError> {
        let mut writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(data_key) = writing.as_ref() {
            return Ok(data_key.clone());
        }
        let request = json!({ "KeyId": self.key_id, "KeySpec": "AES_256" });
        let answer = self.call("GenerateDataKey", &request)?;
        let plain = bytes(&answer["Plaintext"]);
        let encrypted = bytes(&answer["CiphertextBlob"]);
        let key: [u8; 32] = plain
            .try_into()
            .map_err(|_| crate::unavailable(format!("KMS key `{}` gave a data key of the wrong size", self.key_id)))?;
        Ok(writing.insert((key, encrypted)).clone())
    }

    /// The data key whose encrypted copy is `encrypted`.
    ///
    /// `key_id` is the key that wrote it (the header names it): KMS is asked to use that
    /// key only, as AWS recommends.
    pub fn decrypt_data_key(&self, encrypted: &[u8], key_id: &str) -> Result<[u8; 32], StateError> {
        let mut decrypted = self.decrypted.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = decrypted.get(encrypted) {
            return Ok(*key);
        }
        let answer = self.call("Decrypt", &json!({ "CiphertextBlob": STANDARD.encode(encrypted), "KeyId": key_id }))?;
        let key: [u8; 32] = bytes(&answer["Plaintext"])
            .try_into()
            .map_err(|_| crate::unavailable("KMS gave a data key of the wrong size"))?;
        decrypted.insert(encrypted.to_vec(), key);
        Ok(key)
    }

    fn call(&self, action: &str, request: &serde_json::Value) -> Result<serde_json::Value, StateError> {
        let runtime = self.runtime.0.as_ref().ok_or_else(|| crate::unavailable("the KMS client was shut down"))?;
        let result = std::thread::scope(|scope| {
            let worker = scope.spawn(|| runtime.block_on(self.client.kms(action, request)));
            worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        result.map_err(|error| self.error(error))
    }

    fn error(&self, error: AwsError) -> StateError {
        let help = match error.code.as_str() {
            "DisabledException" => {
                "the KMS key is disabled: enable it again (`aws kms enable-key`), or give the key \
                                    the state is now encrypted with"
            }
            "NotFoundException" => "check `kms_key_id` (an ID, ARN or `alias/NAME`) and the region",
            "AccessDeniedException" | "UnrecognizedClientException" | "InvalidSignatureException" => {
                "check the AWS credentials and that they may use the key (kms:GenerateDataKey, kms:Decrypt)"
            }
            "" => "check the network and the KMS endpoint (AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL)",
            _ => "see the AWS documentation of the error code",
        };
        let code = if error.code.is_empty() { "no answer".to_string() } else { format!("`{}`", error.code) };
        StateError::new(
            codes::kind(codes::STATE_KEY_UNAVAILABLE),
            format!("KMS {} with key `{}` failed ({code}): {}", error.operation, self.key_id, error.message),
        )
        .with_help(format!("{help}; nothing was changed"))
    }
}

fn bytes(value: &serde_json::Value) -> Vec<u8> {
    value.as_str().and_then(|text| STANDARD.decode(text).ok()).unwrap_or_default()
}

/// The runtime, shut down without waiting when dropped (it may be dropped inside
/// another runtime).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
