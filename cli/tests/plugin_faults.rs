//! Faults while a real plugin runs (terraform-provider-workato 0.16.0 against the Workato
//! stand-in, `tests/standins/workato.py`, a fake): the plugin process dies in the middle
//! of an apply. The error names the plugin and its log, the state keeps what completed,
//! and the next plan and apply finish the work.

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;
use std::process::{Child, Command, Stdio};

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

resource workato.folder parent {{
  name      = "reports"
  folder_id = 101
}}

resource workato.folder child {{
  name      = "monthly"
  folder_id = tonumber(parent.id)
}}
"#,
        standin.base_url(),
        standin.token
    )
}

fn infra(dir: &Path, standin: &workato::Standin, args: &[&str]) -> (i32, String) {
    let output = common::command(dir, args).env("SSL_CERT_FILE", standin.ca()).output().expect("run infra");
    (output.status.code().unwrap_or(-1), common::text(&output))
}

/// The plugin processes `infra` (process `parent`) started: its children whose program
/// is a Terraform provider.
fn plugin_processes(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `PID (COMM) STATE PPID ...`; the command name may hold spaces, so split after `)`.
        let Some((head, tail)) = stat.rsplit_once(')') else { continue };
        let ppid = tail.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) && head.contains("(terraform-prov") {
            found.push(pid);
        }
    }
    found
}

/// Waits, however long it takes, until the stand-in holds the create it was told to hold.
fn wait_until_held(standin: &workato::Standin, apply: &mut Child) {
    while !standin.control("GET", "held", "").contains("yes") {
        assert!(apply.try_wait().expect("poll infra").is_none(), "infra ended before the create was held");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_plugin_that_dies_mid_apply_is_named_with_its_log_and_what_completed_is_kept() {
    let mirror = workato::mirror();
    let standin = workato::Standin::start();
    let dir = tempfile::tempdir().unwrap();
    common::write_module(dir.path(), &module(&standin));
    common::ok(dir.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);

    // The child's create waits at the stand-in, after the parent was made; then the
    // plugin is killed.
    standin.control("POST", "hold", r#"{"name": "monthly"}"#);
    let mut apply = common::command(dir.path(), &["apply", "--auto-approve"])
        .env("SSL_CERT_FILE", standin.ca())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start infra apply");
    wait_until_held(&standin, &mut apply);
    let plugins = plugin_processes(apply.id());
    assert_eq!(plugins.len(), 1, "one plugin process for the one provider configuration: {plugins:?}");
    let killed = Command::new("kill").args(["-KILL", &plugins[0].to_string()]).status().expect("kill");
    assert!(killed.success());
    standin.control("POST", "release", "");
    let output = apply.wait_with_output().expect("infra apply ends");
    let printed = common::text(&output);
    assert_eq!(output.status.code(), Some(1), "the apply fails:\n{printed}");
    assert!(printed.contains("plugin `workato`"), "the error names the plugin:\n{printed}");
    // The help may wrap the log's path over two lines.
    let unwrapped: String = printed.split_whitespace().collect();
    assert!(unwrapped.contains(".infra/plugins/logs/workato.log"), "the error names the plugin's log:\n{printed}");
    assert!(printed.contains("parent: Creation complete"), "{printed}");

    // The state has the parent, which was made; the next plan creates only the child.
    let (code, listed) = infra(dir.path(), &standin, &["state", "list"]);
    assert_eq!((code, listed.trim()), (0, "parent"), "{listed}");
    let (code, plan) = infra(dir.path(), &standin, &["plan", "--json"]);
    assert_eq!(code, 0, "{plan}");
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("the plan as JSON");
    let changes: Vec<(&str, &str)> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["address"].as_str().unwrap_or(""), c["action"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(changes, [("child", "create")], "{plan:#}");

    // A new plugin process finishes the work.
    let (code, printed) = infra(dir.path(), &standin, &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("Resources: 1 added, 0 changed, 0 destroyed."), "{printed}");
    let (code, printed) = infra(dir.path(), &standin, &["plan"]);
    assert!(code == 0 && printed.contains("No changes."), "{printed}");
    let folders = standin.api("/api/folders?page=1&per_page=100").1;
    assert_eq!(folders.matches("\"monthly\"").count(), 1, "one child folder, not two: {folders}");
}
