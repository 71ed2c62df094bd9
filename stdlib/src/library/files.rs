//! Built-in functions that read outside the configuration: the files `file`,
//! `fileexists`, `templatefile`, `filebase64`, the file hashes such as `filesha256`, and
//! `fileset` (relative to the module's directory, a leading `~` expanded), `abspath`
//! (relative to the working directory, as in Terraform) and `env`; and `templatestring`,
//! which renders as `templatefile` does.
//!
//! Files are read when the call is evaluated, which is at plan time: a file that a
//! resource will create does not exist yet, and the errors say so.
//! docs/functions/files.md is the reference for users.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use sha2::{Digest, Sha256};

use infra_compiler::types::Type;
use infra_runtime::convert::convert;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::ValueMap;
use infra_runtime::Value;

use super::{args, paths, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("file", file),
    ("fileexists", fileexists),
    ("templatefile", templatefile),
    ("templatestring", templatestring),
    ("abspath", abspath),
    ("env", env),
    ("filebase64", filebase64),
    ("filemd5", filemd5),
    ("filesha1", filesha1),
    ("filesha256", filesha256),
    ("filesha512", filesha512),
    ("filebase64sha256", filebase64sha256),
    ("filebase64sha512", filebase64sha512),
    ("fileset", fileset),
];

const CREATED_LATER_HELP: &str =
    "files are read at plan time; for a file that a resource creates, use that resource's attributes instead";

fn file(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    read_text(args, 0, context).map(Value::string)
}

/// Argument `i` as a path relative to the module directory, a leading `~` expanded (an
/// absolute path stays as it is).
fn resolve(args: &[Value], i: usize, context: &CallContext<'_>) -> Result<(String, PathBuf), FunctionError> {
    let path = args::string(args, i)?;
    let expanded = paths::expand_home(&path, context).map_err(|error| error.at(i))?;
    let resolved = context.module_dir.join(expanded);
    Ok((path, resolved))
}

/// The UTF-8 text of the file named by argument `i`; errors name the path as written.
fn read_text(args: &[Value], i: usize, context: &CallContext<'_>) -> Result<String, FunctionError> {
    let (path, bytes) = read_bytes(args, i, context)?;
    String::from_utf8(bytes).map_err(|error| {
        FunctionError::new(format!(
            "`{path}` is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
        .at(i)
        .with_help("only text files can be read into a string; read binary files with `filebase64`")
    })
}

/// The path as written and the bytes of the file named by argument `i`, recorded for a
/// saved plan.
fn read_bytes(args: &[Value], i: usize, context: &CallContext<'_>) -> Result<(String, Vec<u8>), FunctionError> {
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
    Ok((path, bytes))
}

fn filebase64(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let (_, bytes) = read_bytes(args, 0, context)?;
    Ok(Value::string(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

fn filemd5(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<md5::Md5>(args, context, hex::encode)
}

fn filesha1(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<sha1::Sha1>(args, context, hex::encode)
}

fn filesha256(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<sha2::Sha256>(args, context, hex::encode)
}

fn filesha512(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<sha2::Sha512>(args, context, hex::encode)
}

fn filebase64sha256(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<sha2::Sha256>(args, context, base64_encode)
}

fn filebase64sha512(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    file_digest::<sha2::Sha512>(args, context, base64_encode)
}

fn base64_encode(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The digest `D` of the bytes of the file named by the first argument, written by
/// `encode`.
fn file_digest<D: Digest>(
    args: &[Value],
    context: &CallContext<'_>,
    encode: fn(sha2::digest::Output<D>) -> String,
) -> FunctionResult {
    let (_, bytes) = read_bytes(args, 0, context)?;
    Ok(Value::string(encode(D::digest(&bytes))))
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
    check_names(vars)?;
    let text = read_text(args, 0, context)?;
    let path = args::string(args, 0)?;
    render("templatefile", &text, vars, context, &format!("template `{path}`"))
}

/// Terraform refuses a literal template here (it would be rendered before the call);
/// Infra cannot tell a literal from another string, so any string is rendered. Keys of
/// `vars` that are not names are unreachable rather than an error, as in Terraform.
fn templatestring(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let template = args::string(args, 0)?;
    let vars = args::map(args, 1)?;
    render("templatestring", &template, vars, context, "the template")
}

/// A key of `vars` that is not a name is an error.
fn check_names(vars: &ValueMap) -> Result<(), FunctionError> {
    if let Some(name) = vars.keys().find(|name| !is_identifier(name)) {
        return Err(FunctionError::new(format!(
            "invalid template variable name {}",
            infra_runtime::value::quote(name)
        ))
        .at(1)
        .with_help("a variable name starts with a letter or `_`, followed by letters, digits and `_`"));
    }
    Ok(())
}

/// Renders `text` for the function `name`; errors are about `what` ("template `x.tpl`").
fn render(name: &str, text: &str, vars: &ValueMap, context: &CallContext<'_>, what: &str) -> FunctionResult {
    if RENDERING.with(|rendering| rendering.replace(true)) {
        return Err(FunctionError::new(format!("{name} cannot be called from inside a template"))
            .with_help("render the inner template outside and pass the result in as a variable"));
    }
    let _guard = RenderingGuard;
    let value = (context.render_template)(text, vars)
        .map_err(|message| FunctionError::new(format!("in {what}: {message}")).at(0))?;
    convert(&value, &Type::String).map_err(|_| {
        FunctionError::new(format!("{what} produced {}, not a string", args::a_type(&value)))
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

/// The files (not directories) under the directory `path` whose paths relative to it
/// match `pattern`, with `/` separators. The pattern is cleaned first (`./a/../*` is
/// `*`); `*` and `?` do not cross a `/`, `**` crosses any number of directories, and
/// `[...]` and `{a,b}` work as in Terraform's glob. A missing directory has no files.
fn fileset(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let (_, root) = resolve(args, 0, context)?;
    let pattern = paths::clean(&args::string(args, 1)?);
    let matcher = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|error| {
            FunctionError::new(format!("invalid glob pattern {}: {}", infra_runtime::value::quote(&pattern), error.kind()))
                .at(1)
                .with_help("`*` matches within a directory, `**` across directories, `?` one character, `[abc]` one of a set, `{a,b}` either")
        })?
        .compile_matcher();
    // Without `**`, a match is never deeper than the pattern's own elements.
    let depth = if pattern.contains("**") { usize::MAX } else { pattern.split('/').count() };
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&root).min_depth(1).max_depth(depth).follow_links(true) {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&root) else { continue };
        let relative: Vec<String> =
            relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        let relative = relative.join("/");
        if matcher.is_match(&relative) {
            found.push(Value::string(relative));
        }
    }
    Ok(Value::set(found))
}
