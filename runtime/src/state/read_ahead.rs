//! Reading a local snapshot ahead, while the configuration is still being parsed and
//! checked: where the state is kept is known for sure only once the module's `state`
//! block is read and the lock taken, but most runs keep it in the default file, and a
//! large snapshot takes as long to parse as the configuration takes to check.
//!
//! What is read ahead is used only if it is what [`super::LocalBackend::load`] would read
//! now: the same path, a snapshot kept in the clear, and the file unchanged since it was
//! read, by its identity (device and inode: a snapshot is only ever replaced by renaming
//! a new file over it), size, and modification and change times, compared once the lock
//! is held. Anything else (no file, an error, a sealed snapshot) is left to the
//! ordinary load, which reports it.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use super::document::{parse_snapshot, parse_snapshot_lines};
use super::envelope::is_sealed;
use super::local::{read_state_file, STATE_FILE};
use super::State;

/// A snapshot smaller than this is read when the state is loaded: a thread costs more
/// than it saves.
const BYTES_WORTH_A_THREAD: u64 = 1024 * 1024;

/// How much of the file is read at a time.
const BUFFER_BYTES: usize = 256 * 1024;

/// What identifies one version of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    identity: (u64, u64),
    len: u64,
    modified: Option<std::time::SystemTime>,
    changed: (i64, i64),
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    fingerprint_of(&std::fs::metadata(path).ok()?)
}

fn fingerprint_of(metadata: &std::fs::Metadata) -> Option<Fingerprint> {
    #[cfg(unix)]
    let (identity, changed) = {
        use std::os::unix::fs::MetadataExt;
        ((metadata.dev(), metadata.ino()), (metadata.ctime(), metadata.ctime_nsec()))
    };
    #[cfg(not(unix))]
    let (identity, changed) = ((0, 0), (0, 0));
    Some(Fingerprint { identity, len: metadata.len(), modified: metadata.modified().ok(), changed })
}

/// A snapshot being read and parsed on another thread.
pub struct ReadAhead {
    path: PathBuf,
    reading: JoinHandle<Option<(Fingerprint, State)>>,
}

impl ReadAhead {
    /// Starts reading the snapshot at `path`, if there is one large enough to be worth
    /// it.
    pub fn start(path: PathBuf) -> Option<ReadAhead> {
        let before = fingerprint(&path)?;
        if before.len < BYTES_WORTH_A_THREAD {
            return None;
        }
        let at = path.clone();
        let reading = std::thread::Builder::new()
            .name("state-read-ahead".into())
            .spawn(move || {
                // Parsed as it is read when it is laid out as this version writes it,
                // read whole first otherwise.
                let file = std::fs::File::open(&at).ok()?;
                if fingerprint_of(&file.metadata().ok()?).as_ref() != Some(&before) {
                    return None;
                }
                let lines = std::io::BufReader::with_capacity(BUFFER_BYTES, file);
                if let Some(state) = parse_snapshot_lines(lines, STATE_FILE) {
                    return Some((before, state));
                }
                let bytes = read_state_file(&at).ok()??;
                if is_sealed(&bytes) || fingerprint(&at).as_ref() != Some(&before) {
                    return None;
                }
                let state = parse_snapshot(&bytes, STATE_FILE).ok()?;
                Some((before, state))
            })
            .ok()?;
        Some(ReadAhead { path, reading })
    }

    /// The state read ahead, if it was read from `path` and the file is still the one
    /// read. Called with the lock held.
    pub fn finish(self, path: &Path) -> Option<State> {
        if self.path != path {
            // Another file: the thread is left to end on its own.
            return None;
        }
        let (read, state) = self.reading.join().ok()??;
        (fingerprint(path) == Some(read)).then_some(state)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::address::Address;
    use crate::state::{Instance, LocalBackend, LockHolder, Mode, StateBackend, StateLock};
    use crate::value::{Value, ValueMap};

    /// A state of some 1.5 MB, each instance carrying `tag`.
    fn large_state(tag: &str) -> State {
        let mut state = State::new();
        for i in 0..3_000 {
            let mut attributes = ValueMap::new();
            attributes.insert("id", Value::string(format!("r{i}")));
            attributes.insert("payload", Value::string(format!("{tag}-{i}-{}", "x".repeat(400))));
            // A nested object many instances repeat, and a secret: what is read ahead
            // (on every core) must share and mark them as the ordinary load does.
            let mut tags = std::collections::BTreeMap::new();
            tags.insert("team".to_string(), Value::string("infra"));
            tags.insert("ports".to_string(), Value::list(vec![Value::number(80.0), Value::number(f64::from(i))]));
            attributes.insert("tags", Value::map(tags));
            attributes.insert("password", Value::string(format!("secret-{i}")).mark_sensitive());
            let address: Address = format!("r{i}").parse().expect("an address");
            state
                .instances
                .insert(address, Instance::new(Mode::Managed, "null.resource", "null").with_attributes(attributes));
        }
        state
    }

    /// A backend in `dir` holding `state`, locked.
    fn holding(dir: &Path, state: &mut State) -> (LocalBackend, StateLock) {
        let backend = LocalBackend::new(dir);
        let lock = backend.lock(&LockHolder::new("test"), Duration::ZERO).expect("the lock");
        backend.write_snapshot(state).expect("a snapshot");
        (backend, lock)
    }

    /// Waits until the read ahead has parsed what it read.
    fn read(ahead: &ReadAhead) {
        while !ahead.reading.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn an_unchanged_snapshot_read_ahead_is_the_state_loaded() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut state = large_state("first");
        let (backend, _lock) = holding(dir.path(), &mut state);
        let ahead = ReadAhead::start(backend.state_path()).expect("a large snapshot is read ahead");
        read(&ahead);
        let loaded = backend.load().expect("the state").state;
        assert_eq!(loaded, state, "the state as written");
        let password = loaded.instances.values().next().and_then(|i| i.attributes.get("password"));
        assert!(password.is_some_and(|p| p.sensitive), "the secret is marked");
        assert_eq!(ahead.finish(&backend.state_path()).as_ref(), Some(&loaded), "what was read ahead is used");
        let ahead = ReadAhead::start(backend.state_path());
        assert_eq!(backend.load_read_ahead(ahead).expect("the state").state, loaded);
    }

    #[test]
    fn a_snapshot_replaced_after_it_was_read_ahead_is_read_again() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut first = large_state("first");
        let (backend, _lock) = holding(dir.path(), &mut first);
        let ahead = ReadAhead::start(backend.state_path()).expect("a large snapshot is read ahead");
        read(&ahead);
        let mut second = State { serial: first.serial, lineage: first.lineage.clone(), ..large_state("second") };
        backend.write_snapshot(&mut second).expect("a second snapshot");
        let loaded = backend.load_read_ahead(Some(ahead)).expect("the state").state;
        assert_eq!(loaded, second, "the snapshot as it is once locked");
        let payload = loaded.instances.values().next().and_then(|i| i.attributes.get("payload")).cloned();
        assert!(payload.is_some_and(|p| p.as_str().is_some_and(|p| p.starts_with("second-"))));
    }

    #[test]
    fn a_snapshot_as_written_is_parsed_line_by_line_and_any_other_is_read_whole() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut state = large_state("lines");
        state.outputs.insert("token".to_string(), Value::string("t-1").mark_sensitive());
        state.outputs.insert("count".to_string(), Value::number(3.0));
        let (backend, _lock) = holding(dir.path(), &mut state);
        let bytes = std::fs::read(backend.state_path()).expect("the snapshot");
        assert!(bytes.len() > 1024 * 1024, "several batches of lines");
        let lines = parse_snapshot_lines(&bytes[..], STATE_FILE).expect("laid out as this version writes it");
        assert_eq!(lines, state, "the state as written, its secrets marked");
        assert_eq!(lines, parse_snapshot(&bytes, STATE_FILE).expect("the state"), "the state as read whole");

        // Cut short, or with every instance unreadable: given up on, without waiting on
        // parsers that have stopped.
        assert!(parse_snapshot_lines(&bytes[..bytes.len() / 2], STATE_FILE).is_none());
        let text = String::from_utf8(bytes.clone()).expect("JSON text");
        let broken = text.replace("\"address\":", "\"place\":");
        assert!(parse_snapshot_lines(broken.as_bytes(), STATE_FILE).is_none());

        // Laid out otherwise (by hand, or by another tool): read whole, and read ahead.
        let document: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        let pretty = serde_json::to_vec_pretty(&document).expect("JSON text");
        assert!(parse_snapshot_lines(&pretty[..], STATE_FILE).is_none());
        std::fs::write(backend.state_path(), &pretty).expect("a snapshot laid out otherwise");
        let ahead = ReadAhead::start(backend.state_path()).expect("a large snapshot is read ahead");
        assert_eq!(ahead.finish(&backend.state_path()), Some(state), "read whole");
    }

    #[test]
    fn a_small_snapshot_or_another_file_is_not_read_ahead() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut small = State::new();
        let (backend, _lock) = holding(dir.path(), &mut small);
        assert!(ReadAhead::start(backend.state_path()).is_none(), "a thread is not worth it");
        assert!(ReadAhead::start(dir.path().join("missing.json")).is_none());

        let other = tempfile::tempdir().expect("a directory");
        let (elsewhere, _other_lock) = holding(other.path(), &mut large_state("other"));
        let ahead = ReadAhead::start(elsewhere.state_path()).expect("a large snapshot is read ahead");
        assert!(ahead.finish(&backend.state_path()).is_none(), "read from another path");
        let ahead = ReadAhead::start(elsewhere.state_path());
        assert_eq!(backend.load_read_ahead(ahead).expect("the state").state, backend.load().expect("the state").state);
    }
}
