//! The `linode` provider: instances, SSH keys, domains and their records, cloud
//! firewalls, volumes and StackScripts, over the Linode API v4 with a personal access token. Kinds and attribute
//! names follow Terraform's Linode provider (`linode_instance` is `linode.instance`).
//! docs/providers/linode.md is the reference for users.

use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;
use serde_json::Value as Json;

use infra_provider_kit::json::{from_json, json_strings, read_back, to_json, unordered};
use infra_provider_kit::listed::ListedReads;
use infra_provider_kit::{absent_block, attribute, known, plan_attributes, resource_schema, unknown_kind};

use self::client::{Client, LinodeResult, DEFAULT_API_URL};

pub mod client;
mod data;
mod domain;
mod firewall;
mod instance;
mod schema;
mod sshkey;
mod stackscript;
mod volume;

pub use schema::schema;

/// The `linode` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(LinodeFactory { schema: schema() })
}

struct LinodeFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for LinodeFactory {
    fn name(&self) -> &str {
        "linode"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let token = text(config, "token").or_else(|| env("LINODE_TOKEN")).ok_or_else(|| {
            ProviderError::new("no Linode token set")
                .on_attribute("token")
                .with_help("set `token` in `provider linode`, or LINODE_TOKEN, to a personal access token")
        })?;
        let api_url = text(config, "api_url").or_else(|| env("LINODE_URL")).unwrap_or(DEFAULT_API_URL.to_string());
        let client = Client::new(&api_url, &token)?;
        Ok(Arc::new(Linode { schema: self.schema.clone(), client, listed: ListedReads::default() }))
    }
}

struct Linode {
    schema: ProviderSchema,
    client: Client,
    /// The kinds a plan reads many objects of, each read from one list (see
    /// [`Linode::expect_reads`]).
    listed: ListedReads,
}

/// The kinds Linode lists in one (paged) request, and where.
fn list_path(kind: &str) -> Option<&'static str> {
    match kind {
        "instance" => Some("/linode/instances"),
        "sshkey" => Some("/profile/sshkeys"),
        "domain" => Some("/domains"),
        "volume" => Some("/volumes"),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Provider for Linode {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        if let Err(error) = resource_schema(&self.schema, kind) {
            return vec![error];
        }
        let mut errors = Vec::new();
        if kind == "instance" && known(config, "image").is_some() {
            let secret = ["root_pass", "authorized_keys"].iter().any(|name| !attribute(config, name).is_null());
            if !secret {
                errors.push(
                    ProviderError::new("an instance with an `image` needs `root_pass` or `authorized_keys`")
                        .on_attribute("image")
                        .with_help("Linode refuses to deploy an image without a way to log in"),
                );
            }
        }
        if kind == "domain" {
            errors.extend(domain::validate(config));
        }
        errors
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        let schema = resource_schema(&self.schema, kind)?;
        let mut planned = plan_attributes(schema, prior, config, &defaults(kind));
        for block in &schema.blocks {
            let value = config.get(&block.name).filter(|v| !v.is_null()).cloned();
            planned.insert(block.name.clone(), value.unwrap_or_else(|| absent_block(block)));
        }
        match (prior, kind) {
            (Some(prior), "instance") => instance::plan_resize(prior, &mut planned),
            (Some(prior), "stackscript") => stackscript::plan_public(prior, &mut planned)?,
            _ => {}
        }
        Ok(planned)
    }

    /// An instance recorded when `stackscript_id` was a number holds it as one; it is a
    /// string now (an id, as `linode.stackscript`'s `id`), and the same id in the other
    /// form must not replace the Linode.
    async fn upgrade(&self, kind: &str, stored: &Attributes) -> ProviderResult<Option<Attributes>> {
        Ok(match kind {
            "instance" => instance::upgrade(stored),
            _ => None,
        })
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.create_reporting(kind, planned, &CreateProgress::ignored()).await
    }

    /// An instance or a volume is reported as soon as Linode gives it an id, before the
    /// wait for it to run or to be `active`; a firewall before the request that disables
    /// it and the reads of it and its devices.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let client = &self.client;
        let created = match kind {
            "instance" => instance::create(client, planned, progress).await,
            "sshkey" => sshkey::create(client, planned).await,
            "domain" => domain::domain_create(client, planned).await,
            "domain_record" => domain::record_create(client, planned).await,
            "firewall" => firewall::create(client, planned, progress).await,
            "volume" => volume::create(client, planned, progress).await,
            "stackscript" => stackscript::create(client, planned).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, created?))
    }

    /// Many objects of a kind that Linode lists are read from the list (one request a
    /// page, not one per object); an object the list does not have is read by itself,
    /// which tells a new one from a deleted one.
    fn expect_reads(&self, kind: &str, count: usize) {
        if list_path(kind).is_some() {
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
        self.changed(kind);
        let client = &self.client;
        let updated = match kind {
            "instance" => instance::update(client, prior, planned).await,
            "sshkey" => sshkey::update(client, planned).await,
            "domain" => domain::domain_update(client, prior, planned).await,
            "domain_record" => domain::record_update(client, prior, planned).await,
            "firewall" => firewall::update(client, prior, planned).await,
            "volume" => volume::update(client, prior, planned).await,
            "stackscript" => stackscript::update(client, prior, planned).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, updated?))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        self.changed(kind);
        let client = &self.client;
        let id = id(current);
        let deleted = match kind {
            "instance" => client.delete("delete the instance", &format!("/linode/instances/{id}")).await,
            "sshkey" => client.delete("delete the SSH key", &format!("/profile/sshkeys/{id}")).await,
            "domain" => client.delete("delete the domain", &format!("/domains/{id}")).await,
            "domain_record" => domain::record_delete(client, current).await,
            "firewall" => client.delete("delete the firewall", &format!("/networking/firewalls/{id}")).await,
            "volume" => volume::delete(client, current).await,
            "stackscript" => client.delete("delete the StackScript", &format!("/linode/stackscripts/{id}")).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(deleted?)
    }

    /// Ids are Linode's numbers; a record's is `DOMAIN_ID,RECORD_ID`, as in Terraform.
    /// Write-only settings (an instance's `root_pass`, `authorized_keys`...) cannot be
    /// read back and are left null.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        resource_schema(&self.schema, kind)?;
        let seed = match kind {
            "domain_record" => domain::record_seed(id)?,
            _ => [("id".to_string(), Value::string(numeric_id(id, "a number such as `12345`")?))].into(),
        };
        let Some(attributes) = self.read_object(kind, &seed).await? else {
            return Err(ProviderError::new(format!("there is no `linode.{kind}` with id `{id}`"))
                .with_help("check the id and that the token's account owns the object"));
        };
        Ok(self.complete(kind, attributes))
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let attributes = data::read(&self.client, kind, config).await?;
        Ok(match self.schema.data_sources.get(kind) {
            Some(schema) => complete(schema, attributes),
            None => attributes,
        })
    }

    /// Ends the waits in flight (an instance polled until it runs, a volume until it is
    /// `active`) at once, as errors; a new object is reported before its wait, so none is
    /// lost.
    fn stop(&self) {
        self.client.stop.stop();
    }
}

impl Linode {
    /// The object as the kind's list has it, when the plan reads this kind from its
    /// list and the list has the object.
    async fn read_listed(&self, kind: &str, current: &Attributes) -> Option<Attributes> {
        let path = list_path(kind)?;
        let operation = format!("list the {}", plural(kind));
        let item = self.listed.item(kind, "id", &id(current), || self.client.list(&operation, path)).await?;
        Some(match kind {
            "instance" => instance::attributes_of(&item, current),
            "sshkey" => sshkey::attributes_of(&item, current),
            "domain" => domain::domain_attributes(&item, current),
            _ => volume::attributes_of(&item, current),
        })
    }

    /// Forgets the list of a kind that was just changed.
    fn changed(&self, kind: &str) {
        self.listed.forget(kind);
    }

    async fn read_object(&self, kind: &str, current: &Attributes) -> ProviderResult<Option<Attributes>> {
        let client = &self.client;
        let found = match kind {
            "instance" => instance::read(client, current).await,
            "sshkey" => sshkey::read(client, current).await,
            "domain" => domain::domain_read(client, current).await,
            "domain_record" => domain::record_read(client, current).await,
            "firewall" => firewall::read(client, current).await,
            "volume" => volume::read(client, current).await,
            "stackscript" => stackscript::read(client, current).await,
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

/// A listed kind's objects in messages ("list the SSH keys").
fn plural(kind: &str) -> &str {
    match kind {
        "instance" => "instances",
        "sshkey" => "SSH keys",
        "domain" => "domains",
        _ => "volumes",
    }
}

/// The defaults filled in when the configuration leaves an attribute out, as the plan
/// shows them.
fn defaults(kind: &str) -> Vec<(&'static str, Value)> {
    match kind {
        "firewall" => vec![("disabled", Value::bool(false))],
        "domain" => vec![("status", Value::string("active"))],
        _ => Vec::new(),
    }
}

/// Every attribute of the schema present (null when Linode has nothing for it), every
/// repeated block a list, and nothing the schema does not know.
fn complete(schema: &Schema, mut attributes: Attributes) -> Attributes {
    let mut result = Attributes::new();
    for a in &schema.attributes {
        result.insert(a.name.clone(), attributes.remove(&a.name).unwrap_or_else(Value::null));
    }
    for block in &schema.blocks {
        let value = attributes.remove(&block.name).filter(|v| !v.is_null());
        result.insert(block.name.clone(), value.unwrap_or_else(|| absent_block(block)));
    }
    result
}

/// An id the API puts in a path: digits only, so nothing else reaches the URL.
fn numeric_id(id: &str, form: &str) -> ProviderResult<String> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(id.to_string());
    }
    Err(ProviderError::new(format!("`{id}` is not a Linode id")).with_help(format!("this kind takes {form}")))
}

/// An object that was just written but cannot be read back is an error, not a success
/// with nothing in it.
fn found(attributes: Option<Attributes>, operation: &str) -> LinodeResult<Attributes> {
    attributes.ok_or_else(|| client::LinodeError::vanished(operation))
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

fn number(attributes: &Attributes, name: &str) -> Option<f64> {
    known(attributes, name).and_then(Value::as_number)
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

/// Settings read from `document` (`name` in both), each through [`read_back`].
fn read_fields(document: &Json, current: &Attributes, names: &[&str]) -> Attributes {
    names
        .iter()
        .map(|name| (name.to_string(), read_back(from_json(&document[*name]), attribute(current, name))))
        .collect()
}

/// The JSON body of the settings `names` that are set.
fn body_of(attributes: &Attributes, names: &[&str]) -> serde_json::Map<String, Json> {
    let mut body = serde_json::Map::new();
    for name in names {
        let value = attribute(attributes, name);
        if value.is_null() || !value.is_known() {
            continue;
        }
        body.insert(name.to_string(), to_json(value));
    }
    body
}

/// What clears each of the settings `clears` names that `prior` has and `planned` no
/// longer does: leaving a field out of an update leaves it as it is at Linode, so a
/// removed setting is sent as the API's "none" for it (`clears` gives it per field).
fn cleared(prior: &Attributes, planned: &Attributes, clears: &[(&str, Json)]) -> serde_json::Map<String, Json> {
    clears
        .iter()
        .filter(|(name, _)| !attribute(prior, name).is_null() && attribute(planned, name).is_null())
        .map(|(name, clear)| (name.to_string(), clear.clone()))
        .collect()
}

// Schema helpers shared by the kinds' modules.

fn one_of(values: &[&str]) -> Validator {
    Validator::OneOf(values.iter().map(|v| v.to_string()).collect())
}

fn length(min: usize, max: usize) -> Validator {
    Validator::Length { min, max: Some(max) }
}

fn string(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::String, description)
}

fn required(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::required(name, Type::String, description)
}

fn computed(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::computed(name, Type::String, description)
}

fn tags_attribute() -> AttributeSchema {
    AttributeSchema::optional("tags", Type::list(Type::String), "Tags on the object, in any order; changed in place.")
        .compared(Comparison::Set)
        .validate(Validator::Regex { pattern: "^.{3,50}$".to_string(), description: "3 to 50 characters".to_string() })
}

fn repeated(name: &str, description: &str, attributes: Vec<AttributeSchema>) -> BlockSchema {
    BlockSchema {
        name: name.to_string(),
        description: description.to_string(),
        schema: Schema { description: description.to_string(), attributes, blocks: Vec::new() },
        repeated: true,
        compare: Comparison::Exact,
    }
}
