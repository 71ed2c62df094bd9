//! `digitalocean.ssh_key`: an SSH public key of the account. The name changes in place;
//! a new key is a new object.

use infra_provider_kit::json::from_json;
use infra_runtime::provider::Attributes;
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::{attribute, found, id, text};

fn path(id: &str) -> String {
    format!("/v2/account/keys/{id}")
}

pub async fn create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let body = json!({
        "name": text(planned, "name").unwrap_or_default(),
        "public_key": text(planned, "public_key").unwrap_or_default().trim(),
    });
    let created = client.post("add the SSH key", "/v2/account/keys", &body).await?;
    Ok(attributes_of(&created["ssh_key"], planned))
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the SSH key", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["ssh_key"], current)))
}

pub async fn update(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let body = json!({"name": text(planned, "name").unwrap_or_default()});
    client.put("rename the SSH key", &path(&id(planned)), &body).await?;
    found(read(client, planned).await?, "read the SSH key")
}

/// DigitalOcean keeps a key without the trailing newline `tls.private_key` ends it with:
/// the same key, so the state keeps it as configured.
pub fn attributes_of(key: &Json, current: &Attributes) -> Attributes {
    let actual = key["public_key"].as_str().unwrap_or_default();
    let configured = attribute(current, "public_key");
    let public_key = match configured.as_str() {
        Some(configured) if configured.trim() == actual.trim() => Value::string(configured),
        _ => Value::string(actual),
    };
    [
        ("id".to_string(), Value::string(key["id"].to_string())),
        ("name".to_string(), from_json(&key["name"])),
        ("public_key".to_string(), public_key),
        ("fingerprint".to_string(), from_json(&key["fingerprint"])),
    ]
    .into()
}
