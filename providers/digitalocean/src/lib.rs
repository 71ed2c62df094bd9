//! The `digitalocean` provider: Droplets, SSH keys, domains and their records, and Cloud
//! Firewalls, VPCs, volumes, reserved IP addresses and their attachments, and the regions, sizes and images to choose from, over the DigitalOcean API v2 with a personal access token. Kinds and
//! attribute names follow Terraform's DigitalOcean provider (`digitalocean_droplet` is
//! `digitalocean.droplet`). docs/providers/digitalocean.md is the reference for users.

use std::sync::Arc;

use infra_compiler::schema::{ProviderSchema, Schema};
use infra_provider_kit::json::{from_json, read_back};
use infra_provider_kit::listed::ListedReads;
use infra_provider_kit::{attribute, known, plan_attributes, resource_schema, unknown_kind};
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;
use serde_json::Value as Json;

use self::client::{ApiError, ApiResult, Client, DEFAULT_API_URL};

pub mod client;
mod data;
mod domain;
mod droplet;
mod firewall;
mod reserved_ip;
mod schema;
mod ssh_key;
mod volume;
mod vpc;

pub use schema::schema;

/// The `digitalocean` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(DigitalOceanFactory { schema: schema() })
}

struct DigitalOceanFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for DigitalOceanFactory {
    fn name(&self) -> &str {
        "digitalocean"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let token = token(config, env).ok_or_else(|| {
            ProviderError::new("no DigitalOcean token set").on_attribute("token").with_help(
                "set `token` in `provider digitalocean`, or DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN), to a \
                 personal access token",
            )
        })?;
        let api_url =
            text(config, "api_url").or_else(|| env("DIGITALOCEAN_API_URL")).unwrap_or(DEFAULT_API_URL.to_string());
        let client = Client::new(&api_url, &token)?;
        Ok(Arc::new(DigitalOcean { schema: self.schema.clone(), client, listed: ListedReads::default() }))
    }
}

/// The token: the block's `token`, else DIGITALOCEAN_TOKEN, else
/// DIGITALOCEAN_ACCESS_TOKEN, in the order Terraform's provider reads them.
fn token(config: &Attributes, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    text(config, "token").or_else(|| env("DIGITALOCEAN_TOKEN")).or_else(|| env("DIGITALOCEAN_ACCESS_TOKEN"))
}

struct DigitalOcean {
    schema: ProviderSchema,
    client: Client,
    /// The kinds a plan reads many objects of, each read from one list (see
    /// [`DigitalOcean::expect_reads`]).
    listed: ListedReads,
}

/// A kind DigitalOcean lists: where (every page, see [`Client::list`]), the list's key
/// in the answer, and the field that is the state's id.
struct ListOf {
    path: &'static str,
    key: &'static str,
    id_field: &'static str,
}

/// The kinds DigitalOcean lists in one (paged) request. Records, attachments and
/// assignments are not: they are read through their zone, volume or address.
fn list_of(kind: &str) -> Option<ListOf> {
    let (path, key, id_field) = match kind {
        "droplet" => ("/v2/droplets", "droplets", "id"),
        "ssh_key" => ("/v2/account/keys", "ssh_keys", "id"),
        "domain" => ("/v2/domains", "domains", "name"),
        "volume" => ("/v2/volumes", "volumes", "id"),
        "firewall" => ("/v2/firewalls", "firewalls", "id"),
        "vpc" => ("/v2/vpcs", "vpcs", "id"),
        "reserved_ip" => ("/v2/reserved_ips", "reserved_ips", "ip"),
        _ => return None,
    };
    Some(ListOf { path, key, id_field })
}

#[async_trait::async_trait]
impl Provider for DigitalOcean {
    fn validate(&self, kind: &str, _config: &Attributes) -> Vec<ProviderError> {
        match resource_schema(&self.schema, kind) {
            Err(error) => vec![error],
            Ok(_) => Vec::new(),
        }
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let mut planned = plan_attributes(schema, prior, config, &defaults(kind));
        for block in &schema.blocks {
            let value = config.get(&block.name).filter(|v| !v.is_null()).cloned();
            planned.insert(block.name.clone(), value.unwrap_or_else(|| infra_provider_kit::absent_block(block)));
        }
        // A Droplet whose IPv6 is turned off is replaced (see `plan_replacing`): nothing
        // is resized, and the engine plans the new Droplet afresh.
        if let (Some(prior), "droplet") = (prior, kind) {
            if !droplet::disables_ipv6(prior, &planned) {
                droplet::plan_resize(prior, &mut planned)?;
                droplet::plan_ipv6(prior, &mut planned);
            }
        }
        Ok(planned)
    }

    /// A Droplet whose `ipv6` goes from true to false is replaced: DigitalOcean has an
    /// action that turns IPv6 on, none that turns it off.
    fn plan_replacing(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let planned = self.plan(kind, prior, config)?;
        let replacing = match (kind, prior) {
            ("droplet", Some(prior)) if droplet::disables_ipv6(prior, &planned) => vec!["ipv6".to_string()],
            _ => Vec::new(),
        };
        Ok((planned, replacing))
    }

    /// [`plan_replacing`](Provider::plan_replacing); a Droplet whose configured `image`
    /// names its image in the other form (id for slug, or slug for id) is planned with
    /// the form state has: the same image is no change (see [`droplet::same_image`],
    /// which reads the Droplet only when the two texts differ).
    async fn plan_async(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let Some(prior) = prior.filter(|_| kind == "droplet") else { return self.plan_replacing(kind, prior, config) };
        if !droplet::same_image(&self.client, prior, config).await? {
            return self.plan_replacing(kind, Some(prior), config);
        }
        let mut config = config.clone();
        config.insert("image".to_string(), attribute(prior, "image").clone());
        self.plan_replacing(kind, Some(prior), &config)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.create_reporting(kind, planned, &CreateProgress::ignored()).await
    }

    /// A Droplet is reported as soon as it has an id, before the wait for it to be
    /// `active`; a volume attachment and a reserved IP assignment as soon as their action
    /// is taken, before the wait for it to complete.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let client = &self.client;
        let created = match kind {
            "droplet" => return Ok(self.complete(kind, droplet::create(client, planned, progress).await?)),
            "ssh_key" => ssh_key::create(client, planned).await,
            "domain" => domain::domain_create(client, planned).await,
            "record" => domain::record_create(client, planned).await,
            "firewall" => firewall::create(client, planned).await,
            "vpc" => vpc::create(client, planned).await,
            "volume" => volume::create(client, planned).await,
            "volume_attachment" => volume::attach(client, planned, progress).await,
            "reserved_ip" => reserved_ip::create(client, planned).await,
            "reserved_ip_assignment" => reserved_ip::assign(client, planned, progress).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, created?))
    }

    /// Many objects of a kind that DigitalOcean lists are read from the list (one
    /// request a page of 200, not one per object); an object the list does not have is
    /// read by itself, which tells a new one from a deleted one.
    fn expect_reads(&self, kind: &str, count: usize) {
        if list_of(kind).is_some() {
            self.listed.expect(kind, count);
        }
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        if let Some(listed) = self.read_listed(kind, current).await {
            return Ok(ReadResult::Found(self.complete(kind, listed)));
        }
        let found = self.read_object(kind, current).await?;
        Ok(found.map_or(ReadResult::Gone, |attributes| ReadResult::Found(self.complete(kind, attributes))))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        self.listed.forget(kind);
        let client = &self.client;
        if kind == "droplet" {
            return Ok(self.complete(kind, droplet::update(client, prior, planned).await?));
        }
        let updated = match kind {
            "ssh_key" => ssh_key::update(client, planned).await,
            "domain" => found(domain::domain_read(client, planned).await?, "read the domain"),
            "record" => domain::record_update(client, planned).await,
            "firewall" => firewall::update(client, planned).await,
            "vpc" => vpc::update(client, planned).await,
            "volume" => volume::update(client, prior, planned).await,
            "volume_attachment" => found(volume::attachment_read(client, planned).await?, "read the attachment"),
            "reserved_ip" => found(reserved_ip::read(client, planned).await?, "read the reserved IP address"),
            "reserved_ip_assignment" => {
                found(reserved_ip::assignment_read(client, planned).await?, "read the reserved IP address")
            }
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, updated?))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        self.listed.forget(kind);
        let client = &self.client;
        let id = id(current);
        let deleted = match kind {
            "droplet" => client.delete("delete the Droplet", &format!("/v2/droplets/{id}")).await,
            "ssh_key" => client.delete("delete the SSH key", &format!("/v2/account/keys/{id}")).await,
            "domain" => client.delete("delete the domain", &format!("/v2/domains/{id}")).await,
            "record" => domain::record_delete(client, current).await,
            "firewall" => client.delete("delete the firewall", &format!("/v2/firewalls/{id}")).await,
            "vpc" => client.delete("delete the VPC", &format!("/v2/vpcs/{id}")).await,
            "volume" => client.delete("delete the volume", &format!("/v2/volumes/{id}")).await,
            "volume_attachment" => volume::detach(client, current).await,
            "reserved_ip" => client.delete("release the reserved IP address", &format!("/v2/reserved_ips/{id}")).await,
            "reserved_ip_assignment" => reserved_ip::unassign(client, current).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(deleted?)
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let Some(schema) = self.schema.data_sources.get(kind) else {
            return Err(ProviderError::new(format!("the `digitalocean` provider has no data source `{kind}`"))
                .with_help(
                    "its data sources are `digitalocean.image`, `digitalocean.regions` and `digitalocean.sizes`",
                ));
        };
        let result = match kind {
            "regions" => data::regions(&self.client, config).await?,
            "sizes" => data::sizes(&self.client, config).await?,
            _ => data::image(&self.client, config).await?,
        };
        Ok(complete(schema, result))
    }

    /// Ids are DigitalOcean's: numbers for Droplets, keys and records, a UUID for a
    /// firewall, a VPC or a volume, the name for a domain; a record's is `DOMAIN,ID`, a
    /// volume attachment's `DROPLET_ID,VOLUME_ID`. Write-only settings (a Droplet's
    /// `user_data`, `ssh_keys`) cannot be read back and are left null.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        resource_schema(&self.schema, kind)?;
        let seed = match kind {
            "record" => domain::record_seed(id)?,
            "volume_attachment" => volume::attachment_seed(id)?,
            "reserved_ip_assignment" => reserved_ip::assignment_seed(id)?,
            "droplet" | "ssh_key" => [("id".to_string(), Value::string(numeric_id(id)?))].into(),
            // A zone's id is its name in lower case, as DigitalOcean keeps it.
            "domain" => [("id".to_string(), Value::string(path_segment(&id.to_ascii_lowercase())?))].into(),
            _ => [("id".to_string(), Value::string(path_segment(id)?))].into(),
        };
        let Some(attributes) = self.read_object(kind, &seed).await? else {
            return Err(ProviderError::new(format!("there is no `digitalocean.{kind}` with id `{id}`"))
                .with_help("check the id and that the token's account owns the object"));
        };
        Ok(self.complete(kind, attributes))
    }

    /// Ends the waits in flight (a Droplet polled until `active`, an action until it
    /// completes) at once, as errors; a new object is reported before its wait, so none
    /// is lost.
    fn stop(&self) {
        self.client.stop.stop();
    }
}

impl DigitalOcean {
    /// The object as the kind's list has it, when the plan reads this kind from its
    /// list and the list has the object.
    async fn read_listed(&self, kind: &str, current: &Attributes) -> Option<Attributes> {
        let ListOf { path, key, id_field } = list_of(kind)?;
        let operation = format!("list the {key}");
        let fetch = || self.client.list(&operation, path, key);
        let item = self.listed.item(kind, id_field, &id(current), fetch).await?;
        Some(match kind {
            "droplet" => droplet::attributes_of(&item, current),
            "ssh_key" => ssh_key::attributes_of(&item, current),
            "domain" => domain::domain_attributes(&item, current),
            "volume" => volume::attributes_of(&item, current),
            "firewall" => firewall::attributes_of(&item, current),
            "vpc" => vpc::attributes_of(&item, current),
            _ => reserved_ip::attributes_of(&item),
        })
    }

    async fn read_object(&self, kind: &str, current: &Attributes) -> ProviderResult<Option<Attributes>> {
        let client = &self.client;
        let found = match kind {
            "droplet" => droplet::read(client, current).await,
            "ssh_key" => ssh_key::read(client, current).await,
            "domain" => domain::domain_read(client, current).await,
            "record" => domain::record_read(client, current).await,
            "firewall" => firewall::read(client, current).await,
            "vpc" => vpc::read(client, current).await,
            "volume" => volume::read(client, current).await,
            "volume_attachment" => volume::attachment_read(client, current).await,
            "reserved_ip" => reserved_ip::read(client, current).await,
            "reserved_ip_assignment" => reserved_ip::assignment_read(client, current).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(found?)
    }

    fn complete(&self, kind: &str, attributes: Attributes) -> Attributes {
        match self.schema.resources.get(kind) {
            Some(schema) => complete(schema, attributes),
            None => attributes,
        }
    }
}

/// The defaults filled in when the configuration leaves an attribute out, as the plan
/// shows them.
fn defaults(kind: &str) -> Vec<(&'static str, Value)> {
    match kind {
        "droplet" => {
            let mut defaults = ["ipv6", "monitoring", "backups"].map(|name| (name, Value::bool(false))).to_vec();
            defaults.push(("resize_disk", Value::bool(true)));
            defaults
        }
        _ => Vec::new(),
    }
}

/// Every attribute of the schema present (null when DigitalOcean has nothing for it),
/// every repeated block a list, and nothing the schema does not know.
fn complete(schema: &Schema, mut attributes: Attributes) -> Attributes {
    let mut result = Attributes::new();
    for a in &schema.attributes {
        result.insert(a.name.clone(), attributes.remove(&a.name).unwrap_or_else(Value::null));
    }
    for block in &schema.blocks {
        let value = attributes.remove(&block.name).filter(|v| !v.is_null());
        result.insert(block.name.clone(), value.unwrap_or_else(|| infra_provider_kit::absent_block(block)));
    }
    result
}

/// An id of digits only, so nothing else reaches the URL.
fn numeric_id(id: &str) -> ProviderResult<String> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(id.to_string());
    }
    Err(ProviderError::new(format!("`{id}` is not a DigitalOcean id"))
        .with_help("this kind takes a number such as `12345`"))
}

/// An id put in a path as one segment: a UUID or a domain name, never `/` or `..`.
fn path_segment(id: &str) -> ProviderResult<String> {
    let plain = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !id.is_empty() && plain && !id.contains("..") {
        return Ok(id.to_string());
    }
    Err(ProviderError::new(format!("`{id}` is not a DigitalOcean id"))
        .with_help("this kind takes a UUID or a domain name such as `example.org`"))
}

/// An object that was just written but cannot be read back is an error, not a success
/// with nothing in it.
fn found(attributes: Option<Attributes>, operation: &str) -> ApiResult<Attributes> {
    attributes.ok_or_else(|| ApiError::vanished(operation))
}

// --- values ---------------------------------------------------------------------------

/// The object's id as the state keeps it.
fn id(attributes: &Attributes) -> String {
    text(attributes, "id").unwrap_or_default()
}

/// A string attribute, when it is set, known and not empty.
fn text(attributes: &Attributes, name: &str) -> Option<String> {
    known(attributes, name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn flag(attributes: &Attributes, name: &str) -> Option<bool> {
    known(attributes, name).and_then(Value::as_bool)
}

/// A list or set of strings; empty when it is not set.
fn strings(attributes: &Attributes, name: &str) -> Vec<String> {
    let items = known(attributes, name).and_then(Value::as_list).unwrap_or_default();
    items.iter().filter_map(Value::as_str).map(str::to_string).collect()
}

/// A string id (`"123"`) as the JSON number the API takes.
fn id_number(id: &str) -> Json {
    id.parse::<u64>().map_or_else(|_| Json::String(id.to_string()), Json::from)
}

/// A JSON id (a number or a string) as the string the state keeps.
fn id_text(value: &Json) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

/// Settings read from `document` (`name` in both), each through [`read_back`].
fn read_fields(document: &Json, current: &Attributes, names: &[&str]) -> Attributes {
    names
        .iter()
        .map(|name| (name.to_string(), read_back(from_json(&document[*name]), attribute(current, name))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_block_then_digitalocean_token_then_digitalocean_access_token() {
        let env = |names: &'static [(&'static str, &'static str)]| {
            move |name: &str| names.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let both = env(&[("DIGITALOCEAN_TOKEN", "from-token"), ("DIGITALOCEAN_ACCESS_TOKEN", "from-access")]);
        let access = env(&[("DIGITALOCEAN_ACCESS_TOKEN", "from-access")]);
        let block: Attributes = [("token".to_string(), Value::string("from-block"))].into();
        assert_eq!(token(&block, both).as_deref(), Some("from-block"));
        assert_eq!(token(&Attributes::new(), both).as_deref(), Some("from-token"));
        assert_eq!(token(&Attributes::new(), access).as_deref(), Some("from-access"));
        assert_eq!(token(&Attributes::new(), env(&[])), None);
    }
}
