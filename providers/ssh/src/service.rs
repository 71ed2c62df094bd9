//! `ssh.service`: a systemd service, enabled or not, running or not, and restarted or
//! reloaded when a value it watches changes (`restart_on`, `reload_on`: typically the
//! `sha256` of its configuration files).
//!
//! A restart or reload is an update of the resource: the plan shows the watched list
//! changing and the counter `restarts` or `reloads` going up by one, so a plan says
//! what the apply will do to the running service. Reads of all services of a host are
//! one command (`batch.rs`); drift is what `systemctl` reports, the unit file state for
//! `enabled` and the active state for `running`.

use infra_compiler::schema::Schema;
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::connection::Connection;
use crate::shell::quote;
use crate::{failed, with_fingerprint, Ssh};

/// The exit status of the apply script when systemd has no such unit.
const NOT_FOUND: u32 = 20;
/// The exit status of the apply script when `enabled = false` cannot be met.
const CANNOT_DISABLE: u32 = 21;
/// The exit status of every script here when the server does not run systemd.
const NO_SYSTEMD: u32 = 22;

/// The check every script starts with: `systemctl` installed is not enough, systemd
/// must be what booted the server (`sd_booted`'s test), else every `systemctl` call
/// fails with "System has not been booted with systemd".
fn systemd_check() -> String {
    format!("if ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then exit {NO_SYSTEMD}; fi\n")
}

fn no_systemd(name: &str) -> ProviderError {
    ProviderError::new(format!("the server does not run systemd, so `ssh.service` cannot manage `{name}`"))
        .on_attribute("name")
        .with_help(
            "`ssh.service` manages systemd units; on a server booted with another init (or a container without \
             one), start the service with `ssh.command`",
        )
}

/// What systemd says of a unit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unit {
    pub load_state: String,
    pub active_state: String,
    pub unit_file_state: String,
}

impl Unit {
    fn exists(&self) -> bool {
        !self.load_state.is_empty() && self.load_state != "not-found"
    }

    /// Started at boot or by what needs it: a static unit (no `[Install]` section) is
    /// started by what needs it and cannot be disabled.
    fn enabled(&self) -> bool {
        matches!(
            self.unit_file_state.as_str(),
            "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
        )
    }

    fn running(&self) -> bool {
        matches!(self.active_state.as_str(), "active" | "reloading" | "activating")
    }
}

/// The restart or reload an update does, when a watched list changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Restart,
    Reload,
}

/// Whether the list `name` changed from `prior` to `planned`: `None` while the planned
/// one is not wholly known. A list set where there was none (a service just imported,
/// or a watch just added) starts the watch and changes nothing.
fn changed(name: &str, prior: &Attributes, planned: &Attributes) -> Option<bool> {
    let (before, after) = (attribute(prior, name), attribute(planned, name));
    if before.is_null() {
        return Some(false);
    }
    after.is_wholly_known().then(|| !before.equals(after))
}

/// What an update from `prior` to `planned` does to the running service: a restart
/// covers a reload, and a service meant to be stopped is neither.
fn action(prior: &Attributes, planned: &Attributes) -> Option<Option<Action>> {
    if attribute(planned, "running").as_bool() == Some(false) {
        return Some(None);
    }
    match (changed("restart_on", prior, planned)?, changed("reload_on", prior, planned)?) {
        (true, _) => Some(Some(Action::Restart)),
        (false, true) => Some(Some(Action::Reload)),
        (false, false) => Some(None),
    }
}

fn count(attributes: &Attributes, name: &str) -> f64 {
    attribute(attributes, name).as_number().unwrap_or(0.0)
}

/// `planned` with the counter of the action `prior` to `planned` does raised by one.
fn counted(prior: &Attributes, mut planned: Attributes, action: Option<Action>) -> Attributes {
    for (name, raised) in [("restarts", Action::Restart), ("reloads", Action::Reload)] {
        let bump = if action == Some(raised) { 1.0 } else { 0.0 };
        planned.insert(name.to_string(), Value::number(count(prior, name) + bump));
    }
    planned
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    let planned = plan_attributes(schema, prior, config, &[]);
    let Some(prior) = prior else {
        let mut planned = planned;
        for name in ["restarts", "reloads"] {
            planned.insert(name.to_string(), Value::number(0.0));
        }
        return planned;
    };
    match action(prior, &planned) {
        Some(action) => counted(prior, planned, action),
        None => {
            let mut planned = planned;
            for name in ["restarts", "reloads"] {
                planned.insert(name.to_string(), Value::unknown(Type::Number));
            }
            planned
        }
    }
}

/// The script that prints `INDEX`, then `systemctl show`'s three lines, for each unit.
fn read_script(names: &[String]) -> String {
    let words: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!(
        "{}i=0\nfor u in {}; do\n  echo \"@$i\"\n  systemctl show -p LoadState,ActiveState,UnitFileState -- \"$u\"\n  i=$((i+1))\ndone\n",
        systemd_check(),
        words.join(" ")
    )
}

fn parse_read(text: &str, count: usize) -> Vec<Unit> {
    let mut units = vec![Unit::default(); count];
    let mut current: Option<usize> = None;
    for line in text.lines() {
        if let Some(index) = line.strip_prefix('@') {
            current = index.parse().ok().filter(|i| *i < count);
            continue;
        }
        let (Some(index), Some((key, value))) = (current, line.split_once('=')) else { continue };
        let unit = &mut units[index];
        match key {
            "LoadState" => unit.load_state = value.to_string(),
            "ActiveState" => unit.active_state = value.to_string(),
            "UnitFileState" => unit.unit_file_state = value.to_string(),
            _ => {}
        }
    }
    units
}

async fn read_all(connection: &Connection, names: Vec<String>) -> ProviderResult<Vec<Unit>> {
    let output = connection.run(&read_script(&names), None, None).await?;
    match output.exit_code {
        Some(0) => Ok(parse_read(&output.stdout_text(), names.len())),
        Some(NO_SYSTEMD) => Err(no_systemd(&names.join("`, `"))),
        _ => Err(failed("reading the server's services", &output)),
    }
}

/// `attributes` with `enabled` and `running` as `unit` has them.
fn with_unit(mut attributes: Attributes, unit: &Unit) -> Attributes {
    attributes.insert("enabled".to_string(), Value::bool(unit.enabled()));
    attributes.insert("running".to_string(), Value::bool(unit.running()));
    attributes
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let reader = connection.clone();
    let unit = ssh.services.get(&name, |names| async move { read_all(&reader, names).await }).await?;
    if !unit.exists() {
        return Ok(None);
    }
    Ok(Some(with_fingerprint(with_unit(current.clone(), &unit), &connection)))
}

/// The script that brings the unit to `planned`, doing `action`, and prints its state.
fn apply_script(name: &str, planned: &Attributes, action: Option<Action>) -> String {
    let mut script = format!(
        "set -e\n{}u={}\nshow() {{ systemctl show -p \"$1\" --value -- \"$u\"; }}\n\
         if [ \"$(show LoadState)\" = not-found ]; then systemctl daemon-reload; fi\n\
         if [ \"$(show LoadState)\" = not-found ]; then exit {NOT_FOUND}; fi\n\
         if [ \"$(show NeedDaemonReload)\" = yes ]; then systemctl daemon-reload; fi\n",
        systemd_check(),
        quote(name)
    );
    match attribute(planned, "enabled").as_bool() {
        Some(true) => script.push_str("systemctl enable -q -- \"$u\"\n"),
        Some(false) => script.push_str(&format!(
            "systemctl disable -q -- \"$u\"\ncase \"$(show UnitFileState)\" in static|indirect|generated|alias) exit {CANNOT_DISABLE};; esac\n"
        )),
        None => {}
    }
    let running = attribute(planned, "running").as_bool();
    script.push_str(match (running, action) {
        (Some(false), _) => "systemctl stop -- \"$u\"\n",
        (Some(true), Some(Action::Restart)) => "systemctl restart -- \"$u\"\n",
        (None, Some(Action::Restart)) => "systemctl try-restart -- \"$u\"\n",
        (Some(true), _) => "systemctl start -- \"$u\"\n",
        (None, _) => "",
    });
    if action == Some(Action::Reload) {
        script.push_str("if systemctl is-active -q -- \"$u\"; then systemctl reload -- \"$u\"; fi\n");
    }
    script.push_str("echo @0\nsystemctl show -p LoadState,ActiveState,UnitFileState -- \"$u\"\n");
    script
}

/// Brings the service to `planned`; `what` is the operation for errors ("creating").
async fn apply(ssh: &Ssh, planned: &Attributes, action: Option<Action>, what: &str) -> ProviderResult<Attributes> {
    let name = crate::name_of(planned)?;
    let connection = ssh.connect(Some(planned)).await?;
    let output = connection.run(&apply_script(&name, planned, action), None, None).await?;
    match output.exit_code {
        Some(0) => {}
        Some(NOT_FOUND) => {
            return Err(ProviderError::new(format!("systemd has no unit `{name}` on the server"))
                .on_attribute("name")
                .with_help("install the package that brings it first (`depends_on` an `ssh.package`), or write its unit file with `ssh.file`"))
        }
        Some(CANNOT_DISABLE) => {
            return Err(ProviderError::new(format!("the unit `{name}` cannot be disabled"))
                .on_attribute("enabled")
                .with_help("it has no `[Install]` section (a static unit, started by what needs it); leave `enabled` out"))
        }
        Some(NO_SYSTEMD) => return Err(no_systemd(&name)),
        _ => return Err(failed(&format!("{what} the service `{name}`"), &output).on_attribute("name")),
    }
    let unit = parse_read(&output.stdout_text(), 1).remove(0);
    let mut applied = planned.clone();
    applied.insert("id".to_string(), Value::string(name));
    // Only what is configured is brought about; the rest is recorded as it is.
    for (attribute_name, value) in [("enabled", unit.enabled()), ("running", unit.running())] {
        if attribute(planned, attribute_name).is_null() || !attribute(planned, attribute_name).is_known() {
            applied.insert(attribute_name.to_string(), Value::bool(value));
        }
    }
    Ok(with_fingerprint(applied, &connection))
}

/// Creating the resource brings the service to what is configured and, when it watches
/// anything, restarts or reloads it: the files it watches may have been written in the
/// same apply, after the package that brought the service had started it.
pub async fn create(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let watches = |name: &str| attribute(planned, name).as_list().is_some_and(|items| !items.is_empty());
    let action = if watches("restart_on") {
        Some(Action::Restart)
    } else if watches("reload_on") {
        Some(Action::Reload)
    } else {
        None
    };
    let action = action.filter(|_| attribute(planned, "running").as_bool() != Some(false));
    apply(ssh, planned, action, "creating").await
}

pub async fn update(ssh: &Ssh, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let action = action(prior, planned).unwrap_or(None);
    let applied = apply(ssh, planned, action, "changing").await?;
    Ok(counted(prior, applied, action))
}

/// Deleting the resource stops managing the service: it is left as it is (stopping
/// `ssh` or a database because a resource was removed from a configuration would be a
/// worse surprise than a service still running).
pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    ssh.connect(Some(current)).await.map(drop)
}

/// The service `id` (its unit name), enabled and running as it is.
pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let mut seed = Attributes::new();
    seed.insert("name".to_string(), Value::string(id));
    let Some(mut found) = read(ssh, &seed).await? else {
        return Err(ProviderError::new(format!("systemd has no unit `{id}` on the server")));
    };
    found.insert("id".to_string(), Value::string(id));
    for name in ["restarts", "reloads"] {
        found.insert(name.to_string(), Value::number(0.0));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(pairs: &[(&str, Value)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn a_changed_watched_list_restarts_or_reloads_unless_the_service_is_meant_to_stop() {
        let list = |items: &[&str]| Value::list(items.iter().map(|i| Value::string(*i)).collect());
        let prior = attributes(&[("restart_on", list(&["a"])), ("reload_on", list(&["b"]))]);
        let planned = |restart: &[&str], reload: &[&str], running: Value| {
            attributes(&[("restart_on", list(restart)), ("reload_on", list(reload)), ("running", running)])
        };
        assert_eq!(action(&prior, &planned(&["a"], &["b"], Value::null())), Some(None));
        assert_eq!(action(&prior, &planned(&["a"], &["c"], Value::null())), Some(Some(Action::Reload)));
        assert_eq!(action(&prior, &planned(&["z"], &["c"], Value::bool(true))), Some(Some(Action::Restart)));
        assert_eq!(action(&prior, &planned(&["z"], &["c"], Value::bool(false))), Some(None));
    }

    #[test]
    fn systemctl_show_answers_are_read_per_unit() {
        let units = parse_read("@0\nLoadState=loaded\nActiveState=active\nUnitFileState=static\n@1\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n", 2);
        assert!(units[0].exists() && units[0].enabled() && units[0].running());
        assert!(!units[1].exists());
    }
}
