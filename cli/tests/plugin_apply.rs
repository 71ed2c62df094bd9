//! Running a plugin's resources: the real terraform-provider-workato 0.16.0 creates,
//! updates, refreshes and deletes a `workato.folder` against the Workato stand-in
//! (`tests/standins/workato.py`, a fake of the folder endpoints, over TLS with a test CA
//! the plugin trusts through `SSL_CERT_FILE`).

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{command, text, write_module};

fn module(standin: &workato::Standin, name: &str) -> String {
    format!(
        r#"plugin workato {{
  source  = "local/workato"
  version = "0.16.0"
}}

provider workato {{
  base_url = "{}"
  api_key  = "{}"
}}

resource workato.folder reports {{
  name      = "{name}"
  folder_id = 101
}}

output folder = reports.id
"#,
        standin.base_url(),
        standin.token
    )
}

/// Runs `infra ARGS` with the stand-in's CA trusted; returns the exit code and output.
fn infra(dir: &Path, standin: &workato::Standin, args: &[&str]) -> (i32, String) {
    let output = command(dir, args).env("SSL_CERT_FILE", standin.ca()).output().expect("run infra");
    (output.status.code().unwrap_or(-1), text(&output))
}

fn ok(dir: &Path, standin: &workato::Standin, args: &[&str]) -> String {
    let (code, printed) = infra(dir, standin, args);
    assert_eq!(code, 0, "infra {args:?}:\n{printed}");
    assert!(!printed.contains(&standin.token), "the API key is never printed: {printed}");
    printed
}

#[test]
fn a_folder_is_created_changed_refreshed_and_destroyed_through_the_plugin() {
    let mirror = workato::mirror();
    let standin = workato::Standin::start();
    let dir = tempfile::tempdir().unwrap();
    write_module(dir.path(), &module(&standin, "reports"));
    common::ok(dir.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);

    // Create: the plugin asks the stand-in, and the folder's id comes back.
    let printed = ok(dir.path(), &standin, &["apply", "--auto-approve"]);
    assert!(printed.contains("+ workato.folder reports {"), "{printed}");
    assert!(printed.contains("Resources: 1 added, 0 changed, 0 destroyed."), "{printed}");
    let requests = standin.control("GET", "requests", "");
    assert!(requests.lines().any(|r| r == "POST /api/folders"), "{requests}");
    let outputs = ok(dir.path(), &standin, &["output", "folder"]);
    let id = outputs.trim().trim_matches('"').to_string();
    assert!(id.parse::<u64>().is_ok(), "the folder's id: {outputs}");

    // Nothing changed: the plan reads the folder and shows nothing to do.
    let printed = ok(dir.path(), &standin, &["plan"]);
    assert!(printed.contains("No changes."), "{printed}");
    assert!(!printed.contains("__plugin_private"), "the plugin's private data is not shown: {printed}");

    // A new name is an update in place.
    write_module(dir.path(), &module(&standin, "reports-2"));
    let printed = ok(dir.path(), &standin, &["apply", "--auto-approve"]);
    assert!(printed.contains("~ name") && printed.contains("\"reports\" -> \"reports-2\""), "{printed}");
    assert!(printed.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{printed}");
    assert!(!printed.contains("__plugin_private"), "{printed}");
    assert!(ok(dir.path(), &standin, &["plan"]).contains("No changes."));

    // Renamed outside of Infra: the refresh reports the drift.
    standin.control("POST", "rename", &format!(r#"{{"id": {id}, "name": "renamed"}}"#));
    let printed = ok(dir.path(), &standin, &["plan"]);
    assert!(printed.contains("reports has changed outside of Infra"), "{printed}");
    assert!(printed.contains("\"reports-2\" -> \"renamed\""), "{printed}");

    // Destroy deletes it at the stand-in.
    let printed = ok(dir.path(), &standin, &["destroy", "--auto-approve"]);
    assert!(printed.contains("Resources: 0 added, 0 changed, 1 destroyed."), "{printed}");
    let requests = standin.control("GET", "requests", "");
    assert!(requests.lines().any(|r| r == format!("DELETE /api/folders/{id}")), "{requests}");
    assert!(module_log(dir.path()).exists(), "the plugin logged beside the module");
}

fn module_log(dir: &Path) -> std::path::PathBuf {
    dir.join(".infra/plugins/logs/workato.log")
}
