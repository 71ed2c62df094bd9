//! Built-in functions that read outside the configuration: the files `file`,
//! `fileexists` and `templatefile` (relative to the module's directory), `abspath`
//! (relative to the working directory, as in Terraform) and `env`.
//!
//! Files are read when the call is evaluated, which is at plan time: a file that a
//! resource will create does not exist yet, and the errors say so.
//! docs/functions/files.md is the reference for users.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use infra_compiler::types::Type;
use infra_runtime::convert::convert;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] =
    &[("file", file), ("fileexists", fileexists), ("templatefile", templatefile), ("abspath", abspath), ("env", env)];

const CREATED_LATER_HELP: &str =
    "files are read at plan time; for a file that a resource creates, use that resource's attributes instead";

fn file(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    read_text(args, 0, context).map(Value::string)
}

/// Argument `i` as a path relative to the module directory (an absolute path stays as
/// it is).
fn resolve(args: &[Value], i: usize, context: &CallContext<'_>) -> Result<(String, PathBuf), FunctionError> {
    let path = args::string(args, i)?;
    let resolved = context.module_dir.join(&path);
    Ok((path, resolved))
}

/// The UTF-8 text of the file named by argument `i`; errors name the path as written.
fn read_text(args: &[Value], i: usize, context: &CallContext<'_>) -> Result<String, FunctionError> {
    let (path, resolved) = resolve(args, i, context)?;
    if resolved.is_dir() {
        return Err(FunctionError::new(format!("`{path}` is a directory, not a file")).at(i));
    }
    let bytes = std::fs::read(&resolved).map_err(|error| match error.kind() {
        ErrorKind::NotFound => FunctionError::new(format!("no file exists at `{path}`")).at(i).with_help(format!(
            "relative paths start at the module directory `{}`; {CREATED_LATER_HELP}",
            context.module_dir.display()
        )),
        _ => FunctionError::new(format!("cannot read `{path}`: {error}")).at(i),
    })?;
    record_read(&resolved, &bytes);
    String::from_utf8(bytes).map_err(|error| {
        FunctionError::new(format!(
            "`{path}` is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
        .at(i)
        .with_help("only text files can be read into a string; encode binary files with base64 outside Infra")
    })
}

/// The files `file` and `templatefile` read while a [`FileReads`] log is on, each
/// with the SHA-256 of its content.
static READS: Mutex<Option<BTreeMap<PathBuf, String>>> = Mutex::new(None);

fn record_read(path: &Path, bytes: &[u8]) {
    let Ok(mut reads) = READS.lock() else { return };
    if let Some(reads) = reads.as_mut() {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        reads.insert(path, content_digest(bytes));
    }
}

/// The hex SHA-256 of a file's content, as [`FileReads`] records it.
pub fn content_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A log of the files the configuration reads, for a saved plan to record what it was
/// based on: on from [`FileReads::start`] until [`FileReads::finish`].
pub struct FileReads(());

impl FileReads {
    pub fn start() -> FileReads {
        if let Ok(mut reads) = READS.lock() {
            *reads = Some(BTreeMap::new());
        }
        FileReads(())
    }

    /// Every file read since the start (absolute paths), with the digest of its content.
    pub fn finish(self) -> BTreeMap<PathBuf, String> {
        READS.lock().ok().and_then(|mut reads| reads.take()).unwrap_or_default()
    }
}

/// True for a file, false when nothing is there; a directory or another kind of entry
/// is an error, as in Terraform, since it is almost always a mistake in the path.
fn fileexists(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let (path, resolved) = resolve(args, 0, context)?;
    match std::fs::metadata(&resolved) {
        Ok(metadata) if metadata.is_file() => Ok(Value::bool(true)),
        Ok(metadata) if metadata.is_dir() => Err(FunctionError::new(format!("`{path}` is a directory, not a file"))
            .at(0)
            .with_help("fileexists tells about files only")),
        Ok(_) => Err(FunctionError::new(format!("`{path}` is not a regular file")).at(0)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(Value::bool(false)),
        Err(error) => Err(FunctionError::new(format!("cannot check `{path}`: {error}")).at(0)),
    }
}

thread_local! {
    /// Set while a `templatefile` call renders, to refuse a nested call: a template that
    /// renders itself would recurse until the stack overflows.
    static RENDERING: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`RENDERING`] when the render ends, however it ends.
struct RenderingGuard;

impl Drop for RenderingGuard {
    fn drop(&mut self) {
        RENDERING.with(|rendering| rendering.set(false));
    }
}

fn templatefile(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let vars = args::map(args, 1)?;
    if let Some(name) = vars.keys().find(|name| !is_identifier(name)) {
        return Err(FunctionError::new(format!(
            "invalid template variable name {}",
            infra_runtime::value::quote(name)
        ))
        .at(1)
        .with_help("a variable name starts with a letter or `_`, followed by letters, digits and `_`"));
    }
    let text = read_text(args, 0, context)?;
    if RENDERING.with(|rendering| rendering.replace(true)) {
        return Err(FunctionError::new("templatefile cannot be called from inside a template")
            .with_help("render the inner template outside and pass the result in as a variable"));
    }
    let _guard = RenderingGuard;
    let path = args::string(args, 0)?;
    let value = (context.render_template)(&text, vars)
        .map_err(|message| FunctionError::new(format!("in template `{path}`: {message}")).at(0))?;
    convert(&value, &Type::String).map_err(|_| {
        FunctionError::new(format!("template `{path}` produced a {}, not a string", value.type_name()))
            .at(0)
            .with_help("use `jsonencode` or `yamlencode` inside the template to render a collection")
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Joins a relative path to the working directory and removes `.` and `..` components
/// lexically, like Go's `filepath.Abs`; symbolic links are not resolved. Separators are
/// `/` on every platform, as in Terraform.
fn abspath(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let path = args::string(args, 0)?;
    let cwd = std::env::current_dir()
        .map_err(|error| FunctionError::new(format!("cannot read the working directory: {error}")))?;
    let absolute = clean(&cwd.join(&path));
    let text = absolute.to_string_lossy();
    Ok(Value::string(if cfg!(windows) { text.replace('\\', "/") } else { text.into_owned() }))
}

/// `path` without `.` components, with each `..` removing the component before it
/// (`..` at the root stays at the root).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !matches!(out.components().next_back(), Some(Component::RootDir | Component::Prefix(_)) | None) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The environment variable `name`; when it is unset, the default if there is one
/// (which may be `null`) and an error otherwise. A variable set to `""` is set.
fn env(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let name = args::string(args, 0)?;
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(FunctionError::new(format!(
            "{} is not an environment variable name",
            infra_runtime::value::quote(&name)
        ))
        .at(0)
        .with_help("a name is not empty and contains neither `=` nor NUL"));
    }
    if let Some(value) = (context.env)(&name) {
        return Ok(Value::string(value));
    }
    match args.get(1) {
        Some(default) if default.is_null() => Ok(Value::null()),
        Some(_) => args::string(args, 1).map(Value::string),
        None => Err(FunctionError::new(format!("environment variable `{name}` is not set"))
            .at(0)
            .with_help(format!("set it before running infra, or give a default: `env(\"{name}\", \"...\")`"))),
    }
}
