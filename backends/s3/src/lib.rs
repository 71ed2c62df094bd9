//! The S3 backend: states in a bucket, shared by a team without a database.
//!
//! For the state at key `KEY` (in workspace `default`; another workspace's is
//! `PREFIX/WORKSPACE/KEY`, see `location.rs`):
//!
//! - `KEY` is the snapshot, the local backend's document. Every write reads it first,
//!   refuses another lineage or a newer serial, and is conditional on the ETag it read
//!   (`If-Match`, or `If-None-Match: *` for the first), so two writers never overwrite
//!   each other even past the lock.
//! - `KEY.journal/NNNNNNNNNNNN` are the journal: one object per batch of entries (the
//!   local backend's lines), numbered in order and written with `If-None-Match: *`. A
//!   batch is in the bucket before `append_journal_batch` returns, so before any
//!   operation that depends on it begins. Loading reads them in key order; compaction
//!   writes the snapshot, then deletes them (entries older than the snapshot's serial
//!   are skipped, so a crash between the two loses nothing).
//! - `KEY.lock` is the lock: created with `If-None-Match: *`, so only one of two
//!   lockers succeeds; its content names the holder and a lock ID. Releasing deletes
//!   it. A holder killed before releasing leaves it behind: the next locker is refused
//!   with the holder's name and the ID, and `infra force-unlock ID` removes it once
//!   the holder is known to be gone ([`S3Backend::force_unlock`]).
//! - A workspace other than `default` exists once its snapshot does:
//!   `infra workspace new` writes an empty one.
//!
//! The HTTP client, credentials, endpoints and signing are the `aws` provider's
//! (`infra_provider_aws::client`), reached through [`objects::Bucket`]; [`codes`] lists
//! the failures only this backend has, reported through `StateErrorKind::Backend`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use infra_provider_aws::client::AwsError;
use infra_runtime::state::document::{parse_header, parse_snapshot, render_snapshot};
use infra_runtime::state::envelope::{open_journal, open_snapshot, seal_journal, seal_snapshot, Encryption};
use infra_runtime::state::journal::{parse_journal, render_line, replay, JournalEntry, JournalRead};
use infra_runtime::state::lock::{rfc3339, LockHolder};
use infra_runtime::state::workspace::{check_workspace_name, DEFAULT_WORKSPACE};
use infra_runtime::state::{new_lineage, Loaded, State, StateBackend, StateError, StateErrorKind, StateLock};
use serde::{Deserialize, Serialize};

use crate::objects::{Bucket, Condition};

pub use location::{S3Location, DEFAULT_WORKSPACE_KEY_PREFIX};

pub mod codes;
mod location;
mod objects;

const MAX_LOCK_POLL: Duration = Duration::from_millis(500);

/// What the lock object holds: who holds the lock, and the ID that `infra
/// force-unlock` takes.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct LockRecord {
    id: String,
    #[serde(flatten)]
    holder: LockHolder,
}

pub struct S3Backend {
    location: S3Location,
    bucket: Arc<Bucket>,
    /// Set while a lock taken through this value is held; writes check it.
    lock_held: Arc<AtomicBool>,
    /// The number of the next journal object, found by listing on the first append.
    next_journal: Mutex<Option<u64>>,
    /// How the snapshot and journal objects are encrypted, if they are.
    encryption: Option<Encryption>,
}

impl S3Backend {
    /// The state at `location`, with the AWS settings it names and the environment's;
    /// nothing is contacted until it is used.
    pub fn new(location: S3Location) -> Result<S3Backend, StateError> {
        let bucket = Arc::new(Bucket::new(&location)?);
        Ok(S3Backend { location, bucket, lock_held: Arc::default(), next_journal: Mutex::new(None), encryption: None })
    }

    /// Encrypts what is written and decrypts what is read (see
    /// `infra_runtime::state::envelope`).
    pub fn with_encryption(mut self, encryption: Option<Encryption>) -> S3Backend {
        self.encryption = encryption;
        self
    }

    pub fn location_config(&self) -> &S3Location {
        &self.location
    }

    fn state_key(&self) -> String {
        self.location.state_key()
    }

    fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.state_key())
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.state_key())
    }

    fn require_lock(&self) -> Result<(), StateError> {
        if self.lock_held.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(StateError::new(StateErrorKind::NotLocked, "the state was written without holding its lock")
            .with_help("this is a bug in Infra: take the lock before writing"))
    }

    fn error(&self, error: AwsError) -> StateError {
        aws_error(error, &self.location)
    }

    /// The workspaces in this bucket under this key, sorted; `default` always.
    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let prefix = self.location.workspaces_prefix();
        let found = self.bucket.list(&prefix, true).map_err(|e| self.error(e))?;
        let mut names = vec![DEFAULT_WORKSPACE.to_string()];
        for common in found {
            let Some(name) = common.strip_prefix(&prefix).map(|rest| rest.trim_end_matches('/')) else { continue };
            let Ok(location) = self.location.with_workspace(name) else { continue };
            if self.bucket.get(&location.state_key()).map_err(|e| self.error(e))?.is_some() {
                names.push(name.to_string());
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Creates workspace `name` with an empty snapshot; fails if it exists.
    pub fn create_workspace(&self, name: &str) -> Result<(), StateError> {
        check_workspace_name(name)?;
        let location = self.location.with_workspace(name)?;
        let exists = || {
            StateError::new(StateErrorKind::Workspace, format!("workspace `{name}` already exists"))
                .with_help(format!("select it with `--workspace {name}`"))
        };
        if name == DEFAULT_WORKSPACE {
            return Err(exists());
        }
        let empty = State::new();
        let document = seal_snapshot(self.encryption.as_ref(), render_snapshot(&empty, 0)?, &empty.lineage, 0)?;
        let created =
            self.bucket.put(&location.state_key(), document, &Condition::Absent).map_err(|e| self.error(e))?;
        if created {
            Ok(())
        } else {
            Err(exists())
        }
    }

    /// Deletes workspace `name` with its snapshot and journal. Refuses `default`, a
    /// locked workspace, and (unless `force`) one whose state holds instances.
    pub fn delete_workspace(&self, name: &str, force: bool) -> Result<usize, StateError> {
        check_workspace_name(name)?;
        if name == DEFAULT_WORKSPACE {
            return Err(StateError::new(StateErrorKind::Workspace, "the `default` workspace cannot be deleted")
                .with_help("destroy what it holds with `infra destroy` if it is no longer needed"));
        }
        let target = S3Backend::new(self.location.with_workspace(name)?)?.with_encryption(self.encryption.clone());
        let lock = target.lock(&LockHolder::new(format!("infra workspace delete {name}")), Duration::ZERO)?;
        let loaded = target.load()?;
        if !force && !loaded.state.instances.is_empty() {
            return Err(StateError::workspace_not_empty(name, loaded.state.instances.len()));
        }
        target.clear_journal()?;
        target.bucket.delete(&target.state_key()).map_err(|e| target.error(e))?;
        drop(lock);
        Ok(loaded.state.instances.len())
    }

    /// Removes the lock whose ID is `id`, whoever holds it: for a holder that is gone
    /// (killed, or its machine lost) and left its lock behind. Returns who held it.
    pub fn force_unlock(&self, id: &str) -> Result<LockHolder, StateError> {
        let key = self.lock_key();
        let record = self.read_lock()?;
        match record {
            Some((record, _)) if record.id == id => {
                self.bucket.delete(&key).map_err(|e| self.error(e))?;
                Ok(record.holder)
            }
            Some((record, _)) => Err(StateError::new(
                codes::kind(codes::STATE_LOCK_ID),
                format!("the lock of {} has ID `{}`, not `{id}`", self.location.display(), record.id),
            )
            .with_help(format!(
                "it is held by {}; nothing was removed. Check that this is the run you meant before unlocking it",
                record.holder
            ))),
            None => Err(StateError::new(
                codes::kind(codes::STATE_LOCK_ID),
                format!("the state at {} is not locked", self.location.display()),
            )
            .with_help("nothing was removed; the holder may have finished and released it")),
        }
    }

    /// The lock record and its ETag, if the state is locked.
    fn read_lock(&self) -> Result<Option<(LockRecord, String)>, StateError> {
        let Some(object) = self.bucket.get(&self.lock_key()).map_err(|e| self.error(e))? else { return Ok(None) };
        // A lock object that does not parse is still a lock: it is named by its ETag.
        let record = serde_json::from_slice::<LockRecord>(&object.body).unwrap_or_else(|_| LockRecord {
            id: object.etag.trim_matches('"').to_string(),
            holder: LockHolder {
                user: "unknown".to_string(),
                host: "unknown".to_string(),
                pid: 0,
                command: "unknown".to_string(),
                since: "unknown".to_string(),
            },
        });
        Ok(Some((record, object.etag)))
    }

    fn locked_error(&self, record: Option<LockRecord>, timeout: Duration) -> StateError {
        let Some(record) = record else {
            return StateError::new(StateErrorKind::Locked, "the state is locked by another session")
                .with_help("try again");
        };
        let mut message = format!("the state is locked by {} (lock ID `{}`)", record.holder, record.id);
        if !timeout.is_zero() {
            let _ = write!(message, "; gave up after waiting {:.1}s", timeout.as_secs_f64());
        }
        StateError::new(StateErrorKind::Locked, message).with_help(format!(
            "wait for that run to finish and try again, or give a lock timeout to wait for it. The lock of {} is an \
             object that outlives a holder that was killed: if that run is gone, remove it with\n`infra \
             force-unlock {}`",
            self.location.display(),
            record.id
        ))
    }

    /// The journal objects' keys, in order.
    fn journal_keys(&self) -> Result<Vec<String>, StateError> {
        self.bucket.list(&self.journal_prefix(), false).map_err(|e| self.error(e))
    }

    fn clear_journal(&self) -> Result<(), StateError> {
        for key in self.journal_keys()? {
            self.bucket.delete(&key).map_err(|e| {
                self.error(e).with_help("the new snapshot is written; its serial makes the journal's entries ignored")
            })?;
        }
        Ok(())
    }

    /// Writes the snapshot; `check` refuses another lineage or a newer stored serial.
    /// Conditional on the object read, so a write racing this one fails one of them.
    fn store_snapshot(&self, state: &mut State, check: bool) -> Result<(), StateError> {
        self.require_lock()?;
        let key = self.state_key();
        let stored = self.bucket.get(&key).map_err(|e| self.error(e))?;
        let condition = match &stored {
            Some(object) => Condition::Matches(object.etag.clone()),
            None => Condition::Absent,
        };
        if let Some(object) = stored.filter(|_| check) {
            self.check_replaceable(&object.body, state)?;
        }
        let serial = state.next_serial()?;
        let document =
            seal_snapshot(self.encryption.as_ref(), render_snapshot(state, serial)?, &state.lineage, serial)?;
        let written = self.bucket.put_confirmed(&key, document, &condition).map_err(|e| self.error(e))?;
        if !written {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!("the snapshot at {} changed while it was being written", self.location.display()),
            )
            .with_help("another run wrote the state at the same moment; nothing was written, run the command again"));
        }
        state.serial = serial;
        Ok(())
    }

    fn check_replaceable(&self, stored: &[u8], state: &State) -> Result<(), StateError> {
        let header = parse_header(stored, "the stored snapshot")?;
        if header.lineage != state.lineage {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "{} holds another state (lineage `{}`; the state being written has `{}`)",
                    self.location.display(),
                    header.lineage,
                    state.lineage
                ),
            )
            .with_help("the state was replaced since it was loaded; nothing was written, run the command again"));
        }
        if header.serial > state.serial {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "the stored state has serial {}, newer than the state being written (loaded at serial {})",
                    header.serial, state.serial
                ),
            )
            .with_help(
                "another run changed the state since it was loaded; nothing was written, run the command again",
            ));
        }
        Ok(())
    }

    /// The number the next journal object gets: one past the last one there.
    fn next_journal_number(&self) -> Result<u64, StateError> {
        let mut next = self.next_journal.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(number) = *next {
            *next = Some(number + 1);
            return Ok(number);
        }
        let prefix = self.journal_prefix();
        let last = self
            .journal_keys()?
            .iter()
            .filter_map(|key| key.strip_prefix(&prefix).and_then(|n| n.parse::<u64>().ok()))
            .max();
        let number = last.map_or(0, |n| n + 1);
        *next = Some(number + 1);
        Ok(number)
    }
}

impl StateBackend for S3Backend {
    fn location(&self) -> String {
        self.location.display()
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn load(&self) -> Result<Loaded, StateError> {
        let shown = self.location.display();
        let snapshot = match self.bucket.get(&self.state_key()).map_err(|e| self.error(e))? {
            Some(object) => open_snapshot(self.encryption.as_ref(), object.body, &shown)
                .and_then(|bytes| parse_snapshot(&bytes, &shown))
                .map_err(|e| match e.kind {
                    StateErrorKind::Corrupt => e.with_help(
                        "nothing was changed; if the bucket keeps versions, restore the previous version of the object",
                    ),
                    _ => e,
                })?,
            None if self.location.workspace != DEFAULT_WORKSPACE => {
                let name = &self.location.workspace;
                return Err(StateError::new(
                    StateErrorKind::Workspace,
                    format!("workspace `{name}` does not exist (no {shown})"),
                )
                .with_help(format!(
                    "create it with `infra workspace new {name}`, or list them with `infra workspace list`"
                )));
            }
            None => State::new(),
        };
        replay(snapshot, self.read_journal()?)
    }

    fn lock(&self, holder: &LockHolder, timeout: Duration) -> Result<StateLock, StateError> {
        let key = self.lock_key();
        let holder = LockHolder { since: rfc3339(SystemTime::now()), ..holder.clone() };
        // Without a UUID's hyphens, where a message wrapped to the terminal may break a
        // word: the ID is copied from `infra force-unlock ID` in the hint.
        let record = LockRecord { id: new_lineage().replace('-', ""), holder: holder.clone() };
        let body = serde_json::to_vec_pretty(&record).unwrap_or_default();
        let start = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            if self.bucket.put(&key, body.clone(), &Condition::Absent).map_err(|e| self.error(e))? {
                break;
            }
            let stored = self.read_lock()?;
            // A retried write whose first attempt succeeded finds its own lock.
            if stored.as_ref().is_some_and(|(stored, _)| stored.id == record.id) {
                break;
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(self.locked_error(stored.map(|(record, _)| record), timeout));
            }
            thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(MAX_LOCK_POLL);
        }
        self.lock_held.store(true, Ordering::SeqCst);
        *self.next_journal.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let guard = S3Lock { bucket: Arc::clone(&self.bucket), key, id: record.id, held: Arc::clone(&self.lock_held) };
        Ok(StateLock::new(holder, guard))
    }

    fn write_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, true)
    }

    fn append_journal(&self, entry: &JournalEntry) -> Result<(), StateError> {
        self.append_journal_batch(std::slice::from_ref(entry))
    }

    /// The lines of every entry in one object.
    fn append_journal_batch(&self, entries: &[JournalEntry]) -> Result<(), StateError> {
        self.require_lock()?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for entry in entries {
            lines.extend(render_line(entry)?);
        }
        let serial = entries.first().map_or(0, |entry| entry.serial);
        let lines = seal_journal(self.encryption.as_ref(), lines, serial)?;
        let key = format!("{}{:012}", self.journal_prefix(), self.next_journal_number()?);
        let written = self.bucket.put_confirmed(&key, lines, &Condition::Absent).map_err(|e| self.error(e))?;
        if !written {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!("journal object `{key}` was written by another run"),
            )
            .with_help(
                "another run holds the state (its lock was removed while this one ran); stop one of them, then run \
                 `infra plan` to see where things stand",
            ));
        }
        Ok(())
    }

    fn read_journal(&self) -> Result<JournalRead, StateError> {
        let mut text = Vec::new();
        for key in self.journal_keys()? {
            // An object deleted by a compaction between the listing and the read held
            // entries the snapshot already has.
            if let Some(object) = self.bucket.get(&key).map_err(|e| self.error(e))? {
                text.extend(object.body);
                if text.last() != Some(&b'\n') {
                    text.push(b'\n');
                }
            }
        }
        let text = open_journal(self.encryption.as_ref(), &text, &self.journal_prefix())?;
        parse_journal(&text, &self.journal_prefix())
    }

    fn compact(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, true)?;
        self.clear_journal()
    }

    fn replace_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, false)?;
        self.clear_journal()
    }
}

/// Releases the lock when dropped: the lock object is deleted if it is still this
/// lock's (a lock removed by `force-unlock` and taken by another run is left alone).
struct S3Lock {
    bucket: Arc<Bucket>,
    key: String,
    id: String,
    held: Arc<AtomicBool>,
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        self.held.store(false, Ordering::SeqCst);
        let Ok(Some(object)) = self.bucket.get(&self.key) else { return };
        let ours = serde_json::from_slice::<LockRecord>(&object.body).is_ok_and(|record| record.id == self.id);
        if ours {
            // A failure leaves the lock behind, which `force-unlock` removes.
            let _ = self.bucket.delete(&self.key);
        }
    }
}

/// An AWS failure as a state error with this backend's code.
fn aws_error(error: AwsError, location: &S3Location) -> StateError {
    let shown = location.display();
    if error.code.is_empty() {
        return StateError::new(
            codes::kind(codes::STATE_S3_UNREACHABLE),
            format!("cannot reach the S3 state at {shown}: {}", error.message),
        )
        .with_help(
            "check the network and the endpoint (`endpoint` in the `state s3` block, AWS_ENDPOINT_URL_S3 or \
             AWS_ENDPOINT_URL); every operation confirmed before is in the journal",
        );
    }
    if error.code == "NoSuchBucket" {
        return StateError::new(
            codes::kind(codes::STATE_S3_NO_BUCKET),
            format!("bucket `{}` does not exist (the state is at {shown})", location.bucket),
        )
        .with_help(format!(
            "create it first (`aws s3 mb s3://{}`, with versioning on so earlier snapshots are kept), or fix \
             `bucket`",
            location.bucket
        ));
    }
    let code = if error.status >= 500 { codes::STATE_S3_UNREACHABLE } else { codes::STATE_S3_REFUSED };
    let help = match error.code.as_str() {
        "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidToken" => {
            "check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE or `profile`, ~/.aws/credentials) and that they may \
             read, write, list and delete objects in the bucket"
        }
        _ => "nothing was changed by the failed request; see the AWS documentation of the error code",
    };
    StateError::new(
        codes::kind(code),
        format!("S3 {} on {shown} failed with `{}`: {}", error.operation, error.code, error.message),
    )
    .with_help(help)
}
