//! The `digitalocean` provider's schema: its configuration and every kind, with the
//! attribute names of Terraform's DigitalOcean provider.

use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::{kind, timeouts_block};

/// The regions Droplets, volumes and VPCs are created in. The set changes rarely; a
/// region missing here is refused at check time, before any request.
pub const REGIONS: [&str; 14] =
    ["ams2", "ams3", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo1", "sfo2", "sfo3", "sgp1", "syd1", "tor1"];

/// The record types DigitalOcean's DNS serves.
pub const RECORD_TYPES: [&str; 9] = ["A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"];

fn one_of(values: &[&str]) -> Validator {
    Validator::OneOf(values.iter().map(|v| v.to_string()).collect())
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

fn flag(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::Bool, description)
}

fn number(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::Number, description)
}

fn strings(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::list(Type::String), description).compared(Comparison::Set)
}

fn region() -> AttributeSchema {
    required("region", "The region's slug, such as `nyc3`.").force_new().validate(one_of(&REGIONS))
}

fn tags() -> AttributeSchema {
    strings("tags", "Tags on the object, in any order; changed in place.").validate(Validator::Regex {
        pattern: "^[a-zA-Z0-9_\\-:]{1,255}$".to_string(),
        description: "1 to 255 letters, digits, `-`, `_` and `:`".to_string(),
    })
}

/// A hostname-like name: letters, digits, `.` and `-`.
fn hostname(description: &str) -> AttributeSchema {
    required("name", description).validate(Validator::Regex {
        pattern: "^[a-zA-Z0-9][a-zA-Z0-9.-]{0,254}$".to_string(),
        description: "letters, digits, `.` and `-`, beginning with a letter or digit".to_string(),
    })
}

fn droplet() -> Schema {
    let mut schema = kind(
        "A Droplet: a virtual machine. Created when it is `active`.",
        "The Droplet's id, a number.",
        vec![
            hostname("The Droplet's name and hostname; changed in place (a `rename` action)."),
            region(),
            required(
                "size",
                "The size's slug, such as `s-1vcpu-1gb`; resized in place (powered off, resized, powered on).",
            ),
            required(
                "image",
                "The image's slug (`debian-12-x64`) or id; the same image named the other way is no change.",
            )
            .force_new(),
            strings(
                "ssh_keys",
                "SSH keys root accepts, by id or fingerprint (`digitalocean.ssh_key`'s); never read back.",
            )
            .force_new()
            .force_new_only_if_set(),
            string("user_data", "Cloud-init user data run on first boot; never read back.")
                .force_new()
                .force_new_only_if_set(),
            tags(),
            string("vpc_uuid", "The VPC it joins; the region's default VPC when left out.").also_computed().force_new(),
            flag(
                "ipv6",
                "Whether it has a public IPv6 address; false by default. Turned on in place (the `enable_ipv6` \
                 action); turning it off replaces the Droplet, as in Terraform: DigitalOcean cannot take it away.",
            ),
            flag("monitoring", "Whether the monitoring agent is installed; false by default.").force_new(),
            flag("backups", "Whether weekly backups are on; false by default; changed in place."),
            flag(
                "resize_disk",
                "Whether a resize grows the disk too, which cannot be undone; true by default; never read back.",
            ),
            computed("ipv4_address", "The public IPv4 address."),
            computed("ipv4_address_private", "The private IPv4 address in its VPC."),
            computed("ipv6_address", "The public IPv6 address, with `ipv6`."),
            computed("status", "The status, such as `active`."),
            computed("urn", "The uniform resource name, `do:droplet:ID`."),
            AttributeSchema::computed("memory", Type::Number, "The memory in MB."),
            AttributeSchema::computed("vcpus", Type::Number, "The number of virtual CPUs."),
            AttributeSchema::computed("disk", Type::Number, "The disk in GB."),
            AttributeSchema::computed("locked", Type::Bool, "Whether DigitalOcean locked it."),
            computed("created_at", "When it was created."),
        ],
    );
    schema.blocks = vec![timeouts_block(
        "How long to wait for the Droplet.",
        &[(
            "create",
            "How long a create waits for the Droplet to be `active`, such as \"15m\"; 10 minutes by default.",
        )],
    )];
    schema
}

fn ssh_key() -> Schema {
    kind(
        "An SSH public key of the account, for Droplets' `ssh_keys`.",
        "The key's id, a number.",
        vec![
            required("name", "The key's name; changed in place.")
                .validate(Validator::Length { min: 1, max: Some(255) }),
            required("public_key", "The public key in OpenSSH form, such as `tls.private_key`'s.").force_new(),
            computed("fingerprint", "The key's MD5 fingerprint, which Droplets' `ssh_keys` also take."),
        ],
    )
}

/// A zone's name in lower case, as DigitalOcean keeps it (the zone's id) and as the paths
/// of its records need it: a zone written `Example.NET` would keep that name in state
/// while its id is `example.net`, and a record using the name would not be found. So
/// capitals are refused before any request, with the form to write, not folded (which
/// would show a change of a configured value).
fn zone_name(name: &str, description: &str) -> AttributeSchema {
    required(name, description).force_new().validate(Validator::Regex {
        pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$".to_string(),
        description: "a zone in lower case, labels of letters, digits and `-` joined by `.`, without a trailing \
                      `.`, as DigitalOcean keeps it: write `example.net`, not `Example.NET`"
            .to_string(),
    })
}

fn domain() -> Schema {
    kind(
        "A DNS zone DigitalOcean's name servers serve.",
        "The zone's name, such as `example.org`.",
        vec![
            zone_name("name", "The zone in lower case, such as `example.org`.").compared(Comparison::DnsName),
            string("ip_address", "An address for an `A` record of the zone itself, made with it; never read back.")
                .force_new()
                .force_new_only_if_set(),
            AttributeSchema::computed("ttl", Type::Number, "The zone's default time to live in seconds."),
            computed("urn", "The uniform resource name, `do:domain:NAME`."),
        ],
    )
}

fn record() -> Schema {
    let port =
        |name: &str, description: &str| number(name, description).validate(Validator::Range { min: 0, max: 65535 });
    kind(
        "A record of a `digitalocean.domain`.",
        "The record's id, a number; imported as `DOMAIN,ID`.",
        vec![
            zone_name("domain", "The zone (`digitalocean.domain`'s `name`), in lower case."),
            required("type", "The type, such as `A` or `CNAME`.").force_new().validate(one_of(&RECORD_TYPES)),
            required("name", "The name below the zone, such as `www`; `@` for the zone itself. Changed in place."),
            required("value", "The value: an address, a name or text, by type. Changed in place."),
            number("ttl", "The time to live in seconds (1800 by default); changed in place.")
                .also_computed()
                .validate(Validator::Range { min: 30, max: 2_147_483_647 }),
            port("priority", "The priority of an `MX` or `SRV` record."),
            port("port", "The port of an `SRV` record."),
            port("weight", "The weight of an `SRV` record."),
            number("flags", "The flags of a `CAA` record.").validate(Validator::Range { min: 0, max: 255 }),
            string("tag", "The tag of a `CAA` record: `issue`, `issuewild` or `iodef`.").validate(one_of(&[
                "issue",
                "issuewild",
                "iodef",
            ])),
            computed("fqdn", "The record's full name."),
        ],
    )
}

fn rule_block(name: &str, direction: &str, party: &str) -> BlockSchema {
    let description = format!("An {direction} rule; may be repeated, and with `for`.");
    let attributes = vec![
        required("protocol", "The protocol: `tcp`, `udp` or `icmp`.").validate(one_of(&["tcp", "udp", "icmp"])),
        string("port_range", "Ports, such as `22`, `8000-9000` or `1-65535`; every port when left out."),
        strings(&format!("{party}_addresses"), "Addresses and ranges, such as `0.0.0.0/0` and `::/0`."),
        strings(&format!("{party}_droplet_ids"), "Droplets, by id."),
        strings(&format!("{party}_tags"), "Droplets, by tag."),
    ];
    BlockSchema {
        name: name.to_string(),
        description: description.clone(),
        schema: Schema { description, attributes, blocks: Vec::new() },
        repeated: true,
        compare: Comparison::Set,
    }
}

fn firewall() -> Schema {
    let mut schema = kind(
        "A Cloud Firewall and the Droplets it protects (by id and by tag); everything is changed in place.",
        "The firewall's id, a UUID.",
        vec![
            required("name", "The firewall's name.").validate(Validator::Regex {
                pattern: "^[a-zA-Z0-9][a-zA-Z0-9.-]+$".to_string(),
                description: "letters, digits, `.` and `-`, beginning with a letter or digit".to_string(),
            }),
            strings("droplet_ids", "The Droplets it protects, by id (`digitalocean.droplet`'s `id`)."),
            tags(),
            computed("status", "Either `waiting`, `succeeded` or `failed`."),
            computed("created_at", "When it was created."),
        ],
    );
    schema.blocks =
        vec![rule_block("inbound_rule", "inbound", "source"), rule_block("outbound_rule", "outbound", "destination")];
    schema
}

fn regions_data() -> Schema {
    let region = Type::object([
        ("slug", Type::String),
        ("name", Type::String),
        ("available", Type::Bool),
        ("sizes", Type::list(Type::String)),
        ("features", Type::list(Type::String)),
    ]);
    kind(
        "The regions, sorted by slug.",
        "Always `regions`.",
        vec![
            flag("available", "Only the regions where Droplets can be created now; true by default."),
            AttributeSchema::computed("slugs", Type::list(Type::String), "The regions' slugs."),
            AttributeSchema::computed(
                "regions",
                Type::list(region),
                "Each region: `slug`, `name`, `available`, `sizes` and `features`.",
            ),
        ],
    )
}

fn sizes_data() -> Schema {
    let size = Type::object([
        ("slug", Type::String),
        ("memory", Type::Number),
        ("vcpus", Type::Number),
        ("disk", Type::Number),
        ("transfer", Type::Number),
        ("price_monthly", Type::Number),
        ("price_hourly", Type::Number),
        ("regions", Type::list(Type::String)),
    ]);
    kind(
        "The Droplet sizes available now, in DigitalOcean's order.",
        "Either `sizes`, or `sizes-REGION` with `region`.",
        vec![
            string("region", "Only the sizes offered in this region.").validate(one_of(&REGIONS)),
            AttributeSchema::computed("slugs", Type::list(Type::String), "The sizes' slugs."),
            AttributeSchema::computed(
                "sizes",
                Type::list(size),
                "Each size: `slug`, `memory` (MB), `vcpus`, `disk` (GB), `transfer` (TB), prices and `regions`.",
            ),
        ],
    )
}

fn image_data() -> Schema {
    kind(
        "One image, by `slug` or by `name` (a distribution image).",
        "The image's id.",
        vec![
            string("slug", "A public image's slug, such as `debian-12-x64`.").also_computed(),
            string("name", "A distribution image's name, such as `12 x64`.").also_computed(),
            AttributeSchema::computed("image_id", Type::Number, "The image's id, a number."),
            computed("distribution", "The distribution, such as `Debian`."),
            AttributeSchema::computed("regions", Type::list(Type::String), "The regions it is in."),
            AttributeSchema::computed("min_disk_size", Type::Number, "The smallest disk it fits, in GB."),
            AttributeSchema::computed("size_gigabytes", Type::Number, "Its size in GB."),
            computed("type", "The image's type: `base`, `snapshot`, `backup` or `custom`."),
            AttributeSchema::computed("public", Type::Bool, "Whether every account may use it."),
            computed("description", "A description."),
            computed("status", "Its status, such as `available`."),
            computed("created_at", "When it was made."),
        ],
    )
}

fn vpc() -> Schema {
    kind(
        "A VPC: a private network for Droplets of one region (`digitalocean.droplet`'s `vpc_uuid`).",
        "The VPC's id, a UUID.",
        vec![
            required("name", "The VPC's name, unique in the account; changed in place.").validate(Validator::Regex {
                pattern: "^[a-zA-Z0-9.-]{1,255}$".to_string(),
                description: "letters, digits, `.` and `-`".to_string(),
            }),
            region(),
            string("description", "A description; changed in place.")
                .validate(Validator::Length { min: 0, max: Some(255) }),
            string("ip_range", "The private range, such as `10.10.10.0/24`; DigitalOcean picks one when left out.")
                .also_computed()
                .force_new()
                .validate(Validator::Ipv4Cidr { min_prefix: 16, max_prefix: 28 }),
            computed("urn", "The uniform resource name, `do:vpc:ID`."),
            AttributeSchema::computed("default", Type::Bool, "Whether it is its region's default VPC."),
            computed("created_at", "When it was created."),
        ],
    )
}

fn volume() -> Schema {
    kind(
        "A Block Storage volume; attach it to a Droplet with `digitalocean.volume_attachment`.",
        "The volume's id, a UUID.",
        vec![
            required("name", "The volume's name: lowercase letters, digits and `-`.").force_new().validate(
                Validator::Regex {
                    pattern: "^[a-z0-9][a-z0-9-]{0,63}$".to_string(),
                    description: "up to 64 lowercase letters, digits and `-`, beginning with a letter or digit"
                        .to_string(),
                },
            ),
            region(),
            AttributeSchema::required("size", Type::Number, "The size in GB; grown in place, never shrunk.")
                .validate(Validator::Range { min: 1, max: 16_384 }),
            string("description", "A description.").force_new(),
            string("initial_filesystem_type", "A file system to format it with: `ext4` or `xfs`.")
                .force_new()
                .force_new_only_if_set()
                .validate(one_of(&["ext4", "xfs"])),
            tags(),
            computed("filesystem_type", "The file system DigitalOcean reports."),
            AttributeSchema::computed(
                "droplet_ids",
                Type::list(Type::String),
                "The Droplets it is attached to; an attachment changes it, with no note of drift.",
            )
            .changed_by_others(),
            computed("urn", "The uniform resource name, `do:volume:ID`."),
        ],
    )
}

fn volume_attachment() -> Schema {
    kind(
        "A volume attached to a Droplet in the same region.",
        "Its Droplet and volume, `DROPLET_ID,VOLUME_ID`, which is also its import id.",
        vec![
            required("droplet_id", "The Droplet (`digitalocean.droplet`'s `id`).").force_new(),
            required("volume_id", "The volume (`digitalocean.volume`'s `id`).").force_new(),
        ],
    )
}

fn reserved_ip() -> Schema {
    kind(
        "A reserved IP address: a public IPv4 address kept in a region, for `digitalocean.reserved_ip_assignment`.",
        "The address itself.",
        vec![
            region(),
            computed("ip_address", "The address."),
            computed("urn", "The uniform resource name, `do:reservedip:IP`."),
        ],
    )
}

fn reserved_ip_assignment() -> Schema {
    kind(
        "A reserved IP address assigned to a Droplet of its region.",
        "Its address and Droplet, `IP,DROPLET_ID`, which is also its import id.",
        vec![
            required("ip_address", "The address (`digitalocean.reserved_ip`'s `ip_address`).").force_new(),
            required("droplet_id", "The Droplet (`digitalocean.droplet`'s `id`).").force_new(),
        ],
    )
}

pub fn schema() -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    let config = Schema {
        description: "How to reach the DigitalOcean API; each setting falls back to the environment.".to_string(),
        attributes: vec![
            string("token", "A personal access token; else DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN.")
                .sensitive(),
            string(
                "api_url",
                "The API's address; else DIGITALOCEAN_API_URL, else `https://api.digitalocean.com` (a trailing `/v2` \
                 is taken off: every path begins with it).",
            )
            .validate(Validator::Regex {
                pattern: "^https?://[^/?#\\s]+(/[^?#\\s]*)?$".to_string(),
                description: "an `http://` or `https://` address with a host, such as `https://api.digitalocean.com`"
                    .to_string(),
            }),
        ],
        blocks: Vec::new(),
    };
    ProviderSchema {
        name: "digitalocean".to_string(),
        description: "DigitalOcean: Droplets, SSH keys, DNS, Cloud Firewalls, VPCs, volumes and reserved IPs; regions, sizes and images."
            .to_string(),
        config,
        resources: by_name(vec![
            ("domain", domain()),
            ("droplet", droplet()),
            ("firewall", firewall()),
            ("record", record()),
            ("reserved_ip", reserved_ip()),
            ("reserved_ip_assignment", reserved_ip_assignment()),
            ("ssh_key", ssh_key()),
            ("volume", volume()),
            ("volume_attachment", volume_attachment()),
            ("vpc", vpc()),
        ]),
        data_sources: by_name(vec![("image", image_data()), ("regions", regions_data()), ("sizes", sizes_data())]),
    }
}
