//! `ssh.package`: a package installed by the server's package manager, at a pinned
//! version, at whatever version is there (`present`) or at the newest (`latest`).
//!
//! The package manager is detected once per connection (`Manager`). apt is what runs
//! today; dnf and apk have their place in `Manager` and answer with an error until
//! their scripts are written. Reads of all packages of a host are one command: one
//! `dpkg-query` and one `apt-cache policy` for every package (`batch.rs`).
//!
//! Drift: a package that is no longer installed is gone (the plan creates it again); a
//! pinned package at another version shows that version in `version`; a `latest` one
//! with a newer candidate in the index shows `state = "present"`.

use std::collections::BTreeMap;
use std::time::Duration;

use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::Schema;
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::connection::Connection;
use crate::shell::quote;
use crate::{failed, with_fingerprint, Ssh};

/// The exit status of the install script when no repository has the package.
const NOT_FOUND: u32 = 20;
/// The exit status of the install script when the pinned version is not available.
const NO_SUCH_VERSION: u32 = 21;

/// The package managers the provider knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Dnf,
    Apk,
}

impl Manager {
    fn name(self) -> &'static str {
        match self {
            Manager::Apt => "apt",
            Manager::Dnf => "dnf",
            Manager::Apk => "apk",
        }
    }

    /// Only apt's scripts are written; the others are detected and refused clearly.
    fn supported(self) -> ProviderResult<Manager> {
        match self {
            Manager::Apt => Ok(self),
            Manager::Dnf | Manager::Apk => Err(ProviderError::new(format!(
                "`ssh.package` does not support {} yet; this server's package manager is {}",
                self.name(),
                self.name()
            ))
            .with_help("install the package with `ssh.command` for now")),
        }
    }
}

/// The package manager of the server behind `connection`.
pub async fn detect(connection: &Connection) -> ProviderResult<Manager> {
    let script = "for m in apt-get dnf apk; do if command -v $m >/dev/null 2>&1; then echo $m; exit 0; fi; done";
    let output = connection.run(script, None, None).await?;
    match output.stdout_text().trim() {
        "apt-get" => Ok(Manager::Apt),
        "dnf" => Ok(Manager::Dnf),
        "apk" => Ok(Manager::Apk),
        _ => Err(ProviderError::new("the server has no package manager Infra knows (apt, dnf or apk)")),
    }
}

/// What the server has of one package.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    /// The installed version; `None` when the package is not installed.
    pub version: Option<String>,
    /// The version the index offers (what `latest` means); `None` when it offers none.
    pub candidate: Option<String>,
}

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let pinned = !attribute(config, "version").is_null();
    if pinned && attribute(config, "state").as_str() == Some("latest") {
        return vec![ProviderError::new("`version` pins the package, so `state` cannot be \"latest\"")
            .on_attribute("state")
            .with_help("leave out `version` to follow the newest, or `state` to keep the pinned version")];
    }
    Vec::new()
}

/// The installed version is known at plan time when it is pinned, and when nothing
/// asks for another one (a package left at whatever version it has).
pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    let defaults =
        [("state", Value::string("present")), ("purge", Value::bool(false)), ("cache_valid", Value::string("1h"))];
    let mut planned = plan_attributes(schema, prior, config, &defaults);
    let pinned = attribute(&planned, "version").clone();
    let installed = match prior {
        _ if !pinned.is_null() => pinned,
        Some(prior) if attribute(prior, "state").equals(attribute(&planned, "state")) => {
            attribute(prior, "installed_version").clone()
        }
        _ => Value::unknown(Type::String),
    };
    planned.insert("installed_version".to_string(), installed);
    planned
}

/// The script that prints, for every package, `dpkg-query`'s `NAME<TAB>STATUS<TAB>VERSION`
/// lines, a `--` line, then `apt-cache policy`'s answer.
fn read_script(names: &[String]) -> String {
    let words: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let words = words.join(" ");
    format!(
        "dpkg-query -W -f '${{Package}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' -- {words} 2>/dev/null\necho --\n\
         LC_ALL=C apt-cache policy -- {words} 2>/dev/null\nexit 0"
    )
}

/// Parses the read script's answer: what is installed, and the candidates.
fn parse_read(text: &str) -> BTreeMap<String, Installed> {
    let mut found: BTreeMap<String, Installed> = BTreeMap::new();
    let (installed, policy) = text.split_once("\n--\n").unwrap_or((text, ""));
    for line in installed.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [name, status, version] = fields[..] {
            if status.starts_with("ii") {
                found.entry(name.to_string()).or_default().version = Some(version.to_string());
            }
        }
    }
    let mut current: Option<String> = None;
    for line in policy.lines() {
        if !line.starts_with(' ') {
            current = line.strip_suffix(':').map(|name| name.split(':').next().unwrap_or(name).to_string());
        } else if let (Some(name), Some(candidate)) = (&current, line.trim().strip_prefix("Candidate: ")) {
            if candidate != "(none)" {
                found.entry(name.clone()).or_default().candidate = Some(candidate.to_string());
            }
        }
    }
    found
}

/// What the server has of each of `names`, with one command.
async fn read_all(connection: &Connection, names: Vec<String>) -> ProviderResult<Vec<Installed>> {
    let output = crate::read_batch(connection, &read_script(&names), "packages").await?;
    let mut found = parse_read(&output);
    Ok(names.iter().map(|name| found.remove(name).unwrap_or_default()).collect())
}

pub(crate) async fn installed(
    ssh: &Ssh,
    connection: &std::sync::Arc<Connection>,
    name: &str,
) -> ProviderResult<Installed> {
    ssh.manager(connection).await?.supported()?;
    let connection = connection.clone();
    ssh.packages.get(name, |names| async move { read_all(&connection, names).await }).await
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let found = installed(ssh, &connection, &name).await?;
    let Some(version) = found.version.clone() else { return Ok(None) };
    let mut read = current.clone();
    if attribute(current, "version").as_str().is_some_and(|pinned| pinned != version) {
        read.insert("version".to_string(), Value::string(version.clone()));
    }
    let behind = found.candidate.as_ref().is_some_and(|candidate| *candidate != version);
    if attribute(current, "state").as_str() == Some("latest") && behind {
        read.insert("state".to_string(), Value::string("present"));
    }
    read.insert("installed_version".to_string(), Value::string(version));
    Ok(Some(with_fingerprint(read, &connection)))
}

/// `cache_valid` in seconds.
fn cache_valid(attributes: &Attributes) -> ProviderResult<u64> {
    let text = attribute(attributes, "cache_valid").as_str().unwrap_or("1h");
    parse_duration(text)
        .map(|d| Duration::from_secs_f64(d.as_secs_f64()).as_secs())
        .map_err(|message| ProviderError::new(format!("`cache_valid`: {message}")).on_attribute("cache_valid"))
}

/// The apt script that installs the package as `attributes` say, refreshing the index
/// first when it is older than `cache_valid` (or does not know the package), and prints
/// the installed version. It takes a lock of its own first: apt waits for the dpkg lock
/// (`DPkg::Lock::Timeout`) but not for the index's, which another Infra run's
/// `apt-get update` may hold.
fn install_script(name: &str, attributes: &Attributes) -> ProviderResult<String> {
    let n = quote(name);
    let mut script = format!(
        "set -e\nexport DEBIAN_FRONTEND=noninteractive\n\
         exec 9>/var/lib/apt/infra-lock\nif command -v flock >/dev/null; then flock 9; fi\n\
         apt='apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold'\n\
         stamp=/var/lib/apt/infra-update-stamp\nlast=0\n\
         for f in $stamp /var/lib/apt/periodic/update-success-stamp; do\n  \
           if [ -e $f ]; then t=$(stat -c %Y $f); if [ $t -gt $last ]; then last=$t; fi; fi\ndone\n\
         if [ $(( $(date +%s) - last )) -ge {} ] || ! apt-cache show -- {n} >/dev/null 2>&1; then\n  \
           $apt update >&2\n  touch $stamp\nfi\n\
         if ! apt-cache show -- {n} >/dev/null 2>&1; then exit {NOT_FOUND}; fi\n",
        cache_valid(attributes)?
    );
    let install = match (attribute(attributes, "version").as_str(), attribute(attributes, "state").as_str()) {
        (Some(version), _) => {
            let pinned = quote(&format!("{name}={version}"));
            let v = quote(version);
            script.push_str(&format!(
                "if ! apt-cache madison -- {n} | cut -d'|' -f2 | tr -d ' ' | grep -qxF -- {v}; then\n  \
                   echo \"available: $(apt-cache madison -- {n} | cut -d'|' -f2 | tr -d ' ' | tr '\\n' ' ')\" >&2\n  \
                   exit {NO_SUCH_VERSION}\nfi\n"
            ));
            format!("$apt install --allow-downgrades -- {pinned} >&2")
        }
        (None, Some("latest")) => format!("$apt install -- {n} >&2"),
        _ => format!(
            "dpkg-query -W -f '${{db:Status-Abbrev}}' -- {n} 2>/dev/null | grep -q '^ii' || $apt install -- {n} >&2"
        ),
    };
    script.push_str(&install);
    script.push_str(&format!("\ndpkg-query -W -f '${{Version}}' -- {n}\n"));
    Ok(script)
}

/// Installs (or upgrades, or changes the version of) the package `planned` describes.
pub async fn install(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let name = crate::name_of(planned)?;
    let connection = ssh.connect(Some(planned)).await?;
    ssh.manager(&connection).await?.supported()?;
    let script = install_script(&name, planned)?;
    let output = {
        let _turn = ssh.package_lock.lock().await;
        connection.run(&script, None, None).await?
    };
    match output.exit_code {
        Some(0) => {}
        Some(NOT_FOUND) => {
            return Err(ProviderError::new(format!("no repository of the server has a package `{name}`"))
                .on_attribute("name")
                .with_help("check the name (`apt-cache search` on the server), or add the repository that has it"))
        }
        Some(NO_SUCH_VERSION) => {
            let version = attribute(planned, "version").as_str().unwrap_or_default();
            let available = crate::shell::tail(&output.stderr_text());
            let available = available.lines().last().unwrap_or_default().to_string();
            return Err(ProviderError::new(format!("the package `{name}` has no version `{version}`"))
                .on_attribute("version")
                .with_help(format!("the server's repositories have {available}")));
        }
        _ => return Err(failed(&format!("installing the package `{name}`"), &output).on_attribute("name")),
    }
    let mut installed = planned.clone();
    installed.insert("id".to_string(), Value::string(name));
    installed.insert("installed_version".to_string(), Value::string(output.stdout_text().trim()));
    Ok(with_fingerprint(installed, &connection))
}

/// Removes the package (with its configuration files under `purge`); a package that is
/// not installed is already deleted.
/// The exit status of the delete script when apt would remove other packages too (it
/// prints their names).
const TAKES_OTHERS: u32 = 22;

/// Removes the package, unless apt would remove other packages with it (those that
/// depend on it): the plan said only this one would go, so that is refused, naming them.
pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    ssh.manager(&connection).await?.supported()?;
    let action = if attribute(current, "purge").as_bool() == Some(true) { "purge" } else { "remove" };
    let n = quote(&name);
    let script = format!(
        "export DEBIAN_FRONTEND=noninteractive\n\
         dpkg-query -W -f '${{db:Status-Abbrev}}' -- {n} 2>/dev/null | grep -q '^[ih]i' || exit 0\n\
         others=$(LC_ALL=C apt-get -s -q {action} -- {n} 2>/dev/null | sed -n 's/^\\(Remv\\|Purg\\) \\([^ ]*\\).*/\\2/p' \
         | grep -vxF -- {n} | tr '\\n' ' ')\n\
         if [ -n \"$others\" ]; then echo \"$others\"; exit {TAKES_OTHERS}; fi\n\
         apt-get -q -y -o DPkg::Lock::Timeout=600 {action} -- {n} >&2"
    );
    let output = {
        let _turn = ssh.package_lock.lock().await;
        connection.run(&script, None, None).await?
    };
    match output.exit_code {
        Some(0) => Ok(()),
        Some(TAKES_OTHERS) => {
            let others: Vec<String> = output.stdout_text().split_whitespace().map(|o| format!("`{o}`")).collect();
            Err(ProviderError::new(format!(
                "removing the package `{name}` would also remove {}, which depend on it; nothing was removed",
                others.join(", ")
            ))
            .on_attribute("name")
            .with_help(
                "to leave the package installed, forget the resource (`infra state rm ADDRESS`) instead of \
                 destroying it; to remove them all, manage each with an `ssh.package` and remove those first",
            ))
        }
        _ => Err(failed(&format!("removing the package `{name}`"), &output).on_attribute("name")),
    }
}

pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let mut seed = Attributes::new();
    seed.insert("name".to_string(), Value::string(id));
    let Some(mut found) = read(ssh, &seed).await? else {
        return Err(ProviderError::new(format!("the package `{id}` is not installed on the server")));
    };
    found.insert("id".to_string(), Value::string(id));
    found.insert("state".to_string(), Value::string("present"));
    found.insert("purge".to_string(), Value::bool(false));
    found.insert("cache_valid".to_string(), Value::string("1h"));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_answer_gives_installed_versions_and_candidates() {
        let text =
            "nginx\tii \t1.22.1-9\ngone\trc \t1.0\n--\nnginx:\n  Installed: 1.22.1-9\n  Candidate: 1.22.1-9+deb12u1\n\
                    gone:\n  Installed: (none)\n  Candidate: (none)\n";
        let found = parse_read(text);
        let nginx = Installed { version: Some("1.22.1-9".into()), candidate: Some("1.22.1-9+deb12u1".into()) };
        assert_eq!(found.get("nginx"), Some(&nginx));
        assert_eq!(found.get("gone"), None, "removed with its configuration kept is not installed");
    }
}
