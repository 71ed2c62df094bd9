//! The `local` provider: files on the machine that runs Infra.
//!
//! `local.file` writes a file from `content` or as a copy of `source`, and notices when
//! the file's content or permissions change behind Infra's back, and when the `source`
//! it was copied from changes; the data source `local.file` reads one.
//! docs/providers/local.md is the reference for users.

use std::path::PathBuf;
use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::value::{Kind, Value};

use infra_provider_kit::{kind, provider};

mod file;

pub fn schema() -> ProviderSchema {
    let mut schema = provider(
        "local",
        "Files on the machine that runs Infra.",
        vec![("file", file_resource())],
        vec![("file", file_data())],
    );
    schema.config = Schema {
        description: "Where relative paths start.".to_string(),
        attributes: vec![AttributeSchema::optional(
            "root",
            Type::String,
            "The directory relative paths start from, itself relative to the root module's directory; \
             by default the root module's directory.",
        )],
        blocks: Vec::new(),
    };
    schema
}

fn file_resource() -> Schema {
    let mut schema = file_resource_kind();
    // The id is the content's SHA-1 and the size its length: of a secret, a hash that a
    // short one can be found from, and how long it is. They are sensitive with it.
    for attribute in &mut schema.attributes {
        if matches!(attribute.name.as_str(), "id" | "size") {
            attribute.derived_from = vec!["content".to_string()];
        }
    }
    schema
}

/// `copied` is computed, yet its change is an update: a copy has no configured content
/// whose change would be one, and the source file's hash is not configured either.
/// Planned unknown when the copy is out of date (`planned_digests`), it makes the update
/// the plan shows (`corrects_drift` is what tells the diff so); a refresh never changes
/// it, so it corrects no drift of its own.
fn copied() -> AttributeSchema {
    AttributeSchema::computed(
        "copied",
        Type::String,
        "The SHA-1 hash, in hexadecimal, of the `source` file's content as it was last copied; null for a file written from `content`.",
    )
    .corrects_drift()
}

fn file_resource_kind() -> Schema {
    kind(
        "A file on the local machine, written from `content` or copied from `source`.",
        "The SHA-1 hash of the file's content, in hexadecimal.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "Where to write the file, relative to the root module's directory (or the provider's `root`); changing it replaces the file.",
            )
            .force_new()
            .validate(Validator::Length { min: 1, max: None }),
            AttributeSchema::optional("content", Type::String, "The text to write; set this or `source`."),
            AttributeSchema::optional(
                "source",
                Type::String,
                "A file to copy, relative to the root module's directory (or the provider's `root`); set this or `content`.",
            ),
            AttributeSchema::optional(
                "mode",
                Type::String,
                "The file's permissions in octal, such as \"0600\"; if not set, a new file gets \"0644\" \
                 and an existing one keeps its own.",
            )
            .also_computed()
            // The same rule as `file::parse_mode`: up to three octal digits, after an
            // optional 0 (no setuid, setgid or sticky bit).
            .validate(Validator::Regex {
                pattern: "^0?[0-7]{1,3}$".to_string(),
                description: "permissions as 3 or 4 octal digits without special bits, such as \"0644\" or \"0600\""
                    .to_string(),
            }),
            AttributeSchema::computed("size", Type::Number, "The size of the file in bytes."),
            copied(),
        ],
    )
}

fn file_data() -> Schema {
    kind(
        "Reads a file on the local machine.",
        "The SHA-1 hash of the file's content, in hexadecimal.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "The path of the file to read, relative to the root module's directory (or the provider's `root`).",
            ),
            AttributeSchema::computed("content", Type::String, "The file's content, as UTF-8 text."),
            AttributeSchema::computed("size", Type::Number, "The size of the file in bytes."),
        ],
    )
}

/// The `local` provider, ready to be registered with the engine.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(LocalFactory { schema: schema() })
}

struct LocalFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for LocalFactory {
    fn name(&self) -> &str {
        "local"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        let module_dir = match config.get("root").and_then(Value::as_str) {
            Some(root) => context.module_dir.join(root),
            None => context.module_dir.clone(),
        };
        Ok(Arc::new(Local { module_dir }))
    }
}

/// The attributes of `local.file`, which every result carries (null when unset).
const FILE_ATTRIBUTES: [&str; 7] = ["id", "path", "content", "source", "mode", "size", "copied"];

/// The configured provider: the directory relative paths start from.
struct Local {
    module_dir: PathBuf,
}

#[async_trait::async_trait]
impl Provider for Local {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        if kind != "file" {
            return vec![unknown_kind(kind)];
        }
        let mut errors = Vec::new();
        let content = attribute(config, "content");
        let source = attribute(config, "source");
        if !content.is_null() && !source.is_null() {
            errors.push(
                ProviderError::new("`content` and `source` are both set")
                    .on_attribute("source")
                    .with_help("a file is written either from `content` or as a copy of `source`; remove one"),
            );
        } else if content.is_null() && source.is_null() {
            errors.push(
                ProviderError::new("`local.file` needs `content` or `source`")
                    .with_help("set `content` to the text to write, or `source` to a file to copy"),
            );
        }
        if let Some(mode) = attribute(config, "mode").as_str() {
            if let Err(message) = file::parse_mode(mode) {
                errors.push(bad_mode(message));
            }
        }
        if attribute(config, "path").as_str() == Some("") {
            errors.push(ProviderError::new("`path` is empty").on_attribute("path"));
        }
        errors
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        check_kind(kind)?;
        let mut planned = with_every_attribute(config);
        if planned["mode"].is_null() {
            // Optional and computed: without a configured mode, a new file gets the default
            // and an existing one keeps the mode it has, whoever set it: one Infra manages
            // (its recorded mode), and one already on disk when Infra first writes it (a
            // file of secrets kept at 0600 is not opened to everyone).
            let prior_mode = prior.map(|prior| attribute(prior, "mode")).filter(|mode| !mode.is_null()).cloned();
            let on_disk = || {
                let path = planned["path"].as_str().filter(|path| !path.is_empty())?;
                file::existing_mode(&file::resolve(&self.module_dir, path))
                    .map(|mode| Value::string(file::format_mode(mode)))
            };
            let mode = prior_mode.or_else(on_disk).unwrap_or_else(|| Value::string(file::DEFAULT_MODE));
            planned.insert("mode", mode);
        }
        let (size, id, copied) = self.planned_digests(prior, &planned);
        planned.insert("size", size);
        planned.insert("id", id);
        planned.insert("copied", copied);
        Ok(planned)
    }

    /// A file recorded before `copied` existed gets it: for a copy, its `id`, the hash
    /// of what was copied then; for a file written from `content`, null.
    async fn upgrade(&self, kind: &str, stored: &Attributes) -> ProviderResult<Option<Attributes>> {
        check_kind(kind)?;
        if stored.contains_key("copied") {
            return Ok(None);
        }
        let mut upgraded = stored.clone();
        let is_copy = !attribute(stored, "source").is_null();
        let copied = if is_copy { attribute(stored, "id").clone() } else { Value::null() };
        upgraded.insert("copied", copied);
        Ok(Some(upgraded))
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        check_kind(kind)?;
        self.write(planned).await
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        check_kind(kind)?;
        match self.read_at(&path_of(current)?).await? {
            Some(on_disk) => Ok(ReadResult::Found(drifted(current, &on_disk))),
            None => Ok(ReadResult::Gone),
        }
    }

    async fn update(&self, kind: &str, _prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        check_kind(kind)?;
        // `path` is force-new, so the file is the same one: writing it again applies a
        // change of content, source or mode alike.
        self.write(planned).await
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        check_kind(kind)?;
        let path = path_of(current)?;
        let resolved = file::resolve(&self.module_dir, &path);
        blocking(move || file::remove(&resolved)).await?.map_err(|e| io_error("delete", &path, e))
    }

    /// A file replaced with `create_before_destroy` at the same path is the new file now:
    /// deleting the old one would delete it. It is left; a file that moved is deleted.
    async fn delete_replaced(&self, kind: &str, old: &Attributes, replacement: &Attributes) -> ProviderResult<()> {
        check_kind(kind)?;
        let old_path = file::resolve(&self.module_dir, &path_of(old)?);
        if path_of(replacement).is_ok_and(|new| file::resolve(&self.module_dir, &new) == old_path) {
            return Ok(());
        }
        self.delete(kind, old).await
    }

    /// The id to import by is the file's path (relative to the root module's directory, or the provider's `root`), since
    /// a content hash cannot find a file. The imported file keeps its content and mode.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        check_kind(kind)?;
        let path = id.to_string();
        let on_disk = self.read_existing(&path).await?;
        let content = utf8(on_disk.bytes.clone(), &path)?;
        let mut attributes = with_every_attribute(&Attributes::new());
        attributes.insert("path", Value::string(path));
        attributes.insert("content", Value::string(content));
        attributes.insert("mode", Value::string(file::format_mode(on_disk.mode)));
        attributes.insert("size", size_value(&on_disk.bytes));
        attributes.insert("id", Value::string(file::sha1_hex(&on_disk.bytes)));
        Ok(attributes)
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        check_kind(kind)?;
        let path = path_of(config)?;
        let on_disk = self.read_existing(&path).await?;
        let mut attributes = config.clone();
        attributes.insert("size", size_value(&on_disk.bytes));
        attributes.insert("id", Value::string(file::sha1_hex(&on_disk.bytes)));
        attributes.insert("content", Value::string(utf8(on_disk.bytes, &path)?));
        Ok(attributes)
    }
}

impl Local {
    /// `size`, `id` and `copied` after a create or update. Known `content` gives the
    /// first two at once. A `source` file is hashed now only to tell whether the copy
    /// is out of date: when its hash is not the file's `id` (the source changed, or the
    /// copy was edited on disk, which a refresh found), all three are unknown, which is
    /// an update. They are unknown then, not the hash just read, since the source may
    /// still change before apply copies it.
    fn planned_digests(&self, prior: Option<&Attributes>, planned: &Attributes) -> (Value, Value, Value) {
        let unknown = || (Value::unknown(Type::Number), Value::unknown(Type::String), Value::unknown(Type::String));
        match (&planned["content"].kind, &planned["source"].kind) {
            (Kind::String(content), _) => {
                (size_value(content.as_bytes()), Value::string(file::sha1_hex(content.as_bytes())), Value::null())
            }
            (Kind::Unknown(_), Kind::Null) => {
                (Value::unknown(Type::Number), Value::unknown(Type::String), Value::null())
            }
            (Kind::Null, Kind::String(source)) => {
                let Some(prior) = prior else { return unknown() };
                match std::fs::read(file::resolve(&self.module_dir, source)) {
                    Ok(bytes) if attribute(prior, "id").as_str() != Some(&file::sha1_hex(&bytes)) => unknown(),
                    // Unchanged, or unreadable now (perhaps made later by another
                    // resource): nothing says the copy is out of date.
                    _ => ["size", "id", "copied"].map(|name| attribute(prior, name).clone()).into(),
                }
            }
            _ => unknown(),
        }
    }

    /// Writes the file `planned` describes; the result is `planned` with every attribute
    /// known.
    async fn write(&self, planned: &Attributes) -> ProviderResult<Attributes> {
        let path = path_of(planned)?;
        let mode_text = attribute(planned, "mode").as_str().unwrap_or(file::DEFAULT_MODE).to_string();
        let mode = file::parse_mode(&mode_text).map_err(bad_mode)?;
        let (bytes, is_copy) = match attribute(planned, "content").as_str() {
            Some(content) => (content.as_bytes().to_vec(), false),
            None => (self.read_source(planned).await?, true),
        };
        let resolved = file::resolve(&self.module_dir, &path);
        let hash = file::sha1_hex(&bytes);
        let copied = if is_copy { Value::string(hash.clone()) } else { Value::null() };
        let size = size_value(&bytes);
        blocking(move || file::write_atomically(&resolved, &bytes, mode))
            .await?
            .map_err(|e| io_error("write", &path, e))?;
        let mut written = with_every_attribute(planned);
        written.insert("mode", Value::string(mode_text));
        written.insert("size", size);
        written.insert("id", Value::string(hash));
        written.insert("copied", copied);
        Ok(written)
    }

    async fn read_source(&self, planned: &Attributes) -> ProviderResult<Vec<u8>> {
        let Some(source) = attribute(planned, "source").as_str().map(str::to_string) else {
            return Err(ProviderError::new("`local.file` needs `content` or `source`"));
        };
        match self.read_at(&source).await.map_err(|error| error.on_attribute("source"))? {
            Some(on_disk) => Ok(on_disk.bytes),
            None => Err(ProviderError::new(format!("no file exists at `{source}`"))
                .on_attribute("source")
                .with_help(self.relative_help())),
        }
    }

    /// The file at `path`, which must exist (a data source or an import).
    async fn read_existing(&self, path: &str) -> ProviderResult<file::OnDisk> {
        match self.read_at(path).await? {
            Some(on_disk) => Ok(on_disk),
            None => Err(ProviderError::new(format!("no file exists at `{path}`"))
                .on_attribute("path")
                .with_help(self.relative_help())),
        }
    }

    /// What is at `path`, relative to the module directory; `None` when nothing is.
    async fn read_at(&self, path: &str) -> ProviderResult<Option<file::OnDisk>> {
        let resolved = file::resolve(&self.module_dir, path);
        blocking(move || file::read(&resolved)).await?.map_err(|error| io_error("read", path, error))
    }

    fn relative_help(&self) -> String {
        format!(
            "relative paths start at the module directory `{}`; for a file that a resource writes, \
             refer to that resource's attributes so it is written first",
            self.module_dir.display()
        )
    }
}

/// `current` updated with what is on disk: drift in content shows as new `content` (for a
/// file written from `content`), `size` and `id`; drift in permissions as a new `mode`.
fn drifted(current: &Attributes, on_disk: &file::OnDisk) -> Attributes {
    let mut found = with_every_attribute(current);
    let id = file::sha1_hex(&on_disk.bytes);
    if found["id"].as_str() != Some(&id) {
        if !found["content"].is_null() {
            let content = String::from_utf8_lossy(&on_disk.bytes).into_owned();
            found.insert("content", Value::string(content));
        }
        found.insert("size", size_value(&on_disk.bytes));
        found.insert("id", Value::string(id));
    }
    // The mode is compared by value, so "644" in the configuration is not drift from 0644.
    let recorded = found["mode"].as_str().and_then(|mode| file::parse_mode(mode).ok());
    if recorded != Some(on_disk.mode) {
        found.insert("mode", Value::string(file::format_mode(on_disk.mode)));
    }
    found
}

/// `attributes` with every attribute of `local.file` present, null when not set.
fn with_every_attribute(attributes: &Attributes) -> Attributes {
    let mut all = attributes.clone();
    for name in FILE_ATTRIBUTES {
        all.entry(name.to_string()).or_insert_with(Value::null);
    }
    all
}

fn attribute<'a>(attributes: &'a Attributes, name: &str) -> &'a Value {
    static NULL: Value = Value { kind: Kind::Null, sensitive: false };
    attributes.get(name).unwrap_or(&NULL)
}

fn path_of(attributes: &Attributes) -> ProviderResult<String> {
    match attribute(attributes, "path").as_str() {
        Some(path) => Ok(path.to_string()),
        None => Err(ProviderError::new("`path` is not set").on_attribute("path")),
    }
}

fn size_value(bytes: &[u8]) -> Value {
    Value::number(bytes.len() as f64)
}

fn utf8(bytes: Vec<u8>, path: &str) -> ProviderResult<String> {
    String::from_utf8(bytes).map_err(|error| {
        ProviderError::new(format!(
            "`{path}` is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
        .on_attribute("path")
        .with_help("`content` is text; only UTF-8 files can be read into it")
    })
}

fn bad_mode(message: String) -> ProviderError {
    ProviderError::new(message)
        .on_attribute("mode")
        .with_help("write the permissions as an octal string: \"0644\" (rw-r--r--), \"0600\", \"0755\"")
}

fn io_error(verb: &str, path: &str, error: std::io::Error) -> ProviderError {
    ProviderError::new(format!("cannot {verb} `{path}`: {error}")).on_attribute("path")
}

fn check_kind(kind: &str) -> ProviderResult<()> {
    if kind == "file" {
        Ok(())
    } else {
        Err(unknown_kind(kind))
    }
}

fn unknown_kind(kind: &str) -> ProviderError {
    ProviderError::new(format!("the `local` provider has no kind `{kind}`"))
}

/// Runs file system work on tokio's blocking pool, off the threads that drive the other
/// providers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ProviderResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ProviderError::new(format!("the file operation did not finish: {error}")))
}
