//! The `aws` provider through the provider interface against moto (started on a free
//! port of 127.0.0.1 and stopped when the test ends): importing objects made with the
//! AWS CLI, every kind of them, reading one that is gone, the data sources, and the
//! settings changed in place, each checked with the AWS CLI.

use std::path::PathBuf;

use infra_runtime::provider::{Attributes, ProviderContext, ReadResult};
use infra_runtime::Value;

#[path = "../../../cli/tests/support/moto.rs"]
mod moto;

use moto::Moto;

impl Moto {
    /// The provider configured in its block alone, as `provider aws { ... }` would.
    fn provider(&self) -> std::sync::Arc<dyn infra_runtime::provider::Provider> {
        let config: Attributes = [
            ("region", "us-east-1"),
            ("endpoint", self.endpoint.as_str()),
            ("access_key", "testing"),
            ("secret_key", "testing"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::string(v)))
        .collect();
        let context = ProviderContext { module_dir: PathBuf::from(".") };
        infra_provider_aws::factory().configure(&config, &context).expect("configured")
    }
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn objects_made_with_the_cli_are_imported_and_gone_ones_read_as_gone() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();

    let vpc = moto.aws(&["ec2", "create-vpc", "--cidr-block", "10.7.0.0/16"]);
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().expect("vpc id").to_string();
    let subnet = moto.aws(&["ec2", "create-subnet", "--vpc-id", &vpc_id, "--cidr-block", "10.7.1.0/24"]);
    let subnet_id = subnet["Subnet"]["SubnetId"].as_str().expect("subnet id").to_string();
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
        "#!/bin/sh\necho hello\n",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=imported}]",
    ]);
    let instance_id = run["Instances"][0]["InstanceId"].as_str().expect("instance id").to_string();

    let imported = runtime.block_on(provider.import("instance", &instance_id)).expect("imported");
    assert_eq!(text(&imported, "id"), instance_id);
    assert_eq!(text(&imported, "ami"), "ami-1e749f67");
    assert_eq!(text(&imported, "instance_type"), "t3.small");
    assert_eq!(text(&imported, "subnet_id"), subnet_id);
    assert_eq!(text(&imported, "state"), "running");
    assert!(!text(&imported, "private_ip").is_empty());
    assert_eq!(text(&imported, "user_data"), "#!/bin/sh\necho hello\n");
    let tags = imported.get("tags").and_then(Value::as_map).expect("tags");
    assert_eq!(tags.get("Name").and_then(Value::as_str), Some("imported"));

    let imported_vpc = runtime.block_on(provider.import("vpc", &vpc_id)).expect("imported");
    assert_eq!(text(&imported_vpc, "cidr_block"), "10.7.0.0/16");
    assert_eq!(imported_vpc.get("enable_dns_support"), Some(&Value::bool(true)));

    // Terminated behind Infra's back: the instance is gone.
    moto.aws(&["ec2", "terminate-instances", "--instance-ids", &instance_id]);
    let read = runtime.block_on(provider.read("instance", &imported)).expect("read");
    assert_eq!(read, ReadResult::Gone);

    let missing = runtime.block_on(provider.import("vpc", "vpc-00000000")).expect_err("no such vpc");
    assert!(missing.message.contains("no `aws.vpc` with id `vpc-00000000`"), "{missing:?}");
}

#[test]
fn data_sources_find_the_default_vpc_zones_and_the_newest_image() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let config =
        |pairs: Vec<(&str, Value)>| -> Attributes { pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect() };

    let default =
        runtime.block_on(provider.read_data("vpc", &config(vec![("default", Value::bool(true))]))).expect("found");
    let expected = moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true"]);
    assert_eq!(text(&default, "id"), expected["Vpcs"][0]["VpcId"].as_str().expect("default vpc"));

    let zones = runtime.block_on(provider.read_data("availability_zones", &config(vec![]))).expect("zones");
    let names = zones.get("names").and_then(Value::as_list).expect("names");
    assert!(names.contains(&Value::string("us-east-1a")), "{names:?}");

    let filter = Value::map(
        [
            ("name".to_string(), Value::string("name")),
            ("values".to_string(), Value::list(vec![Value::string("ubuntu/images/hvm-ssd/ubuntu-*")])),
        ]
        .into_iter()
        .collect(),
    );
    let ami = config(vec![
        ("owners", Value::list(vec![Value::string("099720109477")])),
        ("most_recent", Value::bool(true)),
        ("filter", Value::list(vec![filter.clone()])),
    ]);
    let image = runtime.block_on(provider.read_data("ami", &ami)).expect("image");
    let listed = moto.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "099720109477",
        "--filters",
        "Name=name,Values=ubuntu/images/hvm-ssd/ubuntu-*",
    ]);
    let newest = listed["Images"]
        .as_array()
        .expect("images")
        .iter()
        .max_by_key(|i| (i["CreationDate"].to_string(), i["Name"].to_string()))
        .expect("an image");
    assert_eq!(text(&image, "id"), newest["ImageId"].as_str().expect("image id"));

    let ambiguous = config(vec![
        ("owners", Value::list(vec![Value::string("099720109477")])),
        ("filter", Value::list(vec![filter])),
    ]);
    let error = runtime.block_on(provider.read_data("ami", &ambiguous)).expect_err("two images match");
    assert!(error.message.contains("2 images match"), "{error:?}");
}

fn string_list(attributes: &Attributes, name: &str) -> Vec<String> {
    let items = attributes.get(name).and_then(Value::as_list).unwrap_or_default();
    items.iter().filter_map(Value::as_str).map(str::to_string).collect()
}

#[test]
fn every_kind_made_with_the_cli_is_imported_with_its_settings() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let import = |kind: &str, id: &str| {
        runtime.block_on(provider.import(kind, id)).unwrap_or_else(|e| panic!("import aws.{kind} {id}: {e:?}"))
    };
    let field = |json: &serde_json::Value, path: &[&str]| {
        path.iter().fold(json.clone(), |j, k| j[*k].clone()).as_str().expect("a string").to_string()
    };

    let vpc = field(&moto.aws(&["ec2", "create-vpc", "--cidr-block", "10.8.0.0/16"]), &["Vpc", "VpcId"]);
    let subnet = moto.aws(&[
        "ec2",
        "create-subnet",
        "--vpc-id",
        &vpc,
        "--cidr-block",
        "10.8.1.0/24",
        "--availability-zone",
        "us-east-1b",
        "--tag-specifications",
        "ResourceType=subnet,Tags=[{Key=Tier,Value=public}]",
    ]);
    let subnet = field(&subnet, &["Subnet", "SubnetId"]);
    moto.aws(&["ec2", "modify-subnet-attribute", "--subnet-id", &subnet, "--map-public-ip-on-launch"]);
    let imported = import("subnet", &subnet);
    assert_eq!((text(&imported, "vpc_id"), text(&imported, "cidr_block")), (vpc.as_str(), "10.8.1.0/24"));
    assert_eq!(text(&imported, "availability_zone"), "us-east-1b");
    assert_eq!(imported.get("map_public_ip_on_launch"), Some(&Value::bool(true)));
    let tags = imported.get("tags").and_then(Value::as_map).expect("tags");
    assert_eq!(tags.get("Tier"), Some(&Value::string("public")));

    let gateway = field(&moto.aws(&["ec2", "create-internet-gateway"]), &["InternetGateway", "InternetGatewayId"]);
    moto.aws(&["ec2", "attach-internet-gateway", "--internet-gateway-id", &gateway, "--vpc-id", &vpc]);
    assert_eq!(text(&import("internet_gateway", &gateway), "vpc_id"), vpc);

    let table = field(&moto.aws(&["ec2", "create-route-table", "--vpc-id", &vpc]), &["RouteTable", "RouteTableId"]);
    moto.aws(&[
        "ec2",
        "create-route",
        "--route-table-id",
        &table,
        "--destination-cidr-block",
        "0.0.0.0/0",
        "--gateway-id",
        &gateway,
    ]);
    let imported = import("route_table", &table);
    assert_eq!(text(&imported, "vpc_id"), vpc);
    let routes = imported.get("route").and_then(Value::as_list).expect("routes");
    assert_eq!(routes.len(), 1, "only the route to the gateway, not the local one: {routes:?}");
    let route = routes[0].as_map().expect("a route block");
    assert_eq!(route.get("cidr_block"), Some(&Value::string("0.0.0.0/0")));
    assert_eq!(route.get("gateway_id"), Some(&Value::string(&gateway)));

    let association = moto.aws(&["ec2", "associate-route-table", "--route-table-id", &table, "--subnet-id", &subnet]);
    let association = field(&association, &["AssociationId"]);
    let imported = import("route_table_association", &association);
    assert_eq!((text(&imported, "subnet_id"), text(&imported, "route_table_id")), (subnet.as_str(), table.as_str()));

    let group = moto.aws(&[
        "ec2",
        "create-security-group",
        "--group-name",
        "imported",
        "--description",
        "made by hand",
        "--vpc-id",
        &vpc,
    ]);
    let group = field(&group, &["GroupId"]);
    moto.aws(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &group,
        "--protocol",
        "tcp",
        "--port",
        "22",
        "--cidr",
        "192.0.2.0/24",
    ]);
    let imported = import("security_group", &group);
    assert_eq!((text(&imported, "name"), text(&imported, "description")), ("imported", "made by hand"));
    let ingress = imported.get("ingress").and_then(Value::as_list).expect("ingress");
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    let rule = ingress[0].as_map().expect("a rule block");
    assert_eq!(rule.get("from_port"), Some(&Value::number(22.0)));
    assert_eq!(rule.get("cidr_blocks"), Some(&Value::list(vec![Value::string("192.0.2.0/24")])));
    assert_eq!(imported.get("egress").and_then(Value::as_list).map(<[Value]>::len), Some(1));

    let public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjbyvfOJNZXUJPXIv8W2ESsgyMRCw4L7rxW6Y2zKS3r imported";
    moto.aws(&["ec2", "import-key-pair", "--key-name", "imported", "--public-key-material", public_key]);
    let imported = import("key_pair", "imported");
    assert_eq!(text(&imported, "key_name"), "imported");
    assert!(!text(&imported, "fingerprint").is_empty());

    let allocation = field(&moto.aws(&["ec2", "allocate-address", "--domain", "vpc"]), &["AllocationId"]);
    let imported = import("eip", &allocation);
    assert_eq!(text(&imported, "domain"), "vpc");
    assert!(!text(&imported, "public_ip").is_empty());

    moto.aws(&["s3api", "create-bucket", "--bucket", "imported-assets"]);
    let body = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(body.path(), "hello").expect("write");
    moto.aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "imported-assets",
        "--key",
        "docs/a.txt",
        "--content-type",
        "text/plain",
        "--body",
        &body.path().to_string_lossy(),
    ]);
    assert_eq!(text(&import("s3_bucket", "imported-assets"), "bucket"), "imported-assets");
    let imported = import("s3_object", "imported-assets/docs/a.txt");
    assert_eq!((text(&imported, "bucket"), text(&imported, "key")), ("imported-assets", "docs/a.txt"));
    assert_eq!(text(&imported, "content_type"), "text/plain");
    assert_eq!(text(&imported, "etag"), "5d41402abc4b2a76b9719d911017c592", "the MD5 of `hello`");

    let zone =
        moto.aws(&["route53", "create-hosted-zone", "--name", "imported.example.com", "--caller-reference", "1"]);
    let zone = field(&zone, &["HostedZone", "Id"]).trim_start_matches("/hostedzone/").to_string();
    let imported = import("route53_zone", &zone);
    assert_eq!(text(&imported, "name"), "imported.example.com");
    assert_eq!(text(&imported, "zone_id"), zone);
    let batch = r#"{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"www.imported.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.7"},{"Value":"192.0.2.8"}]}}]}"#;
    moto.aws(&["route53", "change-resource-record-sets", "--hosted-zone-id", &zone, "--change-batch", batch]);
    let imported = import("route53_record", &format!("{zone}_www.imported.example.com_A"));
    assert_eq!(text(&imported, "type"), "A");
    assert_eq!(imported.get("ttl"), Some(&Value::number(60.0)));
    let mut records = string_list(&imported, "records");
    records.sort();
    assert_eq!(records, ["192.0.2.7", "192.0.2.8"]);

    let error = runtime.block_on(provider.import("route53_record", "no-underscores")).expect_err("a bad id");
    assert!(error.message.contains("`ZONE_NAME_TYPE`"), "{error:?}");
}

/// Attributes from pairs.
fn attrs(pairs: Vec<(&str, Value)>) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn strs(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::string(*s)).collect())
}

/// Settings AWS can change without replacing the object are changed in place: the
/// object keeps its id and the AWS CLI sees the new setting.
#[test]
fn settings_aws_changes_in_place_are_updated_on_the_same_object() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let create = |kind: &str, config: Attributes| {
        let planned = provider.plan(kind, None, &config).unwrap_or_else(|e| panic!("plan aws.{kind}: {e:?}"));
        runtime.block_on(provider.create(kind, &planned)).unwrap_or_else(|e| panic!("create aws.{kind}: {e:?}"))
    };
    let update = |kind: &str, prior: &Attributes, changes: Vec<(&str, Value)>| {
        let mut config = prior.clone();
        config.extend(changes.into_iter().map(|(k, v)| (k.to_string(), v)));
        let planned = provider.plan(kind, Some(prior), &config).unwrap_or_else(|e| panic!("plan aws.{kind}: {e:?}"));
        let updated = runtime
            .block_on(provider.update(kind, prior, &planned))
            .unwrap_or_else(|e| panic!("update aws.{kind}: {e:?}"));
        assert_eq!(text(&updated, "id"), text(prior, "id"), "aws.{kind} keeps its id");
        updated
    };

    let vpc = create("vpc", attrs(vec![("cidr_block", Value::string("10.9.0.0/16"))]));
    let vpc_id = text(&vpc, "id").to_string();
    update("vpc", &vpc, vec![("enable_dns_hostnames", Value::bool(true))]);
    let hostnames =
        moto.aws(&["ec2", "describe-vpc-attribute", "--vpc-id", &vpc_id, "--attribute", "enableDnsHostnames"]);
    assert_eq!(hostnames["EnableDnsHostnames"]["Value"], true);

    let subnet =
        create("subnet", attrs(vec![("vpc_id", Value::string(&vpc_id)), ("cidr_block", Value::string("10.9.1.0/24"))]));
    let subnet_id = text(&subnet, "id").to_string();
    update("subnet", &subnet, vec![("map_public_ip_on_launch", Value::bool(true))]);
    let described = moto.aws(&["ec2", "describe-subnets", "--subnet-ids", &subnet_id]);
    assert_eq!(described["Subnets"][0]["MapPublicIpOnLaunch"], true);

    // An internet gateway moves to another VPC: detached, then attached.
    let other_vpc = moto.aws(&["ec2", "create-vpc", "--cidr-block", "10.10.0.0/16"]);
    let other_vpc = other_vpc["Vpc"]["VpcId"].as_str().expect("vpc id").to_string();
    let gateway = create("internet_gateway", attrs(vec![("vpc_id", Value::string(&vpc_id))]));
    update("internet_gateway", &gateway, vec![("vpc_id", Value::string(&other_vpc))]);
    let described = moto.aws(&["ec2", "describe-internet-gateways", "--internet-gateway-ids", text(&gateway, "id")]);
    let attachments = described["InternetGateways"][0]["Attachments"].as_array().expect("attachments").clone();
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0]["VpcId"], other_vpc.as_str());

    // A subnet moves to another route table.
    let first = create("route_table", attrs(vec![("vpc_id", Value::string(&vpc_id))]));
    let second = create("route_table", attrs(vec![("vpc_id", Value::string(&vpc_id))]));
    let association = create(
        "route_table_association",
        attrs(vec![("subnet_id", Value::string(&subnet_id)), ("route_table_id", Value::string(text(&first, "id")))]),
    );
    let planned = provider
        .plan(
            "route_table_association",
            Some(&association),
            &attrs(vec![
                ("subnet_id", Value::string(&subnet_id)),
                ("route_table_id", Value::string(text(&second, "id"))),
            ]),
        )
        .expect("planned");
    let moved = runtime.block_on(provider.update("route_table_association", &association, &planned)).expect("moved");
    let tables = moto.aws(&[
        "ec2",
        "describe-route-tables",
        "--filters",
        &format!("Name=association.subnet-id,Values={subnet_id}"),
    ]);
    assert_eq!(tables["RouteTables"].as_array().map(Vec::len), Some(1), "{tables}");
    assert_eq!(tables["RouteTables"][0]["RouteTableId"], text(&second, "id"));
    let association_ids: Vec<&str> = tables["RouteTables"][0]["Associations"]
        .as_array()
        .expect("associations")
        .iter()
        .filter_map(|a| a["RouteTableAssociationId"].as_str())
        .collect();
    assert_eq!(association_ids, [text(&moved, "id")], "the state holds the new association's id");

    // An instance changes security groups, and an elastic IP moves between instances.
    let group = |name: &str| {
        let config = attrs(vec![("name", Value::string(name)), ("vpc_id", Value::string(&vpc_id))]);
        text(&create("security_group", config), "id").to_string()
    };
    let (web, admin) = (group("web"), group("admin"));
    let instance = |groups: &[&str]| {
        create(
            "instance",
            attrs(vec![
                ("ami", Value::string("ami-1e749f67")),
                ("instance_type", Value::string("t3.micro")),
                ("subnet_id", Value::string(&subnet_id)),
                ("vpc_security_group_ids", strs(groups)),
            ]),
        )
    };
    let one = instance(&[&web]);
    let two = instance(&[&web]);
    update("instance", &one, vec![("vpc_security_group_ids", strs(&[&admin]))]);
    let described = moto.aws(&["ec2", "describe-instances", "--instance-ids", text(&one, "id")]);
    let groups = &described["Reservations"][0]["Instances"][0]["SecurityGroups"];
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");
    assert_eq!(groups[0]["GroupId"], admin.as_str());

    let address = create("eip", attrs(vec![("instance", Value::string(text(&one, "id")))]));
    update("eip", &address, vec![("instance", Value::string(text(&two, "id")))]);
    let described = moto.aws(&["ec2", "describe-addresses", "--allocation-ids", text(&address, "id")]);
    assert_eq!(described["Addresses"][0]["InstanceId"], text(&two, "id"));

    // A zone's comment.
    let zone = create("route53_zone", attrs(vec![("name", Value::string("inplace.example.com"))]));
    update("route53_zone", &zone, vec![("comment", Value::string("the shop"))]);
    let described = moto.aws(&["route53", "get-hosted-zone", "--id", text(&zone, "zone_id")]);
    assert_eq!(described["HostedZone"]["Config"]["Comment"], "the shop");
}

/// Found by the convergence suite: an imported key pair had no `public_key`, so the
/// configuration's key (force-new) replaced the key pair right after the import.
#[test]
fn regression_an_imported_key_pair_reads_its_public_key_so_the_next_plan_keeps_it() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjbyvfOJNZXUJPXIv8W2ESsgyMRCw4L7rxW6Y2zKS3r";
    moto.aws(&["ec2", "import-key-pair", "--key-name", "deploy", "--public-key-material", public_key]);
    let imported = runtime.block_on(provider.import("key_pair", "deploy")).expect("imported");
    assert_eq!(text(&imported, "public_key"), public_key);
    // Once the state has the key, it is kept as it is, not asked for again.
    let mut current = imported.clone();
    current.insert("public_key".to_string(), Value::string("as configured"));
    let ReadResult::Found(read) = runtime.block_on(provider.read("key_pair", &current)).expect("read") else {
        panic!("the key pair is gone")
    };
    assert_eq!(text(&read, "public_key"), "as configured");
}

/// Found by the convergence suite: a record made without `ttl` read back with `ttl = 0`
/// from moto, so every plan after the apply updated it.
#[test]
fn regression_a_record_made_without_a_ttl_reads_back_without_one() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let zone = runtime
        .block_on(provider.create("route53_zone", &attrs(vec![("name", Value::string("ttl.example.com"))])))
        .expect("zone");
    let record = attrs(vec![
        ("zone_id", Value::string(text(&zone, "zone_id"))),
        ("name", Value::string("www.ttl.example.com")),
        ("type", Value::string("A")),
        ("ttl", Value::null()),
        ("records", strs(&["192.0.2.1"])),
    ]);
    let created = runtime.block_on(provider.create("route53_record", &record)).expect("record");
    assert_eq!(created.get("ttl"), Some(&Value::null()));
    let ReadResult::Found(read) = runtime.block_on(provider.read("route53_record", &created)).expect("read") else {
        panic!("the record is gone")
    };
    assert_eq!(read.get("ttl"), Some(&Value::null()));
}

fn object(key: &str) -> Attributes {
    attrs(vec![
        ("bucket", Value::string("dots")),
        ("key", Value::string(key)),
        ("content", Value::string("hello")),
        ("source", Value::null()),
    ])
}

/// Found by a tester: a key with a `..` segment was sent as a URL path, which reqwest
/// resolves, so `a/b/../c` was stored as `a/c` while the plan showed no change. Such keys
/// are refused when planning (and importing), naming `key`; keys that only look like
/// them are stored as written.
#[test]
fn regression_an_object_key_with_dot_segments_is_refused_not_rewritten() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    for key in ["a/b/../c", "./x", "a/./b", "..", "a/.", "../other-bucket/x"] {
        let error = provider.plan("s3_object", None, &object(key)).expect_err(key);
        assert_eq!(error.attribute.as_deref(), Some("key"), "{key}: {error:?}");
        assert!(error.message.contains(&format!("`{key}`")), "{key}: {error:?}");
        assert!(error.help.as_deref().is_some_and(|h| h.contains("URL path")), "{key}: {error:?}");
        assert!(provider.validate("s3_object", &object(key)).iter().any(|e| e.attribute.as_deref() == Some("key")));
    }
    let error = runtime.block_on(provider.import("s3_object", "dots/a/b/../c")).expect_err("refused");
    assert!(error.message.contains("`a/b/../c`") && error.help.is_some(), "{error:?}");

    // A percent-encoded dot in a key is the key's own text: its `%` is encoded.
    let bucket = provider.plan("s3_bucket", None, &attrs(vec![("bucket", Value::string("dots"))])).expect("plan");
    runtime.block_on(provider.create("s3_bucket", &bucket)).expect("bucket");
    let kept = ["a/%2e%2e/c", "a/.../b", ".hidden/x", "a..b/c"];
    for key in kept {
        let planned = provider.plan("s3_object", None, &object(key)).unwrap_or_else(|e| panic!("{key}: {e:?}"));
        runtime.block_on(provider.create("s3_object", &planned)).unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    let listed = moto.aws(&["s3api", "list-objects", "--bucket", "dots"]);
    let mut keys: Vec<&str> =
        listed["Contents"].as_array().expect("objects").iter().filter_map(|o| o["Key"].as_str()).collect();
    keys.sort_unstable();
    let mut expected = kept.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
}

/// The configuration of an `A` record `name` in zone `zone_id` with `values`.
fn record(zone_id: &str, name: &str, values: &[&str]) -> Attributes {
    attrs(vec![
        ("zone_id", Value::string(zone_id)),
        ("name", Value::string(name)),
        ("type", Value::string("A")),
        ("ttl", Value::number(300.0)),
        ("records", strs(values)),
    ])
}

fn change_batch(action: &str, name: &str, values: &[&str]) -> String {
    let records: Vec<String> = values.iter().map(|v| format!("{{\"Value\":\"{v}\"}}")).collect();
    format!(
        "{{\"Changes\":[{{\"Action\":\"{action}\",\"ResourceRecordSet\":{{\"Name\":\"{name}.\",\"Type\":\"A\",\
         \"TTL\":300,\"ResourceRecords\":[{}]}}}}]}}",
        records.join(",")
    )
}

/// Found by a tester: a record was deleted with the values as the state holds them (in
/// the configuration's order), which Route 53 (moto at least) refuses when it stores
/// them in another order; and deleting one already deleted outside Infra failed. The
/// delete sends the record as Route 53 has it, and one that is gone is deleted.
#[test]
fn regression_a_record_is_deleted_as_stored_and_one_already_gone_is_deleted() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let zone = runtime
        .block_on(provider.create("route53_zone", &attrs(vec![("name", Value::string("order.example.com"))])))
        .expect("zone");
    let zone_id = text(&zone, "zone_id").to_string();
    let a_records = || {
        let sets = moto.aws(&["route53", "list-resource-record-sets", "--hosted-zone-id", &zone_id]);
        sets["ResourceRecordSets"].as_array().expect("sets").iter().filter(|s| s["Type"] == "A").count()
    };
    let outside = |action: &str, name: &str, values: &[&str]| {
        let batch = change_batch(action, name, values);
        moto.aws(&["route53", "change-resource-record-sets", "--hosted-zone-id", &zone_id, "--change-batch", &batch]);
    };

    // Changed outside Infra to values in an order the state never held: the state has
    // the configuration's order, which no change ever sent.
    let www = "www.order.example.com";
    let created = runtime
        .block_on(provider.create("route53_record", &record(&zone_id, www, &["192.0.2.9", "192.0.2.1", "192.0.2.5"])))
        .expect("created");
    outside("UPSERT", www, &["192.0.2.9", "192.0.2.1", "192.0.2.7"]);
    let mut current = created.clone();
    current.insert("records".to_string(), strs(&["192.0.2.1", "192.0.2.7", "192.0.2.9"]));
    runtime.block_on(provider.delete("route53_record", &current)).expect("deleted as stored");
    assert_eq!(a_records(), 0);

    // Deleted outside Infra: deleting it again is done.
    let api = "api.order.example.com";
    let created =
        runtime.block_on(provider.create("route53_record", &record(&zone_id, api, &["192.0.2.2"]))).expect("created");
    outside("UPSERT", api, &["192.0.2.4", "192.0.2.3"]);
    outside("DELETE", api, &["192.0.2.4", "192.0.2.3"]);
    let mut current = created;
    current.insert("records".to_string(), strs(&["192.0.2.3", "192.0.2.4"]));
    runtime.block_on(provider.delete("route53_record", &current)).expect("already gone");
    // So is one whose zone is gone.
    runtime.block_on(provider.delete("route53_zone", &zone)).expect("the zone is empty");
    runtime.block_on(provider.delete("route53_record", &current)).expect("the zone is gone");
}

/// Found by a tester: `HostedZoneNotEmpty` came with the generic "see the AWS
/// documentation" help; it names `force_destroy`, as `BucketNotEmpty` does.
#[test]
fn regression_deleting_a_zone_or_bucket_with_unmanaged_contents_suggests_force_destroy() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let zone = runtime
        .block_on(provider.create("route53_zone", &attrs(vec![("name", Value::string("full.example.com"))])))
        .expect("zone");
    let batch = change_batch("CREATE", "x.full.example.com", &["192.0.2.1"]);
    let zone_id = text(&zone, "zone_id");
    moto.aws(&["route53", "change-resource-record-sets", "--hosted-zone-id", zone_id, "--change-batch", &batch]);
    let error = runtime.block_on(provider.delete("route53_zone", &zone)).expect_err("not empty");
    assert!(error.message.contains("HostedZoneNotEmpty"), "{error:?}");
    assert!(error.help.as_deref().is_some_and(|h| h.contains("`force_destroy = true`")), "{error:?}");

    let bucket = provider.plan("s3_bucket", None, &attrs(vec![("bucket", Value::string("full"))])).expect("plan");
    let bucket = runtime.block_on(provider.create("s3_bucket", &bucket)).expect("bucket");
    let body = tempfile::NamedTempFile::new().expect("temp file");
    let body = body.path().to_string_lossy().to_string();
    moto.aws(&["s3api", "put-object", "--bucket", "full", "--key", "x", "--body", &body]);
    let error = runtime.block_on(provider.delete("s3_bucket", &bucket)).expect_err("not empty");
    assert!(error.message.contains("BucketNotEmpty"), "{error:?}");
    assert!(error.help.as_deref().is_some_and(|h| h.contains("`force_destroy = true`")), "{error:?}");
}

/// Found by a tester: `source = "nope.txt"` was an error without help; when planning and
/// when the file goes away before the upload, it says where `source` is read from.
#[test]
fn regression_a_missing_source_file_is_an_error_with_help() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let mut config = object("x");
    config.insert("content".to_string(), Value::null());
    config.insert("source".to_string(), Value::string("nope.txt"));
    let error = provider.plan("s3_object", None, &config).expect_err("no such file");
    assert_eq!(error.attribute.as_deref(), Some("source"), "{error:?}");
    assert!(error.message.contains("cannot read `nope.txt`"), "{error:?}");
    assert!(error.help.as_deref().is_some_and(|h| h.contains("root module's directory")), "{error:?}");

    let mut planned = config.clone();
    planned.insert("etag".to_string(), Value::string("0"));
    let error = runtime.block_on(provider.create("s3_object", &planned)).expect_err("no such file");
    assert_eq!(error.attribute.as_deref(), Some("source"), "{error:?}");
    assert!(error.help.as_deref().is_some_and(|h| h.contains("root module's directory")), "{error:?}");
}

/// An object sets exactly one of `content` and `source`: both, or neither, is refused
/// when planning (`infra check` cannot see it: the schema has no such constraint).
#[test]
fn an_object_with_both_or_neither_content_and_source_is_refused_when_planning() {
    let moto = Moto::start();
    let provider = moto.provider();
    let mut both = object("x");
    both.insert("source".to_string(), Value::string("Cargo.toml"));
    let error = provider.plan("s3_object", None, &both).expect_err("both");
    assert!(error.message.contains("exactly one of `content` and `source`"), "{error:?}");
    assert_eq!(error.attribute.as_deref(), Some("source"), "{error:?}");
    let mut neither = object("x");
    neither.insert("content".to_string(), Value::null());
    let error = provider.plan("s3_object", None, &neither).expect_err("neither");
    assert!(error.message.contains("exactly one of `content` and `source`"), "{error:?}");
    assert!(error.help.is_some(), "{error:?}");
}

/// Found with the key regression: other tools store keys with `..` segments, and a
/// `force_destroy` bucket deleted each object by its path, so `../victim/keep` deleted
/// bucket `victim`'s `keep` and `a/../b` nothing (the bucket then was not empty). Such
/// keys are deleted by naming them in a `DeleteObjects` body.
#[test]
fn regression_force_destroy_deletes_keys_with_dot_segments_and_nothing_elsewhere() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let body = tempfile::NamedTempFile::new().expect("temp file");
    let body = body.path().to_string_lossy().to_string();
    let put = |bucket: &str, key: &str| {
        moto.aws(&["s3api", "put-object", "--bucket", bucket, "--key", key, "--body", &body]);
    };
    moto.aws(&["s3api", "create-bucket", "--bucket", "victim"]);
    put("victim", "keep");
    let config = attrs(vec![("bucket", Value::string("doomed")), ("force_destroy", Value::bool(true))]);
    let planned = provider.plan("s3_bucket", None, &config).expect("plan");
    let bucket = runtime.block_on(provider.create("s3_bucket", &planned)).expect("bucket");
    for key in ["../victim/keep", "a/../b", "./c", "plain"] {
        put("doomed", key);
    }
    runtime.block_on(provider.delete("s3_bucket", &bucket)).expect("deleted with its objects");
    let buckets = moto.aws(&["s3api", "list-buckets"]);
    let names: Vec<&str> =
        buckets["Buckets"].as_array().expect("buckets").iter().filter_map(|b| b["Name"].as_str()).collect();
    assert_eq!(names, ["victim"]);
    let kept = moto.aws(&["s3api", "list-objects", "--bucket", "victim"]);
    assert_eq!(kept["Contents"][0]["Key"], "keep", "{kept}");
}

/// A rule block as the engine hands it over: every attribute present, null when unset.
fn rule_block(port: f64, peers: Vec<(&str, Value)>) -> Value {
    let mut fields: std::collections::BTreeMap<String, Value> =
        ["cidr_blocks", "ipv6_cidr_blocks", "security_groups", "self", "prefix_list_ids", "description"]
            .into_iter()
            .map(|name| (name.to_string(), Value::null()))
            .collect();
    fields.insert("from_port".to_string(), Value::number(port));
    fields.insert("to_port".to_string(), Value::number(port));
    fields.insert("protocol".to_string(), Value::string("tcp"));
    fields.extend(peers.into_iter().map(|(k, v)| (k.to_string(), v)));
    Value::map(fields)
}

/// Rules naming an IPv6 range, another group, the group itself or a prefix list were
/// neither read (one added with the AWS CLI was no drift) nor configurable. They are
/// authorized, read back as written, and the ones added outside Infra read as new blocks
/// that the next update revokes.
#[test]
fn regression_rules_of_every_peer_are_authorized_read_back_and_revoked_when_added_outside() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let provider = moto.provider();
    let vpc = moto.aws(&["ec2", "create-vpc", "--cidr-block", "10.11.0.0/16"]);
    let vpc = vpc["Vpc"]["VpcId"].as_str().expect("vpc id").to_string();
    let other =
        moto.aws(&["ec2", "create-security-group", "--group-name", "app", "--description", "app", "--vpc-id", &vpc]);
    let other = other["GroupId"].as_str().expect("group id").to_string();
    let list = moto.aws(&[
        "ec2",
        "create-managed-prefix-list",
        "--prefix-list-name",
        "offices",
        "--max-entries",
        "5",
        "--address-family",
        "IPv4",
    ]);
    let list = list["PrefixList"]["PrefixListId"].as_str().expect("prefix list id").to_string();

    let ingress = Value::list(vec![
        rule_block(5432.0, vec![("security_groups", strs(&[&other])), ("self", Value::bool(true))]),
        rule_block(443.0, vec![("ipv6_cidr_blocks", strs(&["::/0"])), ("description", Value::string("https"))]),
    ]);
    // moto keeps no description of a prefix list's rule, so this one has none.
    let egress = Value::list(vec![rule_block(443.0, vec![("prefix_list_ids", strs(&[&list]))])]);
    let config = attrs(vec![
        ("name", Value::string("db")),
        ("vpc_id", Value::string(&vpc)),
        ("ingress", ingress.clone()),
        ("egress", egress.clone()),
    ]);
    let planned = provider.plan("security_group", None, &config).expect("planned");
    let created = runtime.block_on(provider.create("security_group", &planned)).expect("created");
    let group = text(&created, "id").to_string();
    assert_eq!((created.get("ingress"), created.get("egress")), (Some(&ingress), Some(&egress)));
    let rules = |egress: bool| {
        let answer =
            moto.aws(&["ec2", "describe-security-group-rules", "--filters", &format!("Name=group-id,Values={group}")]);
        let peer = |r: &serde_json::Value| {
            let fields = [&r["CidrIpv4"], &r["CidrIpv6"], &r["ReferencedGroupInfo"]["GroupId"], &r["PrefixListId"]];
            fields.iter().find_map(|f| f.as_str()).unwrap_or_default().to_string()
        };
        let all = answer["SecurityGroupRules"].as_array().expect("rules").clone();
        let mut rules: Vec<String> =
            all.iter().filter(|r| r["IsEgress"] == egress).map(|r| format!("{} {}", r["FromPort"], peer(r))).collect();
        rules.sort();
        rules
    };
    let mut expected = vec!["443 ::/0".to_string(), format!("5432 {other}"), format!("5432 {group}")];
    expected.sort();
    assert_eq!(rules(false), expected);
    assert_eq!(rules(true), [format!("443 {list}")]);
    let read = |state: &Attributes| match runtime.block_on(provider.read("security_group", state)).expect("read") {
        ReadResult::Found(attributes) => attributes,
        ReadResult::Gone => panic!("the group is gone"),
    };
    assert_eq!(read(&created), created, "read back as written");

    // Added with the AWS CLI: a rule from the other group, one from the group itself, an
    // IPv6 one and a prefix list's, all on one port.
    let permission = format!(
        "IpProtocol=tcp,FromPort=6432,ToPort=6432,UserIdGroupPairs=[{{GroupId={other}}},{{GroupId={group}}}],\
         Ipv6Ranges=[{{CidrIpv6=2001:db8::/32}}],PrefixListIds=[{{PrefixListId={list}}}]"
    );
    moto.aws(&["ec2", "authorize-security-group-ingress", "--group-id", &group, "--ip-permissions", &permission]);
    let drifted = read(&created);
    let blocks = drifted.get("ingress").and_then(Value::as_list).expect("ingress").to_vec();
    assert_eq!(blocks.len(), 3, "{blocks:?}");
    let added = rule_block(
        6432.0,
        vec![
            ("ipv6_cidr_blocks", strs(&["2001:db8::/32"])),
            ("security_groups", strs(&[&other])),
            ("self", Value::bool(true)),
            ("prefix_list_ids", strs(&[&list])),
        ],
    );
    assert_eq!(blocks[2], added);
    let planned = provider.plan("security_group", Some(&drifted), &config).expect("planned");
    let updated = runtime.block_on(provider.update("security_group", &drifted, &planned)).expect("updated");
    assert_eq!(updated.get("ingress"), Some(&ingress));
    assert_eq!(rules(false), expected);

    // A block that names no peer stands for no rule: refused, with the way out.
    let mut empty = config.clone();
    empty.insert("ingress".to_string(), Value::list(vec![rule_block(22.0, vec![("cidr_blocks", strs(&[]))])]));
    let error = provider.plan("security_group", Some(&updated), &empty).expect_err("refused");
    assert_eq!(error.attribute.as_deref(), Some("ingress"));
    assert!(error.message.contains("names no peer"), "{}", error.message);
    assert!(error.help.as_deref().is_some_and(|h| h.contains("self = true")), "{:?}", error.help);
}

/// A plan moving an association to another route table, or an Elastic IP to another
/// instance, showed the association's id (and the address's `association_id` and
/// `private_ip`) unchanged, though the update changes them: they are unknown until it has
/// run. A plan that moves nothing keeps them.
#[test]
fn regression_a_plan_moving_an_association_or_an_address_leaves_what_the_move_changes_unknown() {
    let moto = Moto::start();
    let provider = moto.provider();
    let association = attrs(vec![
        ("id", Value::string("rtbassoc-1")),
        ("subnet_id", Value::string("subnet-1")),
        ("route_table_id", Value::string("rtb-1")),
    ]);
    let plan = |kind: &str, prior: &Attributes, changes: Vec<(&str, Value)>| {
        let mut config = prior.clone();
        config.extend(changes.into_iter().map(|(k, v)| (k.to_string(), v)));
        provider.plan(kind, Some(prior), &config).unwrap_or_else(|e| panic!("plan aws.{kind}: {e:?}"))
    };
    assert!(!plan("route_table_association", &association, vec![("route_table_id", Value::string("rtb-2"))])["id"]
        .is_known());
    assert_eq!(plan("route_table_association", &association, vec![])["id"], Value::string("rtbassoc-1"));

    let address = attrs(vec![
        ("id", Value::string("eipalloc-1")),
        ("instance", Value::string("i-1")),
        ("domain", Value::string("vpc")),
        ("public_ip", Value::string("198.51.100.7")),
        ("private_ip", Value::string("10.0.0.5")),
        ("association_id", Value::string("eipassoc-1")),
    ]);
    for instance in [Value::string("i-2"), Value::null()] {
        let planned = plan("eip", &address, vec![("instance", instance)]);
        assert!(!planned["association_id"].is_known() && !planned["private_ip"].is_known(), "{planned:?}");
        assert_eq!(planned["public_ip"], Value::string("198.51.100.7"), "the address itself stays");
    }
    let unmoved =
        plan("eip", &address, vec![("tags", Value::map([("Name".to_string(), Value::string("web"))].into()))]);
    assert_eq!(unmoved["association_id"], Value::string("eipassoc-1"));
}
