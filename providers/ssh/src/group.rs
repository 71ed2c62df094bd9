//! `ssh.group`: a group (`groupadd`, `groupmod`, `groupdel`); its members are the
//! users whose `groups` name it. Drift comes from `getent group`, read for all groups of
//! a host with one command (`batch.rs`).

use infra_compiler::schema::Schema;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::connection::Connection;
use crate::shell::quote;
use crate::{failed, with_fingerprint, Ssh};

/// The first id of ordinary (not system) groups on Debian, Ubuntu and Fedora: an
/// imported group below it is a system group.
const FIRST_ORDINARY_ID: f64 = 1000.0;
/// The exit status of the create script when the group exists already.
const EXISTS: u32 = 20;

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    plan_attributes(schema, prior, config, &[("system", Value::bool(false))])
}

/// The script that prints, for each group, `INDEX|GID` (the gid empty when it is missing).
fn read_script(names: &[String]) -> String {
    let words: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!(
        "i=0\nfor g in {}; do\n  printf '%s|%s\\n' \"$i\" \"$(getent group -- \"$g\" | cut -d: -f3)\"\n  i=$((i+1))\ndone\n",
        words.join(" ")
    )
}

/// Each group's gid, `None` when it is missing.
async fn read_all(connection: &Connection, names: Vec<String>) -> ProviderResult<Vec<Option<f64>>> {
    let output = crate::read_batch(connection, &read_script(&names), "groups").await?;
    let mut gids = vec![None; names.len()];
    for line in output.lines() {
        let Some((index, gid)) = line.split_once('|') else { continue };
        if let (Ok(index), Ok(gid)) = (index.parse::<usize>(), gid.parse::<f64>()) {
            if let Some(slot) = gids.get_mut(index) {
                *slot = Some(gid);
            }
        }
    }
    Ok(gids)
}

async fn gid(ssh: &Ssh, connection: &std::sync::Arc<Connection>, name: &str) -> ProviderResult<Option<f64>> {
    let reader = connection.clone();
    ssh.groups.get(name, |names| async move { read_all(&reader, names).await }).await
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let Some(gid) = gid(ssh, &connection, &name).await? else { return Ok(None) };
    let mut found = current.clone();
    found.insert("gid".to_string(), Value::number(gid));
    Ok(Some(with_fingerprint(found, &connection)))
}

/// Runs `script` for the group in `attributes` (`g` is its name), then reads it back.
async fn run(ssh: &Ssh, attributes: &Attributes, script: String, what: &str) -> ProviderResult<Attributes> {
    let name = crate::name_of(attributes)?;
    let connection = ssh.connect(Some(attributes)).await?;
    let output = connection.run(&format!("set -e\ng={}\n{script}", quote(&name)), None, None).await?;
    match output.exit_code {
        Some(0) => {}
        Some(EXISTS) => {
            return Err(ProviderError::new(format!("the group `{name}` exists on the server already"))
                .on_attribute("name")
                .with_help(format!("import it: `infra import ADDRESS {name}`")))
        }
        _ => return Err(failed(&format!("{what} the group `{name}`"), &output).on_attribute("name")),
    }
    let gid = read_all(&connection, vec![name.clone()]).await?.remove(0);
    let gid = gid.ok_or_else(|| ProviderError::new(format!("the group `{name}` is not on the server after {what}")))?;
    let mut applied = attributes.clone();
    applied.insert("id".to_string(), Value::string(name));
    applied.insert("gid".to_string(), Value::number(gid));
    Ok(with_fingerprint(applied, &connection))
}

pub async fn create(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let mut options = Vec::new();
    if let Some(gid) = attribute(planned, "gid").as_number() {
        options.push(format!("-g {gid}"));
    }
    if attribute(planned, "system").as_bool() == Some(true) {
        options.push("--system".to_string());
    }
    let script = format!(
        "if getent group -- \"$g\" >/dev/null; then exit {EXISTS}; fi\ngroupadd {} -- \"$g\"\n",
        options.join(" ")
    );
    run(ssh, planned, script, "creating").await
}

pub async fn update(ssh: &Ssh, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let script = match attribute(planned, "gid").as_number() {
        Some(gid) if !attribute(prior, "gid").equals(attribute(planned, "gid")) => {
            format!("groupmod -g {gid} -- \"$g\"\n")
        }
        _ => String::new(),
    };
    run(ssh, planned, script, "changing").await
}

pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let name = crate::name_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let script = format!("g={}\ngetent group -- \"$g\" >/dev/null || exit 0\ngroupdel -- \"$g\"", quote(&name));
    let output = connection.run(&script, None, None).await?;
    if output.succeeded() {
        Ok(())
    } else {
        Err(failed(&format!("deleting the group `{name}`"), &output)
            .on_attribute("name")
            .with_help("a group that is some user's primary group cannot be deleted before that user"))
    }
}

pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let connection = ssh.connect(None).await?;
    let Some(gid) = gid(ssh, &connection, id).await? else {
        return Err(ProviderError::new(format!("there is no group `{id}` on the server")));
    };
    let mut imported = Attributes::new();
    imported.insert("id".to_string(), Value::string(id));
    imported.insert("name".to_string(), Value::string(id));
    imported.insert("gid".to_string(), Value::number(gid));
    imported.insert("system".to_string(), Value::bool(gid < FIRST_ORDINARY_ID));
    Ok(with_fingerprint(imported, &connection))
}
