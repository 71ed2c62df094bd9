//! Saved plans: `infra plan --out FILE` records what was planned and what it was based
//! on; `infra apply FILE` applies it only if the state, the configuration, the inputs and
//! the environment variables it read are what they were, and planning again (with the
//! saved `--target`, `--exclude`, `--replace` and refresh setting) gives exactly the
//! saved actions and values. Secrets are never written: inputs, environment variables
//! and values are recorded as SHA-256 digests (each input's and environment variable's
//! salted with a random salt of the file, so a common value cannot be looked up in a
//! table). A plan that no longer applies is refused naming what moved: the state, each
//! configuration file changed, added or removed, each input whose value differs.
//!
//! When the state is encrypted, so is the plan: the file keeps its format and the module's
//! directory in the clear (the apply needs them to find the configuration, and so the
//! keys) and the rest sealed with the state's keys (`state::envelope::seal_plan`), so
//! that not even a digest of a secret can be guessed at from it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::Analysis;

use crate::address::Address;
use crate::plan::{Plan, Selection};
use crate::state::envelope::{self, Encryption, SealedPlan};
use crate::state::State;
use crate::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes;

const FORMAT: &str = "infra-plan/5";

/// A saved plan file as stored: the format and the module's directory in the clear, and
/// the plan, or the plan sealed with the state's keys.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct PlanFile {
    format: String,
    /// The root module's directory, absolute.
    pub module_dir: PathBuf,
    /// The workspace the plan was made in (absent from plans saved before it was
    /// recorded): an apply in another one is refused before its state is touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plan: Option<SavedPlan>,
    /// SHA-256 of `plan` as it was written: a plan edited since is refused, rather than
    /// applied with what the edit says (a sealed plan is authenticated instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<SealedPlan>,
    /// The file's path, for messages.
    #[serde(skip)]
    path: PathBuf,
}

/// What a saved plan records besides its format and module directory.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct SavedPlan {
    lineage: String,
    serial: u64,
    /// SHA-256 of the configuration files and the input values.
    digest: String,
    /// Each configuration file (relative to the root module) with the SHA-256 of its
    /// text, so that a refusal names the file that changed.
    sources: BTreeMap<String, String>,
    /// Each input with the SHA-256 of `salt` and its value, so that a refusal names the
    /// input whose value differs without a secret's digest being looked up in a table.
    inputs: BTreeMap<String, String>,
    /// Every planned change: address and action.
    actions: Vec<(String, String)>,
    /// SHA-256 of every planned change's values and of the outputs, so a file the
    /// configuration reads that changed since (and so a value) makes the plan stale.
    values: String,
    /// The selection the plan was made with, applied as saved.
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
    pub replace: Vec<String>,
    /// Whether the plan refreshed the state first (it does unless `--refresh=false`): the
    /// apply plans again the same way, so a plan that showed drift can be applied.
    pub refresh: bool,
    /// The environment variables `env()` read, each with the SHA-256 of `salt` and its
    /// value (`unset` when it was not set).
    environment: BTreeMap<String, String>,
    /// Random, hex: salts the environment variables' digests.
    salt: String,
    /// The files `file()` and `templatefile()` read (absolute paths), each with the
    /// SHA-256 of its content.
    files: BTreeMap<PathBuf, String>,
    /// The plan's time, which `plantimestamp()` gave: the apply plans again at the same
    /// time, so that the values come out the same. Absent from plans saved before it was
    /// recorded.
    #[serde(default)]
    pub plan_timestamp: Option<String>,
}

/// What a saved plan was made with besides the state.
pub struct Basis<'a> {
    /// See [`fingerprint`].
    pub fingerprint: Fingerprint,
    /// The input values the plan was made with.
    pub inputs: &'a BTreeMap<String, Value>,
    pub selection: &'a Selection,
    pub refresh: bool,
    pub environment: &'a EnvironmentReads,
    /// The files the plan read, with their contents' digests.
    pub files: BTreeMap<PathBuf, String>,
    /// See [`SavedPlan::plan_timestamp`].
    pub plan_timestamp: &'a str,
    /// See [`PlanFile::workspace`].
    pub workspace: &'a str,
}

/// The process's environment as `env()` reads it, remembering each variable read.
#[derive(Default)]
pub struct EnvironmentReads {
    read: RefCell<BTreeMap<String, Option<String>>>,
}

impl EnvironmentReads {
    pub fn get(&self, name: &str) -> Option<String> {
        let value = std::env::var(name).ok();
        self.read.borrow_mut().insert(name.to_string(), value.clone());
        value
    }

    fn digests(&self, salt: &str) -> BTreeMap<String, String> {
        self.read.borrow().iter().map(|(name, value)| (name.clone(), value_digest(salt, value.as_deref()))).collect()
    }
}

fn value_digest(salt: &str, value: Option<&str>) -> String {
    value.map_or_else(
        || "unset".to_string(),
        |v| {
            let mut hasher = Sha256::new();
            hasher.update(salt.as_bytes());
            hasher.update([0]);
            hasher.update(v.as_bytes());
            hex_string(&hasher.finalize())
        },
    )
}

fn new_salt() -> String {
    use rand::RngCore as _;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    hex_string(&salt)
}

/// The digest of every planned change's values and of the outputs (secrets included,
/// only as a digest).
fn values_digest(plan: &Plan) -> String {
    let mut hasher = Sha256::new();
    for instance in plan.changes() {
        hasher.update(instance.address.to_string().as_bytes());
        for change in instance.diff.attributes() {
            hasher.update([0]);
            hasher.update(change.name.as_bytes());
            hasher.update([0]);
            if let Some(after) = &change.after {
                hasher.update(crate::salted::stand_ins(after.unmarked_deep().to_string()).as_bytes());
            }
        }
        hasher.update([1]);
    }
    for (name, value) in &plan.outputs {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(crate::salted::stand_ins(value.unmarked_deep().to_string()).as_bytes());
        hasher.update([1]);
    }
    hex_string(&hasher.finalize())
}

impl SavedPlan {
    /// The selection it was made with.
    pub fn selection(&self) -> Result<Selection, Diagnostic> {
        let parse = |texts: &[String]| -> Result<Vec<Address>, Diagnostic> {
            texts
                .iter()
                .map(|t| {
                    t.parse::<Address>().map_err(|e| {
                        Diagnostic::error(codes::STALE_PLAN, format!("the saved plan names `{t}`: {}", e.message))
                            .with_help("plan again with this version")
                    })
                })
                .collect()
        };
        Ok(Selection {
            targets: parse(&self.targets)?,
            excludes: parse(&self.excludes)?,
            replace: parse(&self.replace)?,
        })
    }
}

/// What a plan is based on besides the state: the digest of the configuration files
/// and the input values together, and each file's own digest.
#[derive(Clone, Debug, Default)]
pub struct Fingerprint {
    pub digest: String,
    /// Each configuration file, relative to the root module, with the SHA-256 of its
    /// text (`changed` for a file changed since it was parsed).
    pub sources: BTreeMap<String, String>,
}

/// The fingerprint of the configuration and the input values.
pub fn fingerprint(analysis: &Analysis, inputs: &BTreeMap<String, Value>) -> Fingerprint {
    let mut hasher = Sha256::new();
    let mut sources = BTreeMap::new();
    // Paths relative to the root module, so `infra plan` in the module and
    // `infra apply FILE` elsewhere agree.
    let root = analysis.modules.first().map(|m| m.dir.as_path()).unwrap_or(Path::new("."));
    let mut files: Vec<(&Path, Option<&str>)> =
        analysis.sources.iter().map(|(_, f)| (f.path.strip_prefix(root).unwrap_or(&f.path), f.read())).collect();
    files.sort();
    for (path, text) in files {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update([0]);
        // A file changed since it was parsed (its text released and not found again) is
        // hashed as a byte no text holds: the digest then matches no configuration, and
        // a plan made of the old text is not applied to the new.
        let own = match text {
            Some(text) => {
                hasher.update(text.as_bytes());
                hex_string(&Sha256::digest(text.as_bytes()))
            }
            None => {
                hasher.update([0xff]);
                "changed".to_string()
            }
        };
        hasher.update([0]);
        sources.insert(path.to_string_lossy().into_owned(), own);
    }
    for (name, value) in inputs {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        // Secrets are hashed, never stored.
        hasher.update(value.unmarked_deep().to_string().as_bytes());
        hasher.update([0]);
    }
    Fingerprint { digest: hex_string(&hasher.finalize()), sources }
}

/// Each input's value as a saved plan records it: salted, hashed, never in the clear.
fn input_digests(salt: &str, inputs: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    inputs
        .iter()
        .map(|(name, value)| (name.clone(), value_digest(salt, Some(&value.unmarked_deep().to_string()))))
        .collect()
}

/// SHA-256 of a plan's serialized contents, hex.
fn checksum(contents: &[u8]) -> String {
    hex_string(&Sha256::digest(contents))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn actions(plan: &Plan) -> Vec<(String, String)> {
    plan.changes().map(|i| (i.address.to_string(), i.diff.action.symbol().to_string())).collect()
}

/// Saves `plan` to `path`, sealed with `encryption` when the state is encrypted.
pub fn save(
    path: &Path,
    module_dir: &Path,
    state: &State,
    encryption: Option<&Encryption>,
    basis: Basis<'_>,
    plan: &Plan,
) -> std::io::Result<()> {
    let module_dir = std::fs::canonicalize(module_dir)?;
    let texts = |addresses: &[Address]| addresses.iter().map(ToString::to_string).collect();
    let salt = new_salt();
    let saved = SavedPlan {
        lineage: state.lineage.clone(),
        serial: state.serial,
        digest: basis.fingerprint.digest,
        sources: basis.fingerprint.sources,
        inputs: input_digests(&salt, basis.inputs),
        actions: actions(plan),
        values: values_digest(plan),
        targets: texts(&basis.selection.targets),
        excludes: texts(&basis.selection.excludes),
        replace: texts(&basis.selection.replace),
        refresh: basis.refresh,
        environment: basis.environment.digests(&salt),
        salt,
        files: basis.files,
        plan_timestamp: Some(basis.plan_timestamp.to_string()),
    };
    let contents = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
    let sealed = envelope::seal_plan(encryption, &contents, FORMAT, &module_dir.to_string_lossy())
        .map_err(|e| std::io::Error::other(e.message))?;
    let checksum = sealed.is_none().then(|| checksum(&contents));
    let plan = sealed.is_none().then_some(saved);
    let workspace = Some(basis.workspace.to_string());
    let file =
        PlanFile { format: FORMAT.to_string(), module_dir, workspace, plan, checksum, sealed, path: PathBuf::new() };
    let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Reads a saved plan file: its format and module directory; [`PlanFile::open`] gives
/// the plan.
pub fn load(path: &Path) -> Result<PlanFile, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(
            infra_compiler::diagnostic::codes::READ_FAILED,
            format!("cannot read the saved plan `{}`: {e}", path.display()),
        )
        .with_help("pass a file written by `infra plan --out FILE`")
    })?;
    let not_a_plan = |why: String| {
        Diagnostic::error(codes::STALE_PLAN, format!("`{}` is not a saved plan: {why}", path.display()))
            .with_help("pass a file written by `infra plan --out FILE`")
    };
    // The format first, so a file of another version is named as such.
    let header: serde_json::Value = serde_json::from_str(&text).map_err(|e| not_a_plan(e.to_string()))?;
    if header.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        if header.get("format").is_none() {
            return Err(not_a_plan("it has no `format`".to_string()));
        }
        return Err(Diagnostic::error(
            codes::STALE_PLAN,
            format!("`{}` was saved by another version of Infra", path.display()),
        )
        .with_help("plan again with this version"));
    }
    let mut file: PlanFile = serde_json::from_value(header).map_err(|e| not_a_plan(e.to_string()))?;
    file.path = path.to_path_buf();
    Ok(file)
}

impl PlanFile {
    /// The plan it holds, decrypted with the state's keys when it is sealed.
    pub fn open(self, encryption: Option<&Encryption>) -> Result<SavedPlan, Diagnostic> {
        let name = self.path.display().to_string();
        let not_a_plan = |why: String| {
            Diagnostic::error(codes::STALE_PLAN, format!("`{name}` is not a saved plan: {why}"))
                .with_help("pass a file written by `infra plan --out FILE`")
        };
        match (self.plan, self.sealed) {
            (Some(plan), None) => {
                envelope::check_plain_plan(encryption, &name).map_err(|e| e.to_diagnostic())?;
                let contents = serde_json::to_vec(&plan).map_err(|e| not_a_plan(e.to_string()))?;
                if self.checksum.as_deref() != Some(checksum(&contents).as_str()) {
                    return Err(Diagnostic::error(
                        codes::STALE_PLAN,
                        format!("`{name}` was changed after it was saved: its checksum does not match its plan"),
                    )
                    .with_help(
                        "a saved plan is applied only as it was written: plan again with `infra plan --out FILE`",
                    ));
                }
                Ok(plan)
            }
            (None, Some(sealed)) => {
                let contents =
                    envelope::open_plan(encryption, &sealed, &self.format, &self.module_dir.to_string_lossy(), &name)
                        .map_err(|e| e.to_diagnostic())?;
                serde_json::from_slice(&contents).map_err(|e| not_a_plan(e.to_string()))
            }
            _ => Err(not_a_plan("it must hold either `plan` or `sealed`".to_string())),
        }
    }
}

/// How the files a plan read are digested now: the function library's digest of a
/// file's content, `None` when it cannot be read.
pub type FileDigest<'a> = &'a dyn Fn(&Path) -> Option<String>;

/// What a saved plan is checked against: the state, the configuration and the inputs
/// now, and the plan made again now.
pub struct Now<'a> {
    pub state: &'a State,
    pub fingerprint: &'a Fingerprint,
    pub inputs: &'a BTreeMap<String, Value>,
    pub plan: &'a Plan,
}

const PLAN_AGAIN: &str = "run `infra plan --out FILE` again, review it, and apply the new file";

fn stale(what: &str) -> Diagnostic {
    Diagnostic::error(codes::STALE_PLAN, format!("the saved plan no longer applies: {what}")).with_help(PLAN_AGAIN)
}

/// Refuses a saved plan whose basis moved, naming what moved.
pub fn verify(saved: &SavedPlan, now: &Now<'_>, file_digest: FileDigest<'_>) -> Result<(), Diagnostic> {
    if let Some(moved) = state_moved(saved, now.state) {
        return Err(stale(&moved));
    }
    if saved.digest != now.fingerprint.digest {
        return Err(configuration_moved(saved, now));
    }
    let changed: Vec<&str> = saved
        .environment
        .iter()
        .filter(|(name, digest)| value_digest(&saved.salt, std::env::var(name.as_str()).ok().as_deref()) != **digest)
        .map(|(name, _)| name.as_str())
        .collect();
    if !changed.is_empty() {
        return Err(stale(&format!(
            "the environment variable{} `{}` read by `env()` changed since it was saved",
            if changed.len() == 1 { "" } else { "s" },
            changed.join("`, `")
        )));
    }
    let changed_file = saved.files.iter().find(|(path, digest)| file_digest(path).as_ref() != Some(*digest));
    if let Some((path, _)) = changed_file {
        return Err(stale(&format!(
            "the file `{}` the configuration reads changed since it was saved",
            path.display()
        )));
    }
    if saved.actions != actions(now.plan) {
        return Err(stale("planning again gives different actions (something changed outside of Infra)"));
    }
    if saved.values != values_digest(now.plan) {
        return Err(stale("planning again gives different values (a file the configuration reads changed?)"));
    }
    Ok(())
}

/// How the state moved since the plan was saved, if it did.
fn state_moved(saved: &SavedPlan, state: &State) -> Option<String> {
    // A state never written has no lineage of its own yet (each load makes one up).
    if saved.serial > 0 && saved.lineage != state.lineage {
        return Some(format!(
            "the state is not the one it was made from (lineage `{}`, now `{}`): it was replaced or another \
             state is in use",
            saved.lineage, state.lineage
        ));
    }
    (saved.serial != state.serial).then(|| {
        format!(
            "the state changed since it was saved (serial {}, now {}): another apply, import, refresh or state \
             command ran",
            saved.serial, state.serial
        )
    })
}

/// E0710 for a configuration or inputs that moved: which files changed, were added or
/// removed, and which inputs' values differ (named, never shown).
fn configuration_moved(saved: &SavedPlan, now: &Now<'_>) -> Diagnostic {
    let files = changed_files(&saved.sources, &now.fingerprint.sources);
    let inputs = changed_inputs(saved, now.inputs);
    let mut what = Vec::new();
    if !files.is_empty() {
        what.push(format!("the configuration changed since it was saved: {}", and_list(&files)));
    }
    if !inputs.is_empty() {
        let (are, values) = if inputs.len() == 1 { ("is", "value it was") } else { ("are", "values they were") };
        what.push(format!(
            "the input values changed since it was saved: {} {are} not the {values} planned with",
            and_list(&inputs)
        ));
    }
    if what.is_empty() {
        // Not reached unless the digest itself changed (a file's path outside the root
        // module, say): still refused, in general terms.
        return stale("the configuration or the input values changed since it was saved");
    }
    let help = if files.is_empty() {
        format!("apply it with the `--var`s and `--var-file`s it was planned with, or {PLAN_AGAIN}")
    } else {
        PLAN_AGAIN.to_string()
    };
    stale(&what.join("; ")).with_help(help)
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The files that differ between two fingerprints' sources: `` `main.infra` changed ``,
/// `` `new.infra` was added ``, `` `old.infra` was removed ``.
fn changed_files(saved: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    let names: BTreeSet<&String> = saved.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (saved.get(name), now.get(name)) {
            (Some(before), Some(after)) if before == after => None,
            (Some(_), Some(_)) => Some(format!("`{name}` changed")),
            (None, _) => Some(format!("`{name}` was added")),
            (_, None) => Some(format!("`{name}` was removed")),
        })
        .collect()
}

/// The inputs whose values differ from those the plan was made with, each as
/// `` `name` ``: a value, even a digest of one, is never shown. An input declared or
/// removed since is a configuration file's change, named as such.
fn changed_inputs(saved: &SavedPlan, inputs: &BTreeMap<String, Value>) -> Vec<String> {
    let now = input_digests(&saved.salt, inputs);
    saved
        .inputs
        .iter()
        .filter(|(name, before)| now.get(*name).is_some_and(|after| after != *before))
        .map(|(name, _)| format!("`{name}`"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run never holds its files' texts whole and reads them again for the digest: a
    /// file changed in between gives a digest that matches neither its old text nor its
    /// new, so a plan made of the old text is not applied to the new.
    #[test]
    fn a_file_changed_since_it_was_parsed_matches_no_digest() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("main.infra");
        let analyzed = |text: &str| {
            std::fs::write(&path, text).expect("written");
            infra_compiler::analyze_files(dir.path(), &infra_compiler::schema::NoSchemas)
        };
        let inputs = BTreeMap::new();
        let digest = |analysis: &Analysis, inputs: &BTreeMap<String, Value>| fingerprint(analysis, inputs).digest;
        let old_digest = digest(&analyzed("output a = 1\n"), &inputs);
        let new_digest = digest(&analyzed("output a = 2\n"), &inputs);
        assert_ne!(old_digest, new_digest);
        let changed = analyzed("output a = 1\n");
        std::fs::write(&path, "output a = 2\n").expect("written");
        let changed_digest = digest(&changed, &inputs);
        assert_ne!(changed_digest, old_digest);
        assert_ne!(changed_digest, new_digest);
        // Unchanged, the text read again gives the digest of the text parsed.
        assert_eq!(digest(&analyzed("output a = 2\n"), &inputs), new_digest);
    }
}
