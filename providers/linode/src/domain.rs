//! `linode.domain` and `linode.domain_record`: a DNS zone and its records, every setting
//! but the zone's name and type (and a record's type and domain) changed in place.

use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, body_of, found, from_json, id, numeric_id, read_fields, text, unordered};

/// Settings sent as the configuration has them, and read back the same way.
const DOMAIN_FIELDS: [&str; 8] =
    ["soa_email", "description", "status", "ttl_sec", "refresh_sec", "retry_sec", "expire_sec", "type"];

fn domain_path(id: &str) -> String {
    format!("/domains/{id}")
}

/// The whole body of a create or an update: lists are always sent, so emptying one
/// empties it at Linode.
fn domain_body(planned: &Attributes) -> Json {
    let mut body = body_of(planned, &DOMAIN_FIELDS);
    for name in ["tags", "master_ips", "axfr_ips"] {
        body.insert(name.to_string(), json!(super::strings(planned, name)));
    }
    Json::Object(body)
}

pub async fn domain_create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let mut body = domain_body(planned);
    body["domain"] = json!(text(planned, "domain").unwrap_or_default());
    let created = client.post("create the domain", "/domains", &body).await?;
    Ok(domain_attributes(&created, planned))
}

pub async fn domain_read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let domain = client.find("read the domain", &domain_path(&id(current))).await?;
    Ok(domain.map(|domain| domain_attributes(&domain, current)))
}

pub async fn domain_update(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    client.put("update the domain", &domain_path(&id(planned)), &domain_body(planned)).await?;
    found(domain_read(client, planned).await?, "read the domain")
}

pub(crate) fn domain_attributes(domain: &Json, current: &Attributes) -> Attributes {
    let mut attributes = read_fields(domain, current, &DOMAIN_FIELDS);
    attributes.insert("id".to_string(), Value::string(domain["id"].to_string()));
    let name = domain["domain"].as_str().unwrap_or_default();
    // Linode keeps the zone's name in lower case; the configuration's spelling stays.
    let configured = attribute(current, "domain");
    let same = configured.as_str().is_some_and(|c| c.trim_end_matches('.').eq_ignore_ascii_case(name));
    attributes.insert("domain".to_string(), if same { configured.clone() } else { Value::string(name) });
    attributes.insert("status".to_string(), from_json(&domain["status"]));
    for name in ["tags", "master_ips", "axfr_ips"] {
        attributes.insert(name.to_string(), unordered(super::json_strings(&domain[name]), attribute(current, name)));
    }
    attributes
}

// --- records ---------------------------------------------------------------------------

const RECORD_FIELDS: [&str; 6] = ["name", "target", "ttl_sec", "priority", "weight", "port"];

fn record_path(attributes: &Attributes) -> String {
    let domain_id = text(attributes, "domain_id").unwrap_or_default();
    format!("/domains/{domain_id}/records/{}", id(attributes))
}

/// The state's attributes an import starts from: `DOMAIN_ID,RECORD_ID`.
pub fn record_seed(import_id: &str) -> ProviderResult<Attributes> {
    let form = "`DOMAIN_ID,RECORD_ID`, such as `1234,5678`";
    let (domain_id, record_id) = import_id.split_once(',').ok_or_else(|| {
        ProviderError::new(format!("`{import_id}` is not a record's id")).with_help(format!("use {form}"))
    })?;
    Ok([
        ("domain_id".to_string(), Value::string(numeric_id(domain_id.trim(), form)?)),
        ("id".to_string(), Value::string(numeric_id(record_id.trim(), form)?)),
    ]
    .into())
}

/// A record's body: the fields that are set (the API refuses an empty `name`).
fn record_body(planned: &Attributes) -> Json {
    Json::Object(body_of(planned, &RECORD_FIELDS))
}

pub async fn record_create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let domain_id = text(planned, "domain_id").unwrap_or_default();
    let mut body = record_body(planned);
    body["type"] = json!(text(planned, "record_type").unwrap_or_default());
    let created = client.post("create the record", &format!("/domains/{domain_id}/records"), &body).await?;
    Ok(record_attributes(&created, &domain_id, planned))
}

pub async fn record_read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let domain_id = text(current, "domain_id").unwrap_or_default();
    let record = client.find("read the record", &record_path(current)).await?;
    Ok(record.map(|record| record_attributes(&record, &domain_id, current)))
}

pub async fn record_update(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    client.put("update the record", &record_path(planned), &record_body(planned)).await?;
    found(record_read(client, planned).await?, "read the record")
}

pub async fn record_delete(client: &Client, current: &Attributes) -> LinodeResult<()> {
    client.delete("delete the record", &record_path(current)).await
}

fn record_attributes(record: &Json, domain_id: &str, current: &Attributes) -> Attributes {
    let mut attributes = read_fields(record, current, &RECORD_FIELDS);
    attributes.insert("id".to_string(), Value::string(record["id"].to_string()));
    attributes.insert("domain_id".to_string(), Value::string(domain_id));
    attributes.insert("record_type".to_string(), from_json(&record["type"]));
    attributes
}
