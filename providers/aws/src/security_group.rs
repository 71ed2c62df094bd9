//! `aws.security_group`: a group with repeatable `ingress` and `egress` blocks. Each block
//! stands for one rule per peer it names (an IPv4 or IPv6 block, a security group, the
//! group itself, a prefix list), and rules are compared one by one: a change revokes
//! exactly the rules that went away and authorizes exactly the new ones.

use std::collections::BTreeMap;

use infra_runtime::provider::{Attributes, CreateProgress, ProviderError};
use infra_runtime::Value;

use super::client::{AwsResult, Client};
use super::ec2::{describe_one, id, p, set_tags, tags_of};
use super::xml::Element;
use super::{attribute, flag, found, number, strings, tags, tags_value, text};

/// Who a rule lets traffic come from (ingress) or go to (egress): the four kinds of peer
/// an EC2 permission lists, each in a list of its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Ipv4(String),
    Ipv6(String),
    Group(String),
    PrefixList(String),
}

/// How each kind of peer is named: in a block, in a permission EC2 describes (the list
/// and the field of its items), and in a request (the list and the field).
struct PeerForm {
    block: &'static str,
    described: (&'static str, &'static str),
    request: (&'static str, &'static str),
    make: fn(String) -> Peer,
}

/// The peers' forms; `self` is not among them: it is the group's own id in `Group`.
static PEER_FORMS: [PeerForm; 4] = [
    PeerForm {
        block: "cidr_blocks",
        described: ("ipRanges", "cidrIp"),
        request: ("IpRanges", "CidrIp"),
        make: Peer::Ipv4,
    },
    PeerForm {
        block: "ipv6_cidr_blocks",
        described: ("ipv6Ranges", "cidrIpv6"),
        request: ("Ipv6Ranges", "CidrIpv6"),
        make: Peer::Ipv6,
    },
    PeerForm {
        block: "security_groups",
        described: ("groups", "groupId"),
        // The Query API names the list `Groups` (its XML name), as the AWS CLI sends it,
        // not `UserIdGroupPairs`: moto ignores that name and authorizes nothing.
        request: ("Groups", "GroupId"),
        make: Peer::Group,
    },
    PeerForm {
        block: "prefix_list_ids",
        described: ("prefixListIds", "prefixListId"),
        request: ("PrefixListIds", "PrefixListId"),
        make: Peer::PrefixList,
    },
];

impl Peer {
    fn form(&self) -> &'static PeerForm {
        let index = match self {
            Peer::Ipv4(_) => 0,
            Peer::Ipv6(_) => 1,
            Peer::Group(_) => 2,
            Peer::PrefixList(_) => 3,
        };
        &PEER_FORMS[index]
    }

    fn name(&self) -> &str {
        match self {
            Peer::Ipv4(name) | Peer::Ipv6(name) | Peer::Group(name) | Peer::PrefixList(name) => name,
        }
    }
}

/// One rule: a protocol, a port range, one peer and a description.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from_port: i64,
    to_port: i64,
    peer: Peer,
    description: Option<String>,
}

/// The two directions, with the names the API and the configuration use for them.
#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn block(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    fn described(self) -> &'static str {
        match self {
            Direction::Ingress => "ipPermissions",
            Direction::Egress => "ipPermissionsEgress",
        }
    }

    fn authorize(self) -> &'static str {
        match self {
            Direction::Ingress => "AuthorizeSecurityGroupIngress",
            Direction::Egress => "AuthorizeSecurityGroupEgress",
        }
    }

    fn revoke(self) -> &'static str {
        match self {
            Direction::Ingress => "RevokeSecurityGroupIngress",
            Direction::Egress => "RevokeSecurityGroupEgress",
        }
    }
}

/// The rules one block stands for: one per peer it names, `self` standing for the group
/// itself (`own_id`).
fn block_rules(block: &Value, own_id: &str) -> Vec<Rule> {
    let Some(block) = block.as_map() else { return Vec::new() };
    let mut peers: Vec<Peer> =
        PEER_FORMS.iter().flat_map(|form| strings(block, form.block).into_iter().map(form.make)).collect();
    if flag(block, "self") == Some(true) {
        peers.push(Peer::Group(own_id.to_string()));
    }
    let port = |name: &str| number(block, name).map_or(0, |n| n as i64);
    peers
        .into_iter()
        .map(|peer| Rule {
            protocol: text(block, "protocol").unwrap_or_default(),
            from_port: port("from_port"),
            to_port: port("to_port"),
            peer,
            description: text(block, "description"),
        })
        .collect()
}

/// The blocks of a configuration that name no peer at all: they would stand for no rule.
/// A block whose peers are not known yet is left to the plan that knows them.
pub(super) fn rule_errors(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        let blocks = attribute(config, direction.block()).as_list().unwrap_or_default();
        // A list with elements names a peer even when they are not known yet.
        let empty = |block: &Attributes| {
            let no_list = |name: &str| {
                let value = attribute(block, name);
                value.is_known() && value.as_list().is_none_or(<[Value]>::is_empty)
            };
            let no_self = attribute(block, "self").is_known() && flag(block, "self") != Some(true);
            PEER_FORMS.iter().all(|form| no_list(form.block)) && no_self
        };
        if blocks.iter().filter_map(Value::as_map).any(empty) {
            let block = direction.block();
            errors.push(
                ProviderError::new(format!("an `{block}` block names no peer, so it stands for no rule"))
                    .on_attribute(block)
                    .with_help(
                        "set at least one of `cidr_blocks`, `ipv6_cidr_blocks`, `security_groups`, \
                         `prefix_list_ids` and `self = true`",
                    ),
            );
        }
    }
    errors
}

fn configured_rules(attributes: &Attributes, direction: Direction, own_id: &str) -> Vec<Rule> {
    let blocks = attribute(attributes, direction.block()).as_list().unwrap_or_default();
    blocks.iter().flat_map(|block| block_rules(block, own_id)).collect()
}

/// The rules AWS reports for a group in one direction, one per peer of each permission.
/// Ports are absent for "all protocols" (`-1`); they read as 0, as the configuration
/// writes them.
fn described_rules(group: &Element, direction: Direction) -> Vec<Rule> {
    let mut rules = Vec::new();
    for permission in group.items(direction.described()) {
        let port = |name: &str| permission.text_of(name).and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
        for form in &PEER_FORMS {
            let (list, field) = form.described;
            for item in permission.items(list) {
                rules.push(Rule {
                    protocol: permission.text_or_empty("ipProtocol"),
                    from_port: port("fromPort"),
                    to_port: port("toPort"),
                    peer: (form.make)(item.text_or_empty(field)),
                    description: item.text_of("description").filter(|d| !d.is_empty()).map(str::to_string),
                });
            }
        }
    }
    rules
}

/// The blocks that describe `actual`: the blocks `known` (from state) whose rules all
/// still exist, in their order, then one block per protocol, port range and description
/// for the rules no known block accounts for, the group's own id (`own_id`) as `self`.
/// A list with no peer in it, and `self` when the group is not among them, read as null,
/// as a block that leaves them out has them.
fn blocks(actual: &[Rule], known: &[Value], own_id: &str) -> Value {
    let mut left: Vec<Rule> = actual.to_vec();
    let mut result = Vec::new();
    for block in known {
        let rules = block_rules(block, own_id);
        if !rules.is_empty() && rules.iter().all(|r| left.contains(r)) {
            left.retain(|r| !rules.contains(r));
            result.push(block.clone());
        }
    }
    let mut grouped: BTreeMap<(String, i64, i64, Option<String>), Vec<Peer>> = BTreeMap::new();
    for rule in left {
        grouped.entry((rule.protocol, rule.from_port, rule.to_port, rule.description)).or_default().push(rule.peer);
    }
    for ((protocol, from_port, to_port, description), peers) in grouped {
        result.push(new_block((protocol, from_port, to_port), description, &peers, own_id));
    }
    Value::list(result)
}

/// A block for rules no known block accounts for.
fn new_block(
    (protocol, from_port, to_port): (String, i64, i64),
    description: Option<String>,
    peers: &[Peer],
    own_id: &str,
) -> Value {
    let is_self = |peer: &Peer| *peer == Peer::Group(own_id.to_string());
    let mut fields = vec![
        ("from_port", Value::number(from_port as f64)),
        ("to_port", Value::number(to_port as f64)),
        ("protocol", Value::string(protocol)),
    ];
    for form in &PEER_FORMS {
        let names: Vec<Value> = peers
            .iter()
            .filter(|peer| peer.form().block == form.block && !is_self(peer))
            .map(|peer| Value::string(peer.name()))
            .collect();
        fields.push((form.block, if names.is_empty() { Value::null() } else { Value::list(names) }));
    }
    fields.push(("self", if peers.iter().any(is_self) { Value::bool(true) } else { Value::null() }));
    fields.push(("description", description.map_or_else(Value::null, Value::string)));
    Value::map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn rule_params(group: &str, rule: &Rule) -> Vec<(String, String)> {
    let mut params = vec![p("GroupId", group), p("IpPermissions.1.IpProtocol", &rule.protocol)];
    if rule.protocol != "-1" {
        params.push(p("IpPermissions.1.FromPort", rule.from_port.to_string()));
        params.push(p("IpPermissions.1.ToPort", rule.to_port.to_string()));
    }
    let (list, field) = rule.peer.form().request;
    params.push(p(format!("IpPermissions.1.{list}.1.{field}"), rule.peer.name()));
    if let Some(description) = &rule.description {
        params.push(p(format!("IpPermissions.1.{list}.1.Description"), description));
    }
    params
}

/// Makes the group's rules in both directions those `planned` asks for, starting from what
/// AWS has now.
async fn sync_rules(client: &Client, group_id: &str, planned: &Attributes) -> AwsResult<()> {
    let Some(group) = describe(client, group_id).await? else {
        return Err(client.failure(super::client::Service::Ec2, "DescribeSecurityGroups", "the group disappeared"));
    };
    for direction in [Direction::Ingress, Direction::Egress] {
        let actual = described_rules(&group, direction);
        let wanted = configured_rules(planned, direction, group_id);
        for rule in actual.iter().filter(|r| !wanted.contains(r)) {
            client.ec2(direction.revoke(), &rule_params(group_id, rule)).await?;
        }
        for rule in wanted.iter().filter(|r| !actual.contains(r)) {
            client.ec2(direction.authorize(), &rule_params(group_id, rule)).await?;
        }
    }
    Ok(())
}

async fn describe(client: &Client, id: &str) -> AwsResult<Option<Element>> {
    describe_one(client, "DescribeSecurityGroups", "GroupId", id, "securityGroupInfo").await
}

pub async fn create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let mut params = vec![
        p("GroupName", text(planned, "name").unwrap_or_default()),
        p("GroupDescription", text(planned, "description").unwrap_or_default()),
    ];
    let vpc = text(planned, "vpc_id");
    if let Some(vpc) = &vpc {
        params.push(p("VpcId", vpc));
    }
    let place = vpc.map_or_else(|| "the default VPC".to_string(), |vpc| format!("VPC `{vpc}`"));
    let made = format!("a security group named `{}` in {place}", params[0].1);
    let answer = client.ec2("CreateSecurityGroup", &params).await.map_err(|e| e.made(made))?;
    let id = answer.text_or_empty("groupId");
    progress.exists(super::existing(planned, &id));
    // A new group in a VPC allows all outbound traffic; like Terraform, only the rules
    // the configuration lists are kept.
    sync_rules(client, &id, planned).await?;
    set_tags(client, &id, &BTreeMap::new(), &tags(planned)).await?;
    let state = with_id(planned, &id);
    found(read(client, &state).await?, client, "CreateSecurityGroup")
}

fn with_id(attributes: &Attributes, id: &str) -> Attributes {
    let mut attributes = attributes.clone();
    attributes.insert("id".to_string(), Value::string(id));
    attributes
}

pub async fn read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(group) = describe(client, &id(current)).await? else { return Ok(None) };
    let mut attributes = current.clone();
    let vpc = group.text_of("vpcId").filter(|v| !v.is_empty());
    let known = |direction: Direction| attribute(current, direction.block()).as_list().unwrap_or_default().to_vec();
    attributes.extend([
        ("name".to_string(), Value::string(group.text_or_empty("groupName"))),
        ("description".to_string(), Value::string(group.text_or_empty("groupDescription"))),
        ("vpc_id".to_string(), vpc.map_or_else(Value::null, Value::string)),
        ("owner_id".to_string(), Value::string(group.text_or_empty("ownerId"))),
        ("tags".to_string(), tags_value(tags_of(&group), attribute(current, "tags"))),
    ]);
    for direction in [Direction::Ingress, Direction::Egress] {
        let value = blocks(&described_rules(&group, direction), &known(direction), &id(current));
        attributes.insert(direction.block().to_string(), value);
    }
    Ok(Some(attributes))
}

pub async fn update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    sync_rules(client, &id, planned).await?;
    set_tags(client, &id, &tags(prior), &tags(planned)).await?;
    found(read(client, &with_id(planned, &id)).await?, client, "AuthorizeSecurityGroupIngress")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(from: f64, cidrs: &[&str]) -> Value {
        let fields = [
            ("from_port", Value::number(from)),
            ("to_port", Value::number(from)),
            ("protocol", Value::string("tcp")),
            ("cidr_blocks", Value::list(cidrs.iter().map(|c| Value::string(*c)).collect())),
            ("ipv6_cidr_blocks", Value::null()),
            ("security_groups", Value::null()),
            ("prefix_list_ids", Value::null()),
            ("self", Value::null()),
            ("description", Value::null()),
        ];
        Value::map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    const OWN: &str = "sg-own";

    #[test]
    fn known_blocks_read_back_as_written_and_extra_rules_as_new_blocks() {
        let known = [block(443.0, &["0.0.0.0/0"]), block(22.0, &["10.0.0.0/8", "192.168.0.0/16"])];
        let mut actual: Vec<Rule> = known.iter().flat_map(|b| block_rules(b, OWN)).collect();
        actual.reverse();
        assert_eq!(blocks(&actual, &known, OWN), Value::list(known.to_vec()));

        actual.retain(|r| r.peer != Peer::Ipv4("10.0.0.0/8".to_string()));
        actual.push(Rule { from_port: 80, to_port: 80, ..actual[0].clone() });
        let read = blocks(&actual, &known, OWN);
        let expected = Value::list(vec![
            known[0].clone(),
            block(22.0, &["192.168.0.0/16"]),
            block(80.0, &[actual[0].peer.name()]),
        ]);
        assert_eq!(read, expected);
    }

    /// Rules added outside Infra that name an IPv6 block, another group, the group itself
    /// or a prefix list read as a new block with each in its own attribute.
    #[test]
    fn extra_rules_of_every_peer_read_as_a_new_block() {
        let rule =
            |peer: Peer| Rule { protocol: "tcp".into(), from_port: 5432, to_port: 5432, peer, description: None };
        let peers = [
            Peer::Ipv6("::/0".into()),
            Peer::Group("sg-other".into()),
            Peer::Group(OWN.into()),
            Peer::PrefixList("pl-1".into()),
        ];
        let actual: Vec<Rule> = peers.iter().cloned().map(rule).collect();
        let read = blocks(&actual, &[], OWN);
        let list = |name: &str| Value::list(vec![Value::string(name)]);
        let mut fields: BTreeMap<String, Value> =
            block(5432.0, &[]).as_map().expect("a block").iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        fields.insert("cidr_blocks".into(), Value::null());
        fields.insert("ipv6_cidr_blocks".into(), list("::/0"));
        fields.insert("security_groups".into(), list("sg-other"));
        fields.insert("prefix_list_ids".into(), list("pl-1"));
        fields.insert("self".into(), Value::bool(true));
        let expected = Value::map(fields);
        assert_eq!(read, Value::list(vec![expected.clone()]));
        // Read back as written, the block accounts for every rule it stands for.
        let mut again = block_rules(&expected, OWN);
        again.sort();
        let mut sorted = actual.clone();
        sorted.sort();
        assert_eq!(again, sorted);
        assert_eq!(blocks(&actual, std::slice::from_ref(&expected), OWN), Value::list(vec![expected]));
    }

    #[test]
    fn a_block_naming_no_peer_is_refused_but_one_naming_peers_not_known_yet_is_not() {
        let config = |peers: Value| {
            let mut fields: BTreeMap<String, Value> =
                block(22.0, &[]).as_map().expect("a block").iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            fields.insert("security_groups".into(), peers);
            let attributes: Attributes = [("ingress".to_string(), Value::list(vec![Value::map(fields)]))].into();
            attributes
        };
        let refused = rule_errors(&config(Value::null()));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].attribute.as_deref(), Some("ingress"));
        let unknown = Value::list(vec![Value::unknown(infra_compiler::types::Type::String)]);
        assert!(rule_errors(&config(unknown)).is_empty());
        assert!(rule_errors(&config(Value::unknown(infra_compiler::types::Type::list(
            infra_compiler::types::Type::String
        ))))
        .is_empty());
    }
}
