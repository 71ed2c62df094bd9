//! The local backend: the state in files beside the root module.
//!
//! - `infra.state.json`, the snapshot. Written to `infra.state.json.tmp` in the same
//!   directory, synced, then renamed over the old one and the directory synced: a reader
//!   (or a crash) sees the old file or the new one, never a mix.
//! - `infra.state.json.backup`, the previous snapshot, kept by every write.
//! - `infra.state.journal`, JSON lines, each appended and synced before the append
//!   returns.
//! - `infra.state.lock`, locked with an OS file lock (`flock` on Unix) for as long as a
//!   run holds the state; its content names the holder. The OS drops the lock when the
//!   process exits, however it exits, so a lock never outlives its holder and the file's
//!   content alone means nothing. The file is kept (emptied) on release: deleting it
//!   would let a waiter lock a file that is no longer the lock.
//!
//! The snapshot and journal are created readable by their owner only: they hold secrets.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::document::{parse_header, parse_snapshot, render_snapshot, snapshot};
use super::envelope::{open_journal, open_snapshot, seal_journal, seal_snapshot, Encryption};
use super::error::{io_error, StateError, StateErrorKind};
use super::journal::{complete_length, parse_journal, render_line, replay, JournalEntry, JournalRead};
use super::lock::{rfc3339, LockHolder};
use super::read_ahead::ReadAhead;
use super::{Loaded, State, StateBackend, StateLock};

pub const STATE_FILE: &str = "infra.state.json";
pub const BACKUP_FILE: &str = "infra.state.json.backup";
pub const JOURNAL_FILE: &str = "infra.state.journal";
pub const LOCK_FILE: &str = "infra.state.lock";
const TEMP_FILE: &str = "infra.state.json.tmp";
const BACKUP_TEMP_FILE: &str = "infra.state.json.backup.tmp";

/// The longest pause between two attempts to take a held lock.
const MAX_LOCK_POLL: Duration = Duration::from_millis(250);

const WRITE_FAILED: StateErrorKind = StateErrorKind::WriteFailed;

pub struct LocalBackend {
    dir: PathBuf,
    /// Set while a lock taken through this value is held; writes check it.
    lock_held: Arc<AtomicBool>,
    /// The journal, open for appending while the lock is held (closed on release, since
    /// another process may change the file once the lock is gone).
    journal: Arc<Mutex<Option<JournalFile>>>,
    /// Whether a missing snapshot beside a backup may load as an empty state.
    allow_empty: bool,
    /// How the snapshot and the journal are encrypted, if they are.
    encryption: Option<Encryption>,
}

struct JournalFile {
    file: File,
    /// The length of its complete lines: a failed append is cut back to it.
    len: u64,
}

impl LocalBackend {
    /// The state of the root module in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> LocalBackend {
        let mut dir = dir.into();
        if dir.as_os_str().is_empty() {
            dir = PathBuf::from(".");
        }
        LocalBackend { dir, lock_held: Arc::default(), journal: Arc::default(), allow_empty: false, encryption: None }
    }

    /// Lets a missing snapshot whose backup is present load as an empty state
    /// (`--allow-empty-state`); by default that is refused, since it usually means the
    /// snapshot was lost and everything would be planned anew.
    pub fn allowing_empty_state(mut self, allow: bool) -> LocalBackend {
        self.allow_empty = allow;
        self
    }

    /// Encrypts what is written and decrypts what is read (see [`super::envelope`]).
    pub fn with_encryption(mut self, encryption: Option<Encryption>) -> LocalBackend {
        self.encryption = encryption;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    pub fn backup_path(&self) -> PathBuf {
        self.dir.join(BACKUP_FILE)
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    fn require_lock(&self) -> Result<(), StateError> {
        if self.lock_held.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(StateError::new(StateErrorKind::NotLocked, "the state was written without holding its lock")
            .at(&self.lock_path())
            .with_help("this is a bug in Infra: take the lock before writing"))
    }

    /// The hint for a snapshot that cannot be used: where the previous version is.
    fn backup_hint(&self) -> String {
        let backup = self.backup_path();
        if backup.exists() {
            format!(
                "nothing was changed; the previous version is at `{}`: check it, and if it is good, copy it over \
                 `{STATE_FILE}` (the journal keeps the operations since, and is replayed over it)",
                backup.display()
            )
        } else {
            format!("nothing was changed; there is no backup (`{}` does not exist)", backup.display())
        }
    }

    /// The error for a snapshot that is gone while its backup is there: planning from an
    /// empty state would propose to create everything again.
    fn lost_snapshot(&self) -> StateError {
        StateError::new(
            StateErrorKind::Missing,
            format!("`{STATE_FILE}` does not exist, but its backup `{BACKUP_FILE}` does"),
        )
        .at(&self.state_path())
        .with_help(format!(
            "nothing was changed; if the state file was lost, restore it with `cp {BACKUP_FILE} {STATE_FILE}` in \
             `{}` (the journal is replayed over it); to start from an empty state anyway, run again with \
             `--allow-empty-state`",
            self.dir.display()
        ))
    }

    /// Fails if writing `state` would replace a different state: another lineage, a
    /// newer serial, or a file that does not parse.
    fn check_replaceable(&self, state: &State) -> Result<(), StateError> {
        let path = self.state_path();
        let Some(bytes) = read_state_file(&path)? else { return Ok(()) };
        let header = parse_header(&bytes, STATE_FILE)
            .map_err(|e| e.at(&path).with_help(format!("refusing to overwrite it; {}", self.backup_hint())))?;
        if header.lineage != state.lineage {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "`{STATE_FILE}` holds another state (lineage `{}`; the state being written has `{}`)",
                    header.lineage, state.lineage
                ),
            )
            .at(&path)
            .with_help("the file was replaced since it was loaded; nothing was written, run the command again"));
        }
        if header.serial > state.serial {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "`{STATE_FILE}` has serial {}, newer than the state being written (loaded at serial {})",
                    header.serial, state.serial
                ),
            )
            .at(&path)
            .with_help(
                "another run changed the state since it was loaded; nothing was written, run the command again",
            ));
        }
        Ok(())
    }

    /// Replaces the snapshot with `bytes`: temp file, sync, backup, rename, sync the
    /// directory.
    ///
    /// A snapshot that is a symbolic link is written through it deliberately: the file
    /// it points to is replaced (through a temp file beside it), the link kept; the
    /// backup stays a file of its own in the module's directory.
    fn write_atomically(&self, bytes: &[u8]) -> Result<(), StateError> {
        self.write_atomically_with(|file| file.write_all(bytes))
    }

    /// The snapshot of `state` at `serial`, as [`write_atomically`] writes bytes. Without
    /// encryption it is written to the file as it is serialized, not held whole first.
    fn write_state(&self, state: &State, serial: u64) -> Result<(), StateError> {
        let at = |e: StateError| e.at(&self.state_path());
        if self.encryption.as_ref().and_then(Encryption::sealing).is_some() {
            let bytes = render_snapshot(state, serial)
                .and_then(|document| seal_snapshot(self.encryption.as_ref(), document, &state.lineage, serial))
                .map_err(at)?;
            return self.write_atomically(&bytes);
        }
        let snapshot = snapshot(state, serial).map_err(at)?;
        self.write_atomically_with(|file| snapshot.write_to(io::BufWriter::with_capacity(1 << 18, file)))
    }

    /// Writes the snapshot with `write`: to a temporary file that is synced, then renamed
    /// over the snapshot (after the backup is kept), then the directory is synced.
    fn write_atomically_with(&self, write: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), StateError> {
        let path = snapshot_target(&self.state_path())?;
        let dir = path.parent().map_or_else(|| self.dir.clone(), Path::to_path_buf);
        let temp = dir.join(TEMP_FILE);
        let unchanged = format!("`{STATE_FILE}` still holds the previous version; the journal keeps every operation");
        let result = write_new_synced(&temp, write)
            .and_then(|()| self.keep_backup(&path))
            .and_then(|()| fs::rename(&temp, &path).map_err(|e| io_error(WRITE_FAILED, "replace", &path, &e)));
        if let Err(error) = result {
            // Best effort: the temp file is overwritten by the next write anyway.
            let _ = fs::remove_file(&temp);
            return Err(error.with_help(unchanged));
        }
        sync_dir(&dir)
    }

    /// Makes the current snapshot the backup: a hard link (no copy, and the old content
    /// is already on disk), or a synced copy where links are not supported. Renamed into
    /// place, so the backup too is always whole.
    fn keep_backup(&self, path: &Path) -> Result<(), StateError> {
        if !path.exists() {
            return Ok(());
        }
        let temp = self.dir.join(BACKUP_TEMP_FILE);
        remove_if_present(&temp)?;
        if fs::hard_link(path, &temp).is_err() {
            fs::copy(path, &temp)
                .and_then(|_| File::open(&temp)?.sync_all())
                .map_err(|e| io_error(WRITE_FAILED, "copy the state to", &temp, &e))?;
        }
        let backup = self.backup_path();
        fs::rename(&temp, &backup).map_err(|e| io_error(WRITE_FAILED, "replace", &backup, &e))
    }

    /// Opens the journal for appending. A torn last line, already reported by loading, is
    /// cut off first, so the next entry starts on a line of its own.
    fn open_journal(&self) -> Result<JournalFile, StateError> {
        let path = self.journal_path();
        let existing = read_state_file(&path)?;
        let file = private_options()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io_error(WRITE_FAILED, "open", &path, &e))?;
        let len = match existing {
            Some(bytes) => {
                let complete = complete_length(&bytes) as u64;
                if complete < bytes.len() as u64 {
                    file.set_len(complete)
                        .and_then(|()| file.sync_data())
                        .map_err(|e| io_error(WRITE_FAILED, "cut the incomplete last line of", &path, &e))?;
                }
                complete
            }
            None => {
                sync_dir(&self.dir)?;
                0
            }
        };
        Ok(JournalFile { file, len })
    }

    fn clear_journal(&self) -> Result<(), StateError> {
        let path = self.journal_path();
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        *journal = None;
        match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file.set_len(0).and_then(|()| file.sync_all()).map_err(|e| {
                io_error(WRITE_FAILED, "empty", &path, &e)
                    .with_help("the new snapshot is written; its serial makes the journal's entries ignored")
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(WRITE_FAILED, "open", &path, &e)),
        }
    }

    fn locked_error(&self, timeout: Duration) -> StateError {
        let path = self.lock_path();
        let holder = fs::read(&path).ok().and_then(|bytes| serde_json::from_slice::<LockHolder>(&bytes).ok());
        let who = holder.map_or_else(|| "another process".to_string(), |holder| holder.to_string());
        let mut message = format!("the state is locked by {who}");
        if !timeout.is_zero() {
            message.push_str(&format!("; gave up after waiting {}", display_duration(timeout)));
        }
        StateError::new(StateErrorKind::Locked, message).at(&path).with_help(
            "wait for that run to finish and try again, or give a lock timeout to wait for it; the lock is \
             released when its process exits, so it never needs removing by hand",
        )
    }
}

impl StateBackend for LocalBackend {
    fn location(&self) -> String {
        self.state_path().display().to_string()
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn load_read_ahead(&self, ahead: Option<ReadAhead>) -> Result<Loaded, StateError> {
        // A snapshot kept in the clear only: with keys, whether a plain one may be read
        // is this backend's to say.
        match ahead.filter(|_| self.encryption.is_none()).and_then(|ahead| ahead.finish(&self.state_path())) {
            Some(snapshot) => replay(snapshot, self.read_journal()?).map_err(|e| e.at(&self.journal_path())),
            None => self.load(),
        }
    }

    fn load(&self) -> Result<Loaded, StateError> {
        let path = self.state_path();
        let snapshot = match read_state_file(&path)? {
            Some(bytes) => open_snapshot(self.encryption.as_ref(), bytes, STATE_FILE)
                .and_then(|bytes| parse_snapshot(&bytes, STATE_FILE))
                .map_err(|e| match e.kind {
                    StateErrorKind::Corrupt => e.at(&path).with_help(self.backup_hint()),
                    _ => e.at(&path),
                })?,
            None if !self.allow_empty && self.backup_path().exists() => return Err(self.lost_snapshot()),
            None => State::new(),
        };
        replay(snapshot, self.read_journal()?).map_err(|e| e.at(&self.journal_path()))
    }

    fn lock(&self, holder: &LockHolder, timeout: Duration) -> Result<StateLock, StateError> {
        let path = self.lock_path();
        let lock_failed = |what: &str, e: &io::Error| io_error(StateErrorKind::LockFailed, what, &path, e);
        // The lock names the user and host holding it: readable by the owner only, like
        // the state (a lock file left by an older version is narrowed too).
        let mut file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| lock_failed("open", &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map_err(|e| lock_failed("inspect", &e))?.permissions().mode();
            if mode & 0o077 != 0 {
                file.set_permissions(fs::Permissions::from_mode(0o600))
                    .map_err(|e| lock_failed("set the permissions of", &e))?;
            }
        }
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(lock_failed("lock", &e)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(self.locked_error(timeout));
            }
            thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(MAX_LOCK_POLL);
        }
        let holder = LockHolder { since: rfc3339(SystemTime::now()), ..holder.clone() };
        let record = serde_json::to_vec_pretty(&holder).unwrap_or_default();
        // The record is only informational, but a lock file that cannot be written means
        // a directory that will not take the state either: better to fail now, before
        // anything depends on the lock.
        file.set_len(0)
            .and_then(|()| file.write_all(&record))
            .and_then(|()| file.sync_data())
            .map_err(|e| lock_failed("record the holder in", &e))?;
        self.lock_held.store(true, Ordering::SeqCst);
        let guard = LocalLock { file, held: Arc::clone(&self.lock_held), journal: Arc::clone(&self.journal) };
        Ok(StateLock::new(holder, guard))
    }

    fn write_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.require_lock()?;
        self.check_replaceable(state)?;
        let serial = state.next_serial().map_err(|e| e.at(&self.state_path()))?;
        self.write_state(state, serial)?;
        state.serial = serial;
        Ok(())
    }

    fn append_journal(&self, entry: &JournalEntry) -> Result<(), StateError> {
        self.append_journal_batch(std::slice::from_ref(entry))
    }

    /// The lines of every entry in one write, then one sync.
    fn append_journal_batch(&self, entries: &[JournalEntry]) -> Result<(), StateError> {
        self.require_lock()?;
        let path = self.journal_path();
        let mut line = Vec::new();
        for entry in entries {
            line.extend(render_line(entry).map_err(|e| e.at(&path))?);
        }
        let serial = entries.first().map_or(0, |entry| entry.serial);
        let line = seal_journal(self.encryption.as_ref(), line, serial).map_err(|e| e.at(&path))?;
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        let open = match journal.as_mut() {
            Some(open) => open,
            None => journal.insert(self.open_journal()?),
        };
        if let Err(e) = open.file.write_all(&line).and_then(|()| open.file.sync_data()) {
            // Cut off whatever part of the lines was written, so the journal stays whole
            // lines; the entries count as not recorded.
            let _ = open.file.set_len(open.len);
            return Err(io_error(WRITE_FAILED, "append to", &path, &e));
        }
        open.len += line.len() as u64;
        Ok(())
    }

    fn read_journal(&self) -> Result<JournalRead, StateError> {
        let path = self.journal_path();
        let Some(bytes) = read_state_file(&path)? else { return Ok(JournalRead::default()) };
        let bytes = open_journal(self.encryption.as_ref(), &bytes, JOURNAL_FILE).map_err(|e| e.at(&path))?;
        let mut read = parse_journal(&bytes, JOURNAL_FILE).map_err(|e| e.at(&path))?;
        for warning in &mut read.warnings {
            warning.path = Some(path.clone());
        }
        Ok(read)
    }

    fn compact(&self, state: &mut State) -> Result<(), StateError> {
        self.write_snapshot(state)?;
        self.clear_journal()
    }

    fn replace_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.require_lock()?;
        let serial = state.next_serial().map_err(|e| e.at(&self.state_path()))?;
        self.write_state(state, serial)?;
        state.serial = serial;
        self.clear_journal()
    }
}

/// Releases the lock when dropped: writes through the backend stop being allowed, the
/// journal is closed, the holder record is cleared and the OS lock released.
struct LocalLock {
    file: File,
    held: Arc<AtomicBool>,
    journal: Arc<Mutex<Option<JournalFile>>>,
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        self.held.store(false, Ordering::SeqCst);
        *self.journal.lock().unwrap_or_else(PoisonError::into_inner) = None;
        // Cleared while still locked, so no later holder's record is erased. Failures
        // only leave a stale record, which means nothing without the OS lock.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The largest state file read: a state is megabytes; anything near this is not one.
const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

/// A state file's bytes (the snapshot's or the journal's), or `None` when there is
/// none. Only a regular file (or a symbolic link to one) is read, and at most
/// [`MAX_SNAPSHOT_BYTES`] of it: a FIFO would block forever and `/dev/zero` never ends.
pub(super) fn read_state_file(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    let Some(target) = existing_snapshot(path)? else { return Ok(None) };
    let refused = |e: &io::Error| {
        io_error(StateErrorKind::ReadFailed, "read", path, e)
            .with_help("check that it is a file this user can read; nothing was changed")
    };
    let file = File::open(&target).map_err(|e| refused(&e))?;
    // Sized to the file up front: growing by doubling would hold up to twice its size.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0).min(MAX_SNAPSHOT_BYTES + 1);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    io::Read::read_to_end(&mut io::Read::take(file, MAX_SNAPSHOT_BYTES + 1), &mut bytes).map_err(|e| refused(&e))?;
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(StateError::new(
            StateErrorKind::NotAFile,
            format!("`{}` is larger than {} GiB: it is not a state file", path.display(), MAX_SNAPSHOT_BYTES >> 30),
        )
        .at(path)
        .with_help("point the state at the right file; nothing was changed"));
    }
    Ok(Some(bytes))
}

/// The file the snapshot at `path` is, following a symbolic link; `None` when nothing
/// is at `path`. A dangling link, or anything but a regular file, is an error.
fn existing_snapshot(path: &Path) -> Result<Option<PathBuf>, StateError> {
    let link = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata.file_type().is_symlink(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(StateErrorKind::ReadFailed, "inspect", path, &e)),
    };
    let target = if link { fs::canonicalize(path).ok() } else { Some(path.to_path_buf()) };
    let Some(target) = target else {
        let points_to = fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
        return Err(StateError::new(
            StateErrorKind::NotAFile,
            format!("`{}` is a symbolic link to `{points_to}`, which does not exist", path.display()),
        )
        .at(path)
        .with_help(
            "nothing was changed; restore the file the link points to, or remove the link to start an empty state",
        ));
    };
    let metadata = fs::metadata(&target).map_err(|e| io_error(StateErrorKind::ReadFailed, "inspect", path, &e))?;
    if !metadata.is_file() {
        let what = if metadata.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
        return Err(StateError::new(StateErrorKind::NotAFile, format!("`{}` is {what}", path.display()))
            .at(path)
            .with_help("the state must be a regular file; move that out of the way; nothing was changed"));
    }
    Ok(Some(target))
}

/// Where a snapshot at `path` is written: the file a symbolic link points to (followed
/// deliberately, so the link survives), else `path` itself.
fn snapshot_target(path: &Path) -> Result<PathBuf, StateError> {
    Ok(existing_snapshot(path)?.unwrap_or_else(|| path.to_path_buf()))
}

fn remove_if_present(path: &Path) -> Result<(), StateError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(WRITE_FAILED, "remove", path, &e)),
        _ => Ok(()),
    }
}

/// Writes a new file at `path` with `write` (replacing a leftover one) and syncs it.
fn write_new_synced(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), StateError> {
    remove_if_present(path)?;
    private_options()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| {
            write(&mut file)?;
            file.sync_all()
        })
        .map_err(|e| io_error(WRITE_FAILED, "write", path, &e))
}

/// Options for files that hold secrets: on Unix, created readable by the owner only.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes a rename or a new file in `dir` durable. Only Unix can open and sync a
/// directory; elsewhere the rename is as durable as the platform makes it.
fn sync_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error(WRITE_FAILED, "sync the directory", dir, &e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn display_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
