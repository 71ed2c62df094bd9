//! `ssh.directory`: made with its parents (`mkdir -p`), given its permissions and
//! owner; deleted only when empty, unless `force_destroy`.
//!
//! A symbolic link at `path` is never followed: making the directory removes the link
//! (only the link) first, so `chmod` and `chown` never reach what it points at; a link
//! where the directory was reads as the directory gone (made again, with `adopt.rs`'
//! warning naming the link); deleting leaves a link alone; a link cannot be imported.
//!
//! Nor is a link put at `path` *while* the directory is made: anyone who may write in
//! its parent (not sticky) could swap it for a link to `/etc` between the `mkdir` and the
//! `chmod`, and `chmod`, `chown` and `chgrp` follow links, run as root. So the script
//! enters the directory, checks that it stands in the directory at `path` itself (not
//! somewhere a link led), and only then gives `.` its permissions and owner (see
//! `script`): a swap after the check changes nothing but a name. Deleting needs no such
//! care: `rmdir` and `rm -rf` remove a link put at `path`, never what it points at. The
//! scripts name `path` without trailing slashes (`on_server`), with which the server
//! would follow a link there.

use infra_compiler::schema::Schema;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{warn, Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::file::{ownership_refused, parent_error, path_of};
use crate::shell::{self, quote};
use crate::stat::{format_mode, keep_equal_mode, parse_mode, set_ownership, Entry};
use crate::{failed, with_fingerprint, Ssh};

/// The exit status of the delete script when the directory is not empty.
const NOT_EMPTY: u32 = 3;
/// The exit status of the make script when `path` no longer led to the directory it
/// made (or found) there: a link (or another directory) took its place meanwhile. The
/// path it led to is on standard output.
const SWAPPED: u32 = 4;
/// The exit status of the make script when something other than a directory is at
/// `path` (a symbolic link is replaced, anything else left as it is).
const NOT_A_DIRECTORY: u32 = 5;

/// `path` as the scripts name it: without trailing slashes (`/` stays `/`). A trailing
/// slash makes the server follow a symbolic link at the path: `[ -L "$p" ]` would not
/// see it, and `rm -rf -- LINK/` deletes what is in the directory it points at.
fn on_server(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if path.starts_with('/') => "/",
        trimmed => trimmed,
    }
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    let defaults = [("mode", Value::string("0755")), ("force_destroy", Value::bool(false))];
    let mut planned = plan_attributes(schema, prior, config, &defaults);
    keep_equal_mode(&mut planned, prior);
    planned
}

/// The script that makes the directory (when missing; in place of a symbolic link) and
/// sets what is configured, then prints its permissions and owner.
///
/// `chmod`, `chown` and `chgrp` follow a symbolic link, and a link may be put at `$p`
/// between the `mkdir` and them by anyone who may write in the parent. So the script
/// `cd -P`s into `$p` and checks that the physical path of where it stands is the
/// parent's physical path plus the directory's name, i.e. that it entered the directory
/// at `$p` and not one a link led to; then it works on `.`, the directory it stands in,
/// which a later swap of the name cannot change (`-h` for good measure: `.` is never a
/// link). The check runs again after the changes, so that a directory renamed away
/// meanwhile is not reported as made. (`$(cd -P . && pwd -P)`, not `pwd -P`: dash's and
/// BusyBox's `pwd -P` answer what the last `cd` found, not where the directory is now.)
/// A last component of `/`, `.` or `..` cannot be a link: it is entered as it is.
fn script(path: &str, attributes: &Attributes) -> String {
    let mut script = format!(
        "set -e\np={}\nif [ -L \"$p\" ]; then rm -f -- \"$p\"; fi\nif [ -e \"$p\" ] && [ ! -d \"$p\" ]; then exit {NOT_A_DIRECTORY}; fi\n\
         if ! mkdir -p -- \"$p\"; then q=$(dirname -- \"$p\"); {explain}; exit 1; fi\n\
         n=$(basename -- \"$p\")\n\
         case $n in /|.|..) cd -P -- \"$p\"; w=$(pwd -P) ;; *) w=$(cd -P -- \"$(dirname -- \"$p\")\" && pwd -P); w=${{w%/}}/$n; cd -P -- \"$p\" ;; esac\n\
         here() {{ h=$(cd -P . && pwd -P) && [ \"$h\" = \"$w\" ] || {{ echo \"$h\"; exit {SWAPPED}; }}; }}\nhere\n",
        quote(path),
        explain = shell::explain_parent(false),
    );
    if let Some(mode) = attribute(attributes, "mode").as_str().and_then(parse_mode) {
        script.push_str(&format!("chmod {mode:o} .\n"));
    }
    for (name, tool) in [("owner", "chown"), ("group", "chgrp")] {
        if let Some(value) = attribute(attributes, name).as_str() {
            script.push_str(&format!(
                "{tool} -h {} . || {{ echo {name}; exit {}; }}\n",
                quote(value),
                shell::OWNERSHIP_REFUSED
            ));
        }
    }
    script.push_str("here\nstat -c '%a|%U:%u|%G:%g' .\n");
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
    let output = connection.run(&script(on_server(&path), planned), None, None).await?;
    match output.exit_code {
        Some(0) => {}
        Some(SWAPPED) => return Err(swapped(&path, output.stdout_text().trim())),
        Some(NOT_A_DIRECTORY) => return Err(not_a_directory(&path)),
        Some(code @ (shell::PARENT_NOT_DIRECTORY | shell::PARENT_DENIED)) => {
            return Err(parent_error("directory", &path, code, output.stdout_text().trim()))
        }
        Some(shell::OWNERSHIP_REFUSED) => {
            let outcome = "the directory is there, without that change";
            return Err(ownership_refused(&path, outcome, planned, &output));
        }
        _ => return Err(failed(&format!("making the directory `{path}`"), &output).on_attribute("path")),
    }
    let mut made = planned.clone();
    let line = output.stdout_text();
    if let [mode, owner, group] = line.trim().split('|').collect::<Vec<_>>()[..] {
        set_ownership(&mut made, mode, owner, group);
    }
    Ok(with_fingerprint(made, &connection))
}

/// The error when something other than a directory (a file, a socket) is at `path`:
/// it is left as it is.
fn not_a_directory(path: &str) -> ProviderError {
    ProviderError::new(format!("`{path}` on the server is not a directory"))
        .on_attribute("path")
        .with_help("remove what is there, or manage a file with `ssh.file`")
}

/// The error when `path` led elsewhere (to `led_to`) once the directory was made: a link
/// was put in its place meanwhile. Nothing was changed through it.
fn swapped(path: &str, led_to: &str) -> ProviderError {
    let led = if led_to.is_empty() { String::new() } else { format!(" (it led to `{led_to}`)") };
    ProviderError::new(format!(
        "`{path}` on the server was replaced by a link while it was being made{led}; nothing was changed through it"
    ))
    .on_attribute("path")
    .with_help(format!(
        "someone else may write in the directory that holds it: look at what is there now (`ls -ld -- {}`), make \
         that directory writable only by its owner (or sticky), and apply again",
        quote(path)
    ))
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    match ssh.stats.entry(connection.clone(), on_server(&path)).await? {
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
        Entry::File(_) | Entry::Other => Err(not_a_directory(&path)),
    }
}

pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let force = attribute(current, "force_destroy").as_bool().unwrap_or(false);
    let remove = if force { "rm -rf -- \"$p\"" } else { "rmdir -- \"$p\"" };
    let script = format!(
        "p={}\n[ -e \"$p\" ] && [ ! -L \"$p\" ] || exit 0\nif [ -d \"$p\" ] && [ -n \"$(ls -A -- \"$p\")\" ] && [ {} = 0 ]; then exit {NOT_EMPTY}; fi\n{remove}",
        quote(on_server(&path)),
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
    if let Entry::Link(target) = ssh.stats.entry(connection, on_server(id)).await? {
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
