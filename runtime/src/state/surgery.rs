//! Edits to a state that touch no object: moving instances to other addresses (`moved`
//! statements and `infra state mv` share [`State::move_instances`]), forgetting them
//! (`infra state rm`), and whether one state may replace another (`infra state push`,
//! `infra state migrate`).

use std::collections::BTreeSet;

use super::{State, StateError, StateErrorKind};
use crate::address::Address;

/// Why [`State::move_instances`] moved nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveError {
    /// The state holds nothing within the source.
    NothingToMove,
    /// The source names several instances and more than one would arrive at `to`.
    Collision { to: Address },
    /// The state already holds `to`, and it is not moving away.
    Occupied { from: Address, to: Address },
}

impl State {
    /// The instances within `address`: itself, every instance of a declaration named
    /// without a key (`web` for `web[0]`, `web[1]`), and everything in a module instance
    /// (`env["prod"]` for `env["prod"].web[0]`).
    pub fn instances_within(&self, address: &Address) -> Vec<Address> {
        self.instances.keys().filter(|candidate| candidate.is_within(address)).cloned().collect()
    }

    /// Moves every instance within `from` to its address within `to` (see
    /// [`moved_address`]), and what depended on a moved one now depends on its new
    /// address. Either everything moves or, with an error, nothing does. Returns each
    /// move, old address first, in address order.
    pub fn move_instances(&mut self, from: &Address, to: &Address) -> Result<Vec<(Address, Address)>, MoveError> {
        let sources = self.instances_within(from);
        if sources.is_empty() {
            return Err(MoveError::NothingToMove);
        }
        let moves: Vec<(Address, Address)> =
            sources.iter().map(|old| (old.clone(), moved_address(old, from, to))).collect();
        let leaving: BTreeSet<&Address> = sources.iter().collect();
        let mut arriving = BTreeSet::new();
        for (old, new) in &moves {
            if !arriving.insert(new) {
                return Err(MoveError::Collision { to: new.clone() });
            }
            if self.instances.contains_key(new) && !leaving.contains(new) {
                return Err(MoveError::Occupied { from: old.clone(), to: new.clone() });
            }
        }
        let moved: Vec<_> = moves.iter().filter_map(|(old, _)| self.instances.remove(old)).collect();
        for ((_, new), instance) in moves.iter().zip(moved) {
            self.instances.insert(new.clone(), instance);
        }
        for instance in self.instances.values_mut() {
            for dependency in &mut instance.dependencies {
                if dependency.is_within(from) {
                    *dependency = moved_address(dependency, from, to);
                }
            }
        }
        Ok(moves)
    }

    /// Refuses to replace this (stored) state with `incoming` unless it continues the
    /// same history: an empty stored state, or the same lineage at no older serial.
    /// `location` names where this state is kept, for the message.
    pub fn check_continued_by(&self, incoming: &State, location: &str) -> Result<(), StateError> {
        let stored_is_empty = self.serial == 0 && self.instances.is_empty() && self.outputs.is_empty();
        if stored_is_empty {
            return Ok(());
        }
        if self.lineage != incoming.lineage {
            return Err(StateError::new(
                StateErrorKind::LineageMismatch,
                format!(
                    "{location} holds another state (lineage `{}`), not a copy of this one (lineage `{}`)",
                    self.lineage, incoming.lineage
                ),
            )
            .with_help("nothing was changed; check you are pointing at the right place, and pass --force only to overwrite that state"));
        }
        if incoming.serial < self.serial {
            return Err(StateError::new(
                StateErrorKind::OlderSerial,
                format!(
                    "{location} has serial {}, newer than the state given (serial {})",
                    self.serial, incoming.serial
                ),
            )
            .with_help(
                "nothing was changed; `infra state pull` the newer state and edit that, or pass --force to go back",
            ));
        }
        Ok(())
    }
}

/// `old` (within `from`) with `from` replaced by `to`. Where neither `from` nor `to`
/// gives a step a key, the step keeps the key it had.
pub fn moved_address(old: &Address, from: &Address, to: &Address) -> Address {
    let mut steps = to.steps.clone();
    let (from_last, to_last) = (from.steps.len() - 1, steps.len() - 1);
    // The instance key of the moved declaration (or module call) carries over.
    if steps[to_last].key.is_none() && from.steps[from_last].key.is_none() {
        steps[to_last].key = old.steps[from_last].key.clone();
    }
    // So do the keys of the module instances on the way, where the path is the same.
    let on_the_way = steps.iter_mut().zip(&from.steps).zip(&old.steps).take(from_last.min(to_last));
    for ((step, from_step), old_step) in on_the_way {
        if step.name == from_step.name && step.key.is_none() && from_step.key.is_none() {
            step.key = old_step.key.clone();
        }
    }
    steps.extend(old.steps[from.steps.len()..].iter().cloned());
    Address { steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Instance, Mode};

    fn address(text: &str) -> Address {
        text.parse().unwrap_or_else(|e: crate::address::AddressError| panic!("`{text}`: {}", e.message))
    }

    fn state(addresses: &[&str]) -> State {
        let mut state = State::new();
        for text in addresses {
            state.instances.insert(address(text), Instance::new(Mode::Managed, "null.resource", "null"));
        }
        state
    }

    fn keys(state: &State) -> Vec<String> {
        state.instances.keys().map(ToString::to_string).collect()
    }

    #[test]
    fn a_declaration_moves_with_its_keys_and_its_dependents_follow() {
        let mut state = state(&["web[0]", "web[1]", "db"]);
        if let Some(db) = state.instances.get_mut(&address("db")) {
            db.dependencies = vec![address("web[1]")];
        }
        let moves = state.move_instances(&address("web"), &address("site"));
        assert_eq!(moves.map(|m| m.len()), Ok(2));
        assert_eq!(keys(&state), ["db", "site[0]", "site[1]"]);
        assert_eq!(state.instances[&address("db")].dependencies, [address("site[1]")]);
    }

    #[test]
    fn a_move_onto_an_occupied_address_or_onto_one_key_changes_nothing() {
        let mut state = state(&["web[0]", "web[1]", "site[0]"]);
        let occupied = state.move_instances(&address("web"), &address("site"));
        assert_eq!(occupied, Err(MoveError::Occupied { from: address("web[0]"), to: address("site[0]") }));
        let collision = state.move_instances(&address("web"), &address("app[0]"));
        assert_eq!(collision, Err(MoveError::Collision { to: address("app[0]") }));
        assert_eq!(state.move_instances(&address("gone"), &address("app")), Err(MoveError::NothingToMove));
        assert_eq!(keys(&state), ["site[0]", "web[0]", "web[1]"]);
    }
}
