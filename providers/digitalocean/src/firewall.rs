//! `digitalocean.firewall`: a Cloud Firewall, its inbound and outbound rules, and the
//! Droplets it protects by id and by tag. Everything changes in place with one PUT of
//! the whole firewall.

use std::collections::BTreeMap;

use infra_provider_kit::json::{from_json, json_strings, read_back, unordered};
use infra_runtime::provider::Attributes;
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::{attribute, found, id, id_number, id_text, strings, text};

/// The two kinds of rule: the block's name, the API's list, and the word the block's
/// attributes and the API's object begin with.
const DIRECTIONS: [(&str, &str, &str, &str); 2] = [
    ("inbound_rule", "inbound_rules", "source", "sources"),
    ("outbound_rule", "outbound_rules", "destination", "destinations"),
];

fn path(id: &str) -> String {
    format!("/v2/firewalls/{id}")
}

fn ids_json(ids: &[String]) -> Json {
    Json::Array(ids.iter().map(|id| id_number(id)).collect())
}

/// One configured rule as the API takes it; all ports (`"0"`) when it names none.
fn rule_json(rule: &Value, party: &str, parties: &str) -> Json {
    let Some(rule) = rule.as_map() else { return json!({}) };
    let field = |name: &str| format!("{party}_{name}");
    let list = |name: &str| -> Vec<String> {
        let items = rule.get(&field(name)).and_then(Value::as_list).unwrap_or_default();
        items.iter().filter_map(Value::as_str).map(str::to_string).collect()
    };
    json!({
        "protocol": rule.get("protocol").and_then(Value::as_str).unwrap_or_default(),
        "ports": rule.get("port_range").and_then(Value::as_str).unwrap_or("0"),
        parties: {
            "addresses": list("addresses"),
            "droplet_ids": ids_json(&list("droplet_ids")),
            "tags": list("tags"),
        },
    })
}

fn body(planned: &Attributes) -> Json {
    let mut body = json!({
        "name": text(planned, "name").unwrap_or_default(),
        "droplet_ids": ids_json(&strings(planned, "droplet_ids")),
        "tags": strings(planned, "tags"),
    });
    for (block, key, party, parties) in DIRECTIONS {
        let rules = attribute(planned, block).as_list().unwrap_or_default();
        body[key] = Json::Array(rules.iter().map(|rule| rule_json(rule, party, parties)).collect());
    }
    body
}

pub async fn create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let created = client.post("create the firewall", "/v2/firewalls", &body(planned)).await?;
    Ok(attributes_of(&created["firewall"], planned))
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the firewall", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["firewall"], current)))
}

pub async fn update(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    client.put("update the firewall", &path(&id(planned)), &body(planned)).await?;
    found(read(client, planned).await?, "read the firewall")
}

fn ids_of(value: &Json) -> Vec<String> {
    value.as_array().map(|ids| ids.iter().map(id_text).collect()).unwrap_or_default()
}

pub fn attributes_of(firewall: &Json, current: &Attributes) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert("id".to_string(), Value::string(id_text(&firewall["id"])));
    attributes.insert("name".to_string(), from_json(&firewall["name"]));
    let droplet_ids = unordered(ids_of(&firewall["droplet_ids"]), attribute(current, "droplet_ids"));
    attributes.insert("droplet_ids".to_string(), droplet_ids);
    attributes.insert("tags".to_string(), unordered(json_strings(&firewall["tags"]), attribute(current, "tags")));
    attributes.insert("status".to_string(), from_json(&firewall["status"]));
    attributes.insert("created_at".to_string(), from_json(&firewall["created_at"]));
    for (block, key, party, parties) in DIRECTIONS {
        let configured = attribute(current, block).as_list().unwrap_or_default().to_vec();
        let read = firewall[key].as_array().cloned().unwrap_or_default();
        let rules = read.iter().enumerate().map(|(i, rule)| rule_value(rule, party, parties, configured.get(i)));
        attributes.insert(block.to_string(), Value::list(rules.collect()));
    }
    attributes
}

/// A rule as a block, with what the API reports empty (no addresses, all ports as `"0"`)
/// null where the configuration has it null.
fn rule_value(rule: &Json, party: &str, parties: &str, configured: Option<&Value>) -> Value {
    let null = Value::null();
    let configured = |name: &str| configured.and_then(Value::as_map).and_then(|m| m.get(name)).unwrap_or(&null);
    let mut block = BTreeMap::new();
    block.insert("protocol".to_string(), from_json(&rule["protocol"]));
    let ports = rule["ports"].as_str().filter(|p| *p != "0").map_or_else(Value::null, Value::string);
    let port_range = if ports.is_null() && !configured("port_range").is_null() { Value::string("0") } else { ports };
    block.insert("port_range".to_string(), port_range);
    let targets = &rule[parties];
    let lists = [
        ("addresses", json_strings(&targets["addresses"])),
        ("droplet_ids", ids_of(&targets["droplet_ids"])),
        ("tags", json_strings(&targets["tags"])),
    ];
    for (name, items) in lists {
        let name = format!("{party}_{name}");
        let value = read_back(unordered(items, configured(&name)), configured(&name));
        block.insert(name, value);
    }
    Value::map(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_sent_with_its_targets_and_read_back_as_configured() {
        let rule = Value::map(
            [
                ("protocol".to_string(), Value::string("tcp")),
                ("port_range".to_string(), Value::string("22")),
                ("source_addresses".to_string(), Value::list(vec![Value::string("0.0.0.0/0")])),
            ]
            .into_iter()
            .collect(),
        );
        let sent = rule_json(&rule, "source", "sources");
        assert_eq!(sent["ports"], "22");
        assert_eq!(sent["sources"]["addresses"], json!(["0.0.0.0/0"]));
        assert_eq!(sent["sources"]["droplet_ids"], json!([]));
        let read = rule_value(&sent, "source", "sources", Some(&rule));
        let read = read.as_map().expect("a map");
        assert_eq!(read.get("source_addresses"), rule.as_map().and_then(|m| m.get("source_addresses")));
        assert!(read.get("source_tags").is_some_and(Value::is_null));
    }
}
