//! The `tls` provider: key pairs generated locally, such as SSH keys for new servers.

use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderError, ProviderFactory, ProviderResult, ReadResult};
use infra_runtime::Value;
use rand::rngs::OsRng;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use sha1::{Digest, Sha1};
use ssh_key::private::{Ed25519Keypair, KeypairData, RsaKeypair};

use infra_provider_kit::{
    attribute, keep_computed, kind, known, plan_attributes, provider, resource_schema, whole_number,
};

use super::stateless::unconfigured_factory;

pub fn schema() -> ProviderSchema {
    let private_key = kind(
        "A private key generated locally and kept in state, with its public key.",
        "The SHA-1 hash of the public key, in hexadecimal.",
        vec![
            AttributeSchema::required("algorithm", Type::String, "The key algorithm: \"ED25519\" or \"RSA\".")
                .force_new()
                .validate(Validator::OneOf(vec!["ED25519".to_string(), "RSA".to_string()])),
            AttributeSchema::optional("rsa_bits", Type::Number, "The size of an RSA key in bits; 2048 by default.")
                .force_new()
                .validate(Validator::OneOf(RSA_BITS.iter().map(i64::to_string).collect())),
            AttributeSchema::computed(
                "public_key_openssh",
                Type::String,
                "The public key in OpenSSH `authorized_keys` format.",
            ),
            AttributeSchema::computed("private_key_pem", Type::String, "The private key in PEM (PKCS#8) format.")
                .sensitive(),
            AttributeSchema::computed(
                "private_key_openssh",
                Type::String,
                "The private key in OpenSSH format, for an SSH client.",
            )
            .sensitive(),
        ],
    );
    provider(
        "tls",
        "Keys generated on the machine that runs Infra, such as SSH key pairs.",
        vec![("private_key", private_key)],
        vec![],
    )
}

/// The `tls` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    unconfigured_factory(schema(), Arc::new(TlsProvider { schema: schema() }))
}

/// The RSA key sizes `rsa_bits` may take: smaller keys are no longer considered safe, and
/// larger ones take long to generate for little gain.
pub const RSA_BITS: [i64; 3] = [2048, 3072, 4096];

struct TlsProvider {
    schema: ProviderSchema,
}

#[async_trait::async_trait]
impl Provider for TlsProvider {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        if let Err(error) = resource_schema(&self.schema, kind) {
            return vec![error];
        }
        let algorithm = known(config, "algorithm").map(|value| algorithm(Some(value))).and_then(Result::err);
        let rsa_bits = rsa_bits(config).err();
        algorithm.into_iter().chain(rsa_bits).collect()
    }

    /// `rsa_bits` defaults to 2048 whatever the algorithm, as in Terraform's
    /// `tls_private_key`; it is ignored for ED25519 keys.
    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        let ed25519 = known(config, "algorithm").and_then(Value::as_str) == Some("ED25519");
        if ed25519 && config.get("rsa_bits").is_some_and(|bits| !bits.is_null()) {
            infra_runtime::provider::warn(
                ProviderError::new("`rsa_bits` has no effect on an ED25519 key")
                    .on_attribute("rsa_bits")
                    .with_help("remove `rsa_bits`, or set `algorithm = \"RSA\"` for an RSA key of that size"),
            );
        }
        let defaults = [("rsa_bits", Value::number(DEFAULT_RSA_BITS as f64))];
        Ok(plan_attributes(resource_schema(&self.schema, kind)?, prior, config, &defaults))
    }

    /// Generates the key on a blocking thread: an RSA key takes a noticeable while, and the
    /// engine's other work should go on meanwhile.
    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        resource_schema(&self.schema, kind)?;
        let algorithm = algorithm(Some(attribute(planned, "algorithm")))?;
        let bits = rsa_bits(planned)?.unwrap_or(DEFAULT_RSA_BITS);
        let key = tokio::task::spawn_blocking(move || generate(algorithm, bits))
            .await
            .map_err(|error| ProviderError::new(format!("key generation stopped: {error}")))??;
        let mut attributes = planned.clone();
        attributes.extend([
            ("id".to_string(), Value::string(hex::encode(Sha1::digest(&key.public_key_der)))),
            ("public_key_openssh".to_string(), Value::string(key.public_key_openssh)),
            ("private_key_pem".to_string(), Value::string(key.private_key_pem)),
            ("private_key_openssh".to_string(), Value::string(key.private_key_openssh)),
        ]);
        Ok(attributes)
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        resource_schema(&self.schema, kind)?;
        Ok(ReadResult::Found(current.clone()))
    }

    /// Every setting is force-new, so an update only ever keeps the key.
    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        Ok(keep_computed(resource_schema(&self.schema, kind)?, prior, planned))
    }

    async fn delete(&self, kind: &str, _current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        Ok(())
    }
}

const DEFAULT_RSA_BITS: i64 = 2048;

#[derive(Clone, Copy, Debug)]
enum Algorithm {
    Ed25519,
    Rsa,
}

/// The `algorithm` attribute's value, which must be `"ED25519"` or `"RSA"`.
fn algorithm(value: Option<&Value>) -> ProviderResult<Algorithm> {
    match value.and_then(Value::as_str) {
        Some("ED25519") => Ok(Algorithm::Ed25519),
        Some("RSA") => Ok(Algorithm::Rsa),
        other => {
            let shown = other.map_or_else(|| "nothing".to_string(), |name| format!("\"{name}\""));
            Err(ProviderError::new(format!("`algorithm` must be \"ED25519\" or \"RSA\", not {shown}"))
                .on_attribute("algorithm")
                .with_help("the names are upper-case; ED25519 keys are small and fast, RSA keys work everywhere"))
        }
    }
}

/// `rsa_bits` when it is set and known, which must be one of [`RSA_BITS`].
fn rsa_bits(attributes: &Attributes) -> ProviderResult<Option<i64>> {
    match whole_number(attributes, "rsa_bits")? {
        Some(bits) if !RSA_BITS.contains(&bits) => {
            Err(ProviderError::new(format!("`rsa_bits` must be 2048, 3072 or 4096, not {bits}"))
                .on_attribute("rsa_bits"))
        }
        bits => Ok(bits),
    }
}

/// A generated key in every encoding the resource offers. The private forms are plain
/// strings: they go into the state as they are, so wiping this copy would protect nothing.
struct GeneratedKey {
    /// The public key as DER `SubjectPublicKeyInfo`; the id is its SHA-1 hash, as in
    /// Terraform's `tls_private_key`.
    public_key_der: Vec<u8>,
    public_key_openssh: String,
    private_key_pem: String,
    private_key_openssh: String,
}

/// Generates a key from the operating system's CSPRNG. The OpenSSH forms carry no comment
/// and the private key no passphrase: it is protected by the state, like every secret.
fn generate(algorithm: Algorithm, rsa_bits: i64) -> ProviderResult<GeneratedKey> {
    let failed = |error: &dyn std::fmt::Display| ProviderError::new(format!("cannot generate the key: {error}"));
    let (keypair, private_key_pem, public_key_der) = match algorithm {
        Algorithm::Ed25519 => {
            let keypair = Ed25519Keypair::random(&mut OsRng);
            let signing_key = ed25519_dalek::SigningKey::try_from(&keypair).map_err(|e| failed(&e))?;
            // PKCS#8 version 1, without the optional public key: OpenSSL 3.0 cannot read
            // the version 2 form `SigningKey` writes, and Go (so Terraform) writes version 1.
            let secret = ed25519_dalek::pkcs8::KeypairBytes { secret_key: signing_key.to_bytes(), public_key: None };
            let pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e))?;
            let der = signing_key.verifying_key().to_public_key_der().map_err(|e| failed(&e))?;
            (KeypairData::Ed25519(keypair), pem, der)
        }
        Algorithm::Rsa => {
            let bits = usize::try_from(rsa_bits).map_err(|e| failed(&e))?;
            let private_key = rsa::RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| failed(&e))?;
            let pem = private_key.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e))?;
            let der = private_key.to_public_key().to_public_key_der().map_err(|e| failed(&e))?;
            (KeypairData::Rsa(RsaKeypair::try_from(&private_key).map_err(|e| failed(&e))?), pem, der)
        }
    };
    let private_key = ssh_key::PrivateKey::new(keypair, "").map_err(|e| failed(&e))?;
    Ok(GeneratedKey {
        public_key_der: public_key_der.into_vec(),
        public_key_openssh: private_key.public_key().to_openssh().map_err(|e| failed(&e))?,
        private_key_pem: private_key_pem.to_string(),
        private_key_openssh: private_key.to_openssh(ssh_key::LineEnding::LF).map_err(|e| failed(&e))?.to_string(),
    })
}
