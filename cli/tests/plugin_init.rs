//! `infra init` end to end with the real terraform-provider-workato 0.16.0 in a filesystem
//! mirror (`support/workato.rs`): what it installs and prints, the lock file with
//! Terraform's hash, the schema it learns from the plugin, a second run, a declaration
//! the lock refuses, and the shared cache. The same package zipped, served by a network
//! mirror over HTTP and by a registry over HTTPS with a test CA (`support/plugin_servers.rs`,
//! real static servers on 127.0.0.1), with its `SHA256SUMS` signed by `gpg`; and their
//! faults: a corrupt download, a bad signature, a key the registry did not name, a lock
//! naming another version, a registry that cannot be reached.

mod common;
#[path = "support/plugin_packages.rs"]
mod plugin_packages;
#[path = "support/plugin_servers.rs"]
mod plugin_servers;
#[path = "support/workato.rs"]
mod workato;

use std::path::Path;

use common::{command, fails, ok, text, write_module};
use plugin_servers::{free_port, Gpg, RegistryFiles, StaticServer};

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
    // An empty mirror: with no mirror at all, `init` would ask the registry.
    let empty = tempfile::tempdir().unwrap();
    let output = run(second.path(), &["init", "--plugin-dir", empty.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("0.16.0 (from the plugin cache)"), "{}", text(&output));
    let installed = second.path().join(".infra/plugins/registry.terraform.io/local/workato/0.16.0/linux_amd64");
    assert!(installed.is_symlink());
}

#[test]
fn init_without_a_mirror_asks_the_registry_and_says_when_it_cannot_be_reached() {
    let module = tempfile::tempdir().unwrap();
    // A registry address on a loopback port nothing listens on.
    let port = free_port();
    write_module(module.path(), &MODULE.replace("local/workato", &format!("127.0.0.1:{port}/local/workato")));
    let output = command(module.path(), &["init"]).env_remove("INFRA_PLUGIN_CACHE_DIR").output().expect("infra runs");
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(printed.contains("E0918") && printed.contains(&format!("cannot reach 127.0.0.1:{port}")), "{printed}");
    assert!(printed.contains("--plugin-dir"), "{printed}");
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

/// The lock's entry for `address`.
fn locked(module: &Path, address: &str) -> serde_json::Value {
    let lock = std::fs::read_to_string(module.join(".infra.lock")).unwrap();
    serde_json::from_str::<serde_json::Value>(&lock).unwrap()["plugins"][address].clone()
}

fn installed_plugin(module: &Path, hostname: &str) -> std::path::PathBuf {
    module
        .join(format!(".infra/plugins/{hostname}/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0"))
}

#[test]
fn init_installs_from_a_network_mirror_and_checks_the_hashes_it_lists() {
    let packages = tempfile::tempdir().unwrap();
    let archive = plugin_packages::workato_zip(packages.path());
    let zip_hash = format!("zh:{}", plugin_packages::sha256sum(&archive));
    let served = tempfile::tempdir().unwrap();
    let hashes = vec![workato::TERRAFORM_H1_LINUX_AMD64.to_string(), zip_hash.clone()];
    let address = "registry.terraform.io/local/workato";
    plugin_servers::write_network_mirror(served.path(), address, "0.16.0", &[("linux_amd64", &archive, hashes)]);
    let server = StaticServer::http(served.path(), free_port());
    let url = format!("http://127.0.0.1:{}/", server.port);

    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), MODULE);
    let printed = ok(module.path(), &["init", "--plugin-mirror", &url]);
    assert!(printed.contains(&format!("0.16.0 (from the network mirror at {url})")), "{printed}");
    assert!(installed_plugin(module.path(), "registry.terraform.io").is_file());
    let locked = locked(module.path(), address);
    assert_eq!(locked["hashes"]["linux_amd64"], workato::TERRAFORM_H1_LINUX_AMD64);
    assert_eq!(locked["zip_hashes"]["linux_amd64"], zip_hash);

    // A mirror listing other hashes than the download has: nothing is installed.
    let other = tempfile::tempdir().unwrap();
    let wrong = vec!["zh:0000000000000000000000000000000000000000000000000000000000000000".to_string()];
    plugin_servers::write_network_mirror(served.path(), address, "0.16.0", &[("linux_amd64", &archive, wrong)]);
    write_module(other.path(), MODULE);
    let printed = fails(other.path(), &["init", "--plugin-mirror", &url]);
    assert!(printed.contains("E0916") && printed.contains("none of the hashes the mirror lists"), "{printed}");
    assert!(printed.contains(&zip_hash), "says what the download has: {printed}");
    assert!(!installed_plugin(other.path(), "registry.terraform.io").exists());
    assert!(!other.path().join(".infra.lock").exists());
}

/// A registry on 127.0.0.1 serving the workato package (and a small one for
/// `darwin_arm64`), its `SHA256SUMS` signed by `signer` and its downloads naming
/// `named`'s key.
struct TestRegistry {
    files: RegistryFiles,
    server: StaticServer,
    _served: tempfile::TempDir,
    _packages: tempfile::TempDir,
}

impl TestRegistry {
    fn start(gpg: &Gpg, signer: &str, named: &str) -> TestRegistry {
        TestRegistry::serve(gpg, signer, named, None)
    }

    /// A private registry: every request needs the bearer `token`.
    fn private(gpg: &Gpg, token: &str) -> TestRegistry {
        TestRegistry::serve(gpg, "registry@example.test", "registry@example.test", Some(token))
    }

    fn serve(gpg: &Gpg, signer: &str, named: &str, token: Option<&str>) -> TestRegistry {
        let packages = tempfile::tempdir().unwrap();
        let linux = plugin_packages::workato_zip(packages.path());
        let darwin = packages.path().join("darwin.zip");
        plugin_packages::write_zip(&darwin, &[("terraform-provider-workato_v0.16.0", b"not run here\n")]);
        let served = tempfile::tempdir().unwrap();
        let port = free_port();
        let files = RegistryFiles {
            root: served.path().to_path_buf(),
            port,
            namespace: "local".to_string(),
            type_name: "workato".to_string(),
            version: "0.16.0".to_string(),
        };
        files.write(&[("darwin_arm64", &darwin), ("linux_amd64", &linux)], gpg, signer, &gpg.public_key(named));
        let server = match token {
            Some(token) => StaticServer::https_with_token(served.path(), port, token),
            None => StaticServer::https(served.path(), port),
        };
        TestRegistry { files, server, _served: served, _packages: packages }
    }

    fn hostname(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    fn module(&self, dir: &Path, version: &str) {
        let source = format!("{}/local/workato", self.hostname());
        write_module(dir, &MODULE.replace("local/workato", &source).replace("\"0.16.0\"", &format!("\"{version}\"")));
    }

    /// `infra init` trusting the registry's test CA.
    fn init(&self, dir: &Path) -> (i32, String) {
        self.init_with(dir, &[])
    }

    /// [`init`](Self::init) with these environment variables.
    fn init_with(&self, dir: &Path, env: &[(&str, &std::ffi::OsStr)]) -> (i32, String) {
        let output = command(dir, &["init"])
            .env("SSL_CERT_FILE", self.server.ca())
            .env_remove("INFRA_PLUGIN_CACHE_DIR")
            .envs(env.iter().copied())
            .output()
            .expect("infra runs");
        (output.status.code().unwrap_or(-1), text(&output))
    }
}

fn signing_keys() -> Gpg {
    let gpg = Gpg::new();
    gpg.generate("registry@example.test");
    gpg.generate("stranger@example.test");
    gpg
}

#[test]
fn init_installs_from_a_registry_verifying_signed_checksums() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "~> 0.16");
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 0, "{printed}");
    let address = format!("{}/local/workato", registry.hostname());
    assert!(printed.contains(&format!("- workato: {address} 0.16.0 (from its registry)")), "{printed}");
    assert!(installed_plugin(module.path(), &registry.hostname()).is_file());
    assert!(printed.contains("schema learned over plugin protocol 6"), "the plugin runs: {printed}");

    // The lock has Terraform's h1: of the package, and the zh: of every archive the
    // signed SHA256SUMS lists, as `sha256sum` computes them.
    let locked = locked(module.path(), &address);
    assert_eq!(locked["version"], "0.16.0");
    assert_eq!(locked["hashes"]["linux_amd64"], workato::TERRAFORM_H1_LINUX_AMD64);
    for platform in ["darwin_arm64", "linux_amd64"] {
        let expected = format!("zh:{}", plugin_packages::sha256sum(&registry.files.archive(platform)));
        assert_eq!(locked["zip_hashes"][platform], expected.as_str(), "{platform}");
    }

    // Without network access the lock and the installed package suffice.
    drop(registry);
    let printed = ok(module.path(), &["init"]);
    assert!(printed.contains("0.16.0 (already installed)"), "{printed}");
}

/// A private registry: without a token `init` says how to give one; it takes the token
/// as Terraform does, from `TF_TOKEN_<host>` or from the file `terraform login` writes;
/// a refused token is said so; no token is ever printed.
#[test]
fn a_private_registry_takes_the_token_as_terraform_does() {
    let gpg = signing_keys();
    let registry = TestRegistry::private(&gpg, "s3cret-token");
    let home = tempfile::tempdir().unwrap();
    let home_env = ("HOME", home.path().as_os_str());
    let fresh_module = || {
        let module = tempfile::tempdir().unwrap();
        registry.module(module.path(), "0.16.0");
        module
    };

    let module = fresh_module();
    let (code, printed) = registry.init_with(module.path(), &[home_env]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("E0918") && printed.contains("401") && printed.contains("needs credentials"), "{printed}");
    assert!(printed.contains("set TF_TOKEN_127_0_0_1 to an API token"), "{printed}");
    let flat = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("`terraform login {}`", registry.hostname())), "{printed}");

    let wrong = ("TF_TOKEN_127_0_0_1", std::ffi::OsStr::new("not-the-token"));
    let (code, printed) = registry.init_with(module.path(), &[home_env, wrong]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("refused the token given for it") && !printed.contains("not-the-token"), "{printed}");

    let right = ("TF_TOKEN_127_0_0_1", std::ffi::OsStr::new("s3cret-token"));
    let (code, printed) = registry.init_with(module.path(), &[home_env, right]);
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains("s3cret-token"), "{printed}");

    // The file `terraform login` keeps, keyed by the host with its port.
    let file = home.path().join(".terraform.d/credentials.tfrc.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let credentials = serde_json::json!({ "credentials": { registry.hostname(): { "token": "s3cret-token" } } });
    std::fs::write(&file, credentials.to_string()).unwrap();
    let module = fresh_module();
    let (code, printed) = registry.init_with(module.path(), &[home_env]);
    assert_eq!(code, 0, "{printed}");
    assert!(installed_plugin(module.path(), &registry.hostname()).is_file());
}

#[test]
fn a_corrupt_registry_download_installs_nothing() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    plugin_packages::write_zip(&registry.files.archive("linux_amd64"), &[("terraform-provider-workato_v0.16.0", b"x")]);
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "0.16.0");
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("E0916") && printed.contains("not the registry's"), "{printed}");
    assert!(printed.contains("main.infra:1:1"), "points at the declaration: {printed}");
    assert!(!installed_plugin(module.path(), &registry.hostname()).exists());
    assert!(!module.path().join(".infra.lock").exists());
}

#[test]
fn altered_checksums_fail_their_signature() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    // A checksum changed after signing (to match an altered archive).
    let sums = std::fs::read_to_string(registry.files.sums()).unwrap();
    std::fs::write(registry.files.sums(), sums.replacen(|c: char| c.is_ascii_hexdigit(), "0", 1)).unwrap();
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "0.16.0");
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("E0917") && printed.contains("does not verify"), "{printed}");
    assert!(!installed_plugin(module.path(), &registry.hostname()).exists());
    assert!(!module.path().join(".infra.lock").exists());
}

#[test]
fn checksums_signed_by_a_key_the_registry_did_not_name_are_refused() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "stranger@example.test", "registry@example.test");
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "0.16.0");
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("E0917") && printed.contains("which the registry does not name"), "{printed}");
    assert!(!installed_plugin(module.path(), &registry.hostname()).exists());
}

#[test]
fn a_lock_naming_a_version_the_registry_does_not_have_installs_nothing() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), ">= 0.16.0");
    let address = format!("{}/local/workato", registry.hostname());
    let lock = serde_json::json!({ "plugins": { address.clone(): {
        "version": "0.17.0", "constraints": ">= 0.16.0", "hashes": { "linux_amd64": "h1:x" } } } });
    std::fs::write(module.path().join(".infra.lock"), lock.to_string()).unwrap();
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("E0910") && printed.contains(&format!("no package of {address} 0.17.0")), "{printed}");
    assert_eq!(
        std::fs::read_to_string(module.path().join(".infra.lock")).unwrap(),
        lock.to_string(),
        "the lock is kept"
    );
}

/// The hashes of `.terraform.lock.hcl`'s one provider.
fn terraform_lock_hashes(lock: &str) -> Vec<String> {
    let start = lock.find("hashes = [").expect("a hashes list");
    let list = &lock[start..lock[start..].find(']').unwrap() + start];
    let mut hashes: Vec<String> = list.split('"').skip(1).step_by(2).map(str::to_string).collect();
    hashes.sort();
    hashes
}

/// Terraform 1.11, installing from the same registry, locks the same hashes: the `h1:`
/// of the unpacked package and the `zh:` of each archive `SHA256SUMS` lists.
#[test]
fn a_registry_install_locks_what_terraform_locks() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "0.16.0");
    let (code, printed) = registry.init(module.path());
    assert_eq!(code, 0, "{printed}");
    let locked = locked(module.path(), &format!("{}/local/workato", registry.hostname()));
    let mut ours: Vec<String> = ["hashes", "zip_hashes"]
        .iter()
        .flat_map(|key| locked[key].as_object().unwrap().values().map(|v| v.as_str().unwrap().to_string()))
        .collect();
    ours.sort();

    let source = format!("{}/local/workato", registry.hostname());
    let lock = terraform_init(&source, "", &[("SSL_CERT_FILE", &registry.server.ca())]);
    assert_eq!(ours, terraform_lock_hashes(&lock), "{lock}");
}

/// `terraform init` of a configuration requiring `source` 0.16.0, with the CLI
/// configuration `cli_config` and `env`; the `.terraform.lock.hcl` it writes.
fn terraform_init(source: &str, cli_config: &str, env: &[(&str, &Path)]) -> String {
    let terraform = tempfile::tempdir().unwrap();
    let config = terraform.path().join("terraform.rc");
    std::fs::write(&config, cli_config).unwrap();
    let main = format!(
        "terraform {{\n  required_providers {{\n    workato = {{ source = \"{source}\", version = \"0.16.0\" }}\n  }}\n}}\n"
    );
    std::fs::write(terraform.path().join("main.tf"), main).unwrap();
    let mut command = std::process::Command::new("terraform");
    command
        .args(["init", "-no-color", "-input=false"])
        .current_dir(terraform.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", &config)
        .env_remove("TF_PLUGIN_CACHE_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("terraform runs");
    assert!(output.status.success(), "terraform init: {}", text(&output));
    std::fs::read_to_string(terraform.path().join(".terraform.lock.hcl")).unwrap()
}

/// From the same packed mirror, Terraform 1.11 locks the package's `h1:` only (its
/// filesystem mirrors vouch for no archive checksums); Infra locks the same `h1:`, and
/// the archive's `zh:` besides.
#[test]
fn a_packed_mirror_install_locks_terraforms_h1() {
    let mirror = tempfile::tempdir().unwrap();
    let archive = plugin_packages::workato_packed_mirror(mirror.path());
    let module = tempfile::tempdir().unwrap();
    write_module(module.path(), MODULE);
    ok(module.path(), &["init", "--plugin-dir", mirror.path().to_str().unwrap()]);
    let locked = locked(module.path(), "registry.terraform.io/local/workato");
    assert_eq!(locked["zip_hashes"]["linux_amd64"], format!("zh:{}", plugin_packages::sha256sum(&archive)));

    let config = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
        mirror.path().display()
    );
    let lock = terraform_init("local/workato", &config, &[]);
    assert_eq!(terraform_lock_hashes(&lock), [locked["hashes"]["linux_amd64"].as_str().unwrap()], "{lock}");
}

/// The registry's certificate is verified: without its CA in `SSL_CERT_FILE` it is not
/// trusted, and an unreadable `SSL_CERT_FILE` is an error of its own.
#[test]
fn a_registry_is_trusted_only_through_its_ca() {
    let gpg = signing_keys();
    let registry = TestRegistry::start(&gpg, "registry@example.test", "registry@example.test");
    let module = tempfile::tempdir().unwrap();
    registry.module(module.path(), "0.16.0");
    let output = command(module.path(), &["init"]).env_remove("SSL_CERT_FILE").output().expect("infra runs");
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(printed.contains("E0918") && printed.contains("UnknownIssuer"), "{printed}");

    let missing = module.path().join("no-such-ca.pem");
    let output = command(module.path(), &["init"]).env("SSL_CERT_FILE", &missing).output().expect("infra runs");
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("E0918") && printed.contains("cannot read the CA certificates SSL_CERT_FILE names"),
        "{printed}"
    );
    assert!(!module.path().join(".infra.lock").exists());
}
