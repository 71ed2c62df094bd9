//! Nova (Cloud Servers): servers and key pairs, read back into the kinds' attributes.
//!
//! Nova reports neither a server's `user_data` nor its `networks` (only addresses by
//! network label), and the `adminPass` only in the answer to the create: those keep the
//! values the state has. Key pairs are read from the list (`GET os-keypairs/NAME` is
//! missing from some Nova deployments, Mimic among them).
//!
//! A new server is reported to the engine as soon as Nova answers the `POST servers`
//! with its id, before the wait for it to be `ACTIVE`: a create interrupted (Ctrl-C ends
//! the wait at once, see `Provider::stop`) or timed out during the wait leaves the
//! server in the state, not lost. One that goes into `ERROR` stays there too, reported
//! as Nova has it: the next plan replaces it.

use std::collections::BTreeMap;
use std::time::Instant;

use base64::Engine;
use infra_provider_kit::{attribute, timeout, Interrupted};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Map, Value as Json};

use crate::client::{failure, Client};
use crate::{strings, text};

// --- servers --------------------------------------------------------------------------

/// The body of `POST servers`.
fn create_body(planned: &Attributes) -> Json {
    let mut server = Map::new();
    server.insert("name".into(), json!(text(planned, "name").unwrap_or_default()));
    server.insert("flavorRef".into(), json!(text(planned, "flavor_id").unwrap_or_default()));
    server.insert("imageRef".into(), json!(text(planned, "image_id").unwrap_or_default()));
    if let Some(key) = text(planned, "key_pair") {
        server.insert("key_name".into(), json!(key));
    }
    if let Some(user_data) = text(planned, "user_data") {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_data);
        server.insert("user_data".into(), json!(encoded));
    }
    if let Some(metadata) = metadata(planned) {
        server.insert("metadata".into(), json!(metadata));
    }
    let networks = strings(planned, "networks");
    if !networks.is_empty() {
        let networks: Vec<Json> = networks.iter().map(|uuid| json!({ "uuid": uuid })).collect();
        server.insert("networks".into(), Json::Array(networks));
    }
    json!({ "server": server })
}

/// Creates the server and waits until it is `ACTIVE`, up to `timeouts.create`.
/// `progress` hears of the server (its id and root password) as soon as Nova answers
/// the `POST`, so an interrupted or timed-out wait does not lose it.
pub async fn server_create(
    client: &Client,
    planned: &Attributes,
    progress: &CreateProgress,
) -> ProviderResult<Attributes> {
    let answer = client.compute("POST", "servers", Some(&create_body(planned))).await?;
    if answer.status == 404 {
        return Err(failure("POST", "servers", &answer));
    }
    let id = answer.body["server"]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new("Rackspace compute POST servers answered without the new server's id"))?;
    let admin_pass = answer.body["server"]["adminPass"].as_str().map_or_else(Value::null, Value::string);
    let reported: Attributes = [("id".to_string(), Value::string(&id)), ("admin_pass".to_string(), admin_pass)].into();
    progress.exists(reported.clone());
    let mut known = planned.clone();
    known.extend(reported);
    let limit = timeout(planned, "create", client.wait.timeout);
    match wait_until_active(client, &id, limit).await? {
        Built::Active(server) => Ok(server_attributes(&server, &known)),
        Built::Failed(server) => {
            // The server was reported, so the state keeps it (as partly created) whatever
            // happens here. Deleting it here would leave the state naming a server Infra
            // itself deleted, which the next plan would take for one deleted outside of
            // Infra. It is reported again as Nova has it, in ERROR, and left to the engine:
            // the next plan replaces it (see `failed`), and its delete is recorded.
            progress.exists(server_attributes(&server, &known));
            let fault = server["fault"]["message"].as_str().unwrap_or(NO_FAULT_MESSAGE);
            Err(ProviderError::new(format!("server `{id}` went into status ERROR: {fault}")).with_help(
                "Nova's message says why; the state keeps the server, and the next apply replaces it (`infra \
                 destroy` deletes it)",
            ))
        }
        Built::Stuck(status) => {
            Err(ProviderError::new(format!("server `{id}` is still {status} after {} s", limit.as_secs_f64()))
                .with_help(
                    "the server exists and the state keeps it: apply again once it is ACTIVE, which takes it over \
                     (`timeouts.create` sets how long to wait)",
                ))
        }
    }
}

/// A server's `fault` when Nova has it in `ERROR` without saying why.
const NO_FAULT_MESSAGE: &str = "Nova gave no fault message";

/// How waiting for a new server ended.
enum Built {
    Active(Json),
    /// `ERROR` (Nova's fault message is in the server's `fault`).
    Failed(Json),
    /// Still in this status at the timeout.
    Stuck(String),
}

/// Polls the server until it is `ACTIVE` or `ERROR`, or `limit` passes, or the run is
/// interrupted (an error saying what the server was at the last look).
async fn wait_until_active(client: &Client, id: &str, limit: std::time::Duration) -> ProviderResult<Built> {
    let start = Instant::now();
    loop {
        let Some(server) = server_get(client, id).await? else {
            return Err(ProviderError::new(format!("server `{id}` disappeared while it was being built")));
        };
        match server["status"].as_str().unwrap_or_default() {
            "ACTIVE" => return Ok(Built::Active(server)),
            "ERROR" => return Ok(Built::Failed(server)),
            status if start.elapsed() >= limit => return Ok(Built::Stuck(status.to_string())),
            status => {
                let pause = client.wait.interval.min(limit.saturating_sub(start.elapsed()));
                let interrupted = |_| Interrupted::new(format!("server `{id}` to be ACTIVE"), status);
                client.stop.sleep(pause).await.map_err(interrupted)?;
            }
        }
    }
}

/// Whether the server is in `ERROR`, as Nova leaves one whose build failed: it is of no
/// use, and a plan replaces it.
pub fn failed(server: &Attributes) -> bool {
    text(server, "status").as_deref() == Some("ERROR")
}

/// `GET servers/ID`; `None` when it is gone (404 or `DELETED`).
async fn server_get(client: &Client, id: &str) -> ProviderResult<Option<Json>> {
    let path = format!("servers/{id}");
    let answer = client.compute("GET", &path, None).await?;
    let server = &answer.body["server"];
    if answer.status == 404 || server["status"] == "DELETED" {
        return Ok(None);
    }
    Ok(Some(server.clone()))
}

pub async fn server_read(client: &Client, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let id = text(current, "id").unwrap_or_default();
    let server = server_get(client, &id).await?;
    Ok(server.map(|server| server_attributes(&server, current)))
}

/// A server as `servers/detail` lists it; `None` when it is `DELETED` (read by itself
/// then, which says it is gone).
pub fn server_listed(server: &Json, current: &Attributes) -> Option<Attributes> {
    (server["status"] != "DELETED").then(|| server_attributes(server, current))
}

/// Renames the server (`PUT servers/ID`) and sets its metadata (`PUT
/// servers/ID/metadata`, which replaces all of it), each only when it changed.
pub async fn server_update(client: &Client, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let id = text(prior, "id").unwrap_or_default();
    if text(prior, "name") != text(planned, "name") {
        let body = json!({"server": {"name": text(planned, "name").unwrap_or_default()}});
        expect_found(client.compute("PUT", &format!("servers/{id}"), Some(&body)).await?, "PUT", &id)?;
    }
    if metadata(prior) != metadata(planned) {
        let body = json!({"metadata": metadata(planned).unwrap_or_default()});
        expect_found(client.compute("PUT", &format!("servers/{id}/metadata"), Some(&body)).await?, "PUT", &id)?;
    }
    let Some(server) = server_get(client, &id).await? else {
        return Err(ProviderError::new(format!("server `{id}` is gone")));
    };
    Ok(server_attributes(&server, planned))
}

fn expect_found(answer: crate::client::Answer, method: &str, id: &str) -> ProviderResult<()> {
    if answer.status == 404 {
        return Err(failure(method, &format!("servers/{id}"), &answer));
    }
    Ok(())
}

/// `DELETE servers/ID`, then polls until the server is gone; one already gone is fine.
/// A poll the run's interruption ends leaves the server in the state (the delete
/// failed): the next plan reads it, and deletes it again if it is still there.
pub async fn server_delete(client: &Client, current: &Attributes) -> ProviderResult<()> {
    let id = text(current, "id").unwrap_or_default();
    client.compute("DELETE", &format!("servers/{id}"), None).await?;
    let start = Instant::now();
    while let Some(server) = server_get(client, &id).await? {
        let status = server["status"].as_str().unwrap_or_default();
        if start.elapsed() >= client.wait.timeout {
            return Err(ProviderError::new(format!("server `{id}` is still {status} after it was deleted")).retryable());
        }
        let interrupted = |_| Interrupted::new(format!("server `{id}` to be deleted"), status);
        client.stop.sleep(client.wait.interval).await.map_err(interrupted)?;
    }
    Ok(())
}

/// A server's attributes as Nova reports them; what Nova does not report is kept from
/// `known` (the state or the plan).
fn server_attributes(server: &Json, known: &Attributes) -> Attributes {
    let mut attributes = known.clone();
    let string = |value: &Json| value.as_str().filter(|s| !s.is_empty()).map_or_else(Value::null, Value::string);
    attributes.insert("id", string(&server["id"]));
    attributes.insert("name", string(&server["name"]));
    attributes.insert("flavor_id", string(&server["flavor"]["id"]));
    attributes.insert("image_id", string(&server["image"]["id"]));
    attributes.insert("key_pair", string(&server["key_name"]));
    attributes.insert("access_ip_v4", string(&server["accessIPv4"]));
    attributes.insert("access_ip_v6", string(&server["accessIPv6"]));
    attributes.insert("status", string(&server["status"]));
    let fault = server["fault"]["message"].as_str().filter(|m| !m.is_empty());
    let fault = (server["status"] == "ERROR").then(|| fault.unwrap_or(NO_FAULT_MESSAGE));
    attributes.insert("fault", fault.map_or_else(Value::null, Value::string));
    let actual: BTreeMap<String, String> = server["metadata"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    attributes.insert("metadata", metadata_value(actual, attribute(known, "metadata")));
    attributes
}

/// The `metadata` attribute as a map, when it is set.
fn metadata(attributes: &Attributes) -> Option<BTreeMap<String, String>> {
    let map = attribute(attributes, "metadata").as_map()?;
    Some(map.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect())
}

/// Metadata as read: none reads as what the state has when that is null or empty, so a
/// server without metadata is no change.
fn metadata_value(actual: BTreeMap<String, String>, current: &Value) -> Value {
    if actual.is_empty()
        && (current.is_null() || current.as_map().is_some_and(infra_runtime::value::ValueMap::is_empty))
    {
        return current.clone();
    }
    Value::map(actual.into_iter().map(|(k, v)| (k, Value::string(v))).collect())
}

/// Every server, following pagination.
pub async fn servers(client: &Client, page_size: usize) -> ProviderResult<Vec<Json>> {
    client.list("servers/detail", "servers", page_size).await
}

/// Every key pair, each as the key pair itself (Nova wraps each item of the list in
/// `{"keypair": ...}`). One request: Nova's v2 API, which Rackspace runs, does not page
/// key pairs (`limit` and `marker` came with microversion 2.35, and Mimic ignores them).
pub async fn keypairs(client: &Client) -> ProviderResult<Vec<Json>> {
    let answer = client.compute("GET", "os-keypairs", None).await?;
    if answer.status == 404 {
        return Err(failure("GET", "os-keypairs", &answer));
    }
    let listed = answer.body["keypairs"].as_array().cloned().unwrap_or_default();
    Ok(listed.into_iter().map(|item| item["keypair"].clone()).collect())
}

// --- key pairs ------------------------------------------------------------------------

pub async fn keypair_create(client: &Client, planned: &Attributes) -> ProviderResult<Attributes> {
    let name = text(planned, "name").unwrap_or_default();
    let body = json!({"keypair": {"name": name, "public_key": text(planned, "public_key").unwrap_or_default()}});
    let answer = client.compute("POST", "os-keypairs", Some(&body)).await?;
    if answer.status == 404 {
        return Err(failure("POST", "os-keypairs", &answer));
    }
    Ok(keypair_attributes(&answer.body["keypair"], planned))
}

pub async fn keypair_read(client: &Client, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let name = text(current, "name").or_else(|| text(current, "id")).unwrap_or_default();
    let found = keypairs(client).await?.into_iter().find(|k| k["name"] == name.as_str());
    Ok(found.map(|keypair| keypair_attributes(&keypair, current)))
}

/// `DELETE os-keypairs/NAME`; one already gone is fine.
pub async fn keypair_delete(client: &Client, current: &Attributes) -> ProviderResult<()> {
    let name = text(current, "name").unwrap_or_default();
    client.compute("DELETE", &format!("os-keypairs/{name}"), None).await?;
    Ok(())
}

/// A key pair's attributes as Nova reports them; the public key is kept from `known`
/// when it is the same key.
pub fn keypair_attributes(keypair: &Json, known: &Attributes) -> Attributes {
    let mut attributes = known.clone();
    let string = |value: &Json| value.as_str().map_or_else(Value::null, Value::string);
    attributes.insert("id", string(&keypair["name"]));
    attributes.insert("name", string(&keypair["name"]));
    // Nova may store the key without the trailing newline or spaces it was given.
    let public_key = keypair["public_key"].as_str().map(str::trim);
    if public_key != text(known, "public_key").as_deref().map(str::trim) {
        attributes.insert("public_key", string(&keypair["public_key"]));
    }
    attributes.insert("fingerprint", string(&keypair["fingerprint"]));
    attributes
}

/// Renaming, which Mimic does not serve (`PUT servers/ID` answers 405 there), against a
/// canned server.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::client::canned::{serve, token};
    use crate::client::{Retry, Settings};

    #[test]
    fn a_rename_is_a_put_of_the_name_alone_and_unchanged_metadata_is_not_sent() {
        let server = |name: &str| json!({"server": {"id": "s1", "name": name, "status": "ACTIVE"}}).to_string();
        let (endpoint, requests) =
            serve(|endpoint| vec![token(endpoint, "t"), (200, "", server("new")), (200, "", server("new"))]);
        let settings = Settings {
            auth_url: Some(format!("{endpoint}/v2.0")),
            username: Some("u".into()),
            password: Some("p".into()),
            ..Settings::default()
        };
        let mut client = Client::new(&settings).expect("client");
        client.retry = Retry { attempts: 1, base: Duration::from_millis(1), max: Duration::from_millis(1) };
        let prior: Attributes = [("id", "s1"), ("name", "old")].map(|(k, v)| (k.to_string(), Value::string(v))).into();
        let mut planned = prior.clone();
        planned.insert("name", Value::string("new"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let updated = runtime.block_on(server_update(&client, &prior, &planned)).expect("renamed");
        assert_eq!(text(&updated, "name").as_deref(), Some("new"));
        let requests = requests.join().expect("server");
        assert!(requests[1].starts_with("PUT /nova/servers/s1 HTTP/1.1"), "{}", requests[1]);
        assert!(requests[1].ends_with(r#"{"server":{"name":"new"}}"#), "{}", requests[1]);
        assert!(requests[2].starts_with("GET /nova/servers/s1 HTTP/1.1"), "{}", requests[2]);
    }
}
