//! The `linode` provider's schema: its configuration and every kind, with Terraform's
//! attribute names.

use infra_compiler::schema::{AttributeSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::{kind, timeouts_block};

use super::{computed, length, one_of, repeated, required, string, tags_attribute};

/// A label of an instance or firewall: a letter, then letters, digits, `-`, `_` and `.`.
/// (Linode also refuses `--`, `__` and `..`; the API's message says so.)
fn label(max: usize) -> Validator {
    Validator::Regex {
        pattern: format!("^[a-zA-Z][a-zA-Z0-9._-]{{2,{}}}$", max - 1),
        description: format!("3 to {max} letters, digits, `-`, `_` and `.`, beginning with a letter"),
    }
}

fn instance() -> Schema {
    let mut schema = kind(
        "A Linode: a virtual machine. Created when it is running (or `offline`, with `booted = false`).",
        "The Linode's id, a number.",
        vec![
            string("label", "The Linode's name; Linode makes one up when left out. Changed in place.")
                .also_computed()
                .validate(label(64)),
            required("region", "The region, such as `us-east`.").force_new(),
            required(
                "type",
                "The plan, such as `g6-nanode-1`; resized in place (Linode migrates the Linode, which comes back as it \
                 was: running or off).",
            ),
            string("image", "The image to deploy, such as `linode/debian12`; no disks without it.").force_new(),
            string("root_pass", "The root password of the deployed image; never read back.")
                .sensitive()
                .force_new()
                .force_new_only_if_set()
                .validate(length(7, 128)),
            AttributeSchema::optional(
                "authorized_keys",
                Type::list(Type::String),
                "SSH public keys root accepts, such as `linode.sshkey`'s `ssh_key`; never read back.",
            )
            .force_new()
            .force_new_only_if_set(),
            AttributeSchema::optional(
                "authorized_users",
                Type::list(Type::String),
                "Users of the account whose SSH keys root accepts; never read back.",
            )
            .force_new()
            .force_new_only_if_set(),
            // A string, as every id the provider hands out (`linode.stackscript`'s `id`), so
            // `stackscript_id = boot.id` needs no `tonumber`; a number converts to one.
            string(
                "stackscript_id",
                "A StackScript to run on first boot, by id (`linode.stackscript`'s `id`, or a number such as `12345`).",
            )
            .force_new()
            .force_new_only_if_set()
            .validate(Validator::Regex {
                pattern: "^[0-9]+$".to_string(),
                description: "a StackScript's id, a number such as `12345`".to_string(),
            }),
            AttributeSchema::optional(
                "stackscript_data",
                Type::map(Type::String),
                "The StackScript's user-defined fields; never read back.",
            )
            .sensitive()
            .force_new()
            .force_new_only_if_set(),
            tags_attribute(),
            AttributeSchema::optional("private_ip", Type::Bool, "Whether the Linode has a private IPv4 address.")
                .also_computed()
                .force_new(),
            AttributeSchema::optional(
                "backups_enabled",
                Type::Bool,
                "Whether the Backup service is on; changed in place.",
            )
            .also_computed(),
            AttributeSchema::optional(
                "booted",
                Type::Bool,
                "Whether the Linode runs: true by default with an `image`; changed in place (boot, shut down).",
            )
            .also_computed(),
            AttributeSchema::optional("watchdog_enabled", Type::Bool, "Whether Lassie reboots it when it crashes.")
                .also_computed(),
            AttributeSchema::optional(
                "resize_disk",
                Type::Bool,
                "Whether a new `type` resizes the disk deployed from the image with it (to the whole new plan's, \
                 which a smaller plan needs); false by default, as in Terraform; never read back.",
            ),
            computed("ip_address", "The public IPv4 address."),
            computed("private_ip_address", "The private IPv4 address, with `private_ip`."),
            AttributeSchema::computed("ipv4", Type::list(Type::String), "Every IPv4 address."),
            computed("ipv6", "The SLAAC IPv6 address, with its prefix length."),
            // Linode's API description: the status "may change without direct action from
            // you" (a Linode under maintenance is `stopped`); a reboot changes it too.
            computed(
                "status",
                "The status, such as `running`; Linode changes it on its own (a reboot, maintenance), with no note \
                 of drift.",
            )
            .changed_by_others(),
            AttributeSchema::computed(
                "specs",
                Type::map(Type::Number),
                "The plan's resources: `disk` and `memory` in MB, `vcpus`, `transfer` in GB.",
            ),
        ],
    );
    schema.blocks = vec![timeouts_block(
        "How long to wait for the Linode to reach its status.",
        &[
            ("create", "How long a create waits for the Linode to run, such as \"15m\"; 10 minutes by default."),
            ("update", "How long a resize, boot or shutdown in place waits; 10 minutes by default."),
        ],
    )];
    schema
}

fn sshkey() -> Schema {
    kind(
        "An SSH public key of the account's profile, for instances' `authorized_users`.",
        "The key's id, a number.",
        vec![
            required("label", "The key's name; changed in place.").validate(length(1, 64)),
            required("ssh_key", "The public key in OpenSSH form, such as `tls.private_key`'s.").force_new(),
            computed("created", "When the key was added."),
        ],
    )
}

/// A time in seconds Linode keeps for a zone or record (it rounds other values to one
/// of its own).
fn seconds(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::Number, description).validate(Validator::Range { min: 0, max: 2_419_200 })
}

fn domain() -> Schema {
    kind(
        "A DNS zone Linode's name servers serve.",
        "The domain's id, a number.",
        vec![
            required("domain", "The zone, such as `example.org`.").force_new().compared(Comparison::DnsName),
            required("type", "Either `master` (Linode serves the records) or `slave` (copied from `master_ips`).")
                .force_new()
                .validate(one_of(&["master", "slave"])),
            string("soa_email", "The zone's contact address; required for `master`."),
            string("description", "A description; changed in place.").validate(length(1, 253)),
            string("status", "Either `active` (the default) or `disabled`.").validate(one_of(&["active", "disabled"])),
            tags_attribute(),
            seconds("ttl_sec", "The default time to live of the records."),
            seconds("refresh_sec", "How often secondaries refresh."),
            seconds("retry_sec", "How soon secondaries retry a failed refresh."),
            seconds("expire_sec", "How long secondaries serve without refreshing."),
            AttributeSchema::optional("master_ips", Type::list(Type::String), "A `slave` zone's masters.")
                .compared(Comparison::Set),
            AttributeSchema::optional("axfr_ips", Type::list(Type::String), "Who may transfer the zone.")
                .compared(Comparison::Set),
        ],
    )
}

fn domain_record() -> Schema {
    kind(
        "A record of a `linode.domain`.",
        "The record's id, a number; imported as `DOMAIN_ID,RECORD_ID`.",
        vec![
            required("domain_id", "The domain's id (`linode.domain`'s `id`).").force_new(),
            required("record_type", "The type, such as `A` or `CNAME`.")
                .force_new()
                .validate(one_of(&["A", "AAAA", "NS", "MX", "CNAME", "TXT", "SRV", "PTR", "CAA"])),
            string("name", "The name below the domain, such as `www`; the domain itself when left out.")
                .validate(length(0, 100)),
            required("target", "The value: an address, a name or text, by type.").validate(length(0, 65535)),
            seconds("ttl_sec", "The time to live; the domain's when left out."),
            AttributeSchema::optional("priority", Type::Number, "The priority of an `MX` or `SRV` record.")
                .validate(Validator::Range { min: 0, max: 255 }),
            AttributeSchema::optional("weight", Type::Number, "The weight of an `SRV` record.")
                .validate(Validator::Range { min: 0, max: 65535 }),
            AttributeSchema::optional("port", Type::Number, "The port of an `SRV` record.")
                .validate(Validator::Range { min: 0, max: 65535 }),
        ],
    )
}

fn rule_block(name: &str, direction: &str) -> infra_compiler::schema::BlockSchema {
    repeated(
        name,
        &format!("An {direction} rule, in order; may be repeated, and with `for`."),
        vec![
            required("label", "The rule's name.").validate(length(3, 32)),
            required("action", "What the rule does: `ACCEPT` or `DROP`.").validate(one_of(&["ACCEPT", "DROP"])),
            required("protocol", "The protocol: `TCP`, `UDP`, `ICMP` or `IPENCAP`.")
                .validate(one_of(&["TCP", "UDP", "ICMP", "IPENCAP"])),
            string("ports", "Ports and ranges, such as `22,80,443` or `8000-8080`; every port when left out."),
            AttributeSchema::optional("ipv4", Type::list(Type::String), "The IPv4 ranges, such as `0.0.0.0/0`.")
                .validate(Validator::Ipv4Cidr { min_prefix: 0, max_prefix: 32 }),
            AttributeSchema::optional("ipv6", Type::list(Type::String), "The IPv6 ranges, such as `::/0`."),
            string("description", "A description of the rule.").validate(length(1, 100)),
        ],
    )
}

fn firewall() -> Schema {
    let policy = |name: &str, direction: &str| {
        required(name, &format!("What happens to {direction} traffic no rule matches: `ACCEPT` or `DROP`."))
            .validate(one_of(&["ACCEPT", "DROP"]))
    };
    let mut schema = kind(
        "A Cloud Firewall and the Linodes it protects; everything is changed in place.",
        "The firewall's id, a number.",
        vec![
            required("label", "The firewall's name, unique in the account.").validate(label(32)),
            tags_attribute(),
            AttributeSchema::optional("disabled", Type::Bool, "Whether the firewall is off; false by default."),
            policy("inbound_policy", "inbound"),
            policy("outbound_policy", "outbound"),
            AttributeSchema::optional(
                "linodes",
                Type::list(Type::String),
                "The Linodes it protects, by id (`linode.instance`'s `id`), in any order.",
            )
            .compared(Comparison::Set),
            computed("status", "Either `enabled` or `disabled`."),
        ],
    );
    schema.blocks = vec![rule_block("inbound", "inbound"), rule_block("outbound", "outbound")];
    schema
}

fn volume() -> Schema {
    kind(
        "A Block Storage volume, attached to a Linode through `linode_id`.",
        "The volume's id, a number.",
        vec![
            required("label", "The volume's name; changed in place.").validate(Validator::Regex {
                pattern: "^[a-zA-Z][a-zA-Z0-9_-]{1,31}$".to_string(),
                description: "2 to 32 letters, digits, `-` and `_`, beginning with a letter".to_string(),
            }),
            string("region", "The region; the Linode's when left out with `linode_id`.").also_computed().force_new(),
            AttributeSchema::optional(
                "size",
                Type::Number,
                "The size in GB (20 by default); grown in place, never shrunk.",
            )
            .also_computed()
            .validate(Validator::Range { min: 10, max: 10240 }),
            string("linode_id", "The Linode it is attached to (`linode.instance`'s `id`); changed in place."),
            tags_attribute(),
            computed("status", "The volume's status, such as `active`."),
            computed("filesystem_path", "Where the volume appears on its Linode."),
        ],
    )
}

fn stackscript() -> Schema {
    kind(
        "A StackScript: a script Linode runs on an instance's first boot (`stackscript_id`).",
        "The StackScript's id, a number.",
        vec![
            required("label", "The StackScript's name; changed in place.").validate(length(3, 128)),
            required("script", "The script, starting with `#!`; changed in place."),
            AttributeSchema::required(
                "images",
                Type::list(Type::String),
                "The images it runs on, such as `linode/debian12`, in any order.",
            )
            .compared(Comparison::Set),
            string("description", "A description; changed in place."),
            AttributeSchema::optional(
                "is_public",
                Type::Bool,
                "Whether every Linode user may deploy it; Linode never makes it private again.",
            ),
            string("rev_note", "A note on this revision."),
            computed("username", "The user who owns it."),
            computed("created", "When it was made."),
            computed("updated", "When it was last changed."),
            // Linode counts it up at every deployment, which is no change to the StackScript.
            AttributeSchema::computed(
                "deployments_total",
                Type::Number,
                "How many times Linodes were deployed from it; a deployment changes it, with no note of drift.",
            )
            .changed_by_others(),
        ],
    )
}

pub fn schema() -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    let config = Schema {
        description: "How to reach the Linode API; each setting falls back to the environment.".to_string(),
        attributes: vec![
            string("token", "A personal access token; else LINODE_TOKEN.").sensitive(),
            string("api_url", "The API's address; else LINODE_URL, else `https://api.linode.com/v4`.").validate(
                Validator::Regex {
                    pattern: super::client::ADDRESS_PATTERN.to_string(),
                    description: "an address with its scheme, such as `https://api.linode.com/v4`".to_string(),
                },
            ),
        ],
        blocks: Vec::new(),
    };
    ProviderSchema {
        name: "linode".to_string(),
        description: "Linode (Akamai Cloud): servers, SSH keys, DNS, firewalls, volumes and StackScripts.".to_string(),
        config,
        resources: by_name(vec![
            ("domain", domain()),
            ("domain_record", domain_record()),
            ("firewall", firewall()),
            ("instance", instance()),
            ("sshkey", sshkey()),
            ("stackscript", stackscript()),
            ("volume", volume()),
        ]),
        data_sources: by_name(super::data::schemas()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attributes a refresh records without a drift note are computed ones that
    /// Linode's API description says change without a change to the object: an instance's
    /// `status` ("may change without direct action from you") and a StackScript's
    /// `deployments_total` (every deployment counts). Never one the configuration sets.
    #[test]
    fn only_what_linode_changes_on_its_own_is_changed_by_others() {
        let schema = schema();
        let marked: Vec<(String, String)> = schema
            .resources
            .iter()
            .flat_map(|(kind, s)| s.attributes.iter().map(move |a| (kind, a)))
            .filter(|(_, a)| a.changed_by_others)
            .map(|(kind, a)| {
                assert!(a.computed && !a.settable, "`{kind}.{}` is set by configuration", a.name);
                (kind.clone(), a.name.clone())
            })
            .collect();
        let expected = [("instance", "status"), ("stackscript", "deployments_total")];
        assert_eq!(marked, expected.map(|(k, a)| (k.to_string(), a.to_string())));
    }
}
