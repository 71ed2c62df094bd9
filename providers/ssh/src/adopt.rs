//! The warning a plan gives when a file, directory or package it would create is on the
//! server already: applying takes the object over, and destroying the resource deletes
//! it, though the plan says "will be created".
//!
//! A symbolic link at the path of a new `ssh.file` or `ssh.directory` gets a warning of
//! its own, naming the link's target: applying replaces the link itself (a file by a
//! rename over it, a directory after removing the link) and never writes through it. A
//! managed file or directory that a link replaced outside Infra reads as gone, with the
//! same warning (`file::read`, `directory::read`), so it is planned as a create.
//!
//! The check is best-effort: it never fails or holds up a plan. It uses the connection
//! only once its host key can be checked (see `Lazy::get_if_checkable`) and gives up
//! after a few seconds (a server that is still booting).

use std::time::Duration;

use infra_provider_kit::attribute;
use infra_runtime::provider::{warn, Attributes, ProviderError};

use crate::stat::Entry;
use crate::Ssh;

/// How long the check may take before the plan goes on without it.
const LIMIT: Duration = Duration::from_secs(5);

/// Warns when the object `planned` (a create of `kind`) exists on the server already.
pub async fn warn_if_exists(ssh: &Ssh, kind: &str, planned: &Attributes) {
    if !matches!(kind, "file" | "directory" | "package") {
        return;
    }
    if let Ok(Some(warning)) = tokio::time::timeout(LIMIT, existing(ssh, kind, planned)).await {
        warn(warning);
    }
}

async fn existing(ssh: &Ssh, kind: &str, planned: &Attributes) -> Option<ProviderError> {
    let connection = ssh.connection.get_if_checkable().await?;
    if kind == "package" {
        let name = attribute(planned, "name").as_str()?;
        let installed = crate::package::installed(ssh, &connection, name).await.ok()?;
        let version = installed.version?;
        return Some(
            ProviderError::new(format!(
                "the package `{name}` is installed on the server already ({version}): applying takes it over, and \
                 destroying the resource removes it (`apt-get remove`)"
            ))
            .on_attribute("name")
            .with_help(format!(
                "import it first to see the difference (`infra import ADDRESS {name}`), or leave the package out of \
                 the configuration to leave it alone"
            )),
        );
    }
    let path = attribute(planned, "path").as_str()?;
    let what = match (kind, ssh.stats.entry(connection, path).await.ok()?) {
        (_, Entry::Link(target)) => return Some(symbolic_link(kind, path, &target)),
        ("file", Entry::File(_)) => "applying replaces its content, and destroying the resource deletes it",
        ("directory", Entry::Directory(_)) => {
            "applying takes it over, and destroying the resource removes it (with `force_destroy`, with everything in it)"
        }
        _ => return None,
    };
    Some(
        ProviderError::new(format!("`{path}` exists on the server already: {what}"))
            .on_attribute("path")
            .with_help(format!("import it first to see the difference: `infra import ADDRESS {path}`")),
    )
}

/// The warning for an `ssh.file` or `ssh.directory` (`kind`) whose `path` is a symbolic
/// link on the server, to `target`: given when a new one is planned, and when a refresh
/// finds a managed one replaced by a link (identical, so the engine shows it once). It
/// says what creating it does, true whatever the run goes on to do (a destroy, say).
pub fn symbolic_link(kind: &str, path: &str, target: &str) -> ProviderError {
    let (what, replacement, other) = match kind {
        "directory" => ("a directory", "with an empty directory", "manage the directory the link points at"),
        _ => ("a regular file", "itself with the file", "write the file the link points at"),
    };
    let noun = if kind == "directory" { "directory" } else { "file" };
    ProviderError::new(format!(
        "`{path}` on the server is a symbolic link (to `{target}`), not {what}: creating the {noun} replaces the link \
         {replacement}, and changes nothing at `{}`",
        resolved(path, target)
    ))
    .on_attribute("path")
    .with_help(format!("Infra never writes through a link at `path`; to {other} instead, give its own path as `path`"))
}

/// Where a link at `path` to `target` points: a relative target is relative to the
/// link's directory.
fn resolved(path: &str, target: &str) -> String {
    match (target.starts_with('/'), path.rsplit_once('/')) {
        (false, Some((directory, _))) => format!("{directory}/{target}"),
        _ => target.to_string(),
    }
}

/// The error for importing `path` as an `ssh.file` or `ssh.directory` (`kind`) when it
/// is a symbolic link (to `target`) on the server.
pub fn link_not_imported(kind: &str, path: &str, target: &str) -> ProviderError {
    let what = if kind == "directory" { "a directory" } else { "a regular file" };
    ProviderError::new(format!(
        "`{path}` on the server is a symbolic link (to `{target}`), not {what}, so it cannot be imported as \
         `ssh.{kind}`"
    ))
    .with_help(format!(
        "import what the link points at by its own path; or leave the import out and apply: the plan warns that \
         applying replaces the link with {what}"
    ))
}
