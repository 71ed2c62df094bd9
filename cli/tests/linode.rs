//! The `linode` provider end to end: `infra` applies a web server's objects (key,
//! instance, firewall, zone, record) against the Linode stand-in behind Prism, which
//! validates every request and response against Linode's official API description
//! (`support/prism.rs`); the API, called directly, checks what exists, drifts objects
//! behind Infra's back and deletes them. The token comes from LINODE_TOKEN and, like the
//! root password, never appears in what `infra` prints.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value as Json};

mod common;

use common::{command, text, write_module};

#[path = "support/prism.rs"]
mod prism;

#[path = "support/venv.rs"]
mod venv;

use prism::{Prism, LINODE};

const ROOT_PASS: &str = "Root-pass-never-shown-42";

impl Prism {
    /// `infra ARGS` in `dir` with this stand-in's token in LINODE_TOKEN.
    fn infra(&self, dir: &Path, args: &[&str]) -> Output {
        self.infra_with_token(dir, args, &self.token)
    }

    fn infra_with_token(&self, dir: &Path, args: &[&str], token: &str) -> Output {
        command(dir, args)
            .env("LINODE_TOKEN", token)
            .env("INFRA_VAR_root_pass", ROOT_PASS)
            .output()
            .expect("infra runs")
    }

    /// `linode-cli ARGS --json`, Linode's official client, reading this stand-in: what
    /// it prints, as JSON. It talks to the stand-in directly: it always puts the API's
    /// `/v4` prefix in the path, which Prism's proxy does not route (it matches paths
    /// only without the prefix), and its reading is the cross-check, not its requests.
    fn linode_cli(&self, args: &[&str]) -> Json {
        let cli = venv::venv("linode-cli", &["linode-cli==5.69.0"]).join("bin/linode-cli");
        let output = std::process::Command::new(cli)
            .args(args)
            .args(["--json", "--no-defaults", "--suppress-warnings"])
            .env("LINODE_CLI_TOKEN", &self.token)
            .env("LINODE_CLI_API_HOST", format!("127.0.0.1:{}", self.standin_port))
            .env("LINODE_CLI_API_SCHEME", "http")
            .env("LINODE_CLI_CONFIG", "/nonexistent/linode-cli")
            .env("HOME", std::env::temp_dir())
            .output()
            .expect("linode-cli runs");
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "linode-cli {args:?}: {printed}{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_str(&printed)
            .unwrap_or_else(|e| panic!("linode-cli {args:?} printed no JSON ({e}): {printed}"))
    }

    /// The `data` of a list, through Prism.
    fn listed(&self, path: &str) -> Vec<Json> {
        let (status, answer) = self.api("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer["data"].as_array().cloned().unwrap_or_default()
    }
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// Neither the token nor the root password is in what `infra` printed.
#[track_caller]
fn assert_no_secrets(prism: &Prism, output: &Output) {
    let printed = text(output);
    assert!(!printed.contains(&prism.token), "the token was printed:\n{printed}");
    assert!(!printed.contains(ROOT_PASS), "the root password was printed:\n{printed}");
}

fn module(prism: &Prism, tags: &str) -> String {
    format!(
        r#"
input root_pass: string {{
  sensitive = true
}}

provider linode {{
  api_url = "{url}"
}}

resource tls.private_key admin {{
  algorithm = "ED25519"
}}

resource linode.sshkey admin_key {{
  label   = "admin"
  ssh_key = admin.public_key_openssh
}}

resource linode.instance web {{
  label           = "web-1"
  region          = "us-east"
  type            = "g6-nanode-1"
  image           = "linode/debian12"
  root_pass       = root_pass
  authorized_keys = [trimspace(admin.public_key_openssh)]
  tags            = {tags}
}}

resource linode.firewall guard {{
  label           = "web"
  inbound_policy  = "DROP"
  outbound_policy = "ACCEPT"
  linodes         = [web.id]
  inbound for port in ["22", "80", "443"] {{
    label    = "allow-${{port}}"
    action   = "ACCEPT"
    protocol = "TCP"
    ports    = port
    ipv4     = ["0.0.0.0/0"]
  }}
}}

resource linode.domain zone {{
  domain    = "example.org"
  type      = "master"
  soa_email = "hostmaster@example.org"
}}

resource linode.domain_record www {{
  domain_id   = zone.id
  name        = "www"
  record_type = "A"
  target      = web.ip_address
}}

output address = web.ip_address
"#,
        url = prism.url
    )
}

#[test]
fn a_web_server_is_applied_planned_drifted_updated_and_destroyed() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &module(&prism, r#"["web"]"#));

    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("6 added"), "{}", text(&output));
    assert_no_secrets(&prism, &output);
    let instances = prism.listed("/linode/instances");
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["status"], "running");
    let instance_id = instances[0]["id"].clone();
    let address = instances[0]["ipv4"][0].as_str().expect("address").to_string();
    let firewalls = prism.listed("/networking/firewalls");
    let devices = prism.listed(&format!("/networking/firewalls/{}/devices", firewalls[0]["id"]));
    assert_eq!(devices[0]["entity"]["id"], instance_id);
    let zone = &prism.listed("/domains")[0];
    let records = prism.listed(&format!("/domains/{}/records", zone["id"]));
    assert_eq!(records[0]["target"], address.as_str());

    // Linode's own client reads back what Infra made.
    let linodes = prism.linode_cli(&["linodes", "list"]);
    assert_eq!(linodes[0]["label"], "web-1", "{linodes}");
    assert_eq!(linodes[0]["region"], "us-east");
    assert_eq!(linodes[0]["type"], "g6-nanode-1");
    assert_eq!(linodes[0]["image"], "linode/debian12");
    assert_eq!(linodes[0]["status"], "running");
    assert_eq!(linodes[0]["tags"], json!(["web"]));
    let rules = prism.linode_cli(&["firewalls", "rules-list", &firewalls[0]["id"].to_string()]);
    let ports: Vec<&Json> =
        rules[0]["inbound"].as_array().expect("inbound rules").iter().map(|r| &r["ports"]).collect();
    assert_eq!(ports, [&json!("22"), &json!("80"), &json!("443")], "{rules}");
    assert_eq!(rules[0]["inbound_policy"], "DROP");
    let records = prism.linode_cli(&["domains", "records-list", &zone["id"].to_string()]);
    assert_eq!((&records[0]["name"], &records[0]["type"]), (&json!("www"), &json!("A")), "{records}");
    assert_eq!(records[0]["target"], address.as_str());
    let keys = prism.linode_cli(&["sshkeys", "list"]);
    assert_eq!(keys[0]["label"], "admin", "{keys}");

    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert_no_secrets(&prism, &plan);

    // Drift: the instance renamed and the record deleted behind Infra's back.
    prism.api("PUT", &format!("/linode/instances/{instance_id}"), Some(&json!({"label": "renamed"})));
    prism.api("DELETE", &format!("/domains/{}/records/{}", zone["id"], records[0]["id"]), None);
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# web will be updated in place"), "{}", text(&plan));
    assert!(text(&plan).contains("# www has been deleted outside of Infra"), "{}", text(&plan));
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(prism.listed("/linode/instances")[0]["label"], "web-1");
    assert_eq!(prism.listed(&format!("/domains/{}/records", zone["id"])).len(), 1);
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    // In place: new tags keep the same Linode.
    write_module(dir, &module(&prism, r#"["web", "prod"]"#));
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("0 added, 1 changed, 0 destroyed"), "{}", text(&output));
    let instances = prism.listed("/linode/instances");
    assert_eq!(instances[0]["id"], instance_id);
    assert_eq!(instances[0]["tags"], json!(["prod", "web"]));

    let output = prism.infra(dir, &["destroy", "--auto-approve"]);
    assert_exit(&output, 0);
    assert_no_secrets(&prism, &output);
    for list in ["/linode/instances", "/networking/firewalls", "/domains", "/profile/sshkeys"] {
        assert!(prism.listed(list).is_empty(), "{list} is not empty after destroy");
    }
    prism.assert_no_violations();
}

#[test]
fn a_bad_token_region_or_type_is_a_diagnostic_saying_what_to_fix_without_the_token() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let source = format!(
        "provider linode {{\n  api_url = \"{}\"\n}}\n\nresource linode.sshkey k for i in range(3) {{\n  label   = \"k${{i}}\"\n  ssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk k\"\n}}\n",
        prism.url
    );
    write_module(dir, &source);
    let output = prism.infra_with_token(dir, &["apply", "--auto-approve"], "wrong-token-7f3a9");
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("401"), "{printed}");
    // About the token, not any one key: said once, not once per resource.
    assert_eq!(printed.matches("refused the token").count(), 1, "{printed}");
    assert!(printed.contains("main.infra:1:10") && printed.contains("configured here"), "{printed}");
    assert!(printed.contains("LINODE_TOKEN"), "{printed}");
    assert!(printed.contains("error[E"), "a diagnostic with a code: {printed}");
    assert!(!printed.contains("wrong-token-7f3a9"), "{printed}");

    let output = command(dir, &["plan"]).env_remove("LINODE_TOKEN").output().expect("infra runs");
    assert_exit(&output, 1);
    assert!(text(&output).contains("no Linode token set"), "{}", text(&output));
    assert!(text(&output).contains("LINODE_TOKEN"), "{}", text(&output));

    // A region Linode does not have: the API's message, on the `region` attribute.
    let source = format!(
        "provider linode {{\n  api_url = \"{}\"\n}}\n\nresource linode.instance web {{\n  region = \"mars-1\"\n  type   = \"g6-nanode-1\"\n}}\n",
        prism.url
    );
    write_module(dir, &source);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("`region`: region is not valid"), "{printed}");
    assert!(printed.contains("region = \"mars-1\""), "the diagnostic shows the attribute: {printed}");
    assert!(printed.contains("error[E"), "a diagnostic with a code: {printed}");
    assert!(prism.listed("/linode/instances").is_empty());

    // A type Linode does not have: the API's message, on the `type` attribute.
    let source = format!(
        "provider linode {{\n  api_url = \"{}\"\n}}\n\nresource linode.instance web {{\n  region = \"us-east\"\n  type   = \"g6-imaginary-64\"\n}}\n",
        prism.url
    );
    write_module(dir, &source);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("type   = \"g6-imaginary-64\""), "the diagnostic shows the attribute: {printed}");
    // The message as read, without the diagnostic's line breaks and margins.
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("`type`: A valid plan type by that ID was not found"), "{printed}");
    assert!(printed.contains("the `linode.types` data source lists them"), "{printed}");
    assert!(printed.contains("error[E0610]"), "a diagnostic with a code: {printed}");
    assert!(prism.listed("/linode/instances").is_empty());
    prism.assert_no_violations();
}

/// A server error that lasts fails the apply with a coded diagnostic that says the fault
/// is Linode's (after the client's six attempts and the engine's one retry), and never
/// shows the token; a passing one is retried until the apply succeeds.
#[test]
fn a_lasting_server_error_is_a_coded_diagnostic_and_a_passing_one_is_retried() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let source = format!(
        "provider linode {{\n  api_url = \"{}\"\n}}\n\nresource linode.sshkey k {{\n  label   = \"k\"\n  ssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk k\"\n}}\n",
        prism.url
    );
    write_module(dir, &source);
    prism.control("fail", json!({"count": 1000, "status": 503}));
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output);
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(printed.contains("a server error (503)"), "{printed}");
    assert!(printed.contains("gave up after 6 attempts"), "{printed}");
    assert!(printed.contains("Linode's side"), "{printed}");
    assert_no_secrets(&prism, &output);
    prism.control("fail", json!({"count": 0}));
    assert!(prism.listed("/profile/sshkeys").is_empty());

    prism.control("fail", json!({"count": 2, "status": 503}));
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(prism.listed("/profile/sshkeys").len(), 1);
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

#[test]
fn the_linode_objects_of_the_web_example_apply_and_destroy() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/linode-web/main.infra");
    std::fs::copy(example, dir.join("main.infra")).expect("copy the example");
    // The `ssh` objects need a server that answers SSH, which the stand-in's cannot be.
    let linode_only = ["--target", "admin_key", "--target", "web_firewall", "--target", "www"];
    let run = |args: &[&str]| {
        command(dir, args).env("LINODE_TOKEN", &prism.token).env("LINODE_URL", &prism.url).output().expect("infra runs")
    };
    let output = run(&[&["apply", "--auto-approve"], &linode_only[..]].concat());
    assert_exit(&output, 0);
    let instances = prism.listed("/linode/instances");
    assert_eq!(instances.len(), 1, "{}", text(&output));
    let zone = &prism.listed("/domains")[0];
    assert_eq!(zone["domain"], "example.org");
    let records = prism.listed(&format!("/domains/{}/records", zone["id"]));
    assert_eq!(records[0]["target"], instances[0]["ipv4"][0]);
    let firewall = &prism.listed("/networking/firewalls")[0];
    let ports: Vec<&Json> =
        firewall["rules"]["inbound"].as_array().expect("rules").iter().map(|r| &r["ports"]).collect();
    assert_eq!(ports, [&json!("22"), &json!("80"), &json!("443")]);
    assert_exit(&run(&[&["plan", "--detailed-exitcode"], &linode_only[..]].concat()), 0);
    // Everything the state holds: the Linode objects and the key.
    let output = run(&["destroy", "--auto-approve"]);
    assert_exit(&output, 0);
    for list in ["/linode/instances", "/networking/firewalls", "/domains", "/profile/sshkeys"] {
        assert!(prism.listed(list).is_empty(), "{list} is not empty after destroy:\n{}", text(&output));
    }
    prism.assert_no_violations();
}

/// `kill -9` while `infra apply` waits for a new Linode to run: the journal kept its
/// id, so the next plan reads the Linode instead of making a second one, and destroy
/// finds it.
#[test]
fn a_linode_created_before_a_kill_9_is_found_by_the_next_plan_not_made_twice() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        r#"
input root_pass: string {{
  sensitive = true
}}

provider linode {{
  api_url = "{url}"
}}

resource linode.instance web {{
  label     = "web-1"
  region    = "us-east"
  type      = "g6-nanode-1"
  image     = "linode/debian12"
  root_pass = root_pass
}}
"#,
        url = prism.url
    );
    write_module(dir, &module);
    // The Linode stays `provisioning` for as long as the test needs.
    prism.control("settle", json!({"gets": 100000}));
    let mut apply = command(dir, &["apply", "--auto-approve"])
        .env("LINODE_TOKEN", &prism.token)
        .env("INFRA_VAR_root_pass", ROOT_PASS)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("infra runs");
    let polled = |requests: &[String]| requests.iter().any(|r| r.starts_with("GET /linode/instances/"));
    let start = std::time::Instant::now();
    while !polled(&prism.requests()) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", prism.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    apply.kill().expect("kill -9");
    apply.wait().expect("reaped");
    prism.control("settle", json!({"gets": 1}));

    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_no_secrets(&prism, &plan);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /linode/instances").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_eq!(prism.listed("/linode/instances").len(), 1);
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/linode/instances").is_empty());
    prism.assert_no_violations();
}

/// Ctrl-C while `infra apply` waits for a new Linode to run: the wait ends at once with
/// an error saying the Linode was still `provisioning`, the state keeps the Linode
/// (reported before the wait), and the next plan reads it instead of making a second.
#[test]
fn ctrl_c_ends_the_wait_for_a_new_linode_and_the_state_keeps_it() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "input root_pass: string {{\n  sensitive = true\n}}\n\nprovider linode {{\n  api_url = \"{}\"\n}}\n\nresource linode.instance web {{\n  label     = \"web-1\"\n  region    = \"us-east\"\n  type      = \"g6-nanode-1\"\n  image     = \"linode/debian12\"\n  root_pass = root_pass\n}}\n",
        prism.url
    );
    write_module(dir, &module);
    // The Linode stays `provisioning` for as long as the test needs.
    prism.control("settle", json!({"gets": 100000}));
    let apply = command(dir, &["apply", "--auto-approve"])
        .env("LINODE_TOKEN", &prism.token)
        .env("INFRA_VAR_root_pass", ROOT_PASS)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("infra runs");
    let polled = |requests: &[String]| requests.iter().any(|r| r.starts_with("GET /linode/instances/"));
    let start = std::time::Instant::now();
    while !polled(&prism.requests()) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", prism.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = common::interrupt(apply);
    assert_exit(&output, 130);
    assert_no_secrets(&prism, &output);
    let linodes = prism.listed("/linode/instances");
    assert_eq!(linodes.len(), 1);
    let id = linodes[0]["id"].to_string();
    let printed = text(&output).split_whitespace().collect::<Vec<_>>().join(" ");
    let message = format!("interrupted while waiting for instance {id} to be `running` (it was `provisioning`)");
    assert!(printed.contains(&message), "{printed}");
    let state = std::fs::read_to_string(dir.join("infra.state.json")).expect("the state is saved");
    assert!(state.contains(&format!("\"{id}\"")), "the state records the Linode: {state}");

    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert!(!text(&plan).contains("will be created"), "{}", text(&plan));
    prism.control("settle", json!({"gets": 1}));
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /linode/instances").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/linode/instances").is_empty());
    prism.assert_no_violations();
}

/// A plan over many Linodes reads them from one list, not one GET each; one deleted
/// behind Infra's back is still told from the rest (read by itself, it is gone).
#[test]
fn a_plan_over_many_linodes_reads_one_list_instead_of_one_request_each() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        r#"
provider linode {{
  api_url = "{url}"
}}

resource linode.instance web for i in range(12) {{
  label  = "web-${{i}}"
  region = "us-east"
  type   = "g6-nanode-1"
}}
"#,
        url = prism.url
    );
    write_module(dir, &module);
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    let before = prism.requests().len();
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    let requests = prism.requests()[before..].to_vec();
    assert_eq!(requests, ["GET /linode/instances"], "one list, one page");

    let gone = prism.listed("/linode/instances")[3]["id"].clone();
    prism.api("DELETE", &format!("/linode/instances/{gone}"), None);
    let before = prism.requests().len();
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("has been deleted outside of Infra"), "{}", text(&plan));
    assert!(text(&plan).contains("1 to add, 0 to change, 0 to destroy"), "{}", text(&plan));
    let requests = prism.requests()[before..].to_vec();
    assert_eq!(requests, ["GET /linode/instances".to_string(), format!("GET /linode/instances/{gone}")]);
    prism.assert_no_violations();
}

/// A Linode stuck in `provisioning` past `timeouts.create` fails the apply with a clear
/// error, and stays in state: the next plan reads it (here it has come up since) and
/// takes it over instead of making a second one.
#[test]
fn a_linode_stuck_provisioning_past_its_timeout_is_an_error_and_is_not_lost() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        r#"
provider linode {{
  api_url = "{url}"
}}

resource linode.instance web {{
  label  = "web-1"
  region = "us-east"
  type   = "g6-nanode-1"
  booted = true

  timeouts {{
    create = "2s"
  }}
}}
"#,
        url = prism.url
    );
    write_module(dir, &module);
    prism.control("settle", json!({"gets": 100000}));
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    // The message as read, without the diagnostic's line breaks and margins.
    let printed = text(&output);
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(printed.contains("timed out, it is still `provisioning` after 2 s"), "{printed}");
    assert!(printed.contains("the object exists and the state keeps it"), "{printed}");
    let listed = prism.infra(dir, &["state", "list"]);
    assert!(text(&listed).contains("web"), "the Linode is in state: {}", text(&listed));

    prism.control("settle", json!({"gets": 1}));
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /linode/instances").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/linode/instances").is_empty());
    prism.assert_no_violations();
}

/// The objects of the regressions below: a StackScript an instance is deployed from by
/// `stackscript_id = boot.id`, and a zone and record; `optional` holds the optional
/// settings a later step removes.
fn deployed_from_a_stackscript(prism: &Prism, optional: bool) -> String {
    let (description, zone_description, ttl) = if optional {
        ("\n  description = \"says hello\"", "\n  description = \"the zone\"", "\n  ttl_sec     = 300")
    } else {
        ("", "", "")
    };
    format!(
        r##"
provider linode {{
  api_url = "{url}"
}}

resource linode.stackscript boot {{
  label  = "boot-script"
  script = "#!/bin/bash\necho hello\n"
  images = ["linode/debian12"]{description}
}}

resource linode.instance web {{
  region         = "us-east"
  type           = "g6-nanode-1"
  image          = "linode/debian12"
  root_pass      = "{ROOT_PASS}"
  stackscript_id = boot.id
}}

resource linode.domain zone {{
  domain    = "example.org"
  type      = "master"
  soa_email = "hostmaster@example.org"{zone_description}
}}

resource linode.domain_record www {{
  domain_id   = zone.id
  name        = "www"
  record_type = "A"
  target      = web.ip_address{ttl}
}}
"##,
        url = prism.url
    )
}

/// Regressions: `stackscript_id = boot.id` failed `infra check` (E0300: a number
/// expected, the StackScript's id a string); the deployment then showed as the
/// StackScript "changed outside of Infra" (`deployments_total = 0 -> 1`); and removing
/// optional settings (a StackScript's and a zone's `description`, a record's `ttl_sec`)
/// was applied without effect, so every later plan showed the same change.
#[test]
fn regression_a_stackscript_deployed_by_id_and_removed_settings_leave_nothing_to_plan() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &deployed_from_a_stackscript(&prism, true));
    assert_exit(&prism.infra(dir, &["check"]), 0);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let deployments = prism.control("deployments", json!({}));
    let script = &prism.listed("/linode/stackscripts")[0];
    assert_eq!(deployments[0]["stackscript_id"], script["id"], "deployed from the StackScript: {deployments}");
    assert_eq!(script["deployments_total"], 1, "{script}");
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!text(&plan).contains("outside of Infra"), "the deployment is no drift:\n{}", text(&plan));

    write_module(dir, &deployed_from_a_stackscript(&prism, false));
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("0 added, 3 changed, 0 destroyed"), "{}", text(&output));
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!text(&plan).contains("outside of Infra"), "{}", text(&plan));
    let zone = &prism.listed("/domains")[0];
    assert_eq!(zone["description"], Json::Null, "{zone}");
    let record = &prism.listed(&format!("/domains/{}/records", zone["id"]))[0];
    assert_eq!(record["ttl_sec"], 0, "{record}");
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// Regressions: an `api_url` without its scheme passed `infra check` and made every
/// request fail with "builder error: relative URL without a base"; a create whose
/// connection was refused was reported as one that may have made its object (look for
/// it and import it); a `master` zone without `soa_email` passed the plan. None of
/// these needs Linode: no request is sent.
#[test]
fn regression_a_bad_address_a_refused_connection_and_a_zone_without_soa_email_are_clear_diagnostics() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let key =
        "resource linode.sshkey k {\n  label   = \"k\"\n  ssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk k\"\n}\n";
    write_module(dir, &format!("provider linode {{\n  api_url = \"127.0.0.1:18011\"\n}}\n\n{key}"));
    let output = command(dir, &["check"]).env("LINODE_TOKEN", "token").output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("error[E0406]"), "{printed}");
    assert!(printed.contains("api_url = \"127.0.0.1:18011\""), "the diagnostic shows the attribute: {printed}");
    assert!(printed.contains("https://api.linode.com/v4"), "{printed}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://127.0.0.1:{}", closed.local_addr().expect("its address").port());
    drop(closed);
    write_module(dir, &format!("provider linode {{}}\n\n{key}"));
    let output = command(dir, &["apply", "--auto-approve"])
        .env("LINODE_TOKEN", "token")
        .env("LINODE_URL", &url)
        .output()
        .expect("infra runs");
    assert_exit(&output, 1);
    let printed = text(&output);
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("error[E"), "{printed}");
    assert!(printed.contains("the request was never sent"), "{printed}");
    assert!(printed.contains("applying again is safe") && printed.contains("LINODE_URL"), "{printed}");
    assert!(!printed.contains("infra import"), "{printed}");

    let zone = "resource linode.domain zone {\n  domain = \"example.org\"\n  type   = \"master\"\n}\n";
    write_module(dir, &format!("provider linode {{}}\n\n{zone}"));
    let output =
        command(dir, &["plan"]).env("LINODE_TOKEN", "token").env("LINODE_URL", &url).output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("error[E"), "{printed}");
    assert!(printed.contains("a `master` domain needs `soa_email`"), "{printed}");
    assert!(printed.contains("type   = \"master\""), "the diagnostic shows the attribute: {printed}");
    assert!(printed.contains("set `soa_email`"), "{printed}");
}

/// The value of the output `name`, as `infra output --json` prints it.
fn output_value(prism: &Prism, dir: &Path, name: &str) -> Json {
    let output = prism.infra(dir, &["output", "--json"]);
    assert_exit(&output, 0);
    let outputs: Json = serde_json::from_slice(&output.stdout).expect("outputs as JSON");
    outputs[name]["value"].clone()
}

/// A StackScript's `deployments_total` is Linode's count of the Linodes deployed from it,
/// which every deployment raises (Infra's or anyone's) without changing the StackScript:
/// a refresh reads the count Linode has, and neither a plan nor a refresh says the
/// StackScript changed outside of Infra. (A refresh used to keep the count state had,
/// so it stayed the one read when Infra last wrote the StackScript.)
#[test]
fn a_stackscripts_deployment_count_is_read_fresh_without_a_drift_note() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = deployed_from_a_stackscript(&prism, false) + "\noutput deployments = boot.deployments_total\n";
    write_module(dir, &module);
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    let script_id = prism.listed("/linode/stackscripts")[0]["id"].clone();
    let script_path = format!("/linode/stackscripts/{script_id}");
    let deployments_total = || {
        let (status, script) = prism.api("GET", &script_path, None);
        assert_eq!(status, 200, "{script}");
        script["deployments_total"].clone()
    };
    // Infra made the StackScript, then deployed `web` from it: Linode counts one.
    assert_eq!(deployments_total(), 1);

    let refreshed = prism.infra(dir, &["refresh"]);
    assert_exit(&refreshed, 0);
    assert!(text(&refreshed).contains("No changes. The state matches the objects."), "{}", text(&refreshed));
    assert_eq!(output_value(&prism, dir, "deployments"), 1, "the refresh read Linode's count");

    // Someone deploys another Linode from it, behind Infra's back.
    let other = json!({
        "region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12", "root_pass": ROOT_PASS,
        "stackscript_id": script_id,
    });
    let (status, other) = prism.api("POST", "/linode/instances", Some(&other));
    assert_eq!(status, 200, "{other}");
    assert_eq!(deployments_total(), 2);
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    let shown = text(&plan);
    assert_exit(&plan, 2);
    assert!(!shown.contains("outside of Infra"), "a deployment is no drift:\n{shown}");
    assert!(shown.contains("~ deployments = 1 -> 2"), "the plan read the new count:\n{shown}");
    assert!(shown.contains("No infrastructure changes."), "{shown}");
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(output_value(&prism, dir, "deployments"), 2);
    // Recorded, though no note was shown: the state holds what Linode has.
    let state = text(&prism.infra(dir, &["state", "show", "boot"]));
    assert!(state.contains("deployments_total = 2\n"), "the apply recorded the count:\n{state}");
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));

    // The StackScript renamed behind Infra's back as well: that is drift, and the refresh
    // records the object as Linode has it, with its count.
    let (status, renamed) = prism.api("PUT", &script_path, Some(&json!({"label": "renamed-script"})));
    assert_eq!(status, 200, "{renamed}");
    let refreshed = prism.infra(dir, &["refresh"]);
    assert_exit(&refreshed, 0);
    assert!(text(&refreshed).contains("# boot has changed outside of Infra"), "{}", text(&refreshed));
    let state = text(&prism.infra(dir, &["state", "show", "boot"]));
    assert!(state.contains("deployments_total = 2\n"), "the state holds Linode's count:\n{state}");
    assert!(state.contains("\"renamed-script\""), "{state}");
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("0 added, 1 changed, 0 destroyed"), "{}", text(&output));
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    prism.api("DELETE", &format!("/linode/instances/{}", other["id"]), None);
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// A Linode's `status` changes without a change to the Linode (Linode's API description:
/// it "may change without direct action from you"; here a reboot, which the stand-in
/// keeps `rebooting`): a plan reads the new status and says nothing changed outside of
/// Infra. A Linode shut down behind Infra's back is still drift: its `booted` changed,
/// and the plan boots it again (`booted = true`).
#[test]
fn a_linodes_status_changing_on_its_own_is_no_drift_but_a_shutdown_is() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        r#"
provider linode {{
  api_url = "{url}"
}}

resource linode.instance web {{
  label     = "web-1"
  region    = "us-east"
  type      = "g6-nanode-1"
  image     = "linode/debian12"
  root_pass = "{ROOT_PASS}"
  booted    = true
}}

output status = web.status
"#,
        url = prism.url
    );
    write_module(dir, &module);
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(output_value(&prism, dir, "status"), "running");
    let web = prism.listed("/linode/instances")[0]["id"].clone();

    prism.control("settle", json!({"gets": 100000}));
    let (status, answer) = prism.api("POST", &format!("/linode/instances/{web}/reboot"), Some(&json!({})));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(prism.listed("/linode/instances")[0]["status"], "rebooting");
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    let shown = text(&plan);
    assert_exit(&plan, 2);
    assert!(!shown.contains("outside of Infra"), "a reboot is no drift:\n{shown}");
    assert!(shown.contains(r#"~ status = "running" -> "rebooting""#), "the plan read the status:\n{shown}");
    assert!(shown.contains("No infrastructure changes."), "{shown}");
    let refreshed = prism.infra(dir, &["refresh"]);
    assert_exit(&refreshed, 0);
    assert!(text(&refreshed).contains("No changes. The state matches the objects."), "{}", text(&refreshed));
    assert_eq!(output_value(&prism, dir, "status"), "rebooting");
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    // Shut down behind Infra's back: `offline` at the next look.
    prism.control("settle", json!({"gets": 1}));
    let (status, answer) = prism.api("POST", &format!("/linode/instances/{web}/shutdown"), None);
    assert_eq!(status, 200, "{answer}");
    let plan = prism.infra(dir, &["plan", "--detailed-exitcode"]);
    let shown = text(&plan);
    assert_exit(&plan, 2);
    assert!(shown.contains("# web has changed outside of Infra"), "{shown}");
    assert!(shown.contains("~ booted = true -> false"), "{shown}");
    assert!(shown.contains("# web will be updated in place"), "{shown}");
    assert_exit(&prism.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(prism.listed("/linode/instances")[0]["status"], "running");
    assert_eq!(output_value(&prism, dir, "status"), "running");
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// A proxy in front of Prism, one request a connection: while `refusing` is set, a `PUT`
/// whose path starts with `refused` is answered 400 as Linode answers a refused setting
/// (never reaching Prism); every other request is passed on and its answer passed back.
/// What `api_url` names, and the switch.
fn refusing_proxy(upstream: u16, refused: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};

    fn head_end(bytes: &[u8]) -> Option<usize> {
        bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
    }
    /// The head's lines but `Connection` and `Keep-Alive`, with `Connection: close`.
    fn closing(head: &str) -> String {
        let kept = head.split("\r\n").filter(|line| {
            let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
            !line.is_empty() && name != "connection" && name != "keep-alive"
        });
        format!("{}\r\nConnection: close\r\n\r\n", kept.collect::<Vec<_>>().join("\r\n"))
    }
    fn pass(mut client: TcpStream, upstream: u16, refused: &str, refusing: &AtomicBool) -> std::io::Result<()> {
        let mut request = Vec::new();
        let mut chunk = [0u8; 8192];
        let end = loop {
            if let Some(end) = head_end(&request) {
                break end;
            }
            let read = client.read(&mut chunk)?;
            if read == 0 {
                return Ok(());
            }
            request.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&request[..end]).into_owned();
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while request.len() < end + length {
            let read = client.read(&mut chunk)?;
            if read == 0 {
                break;
            }
            request.extend_from_slice(&chunk[..read]);
        }
        if head.starts_with(&format!("PUT {refused}")) && refusing.load(Ordering::SeqCst) {
            let body = r#"{"errors": [{"reason": "The request was refused", "field": "status"}]}"#;
            let answer = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
                 close\r\n\r\n{body}",
                body.len()
            );
            return client.write_all(answer.as_bytes());
        }
        let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
        server.write_all(closing(head.trim_end()).as_bytes())?;
        server.write_all(&request[end..])?;
        let mut answer = Vec::new();
        server.read_to_end(&mut answer)?;
        let Some(end) = head_end(&answer) else { return client.write_all(&answer) };
        client.write_all(closing(String::from_utf8_lossy(&answer[..end]).trim_end()).as_bytes())?;
        client.write_all(&answer[end..])
    }

    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("its address").port());
    let refusing = std::sync::Arc::new(AtomicBool::new(true));
    let switch = refusing.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let refusing = refusing.clone();
            std::thread::spawn(move || pass(client, upstream, refused, &refusing));
        }
    });
    (url, switch)
}

/// Regression: a firewall Linode made whose next request (the one that disables it) was
/// refused was not recorded, so it was left at Linode, unknown to the state, and the next
/// apply made a second. It is now reported once made: the state keeps it, the next apply
/// disables that one, and destroy removes it. (Nothing in the configuration makes the
/// stand-in refuse that request, so a proxy in front of Prism refuses it, then lets it
/// through.)
#[test]
fn a_firewall_whose_disabling_was_refused_is_recorded_and_finished_next_time() {
    let prism = Prism::start(&LINODE);
    let (url, refusing) = refusing_proxy(prism.port, "/networking/firewalls/");
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider linode {{\n  api_url = \"{url}\"\n}}\n\nresource linode.firewall guard {{\n  label           = \
         \"guard\"\n  inbound_policy  = \"DROP\"\n  outbound_policy = \"ACCEPT\"\n  disabled        = true\n}}\n"
    );
    write_module(dir, &module);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    assert!(text(&output).contains("disable the firewall"), "{}", text(&output));
    let listed = text(&prism.infra(dir, &["state", "list"]));
    assert!(listed.lines().any(|l| l.split_whitespace().next() == Some("guard")), "guard kept: {listed}");
    assert_eq!(prism.listed("/networking/firewalls").len(), 1);

    // The refusal ends: the same firewall is finished, not made again.
    refusing.store(false, std::sync::atomic::Ordering::SeqCst);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    let firewalls = prism.listed("/networking/firewalls");
    assert_eq!(firewalls.len(), 1, "one firewall, not a second: {firewalls:?}");
    assert_eq!(firewalls[0]["status"], "disabled");
    let creates = prism.requests().iter().filter(|r| *r == "POST /networking/firewalls").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_exit(&prism.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    assert_exit(&prism.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/networking/firewalls").is_empty());
    prism.assert_no_violations();
}

/// Regression: the stand-in stored a new firewall before it looked up the Linodes it
/// names, so a create refused with a 404 (no such Linode) still left the firewall, which
/// Linode's API never does: a later list showed a firewall no state knew, and each
/// apply tried again left another. A refused create now leaves nothing, and the apply
/// records nothing either.
#[test]
fn regression_a_firewall_naming_a_missing_linode_is_refused_and_leaves_no_firewall() {
    let prism = Prism::start(&LINODE);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider linode {{\n  api_url = \"{url}\"\n}}\n\nresource linode.firewall guard {{\n  label           = \
         \"guard\"\n  inbound_policy  = \"DROP\"\n  outbound_policy = \"ACCEPT\"\n  linodes         = \
         [\"999999\"]\n}}\n",
        url = prism.url
    );
    write_module(dir, &module);
    let output = prism.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("404") || printed.contains("Not found"), "the refusal is shown: {printed}");
    assert!(prism.listed("/networking/firewalls").is_empty(), "no firewall is left behind");
    let listed = text(&prism.infra(dir, &["state", "list"]));
    assert!(!listed.lines().any(|l| l.split_whitespace().next() == Some("guard")), "nothing recorded: {listed}");

    // Straight to the API, the same: the answer is the 404, and nothing was made.
    let body = json!({"label": "direct", "rules": {"inbound_policy": "DROP", "outbound_policy": "ACCEPT"},
                      "devices": {"linodes": [999_999]}});
    let (status, answer) = prism.api("POST", "/networking/firewalls", Some(&body));
    assert_eq!(status, 404, "{answer}");
    assert!(prism.listed("/networking/firewalls").is_empty(), "no firewall is left behind");
    prism.assert_no_violations();
}
