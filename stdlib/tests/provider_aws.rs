//! The `aws` provider through the provider interface against moto (started on a free
//! port of 127.0.0.1 and stopped when the test ends): importing objects made with the
//! AWS CLI, and reading one that is gone.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use infra_runtime::provider::{Attributes, ProviderContext, ReadResult};
use infra_runtime::Value;

/// A moto server, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server runs (pip install 'moto[server]')");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let start = Instant::now();
        let url = format!("{}/moto-api/", moto.endpoint);
        while !Command::new("curl").args(["-sf", "-o", "/dev/null", &url]).status().is_ok_and(|s| s.success()) {
            assert!(start.elapsed() < Duration::from_secs(30), "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The AWS CLI's JSON answer.
    fn aws(&self, args: &[&str]) -> serde_json::Value {
        let output = Command::new("aws")
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("the aws CLI runs");
        assert!(output.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }

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
        infra_stdlib::providers::aws::factory().configure(&config, &context).expect("configured")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
