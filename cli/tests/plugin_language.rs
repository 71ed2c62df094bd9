//! A plugin's kinds work as built-in ones do (issue: "exactly as built-in ones"): `for`
//! and `if` on resources, an aliased and a repeated (`for`) provider configuration, a
//! module given a configuration with `providers`, `moved`, and `lifecycle`, through the
//! real terraform-provider-workato 0.16.0 against two Workato stand-ins
//! (`tests/standins/workato.py`, over TLS with test CAs the plugin trusts through
//! `SSL_CERT_FILE`).

mod common;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{command, text, write_module};

/// The names of the folders a stand-in holds, sorted.
fn folders(standin: &workato::Standin) -> Vec<String> {
    let (status, body) = standin.api("/api/folders?page=1&per_page=100");
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).expect("a JSON list");
    let items = listed.as_array().or_else(|| listed["items"].as_array()).expect("folders").clone();
    let mut names: Vec<String> = items.iter().map(|f| f["name"].as_str().unwrap_or_default().to_string()).collect();
    names.sort();
    names
}

struct Setup {
    dir: tempfile::TempDir,
    first: workato::Standin,
    second: workato::Standin,
    /// Both stand-ins' CAs in one file, for `SSL_CERT_FILE`.
    cas: std::path::PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let (first, second) = (workato::Standin::start(), workato::Standin::start());
        let dir = tempfile::tempdir().unwrap();
        let cas = dir.path().join("cas.pem");
        let bundle = [std::fs::read(first.ca()).unwrap(), std::fs::read(second.ca()).unwrap()].concat();
        std::fs::write(&cas, bundle).unwrap();
        Setup { dir, first, second, cas }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, resources: &str) {
        let header = format!(
            r#"plugin workato {{
  source  = "local/workato"
  version = "0.16.0"
}}

provider workato {{
  base_url = "{first}"
  api_key  = "{token}"
}}

provider workato as second {{
  base_url = "{second}"
  api_key  = "{token}"
}}

provider workato as each for url in ["{second}"] {{
  base_url = url
  api_key  = "{token}"
}}

input extra: bool = true
"#,
            first = self.first.base_url(),
            second = self.second.base_url(),
            token = self.first.token,
        );
        write_module(self.root(), &format!("{header}{resources}"));
        let child = "input parent: number\n\nresource workato.folder inside {\n  name      = \"from-module\"\n  folder_id = parent\n}\n\noutput id = inside.id\n";
        std::fs::create_dir_all(self.root().join("child")).unwrap();
        write_module(&self.root().join("child"), child);
    }

    fn infra(&self, args: &[&str]) -> (i32, String) {
        let output = command(self.root(), args).env("SSL_CERT_FILE", &self.cas).output().expect("run infra");
        (output.status.code().unwrap_or(-1), text(&output))
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, printed) = self.infra(args);
        assert_eq!(code, 0, "infra {args:?}:\n{printed}");
        assert!(!printed.contains(&self.first.token), "the API key is never printed: {printed}");
        printed
    }
}

const RESOURCES: &str = r#"
resource workato.folder team for colour in ["red", "blue"] {
  name      = "team-${colour}"
  folder_id = 101
}

resource workato.folder optional if extra {
  name      = "optional"
  folder_id = 101
}

resource workato.folder elsewhere {
  name      = "elsewhere"
  folder_id = 101
  provider  = second
}

resource workato.folder looped {
  name      = "looped"
  folder_id = 101
  provider  = each["SECOND"]
  lifecycle {
    ignore_changes = [name]
  }
}

module child "./child" {
  parent    = 101
  providers = { workato = second }
}
"#;

#[test]
fn plugin_kinds_take_for_if_aliases_provider_loops_modules_moved_and_lifecycle() {
    let setup = Setup::new();
    let resources = RESOURCES.replace("SECOND", &setup.second.base_url());
    setup.write(&resources);
    common::ok(setup.root(), &["init", "--plugin-dir", workato::mirror().to_str().unwrap()]);

    let printed = setup.ok(&["apply", "--auto-approve"]);
    assert!(printed.contains("Resources: 6 added, 0 changed, 0 destroyed."), "{printed}");
    assert_eq!(folders(&setup.first), ["optional", "team-blue", "team-red"]);
    assert_eq!(folders(&setup.second), ["elsewhere", "from-module", "looped"]);
    assert!(setup.ok(&["plan"]).contains("No changes."));

    // `if` false removes its instance; `moved` renames without replacing anything.
    let renamed = resources.replace("folder team for", "folder teams for") + "\nmoved team -> teams\n";
    setup.write(&renamed);
    let (code, printed) = setup.infra(&["apply", "--auto-approve", "--var", "extra=false"]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("Resources: 0 added, 0 changed, 1 destroyed."), "{printed}");
    assert!(printed.contains("team[\"red\"]") && printed.contains("teams[\"red\"]"), "the move is shown: {printed}");
    assert_eq!(folders(&setup.first), ["team-blue", "team-red"]);

    // `ignore_changes`: a rename of `looped` in the configuration plans nothing.
    setup.write(&renamed.replace("\"looped\"", "\"looped-2\""));
    let (code, printed) = setup.infra(&["plan", "--var", "extra=false"]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("No changes."), "{printed}");

    // Destroy empties both stand-ins.
    let (code, printed) = setup.infra(&["destroy", "--auto-approve", "--var", "extra=false"]);
    assert_eq!(code, 0, "{printed}");
    assert!(folders(&setup.first).is_empty() && folders(&setup.second).is_empty(), "{printed}");
}
