//! `ssh.file` and the data source `ssh.file`.
//!
//! A file is written atomically: its content goes to a temporary file in a private
//! directory (mode 0700) made beside it (so the rename stays on one file system), which
//! gets its permissions and owner, is checked by `validate`, and only then is renamed
//! over the real one. A failure at any step leaves the old file as it was and removes
//! the temporary file and directory. Nothing anyone else could swap is ever chmodded or
//! chowned: no one else may enter the private directory, and the script works inside it
//! (see `write_script`), so a link put in place of the temporary file, or of the
//! directory itself, in a directory others may write in never leads `chmod`, `chown` or
//! `chgrp` (which follow links), run as root, to `/etc/shadow`.
//!
//! Drift: the server's SHA-256 of the content, permissions and owner are read (for all
//! files of a host with one command, `stat.rs`); a different hash shows as a change of
//! `sha256` and, for a file written from `content`, of `content` itself, so the plan can
//! show the lines that differ.
//!
//! The rename is always `mv -T` (no target directory): `path` is the file itself, never a
//! directory to move the file into. Something may take the file's place between the
//! plan, or the script's own check, and the rename (anyone who may write in the file's
//! directory, during an upload or a slow `validate`); a plain `mv` would then drop the
//! new file into a directory planted there, or into the directory a planted link points
//! at, and report success. `mv -T` replaces a link itself and fails on a directory.
//!
//! A symbolic link at `path` is never written or read through: the rename replaces the
//! link itself, a link where the file was reads as the file gone (created again, with
//! `adopt.rs`' warning naming the link), deleting leaves a link alone, and a link cannot
//! be imported. Only the data source reads through a link, as `cat` does.

use std::path::Path;

use base64::Engine as _;
use infra_compiler::schema::Schema;
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, plan_attributes};
use infra_runtime::provider::{warn, Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use sha2::{Digest, Sha256};

use crate::connection::Connection;
use crate::shell::{self, quote};
use crate::stat::{format_mode, keep_equal_mode, parse_mode, set_ownership, Entry, Facts};
use crate::{failed, with_fingerprint, Ssh};

/// The three ways to give a file's content; exactly one is set.
const BODIES: [&str; 3] = ["content", "source", "content_base64"];

/// The exit status of the write script when `validate` refused the temporary file.
const VALIDATE_FAILED: u32 = 3;
/// The exit status of the write script when `path` is a directory: before the upload,
/// or put there while the script ran (then `mv -T` refused to rename over it).
const IS_DIRECTORY: u32 = 4;
/// The exit status of the write script when the upload did not arrive whole (the
/// connection dropped, or Infra was killed): the temporary file is not renamed.
const INCOMPLETE: u32 = 5;
/// The exit status of the write script when the server's `mv -T` would not rename the
/// temporary file over the symbolic link at `path` (BusyBox's refuses a link to a
/// directory): the link stays, and nothing was written through it.
const LINK_NOT_REPLACED: u32 = 6;
/// The exit status of `read_whole`'s script, for an import, when `path` is a symbolic
/// link (its target on standard output).
const IS_LINK: u32 = 4;

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    let set: Vec<&str> = BODIES.into_iter().filter(|name| !attribute(config, name).is_null()).collect();
    if set.len() != 1 {
        errors.push(
            ProviderError::new("set exactly one of `content`, `source` and `content_base64`")
                .with_help("`content` is text, `source` a local file to upload, `content_base64` binary content"),
        );
    }
    if let Some(command) = attribute(config, "validate").as_str() {
        if !command.contains("%s") {
            errors.push(
                ProviderError::new("`validate` does not mention `%s`")
                    .on_attribute("validate")
                    .with_help("`%s` stands for the uploaded temporary file, as in \"nginx -t -c %s\""),
            );
        }
    }
    if let Some(encoded) = attribute(config, "content_base64").as_str() {
        if base64::engine::general_purpose::STANDARD.decode(encoded).is_err() {
            errors.push(ProviderError::new("`content_base64` is not Base64").on_attribute("content_base64"));
        }
    }
    errors
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The content the attributes give; `None` while it is unknown.
fn body(module_dir: &Path, attributes: &Attributes) -> ProviderResult<Option<Vec<u8>>> {
    if BODIES.iter().any(|name| !attribute(attributes, name).is_known()) {
        return Ok(None);
    }
    if let Some(content) = attribute(attributes, "content").as_str() {
        return Ok(Some(content.as_bytes().to_vec()));
    }
    if let Some(encoded) = attribute(attributes, "content_base64").as_str() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| ProviderError::new("`content_base64` is not Base64").on_attribute("content_base64"))?;
        return Ok(Some(bytes));
    }
    let Some(source) = attribute(attributes, "source").as_str() else {
        return Err(ProviderError::new("set exactly one of `content`, `source` and `content_base64`"));
    };
    let path = module_dir.join(source);
    std::fs::read(&path).map(Some).map_err(|error| {
        let why = match error.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => "is a directory".to_string(),
            _ => format!("cannot be read ({error})"),
        };
        ProviderError::new(format!("the `source` file `{}` {why}", path.display())).on_attribute("source").with_help(
            format!(
                "`source` is read when planning, relative to the root module's directory ({}); for a file another \
                 resource writes, give its text with `content` instead",
                module_dir.display()
            ),
        )
    })
}

pub fn plan(
    schema: &Schema,
    module_dir: &Path,
    prior: Option<&Attributes>,
    config: &Attributes,
) -> ProviderResult<Attributes> {
    let mut planned = plan_attributes(schema, prior, config, &[("mode", Value::string("0644"))]);
    keep_equal_mode(&mut planned, prior);
    // `source` is read now: a file that is missing fails the plan, not the apply. (One
    // whose name is not known yet is hashed at apply.)
    let desired = body(module_dir, config)?.map(|bytes| sha256_hex(&bytes));
    // The engine hands an unset `sha256` over as the prior one (what the server has):
    // only a value that is neither that nor the content's hash was configured, and
    // must match.
    let configured = attribute(config, "sha256")
        .as_str()
        .filter(|c| prior.is_none_or(|p| attribute(p, "sha256").as_str() != Some(c)));
    if let (Some(desired), Some(configured)) = (&desired, configured) {
        if desired != configured {
            return Err(ProviderError::new(format!(
                "the content's SHA-256 is {desired}, not the `sha256` configured ({configured})"
            ))
            .on_attribute("sha256"));
        }
    }
    let sha256 = desired.map_or_else(|| Value::unknown(Type::String), Value::string);
    planned.insert("sha256".to_string(), sha256);
    Ok(planned)
}

/// The private directory beside `path` the new file is written in (so the rename stays
/// on one file system), unique on this machine and in this run, and the file's path in
/// it (the file keeps its own name there, for a `validate` that looks at it).
fn temporary_paths(path: &str) -> (String, String) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let private = format!("{dir}/.{name}.infra-{}", crate::unique_id());
    let file = format!("{private}/{name}");
    (private, file)
}

/// The write script: content on standard input to a file in a private directory beside
/// `path`, permissions, owner, `validate`, rename; then the file's permissions and owner
/// are printed.
///
/// `chmod`, `chown` and `chgrp` follow a symbolic link, and Infra often runs as root: a
/// temporary file in the target's directory could be swapped for a link to `/etc/shadow`
/// by anyone else who may write there, between the upload and the `chmod`. So the file
/// is written in a directory of its own, made with mode 0700 (`mkdir` fails on anything
/// already at its name, a link too), which no one else may enter; the script changes
/// into it and checks that it is its own empty 0700 directory (not one put at its name
/// in between; 2700 in a set-group-ID directory, which passes its bit on), and from
/// then on names the file relative to it (`$f`): the directory renamed or replaced in
/// the shared one afterwards leaves the script where it was. The directory is removed
/// on every path (the `EXIT` trap), and its file with it when the rename did not happen;
/// the file only once the check passed, so a failed check removes nothing but (at most)
/// an empty directory. `validate`'s `%s` is the file's full path in the directory.
fn write_script(path: &str, private: &str, file: &str, sha256: &str, attributes: &Attributes) -> String {
    let name = file.rsplit_once('/').map_or(file, |(_, name)| name);
    // When the connection drops mid-upload, `cat` sees the end of its input early and
    // succeeds: only the hash tells a whole upload from a cut one. The server may also
    // end the script with a signal, which runs the `EXIT` trap only through `exit`.
    let mut script = format!(
        "set -e\np={}\nd={}\nf={}\n\
         if [ -d \"$p\" ] && [ ! -L \"$p\" ]; then echo \"$p is a directory\" >&2; exit {IS_DIRECTORY}; fi\n\
         trap 'exit 1' HUP INT TERM PIPE\nq=$(dirname -- \"$p\")\n\
         if ! (umask 077; mkdir -m 700 -- \"$d\"); then {explain}; exit 1; fi\n\
         trap 'cd / && rmdir -- \"$d\" 2>/dev/null || true' EXIT\ncd -P -- \"$d\"\n\
         case $(stat -c %u:%a .) in \"$(id -u):700\" | \"$(id -u):2700\") ;; *) false ;; esac && [ -z \"$(ls -A)\" ] || \
         {{ echo \"$d was replaced while the file was written\" >&2; exit 1; }}\n\
         trap 'rm -f -- \"$f\"; cd / && rmdir -- \"$d\" 2>/dev/null || true' EXIT\n\
         (umask 077; set -C; cat > \"$f\")\n\
         h=$(sha256sum < \"$f\")\nif [ \"${{h%% *}}\" != {sha256} ]; then echo 'the upload arrived incomplete' >&2; exit {INCOMPLETE}; fi\n",
        quote(path),
        quote(private),
        quote(&format!("./{name}")),
        explain = shell::explain_parent(true),
    );
    let mode = attribute(attributes, "mode").as_str().and_then(parse_mode).unwrap_or(0o644);
    script.push_str(&format!("chmod {mode:o} \"$f\"\n"));
    for (name, tool, format) in [("owner", "chown", "%u"), ("group", "chgrp", "%g")] {
        match attribute(attributes, name).as_str() {
            Some(value) => script.push_str(&format!(
                "{tool} {} \"$f\" || {{ echo {name}; exit {}; }}\n",
                quote(value),
                shell::OWNERSHIP_REFUSED
            )),
            // Left out: an existing file keeps its owner (when the login may give it). A
            // symbolic link's target is not the file being rewritten: the new file is
            // the login user's, as any new file.
            None => script.push_str(&format!(
                "if [ -e \"$p\" ] && [ ! -L \"$p\" ]; then {tool} \"$(stat -c {format} -- \"$p\")\" \"$f\" 2>/dev/null || true; fi\n"
            )),
        }
    }
    if let Some(command) = attribute(attributes, "validate").as_str() {
        let command = command.replace("%s", &quote(file));
        script.push_str(&format!("if ! ( {command} ) >&2; then exit {VALIDATE_FAILED}; fi\n"));
    }
    script.push_str(&rename_script());
    script.push_str("trap - EXIT\ncd / && rmdir -- \"$d\" 2>/dev/null || true\nstat -c '%a|%U:%u|%G:%g' -- \"$p\"\n");
    script
}

/// The rename of the new file `$f` (in the private directory, the script's working
/// directory) to `$p`, and what its failure means.
///
/// `-T` always, not only when `$p` was a link at the check above: whatever is at `$p`
/// now, the file is renamed to `$p` itself or not at all. A plain `mv` would move it
/// into a directory planted at `$p` after the check, or into the directory a planted
/// link points at, and succeed. GNU's `mv -T` replaces a link (to anything) and refuses
/// a directory; BusyBox's refuses a link to a directory too. A `mv` without `-T` fails
/// every write, saying so, rather than fall back to the plain rename.
fn rename_script() -> String {
    format!(
        "if ! mv -fT -- \"$f\" \"$p\"; then\n\
         if [ -L \"$p\" ]; then exit {LINK_NOT_REPLACED}; fi\n\
         if [ -d \"$p\" ]; then echo \"$p is a directory\" >&2; exit {IS_DIRECTORY}; fi\n\
         exit 1\nfi\n"
    )
}

/// Creates or rewrites the file `planned` describes.
pub async fn write(ssh: &Ssh, planned: &Attributes) -> ProviderResult<Attributes> {
    let path = path_of(planned)?;
    let bytes =
        body(&ssh.module_dir, planned)?.ok_or_else(|| ProviderError::new("the file's content is not known yet"))?;
    let connection = ssh.connect(Some(planned)).await?;
    let hash = sha256_hex(&bytes);
    let (private, file) = temporary_paths(&path);
    let script = write_script(&path, &private, &file, &hash, planned);
    let output = connection.run(&script, Some(&bytes), None).await?;
    match output.exit_code {
        Some(0) => {}
        Some(VALIDATE_FAILED) => {
            let error = failed(&format!("`validate` refused the new `{path}`; the file was left as it was:"), &output);
            return Err(ProviderError { message: error.message.replace(": exited", " (exited"), ..error }
                .on_attribute("validate"));
        }
        Some(LINK_NOT_REPLACED) => {
            return Err(ProviderError::new(format!(
                "`{path}` on the server is a symbolic link that the server's `mv -T` would not replace ({}); the link \
                 was left as it was, and nothing was written through it",
                crate::shell::tail(&output.stderr_text())
            ))
            .on_attribute("path")
            .with_help(format!(
                "remove the link (`rm -- {}`) and apply again; to write the file the link points at instead, give its \
                 own path as `path`",
                quote(&path)
            )));
        }
        Some(IS_DIRECTORY) => return Err(is_a_directory(&path)),
        Some(code @ (shell::PARENT_MISSING | shell::PARENT_NOT_DIRECTORY | shell::PARENT_DENIED)) => {
            return Err(parent_error("file", &path, code, output.stdout_text().trim()))
        }
        Some(shell::OWNERSHIP_REFUSED) => {
            let outcome = "nothing was written (a file already there stays as it was)";
            return Err(ownership_refused(&path, outcome, planned, &output));
        }
        _ => return Err(failed(&format!("writing `{path}`"), &output).on_attribute("path")),
    }
    let line = output.stdout_text();
    let fields: Vec<&str> = line.trim().split('|').collect();
    let mut written = planned.clone();
    written.insert("id".to_string(), Value::string(path.clone()));
    if let [mode, owner, group] = fields[..] {
        set_ownership(&mut written, mode, owner, group);
    }
    written.insert("sha256".to_string(), Value::string(hash));
    Ok(with_fingerprint(written, &connection))
}

pub async fn read(ssh: &Ssh, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    let facts = match ssh.stats.entry(connection.clone(), &path).await? {
        Entry::Missing => return Ok(None),
        // The regular file Infra wrote is gone: a link took its place. It is created
        // again, replacing the link; the warning says so (the plan's create gives the
        // same one, see `adopt.rs`).
        Entry::Link(target) => {
            warn(crate::adopt::symbolic_link("file", &path, &target));
            return Ok(None);
        }
        Entry::File(facts) => facts,
        Entry::Directory(_) | Entry::Other => return Err(not_a_file(&path)),
    };
    let mut found = current.clone();
    set_ownership(&mut found, &format_mode(facts.mode), &facts.owner, &facts.group);
    if attribute(current, "sha256").as_str() != Some(facts.sha256.as_str()) {
        found.insert("sha256".to_string(), Value::string(facts.sha256.clone()));
        // Show what the server has in the form the configuration uses, so the plan
        // shows the change; a `source` file's drift shows in `sha256` alone. A file
        // not every user of the server may read may hold a secret: its content is never
        // read, and the plan shows that it differs (see `hidden`).
        let text = !attribute(current, "content").is_null();
        if text || !attribute(current, "content_base64").is_null() {
            if shown(facts.mode) {
                let bytes = fetch(&connection, &path).await?;
                put_body(&mut found, bytes, text);
            } else {
                let name = if text { "content" } else { "content_base64" };
                found.insert(name.to_string(), Value::string(hidden(&facts.sha256)));
            }
        }
    }
    Ok(Some(with_fingerprint(found, &connection)))
}

/// Whether the server's content of a file with permissions `mode` may be shown in a
/// plan (and kept in the state): only when every user of the server may read it. A file
/// the server itself keeps private (`/etc/shadow`, a 0600 token) may hold a secret that
/// must not reach a plan, a CI log or the state; its drift shows as its SHA-256.
fn shown(mode: u32) -> bool {
    mode & 0o004 != 0
}

/// What `content` records in place of a private file's content that differs on the
/// server.
fn hidden(sha256: &str) -> String {
    format!("(not shown: the file on the server is not readable by every user; its content has SHA-256 {sha256})")
}

/// Sets `content` (as text, when `text` is asked for and the bytes are UTF-8) or
/// `content_base64`.
fn put_body(attributes: &mut Attributes, bytes: Vec<u8>, text: bool) {
    let encode = |bytes: &[u8]| Value::string(base64::engine::general_purpose::STANDARD.encode(bytes));
    match String::from_utf8(bytes) {
        Ok(content) if text => {
            attributes.insert("content".to_string(), Value::string(content));
        }
        Ok(content) => {
            attributes.insert("content_base64".to_string(), encode(content.as_bytes()));
        }
        Err(error) => {
            let bytes = error.into_bytes();
            attributes.insert("content".to_string(), Value::null());
            attributes.insert("content_base64".to_string(), encode(&bytes));
        }
    }
}

/// The file's bytes.
async fn fetch(connection: &Connection, path: &str) -> ProviderResult<Vec<u8>> {
    let output = connection.run(&format!("cat -- {}", quote(path)), None, None).await?;
    if !output.succeeded() {
        return Err(failed(&format!("reading `{path}`"), &output).on_attribute("path"));
    }
    Ok(output.stdout)
}

/// The write's error when a directory is at `path`: found before the upload, or put
/// there while the script ran (the rename refused it). Nothing was written, in the
/// directory or anywhere else.
fn is_a_directory(path: &str) -> ProviderError {
    ProviderError::new(format!(
        "`{path}` on the server is a directory, not the file: nothing was written, and nothing was put in the \
         directory"
    ))
    .on_attribute("path")
    .with_help(format!(
        "move the directory out of the way (or remove it: `rmdir -- {}` when it is empty) and apply again; to \
         manage a directory, use `ssh.directory`",
        quote(path)
    ))
}

/// The error when the file or directory (`what`) at `path` could not be made in its
/// directory, as `shell::explain_parent` found (`code`, and what it printed: the
/// directory concerned). Nothing was made.
pub(crate) fn parent_error(what: &str, path: &str, code: u32, printed: &str) -> ProviderError {
    let error = match code {
        shell::PARENT_MISSING => ProviderError::new(format!(
            "the directory `{printed}` does not exist on the server, so the {what} `{path}` cannot be written in it"
        ))
        .with_help(format!(
            "a file is written only in a directory that exists: manage `{printed}` with an `ssh.directory` (made with \
             its parents) and build this `path` from it, as in `path = \"${{NAME.path}}/{}\"`, so that the directory \
             is made first",
            path.rsplit_once('/').map_or(path, |(_, name)| name)
        )),
        shell::PARENT_NOT_DIRECTORY => ProviderError::new(format!(
            "`{printed}` on the server is not a directory, so the {what} `{path}` cannot be made under it"
        ))
        .with_help(format!(
            "move what is at `{printed}` out of the way (`ls -ld -- {}` shows what it is), or give another `path`",
            quote(printed)
        )),
        _ => {
            let (verb, directory) = printed.split_once('|').unwrap_or(("write in", printed));
            ProviderError::new(format!(
                "the login user may not {verb} the directory `{directory}` on the server (permission denied), so the \
                 {what} `{path}` cannot be made"
            ))
            .with_help(
                "log in as a user who may, or set `sudo = true` in the `provider ssh` block to work as root (the \
                 login user then needs `sudo` without a password)",
            )
        }
    };
    error.on_attribute("path")
}

/// The error when the server's `chown` or `chgrp` refused the `owner` or `group`
/// configured (the script printed which; the tool's complaint is on standard error);
/// `outcome` says what was left.
pub(crate) fn ownership_refused(
    path: &str,
    outcome: &str,
    planned: &Attributes,
    output: &crate::connection::Output,
) -> ProviderError {
    let name = if output.stdout_text().trim() == "group" { "group" } else { "owner" };
    let value = attribute(planned, name).as_str().unwrap_or_default();
    ProviderError::new(format!(
        "`{path}` could not be given the {name} `{value}` ({}); {outcome}",
        crate::shell::tail(&output.stderr_text())
    ))
    .on_attribute(name)
    .with_help(match name {
        "group" => {
            "the group must exist on the server, and a login user who is not root may give a file only to a \
                    group it is in: set `sudo = true` in the `provider ssh` block to work as root, or leave `group` \
                    out"
        }
        _ => {
            "the owner must exist on the server, and only root may give a file to another user: set `sudo = true` \
              in the `provider ssh` block to work as root, or leave `owner` out"
        }
    })
}

fn not_a_file(path: &str) -> ProviderError {
    ProviderError::new(format!("`{path}` on the server is not a regular file"))
        .on_attribute("path")
        .with_help("remove what is there, or manage a directory with `ssh.directory`")
}

pub async fn delete(ssh: &Ssh, current: &Attributes) -> ProviderResult<()> {
    let path = path_of(current)?;
    let connection = ssh.connect(Some(current)).await?;
    // A symbolic link at `path` is not the file Infra wrote (that is gone, see `read`):
    // it is left as it is.
    let script = format!(
        "p={}\nif [ -L \"$p\" ]; then exit 0; fi\nif [ -d \"$p\" ]; then echo \"$p is a directory\" >&2; exit 1; fi\nrm -f -- \"$p\"",
        quote(&path)
    );
    let output = connection.run(&script, None, None).await?;
    if output.succeeded() {
        Ok(())
    } else {
        Err(failed(&format!("deleting `{path}`"), &output).on_attribute("path"))
    }
}

/// The file at `path` (the id), with the content, permissions and owner it has.
pub async fn import(ssh: &Ssh, id: &str) -> ProviderResult<Attributes> {
    let connection = ssh.connect(None).await?;
    let (facts, bytes) = read_whole(&connection, id, false).await?;
    let mut imported = Attributes::new();
    imported.insert("id".to_string(), Value::string(id));
    imported.insert("path".to_string(), Value::string(id));
    // A private file's content stays on the server (see `shown`): the plan after the
    // import shows the configured content and both hashes.
    if shown(facts.mode) {
        put_body(&mut imported, bytes, true);
    }
    imported.insert("mode".to_string(), Value::string(format_mode(facts.mode)));
    imported.insert("owner".to_string(), Value::string(facts.owner));
    imported.insert("group".to_string(), Value::string(facts.group));
    imported.insert("sha256".to_string(), Value::string(facts.sha256));
    Ok(with_fingerprint(imported, &connection))
}

pub async fn read_data(ssh: &Ssh, config: &Attributes) -> ProviderResult<Attributes> {
    let path = path_of(config)?;
    let connection = ssh.connect_unrecorded().await?;
    let (facts, bytes) = read_whole(&connection, &path, true).await?;
    let mut attributes = config.clone();
    attributes.insert("id".to_string(), Value::string(path.clone()));
    attributes
        .insert("content_base64".to_string(), Value::string(base64::engine::general_purpose::STANDARD.encode(&bytes)));
    let content = String::from_utf8(bytes).map_err(|_| {
        ProviderError::new(format!("`{path}` is not UTF-8 text"))
            .on_attribute("path")
            .with_help("use `content_base64` for binary files; `content` is an error for them")
    });
    attributes.insert("content".to_string(), content.map(Value::string).unwrap_or_else(|_| Value::null()));
    attributes.insert("mode".to_string(), Value::string(format_mode(facts.mode)));
    attributes.insert("owner".to_string(), Value::string(facts.owner));
    attributes.insert("group".to_string(), Value::string(facts.group));
    attributes.insert("sha256".to_string(), Value::string(facts.sha256));
    Ok(with_fingerprint(attributes, &connection))
}

/// A file's permissions, owner and content, with one command; through a symbolic link
/// at `path` when `follow` (the data source, as `cat` reads), else a link is an error
/// (an import: `ssh.file` manages a regular file at `path`).
async fn read_whole(connection: &Connection, path: &str, follow: bool) -> ProviderResult<(Facts, Vec<u8>)> {
    let link = match follow {
        true => String::new(),
        false => format!("if [ -L \"$p\" ]; then readlink -- \"$p\"; exit {IS_LINK}; fi\n"),
    };
    let script = format!(
        "p={}\n{link}if [ ! -e \"$p\" ]; then exit 2; fi\nif [ ! -f \"$p\" ]; then exit 3; fi\nstat -L -c '%a|%U|%G' -- \"$p\"\ncat -- \"$p\"",
        quote(path)
    );
    let output = connection.run(&script, None, None).await?;
    match output.exit_code {
        Some(0) => {}
        Some(2) => {
            return Err(ProviderError::new(format!("there is no file `{path}` on the server")).on_attribute("path"))
        }
        Some(3) => return Err(not_a_file(path)),
        Some(IS_LINK) if !follow => {
            let target = output.stdout_text();
            return Err(crate::adopt::link_not_imported("file", path, target.trim_end_matches('\n')));
        }
        _ => return Err(failed(&format!("reading `{path}`"), &output).on_attribute("path")),
    }
    let split = output.stdout.iter().position(|b| *b == b'\n').unwrap_or(output.stdout.len());
    let line = String::from_utf8_lossy(&output.stdout[..split]).into_owned();
    let bytes = output.stdout.get(split + 1..).unwrap_or_default().to_vec();
    let fields: Vec<&str> = line.split('|').collect();
    let [mode, owner, group] = fields[..] else {
        return Err(ProviderError::new(format!("unexpected answer about `{path}`: {line}")));
    };
    let facts = Facts {
        mode: parse_mode(mode).unwrap_or(0),
        owner: owner.to_string(),
        group: group.to_string(),
        sha256: sha256_hex(&bytes),
    };
    Ok((facts, bytes))
}

pub fn path_of(attributes: &Attributes) -> ProviderResult<String> {
    match attribute(attributes, "path").as_str() {
        Some(path) => Ok(path.to_string()),
        None => Err(ProviderError::new("`path` is not set").on_attribute("path")),
    }
}
