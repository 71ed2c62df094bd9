//! Terraform as the oracle: the same configuration, written in HCL for Terraform 1.11 and
//! in Infra, runs the same real plugin (terraform-provider-workato 0.16.0, from the same
//! filesystem mirror) against two instances of the Workato stand-in
//! (`tests/standins/workato.py`, a fake, one per tool, both on a fixed clock). At every
//! step the two tools must agree: the plans (actions, planned values, which values are
//! unknown), the API requests each apply sends (as multisets: the order is the
//! scheduler's), the remote objects, the states, the drift a change made at the stand-in
//! shows, import and delete.

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

/// The time both stand-ins give every object they make or change.
const CLOCK: &str = "2026-01-02T03:04:05.000Z";

/// A planned attribute: its value (in Infra's rendering) or unknown until apply.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Planned {
    Known(String),
    Unknown,
}

/// A plan as both tools can say it: by resource name, the action and the planned
/// attributes that are not null.
type Plan = BTreeMap<String, (String, BTreeMap<String, Planned>)>;

/// One tool, its module directory and its own stand-in.
struct Side {
    dir: tempfile::TempDir,
    standin: workato::Standin,
}

struct Oracle {
    mirror: PathBuf,
    terraform_rc: PathBuf,
    infra: Side,
    terraform: Side,
    _scratch: tempfile::TempDir,
}

impl Oracle {
    fn start() -> Oracle {
        let mirror = workato::mirror();
        let scratch = tempfile::tempdir().expect("scratch");
        let terraform_rc = workato::terraform_cli_config(scratch.path(), &mirror);
        let side = || {
            let standin = workato::Standin::start();
            standin.control("POST", "clock", &format!(r#"{{"now": "{CLOCK}"}}"#));
            Side { dir: tempfile::tempdir().expect("module dir"), standin }
        };
        let oracle = Oracle { mirror, terraform_rc, infra: side(), terraform: side(), _scratch: scratch };
        oracle.write(&[("parent", "reports", "101"), ("child", "monthly", "tonumber(@parent.id)")]);
        oracle.infra_ok(&["init", "--plugin-dir", oracle.mirror.to_str().expect("a UTF-8 path")]);
        oracle.terraform_ok(&["init", "-input=false"]);
        oracle
    }

    /// Writes the configuration for both tools: one folder per `(resource, name,
    /// parent folder)`, where `@NAME` in the parent stands for the resource `NAME`.
    fn write(&self, folders: &[(&str, &str, &str)]) {
        let mut infra = format!(
            "plugin workato {{\n  source  = \"local/workato\"\n  version = \"0.16.0\"\n}}\n\n\
             provider workato {{\n  base_url = \"{}\"\n  api_key  = \"{}\"\n}}\n",
            self.infra.standin.base_url(),
            self.infra.standin.token
        );
        let mut hcl = format!(
            "terraform {{\n  required_providers {{\n    workato = {{ source = \"local/workato\", version = \"0.16.0\" }}\n  }}\n}}\n\n\
             provider \"workato\" {{\n  base_url = \"{}\"\n  api_key  = \"{}\"\n}}\n",
            self.terraform.standin.base_url(),
            self.terraform.standin.token
        );
        for (resource, name, parent) in folders {
            let infra_parent = parent.replace('@', "");
            let hcl_parent = parent.replace('@', "workato_folder.");
            infra.push_str(&format!(
                "\nresource workato.folder {resource} {{\n  name      = \"{name}\"\n  folder_id = {infra_parent}\n}}\n"
            ));
            hcl.push_str(&format!(
                "\nresource \"workato_folder\" \"{resource}\" {{\n  name      = \"{name}\"\n  folder_id = {hcl_parent}\n}}\n"
            ));
        }
        common::write_module(self.infra.dir.path(), &infra);
        std::fs::write(self.terraform.dir.path().join("main.tf"), hcl).expect("write main.tf");
    }

    #[track_caller]
    fn infra_ok(&self, args: &[&str]) -> String {
        let output = common::command(self.infra.dir.path(), args)
            .env("SSL_CERT_FILE", self.infra.standin.ca())
            .output()
            .expect("run infra");
        let printed = common::text(&output);
        assert_eq!(output.status.code(), Some(0), "infra {args:?}:\n{printed}");
        printed
    }

    #[track_caller]
    fn terraform_ok(&self, args: &[&str]) -> String {
        let output = Command::new("terraform")
            .args(args)
            .arg("-no-color")
            .current_dir(self.terraform.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.terraform_rc)
            .env("SSL_CERT_FILE", self.terraform.standin.ca())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .output()
            .expect("run terraform (1.11 on the PATH)");
        let printed = common::text(&output);
        assert_eq!(output.status.code(), Some(0), "terraform {args:?}:\n{printed}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Both tools' plans of the configuration as it is, which must agree; returns them.
    #[track_caller]
    fn plans_agree(&self, step: &str) -> (Plan, Json, Json) {
        let infra_json: Json = serde_json::from_str(&self.infra_ok(&["plan", "--json"])).expect("Infra's plan JSON");
        self.terraform_ok(&["plan", "-input=false", "-out=tfplan"]);
        let terraform_json: Json =
            serde_json::from_str(&self.terraform_ok(&["show", "-json", "tfplan"])).expect("Terraform's plan JSON");
        let (infra, terraform) = (infra_plan(&infra_json), terraform_plan(&terraform_json));
        assert_eq!(infra, terraform, "{step}: Infra's plan (left) and Terraform's (right) differ");
        (infra, infra_json, terraform_json)
    }

    /// Runs `infra ARGS` and `terraform TERRAFORM_ARGS`, each against its own stand-in;
    /// the requests each sent must be the same multiset.
    #[track_caller]
    fn same_requests(&self, step: &str, infra_args: &[&str], terraform_args: &[&str]) -> Vec<String> {
        let (infra, terraform) = self.requests(infra_args, terraform_args);
        assert_eq!(infra, terraform, "{step}: the requests Infra (left) and Terraform (right) sent differ");
        infra
    }

    /// Runs both tools; the requests each sent, as multisets.
    fn requests(&self, infra_args: &[&str], terraform_args: &[&str]) -> (Vec<String>, Vec<String>) {
        let (infra_before, terraform_before) =
            (self.infra.standin.requests().len(), self.terraform.standin.requests().len());
        self.infra_ok(infra_args);
        self.terraform_ok(terraform_args);
        let infra = multiset(&self.infra.standin.requests()[infra_before..]);
        let terraform = multiset(&self.terraform.standin.requests()[terraform_before..]);
        (infra, terraform)
    }

    /// Both states hold the same objects with the same attributes, and both stand-ins
    /// the same folders.
    #[track_caller]
    fn states_agree(&self, step: &str) -> BTreeMap<String, Json> {
        let infra: Json = serde_json::from_str(&self.infra_ok(&["state", "pull"])).expect("Infra's state JSON");
        let terraform: Json =
            serde_json::from_str(&self.terraform_ok(&["show", "-json"])).expect("Terraform's state JSON");
        let (infra, terraform) = (infra_state(&infra), terraform_state(&terraform));
        assert_eq!(infra, terraform, "{step}: Infra's state (left) and Terraform's (right) differ");
        let folders = |standin: &workato::Standin| {
            let (status, body) = standin.api("/api/folders?page=1&per_page=100");
            assert_eq!(status, 200, "{step}: list the folders");
            serde_json::from_str::<Json>(&body).expect("the folders as JSON")
        };
        assert_eq!(
            folders(&self.infra.standin),
            folders(&self.terraform.standin),
            "{step}: the folders Infra (left) and Terraform (right) left at their stand-ins differ"
        );
        infra
    }
}

/// Requests as sorted `METHOD PATH BODY` lines.
fn multiset(requests: &[Json]) -> Vec<String> {
    let mut lines: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {} {}", r["method"].as_str().unwrap_or(""), r["path"].as_str().unwrap_or(""), r["body"]))
        .collect();
    lines.sort();
    lines
}

/// A JSON value as Infra's plan renders it.
fn rendered(value: &Json) -> String {
    match value {
        Json::String(s) => Json::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}

/// Infra's `plan --json`, with the plugin's private data left out (Terraform keeps it
/// outside the attributes).
fn infra_plan(plan: &Json) -> Plan {
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    changes
        .iter()
        .map(|change| {
            let attributes = change["attributes"].as_object().cloned().unwrap_or_default();
            let planned = attributes
                .iter()
                .filter(|(name, _)| *name != "__plugin_private")
                .filter_map(|(name, attribute)| {
                    let after = &attribute["after"];
                    let planned = match (after.get("unknown"), after.get("value")) {
                        (Some(Json::Bool(true)), _) => Planned::Unknown,
                        (_, Some(value)) if !value.is_null() => Planned::Known(rendered(value)),
                        _ => return None,
                    };
                    Some((name.clone(), planned))
                })
                .collect();
            let address = change["address"].as_str().unwrap_or_default().to_string();
            (address, (change["action"].as_str().unwrap_or_default().to_string(), planned))
        })
        .collect()
}

/// Terraform's `show -json PLANFILE`: each resource change that is not a no-op.
fn terraform_plan(plan: &Json) -> Plan {
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    changes
        .iter()
        .filter_map(|change| {
            let actions: Vec<&str> = change["change"]["actions"].as_array()?.iter().filter_map(Json::as_str).collect();
            let action = match actions[..] {
                ["no-op"] | ["read"] => return None,
                ["delete", "create"] => "replace",
                ["create", "delete"] => "create-before-destroy",
                [one] => one,
                _ => panic!("unexpected actions {actions:?}"),
            };
            let mut planned = BTreeMap::new();
            if let Some(after) = change["change"]["after"].as_object() {
                for (name, value) in after.iter().filter(|(_, v)| !v.is_null()) {
                    planned.insert(name.clone(), Planned::Known(rendered(value)));
                }
            }
            if let Some(unknown) = change["change"]["after_unknown"].as_object() {
                for (name, _) in unknown.iter().filter(|(_, v)| **v == Json::Bool(true)) {
                    planned.insert(name.clone(), Planned::Unknown);
                }
            }
            let name = change["name"].as_str().unwrap_or_default().to_string();
            Some((name, (action.to_string(), planned)))
        })
        .collect()
}

/// Infra's state: each managed object's attributes that are not null, by name.
fn infra_state(state: &Json) -> BTreeMap<String, Json> {
    let instances = state["instances"].as_array().cloned().unwrap_or_default();
    instances
        .iter()
        .filter(|i| i["mode"] == "managed")
        .map(|i| {
            let mut attributes = i["attributes"].as_object().cloned().unwrap_or_default();
            attributes.retain(|name, value| name != "__plugin_private" && !value.is_null());
            (i["address"].as_str().unwrap_or_default().to_string(), Json::Object(attributes))
        })
        .collect()
}

/// Terraform's `show -json`: each managed resource's values that are not null.
fn terraform_state(state: &Json) -> BTreeMap<String, Json> {
    let resources = state["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
    resources
        .iter()
        .filter(|r| r["mode"] == "managed")
        .map(|r| {
            let mut values = r["values"].as_object().cloned().unwrap_or_default();
            values.retain(|_, value| !value.is_null());
            (r["name"].as_str().unwrap_or_default().to_string(), Json::Object(values))
        })
        .collect()
}

fn id_of(state: &BTreeMap<String, Json>, name: &str) -> String {
    state[name]["id"].as_str().unwrap_or_else(|| panic!("`{name}` has no id in {state:?}")).to_string()
}

fn module_log(dir: &Path) -> PathBuf {
    dir.join(".infra/plugins/logs/workato.log")
}

#[test]
fn infra_and_terraform_agree_on_the_workato_plugin() {
    let oracle = Oracle::start();

    // A fresh plan: two creates, the child's parent unknown until the parent exists.
    let (plan, _, _) = oracle.plans_agree("the first plan");
    assert_eq!(plan["child"].1["folder_id"], Planned::Unknown, "{plan:?}");
    assert_eq!(plan["parent"].1["id"], Planned::Unknown, "{plan:?}");

    // Apply: the same requests, the same folders, the same states.
    let sent = oracle.same_requests("apply", &["apply", "--auto-approve"], &["apply", "-auto-approve", "-input=false"]);
    assert_eq!(sent.iter().filter(|r| r.starts_with("POST /api/folders ")).count(), 2, "{sent:#?}");
    let state = oracle.states_agree("after apply");
    let parent_id = id_of(&state, "parent");
    assert_eq!(state["child"]["folder_id"].to_string(), parent_id, "the child is in its parent: {state:?}");
    let (plan, _, _) = oracle.plans_agree("the plan after apply");
    assert!(plan.is_empty(), "nothing to change: {plan:?}");

    // A new name is an update in place for both.
    oracle.write(&[("parent", "reports-2", "101"), ("child", "monthly", "tonumber(@parent.id)")]);
    let (plan, _, _) = oracle.plans_agree("a rename");
    assert_eq!(plan["parent"].0, "update", "{plan:?}");
    oracle.same_requests("rename", &["apply", "--auto-approve"], &["apply", "-auto-approve", "-input=false"]);
    oracle.states_agree("after the rename");

    // Drift: the same rename at both stand-ins. Both tools report it, and neither plans
    // to put the name back: the plugin plans the name the folder has now, as its
    // `applied_name` still matches the configuration.
    for side in [&oracle.infra, &oracle.terraform] {
        side.standin.control("POST", "rename", &format!(r#"{{"id": {parent_id}, "name": "renamed"}}"#));
    }
    let (plan, _, terraform_json) = oracle.plans_agree("after a rename at the stand-in");
    assert!(plan.is_empty(), "{plan:?}");
    let drift = terraform_json["resource_drift"].as_array().cloned().unwrap_or_default();
    assert_eq!(drift.len(), 1, "Terraform reports the drift: {terraform_json:#}");
    assert_eq!((&drift[0]["name"], &drift[0]["change"]["after"]["name"]), (&"parent".into(), &"renamed".into()));
    let printed = oracle.infra_ok(&["plan"]);
    assert!(printed.contains("parent has changed outside of Infra"), "Infra reports the drift: {printed}");
    assert!(printed.contains("\"reports-2\" -> \"renamed\""), "{printed}");
    oracle.same_requests("refresh", &["apply", "--auto-approve"], &["apply", "-auto-approve", "-input=false"]);
    let state = oracle.states_agree("after the refresh");
    assert_eq!(state["parent"]["name"], "renamed", "{state:?}");

    // Import: both forget the child and import it by its id, to the same state and
    // the same next plan.
    let child_id = id_of(&oracle.states_agree("before import"), "child");
    oracle.infra_ok(&["state", "rm", "child"]);
    oracle.terraform_ok(&["state", "rm", "workato_folder.child"]);
    let (infra, terraform) = oracle
        .requests(&["import", "child", &child_id], &["import", "-input=false", "workato_folder.child", &child_id]);
    // Both tools only import and read: `infra import` plans no change.
    assert_eq!(infra, terraform, "import: Infra's requests (left) and Terraform's");
    oracle.states_agree("after import");
    oracle.plans_agree("the plan after import");

    // Delete: the same requests, and both stand-ins are left with no folder. Infra's
    // destroy deletes what the state records without reading it first, as Terraform's
    // does with `-refresh=false`.
    oracle.same_requests(
        "destroy",
        &["destroy", "--auto-approve"],
        &["destroy", "-auto-approve", "-input=false", "-refresh=false"],
    );
    let state = oracle.states_agree("after destroy");
    assert!(state.is_empty(), "{state:?}");
    assert!(module_log(oracle.infra.dir.path()).exists(), "the plugin logged beside the module");
}
