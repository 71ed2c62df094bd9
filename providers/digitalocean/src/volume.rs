//! `digitalocean.volume` and `digitalocean.volume_attachment`: a Block Storage volume
//! (grown in place with a `resize` action, retagged in place), and its attachment to a
//! Droplet (an `attach` action on create, `detach` on delete, each waited for).

use infra_provider_kit::json::{from_json, json_strings, read_back, unordered};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::droplet::retag;
use super::{attribute, found, id, id_number, id_text, numeric_id, strings, text};

fn path(id: &str) -> String {
    format!("/v2/volumes/{id}")
}

pub async fn create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let mut body = serde_json::Map::new();
    for name in ["name", "region", "description"] {
        if let Some(value) = text(planned, name) {
            body.insert(name.to_string(), Json::String(value));
        }
    }
    if let Some(filesystem) = text(planned, "initial_filesystem_type") {
        body.insert("filesystem_type".to_string(), Json::String(filesystem));
    }
    let size = attribute(planned, "size").as_number().unwrap_or(0.0);
    body.insert("size_gigabytes".to_string(), json!(size as i64));
    body.insert("tags".to_string(), json!(strings(planned, "tags")));
    let created = client.post("create the volume", "/v2/volumes", &Json::Object(body)).await?;
    Ok(attributes_of(&created["volume"], planned))
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the volume", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["volume"], current)))
}

/// Starts a volume action (`attach`, `detach`, `resize`): what it does, and the action
/// as DigitalOcean answered, for [`Client::complete`].
async fn start(client: &Client, volume_id: &str, body: Json) -> ApiResult<(String, Json)> {
    let operation = format!("run the volume action `{}`", body["type"].as_str().unwrap_or_default());
    let answer = client.post(&operation, &format!("{}/actions", path(volume_id)), &body).await?;
    Ok((operation, answer["action"].clone()))
}

/// Runs a volume action and waits until it has completed.
async fn act(client: &Client, volume_id: &str, body: Json) -> ApiResult<()> {
    let (operation, action) = start(client, volume_id, body).await?;
    client.complete(&operation, &action).await
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> ApiResult<Attributes> {
    let volume_id = id(prior);
    let changed = |name: &str| !attribute(prior, name).equals(attribute(planned, name));
    if changed("size") {
        let size = attribute(planned, "size").as_number().unwrap_or(0.0);
        let region = text(prior, "region").unwrap_or_default();
        act(client, &volume_id, json!({"type": "resize", "size_gigabytes": size as i64, "region": region})).await?;
    }
    if changed("tags") {
        retag(client, "volume", &volume_id, &strings(prior, "tags"), &strings(planned, "tags")).await?;
    }
    found(read(client, planned).await?, "read the volume")
}

pub fn attributes_of(volume: &Json, current: &Attributes) -> Attributes {
    let volume_id = id_text(&volume["id"]);
    let droplet_ids: Vec<String> =
        volume["droplet_ids"].as_array().map(|ids| ids.iter().map(id_text).collect()).unwrap_or_default();
    let filesystem = from_json(&volume["filesystem_type"]);
    let mut attributes = Attributes::new();
    let mut put = |name: &str, value: Value| drop(attributes.insert(name.to_string(), value));
    put("id", Value::string(volume_id.as_str()));
    put("name", from_json(&volume["name"]));
    put("region", from_json(&volume["region"]["slug"]));
    put("size", from_json(&volume["size_gigabytes"]));
    put("description", read_back(from_json(&volume["description"]), attribute(current, "description")));
    put("tags", unordered(json_strings(&volume["tags"]), attribute(current, "tags")));
    // The file system it was made with, as configured; on import, as the API says.
    let configured = attribute(current, "initial_filesystem_type");
    let initial = if configured.is_null() { read_back(filesystem.clone(), &Value::null()) } else { configured.clone() };
    put("initial_filesystem_type", initial);
    put("filesystem_type", filesystem);
    put("droplet_ids", Value::list(droplet_ids.into_iter().map(Value::string).collect()));
    put("urn", Value::string(format!("do:volume:{volume_id}")));
    attributes
}

// --- attachments -----------------------------------------------------------------------

fn attachment_id(droplet_id: &str, volume_id: &str) -> String {
    format!("{droplet_id},{volume_id}")
}

/// Attaches the volume; `progress` hears of the attachment once DigitalOcean has taken
/// the `attach` action, before the wait for it to complete, so an interrupted wait leaves
/// it in the state (the next plan reads whether it is attached).
pub async fn attach(client: &Client, planned: &Attributes, progress: &CreateProgress) -> ApiResult<Attributes> {
    let (droplet_id, volume_id) =
        (text(planned, "droplet_id").unwrap_or_default(), text(planned, "volume_id").unwrap_or_default());
    let body = json!({"type": "attach", "droplet_id": id_number(&droplet_id)});
    let (operation, action) = start(client, &volume_id, body).await?;
    let mut current = planned.clone();
    current.insert("id".to_string(), Value::string(attachment_id(&droplet_id, &volume_id)));
    progress.exists(current.clone());
    client.complete(&operation, &action).await?;
    found(attachment_read(client, &current).await?, "read the volume attachment")
}

/// The attachment, when the volume is still attached to the Droplet.
pub async fn attachment_read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let (droplet_id, volume_id) =
        (text(current, "droplet_id").unwrap_or_default(), text(current, "volume_id").unwrap_or_default());
    let Some(answer) = client.find("read the volume", &path(&volume_id)).await? else { return Ok(None) };
    let attached =
        answer["volume"]["droplet_ids"].as_array().is_some_and(|ids| ids.iter().any(|d| id_text(d) == droplet_id));
    Ok(attached.then(|| {
        [
            ("id".to_string(), Value::string(attachment_id(&droplet_id, &volume_id))),
            ("droplet_id".to_string(), Value::string(droplet_id.as_str())),
            ("volume_id".to_string(), Value::string(volume_id.as_str())),
        ]
        .into()
    }))
}

/// Detaches the volume; a volume or Droplet that is gone, or no longer attached, is no
/// error.
pub async fn detach(client: &Client, current: &Attributes) -> ApiResult<()> {
    if attachment_read(client, current).await?.is_none() {
        return Ok(());
    }
    let droplet_id = text(current, "droplet_id").unwrap_or_default();
    let body = json!({"type": "detach", "droplet_id": id_number(&droplet_id)});
    match act(client, &text(current, "volume_id").unwrap_or_default(), body).await {
        Err(error) if error.is_not_found() => Ok(()),
        other => other,
    }
}

/// The state an attachment import starts from: `DROPLET_ID,VOLUME_ID`.
pub fn attachment_seed(import_id: &str) -> ProviderResult<Attributes> {
    let parts = import_id.split_once(',');
    let Some((droplet_id, volume_id)) = parts.filter(|(_, v)| super::path_segment(v).is_ok()) else {
        return Err(ProviderError::new(format!("`{import_id}` is not a volume attachment's import id"))
            .with_help("an attachment is imported as `DROPLET_ID,VOLUME_ID`"));
    };
    Ok([
        ("droplet_id".to_string(), Value::string(numeric_id(droplet_id)?)),
        ("volume_id".to_string(), Value::string(volume_id)),
    ]
    .into())
}
