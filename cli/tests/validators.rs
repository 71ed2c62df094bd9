//! Attribute validators end to end: `infra check` refuses a literal the API would refuse,
//! on the literal's span, and `infra plan` and `apply` refuse a value known only at plan
//! time before anything is created (E0406).

use std::path::Path;

mod common;

use common::{fails, ok, write_module as module};

const AWS_PROVIDER: &str = r#"
provider aws {
  region     = "us-east-1"
  endpoint   = "http://127.0.0.1:9"
  access_key = "test"
  secret_key = "test"
}
"#;

#[test]
fn check_reports_an_invalid_cidr_block_on_its_span() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(dir, "resource aws.vpc main {\n  cidr_block = \"10.0.0.0/33\"\n}\n");
    let text = fails(dir, &["check"]);
    assert!(
        text.contains("error[E0406]")
            && text.contains("`10.0.0.0/33` is not a CIDR block: the prefix length of an IPv4 block is at most 32"),
        "{text}"
    );
    assert!(text.contains("main.infra:2:16"), "the label is on the literal:\n{text}");
    assert!(text.contains("help: write an address and a prefix length, such as `10.0.0.0/16`"), "{text}");

    let json = common::run(dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let diagnostic = &json["diagnostics"][0];
    assert_eq!(diagnostic["code"], "E0406");
    let label = serde_json::to_string(&diagnostic["labels"]).unwrap_or_default();
    assert!(label.contains("\"line\":2"), "{label}");
}

/// The check-time example from the issue, fixed: a valid configuration checks clean.
#[test]
fn check_accepts_what_the_api_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "resource aws.vpc main {\n  cidr_block = \"10.0.0.0/16\"\n}\nresource aws.instance web {\n  ami           = \"ami-0abcdef1234567890\"\n  instance_type = \"t3.micro\"\n}\nresource time.sleep s {\n  create_duration = \"1m30s\"\n}\n",
    );
    ok(dir, &["check"]);
}

fn nothing_created(dir: &Path) {
    assert!(!dir.join("first.txt").exists(), "a resource was created");
    let state = common::outcome(dir, &["state", "list"]).1;
    assert!(!state.contains("first"), "{state}");
}

/// A duration that comes from an input is known only at plan time: plan and apply refuse
/// it, on the attribute's value, before the file that does not depend on it is written.
#[test]
fn plan_refuses_a_value_known_only_at_plan_time_before_anything_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "input wait: string\n\nresource local.file first {\n  path    = \"first.txt\"\n  content = \"x\"\n}\n\nresource time.sleep settle {\n  create_duration = wait\n}\n",
    );
    ok(dir, &["check"]);
    let text = fails(dir, &["plan", "--var", "wait=5minutes"]);
    assert!(text.contains("error[E0406]") && text.contains("settle: `5minutes` is not a duration"), "{text}");
    assert!(text.contains("main.infra:9:21"), "the label is on the attribute's value:\n{text}");
    assert!(text.contains("help: write numbers with units"), "{text}");
    let text = fails(dir, &["apply", "--auto-approve", "--var", "wait=5minutes"]);
    assert!(text.contains("E0406"), "{text}");
    nothing_created(dir);
    ok(dir, &["apply", "--auto-approve", "--var", "wait=10ms"]);
}

/// `cidrsubnet` of an input gives a /32, which no VPC can be: the plan stops at it.
#[test]
fn plan_refuses_a_computed_cidr_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        &format!("{AWS_PROVIDER}\ninput base: string\n\nresource aws.vpc main {{\n  cidr_block = cidrsubnet(base, 24, 1)\n}}\n"),
    );
    let text = fails(dir, &["plan", "--var", "base=10.0.0.0/8"]);
    assert!(text.contains("main: `10.0.0.1/32` is not a block of an accepted size"), "{text}");
    assert!(text.contains("main.infra:12:16") && text.contains("from /16 (the largest) to /28"), "{text}");
}

/// A sensitive value that a validator refuses is not repeated in the error.
#[test]
fn a_refused_sensitive_value_is_not_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "input mode: string { sensitive = true }\n\nresource local.file f {\n  path    = \"f.txt\"\n  content = \"x\"\n  mode    = mode\n}\n",
    );
    let text = fails(dir, &["plan", "--var", "mode=0999"]);
    assert!(text.contains("E0406") && text.contains("the value of `mode` is not a valid `mode`"), "{text}");
    assert!(!text.contains("0999"), "the secret leaked:\n{text}");
}

/// A value computed inside a repeated nested block is found in its block: the label is on
/// the attribute in the block's body.
#[test]
fn plan_refuses_a_computed_port_in_a_nested_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        &format!("{AWS_PROVIDER}\ninput ports: list(number)\n\nresource aws.security_group web {{\n  name = \"web\"\n  ingress for port in ports {{\n    from_port   = port\n    to_port     = port\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n}}\n"),
    );
    ok(dir, &["check"]);
    let text = fails(dir, &["plan", "--var", "ports=[22, 70000]"]);
    assert!(text.contains("web: `70000` is out of range: `from_port` is at least -1 and at most 65535"), "{text}");
    assert!(text.contains("main.infra:14:19"), "the label is on `from_port`'s value:\n{text}");
    assert!(text.contains("also: `70000` is out of range: `to_port`"), "the other value is a note:\n{text}");
}

/// Route 53 refuses a record without a TTL (the emulator took one, then failed to
/// replace it): `ttl` is required, as in Terraform.
#[test]
fn a_dns_record_needs_a_ttl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    module(
        dir,
        "resource aws.route53_record apex {\n  zone_id = \"Z1\"\n  name    = \"example.com\"\n  type    = \"A\"\n  records = [\"192.0.2.1\"]\n}\n",
    );
    let text = fails(dir, &["check"]);
    assert!(text.contains("ttl"), "{text}");
}

/// A provider configuration that fails is reported once, not once per resource using it.
#[test]
fn a_provider_that_cannot_be_configured_is_reported_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp home");
    let dir = dir.path();
    module(
        dir,
        "provider aws {\n  region = \"us-east-1\"\n}\nresource aws.vpc a {\n  cidr_block = \"10.0.0.0/16\"\n}\n\
         resource aws.vpc b {\n  cidr_block = \"10.1.0.0/16\"\n}\nresource aws.vpc c {\n  cidr_block = \"10.2.0.0/16\"\n}\n",
    );
    let mut command = common::command(dir, &["plan"]);
    command.env("HOME", home.path());
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ] {
        command.env_remove(name);
    }
    let output = command.output().expect("infra runs");
    let shown = common::text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert_eq!(shown.matches("× provider `aws`").count(), 1, "{shown}");
}

/// Bug: a provider configuration the provider refused was reported at the resource that
/// used it ("used here"), not at the configuration: now at the attribute the provider
/// names when the block sets it, else at the block, with the resource beside.
#[test]
fn a_refused_provider_configuration_points_at_the_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let resource = "resource digitalocean.vpc t {\n  name   = \"x\"\n  region = \"nyc3\"\n}\n";
    let cases = [
        ("provider digitalocean {\n  token = \"\"\n}\n", "main.infra:2:11", "the provider refused this"),
        ("provider digitalocean {\n  api_url = \"http://127.0.0.1:9\"\n}\n", "main.infra:1:10", "configured here"),
    ];
    for (block, at, label) in cases {
        module(dir, &format!("{block}{resource}"));
        let mut command = common::command(dir, &["plan"]);
        command.env_remove("DIGITALOCEAN_TOKEN").env_remove("DIGITALOCEAN_ACCESS_TOKEN");
        let output = command.output().expect("infra runs");
        let shown = common::text(&output);
        assert_eq!(output.status.code(), Some(1), "{shown}");
        assert!(shown.contains("no DigitalOcean token set"), "{shown}");
        assert!(shown.contains(at) && shown.contains(label) && shown.contains("used here"), "{shown}");
    }
}
