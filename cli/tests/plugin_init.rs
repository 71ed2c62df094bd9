//! `infra init` end to end with the real terraform-provider-workato 0.16.0 in a filesystem
//! mirror (`support/workato.rs`): what it installs and prints, the lock file with
//! Terraform's hash, the schema it learns from the plugin, a second run, a declaration
//! the lock refuses, and the shared cache.

mod common;
#[path = "support/workato.rs"]
mod workato;

use common::{command, fails, ok, text, write_module};

const MODULE: &str = r#"plugin workato {
  source  = "local/workato"
  version = "0.16.0"
}

provider workato {
  base_url = "https://127.0.0.1:8443"
}
"#;

#[test]
fn init_installs_from_a_mirror_and_locks_terraforms_hash() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), MODULE);
    let mirror_arg = mirror.to_str().unwrap();

    // The configuration does not check yet (its provider's schema is unknown); `init`
    // does not need it to.
    let printed = ok(module.path(), &["init", "--plugin-dir", mirror_arg]);
    assert!(
        printed.contains(&format!(
            "- workato: registry.terraform.io/local/workato 0.16.0 (from the mirror at {mirror_arg})"
        )),
        "{printed}"
    );
    assert!(printed.contains("- workato: schema learned over plugin protocol 6"), "{printed}");
    assert!(printed.contains("1 plugin installed and locked in .infra.lock"), "{printed}");
    assert!(module.path().join(".infra/plugins/schemas.json").is_file());
    let plugin = module.path().join(
        ".infra/plugins/registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0",
    );
    assert!(plugin.is_file());
    let lock = std::fs::read_to_string(module.path().join(".infra.lock")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let locked = &lock["plugins"]["registry.terraform.io/local/workato"];
    assert_eq!(locked["version"], "0.16.0");
    assert_eq!(locked["hashes"]["linux_amd64"], workato::TERRAFORM_H1_LINUX_AMD64);

    // Again: verified, not copied, and the lock file is unchanged.
    let before = std::fs::read_to_string(module.path().join(".infra.lock")).unwrap();
    let printed = ok(module.path(), &["init", "--plugin-dir", mirror_arg]);
    assert!(printed.contains("- workato: registry.terraform.io/local/workato 0.16.0 (already installed)"), "{printed}");
    assert_eq!(std::fs::read_to_string(module.path().join(".infra.lock")).unwrap(), before);

    // The schema was learned from the plugin the first time and kept; `check` reads it.
    assert!(printed.contains("- workato: schema already cached (plugin protocol 6)"), "{printed}");
    let printed = fails(module.path(), &["check"]);
    assert!(printed.contains("provider `workato` is missing required attribute `api_key`"), "{printed}");
}

#[test]
fn a_declaration_the_lock_refuses_stops_init_until_upgrade() {
    let mirror = workato::mirror();
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), MODULE);
    let mirror_arg = mirror.to_str().unwrap();
    ok(module.path(), &["init", "--plugin-dir", mirror_arg]);

    write_module(module.path(), &MODULE.replace("\"0.16.0\"", "\"~> 0.17\""));
    let printed = fails(module.path(), &["init", "--plugin-dir", mirror_arg]);
    assert!(printed.contains("E0912"), "{printed}");
    assert!(printed.contains("selects registry.terraform.io/local/workato 0.16.0"), "{printed}");
    assert!(printed.contains("main.infra:1:1"), "points at the declaration: {printed}");
    assert!(printed.contains("infra init --upgrade"), "{printed}");

    // `--upgrade` looks for a newer version, and the mirror has none.
    let printed = fails(module.path(), &["init", "--upgrade", "--plugin-dir", mirror_arg]);
    assert!(printed.contains("E0910") && printed.contains("versions found: 0.16.0"), "{printed}");
}

#[test]
fn a_shared_cache_serves_a_second_module_without_a_mirror() {
    let mirror = workato::mirror();
    let cache = tempfile::tempdir().unwrap();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    write_module(first.path(), MODULE);
    write_module(second.path(), MODULE);
    let run = |dir: &std::path::Path, args: &[&str]| {
        command(dir, args).env("INFRA_PLUGIN_CACHE_DIR", cache.path()).output().expect("infra runs")
    };
    let output = run(first.path(), &["init", "--plugin-dir", mirror.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let output = run(second.path(), &["init"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("0.16.0 (from the plugin cache)"), "{}", text(&output));
    let installed = second.path().join(".infra/plugins/registry.terraform.io/local/workato/0.16.0/linux_amd64");
    assert!(installed.is_symlink());
}

#[test]
fn init_without_a_source_says_how_to_give_one() {
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), MODULE);
    let output = command(module.path(), &["init"]).env_remove("INFRA_PLUGIN_CACHE_DIR").output().expect("infra runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("E0910") && text(&output).contains("--plugin-dir"), "{}", text(&output));
    assert!(!module.path().join(".infra.lock").exists());
}

#[test]
fn init_stops_on_an_invalid_declaration_and_nothing_else() {
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), "plugin workato { source = \"local//workato\" }\n");
    let printed = fails(module.path(), &["init"]);
    assert!(printed.contains("E0901") && printed.contains("no empty parts"), "{printed}");

    write_module(module.path(), "let unused = 1\n");
    let printed = ok(module.path(), &["init"]);
    assert!(printed.contains("no plugins declared"), "{printed}");
}
