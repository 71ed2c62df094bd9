//! `digitalocean.domain` and `digitalocean.record`: a DNS zone (its id is its name, and
//! nothing of it changes in place) and its records (changed in place with a PUT of the
//! whole record; imported as `DOMAIN,ID`).

use infra_provider_kit::json::{from_json, read_back, to_json};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::{attribute, found, id, numeric_id, path_segment, read_fields, text};

/// The record's settings sent as the configuration has them (`value` is sent as `data`).
const RECORD_FIELDS: [&str; 7] = ["type", "name", "ttl", "priority", "port", "weight", "flags"];

pub async fn domain_create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let mut body = json!({"name": text(planned, "name").unwrap_or_default()});
    if let Some(ip_address) = text(planned, "ip_address") {
        body["ip_address"] = Json::String(ip_address);
    }
    let created = client.post("create the domain", "/v2/domains", &body).await?;
    Ok(domain_attributes(&created["domain"], planned))
}

pub async fn domain_read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the domain", &format!("/v2/domains/{}", id(current))).await?;
    Ok(answer.map(|answer| domain_attributes(&answer["domain"], current)))
}

/// A zone as attributes; `ip_address` only shapes the zone's first record, so the state
/// keeps it as configured.
pub fn domain_attributes(domain: &Json, current: &Attributes) -> Attributes {
    let name = domain["name"].as_str().unwrap_or_default();
    [
        ("id".to_string(), Value::string(name)),
        ("name".to_string(), Value::string(name)),
        ("ip_address".to_string(), attribute(current, "ip_address").clone()),
        ("ttl".to_string(), from_json(&domain["ttl"])),
        ("urn".to_string(), Value::string(format!("do:domain:{name}"))),
    ]
    .into()
}

fn records_path(planned: &Attributes) -> String {
    format!("/v2/domains/{}/records", text(planned, "domain").unwrap_or_default())
}

fn record_path(current: &Attributes) -> String {
    format!("{}/{}", records_path(current), id(current))
}

fn record_body(planned: &Attributes) -> Json {
    let mut body = serde_json::Map::new();
    for name in RECORD_FIELDS {
        let value = attribute(planned, name);
        if !value.is_null() && value.is_known() {
            body.insert(name.to_string(), to_json(value));
        }
    }
    if let Some(tag) = text(planned, "tag") {
        body.insert("tag".to_string(), Json::String(tag));
    }
    body.insert("data".to_string(), Json::String(text(planned, "value").unwrap_or_default()));
    Json::Object(body)
}

pub async fn record_create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let created = client.post("create the record", &records_path(planned), &record_body(planned)).await?;
    Ok(record_attributes(&created["domain_record"], planned))
}

pub async fn record_read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the record", &record_path(current)).await?;
    Ok(answer.map(|answer| record_attributes(&answer["domain_record"], current)))
}

pub async fn record_update(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    client.put("update the record", &record_path(planned), &record_body(planned)).await?;
    found(record_read(client, planned).await?, "read the record")
}

pub async fn record_delete(client: &Client, current: &Attributes) -> ApiResult<()> {
    client.delete("delete the record", &record_path(current)).await
}

/// A record as attributes; its zone comes from `current`, since the API does not repeat it.
fn record_attributes(record: &Json, current: &Attributes) -> Attributes {
    let domain = text(current, "domain").unwrap_or_default();
    let name = record["name"].as_str().unwrap_or_default();
    let fqdn = if name == "@" { domain.clone() } else { format!("{name}.{domain}") };
    let mut attributes = read_fields(record, current, &["priority", "port", "weight", "flags", "tag"]);
    attributes.insert("id".to_string(), Value::string(record["id"].to_string()));
    attributes.insert("domain".to_string(), Value::string(domain));
    attributes.insert("type".to_string(), from_json(&record["type"]));
    attributes.insert("name".to_string(), Value::string(name));
    attributes.insert("value".to_string(), from_json(&record["data"]));
    attributes.insert("ttl".to_string(), read_back(from_json(&record["ttl"]), attribute(current, "ttl")));
    attributes.insert("fqdn".to_string(), Value::string(fqdn));
    attributes
}

/// The state a record import starts from: `DOMAIN,ID`.
pub fn record_seed(import_id: &str) -> ProviderResult<Attributes> {
    let Some((domain, record_id)) = import_id.split_once(',') else {
        return Err(ProviderError::new(format!("`{import_id}` is not a record's import id"))
            .with_help("a record is imported as `DOMAIN,ID`, such as `example.org,12345`"));
    };
    Ok([
        ("domain".to_string(), Value::string(path_segment(&domain.to_ascii_lowercase())?)),
        ("id".to_string(), Value::string(numeric_id(record_id)?)),
    ]
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_sends_its_value_as_data() {
        let planned: Attributes = [
            ("domain", Value::string("example.org")),
            ("type", Value::string("A")),
            ("name", Value::string("www")),
            ("value", Value::string("192.0.2.7")),
            ("ttl", Value::number(300.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(record_body(&planned), json!({"type": "A", "name": "www", "data": "192.0.2.7", "ttl": 300}));
        let record = json!({"id": 9, "type": "A", "name": "www", "data": "192.0.2.7", "ttl": 300, "priority": null});
        let attributes = record_attributes(&record, &planned);
        assert_eq!(attributes["fqdn"], Value::string("www.example.org"));
        assert!(attributes["priority"].is_null());
    }

    #[test]
    fn a_record_import_id_names_its_zone() {
        let seed = record_seed("example.org,12").expect("seed");
        assert_eq!(seed["domain"], Value::string("example.org"));
        assert!(record_seed("12").is_err());
        assert!(record_seed("../x,12").is_err());
    }
}
