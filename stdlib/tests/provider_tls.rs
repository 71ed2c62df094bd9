//! The `tls` provider driven through the provider interface: generated keys parse back in
//! every encoding, the encodings describe the same key, and bad settings are errors on
//! their attribute.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use infra_stdlib::providers::tls;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use sha1::{Digest, Sha1};
use ssh_key::{PrivateKey, PublicKey};

fn provider() -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    tls::factory().configure(&Attributes::new(), &context).expect("the tls provider needs no configuration")
}

fn attributes(entries: &[(&str, Value)]) -> Attributes {
    entries.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

async fn create(provider: &dyn Provider, config: &Attributes) -> Attributes {
    let planned = provider.plan("private_key", None, config).unwrap();
    let created = provider.create("private_key", &planned).await.unwrap();
    assert!(created.values().all(Value::is_wholly_known), "{created:?}");
    created
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes[name].as_str().unwrap_or_else(|| panic!("`{name}` is not a string: {:?}", attributes[name]))
}

/// The public key parses from `public_key_openssh`, and is the public half of the key in
/// `private_key_openssh`.
fn openssh_keys_match(created: &Attributes) -> PublicKey {
    let public = PublicKey::from_openssh(text(created, "public_key_openssh")).unwrap();
    let private = PrivateKey::from_openssh(text(created, "private_key_openssh")).unwrap();
    assert_eq!(private.public_key().key_data(), public.key_data());
    assert!(!private.is_encrypted());
    public
}

/// The DER bytes inside a PEM document.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

#[test]
fn plan_marks_keys_unknown_and_defaults_rsa_bits() {
    let planned = provider().plan("private_key", None, &attributes(&[("algorithm", Value::string("RSA"))])).unwrap();
    for name in ["id", "public_key_openssh", "private_key_pem", "private_key_openssh"] {
        assert_eq!(planned[name], Value::unknown(Type::String), "{name}");
    }
    assert_eq!(planned["rsa_bits"], Value::number(2048.0));
}

#[tokio::test]
async fn ed25519_keys_parse_back_and_match() {
    let provider = provider();
    let created = create(&*provider, &attributes(&[("algorithm", Value::string("ED25519"))])).await;
    assert!(text(&created, "public_key_openssh").starts_with("ssh-ed25519 AAAA"));
    assert!(text(&created, "private_key_pem").starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(text(&created, "private_key_openssh").starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    let public = openssh_keys_match(&created);

    let signing_key = ed25519_dalek::SigningKey::from_pkcs8_pem(text(&created, "private_key_pem")).unwrap();
    let verifying_key = signing_key.verifying_key();
    assert_eq!(public.key_data().ed25519().unwrap().0, verifying_key.to_bytes());
    let der = verifying_key.to_public_key_der().unwrap();
    assert_eq!(text(&created, "id"), sha1_hex(der.as_bytes()));
}

/// Regression: the PEM was PKCS#8 version 2 (with the public key), which OpenSSL 3.0
/// refuses to read. Version 1 is `SEQUENCE { INTEGER 0, ... }`, 48 bytes for Ed25519.
#[tokio::test]
async fn ed25519_pem_is_pkcs8_version_1() {
    let created = create(&*provider(), &attributes(&[("algorithm", Value::string("ED25519"))])).await;
    let der = pem_der(text(&created, "private_key_pem"));
    assert_eq!(der.len(), 48);
    assert_eq!(der[..5], [0x30, 0x2e, 0x02, 0x01, 0x00]);
}

#[tokio::test]
async fn rsa_keys_parse_back_and_match() {
    let provider = provider();
    let created = create(&*provider, &attributes(&[("algorithm", Value::string("RSA"))])).await;
    assert!(text(&created, "public_key_openssh").starts_with("ssh-rsa AAAA"));
    assert_eq!(created["rsa_bits"], Value::number(2048.0));
    let public = openssh_keys_match(&created);

    let private_key = rsa::RsaPrivateKey::from_pkcs8_pem(text(&created, "private_key_pem")).unwrap();
    let public_key = private_key.to_public_key();
    assert_eq!(rsa::RsaPublicKey::try_from(public.key_data().rsa().unwrap()).unwrap(), public_key);
    assert_eq!(rsa::traits::PublicKeyParts::size(&public_key), 2048 / 8);
    let der = public_key.to_public_key_der().unwrap();
    assert_eq!(text(&created, "id"), sha1_hex(der.as_bytes()));
}

#[tokio::test]
async fn two_keys_differ_and_update_keeps_the_key() {
    let provider = provider();
    let config = attributes(&[("algorithm", Value::string("ED25519"))]);
    let first = create(&*provider, &config).await;
    let second = create(&*provider, &config).await;
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["private_key_pem"], second["private_key_pem"]);

    let same = provider.plan("private_key", Some(&first), &config).unwrap();
    assert_eq!(same, first);
    assert_eq!(provider.update("private_key", &first, &same).await.unwrap(), first);
    assert_eq!(provider.read("private_key", &first).await.unwrap(), ReadResult::Found(first.clone()));

    let rsa = attributes(&[("algorithm", Value::string("RSA"))]);
    let replaced = provider.plan("private_key", Some(&first), &rsa).unwrap();
    assert_eq!(replaced["private_key_pem"], Value::unknown(Type::String));
}

#[tokio::test]
async fn invalid_algorithms_and_sizes_are_errors_on_their_attribute() {
    let provider = provider();
    let cases = [
        (attributes(&[("algorithm", Value::string("ECDSA"))]), "algorithm"),
        (attributes(&[("algorithm", Value::string("ed25519"))]), "algorithm"),
        (attributes(&[("algorithm", Value::string("RSA")), ("rsa_bits", Value::number(1024.0))]), "rsa_bits"),
        (attributes(&[("algorithm", Value::string("RSA")), ("rsa_bits", Value::number(2048.5))]), "rsa_bits"),
    ];
    for (config, attribute) in &cases {
        let errors = provider.validate("private_key", config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].attribute.as_deref(), Some(*attribute), "{errors:?}");
        let error = provider.plan("private_key", None, config).unwrap_err();
        assert_eq!(error.attribute.as_deref(), Some(*attribute));
        let error = provider.create("private_key", config).await.unwrap_err();
        assert_eq!(error.attribute.as_deref(), Some(*attribute));
    }
    let unknown = attributes(&[("algorithm", Value::unknown(Type::String))]);
    assert!(provider.validate("private_key", &unknown).is_empty());
}
