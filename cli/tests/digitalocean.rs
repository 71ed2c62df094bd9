//! The `digitalocean` provider end to end: `infra` applies the DigitalOcean objects of
//! `examples/digitalocean-web` (key, Droplet, firewall, zone, record), resizes a Droplet
//! in place, reads many Droplets from one list and imports what `pydo` made, against the
//! DigitalOcean stand-in behind Prism, which validates every request and response
//! against DigitalOcean's official API description (`support/prism.rs`); the API, called
//! directly, checks what exists. The token comes from DIGITALOCEAN_TOKEN and never
//! appears in what `infra` prints.
//!
//! DigitalOcean's official Python client, `pydo`, cross-checks: it reads what Infra made
//! and makes what Infra then imports. It talks to Prism, like Infra: DigitalOcean's
//! description names its server without a path (`https://api.digitalocean.com`) and puts
//! `/v2` in every path, so Prism routes the paths `pydo` sends as they are and validates
//! its requests too. (`linode-cli` has to talk to the Linode stand-in directly: Linode's
//! description puts `/v4` in its server address, which Prism's proxy does not route.)

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value as Json};

mod common;

use common::{command, text};

#[path = "support/prism.rs"]
mod prism;
#[path = "support/venv.rs"]
mod venv;

use prism::{Prism, DIGITALOCEAN};

impl Prism {
    /// What `pydo`, DigitalOcean's official Python client, answers to `call` (Python, on
    /// `client`, such as `client.droplets.list(enforce_https=False)`: Prism listens on
    /// plain HTTP), as JSON. It talks to Prism, as Infra does.
    fn pydo(&self, call: &str) -> Json {
        let python = venv::venv("pydo", &["pydo==0.44.0"]).join("bin/python");
        let script = format!(
            "import json, os, pydo\n\
             client = pydo.Client(os.environ['DIGITALOCEAN_TOKEN'], endpoint=os.environ['DIGITALOCEAN_API_URL'])\n\
             print(json.dumps({call}))\n"
        );
        let output = std::process::Command::new(python)
            .args(["-c", &script])
            .env("DIGITALOCEAN_TOKEN", &self.token)
            .env("DIGITALOCEAN_API_URL", &self.url)
            .output()
            .expect("python runs pydo");
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "pydo {call}: {printed}{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_str(&printed).unwrap_or_else(|e| panic!("pydo {call} printed no JSON ({e}): {printed}"))
    }

    /// The list `key` of a GET through Prism.
    fn listed(&self, path: &str, key: &str) -> Vec<Json> {
        let (status, answer) = self.api("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer[key].as_array().cloned().unwrap_or_default()
    }
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

#[test]
fn the_digitalocean_objects_of_the_web_example_apply_and_destroy() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/digitalocean-web/main.infra");
    std::fs::copy(example, dir.join("main.infra")).expect("copy the example");
    // The `ssh` objects need a server that answers SSH, which the stand-in's cannot be.
    let targets = ["--target", "admin_key", "--target", "web_firewall", "--target", "www"];
    let run = |args: &[&str]| {
        command(dir, args)
            .env("DIGITALOCEAN_TOKEN", &prism.token)
            .env("DIGITALOCEAN_API_URL", &prism.url)
            .output()
            .expect("infra runs")
    };
    let output = run(&[&["apply", "--auto-approve"], &targets[..]].concat());
    assert_exit(&output, 0);
    assert!(!text(&output).contains(&prism.token), "the token was printed:\n{}", text(&output));
    let droplets = prism.listed("/v2/droplets", "droplets");
    assert_eq!(droplets.len(), 1, "{}", text(&output));
    assert_eq!(droplets[0]["status"], "active");
    let keys = prism.listed("/v2/account/keys", "ssh_keys");
    assert_eq!(keys.len(), 1);
    let records = prism.listed("/v2/domains/example.org/records", "domain_records");
    let www: Vec<&Json> = records.iter().filter(|r| r["name"] == "www").collect();
    let public = droplets[0]["networks"]["v4"].as_array().expect("v4").iter().find(|n| n["type"] == "public").cloned();
    assert_eq!(www[0]["data"], public.clone().expect("a public address")["ip_address"]);
    let firewall = &prism.listed("/v2/firewalls", "firewalls")[0];
    let ports: Vec<&Json> = firewall["inbound_rules"].as_array().expect("rules").iter().map(|r| &r["ports"]).collect();
    assert_eq!(ports, [&json!("22"), &json!("80"), &json!("443")]);
    assert_eq!(firewall["droplet_ids"], json!([droplets[0]["id"]]));
    assert_exit(&run(&[&["plan", "--detailed-exitcode"], &targets[..]].concat()), 0);

    // DigitalOcean's own client reads the same.
    let listed = prism.pydo("client.droplets.list(enforce_https=False)");
    let droplet = &listed["droplets"][0];
    assert_eq!(
        (&droplet["id"], &droplet["name"], &droplet["size_slug"]),
        (&droplets[0]["id"], &json!("web-1"), &json!("s-1vcpu-1gb"))
    );
    assert_eq!(droplet["tags"], json!(["web"]));
    let key = &prism.pydo("client.ssh_keys.list(enforce_https=False)")["ssh_keys"][0];
    assert_eq!((&key["id"], &key["name"]), (&keys[0]["id"], &json!("infra-admin")));
    let firewall = &prism.pydo("client.firewalls.list(enforce_https=False)")["firewalls"][0];
    assert_eq!(firewall["droplet_ids"], json!([droplets[0]["id"]]));
    let ports: Vec<&Json> = firewall["inbound_rules"].as_array().expect("rules").iter().map(|r| &r["ports"]).collect();
    assert_eq!(ports, [&json!("22"), &json!("80"), &json!("443")]);
    let records = prism.pydo("client.domains.list_records('example.org', enforce_https=False)");
    let www = records["domain_records"].as_array().expect("records").iter().find(|r| r["name"] == "www").cloned();
    assert_eq!(www.expect("a www record")["data"], public.expect("a public address")["ip_address"]);

    // A bad token: a diagnostic naming the variable, and the token never printed.
    let output = command(dir, &["plan"])
        .env("DIGITALOCEAN_TOKEN", "wrong-token-5c1d")
        .env("DIGITALOCEAN_API_URL", &prism.url)
        .output()
        .expect("infra runs");
    assert_exit(&output, 1);
    assert!(text(&output).contains("DIGITALOCEAN_TOKEN"), "{}", text(&output));
    assert!(!text(&output).contains("wrong-token-5c1d"), "{}", text(&output));

    let output = run(&["destroy", "--auto-approve"]);
    assert_exit(&output, 0);
    for (list, key) in [
        ("/v2/droplets", "droplets"),
        ("/v2/firewalls", "firewalls"),
        ("/v2/domains", "domains"),
        ("/v2/account/keys", "ssh_keys"),
    ] {
        assert!(prism.listed(list, key).is_empty(), "{list} is not empty after destroy:\n{}", text(&output));
    }
    prism.assert_no_violations();
}

/// `kill -9` while `infra apply` waits for a new Droplet to be `active`: the journal
/// kept its id, so the next plan reads the Droplet instead of making a second one.
#[test]
fn a_droplet_created_before_a_kill_9_is_found_by_the_next_plan_not_made_twice() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.droplet web {{\n  name   = \"web-1\"\n  region = \"nyc3\"\n  size   = \"s-1vcpu-1gb\"\n  image  = \"debian-12-x64\"\n}}\n",
        prism.url
    );
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    // The Droplet stays `new` for as long as the test needs.
    prism.control("stuck", json!({"stuck": true}));
    let mut apply = command(dir, &["apply", "--auto-approve"])
        .env("DIGITALOCEAN_TOKEN", &prism.token)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("infra runs");
    let polled = |requests: &[String]| requests.iter().any(|r| r.starts_with("GET /v2/droplets/"));
    let start = std::time::Instant::now();
    while !polled(&prism.requests()) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", prism.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    apply.kill().expect("kill -9");
    apply.wait().expect("reaped");
    prism.control("stuck", json!({"stuck": false}));

    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /v2/droplets").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_eq!(prism.listed("/v2/droplets", "droplets").len(), 1);
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/v2/droplets", "droplets").is_empty());
    prism.assert_no_violations();
}

/// Ctrl-C while `infra apply` waits for a new Droplet to be `active`: the wait ends at
/// once with an error saying the Droplet was still `new`, the state keeps the Droplet
/// (reported before the wait), and the next plan reads it instead of making a second.
#[test]
fn ctrl_c_ends_the_wait_for_a_new_droplet_and_the_state_keeps_it() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.droplet web {{\n  name   = \"web-1\"\n  region = \"nyc3\"\n  size   = \"s-1vcpu-1gb\"\n  image  = \"debian-12-x64\"\n}}\n",
        prism.url
    );
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    prism.control("stuck", json!({"stuck": true}));
    let apply = command(dir, &["apply", "--auto-approve"])
        .env("DIGITALOCEAN_TOKEN", &prism.token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("infra runs");
    let polled = |requests: &[String]| requests.iter().any(|r| r.starts_with("GET /v2/droplets/"));
    let start = std::time::Instant::now();
    while !polled(&prism.requests()) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", prism.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = common::interrupt(apply);
    assert_exit(&output, 130);
    let droplets = prism.listed("/v2/droplets", "droplets");
    assert_eq!(droplets.len(), 1);
    let id = droplets[0]["id"].to_string();
    let printed = text(&output);
    let message = format!("interrupted while waiting for Droplet {id} to be `active` (it was `new`)");
    assert!(printed.split_whitespace().collect::<Vec<_>>().join(" ").contains(&message), "{printed}");
    let state = std::fs::read_to_string(dir.join("infra.state.json")).expect("the state is saved");
    assert!(state.contains(&format!("\"{id}\"")), "the state records the Droplet: {state}");

    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert!(!text(&plan).contains("will be created"), "{}", text(&plan));
    prism.control("stuck", json!({"stuck": false}));
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /v2/droplets").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/v2/droplets", "droplets").is_empty());
    prism.assert_no_violations();
}

/// A Droplet stuck in `new` past `timeouts.create` fails the apply with a clear error
/// and stays in state: the next apply takes it over instead of making a second one.
#[test]
fn a_droplet_stuck_past_its_timeout_is_an_error_and_is_not_lost() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.droplet web {{\n  name   = \"web-1\"\n  region = \"nyc3\"\n  size   = \"s-1vcpu-1gb\"\n  image  = \"debian-12-x64\"\n\n  timeouts {{\n    create = \"2s\"\n  }}\n}}\n",
        prism.url
    );
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    prism.control("stuck", json!({"stuck": true}));
    let output = infra(&["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    // The message as read, without the diagnostic's line breaks and margins.
    let printed = text(&output);
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(printed.contains("timed out, it is still `new` after 2 s"), "{printed}");
    assert!(printed.contains("the object exists and the state keeps it"), "{printed}");

    prism.control("stuck", json!({"stuck": false}));
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let creates = prism.requests().iter().filter(|r| *r == "POST /v2/droplets").count();
    assert_eq!(creates, 1, "{:?}", prism.requests());
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/v2/droplets", "droplets").is_empty());
    prism.assert_no_violations();
}

/// A server error that lasts fails the apply with a coded diagnostic that says the fault
/// is DigitalOcean's (after the client's six attempts and the engine's one retry), and
/// never shows the token; a passing one is retried until the apply succeeds.
#[test]
fn a_lasting_server_error_is_a_coded_diagnostic_and_a_passing_one_is_retried() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.ssh_key admin {{\n  name       = \"admin\"\n  public_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk admin\"\n}}\n",
        prism.url
    );
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    prism.control("fail", json!({"count": 1000, "status": 503}));
    let output = infra(&["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output);
    let printed = printed.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(printed.contains("a server error (503)"), "{printed}");
    assert!(printed.contains("gave up after 6 attempts"), "{printed}");
    assert!(printed.contains("DigitalOcean's side"), "{printed}");
    assert!(!printed.contains(&prism.token), "{printed}");
    prism.control("fail", json!({"count": 0}));
    assert!(prism.listed("/v2/account/keys", "ssh_keys").is_empty());

    prism.control("fail", json!({"count": 2, "status": 502}));
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    assert_eq!(prism.listed("/v2/account/keys", "ssh_keys").len(), 1);
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// `ipv6` turned on is an update in place (the `enable_ipv6` action); turned off, the
/// plan replaces the Droplet with `ipv6` marked as forcing it, as Terraform plans it,
/// and the apply makes a new Droplet.
#[test]
fn ipv6_turned_on_updates_the_droplet_and_turned_off_replaces_it() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = |ipv6: bool| {
        format!(
            "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.droplet web {{\n  name   = \"web-1\"\n  region = \"nyc3\"\n  size   = \"s-1vcpu-1gb\"\n  image  = \"debian-12-x64\"\n  ipv6   = {ipv6}\n}}\n",
            prism.url
        )
    };
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    let droplet_ids =
        || -> Vec<Json> { prism.listed("/v2/droplets", "droplets").iter().map(|d| d["id"].clone()).collect() };
    std::fs::write(dir.join("main.infra"), module(false)).expect("write the module");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let first = droplet_ids();

    std::fs::write(dir.join("main.infra"), module(true)).expect("write the module");
    let plan = infra(&["plan"]);
    assert!(text(&plan).contains("1 to change"), "{}", text(&plan));
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    assert_eq!(droplet_ids(), first, "updated in place");
    let droplet = &prism.listed("/v2/droplets", "droplets")[0];
    assert!(droplet["features"].as_array().is_some_and(|f| f.contains(&json!("ipv6"))), "{droplet}");
    assert_exit(&infra(&["plan", "--detailed-exitcode"]), 0);

    std::fs::write(dir.join("main.infra"), module(false)).expect("write the module");
    let plan = infra(&["plan"]);
    let printed = text(&plan);
    assert!(printed.contains("must be replaced"), "{printed}");
    assert!(printed.contains("ipv6") && printed.contains("forces replacement"), "{printed}");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let second = droplet_ids();
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a new Droplet");
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// A region DigitalOcean does not have is refused by `infra check`, before any request:
/// the set of regions is known, so the validator names the attribute and the choices.
#[test]
fn a_region_that_does_not_exist_fails_infra_check() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = "provider digitalocean {\n  api_url = \"http://127.0.0.1:9\"\n}\n\nresource digitalocean.droplet web {\n  name   = \"web-1\"\n  region = \"mars1\"\n  size   = \"s-1vcpu-1gb\"\n  image  = \"debian-12-x64\"\n}\n";
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let output = command(dir, &["check"]).env_remove("DIGITALOCEAN_TOKEN").output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = text(&output);
    assert!(printed.contains("error[E0406]"), "a diagnostic with a code: {printed}");
    assert!(printed.contains("`mars1` is not a value `region` accepts"), "{printed}");
    assert!(printed.contains("region = \"mars1\""), "the diagnostic shows the attribute: {printed}");
    assert!(printed.contains("nyc3"), "the help names the regions: {printed}");
}

fn droplet_module(prism: &Prism, size: &str, resize_disk: &str) -> String {
    format!(
        "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\nresource digitalocean.droplet web {{\n  name        = \"web-1\"\n  region      = \"nyc3\"\n  size        = \"{size}\"\n  image       = \"debian-12-x64\"\n  resize_disk = {resize_disk}\n}}\n",
        prism.url
    )
}

/// A new `size` resizes the Droplet in place, as Terraform does: powered off, resized,
/// powered on, each action waited for; the id stays. With `resize_disk = false` the disk
/// stays and the size can go back down; a size whose disk is smaller than the Droplet's
/// is refused at plan time, and one DigitalOcean refuses is a diagnostic on `size` that
/// leaves the Droplet running.
#[test]
fn a_new_size_resizes_the_droplet_in_place_and_a_smaller_disk_is_refused() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    let write = |size: &str, resize_disk: &str| {
        std::fs::write(dir.join("main.infra"), droplet_module(&prism, size, resize_disk)).expect("write the module")
    };
    write("s-1vcpu-1gb", "false");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let droplet = &prism.listed("/v2/droplets", "droplets")[0];
    let droplet_id = droplet["id"].clone();

    // CPU and memory only: the disk stays 25 GB.
    write("s-2vcpu-2gb", "false");
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# web will be updated in place"), "{}", text(&plan));
    assert!(!text(&plan).contains("replaced"), "{}", text(&plan));
    let output = infra(&["apply", "--auto-approve"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("0 added, 1 changed, 0 destroyed"), "{}", text(&output));
    let droplet = &prism.listed("/v2/droplets", "droplets")[0];
    assert_eq!(droplet["id"], droplet_id);
    assert_eq!(
        (&droplet["size_slug"], &droplet["memory"], &droplet["disk"]),
        (&json!("s-2vcpu-2gb"), &json!(2048), &json!(25))
    );
    assert_eq!(droplet["status"], "active");
    let actions = prism.listed(&format!("/v2/droplets/{droplet_id}/actions"), "actions");
    let types: Vec<&str> = actions.iter().filter_map(|a| a["type"].as_str()).collect();
    assert_eq!(types, ["create", "power_off", "resize", "power_on"]);
    assert_exit(&infra(&["plan", "--detailed-exitcode"]), 0);

    // Back down, since the disk was never grown; then up with the disk.
    write("s-1vcpu-1gb", "false");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    write("s-2vcpu-2gb", "true");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let droplet = &prism.listed("/v2/droplets", "droplets")[0];
    assert_eq!((&droplet["id"], &droplet["disk"]), (&droplet_id, &json!(60)));
    assert_exit(&infra(&["plan", "--detailed-exitcode"]), 0);

    // A 25 GB size cannot hold the 60 GB disk: refused before any action.
    write("s-1vcpu-1gb", "true");
    let plan = infra(&["plan"]);
    assert_exit(&plan, 1);
    let printed = text(&plan).split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("size `s-1vcpu-1gb` has a 25 GB disk, smaller than the Droplet's 60 GB"), "{printed}");
    assert!(printed.contains("size = \"s-1vcpu-1gb\""), "the diagnostic points at `size`: {printed}");
    assert!(printed.contains("a Droplet's disk never shrinks"), "{printed}");

    // A size DigitalOcean refuses: its message on `size`, and the Droplet is on again.
    write("s-2vcpu-3gb", "true");
    let before = prism.requests().len();
    let output = infra(&["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = text(&output).split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(printed.contains("You specified an invalid size for Droplet resize."), "{printed}");
    assert!(printed.contains("size = \"s-2vcpu-3gb\""), "the diagnostic points at `size`: {printed}");
    let actions = prism.requests()[before..].iter().filter(|r| r.ends_with("/actions")).count();
    assert_eq!(actions, 3, "power_off, the refused resize, power_on: {:?}", prism.requests());
    assert_eq!(prism.listed("/v2/droplets", "droplets")[0]["status"], "active");

    write("s-2vcpu-2gb", "true");
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    assert!(prism.listed("/v2/droplets", "droplets").is_empty());
    prism.assert_no_violations();
}

/// A plan over many Droplets and VPCs reads each kind from its list (every page of it),
/// not one GET each; a Droplet deleted behind Infra's back is still told from the rest
/// (not in the list, it is read by itself and is gone).
#[test]
fn a_plan_over_many_droplets_reads_their_list_instead_of_one_request_each() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = format!(
        r#"
provider digitalocean {{
  api_url = "{url}"
}}

resource digitalocean.droplet web for i in range(10) {{
  name   = "web-${{i}}"
  region = "nyc3"
  size   = "s-1vcpu-1gb"
  image  = "debian-12-x64"
}}

resource digitalocean.vpc net for i in range(8) {{
  name   = "net-${{i}}"
  region = "nyc3"
}}
"#,
        url = prism.url
    );
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    // Pages of 4: three for the Droplets, two for the VPCs.
    prism.control("page_size", json!({"max": 4}));
    let sorted = |mut requests: Vec<String>| {
        requests.sort();
        requests
    };
    let before = prism.requests().len();
    assert_exit(&infra(&["plan", "--detailed-exitcode"]), 0);
    let requests = sorted(prism.requests()[before..].to_vec());
    assert_eq!(requests, [&["GET /v2/droplets"; 3][..], &["GET /v2/vpcs"; 2]].concat(), "the lists, every page");

    let gone = prism.listed("/v2/droplets", "droplets")[3]["id"].clone();
    let (status, _) = prism.api("DELETE", &format!("/v2/droplets/{gone}"), None);
    assert_eq!(status, 204);
    let before = prism.requests().len();
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("has been deleted outside of Infra"), "{}", text(&plan));
    assert!(text(&plan).contains("1 to add, 0 to change, 0 to destroy"), "{}", text(&plan));
    let requests = sorted(prism.requests()[before..].to_vec());
    let droplet_pages =
        ["GET /v2/droplets".to_string(), "GET /v2/droplets".to_string(), "GET /v2/droplets".to_string()];
    let expected = [
        &droplet_pages[..],
        &[format!("GET /v2/droplets/{gone}")],
        &["GET /v2/vpcs".to_string(), "GET /v2/vpcs".to_string()],
    ]
    .concat();
    assert_eq!(requests, expected);
    prism.control("page_size", json!({"max": 200}));
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// What `pydo` makes, Infra imports: a VPC and a Droplet in it, made by DigitalOcean's
/// own client, are taken over by `infra import` and then plan with nothing to change.
#[test]
fn infra_imports_a_droplet_and_a_vpc_that_pydo_made() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let vpc = prism.pydo(
        "client.vpcs.create(body={'name': 'legacy-net', 'region': 'nyc3', 'description': 'made by pydo'}, \
         enforce_https=False)",
    );
    let vpc_id = vpc["vpc"]["id"].as_str().expect("a VPC id").to_string();
    let body = format!(
        "{{'name': 'legacy-1', 'region': 'nyc3', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64', \
         'tags': ['legacy'], 'vpc_uuid': '{vpc_id}'}}"
    );
    let droplet = prism.pydo(&format!("client.droplets.create(body={body}, enforce_https=False)"));
    let droplet_id = droplet["droplet"]["id"].to_string();
    let module = |tags: &str| {
        format!(
            r#"
provider digitalocean {{
  api_url = "{url}"
}}

resource digitalocean.vpc net {{
  name        = "legacy-net"
  region      = "nyc3"
  description = "made by pydo"
}}

resource digitalocean.droplet legacy {{
  name     = "legacy-1"
  region   = "nyc3"
  size     = "s-1vcpu-1gb"
  image    = "debian-12-x64"
  tags     = {tags}
  vpc_uuid = net.id
}}
"#,
            url = prism.url
        )
    };
    std::fs::write(dir.join("main.infra"), module(r#"["legacy"]"#)).expect("write the module");
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    assert_exit(&infra(&["import", "net", &vpc_id]), 0);
    assert_exit(&infra(&["import", "legacy", &droplet_id]), 0);
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);

    // Infra's change shows in pydo's reading; its destroy leaves pydo nothing.
    std::fs::write(dir.join("main.infra"), module(r#"["legacy", "web"]"#)).expect("write the module");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    let read = prism.pydo(&format!("client.droplets.get({droplet_id}, enforce_https=False)"));
    assert_eq!(read["droplet"]["tags"], json!(["legacy", "web"]));
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    assert_eq!(prism.pydo("client.droplets.list(enforce_https=False)")["droplets"], json!([]));
    assert_eq!(prism.pydo("client.vpcs.list(enforce_https=False)")["vpcs"], json!([]));
    prism.assert_no_violations();
}

/// What `infra` printed, without the diagnostics' line breaks and margins.
fn flat(output: &Output) -> String {
    text(output).split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ")
}

/// Regression: `image = deb.id` ("150000001") changed to `image = "debian-12-x64"`, the
/// same image, planned the Droplet's replacement. The two name one image: the plan shows
/// no change (state keeps the form it has); another image still replaces the Droplet.
#[test]
fn an_image_named_by_slug_instead_of_id_is_no_change() {
    let prism = Prism::start(&DIGITALOCEAN);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = |image: &str| {
        format!(
            "provider digitalocean {{\n  api_url = \"{}\"\n}}\n\ndata digitalocean.image deb {{\n  slug = \"debian-12-x64\"\n}}\n\nresource digitalocean.droplet web {{\n  name   = \"web-1\"\n  region = \"nyc3\"\n  size   = \"s-1vcpu-1gb\"\n  image  = {image}\n}}\n",
            prism.url
        )
    };
    let infra =
        |args: &[&str]| command(dir, args).env("DIGITALOCEAN_TOKEN", &prism.token).output().expect("infra runs");
    std::fs::write(dir.join("main.infra"), module("deb.id")).expect("write the module");
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    std::fs::write(dir.join("main.infra"), module("\"debian-12-x64\"")).expect("write the module");
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!text(&plan).contains("replace"), "{}", text(&plan));
    std::fs::write(dir.join("main.infra"), module("\"ubuntu-24-04-x64\"")).expect("write the module");
    let plan = infra(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("forces replacement"), "{}", text(&plan));
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
    prism.assert_no_violations();
}

/// Regression: a zone written with capitals kept `name = "Example.NET"` while its id was
/// `example.net`, and a record using the name failed with a 404. `infra check` refuses
/// capitals in a zone's name (and a record's `domain`), saying the form to write.
#[test]
fn a_zone_name_with_capitals_fails_infra_check() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = "provider digitalocean {}\n\nresource digitalocean.domain z2 {\n  name = \"Example.NET\"\n}\n\nresource digitalocean.record www {\n  domain = \"Example.NET\"\n  type   = \"A\"\n  name   = \"www\"\n  value  = \"192.0.2.1\"\n}\n";
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let output = command(dir, &["check"]).env_remove("DIGITALOCEAN_TOKEN").output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = flat(&output);
    assert_eq!(printed.matches("error[E0406]").count(), 2, "{printed}");
    assert!(printed.contains("`Example.NET` is not a valid `name`"), "{printed}");
    assert!(printed.contains("`Example.NET` is not a valid `domain`"), "{printed}");
    assert!(printed.contains("write `example.net`, not `Example.NET`"), "the help says the form: {printed}");

    let module = module.replace("Example.NET", "example.net");
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let output = command(dir, &["check"]).env_remove("DIGITALOCEAN_TOKEN").output().expect("infra runs");
    assert_exit(&output, 0);
}

/// Regression: an `api_url` without a scheme failed every request at apply ("relative
/// URL without a base"); `infra check` refuses it, pointing at `api_url`.
#[test]
fn an_api_url_without_a_scheme_fails_infra_check() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = "provider digitalocean {\n  api_url = \"api.digitalocean.com\"\n}\n\nresource digitalocean.ssh_key admin {\n  name       = \"admin\"\n  public_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk admin\"\n}\n";
    std::fs::write(dir.join("main.infra"), module).expect("write the module");
    let output = command(dir, &["check"]).env_remove("DIGITALOCEAN_TOKEN").output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = flat(&output);
    assert!(printed.contains("error[E0406]"), "a diagnostic with a code: {printed}");
    assert!(printed.contains("`api.digitalocean.com` is not a valid `api_url`"), "{printed}");
    assert!(printed.contains("api_url = \"api.digitalocean.com\""), "the diagnostic shows the attribute: {printed}");
    assert!(printed.contains("an `http://` or `https://` address"), "the help says the form: {printed}");
}
