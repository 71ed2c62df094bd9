//! `digitalocean.vpc`: a private network in one region. The name and description change
//! in place (a PATCH); the region and the range make a new VPC.

use infra_provider_kit::json::from_json;
use infra_runtime::provider::Attributes;
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiResult, Client};
use super::{attribute, found, id, id_text, text};

fn path(id: &str) -> String {
    format!("/v2/vpcs/{id}")
}

pub async fn create(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let mut body = serde_json::Map::new();
    for name in ["name", "region", "description", "ip_range"] {
        if let Some(value) = text(planned, name) {
            body.insert(name.to_string(), Json::String(value));
        }
    }
    let created = client.post("create the VPC", "/v2/vpcs", &Json::Object(body)).await?;
    Ok(attributes_of(&created["vpc"], planned))
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the VPC", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["vpc"], current)))
}

pub async fn update(client: &Client, planned: &Attributes) -> ApiResult<Attributes> {
    let body = json!({
        "name": text(planned, "name").unwrap_or_default(),
        "description": text(planned, "description").unwrap_or_default(),
    });
    client.patch("update the VPC", &path(&id(planned)), &body).await?;
    found(read(client, planned).await?, "read the VPC")
}

/// A VPC as attributes; an empty description reads as null where the state has null.
pub fn attributes_of(vpc: &Json, current: &Attributes) -> Attributes {
    let description = from_json(&vpc["description"]);
    let description = if description.as_str() == Some("") && attribute(current, "description").is_null() {
        Value::null()
    } else {
        description
    };
    [
        ("id".to_string(), Value::string(id_text(&vpc["id"]))),
        ("name".to_string(), from_json(&vpc["name"])),
        ("region".to_string(), from_json(&vpc["region"])),
        ("description".to_string(), description),
        ("ip_range".to_string(), from_json(&vpc["ip_range"])),
        ("urn".to_string(), from_json(&vpc["urn"])),
        ("default".to_string(), from_json(&vpc["default"])),
        ("created_at".to_string(), from_json(&vpc["created_at"])),
    ]
    .into()
}
