//! The `rackspace` provider end to end: `infra` applies a key pair and a server against
//! Mimic (Rackspace's own API emulator) configured by the standard `OS_*` environment,
//! and python-novaclient checks what exists. Each test starts its own Mimic on a free
//! port of 127.0.0.1 and stops it when done.

use std::path::Path;
use std::process::Output;

mod common;

use common::{command, text, write_module};

#[path = "support/mimic.rs"]
mod mimic;

use mimic::Mimic;

impl Mimic {
    /// `infra ARGS` in `dir`, talking to this Mimic through the standard environment.
    fn infra(&self, dir: &Path, args: &[&str]) -> Output {
        self.infra_command(dir, args).output().expect("infra runs")
    }

    fn infra_command(&self, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut command = command(dir, args);
        command.envs(self.environment()).env_remove("OS_API_KEY").env_remove("OS_ENDPOINT_OVERRIDE");
        command
    }

    /// How many `POST servers` Nova has answered.
    fn server_creates(&self) -> usize {
        let create = format!("POST {}/servers", self.compute_path());
        self.requests().iter().filter(|r| **r == create).count()
    }
}

/// Printed text as read, without the diagnostic's line breaks and margins.
fn flat(output: &Output) -> String {
    text(output).split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ")
}

/// A server Mimic keeps in `BUILD` until its clock moves on by a day (the
/// `server_building` metadata), with `timeouts`.
fn building_server(timeouts: &str) -> String {
    format!(
        "resource rackspace.compute_instance web {{\n  name      = \"web-1\"\n  flavor_id = \"2\"\n  image_id  = \"dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6\"\n  metadata  = {{ server_building = \"86400\" }}\n{timeouts}}}\n"
    )
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

const SERVER: &str = r#"resource tls.private_key key {
  algorithm = "ED25519"
}

resource rackspace.compute_keypair deploy {
  name       = "deploy"
  public_key = key.public_key_openssh
}

resource rackspace.compute_instance web {
  name      = "web-1"
  flavor_id = "2"
  image_id  = "dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6"
  key_pair  = deploy.name
  metadata  = { role = "web" }
}

output address = web.access_ip_v4
"#;

/// The server's `admin_pass` as the state keeps it.
fn admin_pass(dir: &Path) -> String {
    let state = std::fs::read_to_string(dir.join("infra.state.json")).expect("the state");
    let start = state.find("\"admin_pass\"").expect("admin_pass in the state");
    let value = &state[start..];
    let quoted = value.split('"').nth(3).expect("a quoted value");
    quoted.to_string()
}

#[test]
fn a_server_is_applied_planned_clean_repaired_after_deletion_and_destroyed() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, SERVER);

    let apply = mimic.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&apply, 0);
    assert!(text(&apply).contains("3 added"), "{}", text(&apply));
    let listed = mimic.nova(&["list", "--fields", "name,status,key_name,metadata"]);
    assert!(listed.contains("web-1") && listed.contains("ACTIVE") && listed.contains("deploy"), "{listed}");
    assert!(listed.contains("'role': 'web'"), "{listed}");
    assert!(mimic.nova(&["keypair-list"]).contains("deploy"));

    // Nothing changed: the plan is empty, with and without a refresh.
    assert_exit(&mimic.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    assert_exit(&mimic.infra(dir, &["plan", "--detailed-exitcode", "--refresh", "false"]), 0);

    // The root password Nova generated is in the state, and in no output.
    let password = admin_pass(dir);
    assert!(!password.is_empty());
    let shown = mimic.infra(dir, &["show"]);
    for output in [&apply, &shown, &mimic.infra(dir, &["plan"]), &mimic.infra(dir, &["output"])] {
        assert!(!text(output).contains(&password), "the admin password is shown:\n{}", text(output));
    }

    // Deleted behind Infra's back: the plan creates it again, and the apply does.
    mimic.nova(&["delete", "web-1"]);
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# web has been deleted outside of Infra"), "{}", text(&plan));
    assert!(text(&plan).contains("will be created"), "{}", text(&plan));
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    assert!(mimic.nova(&["list"]).contains("web-1"));
    assert_exit(&mimic.infra(dir, &["plan", "--detailed-exitcode"]), 0);

    let destroy = mimic.infra(dir, &["destroy", "--auto-approve"]);
    assert_exit(&destroy, 0);
    assert!(!mimic.nova(&["list"]).contains("web-1"));
    assert!(!mimic.nova(&["keypair-list"]).contains("deploy"));
}

#[test]
fn refused_credentials_are_a_diagnostic_naming_the_user_and_the_variables() {
    let mimic = Mimic::start();
    mimic.refuse_user("intruder");
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(
        dir,
        "resource rackspace.compute_keypair k {\n  name       = \"k\"\n  public_key = \"ssh-ed25519 AAAA k\"\n}\n",
    );
    let output = command(dir, &["apply", "--auto-approve"])
        .envs(mimic.environment())
        .env("OS_USERNAME", "intruder")
        .env("OS_PASSWORD", "wrong-password-123")
        .output()
        .expect("infra runs");
    assert_exit(&output, 1);
    let shown = text(&output);
    assert!(shown.contains("E0610"), "{shown}");
    assert!(shown.contains("Rackspace identity refused the credentials of user `intruder`"), "{shown}");
    assert!(shown.contains("OS_PASSWORD"), "{shown}");
    assert!(!shown.contains("wrong-password-123"), "{shown}");
    assert!(!shown.contains("panicked"), "{shown}");
}

/// `kill -9` while `infra apply` waits for a new server to be `ACTIVE`: the server was
/// reported (and journaled) when Nova answered the `POST`, before the first poll, so the
/// next plan reads it and the next apply takes it over: one `POST servers` in all.
#[test]
fn a_server_created_before_a_kill_9_is_found_by_the_next_plan_not_made_twice() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &building_server(""));
    let mut apply = mimic
        .infra_command(dir, &["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("infra runs");
    // The engine journals the reported server before the create goes on to poll it.
    let polls = format!("GET {}/servers/", mimic.compute_path());
    let start = std::time::Instant::now();
    while !mimic.requests().iter().any(|r| r.starts_with(&polls)) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", mimic.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    apply.kill().expect("kill -9");
    apply.wait().expect("reaped");
    assert_eq!(mimic.server_creates(), 1);

    mimic.tick(86_400.0);
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(mimic.server_creates(), 1, "{:?}", mimic.requests());
    let listed = mimic.nova(&["list", "--fields", "name,status"]);
    assert_eq!(listed.matches("web-1").count(), 1, "{listed}");
    assert!(listed.contains("ACTIVE"), "{listed}");
    assert_exit(&mimic.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(!mimic.nova(&["list"]).contains("web-1"));
}

/// A server still building past `timeouts.create` fails the apply with E0610 saying so
/// and stays in state: the next apply, once it is `ACTIVE`, takes it over.
#[test]
fn a_server_stuck_past_its_timeout_is_an_error_and_is_not_lost() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &building_server("\n  timeouts {\n    create = \"2s\"\n  }\n"));
    let output = mimic.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&output, 1);
    let printed = flat(&output);
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(printed.contains("is still BUILD after 2 s"), "{printed}");
    assert!(printed.contains("the server exists and the state keeps it"), "{printed}");

    mimic.tick(86_400.0);
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert_exit(&plan, 0);
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(mimic.server_creates(), 1, "{:?}", mimic.requests());
    assert_exit(&mimic.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(!mimic.nova(&["list"]).contains("web-1"));
}

/// A plan over 10 servers and 8 key pairs reads `servers/detail` once and `os-keypairs`
/// once (counted in Mimic's access log), not 18 requests.
#[test]
fn a_plan_over_many_servers_reads_their_list_instead_of_one_request_each() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = r#"
resource rackspace.compute_keypair key for i in range(8) {
  name       = "key-${i}"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5Zm9yaW5mcmF0ZXN0c29ubHkxMjM0NTY3 k${i}"
}

resource rackspace.compute_instance web for i in range(10) {
  name      = "web-${i}"
  flavor_id = "2"
  image_id  = "dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6"
}
"#;
    write_module(dir, module);
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    let compute = mimic.compute_path();
    let before = mimic.requests().len();
    assert_exit(&mimic.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    let mut requests: Vec<String> = mimic.requests()[before..].iter().map(|r| r.replace(&compute, "NOVA")).collect();
    requests.sort();
    assert_eq!(requests, ["GET NOVA/os-keypairs", "GET NOVA/servers/detail?limit=100", "POST /identity/v2.0/tokens"]);
    assert_exit(&mimic.infra(dir, &["destroy", "--auto-approve"]), 0);
}

/// `OS_ENDPOINT_OVERRIDE` (the variable python-novaclient reads) replaces the catalog's
/// compute endpoint: with a region the catalog does not have, the key pair still reaches
/// Mimic's ORD Nova.
#[test]
fn os_endpoint_override_replaces_the_catalogs_compute_endpoint() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(
        dir,
        "resource rackspace.compute_keypair k {\n  name       = \"direct\"\n  public_key = \"ssh-ed25519 AAAA k\"\n}\n",
    );
    let endpoint = format!("http://127.0.0.1:{}{}", mimic.port, mimic.compute_path());
    let infra = |args: &[&str]| {
        let mut command = mimic.infra_command(dir, args);
        command.env("OS_REGION_NAME", "SYD").env("OS_ENDPOINT_OVERRIDE", &endpoint).output().expect("infra runs")
    };
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    assert!(mimic.nova(&["keypair-list"]).contains("direct"));
    // Without it, SYD is not in the catalog.
    let plan = mimic.infra_command(dir, &["plan"]).env("OS_REGION_NAME", "SYD").output().expect("infra runs");
    assert_exit(&plan, 1);
    assert!(flat(&plan).contains("the service catalog has no compute endpoint in region `SYD`"), "{}", flat(&plan));
    assert_exit(&infra(&["destroy", "--auto-approve"]), 0);
}

/// A region Rackspace does not have is refused by `infra check`, before any request,
/// pointing at the setting.
#[test]
fn a_region_rackspace_does_not_have_fails_the_check() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(
        dir,
        "provider rackspace {\n  region = \"XYZ\"\n}\n\nresource rackspace.compute_keypair k {\n  name       = \"k\"\n  public_key = \"ssh-ed25519 AAAA k\"\n}\n",
    );
    let output = command(dir, &["check"]).output().expect("infra runs");
    assert_exit(&output, 1);
    let printed = flat(&output);
    assert!(printed.contains("error[E0406]"), "{printed}");
    assert!(printed.contains("`XYZ` is not a value `region` accepts"), "{printed}");
    assert!(printed.contains("region = \"XYZ\""), "the diagnostic points at `region`: {printed}");
    assert!(printed.contains("`ORD`"), "the help names the regions: {printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}
