//! `linode.firewall`: a Cloud Firewall, its ordered rules and policies, and the Linodes
//! it protects (its devices). Everything changes in place: the label, tags and status
//! with one call, the rules with another, and devices one by one.

use std::collections::BTreeMap;

use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, flag, found, from_json, id, id_number, json_strings, read_back, strings, text, unordered};

const RULE_FIELDS: [&str; 5] = ["label", "action", "protocol", "ports", "description"];

fn path(id: &str) -> String {
    format!("/networking/firewalls/{id}")
}

/// One configured rule as the API takes it.
fn rule_json(rule: &Value) -> Json {
    let Some(rule) = rule.as_map() else { return json!({}) };
    let mut body = serde_json::Map::new();
    for name in RULE_FIELDS {
        if let Some(value) = rule.get(name).and_then(Value::as_str) {
            body.insert(name.to_string(), json!(value));
        }
    }
    let mut addresses = serde_json::Map::new();
    for family in ["ipv4", "ipv6"] {
        if rule.get(family).is_some_and(|v| !v.is_null()) {
            addresses.insert(family.to_string(), json!(strings(rule, family)));
        }
    }
    body.insert("addresses".to_string(), Json::Object(addresses));
    Json::Object(body)
}

fn rules_json(planned: &Attributes) -> Json {
    let rules = |name: &str| attribute(planned, name).as_list().unwrap_or_default().iter().map(rule_json).collect();
    json!({
        "inbound": Json::Array(rules("inbound")),
        "outbound": Json::Array(rules("outbound")),
        "inbound_policy": text(planned, "inbound_policy").unwrap_or_default(),
        "outbound_policy": text(planned, "outbound_policy").unwrap_or_default(),
    })
}

fn status(planned: &Attributes) -> &'static str {
    if flag(planned, "disabled") == Some(true) {
        "disabled"
    } else {
        "enabled"
    }
}

/// Creates the firewall, then disables it when so configured; `progress` hears of it as
/// soon as Linode has given it an id, so a refused or lost later request leaves it in
/// the state (the next apply reads it and finishes it) rather than unknown at Linode.
pub async fn create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> LinodeResult<Attributes> {
    let linodes: Vec<Json> = strings(planned, "linodes").iter().map(|id| id_number(id)).collect();
    let body = json!({
        "label": text(planned, "label").unwrap_or_default(),
        "tags": strings(planned, "tags"),
        "rules": rules_json(planned),
        "devices": {"linodes": linodes},
    });
    let created = client.post("create the firewall", "/networking/firewalls", &body).await?;
    let firewall_id = created["id"].to_string();
    progress.exists(attributes_of(&created, &[], planned));
    if status(planned) == "disabled" {
        client.put("disable the firewall", &path(&firewall_id), &json!({"status": "disabled"})).await?;
    }
    let mut current = planned.clone();
    current.insert("id".to_string(), Value::string(firewall_id));
    found(read(client, &current).await?, "read the firewall")
}

pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let firewall_id = id(current);
    let Some(firewall) = client.find("read the firewall", &path(&firewall_id)).await? else { return Ok(None) };
    let devices = client.list("list the firewall's devices", &format!("{}/devices", path(&firewall_id))).await?;
    Ok(Some(attributes_of(&firewall, &devices, current)))
}

fn attributes_of(firewall: &Json, devices: &[Json], current: &Attributes) -> Attributes {
    let linodes: Vec<String> =
        devices.iter().filter(|d| d["entity"]["type"] == "linode").map(|d| d["entity"]["id"].to_string()).collect();
    let rules = &firewall["rules"];
    let status = firewall["status"].as_str().unwrap_or_default();
    let mut attributes = Attributes::new();
    attributes.insert("id".to_string(), Value::string(firewall["id"].to_string()));
    attributes.insert("label".to_string(), from_json(&firewall["label"]));
    attributes.insert("tags".to_string(), unordered(json_strings(&firewall["tags"]), attribute(current, "tags")));
    attributes.insert("disabled".to_string(), Value::bool(status == "disabled"));
    attributes.insert("status".to_string(), Value::string(status));
    attributes.insert("inbound_policy".to_string(), from_json(&rules["inbound_policy"]));
    attributes.insert("outbound_policy".to_string(), from_json(&rules["outbound_policy"]));
    attributes.insert("linodes".to_string(), unordered(linodes, attribute(current, "linodes")));
    for direction in ["inbound", "outbound"] {
        let configured = attribute(current, direction).as_list().unwrap_or_default().to_vec();
        let read = rules[direction].as_array().cloned().unwrap_or_default();
        let blocks = read.iter().enumerate().map(|(i, rule)| rule_value(rule, configured.get(i))).collect();
        attributes.insert(direction.to_string(), Value::list(blocks));
    }
    attributes
}

/// A rule as a block, with what the API leaves out null where the configuration has it
/// null.
fn rule_value(rule: &Json, configured: Option<&Value>) -> Value {
    let null = Value::null();
    let configured = |name: &str| configured.and_then(Value::as_map).and_then(|m| m.get(name)).unwrap_or(&null);
    let mut block = BTreeMap::new();
    for name in RULE_FIELDS {
        block.insert(name.to_string(), read_back(from_json(&rule[name]), configured(name)));
    }
    for family in ["ipv4", "ipv6"] {
        let addresses = &rule["addresses"][family];
        let value = if addresses.is_null() { Value::null() } else { from_json(addresses) };
        block.insert(family.to_string(), read_back(value, configured(family)));
    }
    Value::map(block)
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let firewall_id = id(prior);
    let changed = |name: &str| !attribute(prior, name).equals(attribute(planned, name));
    if ["label", "tags", "disabled"].iter().any(|name| changed(name)) {
        let body = json!({
            "label": text(planned, "label").unwrap_or_default(),
            "tags": strings(planned, "tags"),
            "status": status(planned),
        });
        client.put("update the firewall", &path(&firewall_id), &body).await?;
    }
    if ["inbound", "outbound", "inbound_policy", "outbound_policy"].iter().any(|name| changed(name)) {
        client
            .put("update the firewall's rules", &format!("{}/rules", path(&firewall_id)), &rules_json(planned))
            .await?;
    }
    if changed("linodes") {
        update_devices(client, &firewall_id, &strings(planned, "linodes")).await?;
    }
    found(read(client, planned).await?, "read the firewall")
}

/// Adds the Linodes that are wanted and not protected yet, and removes the others.
async fn update_devices(client: &Client, firewall_id: &str, wanted: &[String]) -> LinodeResult<()> {
    let devices_path = format!("{}/devices", path(firewall_id));
    let devices = client.list("list the firewall's devices", &devices_path).await?;
    let mut present = Vec::new();
    for device in devices.iter().filter(|d| d["entity"]["type"] == "linode") {
        let linode_id = device["entity"]["id"].to_string();
        if wanted.contains(&linode_id) {
            present.push(linode_id);
        } else {
            client.delete("remove a Linode from the firewall", &format!("{devices_path}/{}", device["id"])).await?;
        }
    }
    for linode_id in wanted.iter().filter(|id| !present.contains(id)) {
        let body = json!({"type": "linode", "id": id_number(linode_id)});
        client.post("add a Linode to the firewall", &devices_path, &body).await?;
    }
    Ok(())
}
