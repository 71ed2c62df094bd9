//! A state backend that writes nothing, for `infra import`: the import's walk journals
//! and compacts through it, and the session writes the state it ends with to the real
//! backend only when the whole import succeeded, so a failed import leaves the state as
//! it was.
//!
//! Keeping the journal in memory loses nothing an apply's journal exists to keep: an
//! import creates no object, it only records one that exists, so a run that dies before
//! the state is written can simply be run again.

use std::time::Duration;

use crate::state::envelope::Encryption;
use crate::state::{JournalEntry, JournalRead, Loaded, LockHolder, State, StateBackend, StateError, StateLock};

/// Reads go to `inner`; writes are dropped (the engine keeps its own copy of the state
/// with every entry applied, which is what the caller writes afterwards).
pub(super) struct Deferred<'a> {
    pub inner: &'a dyn StateBackend,
}

impl StateBackend for Deferred<'_> {
    fn location(&self) -> String {
        self.inner.location()
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.inner.encryption()
    }

    fn load(&self) -> Result<Loaded, StateError> {
        self.inner.load()
    }

    fn lock(&self, holder: &LockHolder, timeout: Duration) -> Result<StateLock, StateError> {
        self.inner.lock(holder, timeout)
    }

    fn write_snapshot(&self, _state: &mut State) -> Result<(), StateError> {
        Ok(())
    }

    fn append_journal(&self, _entry: &JournalEntry) -> Result<(), StateError> {
        Ok(())
    }

    fn read_journal(&self) -> Result<JournalRead, StateError> {
        self.inner.read_journal()
    }

    fn compact(&self, _state: &mut State) -> Result<(), StateError> {
        Ok(())
    }

    fn replace_snapshot(&self, _state: &mut State) -> Result<(), StateError> {
        Ok(())
    }
}
