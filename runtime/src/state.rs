//! State: what Infra knows about the objects it manages, and where it keeps that.
//!
//! A [`State`] is a versioned document: a `serial` that every write increments, a
//! `lineage` that names one state's history, the [`Instance`]s (one object per address)
//! and the root module's outputs. A [`StateBackend`] stores it: a snapshot written
//! atomically, a journal of provider operations appended (and flushed to disk) as each
//! one begins and completes, and an exclusive lock naming its holder. Loading replays
//! the journal over the snapshot, so an operation that began but never completed shows
//! up as an instance with a pending [`Status`]. [`LocalBackend`] keeps all of it in files
//! beside the root module; other backends are crates of their own that implement
//! [`StateBackend`] (`infra-backend-postgres` keeps it in a PostgreSQL database shared by
//! a team), so the runtime depends on no database client.
//!
//! The backend interface is synchronous. File I/O with `fsync` blocks anyway, and a
//! blocking interface is simple to call from threads, tests and child processes; the
//! apply engine calls it from its one task, batching the journal entries of operations
//! running together so that one write and one sync serve them all (`plan/commit.rs`).
//!
//! Sub-modules: [`json`] converts values to and from JSON (sensitive marks become
//! attribute paths), [`document`] reads and writes the snapshot format, [`journal`] the
//! journal lines and their replay, [`envelope`] how an encrypted snapshot or journal
//! batch is stored (the cipher is a backend crate's), [`lock`] the lock holder, [`local`] the file backend,
//! [`workspace`] workspace names, [`error`] the errors and warnings, [`surgery`]
//! the edits that touch no object (moves, shared by `moved` and `infra state mv`).

pub mod document;
pub mod envelope;
pub mod error;
pub mod journal;
pub mod json;
pub mod local;
pub mod lock;
pub mod read_ahead;
pub mod surgery;
pub mod workspace;

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::provider::Attributes;
use crate::value::{Name, Value};

pub use error::{StateError, StateErrorKind, StateWarning, StateWarningKind};
pub use journal::{replay, JournalEntry, JournalOp, JournalRead};
pub use json::{
    attributes_from_json, attributes_to_json, stored_attributes, value_from_json, value_to_json, AttributePath, Marked,
    PathStep, StoredAttributes,
};
pub use local::LocalBackend;
pub use lock::LockHolder;
pub use surgery::{moved_address, MoveError};

/// The snapshot format this version of Infra reads and writes. A state with a larger
/// version is refused rather than misread.
pub const FORMAT_VERSION: u64 = 1;

/// Everything Infra knows about one configuration's objects.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Incremented by every snapshot write; `0` for a state never written.
    pub serial: u64,
    /// Made once when a state is created and kept by every later write, so two states
    /// with the same serial but different histories are told apart.
    pub lineage: String,
    pub instances: BTreeMap<Address, Instance>,
    /// The root module's outputs. A sensitive output's value is marked sensitive as a
    /// whole (the state records a flag per output, not paths).
    pub outputs: BTreeMap<String, Value>,
}

impl State {
    /// An empty state with a fresh lineage.
    pub fn new() -> State {
        State { serial: 0, lineage: new_lineage(), instances: BTreeMap::new(), outputs: BTreeMap::new() }
    }

    /// The instances whose last operation began but was not confirmed.
    /// The serial the next snapshot is written with; an error at the largest serial
    /// there is (a state edited by hand), which would otherwise wrap around to 0 and
    /// read as the oldest state of its lineage.
    pub fn next_serial(&self) -> Result<u64, StateError> {
        self.serial.checked_add(1).ok_or_else(|| {
            StateError::new(
                StateErrorKind::Unstorable,
                format!("the state's serial is {}, the largest there is: it cannot be incremented", self.serial),
            )
            .with_help("the state was edited by hand; nothing was written. Set its serial back to what it was")
        })
    }

    pub fn pending(&self) -> impl Iterator<Item = (&Address, &Instance)> {
        self.instances.iter().filter(|(_, instance)| instance.status.is_pending())
    }
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

/// One object: a resource instance (managed) or a data source instance (data).
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub mode: Mode,
    /// `provider.kind`, such as `local.file`. (Shared: a state read from a file holds
    /// each distinct one once, not once per instance.)
    pub resource_type: Name,
    /// The provider configuration that manages it: `aws` for the default configuration,
    /// `aws.west` for `provider aws as west`.
    pub provider: Name,
    /// The object's attributes, with sensitive marks where the provider or the
    /// configuration put them.
    pub attributes: Attributes,
    /// What it depended on when it was last written, so it can be deleted in the right
    /// order once it is gone from the configuration.
    pub dependencies: Vec<Address>,
    pub status: Status,
    /// A digest of the values the resource's `replace_when` listed when it was last
    /// written: when they change, the instance is replaced. A digest, not the values,
    /// so that a secret among them is not stored.
    pub triggers: Option<String>,
}

impl Instance {
    /// A created instance with no dependencies.
    pub fn new(mode: Mode, resource_type: impl Into<Name>, provider: impl Into<Name>) -> Instance {
        Instance {
            mode,
            resource_type: resource_type.into(),
            provider: provider.into(),
            attributes: Attributes::new(),
            dependencies: Vec::new(),
            status: Status::Created,
            triggers: None,
        }
    }

    pub fn with_attributes(mut self, attributes: Attributes) -> Instance {
        self.attributes = attributes;
        self
    }

    pub fn with_dependencies(mut self, dependencies: Vec<Address>) -> Instance {
        self.dependencies = dependencies;
        self
    }

    pub fn with_triggers(mut self, triggers: Option<String>) -> Instance {
        self.triggers = triggers;
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A `resource`: Infra creates, updates and deletes it.
    Managed,
    /// A `data` source: Infra only reads it.
    Data,
}

/// A provider operation, as the journal records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// Reading a data source.
    Read,
    Update,
    Delete,
    Import,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Import => "import",
        }
    }
}

/// Whether an instance's object is as recorded, or an operation on it began and was
/// never confirmed (the process stopped between `begin` and `complete`). The next plan
/// reports pending instances; their attributes are the last confirmed ones (or, for a
/// pending create, what the operation was asked to create).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The object exists with these attributes (for a data source: it was read).
    Created,
    PendingCreate,
    /// A create began and the provider reported the object made (its attributes so far,
    /// with its id) before the process stopped or the create failed: the object exists,
    /// and the next plan reads it instead of making another.
    PartlyCreated,
    PendingRead,
    PendingUpdate,
    PendingDelete,
    PendingImport,
}

impl Status {
    /// The status of an instance whose `action` began.
    pub fn pending(action: Action) -> Status {
        match action {
            Action::Create => Status::PendingCreate,
            Action::Read => Status::PendingRead,
            Action::Update => Status::PendingUpdate,
            Action::Delete => Status::PendingDelete,
            Action::Import => Status::PendingImport,
        }
    }

    /// The operation that began and was not confirmed, if any.
    pub fn pending_action(self) -> Option<Action> {
        match self {
            Status::Created => None,
            Status::PendingCreate | Status::PartlyCreated => Some(Action::Create),
            Status::PendingRead => Some(Action::Read),
            Status::PendingUpdate => Some(Action::Update),
            Status::PendingDelete => Some(Action::Delete),
            Status::PendingImport => Some(Action::Import),
        }
    }

    pub fn is_pending(self) -> bool {
        self != Status::Created
    }
}

/// A state as loaded: the snapshot with the journal replayed over it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub state: State,
    /// How many journal entries were applied over the snapshot: more than zero means the
    /// last run stopped before compacting (it crashed, or was killed).
    pub replayed: usize,
    /// Problems that did not stop loading (an incomplete last journal line).
    pub warnings: Vec<StateWarning>,
}

/// Where states are kept. Every method may block on I/O.
///
/// Writing ([`write_snapshot`](StateBackend::write_snapshot),
/// [`append_journal`](StateBackend::append_journal), [`compact`](StateBackend::compact))
/// requires the lock, taken through the same backend value; without it they fail with
/// [`StateErrorKind::NotLocked`]. Loading never writes anything, so a failed load leaves
/// every file as it was.
pub trait StateBackend: Send + Sync {
    /// Where the state is, for messages: a file path, or a database without its password.
    fn location(&self) -> String;

    /// The keys the state is encrypted with, if it is; saved plans are sealed with them.
    fn encryption(&self) -> Option<&envelope::Encryption> {
        None
    }

    /// The stored state with its journal replayed, or a new empty state when there is
    /// none yet.
    fn load(&self) -> Result<Loaded, StateError>;

    /// [`load`](StateBackend::load), using what `ahead` read if it is the stored state
    /// as it is now (see [`read_ahead`]). Called with the lock held.
    fn load_read_ahead(&self, ahead: Option<read_ahead::ReadAhead>) -> Result<Loaded, StateError> {
        drop(ahead);
        self.load()
    }

    /// Takes the exclusive lock, waiting up to `timeout` (zero: try once) while another
    /// process holds it. The lock is held until the returned value is dropped, and is
    /// released by the operating system (or the database) if the process dies.
    fn lock(&self, holder: &LockHolder, timeout: Duration) -> Result<StateLock, StateError>;

    /// Writes `state` as the new snapshot, atomically, with `serial` incremented (the
    /// increment is kept in `state` only if the write succeeds). Refuses when the stored
    /// snapshot has another lineage or a larger serial: someone else's state would be
    /// overwritten.
    fn write_snapshot(&self, state: &mut State) -> Result<(), StateError>;

    /// Appends one entry to the journal; when this returns, the entry is on disk.
    fn append_journal(&self, entry: &JournalEntry) -> Result<(), StateError>;

    /// Appends entries in order; when this returns, every one is on disk. A backend that
    /// can make several entries durable at once (one write and one sync) overrides this;
    /// on an error, the entries not yet durable count as not recorded.
    fn append_journal_batch(&self, entries: &[JournalEntry]) -> Result<(), StateError> {
        entries.iter().try_for_each(|entry| self.append_journal(entry))
    }

    /// The journal's entries in order, without replaying them.
    fn read_journal(&self) -> Result<JournalRead, StateError>;

    /// Writes `state` as the new snapshot and empties the journal. `state` must be the
    /// loaded state with every entry journaled since applied to it ([`State::apply`]).
    /// A crash between the two steps is harmless: entries carry the serial of the
    /// snapshot they apply to, and loading skips the ones older than the snapshot.
    fn compact(&self, state: &mut State) -> Result<(), StateError>;

    /// Like [`compact`](StateBackend::compact), but without checking the stored
    /// lineage and serial: `infra state push --force` and `infra state migrate` use it
    /// after checking what they replace themselves.
    fn replace_snapshot(&self, state: &mut State) -> Result<(), StateError>;
}

/// A held state lock; dropping it releases the lock.
pub struct StateLock {
    holder: LockHolder,
    /// Whatever releases the lock when dropped: a locked file, a database session.
    _guard: Box<dyn Any + Send + Sync>,
}

impl StateLock {
    pub fn new(holder: LockHolder, guard: impl Any + Send + Sync) -> StateLock {
        StateLock { holder, _guard: Box::new(guard) }
    }

    pub fn holder(&self) -> &LockHolder {
        &self.holder
    }
}

impl fmt::Debug for StateLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateLock").field("holder", &self.holder).finish_non_exhaustive()
    }
}

/// A new lineage: 128 bits in UUID-like hex groups. The time, the process id and a
/// counter make it unique on one machine; hashing them with `RandomState` (whose keys the
/// standard library seeds randomly per process) spreads them, so lineages made on two
/// machines at the same instant still differ. No random-number crate is needed.
pub fn new_lineage() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let seed = (nanos, std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let hasher = RandomState::new();
    let hex = format!("{:016x}{:016x}", hasher.hash_one((seed, 0u8)), hasher.hash_one((seed, 1u8)));
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
