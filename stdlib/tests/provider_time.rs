//! The `time` provider driven through the provider interface: durations are parsed like
//! Go's, invalid ones are errors on their attribute, and `time.sleep` waits at least as
//! long as asked (only a lower bound is ever asserted: machines can be slow).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use infra_stdlib::providers::time::{self, parse_duration};

fn provider() -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    time::factory().configure(&Attributes::new(), &context).expect("the time provider needs no configuration")
}

fn attributes(entries: &[(&str, Value)]) -> Attributes {
    entries.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, in or after 2024.
fn is_rfc3339_utc(text: &str) -> bool {
    let shape = text.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    let year: u32 = text.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    text.len() == 20 && shape && year >= 2024
}

#[test]
fn durations_parse_like_go() {
    let cases: &[(&str, Duration)] = &[
        ("0", Duration::ZERO),
        ("0s", Duration::ZERO),
        ("100ms", Duration::from_millis(100)),
        ("2s", Duration::from_secs(2)),
        ("1m", Duration::from_secs(60)),
        ("1h", Duration::from_secs(3600)),
        ("1m30s", Duration::from_secs(90)),
        ("1h2m3s4ms", Duration::from_millis(3_723_004)),
        ("1.5s", Duration::from_millis(1500)),
        ("0.1s", Duration::from_millis(100)),
        (".5m", Duration::from_secs(30)),
        ("250us", Duration::from_micros(250)),
        ("250µs", Duration::from_micros(250)),
        ("7ns", Duration::from_nanos(7)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_duration(text), Ok(*expected), "{text}");
    }
}

#[test]
fn invalid_durations_say_why() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("5", "no unit"),
        ("1m30", "no unit"),
        ("10 s", "a space"),
        ("3d", "not a unit"),
        ("-1s", "expected a number"),
        ("s", "expected a number"),
        ("1.2.3s", "not a number"),
        (".s", "not a number"),
        ("99999999999999999999999h", "too long"),
    ];
    for (text, reason) in cases {
        let error = parse_duration(text).expect_err(text);
        assert!(error.contains(reason), "{text}: {error}");
    }
}

#[test]
fn invalid_durations_are_validation_errors_on_their_attribute() {
    let provider = provider();
    for name in ["create_duration", "destroy_duration"] {
        let config = attributes(&[(name, Value::string("soon"))]);
        let errors = provider.validate("sleep", &config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].attribute.as_deref(), Some(name));
        assert!(errors[0].message.contains("is not a duration"), "{:?}", errors[0]);
        let error = provider.plan("sleep", None, &config).unwrap_err();
        assert_eq!(error.attribute.as_deref(), Some(name));
    }
    let unknown = attributes(&[("create_duration", Value::unknown(Type::String))]);
    assert!(provider.validate("sleep", &unknown).is_empty());
}

#[tokio::test]
async fn create_rejects_an_invalid_duration() {
    let planned = attributes(&[("create_duration", Value::string("1x"))]);
    let error = provider().create("sleep", &planned).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("create_duration"));
}

#[test]
fn plan_create_marks_id_unknown() {
    let config = attributes(&[("create_duration", Value::string("1s"))]);
    let planned = provider().plan("sleep", None, &config).unwrap();
    assert_eq!(planned["id"], Value::unknown(Type::String));
    assert_eq!(planned["create_duration"], Value::string("1s"));
    assert_eq!(planned["destroy_duration"], Value::null());
}

#[tokio::test]
async fn create_waits_at_least_create_duration() {
    let provider = provider();
    let planned = provider.plan("sleep", None, &attributes(&[("create_duration", Value::string("150ms"))])).unwrap();
    let started = Instant::now();
    let created = provider.create("sleep", &planned).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(created.values().all(Value::is_wholly_known), "{created:?}");
    let id = created["id"].as_str().unwrap();
    assert!(is_rfc3339_utc(id), "{id}");
}

#[tokio::test]
async fn delete_waits_at_least_destroy_duration() {
    let provider = provider();
    let planned = provider.plan("sleep", None, &attributes(&[("destroy_duration", Value::string("0.15s"))])).unwrap();
    let created = provider.create("sleep", &planned).await.unwrap();
    let started = Instant::now();
    provider.delete("sleep", &created).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn update_keeps_the_id_and_triggers_replace() {
    let provider = provider();
    let triggers = |v: &str| Value::map(BTreeMap::from([("image".to_string(), Value::string(v))]));
    let config = attributes(&[("triggers", triggers("v1"))]);
    let created = provider.create("sleep", &provider.plan("sleep", None, &config).unwrap()).await.unwrap();
    assert_eq!(provider.read("sleep", &created).await.unwrap(), ReadResult::Found(created.clone()));

    let longer = attributes(&[("triggers", triggers("v1")), ("create_duration", Value::string("1h"))]);
    let replanned = provider.plan("sleep", Some(&created), &longer).unwrap();
    assert_eq!(replanned["id"], created["id"]);
    // A changed duration is an in-place update that does not wait.
    let updated = provider.update("sleep", &created, &replanned).await.unwrap();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["create_duration"], Value::string("1h"));

    let retriggered = attributes(&[("triggers", triggers("v2"))]);
    let replaced = provider.plan("sleep", Some(&created), &retriggered).unwrap();
    assert_eq!(replaced["id"], Value::unknown(Type::String));
}
