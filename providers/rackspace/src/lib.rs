//! The `rackspace` provider: Cloud Servers (servers and key pairs) over the OpenStack
//! APIs as Rackspace runs them, identity v2.0 and Nova. Kinds and attribute names follow
//! Terraform's Rackspace and OpenStack providers (`rackspace_compute_instance` is
//! `rackspace.compute_instance`). docs/providers/rackspace.md is the reference for users.

use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::listed::ListedReads;
use infra_provider_kit::{
    absent_block, attribute, kind, known, plan_attributes, resource_schema, timeouts_block, unknown_kind,
};
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;

use self::client::{Client, Settings};

pub mod client;
pub mod compute;
mod identity;

/// Rackspace's public cloud regions.
pub const REGIONS: &[&str] = &["DFW", "HKG", "IAD", "LON", "ORD", "SYD"];

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

fn compute_instance() -> Schema {
    let mut schema = kind(
        "A Cloud Server. Created when it is `ACTIVE`; deleted when Nova no longer finds it.",
        "The server's id.",
        vec![
            required("name", "The server's name; changed in place.").validate(length(1, 255)),
            required("flavor_id", "The size, such as `general1-1` (`2` in Mimic); a new size replaces the server.")
                .force_new(),
            required("image_id", "The image to boot, by id; a new image replaces the server.").force_new(),
            string("key_pair", "The `rackspace.compute_keypair` (by name) for root's SSH login.")
                .force_new()
                .validate(length(1, 255)),
            // Nova never reports `user_data` nor `networks`: an imported server has them
            // null, and setting them then is an update in place that records them (only a
            // change from one value to another replaces the server), as the `linode` and
            // `digitalocean` providers do with their write-only settings.
            string("user_data", "A cloud-init document or script for the first boot; at most 64 KiB; never read back.")
                .force_new_only_if_set()
                .validate(length(0, 64 * 1024)),
            AttributeSchema::optional(
                "metadata",
                Type::map(Type::String),
                "Key-value metadata, at most 40 pairs; changed in place.",
            )
            .validate(length(0, 40)),
            AttributeSchema::optional(
                "networks",
                Type::list(Type::String),
                "The networks by UUID: PublicNet is `00000000-0000-0000-0000-000000000000`, ServiceNet \
                 `11111111-1111-1111-1111-111111111111`. Both when left out; never read back.",
            )
            .force_new_only_if_set()
            .validate(Validator::Regex {
                pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$".to_string(),
                description: "a network UUID such as `00000000-0000-0000-0000-000000000000`".to_string(),
            }),
            computed("access_ip_v4", "The public IPv4 address."),
            computed("access_ip_v6", "The public IPv6 address."),
            computed("status", "The server's status, `ACTIVE` once created."),
            // The replacement of a server in ERROR is planned as a change of `fault`: the
            // engine counts only changes of settable attributes and of those that correct
            // drift, and names the attributes that force a replacement.
            computed(
                "fault",
                "Nova's fault message when the server is in `ERROR`, which the next plan replaces it for; else null.",
            )
            .corrects_drift(),
            computed("admin_pass", "The root password Nova generated at creation; kept in the state, never shown.")
                .sensitive(),
        ],
    );
    schema.blocks = vec![timeouts_block(
        "How long to wait for the server.",
        &[("create", "How long a create waits for the server to be `ACTIVE`, such as \"15m\"; 30 minutes by default.")],
    )];
    schema
}

fn compute_keypair() -> Schema {
    kind(
        "An SSH public key registered with Nova, for servers' `key_pair`.",
        "The key pair's name.",
        vec![
            required("name", "The name servers refer to.").force_new().validate(length(1, 255)),
            required("public_key", "The public key in OpenSSH format, such as `tls.private_key`'s.").force_new(),
            computed("fingerprint", "The key's fingerprint as Nova computes it."),
        ],
    )
}

pub fn schema() -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    // Either case, as `OS_REGION_NAME` is taken: the client writes it in capitals, as
    // the catalog does.
    let regions = Validator::Regex {
        pattern: format!("^(?i:{})$", REGIONS.join("|")),
        description: format!(
            "one of Rackspace's regions, {} (in either case)",
            REGIONS.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    let config = Schema {
        description: "Where and as whom to call Rackspace; every setting falls back to its OS_* variable.".to_string(),
        attributes: vec![
            string("auth_url", "The identity v2.0 URL; else OS_AUTH_URL, else Rackspace's."),
            string("username", "The user; else OS_USERNAME."),
            string("password", "The password; else OS_PASSWORD. Wins over `api_key` when both are set.").sensitive(),
            string("api_key", "The API key; else OS_API_KEY.").sensitive(),
            string("tenant_name", "The tenant (account); else OS_TENANT_NAME, else the user's."),
            string("region", "The region, such as `ORD` (either case); else OS_REGION_NAME, else the user's default.")
                .validate(regions),
            string(
                "api_url",
                "The compute (Nova) endpoint, used instead of the catalog's; else OS_ENDPOINT_OVERRIDE, as \
                 python-novaclient reads it.",
            ),
        ],
        blocks: Vec::new(),
    };
    ProviderSchema {
        name: "rackspace".to_string(),
        description: "Rackspace Cloud Servers over the OpenStack APIs (identity v2.0, Nova).".to_string(),
        config,
        resources: by_name(vec![("compute_instance", compute_instance()), ("compute_keypair", compute_keypair())]),
        data_sources: by_name(Vec::new()),
    }
}

/// The `rackspace` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(RackspaceFactory { schema: schema() })
}

struct RackspaceFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for RackspaceFactory {
    fn name(&self) -> &str {
        "rackspace"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let settings = Settings {
            auth_url: text(config, "auth_url"),
            username: text(config, "username"),
            password: text(config, "password"),
            api_key: text(config, "api_key"),
            tenant_name: text(config, "tenant_name"),
            region: text(config, "region"),
            api_url: text(config, "api_url"),
            environment: std::env::vars().collect(),
        };
        Ok(Arc::new(Rackspace::new(&settings)?))
    }
}

/// A configured `rackspace` provider; its client is public for tests that tune waits.
pub struct Rackspace {
    schema: ProviderSchema,
    pub client: Client,
    /// The kinds a plan reads many objects of, each read from one list (see
    /// [`Rackspace::expect_reads`]).
    listed: ListedReads,
}

/// The kinds Nova lists: servers (`servers/detail`, every page) and key pairs
/// (`os-keypairs`).
const LISTED_KINDS: [&str; 2] = ["compute_instance", "compute_keypair"];

impl Rackspace {
    /// A provider for `settings`, as `configure` makes it.
    pub fn new(settings: &Settings) -> ProviderResult<Rackspace> {
        Ok(Rackspace { schema: schema(), client: Client::new(settings)?, listed: ListedReads::default() })
    }

    /// The object as the kind's list has it, when the plan reads this kind from its list
    /// and the list has the object.
    async fn read_listed(&self, kind: &str, current: &Attributes) -> Option<Attributes> {
        let id = text(current, "id").unwrap_or_default();
        match kind {
            "compute_instance" => {
                let fetch = || compute::servers(&self.client, self.client.page_size);
                let server = self.listed.item(kind, "id", &id, fetch).await?;
                compute::server_listed(&server, current)
            }
            "compute_keypair" => {
                // A key pair's id is its name.
                let keypair = self.listed.item(kind, "name", &id, || compute::keypairs(&self.client)).await?;
                Some(compute::keypair_attributes(&keypair, current))
            }
            _ => None,
        }
    }

    async fn read_object(&self, kind: &str, current: &Attributes) -> ProviderResult<Option<Attributes>> {
        let found = match kind {
            "compute_instance" => compute::server_read(&self.client, current).await?,
            "compute_keypair" => compute::keypair_read(&self.client, current).await?,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(found.map(|attributes| self.complete(kind, attributes)))
    }

    /// Every attribute and block of the schema present (null when there is nothing for
    /// it), and nothing the schema does not know.
    fn complete(&self, kind: &str, mut attributes: Attributes) -> Attributes {
        let Some(schema) = self.schema.resources.get(kind) else { return attributes };
        let mut complete: Attributes = schema
            .attributes
            .iter()
            .map(|a| (a.name.clone(), attributes.remove(&a.name).unwrap_or_else(Value::null)))
            .collect();
        for block in &schema.blocks {
            let value = attributes.remove(&block.name).filter(|v| !v.is_null());
            complete.insert(block.name.clone(), value.unwrap_or_else(|| absent_block(block)));
        }
        complete
    }
}

#[async_trait::async_trait]
impl Provider for Rackspace {
    fn validate(&self, kind: &str, _config: &Attributes) -> Vec<ProviderError> {
        resource_schema(&self.schema, kind).err().into_iter().collect()
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let mut planned = plan_attributes(schema, prior, config, &[]);
        for block in &schema.blocks {
            let value = config.get(&block.name).filter(|v| !v.is_null()).cloned();
            planned.insert(block.name.clone(), value.unwrap_or_else(|| absent_block(block)));
        }
        Ok(planned)
    }

    /// A server Nova has in `ERROR` (one whose build failed, kept in the state by the
    /// create that reported it) is replaced: its `fault` is planned anew and forces it.
    fn plan_replacing(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let mut planned = self.plan(kind, prior, config)?;
        if kind != "compute_instance" || !prior.is_some_and(compute::failed) {
            return Ok((planned, Vec::new()));
        }
        planned.insert("fault", Value::unknown(Type::String));
        Ok((planned, vec!["fault".to_string()]))
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.create_reporting(kind, planned, &CreateProgress::ignored()).await
    }

    /// A server is reported as soon as Nova answers the `POST` with its id, before the
    /// wait for it to be `ACTIVE`.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let created = match kind {
            "compute_instance" => compute::server_create(&self.client, planned, progress).await?,
            "compute_keypair" => compute::keypair_create(&self.client, planned).await?,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, created))
    }

    /// Many servers or key pairs are read from their list (`servers/detail`,
    /// `os-keypairs`: one request a page, not one per object); an object the list does
    /// not have is read by itself, which tells a new one from a deleted one.
    fn expect_reads(&self, kind: &str, count: usize) {
        if LISTED_KINDS.contains(&kind) {
            self.listed.expect(kind, count);
        }
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        if let Some(listed) = self.read_listed(kind, current).await {
            return Ok(ReadResult::Found(self.complete(kind, listed)));
        }
        let found = self.read_object(kind, current).await?;
        Ok(found.map_or(ReadResult::Gone, ReadResult::Found))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        self.listed.forget(kind);
        let updated = match kind {
            "compute_instance" => compute::server_update(&self.client, prior, planned).await?,
            // Every setting of a key pair forces a new one.
            "compute_keypair" => planned.clone(),
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self
            .complete(kind, infra_provider_kit::keep_computed(resource_schema(&self.schema, kind)?, prior, &updated)))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        self.listed.forget(kind);
        match kind {
            "compute_instance" => compute::server_delete(&self.client, current).await,
            "compute_keypair" => compute::keypair_delete(&self.client, current).await,
            _ => Err(unknown_kind(&self.schema, kind)),
        }
    }

    /// A server is imported by its id, a key pair by its name. Nova does not report a
    /// server's `user_data`, `networks` or `admin_pass`: they are left null (and setting
    /// `user_data` or `networks` afterwards is an update that records them).
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let name = if kind == "compute_keypair" { "name" } else { "id" };
        let seed: Attributes = [(name.to_string(), Value::string(id))].into_iter().collect();
        self.read_object(kind, &seed).await?.ok_or_else(|| {
            ProviderError::new(format!("there is no `rackspace.{kind}` with id `{id}`"))
                .with_help("check the id and the region the provider is configured for")
        })
    }

    /// Ends the waits in flight (a server polled until `ACTIVE` or gone) at once, as
    /// errors; a new server is reported before its wait, so none is lost.
    fn stop(&self) {
        self.client.stop.stop();
    }
}

// --- values ---------------------------------------------------------------------------

/// A string attribute, when it is set, known and not empty.
fn text(attributes: &Attributes, name: &str) -> Option<String> {
    known(attributes, name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A list of strings; empty when it is not set.
fn strings(attributes: &Attributes, name: &str) -> Vec<String> {
    let items = attribute(attributes, name).as_list().unwrap_or_default();
    items.iter().filter_map(Value::as_str).map(str::to_string).collect()
}
