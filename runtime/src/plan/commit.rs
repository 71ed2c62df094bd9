//! Group commit: journal entries queued by operations running at the same time are
//! appended and synced together (one write, one sync).
//!
//! The engine runs its operations as futures of one task, so the queue needs no lock:
//! a `begin` (or `fail`) is queued, the operation yields once so that every other
//! operation ready now can queue its own, and the first to resume writes the whole
//! batch; the operation goes on once its entry is on disk.
//!
//! An operation's completion is *deferred* instead: queued without waiting, it is
//! written with the next batch — every `begin` journaled after it waits for that
//! batch, so a completion is on disk before anything that depends on it starts — or,
//! when no operation is about to write one, as soon as the engine waits
//! ([`GroupCommit::flush_idle`]). A wave of operations finishing together then costs
//! one sync with the begins of their dependents instead of two in a row.

use std::cell::{Cell, RefCell};

use crate::state::{JournalEntry, StateBackend, StateError};

#[derive(Default)]
pub(super) struct GroupCommit {
    pending: RefCell<Vec<JournalEntry>>,
    /// Tickets handed out: the number of entries ever queued.
    queued: Cell<u64>,
    /// Entries whose batch has been written (or failed): tickets up to this are done.
    written: Cell<u64>,
    /// Operations that queued an entry and will write the batch when they resume.
    waiting: Cell<usize>,
    /// Batches that failed, as ticket ranges (first exclusive, last inclusive).
    failed: RefCell<Vec<(u64, u64, StateError)>>,
}

/// An entry [`GroupCommit::enqueue`]d: its ticket.
pub(super) struct Queued(u64);

/// Counts an operation as about to write the queue, until it resumes (or is dropped).
struct Waiting<'q>(&'q Cell<usize>);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl GroupCommit {
    /// Appends `entry` to `backend`'s journal; returns once it is on disk (or its
    /// batch failed, with the batch's error).
    pub async fn append(&self, backend: &dyn StateBackend, entry: JournalEntry) -> Result<(), StateError> {
        let queued = self.enqueue(entry).await;
        self.settle(backend, queued)
    }

    /// The first half of [`GroupCommit::append`]: queues `entry` and yields once, so that
    /// every other operation ready now queues its own. The entry is on disk once
    /// [`GroupCommit::settle`] returns, or once any batch is written meanwhile: an
    /// operation that waits for something between the two (its slot) shares its sync
    /// with everything queued while it waited.
    pub async fn enqueue(&self, entry: JournalEntry) -> Queued {
        let ticket = self.queue(entry);
        self.waiting.set(self.waiting.get() + 1);
        let waiting = Waiting(&self.waiting);
        tokio::task::yield_now().await;
        drop(waiting);
        Queued(ticket)
    }

    /// Writes the queue unless `queued`'s entry is already on disk; its batch's result.
    pub fn settle(&self, backend: &dyn StateBackend, queued: Queued) -> Result<(), StateError> {
        self.flush(backend, queued.0)
    }

    /// Appends `entry` now, with whatever is queued before it, without waiting for
    /// other operations: for steps that are not operations (moves, forgets).
    pub fn append_now(&self, backend: &dyn StateBackend, entry: JournalEntry) -> Result<(), StateError> {
        let ticket = self.queue(entry);
        self.flush(backend, ticket)
    }

    /// Queues `entry` for the next batch without waiting for it to be written.
    pub fn defer(&self, entry: JournalEntry) {
        self.queue(entry);
    }

    /// Writes what is queued when no operation is about to: deferred entries, once the
    /// engine has nothing left to run. `None` when there was nothing to write.
    pub fn flush_idle(&self, backend: &dyn StateBackend) -> Option<Result<(), StateError>> {
        (self.waiting.get() == 0).then(|| self.flush_all(backend)).flatten()
    }

    /// Writes everything queued; `None` when there was nothing to write.
    pub fn flush_all(&self, backend: &dyn StateBackend) -> Option<Result<(), StateError>> {
        let ticket = self.queued.get();
        (self.written.get() < ticket).then(|| self.flush(backend, ticket))
    }

    fn queue(&self, entry: JournalEntry) -> u64 {
        self.pending.borrow_mut().push(entry);
        let ticket = self.queued.get() + 1;
        self.queued.set(ticket);
        ticket
    }

    /// Writes the queue unless `ticket`'s batch is already written; the batch's result.
    fn flush(&self, backend: &dyn StateBackend, ticket: u64) -> Result<(), StateError> {
        if self.written.get() < ticket {
            let batch = std::mem::take(&mut *self.pending.borrow_mut());
            let first = self.written.get();
            let last = self.queued.get();
            let result = backend.append_journal_batch(&batch);
            self.written.set(last);
            if let Err(error) = result {
                self.failed.borrow_mut().push((first, last, error));
            }
        }
        let failed = self.failed.borrow();
        match failed.iter().find(|(first, last, _)| *first < ticket && ticket <= *last) {
            Some((_, _, error)) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;

    use super::GroupCommit;
    use crate::address::Address;
    use crate::state::{Action, JournalEntry, LocalBackend, LockHolder, StateBackend, StateLock};

    fn entry(name: &str) -> JournalEntry {
        let address: Address = name.parse().unwrap_or_else(|e| panic!("{e:?}"));
        JournalEntry::complete(0, address, Action::Delete, None)
    }

    fn written(backend: &LocalBackend) -> Vec<String> {
        let read = backend.read_journal().unwrap_or_else(|e| panic!("{e:?}"));
        read.entries.iter().map(|e| e.address.to_string()).collect()
    }

    /// A local backend in a temporary directory, locked as an apply holds it.
    fn locked_backend() -> (tempfile::TempDir, LocalBackend, StateLock) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let backend = LocalBackend::new(dir.path());
        let lock = backend.lock(&LockHolder::new("test"), Duration::ZERO).unwrap_or_else(|e| panic!("{e:?}"));
        (dir, backend, lock)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(future)
    }

    /// Deferred entries go out with the next append, in order, once; an idle flush
    /// waits while an appender is about to write, and writes what is left after one
    /// was dropped mid-wait.
    #[test]
    fn deferred_entries_are_written_once_in_order() {
        let (_dir, backend, _lock) = locked_backend();
        let queue = GroupCommit::default();

        queue.defer(entry("a"));
        queue.defer(entry("b"));
        assert!(written(&backend).is_empty(), "deferring writes nothing");
        block_on(queue.append(&backend, entry("c"))).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(written(&backend), ["a", "b", "c"]);
        assert!(queue.flush_idle(&backend).is_none(), "nothing left to write");

        // An appender queued and waiting: the idle flush leaves the batch to it.
        queue.defer(entry("d"));
        block_on(async {
            let mut appending = std::pin::pin!(queue.append(&backend, entry("e")));
            assert!(appending.as_mut().now_or_never().is_none(), "it yields once");
            assert!(queue.flush_idle(&backend).is_none(), "the appender writes the batch");
            appending.await.unwrap_or_else(|e| panic!("{e:?}"));
        });
        assert_eq!(written(&backend), ["a", "b", "c", "d", "e"]);

        // An appender dropped while waiting: its entry stays queued for the idle flush.
        block_on(async {
            let mut appending = Box::pin(queue.append(&backend, entry("f")));
            assert!(appending.as_mut().now_or_never().is_none());
            drop(appending);
        });
        queue.defer(entry("g"));
        assert!(matches!(queue.flush_idle(&backend), Some(Ok(()))));
        queue.append_now(&backend, entry("h")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(written(&backend), ["a", "b", "c", "d", "e", "f", "g", "h"]);
        assert!(queue.flush_all(&backend).is_none());
    }

    /// Entries enqueued while another waits between enqueue and settle (for its slot)
    /// go out in the batch its settle writes; settling an entry a batch already
    /// carried writes nothing, so what was deferred since waits for a batch of its own.
    #[test]
    fn a_settle_writes_what_was_enqueued_while_it_waited_and_nothing_twice() {
        let (_dir, backend, _lock) = locked_backend();
        let queue = GroupCommit::default();

        let first = block_on(queue.enqueue(entry("a")));
        let second = block_on(queue.enqueue(entry("b")));
        assert!(written(&backend).is_empty(), "enqueueing writes nothing");
        queue.settle(&backend, first).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(written(&backend), ["a", "b"]);

        queue.defer(entry("c"));
        queue.settle(&backend, second).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(written(&backend), ["a", "b"], "b was on disk already");
        assert!(matches!(queue.flush_idle(&backend), Some(Ok(()))));
        assert_eq!(written(&backend), ["a", "b", "c"]);
    }
}
