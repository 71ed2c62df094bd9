//! `digitalocean.droplet`: create a Droplet and wait until it is `active`; read it back;
//! resize it (power off, resize, power on), rename it, switch its backups, turn IPv6 on
//! and change its tags in place (each a Droplet action or a tag's resources, waited for). Write-only
//! settings (`ssh_keys`, `user_data`, `resize_disk`) are kept as the state has them,
//! since the API never returns them.

use std::time::Instant;

use infra_provider_kit::json::{from_json, json_strings, unordered};
use infra_provider_kit::{timeout, Interrupted};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

use super::client::{ApiError, ApiResult, Client};
use super::{attribute, flag, found, id, id_number, known, strings, text};

/// Settings the API never returns: the state keeps what was configured.
/// (`timeouts` is Infra's own setting, never sent.)
const WRITE_ONLY: [&str; 3] = ["ssh_keys", "user_data", "timeouts"];

fn path(id: &str) -> String {
    format!("/v2/droplets/{id}")
}

fn create_body(planned: &Attributes) -> Json {
    let mut body = serde_json::Map::new();
    for name in ["name", "region", "size", "user_data", "vpc_uuid"] {
        if let Some(value) = text(planned, name) {
            body.insert(name.to_string(), Json::String(value));
        }
    }
    // An image or SSH key given as a number is sent as one; a slug or fingerprint as text.
    if let Some(image) = text(planned, "image") {
        body.insert("image".to_string(), id_number(&image));
    }
    let keys: Vec<Json> = strings(planned, "ssh_keys").iter().map(|k| id_number(k)).collect();
    body.insert("ssh_keys".to_string(), Json::Array(keys));
    body.insert("tags".to_string(), json!(strings(planned, "tags")));
    for name in ["ipv6", "monitoring", "backups"] {
        body.insert(name.to_string(), Json::Bool(flag(planned, name).unwrap_or(false)));
    }
    Json::Object(body)
}

/// Creates the Droplet and waits for it; `progress` hears of it as soon as it has an id,
/// so an interrupted wait does not lose it. A value DigitalOcean refuses is an error on
/// its attribute (see [`refused_value`]).
pub async fn create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> ProviderResult<Attributes> {
    let body = create_body(planned);
    let created = client.post("create the Droplet", "/v2/droplets", &body).await.map_err(refused_value)?;
    let droplet_id = created["droplet"]["id"].to_string();
    progress.exists(attributes_of(&created["droplet"], planned));
    let active = settle(client, &droplet_id, timeout(planned, "create", client.wait.timeout)).await?;
    Ok(attributes_of(&active, planned))
}

/// A value DigitalOcean refused (422) when creating or resizing a Droplet, as an error on
/// its attribute whose help names where the accepted values are listed, as the `linode`
/// provider does. DigitalOcean's error documents name no field, so the message tells
/// which ("You specified an invalid size for Droplet creation.").
fn refused_value(error: ApiError) -> ProviderError {
    let refused = if error.status == 422 { refused_attribute(&error.message) } else { None };
    let provider_error = ProviderError::from(error);
    match refused {
        Some((attribute, help)) => provider_error.on_attribute(attribute).with_help(help),
        None => provider_error,
    }
}

/// The attribute a refusal's message is about, and the help; the first word found wins
/// ("size ... not available in this region" is about the size).
fn refused_attribute(message: &str) -> Option<(&'static str, &'static str)> {
    const REFUSED: [(&str, &str, &str); 5] = [
        (
            "size",
            "size",
            "DigitalOcean has no such size, or not in this region: the `digitalocean.sizes` data source lists the \
             sizes' slugs (with `region`, those of one region)",
        ),
        (
            "image",
            "image",
            "DigitalOcean has no such image: the `digitalocean.image` data source finds one by `slug` (such as \
             `debian-12-x64`) or by `name`, and its `id` names it too",
        ),
        (
            "region",
            "region",
            "Droplets cannot be made in this region now: the `digitalocean.regions` data source lists those where \
             they can",
        ),
        ("ssh key", "ssh_keys", "name the account's keys by `digitalocean.ssh_key`'s `id` or `fingerprint`"),
        ("vpc", "vpc_uuid", "name a VPC of the Droplet's region by `digitalocean.vpc`'s `id`"),
    ];
    let message = message.to_lowercase();
    REFUSED.iter().find(|(word, _, _)| message.contains(word)).map(|(_, attribute, help)| (*attribute, *help))
}

/// Looks at the Droplet until its status is `active`, at growing intervals, up to the
/// client's timeout, or until the run is interrupted (an error saying what it was at the
/// last look; the Droplet was reported before, so the state keeps it).
async fn settle(client: &Client, droplet_id: &str, limit: std::time::Duration) -> ApiResult<Json> {
    let start = Instant::now();
    let mut interval = client.wait.interval;
    loop {
        let answer = client.get("read the Droplet", &path(droplet_id)).await?;
        let status = answer["droplet"]["status"].as_str().unwrap_or_default().to_string();
        if status == "active" {
            return Ok(answer["droplet"].clone());
        }
        if start.elapsed() >= limit {
            let operation = format!("wait for Droplet {droplet_id} to be `active`");
            let message = format!("it is still `{status}` after {} s", limit.as_secs_f64());
            return Err(ApiError::new(&operation, 408, message));
        }
        let pause = interval.min(limit.saturating_sub(start.elapsed()));
        let interrupted = |_| Interrupted::new(format!("Droplet {droplet_id} to be `active`"), format!("`{status}`"));
        client.stop.sleep(pause).await.map_err(interrupted)?;
        interval = (interval * 2).min(client.wait.max_interval);
    }
}

pub async fn read(client: &Client, current: &Attributes) -> ApiResult<Option<Attributes>> {
    let answer = client.find("read the Droplet", &path(&id(current))).await?;
    Ok(answer.map(|answer| attributes_of(&answer["droplet"], current)))
}

/// The first address of `version` (`v4` or `v6`) whose type is `kind`.
fn address(droplet: &Json, version: &str, kind: &str) -> Value {
    let networks = droplet["networks"][version].as_array().cloned().unwrap_or_default();
    let first = networks.iter().find(|n| n["type"] == kind).and_then(|n| n["ip_address"].as_str());
    first.map_or_else(Value::null, Value::string)
}

/// A Droplet as attributes, with the write-only settings taken from `current`.
pub fn attributes_of(droplet: &Json, current: &Attributes) -> Attributes {
    let features = json_strings(&droplet["features"]);
    let has = |feature: &str| Value::bool(features.iter().any(|f| f == feature));
    let droplet_id = droplet["id"].to_string();
    let mut attributes = Attributes::new();
    let mut put = |name: &str, value: Value| drop(attributes.insert(name.to_string(), value));
    put("id", Value::string(droplet_id.as_str()));
    put("name", from_json(&droplet["name"]));
    put("region", from_json(&droplet["region"]["slug"]));
    put("size", from_json(&droplet["size_slug"]));
    put("tags", unordered(json_strings(&droplet["tags"]), attribute(current, "tags")));
    put("vpc_uuid", from_json(&droplet["vpc_uuid"]));
    put("ipv6", has("ipv6"));
    put("monitoring", has("monitoring"));
    put("backups", has("backups"));
    put("ipv4_address", address(droplet, "v4", "public"));
    put("ipv4_address_private", address(droplet, "v4", "private"));
    put("ipv6_address", address(droplet, "v6", "public"));
    put("status", from_json(&droplet["status"]));
    put("urn", Value::string(format!("do:droplet:{droplet_id}")));
    for name in ["memory", "vcpus", "disk", "locked", "created_at"] {
        put(name, from_json(&droplet[name]));
    }
    for name in WRITE_ONLY {
        put(name, attribute(current, name).clone());
    }
    put("resize_disk", Value::bool(flag(current, "resize_disk").unwrap_or(true)));
    // The image it was created from, as configured; on import, as the API says.
    let image = attribute(current, "image");
    let reported = droplet["image"]["slug"].as_str().map_or_else(|| droplet["image"]["id"].to_string(), str::to_string);
    put("image", if image.is_null() { Value::string(reported) } else { image.clone() });
    attributes
}

/// Starts a Droplet action (`{"type": ...}`): what it does, and the action as
/// DigitalOcean answered, for [`Client::complete`].
async fn start(client: &Client, droplet_id: &str, body: Json) -> ApiResult<(String, Json)> {
    let operation = format!("run the Droplet action `{}`", body["type"].as_str().unwrap_or_default());
    let answer = client.post(&operation, &format!("{}/actions", path(droplet_id)), &body).await?;
    Ok((operation, answer["action"].clone()))
}

/// Runs a Droplet action and waits until it has completed, or until the run is
/// interrupted.
async fn act(client: &Client, droplet_id: &str, body: Json) -> ApiResult<()> {
    let (operation, action) = start(client, droplet_id, body).await?;
    client.complete(&operation, &action).await
}

/// [`act`], started and waited for in full even when the run is interrupted (see
/// [`resize`]): neither its retries nor its wait end early.
async fn act_in_full(client: &Client, droplet_id: &str, body: Json) -> ApiResult<()> {
    let client = &client.ignoring_stop();
    let (operation, action) = start(client, droplet_id, body).await?;
    client.complete(&operation, &action).await
}

/// Changes the Droplet in place: a new `size` first (see [`resize`]), then its name,
/// backups and tags. A refused resize is a diagnostic on `size`.
pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let droplet_id = id(prior);
    let changed = |name: &str| !attribute(prior, name).equals(attribute(planned, name));
    if let Some(size) = text(planned, "size").filter(|_| changed("size")) {
        let disk = flag(planned, "resize_disk").unwrap_or(true);
        resize(client, &droplet_id, &size, disk).await.map_err(|e| refused_value(e).on_attribute("size"))?;
    }
    if let Some(name) = text(planned, "name").filter(|_| changed("name")) {
        act(client, &droplet_id, json!({"type": "rename", "name": name})).await?;
    }
    if flag(planned, "ipv6") == Some(true) && changed("ipv6") {
        act(client, &droplet_id, json!({"type": "enable_ipv6"})).await?;
    }
    if let Some(backups) = flag(planned, "backups").filter(|_| changed("backups")) {
        let action = if backups { "enable_backups" } else { "disable_backups" };
        act(client, &droplet_id, json!({"type": action})).await?;
    }
    if changed("tags") {
        retag(client, "droplet", &droplet_id, &strings(prior, "tags"), &strings(planned, "tags")).await?;
    }
    Ok(found(read(client, planned).await?, "read the Droplet")?)
}

/// Resizes the Droplet as DigitalOcean requires and Terraform does it: power it off
/// (one already off is fine), resize (`disk` grows the disk too), power it on, each
/// action waited for. It is powered on again when the resize fails, so a refused size
/// does not leave it off.
///
/// These waits are not ended by an interruption (Ctrl-C), unlike every other wait of
/// the provider: DigitalOcean takes no `power_on` while the resize runs, so a resize
/// left behind would leave the Droplet off, down until someone powers it on. The
/// interrupted apply waits for the three actions (minutes at most) and records the
/// Droplet resized and running.
async fn resize(client: &Client, droplet_id: &str, size: &str, disk: bool) -> ApiResult<()> {
    match act_in_full(client, droplet_id, json!({"type": "power_off"})).await {
        Err(error) if error.status == 422 && error.message.contains("already powered off") => {}
        other => other?,
    }
    let resized = act_in_full(client, droplet_id, json!({"type": "resize", "size": size, "disk": disk})).await;
    let powered_on = act_in_full(client, droplet_id, json!({"type": "power_on"})).await;
    resized.and(powered_on)
}

/// What a plan says about a new `size` of a Droplet kept in place (`planned`'s id is
/// the prior's): its memory, CPUs and disk are unknown until the resize, and a size whose
/// disk is smaller than the Droplet's is refused, since a disk never shrinks (DigitalOcean
/// refuses it too). Sizes are known by [`SIZE_DISKS`]; any other is left to the API.
pub fn plan_resize(prior: &Attributes, planned: &mut Attributes) -> ProviderResult<()> {
    let in_place = known(planned, "id").is_some();
    let Some(size) = text(planned, "size").filter(|size| in_place && text(prior, "size").as_ref() != Some(size)) else {
        return Ok(());
    };
    let current_disk = known(prior, "disk").and_then(Value::as_number);
    let new_disk = SIZE_DISKS.iter().find(|(slug, _)| *slug == size).map(|(_, disk)| *disk);
    if let (Some(current_disk), Some(new_disk)) = (current_disk, new_disk) {
        if new_disk < current_disk {
            return Err(ProviderError::new(format!(
                "size `{size}` has a {new_disk} GB disk, smaller than the Droplet's {current_disk} GB"
            ))
            .on_attribute("size")
            .with_help(
                "a Droplet's disk never shrinks (a resize with `resize_disk = true`, the default, grew it for \
                 good): choose a size with a disk of at least that, or replace the Droplet",
            ));
        }
    }
    for name in ["memory", "vcpus", "disk"] {
        planned.insert(name.to_string(), Value::unknown(infra_compiler::types::Type::Number));
    }
    Ok(())
}

/// Whether the configured `image` names the prior Droplet's image in its other form (its
/// id where state has its slug, or the slug where state has the id): the same image, so
/// no change, as Terraform's provider suppresses that diff. The Droplet as DigitalOcean
/// has it says both; it is read only when the two texts differ. Another image, or a
/// Droplet that is gone, is not the same (the plan replaces it).
pub async fn same_image(client: &Client, prior: &Attributes, config: &Attributes) -> ApiResult<bool> {
    let (Some(before), Some(after)) = (text(prior, "image"), text(config, "image")) else { return Ok(false) };
    let droplet_id = id(prior);
    if before == after || droplet_id.is_empty() {
        return Ok(false);
    }
    let Some(answer) = client.find("read the Droplet", &path(&droplet_id)).await? else { return Ok(false) };
    let image = &answer["droplet"]["image"];
    let forms = [image["id"].to_string(), image["slug"].as_str().unwrap_or_default().to_string()];
    let names = |form: &str| !form.is_empty() && forms.iter().any(|f| f == form);
    Ok(names(&before) && names(&after))
}

/// Whether the plan turns IPv6 off, which DigitalOcean cannot do: it replaces the
/// Droplet, as Terraform's provider does.
pub fn disables_ipv6(prior: &Attributes, planned: &Attributes) -> bool {
    flag(prior, "ipv6") == Some(true) && flag(planned, "ipv6") != Some(true)
}

/// What a plan says about IPv6 turned on for a Droplet kept in place (`planned`'s id is
/// the prior's): its address is unknown until the action has run.
pub fn plan_ipv6(prior: &Attributes, planned: &mut Attributes) {
    let in_place = known(planned, "id").is_some();
    if in_place && flag(prior, "ipv6") != Some(true) && flag(planned, "ipv6") == Some(true) {
        planned.insert("ipv6_address".to_string(), Value::unknown(infra_compiler::types::Type::String));
    }
}

/// The disk, in GB, of DigitalOcean's Basic sizes (its published size list); the plan
/// refuses a resize it can tell would shrink the disk.
const SIZE_DISKS: [(&str, f64); 7] = [
    ("s-1vcpu-512mb-10gb", 10.0),
    ("s-1vcpu-1gb", 25.0),
    ("s-1vcpu-2gb", 50.0),
    ("s-2vcpu-2gb", 60.0),
    ("s-2vcpu-4gb", 80.0),
    ("s-4vcpu-8gb", 160.0),
    ("s-8vcpu-16gb", 320.0),
];

/// Tags a resource (`resource_type` is `droplet` or `volume`) with the tags in `after`
/// but not `before` (making each tag first) and untags it from those in `before` but not
/// `after`.
pub async fn retag(
    client: &Client,
    resource_type: &str,
    resource_id: &str,
    before: &[String],
    after: &[String],
) -> ApiResult<()> {
    let resources = json!({"resources": [{"resource_id": resource_id, "resource_type": resource_type}]});
    for tag in after.iter().filter(|t| !before.contains(t)) {
        client.post("create the tag", "/v2/tags", &json!({"name": tag})).await?;
        client.post(&format!("tag the {resource_type}"), &format!("/v2/tags/{tag}/resources"), &resources).await?;
    }
    for tag in before.iter().filter(|t| !after.contains(t)) {
        let operation = format!("untag the {resource_type}");
        match client.delete_with(&operation, &format!("/v2/tags/{tag}/resources"), &resources).await {
            Err(error) if error.is_not_found() => {}
            other => drop(other?),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_droplet_reads_as_its_attributes_keeping_the_write_only_ones() {
        let droplet = json!({
            "id": 42, "name": "web", "region": {"slug": "nyc3"}, "size_slug": "s-1vcpu-1gb",
            "image": {"id": 7, "slug": "debian-12-x64"}, "tags": ["b", "a"], "features": ["ipv6", "private_networking"],
            "networks": {"v4": [{"ip_address": "10.10.0.2", "type": "private"}, {"ip_address": "192.0.2.7", "type": "public"}],
                         "v6": [{"ip_address": "2001:db8::7", "type": "public"}]},
            "status": "active", "memory": 1024, "vcpus": 1, "disk": 25, "locked": false, "vpc_uuid": "v-1"
        });
        let current: Attributes = [
            ("id", Value::string("42")),
            ("user_data", Value::string("#cloud-config")),
            ("tags", Value::list(vec![Value::string("b"), Value::string("a")])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let attributes = attributes_of(&droplet, &current);
        assert_eq!(attributes["ipv4_address"], Value::string("192.0.2.7"));
        assert_eq!(attributes["ipv4_address_private"], Value::string("10.10.0.2"));
        assert_eq!(attributes["ipv6"], Value::bool(true));
        assert_eq!(attributes["backups"], Value::bool(false));
        assert_eq!(attributes["urn"], Value::string("do:droplet:42"));
        assert_eq!(attributes["image"], Value::string("debian-12-x64"));
        assert_eq!(attributes["user_data"], Value::string("#cloud-config"));
        assert_eq!(attributes["tags"], current["tags"]);
    }

    #[test]
    fn a_refusal_names_the_attribute_its_message_is_about() {
        let refused = |message: &str| refused_attribute(message).map(|(attribute, _)| attribute);
        assert_eq!(refused("You specified an invalid size for Droplet creation."), Some("size"));
        assert_eq!(refused("The size you picked is not available in this region."), Some("size"));
        assert_eq!(refused("You specified an invalid image for Droplet creation."), Some("image"));
        assert_eq!(refused("You specified an invalid region for Droplet creation."), Some("region"));
        assert_eq!(refused("77 is not a valid SSH key of this account."), Some("ssh_keys"));
        assert_eq!(refused("Name is invalid"), None);
        let error = refused_value(ApiError::new("create the Droplet", 422, "You specified an invalid size"));
        assert_eq!(error.attribute.as_deref(), Some("size"));
        assert!(error.help.as_deref().unwrap_or_default().contains("`digitalocean.sizes`"));
        let server = refused_value(ApiError::new("create the Droplet", 500, "size"));
        assert!(server.attribute.is_none(), "only a refusal (422) names an attribute");
    }

    #[test]
    fn numeric_images_and_keys_are_sent_as_numbers() {
        let planned: Attributes = [
            ("name", Value::string("web")),
            ("image", Value::string("12345")),
            ("ssh_keys", Value::list(vec![Value::string("77"), Value::string("aa:bb")])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let body = create_body(&planned);
        assert_eq!(body["image"], json!(12345));
        assert_eq!(body["ssh_keys"], json!([77, "aa:bb"]));
        assert_eq!(body["backups"], json!(false));
    }

    #[test]
    fn a_size_with_a_smaller_disk_is_refused_and_a_bigger_one_plans_unknown_sizes() {
        let prior: Attributes =
            [("id", Value::string("42")), ("size", Value::string("s-2vcpu-2gb")), ("disk", Value::number(60.0))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let with_size = |size: &str| {
            let mut planned = prior.clone();
            planned.insert("size".to_string(), Value::string(size));
            planned
        };
        let error = plan_resize(&prior, &mut with_size("s-1vcpu-1gb")).expect_err("a 25 GB size refused");
        assert_eq!(error.attribute.as_deref(), Some("size"));
        assert!(error.message.contains("25 GB disk, smaller than the Droplet's 60 GB"), "{}", error.message);
        let mut planned = with_size("s-2vcpu-4gb");
        plan_resize(&prior, &mut planned).expect("a bigger size");
        assert!(!planned["disk"].is_known());
        // A size Infra does not know is left to DigitalOcean; a replacement is no resize.
        plan_resize(&prior, &mut with_size("c-2")).expect("an unknown size");
        let mut replaced = with_size("s-1vcpu-1gb");
        replaced.insert("id".to_string(), Value::unknown(infra_compiler::types::Type::String));
        plan_resize(&prior, &mut replaced).expect("a replacement");
    }
}
