//! The journal: one JSON line per step of a provider operation, replayed over the
//! snapshot when the state is loaded.
//!
//! The engine appends `begin` before calling the provider and `complete` (with the
//! attributes the provider returned) or `fail` after; each append is on disk before the
//! engine goes on. Every entry carries the serial of the snapshot it applies to, so after
//! a compaction that wrote the snapshot but stopped before emptying the journal, the
//! entries already folded in are recognised and skipped.
//!
//! ```json
//! {"op":"begin","action":"create","address":"web[0]","serial":3,"mode":"managed","type":"local.file","provider":"local","attributes":{"filename":"a.txt"}}
//! {"op":"complete-changes","action":"create","address":"web[0]","serial":3,"mode":"managed","type":"local.file","provider":"local","attributes":{"id":"9f8e"}}
//! ```
//!
//! A create's completion usually repeats most of what its `begin` carried (everything
//! configured), so it is written as a `complete-changes`: only the attributes that
//! differ from the `begin`'s, and `removed_attributes` naming those the object lacks.
//! Replay completes it from the operation's `begin`, and it then stands for the same
//! instance a whole `complete` would. (An older Infra refuses the unknown `op` instead
//! of misreading it.)

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::document::address_from_text;
use super::error::{StateError, StateErrorKind, StateWarning, StateWarningKind};
use super::json::{
    attributes_from_json, stored_attributes, with_shared_names, AttributePath, Marked, StoredAttributes,
};
use super::{Action, Instance, Loaded, Mode, State, Status};
use crate::address::Address;
use crate::provider::Attributes;
use crate::value::Name;

/// The step of an operation an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JournalOp {
    /// The provider is about to be called.
    Begin,
    /// The provider reported success.
    Complete,
    /// A create's provider reported success; the entry's instance holds only the
    /// attributes that differ from those of the operation's `begin`, and
    /// [`JournalEntry::removed`] names those of the `begin` the object lacks.
    CompleteChanges,
    /// The provider reported failure; the object is as it was before `begin` (or, after
    /// `progress`, exists as far as the create got).
    Fail,
    /// A create in progress reported that its object exists, with these attributes.
    Progress,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    pub op: JournalOp,
    pub action: Action,
    pub address: Address,
    /// The serial of the snapshot this entry applies to (the loaded state's `serial`).
    pub serial: u64,
    /// The instance as the operation will make it (`begin`) or made it (`complete`); its
    /// `status` is not recorded. `None` for deletes, failures, and a `begin` on an
    /// instance the state already has.
    pub instance: Option<Instance>,
    /// What the provider said, for `fail`.
    pub error: Option<String>,
    /// For `complete-changes`: the attributes of the `begin` that the object lacks.
    pub removed: Vec<Name>,
}

impl JournalEntry {
    pub fn begin(serial: u64, address: Address, action: Action, instance: Option<Instance>) -> JournalEntry {
        JournalEntry { op: JournalOp::Begin, action, address, serial, instance, error: None, removed: Vec::new() }
    }

    pub fn complete(serial: u64, address: Address, action: Action, instance: Option<Instance>) -> JournalEntry {
        JournalEntry { op: JournalOp::Complete, action, address, serial, instance, error: None, removed: Vec::new() }
    }

    /// The completion of a create whose `begin` carried `begun`: a `complete-changes`
    /// holding what differs from `begun`, or a whole `complete` when nothing is the same.
    pub fn complete_create(serial: u64, address: Address, begun: &Attributes, instance: Instance) -> JournalEntry {
        let attributes = &instance.attributes;
        let changed: Attributes =
            attributes.iter().filter(|(k, v)| begun.get(k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if changed.len() == attributes.len() {
            return JournalEntry::complete(serial, address, Action::Create, Some(instance));
        }
        let removed = begun.keys().filter(|k| !attributes.contains_key(k)).cloned().collect();
        JournalEntry {
            op: JournalOp::CompleteChanges,
            action: Action::Create,
            address,
            serial,
            instance: Some(Instance { attributes: changed, ..instance }),
            error: None,
            removed,
        }
    }

    /// A `complete-changes` made whole: its instance with the attributes of `begun`
    /// that it neither changes nor removes.
    fn completed_from(&self, begun: &Attributes) -> JournalEntry {
        let mut entry = JournalEntry { op: JournalOp::Complete, removed: Vec::new(), ..self.clone() };
        if let Some(instance) = &mut entry.instance {
            let mut attributes = begun.clone();
            for name in &self.removed {
                attributes.remove(name);
            }
            for (name, value) in instance.attributes.iter() {
                attributes.insert(name.clone(), value.clone());
            }
            instance.attributes = attributes;
        }
        entry
    }

    pub fn progress(serial: u64, address: Address, instance: Instance) -> JournalEntry {
        JournalEntry {
            op: JournalOp::Progress,
            action: Action::Create,
            address,
            serial,
            instance: Some(instance),
            error: None,
            removed: Vec::new(),
        }
    }

    pub fn fail(serial: u64, address: Address, action: Action, error: impl Into<String>) -> JournalEntry {
        JournalEntry {
            op: JournalOp::Fail,
            action,
            address,
            serial,
            instance: None,
            error: Some(error.into()),
            removed: Vec::new(),
        }
    }
}

/// The help of an error about a damaged journal.
const DAMAGED_JOURNAL: &str = "the journal was edited or damaged; if it cannot be repaired, move it aside and run \
                               `infra plan` (with refresh) to see which objects the state no longer knows";

/// The journal as read: its complete entries, and a warning when the last line was cut
/// short.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JournalRead {
    pub entries: Vec<JournalEntry>,
    pub warnings: Vec<StateWarning>,
}

impl State {
    /// Applies one journal entry. Loading does this for every entry in the journal; the
    /// engine does it for each entry it appends, so its state stays what a reload
    /// would give.
    ///
    /// - `begin` marks the instance pending (keeping its confirmed attributes), or adds
    ///   the entry's instance as pending when the state does not have it yet;
    /// - `progress` stores the entry's instance as partly created: its object exists;
    /// - `complete` stores the entry's instance as created (`delete` removes it);
    /// - `fail` undoes `begin`: an instance that a create, read or import added is
    ///   removed again (unless its create reported progress: its object exists, and
    ///   stays recorded as partly created), an updated or deleted one is created as
    ///   before.
    pub fn apply(&mut self, entry: &JournalEntry) {
        match entry.op {
            JournalOp::Begin => self.apply_begin(entry),
            JournalOp::Complete => self.apply_complete(entry),
            // Replay completes the entry from its operation's `begin` first (see
            // [`replay`]); applied alone, it changes the instance the state has.
            JournalOp::CompleteChanges => {
                let base = self.instances.get(&entry.address).map(|i| i.attributes.clone()).unwrap_or_default();
                self.apply_complete(&entry.completed_from(&base));
            }
            JournalOp::Fail => self.apply_fail(entry),
            JournalOp::Progress => {
                if let Some(instance) = &entry.instance {
                    let partly = Instance { status: Status::PartlyCreated, ..instance.clone() };
                    self.instances.insert(entry.address.clone(), partly);
                }
            }
        }
    }

    fn apply_begin(&mut self, entry: &JournalEntry) {
        let status = Status::pending(entry.action);
        if let Some(instance) = self.instances.get_mut(&entry.address) {
            instance.status = status;
        } else if let Some(instance) = &entry.instance {
            self.instances.insert(entry.address.clone(), Instance { status, ..instance.clone() });
        }
    }

    fn apply_complete(&mut self, entry: &JournalEntry) {
        if entry.action == Action::Delete {
            self.instances.remove(&entry.address);
        } else if let Some(instance) = &entry.instance {
            self.instances.insert(entry.address.clone(), Instance { status: Status::Created, ..instance.clone() });
        } else if let Some(instance) = self.instances.get_mut(&entry.address) {
            instance.status = Status::Created;
        }
    }

    fn apply_fail(&mut self, entry: &JournalEntry) {
        match entry.action {
            Action::Create | Action::Read | Action::Import => {
                let made = self.instances.get(&entry.address).is_some_and(|i| i.status == Status::PartlyCreated);
                if !made {
                    self.instances.remove(&entry.address);
                }
            }
            Action::Update | Action::Delete => {
                if let Some(instance) = self.instances.get_mut(&entry.address) {
                    instance.status = Status::Created;
                }
            }
        }
    }
}

/// The loaded state: `snapshot` with the journal's entries applied. Entries for an older
/// snapshot (already folded into this one) are skipped; entries for a newer one are
/// applied with a warning, since they record operations that really happened. A
/// `complete-changes` is completed from its operation's `begin`; one without a `begin`
/// before it means the journal was damaged.
pub fn replay(mut snapshot: State, journal: JournalRead) -> Result<Loaded, StateError> {
    let mut warnings = journal.warnings;
    let mut newest_ahead = None;
    let mut replayed = 0;
    // The attributes each create's `begin` carried, until its completion.
    let mut begun: HashMap<&Address, &Attributes> = HashMap::new();
    for entry in &journal.entries {
        if entry.serial < snapshot.serial {
            continue;
        }
        if entry.serial > snapshot.serial {
            newest_ahead = newest_ahead.max(Some(entry.serial));
        }
        match (entry.op, &entry.instance) {
            (JournalOp::Begin, Some(instance)) => {
                begun.insert(&entry.address, &instance.attributes);
                snapshot.apply(entry);
            }
            (JournalOp::CompleteChanges, _) => {
                let Some(base) = begun.remove(&entry.address) else {
                    return Err(StateError::new(
                        StateErrorKind::CorruptJournal,
                        format!("the journal completes the create of `{}` without its `begin`", entry.address),
                    )
                    .with_help(DAMAGED_JOURNAL));
                };
                snapshot.apply(&entry.completed_from(base));
            }
            _ => snapshot.apply(entry),
        }
        replayed += 1;
    }
    if let Some(serial) = newest_ahead {
        warnings.push(StateWarning {
            kind: StateWarningKind::JournalAhead,
            message: format!(
                "the journal records operations on state serial {serial}, but the stored state has serial {}",
                snapshot.serial
            ),
            help: Some(
                "the operations were applied to the loaded state; if the state file was restored from an older copy, \
                 review `infra plan` before applying"
                    .to_string(),
            ),
            path: None,
        });
    }
    Ok(Loaded { state: snapshot, replayed, warnings })
}

/// One entry as a line of JSON, ending in a newline. JSON strings escape newlines, so
/// the line holds no other.
pub fn render_line(entry: &JournalEntry) -> Result<Vec<u8>, StateError> {
    let mut line = LineOut {
        op: entry.op,
        action: entry.action,
        address: entry.address.to_string(),
        serial: entry.serial,
        mode: None,
        resource_type: None,
        provider: None,
        attributes: None,
        sensitive_attributes: Vec::new(),
        set_attributes: Vec::new(),
        dependencies: Vec::new(),
        triggers: None,
        error: entry.error.as_deref(),
        removed_attributes: entry.removed.iter().map(Name::as_str).collect(),
    };
    if let Some(instance) = &entry.instance {
        let (attributes, marked) = stored_attributes(&instance.attributes)
            .map_err(|e| StateError { message: format!("instance `{}`: {}", entry.address, e.message), ..e })?;
        line.mode = Some(instance.mode);
        line.resource_type = Some(&instance.resource_type);
        line.provider = Some(&instance.provider);
        line.attributes = Some(attributes);
        line.sensitive_attributes = marked.sensitive;
        line.set_attributes = marked.sets;
        line.dependencies = instance.dependencies.iter().map(ToString::to_string).collect();
        line.triggers = instance.triggers.as_deref();
    }
    let mut bytes = serde_json::to_vec(&line)
        .map_err(|e| StateError::new(StateErrorKind::Unstorable, format!("cannot serialize a journal entry: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The length of the journal's complete lines: everything up to the last newline. What
/// follows was being written when the process stopped.
pub fn complete_length(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// Parses a journal; `name` names it in messages (`infra.state.journal`). An incomplete
/// last line is ignored with a warning; any other line that is not an entry is an error,
/// since entries after it would be replayed out of context.
pub fn parse_journal(bytes: &[u8], name: &str) -> Result<JournalRead, StateError> {
    super::json::with_shared_values(|| parse_lines(bytes, name))
}

fn parse_lines(bytes: &[u8], name: &str) -> Result<JournalRead, StateError> {
    let complete = complete_length(bytes);
    let mut read = JournalRead::default();
    for (index, text) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry = parse_line(text).map_err(|why| {
            StateError::new(
                StateErrorKind::CorruptJournal,
                format!("line {} of `{name}` is not valid: {why}", index + 1),
            )
            .with_help(DAMAGED_JOURNAL)
        })?;
        read.entries.push(entry);
    }
    if bytes[complete..].iter().any(|b| !b.is_ascii_whitespace()) {
        let line = bytes[..complete].iter().filter(|&&b| b == b'\n').count() + 1;
        read.warnings.push(StateWarning {
            kind: StateWarningKind::TornJournal,
            message: format!("line {line} of `{name}` is incomplete and was ignored"),
            help: Some(
                "Infra stopped while recording an operation; an operation that began and was never confirmed is \
                 shown as pending by the next plan"
                    .to_string(),
            ),
            path: None,
        });
    }
    Ok(read)
}

/// A journal line as written: [`Line`] borrowing the entry, its attributes serialized
/// straight from the values.
#[derive(Serialize)]
struct LineOut<'a> {
    op: JournalOp,
    action: Action,
    address: String,
    serial: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<Mode>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    resource_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<StoredAttributes<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sensitive_attributes: Vec<AttributePath>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    set_attributes: Vec<AttributePath>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    triggers: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    removed_attributes: Vec<&'a str>,
}

#[derive(Deserialize)]
struct Line {
    op: JournalOp,
    action: Action,
    address: String,
    serial: u64,
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default, rename = "type")]
    resource_type: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    attributes: Option<Json>,
    #[serde(default)]
    sensitive_attributes: Vec<AttributePath>,
    #[serde(default)]
    set_attributes: Vec<AttributePath>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    triggers: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    removed_attributes: Vec<String>,
}

fn parse_line(text: &[u8]) -> Result<JournalEntry, String> {
    let line: Line = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let address = with_shared_names(|names| address_from_text(&line.address, names))?;
    let instance = match (line.mode, line.resource_type, line.provider) {
        (Some(mode), Some(resource_type), Some(provider)) => {
            let attributes = match &line.attributes {
                Some(json) => {
                    let marked = Marked { sensitive: line.sensitive_attributes, sets: line.set_attributes };
                    attributes_from_json(json, &marked).map_err(|e| e.message)?
                }
                None => Default::default(),
            };
            // The names in one visit to the document's table.
            let (dependencies, resource_type, provider) = with_shared_names(|names| {
                let dependencies = line
                    .dependencies
                    .iter()
                    .map(|text| address_from_text(text, names))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, String>((dependencies, names.name(&resource_type), names.name(&provider)))
            })?;
            let triggers = line.triggers;
            Some(Instance {
                mode,
                resource_type,
                provider,
                attributes,
                dependencies,
                status: Status::Created,
                triggers,
            })
        }
        (None, None, None) => None,
        _ => return Err("an instance needs `mode`, `type` and `provider`".to_string()),
    };
    if line.op == JournalOp::CompleteChanges && instance.is_none() {
        return Err("a `complete-changes` needs `mode`, `type` and `provider`".to_string());
    }
    let removed = line.removed_attributes.into_iter().map(Name::from).collect();
    Ok(JournalEntry {
        op: line.op,
        action: line.action,
        address,
        serial: line.serial,
        instance,
        error: line.error,
        removed,
    })
}
