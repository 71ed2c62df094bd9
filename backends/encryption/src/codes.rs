//! The encryption's own diagnostic codes: a state that does not decrypt with the keys
//! given, and a key that cannot be had. They travel in a `StateErrorKind::Backend`; an
//! encrypted state read without a key and a plain one under encryption are the
//! runtime's (E0750, E0751), since the envelope is the runtime's.

use infra_compiler::diagnostic::Code;
use infra_runtime::state::StateErrorKind;

infra_compiler::codes! {
    STATE_DECRYPT_FAILED = "E0752", "state cannot be decrypted with the keys given";
    STATE_KEY_UNAVAILABLE = "E0753", "state encryption key is not available";
}

/// The state error kind that carries `code`, with its title from the list above.
pub fn kind(code: Code) -> StateErrorKind {
    StateErrorKind::Backend(code, title(code.as_str()).unwrap_or_default())
}
