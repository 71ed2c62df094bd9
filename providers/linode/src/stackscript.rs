//! `linode.stackscript`: a script Linode runs on an instance's first boot
//! (`linode.instance`'s `stackscript_id`). Every setting changes in place.

use infra_runtime::provider::Attributes;
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, body_of, found, from_json, id, json_strings, read_fields, strings, unordered};

const FIELDS: [&str; 5] = ["label", "script", "description", "is_public", "rev_note"];

fn path(id: &str) -> String {
    format!("/linode/stackscripts/{id}")
}

fn body(planned: &Attributes) -> Json {
    let mut body = body_of(planned, &FIELDS);
    body.insert("images".to_string(), json!(strings(planned, "images")));
    Json::Object(body)
}

pub async fn create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let created = client.post("create the StackScript", "/linode/stackscripts", &body(planned)).await?;
    Ok(attributes_of(&created, planned))
}

pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let stackscript = client.find("read the StackScript", &path(&id(current))).await?;
    Ok(stackscript.map(|stackscript| attributes_of(&stackscript, current)))
}

pub async fn update(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    client.put("update the StackScript", &path(&id(planned)), &body(planned)).await?;
    found(read(client, planned).await?, "read the StackScript")
}

fn attributes_of(stackscript: &Json, current: &Attributes) -> Attributes {
    let mut attributes = read_fields(stackscript, current, &FIELDS);
    let is_public = stackscript["is_public"].as_bool().unwrap_or(false);
    // Private is the default: `false` reads as null where the state has it null.
    let public =
        if !is_public && attribute(current, "is_public").is_null() { Value::null() } else { Value::bool(is_public) };
    attributes.insert("is_public".to_string(), public);
    attributes.insert("id".to_string(), Value::string(stackscript["id"].to_string()));
    attributes
        .insert("images".to_string(), unordered(json_strings(&stackscript["images"]), attribute(current, "images")));
    for name in ["username", "created", "updated", "deployments_total"] {
        attributes.insert(name.to_string(), from_json(&stackscript[name]));
    }
    attributes
}
