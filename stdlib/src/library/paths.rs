//! Built-in functions on path strings, which read nothing: `basename`, `dirname` and
//! `pathexpand`, with Go's `filepath` rules as Terraform has them (`/` separators,
//! lexical cleaning), and the `~` expansion that the file functions share.
//!
//! docs/functions/files.md is the reference for users.

use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::Value;

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] =
    &[("basename", basename), ("dirname", dirname), ("pathexpand", pathexpand)];

/// The last element of a path, trailing slashes ignored; `"."` for an empty path and
/// `"/"` for a path of slashes only (Go's `filepath.Base`).
fn basename(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let path = args::string(args, 0)?;
    if path.is_empty() {
        return Ok(Value::string("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::string("/"));
    }
    Ok(Value::string(trimmed.rsplit('/').next().unwrap_or(trimmed)))
}

/// Everything before the last `/`, cleaned (Go's `filepath.Dir`).
fn dirname(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let path = args::string(args, 0)?;
    let head = path.rfind('/').map_or("", |last| &path[..=last]);
    Ok(Value::string(clean(head)))
}

fn pathexpand(args: &[Value], context: &CallContext<'_>) -> FunctionResult {
    let path = args::string(args, 0)?;
    expand_home(&path, context).map(Value::string).map_err(|error| error.at(0))
}

/// `path` with a leading `~` (alone or before a `/`) replaced by the home directory, the
/// value of `HOME`, and the result cleaned; any other path unchanged. `~user` is an
/// error, as in Terraform.
pub(crate) fn expand_home(path: &str, context: &CallContext<'_>) -> Result<String, FunctionError> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path.to_string());
    };
    if !rest.is_empty() && !rest.starts_with(['/', '\\']) {
        return Err(FunctionError::new(format!("cannot expand `~` in `{path}`: another user's home directory"))
            .with_help("only a leading `~` or `~/` (your own home directory) is expanded"));
    }
    let home = (context.env)("HOME").filter(|home| !home.is_empty()).ok_or_else(|| {
        FunctionError::new(format!("cannot expand `~` in `{path}`: the HOME environment variable is not set"))
            .with_help("set HOME, or write the path in full")
    })?;
    Ok(clean(&format!("{home}/{rest}")))
}

/// The shortest path equal to `path` by lexical processing, as Go's `filepath.Clean`:
/// repeated and trailing slashes, `.` elements and `..` after a name are removed; `..`
/// at the root stays at the root; an empty result is `"."`.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}
