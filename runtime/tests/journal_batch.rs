//! Appending several journal entries at once (the engine's group commit): one write,
//! every entry readable in order afterwards, and the lock still required.

use std::time::Duration;

use infra_runtime::address::Address;
use infra_runtime::state::{
    Action, Instance, JournalEntry, LocalBackend, LockHolder, Mode, StateBackend, StateErrorKind,
};

fn address(text: &str) -> Address {
    text.parse().unwrap_or_else(|e| panic!("{e:?}"))
}

fn entries() -> Vec<JournalEntry> {
    let instance = || Instance::new(Mode::Managed, "null.resource", "null");
    vec![
        JournalEntry::begin(0, address("a"), Action::Create, Some(instance())),
        JournalEntry::begin(0, address("b[0]"), Action::Create, Some(instance())),
        JournalEntry::complete(0, address("a"), Action::Create, Some(instance())),
        JournalEntry::fail(0, address("b[0]"), Action::Create, "failed"),
    ]
}

#[test]
fn a_batch_is_appended_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let backend = LocalBackend::new(dir.path());
    let _lock = backend.lock(&LockHolder::new("infra apply"), Duration::ZERO).unwrap_or_else(|e| panic!("{e:?}"));
    let first = JournalEntry::begin(0, address("z"), Action::Delete, None);
    backend.append_journal(&first).unwrap_or_else(|e| panic!("{e:?}"));
    backend.append_journal_batch(&entries()).unwrap_or_else(|e| panic!("{e:?}"));
    let read = backend.read_journal().unwrap_or_else(|e| panic!("{e:?}"));
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let mut expected = vec![first];
    expected.extend(entries());
    assert_eq!(read.entries, expected);
    // Replayed over the empty snapshot: `a` created, `b[0]` failed before it existed.
    let loaded = backend.load().unwrap_or_else(|e| panic!("{e:?}"));
    let addresses: Vec<String> = loaded.state.instances.keys().map(ToString::to_string).collect();
    assert_eq!(addresses, ["a"]);
}

#[test]
fn a_batch_needs_the_lock() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let backend = LocalBackend::new(dir.path());
    let error = backend.append_journal_batch(&entries()).err().map(|e| e.kind);
    assert_eq!(error, Some(StateErrorKind::NotLocked));
    assert!(!backend.journal_path().exists(), "nothing was written");
}
