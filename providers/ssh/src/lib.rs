//! The `ssh` provider: files, directories, packages, services, users, groups and
//! commands on any machine reachable over SSH, and facts about it.
//! docs/providers/ssh.md is the reference for users.
//!
//! `lib.rs` declares the schema and dispatches each operation to one module per kind
//! (`file.rs`, `directory.rs`, `package.rs`, `service.rs`, `user.rs`, `group.rs`,
//! `command.rs`, `facts.rs`); `connection.rs` is the one connection a configured provider
//! shares between its resources, `shell.rs` builds the commands, `batch.rs` reads what
//! many resources of a host need in one round trip and `stat.rs` is that read for paths.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;

use infra_provider_kit::{attribute, kind, known, resource_schema, unknown_kind, whole_number};

use self::connection::{Connection, Lazy, Settings};

mod adopt;
mod batch;
mod command;
mod connection;
mod directory;
mod facts;
mod file;
mod group;
mod package;
mod service;
mod shell;
mod stat;
mod user;

/// The computed attribute every resource and data source records the server's host key
/// fingerprint in (see "Host keys" in docs/providers/ssh.md).
pub const FINGERPRINT: &str = "host_key_fingerprint";

fn string(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::String, description)
}

fn computed(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::computed(name, Type::String, description)
}

fn fingerprint_attribute() -> AttributeSchema {
    computed(
        FINGERPRINT,
        "The SHA-256 fingerprint of the server's host key when this was last applied; without `host_key` or \
         `known_hosts`, a server presenting another key is an error.",
    )
}

fn absolute_path(description: &str) -> AttributeSchema {
    AttributeSchema::required("path", Type::String, description).force_new().validate(Validator::Regex {
        pattern: "^/".to_string(),
        description: "an absolute path, such as \"/etc/nginx/nginx.conf\"".to_string(),
    })
}

/// `mode`, `owner` and `group`: optional, and read back from the server when left out.
fn ownership() -> Vec<AttributeSchema> {
    vec![
        string(
            "mode",
            "The permissions in octal, such as \"0644\" (\"644\" is the same); left out, a new object gets 0644 (a \
             directory 0755) and an \
             existing one keeps its own.",
        )
        .also_computed()
        .validate(Validator::Regex {
            pattern: "^0?[0-7]{3,4}$".to_string(),
            description: "permissions as 3 or 4 octal digits, such as \"0644\" or \"0755\"".to_string(),
        }),
        string("owner", "The owning user's name; left out, the login user (root with `sudo`).").also_computed(),
        string("group", "The owning group's name; left out, the login user's group.").also_computed(),
    ]
}

fn file() -> Schema {
    let mut attributes = vec![
        absolute_path(
            "The file's absolute path on the server, in a directory that exists; changing it replaces the file.",
        ),
        string("content", "The file's content as text; set exactly one of `content`, `source` and `content_base64`."),
        string("source", "A local file to upload, relative to the root module's directory."),
        string("content_base64", "The file's content as Base64, for binary files."),
    ];
    attributes.extend(ownership());
    attributes.extend([
        string(
            "validate",
            "A command run on the uploaded temporary file before it replaces the real one, with `%s` standing for its \
             path (\"nginx -t -c %s\"); when it fails, the old file stays.",
        ),
        string(
            "sha256",
            "The SHA-256 of the content, in hex: computed from the content; a different hash on the server is drift. \
             When set, the content must hash to it.",
        )
        .also_computed()
        .validate(Validator::Regex {
            pattern: "^[0-9a-f]{64}$".to_string(),
            description: "64 lower-case hexadecimal digits".to_string(),
        }),
        fingerprint_attribute(),
    ]);
    kind(
        "A file on the server, written atomically (a temporary file in a private directory beside it, then a rename).",
        "The file's path.",
        attributes,
    )
}

fn directory() -> Schema {
    let mut attributes = vec![absolute_path("The directory's absolute path; changing it replaces the directory.")];
    attributes.extend(ownership());
    attributes.extend([
        AttributeSchema::optional(
            "force_destroy",
            Type::Bool,
            "Delete the directory with everything in it; false by default (only an empty directory is deleted).",
        ),
        fingerprint_attribute(),
    ]);
    kind("A directory on the server, made with its parents.", "The directory's path.", attributes)
}

/// A shell command: anything but blank.
fn shell_command(attribute: AttributeSchema) -> AttributeSchema {
    attribute.validate(Validator::Regex {
        pattern: r"\S".to_string(),
        description: "a shell command, not an empty or blank string".to_string(),
    })
}

/// What a command's output is made from: a secret in any of them may be printed.
const COMMAND_INPUTS: [&str; 6] = ["create", "update", "read", "environment", "working_dir", "triggers"];

fn command() -> Schema {
    let string_map = Type::map(Type::String);
    kind(
        "Runs shell commands on the server: `create` when created, `update` when changed, `destroy` when deleted.",
        "A random identifier chosen when the resource is created.",
        vec![
            shell_command(AttributeSchema::required("create", Type::String, "The command that creates the resource.")),
            shell_command(string("update", "The command run when an attribute changes in place; none by default.")),
            shell_command(string("destroy", "The command run when the resource is deleted; none by default.")),
            shell_command(string(
                "read",
                "A command whose standard output is the drift signal: run after every `create` or `update` and on every \
                 plan; when its output differs from `read_output`, the resource is planned for an update (`update`, or \
                 `create` again when there is no `update`).",
            )),
            string("creates", "A path on the server: when it exists, `create` is not run (it was done already)."),
            AttributeSchema::optional("environment", string_map.clone(), "Environment variables for the commands.")
                .validate(Validator::Length { min: 0, max: Some(200) }),
            string("working_dir", "The directory the commands run in; the login user's home by default."),
            string(
                "timeout",
                "How long each command may run, such as \"5m\"; then it is killed and the operation fails.",
            )
            .validate(Validator::Duration),
            AttributeSchema::optional(
                "triggers",
                string_map,
                "Values that replace the resource (`destroy`, then `create`) whenever one changes.",
            )
            .force_new(),
            // A command built from a secret may print it.
            computed("stdout", "The standard output of the last command run.").derived_from(&COMMAND_INPUTS),
            computed("stderr", "The standard error of the last command run.").derived_from(&COMMAND_INPUTS),
            AttributeSchema::computed("exit_code", Type::Number, "The exit status of the last command run."),
            computed("read_output", "The standard output of `read` after the last apply; a refresh that reads another is drift.")
                .derived_from(&COMMAND_INPUTS)
                .corrects_drift(),
            fingerprint_attribute(),
        ],
    )
}

/// A name the server's tools take: no spaces, quotes or leading dash.
fn name_attribute(description: &str, pattern: &str, form: &str) -> AttributeSchema {
    AttributeSchema::required("name", Type::String, description)
        .force_new()
        .validate(Validator::Regex { pattern: pattern.to_string(), description: form.to_string() })
}

fn one_of(values: &[&str]) -> Validator {
    Validator::OneOf(values.iter().map(|v| v.to_string()).collect())
}

fn package() -> Schema {
    kind(
        "A package installed by the server's package manager (apt; dnf and apk are detected and not supported yet).",
        "The package's name.",
        vec![
            name_attribute(
                "The package's name, such as \"nginx\"; changing it replaces the resource.",
                "^[A-Za-z0-9][A-Za-z0-9+._-]*$",
                "a package name, such as \"nginx\" or \"libssl3\"",
            ),
            string(
                "version",
                "The version to install and keep, such as \"1.22.1-9\"; left out, any version is kept (or the newest, \
                 with `state = \"latest\"`). Another version on the server is drift.",
            ),
            string(
                "state",
                "How the package is kept: \"present\" (the default), installed at any version unless `version` pins \
                 one; \"latest\", at the newest version the index offers.",
            )
            .validate(one_of(&["present", "latest"])),
            AttributeSchema::optional(
                "purge",
                Type::Bool,
                "Delete the package's configuration files too when the resource is deleted; false by default.",
            ),
            string(
                "cache_valid",
                "How old the package index may be before an install refreshes it (`apt-get update`), such as \"30m\"; \
                 \"1h\" by default.",
            )
            .validate(Validator::Duration),
            computed("installed_version", "The version installed on the server."),
            fingerprint_attribute(),
        ],
    )
}

fn service() -> Schema {
    let watched =
        |name: &str, description: &str| AttributeSchema::optional(name, Type::list(Type::String), description);
    kind(
        "A systemd service: enabled at boot or not, running or not, restarted or reloaded when what it watches changes.",
        "The unit's name.",
        vec![
            name_attribute(
                "The unit's name, such as \"nginx\" or \"nginx.service\"; changing it replaces the resource.",
                "^[A-Za-z0-9:_.@-]+$",
                "a systemd unit name, such as \"nginx\" or \"getty@tty1.service\"",
            ),
            AttributeSchema::optional(
                "enabled",
                Type::Bool,
                "Whether the service starts at boot (`systemctl enable`); left out, it is left as it is.",
            )
            .also_computed(),
            AttributeSchema::optional(
                "running",
                Type::Bool,
                "Whether the service runs now (`systemctl start` or `stop`); left out, it is left as it is.",
            )
            .also_computed(),
            watched(
                "restart_on",
                "Values that restart the service when any changes, typically the `sha256` of its configuration files.",
            ),
            watched("reload_on", "Values that reload the service (`systemctl reload`) when any changes."),
            AttributeSchema::computed(
                "restarts",
                Type::Number,
                "How many times Infra restarted the service because `restart_on` changed; the plan shows it go up.",
            ),
            AttributeSchema::computed(
                "reloads",
                Type::Number,
                "How many times Infra reloaded the service because `reload_on` changed; the plan shows it go up.",
            ),
            fingerprint_attribute(),
        ],
    )
}

/// `uid` or `gid`: a whole number that fits the 32 bits Linux gives ids.
fn id_number(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::Number, description)
        .also_computed()
        .validate(Validator::Range { min: 0, max: 4_294_967_294 })
}

fn system_attribute(what: &str) -> AttributeSchema {
    AttributeSchema::optional(
        "system",
        Type::Bool,
        &format!("A system {what} (an id below 1000, no aging); false by default; changing it replaces the {what}."),
    )
    .force_new()
}

const ACCOUNT_NAME: &str = "^[a-z_][a-z0-9_-]*[$]?$";
const ACCOUNT_FORM: &str = "a lower-case name of letters, digits, `_` and `-`, such as \"deploy\"";

fn user() -> Schema {
    let names = |name: &str, description: &str| {
        AttributeSchema::optional(name, Type::list(Type::String), description).also_computed().compared(Comparison::Set)
    };
    kind(
        "A user account (`useradd`), its groups and its SSH keys.",
        "The user's name.",
        vec![
            name_attribute("The user's name; changing it replaces the user.", ACCOUNT_NAME, ACCOUNT_FORM),
            id_number("uid", "The user id; left out, the server picks one."),
            string("group", "The primary group's name (it must exist); left out, a group named after the user.")
                .also_computed(),
            names(
                "groups",
                "The other groups the user is in, exactly; left out, they are not managed (and recorded as they are). \
                 Each must exist.",
            ),
            string("shell", "The login shell, such as \"/bin/bash\"; left out, the server's default.").also_computed(),
            string(
                "home",
                "The home directory; left out, /home/NAME (none for a system user). Changing it moves the directory.",
            )
            .also_computed()
            .validate(Validator::Regex { pattern: "^/".to_string(), description: "an absolute path".to_string() }),
            names(
                "authorized_keys",
                "The exact set of public keys in ~/.ssh/authorized_keys, one a line; left out, the file is not managed \
                 (and its keys recorded as they are).",
            ),
            system_attribute("user"),
            fingerprint_attribute(),
        ],
    )
}

fn group() -> Schema {
    kind(
        "A group (`groupadd`); its members are the users whose `groups` name it.",
        "The group's name.",
        vec![
            name_attribute("The group's name; changing it replaces the group.", ACCOUNT_NAME, ACCOUNT_FORM),
            id_number("gid", "The group id; left out, the server picks one."),
            system_attribute("group"),
            fingerprint_attribute(),
        ],
    )
}

fn facts_data() -> Schema {
    kind(
        "Facts about the server, gathered with one command.",
        "The server's host name.",
        vec![
            computed("hostname", "The host name."),
            computed("os_id", "The `ID` of /etc/os-release, such as `debian` or `ubuntu`."),
            computed("os_version", "The `VERSION_ID` of /etc/os-release, such as `12`."),
            computed("arch", "The machine architecture (`uname -m`), such as `x86_64` or `aarch64`."),
            computed("kernel", "The kernel release (`uname -r`)."),
            AttributeSchema::computed("cpus", Type::Number, "The number of processors online."),
            AttributeSchema::computed("memory_mb", Type::Number, "The memory in MiB."),
            computed("init_system", "The init system: `systemd`, or the name of process 1."),
            computed(
                "package_manager",
                "The package manager: `apt`, `dnf`, `yum`, `apk`, `zypper` or `pacman`; empty when none is found.",
            ),
            fingerprint_attribute(),
        ],
    )
}

fn file_data() -> Schema {
    kind(
        "Reads a file on the server.",
        "The file's path.",
        vec![
            AttributeSchema::required("path", Type::String, "The file's absolute path on the server.")
                .validate(Validator::Regex { pattern: "^/".to_string(), description: "an absolute path".to_string() }),
            computed("content", "The file's content as UTF-8 text (an error when it is not text)."),
            computed("content_base64", "The file's content as Base64."),
            computed("sha256", "The SHA-256 of the content, in hex."),
            computed("mode", "The permissions in octal, such as \"0644\"."),
            computed("owner", "The owning user."),
            computed("group", "The owning group."),
            fingerprint_attribute(),
        ],
    )
}

fn bastion_block() -> BlockSchema {
    let description = "A jump host: the connection to `host` is tunnelled through an SSH connection to it.";
    BlockSchema {
        name: "bastion".to_string(),
        description: description.to_string(),
        schema: Schema {
            description: description.to_string(),
            attributes: vec![
                AttributeSchema::required("host", Type::String, "The bastion's host name or IP address."),
                AttributeSchema::optional("port", Type::Number, "The bastion's SSH port; 22 by default.")
                    .validate(Validator::Range { min: 1, max: 65535 }),
                string("user", "The user to log in to the bastion as; the provider's `user` by default."),
                string("private_key", "The key for the bastion; the provider's `private_key` by default.").sensitive(),
                string("password", "A password for the bastion.").sensitive(),
                string(
                    "host_key",
                    "The bastion's public key or its fingerprint; required unless `known_hosts` lists the bastion.",
                ),
            ],
            blocks: Vec::new(),
        },
        repeated: false,
        compare: Comparison::Exact,
    }
}

fn config() -> Schema {
    let duration = |name: &str, description: &str| string(name, description).validate(Validator::Duration);
    Schema {
        description: "The machine to manage and how to log in to it; one connection per configuration.".to_string(),
        attributes: vec![
            AttributeSchema::required("host", Type::String, "The host name or IP address."),
            AttributeSchema::optional("port", Type::Number, "The SSH port; 22 by default.")
                .validate(Validator::Range { min: 1, max: 65535 }),
            AttributeSchema::required("user", Type::String, "The user to log in as."),
            string("private_key", "A private key in OpenSSH or PEM form (not a path), such as `tls.private_key`'s.")
                .sensitive(),
            string("password", "A password, when the server accepts password logins.").sensitive(),
            AttributeSchema::optional("agent", Type::Bool, "Log in with the keys of the agent at SSH_AUTH_SOCK."),
            string(
                "host_key",
                "The server's public key (`ssh-ed25519 AAAA...`) or its fingerprint (`SHA256:...`): any other key is \
                 refused before logging in.",
            ),
            string(
                "known_hosts",
                "A known_hosts file (relative to the root module's directory) that must list the host with its key.",
            ),
            AttributeSchema::optional("sudo", Type::Bool, "Run every command as root through `sudo -n`."),
            duration("connect_timeout", "How long to wait for the server to answer; \"30s\" by default."),
            duration(
                "wait",
                "Keep trying to connect and log in for this long, such as \"5m\" while a new server boots; not by \
                 default.",
            ),
        ],
        blocks: vec![bastion_block()],
    }
}

pub fn schema() -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    ProviderSchema {
        name: "ssh".to_string(),
        description: "A machine you can reach over SSH: its files, directories, packages, services, users, groups and \
                      commands."
            .to_string(),
        config: config(),
        resources: by_name(vec![
            ("command", command()),
            ("directory", directory()),
            ("file", file()),
            ("group", group()),
            ("package", package()),
            ("service", service()),
            ("user", user()),
        ]),
        data_sources: by_name(vec![("facts", facts_data()), ("file", file_data())]),
    }
}

/// The `ssh` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(SshFactory { schema: schema() })
}

struct SshFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for SshFactory {
    fn name(&self) -> &str {
        "ssh"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let settings = settings(config, context)?;
        Ok(Arc::new(Ssh {
            schema: self.schema.clone(),
            connection: Lazy::new(settings),
            module_dir: context.module_dir.clone(),
            stats: stat::Batcher::default(),
            manager: tokio::sync::OnceCell::new(),
            package_lock: tokio::sync::Mutex::new(()),
            packages: batch::Batcher::new("packages"),
            services: batch::Batcher::new("services"),
            users: batch::Batcher::new("users"),
            groups: batch::Batcher::new("groups"),
        }))
    }
}

fn text(config: &Attributes, name: &str) -> Option<String> {
    known(config, name).and_then(Value::as_str).map(str::to_string)
}

fn duration(config: &Attributes, name: &str) -> ProviderResult<Option<Duration>> {
    let Some(value) = text(config, name) else { return Ok(None) };
    parse_duration(&value)
        .map(|d| Some(Duration::from_secs_f64(d.as_secs_f64())))
        .map_err(|message| ProviderError::new(format!("`{name}`: {message}")).on_attribute(name))
}

fn port(config: &Attributes) -> ProviderResult<u16> {
    let port = whole_number(config, "port")?.unwrap_or(22);
    u16::try_from(port).map_err(|_| ProviderError::new("`port` must be between 1 and 65535").on_attribute("port"))
}

fn settings(config: &Attributes, context: &ProviderContext) -> ProviderResult<Settings> {
    let required = |name: &str| {
        text(config, name).ok_or_else(|| ProviderError::new(format!("`{name}` is not set")).on_attribute(name))
    };
    let mut settings = Settings {
        host: required("host")?,
        port: port(config)?,
        user: required("user")?,
        private_key: text(config, "private_key"),
        password: text(config, "password"),
        agent: known(config, "agent").and_then(Value::as_bool).unwrap_or(false),
        host_key: text(config, "host_key"),
        known_hosts: text(config, "known_hosts").map(|path| context.module_dir.join(path)),
        sudo: known(config, "sudo").and_then(Value::as_bool).unwrap_or(false),
        connect_timeout: duration(config, "connect_timeout")?.unwrap_or(Duration::from_secs(30)),
        wait: duration(config, "wait")?,
        bastion: None,
    };
    if let Some(pinned) = &settings.host_key {
        connection::check_host_key(pinned, "")?;
    }
    if let Some(bastion) = known(config, "bastion").and_then(Value::as_map) {
        let bastion: Attributes = bastion.clone().into_iter().collect();
        settings.bastion = Some(Box::new(bastion_settings(&bastion, &settings)?));
    }
    if let Some(pinned) = settings.bastion.as_ref().and_then(|bastion| bastion.host_key.as_ref()) {
        connection::check_host_key(pinned, "bastion: ")?;
    }
    Ok(settings)
}

/// The bastion's settings: its block, with the user, key, agent and `known_hosts` of the
/// provider where the block leaves them out.
fn bastion_settings(block: &Attributes, host: &Settings) -> ProviderResult<Settings> {
    let in_block = |error: ProviderError| ProviderError { message: format!("bastion: {}", error.message), ..error };
    Ok(Settings {
        host: text(block, "host").ok_or_else(|| in_block(ProviderError::new("`host` is not set")))?,
        port: port(block).map_err(in_block)?,
        user: text(block, "user").unwrap_or_else(|| host.user.clone()),
        private_key: text(block, "private_key").or_else(|| host.private_key.clone()),
        password: text(block, "password"),
        agent: host.agent,
        host_key: text(block, "host_key"),
        known_hosts: host.known_hosts.clone(),
        sudo: false,
        connect_timeout: host.connect_timeout,
        wait: None,
        bastion: None,
    })
}

/// A configured provider: its connection (opened on first use), its package manager
/// (detected on first use) and the batchers that read many resources in one command.
pub(crate) struct Ssh {
    schema: ProviderSchema,
    connection: Lazy,
    module_dir: PathBuf,
    stats: stat::Batcher,
    manager: tokio::sync::OnceCell<package::Manager>,
    /// Held while the package manager runs: apt takes one operation at a time (its lock
    /// on the index is not waited for), so the packages of a host are installed in turn.
    package_lock: tokio::sync::Mutex<()>,
    packages: batch::Batcher<package::Installed>,
    services: batch::Batcher<service::Unit>,
    users: batch::Batcher<Option<user::Account>>,
    groups: batch::Batcher<Option<f64>>,
}

impl Ssh {
    /// The connection, checked against the host key fingerprint `attributes` recorded.
    pub(crate) async fn connect(&self, attributes: Option<&Attributes>) -> ProviderResult<Arc<Connection>> {
        let recorded = attributes.and_then(|a| attribute(a, FINGERPRINT).as_str()).filter(|f| !f.is_empty());
        self.connection.get(recorded).await
    }

    /// The connection for a data source, which records no fingerprint in the state:
    /// checked against what the host's resources recorded (see [`Lazy::get_unrecorded`]).
    pub(crate) async fn connect_unrecorded(&self) -> ProviderResult<Arc<Connection>> {
        self.connection.get_unrecorded().await
    }

    /// The server's package manager, detected once.
    pub(crate) async fn manager(&self, connection: &Connection) -> ProviderResult<package::Manager> {
        self.manager.get_or_try_init(|| package::detect(connection)).await.copied()
    }
}

/// `attributes` with the fingerprint of the connection's host key recorded.
pub(crate) fn with_fingerprint(mut attributes: Attributes, connection: &Connection) -> Attributes {
    attributes.insert(FINGERPRINT.to_string(), Value::string(connection.fingerprint.clone()));
    attributes
}

/// `attributes` with every attribute of `schema` present (null when unset).
pub(crate) fn complete(schema: &Schema, mut attributes: Attributes) -> Attributes {
    for a in &schema.attributes {
        attributes.entry(a.name.clone()).or_insert_with(Value::null);
    }
    attributes
}

/// The `name` of a package, service, user or group.
pub(crate) fn name_of(attributes: &Attributes) -> ProviderResult<String> {
    attribute(attributes, "name")
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new("`name` is not set").on_attribute("name"))
}

/// Runs the script that reads many objects of one kind (`what`: "packages") in one
/// round trip; its standard output.
pub(crate) async fn read_batch(
    connection: &connection::Connection,
    script: &str,
    what: &str,
) -> ProviderResult<String> {
    let output = connection.run(script, None, None).await?;
    if !output.succeeded() {
        return Err(failed(&format!("reading the server's {what}"), &output));
    }
    Ok(output.stdout_text())
}

/// The error for a remote command that failed, quoting the end of its standard error
/// (never the command, which may hold a secret).
pub(crate) fn failed(what: &str, output: &connection::Output) -> ProviderError {
    let status = match output.exit_code {
        Some(shell::TIMED_OUT) | Some(shell::KILLED) => "timed out".to_string(),
        Some(code) => format!("exited with status {code}"),
        None => "was ended by a signal".to_string(),
    };
    let stderr = shell::tail(&output.stderr_text());
    let message = if stderr.is_empty() { format!("{what} {status}") } else { format!("{what} {status}: {stderr}") };
    ProviderError::new(message)
}

#[async_trait::async_trait]
impl Provider for Ssh {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        match kind {
            "file" => file::validate(config),
            "command" => command::validate(config),
            "package" => package::validate(config),
            "user" => user::validate(config),
            "directory" | "service" | "group" => Vec::new(),
            _ => vec![unknown_kind(&self.schema, kind)],
        }
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        let schema = resource_schema(&self.schema, kind)?;
        match kind {
            "file" => file::plan(schema, &self.module_dir, prior, config),
            "directory" => Ok(directory::plan(schema, prior, config)),
            "package" => Ok(package::plan(schema, prior, config)),
            "service" => Ok(service::plan(schema, prior, config)),
            "user" => Ok(user::plan(schema, prior, config)),
            "group" => Ok(group::plan(schema, prior, config)),
            _ => Ok(command::plan(schema, prior, config)),
        }
    }

    /// [`Provider::plan`], and for a create, a warning when the object is on the server
    /// already (see `adopt.rs`).
    async fn plan_async(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let planned = self.plan_replacing(kind, prior, config)?;
        if prior.is_none() {
            adopt::warn_if_exists(self, kind, &planned.0).await;
        }
        Ok(planned)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let created = match kind {
            "file" => file::write(self, planned).await?,
            "directory" => directory::create(self, planned).await?,
            "package" => package::install(self, planned).await?,
            "service" => service::create(self, planned).await?,
            "user" => user::create(self, planned, &CreateProgress::ignored()).await?,
            "group" => group::create(self, planned).await?,
            _ => command::create(self, planned, &CreateProgress::ignored()).await?,
        };
        Ok(complete(schema, created))
    }

    /// A command reports that `create` ran before its `read` runs (see `command::create`);
    /// a user, that it was made when a later step of its script failed (`user::create`).
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        match kind {
            "command" => Ok(complete(schema, command::create(self, planned, progress).await?)),
            "user" => Ok(complete(schema, user::create(self, planned, progress).await?)),
            _ => self.create(kind, planned).await,
        }
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        let schema = resource_schema(&self.schema, kind)?;
        let found = match kind {
            "file" => file::read(self, current).await?,
            "directory" => directory::read(self, current).await?,
            "package" => package::read(self, current).await?,
            "service" => service::read(self, current).await?,
            "user" => user::read(self, current).await?,
            "group" => group::read(self, current).await?,
            _ => command::read(self, current).await?,
        };
        Ok(found.map_or(ReadResult::Gone, |found| ReadResult::Found(complete(schema, found))))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let updated = match kind {
            "file" => file::write(self, planned).await?,
            "directory" => directory::update(self, planned).await?,
            "package" => package::install(self, planned).await?,
            "service" => service::update(self, prior, planned).await?,
            "user" => user::update(self, prior, planned).await?,
            "group" => group::update(self, prior, planned).await?,
            _ => command::update(self, prior, planned).await?,
        };
        Ok(complete(schema, updated))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        match kind {
            "file" => file::delete(self, current).await,
            "directory" => directory::delete(self, current).await,
            "package" => package::delete(self, current).await,
            "service" => service::delete(self, current).await,
            "user" => user::delete(self, current).await,
            "group" => group::delete(self, current).await,
            _ => command::delete(self, current).await,
        }
    }

    /// Files and directories are imported by path, packages, services, users and groups
    /// by name; a command leaves nothing to find.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let imported = match kind {
            "file" => file::import(self, id).await?,
            "directory" => directory::import(self, id).await?,
            "package" => package::import(self, id).await?,
            "service" => service::import(self, id).await?,
            "user" => user::import(self, id).await?,
            "group" => group::import(self, id).await?,
            _ => return Err(ProviderError::new(format!("`ssh.{kind}` cannot be imported"))),
        };
        Ok(complete(schema, imported))
    }

    /// The host key an object of this configuration recorded: every connection of the
    /// run is checked against it, with or without a refresh (see `Lazy::recorded`).
    fn recorded(&self, _kind: &str, stored: &Attributes) {
        if let Some(fingerprint) = stored.get(FINGERPRINT).and_then(Value::as_str) {
            self.connection.recorded(fingerprint);
        }
    }

    /// The state holds objects of this configuration: their host key record is what a
    /// data source's connection is checked against.
    fn expect_reads(&self, _kind: &str, count: usize) {
        if count > 0 {
            self.connection.expect_records();
        }
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = self.schema.data_sources.get(kind).ok_or_else(|| {
            ProviderError::new(format!("the `ssh` provider has no data source `{kind}`"))
                .with_help("its data sources are `ssh.facts` and `ssh.file`")
        })?;
        let result = match kind {
            "facts" => facts::read(self, config).await?,
            _ => file::read_data(self, config).await?,
        };
        Ok(complete(schema, result))
    }
}

/// An identifier unique on this machine and in this run, for resources that have no
/// name of their own on the server.
pub(crate) fn unique_id() -> String {
    use sha2::Digest;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = sha2::Sha256::digest(format!("{nanos}-{}-{count}", std::process::id()).as_bytes());
    hex::encode(&digest[..8])
}
