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
    /// `infra state mv`: an instance would move to an address whose declaration has
    /// another resource type, so the next plan would replace (delete) its object.
    TypeMismatch(TypeMismatch),
    /// Writing the state failed.
    State(StateError),
}

/// An instance of one resource type moved onto an address of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    pub from: Address,
    pub to: Address,
    /// The moved instance's type, such as `local.file`.
    pub instance_type: String,
    /// The type at the destination: its declaration's, or that of the state's instances
    /// of the destination's declaration when the configuration does not declare it.
    pub destination_type: String,
    /// Whether `destination_type` comes from the configuration (else from the state).
    pub declared: bool,
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
    /// would move. Returns each move, old address first. `declared_type` gives the
    /// resource type the configuration declares at an address (`None` when it declares
    /// none there, or cannot be read): an instance is never moved onto another type's
    /// address, which the next plan would replace. Where the configuration says
    /// nothing, the state's other instances of that declaration say it.
    pub fn move_instances(
        &mut self,
        from: &Address,
        to: &Address,
        dry_run: bool,
        declared_type: &dyn Fn(&Address) -> Option<String>,
    ) -> Result<Vec<(Address, Address)>, EditError> {
        let before = self.state.clone();
        let moves = self.state.move_instances(from, to).map_err(|error| match error {
            MoveError::NothingToMove => EditError::NotInState(from.clone()),
            error => EditError::Move(error),
        })?;
        if let Some(mismatch) = moves.iter().find_map(|(old, new)| type_mismatch(&before, old, new, declared_type)) {
            self.state = before;
            return Err(EditError::TypeMismatch(mismatch));
        }
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

/// Whether moving `old` (in `state`, before the move) to `new` puts it on an address of
/// another resource type.
fn type_mismatch(
    state: &State,
    old: &Address,
    new: &Address,
    declared_type: &dyn Fn(&Address) -> Option<String>,
) -> Option<TypeMismatch> {
    let instance = state.instances.get(old)?;
    let (destination_type, declared) = match declared_type(new) {
        Some(declared) => (declared, true),
        None => (type_in_state(state, old, new)?, false),
    };
    (destination_type != instance.resource_type.as_str()).then(|| TypeMismatch {
        from: old.clone(),
        to: new.clone(),
        instance_type: instance.resource_type.to_string(),
        destination_type,
        declared,
    })
}

/// The type of an instance of `new`'s declaration (the same names, any keys) that the
/// state holds, other than `moving`.
fn type_in_state(state: &State, moving: &Address, new: &Address) -> Option<String> {
    let same_declaration = |address: &Address| {
        address.steps.len() == new.steps.len() && address.steps.iter().zip(&new.steps).all(|(a, b)| a.name == b.name)
    };
    state
        .instances
        .iter()
        .find(|(address, _)| *address != moving && same_declaration(address))
        .map(|(_, instance)| instance.resource_type.to_string())
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
    existing.check_continued_by(&state, &to.location()).map_err(|error| migrate_refusal(error, &existing))?;
    state.serial = state.serial.max(existing.serial);
    to.replace_snapshot(&mut state)?;
    drop(to_lock);
    drop(from_lock);
    Ok(state.instances.len())
}

/// A target `migrate` may not replace, with a hint for `migrate`: it has no `--force`
/// (the one of `check_continued_by`'s hints), since overwriting a state elsewhere is
/// not a migration.
fn migrate_refusal(error: StateError, existing: &State) -> StateError {
    let help = match error.kind {
        StateErrorKind::OlderSerial => format!(
            "nothing was changed. The target holds this same state at serial {}, newer than the source's: a \
             migration writes the copy one serial past the source, so if this state was migrated there before \
             (and used since), there is nothing to do; point the module at the target. To copy an older state \
             over it on purpose, `infra state pull` the source and `infra state push --force` it there",
            existing.serial
        ),
        StateErrorKind::LineageMismatch => "nothing was changed; the target holds another state, not a copy of \
                                            this one: check that it is the place you meant, and migrate to an \
                                            empty place (another key, schema, workspace or directory) instead"
            .to_string(),
        _ => return error,
    };
    error.with_help(help)
}
