//! The `aws` provider end to end: `infra` applies `examples/aws-web` (and smaller
//! modules) against moto, the AWS emulator, and the real AWS CLI checks what exists.
//! Each test starts its own moto on a free port of 127.0.0.1 and stops it when done.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value as Json};

mod common;

use common::{command, text, write_module};

#[path = "support/moto.rs"]
mod moto;

use moto::Moto;

impl Moto {
    /// `infra ARGS` in `dir`, talking to this moto through the standard environment.
    fn infra(&self, dir: &Path, args: &[&str]) -> Output {
        command(dir, args).envs(self.environment()).env_remove("AWS_PROFILE").output().expect("infra runs")
    }

    /// Instances that are not terminated, by their `Name` tag.
    fn instances(&self) -> Vec<Json> {
        let answer = self.aws(&["ec2", "describe-instances"]);
        let reservations = answer["Reservations"].as_array().cloned().unwrap_or_default();
        let mut instances: Vec<Json> = reservations
            .iter()
            .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
            .filter(|i| i["State"]["Name"] != "terminated" && i["State"]["Name"] != "shutting-down")
            .collect();
        instances.sort_by_key(|i| tag(i, "Name"));
        instances
    }
}

fn tag(object: &Json, key: &str) -> String {
    let tags = object["Tags"].as_array().cloned().unwrap_or_default();
    tags.iter().find(|t| t["Key"] == key).and_then(|t| t["Value"].as_str()).unwrap_or_default().to_string()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("aws-web");
    std::fs::create_dir(&dir).expect("dir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aws-web/main.infra");
    std::fs::copy(example, dir.join("main.infra")).expect("copy the example");
    (temp, dir)
}

fn strings(values: &Json, field: &str) -> Vec<String> {
    let mut items: Vec<String> = values
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v[field].as_str().map(str::to_string))
        .collect();
    items.sort();
    items
}

#[test]
fn the_web_example_is_applied_changed_repaired_and_destroyed() {
    let moto = Moto::start();
    let (_temp, dir) = example_copy();

    let output = moto.infra(&dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("18 added"), "{}", text(&output));

    // Exactly the expected objects exist, with the right attributes and tags.
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=tag:Project,Values=shop"]);
    assert_eq!(strings(&vpcs["Vpcs"], "CidrBlock"), ["10.0.0.0/16"]);
    let vpc_id = vpcs["Vpcs"][0]["VpcId"].as_str().expect("vpc id").to_string();
    let subnets = moto.aws(&["ec2", "describe-subnets", "--filters", &format!("Name=vpc-id,Values={vpc_id}")]);
    assert_eq!(strings(&subnets["Subnets"], "CidrBlock"), ["10.0.0.0/24", "10.0.1.0/24"]);
    assert_eq!(strings(&subnets["Subnets"], "AvailabilityZone"), ["us-east-1a", "us-east-1b"]);
    assert!(subnets["Subnets"].as_array().expect("subnets").iter().all(|s| s["MapPublicIpOnLaunch"] == true));

    let groups =
        moto.aws(&["ec2", "describe-security-groups", "--filters", "Name=group-name,Values=shop-us-east-1-web"]);
    let group = &groups["SecurityGroups"][0];
    let mut ingress: Vec<(i64, String)> = group["IpPermissions"]
        .as_array()
        .expect("ingress")
        .iter()
        .flat_map(|p| {
            let port = p["FromPort"].as_i64().unwrap_or(-1);
            strings(&p["IpRanges"], "CidrIp").into_iter().map(move |c| (port, c))
        })
        .collect();
    ingress.sort();
    let expected: Vec<(i64, String)> =
        vec![(22, "203.0.113.0/24".into()), (80, "0.0.0.0/0".into()), (443, "0.0.0.0/0".into())];
    assert_eq!(ingress, expected);
    assert_eq!(group["IpPermissionsEgress"].as_array().map(Vec::len), Some(1), "{group}");

    let instances = moto.instances();
    let names: Vec<String> = instances.iter().map(|i| tag(i, "Name")).collect();
    assert_eq!(names, ["shop-us-east-1-web-0", "shop-us-east-1-web-1"]);
    for instance in &instances {
        assert_eq!(instance["State"]["Name"], "running");
        assert_eq!(instance["InstanceType"], "t3.micro");
        assert_eq!(instance["KeyName"], "shop-us-east-1-deploy");
        assert_eq!(instance["SecurityGroups"][0]["GroupId"], group["GroupId"]);
        assert_eq!(tag(instance, "Environment"), "production");
    }
    let web0_id = instances[0]["InstanceId"].as_str().expect("id").to_string();
    let web1_ip = instances[1]["PublicIpAddress"].as_str().expect("web-1 has a public ip").to_string();

    let addresses = moto.aws(&["ec2", "describe-addresses"]);
    assert_eq!(addresses["Addresses"].as_array().map(Vec::len), Some(1));
    assert_eq!(addresses["Addresses"][0]["InstanceId"], web0_id.as_str());
    let eip = addresses["Addresses"][0]["PublicIp"].as_str().expect("eip").to_string();

    let zones = moto.aws(&["route53", "list-hosted-zones"]);
    assert_eq!(strings(&zones["HostedZones"], "Name"), ["shop.example.com."]);
    let zone_id = zones["HostedZones"][0]["Id"].as_str().expect("zone id").to_string();
    let records = moto.aws(&["route53", "list-resource-record-sets", "--hosted-zone-id", &zone_id]);
    let a_records: Vec<(String, String)> = records["ResourceRecordSets"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["Type"] == "A")
        .map(|r| (r["Name"].as_str().unwrap_or_default().to_string(), r["ResourceRecords"][0]["Value"].to_string()))
        .collect();
    let expected = vec![
        ("web-0.shop.example.com.".to_string(), format!("\"{eip}\"")),
        ("web-1.shop.example.com.".to_string(), format!("\"{web1_ip}\"")),
    ];
    assert_eq!(a_records, expected);

    let objects = moto.aws(&["s3api", "list-objects", "--bucket", "shop-us-east-1-assets"]);
    assert_eq!(strings(&objects["Contents"], "Key"), ["robots.txt"]);

    // Regression: `web_ips` gave `web[0]`'s launch address, which its elastic IP replaced,
    // until a second apply refreshed it. It gives the elastic IP from the first apply.
    let outputs = moto.infra(&dir, &["output", "--json"]);
    assert_exit(&outputs, 0);
    let outputs: Json = serde_json::from_slice(&outputs.stdout).expect("outputs as JSON");
    assert_eq!(outputs["web_ips"]["value"], json!([eip, web1_ip]), "{outputs}");

    // Nothing to do on a second plan, and nothing said to have changed outside of
    // Infra: the elastic IP's association changed `web[0]`'s address, and Infra made it.
    let plan = moto.infra(&dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!text(&plan).contains("changed outside of Infra"), "{}", text(&plan));

    // A third server and a new tag value: one instance and one record are added, the 12
    // tagged objects (VPC, two subnets, gateway, route table, group, key pair, two
    // servers, elastic IP, zone, bucket) change in place, and nothing is replaced.
    let output = moto.infra(&dir, &["apply", "--auto-approve", "--var", "web_count=3", "--var", "environment=staging"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("Resources: 2 added, 12 changed, 0 destroyed"), "{}", text(&output));
    assert!(!text(&output).contains("must be replaced"), "{}", text(&output));
    let instances = moto.instances();
    assert_eq!(instances.len(), 3);
    assert_eq!(instances[0]["InstanceId"], web0_id.as_str());
    assert!(instances.iter().all(|i| tag(i, "Environment") == "staging"));
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=tag:Environment,Values=staging"]);
    assert_eq!(vpcs["Vpcs"].as_array().map(Vec::len), Some(1));
    let bucket_tags = moto.aws(&["s3api", "get-bucket-tagging", "--bucket", "shop-us-east-1-assets"]);
    assert_eq!(tag(&json!({ "Tags": bucket_tags["TagSet"] }), "Environment"), "staging", "{bucket_tags}");
    let zone = zone_id.trim_start_matches("/hostedzone/");
    let zone_tags =
        moto.aws(&["route53", "list-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", zone]);
    assert_eq!(tag(&zone_tags["ResourceTagSet"], "Environment"), "staging", "{zone_tags}");
    let vars = ["--var", "web_count=3", "--var", "environment=staging"];
    assert_exit(&moto.infra(&dir, &[&["plan", "--detailed-exitcode"][..], &vars[..]].concat()), 0);

    // A server terminated behind Infra's back is created again.
    let web1 = instances[1]["InstanceId"].as_str().expect("id").to_string();
    moto.aws(&["ec2", "terminate-instances", "--instance-ids", &web1]);
    let plan = moto.infra(&dir, &[&["plan", "--detailed-exitcode"][..], &vars[..]].concat());
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("aws.instance web[1]"), "{}", text(&plan));
    assert!(text(&plan).contains("will be created"), "{}", text(&plan));
    assert_exit(&moto.infra(&dir, &[&["apply", "--auto-approve"][..], &vars[..]].concat()), 0);
    assert_eq!(moto.instances().len(), 3);
    assert!(moto.instances().iter().all(|i| i["InstanceId"] != web1.as_str()));

    // Destroy leaves nothing behind.
    let output = moto.infra(&dir, &[&["destroy", "--auto-approve"][..], &vars[..]].concat());
    assert_exit(&output, 0);
    assert!(moto.instances().is_empty());
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=false"]);
    assert_eq!(vpcs["Vpcs"].as_array().map(Vec::len), Some(0), "{vpcs}");
    let zones = moto.aws(&["route53", "list-hosted-zones"]);
    assert_eq!(zones["HostedZones"].as_array().map(Vec::len), Some(0), "{zones}");
    let buckets = moto.aws(&["s3api", "list-buckets"]);
    assert_eq!(buckets["Buckets"].as_array().map(Vec::len), Some(0), "{buckets}");
    assert_eq!(moto.aws(&["ec2", "describe-addresses"])["Addresses"].as_array().map(Vec::len), Some(0));
    assert_eq!(moto.aws(&["ec2", "describe-key-pairs"])["KeyPairs"].as_array().map(Vec::len), Some(0));
}

const TAGGED_VPC: &str = "provider aws {\n  region = \"us-east-1\"\n}\n\n\
resource aws.vpc net {\n  cidr_block = \"10.1.0.0/16\"\n  tags       = { Team = \"web\" }\n}\n";

#[test]
fn drift_is_shown_and_put_back_and_aws_errors_are_diagnostics() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, TAGGED_VPC);
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=tag:Team,Values=web"]);
    let vpc_id = vpcs["Vpcs"][0]["VpcId"].as_str().expect("vpc id").to_string();

    moto.aws(&["ec2", "create-tags", "--resources", &vpc_id, "--tags", "Key=Team,Value=data"]);
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = text(&plan);
    assert!(shown.contains("# net has changed outside of Infra"), "{shown}");
    assert!(shown.contains(r#"~ Team = "web" -> "data""#), "the tag changed, from what to what:\n{shown}");
    assert!(text(&plan).contains("will be updated in place"), "{}", text(&plan));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--vpc-ids", &vpc_id]);
    assert_eq!(tag(&vpcs["Vpcs"][0], "Team"), "web");

    // A VPC deleted behind Infra's back is created again.
    moto.aws(&["ec2", "delete-vpc", "--vpc-id", &vpc_id]);
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("will be created"), "{}", text(&plan));
    assert!(text(&plan).contains("# net has been deleted outside of Infra"), "{}", text(&plan));

    // AWS refuses a subnet outside its VPC's range: the diagnostic names the subnet, the
    // AWS code and AWS's message.
    let source = format!(
        "{TAGGED_VPC}\nresource aws.subnet box {{\n  vpc_id     = net.id\n  cidr_block = \"10.9.0.0/24\"\n}}\n"
    );
    write_module(dir, &source);
    let output = moto.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let shown = text(&output);
    assert!(shown.contains("E0610"), "{shown}");
    assert!(shown.contains("box: EC2 CreateSubnet failed with AWS error `InvalidSubnet.Range`"), "{shown}");
    assert!(shown.contains("10.9.0.0/24"), "{shown}");
}

/// Regression: an object made by its first request whose next request failed (an
/// Elastic IP allocated, then refused association with an instance that does not exist;
/// a route table made, then a route refused) was not recorded, so it was left in the
/// account, unknown to the state, and the next apply made another. Each is now reported
/// once made: the state keeps it, the next apply finishes it, and destroy removes it.
#[test]
fn an_object_whose_later_request_failed_is_recorded_and_finished_next_time() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let source = |instance: &str, gateway: &str| {
        format!(
            "{TAGGED_VPC}\nresource aws.eip ip {{\n{instance}  tags = {{ Name = \"ip\" }}\n}}\n\n\
             resource aws.route_table rt {{\n  vpc_id = net.id\n  route {{\n    cidr_block = \"0.0.0.0/0\"\n    \
             gateway_id = {gateway}\n  }}\n}}\n\nresource aws.internet_gateway gw {{\n  vpc_id = net.id\n}}\n"
        )
    };
    write_module(dir, &source("  instance = \"i-0123456789abcdef0\"\n", "\"igw-00000000\""));
    let output = moto.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let shown = text(&output);
    assert!(shown.contains("AssociateAddress"), "{shown}");
    assert!(shown.contains("CreateRoute"), "{shown}");
    let listed = text(&moto.infra(dir, &["state", "list"]));
    for address in ["ip", "rt"] {
        assert!(listed.lines().any(|l| l.split_whitespace().next() == Some(address)), "{address} kept: {listed}");
    }
    let addresses = moto.aws(&["ec2", "describe-addresses"])["Addresses"].as_array().cloned().unwrap_or_default();
    assert_eq!(addresses.len(), 1, "{addresses:?}");

    // Fixed: the same objects are finished, not made again.
    write_module(dir, &source("", "gw.id"));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let addresses = moto.aws(&["ec2", "describe-addresses"])["Addresses"].as_array().cloned().unwrap_or_default();
    assert_eq!(addresses.len(), 1, "one Elastic IP, not a second: {addresses:?}");
    assert_eq!(tag(&addresses[0], "Name"), "ip");
    let vpc = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=tag:Team,Values=web"])["Vpcs"][0]["VpcId"].clone();
    let tables = moto.aws(&[
        "ec2",
        "describe-route-tables",
        "--filters",
        &format!("Name=vpc-id,Values={}", vpc.as_str().unwrap_or_default()),
    ]);
    let tables = tables["RouteTables"].as_array().cloned().unwrap_or_default();
    assert_eq!(tables.len(), 2, "the VPC's main table and ours, not a second of ours: {tables:?}");
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    assert_exit(&moto.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert_eq!(moto.aws(&["ec2", "describe-addresses"])["Addresses"].as_array().map(Vec::len), Some(0));
}

/// Networking, storage and DNS whose parts change one at a time; `{rules}`, `{routes}`,
/// `{records}` and `{instance}` are filled in by the test.
const PARTS: &str = r#"provider aws {
  region = "us-east-1"
}

resource aws.vpc net {
  cidr_block = "10.2.0.0/16"
}

resource aws.subnet a {
  vpc_id            = net.id
  cidr_block        = "10.2.1.0/24"
  availability_zone = "us-east-1a"
}

resource aws.internet_gateway gw {
  vpc_id = net.id
}

resource aws.route_table public {
  vpc_id = net.id
{routes}
}

resource aws.route_table_association a_public {
  subnet_id      = a.id
  route_table_id = public.id
}

resource aws.security_group web {
  name   = "parts-web"
  vpc_id = net.id
{rules}
  egress { from_port = 0, to_port = 0, protocol = "-1", cidr_blocks = ["0.0.0.0/0"] }
}

resource aws.s3_bucket assets {
  bucket = "parts-assets"
}

resource aws.s3_object page {
  bucket       = assets.bucket
  key          = "index.html"
  content      = "<h1>hello</h1>"
  content_type = "text/html"
}

resource aws.s3_object robots {
  bucket = assets.bucket
  key    = "robots.txt"
  source = "files/robots.txt"
}

resource aws.route53_zone zone {
  name = "parts.example.com"
}

resource aws.route53_record www {
  zone_id = zone.zone_id
  name    = "www.parts.example.com"
  type    = "A"
  ttl     = 300
  records = [{records}]
}
{instance}"#;

const SSH_AND_HTTP: &str =
    "  ingress { from_port = 22, to_port = 22, protocol = \"tcp\", cidr_blocks = [\"203.0.113.0/24\"] }\n  \
     ingress { from_port = 80, to_port = 80, protocol = \"tcp\", cidr_blocks = [\"0.0.0.0/0\"] }";
const SSH_AND_HTTPS: &str =
    "  ingress { from_port = 22, to_port = 22, protocol = \"tcp\", cidr_blocks = [\"203.0.113.0/24\"] }\n  \
     ingress { from_port = 443, to_port = 443, protocol = \"tcp\", cidr_blocks = [\"0.0.0.0/0\"] }";
const DEFAULT_ROUTE: &str = "  route { cidr_block = \"0.0.0.0/0\", gateway_id = gw.id }";
const TWO_ROUTES: &str = "  route { cidr_block = \"0.0.0.0/0\", gateway_id = gw.id }\n  \
     route { cidr_block = \"198.51.100.0/24\", gateway_id = gw.id }";

fn parts(rules: &str, routes: &str, records: &str, instance: &str) -> String {
    PARTS
        .replace("{rules}", rules)
        .replace("{routes}", routes)
        .replace("{records}", records)
        .replace("{instance}", instance)
}

/// The ingress rules of a group as (port, rule id), sorted by port.
fn ingress_rules(moto: &Moto, group_id: &str) -> Vec<(i64, String)> {
    let answer =
        moto.aws(&["ec2", "describe-security-group-rules", "--filters", &format!("Name=group-id,Values={group_id}")]);
    let mut rules: Vec<(i64, String)> = answer["SecurityGroupRules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["IsEgress"] == false)
        .map(|r| {
            (r["FromPort"].as_i64().unwrap_or(-1), r["SecurityGroupRuleId"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    rules.sort();
    rules
}

#[test]
fn rules_routes_records_and_objects_change_one_by_one_and_cli_instances_are_imported() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &parts(SSH_AND_HTTP, DEFAULT_ROUTE, "\"192.0.2.1\"", ""));
    std::fs::create_dir(dir.join("files")).expect("dir");
    std::fs::write(dir.join("files/robots.txt"), "User-agent: *\n").expect("write");
    let output = moto.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("11 added"), "{}", text(&output));
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    let object = |key: &str| {
        let copy = dir.join("downloaded");
        moto.aws(&["s3api", "get-object", "--bucket", "parts-assets", "--key", key, &copy.to_string_lossy()]);
        std::fs::read_to_string(&copy).expect("downloaded")
    };
    assert_eq!(object("robots.txt"), "User-agent: *\n");

    let groups = moto.aws(&["ec2", "describe-security-groups", "--filters", "Name=group-name,Values=parts-web"]);
    let group_id = groups["SecurityGroups"][0]["GroupId"].as_str().expect("group id").to_string();
    let before = ingress_rules(&moto, &group_id);
    assert_eq!(before.iter().map(|r| r.0).collect::<Vec<_>>(), [22, 80]);

    // HTTP becomes HTTPS, a route is added, the record's address changes and the
    // uploaded file is edited: each is changed in place, and the SSH rule AWS already has
    // is left alone.
    write_module(dir, &parts(SSH_AND_HTTPS, TWO_ROUTES, "\"192.0.2.2\"", ""));
    std::fs::write(dir.join("files/robots.txt"), "User-agent: *\nDisallow: /admin\n").expect("write");
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("Plan: 0 to add, 4 to change, 0 to destroy"), "{}", text(&plan));
    assert!(text(&plan).contains("# robots will be updated in place"), "{}", text(&plan));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(object("robots.txt"), "User-agent: *\nDisallow: /admin\n");
    let after = ingress_rules(&moto, &group_id);
    assert_eq!(after.iter().map(|r| r.0).collect::<Vec<_>>(), [22, 443]);
    assert_eq!(after[0], before[0], "the SSH rule was not touched");

    // A rule added behind Infra's back is drift: the next apply revokes it alone.
    moto.aws(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &group_id,
        "--protocol",
        "tcp",
        "--port",
        "3306",
        "--cidr",
        "0.0.0.0/0",
    ]);
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# web will be updated in place"), "{}", text(&plan));
    assert!(text(&plan).contains("3306"), "{}", text(&plan));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(ingress_rules(&moto, &group_id), after);

    let tables = moto.aws(&["ec2", "describe-route-tables", "--filters", "Name=association.subnet-id,Values=*"]);
    let table = tables["RouteTables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["Routes"].as_array().is_some_and(|r| r.len() == 3))
        .unwrap_or_else(|| panic!("a table with the local route and two more: {tables}"));
    assert_eq!(strings(&table["Routes"], "DestinationCidrBlock"), ["0.0.0.0/0", "10.2.0.0/16", "198.51.100.0/24"]);
    let subnets = moto.aws(&["ec2", "describe-subnets", "--filters", "Name=cidr-block,Values=10.2.1.0/24"]);
    let subnet_id = subnets["Subnets"][0]["SubnetId"].as_str().expect("subnet id").to_string();
    let associated = table["Associations"].as_array().expect("associations");
    assert!(associated.iter().any(|a| a["SubnetId"] == subnet_id.as_str()), "{table}");

    let zones = moto.aws(&["route53", "list-hosted-zones"]);
    let zone_id = zones["HostedZones"][0]["Id"].as_str().expect("zone id").to_string();
    let records = moto.aws(&["route53", "list-resource-record-sets", "--hosted-zone-id", &zone_id]);
    let www: Vec<&Json> =
        records["ResourceRecordSets"].as_array().expect("records").iter().filter(|r| r["Type"] == "A").collect();
    assert_eq!(www.len(), 1, "{records}");
    assert_eq!(www[0]["ResourceRecords"][0]["Value"], "192.0.2.2");

    // An object rewritten behind Infra's back is put back (its etag differs).
    let body = dir.join("other.html");
    std::fs::write(&body, "<h1>changed</h1>").expect("write");
    let body = body.to_string_lossy().to_string();
    moto.aws(&["s3api", "put-object", "--bucket", "parts-assets", "--key", "index.html", "--body", &body]);
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# page will be updated in place"), "{}", text(&plan));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(object("index.html"), "<h1>hello</h1>");

    // An instance made with the AWS CLI is taken over by `infra import`, after which the
    // configuration describing it plans no change, and a tag change is made in place.
    let run = moto.aws(&[
        "ec2",
        "run-instances",
        "--image-id",
        "ami-1e749f67",
        "--instance-type",
        "t3.small",
        "--subnet-id",
        &subnet_id,
        "--user-data",
        "#!/bin/sh\napt-get install -y nginx\n",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=legacy}]",
    ]);
    let instance_id = run["Instances"][0]["InstanceId"].as_str().expect("instance id").to_string();
    let instance = |name: &str| {
        format!(
            "\nresource aws.instance legacy {{\n  ami           = \"ami-1e749f67\"\n  instance_type = \"t3.small\"\n  \
             subnet_id     = a.id\n  user_data     = \"#!/bin/sh\\napt-get install -y nginx\\n\"\n  \
             tags          = {{ Name = \"{name}\" }}\n}}\n"
        )
    };
    write_module(dir, &parts(SSH_AND_HTTPS, TWO_ROUTES, "\"192.0.2.2\"", &instance("legacy")));
    let imported = moto.infra(dir, &["import", "legacy", &instance_id]);
    assert_exit(&imported, 0);
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    write_module(dir, &parts(SSH_AND_HTTPS, TWO_ROUTES, "\"192.0.2.2\"", &instance("legacy-web")));
    let output = moto.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("0 added, 1 changed, 0 destroyed"), "{}", text(&output));
    let instances = moto.instances();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["InstanceId"], instance_id.as_str());
    assert_eq!(tag(&instances[0], "Name"), "legacy-web");

    // Destroy takes the imported instance with everything else.
    assert_exit(&moto.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(moto.instances().is_empty());
    let vpcs = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=false"]);
    assert_eq!(vpcs["Vpcs"].as_array().map(Vec::len), Some(0), "{vpcs}");
    let groups = moto.aws(&["ec2", "describe-security-groups", "--filters", "Name=group-name,Values=parts-web"]);
    assert_eq!(groups["SecurityGroups"].as_array().map(Vec::len), Some(0), "{groups}");
    assert_eq!(moto.aws(&["ec2", "describe-internet-gateways"])["InternetGateways"].as_array().map(Vec::len), Some(0));
    assert_eq!(moto.aws(&["route53", "list-hosted-zones"])["HostedZones"].as_array().map(Vec::len), Some(0));
    assert_eq!(moto.aws(&["s3api", "list-buckets"])["Buckets"].as_array().map(Vec::len), Some(0));
}

/// Two groups; `{rules}` are the database's.
const GROUPS: &str = r#"provider aws {
  region = "us-east-1"
}

resource aws.vpc net {
  cidr_block = "10.3.0.0/16"
}

resource aws.security_group app {
  name   = "groups-app"
  vpc_id = net.id
}

resource aws.security_group db {
  name   = "groups-db"
  vpc_id = net.id
{rules}
}
"#;

const FROM_THE_SUBNET: &str =
    "  ingress { from_port = 5432, to_port = 5432, protocol = \"tcp\", cidr_blocks = [\"10.3.1.0/24\"] }";

/// Rules naming the other group, the group itself and an IPv6 range.
const FROM_PEERS: &str = r#"
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [app.id]
    self            = true
  }

  ingress {
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
    description      = "https"
  }"#;

/// A group's rules in one direction as AWS reports them, each as `port peer`, sorted.
fn group_rules(moto: &Moto, group_id: &str, egress: bool) -> Vec<String> {
    let answer =
        moto.aws(&["ec2", "describe-security-group-rules", "--filters", &format!("Name=group-id,Values={group_id}")]);
    let peer = |rule: &Json| {
        let fields =
            [&rule["CidrIpv4"], &rule["CidrIpv6"], &rule["ReferencedGroupInfo"]["GroupId"], &rule["PrefixListId"]];
        fields.iter().find_map(|f| f.as_str()).unwrap_or_default().to_string()
    };
    let mut rules: Vec<String> = answer["SecurityGroupRules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["IsEgress"] == egress)
        .map(|r| format!("{} {}", r["FromPort"], peer(r)))
        .collect();
    rules.sort();
    rules
}

/// Rules naming a source group or an IPv6 range, added with the AWS CLI, were not read
/// (the plan said "No changes"), and such rules could not be configured at all.
#[test]
fn regression_rules_naming_groups_or_ipv6_ranges_are_drift_and_can_be_configured() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &GROUPS.replace("{rules}", FROM_THE_SUBNET));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let id = |name: &str| {
        let filter = format!("Name=group-name,Values={name}");
        let groups = moto.aws(&["ec2", "describe-security-groups", "--filters", &filter]);
        groups["SecurityGroups"][0]["GroupId"].as_str().expect("group id").to_string()
    };
    let (app, db) = (id("groups-app"), id("groups-db"));

    let authorize = |permission: &str| {
        moto.aws(&["ec2", "authorize-security-group-ingress", "--group-id", &db, "--ip-permissions", permission]);
    };
    authorize(&format!("IpProtocol=tcp,FromPort=6432,ToPort=6432,UserIdGroupPairs=[{{GroupId={app}}}]"));
    authorize("IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=2001:db8::/32}]");
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# db will be updated in place"), "{}", text(&plan));
    for seen in [app.as_str(), "2001:db8::/32"] {
        assert!(text(&plan).contains(seen), "{seen} in {}", text(&plan));
    }
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(group_rules(&moto, &db, false), ["5432 10.3.1.0/24"]);
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    write_module(dir, &GROUPS.replace("{rules}", FROM_PEERS));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let mut expected = vec!["443 ::/0".to_string(), format!("5432 {app}"), format!("5432 {db}")];
    expected.sort();
    assert_eq!(group_rules(&moto, &db, false), expected);
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);
}

/// Two route tables and two instances, the association and the address on the first.
const MOVES: &str = r#"provider aws {
  region = "us-east-1"
}

resource aws.vpc net {
  cidr_block = "10.4.0.0/16"
}

resource aws.subnet a {
  vpc_id            = net.id
  cidr_block        = "10.4.1.0/24"
  availability_zone = "us-east-1a"
}

resource aws.route_table first {
  vpc_id = net.id
}

resource aws.route_table second {
  vpc_id = net.id
}

resource aws.instance one {
  ami           = "ami-1e749f67"
  instance_type = "t3.micro"
  subnet_id     = a.id
}

resource aws.instance two {
  ami           = "ami-1e749f67"
  instance_type = "t3.micro"
  subnet_id     = a.id
}

resource aws.route_table_association a_table {
  subnet_id      = a.id
  route_table_id = {table}.id
}

resource aws.eip address {
  instance = {instance}.id
}
"#;

/// Moving an association to another route table, or an Elastic IP to another instance,
/// changes computed attributes (the association's id; the address's `association_id` and
/// `private_ip`) that the plan showed unchanged.
#[test]
fn regression_a_plan_moving_an_association_or_an_elastic_ip_shows_what_the_move_changes_as_unknown() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &MOVES.replace("{table}", "first").replace("{instance}", "one"));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    write_module(dir, &MOVES.replace("{table}", "second").replace("{instance}", "two"));
    let plan = moto.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let plan = text(&plan);
    for name in ["id", "association_id", "private_ip"] {
        let line =
            plan.lines().find(|l| l.trim_start().trim_start_matches(['~', ' ']).starts_with(&format!("{name} ")));
        let line = line.unwrap_or_else(|| panic!("`{name}` changes in {plan}"));
        assert!(line.contains("(known after apply)"), "{line} in {plan}");
    }
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode"]), 0);
}
