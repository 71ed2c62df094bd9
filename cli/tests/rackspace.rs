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

/// Ctrl-C while `infra apply` waits for a new server to be `ACTIVE`: the provider is told
/// to stop, and the wait (every 5 s a poll, for up to `timeouts.create`, 30 minutes)
/// ends at once with an error saying the server was still `BUILD`. Nothing is lost: the
/// server was reported before the wait, so the state records its id, and the next plan
/// reads it instead of making a second one. Bug: the built-in providers ignored the stop,
/// and the apply went on waiting until a second Ctrl-C killed it.
#[test]
fn ctrl_c_ends_the_wait_for_a_building_server_and_the_state_keeps_the_server() {
    use infra_runtime::state::{LocalBackend, StateBackend, Status};
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(dir, &building_server(""));
    let apply = mimic
        .infra_command(dir, &["apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("infra runs");
    // Interrupted once it polls: the server is reported and the wait has begun.
    let polls = format!("GET {}/servers/", mimic.compute_path());
    let start = std::time::Instant::now();
    while !mimic.requests().iter().any(|r| r.starts_with(&polls)) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no poll: {:?}", mimic.requests());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = common::interrupt(apply);
    assert_exit(&output, 130);
    let printed = flat(&output);
    let loaded = LocalBackend::new(dir.to_path_buf()).load().expect("state saved");
    let recorded: Vec<_> = loaded.state.instances.iter().map(|(address, i)| (address.to_string(), i)).collect();
    assert_eq!(recorded.len(), 1, "{printed}");
    let (address, web) = &recorded[0];
    assert_eq!(address, "web");
    assert_eq!(web.status, Status::PartlyCreated);
    let id = web.attributes.get("id").and_then(|id| id.as_str()).expect("the server's id").to_string();
    let message = format!(
        "interrupted while waiting for server `{id}` to be ACTIVE (it was BUILD); it is recorded, and the next plan \
         reads it"
    );
    assert!(printed.contains(&message), "{printed}");
    assert!(printed.contains("Interrupted"), "{printed}");
    assert_eq!(mimic.server_creates(), 1);

    // The next plan reads the server, still building: nothing to create.
    let plan = mimic.infra(dir, &["plan"]);
    assert!(text(&plan).contains("the create of web stopped after its object was made"), "{}", text(&plan));
    assert!(!text(&plan).contains("will be created"), "{}", text(&plan));
    mimic.tick(86_400.0);
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(mimic.server_creates(), 1, "{:?}", mimic.requests());
    let listed = mimic.nova(&["list", "--fields", "name,status"]);
    assert_eq!(listed.matches("web-1").count(), 1, "{listed}");
    assert!(mimic.nova(&["list"]).contains(&id), "the server made before Ctrl-C is the one kept: {listed}");
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
    assert!(printed.contains("`XYZ` is not a valid `region`"), "{printed}");
    assert!(printed.contains("region = \"XYZ\""), "the diagnostic points at `region`: {printed}");
    assert!(printed.contains("`ORD`"), "the help names the regions: {printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}

/// Regression: `region = "ord"` in the block was E0406 while `OS_REGION_NAME=ord` was
/// taken. Either case is taken from either place, as the catalog's `ORD`.
#[test]
fn a_region_in_lower_case_is_taken_from_the_block_as_from_os_region_name() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    write_module(
        dir,
        "provider rackspace {\n  region = \"ord\"\n}\n\nresource rackspace.compute_keypair k {\n  name       = \"lower\"\n  public_key = \"ssh-ed25519 AAAA k\"\n}\n",
    );
    let infra =
        |args: &[&str]| mimic.infra_command(dir, args).env_remove("OS_REGION_NAME").output().expect("infra runs");
    assert_exit(&infra(&["check"]), 0);
    assert_exit(&infra(&["apply", "--auto-approve"]), 0);
    // novaclient looks in ORD.
    assert!(mimic.nova(&["keypair-list"]).contains("lower"));
    let dfw = |args: &[&str]| mimic.infra_command(dir, args).env("OS_REGION_NAME", "dfw").output().expect("infra runs");
    write_module(
        dir,
        "resource rackspace.compute_keypair k {\n  name       = \"lower\"\n  public_key = \"ssh-ed25519 AAAA k\"\n}\n",
    );
    // From the environment, `dfw` is DFW, where the key pair is not: it is planned anew.
    let plan = dfw(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("k has been deleted outside of Infra"), "{}", text(&plan));
    let ord = |args: &[&str]| mimic.infra_command(dir, args).env("OS_REGION_NAME", "ord").output().expect("infra runs");
    assert_exit(&ord(&["plan", "--detailed-exitcode"]), 0);
    assert_exit(&ord(&["destroy", "--auto-approve"]), 0);
    assert!(!mimic.nova(&["keypair-list"]).contains("lower"));
}

/// Regression: after `infra import` of a running server, `user_data` and `networks`
/// (which Nova never reports, so the import leaves them null) forced a replacement, and
/// the first apply destroyed the live server. They are an update in place that records
/// them: the server stays, and nothing more is planned.
#[test]
fn an_imported_server_takes_user_data_and_networks_in_place_not_by_replacement() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let id = mimic.create_server("legacy-1", serde_json::json!({}));
    write_module(
        dir,
        r##"resource rackspace.compute_instance web {
  name      = "legacy-1"
  flavor_id = "2"
  image_id  = "dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6"
  user_data = "#!/bin/sh\necho hi\n"
  networks  = ["00000000-0000-0000-0000-000000000000", "11111111-1111-1111-1111-111111111111"]
}
"##,
    );
    assert_exit(&mimic.infra(dir, &["import", "web", &id]), 0);
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let printed = text(&plan);
    assert!(!printed.contains("forces replacement") && !printed.contains("must be replaced"), "{printed}");
    assert!(printed.contains("web will be updated in place"), "{printed}");
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    assert_eq!(mimic.server_creates(), 1, "only the server made behind Infra's back: {:?}", mimic.requests());
    let deletes = format!("DELETE {}/servers/", mimic.compute_path());
    assert!(!mimic.requests().iter().any(|r| r.starts_with(&deletes)), "{:?}", mimic.requests());
    let listed = mimic.nova(&["list", "--fields", "id,name,status"]);
    assert!(listed.contains(&id) && listed.contains("ACTIVE"), "{listed}");
    assert_exit(&mimic.infra(dir, &["plan", "--detailed-exitcode"]), 0);
    // A change from the recorded value to another still replaces the server.
    let module = std::fs::read_to_string(dir.join("main.infra")).expect("the module");
    write_module(dir, &module.replace("echo hi", "echo bye"));
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(text(&plan).contains("# forces replacement"), "{}", text(&plan));
}

/// Regression: a server that went into `ERROR` during its create was deleted by Infra,
/// but the state kept it (the create had reported it), so the next plan said it "has
/// been deleted outside of Infra". It now stays, recorded in `ERROR`, and the next plan
/// replaces it: Infra's own delete is the engine's, recorded like any other.
#[test]
fn a_server_in_error_is_kept_and_replaced_not_reported_deleted_outside_of_infra() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = |metadata: &str| {
        format!(
            "resource rackspace.compute_instance bad {{\n  name      = \"bad\"\n  flavor_id = \"2\"\n  image_id  = \"dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6\"\n  metadata  = {metadata}\n}}\n"
        )
    };
    // Mimic puts a server whose metadata has `server_error` into ERROR.
    write_module(dir, &module("{ server_error = \"1\" }"));
    let apply = mimic.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&apply, 1);
    let printed = flat(&apply);
    assert!(printed.contains("error[E0610]") && printed.contains("went into status ERROR"), "{printed}");
    assert!(printed.contains("the next apply replaces it"), "{printed}");
    let shown = mimic.nova(&["list", "--fields", "id,name,status"]);
    assert!(shown.contains("bad") && shown.contains("ERROR"), "{shown}");

    for refresh in ["true", "false"] {
        let plan = mimic.infra(dir, &["plan", "--detailed-exitcode", "--refresh", refresh]);
        assert_exit(&plan, 2);
        let printed = text(&plan);
        assert!(!printed.contains("outside of Infra"), "{printed}");
        assert!(printed.contains("bad must be replaced"), "{printed}");
        assert!(printed.contains("fault"), "{printed}");
        assert!(printed.contains("-> (known after apply) # forces replacement"), "{printed}");
    }

    write_module(dir, &module("{ role = \"web\" }"));
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    let shown = mimic.nova(&["list", "--fields", "name,status"]);
    assert_eq!(shown.matches("bad").count(), 1, "{shown}");
    assert!(shown.contains("ACTIVE") && !shown.contains("ERROR"), "{shown}");
    let plan = mimic.infra(dir, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(!text(&plan).contains("outside of Infra"), "{}", text(&plan));
    assert_exit(&mimic.infra(dir, &["destroy", "--auto-approve"]), 0);
    assert!(!mimic.nova(&["list"]).contains("bad"));
}

/// Regression: an HTML error page (Mimic answers `PUT servers/ID`, a rename, with 405
/// and `<!doctype html>...`) was pasted whole into the diagnostic. It is summarized.
#[test]
fn an_html_error_page_is_summarized_in_the_diagnostic() {
    let mimic = Mimic::start();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let module = |name: &str| {
        format!(
            "resource rackspace.compute_instance web {{\n  name      = \"{name}\"\n  flavor_id = \"2\"\n  image_id  = \"dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6\"\n}}\n"
        )
    };
    write_module(dir, &module("web-1"));
    assert_exit(&mimic.infra(dir, &["apply", "--auto-approve"]), 0);
    write_module(dir, &module("web-2"));
    let apply = mimic.infra(dir, &["apply", "--auto-approve"]);
    assert_exit(&apply, 1);
    let printed = flat(&apply);
    assert!(printed.contains("error[E0610]"), "{printed}");
    assert!(
        printed.contains("failed with 405 Method Not Allowed: an HTML page titled `405 Method Not Allowed`"),
        "{printed}"
    );
    assert!(printed.contains("does not offer the operation"), "the hint: {printed}");
    let lower = printed.to_ascii_lowercase();
    assert!(!lower.contains("doctype") && !lower.contains("<h1>") && !lower.contains("<title>"), "{printed}");
    assert!(!printed.contains("The method is not allowed for the requested URL"), "{printed}");
}
