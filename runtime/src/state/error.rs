//! The state layer's errors and warnings, as data with a code, a message and a hint.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use infra_compiler::diagnostic::{Code, Diagnostic};

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
    /// The state server cannot be reached (refused, timed out, no such host).
    Unreachable,
    /// The state server refused the credentials.
    AuthFailed,
    /// The state server has no database of the configured name.
    DatabaseMissing,
    /// The state database's tables were made by a newer version of Infra.
    NewerSchema,
    /// The connection to the state server was lost, or the server failed a statement.
    ConnectionLost,
    /// The state location (URL, schema, workspace name) is not valid.
    InvalidLocation,
    /// The workspace does not exist, or already exists.
    Workspace,
    /// A state from another history (lineage) where one was expected to continue.
    LineageMismatch,
    /// A state older (smaller serial) than the stored one would replace it.
    OlderSerial,
    /// TLS to the state server failed: not offered when required, or a certificate
    /// that cannot be verified.
    Tls,
}

impl StateErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            StateErrorKind::Corrupt => "E0700",
            StateErrorKind::NewerFormat => "E0701",
            StateErrorKind::Locked => "E0702",
            StateErrorKind::ReadFailed => "E0703",
            StateErrorKind::WriteFailed => "E0704",
            StateErrorKind::CorruptJournal => "E0705",
            StateErrorKind::Unstorable => "E0706",
            StateErrorKind::NotLocked => "E0707",
            StateErrorKind::Conflict => "E0708",
            StateErrorKind::LockFailed => "E0709",
            StateErrorKind::Unreachable => "E0711",
            StateErrorKind::AuthFailed => "E0712",
            StateErrorKind::DatabaseMissing => "E0713",
            StateErrorKind::NewerSchema => "E0714",
            StateErrorKind::ConnectionLost => "E0715",
            StateErrorKind::InvalidLocation => "E0716",
            StateErrorKind::Workspace => "E0719",
            StateErrorKind::LineageMismatch => "E0720",
            StateErrorKind::OlderSerial => "E0721",
            StateErrorKind::Tls => "E0723",
        }
    }

    /// The code's title, as `codes.rs` will list it.
    pub fn title(self) -> &'static str {
        match self {
            StateErrorKind::Corrupt => "state file is not valid",
            StateErrorKind::NewerFormat => "state written by a newer version of Infra",
            StateErrorKind::Locked => "state is locked",
            StateErrorKind::ReadFailed => "state cannot be read",
            StateErrorKind::WriteFailed => "state cannot be written",
            StateErrorKind::CorruptJournal => "state journal is not valid",
            StateErrorKind::Unstorable => "value cannot be stored in the state",
            StateErrorKind::NotLocked => "state written without holding the lock",
            StateErrorKind::Conflict => "stored state changed since it was loaded",
            StateErrorKind::LockFailed => "state lock cannot be taken",
            StateErrorKind::Unreachable => "state server cannot be reached",
            StateErrorKind::AuthFailed => "state server refused the credentials",
            StateErrorKind::DatabaseMissing => "state database does not exist",
            StateErrorKind::NewerSchema => "state database made by a newer version of Infra",
            StateErrorKind::ConnectionLost => "connection to the state server failed",
            StateErrorKind::InvalidLocation => "state location is not valid",
            StateErrorKind::Workspace => "workspace does not exist or already exists",
            StateErrorKind::LineageMismatch => "state has another lineage",
            StateErrorKind::OlderSerial => "state is older than the stored one",
            StateErrorKind::Tls => "TLS to the state server failed",
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
        StateError::new(StateErrorKind::Workspace, format!("workspace `{name}` holds {count} instances")).with_help(
            format!("destroy them first (`infra destroy --workspace {name}`), or pass --force to forget them"),
        )
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
    StateError::new(kind, format!("cannot {what} `{}`: {error}", path.display())).at(path)
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
        match self {
            StateWarningKind::TornJournal => "W0700",
            StateWarningKind::JournalAhead => "W0701",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            StateWarningKind::TornJournal => "incomplete entry at the end of the state journal",
            StateWarningKind::JournalAhead => "state journal is newer than the state file",
        }
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
