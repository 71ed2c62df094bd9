//! The `null` provider driven through the provider interface: `output` mirrors `input`,
//! the id is made once, and `triggers` replace the resource.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use infra_stdlib::providers::null;

fn provider() -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    null::factory().configure(&Attributes::new(), &context).expect("the null provider needs no configuration")
}

fn attributes(entries: &[(&str, Value)]) -> Attributes {
    entries.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

fn input_object() -> Value {
    Value::map(BTreeMap::from([("name".to_string(), Value::string("web")), ("port".to_string(), Value::number(80.0))]))
}

/// A version 4 UUID: 8-4-4-4-12 lower-case hex digits, version nibble 4.
fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    lengths == [8, 4, 4, 4, 12]
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()))
        && groups[2].starts_with('4')
}

#[test]
fn factory_names_the_provider_and_its_schema() {
    let factory = null::factory();
    assert_eq!(factory.name(), "null");
    assert!(factory.schema().resources.contains_key("resource"));
}

#[test]
fn plan_create_marks_id_unknown_and_mirrors_known_input() {
    let planned = provider().plan("resource", None, &attributes(&[("input", input_object())])).unwrap();
    assert_eq!(planned["id"], Value::unknown(Type::String));
    assert_eq!(planned["output"], input_object());
    assert_eq!(planned["triggers"], Value::null());
}

#[test]
fn plan_output_is_unknown_when_input_is() {
    let input = Value::unknown(Type::String);
    let planned = provider().plan("resource", None, &attributes(&[("input", input.clone())])).unwrap();
    assert_eq!(planned["output"], input);
}

#[tokio::test]
async fn create_fills_every_attribute_and_mirrors_input() {
    let provider = provider();
    let planned = provider.plan("resource", None, &attributes(&[("input", input_object())])).unwrap();
    let created = provider.create("resource", &planned).await.unwrap();
    assert!(created.values().all(Value::is_wholly_known), "{created:?}");
    assert_eq!(created["output"], input_object());
    assert!(is_uuid(created["id"].as_str().unwrap()), "{:?}", created["id"]);
}

#[tokio::test]
async fn two_creates_get_different_ids() {
    let provider = provider();
    let planned = provider.plan("resource", None, &Attributes::new()).unwrap();
    let first = provider.create("resource", &planned).await.unwrap();
    let second = provider.create("resource", &planned).await.unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["output"], Value::null());
}

#[tokio::test]
async fn update_keeps_the_id_and_follows_input() {
    let provider = provider();
    let planned = provider.plan("resource", None, &attributes(&[("input", Value::string("a"))])).unwrap();
    let created = provider.create("resource", &planned).await.unwrap();

    let config = attributes(&[("input", Value::string("b"))]);
    let replanned = provider.plan("resource", Some(&created), &config).unwrap();
    assert_eq!(replanned["id"], created["id"]);
    assert_eq!(replanned["output"], Value::string("b"));

    let updated = provider.update("resource", &created, &replanned).await.unwrap();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["output"], Value::string("b"));
}

#[tokio::test]
async fn changed_triggers_plan_a_new_id() {
    let provider = provider();
    let triggers = |v: &str| Value::map(BTreeMap::from([("version".to_string(), Value::string(v))]));
    let planned = provider.plan("resource", None, &attributes(&[("triggers", triggers("1"))])).unwrap();
    let created = provider.create("resource", &planned).await.unwrap();

    let same = provider.plan("resource", Some(&created), &attributes(&[("triggers", triggers("1"))])).unwrap();
    assert_eq!(same["id"], created["id"]);
    let changed = provider.plan("resource", Some(&created), &attributes(&[("triggers", triggers("2"))])).unwrap();
    assert_eq!(changed["id"], Value::unknown(Type::String));
}

#[tokio::test]
async fn read_finds_the_stored_attributes_and_delete_succeeds() {
    let provider = provider();
    let planned = provider.plan("resource", None, &attributes(&[("input", Value::bool(true))])).unwrap();
    let created = provider.create("resource", &planned).await.unwrap();
    assert_eq!(provider.read("resource", &created).await.unwrap(), ReadResult::Found(created.clone()));
    provider.delete("resource", &created).await.unwrap();
    // Deleting again is not an error: there is nothing outside the state to be gone.
    provider.delete("resource", &created).await.unwrap();
}

#[tokio::test]
async fn unknown_kinds_and_import_are_errors() {
    let provider = provider();
    let error = provider.plan("thing", None, &Attributes::new()).unwrap_err();
    assert!(error.message.contains("no resource kind `thing`"), "{error:?}");
    assert!(provider.import("resource", "abc").await.is_err());
}
