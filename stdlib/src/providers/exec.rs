//! The `exec` provider: shell commands run on the machine that runs Infra.
//!
//! `exec.command` runs its `create` command with `sh -c` when it is created, `update` when
//! it changes in place and `destroy` when it is deleted; the data source `exec.json` runs a
//! program (no shell) that answers a JSON query, like Terraform's `external`.
//! docs/providers/exec.md is the reference for users.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::value::{format_number, Kind, Value};
use sha2::{Digest, Sha256};

use self::run::{describe_exit, resolve, stderr_tail, Invocation, Outcome};
use infra_provider_kit::{kind, provider};

mod run;

/// The exit status of a command that failed temporarily and asks to be run again
/// (`EX_TEMPFAIL` in sysexits.h): the engine retries it once.
const EX_TEMPFAIL: i32 = 75;

pub fn schema() -> ProviderSchema {
    provider(
        "exec",
        "Commands run on the machine that runs Infra, as resources or as data sources.",
        vec![("command", command())],
        vec![("json", json())],
    )
}

fn working_dir() -> AttributeSchema {
    AttributeSchema::optional(
        "working_dir",
        Type::String,
        "The directory to run in, relative to the module's directory, which is the default.",
    )
}

/// A shell command: anything but blank.
fn shell_command(attribute: AttributeSchema) -> AttributeSchema {
    attribute.validate(Validator::Regex {
        pattern: r"\S".to_string(),
        description: "a shell command, not an empty or blank string".to_string(),
    })
}

/// What a command's output is made from: a secret in any of them may be printed.
const COMMAND_INPUTS: [&str; 5] = ["create", "update", "environment", "working_dir", "triggers"];

fn command() -> Schema {
    let string_map = Type::map(Type::String);
    kind(
        "Runs a shell command on create, and optionally on update and destroy.",
        "A random identifier chosen when the resource is created.",
        vec![
            shell_command(AttributeSchema::required(
                "create",
                Type::String,
                "The shell command that creates the resource.",
            )),
            shell_command(AttributeSchema::optional(
                "destroy",
                Type::String,
                "The shell command that destroys the resource.",
            )),
            shell_command(AttributeSchema::optional(
                "update",
                Type::String,
                "The shell command to run when an attribute changes in place; none by default.",
            )),
            AttributeSchema::optional(
                "environment",
                string_map.clone(),
                "Environment variables for the commands, on top of Infra's own.",
            ),
            working_dir(),
            AttributeSchema::optional(
                "triggers",
                string_map,
                "Values that replace the resource (`destroy`, then `create`) whenever one changes.",
            )
            .force_new(),
            AttributeSchema::optional(
                "timeout",
                Type::String,
                "How long each command may run, as a duration such as \"30s\" or \"5m\"; then its process group is killed and the operation fails. No limit by default.",
            )
            .validate(Validator::Duration),
            AttributeSchema::computed("stdout", Type::String, "The standard output of the last command run.")
                .derived_from(&COMMAND_INPUTS),
            AttributeSchema::computed("exit_code", Type::Number, "The exit status of the last command run."),
        ],
    )
}

fn json() -> Schema {
    kind(
        "Runs a program that reads a JSON object on stdin and writes one on stdout.",
        "A hash of the program and query.",
        vec![
            AttributeSchema::required(
                "program",
                Type::list(Type::String),
                "The program and its arguments, run without a shell.",
            )
            .validate(Validator::Length { min: 1, max: None }),
            AttributeSchema::optional(
                "query",
                Type::map(Type::String),
                "A map of strings sent to the program as a JSON object on standard input.",
            ),
            working_dir(),
            AttributeSchema::computed(
                "result",
                Type::map(Type::String),
                "The JSON object of strings the program wrote to standard output.",
            )
            .derived_from(&["program", "query", "working_dir"]),
        ],
    )
}

/// The `exec` provider, ready to be registered with the engine.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(ExecFactory { schema: schema() })
}

struct ExecFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for ExecFactory {
    fn name(&self) -> &str {
        "exec"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, _config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        Ok(Arc::new(Exec { module_dir: context.module_dir.clone() }))
    }
}

/// The attributes of `exec.command`, which every result carries (null when unset).
const COMMAND_ATTRIBUTES: [&str; 10] =
    ["id", "create", "destroy", "update", "environment", "working_dir", "triggers", "timeout", "stdout", "exit_code"];

/// The attributes whose change runs the `update` command. A new `destroy` command or
/// `timeout` is only remembered for later, and `triggers` replace the resource instead.
const UPDATE_ON: [&str; 4] = ["create", "update", "environment", "working_dir"];

/// The configured provider: it has no settings, only the module directory that working
/// directories start from.
struct Exec {
    module_dir: PathBuf,
}

#[async_trait::async_trait]
impl Provider for Exec {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        match kind {
            "command" => validate_command(config),
            "json" => validate_json(config),
            _ => vec![unknown_kind(kind)],
        }
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        check_command(kind)?;
        let mut planned = with_every_attribute(config);
        match prior {
            None => {
                planned.insert("id", Value::unknown(Type::String));
                set_unknown_outputs(&mut planned);
            }
            Some(prior) => {
                planned.insert("id", attribute(prior, "id").clone());
                if runs_update(prior, &planned) {
                    set_unknown_outputs(&mut planned);
                } else {
                    keep_outputs(&mut planned, prior);
                }
            }
        }
        Ok(planned)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        check_command(kind)?;
        let stdout = self.run_shell("create", planned).await?;
        let mut created = with_every_attribute(planned);
        created.insert("id", Value::string(unique_id(planned)));
        set_outputs(&mut created, stdout);
        Ok(created)
    }

    /// A command leaves nothing behind to read back: the resource is as it was recorded.
    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        check_command(kind)?;
        Ok(ReadResult::Found(with_every_attribute(current)))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        check_command(kind)?;
        let mut updated = with_every_attribute(planned);
        updated.insert("id", attribute(prior, "id").clone());
        if runs_update(prior, planned) {
            let stdout = self.run_shell("update", planned).await?;
            set_outputs(&mut updated, stdout);
        } else {
            keep_outputs(&mut updated, prior);
        }
        Ok(updated)
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        check_command(kind)?;
        if attribute(current, "destroy").is_null() {
            return Ok(());
        }
        self.run_shell("destroy", current).await.map(drop)
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        if kind != "json" {
            return Err(ProviderError::new(format!("the `exec` provider has no data source `{kind}`")));
        }
        let program = strings(attribute(config, "program"), "program")?;
        let query = string_map(attribute(config, "query"), "query")?;
        let working_dir = self.working_dir(config)?;
        let result = run_json(&program, &query, working_dir).await?;
        let mut attributes = config.clone();
        attributes.insert("id", Value::string(query_hash(&program, &query)));
        attributes.insert("result", result);
        Ok(attributes)
    }
}

impl Exec {
    /// Runs the command in attribute `name` (`create`, `update` or `destroy`) with
    /// `sh -c`, in the attributes' environment and working directory; returns its
    /// standard output, or an error quoting the end of its standard error. The command's
    /// text never appears in a message, since it may hold a secret.
    async fn run_shell(&self, name: &str, attributes: &Attributes) -> ProviderResult<String> {
        let Some(script) = attribute(attributes, name).as_str() else {
            return Err(ProviderError::new(format!("`{name}` is not set")).on_attribute(name));
        };
        let working_dir = self.working_dir(attributes)?;
        let timeout = timeout(attributes)?;
        let invocation = Invocation {
            program: "sh".to_string(),
            args: vec!["-c".to_string(), script.to_string()],
            environment: string_map(attribute(attributes, "environment"), "environment")?,
            working_dir: working_dir.clone(),
            stdin: None,
            timeout: timeout.as_ref().map(|(limit, _)| *limit),
        };
        let outcome = run::run(invocation).await.map_err(|error| {
            ProviderError::new(format!("cannot run `sh`: {error}"))
                .on_attribute(name)
                .with_help("`exec.command` runs its commands with `sh -c`; a POSIX shell must be on the PATH")
        })?;
        let finished = match outcome {
            Outcome::Finished(finished) => finished,
            Outcome::TimedOut => {
                let written = timeout.map(|(_, text)| text).unwrap_or_default();
                return Err(timed_out(name, &written, &working_dir));
            }
        };
        if !finished.status.success() {
            let message = format!(
                "the `{name}` command failed with {}; {}",
                describe_exit(&finished.status),
                stderr_tail(&finished.stderr)
            );
            let error = ProviderError::new(message).on_attribute(name).with_help(failure_help(name, &working_dir));
            // Exit status 75 is `EX_TEMPFAIL` (sysexits.h): a temporary failure, worth
            // one more try.
            return Err(if finished.status.code() == Some(EX_TEMPFAIL) { error.retryable() } else { error });
        }
        Ok(String::from_utf8_lossy(&finished.stdout).into_owned())
    }

    /// The directory to run in: `working_dir` relative to the module directory, which is
    /// the default. It must exist; otherwise the failure would read as if `sh` were
    /// missing.
    fn working_dir(&self, attributes: &Attributes) -> ProviderResult<PathBuf> {
        let Some(dir) = attribute(attributes, "working_dir").as_str() else {
            return Ok(self.module_dir.clone());
        };
        let resolved = resolve(&self.module_dir, dir);
        if resolved.is_dir() {
            return Ok(resolved);
        }
        Err(ProviderError::new(format!("`working_dir` `{dir}` is not a directory"))
            .on_attribute("working_dir")
            .with_help(format!(
                "relative paths start at the module directory `{}`; the directory must exist when the command runs",
                self.module_dir.display()
            )))
    }
}

/// `timeout` when it is set: the duration, and the text it was written as.
fn timeout(attributes: &Attributes) -> ProviderResult<Option<(std::time::Duration, String)>> {
    let Some(text) = attribute(attributes, "timeout").as_str() else { return Ok(None) };
    let limit = parse_duration(text).map_err(|reason| {
        ProviderError::new(format!("`timeout` is not a duration: {reason}"))
            .on_attribute("timeout")
            .with_help("write numbers with units, such as \"30s\", \"5m\" or \"1h\"")
    })?;
    Ok(Some((limit, text.to_string())))
}

fn timed_out(name: &str, written: &str, working_dir: &std::path::Path) -> ProviderError {
    ProviderError::new(format!("the `{name}` command timed out after {written}; its process group was killed"))
        .on_attribute("timeout")
        .with_help(format!(
            "{}; raise `timeout` if the command needs longer, or find out why it hangs by running it with `sh -c` in `{}`",
            consequence(name),
            working_dir.display()
        ))
}

fn validate_command(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    for name in ["create", "update", "destroy"] {
        if attribute(config, name).as_str().is_some_and(|script| script.trim().is_empty()) {
            errors.push(
                ProviderError::new(format!("the `{name}` command is empty"))
                    .on_attribute(name)
                    .with_help("give a shell command, or leave the attribute out"),
            );
        }
    }
    if let Some(environment) = attribute(config, "environment").as_map() {
        for key in environment.keys().filter(|key| !is_variable_name(key)) {
            errors.push(
                ProviderError::new(format!("`{key}` cannot be the name of an environment variable"))
                    .on_attribute("environment")
                    .with_help("a variable's name must be non-empty, without `=` or NUL characters"),
            );
        }
    }
    errors
}

fn validate_json(config: &Attributes) -> Vec<ProviderError> {
    match attribute(config, "program").as_list() {
        Some([]) => vec![ProviderError::new("`program` is empty")
            .on_attribute("program")
            .with_help("give the program and its arguments, such as [\"python3\", \"lookup.py\"]")],
        Some([first, ..]) if first.as_str() == Some("") => {
            vec![ProviderError::new("the program's name is empty").on_attribute("program")]
        }
        _ => Vec::new(),
    }
}

/// Whether an in-place change runs the `update` command: it is set, and an attribute in
/// [`UPDATE_ON`] changed.
fn runs_update(prior: &Attributes, next: &Attributes) -> bool {
    !attribute(next, "update").is_null()
        && UPDATE_ON.iter().any(|name| !attribute(prior, name).equals(attribute(next, name)))
}

fn set_unknown_outputs(attributes: &mut Attributes) {
    attributes.insert("stdout", Value::unknown(Type::String));
    attributes.insert("exit_code", Value::unknown(Type::Number));
}

/// The outputs of the last command run, when no command runs now.
fn keep_outputs(attributes: &mut Attributes, prior: &Attributes) {
    for name in ["stdout", "exit_code"] {
        attributes.insert(name, attribute(prior, name).clone());
    }
}

/// A command that succeeded: its output, and exit code 0 (a failure is an error instead).
fn set_outputs(attributes: &mut Attributes, stdout: String) {
    attributes.insert("stdout", Value::string(stdout));
    attributes.insert("exit_code", Value::number(0.0));
}

/// What a failed command leaves behind.
fn consequence(name: &str) -> &'static str {
    match name {
        "create" => "the resource was not created",
        "update" => "the resource keeps its previous attributes",
        _ => "the resource stays in the state until its `destroy` command succeeds",
    }
}

fn failure_help(name: &str, working_dir: &std::path::Path) -> String {
    format!(
        "{}; the command ran with `sh -c` in `{}`, where it can be tried by hand",
        consequence(name),
        working_dir.display()
    )
}

/// A new resource's id: 16 hexadecimal digits, from a hash of the command, the time, the
/// process and a counter, so two resources never share one.
fn unique_id(planned: &Attributes) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(attribute(planned, "create").as_str().unwrap_or_default());
    hex::encode(&hasher.finalize()[..8])
}

/// Runs an `exec.json` program with `query` on its standard input; its standard output,
/// a JSON object of strings, is the result.
async fn run_json(program: &[String], query: &[(String, String)], working_dir: PathBuf) -> ProviderResult<Value> {
    let Some((name, args)) = program.split_first() else {
        return Err(ProviderError::new("`program` is empty").on_attribute("program"));
    };
    // A relative path such as `./lookup.sh` starts at the working directory, where the
    // program runs; a bare name is looked up on the PATH.
    let executable = if name.contains('/') { resolve(&working_dir, name) } else { PathBuf::from(name) };
    let input: serde_json::Map<String, serde_json::Value> =
        query.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    let invocation = Invocation {
        program: executable.to_string_lossy().into_owned(),
        args: args.to_vec(),
        environment: Vec::new(),
        working_dir: working_dir.clone(),
        stdin: Some(serde_json::Value::Object(input).to_string().into_bytes()),
        timeout: None,
    };
    let outcome = run::run(invocation).await.map_err(|error| {
        ProviderError::new(format!("cannot run `{name}`: {error}")).on_attribute("program").with_help(format!(
            "give a program on the PATH or its path; a relative path with a `/` starts at the working directory `{}`",
            working_dir.display()
        ))
    })?;
    // Without a timeout, a run always finishes.
    let Outcome::Finished(finished) = outcome else {
        return Err(ProviderError::new(format!("`{name}` did not finish")).on_attribute("program"));
    };
    if !finished.status.success() {
        let message =
            format!("`{name}` failed with {}; {}", describe_exit(&finished.status), stderr_tail(&finished.stderr));
        return Err(ProviderError::new(message)
            .on_attribute("program")
            .with_help("a program reports failure with a non-zero exit status and explains it on standard error"));
    }
    parse_result(name, &finished.stdout)
}

const JSON_HELP: &str = "the program must write one JSON object whose values are strings to standard output, \
                         such as {\"name\": \"web\", \"port\": \"80\"}; anything else belongs on standard error";

/// The result of an `exec.json` program: the JSON object of strings on its standard output.
fn parse_result(name: &str, stdout: &[u8]) -> ProviderResult<Value> {
    let output: serde_json::Value = serde_json::from_slice(stdout).map_err(|error| {
        ProviderError::new(format!("`{name}` did not write JSON to standard output: {error}"))
            .on_attribute("program")
            .with_help(JSON_HELP)
    })?;
    let serde_json::Value::Object(object) = output else {
        return Err(ProviderError::new(format!("`{name}` wrote {}, not a JSON object", json_kind(&output)))
            .on_attribute("program")
            .with_help(JSON_HELP));
    };
    let mut result = std::collections::BTreeMap::new();
    for (key, value) in object {
        let serde_json::Value::String(text) = value else {
            return Err(ProviderError::new(format!(
                "`{name}` wrote {} for `{key}`; every value must be a string",
                json_kind(&value)
            ))
            .on_attribute("program")
            .with_help("convert it to a string in the program: \"3\" for 3, or a nested value encoded as JSON text"));
        };
        result.insert(key, Value::string(text));
    }
    Ok(Value::map(result))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The id of an `exec.json` read: the SHA-256 of the program and the query, so the same
/// question always has the same id.
fn query_hash(program: &[String], query: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for part in program {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update([1]);
    for (key, value) in query {
        for part in [key, value] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    hex::encode(hasher.finalize())
}

/// `attributes` with every attribute of `exec.command` present, null when not set.
fn with_every_attribute(attributes: &Attributes) -> Attributes {
    let mut all = attributes.clone();
    for name in COMMAND_ATTRIBUTES {
        all.entry(name.to_string()).or_insert_with(Value::null);
    }
    all
}

fn attribute<'a>(attributes: &'a Attributes, name: &str) -> &'a Value {
    static NULL: Value = Value { kind: Kind::Null, sensitive: false };
    attributes.get(name).unwrap_or(&NULL)
}

/// A list of strings, such as `program`.
fn strings(value: &Value, name: &str) -> ProviderResult<Vec<String>> {
    let items = value.as_list().ok_or_else(|| not_strings(name))?;
    items.iter().map(|item| text(item).ok_or_else(|| not_strings(name))).collect()
}

/// A map of strings, such as `environment`; null is empty. Sorted by key.
fn string_map(value: &Value, name: &str) -> ProviderResult<Vec<(String, String)>> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let entries = value.as_map().ok_or_else(|| not_strings(name))?;
    entries.iter().map(|(key, item)| Ok((key.to_string(), text(item).ok_or_else(|| not_strings(name))?))).collect()
}

/// A value as text: strings as they are, numbers and booleans as the language writes them.
fn text(value: &Value) -> Option<String> {
    match &value.kind {
        Kind::String(s) => Some(s.to_string()),
        Kind::Number(n) => Some(format_number(*n)),
        Kind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn not_strings(name: &str) -> ProviderError {
    ProviderError::new(format!("`{name}` must hold strings")).on_attribute(name)
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0'])
}

fn check_command(kind: &str) -> ProviderResult<()> {
    if kind == "command" {
        Ok(())
    } else {
        Err(unknown_kind(kind))
    }
}

fn unknown_kind(kind: &str) -> ProviderError {
    ProviderError::new(format!("the `exec` provider has no kind `{kind}`"))
}
