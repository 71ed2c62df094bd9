//! `qemu.cloudinit` and `data qemu.cloudinit_config` through the provider interface: the
//! seed read back with mtools and blkid, byte-for-byte reproducible, drift, and user data checked
//! when planning.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, Provider, ProviderContext, ProviderError, ReadResult};
use infra_runtime::Value;

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
    let planned = provider.plan("cloudinit", None, config)?;
    provider.create("cloudinit", &planned).await
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// A file of the FAT volume `image`, read with mtools' `mtype`.
fn mtype(image: &Path, name: &str) -> String {
    let output =
        Command::new("mtype").arg("-i").arg(image).arg(format!("::{name}")).output().expect("mtype (mtools) runs");
    assert!(output.status.success(), "mtype {name}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The volume label of `image` as `blkid` reads it, as cloud-init finds its seed.
fn label(image: &Path) -> String {
    let output = Command::new("blkid").args(["-s", "LABEL", "-o", "value"]).arg(image).output().expect("blkid runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

const USER_DATA: &str =
    "#cloud-config\nusers:\n  - name: deploy\n    ssh_authorized_keys: [\"ssh-ed25519 AAAA test\"]\n";

const VENDOR_DATA: &str = "#cloud-config\ntimezone: Etc/UTC\n";

#[test]
fn a_seed_holds_the_files_cloud_init_reads_under_the_cidata_label() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = attributes(&[
            ("path", s("seeds/web.img")),
            ("user_data", s(USER_DATA)),
            ("network_config", s("version: 2\nethernets:\n  eth0:\n    dhcp4: true\n")),
            ("vendor_data", s(VENDOR_DATA)),
        ]);
        let created = create(&qemu, &config).await.expect("created");
        let image = dir.path().join("seeds/web.img");
        assert_eq!(label(&image), "CIDATA");
        assert_eq!(mtype(&image, "user-data"), USER_DATA);
        assert_eq!(mtype(&image, "meta-data"), "instance-id: \"web\"\nlocal-hostname: \"web\"\n");
        assert!(mtype(&image, "network-config").contains("dhcp4: true"));
        assert_eq!(mtype(&image, "vendor-data"), VENDOR_DATA);
        assert_eq!(text(&created, "instance_id"), "web", "the default is the file's name");
        assert_eq!(text(&created, "local_hostname"), "web");
        let on_disk = std::fs::read(&image).expect("seed");
        assert_eq!(text(&created, "sha256"), sha256_hex(&on_disk));
        let planned = qemu.plan("cloudinit", None, &config).expect("planned");
        assert_eq!(text(&planned, "sha256"), text(&created, "sha256"), "the plan knows the hash");
    });
}

fn sha256_hex(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bytes");
    std::fs::write(&path, bytes).expect("write");
    let output = Command::new("sha256sum").arg(&path).output().expect("sha256sum");
    String::from_utf8_lossy(&output.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn the_same_input_makes_the_same_bytes() {
    let first = tempfile::tempdir().expect("temp dir");
    let second = tempfile::tempdir().expect("temp dir");
    let config = attributes(&[("path", s("seed.img")), ("user_data", s(USER_DATA)), ("instance_id", s("i-1"))]);
    runtime().block_on(async {
        create(&provider(first.path()), &config).await.expect("first");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        create(&provider(second.path()), &config).await.expect("second");
    });
    let a = std::fs::read(first.path().join("seed.img")).expect("first seed");
    let b = std::fs::read(second.path().join("seed.img")).expect("second seed");
    assert!(a == b, "two seeds of the same input differ");
}

#[test]
fn a_changed_or_deleted_seed_is_drift() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let config = attributes(&[("path", s("seed.img")), ("user_data", s("#!/bin/sh\necho hi\n"))]);
        let created = create(&qemu, &config).await.expect("created");
        let image = dir.path().join("seed.img");
        let other = dir.path().join("other");
        std::fs::write(&other, "#!/bin/sh\necho changed\n").expect("other user data");
        let status = Command::new("mcopy").args(["-o", "-i"]).arg(&image).arg(&other).arg("::user-data").status();
        assert!(status.expect("mcopy").success());
        let ReadResult::Found(found) = qemu.read("cloudinit", &created).await.expect("read") else {
            panic!("the seed is there")
        };
        assert_ne!(text(&found, "sha256"), text(&created, "sha256"));
        let planned = qemu.plan("cloudinit", Some(&found), &config).expect("planned");
        assert_eq!(text(&planned, "sha256"), text(&created, "sha256"), "the plan writes the seed again");
        let written = qemu.update("cloudinit", &found, &planned).await.expect("rewritten");
        assert_eq!(mtype(&image, "user-data"), "#!/bin/sh\necho hi\n");
        assert_eq!(text(&written, "sha256"), text(&created, "sha256"));

        std::fs::remove_file(&image).expect("removed");
        assert_eq!(qemu.read("cloudinit", &created).await.expect("read"), ReadResult::Gone);
    });
}

#[test]
fn user_data_is_checked_when_planning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    let plan = |user_data: &str| {
        qemu.plan("cloudinit", None, &attributes(&[("path", s("a.img")), ("user_data", s(user_data))]))
    };
    let error = plan("#cloud-config\nusers:\n  - name: a\n   bad: indent\n").expect_err("bad YAML");
    assert!(error.message.starts_with("`user_data` is not valid cloud-config YAML: line 4"), "{error:?}");
    assert_eq!(error.attribute.as_deref(), Some("user_data"));
    assert!(error.help.is_some());
    let error = plan("#cloud-config\n- a list\n").expect_err("not a mapping");
    assert!(error.message.contains("must be a YAML mapping"), "{error:?}");
    let error = plan("packages: [nginx]\n").expect_err("no #cloud-config line");
    assert_eq!(error.message, "`user_data` is not cloud-config, a script or multi-part MIME");
    assert!(error.help.as_deref().is_some_and(|h| h.contains("#cloud-config")));
    plan("#!/bin/sh\necho hi\n").expect("a script");
    plan("#cloud-config\n").expect("an empty cloud-config");
    let network = attributes(&[("path", s("a.img")), ("user_data", s("#!/bin/sh\n")), ("network_config", s("a: [b"))]);
    let error = qemu.plan("cloudinit", None, &network).expect_err("bad network YAML");
    assert_eq!(error.attribute.as_deref(), Some("network_config"));
}

fn part(pairs: &[(&str, &str)]) -> Value {
    Value::map(pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}

#[test]
fn multi_part_user_data_renders_the_same_text_every_time_and_a_seed_takes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let parts = Value::list(vec![
            part(&[
                ("content", "#cloud-config\npackages: [nginx]\n"),
                ("filename", "a.yaml"),
                ("merge_type", "list(append)"),
            ]),
            part(&[("content", "#!/bin/sh\necho hi"), ("content_type", "text/x-shellscript")]),
        ]);
        let config = attributes(&[("part", parts.clone())]);
        let read = qemu.read_data("cloudinit_config", &config).await.expect("rendered");
        let rendered = text(&read, "rendered");
        assert_eq!(
            rendered,
            "Content-Type: multipart/mixed; boundary=\"MIMEBOUNDARY\"\nMIME-Version: 1.0\n\n\
             --MIMEBOUNDARY\nContent-Transfer-Encoding: 7bit\nContent-Type: text/cloud-config\nMime-Version: 1.0\n\
             Content-Disposition: attachment; filename=\"a.yaml\"\nX-Merge-Type: list(append)\n\n\
             #cloud-config\npackages: [nginx]\n\
             --MIMEBOUNDARY\nContent-Transfer-Encoding: 7bit\nContent-Type: text/x-shellscript\nMime-Version: 1.0\n\n\
             #!/bin/sh\necho hi\n--MIMEBOUNDARY--\n"
        );
        let again = qemu.read_data("cloudinit_config", &config).await.expect("rendered again");
        assert_eq!(again, read);
        create(&qemu, &attributes(&[("path", s("seed.img")), ("user_data", s(rendered))])).await.expect("a seed");

        let packed = attributes(&[("part", parts), ("gzip", Value::bool(true)), ("base64_encode", Value::bool(true))]);
        let packed = qemu.read_data("cloudinit_config", &packed).await.expect("packed");
        let packed = text(&packed, "rendered");
        assert!(packed.starts_with("H4sI"), "Base64 of gzip");
        // Decoded as cloud-init decodes it, the same parts come back.
        use base64::Engine;
        let compressed = base64::engine::general_purpose::STANDARD.decode(packed).expect("Base64");
        let mut unpacked = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut unpacked).expect("gzip");
        assert_eq!(unpacked, rendered);
    });
}

#[test]
fn bad_parts_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let qemu = provider(dir.path());
    runtime().block_on(async {
        let bad_yaml = attributes(&[("part", Value::list(vec![part(&[("content", "a: [b")])]))]);
        let error = qemu.read_data("cloudinit_config", &bad_yaml).await.expect_err("bad YAML");
        assert!(error.message.starts_with("part 1 is not valid cloud-config YAML"), "{error:?}");
        let gzip_only = attributes(&[
            ("part", Value::list(vec![part(&[("content", "#!/bin/sh\n")])])),
            ("gzip", Value::bool(true)),
        ]);
        let error = qemu.read_data("cloudinit_config", &gzip_only).await.expect_err("gzip without base64");
        assert_eq!(error.message, "`gzip` needs `base64_encode = true`");
        let error = qemu.read_data("cloudinit_config", &Attributes::new()).await.expect_err("no parts");
        assert_eq!(error.message, "`part` is not set");
    });
}
