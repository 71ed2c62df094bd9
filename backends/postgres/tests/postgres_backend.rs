//! The PostgreSQL backend through the `StateBackend` trait, against a real PostgreSQL 15
//! that the test starts (the harness is shared with the CLI's tests): the same contract
//! the local backend keeps.

use std::time::Duration;

use infra_backend_postgres::{PostgresBackend, PostgresLocation, KEPT_SNAPSHOTS};
use infra_runtime::address::Address;
use infra_runtime::state::{
    Action, Instance, JournalEntry, LockHolder, Mode, State, StateBackend, StateErrorKind, Status,
};
use infra_runtime::Value;

#[path = "../../../cli/tests/support/postgres.rs"]
mod pg;

fn backend(url: &str, workspace: Option<&str>) -> PostgresBackend {
    PostgresBackend::new(PostgresLocation::new(url, None, workspace).expect("valid location"))
}

fn address(text: &str) -> Address {
    text.parse().expect("address")
}

fn instance(content: &str) -> Instance {
    let attributes = [
        ("content".to_string(), Value::string(content)),
        ("password".to_string(), Value::string("pw").with_mark(true)),
    ];
    Instance::new(Mode::Managed, "local.file", "local").with_attributes(attributes.into_iter().collect())
}

#[test]
fn the_backend_keeps_the_state_contract() {
    let url = pg::database("contract");
    let first = backend(&url, None);
    let second = backend(&url, None);

    // A new database is an empty state; writes need the lock.
    let mut state = first.load().expect("load").state;
    assert_eq!((state.serial, state.instances.len()), (0, 0));
    let refused = first.write_snapshot(&mut state).expect_err("no lock");
    assert_eq!(refused.kind, StateErrorKind::NotLocked);

    // The lock is exclusive and names its holder.
    let lock = first.lock(&LockHolder::new("infra apply"), Duration::ZERO).expect("lock");
    let busy = second.lock(&LockHolder::new("infra plan"), Duration::from_millis(300)).expect_err("held");
    assert_eq!(busy.kind, StateErrorKind::Locked);
    assert!(busy.message.contains("running `infra apply`") && busy.message.contains("gave up after waiting"));

    // Journal entries replay over the snapshot; sensitive marks survive.
    state.instances.insert(address("a"), instance("one"));
    first.write_snapshot(&mut state).expect("write");
    assert_eq!(state.serial, 1);
    first.append_journal(&JournalEntry::begin(1, address("b"), Action::Create, Some(instance("two")))).expect("append");
    let loaded = second.load().expect("load");
    assert_eq!(loaded.replayed, 1);
    assert_eq!(loaded.state.instances[&address("b")].status, Status::PendingCreate);
    assert!(loaded.state.instances[&address("a")].attributes["password"].contains_sensitive());
    first
        .append_journal(&JournalEntry::complete(1, address("b"), Action::Create, Some(instance("two"))))
        .expect("append");
    let mut current = first.load().expect("load").state;
    first.compact(&mut current).expect("compact");
    assert!(first.read_journal().expect("journal").entries.is_empty());
    assert_eq!(second.load().expect("load").state, current);

    // A write from a stale load is refused; so is another lineage.
    state.serial = 1;
    assert_eq!(first.write_snapshot(&mut state).expect_err("stale").kind, StateErrorKind::Conflict);
    let mut foreign = State::new();
    foreign.serial = 10;
    assert_eq!(first.write_snapshot(&mut foreign).expect_err("lineage").kind, StateErrorKind::Conflict);
    drop(lock);
    second.lock(&LockHolder::new("infra plan"), Duration::ZERO).expect("released on drop");
}

#[test]
fn old_snapshots_are_kept_for_recovery_then_pruned() {
    let url = pg::database("kept");
    let store = backend(&url, None);
    let _lock = store.lock(&LockHolder::new("infra apply"), Duration::ZERO).expect("lock");
    let mut state = State::new();
    for round in 0..(KEPT_SNAPSHOTS + 5) {
        state.outputs.insert("round".to_string(), Value::number(round as f64));
        store.compact(&mut state).expect("write");
    }
    let serials = store.snapshot_serials().expect("serials");
    assert_eq!(serials.len() as i64, KEPT_SNAPSHOTS + 1);
    assert_eq!(serials[0], state.serial);
}

#[test]
fn workspaces_do_not_share_locks_or_states() {
    let url = pg::database("isolated");
    let default = backend(&url, None);
    default.create_workspace("other").expect("create");
    let other = backend(&url, Some("other"));
    let _one = default.lock(&LockHolder::new("a"), Duration::ZERO).expect("lock default");
    let _two = other.lock(&LockHolder::new("b"), Duration::ZERO).expect("lock other");
    let mut state = State::new();
    state.instances.insert(address("x"), instance("x"));
    default.compact(&mut state).expect("write");
    assert!(other.load().expect("load").state.instances.is_empty());
    assert_eq!(default.workspaces().expect("list"), ["default", "other"]);
    let missing = backend(&url, Some("absent")).load().expect_err("no such workspace");
    assert_eq!(missing.kind, StateErrorKind::Workspace);
}
