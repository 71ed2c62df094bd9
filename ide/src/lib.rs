//! The language server's logic as plain data: what an editor asks about `.infra` files
//! (completion, hover, navigation, rename, inlay hints, semantic tokens, diagnostics),
//! answered from the compiler's analysis.
//!
//! Nothing here knows the LSP wire protocol. A front end (the CLI's `infra lsp`) keeps a
//! [`Workspace`], feeds it the editor's documents and edits, calls one function per
//! request and converts the answer. Positions are [`Position`]s, a line and a UTF-16
//! column as editors count them; [`LineIndex`] converts them to and from the compiler's
//! byte offsets. Every answer reads the analysis and never changes it.

mod complete;
mod diagnostics;
mod edit;
mod hover;
mod index;
mod line_index;
mod navigate;
mod text;
mod tokens;
mod workspace;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use complete::{completion, CompletionItem, CompletionKind, Insert};
pub use diagnostics::{diagnostics, Diagnostic, Related, Severity};
pub use edit::{code_actions, formatting, CodeAction};
pub use hover::{hover, signature_help, Hover, SignatureHelp};
pub use index::{ModuleIndex, Occurrence, Symbol};
pub use line_index::{BadPosition, LineIndex, Position, Range};
pub use navigate::{
    definition, document_symbols, prepare_rename, references, rename, workspace_symbols, DocumentSymbol, SymbolKind,
    WorkspaceSymbol,
};
pub use text::TextChange;
pub use tokens::{inlay_hints, semantic_tokens, InlayHint, SemanticToken, TokenKind};
pub use workspace::{Document, Snapshot, Workspace};

/// A range in a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub path: PathBuf,
    pub range: Range,
}

/// Replace `range` with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range,
    pub new_text: String,
}

/// Why a request gets no answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong: a position the document does not have, a file that is not
    /// open or readable, a new name that is not a name.
    InvalidRequest,
    /// The request is fine but cannot be done here (a built-in function cannot be
    /// renamed, a file with syntax errors cannot be formatted).
    Failed,
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::InvalidRequest, message: message.into() }
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Failed, message: message.into() }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
