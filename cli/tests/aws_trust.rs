//! Regressions of the `aws` provider a tester found, through `infra` against moto: what
//! the user sees (the diagnostic's code, where it points, its help) and that a destroy
//! finishes. Each test starts its own moto on a free port of 127.0.0.1.

use std::path::Path;
use std::process::Output;

mod common;

use common::{command, text, write_module};

#[path = "support/moto.rs"]
mod moto;

use moto::Moto;

fn infra_with(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    command(dir, args).envs(moto.environment()).env_remove("AWS_PROFILE").output().expect("infra runs")
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

const PROVIDER: &str = "provider aws {\n  region = \"us-east-1\"\n}\n";

/// An object in bucket `dots`; `{body}` is its `content` or `source` line.
fn object_module(key: &str, body: &str) -> String {
    format!(
        "{PROVIDER}\nresource aws.s3_bucket b {{\n  bucket = \"dots\"\n}}\n\n\
         resource aws.s3_object o {{\n  bucket = b.bucket\n  key    = {key}\n  {body}\n}}\n"
    )
}

/// `a/b/../c` was stored as `a/c` (reqwest resolves the URL path) while the plan said no
/// change. `infra check` refuses a key written with a `.` or `..` segment, at `key`, and
/// `infra plan` one computed from an input.
#[test]
fn regression_an_object_key_with_dot_segments_is_refused_before_anything_is_made() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &object_module("\"a/b/../c\"", "content = \"hello\""));
    let checked = infra_with(&moto, dir, &["check"]);
    assert_exit(&checked, 1);
    let shown = text(&checked);
    assert!(shown.contains("E0406"), "{shown}");
    assert!(shown.contains("`a/b/../c` is not a valid `key`"), "{shown}");
    assert!(shown.contains("main.infra:11:"), "the diagnostic points at `key`:\n{shown}");
    assert!(shown.contains("help: `key` takes a key whose segments between slashes are not"), "{shown}");

    let computed = object_module("\"${prefix}/x\"", "content = \"hello\"") + "\ninput prefix: string = \"a/.\"\n";
    write_module(dir, &computed);
    assert_exit(&infra_with(&moto, dir, &["check"]), 0);
    let planned = infra_with(&moto, dir, &["apply", "--auto-approve"]);
    assert_exit(&planned, 1);
    assert!(text(&planned).contains("`a/./x` is not a valid `key`"), "{}", text(&planned));
    let buckets = moto.aws(&["s3api", "list-buckets"]);
    assert_eq!(buckets["Buckets"].as_array().map(Vec::len), Some(0), "nothing was made: {buckets}");
}

/// `source = "nope.txt"` was an error without help.
#[test]
fn regression_a_missing_source_file_says_where_it_was_looked_for() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &object_module("\"x\"", "source = \"nope.txt\""));
    let planned = infra_with(&moto, dir, &["plan"]);
    assert_exit(&planned, 1);
    let shown = text(&planned);
    assert!(shown.contains("E0610"), "{shown}");
    assert!(shown.contains("o: cannot read `nope.txt`"), "{shown}");
    assert!(shown.contains("main.infra:12:"), "the diagnostic points at `source`:\n{shown}");
    assert!(shown.contains("help: `source` is a path relative to the root module's directory"), "{shown}");
}

const ZONE_AND_RECORD: &str = r#"
resource aws.route53_zone zone {
  name = "trust.example.com"
}

resource aws.route53_record www {
  zone_id = zone.zone_id
  name    = "www.trust.example.com"
  type    = "A"
  ttl     = 300
  records = ["192.0.2.9", "192.0.2.1"]
}
"#;

fn change_batch(action: &str, values: &[&str]) -> String {
    let records: Vec<String> = values.iter().map(|v| format!("{{\"Value\":\"{v}\"}}")).collect();
    format!(
        "{{\"Changes\":[{{\"Action\":\"{action}\",\"ResourceRecordSet\":{{\"Name\":\"www.trust.example.com.\",\
         \"Type\":\"A\",\"TTL\":300,\"ResourceRecords\":[{}]}}}}]}}",
        records.join(",")
    )
}

/// A record changed and then deleted outside Infra: `infra destroy` sent the values in
/// the configuration's order (which moto refuses) and failed; deleting what is gone is
/// done. A zone holding
/// a record Infra does not manage says to set `force_destroy`.
#[test]
fn regression_destroy_finishes_when_a_record_is_gone_and_a_full_zone_names_force_destroy() {
    let moto = Moto::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &format!("{PROVIDER}{ZONE_AND_RECORD}"));
    assert_exit(&infra_with(&moto, dir, &["apply", "--auto-approve"]), 0);
    let zones = moto.aws(&["route53", "list-hosted-zones"]);
    let zone_id = zones["HostedZones"][0]["Id"].as_str().expect("zone id").to_string();
    let change = |action: &str, values: &[&str]| {
        let batch = change_batch(action, values);
        moto.aws(&["route53", "change-resource-record-sets", "--hosted-zone-id", &zone_id, "--change-batch", &batch]);
    };
    // Changed outside Infra, and the configuration follows in another order: no change,
    // and the state holds the configuration's order, which Route 53 never got.
    change("UPSERT", &["192.0.2.9", "192.0.2.7"]);
    let followed = ZONE_AND_RECORD.replace("[\"192.0.2.9\", \"192.0.2.1\"]", "[\"192.0.2.7\", \"192.0.2.9\"]");
    write_module(dir, &format!("{PROVIDER}{followed}"));
    let applied = infra_with(&moto, dir, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert!(text(&applied).contains("No changes."), "{}", text(&applied));
    change("DELETE", &["192.0.2.9", "192.0.2.7"]);
    let other = change_batch("CREATE", &["192.0.2.5"]).replace("www.trust", "other.trust");
    moto.aws(&["route53", "change-resource-record-sets", "--hosted-zone-id", &zone_id, "--change-batch", &other]);

    let destroyed = infra_with(&moto, dir, &["destroy", "--auto-approve"]);
    assert_exit(&destroyed, 1);
    let shown = text(&destroyed);
    assert!(shown.contains("www: Destruction complete"), "the gone record is deleted:\n{shown}");
    assert!(shown.contains("zone: Route 53 DeleteHostedZone failed with AWS error `HostedZoneNotEmpty`"), "{shown}");
    assert!(shown.contains("help: the zone holds records Infra does not manage"), "{shown}");
    assert!(shown.contains("`force_destroy = true`"), "{shown}");

    // As the help says: `force_destroy` applied, then the destroy deletes the record too.
    let forced = ZONE_AND_RECORD.replace("\"trust.example.com\"\n", "\"trust.example.com\"\n  force_destroy = true\n");
    write_module(dir, &format!("{PROVIDER}{forced}"));
    assert_exit(&infra_with(&moto, dir, &["apply", "--auto-approve"]), 0);
    assert_exit(&infra_with(&moto, dir, &["destroy", "--auto-approve"]), 0);
    let zones = moto.aws(&["route53", "list-hosted-zones"]);
    assert_eq!(zones["HostedZones"].as_array().map(Vec::len), Some(0), "{zones}");
}

/// In us-east-1, S3 answers `CreateBucket` of a bucket the account already owns as if
/// it made it (moto does the same). Infra then took over a bucket it never made: its
/// tags replaced, and a later destroy deleting it. Such a create is now refused, saying
/// to import the bucket, and the bucket is left as it was.
#[test]
fn regression_a_bucket_the_account_already_owns_is_not_taken_over_in_us_east_1() {
    let moto = Moto::start();
    moto.aws(&["s3api", "create-bucket", "--bucket", "existing"]);
    moto.aws(&["s3api", "put-bucket-tagging", "--bucket", "existing", "--tagging", "TagSet=[{Key=Owner,Value=ops}]"]);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(
        dir,
        &format!(
            "{PROVIDER}\nresource aws.s3_bucket b {{\n  bucket = \"existing\"\n  tags   = {{ Team = \"infra\" }}\n}}\n"
        ),
    );
    let applied = infra_with(&moto, dir, &["apply", "--auto-approve"]);
    assert_exit(&applied, 1);
    // (The message and its help are wrapped to the terminal's width.)
    let shown = text(&applied).replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(shown.contains("BucketAlreadyOwnedByYou") && shown.contains("`existing` already exists"), "{shown}");
    assert!(shown.contains("`infra import ADDRESS BUCKET`"), "{shown}");
    let tags = moto.aws(&["s3api", "get-bucket-tagging", "--bucket", "existing"]);
    assert_eq!(tags["TagSet"], serde_json::json!([{"Key": "Owner", "Value": "ops"}]), "the bucket is untouched");
    assert_eq!(text(&infra_with(&moto, dir, &["state", "list"])), "", "nothing was recorded");

    // Imported, it is managed as any other.
    assert_exit(&infra_with(&moto, dir, &["import", "b", "existing"]), 0);
    assert_exit(&infra_with(&moto, dir, &["apply", "--auto-approve"]), 0);
    let tags = moto.aws(&["s3api", "get-bucket-tagging", "--bucket", "existing"]);
    assert_eq!(tags["TagSet"], serde_json::json!([{"Key": "Team", "Value": "infra"}]));
}

/// A proxy in front of moto: it passes each request on and moto's answer back, except for
/// the first request `fails` picks out, which moto gets (and carries out) and whose answer
/// is replaced with a 500 `InternalError`, as AWS's is after a fault that follows the work.
/// Each connection carries one request (`connection: close` both ways). Returns the
/// proxy's endpoint; it serves until the test process ends.
fn failing_after_moto(moto: &Moto, fails: fn(&str) -> bool) -> String {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let upstream = moto.endpoint.trim_start_matches("http://").to_string();
    let failed = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            let (upstream, failed) = (upstream.clone(), failed.clone());
            std::thread::spawn(move || {
                let request = read_request(&mut client);
                let answer = forward(&upstream, &request);
                let fail = fails(&String::from_utf8_lossy(&request)) && !failed.swap(true, Ordering::SeqCst);
                let answer = if fail {
                    let body = "<Response><Errors><Error><Code>InternalError</Code><Message>An internal error has \
                                occurred</Message></Error></Errors></Response>";
                    format!(
                        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes()
                } else {
                    answer
                };
                let _ = client.write_all(&answer);
            });
        }
    });
    endpoint
}

/// One request: its head, with `connection: close` in place of any `connection` header,
/// and as much body as it announces.
fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = stream.read(&mut buffer).unwrap_or(0);
        request.extend_from_slice(&buffer[..n]);
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            if n == 0 {
                return request;
            }
            continue;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if request.len() >= end + 4 + length || n == 0 {
            let lines: Vec<&str> =
                head.lines().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
            let mut rewritten = format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n")).into_bytes();
            rewritten.extend_from_slice(&request[end + 4..]);
            return rewritten;
        }
    }
}

/// Moto's whole answer to `request` (it closes the connection after it).
fn forward(upstream: &str, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut moto = std::net::TcpStream::connect(upstream).expect("moto");
    let _ = moto.set_read_timeout(Some(std::time::Duration::from_secs(60)));
    moto.write_all(request).expect("to moto");
    let mut answer = Vec::new();
    let _ = moto.read_to_end(&mut answer);
    answer
}

fn infra_through(moto: &Moto, endpoint: &str, dir: &Path, args: &[&str]) -> Output {
    command(dir, args)
        .envs(moto.environment())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("infra runs")
}

/// The text of an output with the terminal's wrapping and frame undone.
fn unwrapped(output: &Output) -> String {
    text(output).replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Regression: a `CreateVpc` that failed with a server error after AWS had made the VPC
/// was sent again, making a second VPC, one of which Infra never recorded. It is not sent
/// again now: the apply fails saying which VPC may have been made and how to import it,
/// and following that makes no second one.
#[test]
fn regression_a_vpc_whose_create_failed_after_it_was_made_is_not_made_twice() {
    let moto = Moto::start();
    let proxy = failing_after_moto(&moto, |request| request.contains("Action=CreateVpc"));
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &format!("{PROVIDER}\nresource aws.vpc main {{\n  cidr_block = \"10.40.0.0/16\"\n}}\n"));
    let applied = infra_through(&moto, &proxy, dir, &["apply", "--auto-approve"]);
    assert_exit(&applied, 1);
    let shown = unwrapped(&applied);
    assert!(shown.contains("EC2 CreateVpc may have made a VPC with CIDR block `10.40.0.0/16`"), "{shown}");
    assert!(shown.contains("it was not sent again"), "{shown}");
    assert!(shown.contains("`infra import ADDRESS ID`"), "{shown}");
    let vpcs = || moto.aws(&["ec2", "describe-vpcs", "--filters", "Name=cidr,Values=10.40.0.0/16"])["Vpcs"].clone();
    let made = vpcs();
    assert_eq!(made.as_array().map(Vec::len), Some(1), "one VPC: {made}");

    // As the help says: found and imported, then applied, without a second VPC.
    let id = made[0]["VpcId"].as_str().expect("an id").to_string();
    assert_exit(&infra_through(&moto, &proxy, dir, &["import", "main", &id]), 0);
    assert_exit(&infra_through(&moto, &proxy, dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(vpcs().as_array().map(Vec::len), Some(1), "{}", vpcs());
}

/// Regression: an `ImportKeyPair` that failed with a server error after EC2 had imported
/// the key was sent again and refused as a duplicate name: the apply failed, and the key
/// pair it had made was left out of the state. The key pair holding the configuration's
/// key is now taken.
#[test]
fn regression_a_key_pair_whose_import_failed_after_it_was_made_is_taken() {
    let moto = Moto::start();
    let proxy = failing_after_moto(&moto, |request| request.contains("Action=ImportKeyPair"));
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjbyvfOJNZXUJPXIv8W2ESsgyMRCw4L7rxW6Y2zKS3r deploy";
    write_module(
        dir,
        &format!(
            "{PROVIDER}\nresource aws.key_pair deploy {{\n  key_name   = \"deploy\"\n  public_key = \"{key}\"\n}}\n"
        ),
    );
    let applied = infra_through(&moto, &proxy, dir, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    let pairs = moto.aws(&["ec2", "describe-key-pairs"]);
    assert_eq!(pairs["KeyPairs"].as_array().map(Vec::len), Some(1), "{pairs}");
    assert_eq!(text(&infra_through(&moto, &proxy, dir, &["state", "list"])).trim(), "deploy");
    let planned = infra_through(&moto, &proxy, dir, &["plan"]);
    assert!(text(&planned).contains("No changes."), "{}", text(&planned));
}

/// Regression: outside us-east-1, a `CreateBucket` that failed with a server error after
/// S3 had made the bucket was sent again and refused with `BucketAlreadyOwnedByYou`: the
/// apply failed, leaving the bucket out of the state. That refusal after a failed attempt
/// is the bucket this create made, and it is taken.
#[test]
fn regression_a_bucket_whose_create_failed_after_it_was_made_is_taken() {
    let moto = Moto::start();
    let proxy = failing_after_moto(&moto, |request| request.starts_with("PUT /made-once "));
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module =
        "provider aws {\n  region = \"eu-west-1\"\n}\n\nresource aws.s3_bucket b {\n  bucket = \"made-once\"\n  \
                  tags   = { Team = \"infra\" }\n}\n";
    write_module(dir, module);
    let applied = infra_through(&moto, &proxy, dir, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert_eq!(text(&infra_through(&moto, &proxy, dir, &["state", "list"])).trim(), "b");
    let tags = moto.aws(&["s3api", "get-bucket-tagging", "--bucket", "made-once"]);
    assert_eq!(tags["TagSet"], serde_json::json!([{"Key": "Team", "Value": "infra"}]));
    let planned = infra_through(&moto, &proxy, dir, &["plan"]);
    assert!(text(&planned).contains("No changes."), "{}", text(&planned));
}
