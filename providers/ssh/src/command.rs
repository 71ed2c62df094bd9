//! `ssh.command`: shell commands run on the server when the resource is created,
//! updated in place or deleted, like `exec.command` but remote; `read`, a command whose
//! output is the drift signal, is run on every refresh.

use std::time::Duration;

use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::Schema;
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::connection::Output;
use crate::shell::{self, quote};
use crate::{failed, unique_id, with_fingerprint, Ssh};

/// The attributes whose change runs the `update` command; a new `destroy` command or
/// `timeout` is only remembered, and `triggers` replace the resource.
const UPDATE_ON: [&str; 5] = ["create", "update", "environment", "working_dir", "creates"];
const OUTPUTS: [&str; 3] = ["stdout", "stderr", "exit_code"];

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    if let Some(environment) = attribute(config, "environment").as_map() {
        for name in environment.keys() {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                errors.push(
                    ProviderError::new(format!("`{name}` is not an environment variable name"))
                        .on_attribute("environment")
                        .with_help("names are letters, digits and `_`, not starting with a digit"),
                );
            }
        }
    }
    errors
}

fn runs_update(prior: &Attributes, planned: &Attributes) -> bool {
    !attribute(planned, "update").is_null()
        && UPDATE_ON.iter().any(|name| !attribute(prior, name).equals(attribute(planned, name)))
}

/// Whether an update restores what `read` found changed: the planner made `read_output`
/// unknown though neither the commands nor `read` itself changed (a refresh read
/// another output than the last apply recorded).
fn restores(prior: &Attributes, planned: &Attributes) -> bool {
    !attribute(planned, "read").is_null()
        && !attribute(planned, "read_output").is_known()
        && attribute(prior, "read").equals(attribute(planned, "read"))
        && !runs_update(prior, planned)
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> Attributes {
    let mut planned = plan_attributes(schema, prior, config, &[]);
    let Some(prior) = prior else { return planned };
    let update = runs_update(prior, &planned);
    if update {
        for name in OUTPUTS {
            let ty = if name == "exit_code" { Type::Number } else { Type::String };
            planned.insert(name.to_string(), Value::unknown(ty));
        }
    }
    if attribute(&planned, "read").is_null() {
        planned.insert("read_output".to_string(), Value::null());
    } else if update || !attribute(prior, "read").equals(attribute(&planned, "read")) {
        planned.insert("read_output".to_string(), Value::unknown(Type::String));
    }
    planned
}

/// The script for the command in attribute `name`: the working directory, the
/// environment, and for `create` the `creates` check, before the command itself.
fn script(name: &str, attributes: &Attributes) -> Option<String> {
    let command = attribute(attributes, name).as_str()?;
    let mut script = String::new();
    if let Some(dir) = attribute(attributes, "working_dir").as_str() {
        script.push_str(&format!("cd -- {} || exit 1\n", quote(dir)));
    }
    if let Some(environment) = attribute(attributes, "environment").as_map() {
        for (key, value) in environment {
            let value = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
            script.push_str(&format!("export {key}={}\n", quote(&value)));
        }
    }
    if name == "create" {
        if let Some(creates) = attribute(attributes, "creates").as_str() {
            script.push_str(&format!("if [ -e {} ]; then exit 0; fi\n", quote(creates)));
        }
    }
    script.push_str(command);
    script.push('\n');
    Some(script)
}

fn timeout(attributes: &Attributes) -> ProviderResult<Option<Duration>> {
    let Some(text) = attribute(attributes, "timeout").as_str() else { return Ok(None) };
    parse_duration(text)
        .map(Some)
        .map_err(|message| ProviderError::new(format!("`timeout`: {message}")).on_attribute("timeout"))
}

/// Runs the command in attribute `name`; its output, or an error quoting the end of its
/// standard error (never the command, which may hold a secret).
async fn run(ssh: &Ssh, name: &str, attributes: &Attributes) -> ProviderResult<Option<(Output, String)>> {
    let Some(script) = script(name, attributes) else { return Ok(None) };
    let limit = timeout(attributes)?;
    let connection = ssh.connect(Some(attributes)).await?;
    let output = connection.run(&script, None, limit).await?;
    if matches!(output.exit_code, Some(shell::TIMED_OUT) | Some(shell::KILLED)) && limit.is_some() {
        let seconds = limit.map(|l| l.as_secs()).unwrap_or_default();
        return Err(ProviderError::new(format!(
            "the `{name}` command did not finish within {seconds}s and was stopped"
        ))
        .on_attribute("timeout")
        .with_help("raise `timeout`, or make the command finish sooner"));
    }
    if !output.succeeded() {
        let error = failed(&format!("the `{name}` command"), &output).on_attribute(name);
        return Err(match name {
            "read" => error.with_help(
                "`read` prints what it checks and exits 0; end it with `|| true` when a failing check is itself the drift",
            ),
            _ => error,
        });
    }
    Ok(Some((output, connection.fingerprint.clone())))
}

fn set_outputs(attributes: &mut Attributes, output: &Output) {
    attributes.insert("stdout".to_string(), Value::string(output.stdout_text()));
    attributes.insert("stderr".to_string(), Value::string(output.stderr_text()));
    attributes.insert("exit_code".to_string(), Value::number(f64::from(output.exit_code.unwrap_or_default())));
}

/// Runs `create`, then `read`. Once `create` succeeded the command has done its work:
/// `progress` is told so, and the engine records the resource even when `read` then
/// fails, so the next apply does not run `create` a second time and a destroy runs
/// `destroy`.
pub async fn create(ssh: &Ssh, planned: &Attributes, progress: &CreateProgress) -> ProviderResult<Attributes> {
    let mut created = planned.clone();
    created.insert("id".to_string(), Value::string(unique_id()));
    if let Some((output, fingerprint)) = run(ssh, "create", planned).await? {
        set_outputs(&mut created, &output);
        created.insert(crate::FINGERPRINT.to_string(), Value::string(fingerprint));
    }
    progress.exists(created.clone());
    record_read(ssh, &mut created).await?;
    Ok(created)
}

/// Runs `read`, when there is one, and records its output in `read_output`.
async fn record_read(ssh: &Ssh, attributes: &mut Attributes) -> ProviderResult<()> {
    let output = match run(ssh, "read", attributes).await? {
        Some((output, _)) => Value::string(output.stdout_text()),
        None => Value::null(),
    };
    attributes.insert("read_output".to_string(), output);
    Ok(())
}

/// A command leaves nothing to read back but what `read` prints: the resource is as
/// recorded, once the host key is checked, with the output `read` gives now.
pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let connection = ssh.connect(Some(current)).await?;
    let mut now = with_fingerprint(current.clone(), &connection);
    if !attribute(current, "read").is_null() {
        record_read(ssh, &mut now).await?;
    }
    Ok(Some(now))
}

pub async fn update(ssh: &Ssh, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let mut updated = planned.clone();
    let restore = restores(prior, planned);
    // Drift is restored by `update`, or by `create` again when there is none.
    let command = match attribute(planned, "update").is_null() {
        false if runs_update(prior, planned) || restore => Some("update"),
        true if restore => Some("create"),
        _ => None,
    };
    match command {
        Some(command) => {
            if let Some((output, fingerprint)) = run(ssh, command, planned).await? {
                set_outputs(&mut updated, &output);
                updated.insert(crate::FINGERPRINT.to_string(), Value::string(fingerprint));
            }
        }
        None => {
            for name in OUTPUTS.into_iter().chain([crate::FINGERPRINT]) {
                updated.insert(name.to_string(), attribute(prior, name).clone());
            }
        }
    }
    if !attribute(&updated, "read_output").is_known() || attribute(&updated, "read").is_null() {
        record_read(ssh, &mut updated).await?;
    }
    Ok(updated)
}

pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    run(ssh, "destroy", current).await.map(drop)
}
