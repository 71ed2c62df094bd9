//! The data source `ssh.facts`: what the server is, gathered with one command.

use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::{failed, with_fingerprint, Ssh};

/// Prints `name=value` lines; every probe tolerates a missing tool.
const SCRIPT: &str = r#"
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=${ID:-}"
echo "os_version=${VERSION_ID:-}"
echo "arch=$(uname -m)"
echo "kernel=$(uname -r)"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 0)"
echo "memory_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo 2>/dev/null)"
if [ -d /run/systemd/system ]; then echo "init_system=systemd"
else echo "init_system=$(cat /proc/1/comm 2>/dev/null)"; fi
pm=
for tool in apt:apt-get dnf:dnf yum:yum apk:apk zypper:zypper pacman:pacman; do
  if command -v "${tool#*:}" >/dev/null 2>&1; then pm=${tool%%:*}; break; fi
done
echo "package_manager=$pm"
"#;

const NUMBERS: [&str; 2] = ["cpus", "memory_mb"];

pub async fn read(ssh: &Ssh, config: &Attributes) -> ProviderResult<Attributes> {
    let connection = ssh.connect_unrecorded().await?;
    let output = connection.run(SCRIPT, None, None).await?;
    if !output.succeeded() {
        return Err(failed("gathering facts", &output));
    }
    let mut facts = config.clone();
    for line in output.stdout_text().lines() {
        let Some((name, value)) = line.split_once('=') else { continue };
        let value = if NUMBERS.contains(&name) {
            let number = value
                .trim()
                .parse::<f64>()
                .map_err(|_| ProviderError::new(format!("the server reported `{name}` as `{value}`, not a number")))?;
            Value::number(number)
        } else {
            Value::string(value.trim())
        };
        facts.insert(name.to_string(), value);
    }
    let hostname = facts.get("hostname").cloned().unwrap_or_else(Value::null);
    facts.insert("id".to_string(), hostname);
    Ok(with_fingerprint(facts, &connection))
}
