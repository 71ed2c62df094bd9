//! The map tells the truth: `ARCHITECTURE.md` has a code map section for every crate of
//! the workspace (`## Code map: `PATH/``), and each section names every top-level module
//! of its crate (`name.rs`). A crate or module added without its line on the map fails
//! here.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The workspace's member folders, with `folder/*` globs expanded.
fn members() -> Vec<String> {
    let manifest = read(&root().join("Cargo.toml"));
    let start = manifest.find("members").expect("workspace members");
    let list = &manifest[start..];
    let list = &list[list.find('[').expect("members list") + 1..list.find(']').expect("members list end")];
    let mut members = Vec::new();
    for member in list.split(',').map(|m| m.trim().trim_matches('"')).filter(|m| !m.is_empty()) {
        match member.strip_suffix("/*") {
            Some(folder) => members.extend(subfolders(folder)),
            None => members.push(member.to_string()),
        }
    }
    members
}

fn subfolders(folder: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(root().join(folder))
        .unwrap_or_else(|e| panic!("cannot read {folder}: {e}"))
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| format!("{folder}/{}", entry.file_name().to_string_lossy()))
        .collect();
    found.sort();
    found
}

/// A crate's top-level modules: the `mod NAME;` lines of its `lib.rs` or `main.rs`.
fn modules(member: &str) -> Vec<String> {
    let src = root().join(member).join("src");
    let top = ["lib.rs", "main.rs"].iter().map(|file| src.join(file)).find(|path| path.is_file());
    let Some(top) = top else { return Vec::new() };
    read(&top)
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod ")))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(|name| format!("{name}.rs"))
        .collect()
}

/// The text of the map's section for `member`, up to the next `## ` heading.
fn section<'a>(map: &'a str, member: &str) -> Option<&'a str> {
    let heading = format!("## Code map: `{member}/`");
    let start = map.find(&heading)? + heading.len();
    let rest = &map[start..];
    Some(&rest[..rest.find("\n## ").unwrap_or(rest.len())])
}

#[test]
fn every_crate_and_top_level_module_is_on_the_map() {
    let map = read(&root().join("ARCHITECTURE.md"));
    let members = members();
    assert!(members.len() >= 4, "workspace members: {members:?}");
    let mut missing = Vec::new();
    for member in &members {
        let Some(text) = section(&map, member) else {
            missing.push(format!("a `## Code map: `{member}/`` section"));
            continue;
        };
        for module in modules(member) {
            if !text.contains(&format!("`{module}`")) && !text.contains(&format!("{module}`")) {
                missing.push(format!("`{module}` in the section for `{member}/`"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md is missing:\n  {}", missing.join("\n  "));
}
