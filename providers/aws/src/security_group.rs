//! `aws.security_group`: a group with repeatable `ingress` and `egress` blocks. Each block
//! stands for one rule per CIDR block, and rules are compared one by one: a change revokes
//! exactly the rules that went away and authorizes exactly the new ones.

use std::collections::BTreeMap;

use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;

use super::client::{AwsResult, Client};
use super::ec2::{describe_one, id, p, set_tags, tags_of};
use super::xml::Element;
use super::{attribute, found, number, strings, tags, tags_value, text};

/// One rule: a protocol, a port range, one CIDR block and a description.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from_port: i64,
    to_port: i64,
    cidr: String,
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

/// The rules one block stands for: one per CIDR block.
fn block_rules(block: &Value) -> Vec<Rule> {
    let Some(block) = block.as_map() else { return Vec::new() };
    let port = |name: &str| number(block, name).map_or(0, |n| n as i64);
    strings(block, "cidr_blocks")
        .into_iter()
        .map(|cidr| Rule {
            protocol: text(block, "protocol").unwrap_or_default(),
            from_port: port("from_port"),
            to_port: port("to_port"),
            cidr,
            description: text(block, "description"),
        })
        .collect()
}

fn configured_rules(attributes: &Attributes, direction: Direction) -> Vec<Rule> {
    attribute(attributes, direction.block()).as_list().unwrap_or_default().iter().flat_map(block_rules).collect()
}

/// The rules AWS reports for a group in one direction. Ports are absent for "all
/// protocols" (`-1`); they read as 0, as the configuration writes them.
fn described_rules(group: &Element, direction: Direction) -> Vec<Rule> {
    let mut rules = Vec::new();
    for permission in group.items(direction.described()) {
        let port = |name: &str| permission.text_of(name).and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
        for range in permission.items("ipRanges") {
            rules.push(Rule {
                protocol: permission.text_or_empty("ipProtocol"),
                from_port: port("fromPort"),
                to_port: port("toPort"),
                cidr: range.text_or_empty("cidrIp"),
                description: range.text_of("description").filter(|d| !d.is_empty()).map(str::to_string),
            });
        }
    }
    rules
}

/// The blocks that describe `actual`: the blocks `known` (from state) whose rules all
/// still exist, in their order, then one block per protocol, port range and description
/// for the rules no known block accounts for.
fn blocks(actual: &[Rule], known: &[Value]) -> Value {
    let mut left: Vec<Rule> = actual.to_vec();
    let mut result = Vec::new();
    for block in known {
        let rules = block_rules(block);
        if !rules.is_empty() && rules.iter().all(|r| left.contains(r)) {
            left.retain(|r| !rules.contains(r));
            result.push(block.clone());
        }
    }
    let mut grouped: BTreeMap<(String, i64, i64, Option<String>), Vec<String>> = BTreeMap::new();
    for rule in left {
        grouped.entry((rule.protocol, rule.from_port, rule.to_port, rule.description)).or_default().push(rule.cidr);
    }
    for ((protocol, from_port, to_port, description), cidrs) in grouped {
        let fields = [
            ("from_port", Value::number(from_port as f64)),
            ("to_port", Value::number(to_port as f64)),
            ("protocol", Value::string(protocol)),
            ("cidr_blocks", Value::list(cidrs.into_iter().map(Value::string).collect())),
            ("description", description.map_or_else(Value::null, Value::string)),
        ];
        result.push(Value::map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    }
    Value::list(result)
}

fn rule_params(group: &str, rule: &Rule) -> Vec<(String, String)> {
    let mut params = vec![p("GroupId", group), p("IpPermissions.1.IpProtocol", &rule.protocol)];
    if rule.protocol != "-1" {
        params.push(p("IpPermissions.1.FromPort", rule.from_port.to_string()));
        params.push(p("IpPermissions.1.ToPort", rule.to_port.to_string()));
    }
    params.push(p("IpPermissions.1.IpRanges.1.CidrIp", &rule.cidr));
    if let Some(description) = &rule.description {
        params.push(p("IpPermissions.1.IpRanges.1.Description", description));
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
        let wanted = configured_rules(planned, direction);
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
        let value = blocks(&described_rules(&group, direction), &known(direction));
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
            ("description", Value::null()),
        ];
        Value::map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn known_blocks_read_back_as_written_and_extra_rules_as_new_blocks() {
        let known = [block(443.0, &["0.0.0.0/0"]), block(22.0, &["10.0.0.0/8", "192.168.0.0/16"])];
        let mut actual: Vec<Rule> = known.iter().flat_map(block_rules).collect();
        actual.reverse();
        assert_eq!(blocks(&actual, &known), Value::list(known.to_vec()));

        actual.retain(|r| r.cidr != "10.0.0.0/8");
        actual.push(Rule { from_port: 80, to_port: 80, ..actual[0].clone() });
        let read = blocks(&actual, &known);
        let expected = Value::list(vec![
            known[0].clone(),
            block(22.0, &["192.168.0.0/16"]),
            block(80.0, &[&actual[0].cidr.clone()]),
        ]);
        assert_eq!(read, expected);
    }
}
