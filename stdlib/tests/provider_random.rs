//! The `random` provider driven through the provider interface: passwords, integers and ids
//! respect their settings, differ between creates, stay put on update and are replaced when
//! `keepers` change.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use infra_stdlib::providers::random::{self, generate_password, SPECIAL_CHARACTERS};

fn provider() -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    random::factory().configure(&Attributes::new(), &context).expect("the random provider needs no configuration")
}

fn attributes(entries: &[(&str, Value)]) -> Attributes {
    entries.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

async fn create(provider: &dyn Provider, kind: &str, config: &Attributes) -> Attributes {
    let planned = provider.plan(kind, None, config).unwrap();
    let created = provider.create(kind, &planned).await.unwrap();
    assert!(created.values().all(Value::is_wholly_known), "{created:?}");
    created
}

/// The one error `validate` reports for `config`, checked to name `attribute`.
fn validation_error(kind: &str, config: &Attributes, attribute: &str) -> String {
    let errors = provider().validate(kind, config);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].attribute.as_deref(), Some(attribute), "{errors:?}");
    errors[0].message.clone()
}

fn keepers(value: &str) -> Value {
    Value::map(BTreeMap::from([("ami".to_string(), Value::string(value))]))
}

#[test]
fn plan_password_marks_computed_unknown_and_defaults_special() {
    let planned = provider().plan("password", None, &attributes(&[("length", Value::number(16.0))])).unwrap();
    assert_eq!(planned["result"], Value::unknown(Type::String));
    assert_eq!(planned["id"], Value::unknown(Type::String));
    assert_eq!(planned["special"], Value::bool(true));
    assert_eq!(planned["keepers"], Value::null());
}

#[tokio::test]
async fn password_has_the_length_and_alphabet_asked_for() {
    let provider = provider();
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    let with_special = |c: char| alphanumeric(c) || SPECIAL_CHARACTERS.contains(c);

    let config = attributes(&[("length", Value::number(24.0))]);
    let created = create(&*provider, "password", &config).await;
    let result = created["result"].as_str().unwrap();
    assert_eq!(result.chars().count(), 24);
    assert!(result.chars().all(with_special), "{result}");
    assert_eq!(created["id"], Value::string("none"));

    let config = attributes(&[("length", Value::number(40.0)), ("special", Value::bool(false))]);
    let created = create(&*provider, "password", &config).await;
    let result = created["result"].as_str().unwrap();
    assert_eq!(result.len(), 40);
    assert!(result.chars().all(alphanumeric), "{result}");
}

#[tokio::test]
async fn two_passwords_differ() {
    let provider = provider();
    let config = attributes(&[("length", Value::number(20.0))]);
    let first = create(&*provider, "password", &config).await;
    let second = create(&*provider, "password", &config).await;
    assert_ne!(first["result"], second["result"]);
}

#[test]
fn passwords_hold_every_class_when_long_enough() {
    let classes: [fn(char) -> bool; 4] = [
        |c| c.is_ascii_uppercase(),
        |c| c.is_ascii_lowercase(),
        |c| c.is_ascii_digit(),
        |c| SPECIAL_CHARACTERS.contains(c),
    ];
    // Many short passwords: a missing class would show up quickly.
    for _ in 0..200 {
        let password = generate_password(4, true);
        assert!(classes.iter().all(|class| password.chars().any(class)), "{password}");
        let password = generate_password(3, false);
        assert!(classes[..3].iter().all(|class| password.chars().any(class)), "{password}");
    }
    assert_eq!(generate_password(1, true).len(), 1);
    assert_eq!(generate_password(2, true).len(), 2);
}

#[test]
fn password_length_is_validated() {
    for length in [0.0, -3.0, 5000.0] {
        let message = validation_error("password", &attributes(&[("length", Value::number(length))]), "length");
        assert!(message.contains("between 1 and 4096"), "{message}");
    }
    let message = validation_error("password", &attributes(&[("length", Value::number(2.5))]), "length");
    assert!(message.contains("whole number"), "{message}");
    let error = provider().plan("password", None, &attributes(&[("length", Value::number(0.0))])).unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("length"));
    let unknown = attributes(&[("length", Value::unknown(Type::Number))]);
    assert!(provider().validate("password", &unknown).is_empty());
}

#[tokio::test]
async fn integer_is_within_the_inclusive_range() {
    let provider = provider();
    let config = attributes(&[("min", Value::number(-3.0)), ("max", Value::number(3.0))]);
    for _ in 0..50 {
        let created = create(&*provider, "integer", &config).await;
        let result = created["result"].as_number().unwrap();
        assert!((-3.0..=3.0).contains(&result) && result.fract() == 0.0, "{result}");
        assert_eq!(created["id"], Value::string(format!("{}", result as i64)));
    }
    let config = attributes(&[("min", Value::number(7.0)), ("max", Value::number(7.0))]);
    assert_eq!(create(&*provider, "integer", &config).await["result"], Value::number(7.0));
}

#[test]
fn integer_range_is_validated() {
    let config = attributes(&[("min", Value::number(5.0)), ("max", Value::number(1.0))]);
    let message = validation_error("integer", &config, "min");
    assert!(message.contains("greater than `max`"), "{message}");
    let config = attributes(&[("min", Value::number(0.5)), ("max", Value::number(1.0))]);
    validation_error("integer", &config, "min");
    let config = attributes(&[("min", Value::number(0.0)), ("max", Value::number(1e300))]);
    validation_error("integer", &config, "max");
    let config = attributes(&[("min", Value::number(5.0)), ("max", Value::unknown(Type::Number))]);
    assert!(provider().validate("integer", &config).is_empty());
}

#[tokio::test]
async fn id_encodes_the_same_bytes_in_hex_and_base64() {
    let provider = provider();
    for byte_length in [1, 8, 33] {
        let config = attributes(&[("byte_length", Value::number(byte_length as f64))]);
        let created = create(&*provider, "id", &config).await;
        let hex = created["hex"].as_str().unwrap();
        let b64 = created["b64"].as_str().unwrap();
        assert_eq!(hex.len(), 2 * byte_length);
        assert!(hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)), "{hex}");
        assert_eq!(URL_SAFE_NO_PAD.decode(b64).unwrap(), hex::decode(hex).unwrap());
        assert_eq!(created["id"].as_str(), Some(b64));
    }
    let message = validation_error("id", &attributes(&[("byte_length", Value::number(0.0))]), "byte_length");
    assert!(message.contains("between 1 and"), "{message}");
}

#[tokio::test]
async fn keepers_replace_and_nothing_else_changes_on_update() {
    let provider = provider();
    let config = attributes(&[("length", Value::number(12.0)), ("keepers", keepers("a"))]);
    let created = create(&*provider, "password", &config).await;

    // Leaving `special` out plans its default, which the prior instance has: no change.
    let same = provider.plan("password", Some(&created), &config).unwrap();
    assert_eq!(same["result"], created["result"]);
    assert_eq!(same, created);
    let updated = provider.update("password", &created, &same).await.unwrap();
    assert_eq!(updated, created);

    let rekept = attributes(&[("length", Value::number(12.0)), ("keepers", keepers("b"))]);
    let replaced = provider.plan("password", Some(&created), &rekept).unwrap();
    assert_eq!(replaced["result"], Value::unknown(Type::String));
}

#[tokio::test]
async fn read_finds_the_stored_attributes() {
    let provider = provider();
    let created = create(&*provider, "id", &attributes(&[("byte_length", Value::number(4.0))])).await;
    assert_eq!(provider.read("id", &created).await.unwrap(), ReadResult::Found(created.clone()));
    provider.delete("id", &created).await.unwrap();
}

#[tokio::test]
async fn id_imports_from_its_b64_value() {
    let provider = provider();
    let imported = provider.import("id", "p-7HhA").await.unwrap();
    assert_eq!(imported["byte_length"], Value::number(4.0));
    assert_eq!(imported["hex"], Value::string("a7eec784"));
    assert_eq!(imported["b64"], Value::string("p-7HhA"));
    assert_eq!(imported["id"], Value::string("p-7HhA"));

    assert!(provider.import("id", "not base64!").await.is_err());
    assert!(provider.import("id", "").await.is_err());
    let error = provider.import("password", "hunter2").await.unwrap_err();
    assert!(error.message.contains("cannot be imported"), "{error:?}");
}
