//! `infra init`'s installer: versions chosen as Terraform chooses them, packages from a
//! filesystem mirror hashed as Terraform hashes them (the real workato plugin, checked
//! against the hash Terraform 1.11 locks), the lock file kept and verified, the shared
//! cache; packed mirrors of zip archives, locked with their `zh:` hash too.

#[path = "../../../cli/tests/support/plugin_packages.rs"]
mod plugin_packages;
#[path = "../../../cli/tests/support/workato.rs"]
mod workato;

use std::path::{Path, PathBuf};

use infra_compiler::check::plugin::PluginRequirement;
use infra_compiler::plugin::{SourceAddress, VersionConstraints};
use infra_compiler::{Diagnostic, FileId, Span};
use infra_provider_plugin::{init, FilesystemMirror, InitOptions, Installed, LockFile, Origin, PackageSource};

fn requirement(name: &str, source: &str, version: &str) -> PluginRequirement {
    PluginRequirement {
        name: name.to_string(),
        source: SourceAddress::parse(source).unwrap(),
        version: match version {
            "" => VersionConstraints::default(),
            _ => VersionConstraints::parse(version).unwrap(),
        },
        span: Span::new(FileId(0), 0, 0),
    }
}

struct Init<'a> {
    module: &'a Path,
    mirrors: Vec<PathBuf>,
    cache: Option<&'a Path>,
    upgrade: bool,
}

impl Init<'_> {
    fn run(&self, requirements: &[PluginRequirement]) -> Result<Vec<Installed>, Vec<Diagnostic>> {
        let sources: Vec<Box<dyn PackageSource>> = self
            .mirrors
            .iter()
            .map(|root| Box::new(FilesystemMirror { root: root.clone() }) as Box<dyn PackageSource>)
            .collect();
        let options = InitOptions {
            module_dir: self.module,
            sources: &sources,
            cache_dir: self.cache,
            upgrade: self.upgrade,
            platform: "linux_amd64",
        };
        init(requirements, &options)
    }
}

/// The codes and messages of `errors`, one a line.
fn messages(errors: &[Diagnostic]) -> String {
    errors.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>().join("\n")
}

/// A mirror of made-up plugins: `local/fake` at each of `versions`, one file each.
fn fake_mirror(dir: &Path, versions: &[&str]) {
    for version in versions {
        let package = dir.join(format!("registry.terraform.io/local/fake/{version}/linux_amd64"));
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(package.join(format!("terraform-provider-fake_v{version}")), format!("fake {version}\n"))
            .unwrap();
    }
}

#[test]
fn the_workato_mirror_installs_and_locks_terraforms_hash() {
    let module = tempfile::tempdir().unwrap();
    let init = Init { module: module.path(), mirrors: vec![workato::mirror()], cache: None, upgrade: false };
    let installed = init.run(&[requirement("workato", "local/workato", "0.16.0")]).unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!(installed[0].version.to_string(), "0.16.0");
    assert!(matches!(&installed[0].origin, Origin::Source(s) if s.starts_with("the mirror at ")), "{installed:?}");
    let plugin = module.path().join(
        ".infra/plugins/registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0",
    );
    assert!(plugin.is_file(), "{} is installed", plugin.display());

    let lock = LockFile::read(module.path()).unwrap();
    let locked = &lock.plugins["registry.terraform.io/local/workato"];
    assert_eq!(locked.version, "0.16.0");
    assert_eq!(locked.constraints, "= 0.16.0");
    assert_eq!(locked.hashes["linux_amd64"], workato::TERRAFORM_H1_LINUX_AMD64);
    // The mirror's other platforms are hashed too, so the lock verifies them elsewhere.
    let platforms: Vec<&str> = locked.hashes.keys().map(|k| k.as_str()).collect();
    assert_eq!(platforms, ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64", "windows_amd64"]);

    // A second run verifies what is installed and changes nothing.
    let text = std::fs::read_to_string(module.path().join(".infra.lock")).unwrap();
    let again = init.run(&[requirement("workato", "local/workato", "0.16.0")]).unwrap();
    assert_eq!(again[0].origin, Origin::AlreadyInstalled);
    assert_eq!(std::fs::read_to_string(module.path().join(".infra.lock")).unwrap(), text);
}

#[test]
fn the_newest_allowed_version_is_chosen_and_kept_until_upgrade() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0", "1.0.3", "2.0.0"]);
    let wanted = [requirement("fake", "local/fake", "~> 1.0")];
    let mut init =
        Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    assert_eq!(init.run(&wanted).unwrap()[0].version.to_string(), "1.0.3");

    // A newer 1.x appears: the lock keeps 1.0.3 until `--upgrade`.
    fake_mirror(mirror.path(), &["1.1.0"]);
    assert_eq!(init.run(&wanted).unwrap()[0].version.to_string(), "1.0.3");
    init.upgrade = true;
    assert_eq!(init.run(&wanted).unwrap()[0].version.to_string(), "1.1.0");
    let lock = LockFile::read(module.path()).unwrap();
    assert_eq!(lock.plugins["registry.terraform.io/local/fake"].version, "1.1.0");
}

#[test]
fn a_lock_file_naming_a_version_the_declaration_refuses_is_an_error() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0", "2.0.0"]);
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    init.run(&[requirement("fake", "local/fake", "~> 1.0")]).unwrap();
    let lock_before = std::fs::read_to_string(module.path().join(".infra.lock")).unwrap();

    let errors = init.run(&[requirement("fake", "local/fake", ">= 2.0")]).unwrap_err();
    assert_eq!(
        messages(&errors),
        "E0912: `.infra.lock` selects registry.terraform.io/local/fake 1.0.0, which this declaration does not allow"
    );
    assert!(errors[0].help.as_deref().unwrap_or("").contains("infra init --upgrade"), "{errors:?}");
    assert_eq!(std::fs::read_to_string(module.path().join(".infra.lock")).unwrap(), lock_before, "the lock is kept");
}

#[test]
fn a_package_that_changed_since_it_was_locked_is_refused_and_not_fetched_again() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0"]);
    let wanted = [requirement("fake", "local/fake", "1.0.0")];
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    init.run(&wanted).unwrap();

    // Another checkout with the same lock file, and a mirror whose package was altered.
    std::fs::copy(module.path().join(".infra.lock"), other.path().join(".infra.lock")).unwrap();
    let package =
        mirror.path().join("registry.terraform.io/local/fake/1.0.0/linux_amd64/terraform-provider-fake_v1.0.0");
    std::fs::write(&package, "altered\n").unwrap();
    let init_other = Init { module: other.path(), ..init };
    let errors = init_other.run(&wanted).unwrap_err();
    assert_eq!(
        messages(&errors),
        "E0911: the package of registry.terraform.io/local/fake 1.0.0 does not match `.infra.lock`"
    );
    assert!(!other.path().join(".infra/plugins/registry.terraform.io/local/fake/1.0.0/linux_amd64").exists());

    // The installed copy, altered, is refused the same way.
    let installed = module
        .path()
        .join(".infra/plugins/registry.terraform.io/local/fake/1.0.0/linux_amd64/terraform-provider-fake_v1.0.0");
    std::fs::write(&installed, "altered\n").unwrap();
    let errors =
        Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false }
            .run(&wanted)
            .unwrap_err();
    assert_eq!(errors[0].code, infra_provider_plugin::codes::HASH_MISMATCH);

    // `--upgrade` that chooses the same version verifies it the same way.
    let errors = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: true }
        .run(&wanted)
        .unwrap_err();
    assert_eq!(errors[0].code, infra_provider_plugin::codes::HASH_MISMATCH);
}

#[test]
fn no_matching_version_names_what_was_searched_and_found() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0", "1.2.0"]);
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    let errors = init.run(&[requirement("fake", "local/fake", ">= 2.0")]).unwrap_err();
    assert_eq!(messages(&errors), "E0910: no version of registry.terraform.io/local/fake matches");
    let help = errors[0].help.clone().unwrap_or_default();
    assert!(help.contains("versions found: 1.0.0, 1.2.0"), "{help}");

    let errors = Init { mirrors: vec![], ..init }.run(&[requirement("fake", "local/fake", "")]).unwrap_err();
    assert!(errors[0].help.as_deref().unwrap_or("").contains("--plugin-dir"), "{errors:?}");
    assert!(!module.path().join(".infra.lock").exists(), "no lock file after a failure");
}

#[test]
fn a_shared_cache_is_filled_once_and_linked_from_each_module() {
    let mirror = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0"]);
    let wanted = [requirement("fake", "local/fake", "1.0.0")];
    let init = Init {
        module: first.path(),
        mirrors: vec![mirror.path().to_path_buf()],
        cache: Some(cache.path()),
        upgrade: false,
    };
    let installed = init.run(&wanted).unwrap();
    assert!(matches!(installed[0].origin, Origin::Source(_)), "{installed:?}");
    assert!(cache.path().join("registry.terraform.io/local/fake/1.0.0/linux_amd64").is_dir());
    assert!(installed[0].dir.is_symlink(), "the module links to the cache");

    // The second module needs no mirror at all.
    let installed = Init { module: second.path(), mirrors: vec![], ..init }.run(&wanted).unwrap();
    assert_eq!(installed[0].origin, Origin::Cache);
    assert_eq!(
        std::fs::read_to_string(installed[0].dir.join("terraform-provider-fake_v1.0.0")).unwrap(),
        "fake 1.0.0\n"
    );
}

#[test]
fn two_modules_declaring_one_plugin_must_both_be_satisfied() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    fake_mirror(mirror.path(), &["1.0.0", "1.5.0", "2.0.0"]);
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    let installed =
        init.run(&[requirement("fake", "local/fake", ">= 1.0"), requirement("f", "local/fake", "< 2.0")]).unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!(installed[0].version.to_string(), "1.5.0");
    assert_eq!(
        LockFile::read(module.path()).unwrap().plugins["registry.terraform.io/local/fake"].constraints,
        ">= 1.0, < 2.0"
    );
}

#[test]
fn the_workato_plugin_installs_from_a_packed_mirror_with_both_hashes() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    let archive = plugin_packages::workato_packed_mirror(mirror.path());
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    let installed = init.run(&[requirement("workato", "local/workato", "0.16.0")]).unwrap();
    let plugin = installed[0].dir.join("terraform-provider-workato_v0.16.0");
    assert!(std::os::unix::fs::PermissionsExt::mode(&plugin.metadata().unwrap().permissions()) & 0o111 != 0);

    // The unpacked package hashes as Terraform hashes it; the archive as `sha256sum` does.
    let lock = LockFile::read(module.path()).unwrap();
    let locked = &lock.plugins["registry.terraform.io/local/workato"];
    assert_eq!(locked.hashes["linux_amd64"], workato::TERRAFORM_H1_LINUX_AMD64);
    let zip_hash = format!("zh:{}", plugin_packages::sha256sum(&archive));
    assert_eq!(locked.zip_hashes["linux_amd64"], zip_hash);
    let text = std::fs::read_to_string(module.path().join(".infra.lock")).unwrap();
    assert!(text.contains(&format!("\"zip_hashes\": {{\n        \"linux_amd64\": \"{zip_hash}\"")), "{text}");
}

#[test]
fn a_packed_mirror_offers_its_versions_and_locks_every_archives_hash() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    for version in ["1.0.0", "1.2.0"] {
        plugin_packages::fake_packed(mirror.path(), version, "linux_amd64");
    }
    let other = plugin_packages::fake_packed(mirror.path(), "1.2.0", "darwin_arm64");
    std::fs::write(mirror.path().join("registry.terraform.io/local/fake/README.txt"), "not a package").unwrap();
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    let installed = init.run(&[requirement("fake", "local/fake", "~> 1.0")]).unwrap();
    assert_eq!(installed[0].version.to_string(), "1.2.0");
    assert_eq!(
        std::fs::read_to_string(installed[0].dir.join("terraform-provider-fake_v1.2.0")).unwrap(),
        "fake 1.2.0\n"
    );
    let lock = LockFile::read(module.path()).unwrap();
    let locked = &lock.plugins["registry.terraform.io/local/fake"];
    let platforms: Vec<&str> = locked.zip_hashes.keys().map(|k| k.as_str()).collect();
    assert_eq!(platforms, ["darwin_arm64", "linux_amd64"]);
    assert_eq!(locked.zip_hashes["darwin_arm64"], format!("zh:{}", plugin_packages::sha256sum(&other)));
}

#[test]
fn a_lock_holding_only_the_zip_hash_verifies_a_packed_package() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    let archive = plugin_packages::fake_packed(mirror.path(), "1.0.0", "linux_amd64");
    let wanted = [requirement("fake", "local/fake", "1.0.0")];
    // A lock as a registry install on another platform writes it: only `zh:` hashes here.
    let zip_hash = format!("zh:{}", plugin_packages::sha256sum(&archive));
    let lock = format!(
        "{{\"plugins\": {{\"registry.terraform.io/local/fake\": {{\"version\": \"1.0.0\", \"constraints\": \"= 1.0.0\", \
         \"hashes\": {{\"darwin_arm64\": \"h1:x\"}}, \"zip_hashes\": {{\"linux_amd64\": \"{zip_hash}\"}}}}}}}}"
    );
    std::fs::write(module.path().join(".infra.lock"), &lock).unwrap();
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    init.run(&wanted).unwrap();
    let locked = &LockFile::read(module.path()).unwrap().plugins["registry.terraform.io/local/fake"];
    assert!(locked.hashes["linux_amd64"].starts_with("h1:"), "the h1 hash is added: {locked:?}");

    // Another archive, for the same version, is refused: neither hash matches.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join(".infra.lock"), &lock).unwrap();
    let path = plugin_packages::fake_packed(mirror.path(), "1.0.0", "linux_amd64");
    plugin_packages::write_zip(&path, &[("terraform-provider-fake_v1.0.0", b"altered\n")]);
    let errors = Init { module: other.path(), ..init }.run(&wanted).unwrap_err();
    assert_eq!(
        messages(&errors),
        "E0911: the package of registry.terraform.io/local/fake 1.0.0 does not match `.infra.lock`"
    );
    assert!(errors[0].labels[0].message.contains(&zip_hash), "{errors:?}");
    assert!(!other.path().join(".infra/plugins/registry.terraform.io/local/fake/1.0.0/linux_amd64").exists());
}

#[test]
fn a_damaged_archive_installs_nothing() {
    let mirror = tempfile::tempdir().unwrap();
    let module = tempfile::tempdir().unwrap();
    let path = plugin_packages::fake_packed(mirror.path(), "1.0.0", "linux_amd64");
    std::fs::write(&path, "not a zip").unwrap();
    let init = Init { module: module.path(), mirrors: vec![mirror.path().to_path_buf()], cache: None, upgrade: false };
    let errors = init.run(&[requirement("fake", "local/fake", "1.0.0")]).unwrap_err();
    assert_eq!(errors[0].code, infra_provider_plugin::codes::INSTALL_FAILED);
    assert!(errors[0].message.contains("not a usable zip archive"), "{errors:?}");
    assert!(!module.path().join(".infra/plugins/registry.terraform.io/local/fake/1.0.0/linux_amd64").exists());
    assert!(!module.path().join(".infra.lock").exists());
}

#[test]
fn a_lock_holding_only_the_zip_hash_installs_from_a_source_not_the_unverifiable_cache() {
    let mirror = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let archive = plugin_packages::fake_packed(mirror.path(), "1.0.0", "linux_amd64");
    let wanted = [requirement("fake", "local/fake", "1.0.0")];
    let init = Init {
        module: first.path(),
        mirrors: vec![mirror.path().to_path_buf()],
        cache: Some(cache.path()),
        upgrade: false,
    };
    init.run(&wanted).unwrap();

    // The second module's lock came from another platform: only a `zh:` for this one.
    let zip_hash = format!("zh:{}", plugin_packages::sha256sum(&archive));
    let lock = serde_json::json!({ "plugins": { "registry.terraform.io/local/fake": {
        "version": "1.0.0", "constraints": "= 1.0.0", "hashes": {}, "zip_hashes": { "linux_amd64": zip_hash } } } });
    std::fs::write(second.path().join(".infra.lock"), lock.to_string()).unwrap();
    let installed = Init { module: second.path(), ..init }.run(&wanted).unwrap();
    assert!(matches!(&installed[0].origin, Origin::Source(s) if s.starts_with("the mirror at ")), "{installed:?}");
    assert!(!installed[0].dir.is_symlink(), "not linked to the cache entry it could not verify");
}
