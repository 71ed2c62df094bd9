//! The `local` provider against a real file system: `local.file` written, read back for
//! drift, updated and deleted in a temporary module directory, and the data source.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;

fn provider(module_dir: &Path) -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: module_dir.to_path_buf() };
    infra_stdlib::providers::local::factory().configure(&Attributes::new(), &context).expect("configure")
}

fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect()
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Plans and creates a file from `config`, as the engine would.
async fn create(local: &dyn Provider, config: &Attributes) -> Attributes {
    assert!(local.validate("file", config).is_empty(), "{:?}", local.validate("file", config));
    let planned = local.plan("file", None, config).unwrap();
    local.create("file", &planned).await.unwrap()
}

const HELLO_SHA1: &str = "f572d396fae9206628714fb2ce00f72e94f2258f"; // sha1("hello\n")

#[tokio::test]
async fn create_writes_content_and_mode_relative_to_the_module_directory() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let config = attributes(&[("path", "out/deep/hello.txt"), ("content", "hello\n"), ("mode", "0600")]);
    let created = create(&*local, &config).await;
    let written = dir.path().join("out/deep/hello.txt");
    assert_eq!(fs::read_to_string(&written).unwrap(), "hello\n");
    assert_eq!(mode_of(&written), 0o600);
    assert_eq!(created["size"], Value::number(6.0));
    assert_eq!(created["id"], Value::string(HELLO_SHA1));
    assert_eq!(created["mode"], Value::string("0600"));
    assert!(created["source"].is_null());
    // No temporary file is left beside it.
    assert_eq!(fs::read_dir(written.parent().unwrap()).unwrap().count(), 1);
}

#[tokio::test]
async fn plan_fills_the_default_mode_and_computes_size_and_id_from_known_content() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let planned = local.plan("file", None, &attributes(&[("path", "a.txt"), ("content", "hello\n")])).unwrap();
    assert_eq!(planned["mode"], Value::string("0644"));
    assert_eq!(planned["size"], Value::number(6.0));
    assert_eq!(planned["id"], Value::string(HELLO_SHA1));

    let mut unknown_content = attributes(&[("path", "a.txt")]);
    unknown_content.insert("content", Value::unknown(infra_compiler::types::Type::String));
    let planned = local.plan("file", None, &unknown_content).unwrap();
    assert!(!planned["size"].is_known() && !planned["id"].is_known());
}

#[tokio::test]
async fn created_file_gets_mode_0644_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    create(&*local, &attributes(&[("path", "a.txt"), ("content", "x")])).await;
    assert_eq!(mode_of(&dir.path().join("a.txt")), 0o644);
}

#[tokio::test]
async fn absolute_paths_are_used_as_they_are() {
    let module = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("abs.txt");
    let local = provider(module.path());
    create(&*local, &attributes(&[("path", target.to_str().unwrap()), ("content", "abs")])).await;
    assert_eq!(fs::read_to_string(&target).unwrap(), "abs");
}

#[tokio::test]
async fn read_reports_edited_content_changed_mode_and_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let created = create(&*local, &attributes(&[("path", "a.txt"), ("content", "hello\n"), ("mode", "644")])).await;
    // Unchanged, and "644" is not drift from 0644.
    assert_eq!(local.read("file", &created).await.unwrap(), ReadResult::Found(created.clone()));

    let path = dir.path().join("a.txt");
    fs::write(&path, "edited").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let ReadResult::Found(found) = local.read("file", &created).await.unwrap() else { panic!("gone") };
    assert_eq!(found["content"], Value::string("edited"));
    assert_eq!(found["size"], Value::number(6.0));
    assert_ne!(found["id"], created["id"]);
    assert_eq!(found["mode"], Value::string("0600"));

    fs::remove_file(&path).unwrap();
    assert_eq!(local.read("file", &created).await.unwrap(), ReadResult::Gone);
}

#[tokio::test]
async fn update_rewrites_the_file_and_changes_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let prior = create(&*local, &attributes(&[("path", "a.txt"), ("content", "one")])).await;
    let config = attributes(&[("path", "a.txt"), ("content", "two!"), ("mode", "0640")]);
    let planned = local.plan("file", Some(&prior), &config).unwrap();
    assert_eq!(planned["size"], Value::number(4.0));
    let updated = local.update("file", &prior, &planned).await.unwrap();
    assert_eq!(updated, planned);
    let path = dir.path().join("a.txt");
    assert_eq!(fs::read_to_string(&path).unwrap(), "two!");
    assert_eq!(mode_of(&path), 0o640);
}

#[tokio::test]
async fn without_a_configured_mode_an_existing_file_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let config = attributes(&[("path", "a.txt"), ("content", "x")]);
    let created = create(&*local, &config).await;
    fs::set_permissions(dir.path().join("a.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let ReadResult::Found(refreshed) = local.read("file", &created).await.unwrap() else { panic!("gone") };
    let planned = local.plan("file", Some(&refreshed), &config).unwrap();
    assert_eq!(planned, refreshed, "no change planned");
}

#[tokio::test]
async fn delete_removes_the_file_keeps_the_directory_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let created = create(&*local, &attributes(&[("path", "sub/a.txt"), ("content", "x")])).await;
    local.delete("file", &created).await.unwrap();
    assert!(!dir.path().join("sub/a.txt").exists());
    assert!(dir.path().join("sub").is_dir());
    local.delete("file", &created).await.unwrap();
}

#[tokio::test]
async fn source_is_copied_and_a_changed_source_plans_an_update() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("template.txt"), "hello\n").unwrap();
    let local = provider(dir.path());
    let config = attributes(&[("path", "copy.txt"), ("source", "template.txt")]);
    let created = create(&*local, &config).await;
    assert_eq!(fs::read_to_string(dir.path().join("copy.txt")).unwrap(), "hello\n");
    assert_eq!(created["id"], Value::string(HELLO_SHA1));
    assert!(created["content"].is_null());

    assert_eq!(local.plan("file", Some(&created), &config).unwrap(), created, "unchanged source");
    fs::write(dir.path().join("template.txt"), "changed").unwrap();
    let planned = local.plan("file", Some(&created), &config).unwrap();
    assert!(!planned["id"].is_known());
    let updated = local.update("file", &created, &planned).await.unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("copy.txt")).unwrap(), "changed");
    assert_eq!(updated["size"], Value::number(7.0));
}

#[tokio::test]
async fn a_missing_source_is_an_error_on_source() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let config = attributes(&[("path", "copy.txt"), ("source", "absent.txt")]);
    let planned = local.plan("file", None, &config).unwrap();
    let error = local.create("file", &planned).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("source"));
    assert!(error.message.contains("absent.txt"), "{}", error.message);
}

#[test]
fn content_and_source_together_or_neither_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let both = attributes(&[("path", "a"), ("content", "x"), ("source", "b")]);
    let errors = local.validate("file", &both);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("`content` and `source`"), "{}", errors[0].message);
    assert!(errors[0].help.is_some());

    let neither = local.validate("file", &attributes(&[("path", "a")]));
    assert_eq!(neither.len(), 1);
    assert!(neither[0].message.contains("`content` or `source`"), "{}", neither[0].message);
}

#[test]
fn bad_modes_are_refused_on_mode() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    for mode in ["0888", "rw-r--r--", "", "01777", "12345"] {
        let errors = local.validate("file", &attributes(&[("path", "a"), ("content", "x"), ("mode", mode)]));
        assert_eq!(errors.len(), 1, "{mode:?}");
        assert_eq!(errors[0].attribute.as_deref(), Some("mode"), "{mode:?}");
        assert!(errors[0].help.is_some());
    }
    for mode in ["0644", "755", "0000", "0777"] {
        assert!(local.validate("file", &attributes(&[("path", "a"), ("content", "x"), ("mode", mode)])).is_empty());
    }
}

#[test]
fn unknown_values_are_not_validated() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let mut config = attributes(&[("path", "a"), ("content", "x")]);
    config.insert("mode", Value::unknown(infra_compiler::types::Type::String));
    assert!(local.validate("file", &config).is_empty());
}

#[tokio::test]
async fn data_source_reads_content_size_and_id() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("motd.txt"), "hello\n").unwrap();
    let local = provider(dir.path());
    let data = local.read_data("file", &attributes(&[("path", "motd.txt")])).await.unwrap();
    assert_eq!(data["content"], Value::string("hello\n"));
    assert_eq!(data["size"], Value::number(6.0));
    assert_eq!(data["id"], Value::string(HELLO_SHA1));
    assert_eq!(data["path"], Value::string("motd.txt"));
}

#[tokio::test]
async fn data_source_on_a_missing_file_is_an_error_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let local = provider(dir.path());
    let error = local.read_data("file", &attributes(&[("path", "nope.txt")])).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("path"));
    assert!(error.message.contains("nope.txt"), "{}", error.message);
    assert!(error.help.unwrap().contains("module directory"));
}

#[tokio::test]
async fn import_by_path_reads_the_file_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("existing.txt");
    fs::write(&path, "hello\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let local = provider(dir.path());
    let imported = local.import("file", "existing.txt").await.unwrap();
    assert_eq!(imported["content"], Value::string("hello\n"));
    assert_eq!(imported["mode"], Value::string("0640"));
    assert_eq!(imported["id"], Value::string(HELLO_SHA1));
    assert_eq!(local.read("file", &imported).await.unwrap(), ReadResult::Found(imported));
}
