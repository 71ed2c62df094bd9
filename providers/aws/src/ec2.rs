//! The EC2 networking resources (`aws.vpc`, `aws.subnet`, `aws.internet_gateway`,
//! `aws.route_table`, `aws.route_table_association`), EC2 tags, and the data sources
//! `aws.availability_zones` and `aws.vpc`.

use std::collections::BTreeMap;

use infra_runtime::provider::{Attributes, CreateProgress};
use infra_runtime::Value;

use super::client::{AwsResult, Client};
use super::xml::Element;
use super::{flag, strings, tags_value, text};

/// One Query API parameter.
pub fn p(name: impl Into<String>, value: impl Into<String>) -> (String, String) {
    (name.into(), value.into())
}

/// Describes one object by id: `None` when AWS says it does not exist.
pub async fn describe_one(
    client: &Client,
    action: &str,
    id_param: &str,
    id: &str,
    list: &str,
) -> AwsResult<Option<Element>> {
    match client.ec2_describe(action, &[p(format!("{id_param}.1"), id)], list).await {
        Ok(items) => Ok(items.into_iter().next()),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// An idempotency token for one create (`ClientToken`, up to 64 ASCII characters): sent
/// in each attempt of the create, so EC2 answers a repeat with the object the first
/// attempt made instead of making a second.
pub fn client_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().gen();
    format!("infra-{}", hex::encode(bytes))
}

/// `Filter.N.Name` / `Filter.N.Value.M` parameters.
pub fn filters(filters: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    let mut params = Vec::new();
    for (i, (name, values)) in filters.iter().enumerate() {
        params.push(p(format!("Filter.{}.Name", i + 1), name));
        for (j, value) in values.iter().enumerate() {
            params.push(p(format!("Filter.{}.Value.{}", i + 1, j + 1), value));
        }
    }
    params
}

/// The tags in an EC2 object's `tagSet`.
pub fn tags_of(element: &Element) -> BTreeMap<String, String> {
    element.items("tagSet").map(|t| (t.text_or_empty("key"), t.text_or_empty("value"))).collect()
}

/// Makes an object's tags `new` where they were `old`: deletes the keys that went away and
/// writes the ones that are new or changed, so untouched tags are left alone.
pub async fn set_tags(
    client: &Client,
    id: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> AwsResult<()> {
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    if !removed.is_empty() {
        let mut params = vec![p("ResourceId.1", id)];
        for (i, key) in removed.iter().enumerate() {
            params.push(p(format!("Tag.{}.Key", i + 1), key.as_str()));
        }
        client.ec2("DeleteTags", &params).await?;
    }
    let changed: Vec<(&String, &String)> = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).collect();
    if !changed.is_empty() {
        let mut params = vec![p("ResourceId.1", id)];
        for (i, (key, value)) in changed.iter().enumerate() {
            params.push(p(format!("Tag.{}.Key", i + 1), key.as_str()));
            params.push(p(format!("Tag.{}.Value", i + 1), value.as_str()));
        }
        client.ec2("CreateTags", &params).await?;
    }
    Ok(())
}

/// The id of the object an instance's attributes describe.
pub fn id(attributes: &Attributes) -> String {
    text(attributes, "id").unwrap_or_default()
}

/// Deletes with `action`, treating "already gone" as done.
pub async fn delete_by_id(client: &Client, action: &str, id_param: &str, id: &str) -> AwsResult<()> {
    match client.ec2(action, &[p(id_param, id)]).await {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

fn with(current: &Attributes, values: Vec<(&str, Value)>) -> Attributes {
    let mut attributes = current.clone();
    attributes.extend(values.into_iter().map(|(k, v)| (k.to_string(), v)));
    attributes
}

fn string(text: &str) -> Value {
    Value::string(text)
}

fn optional_string(text: Option<&str>) -> Value {
    text.filter(|t| !t.is_empty()).map_or_else(Value::null, Value::string)
}

// --- aws.vpc -------------------------------------------------------------------------

pub async fn vpc_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let cidr = text(planned, "cidr_block").unwrap_or_default();
    let made = || format!("a VPC with CIDR block `{cidr}`");
    let answer = client.ec2("CreateVpc", &[p("CidrBlock", &cidr)]).await.map_err(|e| e.made(made()))?;
    let id = answer.at(&["vpc", "vpcId"]).map(|e| e.text.clone()).unwrap_or_default();
    let mut state = planned.clone();
    state.insert("id".to_string(), Value::string(&id));
    progress.exists(super::existing(planned, &id));
    vpc_settings(client, &id, None, planned).await?;
    set_tags(client, &id, &BTreeMap::new(), &super::tags(planned)).await?;
    super::found(vpc_read(client, &state).await?, client, "CreateVpc")
}

async fn vpc_settings(client: &Client, id: &str, prior: Option<&Attributes>, planned: &Attributes) -> AwsResult<()> {
    for (name, api) in [("enable_dns_support", "EnableDnsSupport"), ("enable_dns_hostnames", "EnableDnsHostnames")] {
        let Some(wanted) = flag(planned, name) else { continue };
        let default = name == "enable_dns_support";
        let before = prior.and_then(|p| flag(p, name)).unwrap_or(default);
        if wanted != before {
            client.ec2("ModifyVpcAttribute", &[p("VpcId", id), p(format!("{api}.Value"), wanted.to_string())]).await?;
        }
    }
    Ok(())
}

pub async fn vpc_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let id = id(current);
    let Some(vpc) = describe_one(client, "DescribeVpcs", "VpcId", &id, "vpcSet").await? else { return Ok(None) };
    let mut values = vpc_values(client, &vpc, current).await?;
    for (name, api, result) in [
        ("enable_dns_support", "enableDnsSupport", "enableDnsSupport"),
        ("enable_dns_hostnames", "enableDnsHostnames", "enableDnsHostnames"),
    ] {
        let answer = client.ec2("DescribeVpcAttribute", &[p("VpcId", &id), p("Attribute", api)]).await?;
        let value = answer.at(&[result, "value"]).map(|v| v.text == "true").unwrap_or(false);
        values.push((name, Value::bool(value)));
    }
    Ok(Some(with(current, values)))
}

/// The attributes of a VPC shared by the resource and the data source.
async fn vpc_values(client: &Client, vpc: &Element, current: &Attributes) -> AwsResult<Vec<(&'static str, Value)>> {
    let id = vpc.text_or_empty("vpcId");
    let vpc_filter = (String::from("vpc-id"), vec![id.clone()]);
    let main = (String::from("association.main"), vec!["true".to_string()]);
    let tables =
        client.ec2_describe("DescribeRouteTables", &filters(&[vpc_filter.clone(), main]), "routeTableSet").await?;
    let default_group = (String::from("group-name"), vec!["default".to_string()]);
    let groups = client
        .ec2_describe("DescribeSecurityGroups", &filters(&[vpc_filter, default_group]), "securityGroupInfo")
        .await?;
    Ok(vec![
        ("id", Value::string(&id)),
        ("cidr_block", string(&vpc.text_or_empty("cidrBlock"))),
        ("tags", tags_value(tags_of(vpc), super::attribute(current, "tags"))),
        ("main_route_table_id", optional_string(tables.first().and_then(|t| t.text_of("routeTableId")))),
        ("default_security_group_id", optional_string(groups.first().and_then(|g| g.text_of("groupId")))),
        ("owner_id", optional_string(vpc.text_of("ownerId"))),
    ])
}

pub async fn vpc_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    vpc_settings(client, &id, Some(prior), planned).await?;
    set_tags(client, &id, &super::tags(prior), &super::tags(planned)).await?;
    super::found(
        vpc_read(client, &with(planned, vec![("id", Value::string(&id))])).await?,
        client,
        "ModifyVpcAttribute",
    )
}

/// The `aws.vpc` data source: the one VPC matching `default`, `cidr_block`, `tags`
/// and `filter` blocks.
pub async fn vpc_lookup(client: &Client, config: &Attributes) -> AwsResult<Attributes> {
    let mut wanted = block_filters(config);
    if let Some(is_default) = flag(config, "default") {
        wanted.push(("isDefault".to_string(), vec![is_default.to_string()]));
    }
    if let Some(cidr) = text(config, "cidr_block") {
        wanted.push(("cidr".to_string(), vec![cidr]));
    }
    for (key, value) in super::tags(config) {
        wanted.push((format!("tag:{key}"), vec![value]));
    }
    let params = filters(&wanted);
    let vpcs = client.ec2_describe("DescribeVpcs", &params, "vpcSet").await?;
    if vpcs.len() != 1 {
        let message = format!("{} VPCs match; the data source needs exactly one", vpcs.len());
        return Err(client.failure(super::client::Service::Ec2, "DescribeVpcs", message));
    }
    let values = vpc_values(client, &vpcs[0], config).await?;
    let mut attributes = with(config, values);
    attributes.insert("default".to_string(), Value::bool(vpcs[0].text_of("isDefault") == Some("true")));
    Ok(attributes)
}

/// The `filter { name, values }` blocks of a data source.
pub fn block_filters(config: &Attributes) -> Vec<(String, Vec<String>)> {
    let blocks = super::attribute(config, "filter").as_list().unwrap_or_default();
    blocks
        .iter()
        .filter_map(|block| {
            let block = block.as_map()?;
            Some((text(block, "name")?, strings(block, "values")))
        })
        .collect()
}

// --- aws.subnet ----------------------------------------------------------------------

pub async fn subnet_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let mut params = vec![
        p("VpcId", text(planned, "vpc_id").unwrap_or_default()),
        p("CidrBlock", text(planned, "cidr_block").unwrap_or_default()),
    ];
    if let Some(zone) = text(planned, "availability_zone") {
        params.push(p("AvailabilityZone", zone));
    }
    let made = format!("a subnet with CIDR block `{}` in VPC `{}`", params[1].1, params[0].1);
    let answer = client.ec2("CreateSubnet", &params).await.map_err(|e| e.made(made))?;
    let id = answer.at(&["subnet", "subnetId"]).map(|e| e.text.clone()).unwrap_or_default();
    progress.exists(super::existing(planned, &id));
    if flag(planned, "map_public_ip_on_launch") == Some(true) {
        map_public_ip(client, &id, true).await?;
    }
    set_tags(client, &id, &BTreeMap::new(), &super::tags(planned)).await?;
    super::found(subnet_read(client, &with(planned, vec![("id", Value::string(&id))])).await?, client, "CreateSubnet")
}

async fn map_public_ip(client: &Client, id: &str, on: bool) -> AwsResult<()> {
    let params = [p("SubnetId", id), p("MapPublicIpOnLaunch.Value", on.to_string())];
    client.ec2("ModifySubnetAttribute", &params).await.map(drop)
}

pub async fn subnet_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(subnet) = describe_one(client, "DescribeSubnets", "SubnetId", &id(current), "subnetSet").await? else {
        return Ok(None);
    };
    Ok(Some(with(
        current,
        vec![
            ("vpc_id", string(&subnet.text_or_empty("vpcId"))),
            ("cidr_block", string(&subnet.text_or_empty("cidrBlock"))),
            ("availability_zone", string(&subnet.text_or_empty("availabilityZone"))),
            ("map_public_ip_on_launch", Value::bool(subnet.text_of("mapPublicIpOnLaunch") == Some("true"))),
            ("tags", tags_value(tags_of(&subnet), super::attribute(current, "tags"))),
        ],
    )))
}

pub async fn subnet_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    let wanted = flag(planned, "map_public_ip_on_launch").unwrap_or(false);
    if wanted != flag(prior, "map_public_ip_on_launch").unwrap_or(false) {
        map_public_ip(client, &id, wanted).await?;
    }
    set_tags(client, &id, &super::tags(prior), &super::tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(subnet_read(client, &state).await?, client, "ModifySubnetAttribute")
}

// --- aws.internet_gateway ------------------------------------------------------------

pub async fn gateway_create(client: &Client, planned: &Attributes, progress: &CreateProgress) -> AwsResult<Attributes> {
    let made = "an internet gateway attached to no VPC";
    let answer = client.ec2("CreateInternetGateway", &[]).await.map_err(|e| e.made(made))?;
    let id = answer.at(&["internetGateway", "internetGatewayId"]).map(|e| e.text.clone()).unwrap_or_default();
    progress.exists(super::existing(planned, &id));
    if let Some(vpc) = text(planned, "vpc_id") {
        client.ec2("AttachInternetGateway", &[p("InternetGatewayId", &id), p("VpcId", vpc)]).await?;
    }
    set_tags(client, &id, &BTreeMap::new(), &super::tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(gateway_read(client, &state).await?, client, "CreateInternetGateway")
}

pub async fn gateway_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(gateway) =
        describe_one(client, "DescribeInternetGateways", "InternetGatewayId", &id(current), "internetGatewaySet")
            .await?
    else {
        return Ok(None);
    };
    let vpc = gateway.items("attachmentSet").find_map(|a| a.text_of("vpcId")).filter(|v| !v.is_empty());
    Ok(Some(with(
        current,
        vec![
            ("vpc_id", optional_string(vpc)),
            ("owner_id", optional_string(gateway.text_of("ownerId"))),
            ("tags", tags_value(tags_of(&gateway), super::attribute(current, "tags"))),
        ],
    )))
}

pub async fn gateway_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    let (before, after) = (text(prior, "vpc_id"), text(planned, "vpc_id"));
    if before != after {
        if let Some(vpc) = before {
            client.ec2("DetachInternetGateway", &[p("InternetGatewayId", &id), p("VpcId", vpc)]).await?;
        }
        if let Some(vpc) = after {
            client.ec2("AttachInternetGateway", &[p("InternetGatewayId", &id), p("VpcId", vpc)]).await?;
        }
    }
    set_tags(client, &id, &super::tags(prior), &super::tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(gateway_read(client, &state).await?, client, "AttachInternetGateway")
}

pub async fn gateway_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    let id = id(current);
    if let Some(vpc) = text(current, "vpc_id") {
        match client.ec2("DetachInternetGateway", &[p("InternetGatewayId", &id), p("VpcId", vpc)]).await {
            Err(error) if !error.is_not_found() && error.code != "Gateway.NotAttached" => return Err(error),
            _ => {}
        }
    }
    delete_by_id(client, "DeleteInternetGateway", "InternetGatewayId", &id).await
}

// --- aws.route_table -----------------------------------------------------------------

/// A route: its destination and target, the fields of a `route` block.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    cidr_block: String,
    gateway_id: Option<String>,
}

impl Route {
    fn value(&self) -> Value {
        let fields = [
            ("cidr_block".to_string(), Value::string(&self.cidr_block)),
            ("gateway_id".to_string(), self.gateway_id.as_deref().map_or_else(Value::null, Value::string)),
        ];
        Value::map(fields.into_iter().collect())
    }

    fn params(&self, table: &str) -> Vec<(String, String)> {
        let mut params = vec![p("RouteTableId", table), p("DestinationCidrBlock", &self.cidr_block)];
        if let Some(gateway) = &self.gateway_id {
            params.push(p("GatewayId", gateway));
        }
        params
    }
}

fn routes(attributes: &Attributes) -> Vec<Route> {
    let blocks = super::attribute(attributes, "route").as_list().unwrap_or_default();
    blocks
        .iter()
        .filter_map(|block| {
            let block = block.as_map()?;
            Some(Route { cidr_block: text(block, "cidr_block")?, gateway_id: text(block, "gateway_id") })
        })
        .collect()
}

pub async fn route_table_create(
    client: &Client,
    planned: &Attributes,
    progress: &CreateProgress,
) -> AwsResult<Attributes> {
    let vpc = text(planned, "vpc_id").unwrap_or_default();
    let made = || format!("a route table in VPC `{vpc}`");
    let params = [p("VpcId", &vpc), p("ClientToken", client_token())];
    let answer = client.ec2("CreateRouteTable", &params).await.map_err(|e| e.made(made()))?;
    let id = answer.at(&["routeTable", "routeTableId"]).map(|e| e.text.clone()).unwrap_or_default();
    progress.exists(super::existing(planned, &id));
    for route in routes(planned) {
        create_route(client, &route.params(&id)).await?;
    }
    set_tags(client, &id, &BTreeMap::new(), &super::tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(route_table_read(client, &state).await?, client, "CreateRouteTable")
}

pub async fn route_table_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let Some(table) =
        describe_one(client, "DescribeRouteTables", "RouteTableId", &id(current), "routeTableSet").await?
    else {
        return Ok(None);
    };
    let actual: Vec<Route> = table
        .items("routeSet")
        .filter(|r| r.text_of("gatewayId") != Some("local") && r.text_of("destinationCidrBlock").is_some())
        .map(|r| Route {
            cidr_block: r.text_or_empty("destinationCidrBlock"),
            gateway_id: r.text_of("gatewayId").filter(|g| !g.is_empty()).map(str::to_string),
        })
        .collect();
    // Keep the order the state has, so an unchanged table reads back equal.
    let known = routes(current);
    let mut ordered: Vec<&Route> = known.iter().filter(|r| actual.contains(r)).collect();
    ordered.extend(actual.iter().filter(|r| !known.contains(r)));
    Ok(Some(with(
        current,
        vec![
            ("vpc_id", string(&table.text_or_empty("vpcId"))),
            ("route", Value::list(ordered.into_iter().map(Route::value).collect())),
            ("tags", tags_value(tags_of(&table), super::attribute(current, "tags"))),
        ],
    )))
}

/// Routes are changed one by one: those no longer wanted are deleted, those whose target
/// changed are replaced, new ones are created.
pub async fn route_table_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let id = id(prior);
    let (before, after) = (routes(prior), routes(planned));
    for route in before.iter().filter(|r| !after.iter().any(|a| a.cidr_block == r.cidr_block)) {
        client.ec2("DeleteRoute", &[p("RouteTableId", &id), p("DestinationCidrBlock", &route.cidr_block)]).await?;
    }
    for route in &after {
        match before.iter().find(|b| b.cidr_block == route.cidr_block) {
            Some(old) if old == route => {}
            Some(_) => drop(client.ec2("ReplaceRoute", &route.params(&id)).await?),
            None => create_route(client, &route.params(&id)).await?,
        }
    }
    set_tags(client, &id, &super::tags(prior), &super::tags(planned)).await?;
    let state = with(planned, vec![("id", Value::string(&id))]);
    super::found(route_table_read(client, &state).await?, client, "CreateRoute")
}

/// Adds a route. `CreateRoute` is sent again after a server error or a lost answer: a
/// table holds one route per destination, so a repeat cannot make a second route, and
/// when an earlier attempt made it, the repeat is refused with `RouteAlreadyExists`, which
/// is then the route this create made. (Refused so on the first attempt, the destination
/// was taken before: an error.) The table is read back afterwards, target included.
async fn create_route(client: &Client, params: &[(String, String)]) -> AwsResult<()> {
    match client.ec2("CreateRoute", params).await {
        Err(error) if error.code == "RouteAlreadyExists" && error.earlier_attempt_processed => Ok(()),
        other => other.map(drop),
    }
}

// --- aws.route_table_association -----------------------------------------------------

pub async fn association_create(client: &Client, planned: &Attributes) -> AwsResult<Attributes> {
    let params = [
        p("RouteTableId", text(planned, "route_table_id").unwrap_or_default()),
        p("SubnetId", text(planned, "subnet_id").unwrap_or_default()),
    ];
    let answer = client.ec2("AssociateRouteTable", &params).await?;
    let id = answer.text_or_empty("associationId");
    Ok(with(planned, vec![("id", Value::string(id))]))
}

pub async fn association_read(client: &Client, current: &Attributes) -> AwsResult<Option<Attributes>> {
    let id = id(current);
    let by_id = (String::from("association.route-table-association-id"), vec![id.clone()]);
    let tables = client.ec2_describe("DescribeRouteTables", &filters(&[by_id]), "routeTableSet").await?;
    let found = tables.iter().find_map(|table| {
        let association = table.items("associationSet").find(|a| a.text_of("routeTableAssociationId") == Some(&id))?;
        Some((table.text_or_empty("routeTableId"), association.text_or_empty("subnetId")))
    });
    Ok(found.map(|(table, subnet)| {
        with(current, vec![("route_table_id", Value::string(table)), ("subnet_id", Value::string(subnet))])
    }))
}

/// Moves the subnet to another route table; the association gets a new id.
pub async fn association_update(client: &Client, prior: &Attributes, planned: &Attributes) -> AwsResult<Attributes> {
    let params =
        [p("AssociationId", id(prior)), p("RouteTableId", text(planned, "route_table_id").unwrap_or_default())];
    let answer = client.ec2("ReplaceRouteTableAssociation", &params).await?;
    Ok(with(planned, vec![("id", Value::string(answer.text_or_empty("newAssociationId")))]))
}

pub async fn association_delete(client: &Client, current: &Attributes) -> AwsResult<()> {
    delete_by_id(client, "DisassociateRouteTable", "AssociationId", &id(current)).await
}

// --- data aws.availability_zones -----------------------------------------------------

pub async fn availability_zones(client: &Client, config: &Attributes) -> AwsResult<Attributes> {
    let state = text(config, "state").unwrap_or_else(|| "available".to_string());
    let params = filters(&[("state".to_string(), vec![state])]);
    let zones = client.ec2_describe("DescribeAvailabilityZones", &params, "availabilityZoneInfo").await?;
    let mut names: Vec<String> = zones.iter().map(|z| z.text_or_empty("zoneName")).collect();
    names.sort();
    let mut zone_ids: Vec<(String, String)> =
        zones.iter().map(|z| (z.text_or_empty("zoneName"), z.text_or_empty("zoneId"))).collect();
    zone_ids.sort();
    Ok(with(
        config,
        vec![
            ("id", Value::string(&client.region)),
            ("names", Value::list(names.iter().map(Value::string).collect())),
            ("zone_ids", Value::list(zone_ids.into_iter().map(|(_, id)| Value::string(id)).collect())),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::super::client::canned::{canned_client, canned_server, ec2_error, sent};
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    /// Regression: `CreateRouteTable` went without a `ClientToken`, so an attempt sent
    /// again after a server error could make a second table. Each create now sends a token
    /// of its own, the same in each attempt.
    #[test]
    fn regression_a_retried_route_table_create_carries_the_same_client_token() {
        let created = "<CreateRouteTableResponse><routeTable><routeTableId>rtb-1</routeTableId><vpcId>vpc-1</vpcId>\
                       </routeTable></CreateRouteTableResponse>"
            .to_string();
        let described = "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1</routeTableId>\
                         <vpcId>vpc-1</vpcId><routeSet/></item></routeTableSet></DescribeRouteTablesResponse>"
            .to_string();
        let answers = vec![
            (500, ec2_error("InternalError")),
            (200, created.clone()),
            (200, described.clone()),
            (200, created),
            (200, described),
        ];
        let (endpoint, server) = canned_server(answers);
        let client = canned_client(&endpoint, 3);
        let planned: Attributes = [("vpc_id", Value::string("vpc-1"))].into_iter().collect();
        for _ in 0..2 {
            let made = runtime().block_on(route_table_create(&client, &planned, &CreateProgress::ignored()));
            assert_eq!(made.expect("created").get("id").and_then(Value::as_str), Some("rtb-1"));
        }
        let requests = server.join().expect("served");
        let tokens: Vec<Option<String>> =
            requests.iter().filter(|r| r.contains("Action=CreateRouteTable")).map(|r| sent(r, "ClientToken")).collect();
        assert_eq!(tokens.len(), 3, "{requests:#?}");
        assert!(tokens[0].as_ref().is_some_and(|t| t.starts_with("infra-") && t.len() <= 64), "{tokens:?}");
        assert_eq!(tokens[0], tokens[1], "the retry carries the first attempt's token");
        assert_ne!(tokens[1], tokens[2], "another create, another token");
    }

    /// A `CreateRoute` sent again after a server error that AWS had processed is refused
    /// with `RouteAlreadyExists`: that is the route the first attempt added, so it is done.
    /// The same refusal of a first attempt is an error (the destination was taken).
    #[test]
    fn a_route_already_there_after_a_processed_attempt_is_the_one_added() {
        let params = [p("RouteTableId", "rtb-1"), p("DestinationCidrBlock", "0.0.0.0/0"), p("GatewayId", "igw-1")];
        let answers = vec![(500, ec2_error("InternalError")), (400, ec2_error("RouteAlreadyExists"))];
        let (endpoint, server) = canned_server(answers);
        runtime().block_on(create_route(&canned_client(&endpoint, 3), &params)).expect("the route is there");
        assert_eq!(server.join().expect("served").len(), 2);

        let (endpoint, server) = canned_server(vec![(400, ec2_error("RouteAlreadyExists"))]);
        let error = runtime().block_on(create_route(&canned_client(&endpoint, 3), &params)).expect_err("taken");
        assert_eq!(error.code, "RouteAlreadyExists");
        assert_eq!(server.join().expect("served").len(), 1);
    }
}
