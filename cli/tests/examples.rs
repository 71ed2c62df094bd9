//! The examples under `examples/` apply cleanly: each one that needs no outside service
//! is applied on a copy, planned again (no changes), and destroyed (nothing left). The
//! `rename` example is walked through as its README says.

use std::path::{Path, PathBuf};

mod common;

use common::ok;

/// The examples applied here; every other example needs a service and has its own test.
const LOCAL: &[&str] = &["language-tour", "local-files", "modules", "quickstart", "rename"];
/// Examples that need a service (a cloud API, a plugin to install, or a VM base image for
/// `local-vm`) and are tested elsewhere or, for `local-vm`, only checked (by `.ci/run`).
const NEEDS_SERVICE: &[&str] = &["aws-web", "digitalocean-web", "linode-web", "local-vm", "plugin-workato", "ssh-web"];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read example") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            if entry.file_name() != "out" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&examples_dir().join(name), dir.path());
    dir
}

#[test]
fn every_example_is_applied_here_or_named_as_needing_a_service() {
    let mut found: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut known: Vec<String> = LOCAL.iter().chain(NEEDS_SERVICE).map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(found, known, "add a new example to LOCAL (applied by this test) or NEEDS_SERVICE");
}

#[test]
fn local_examples_apply_replan_clean_and_destroy() {
    for name in LOCAL {
        let dir = copy_example(name);
        let dir = dir.path();
        ok(dir, &["apply", "--auto-approve"]);
        let plan = ok(dir, &["plan"]);
        assert!(plan.contains("No changes."), "{name}: the plan after apply is not empty:\n{plan}");
        assert!(!ok(dir, &["state", "list"]).trim().is_empty(), "{name}: apply recorded nothing");
        ok(dir, &["destroy", "--auto-approve"]);
        assert_eq!(ok(dir, &["state", "list"]).trim(), "", "{name}: destroy left instances in state");
        let out = dir.join("out");
        let left: Vec<_> = walk(&out);
        assert!(left.is_empty(), "{name}: destroy left files behind: {left:?}");
    }
}

/// Files (not directories) below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .collect()
}

#[test]
fn the_modules_example_builds_one_site_per_call() {
    let dir = copy_example("modules");
    let dir = dir.path();
    // Outputs named like inputs (#18 item 11): the module's `domain` and `pages`, read by
    // the root, and the root's `sites`, planned before anything exists.
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("shop = { domain = \"shop.example.test\", pages = [\"index.html\"] }"), "{plan}");
    ok(dir, &["apply", "--auto-approve"]);
    let sites = ok(dir, &["output", "sites"]);
    assert_eq!(
        sites.trim(),
        "{ blog = { domain = \"blog.example.test\", pages = [\"index.html\", \"about.html\", \"archive.html\"] }, \
         shop = { domain = \"shop.example.test\", pages = [\"index.html\"] } }"
    );
    assert!(ok(dir, &["plan"]).contains("No changes."));
    for file in [
        "out/sites/blog/index.html",
        "out/sites/blog/about.html",
        "out/sites/blog/archive.html",
        "out/sites/shop/index.html",
        "out/internal/admin/settings.html",
    ] {
        assert!(dir.join(file).is_file(), "{file} was not written");
    }
    let state = ok(dir, &["state", "list"]);
    assert!(state.contains("site[\"blog\"].page[\"about\"]"), "{state}");
    assert!(state.contains("admin.manifest"), "{state}");
    // Without the admin site, only the admin call's objects go.
    let plan = ok(dir, &["plan", "--var", "with_admin=false"]);
    assert!(plan.contains("Plan: 0 to add, 0 to change, 5 to destroy."), "{plan}");
    ok(dir, &["apply", "--auto-approve", "--var", "with_admin=false"]);
    assert!(!dir.join("out/internal/admin/index.html").exists());
    assert!(dir.join("out/sites/shop/index.html").is_file());
}

#[test]
fn the_rename_example_moves_and_touches_nothing() {
    let dir = copy_example("rename");
    let dir = dir.path();
    let after = std::fs::read_to_string(dir.join("main.infra")).expect("main.infra");
    std::fs::copy(dir.join("before.infra.txt"), dir.join("main.infra")).expect("before");
    ok(dir, &["apply", "--auto-approve"]);
    let readme = std::fs::read_to_string(dir.join("out/README.txt")).expect("README written");
    let motd = std::fs::read_to_string(dir.join("out/motd/web1.txt")).expect("motd written");

    std::fs::write(dir.join("main.infra"), after).expect("after");
    let plan = ok(dir, &["plan"]);
    assert!(plan.contains("Plan: 0 to add, 0 to change, 0 to destroy, 6 to move."), "{plan}");
    for line in [
        "# suffix has moved to build",
        "# motd[\"web1\"] has moved to banner[\"web1\"]",
        "# page[0] has moved to page[\"home\"]",
        "# readme has moved to docs.readme",
    ] {
        assert!(plan.contains(line), "missing `{line}`:\n{plan}");
    }
    ok(dir, &["apply", "--auto-approve"]);
    let state = ok(dir, &["state", "list"]);
    assert_eq!(
        state.lines().collect::<Vec<_>>(),
        ["banner[\"web1\"]", "banner[\"web2\"]", "build", "docs.readme", "page[\"about\"]", "page[\"home\"]"]
    );
    // The same objects: the random suffix (and so the file contents) did not change.
    assert_eq!(std::fs::read_to_string(dir.join("out/motd/web1.txt")).expect("motd"), motd);
    assert_eq!(std::fs::read_to_string(dir.join("out/README.txt")).expect("README"), readme);
    assert!(ok(dir, &["plan"]).contains("No changes."));
}
