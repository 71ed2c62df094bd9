//! `linode.volume`: a block storage volume, attached to a Linode through `linode_id`.
//! Its label and tags change in place, its size grows in place (Linode never shrinks a
//! volume), and a new `linode_id` detaches it and attaches it there. A new volume is
//! reported to the engine before the wait while it is `creating`.

use std::time::Instant;

use infra_provider_kit::Interrupted;
use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeError, LinodeResult};
use super::{attribute, found, from_json, id, id_number, json_strings, number, strings, text, unordered};

fn path(id: &str) -> String {
    format!("/volumes/{id}")
}

/// Creates the volume and waits while it is `creating`; `progress` hears of it as soon
/// as Linode has given it an id, so a wait that times out or is interrupted does not
/// lose it (the next plan reads it).
pub async fn create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> LinodeResult<Attributes> {
    let mut body = serde_json::Map::new();
    body.insert("label".to_string(), json!(text(planned, "label").unwrap_or_default()));
    body.insert("tags".to_string(), json!(strings(planned, "tags")));
    if let Some(region) = text(planned, "region") {
        body.insert("region".to_string(), json!(region));
    }
    if let Some(size) = number(planned, "size") {
        body.insert("size".to_string(), json!(size as i64));
    }
    if let Some(linode_id) = text(planned, "linode_id") {
        body.insert("linode_id".to_string(), id_number(&linode_id));
    }
    let created = client.post("create the volume", "/volumes", &Json::Object(body)).await?;
    progress.exists(attributes_of(&created, planned));
    let volume = settle(client, &created["id"].to_string()).await?;
    Ok(attributes_of(&volume, planned))
}

/// Looks at the volume until it is `active` (not `creating` or `resizing`), at growing
/// intervals, up to the client's timeout, or until the run is interrupted (an error
/// saying what it was at the last look).
async fn settle(client: &Client, volume_id: &str) -> LinodeResult<Json> {
    let start = Instant::now();
    let mut interval = client.wait.interval;
    loop {
        let volume = client.get("read the volume", &path(volume_id)).await?;
        if volume["status"] == "active" {
            return Ok(volume);
        }
        if start.elapsed() >= client.wait.timeout {
            let reason = format!("it is still `{}` after {} s", volume["status"], client.wait.timeout.as_secs());
            return Err(LinodeError::new(&format!("wait for volume {volume_id}"), 408, reason));
        }
        let seen = format!("`{}`", volume["status"].as_str().unwrap_or_default());
        let interrupted = |_| Interrupted::new(format!("volume {volume_id} to be `active`"), seen);
        client.stop.sleep(interval).await.map_err(interrupted)?;
        interval = (interval * 2).min(client.wait.max_interval);
    }
}

pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let volume = client.find("read the volume", &path(&id(current))).await?;
    Ok(volume.map(|volume| attributes_of(&volume, current)))
}

pub(crate) fn attributes_of(volume: &Json, current: &Attributes) -> Attributes {
    let linode_id =
        if volume["linode_id"].is_null() { Value::null() } else { Value::string(volume["linode_id"].to_string()) };
    [
        ("id", Value::string(volume["id"].to_string())),
        ("label", from_json(&volume["label"])),
        ("region", from_json(&volume["region"])),
        ("size", from_json(&volume["size"])),
        ("linode_id", linode_id),
        ("tags", unordered(json_strings(&volume["tags"]), attribute(current, "tags"))),
        ("status", from_json(&volume["status"])),
        ("filesystem_path", from_json(&volume["filesystem_path"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let volume_id = id(prior);
    let changed = |name: &str| !attribute(prior, name).equals(attribute(planned, name));
    if changed("label") || changed("tags") {
        let body = json!({"label": text(planned, "label").unwrap_or_default(), "tags": strings(planned, "tags")});
        client.put("update the volume", &path(&volume_id), &body).await?;
    }
    if let Some(size) = number(planned, "size").filter(|_| changed("size")) {
        let resize = format!("{}/resize", path(&volume_id));
        client.post("resize the volume", &resize, &json!({"size": size as i64})).await?;
        settle(client, &volume_id).await?;
    }
    if changed("linode_id") {
        if !attribute(prior, "linode_id").is_null() {
            client.action("detach the volume", &format!("{}/detach", path(&volume_id))).await?;
        }
        if let Some(linode_id) = text(planned, "linode_id") {
            let body = json!({"linode_id": id_number(&linode_id)});
            client.post("attach the volume", &format!("{}/attach", path(&volume_id)), &body).await?;
        }
    }
    found(read(client, planned).await?, "read the volume")
}

/// Detaches the volume first when it is attached: Linode refuses to delete it otherwise.
pub async fn delete(client: &Client, current: &Attributes) -> LinodeResult<()> {
    let volume_id = id(current);
    if !attribute(current, "linode_id").is_null() {
        match client.action("detach the volume", &format!("{}/detach", path(&volume_id))).await {
            Err(error) if error.is_not_found() => return Ok(()),
            other => drop(other?),
        }
    }
    client.delete("delete the volume", &path(&volume_id)).await
}
