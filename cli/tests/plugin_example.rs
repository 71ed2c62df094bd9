//! `examples/plugin-workato` as written: `infra init` installs its plugin (the real
//! terraform-provider-workato 0.16.0, from a filesystem mirror holding it under the
//! example's source address), `check --deny-warnings` passes, and it applies against the
//! Workato stand-in (`tests/standins/workato.py`), plans again with no changes, and is
//! destroyed. The API key, a sensitive input, is never printed.

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{command, text};

#[test]
fn the_plugin_example_installs_checks_applies_replans_clean_and_destroys() {
    let standin = workato::Standin::start();
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugin-workato/main.infra");
    std::fs::copy(example, dir.path().join("main.infra")).unwrap();

    // A filesystem mirror with the package under the example's own source address.
    let mirror = tempfile::tempdir().unwrap();
    let package = "0.16.0/linux_amd64/terraform-provider-workato_v0.16.0";
    let target = mirror.path().join("registry.terraform.io/workato-devs/workato").join(package);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(workato::mirror().join("registry.terraform.io/local/workato").join(package), &target).unwrap();
    common::ok(dir.path(), &["init", "--plugin-dir", mirror.path().to_str().unwrap()]);
    common::ok(dir.path(), &["check", "--deny-warnings"]);

    let infra = |args: &[&str]| {
        let base_url = format!("base_url={}", standin.base_url());
        let api_key = format!("api_key={}", standin.token);
        let mut all = args.to_vec();
        all.extend(["--var", &base_url, "--var", &api_key]);
        let output = command(dir.path(), &all).env("SSL_CERT_FILE", standin.ca()).output().expect("run infra");
        let printed = text(&output);
        assert_eq!(output.status.code(), Some(0), "infra {args:?}:\n{printed}");
        assert!(!printed.contains(&standin.token), "the API key is never printed: {printed}");
        printed
    };
    let printed = infra(&["apply", "--auto-approve"]);
    assert!(printed.contains("Resources: 2 added, 0 changed, 0 destroyed."), "{printed}");
    let created = standin.requests().iter().filter(|r| r["method"] == "POST" && r["path"] == "/api/folders").count();
    assert_eq!(created, 2, "a folder per team");
    assert!(infra(&["plan"]).contains("No changes."));
    let printed = common::ok(dir.path(), &["output", "asset"]);
    assert!(!printed.trim().is_empty() && printed.contains('"'), "the plugin function's result: {printed}");
    let printed = infra(&["destroy", "--auto-approve"]);
    assert!(printed.contains("Resources: 0 added, 0 changed, 2 destroyed."), "{printed}");
}
