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
        command(dir, args).envs(self.environment()).env_remove("OS_API_KEY").output().expect("infra runs")
    }
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
