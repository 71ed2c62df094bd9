//! The PostgreSQL backend's own diagnostic codes: reaching the server, its credentials,
//! its database and schema version, the connection and TLS. They travel in a
//! `StateErrorKind::Backend`; the codes every backend shares (locks, lineage, workspaces)
//! are the runtime's (`infra_runtime::codes`).

use infra_compiler::diagnostic::Code;
use infra_runtime::state::StateErrorKind;

infra_compiler::codes! {
    STATE_UNREACHABLE = "E0711", "state server cannot be reached";
    STATE_AUTH_FAILED = "E0712", "state server refused the credentials";
    STATE_DATABASE_MISSING = "E0713", "state database does not exist";
    STATE_NEWER_SCHEMA = "E0714", "state database made by a newer version of Infra";
    STATE_CONNECTION_LOST = "E0715", "connection to the state server failed";
    STATE_TLS = "E0723", "TLS to the state server failed";
}

/// The state error kind that carries `code`, with its title from the list above.
pub fn kind(code: Code) -> StateErrorKind {
    StateErrorKind::Backend(code, title(code.as_str()).unwrap_or_default())
}
