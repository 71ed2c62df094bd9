//! Objects recorded under another schema version of a plugin's kind: the real
//! terraform-provider-workato 0.16.0 against the Workato stand-in
//! (`tests/standins/workato.py`, a fake of the folder endpoints).
//!
//! The one real plugin here writes `workato_folder` under schema version 0, so a plugin
//! upgrade is played by the schema cache `infra init` wrote: claiming version 1 there is
//! what a newer plugin's schema would say. The host then sends the folder recorded under
//! version 0 to the real plugin's `UpgradeResourceState` (which its framework answers
//! for the version it has), and records the answer under version 1. Claiming version 0
//! again plays a plugin older than the one that wrote the state.

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{command, text, write_module};

fn module(standin: &workato::Standin) -> String {
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
  name      = "reports"
  folder_id = 101
}}
"#,
        standin.base_url(),
        standin.token
    )
}

/// Runs `infra ARGS` with the stand-in's CA trusted and the plugin logging its calls
/// (the SDK logs each call at trace level).
fn infra(dir: &Path, standin: &workato::Standin, args: &[&str]) -> (i32, String) {
    let output =
        command(dir, args).env("SSL_CERT_FILE", standin.ca()).env("TF_LOG", "trace").output().expect("run infra");
    (output.status.code().unwrap_or(-1), text(&output))
}

fn ok(dir: &Path, standin: &workato::Standin, args: &[&str]) -> String {
    let (code, printed) = infra(dir, standin, args);
    assert_eq!(code, 0, "infra {args:?}:\n{printed}");
    printed
}

/// Sets the schema version the cache claims for `workato_folder`.
fn claim_folder_version(dir: &Path, version: i64) {
    let path = dir.join(".infra/plugins/schemas.json");
    let mut cache: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    cache["plugins"]["workato"]["schema"]["resources"]["workato_folder"]["version"] = version.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&cache).unwrap()).unwrap();
}

fn state_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("infra.state.json")).unwrap()
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".infra/plugins/logs/workato.log")).unwrap_or_default()
}

#[test]
fn an_object_from_an_older_schema_is_upgraded_and_one_from_a_newer_is_refused() {
    let mirror = workato::mirror();
    let standin = workato::Standin::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_module(dir, &module(&standin));
    common::ok(dir, &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    ok(dir, &standin, &["apply", "--auto-approve"]);
    assert!(!state_text(dir).contains("__plugin_schema_version"), "version 0 is not recorded");
    assert!(!log(dir).contains("UpgradeResourceState"), "nothing to upgrade yet:\n{}", log(dir));

    // A plugin whose folders are at version 1: the recorded folder is upgraded before it
    // is read, so the plan shows no change, and the apply records the new version.
    claim_folder_version(dir, 1);
    let printed = ok(dir, &standin, &["plan"]);
    assert!(printed.contains("No changes."), "an upgrade is not drift:\n{printed}");
    assert!(log(dir).contains("UpgradeResourceState"), "the plugin was asked:\n{}", log(dir));
    ok(dir, &standin, &["apply", "--auto-approve"]);
    let state = state_text(dir);
    assert!(state.contains("__plugin_schema_version"), "the version is recorded:\n{state}");
    assert!(ok(dir, &standin, &["plan"]).contains("No changes."));

    // The older plugin again: it cannot read what the newer one wrote.
    claim_folder_version(dir, 0);
    let (code, printed) = infra(dir, &standin, &["plan"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("written by a newer version of the plugin"), "{printed}");
    assert!(printed.contains("version 1, the installed plugin has 0"), "{printed}");
    assert!(printed.contains(".infra.lock"), "the help says where the version is: {printed}");
    assert_eq!(state_text(dir), state, "the state is left as it was");

    claim_folder_version(dir, 1);
    ok(dir, &standin, &["destroy", "--auto-approve"]);
    assert_eq!(workato::plugins_running_in(dir), 0, "every plugin Infra started was stopped as it exited");
    let requests = standin.control("GET", "requests", "");
    assert!(requests.lines().any(|r| r.starts_with("DELETE /api/folders/")), "{requests}");
}
