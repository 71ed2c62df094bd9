//! The warning a plan gives when a file, directory or package it would create is on the
//! server already: applying takes the object over, and destroying the resource deletes
//! it, though the plan says "will be created".
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
