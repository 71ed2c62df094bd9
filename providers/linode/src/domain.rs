//! `linode.domain` and `linode.domain_record`: a DNS zone and its records, every setting
//! but the zone's name and type (and a record's type and domain) changed in place.

use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, body_of, cleared, found, from_json, id, known, numeric_id, read_fields, text, unordered};

/// Settings sent as the configuration has them, and read back the same way.
const DOMAIN_FIELDS: [&str; 8] =
    ["soa_email", "description", "status", "ttl_sec", "refresh_sec", "retry_sec", "expire_sec", "type"];

/// What an update sends for a setting the configuration no longer has, as Linode's API
/// description has it: a time of 0 is Linode's default ("a value of 0 is equivalent to
/// the default value"); a description cannot be `""` (its `minLength` is 1) and reads as
/// `null` when there is none (the description's example), so `null` removes it.
fn domain_clears() -> [(&'static str, Json); 6] {
    [
        ("description", Json::Null),
        ("soa_email", json!("")),
        ("ttl_sec", json!(0)),
        ("refresh_sec", json!(0)),
        ("retry_sec", json!(0)),
        ("expire_sec", json!(0)),
    ]
}

/// A `master` zone needs `soa_email` (Linode refuses to make one without it): said at
/// plan time, on `type`, since the configuration has no `soa_email` to point at.
pub fn validate(config: &Attributes) -> Option<ProviderError> {
    let master = known(config, "type").and_then(Value::as_str) == Some("master");
    if !master || !attribute(config, "soa_email").is_null() {
        return None;
    }
    Some(ProviderError::new("a `master` domain needs `soa_email`").on_attribute("type").with_help(
        "Linode puts the zone's contact address in its SOA record: set `soa_email`, such as \
             `hostmaster@example.org` (a `slave` zone needs none)",
    ))
}

fn domain_path(id: &str) -> String {
    format!("/domains/{id}")
}

/// The body of a create or an update: the settings that are set, and the lists always,
/// so emptying one empties it at Linode.
fn domain_body(planned: &Attributes) -> serde_json::Map<String, Json> {
    let mut body = body_of(planned, &DOMAIN_FIELDS);
    for name in ["tags", "master_ips", "axfr_ips"] {
        body.insert(name.to_string(), json!(super::strings(planned, name)));
    }
    body
}

pub async fn domain_create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let mut body = domain_body(planned);
    body.insert("domain".to_string(), json!(text(planned, "domain").unwrap_or_default()));
    let created = client.post("create the domain", "/domains", &Json::Object(body)).await?;
    Ok(domain_attributes(&created, planned))
}

pub async fn domain_read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let domain = client.find("read the domain", &domain_path(&id(current))).await?;
    Ok(domain.map(|domain| domain_attributes(&domain, current)))
}

pub async fn domain_update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let mut body = domain_body(planned);
    body.extend(cleared(prior, planned, &domain_clears()));
    client.put("update the domain", &domain_path(&id(planned)), &Json::Object(body)).await?;
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

/// What an update sends for a number the configuration no longer has: 0, which Linode
/// reports for a record without one (a `ttl_sec` of 0 is the domain's, as for the zone).
/// A `name` cannot be emptied (the API wants one of a character or more).
fn record_clears() -> [(&'static str, Json); 4] {
    [("ttl_sec", json!(0)), ("priority", json!(0)), ("weight", json!(0)), ("port", json!(0))]
}

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
fn record_body(planned: &Attributes) -> serde_json::Map<String, Json> {
    body_of(planned, &RECORD_FIELDS)
}

pub async fn record_create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let domain_id = text(planned, "domain_id").unwrap_or_default();
    let mut body = record_body(planned);
    body.insert("type".to_string(), json!(text(planned, "record_type").unwrap_or_default()));
    let path = format!("/domains/{domain_id}/records");
    let created = client.post("create the record", &path, &Json::Object(body)).await?;
    Ok(record_attributes(&created, &domain_id, planned))
}

pub async fn record_read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let domain_id = text(current, "domain_id").unwrap_or_default();
    let record = client.find("read the record", &record_path(current)).await?;
    Ok(record.map(|record| record_attributes(&record, &domain_id, current)))
}

pub async fn record_update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let mut body = record_body(planned);
    body.extend(cleared(prior, planned, &record_clears()));
    client.put("update the record", &record_path(planned), &Json::Object(body)).await?;
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
