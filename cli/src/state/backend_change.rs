//! A backend change that left the state behind: the configuration now names another
//! backend (a `state` block added, `--state-url` given) whose state is empty, while the
//! local files beside the module still hold the state. Planning there would create every
//! object a second time, so `plan`, `apply`, `destroy`, `import` and `refresh` refuse it
//! (E0728) until the state is moved with `infra state migrate --from local`, or the
//! local file is renamed as stale. Terraform refuses the same way ("backend
//! configuration changed") until `init -migrate-state`.
//!
//! The other direction (a `state` block removed, the local state empty) is caught by a
//! marker: each time a session opens a state that the module's `state` block places
//! elsewhere than the local files, the location is recorded, per workspace, in
//! `.infra/state-location` beside the module; a local state of that workspace that is
//! new beside such a record is refused the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infra_runtime::state::envelope::Encryption;
use infra_runtime::state::workspace::DEFAULT_WORKSPACE;
use infra_runtime::state::{LocalBackend, StateBackend, StateError, StateErrorKind};

use crate::session::{StateLocation, Store, LOCAL_WORKSPACES_DIR};

/// Where, beside the module, the last state location other than the local files is
/// recorded.
pub const MARKER: &str = ".infra/state-location";

/// The directory of the local files of `workspace` of the module in `module_dir`.
pub fn local_dir(module_dir: &Path, workspace: &str) -> PathBuf {
    if workspace == DEFAULT_WORKSPACE {
        module_dir.to_path_buf()
    } else {
        module_dir.join(LOCAL_WORKSPACES_DIR).join(workspace)
    }
}

/// Whether `location` is the local files of the module in `module_dir`.
fn is_local_files(location: &StateLocation, module_dir: &Path) -> bool {
    match &location.store {
        Store::Local { module_dir: dir, .. } => same_dir(dir, module_dir),
        _ => false,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// The keys `location` has, also accepting a state in the clear: the local copy may
/// predate encryption.
fn reading(location: &StateLocation) -> Option<Encryption> {
    location.encryption.clone().map(|encryption| Encryption { accept_plain: true, ..encryption })
}

/// The number of instances the state `backend` keeps, and whether it is new (never
/// written, nothing in it); `None` when it cannot be read (the session's own load
/// reports why).
fn contents(backend: &dyn StateBackend) -> Option<(usize, bool)> {
    let state = backend.load().ok()?.state;
    Some((state.instances.len(), state.serial == 0 && state.instances.is_empty()))
}

/// Refuses a session whose configured state is empty while the state was left behind:
/// in the local files beside the module (when the configured state is elsewhere), or,
/// when the configured state is the local files, at the location the marker records.
/// `state_url_given` says whether the location came from `--state-url`.
pub fn refuse_left_behind(
    location: &StateLocation,
    module_dir: &Path,
    state_url_given: bool,
) -> Result<(), StateError> {
    let workspace = location.workspace();
    if is_local_files(location, module_dir) {
        return refuse_marked(location, module_dir);
    }
    let local = LocalBackend::new(local_dir(module_dir, workspace)).with_encryption(reading(location));
    if !local.state_path().is_file() {
        return Ok(());
    }
    let Some((count, _)) = contents(&local).filter(|(count, _)| *count > 0) else { return Ok(()) };
    let Ok(configured) = location.backend() else { return Ok(()) };
    if contents(configured.as_ref()).is_none_or(|(_, new)| !new) {
        return Ok(());
    }
    let mut command = "infra state migrate --from local".to_string();
    command.push_str(&module_flag(module_dir));
    if workspace != DEFAULT_WORKSPACE {
        command.push_str(&format!(" --workspace {workspace}"));
    }
    let origin = if state_url_given { " with the same `--state-url`" } else { "" };
    let path = local.state_path();
    Err(StateError::new(
        StateErrorKind::LeftBehind,
        format!(
            "the state at {} is empty, but `{}` beside the module holds {count} instance{}",
            configured.location(),
            path.display(),
            if count == 1 { "" } else { "s" }
        ),
    )
    .with_help(format!(
        "the backend changed and the state was not moved: planning now would create every object again. Move it \
         with `{command}`{origin}, then run this again. If that file is stale (its objects are gone or managed \
         elsewhere), rename it (to `{name}.old`, say) and run this again; nothing was changed",
        name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
    ))
    .at(&path))
}

/// ` --module DIR` unless the module is the current directory.
fn module_flag(module_dir: &Path) -> String {
    if module_dir == Path::new(".") || module_dir.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" --module {}", module_dir.display())
    }
}

/// The local files are configured: refused when they hold a new state while the marker
/// says this module's state (of this workspace) was last kept elsewhere.
fn refuse_marked(location: &StateLocation, module_dir: &Path) -> Result<(), StateError> {
    let marker = module_dir.join(MARKER);
    let recorded = recorded(&marker);
    let Some(recorded) = recorded.get(location.workspace()) else { return Ok(()) };
    let Ok(local) = location.backend() else { return Ok(()) };
    if contents(local.as_ref()).is_none_or(|(_, new)| !new) {
        return Ok(());
    }
    let workspace = location.workspace();
    let mut command = "infra state migrate --to local".to_string();
    command.push_str(&module_flag(module_dir));
    if workspace != DEFAULT_WORKSPACE {
        command.push_str(&format!(" --workspace {workspace}"));
    }
    Err(StateError::new(
        StateErrorKind::LeftBehind,
        format!(
            "the local state of this module is empty, but its state was last kept at {recorded} (recorded in `{}`)",
            marker.display()
        ),
    )
    .with_help(format!(
        "the `state` block was removed and the state was not moved: planning now would create every object \
         again. Put the `state` block back, run `{command}`, then remove the block again. If that state is no longer wanted here, delete `{}` and run this \
         again; nothing was changed",
        marker.display()
    ))
    .at(&marker))
}

/// The marker's lines, `WORKSPACE<TAB>LOCATION`, by workspace.
fn recorded(marker: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(marker).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(workspace, shown)| (workspace.to_string(), shown.to_string()))
        .collect()
}

fn write_recorded(marker: &Path, recorded: &BTreeMap<String, String>) {
    if recorded.is_empty() {
        let _ = std::fs::remove_file(marker);
        return;
    }
    let text: String = recorded.iter().map(|(workspace, shown)| format!("{workspace}\t{shown}\n")).collect();
    if let Some(parent) = marker.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(marker, text);
}

/// Records `location`, which the module's `state` block names, as where the state of
/// its workspace is kept, for [`refuse_marked`]; the local files are not recorded. A
/// location given by `--state-url` is not either: the marker stands for the module's
/// own configuration. A failure to write it is not an error: the marker only guards
/// against a later mistake.
pub fn record(location: &StateLocation, module_dir: &Path) {
    if is_local_files(location, module_dir) {
        return;
    }
    let Ok(backend) = location.backend() else { return };
    let marker = module_dir.join(MARKER);
    let mut entries = recorded(&marker);
    let shown = backend.location();
    if entries.get(location.workspace()) == Some(&shown) {
        return;
    }
    entries.insert(location.workspace().to_string(), shown);
    write_recorded(&marker, &entries);
}

/// Forgets the marker of `workspace`: its state was moved back into the local files.
pub fn forget(module_dir: &Path, workspace: &str) {
    let marker = module_dir.join(MARKER);
    let mut entries = recorded(&marker);
    if entries.remove(workspace).is_some() {
        write_recorded(&marker, &entries);
    }
}
