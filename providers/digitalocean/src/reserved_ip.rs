//! `digitalocean.reserved_ip` and `digitalocean.reserved_ip_assignment`: a public IPv4
//! address kept in a region (its id is the address), and its assignment to a Droplet
//! (an `assign` action on create, `unassign` on delete, each waited for).

use infra_provider_kit::json::from_json;
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::{found, id, id_number, id_text, numeric_id, text};

fn path(ip: &str) -> String {
    format!("/v2/reserved_ips/{ip}")
}

pub async fn create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let body = json!({"region": text(planned, "region").unwrap_or_default()});
    let created = client.post("reserve an IP address", "/v2/reserved_ips", &body).await?;
    Ok(attributes_of(&created["reserved_ip"]))
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the reserved IP address", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["reserved_ip"])))
}

pub fn attributes_of(reserved: &Json) -> Attributes {
    let ip = reserved["ip"].as_str().unwrap_or_default();
    [
        ("id".to_string(), Value::string(ip)),
        ("region".to_string(), from_json(&reserved["region"]["slug"])),
        ("ip_address".to_string(), Value::string(ip)),
        ("urn".to_string(), Value::string(format!("do:reservedip:{ip}"))),
    ]
    .into()
}

// --- assignments -----------------------------------------------------------------------

fn assignment_id(ip: &str, droplet_id: &str) -> String {
    format!("{ip},{droplet_id}")
}

/// Starts an action on the address: what it does, and the action as DigitalOcean
/// answered, for [`Client::complete`].
async fn start(client: &Client, ip: &str, body: Json) -> ApiResult<(String, Json)> {
    let operation = format!("{} the reserved IP address", body["type"].as_str().unwrap_or_default());
    let answer = client.post(&operation, &format!("{}/actions", path(ip)), &body).await?;
    Ok((operation, answer["action"].clone()))
}

/// Runs an action on the address and waits until it has completed.
async fn act(client: &Client, ip: &str, body: Json) -> ApiResult<()> {
    let (operation, action) = start(client, ip, body).await?;
    client.complete(&operation, &action).await
}

/// Assigns the address; `progress` hears of the assignment once DigitalOcean has taken
/// the `assign` action, before the wait for it to complete, so an interrupted wait leaves
/// it in the state (the next plan reads whether it is assigned).
pub async fn assign(client: &Client, planned: &Attributes, progress: &CreateProgress) -> ApiResult<Attributes> {
    let ip = text(planned, "ip_address").unwrap_or_default();
    let droplet_id = text(planned, "droplet_id").unwrap_or_default();
    let (operation, action) =
        start(client, &ip, json!({"type": "assign", "droplet_id": id_number(&droplet_id)})).await?;
    let mut current = planned.clone();
    current.insert("id".to_string(), Value::string(assignment_id(&ip, &droplet_id)));
    progress.exists(current);
    client.complete(&operation, &action).await?;
    found(assignment_read(client, planned).await?, "read the reserved IP address")
}

/// The assignment, when the address is still assigned to the Droplet.
pub async fn assignment_read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let ip = text(current, "ip_address").unwrap_or_default();
    let droplet_id = text(current, "droplet_id").unwrap_or_default();
    let Some(answer) = client.find("read the reserved IP address", &path(&ip)).await? else { return Ok(None) };
    let assigned = id_text(&answer["reserved_ip"]["droplet"]["id"]) == droplet_id;
    Ok(assigned.then(|| {
        [
            ("id".to_string(), Value::string(assignment_id(&ip, &droplet_id))),
            ("ip_address".to_string(), Value::string(ip.as_str())),
            ("droplet_id".to_string(), Value::string(droplet_id.as_str())),
        ]
        .into()
    }))
}

/// Unassigns the address; one that is gone, or assigned elsewhere, is no error.
pub async fn unassign(client: &Client, current: &Attributes) -> ApiResult<()> {
    if assignment_read(client, current).await?.is_none() {
        return Ok(());
    }
    match act(client, &text(current, "ip_address").unwrap_or_default(), json!({"type": "unassign"})).await {
        Err(error) if error.is_not_found() => Ok(()),
        other => other,
    }
}

/// The state an assignment import starts from: `IP,DROPLET_ID`.
pub fn assignment_seed(import_id: &str) -> ProviderResult<Attributes> {
    let parts = import_id.split_once(',');
    let Some((ip, droplet_id)) = parts.filter(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().is_ok()) else {
        return Err(ProviderError::new(format!("`{import_id}` is not a reserved IP assignment's import id"))
            .with_help("an assignment is imported as `IP,DROPLET_ID`, such as `192.0.2.5,12345`"));
    };
    Ok([
        ("ip_address".to_string(), Value::string(ip)),
        ("droplet_id".to_string(), Value::string(numeric_id(droplet_id)?)),
    ]
    .into())
}
