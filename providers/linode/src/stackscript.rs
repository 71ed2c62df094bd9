//! `linode.stackscript`: a script Linode runs on an instance's first boot
//! (`linode.instance`'s `stackscript_id`). Every setting changes in place.

use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeResult};
use super::{attribute, body_of, cleared, flag, found, from_json, id, json_strings, read_fields, strings, unordered};

const FIELDS: [&str; 5] = ["label", "script", "description", "is_public", "rev_note"];

/// What an update sends for a setting the configuration no longer has: the API's
/// description takes only strings for these (not `null`), and `""` is none.
/// (`is_public` cannot be unset: see [`plan_public`].)
fn clears() -> [(&'static str, Json); 2] {
    [("description", json!("")), ("rev_note", json!(""))]
}

fn path(id: &str) -> String {
    format!("/linode/stackscripts/{id}")
}

fn body(planned: &Attributes) -> serde_json::Map<String, Json> {
    let mut body = body_of(planned, &FIELDS);
    body.insert("images".to_string(), json!(strings(planned, "images")));
    body
}

/// Linode never makes a public StackScript private again. Left out of the
/// configuration, `is_public` keeps what Linode has (no change planned, as for any
/// setting Linode decides once it is made); set to `false`, it is an error at plan time,
/// since no update can do it.
pub fn plan_public(prior: &Attributes, planned: &mut Attributes) -> ProviderResult<()> {
    if flag(prior, "is_public") != Some(true) {
        return Ok(());
    }
    match flag(planned, "is_public") {
        Some(false) => Err(ProviderError::new("a public StackScript cannot be made private again")
            .on_attribute("is_public")
            .with_help(
                "Linode never makes a public StackScript private: remove `is_public` (or set it to true), or make a \
                 new private StackScript (`infra apply --replace` on this one)",
            )),
        Some(true) => Ok(()),
        None if attribute(planned, "is_public").is_known() => {
            planned.insert("is_public".to_string(), Value::bool(true));
            Ok(())
        }
        None => Ok(()),
    }
}

pub async fn create(client: &Client, planned: &Attributes) -> LinodeResult<Attributes> {
    let body = Json::Object(body(planned));
    let created = client.post("create the StackScript", "/linode/stackscripts", &body).await?;
    Ok(attributes_of(&created, planned))
}

/// A refresh (or an import) reads every attribute as Linode has it now, the
/// `deployments_total` counter too: Linode counts it up each time a Linode is deployed
/// from the StackScript, which is no change to it, and the schema marks it
/// `changed_by_others`, so the engine records a new count without calling it a change
/// outside of Infra.
pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let stackscript = client.find("read the StackScript", &path(&id(current))).await?;
    Ok(stackscript.map(|stackscript| attributes_of(&stackscript, current)))
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let mut body = body(planned);
    body.extend(cleared(prior, planned, &clears()));
    client.put("update the StackScript", &path(&id(planned)), &Json::Object(body)).await?;
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
