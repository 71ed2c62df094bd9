//! `qemu.disk` through the provider interface against the real `qemu-img`: create,
//! overlays sharing a base, copies, growing, refused shrinking, drift and delete.

use std::path::Path;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, Provider, ProviderContext, ProviderError, ReadResult};
use infra_runtime::Value;
use serde_json::Value as Json;

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn s(text: &str) -> Value {
    Value::string(text)
}

fn provider(dir: &Path) -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: dir.to_path_buf() };
    infra_provider_qemu::factory().configure(&Attributes::new(), &context).expect("configured")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn create(provider: &Arc<dyn Provider>, config: &Attributes) -> Result<Attributes, ProviderError> {
    let planned = provider.plan("disk", None, config)?;
    provider.create("disk", &planned).await
}

async fn read(provider: &Arc<dyn Provider>, current: &Attributes) -> Option<Attributes> {
    match provider.read("disk", current).await.expect("read") {
        ReadResult::Found(found) => Some(found),
        ReadResult::Gone => None,
    }
}

/// What the real `qemu-img info` says about `path`.
fn qemu_img_info(path: &Path) -> Json {
    let output = std::process::Command::new("qemu-img")
        .args(["info", "--output=json", "-U"])
        .arg(path)
        .output()
        .expect("qemu-img runs");
    assert!(output.status.success(), "qemu-img info: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn number(attributes: &Attributes, name: &str) -> f64 {
    attributes.get(name).and_then(Value::as_number).unwrap_or(-1.0)
}

#[test]
fn an_empty_disk_is_made_grown_read_and_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = attributes(&[("path", s("disks/a.qcow2")), ("size", s("64M"))]);
        let created = create(&qemu, &config).await.expect("created");
        let file = dir.path().join("disks/a.qcow2");
        let info = qemu_img_info(&file);
        assert_eq!(info["format"], "qcow2");
        assert_eq!(info["virtual-size"], 64 << 20);
        assert_eq!(text(&created, "id"), "disks/a.qcow2");
        assert_eq!(text(&created, "size"), "64M", "the configured form is kept");
        assert_eq!(number(&created, "virtual_size"), f64::from(64 << 20));
        assert!(number(&created, "actual_size") > 0.0);
        assert_eq!(read(&qemu, &created).await.as_ref(), Some(&created), "nothing drifted");

        let grown_config = attributes(&[("path", s("disks/a.qcow2")), ("size", s("128M"))]);
        let planned = qemu.plan("disk", Some(&created), &grown_config).expect("planned");
        let grown = qemu.update("disk", &created, &planned).await.expect("grown");
        assert_eq!(qemu_img_info(&file)["virtual-size"], 128 << 20);
        assert_eq!(number(&grown, "virtual_size"), f64::from(128 << 20));

        let error = qemu.plan("disk", Some(&grown), &config).expect_err("shrinking is refused");
        assert!(error.message.contains("shrinking it to 64M is refused"), "{error:?}");
        assert_eq!(error.attribute.as_deref(), Some("size"));
        assert!(error.help.is_some());

        qemu.delete("disk", &grown).await.expect("deleted");
        assert!(!file.exists());
        assert_eq!(read(&qemu, &grown).await, None, "a deleted disk reads as gone");
        qemu.delete("disk", &grown).await.expect("deleting again is not an error");
    });
}

#[test]
fn a_resize_outside_infra_is_drift() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = attributes(&[("path", s("raw.img")), ("size", s("1M")), ("format", s("raw"))]);
        let created = create(&qemu, &config).await.expect("created");
        assert_eq!(std::fs::metadata(dir.path().join("raw.img")).expect("file").len(), 1 << 20);
        let status = std::process::Command::new("qemu-img")
            .args(["resize", "-q", "-f", "raw"])
            .arg(dir.path().join("raw.img"))
            .arg("2M")
            .status()
            .expect("qemu-img");
        assert!(status.success());
        let found = read(&qemu, &created).await.expect("found");
        assert_eq!(text(&found, "size"), "2097152", "the size read back is in bytes");
        let error = qemu.plan("disk", Some(&found), &config).expect_err("going back is a shrink");
        assert!(error.message.contains("2097152 bytes"), "{error:?}");
    });
}

#[test]
fn two_overlays_share_one_base_and_a_copy_records_its_source_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let base = create(&qemu, &attributes(&[("path", s("base.qcow2")), ("size", s("32M"))])).await.expect("base");
        let overlay = |name: &str| attributes(&[("path", s(name)), ("base", s("base.qcow2"))]);
        let first = create(&qemu, &overlay("vm1.qcow2")).await.expect("first overlay");
        let second = create(&qemu, &overlay("vm2.qcow2")).await.expect("second overlay");
        let base_path = dir.path().join("base.qcow2");
        for disk in [&first, &second] {
            let info = qemu_img_info(&dir.path().join(text(disk, "path")));
            assert_eq!(info["backing-filename"], base_path.display().to_string());
            assert_eq!(info["virtual-size"], 32 << 20, "an overlay takes its base's size");
            assert_eq!(text(disk, "size"), (32u64 << 20).to_string());
        }

        std::fs::write(dir.path().join("source.raw"), vec![7u8; 4096]).expect("source");
        let copy = attributes(&[("path", s("copy.qcow2")), ("source", s("source.raw")), ("size", s("1M"))]);
        let copied = create(&qemu, &copy).await.expect("copied");
        assert_eq!(text(&copied, "sha256"), sha256_of(&dir.path().join("source.raw")));
        assert_eq!(qemu_img_info(&dir.path().join("copy.qcow2"))["virtual-size"], 1 << 20);
        assert_eq!(text(&base, "format"), "qcow2");
    });
}

fn sha256_of(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&output.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn bad_input_is_refused_with_help() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let missing = attributes(&[("path", s("vm.qcow2")), ("base", s("no-such-base.qcow2"))]);
        let error = create(&qemu, &missing).await.expect_err("a missing base");
        assert!(error.message.contains("no-such-base.qcow2` does not exist"), "{error:?}");
        assert_eq!(error.attribute.as_deref(), Some("base"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("make it first")), "{error:?}");
        assert!(!dir.path().join("vm.qcow2").exists(), "nothing is left behind");

        let errors = qemu.validate("disk", &attributes(&[("path", s("a.img"))]));
        assert_eq!(errors[0].message, "`size` is not set");
        let both = attributes(&[("path", s("a.img")), ("base", s("b")), ("source", s("c"))]);
        assert_eq!(qemu.validate("disk", &both)[0].message, "`base` and `source` cannot both be set");
        let raw_overlay = attributes(&[("path", s("a.img")), ("base", s("b")), ("format", s("raw"))]);
        assert!(qemu.validate("disk", &raw_overlay)[0].message.contains("`qcow2`"));

        // Regression: a copy of a source larger than `size` was converted, then refused,
        // and the converted file was left behind.
        std::fs::write(dir.path().join("big.raw"), vec![1u8; 2 << 20]).expect("source");
        let cut = attributes(&[("path", s("cut.qcow2")), ("source", s("big.raw")), ("size", s("1M"))]);
        let error = qemu.plan_async("disk", None, &cut).await.expect_err("refused when planning");
        assert_eq!(error.message, "the source image is 2097152 bytes; a copy of 1M would cut it short");
        let error = create(&qemu, &cut).await.expect_err("a copy smaller than its source");
        assert_eq!(error.message, "the source image is 2097152 bytes; a copy of 1M would cut it short");
        assert_eq!(error.attribute.as_deref(), Some("size"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("leave `size` out")), "{error:?}");
        assert!(!dir.path().join("cut.qcow2").exists(), "nothing was written");

        std::fs::write(dir.path().join("taken.qcow2"), b"mine").expect("file");
        let taken = attributes(&[("path", s("taken.qcow2")), ("size", s("1M"))]);
        let error = create(&qemu, &taken).await.expect_err("an existing file is not overwritten");
        assert!(error.message.contains("already exists"), "{error:?}");
        assert_eq!(std::fs::read(dir.path().join("taken.qcow2")).expect("file"), b"mine");
    });
}

#[test]
fn an_image_is_imported_by_its_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        create(&qemu, &attributes(&[("path", s("base.qcow2")), ("size", s("2M"))])).await.expect("base");
        let base = dir.path().join("base.qcow2").display().to_string();
        create(&qemu, &attributes(&[("path", s("top.qcow2")), ("base", s(&base))])).await.expect("overlay");
        let imported = qemu.import("disk", "top.qcow2").await.expect("imported");
        assert_eq!(text(&imported, "base"), base);
        assert_eq!(text(&imported, "format"), "qcow2");
        assert_eq!(text(&imported, "size"), "2097152");
        let error = qemu.import("disk", "nothing.qcow2").await.expect_err("nothing to import");
        assert!(error.message.contains("there is no image"), "{error:?}");
    });
}
