//! The state layer's errors and warnings, as data with a code, a message and a hint.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use infra_compiler::diagnostic::{Code, Diagnostic};

use crate::codes;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateErrorKind {
    /// The state file is not valid JSON, or not a state document.
    Corrupt,
    /// The state was written by a newer Infra, in a format this one does not know.
    NewerFormat,
    /// Another process holds the lock.
    Locked,
    /// A state file exists but cannot be read.
    ReadFailed,
    /// Writing, syncing or renaming a state file failed.
    WriteFailed,
    /// A journal line other than the last is not a valid entry.
    CorruptJournal,
    /// A value that JSON cannot hold (unknown, or a non-finite number).
    Unstorable,
    /// A write was attempted without holding the lock (a bug in the caller).
    NotLocked,
    /// The stored state is not the one being overwritten: another lineage or a newer
    /// serial.
    Conflict,
    /// The lock file cannot be opened or locked for a reason other than another holder.
    LockFailed,
    /// The state location (URL, schema, workspace name) is not valid.
    InvalidLocation,
    /// The workspace does not exist, or already exists.
    Workspace,
    /// A state from another history (lineage) where one was expected to continue.
    LineageMismatch,
    /// A state older (smaller serial) than the stored one would replace it.
    OlderSerial,
    /// The state's path holds something other than a state file: a FIFO, a device, a
    /// directory, a dangling symbolic link, or a file far too large.
    NotAFile,
    /// The snapshot is gone while its backup is there (refused unless an empty state is
    /// allowed).
    Missing,
    /// The stored state is encrypted and no key was given.
    Encrypted,
    /// The stored state is not encrypted while encryption is configured.
    NotEncrypted,
    /// The configured backend's state is empty while the local files beside the module
    /// hold one: the backend changed and the state was not moved.
    LeftBehind,
    /// A failure only one backend knows, with that backend's code and its title (the
    /// PostgreSQL backend's connection, credentials and TLS errors). The backend's crate
    /// lists the code; the runtime only carries it.
    Backend(Code, &'static str),
}

impl StateErrorKind {
    pub fn code(self) -> &'static str {
        let code = match self {
            StateErrorKind::Corrupt => codes::STATE_CORRUPT,
            StateErrorKind::NewerFormat => codes::STATE_NEWER_FORMAT,
            StateErrorKind::Locked => codes::STATE_LOCKED,
            StateErrorKind::ReadFailed => codes::STATE_READ_FAILED,
            StateErrorKind::WriteFailed => codes::STATE_WRITE_FAILED,
            StateErrorKind::CorruptJournal => codes::STATE_CORRUPT_JOURNAL,
            StateErrorKind::Unstorable => codes::STATE_UNSTORABLE,
            StateErrorKind::NotLocked => codes::STATE_NOT_LOCKED,
            StateErrorKind::Conflict => codes::STATE_CONFLICT,
            StateErrorKind::LockFailed => codes::STATE_LOCK_FAILED,
            StateErrorKind::InvalidLocation => codes::STATE_INVALID_LOCATION,
            StateErrorKind::Workspace => codes::STATE_WORKSPACE,
            StateErrorKind::LineageMismatch => codes::STATE_LINEAGE_MISMATCH,
            StateErrorKind::OlderSerial => codes::STATE_OLDER_SERIAL,
            StateErrorKind::NotAFile => codes::STATE_NOT_A_FILE,
            StateErrorKind::Missing => codes::STATE_MISSING,
            StateErrorKind::Encrypted => codes::STATE_ENCRYPTED,
            StateErrorKind::NotEncrypted => codes::STATE_NOT_ENCRYPTED,
            StateErrorKind::LeftBehind => codes::STATE_LEFT_BEHIND,
            StateErrorKind::Backend(code, _) => code,
        };
        code.as_str()
    }

    /// The code's title, as its crate's code list has it.
    pub fn title(self) -> &'static str {
        match self {
            StateErrorKind::Backend(_, title) => title,
            kind => codes::title(kind.code()).unwrap_or_default(),
        }
    }
}

/// A state operation's failure. `message` follows the diagnostic conventions: short,
/// lower-case, no trailing period, names in backticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    pub kind: StateErrorKind,
    pub message: String,
    pub help: Option<String>,
    /// The file (or other location) the error is about.
    pub path: Option<PathBuf>,
}

impl StateError {
    pub fn new(kind: StateErrorKind, message: impl Into<String>) -> StateError {
        StateError { kind, message: message.into(), help: None, path: None }
    }

    /// Refusing to delete workspace `name` that still holds `count` instances, in
    /// either backend.
    pub fn workspace_not_empty(name: &str, count: usize) -> StateError {
        StateError::new(
            StateErrorKind::Workspace,
            format!("workspace `{name}` holds {count} instance{}", if count == 1 { "" } else { "s" }),
        )
        .with_help(format!("destroy them first (`infra destroy --workspace {name}`), or pass --force to forget them"))
    }

    pub fn with_help(mut self, help: impl Into<String>) -> StateError {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, path: &Path) -> StateError {
        self.path = Some(path.to_path_buf());
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The error as a diagnostic, for the CLI to render; the path becomes a note.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut diagnostic = Diagnostic::error(Code(self.code()), self.message.clone());
        if let Some(help) = &self.help {
            diagnostic = diagnostic.with_help(help.clone());
        }
        if let Some(path) = &self.path {
            diagnostic = diagnostic.with_note(format!("file: {}", path.display()));
        }
        diagnostic
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StateError {}

/// An I/O failure on `path` while doing `what` ("read", "write", "rename ... to ...").
pub(crate) fn io_error(kind: StateErrorKind, what: &str, path: &Path, error: &io::Error) -> StateError {
    let help = match error.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            "run as a user who may read and write the directory that holds the state, or give it such a \
             directory (its owner and permissions decide)"
        }
        io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory => {
            "a directory is where a file of the state should be (or the other way round): move it away"
        }
        io::ErrorKind::StorageFull => "free some space on the disk that holds the state, then run the command again",
        _ => "check the path, its permissions and the free space, then run the command again",
    };
    StateError::new(kind, format!("cannot {what} `{}`: {error}", path.display())).at(path).with_help(help)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateWarningKind {
    /// The journal's last line is incomplete (the process stopped while appending it).
    TornJournal,
    /// Journal entries apply to a newer snapshot than the one stored (the state file
    /// was replaced by hand, say, by an older copy).
    JournalAhead,
}

impl StateWarningKind {
    pub fn code(self) -> &'static str {
        let code = match self {
            StateWarningKind::TornJournal => codes::STATE_TORN_JOURNAL,
            StateWarningKind::JournalAhead => codes::STATE_JOURNAL_AHEAD,
        };
        code.as_str()
    }

    /// The code's title, as the runtime's code list has it.
    pub fn title(self) -> &'static str {
        codes::title(self.code()).unwrap_or_default()
    }
}

/// A problem that did not stop loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateWarning {
    pub kind: StateWarningKind,
    pub message: String,
    pub help: Option<String>,
    pub path: Option<PathBuf>,
}

impl StateWarning {
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut diagnostic = Diagnostic::warning(Code(self.code()), self.message.clone());
        if let Some(help) = &self.help {
            diagnostic = diagnostic.with_help(help.clone());
        }
        if let Some(path) = &self.path {
            diagnostic = diagnostic.with_note(format!("file: {}", path.display()));
        }
        diagnostic
    }
}

impl fmt::Display for StateWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
