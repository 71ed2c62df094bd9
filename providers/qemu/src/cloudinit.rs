//! `qemu.cloudinit`: a NoCloud seed volume (`seed.rs`) written to a file, for a VM to
//! find as a disk labelled `CIDATA`; rewritten in place when its content changes or the
//! file is changed outside Infra.

use std::path::Path;

use infra_compiler::schema::{AttributeSchema, Schema};
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, kind, known, plan_attributes};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::seed::{self, Files};
use crate::{required_text, string, Qemu};

pub fn schema() -> Schema {
    kind(
        "A cloud-init NoCloud seed: a small FAT volume labelled `CIDATA` with `user-data` and `meta-data`, the same \
         bytes for the same input.",
        "The seed's path, as configured.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "The seed file, relative to the root module's directory; changing it replaces the seed.",
            )
            .force_new(),
            AttributeSchema::required(
                "user_data",
                Type::String,
                "The user data: cloud-config YAML starting with `#cloud-config`, a script starting with `#!`, or \
                 multi-part MIME (such as `qemu.cloudinit_config`'s `rendered`). Checked when planning.",
            ),
            string(
                "instance_id",
                "The `instance-id` of the meta data; cloud-init runs its once-per-instance steps again when it changes. \
                 Left out, the file name of `path` without its extension.",
            )
            .also_computed(),
            string("local_hostname", "The `local-hostname` of the meta data; left out, the same as `instance_id`.")
                .also_computed(),
            string("network_config", "Network configuration (version 1 or 2 YAML), written as `network-config`."),
            string("vendor_data", "Vendor data, in the same forms as `user_data`, written as `vendor-data`."),
            AttributeSchema::computed(
                "sha256",
                Type::String,
                "The SHA-256 of the seed file, in hex; a different file on disk is drift, and the seed is written again.",
            ),
        ],
    )
}

/// Checks user or vendor data: a cloud-config must parse as YAML and be a mapping; the
/// other forms cloud-init takes are recognised by their first line.
pub fn check_user_data(name: &str, text: &str) -> Option<ProviderError> {
    const OTHER_FORMS: [&str; 7] = [
        "#!",
        "#include",
        "#cloud-boothook",
        "#part-handler",
        "#cloud-config-archive",
        "Content-Type: multipart/",
        "MIME-Version:",
    ];
    let first_line = text.lines().next().unwrap_or_default().trim_end();
    if first_line == "#cloud-config" {
        return check_yaml(name, text, "cloud-config");
    }
    if OTHER_FORMS.iter().any(|form| first_line.starts_with(form)) {
        return None;
    }
    Some(
        ProviderError::new(format!("`{name}` is not cloud-config, a script or multi-part MIME"))
            .on_attribute(name)
            .with_help(
                "start cloud-config YAML with a line `#cloud-config`, a script with `#!` (\"#!/bin/sh\"), or compose \
                 several parts with `data qemu.cloudinit_config`",
            ),
    )
}

/// Checks that `text` is YAML whose top level is a mapping (or empty).
pub fn check_yaml(name: &str, text: &str, what: &str) -> Option<ProviderError> {
    match yaml_rust2::YamlLoader::load_from_str(text) {
        Err(error) => {
            let marker = error.marker();
            Some(
                ProviderError::new(format!(
                    "`{name}` is not valid {what} YAML: line {}, column {}: {}",
                    marker.line(),
                    marker.col() + 1,
                    error.info()
                ))
                .on_attribute(name)
                .with_help("check the indentation and quoting around that line"),
            )
        }
        Ok(documents) => match documents.first() {
            None | Some(yaml_rust2::Yaml::Hash(_)) | Some(yaml_rust2::Yaml::Null) => None,
            Some(_) => Some(
                ProviderError::new(format!("`{name}` must be a YAML mapping of {what} keys"))
                    .on_attribute(name)
                    .with_help("write `key: value` lines, such as `package_update: true`"),
            ),
        },
    }
}

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let text = |name: &str| known(config, name).and_then(Value::as_str);
    let mut errors: Vec<ProviderError> = Vec::new();
    for name in ["user_data", "vendor_data"] {
        errors.extend(text(name).and_then(|t| check_user_data(name, t)));
    }
    errors.extend(text("network_config").and_then(|t| check_yaml("network_config", t, "network")));
    errors
}

/// The default `instance_id`: the seed file's name without its extension.
fn file_stem(path: &str) -> String {
    Path::new(path).file_stem().map_or_else(|| "seed".to_string(), |s| s.to_string_lossy().into_owned())
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
    let mut config = config.clone();
    if let Some(path) = known(&config, "path").and_then(Value::as_str) {
        let stem = Value::string(file_stem(path));
        config.entry("instance_id".to_string()).and_modify(|v| fill(v, &stem)).or_insert(stem);
    }
    if let Some(id) = known(&config, "instance_id").cloned() {
        config.entry("local_hostname".to_string()).and_modify(|v| fill(v, &id)).or_insert(id);
    }
    let mut planned = plan_attributes(schema, prior, &config, &[]);
    let sha256 = match seed_bytes(&planned)? {
        Some(bytes) => Value::string(seed::sha256(&bytes)),
        None => Value::unknown(Type::String),
    };
    planned.insert("sha256".to_string(), sha256);
    Ok(planned)
}

fn fill(value: &mut Value, default: &Value) {
    if value.is_null() {
        *value = default.clone();
    }
}

/// The seed's bytes, when every value is known.
fn seed_bytes(attributes: &Attributes) -> ProviderResult<Option<Vec<u8>>> {
    let text = |name: &str| {
        let value = attribute(attributes, name);
        value.is_known().then(|| value.as_str())
    };
    let (Some(Some(user_data)), Some(network), Some(vendor)) =
        (text("user_data"), text("network_config"), text("vendor_data"))
    else {
        return Ok(None);
    };
    let (Some(Some(instance_id)), Some(Some(hostname))) = (text("instance_id"), text("local_hostname")) else {
        return Ok(None);
    };
    let meta = meta_data(instance_id, hostname);
    let mut entries = vec![("user-data", user_data), ("meta-data", meta.as_str())];
    entries.extend(network.map(|n| ("network-config", n)));
    entries.extend(vendor.map(|v| ("vendor-data", v)));
    seed::volume(&Files { entries }).map(Some).map_err(|e| ProviderError::new(format!("making the seed volume: {e}")))
}

/// The `meta-data` file: JSON strings are YAML, so any id or host name is quoted right.
fn meta_data(instance_id: &str, hostname: &str) -> String {
    let quoted = |text: &str| serde_json::Value::from(text).to_string();
    format!("instance-id: {}\nlocal-hostname: {}\n", quoted(instance_id), quoted(hostname))
}

/// Writes the seed; its attributes with the hash of what was written.
async fn write(qemu: &Qemu, planned: &Attributes) -> ProviderResult<Attributes> {
    let path = required_text(planned, "path")?;
    let target = qemu.resolve(&path);
    let bytes = seed_bytes(planned)?.ok_or_else(|| ProviderError::new("the seed's content is not known"))?;
    let written =
        |e: std::io::Error| ProviderError::new(format!("writing `{}`: {e}", target.display())).on_attribute("path");
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(written)?;
    }
    // A temporary file renamed over the old seed: a VM starting meanwhile sees the old
    // seed or the new one, never half of one.
    let temporary = target.with_extension("infra-tmp");
    std::fs::write(&temporary, &bytes).map_err(written)?;
    std::fs::rename(&temporary, &target).map_err(written)?;
    let mut attributes = planned.clone();
    attributes.insert("id".to_string(), Value::string(path));
    attributes.insert("sha256".to_string(), Value::string(seed::sha256(&bytes)));
    Ok(attributes)
}

pub async fn create(qemu: &Qemu, planned: &Attributes) -> ProviderResult<Attributes> {
    write(qemu, planned).await
}

pub async fn update(qemu: &Qemu, planned: &Attributes) -> ProviderResult<Attributes> {
    write(qemu, planned).await
}

pub async fn read(qemu: &Qemu, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let target = qemu.resolve(&required_text(current, "path")?);
    match std::fs::read(&target) {
        Ok(bytes) => {
            let mut found = current.clone();
            found.insert("sha256".to_string(), Value::string(seed::sha256(&bytes)));
            Ok(Some(found))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ProviderError::new(format!("reading `{}`: {error}", target.display()))),
    }
}

pub async fn delete(qemu: &Qemu, current: &Attributes) -> ProviderResult<()> {
    let target = qemu.resolve(&required_text(current, "path")?);
    match std::fs::remove_file(&target) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(ProviderError::new(format!("deleting `{}`: {error}", target.display())).on_attribute("path"))
        }
        _ => Ok(()),
    }
}
