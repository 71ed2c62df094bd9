//! Editing a state by hand, without touching any object: what `infra state mv`, `rm`,
//! `push` and `migrate` do once the front end has said where the state is.

use std::time::Duration;

use crate::address::Address;
use crate::state::{LockHolder, MoveError, State, StateBackend, StateError, StateErrorKind, StateLock};

/// Why an edit changed nothing.
#[derive(Debug)]
pub enum EditError {
    /// `infra state mv`: see [`State::move_instances`].
    Move(MoveError),
    /// The state holds nothing within this address.
    NotInState(Address),
    /// Writing the state failed.
    State(StateError),
}

/// A state locked and loaded for editing; the lock is released when it is dropped.
pub struct StateEdit {
    backend: Box<dyn StateBackend>,
    _lock: StateLock,
    state: State,
}

impl StateEdit {
    /// Locks the state `backend` keeps for `holder` (waiting up to `lock_timeout`) and
    /// loads it.
    pub fn open(
        backend: Box<dyn StateBackend>,
        holder: &LockHolder,
        lock_timeout: Duration,
    ) -> Result<StateEdit, StateError> {
        let lock = backend.lock(holder, lock_timeout)?;
        let state = backend.load()?.state;
        Ok(StateEdit { backend, _lock: lock, state })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Where the state is kept, for messages.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// Moves what the state holds within `from` to `to`; with `dry_run`, only says what
    /// would move. Returns each move, old address first.
    pub fn move_instances(
        &mut self,
        from: &Address,
        to: &Address,
        dry_run: bool,
    ) -> Result<Vec<(Address, Address)>, EditError> {
        let moves = self.state.move_instances(from, to).map_err(|error| match error {
            MoveError::NothingToMove => EditError::NotInState(from.clone()),
            error => EditError::Move(error),
        })?;
        self.write(dry_run)?;
        Ok(moves)
    }

    /// Forgets every instance within each of `addresses`; with `dry_run`, only says
    /// what would be forgotten. Returns them, sorted.
    pub fn remove(&mut self, addresses: &[Address], dry_run: bool) -> Result<Vec<Address>, EditError> {
        let mut removed = Vec::new();
        for address in addresses {
            let found = self.state.instances_within(address);
            if found.is_empty() {
                return Err(EditError::NotInState(address.clone()));
            }
            removed.extend(found);
        }
        removed.sort();
        removed.dedup();
        for address in &removed {
            self.state.instances.remove(address);
        }
        self.write(dry_run)?;
        Ok(removed)
    }

    /// Replaces the state with `incoming`, which must continue its history unless
    /// `force`; it becomes the newest, its serial past the stored one. Returns the
    /// serial written.
    pub fn replace(&mut self, mut incoming: State, force: bool) -> Result<u64, StateError> {
        if !force {
            self.state.check_continued_by(&incoming, &self.backend.location())?;
        }
        incoming.serial = incoming.serial.max(self.state.serial);
        self.backend.replace_snapshot(&mut incoming)?;
        self.state = incoming;
        Ok(self.state.serial)
    }

    fn write(&mut self, dry_run: bool) -> Result<(), EditError> {
        if dry_run {
            return Ok(());
        }
        self.backend.compact(&mut self.state).map_err(EditError::State)
    }
}

/// Copies the state `from` keeps to `to` (another place), both locked for `holder`
/// meanwhile; `to` must be empty or hold an older copy of the same state. Returns how
/// many instances were copied.
pub fn migrate(
    from: &dyn StateBackend,
    to: &dyn StateBackend,
    holder: &LockHolder,
    lock_timeout: Duration,
) -> Result<usize, StateError> {
    if from.location() == to.location() {
        return Err(StateError::new(StateErrorKind::InvalidLocation, "the state is already there")
            .with_help("give another location with --to"));
    }
    let from_lock = from.lock(holder, lock_timeout)?;
    let to_lock = to.lock(holder, lock_timeout)?;
    let mut state = from.load()?.state;
    let existing = to.load()?.state;
    existing.check_continued_by(&state, &to.location())?;
    state.serial = state.serial.max(existing.serial);
    to.replace_snapshot(&mut state)?;
    drop(to_lock);
    drop(from_lock);
    Ok(state.instances.len())
}
