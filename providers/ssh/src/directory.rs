//! `ssh.directory`: made with its parents (`mkdir -p`), given its permissions and
//! owner; deleted only when empty, unless `force_destroy`.
//!
//! A symbolic link at `path` is never followed: making the directory removes the link
//! (only the link) first, so `chmod` and `chown` never reach what it points at; a link
//! where the directory was reads as the directory gone (made again, with `adopt.rs`'
//! warning naming the link); deleting leaves a link alone; a link cannot be imported.

use infra_compiler::schema::Schema;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{warn, Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::file::path_of;
use crate::shell::quote;
use crate::stat::{format_mode, parse_mode, set_ownership, Entry};
use crate::{failed, with_fingerprint, Ssh};

/// The exit status of the delete script when the directory is not empty.
const NOT_EMPTY: u32 = 3;

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    plan_attributes(schema, prior, config, &[("mode", Value::string("0755")), ("force_destroy", Value::bool(false))])
}

/// The script that makes the directory (when missing; in place of a symbolic link) and
/// sets what is configured, then prints its permissions and owner.
fn script(path: &str, attributes: &Attributes) -> String {
    let mut script = format!(
        "set -e\np={}\nif [ -L \"$p\" ]; then rm -f -- \"$p\"; fi\nif [ -e \"$p\" ] && [ ! -d \"$p\" ]; then echo \"$p exists and is not a directory\" >&2; exit 1; fi\nmkdir -p -- \"$p\"\n",
        quote(path)
    );
    if let Some(mode) = attribute(attributes, "mode").as_str().and_then(parse_mode) {
        script.push_str(&format!("chmod {mode:o} \"$p\"\n"));
    }
    for (name, tool) in [("owner", "chown"), ("group", "chgrp")] {
        if let Some(value) = attribute(attributes, name).as_str() {
            script.push_str(&format!("{tool} {} \"$p\"\n", quote(value)));
        }
    }
    script.push_str("stat -c '%a|%U:%u|%G:%g' -- \"$p\"\n");
    script
}

pub async fn create(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let mut created = update(ssh, planned).await?;
    created.insert("id".to_string(), Value::string(path_of(planned)?));
    Ok(created)
}

pub async fn update(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let path = path_of(planned)?;
    let connection = ssh.connect(Some(planned)).await?;
    let output = connection.run(&script(&path, planned), None, None).await?;
    if !output.succeeded() {
        return Err(failed(&format!("making the directory `{path}`"), &output).on_attribute("path"));
    }
    let mut made = planned.clone();
    let line = output.stdout_text();
    if let [mode, owner, group] = line.trim().split('|').collect::<Vec<_>>()[..] {
        set_ownership(&mut made, mode, owner, group);
    }
    Ok(with_fingerprint(made, &connection))
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    match ssh.stats.entry(connection.clone(), &path).await? {
        Entry::Missing => Ok(None),
        // A link in the directory's place: the directory Infra made is gone; it is made
        // again in place of the link; the warning says so (the plan's create gives the
        // same one, see `adopt.rs`).
        Entry::Link(target) => {
            warn(crate::adopt::symbolic_link("directory", &path, &target));
            Ok(None)
        }
        Entry::Directory(facts) => {
            let mut found = current.clone();
            set_ownership(&mut found, &format_mode(facts.mode), &facts.owner, &facts.group);
            Ok(Some(with_fingerprint(found, &connection)))
        }
        Entry::File(_) | Entry::Other => Err(ProviderError::new(format!("`{path}` on the server is not a directory"))
            .on_attribute("path")
            .with_help("remove what is there, or manage a file with `ssh.file`")),
    }
}

pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let force = attribute(current, "force_destroy").as_bool().unwrap_or(false);
    let remove = if force { "rm -rf -- \"$p\"" } else { "rmdir -- \"$p\"" };
    let script = format!(
        "p={}\n[ -e \"$p\" ] && [ ! -L \"$p\" ] || exit 0\nif [ -d \"$p\" ] && [ -n \"$(ls -A -- \"$p\")\" ] && [ {} = 0 ]; then exit {NOT_EMPTY}; fi\n{remove}",
        quote(&path),
        u8::from(force)
    );
    let output = connection.run(&script, None, None).await?;
    match output.exit_code {
        Some(0) => Ok(()),
        Some(NOT_EMPTY) => {
            Err(ProviderError::new(format!("the directory `{path}` is not empty, so it was not deleted"))
                .on_attribute("path")
                .with_help("delete what is in it first, or set `force_destroy = true` to delete it with its contents"))
        }
        _ => Err(failed(&format!("deleting the directory `{path}`"), &output).on_attribute("path")),
    }
}

pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let connection = ssh.connect(None).await?;
    if let Entry::Link(target) = ssh.stats.entry(connection, id).await? {
        return Err(crate::adopt::link_not_imported("directory", id, &target));
    }
    let mut seed = Attributes::new();
    seed.insert("path".to_string(), Value::string(id));
    let Some(mut found) = read(ssh, &seed).await? else {
        return Err(ProviderError::new(format!("there is no directory `{id}` on the server")));
    };
    found.insert("id".to_string(), Value::string(id));
    found.insert("force_destroy".to_string(), Value::bool(false));
    Ok(found)
}
