//! Saved plans: `infra plan --out FILE` records what was planned and what it was based
//! on; `infra apply FILE` applies it only if the state, the configuration and the inputs
//! are what they were, and planning again gives exactly the saved actions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::Analysis;
use infra_runtime::plan::Plan;
use infra_runtime::state::State;
use infra_runtime::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const FORMAT: &str = "infra-plan/1";

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct SavedPlan {
    format: String,
    /// The root module's directory, absolute.
    pub module_dir: PathBuf,
    lineage: String,
    serial: u64,
    /// SHA-256 of the configuration files and the input values.
    digest: String,
    /// Every planned change: address and action.
    actions: Vec<(String, String)>,
}

/// The digest of what a plan is based on besides the state.
pub fn digest(analysis: &Analysis, inputs: &BTreeMap<String, Value>) -> String {
    let mut hasher = Sha256::new();
    // Paths relative to the root module, so `infra plan` in the module and
    // `infra apply FILE` elsewhere agree.
    let root = analysis.modules.first().map(|m| m.dir.as_path()).unwrap_or(Path::new("."));
    let mut files: Vec<(&Path, &str)> =
        analysis.sources.iter().map(|(_, f)| (f.path.strip_prefix(root).unwrap_or(&f.path), f.text.as_str())).collect();
    files.sort();
    for (path, text) in files {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    for (name, value) in inputs {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        // Secrets are hashed, never stored.
        hasher.update(value.unmarked_deep().to_string().as_bytes());
        hasher.update([0]);
    }
    hex_string(&hasher.finalize())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn actions(plan: &Plan) -> Vec<(String, String)> {
    plan.changes().map(|i| (i.address.to_string(), i.diff.action.symbol().to_string())).collect()
}

pub fn save(path: &Path, module_dir: &Path, state: &State, digest: String, plan: &Plan) -> std::io::Result<()> {
    let module_dir = std::fs::canonicalize(module_dir)?;
    let saved = SavedPlan {
        format: FORMAT.to_string(),
        module_dir,
        lineage: state.lineage.clone(),
        serial: state.serial,
        digest,
        actions: actions(plan),
    };
    let text = serde_json::to_string_pretty(&saved).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

pub fn load(path: &Path) -> Result<SavedPlan, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(codes::READ_FAILED, format!("cannot read the saved plan `{}`: {e}", path.display()))
            .with_help("pass a file written by `infra plan --out FILE`")
    })?;
    let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| {
        Diagnostic::error(codes::STALE_PLAN, format!("`{}` is not a saved plan: {e}", path.display()))
            .with_help("pass a file written by `infra plan --out FILE`")
    })?;
    if saved.format != FORMAT {
        return Err(Diagnostic::error(
            codes::STALE_PLAN,
            format!("`{}` was saved by another version of Infra", path.display()),
        )
        .with_help("plan again with this version"));
    }
    Ok(saved)
}

/// Refuses a saved plan whose basis moved; `fresh` is the plan made again now.
pub fn verify(saved: &SavedPlan, state: &State, digest: &str, fresh: &Plan) -> Result<(), Diagnostic> {
    let stale = |what: &str| {
        Diagnostic::error(codes::STALE_PLAN, format!("the saved plan no longer applies: {what}"))
            .with_help("run `infra plan --out FILE` again, review it, and apply the new file")
    };
    // A state never written has no lineage of its own yet (each load makes one up).
    let lineage_moved = saved.serial > 0 && saved.lineage != state.lineage;
    if lineage_moved || saved.serial != state.serial {
        return Err(stale("the state changed since it was saved"));
    }
    if saved.digest != digest {
        return Err(stale("the configuration or the input values changed since it was saved"));
    }
    if saved.actions != actions(fresh) {
        return Err(stale("planning again gives different actions (something changed outside of Infra)"));
    }
    Ok(())
}
