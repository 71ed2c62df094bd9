//! `linode.sshkey`: an SSH public key of the account's profile. The label changes in
//! place; a new key is a new object.

use infra_runtime::provider::Attributes;
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, found, from_json, id, text};

fn path(id: &str) -> String {
    format!("/profile/sshkeys/{id}")
}

pub async fn create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let body = json!({
        "label": text(planned, "label").unwrap_or_default(),
        "ssh_key": text(planned, "ssh_key").unwrap_or_default().trim(),
    });
    let created = client.post("add the SSH key", "/profile/sshkeys", &body).await?;
    Ok(attributes_of(&created, planned))
}

pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let key = client.find("read the SSH key", &path(&id(current))).await?;
    Ok(key.map(|key| attributes_of(&key, current)))
}

pub async fn update(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let body = json!({"label": text(planned, "label").unwrap_or_default()});
    client.put("rename the SSH key", &path(&id(planned)), &body).await?;
    found(read(client, planned).await?, "read the SSH key")
}

/// Linode keeps a key without the trailing newline `tls.private_key` ends it with: the
/// same key, so the state keeps it as configured.
pub(crate) fn attributes_of(key: &Json, current: &Attributes) -> Attributes {
    let actual = key["ssh_key"].as_str().unwrap_or_default();
    let configured = attribute(current, "ssh_key");
    let ssh_key = match configured.as_str() {
        Some(configured) if configured.trim() == actual.trim() => Value::string(configured),
        _ => Value::string(actual),
    };
    [
        ("id".to_string(), Value::string(key["id"].to_string())),
        ("label".to_string(), from_json(&key["label"])),
        ("ssh_key".to_string(), ssh_key),
        ("created".to_string(), from_json(&key["created"])),
    ]
    .into()
}
