//! `linode.instance`: create a Linode and wait until it runs (or is `offline`, with
//! `booted = false`); read it back; resize it to another type, and change its label,
//! tags, watchdog, backups and power in place. Write-only settings (`root_pass`,
//! `authorized_keys`, the StackScript's, `resize_disk`) are kept as the state has them,
//! since the API never returns them.

use std::time::{Duration, Instant};

use infra_compiler::types::Type;
use infra_provider_kit::{timeout, Interrupted};
use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{Client, LinodeError, LinodeResult};
use super::{
    attribute, body_of, flag, found, from_json, id, id_number, json_strings, known, strings, text, to_json, unordered,
};

/// What is sent on create as the configuration has it.
const CREATE_FIELDS: [&str; 12] = [
    "label",
    "region",
    "type",
    "image",
    "root_pass",
    "authorized_keys",
    "authorized_users",
    "stackscript_id",
    "stackscript_data",
    "tags",
    "private_ip",
    "backups_enabled",
];

/// Settings the API never returns: the state keeps what was configured.
/// (`timeouts` is Infra's own setting, never sent.)
const WRITE_ONLY: [&str; 7] = [
    "root_pass",
    "authorized_keys",
    "authorized_users",
    "stackscript_id",
    "stackscript_data",
    "resize_disk",
    "timeouts",
];

fn path(id: &str) -> String {
    format!("/linode/instances/{id}")
}

/// Whether the Linode should end up running: as configured, else when it has an image.
fn wants_booted(attributes: &Attributes) -> bool {
    flag(attributes, "booted").unwrap_or_else(|| text(attributes, "image").is_some())
}

/// Creates the Linode and waits for it; `progress` hears of it as soon as Linode has
/// given it an id, so an interrupted wait does not lose it.
pub async fn create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> LinodeResult<Attributes> {
    let mut body = body_of(planned, &CREATE_FIELDS);
    // An id, as the state keeps ids (a string); the API takes the number.
    if let Some(stackscript_id) = text(planned, "stackscript_id") {
        body.insert("stackscript_id".to_string(), id_number(&stackscript_id));
    }
    body.insert("booted".to_string(), Json::Bool(wants_booted(planned)));
    let created = client.post("create the instance", "/linode/instances", &Json::Object(body)).await?;
    let linode_id = created["id"].to_string();
    progress.exists(attributes_of(&created, planned));
    let target = Target { booted: wants_booted(planned), linode_type: None };
    let settled = settle(client, &linode_id, target, timeout(planned, "create", client.wait.timeout)).await?;
    if flag(planned, "watchdog_enabled") == Some(false) {
        client.put("update the instance", &path(&linode_id), &json!({"watchdog_enabled": false})).await?;
    }
    let mut attributes = attributes_of(&settled, planned);
    attributes.insert("watchdog_enabled".to_string(), Value::bool(flag(planned, "watchdog_enabled").unwrap_or(true)));
    Ok(attributes)
}

/// What a wait for a Linode waits for: running (or `offline` when it should not run),
/// and after a resize, of the new type.
#[derive(Clone, Copy)]
struct Target<'a> {
    booted: bool,
    linode_type: Option<&'a str>,
}

/// Looks at the Linode until it has reached `target`, at growing intervals, up to
/// `timeout`, or until the run is interrupted (an error saying what it was at the last
/// look; a new Linode was reported before, so the state keeps it).
async fn settle(client: &Client, linode_id: &str, target: Target<'_>, timeout: Duration) -> LinodeResult<Json> {
    let status_wanted = if target.booted { "running" } else { "offline" };
    let waiting_for = match target.linode_type {
        Some(wanted) => format!("instance {linode_id} to be a `{wanted}` and `{status_wanted}`"),
        None => format!("instance {linode_id} to be `{status_wanted}`"),
    };
    let start = Instant::now();
    let mut interval = client.wait.interval;
    loop {
        let linode = client.get("read the instance", &path(linode_id)).await?;
        let status = linode["status"].as_str().unwrap_or_default().to_string();
        let linode_type = linode["type"].as_str().unwrap_or_default().to_string();
        let type_reached = target.linode_type.is_none_or(|wanted| wanted == linode_type);
        if status == status_wanted && type_reached {
            return Ok(linode);
        }
        let seen = match target.linode_type {
            Some(_) => format!("a `{linode_type}` and `{status}`"),
            None => format!("`{status}`"),
        };
        if start.elapsed() >= timeout {
            let reason = format!("it is still {seen} after {}", humantime(timeout));
            return Err(LinodeError::new(&format!("wait for {waiting_for}"), 408, reason));
        }
        let pause = interval.min(timeout.saturating_sub(start.elapsed()));
        client.stop.sleep(pause).await.map_err(|_| Interrupted::new(&waiting_for, seen))?;
        interval = (interval * 2).min(client.wait.max_interval);
    }
}

/// A duration as a person reads it: `90 s`, `10 min`.
fn humantime(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 60.0 && seconds % 60.0 == 0.0 {
        format!("{} min", seconds / 60.0)
    } else {
        format!("{seconds} s")
    }
}

pub async fn read(client: &Client, current: &Attributes) -> LinodeResult<Option<Attributes>> {
    let linode = client.find("read the instance", &path(&id(current))).await?;
    Ok(linode.map(|linode| attributes_of(&linode, current)))
}

/// A Linode as attributes, with the write-only settings taken from `current`.
pub(crate) fn attributes_of(linode: &Json, current: &Attributes) -> Attributes {
    let ipv4 = json_strings(&linode["ipv4"]);
    let (private, public): (Vec<&String>, Vec<&String>) = ipv4.iter().partition(|ip| is_private(ip));
    let status = linode["status"].as_str().unwrap_or_default();
    let mut attributes = Attributes::new();
    let mut put = |name: &str, value: Value| drop(attributes.insert(name.to_string(), value));
    put("id", Value::string(linode["id"].to_string()));
    put("label", from_json(&linode["label"]));
    put("region", from_json(&linode["region"]));
    put("type", from_json(&linode["type"]));
    put("tags", unordered(json_strings(&linode["tags"]), attribute(current, "tags")));
    put("private_ip", Value::bool(!private.is_empty()));
    put("backups_enabled", from_json(&linode["backups"]["enabled"]));
    put("booted", Value::bool(!matches!(status, "offline" | "stopped" | "shutting_down")));
    put("watchdog_enabled", from_json(&linode["watchdog_enabled"]));
    put("ip_address", public.first().map_or_else(Value::null, |ip| Value::string(ip.as_str())));
    put("private_ip_address", private.first().map_or_else(Value::null, |ip| Value::string(ip.as_str())));
    put("ipv4", Value::list(ipv4.iter().map(|ip| Value::string(ip.as_str())).collect()));
    put("ipv6", from_json(&linode["ipv6"]));
    put("status", Value::string(status));
    put("specs", from_json(&linode["specs"]));
    for name in WRITE_ONLY {
        put(name, attribute(current, name).clone());
    }
    // The image the Linode was deployed from, as configured; on import, as the API says.
    let image = attribute(current, "image");
    put("image", if image.is_null() { from_json(&linode["image"]) } else { image.clone() });
    attributes
}

/// An address of the private ranges Linode hands out (192.168.128.0/17 in practice).
fn is_private(ip: &str) -> bool {
    ip.starts_with("192.168.") || ip.starts_with("10.")
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> LinodeResult<Attributes> {
    let linode_id = id(prior);
    let changed = |name: &str| !attribute(prior, name).equals(attribute(planned, name));
    if let Some(new_type) = text(planned, "type").filter(|_| changed("type")) {
        resize(client, &linode_id, &new_type, prior, planned).await?;
    }
    let mut body = serde_json::Map::new();
    for name in ["label", "watchdog_enabled"] {
        if changed(name) && attribute(planned, name).is_known() && !attribute(planned, name).is_null() {
            body.insert(name.to_string(), to_json(attribute(planned, name)));
        }
    }
    if changed("tags") {
        body.insert("tags".to_string(), json!(strings(planned, "tags")));
    }
    if !body.is_empty() {
        client.put("update the instance", &path(&linode_id), &Json::Object(body)).await?;
    }
    if changed("backups_enabled") {
        if let Some(enabled) = flag(planned, "backups_enabled") {
            let action = if enabled { "enable" } else { "cancel" };
            let operation = format!("{action} the instance's backups");
            client.action(&operation, &format!("{}/backups/{action}", path(&linode_id))).await?;
        }
    }
    if let Some(booted) = flag(planned, "booted").filter(|_| changed("booted")) {
        let (action, operation) =
            if booted { ("boot", "boot the instance") } else { ("shutdown", "shut down the instance") };
        client.action(operation, &format!("{}/{action}", path(&linode_id))).await?;
        let target = Target { booted, linode_type: None };
        settle(client, &linode_id, target, timeout(planned, "update", client.wait.timeout)).await?;
    }
    let read = read(client, planned).await?;
    found(read, "read the instance")
}

/// Resizes the Linode to `new_type`, as Terraform does: Linode migrates it to a host
/// with the new plan and brings it back as it was (running, or off), which is waited for
/// until the Linode reports the new type. `resize_disk` lets Linode resize the disk
/// deployed from the image with it (`allow_auto_disk_resize`, which the API would
/// otherwise assume); without it a plan with a smaller disk is refused. A refusal is a
/// diagnostic on `type`.
async fn resize(
    client: &Client,
    linode_id: &str,
    new_type: &str,
    prior: &Attributes,
    planned: &Attributes,
) -> LinodeResult<()> {
    let body = json!({
        "type": new_type,
        "allow_auto_disk_resize": flag(planned, "resize_disk").unwrap_or(false),
    });
    let operation = format!("resize the instance to `{new_type}`");
    let resized = client.post(&operation, &format!("{}/resize", path(linode_id)), &body).await;
    resized.map_err(|error| error.on_field("type"))?;
    let target = Target { booted: flag(prior, "booted").unwrap_or(true), linode_type: Some(new_type) };
    settle(client, linode_id, target, timeout(planned, "update", client.wait.timeout)).await?;
    Ok(())
}

/// What a plan says about a new `type` of a Linode kept in place (`planned`'s id is the
/// prior's): its `specs` are unknown until the resize.
pub(crate) fn plan_resize(prior: &Attributes, planned: &mut Attributes) {
    let in_place = known(planned, "id").is_some();
    if in_place && !attribute(prior, "type").equals(attribute(planned, "type")) {
        planned.insert("specs".to_string(), Value::unknown(Type::map(Type::Number)));
    }
}

/// The stored object with `stackscript_id` as a string, when it was recorded as a
/// number (before the attribute took ids as every other reference does); `None` when
/// there is nothing to upgrade.
pub(crate) fn upgrade(stored: &Attributes) -> Option<Attributes> {
    let number = attribute(stored, "stackscript_id").as_number()?;
    let mut upgraded = stored.clone();
    upgraded.insert("stackscript_id".to_string(), Value::string(infra_runtime::value::format_number(number)));
    Some(upgraded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linode_reads_as_its_attributes_keeping_the_write_only_ones() {
        let linode = json!({
            "id": 42, "label": "web", "region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12",
            "tags": ["b", "a"], "ipv4": ["192.0.2.7", "192.168.1.7"], "ipv6": "2001:db8::7/128",
            "status": "running", "watchdog_enabled": true, "backups": {"enabled": false},
            "specs": {"disk": 25600, "memory": 1024, "vcpus": 1, "transfer": 1000}
        });
        let current: Attributes = [
            ("id", Value::string("42")),
            ("region", Value::string("us-east")),
            ("root_pass", Value::string("secret-pass")),
            ("tags", Value::list(vec![Value::string("b"), Value::string("a")])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let attributes = attributes_of(&linode, &current);
        assert_eq!(attributes["id"], Value::string("42"));
        assert_eq!(attributes["ip_address"], Value::string("192.0.2.7"));
        assert_eq!(attributes["private_ip_address"], Value::string("192.168.1.7"));
        assert_eq!(attributes["private_ip"], Value::bool(true));
        assert_eq!(attributes["root_pass"], Value::string("secret-pass"));
        assert_eq!(attributes["tags"], current["tags"]);
        assert_eq!(attributes["booted"], Value::bool(true));
    }

    /// Regression: `stackscript_id` became a string (so `stackscript_id = boot.id`
    /// checks); an instance recorded with the number keeps its Linode instead of
    /// being replaced for the same id in another form.
    #[test]
    fn a_stored_numeric_stackscript_id_is_upgraded_to_the_string_id() {
        let stored: Attributes = [("id", Value::string("42")), ("stackscript_id", Value::number(1001.0))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let upgraded = upgrade(&stored).expect("upgraded");
        assert_eq!(upgraded["stackscript_id"], Value::string("1001"));
        assert_eq!(upgraded["id"], Value::string("42"));
        assert_eq!(upgrade(&upgraded), None, "a string id is current");
    }
}
