//! The `aws` provider: VPC networking, instances, elastic IPs, key pairs, S3 and Route 53,
//! over the AWS APIs themselves (EC2 Query, S3 REST, Route 53 REST), signed with SigV4.
//! Kinds and attribute names follow Terraform's AWS provider (`aws_instance` is
//! `aws.instance`). docs/providers/aws.md is the reference for users.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;

use infra_provider_kit::{attribute, kind, known, plan_attributes, resource_schema, unknown_kind};

use self::client::{AwsResult, Client, Settings};

pub mod client;
mod ec2;
mod instance;
mod instance_types;
mod route53;
mod s3;

/// Why a key cannot name an S3 object (`.` and `..` segments), also for the S3 state
/// backend.
pub use s3::key_problem;
mod security_group;
pub mod xml;

fn tags_attribute() -> AttributeSchema {
    AttributeSchema::optional("tags", Type::map(Type::String), "Tags on the object; changed in place.")
        .validate(Validator::Length { min: 0, max: Some(50) })
}

/// An IPv4 block of a VPC or subnet: AWS takes /16 to /28.
const NETWORK_BLOCK: Validator = Validator::Ipv4Cidr { min_prefix: 16, max_prefix: 28 };
/// Any IPv4 block, as routes and rules take.
const IPV4_BLOCK: Validator = Validator::Ipv4Cidr { min_prefix: 0, max_prefix: 32 };

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

fn with_blocks(mut schema: Schema, blocks: Vec<BlockSchema>) -> Schema {
    schema.blocks = blocks;
    schema
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

fn filter_block() -> BlockSchema {
    repeated(
        "filter",
        "An EC2 API filter: `name` is the filter's name, `values` the values it accepts.",
        vec![
            required("name", "The filter's name, such as `name` or `architecture`."),
            AttributeSchema::required("values", Type::list(Type::String), "The values; `*` is a wildcard."),
        ],
    )
}

fn vpc() -> Schema {
    kind(
        "A virtual private cloud: an isolated network.",
        "The VPC's id (`vpc-...`).",
        vec![
            required("cidr_block", "The VPC's IPv4 address range, from /16 to /28.")
                .force_new()
                .compared(Comparison::Cidr)
                .validate(NETWORK_BLOCK),
            AttributeSchema::optional(
                "enable_dns_support",
                Type::Bool,
                "Whether DNS resolution works; true by default.",
            ),
            AttributeSchema::optional(
                "enable_dns_hostnames",
                Type::Bool,
                "Whether instances get public DNS names; false by default.",
            ),
            tags_attribute(),
            computed("main_route_table_id", "The route table subnets use unless associated with another."),
            computed("default_security_group_id", "The VPC's `default` security group."),
            computed("owner_id", "The account that owns the VPC."),
        ],
    )
}

fn subnet() -> Schema {
    kind(
        "A subnet of a VPC in one availability zone.",
        "The subnet's id (`subnet-...`).",
        vec![
            required("vpc_id", "The VPC the subnet belongs to.").force_new(),
            required("cidr_block", "The subnet's IPv4 address range, within the VPC's, from /16 to /28.")
                .force_new()
                .compared(Comparison::Cidr)
                .validate(NETWORK_BLOCK),
            string("availability_zone", "The zone, such as `us-east-1a`; AWS picks one when left out.")
                .also_computed()
                .force_new(),
            AttributeSchema::optional(
                "map_public_ip_on_launch",
                Type::Bool,
                "Whether instances launched here get a public IP address; false by default.",
            ),
            tags_attribute(),
        ],
    )
}

fn internet_gateway() -> Schema {
    kind(
        "An internet gateway, attached to a VPC.",
        "The gateway's id (`igw-...`).",
        vec![
            string("vpc_id", "The VPC to attach to; changed in place (detach, attach)."),
            tags_attribute(),
            computed("owner_id", "The account that owns the gateway."),
        ],
    )
}

fn route_table() -> Schema {
    let route = repeated(
        "route",
        "A route: traffic to `cidr_block` goes to `gateway_id`. Routes are changed one by one.",
        vec![
            required("cidr_block", "The destination range.").validate(IPV4_BLOCK),
            string("gateway_id", "The internet gateway (`igw-...`) the traffic goes to."),
        ],
    );
    with_blocks(
        kind(
            "A route table of a VPC, with its routes (the VPC's local route is implicit).",
            "The route table's id (`rtb-...`).",
            vec![required("vpc_id", "The VPC the table belongs to.").force_new(), tags_attribute()],
        ),
        vec![route],
    )
}

fn route_table_association() -> Schema {
    kind(
        "Makes a subnet use a route table.",
        "The association's id (`rtbassoc-...`); it changes when the route table does.",
        vec![
            required("subnet_id", "The subnet.").force_new(),
            required("route_table_id", "The route table; changed in place."),
        ],
    )
}

/// A port, or an ICMP type or code, where -1 means all.
const PORT: Validator = Validator::Range { min: -1, max: 65535 };

fn rule_block(name: &str, direction: &str) -> BlockSchema {
    let peers = |name: &str, description: &str| {
        AttributeSchema::optional(name, Type::list(Type::String), description).compared(Comparison::Set)
    };
    repeated(
        name,
        &format!(
            "An {direction} rule; may be repeated, and with `for`. Each CIDR block, IPv6 block, security group, \
             prefix list and `self` is one rule; a block names at least one."
        ),
        vec![
            AttributeSchema::required("from_port", Type::Number, "The first port (0 with protocol \"-1\").")
                .validate(PORT),
            AttributeSchema::required("to_port", Type::Number, "The last port (0 with protocol \"-1\").")
                .validate(PORT),
            required("protocol", "The protocol: \"tcp\", \"udp\", \"icmp\", or \"-1\" for all.")
                .validate(one_of(&["tcp", "udp", "icmp", "-1"])),
            peers("cidr_blocks", "The IPv4 ranges the rule applies to.").validate(IPV4_BLOCK),
            peers("ipv6_cidr_blocks", "The IPv6 ranges the rule applies to, such as `::/0`.")
                .validate(Validator::Cidr)
                .validate(Validator::Regex { pattern: ":".to_string(), description: "an IPv6 block".to_string() }),
            peers("security_groups", "Other security groups by id (`sg-...`): traffic from or to their members.")
                .validate(Validator::Regex {
                    pattern: "^sg-[0-9a-f]+$".to_string(),
                    description: "a security group id such as `sg-0123456789abcdef0`".to_string(),
                }),
            AttributeSchema::optional(
                "self",
                Type::Bool,
                "Whether the group itself is a peer: traffic from or to its own members.",
            ),
            peers("prefix_list_ids", "Managed prefix lists by id (`pl-...`)."),
            string("description", "A description of the rule.").validate(length(0, 255)),
        ],
    )
    // EC2 keeps no order of a group's rules.
    .compared(Comparison::Set)
}

fn security_group() -> Schema {
    with_blocks(
        kind(
            "A security group: stateful firewall rules for instances.",
            "The group's id (`sg-...`).",
            vec![
                required("name", "The group's name, unique in the VPC.").force_new().validate(length(1, 255)),
                string("description", "The group's description; \"Managed by Infra\" by default.")
                    .force_new()
                    .validate(length(0, 255)),
                string("vpc_id", "The VPC; the default VPC when left out.").also_computed().force_new(),
                tags_attribute(),
                computed("owner_id", "The account that owns the group."),
            ],
        ),
        vec![rule_block("ingress", "inbound"), rule_block("egress", "outbound")],
    )
}

fn key_pair() -> Schema {
    kind(
        "An SSH public key registered with EC2, for instances' `key_name`.",
        "The key's name.",
        vec![
            required("key_name", "The name instances refer to.").force_new().validate(length(1, 255)),
            required("public_key", "The public key in OpenSSH format, such as `tls.private_key`'s.").force_new(),
            tags_attribute(),
            computed("fingerprint", "The key's fingerprint as EC2 computes it."),
            computed("key_pair_id", "The key pair's id (`key-...`)."),
        ],
    )
}

fn instance() -> Schema {
    kind(
        "A virtual machine. Created when it is running; deleted when it is terminated.",
        "The instance's id (`i-...`).",
        vec![
            required("ami", "The image to boot.").force_new(),
            required("instance_type", "The size, such as `t3.micro`.")
                .force_new()
                .validate(Validator::OneOf(instance_types::all())),
            string("subnet_id", "The subnet to launch in; the default VPC's when left out.")
                .also_computed()
                .force_new(),
            AttributeSchema::optional(
                "vpc_security_group_ids",
                Type::list(Type::String),
                "The security groups by id; changed in place.",
            )
            .also_computed()
            .compared(Comparison::Set),
            AttributeSchema::optional(
                "security_groups",
                Type::list(Type::String),
                "The security groups by name, for the default VPC; prefer `vpc_security_group_ids`.",
            )
            .force_new()
            .compared(Comparison::Set),
            string("key_name", "The key pair for SSH.").force_new().validate(length(1, 255)),
            string("user_data", "A script or cloud-init document run on first boot; at most 16 KiB.")
                .force_new()
                .validate(length(0, 16 * 1024)),
            tags_attribute(),
            computed("availability_zone", "The zone the instance runs in."),
            computed("private_ip", "The private IPv4 address."),
            computed("public_ip", "The public IPv4 address, when it has one; an elastic IP associated with the instance changes it, with no note of drift.").changed_by_others(),
            computed("private_dns", "The private DNS name."),
            computed("public_dns", "The public DNS name, when it has one; changes with `public_ip`, with no note of drift.").changed_by_others(),
            computed("state", "The instance's state, such as `running`."),
        ],
    )
}

fn eip() -> Schema {
    kind(
        "An elastic IP address, optionally associated with an instance.",
        "The allocation id (`eipalloc-...`).",
        vec![
            string("instance", "The instance to associate with; changed in place."),
            string("domain", "Always \"vpc\", the only kind AWS still hands out.")
                .also_computed()
                .force_new()
                .validate(one_of(&["vpc"])),
            tags_attribute(),
            computed("public_ip", "The address."),
            computed("private_ip", "The private address it maps to, when associated."),
            computed("association_id", "The association with the instance, when there is one."),
        ],
    )
}

fn s3_bucket() -> Schema {
    kind(
        "An S3 bucket.",
        "The bucket's name.",
        vec![
            required("bucket", "The bucket's name, unique across AWS.").force_new().validate(Validator::Regex {
                pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$".to_string(),
                description: "3 to 63 lower-case letters, digits, dots and hyphens, beginning and ending with a \
                              letter or digit"
                    .to_string(),
            }),
            AttributeSchema::optional(
                "force_destroy",
                Type::Bool,
                "Delete the bucket's objects with it; false by default.",
            ),
            tags_attribute(),
            computed("arn", "The bucket's ARN."),
            computed("bucket_domain_name", "The bucket's DNS name."),
            computed("region", "The region the bucket is in."),
        ],
    )
}

fn s3_object() -> Schema {
    kind(
        "An object in an S3 bucket, from a string or a file.",
        "The bucket and key as `bucket/key`.",
        vec![
            required("bucket", "The bucket.").force_new(),
            required("key", "The object's key (its path in the bucket), without `.` or `..` segments.")
                .force_new()
                .validate(length(1, 1024))
                .validate(Validator::Regex {
                    pattern: s3::KEY_PATTERN.to_string(),
                    description: s3::KEY_FORM.to_string(),
                }),
            string("content", "The object's content as a string; or set `source`."),
            string("source", "A file to upload, relative to the root module's directory; or set `content`."),
            string("content_type", "The MIME type; \"application/octet-stream\" by default.").also_computed(),
            string("etag", "The MD5 of the content, in hex; a different one in S3 means the object changed.")
                .also_computed(),
            computed("version_id", "The version, in a versioned bucket."),
        ],
    )
}

fn route53_zone() -> Schema {
    kind(
        "A public Route 53 hosted zone.",
        "The zone's id (without `/hostedzone/`).",
        vec![
            required("name", "The domain, such as `example.com`.").force_new().compared(Comparison::DnsName),
            string("comment", "A comment; changed in place."),
            AttributeSchema::optional(
                "force_destroy",
                Type::Bool,
                "Delete records Infra does not manage with the zone; false by default.",
            ),
            tags_attribute(),
            computed("zone_id", "The zone's id, for records."),
            AttributeSchema::computed("name_servers", Type::list(Type::String), "The zone's name servers."),
        ],
    )
}

fn route53_record() -> Schema {
    kind(
        "A DNS record set in a Route 53 zone.",
        "The zone, name and type as `ZONE_NAME_TYPE`.",
        vec![
            required("zone_id", "The zone.").force_new(),
            required("name", "The full name, such as `www.example.com`.").force_new().compared(Comparison::DnsName),
            required("type", "The record type, such as `A` or `CNAME`.").force_new().validate(one_of(&[
                "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP",
                "SVCB", "TLSA", "TXT",
            ])),
            AttributeSchema::required("ttl", Type::Number, "The time to live in seconds; Route 53 needs one.")
                .validate(Validator::Range { min: 0, max: 2_147_483_647 }),
            AttributeSchema::required(
                "records",
                Type::list(Type::String),
                "The values, in any order; changed in place.",
            )
            .compared(Comparison::Set)
            .validate(Validator::Length { min: 1, max: None }),
            computed("fqdn", "The record's full name."),
        ],
    )
}

fn ami_data() -> Schema {
    with_blocks(
        kind(
            "Finds a machine image by owner and filters.",
            "The image's id.",
            vec![
                AttributeSchema::optional("owners", Type::list(Type::String), "Account ids or aliases (`amazon`)."),
                AttributeSchema::optional(
                    "most_recent",
                    Type::Bool,
                    "Take the newest of several matches; otherwise several matches are an error.",
                ),
                computed("image_id", "The image's id."),
                computed("name", "The image's name."),
                computed("owner_id", "The owner's account id."),
                computed("architecture", "The architecture, such as `x86_64`."),
                computed("creation_date", "When the image was made."),
                computed("description", "The image's description."),
            ],
        ),
        vec![filter_block()],
    )
}

fn availability_zones_data() -> Schema {
    kind(
        "The availability zones of the provider's region.",
        "The region.",
        vec![
            string("state", "Only zones in this state; \"available\" by default.").validate(one_of(&[
                "available",
                "information",
                "impaired",
                "unavailable",
                "constrained",
            ])),
            AttributeSchema::computed("names", Type::list(Type::String), "The zones' names, sorted."),
            AttributeSchema::computed("zone_ids", Type::list(Type::String), "The zones' ids, in the same order."),
        ],
    )
}

fn vpc_data() -> Schema {
    with_blocks(
        kind(
            "Finds one VPC, such as the default one.",
            "The VPC's id.",
            vec![
                AttributeSchema::optional("default", Type::Bool, "Only the region's default VPC (or only others)."),
                string("cidr_block", "Only a VPC with this range.").also_computed(),
                AttributeSchema::optional("tags", Type::map(Type::String), "Only a VPC with these tags."),
                computed("main_route_table_id", "The VPC's main route table."),
                computed("default_security_group_id", "The VPC's `default` security group."),
                computed("owner_id", "The account that owns the VPC."),
            ],
        ),
        vec![filter_block()],
    )
}

pub fn schema() -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    let config = Schema {
        description: "Where and as whom to call AWS; every setting falls back to the standard environment.".to_string(),
        attributes: vec![
            string("region", "The region, such as `us-east-1`; else AWS_REGION, AWS_DEFAULT_REGION, the profile's."),
            string("endpoint", "An endpoint for every service (an emulator); else AWS_ENDPOINT_URL(_EC2, _S3...)."),
            string("profile", "A profile of ~/.aws/credentials; else AWS_PROFILE, else `default`."),
            string("access_key", "The access key id; else AWS_ACCESS_KEY_ID or the profile's.").sensitive(),
            string("secret_key", "The secret access key; else AWS_SECRET_ACCESS_KEY or the profile's.").sensitive(),
        ],
        blocks: Vec::new(),
    };
    ProviderSchema {
        name: "aws".to_string(),
        description: "Amazon Web Services: networks, servers, storage and DNS.".to_string(),
        config,
        resources: by_name(vec![
            ("eip", eip()),
            ("instance", instance()),
            ("internet_gateway", internet_gateway()),
            ("key_pair", key_pair()),
            ("route53_record", route53_record()),
            ("route53_zone", route53_zone()),
            ("route_table", route_table()),
            ("route_table_association", route_table_association()),
            ("s3_bucket", s3_bucket()),
            ("s3_object", s3_object()),
            ("security_group", security_group()),
            ("subnet", subnet()),
            ("vpc", vpc()),
        ]),
        data_sources: by_name(vec![
            ("ami", ami_data()),
            ("availability_zones", availability_zones_data()),
            ("vpc", vpc_data()),
        ]),
    }
}

/// The `aws` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(AwsFactory { schema: schema() })
}

struct AwsFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for AwsFactory {
    fn name(&self) -> &str {
        "aws"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let settings = Settings {
            region: text(config, "region"),
            endpoint: text(config, "endpoint"),
            profile: text(config, "profile"),
            access_key: text(config, "access_key"),
            secret_key: text(config, "secret_key"),
            environment: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        };
        let client = Client::new(&settings)?;
        Ok(Arc::new(Aws { schema: self.schema.clone(), client, module_dir: context.module_dir.clone() }))
    }
}

struct Aws {
    schema: ProviderSchema,
    client: Client,
    module_dir: PathBuf,
}

/// The defaults filled in when the configuration leaves an attribute out, as the plan
/// shows them.
fn defaults(kind: &str) -> Vec<(&'static str, Value)> {
    match kind {
        "vpc" => vec![("enable_dns_support", Value::bool(true)), ("enable_dns_hostnames", Value::bool(false))],
        "subnet" => vec![("map_public_ip_on_launch", Value::bool(false))],
        "security_group" => vec![("description", Value::string("Managed by Infra"))],
        "s3_bucket" | "route53_zone" => vec![("force_destroy", Value::bool(false))],
        "s3_object" => vec![("content_type", Value::string(s3::DEFAULT_CONTENT_TYPE))],
        "eip" => vec![("domain", Value::string("vpc"))],
        _ => Vec::new(),
    }
}

#[async_trait::async_trait]
impl Provider for Aws {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        self.validate_against(kind, config, None)
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate_against(kind, config, prior).into_iter().next() {
            return Err(error);
        }
        self.plan_valid(kind, prior, config)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.create_reporting(kind, planned, &CreateProgress::ignored()).await
    }

    /// The kinds made in several requests report the object as soon as the first one
    /// made it (a VPC, subnet, internet gateway, route table, Elastic IP, bucket or zone
    /// before its settings, attachment, routes or tags; a security group before its rules,
    /// an instance before it runs):
    /// if a later request fails, or Infra stops, the object is in the state, to be read
    /// and finished by the next apply, never left behind unknown.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let client = &self.client;
        let created = match kind {
            "vpc" => ec2::vpc_create(client, planned, progress).await,
            "subnet" => ec2::subnet_create(client, planned, progress).await,
            "internet_gateway" => ec2::gateway_create(client, planned, progress).await,
            "route_table" => ec2::route_table_create(client, planned, progress).await,
            "route_table_association" => ec2::association_create(client, planned).await,
            "security_group" => security_group::create(client, planned, progress).await,
            "key_pair" => instance::key_pair_create(client, planned).await,
            "instance" => return Ok(self.complete(kind, instance::instance_create(client, planned, progress).await?)),
            "eip" => instance::eip_create(client, planned, progress).await,
            "s3_bucket" => s3::bucket_create(client, planned, progress).await,
            "s3_object" => s3::object_put(client, planned, self.object_body(planned)?).await,
            "route53_zone" => route53::zone_create(client, planned, progress).await,
            "route53_record" => route53::record_create(client, planned).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, created?))
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        let found = self.read_object(kind, current).await?;
        Ok(found.map_or(ReadResult::Gone, |attributes| ReadResult::Found(self.complete(kind, attributes))))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        let client = &self.client;
        let updated = match kind {
            "vpc" => ec2::vpc_update(client, prior, planned).await,
            "subnet" => ec2::subnet_update(client, prior, planned).await,
            "internet_gateway" => ec2::gateway_update(client, prior, planned).await,
            "route_table" => ec2::route_table_update(client, prior, planned).await,
            "route_table_association" => ec2::association_update(client, prior, planned).await,
            "security_group" => security_group::update(client, prior, planned).await,
            "key_pair" => instance::key_pair_update(client, prior, planned).await,
            "instance" => instance::instance_update(client, prior, planned).await,
            "eip" => instance::eip_update(client, prior, planned).await,
            "s3_bucket" => s3::bucket_update(client, prior, planned).await,
            // The same bytes and type (an imported object given its `content`): nothing to
            // upload, and no new version.
            "s3_object" if !object_changes(prior, planned) => Ok(planned.clone()),
            "s3_object" => s3::object_put(client, planned, self.object_body(planned)?).await,
            "route53_zone" => route53::zone_update(client, prior, planned).await,
            "route53_record" => route53::record_update(client, planned).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(self.complete(kind, updated?))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        let client = &self.client;
        let id = ec2::id(current);
        let deleted = match kind {
            "vpc" => ec2::delete_by_id(client, "DeleteVpc", "VpcId", &id).await,
            "subnet" => ec2::delete_by_id(client, "DeleteSubnet", "SubnetId", &id).await,
            "internet_gateway" => ec2::gateway_delete(client, current).await,
            "route_table" => ec2::delete_by_id(client, "DeleteRouteTable", "RouteTableId", &id).await,
            "route_table_association" => ec2::association_delete(client, current).await,
            "security_group" => ec2::delete_by_id(client, "DeleteSecurityGroup", "GroupId", &id).await,
            "key_pair" => instance::key_pair_delete(client, current).await,
            "instance" => return instance::instance_delete(client, current).await,
            "eip" => instance::eip_delete(client, current).await,
            "s3_bucket" => s3::bucket_delete(client, current).await,
            "s3_object" => s3::object_delete(client, current).await,
            "route53_zone" => route53::zone_delete(client, current).await,
            "route53_record" => route53::record_delete(client, current).await,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        Ok(deleted?)
    }

    /// Ids are AWS's own (`i-...`, `vpc-...`); an S3 object's is `bucket/key` and a
    /// record's `ZONE_NAME_TYPE`. Settings AWS does not report (a key pair's
    /// `public_key`, as in Terraform) are left null.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let mut seed: Attributes = [("id".to_string(), Value::string(id))].into_iter().collect();
        match kind {
            "s3_object" => {
                let (bucket, key) = id.split_once('/').ok_or_else(|| bad_import_id("`bucket/key`"))?;
                if let Some(problem) = s3::key_problem(key) {
                    return Err(ProviderError::new(problem).with_help(s3::KEY_HELP));
                }
                seed.insert("bucket".to_string(), Value::string(bucket));
                seed.insert("key".to_string(), Value::string(key));
            }
            "route53_record" => seed = route53::record_seed(id).ok_or_else(|| bad_import_id("`ZONE_NAME_TYPE`"))?,
            "s3_bucket" => drop(seed.insert("bucket".to_string(), Value::string(id))),
            _ => {}
        }
        let Some(mut attributes) = self.read_object(kind, &seed).await? else {
            return Err(ProviderError::new(format!("there is no `aws.{kind}` with id `{id}`"))
                .with_help("check the id and the region the provider is configured for"));
        };
        for (name, default) in defaults(kind) {
            if attribute(&attributes, name).is_null() && schema.attribute(name).is_some_and(|a| !a.computed) {
                attributes.insert(name.to_string(), default);
            }
        }
        Ok(self.complete(kind, attributes))
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = self.schema.data_sources.get(kind).ok_or_else(|| {
            ProviderError::new(format!("the `aws` provider has no data source `{kind}`"))
                .with_help("its data sources are `aws.ami`, `aws.availability_zones` and `aws.vpc`")
        })?;
        let result = match kind {
            "ami" => instance::ami(&self.client, config).await,
            "availability_zones" => ec2::availability_zones(&self.client, config).await,
            _ => ec2::vpc_lookup(&self.client, config).await,
        }?;
        Ok(complete(schema, result))
    }

    /// Ends the waits in flight (an instance polled until it runs or is terminated) at
    /// once, as errors; an instance is reported before its wait, so none is lost.
    fn stop(&self) {
        self.client.stop.stop();
    }
}

impl Aws {
    /// [`Provider::validate`]; with `prior`, what the engine carried from it into the
    /// configuration is not taken for something the configuration sets.
    fn validate_against(&self, kind: &str, config: &Attributes, prior: Option<&Attributes>) -> Vec<ProviderError> {
        if let Err(error) = resource_schema(&self.schema, kind) {
            return vec![error];
        }
        let mut errors = Vec::new();
        if kind == "s3_object" {
            errors.extend(object_errors(config));
        }
        if kind == "security_group" {
            errors.extend(security_group::rule_errors(config));
        }
        // The groups an instance launched by name are read back as ids, which the engine
        // carries into the configuration when it leaves them unset: not a second setting.
        let carried = prior.is_some_and(|prior| {
            attribute(prior, "vpc_security_group_ids") == attribute(config, "vpc_security_group_ids")
        });
        if kind == "instance"
            && known(config, "vpc_security_group_ids").is_some()
            && known(config, "security_groups").is_some()
            && !carried
        {
            errors.push(
                ProviderError::new("set `vpc_security_group_ids` or `security_groups`, not both")
                    .on_attribute("security_groups")
                    .with_help("in a VPC, refer to groups by id with `vpc_security_group_ids`"),
            );
        }
        errors
    }

    /// [`Provider::plan`] of a configuration already validated.
    fn plan_valid(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let mut planned = plan_attributes(schema, prior, config, &defaults(kind));
        for block in &schema.blocks {
            let value = config.get(&block.name).filter(|v| !v.is_null()).cloned();
            planned.insert(block.name.clone(), value.unwrap_or_else(|| Value::list(Vec::new())));
        }
        if kind == "key_pair" {
            // A key read back (after an import) has no trailing newline; one written with
            // `file()` has. The same key either way, so no replacement.
            let same_key = |prior: &Attributes| {
                let trimmed = |a: &Attributes| attribute(a, "public_key").as_str().map(str::trim).map(str::to_string);
                trimmed(prior).is_some() && trimmed(prior) == trimmed(config)
            };
            if let Some(prior) = prior.filter(|prior| same_key(prior)) {
                planned.insert("public_key".to_string(), attribute(prior, "public_key").clone());
            }
        }
        if kind == "s3_object" {
            let body_known = ["content", "source"].iter().all(|name| attribute(config, name).is_known());
            let etag = match s3::body(&self.module_dir, config) {
                Ok(Some(body)) if body_known => Value::string(s3::etag(&body)),
                Err(message) if body_known => return Err(self.unreadable_source(message)),
                _ => Value::unknown(Type::String),
            };
            planned.insert("etag".to_string(), etag);
        }
        if let Some(prior) = prior.filter(|_| known(&planned, "id").is_some()) {
            plan_recomputed(kind, prior, &mut planned);
        }
        Ok(planned)
    }

    /// The body of an `aws.s3_object`: its `content`, or the file its `source` names.
    fn object_body(&self, attributes: &Attributes) -> ProviderResult<Vec<u8>> {
        let body = s3::body(&self.module_dir, attributes).map_err(|message| self.unreadable_source(message))?;
        Ok(body.unwrap_or_default())
    }

    fn unreadable_source(&self, message: String) -> ProviderError {
        ProviderError::new(message).on_attribute("source").with_help(format!(
            "`source` is a path relative to the root module's directory, `{}`: check that the file is there, \
             or set `content` instead",
            self.module_dir.display()
        ))
    }

    async fn read_object(&self, kind: &str, current: &Attributes) -> ProviderResult<Option<Attributes>> {
        let client = &self.client;
        let found = match kind {
            "vpc" => ec2::vpc_read(client, current).await,
            "subnet" => ec2::subnet_read(client, current).await,
            "internet_gateway" => ec2::gateway_read(client, current).await,
            "route_table" => ec2::route_table_read(client, current).await,
            "route_table_association" => ec2::association_read(client, current).await,
            "security_group" => security_group::read(client, current).await,
            "key_pair" => instance::key_pair_read(client, current).await,
            "instance" => instance::instance_read(client, current).await,
            "eip" => instance::eip_read(client, current).await,
            "s3_bucket" => s3::bucket_read(client, current).await,
            "s3_object" => s3::object_read(client, current).await,
            "route53_zone" => route53::zone_read(client, current).await,
            "route53_record" => route53::record_read(client, current).await,
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

/// The computed attributes an in-place update gives new values, and the attributes whose
/// change does: an association moved to another route table is a new association (a
/// new id), an Elastic IP moved to another instance has another association and private
/// address, and an object uploaded again has another version.
const RECOMPUTED: [(&str, &[&str], &[&str]); 3] = [
    ("route_table_association", &["route_table_id"], &["id"]),
    ("eip", &["instance"], &["association_id", "private_ip"]),
    ("s3_object", &["content_type", "etag"], &["version_id"]),
];

/// Whether an update of an `aws.s3_object` uploads it: its bytes (the `etag` the plan
/// makes of `content` or `source`) or its type change. `content` set where the state has
/// none (S3 does not give it back on import) with the same `etag` changes nothing at S3.
fn object_changes(prior: &Attributes, planned: &Attributes) -> bool {
    recomputes("s3_object", prior, planned)
}

/// What a plan says about an object updated in place (`planned` keeps the prior's id):
/// the computed attributes the update changes are unknown until it has run, rather than
/// shown as they were.
fn plan_recomputed(kind: &str, prior: &Attributes, planned: &mut Attributes) {
    for (_, _, recomputed) in RECOMPUTED.iter().filter(|(k, _, _)| *k == kind) {
        if recomputes(kind, prior, planned) {
            for name in recomputed.iter() {
                planned.insert(name.to_string(), Value::unknown(Type::String));
            }
        }
    }
}

/// Whether an update of `kind` from `prior` to `planned` changes an attribute that gives
/// its [`RECOMPUTED`] attributes new values.
fn recomputes(kind: &str, prior: &Attributes, planned: &Attributes) -> bool {
    RECOMPUTED
        .iter()
        .filter(|(k, _, _)| *k == kind)
        .any(|(_, drivers, _)| drivers.iter().any(|name| !attribute(prior, name).equals(attribute(planned, name))))
}

/// Every attribute of the schema present (null when AWS has nothing for it), every
/// repeated block a list, and nothing the schema does not know.
fn complete(schema: &Schema, mut attributes: Attributes) -> Attributes {
    let mut result = Attributes::new();
    for a in &schema.attributes {
        result.insert(a.name.clone(), attributes.remove(&a.name).unwrap_or_else(Value::null));
    }
    for block in &schema.blocks {
        let value = attributes.remove(&block.name).filter(|v| !v.is_null());
        result.insert(block.name.clone(), value.unwrap_or_else(|| Value::list(Vec::new())));
    }
    result
}

/// What [`Provider::validate`] finds wrong with an `aws.s3_object`: not exactly one of
/// `content` and `source`, or a key S3 requests cannot carry.
fn object_errors(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    let content = !attribute(config, "content").is_null();
    let source = !attribute(config, "source").is_null();
    if content == source {
        // Both set: `source` is the one to take out; neither: the resource as a whole.
        let error = ProviderError::new("set exactly one of `content` and `source`")
            .with_help("`content` is the object as a string, `source` a file to upload");
        errors.push(if source { error.on_attribute("source") } else { error });
    }
    if let Some(problem) = text(config, "key").and_then(|key| s3::key_problem(&key)) {
        errors.push(ProviderError::new(problem).on_attribute("key").with_help(s3::KEY_HELP));
    }
    errors
}

fn bad_import_id(form: &str) -> ProviderError {
    ProviderError::new(format!("this kind is imported by an id of the form {form}"))
}

/// An object that was just written but cannot be read back is an error, not a success
/// with nothing in it.
fn found(attributes: Option<Attributes>, client: &Client, operation: &str) -> AwsResult<Attributes> {
    attributes.ok_or_else(|| {
        client.failure(client::Service::Ec2, operation, "the object is gone right after it was written; try again")
    })
}

// --- values ---------------------------------------------------------------------------

/// A string attribute, when it is set, known and not empty.
/// What a create reports as soon as its object exists (see
/// [`Provider::create_reporting`]): the planned values known so far, and the id.
fn existing(planned: &Attributes, id: &str) -> Attributes {
    let mut attributes: Attributes =
        planned.iter().map(|(k, v)| (k.clone(), if v.is_wholly_known() { v.clone() } else { Value::null() })).collect();
    attributes.insert("id".to_string(), Value::string(id));
    attributes
}

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

/// Strings AWS reports in an order of its own: in the order `current` has them when they
/// are the same strings, so only a real difference reads as a change.
fn unordered(actual: &[String], current: &Value) -> Value {
    let known: Vec<String> =
        current.as_list().unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_string).collect();
    let mut sorted_known = known.clone();
    sorted_known.sort();
    let mut sorted_actual = actual.to_vec();
    sorted_actual.sort();
    let items = if sorted_known == sorted_actual { known } else { sorted_actual };
    Value::list(items.into_iter().map(Value::string).collect())
}

/// The `tags` attribute as a map.
fn tags(attributes: &Attributes) -> BTreeMap<String, String> {
    let Some(map) = known(attributes, "tags").and_then(Value::as_map) else { return BTreeMap::new() };
    map.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect()
}

/// Tags as read from AWS: no tags reads as null when the state has none set, so an
/// untagged object is no change.
fn tags_value(actual: BTreeMap<String, String>, current: &Value) -> Value {
    if actual.is_empty()
        && (current.is_null() || current.as_map().is_some_and(infra_runtime::value::ValueMap::is_empty))
    {
        return current.clone();
    }
    Value::map(actual.into_iter().map(|(k, v)| (k, Value::string(v))).collect())
}
